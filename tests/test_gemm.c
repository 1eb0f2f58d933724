/* The shared packed SGEMM (kernels/common/gemm.c) over the microkernel of
 * every ISA table this build has and this CPU runs, against a plain triple
 * loop with double accumulation. Data are small integers, so every product
 * and partial sum is exact in float and results must match with ==. Every
 * M in 1..2MR+1 and N in 1..2NR+1 (all partial tiles; 13 and 33 for 6x16), K below and above the k-unroll and
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
#include "kernels/common/gemm.h"
#include "kernels/common/util.h"

enum { GUARD = 64 };
static const float CANARY = -12345.5f;

typedef cnnk_rng rng;

/* The ISA under test. */
static const cnnk_isa_kernels *g_isa;

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
    int ep_bits;        /* 1 bias, 2 residual, 4 relu, 8 accumulate, 16 leaky 0.125 */
    int nthreads;
} problem;

static cnnk_gemm_epilogue make_ep(int bits, const float *bias, const float *res, int64_t res_ld) {
    cnnk_gemm_epilogue ep = {
        .bias = (bits & 1) ? bias : NULL,
        .residual = (bits & 2) ? res : NULL,
        .residual_ld = res_ld,
        .relu = (bits & 20) != 0,
        .relu_alpha = (bits & 16) ? 0.125f : 0.0f,
        .accumulate = (bits & 8) != 0,
    };
    return ep;
}

