/* What the benchmark families share: aligned test data, the arena that
 * keeps one benchmark's buffers alive at a time, counters. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "bench/gbench.h"
#include "cnnk/cpu.h"

float *bench_alloc(size_t floats) {
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes ? bytes : 64);
}

/* Uniform in [lo, hi) from a xorshift stream: deterministic data of order
 * one, so no run times denormals. */
void bench_fill(float *p, size_t n, uint32_t seed, float lo, float hi) {
    uint32_t x = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = lo + (hi - lo) * (float)(x >> 8) * (1.0f / 16777216.0f);
    }
}

double bench_clock(bool real_time) {
    struct timespec t;
    clock_gettime(real_time ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void bench_flop_counters(cnnk_gb_state *st, int64_t macs, double exec_flops, double peak_gflops,
                         double seconds) {
    const double flop = 2.0 * (double)macs;
    cnnk_gb_counter(st, "FLOPS", flop, CNNK_GB_RATE | CNNK_GB_ITERATION_INVARIANT);
    cnnk_gb_counter(st, "MACs", (double)macs, CNNK_GB_PLAIN);
    if (exec_flops > 0.0)
        cnnk_gb_counter(st, "exec_FLOPS", exec_flops, CNNK_GB_RATE | CNNK_GB_ITERATION_INVARIANT);
    if (peak_gflops <= 0.0 || seconds <= 0.0) return;
    /* Plain, not rates: Google Benchmark would print a rate as "%/s". */
    const double passes_per_s = (double)cnnk_gb_iterations(st) / seconds;
    cnnk_gb_counter(st, "eff_pct_peak", 100.0 * flop * passes_per_s / (peak_gflops * 1e9),
                    CNNK_GB_PLAIN);
    if (exec_flops > 0.0)
        cnnk_gb_counter(st, "fma_util", 100.0 * exec_flops * passes_per_s / (peak_gflops * 1e9),
                        CNNK_GB_PLAIN);
}

/* The FMA peak of the ISA oneDNN runs at (its effective ISA, under
 * --onednn_max_isa): AVX-512's for its avx512 levels, AVX2's for avx2 and
 * avx2_vnni, and AVX2's too for sse41 and avx, an upper bound those cannot
 * reach (no narrower peak is measured); the best ISA's for anything else
 * (AMX levels, another architecture, no oneDNN). Before 2026-12-02 it was
 * always the best ISA's, so oneDNN rows capped at avx2 on an AVX-512 CPU
 * showed half their % of peak. */
double bench_onednn_peak(void) {
    const char *e = bench_onednn_isa();
    cnnk_isa isa = cnnk_best_isa();
    if (strncmp(e, "avx512", 6) == 0 && cnnk_isa_available(CNNK_ISA_AVX512))
        isa = CNNK_ISA_AVX512;
    else if ((strcmp(e, "avx2") == 0 || strcmp(e, "avx2_vnni") == 0 || strcmp(e, "sse41") == 0 ||
              strcmp(e, "avx") == 0) &&
             cnnk_isa_available(CNNK_ISA_AVX2))
        isa = CNNK_ISA_AVX2;
    return cnnk_peak_gflops(isa);
}

bool bench_activate(bench_arena *a, bench_case *c, char *msg, size_t len) {
    if (a->active == c) return true;
    if (a->active) a->active->release(a->active);
    a->active = NULL;
    if (!c->prepare(c, a, msg, len)) {
        c->release(c);
        return false;
    }
    a->active = c;
    return true;
}

void bench_arena_release(bench_arena *a) {
    if (a->active) a->active->release(a->active);
    a->active = NULL;
    cnnk_net_destroy(a->net);
    a->net = NULL;
    a->net_name[0] = '\0';
}

void bench_case_destroy(void *user) {
    bench_case *c = user;
    c->destroy(c);
}

/* The first name of each family and side (layer/.../cnnk, layer/.../onednn,
 * pack/, net/.../cnnk, net/.../onednn): enough to show the name scheme. */
void bench_no_match(const char *filter) {
    fprintf(stderr, "cnnk-bench: no benchmark matched --benchmark_filter=%s; %zu exist, e.g.:\n",
            filter[0] ? filter : "(none)", cnnk_gb_count());
    static const char *const families[] = {"layer/", "pack/", "net/"};
    static const char *const sides[] = {"/cnnk/ref/", "/cnnk/", "/onednn/"};
    for (size_t f = 0; f < 3; ++f)
        for (size_t s = 0; s < 3; ++s)
            for (size_t i = 0; i < cnnk_gb_count(); ++i) {
                const char *n = cnnk_gb_name_at(i);
                if (strncmp(n, families[f], strlen(families[f])) == 0 && strstr(n, sides[s]) &&
                    (s != 1 || !strstr(n, sides[0]))) {
                    fprintf(stderr, "  %s\n", n);
                    break;
                }
            }
    fprintf(stderr, "(--benchmark_list_tests=true lists them all; docs/BENCHMARKS.md explains the names)\n");
}
