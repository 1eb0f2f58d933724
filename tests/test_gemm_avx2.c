/* The AVX2 packed SGEMM against a plain triple loop with double
 * accumulation. Data are small integers, so every product and partial sum
 * is exact in float and results must match with ==. Every M in 1..13 and
 * N in 1..33 (all partial 6x16 tiles), K below and above the k-unroll and
 * KC, odd pitches, transposed and plain B, every epilogue, 1 and 2 threads;
 * guard zones around C and the gaps between its rows must stay untouched,
 * and every other buffer is allocated to its exact extent so that
 * AddressSanitizer catches an over-read. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "cnnk/cpu.h"
#include "cnnk/kernel.h"
#include "kernels/avx2/gemm.h"

enum { GUARD = 64 };
static const float CANARY = -12345.5f;

typedef cnnk_rng rng;

/* Integers in [-4, 4]: |sum| <= 16 K stays far below 2^24 for our K. */
static float rng_int(rng *r) { return (float)((int)(cnnk_rng_next(r) % 9) - 4); }

static float *alloc_fill(size_t n, rng *r) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; ++i) p[i] = rng_int(r);
    return p;
}

typedef struct problem {
    int64_t M, N, K, lda, ldb, ldc;
    bool trans;
    int ep_bits;        /* 1 bias, 2 residual, 4 relu, 8 accumulate */
    int nthreads;
} problem;

static cnnk_gemm_epilogue make_ep(int bits, const float *bias, const float *res, int64_t res_ld) {
    cnnk_gemm_epilogue ep = {
        .bias = (bits & 1) ? bias : NULL,
        .residual = (bits & 2) ? res : NULL,
        .residual_ld = res_ld,
        .relu = (bits & 4) != 0,
        .accumulate = (bits & 8) != 0,
    };
    return ep;
}

/* c = (accumulate ? c : 0) + A*B + bias; c += residual; relu. */
static double reference(const problem *p, const float *A, const float *B, const float *c0,
                        const cnnk_gemm_epilogue *ep, int64_t m, int64_t n) {
    double s = ep->accumulate ? c0[m * p->ldc + n] : 0.0;
    double dot = 0.0;
    for (int64_t k = 0; k < p->K; ++k) {
        double b = p->trans ? B[n * p->ldb + k] : B[k * p->ldb + n];
        dot += (double)A[m * p->lda + k] * b;
    }
    s += dot;
    if (ep->bias) s += ep->bias[n];
    if (ep->residual) s += ep->residual[m * ep->residual_ld + n];
    if (ep->relu && s < 0.0) s = 0.0;
    return s;
}

