/* libFuzzer target: the Google Benchmark JSON reader of `cnnk compare` and
 * `cnnk-bench --record` (core/benchjson.c), and the regression rule on
 * what it accepts (core/compare.c). No crash, no sanitizer report; an
 * accepted file has only benchmarks with a name and at least one
 * repetition, each repetition either an error or two finite times >= 0
 * and counters that are a JSON object, no repetition twice; the rule
 * compares every benchmark without errors with itself as "same" (p = 1,
 * change 0) or "too few", never a regression. Build and run:
 * docs/FUZZING.md. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/benchjson.h"
#include "core/compare.h"

enum { MAX_TEXT = 1 << 16 };

static void check_object(const char *text) {
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    if (!cJSON_IsObject(o)) abort();
    cJSON_Delete(o);
}

static void check_bench(const cnnk_bj_bench *b) {
    if (!b->name || !b->name[0] || b->n == 0) abort();
    size_t nerr = 0;
    double *t = malloc(b->n * sizeof *t);
    if (!t) abort();
    for (size_t i = 0; i < b->n; ++i) {
        const cnnk_bj_sample *s = &b->s[i];
        if (s->rep < 0) abort();
        for (size_t k = 0; k < i; ++k)
            if (b->s[k].rep == s->rep) abort();
        check_object(s->counters);
        if (s->error) {
            ++nerr;
        } else if (!isfinite(s->real_ns) || !isfinite(s->cpu_ns) || s->real_ns < 0 || s->cpu_ns < 0) {
            abort();
        }
        t[i] = s->real_ns;
    }
    if (nerr != b->nerr) abort();
    cnnk_cmp_result r;
    if (!nerr) {
        if (!cnnk_cmp_samples(t, b->n, t, b->n, 0.05, 0.05, &r)) abort();
        if (r.verdict == CNNK_CMP_TOO_FEW) {
            if (!isnan(r.p)) abort();
        } else if (r.verdict != CNNK_CMP_SAME || r.p != 1.0 || r.change != 0.0) {
            abort();
        }
    }
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_TEXT) return 0;
    cnnk_bj_file *f = NULL;
    cnnk_error err;
    if (cnnk_bj_parse((const char *)data, size, "fuzz", &f, &err) == CNNK_OK) {
        if (!f) abort();
        check_object(f->context);
        for (size_t i = 0; i < f->n; ++i) {
            check_bench(&f->b[i]);
            if (cnnk_bj_find(f, f->b[i].name) != &f->b[i]) abort(); /* names are unique */
        }
    } else if (f) {
        abort(); /* a refused file leaves nothing */
    }
    cnnk_bj_free(f);
    return 0;
}