/* c = (accumulate ? c : 0) + A*B + bias; c += residual; relu (alpha 0.125:
 * a power of two, so the float kernel's product is exact too). */
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
    if (ep->relu && s < 0.0) s *= ep->relu_alpha;
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
    float *pb = malloc(cnnk_gemm_packed_b_size(g_isa->gemm->nr, p->K, p->N) * sizeof(float) + 1);
    /* Sized for 2 threads however many run: fewer must fit too. */
    size_t ws_n = cnnk_gemm_workspace_size(g_isa, p->M, p->N, p->K, 2);
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

    cnnk_gemm_pack_b(g_isa->gemm->nr, p->K, p->N, B, p->ldb, p->trans, pb);
    cnnk_gemm(g_isa, p->M, p->N, p->K, A, p->lda, pb, C, p->ldc, &ep, ws, p->nthreads);

    int bad = 0;
    for (int64_t m = 0; m < p->M; ++m) {
        for (int64_t n = 0; n < p->ldc; ++n) {
            size_t i = (size_t)(m * p->ldc + n);
            if (i >= c_n) break;
            double want = n < p->N ? reference(p, A, B, c0, &ep, m, n) : CANARY;
            if ((double)C[i] != want && bad++ < 3)
                fprintf(stderr, "%s M%lld N%lld K%lld lda%lld ldc%lld trans%d ep%d t%d: "
                        "C[%lld][%lld] = %g, want %g\n", cnnk_isa_name(g_isa->isa), (long long)p->M, (long long)p->N,
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

/* Every partial tile (M 1..2MR+1, N 1..2NR+1) at every K, both B layouts; the
 * epilogue and thread count cycle so each appears across all tile shapes. */
static void test_edge_sweep(const cnnk_gemm_blocking *bl) {
    const int64_t ks[] = {1, 2, 7, 8, 9, 64, 300, bl->kc + 5, 2 * bl->kc + 3};
    int combo = 0, fails = 0;
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ++ki)
        for (int64_t M = 1; M <= 2 * bl->mr + 1; ++M)
            for (int64_t N = 1; N <= 2 * bl->nr + 1; ++N)
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
        for (int bits = 0; bits < 20; ++bits) /* 16-19: leaky ReLU */
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

/* The bare microkernel on packed panels, full tiles, K around the unroll
 * (0..20 for an unroll of 8); the 4 columns past NR must stay untouched. */
static void test_ukernel(void) {
    rng r = {5};
    const cnnk_gemm_ukernel *uk = g_isa->gemm;
    const int mr = uk->mr, nr = uk->nr, ldc = nr + 4;
    const size_t cn = (size_t)(mr * ldc);
    float *c = malloc(cn * sizeof *c), *c0 = malloc(cn * sizeof *c0);
    for (int64_t K = 0; K <= 2 * uk->k_unroll + 4; ++K) {
        float *a = alloc_fill((size_t)(mr * K), &r), *b = alloc_fill((size_t)(nr * K), &r);
        for (size_t i = 0; i < cn; ++i) c[i] = c0[i] = rng_int(&r);
        for (int load = 0; load < 2; ++load) {
            memcpy(c, c0, cn * sizeof *c);
            const cnnk_gemm_tile t = {.m = mr, .n = nr, .load_c = load};
            uk->run(K, a, b, c, ldc, &t);
            int bad = 0;
            for (int i = 0; i < mr; ++i)
                for (int j = 0; j < ldc; ++j) {
                    double want = j >= nr ? c0[i * ldc + j] : load ? c0[i * ldc + j] : 0.0;
                    for (int64_t k = 0; j < nr && k < K; ++k)
                        want += (double)a[k * mr + i] * b[k * nr + j];
                    bad += (double)c[i * ldc + j] != want;
                }
            CHECK(bad == 0);
        }
        free(a);
        free(b);
    }
    free(c);
    free(c0);
}

/* Packing N x K (trans) and its transpose K x N must give the same panels,
 * zero-padded to NR columns (N = 19 for NR = 16: one full panel, one of 3). */
static void test_pack(void) {
    rng r = {9};
    const int64_t nr = g_isa->gemm->nr, K = 5, N = nr + 3;
    float *b = alloc_fill((size_t)(K * N), &r), *bt = malloc((size_t)(K * N) * sizeof(float));
    for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n) bt[n * K + k] = b[k * N + n];
    size_t sz = cnnk_gemm_packed_b_size((int)nr, K, N);
    CHECK_EQ_I64(sz, 2 * nr * K);
    float *p1 = malloc(sz * sizeof(float)), *p2 = malloc(sz * sizeof(float));
    cnnk_gemm_pack_b((int)nr, K, N, b, N, false, p1);
    cnnk_gemm_pack_b((int)nr, K, N, bt, K, true, p2);
    CHECK(memcmp(p1, p2, sz * sizeof(float)) == 0);
    /* Panel 1 (columns nr..2nr-1) at k = 2: columns nr..nr+2 real, then zeros. */
    CHECK(p1[nr * K + 2 * nr + 2] == b[2 * N + nr + 2]);
    CHECK(p1[nr * K + 2 * nr + 3] == 0.0f && p1[nr * K + 4 * nr + nr - 1] == 0.0f);
    free(b); free(bt); free(p1); free(p2);
}

/* The blocking is derived from the caches and keeps its invariants. */
static void test_blocking(const cnnk_gemm_blocking *bl) {
    const cnnk_cpu_info *cpu = cnnk_cpu();
    const cnnk_gemm_ukernel *uk = g_isa->gemm;
    /* The per-CPU configuration is computed once: the same object every call. */
    CHECK(g_isa->config() == g_isa->config());
    CHECK(bl->mr == uk->mr && bl->nr == uk->nr);
    if (g_isa->isa == CNNK_ISA_AVX2) CHECK(bl->mr == 6 && bl->nr == 16 && uk->k_unroll == 8);
    CHECK(bl->kc >= 64 && bl->kc % uk->k_unroll == 0);
    CHECK(bl->mc >= bl->mr && bl->mc % bl->mr == 0);
    CHECK(bl->nc >= bl->nr && bl->nc % bl->nr == 0);
    if (cpu->l1d > 0 && uk->kc_rule == CNNK_KC_RULE_AB_HALF_L1)
        CHECK((bl->mr + bl->nr) * bl->kc * 4 <= cpu->l1d / 2 || bl->kc == 64);
    if (cpu->l1d > 0 && uk->kc_rule == CNNK_KC_RULE_B_FILLS_L1)
        CHECK(bl->nr * bl->kc * 4 <= cpu->l1d || bl->kc == 64);
    if (cpu->l2 > 0) CHECK(bl->mc * bl->kc * 4 <= cpu->l2 / 4 || bl->mc == 4 * bl->mr);
    printf("%s gemm blocking: MR %d NR %d KC %lld MC %lld NC %lld (L1d %lld, L2 %lld, L3 %lld)\n",
           cnnk_isa_name(g_isa->isa), bl->mr, bl->nr, (long long)bl->kc, (long long)bl->mc, (long long)bl->nc,
           (long long)cpu->l1d, (long long)cpu->l2, (long long)cpu->l3);
}

int main(void) {
    int tested = 0;
    for (size_t i = 0; cnnk_isa_table_at(i); ++i) {
        const cnnk_isa_table *t = cnnk_isa_table_at(i);
        if (!cnnk_isa_available(t->isa)) {
            printf("test_gemm: %s not available on this CPU, skipped\n", cnnk_isa_name(t->isa));
            continue;
        }
        g_isa = t->kernels;
        const cnnk_gemm_blocking bl = g_isa->config()->gemm;
        test_blocking(&bl);
        test_pack();
        test_ukernel();
        test_edge_sweep(&bl);
        test_epilogues(&bl);
        test_large(&bl);
        ++tested;
    }
    printf("test_gemm: %d ISA(s) tested\n", tested);
    CHECK(1);
    return check_finish("test_gemm");
}