/* Runs one problem; returns the number of mismatches (also CHECKed). */
static int run_problem(const problem *p, uint64_t seed) {
    rng r = {seed};
    size_t a_n = (size_t)((p->M - 1) * p->lda + p->K);
    size_t b_n = p->trans ? (size_t)((p->N - 1) * p->ldb + p->K)
                          : (size_t)(p->K > 0 ? (p->K - 1) * p->ldb + p->N : 0);
    size_t c_n = (size_t)((p->M - 1) * p->ldc + p->N);
    int64_t res_ld = p->N + 3;
    size_t r_n = (size_t)((p->M - 1) * res_ld + p->N);
    float *A = alloc_fill(a_n, &r), *B = alloc_fill(b_n, &r);
    float *bias = alloc_fill((size_t)p->N, &r), *res = alloc_fill(r_n, &r);
    float *pb = malloc(cnnk_gemm_packed_b_size__avx2(p->K, p->N) * sizeof(float) + 1);
    /* Sized for 2 threads however many run: fewer must fit too. */
    size_t ws_n = cnnk_gemm_workspace_size__avx2(p->M, p->N, p->K, 2);
    float *ws = malloc(ws_n * sizeof(float) + 1);
    float *cbuf = malloc((c_n + 2 * GUARD) * sizeof(float));
    float *c0 = malloc(c_n * sizeof(float));
    float *C = cbuf + GUARD;
    cnnk_gemm_epilogue ep = make_ep(p->ep_bits, bias, res, res_ld);

    for (size_t i = 0; i < c_n + 2 * GUARD; ++i) cbuf[i] = CANARY;
    for (int64_t m = 0; m < p->M; ++m)
        for (int64_t n = 0; n < p->N; ++n)
            /* Without accumulate C must not be read: NaN would show it. */
            C[m * p->ldc + n] = ep.accumulate ? rng_int(&r) : NAN;
    memcpy(c0, C, c_n * sizeof(float));

    cnnk_gemm_pack_b__avx2(p->K, p->N, B, p->ldb, p->trans, pb);
    cnnk_gemm__avx2(p->M, p->N, p->K, A, p->lda, pb, C, p->ldc, &ep, ws, p->nthreads);

    int bad = 0;
    for (int64_t m = 0; m < p->M; ++m) {
        for (int64_t n = 0; n < p->ldc; ++n) {
            size_t i = (size_t)(m * p->ldc + n);
            if (i >= c_n) break;
            double want = n < p->N ? reference(p, A, B, c0, &ep, m, n) : CANARY;
            if ((double)C[i] != want && bad++ < 3)
                fprintf(stderr, "M%lld N%lld K%lld lda%lld ldc%lld trans%d ep%d t%d: "
                        "C[%lld][%lld] = %g, want %g\n", (long long)p->M, (long long)p->N,
                        (long long)p->K, (long long)p->lda, (long long)p->ldc, p->trans,
                        p->ep_bits, p->nthreads, (long long)m, (long long)n, C[i], want);
        }
    }
    for (int i = 0; i < GUARD; ++i) {
        if (cbuf[i] != CANARY || C[c_n + (size_t)i] != CANARY) {
            if (bad++ < 3) fprintf(stderr, "guard zone written at %d\n", i);
        }
    }
    CHECK(bad == 0);
    free(A); free(B); free(bias); free(res); free(pb); free(ws); free(cbuf); free(c0);
    return bad;
}

/* Every partial tile (M 1..13, N 1..33) at every K, both B layouts; the
 * epilogue and thread count cycle so each appears across all tile shapes. */
static void test_edge_sweep(const cnnk_gemm_blocking *bl) {
    const int64_t ks[] = {1, 2, 7, 8, 9, 64, 300, bl->kc + 5, 2 * bl->kc + 3};
    int combo = 0, fails = 0;
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ++ki)
        for (int64_t M = 1; M <= 13; ++M)
            for (int64_t N = 1; N <= 33; ++N)
                for (int trans = 0; trans < 2; ++trans, ++combo) {
                    int64_t K = ks[ki];
                    problem p = {.M = M, .N = N, .K = K, .lda = K + 3,
                                 .ldb = (trans ? K : N) + 5, .ldc = N + 7 - (N & 1) * 2,
                                 .trans = trans, .ep_bits = combo % 16,
                                 .nthreads = 1 + (combo / 16) % 2};
                    if (fails < 5) fails += run_problem(&p, (uint64_t)combo) != 0;
                }
}

/* Every epilogue combination at both thread counts and both B layouts, on
 * shapes with full and partial tiles and several K blocks. */
static void test_epilogues(const cnnk_gemm_blocking *bl) {
    const int64_t shapes[][3] = {{13, 33, 7}, {12, 32, 2 * bl->kc + 1}, {6, 16, 1}, {25, 47, 300}};
    int seed = 1000;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
        for (int bits = 0; bits < 16; ++bits)
            for (int t = 1; t <= 2; ++t)
                for (int trans = 0; trans < 2; ++trans) {
                    int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                    problem p = {.M = M, .N = N, .K = K, .lda = K + 1, .ldb = (trans ? K : N) + 1,
                                 .ldc = N + 1, .trans = trans, .ep_bits = bits, .nthreads = t};
                    run_problem(&p, (uint64_t)seed++);
                }
}

