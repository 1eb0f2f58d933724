/* The measured side of the llvm-mca check (docs/MCA.md): the AVX2 6x16
 * GEMM microkernel on L1-resident packed panels, as a fraction of the FMA
 * peak measured beside it in the same repetition, so that a drifting or
 * shared VM cancels out of the ratio. Rounds interleave the peak loop and
 * the microkernel at three kc; figures are medians over the rounds of the
 * per-round ratios. The slope between kc = 128 and kc = 384 is the inner
 * k loop alone (the per-call prologue and C store cancel), which is what
 * llvm-mca estimates.
 *
 *   gcc -O2 -std=c11 -I. -Iinclude scripts/mca-ukernel-avx2.c build/libcnnk.a \
 *       -fopenmp -lhwloc -lcjson -lm -o /tmp/mca-ukernel-avx2
 *   /tmp/mca-ukernel-avx2 [rounds]      (default 21)
 *
 * Times are the thread's CPU time, as cnnk-bench's one-thread figures. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnk/cpu.h"
#include "kernels/avx2/gemm.h"

float cnnk_peak_loop__avx2(int64_t iters);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmpd);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

enum { MAX_ROUNDS = 101, NKC = 3 };
static const int64_t KCS[NKC] = {128, 272, 384}; /* 272: KC for a 48 KiB L1d */
static volatile float sink;

/* FLOP/s of the peak loop: 12 chains x 8 lanes x 2 FLOP per iteration. */
static double peak_once(void) {
    const int64_t iters = 10000000;
    double t0 = now();
    sink = cnnk_peak_loop__avx2(iters);
    return 12.0 * 16.0 * (double)iters / (now() - t0);
}

/* Seconds per call of the microkernel at kc, averaged over ~0.07 s. */
static double ukernel_once(int64_t kc, const float *a, const float *b, float *c) {
    const cnnk_gemm_tile t = {.m = CNNK_AVX2_MR, .n = CNNK_AVX2_NR, .load_c = true};
    const int64_t calls = 40000000 / kc;
    double t0 = now();
    for (int64_t i = 0; i < calls; ++i) cnnk_gemm_ukernel_6x16__avx2(kc, a, b, c, CNNK_AVX2_NR, &t);
    return (now() - t0) / (double)calls;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 21;
    if (argc > 2 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: %s [rounds 1..%d]\n", argv[0], MAX_ROUNDS);
        return 2;
    }
    if (!cnnk_isa_available(CNNK_ISA_AVX2)) {
        fprintf(stderr, "this CPU has no AVX2+FMA\n");
        return 2;
    }
    const int64_t kmax = KCS[NKC - 1];
    float *a = aligned_alloc(64, (size_t)(CNNK_AVX2_MR * kmax) * sizeof(float));
    float *b = aligned_alloc(64, (size_t)(CNNK_AVX2_NR * kmax) * sizeof(float));
    float *c = aligned_alloc(64, CNNK_AVX2_MR * CNNK_AVX2_NR * sizeof(float));
    if (!a || !b || !c) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    /* Small values that neither overflow nor go denormal over the calls. */
    for (int64_t i = 0; i < CNNK_AVX2_MR * kmax; ++i) a[i] = 1e-3f * (float)(i % 7);
    for (int64_t i = 0; i < CNNK_AVX2_NR * kmax; ++i) b[i] = 1e-3f * (float)(i % 5);
    memset(c, 0, CNNK_AVX2_MR * CNNK_AVX2_NR * sizeof(float));

    double peak[MAX_ROUNDS], pct[NKC][MAX_ROUNDS], slope[MAX_ROUNDS];
    peak_once(); /* warm-up */
    for (int r = 0; r < rounds; ++r) {
        double tc[NKC];
        double p0 = peak_once();
        for (int k = 0; k < NKC; ++k) tc[k] = ukernel_once(KCS[k], a, b, c);
        double p = 0.5 * (p0 + peak_once()); /* the peak on both sides */
        peak[r] = p;
        for (int k = 0; k < NKC; ++k) pct[k][r] = 100.0 * 2.0 * 96.0 * (double)KCS[k] / tc[k] / p;
        slope[r] = 100.0 * 2.0 * 96.0 * (double)(KCS[2] - KCS[0]) / (tc[2] - tc[0]) / p;
    }
    printf("rounds %d; medians over rounds of per-round ratios to the FMA peak of that round\n", rounds);
    printf("AVX2 FMA peak (12 chains)            %7.1f GFLOP/s\n", 1e-9 * median(peak, rounds));
    for (int k = 0; k < NKC; ++k)
        printf("microkernel 6x16, kc=%-4ld per call   %6.1f%% of peak\n", (long)KCS[k], median(pct[k], rounds));
    printf("inner k loop (slope kc %ld->%ld)      %6.1f%% of peak\n", (long)KCS[0], (long)KCS[2],
           median(slope, rounds));
    printf("load average: ");
    FILE *f = fopen("/proc/loadavg", "r");
    char line[128];
    if (f && fgets(line, sizeof line, f)) fputs(line, stdout);
    else puts("?");
    if (f) fclose(f);
    free(a);
    free(b);
    free(c);
    return 0;
}
