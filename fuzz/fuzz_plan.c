/* libFuzzer target: the tuned-plan loader (core/tune_file.c). The first
 * byte picks the mode: odd, the input is the whole file; even, it is the
 * "layers" value (and what may follow it, "networks") behind this CPU's
 * own "format", "cpu" and "run", so that the entries are reached (another
 * CPU's file is refused before them); its bit 1 reads forced. No crash, no
 * sanitizer report; what is accepted is a table whose every entry a
 * lookup can use (a known kernel of the table's ISA, applying to its
 * shape). Build and run: docs/FUZZING.md. */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cnnk/cpu.h"
#include "cnnk/parse.h"
#include "cnnk/tune.h"

enum { MAX_TEXT = 1 << 16 };

static int g_fd = -1;

static size_t cpu_prefix(char *buf, size_t len) {
    cnnk_tune_cpu c;
    cnnk_tune_this_cpu(CNNK_ISA_REF, 1, &c); /* ref: the seeds name ref kernels, valid on any CPU */
    char flags[128] = "";
    for (int i = 0; i < CNNK_ISA_COUNT; ++i)
        if (c.runs[i])
            snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s\"%s\"", flags[0] ? ", " : "",
                     cnnk_isa_name((cnnk_isa)i));
    int n = snprintf(buf, len,
                     "{\"format\": 2, \"cpu\": {\"vendor\": \"%s\", \"model\": \"%s\", \"isa\": \"%s\", "
                     "\"flags\": [%s], \"l1d\": %lld, \"l2\": %lld, \"l3\": %lld}, \"run\": "
                     "{\"threads\": 1, \"batch\": 1, \"input\": [32, 32]}, \"layers\": ",
                     c.vendor, c.model, cnnk_isa_name(c.isa), flags, (long long)c.l1d, (long long)c.l2,
                     (long long)c.l3);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

static void check_table(const cnnk_tune_table *t) {
    for (int i = 0; i < t->n; ++i) {
        const cnnk_tune_entry *e = &t->e[i];
        if (!e->kernel || !cnnk_tune_isa_under(t->cpu.isa, e->kernel->isa)) abort();
        cnnk_parse_opts o;
        cnnk_parse_opts_init(&o);
        cnnk_layer_desc l;
        if (cnnk_parse_desc(e->shape, &o, &l, NULL) != CNNK_OK) abort();
        if (!e->kernel->applies(&l.u.conv)) abort();
        if (cnnk_tune_lookup(t, NULL, &l.u.conv) != e->kernel) abort(); /* unreachable entry */
    }
    for (int i = 0; i < t->nover; ++i) {
        const cnnk_tune_override *o = &t->over[i];
        if (!o->kernel || !cnnk_tune_isa_under(t->cpu.isa, o->kernel->isa)) abort();
        cnnk_parse_opts po;
        cnnk_parse_opts_init(&po);
        cnnk_layer_desc l;
        if (cnnk_parse_desc(o->shape, &po, &l, NULL) != CNNK_OK || !o->kernel->applies(&l.u.conv)) abort();
        if (cnnk_tune_lookup(t, o->net, &l.u.conv) != o->kernel) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > MAX_TEXT) return 0;
    if (g_fd < 0 && (g_fd = memfd_create("cnnk_fuzz_plan", 0)) < 0) abort();
    char prefix[512] = "";
    const size_t np = data[0] & 1 ? 0 : cpu_prefix(prefix, sizeof prefix);
    if (ftruncate(g_fd, 0) != 0 || lseek(g_fd, 0, SEEK_SET) != 0) abort();
    if ((np && write(g_fd, prefix, np) != (ssize_t)np) ||
        write(g_fd, data + 1, size - 1) != (ssize_t)(size - 1) ||
        (np && write(g_fd, "}", 1) != 1))
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", g_fd);
    cnnk_tune_table *t = NULL;
    cnnk_error err;
    if (cnnk_tune_read(path, data[0] & 2, &t, &err) == CNNK_OK) {
        if (!t) abort();
        check_table(t);
    } else if (t) {
        abort(); /* a refused file leaves no table */
    }
    cnnk_tune_free(t);
    return 0;
}
