/* libFuzzer target: the ONNX importer (core/onnx.c) on any bytes. No
 * crash, no sanitizer report; a failure has a status and a message; an
 * accepted model is a network the runner takes: every layer has its
 * parameters, and (when small enough to run in a moment) one forward of
 * the reference plan gives finite or non-finite numbers without touching
 * memory it should not. Seeds: fuzz/corpus/onnx, the valid models of
 * tests/test_onnx.c (`test_onnx --write-corpus DIR`). Build and run:
 * docs/FUZZING.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/onnx.h"
#include "cnnk/runner.h"

/* A forward of at most this many multiply-adds and activation bytes: the
 * fuzzer looks for wrong memory, not for slow models. */
#define FUZZ_MAX_MACS ((int64_t)1 << 22)
#define FUZZ_MAX_BYTES ((int64_t)1 << 24)

static void check_params(const cnnk_net *n) {
    if (n->n < 2) abort(); /* an input and at least one layer */
    for (int i = 1; i < n->n; ++i) {
        const cnnk_node *x = &n->nodes[i];
        if ((x->op == CNNK_NODE_CONV || x->op == CNNK_NODE_FC) && !x->weights) abort();
        if (x->has_bias && !x->bias) abort();
        if (x->op == CNNK_NODE_BNORM)
            for (int j = 0; j < 4; ++j)
                if (!x->bn[j]) abort();
    }
}

static void run_once(const cnnk_net *n) {
    const int64_t in = n->mb * n->c * n->h * n->w;
    if (cnnk_net_macs(n) > FUZZ_MAX_MACS || cnnk_net_peak_activation_bytes(n) > FUZZ_MAX_BYTES ||
        in * (int64_t)sizeof(float) > FUZZ_MAX_BYTES)
        return;
    const cnnk_plan p = {.kind = CNNK_PLAN_REF, .algo = CNNK_ALGO_DIRECT};
    cnnk_runner *r = NULL;
    cnnk_error err;
    if (cnnk_runner_prepare(n, CNNK_ISA_REF, &p, 1, &r, &err) != CNNK_OK) {
        if (!err.msg[0]) abort();
        return;
    }
    const int64_t out = cnnk_runner_output_elems(r);
    float *x = calloc((size_t)in, sizeof *x), *y = malloc((size_t)out * sizeof *y);
    if (!x || !y) abort();
    cnnk_runner_forward(r, x, y, false);
    free(x), free(y);
    cnnk_runner_destroy(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cnnk_net *n = NULL;
    cnnk_error err;
    err.msg[0] = '\0';
    const cnnk_status s = cnnk_onnx_load_mem(data, size, "fuzz", 0, &n, &err);
    if (s != CNNK_OK) {
        if (n || !err.msg[0]) abort();
        return 0;
    }
    if (!n) abort();
    check_params(n);
    run_once(n);
    cnnk_net_destroy(n);
    return 0;
}
