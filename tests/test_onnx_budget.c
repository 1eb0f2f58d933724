/* The ONNX importer's unpacking budget (core/onnx.c, "memory, while
 * protobuf-c unpacks"): a file that unpacks to far more than its size is
 * refused before it takes the memory, and protobuf-c fails cleanly at
 * every allocation the budget can refuse (ASan/UBSan builds check that no
 * failure point leaks or touches freed memory). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/onnx.h"

static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* A ModelProto whose graph (field 7) holds `nodes` empty NodeProtos
 * (field 1, length 0): 2 bytes each on the wire, a whole struct each
 * unpacked. */
static uint8_t *empty_nodes(size_t nodes, size_t *len) {
    uint8_t *b = malloc(2 * nodes + 16);
    if (!b) return NULL;
    size_t n = 0;
    b[n++] = 7 << 3 | 2;
    n += put_varint(b + n, 2 * nodes);
    for (size_t i = 0; i < nodes; ++i) b[n++] = 1 << 3 | 2, b[n++] = 0;
    *len = n;
    return b;
}

static void test_empty_node_flood(void) {
    size_t len = 0;
    uint8_t *b = empty_nodes((size_t)1 << 20, &len); /* 2 MiB of file */
    CHECK(b != NULL);
    if (!b) return;
    cnnk_net *net = NULL;
    cnnk_error e = {{0}};
    CHECK(cnnk_onnx_load_mem(b, len, "flood", 0, &net, &e) == CNNK_EOVERFLOW);
    CHECK(net == NULL);
    CHECK(strstr(e.msg, "unpacking the model would take more than") != NULL);
    printf("  flood of %zu bytes: %s\n", len, e.msg);
    /* The same bytes with room to unpack get past protobuf-c and are refused
     * for what they are (no opset, nodes without operators): the budget is
     * what refused them above. */
    e.msg[0] = 0;
    const cnnk_status st = cnnk_onnx_load_mem_budget(b, len, "flood", 0, (size_t)1 << 30, &net, &e);
    CHECK(st != CNNK_OK && st != CNNK_EOVERFLOW);
    CHECK(net == NULL);
    printf("  with a 1 GiB budget: %s\n", e.msg);
    free(b);
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *b = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n)) &&
            fread(b, 1, (size_t)n, f) != (size_t)n) {
            free(b);
            b = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return b;
}

/* Every budget from 0 up, in steps of 8 bytes, until the model loads: each
 * failing allocation of the unpack is hit, and each must be the clean
 * CNNK_EOVERFLOW; the first budget that suffices must give the network
 * the default budget gives. */
static void fault_injection(const char *path) {
    size_t len = 0;
    uint8_t *b = read_file(path, &len);
    CHECK(b != NULL);
    if (!b) return;
    cnnk_net *want = NULL;
    cnnk_error e = {{0}};
    CHECK(cnnk_onnx_load_mem(b, len, "model", 0, &want, &e) == CNNK_OK);
    int refused = 0, other = 0;
    size_t budget = 0;
    for (;; budget += 8) {
        cnnk_net *net = NULL;
        const cnnk_status st = cnnk_onnx_load_mem_budget(b, len, "model", 0, budget, &net, &e);
        if (st == CNNK_OK) {
            CHECK(want != NULL && net->n == want->n);
            cnnk_net_destroy(net);
            break;
        }
        CHECK(net == NULL);
        st == CNNK_EOVERFLOW ? ++refused : ++other;
        if (budget > ((size_t)1 << 26)) break; /* 64 MiB: something is wrong */
    }
    CHECK(refused > 0);
    CHECK(other == 0);
    printf("  %s: %zu bytes of file, loads from a budget of %zu bytes; %d smaller budgets "
           "refused cleanly\n",
           path, len, budget, refused);
    cnnk_net_destroy(want);
    free(b);
}

int main(void) {
    test_empty_node_flood();
    fault_injection("fuzz/corpus/onnx/classifier.onnx");
    fault_injection("fuzz/corpus/onnx/conv_group.onnx");
    return check_finish("test_onnx_budget");
}