/* Several MC and NC blocks, so the parallel split and block edges run. */
static void test_large(const cnnk_gemm_blocking *bl) {
    const int64_t shapes[][3] = {
        {2 * bl->mc + 7, 21, 10}, {200, 70, bl->kc + 9}, {5, bl->nc + 20, 3}, {61, 35, 3}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
        for (int t = 1; t <= 2; ++t) {
            int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            problem p = {.M = M, .N = N, .K = K, .lda = K + 2, .ldb = N, .ldc = N + 2,
                         .trans = false, .ep_bits = 1 | 2 | 4 | 8, .nthreads = t};
            run_problem(&p, (uint64_t)(77 + s * 2 + (size_t)t));
        }
}

/* The bare microkernel on packed panels, K around the unroll of 8. */
static void test_ukernel(void) {
    rng r = {5};
    for (int64_t K = 0; K <= 20; ++K) {
        float *a = alloc_fill((size_t)(6 * K), &r), *b = alloc_fill((size_t)(16 * K), &r);
        float c[6 * 20], c0[6 * 20];
        for (int i = 0; i < 6 * 20; ++i) c[i] = c0[i] = rng_int(&r);
        for (int load = 0; load < 2; ++load) {
            memcpy(c, c0, sizeof c);
            cnnk_gemm_ukernel_6x16__avx2(K, a, b, c, 20, load);
            int bad = 0;
            for (int i = 0; i < 6; ++i)
                for (int j = 0; j < 20; ++j) {
                    double want = j >= 16 ? c0[i * 20 + j] : load ? c0[i * 20 + j] : 0.0;
                    for (int64_t k = 0; j < 16 && k < K; ++k)
                        want += (double)a[k * 6 + i] * b[k * 16 + j];
                    bad += (double)c[i * 20 + j] != want;
                }
            CHECK(bad == 0);
        }
        free(a);
        free(b);
    }
}

/* Packing N x K (trans) and its transpose K x N must give the same panels,
 * zero-padded to 16 columns. */
static void test_pack(void) {
    rng r = {9};
    const int64_t K = 5, N = 19;
    float *b = alloc_fill((size_t)(K * N), &r), *bt = malloc((size_t)(K * N) * sizeof(float));
    for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n) bt[n * K + k] = b[k * N + n];
    size_t sz = cnnk_gemm_packed_b_size__avx2(K, N);
    CHECK_EQ_I64(sz, 32 * K);
    float *p1 = malloc(sz * sizeof(float)), *p2 = malloc(sz * sizeof(float));
    cnnk_gemm_pack_b__avx2(K, N, b, N, false, p1);
    cnnk_gemm_pack_b__avx2(K, N, bt, K, true, p2);
    CHECK(memcmp(p1, p2, sz * sizeof(float)) == 0);
    /* Panel 1 (columns 16..31) at k = 2: columns 16..18 real, then zeros. */
    CHECK(p1[16 * K + 2 * 16 + 2] == b[2 * N + 18]);
    CHECK(p1[16 * K + 2 * 16 + 3] == 0.0f && p1[16 * K + 4 * 16 + 15] == 0.0f);
    free(b); free(bt); free(p1); free(p2);
}

/* The blocking is derived from the caches and keeps its invariants. */
static void test_blocking(const cnnk_gemm_blocking *bl) {
    const cnnk_cpu_info *cpu = cnnk_cpu();
    CHECK(bl->mr == 6 && bl->nr == 16);
    CHECK(bl->kc >= 64 && bl->kc % 8 == 0);
    CHECK(bl->mc >= bl->mr && bl->mc % bl->mr == 0);
    CHECK(bl->nc >= bl->nr && bl->nc % bl->nr == 0);
    if (cpu->l1d > 0) CHECK((bl->mr + bl->nr) * bl->kc * 4 <= cpu->l1d / 2 || bl->kc == 64);
    if (cpu->l2 > 0) CHECK(bl->mc * bl->kc * 4 <= cpu->l2 / 4 || bl->mc == 4 * bl->mr);
    printf("gemm blocking: MR %d NR %d KC %lld MC %lld NC %lld (L1d %lld, L2 %lld, L3 %lld)\n",
           bl->mr, bl->nr, (long long)bl->kc, (long long)bl->mc, (long long)bl->nc,
           (long long)cpu->l1d, (long long)cpu->l2, (long long)cpu->l3);
}

int main(void) {
    if (!cnnk_isa_available(CNNK_ISA_AVX2)) {
        printf("test_gemm_avx2: AVX2+FMA not available on this CPU, skipped\n");
        CHECK(1);
        return check_finish("test_gemm_avx2");
    }
    cnnk_gemm_blocking bl = cnnk_gemm_blocking__avx2();
    test_blocking(&bl);
    test_pack();
    test_ukernel();
    test_edge_sweep(&bl);
    test_epilogues(&bl);
    test_large(&bl);
    return check_finish("test_gemm_avx2");
}
