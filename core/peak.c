/* Measured ceilings of this machine: the single-core FMA peak per ISA and
 * the single-core memory bandwidth. Benchmarks divide by these
 * (`pct_peak`), so they are measured, never taken from a data sheet: a
 * VM's clock, turbo and AVX frequency licence all show up in them.
 *
 * Each figure is measured once, lazily, and cached (pthread_once): the
 * same kind of state as the CPU description in core/cpu.c. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnk/cpu.h"
#include "kernels/common/isa.h"
#include "kernels/common/util.h"

/* Many short runs rather than a few long ones: on a shared VM the
 * hypervisor's steal time counts as this thread's CPU time, and the best of
 * many short windows is the likeliest to hold none. */
enum { PEAK_RUNS = 41, TRIAD_RUNS = 5 };
#define WARMUP_S 0.2

/* A triad array: 64 MiB, three of them, well beyond any private cache;
 * this VM claims a 300 MB L3, which 192 MiB would not exceed, so the
 * figure is a floor of DRAM speed only on hosts with a smaller real L3
 * slice. docs/BENCHMARKS.md discusses it. */
#define TRIAD_BYTES ((size_t)64 << 20)

/* The thread's CPU time: on a shared machine (a VM, other jobs) wall time
 * would count the moments the thread was not running at all. */
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Sixteen independent multiply-add chains in plain C: a multiply then an
 * add (the reference code's -std=c11 build does not contract them into
 * FMAs), 4 + 4 cycles of latency on two ports each needs 16 chains in
 * flight. Optimized and not vectorized even in a Debug build, so it
 * measures what scalar code can do. noipa: a loop the compiler knew to be
 * pure could be moved out of the timed region. */
CNNK_TIMED_LOOP("O2", "no-tree-vectorize") static float ref_loop(int64_t iters) {
    float c[16];
    for (int j = 0; j < 16; ++j) c[j] = 0.05f * (float)j;
    const float m = 0.999999f, a = 1e-6f;
    float c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3], c4 = c[4], c5 = c[5], c6 = c[6];
    float c7 = c[7], c8 = c[8], c9 = c[9], c10 = c[10], c11 = c[11], c12 = c[12];
    float c13 = c[13], c14 = c[14], c15 = c[15];
    for (int64_t i = 0; i < iters; ++i) {
        c0 = c0 * m + a; c1 = c1 * m + a; c2 = c2 * m + a; c3 = c3 * m + a;
        c4 = c4 * m + a; c5 = c5 * m + a; c6 = c6 * m + a; c7 = c7 * m + a;
        c8 = c8 * m + a; c9 = c9 * m + a; c10 = c10 * m + a; c11 = c11 * m + a;
        c12 = c12 * m + a; c13 = c13 * m + a; c14 = c14 * m + a; c15 = c15 * m + a;
    }
    return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15;
}

typedef float (*peak_loop)(int64_t iters);

/* Best of PEAK_RUNS, after a warm-up of WARMUP_S seconds: a core that was
 * idle runs its first tens of milliseconds slower (clock ramp, AVX
 * licence); one short warm-up run measured 60 GFLOP/s where 80 was due. */
static double best_gflops(peak_loop loop, int64_t iters, double flop_per_iter) {
    volatile float sink = 0.0f;
    for (double t0 = now_s(); now_s() - t0 < WARMUP_S;) sink += loop(iters);
    double best = 0.0;
    for (int r = 0; r < PEAK_RUNS; ++r) {
        double t0 = now_s();
        sink += loop(iters);
        double dt = now_s() - t0;
        if (dt > 0.0 && flop_per_iter * (double)iters / dt > best)
            best = flop_per_iter * (double)iters / dt;
    }
    (void)sink;
    return best * 1e-9;
}

/* One lock for every ISA rather than a pthread_once each: the set of ISAs
 * comes from the registry's tables, and a once-function takes no argument
 * to say which one it measures. Measuring holds the lock (a fraction of a
 * second, once per ISA), which also keeps two measurements from running
 * at once and slowing each other. */
static double g_peak[CNNK_ISA_COUNT];
static bool g_peak_done[CNNK_ISA_COUNT];
static pthread_mutex_t g_peak_lock = PTHREAD_MUTEX_INITIALIZER;

/* About 2 ms per run at the expected speed of each loop; an ISA's table
 * gives its loop, its FLOP per iteration and its iteration count. */
static double measure(cnnk_isa isa) {
    if (isa == CNNK_ISA_REF) return best_gflops(ref_loop, (int64_t)1 << 18, 32.0);
    const cnnk_isa_table *t = cnnk_isa_table_find(isa);
    if (!t || !t->peak_loop) return 0.0;
    return best_gflops(t->peak_loop, t->peak_iters, t->peak_flop_per_iter);
}

double cnnk_peak_gflops(cnnk_isa isa) {
    if (isa < 0 || isa >= CNNK_ISA_COUNT || !cnnk_isa_available(isa)) return 0.0;
    pthread_mutex_lock(&g_peak_lock);
    if (!g_peak_done[isa]) {
        g_peak[isa] = measure(isa);
        g_peak_done[isa] = true;
    }
    double gflops = g_peak[isa];
    pthread_mutex_unlock(&g_peak_lock);
    return gflops;
}

/* Vectorized and optimized in every build type; not instrumented by the sanitizers,
 * whose checks would make it measure the sanitizer; opaque (noipa), so its
 * stores stay inside the timed region. */
CNNK_TIMED_LOOP("O3") __attribute__((no_sanitize("address", "undefined"))) static void
triad(float *restrict a, const float *restrict b, const float *restrict c, size_t n) {
    const float s = 3.0f;
    for (size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

static double g_bandwidth;
static pthread_once_t g_bandwidth_once = PTHREAD_ONCE_INIT;

static void measure_bandwidth(void) {
    size_t n = TRIAD_BYTES / sizeof(float);
    float *a = aligned_alloc(64, TRIAD_BYTES), *b = aligned_alloc(64, TRIAD_BYTES);
    float *c = aligned_alloc(64, TRIAD_BYTES);
    if (a && b && c) {
        /* Touch every page first: the first pass would otherwise time page faults. */
        memset(a, 0, TRIAD_BYTES);
        for (size_t i = 0; i < n; ++i) b[i] = 1.0f, c[i] = 2.0f;
        double best = 0.0;
        for (int r = 0; r < TRIAD_RUNS; ++r) {
            double t0 = now_s();
            triad(a, b, c, n);
            double dt = now_s() - t0;
            if (dt > 0.0 && 3.0 * (double)TRIAD_BYTES / dt > best)
                best = 3.0 * (double)TRIAD_BYTES / dt;
        }
        /* a[] read back so the stores cannot be dropped. */
        g_bandwidth = a[n / 2] == 7.0f ? best * 1e-9 : 0.0;
    }
    free(a);
    free(b);
    free(c);
}

double cnnk_mem_bandwidth_gbs(void) {
    pthread_once(&g_bandwidth_once, measure_bandwidth);
    return g_bandwidth;
}
