/* The unpacked GEMM (kernels/common/gemm_sup.c) over the sup microkernel
 * of every ISA table this build has, this CPU runs and that has one,
 * against a plain loop with double accumulation. Data are small integers,
 * so every product and partial sum is exact in float and results must
 * match with ==. A is given as segments of rows (gemm_sup.h): one pitched
 * matrix, and the rows of a strided 1x1 convolution (output rows of ow
 * pixels sw apart, images of an odd height), with pitches wider than K and
 * the 4 KiB-multiple pitch that makes the driver stage each A tile (and
 * short strided rows, staged two segments to a tile). Every
 * tile height 1..2MR+1 and N 1..2NR+1, K below and above the k-unroll and
 * the K block, every epilogue, 1 to 3 threads. Guard zones around C and
 * the gaps between its rows must keep their canary; A, B, bias and
 * residual are allocated to their exact extents so AddressSanitizer
 * catches an over-read. The driver's prefetch of the next B block (lines
 * ahead, which AddressSanitizer does not see) is checked line by line. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "kernels/common/gemm.h"
#include "kernels/common/gemm_sup.h"
#include "kernels/common/util.h"

enum { GUARD = 64 };
static const float CANARY = -12345.5f;

static const cnnk_isa_kernels *g_isa;

static float rng_int(cnnk_rng *r) { return (float)((int)(cnnk_rng_next(r) % 9) - 4); }

static float *alloc_fill(size_t n, cnnk_rng *r) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; ++i) p[i] = rng_int(r);
    return p;
}

/* A as images x seg_h segments x seg rows, each row K floats at
 * img * ld_img + s * ld_seg + j * ld_row. */
typedef struct problem {
    int64_t imgs, seg_h, seg, N, K;
    int64_t ld_row, ld_seg, ld_img, ldc;
    int ep_bits; /* 1 bias, 2 residual, 4 relu, 8 accumulate, 16 leaky 0.125 */
    int nthreads;
} problem;

static int64_t row_at(const problem *p, int64_t i) {
    const int64_t s = i / p->seg, j = i % p->seg;
    return s / p->seg_h * p->ld_img + s % p->seg_h * p->ld_seg + j * p->ld_row;
}

static int run_problem(const problem *p, uint64_t seed) {
    cnnk_rng r = {seed};
    const int64_t M = p->imgs * p->seg_h * p->seg;
    const size_t a_n = (size_t)(row_at(p, M - 1) + p->K);
    float *A = alloc_fill(a_n, &r);
    float *B = alloc_fill((size_t)(p->N * p->K), &r); /* N x K, as OIHW 1x1 weights */
    float *bias = alloc_fill((size_t)p->N, &r);
    const int64_t res_ld = p->N + 3;
    float *res = alloc_fill((size_t)((M - 1) * res_ld + p->N), &r);
    const size_t c_n = (size_t)((M - 1) * p->ldc + p->N);
    float *cbuf = malloc((c_n + 2 * GUARD) * sizeof *cbuf), *c0 = malloc(c_n * sizeof *c0);
    float *C = cbuf + GUARD;
    const int nr = g_isa->sup->nr;
    float *pb = malloc(cnnk_gemm_packed_b_size(nr, p->K, p->N) * sizeof *pb);
    cnnk_gemm_pack_b(nr, p->K, p->N, B, p->K, true, pb);
    cnnk_gemm_epilogue ep = {.bias = (p->ep_bits & 1) ? bias : NULL,
                             .residual = (p->ep_bits & 2) ? res : NULL,
                             .residual_ld = res_ld,
                             .relu = (p->ep_bits & 20) != 0,
                             .relu_alpha = (p->ep_bits & 16) ? 0.125f : 0.0f,
                             .accumulate = (p->ep_bits & 8) != 0};
    const cnnk_sup_a a = {.a = A, .seg = p->seg, .seg_h = p->seg_h, .ld_row = p->ld_row,
                          .ld_seg = p->ld_seg, .ld_img = p->ld_img};
    /* Sized for 3 threads however many run: fewer must fit too. */
    const size_t ws_n = cnnk_gemm_sup_workspace_size(g_isa, M, p->N, p->K, &a, 3);
    float *ws = ws_n ? malloc(ws_n * sizeof *ws) : NULL;

    for (size_t i = 0; i < c_n + 2 * GUARD; ++i) cbuf[i] = CANARY;
    for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < p->N; ++n)
            /* Without accumulate C must not be read: NaN would show it. */
            C[m * p->ldc + n] = ep.accumulate ? rng_int(&r) : NAN;
    memcpy(c0, C, c_n * sizeof *c0);
    cnnk_gemm_sup(g_isa, M, p->N, p->K, &a, pb, C, p->ldc, &ep, ws, p->nthreads);

    int bad = 0;
    for (int64_t m = 0; m < M; ++m) {
        const float *arow = A + row_at(p, m);
        for (int64_t n = 0; n < p->ldc && (size_t)(m * p->ldc + n) < c_n; ++n) {
            double want = CANARY;
            if (n < p->N) {
                double dot = 0.0;
                for (int64_t k = 0; k < p->K; ++k) dot += (double)arow[k] * B[n * p->K + k];
                want = (ep.accumulate ? c0[m * p->ldc + n] : 0.0) + dot;
                if (ep.bias) want += bias[n];
                if (ep.residual) want += res[m * res_ld + n];
                if (ep.relu && want < 0.0) want *= ep.relu_alpha; /* 0.125: exact */
            }
            const double got = C[m * p->ldc + n];
            if (got != want && bad++ < 3)
                fprintf(stderr, "%s sup imgs%lld h%lld seg%lld N%lld K%lld ld%lld ep%d t%d: "
                        "C[%lld][%lld] = %g, want %g\n", cnnk_isa_name(g_isa->isa),
                        (long long)p->imgs, (long long)p->seg_h, (long long)p->seg,
                        (long long)p->N, (long long)p->K, (long long)p->ld_row, p->ep_bits,
                        p->nthreads, (long long)m, (long long)n, got, want);
        }
    }
    for (int i = 0; i < GUARD; ++i)
        if ((cbuf[i] != CANARY || C[c_n + (size_t)i] != CANARY) && bad++ < 3)
            fprintf(stderr, "guard zone written at %d\n", i);
    CHECK(bad == 0);
    free(A), free(B), free(bias), free(res), free(cbuf), free(c0), free(pb), free(ws);
    return bad;
}

/* One dense pitched matrix: every tile height and N tail at several K,
 * the epilogue and thread count cycling across them. */
static void test_dense_sweep(void) {
    const int64_t mr = g_isa->sup->mr, nr = g_isa->sup->nr;
    /* Columns per microkernel call: N's tails at every panel boundary. */
    const int64_t unit = nr * (g_isa->sup->panels > 1 ? g_isa->sup->panels : 1);
    const int64_t ks[] = {1, 3, 4, 5, 17, 64, 333};
    int combo = 0, fails = 0;
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ++ki)
        for (int64_t M = 1; M <= 2 * mr + 1; ++M)
            for (int64_t N = 1; N <= 2 * unit + 1;
                 N += (N % nr < nr - 1 && N % nr > 1) ? 3 : 1, ++combo) {
                const int64_t K = ks[ki];
                problem p = {.imgs = 1, .seg_h = 1, .seg = M, .N = N, .K = K, .ld_row = K + 3,
                             .ldc = N + 5, .ep_bits = combo % 16, .nthreads = 1 + combo % 3};
                if (fails < 5) fails += run_problem(&p, (uint64_t)combo) != 0;
            }
}

/* Every epilogue at 1 to 3 threads on shapes with several tiles and
 * panels: K split into blocks (above the 14-row tile's KC of 864 on a
 * 48 KiB L1, and in every case above the unroll), the 4 KiB pitch that
 * stages A, and M or N too short to split the other way. */
static void test_epilogues(void) {
    const int64_t shapes[][4] = {/* M, N, K, ld_row */
                                 {49, 70, 37, 40},     {29, 33, 1000, 1024}, {200, 17, 9, 9},
                                 {3, 300, 130, 2048},  {61, 64, 2100, 2101},
                                 /* a 4 KiB pitch, so B in L1, over several M blocks */
                                 {700, 70, 300, 1024},
                                 /* 9 tiles, 9 and 8 calls: the panels are split, not
                                  * the tiles (fewer bytes), at 2 threads in both and
                                  * at 3 in the first */
                                 {49, 520, 70, 75},    {49, 512, 130, 2048}};
    int seed = 1000;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
        for (int bits = 0; bits < 20; ++bits) /* 16-19: leaky ReLU */
            for (int t = 1; t <= 3; ++t) {
                /* big K or M: fewer */
                if ((shapes[s][2] > 1000 || shapes[s][0] > 500) && bits % 5 != 0) continue;
                problem p = {.imgs = 1, .seg_h = 1, .seg = shapes[s][0], .N = shapes[s][1],
                             .K = shapes[s][2], .ld_row = shapes[s][3], .ldc = shapes[s][1] + 1,
                             .ep_bits = bits, .nthreads = t};
                run_problem(&p, (uint64_t)seed++);
            }
}

/* The rows of strided 1x1 convolutions over NHWC src with pitch ld:
 * segments are output rows (ow pixels sw apart, oh rows sh source rows
 * apart), images ih x iw apart, ih not a multiple of sh (the image pitch
 * is not oh segment pitches). */
static void test_strided(void) {
    const int64_t cases[][7] = {/* mb, ih, iw, sh, sw, ic (K), ld */
                                {1, 7, 7, 2, 2, 5, 5},       {3, 9, 10, 2, 2, 11, 14},
                                {2, 13, 11, 3, 4, 3, 8},     {1, 28, 28, 2, 2, 33, 40},
                                {1, 14, 14, 2, 2, 100, 512}, {2, 5, 31, 2, 1, 16, 16},
                                /* a 4 KiB row pitch and rows that fill tiles: B in L1 */
                                {1, 28, 28, 2, 2, 40, 512}};
    int seed = 5000;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        const int64_t mb = cases[c][0], ih = cases[c][1], iw = cases[c][2], sh = cases[c][3],
                      sw = cases[c][4], K = cases[c][5], ld = cases[c][6];
        const int64_t oh = (ih - 1) / sh + 1, ow = (iw - 1) / sw + 1;
        const int64_t ns[] = {19, 80, 260}; /* 260: 9 panels, short rows staged */
        for (int t = 1; t <= 3; ++t)
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ++ni) {
                const int64_t N = ns[ni];
                problem p = {.imgs = mb, .seg_h = oh, .seg = ow, .N = N, .K = K,
                             .ld_row = sw * ld, .ld_seg = sh * iw * ld, .ld_img = ih * iw * ld,
                             .ldc = N + 2, .ep_bits = (seed + t) % 16, .nthreads = t};
                run_problem(&p, (uint64_t)seed++);
            }
    }
}

/* ---- lines ahead (gemm_sup.c) ------------------------------------------
 * The driver's prefetch hand-outs, seen through a microkernel that records
 * each tile's lines before running the real one: every line lies in the
 * packed B or in next_b, on a 64-byte step from its start, and is handed
 * out once; the k loop's share covers them all; and the lines of B never
 * handed out are exactly one leading block (the first P0 panels' first L0
 * lines each: the first K block of the first N block), with next_b's
 * first block of the same size handed out whole when it is given, so
 * every later block was prefetched during the one before. */
static struct {
    const cnnk_sup_ukernel *real;
    uintptr_t buf[2];
    size_t lines[2];
    unsigned char *mark[2];
    int bad;
} g_ahead;

static void record_run(int64_t kc, const float *a, int64_t lda, const float *b, int64_t ldb,
                       float *c, int64_t ldc, const cnnk_gemm_tile *t) {
    if (t->ahead_lines > 0 && kc >= 4 && (int64_t)t->ahead_per_k4 * (kc / 4) < t->ahead_lines)
        ++g_ahead.bad; /* the k loop would not issue them all */
    uintptr_t run0 = (uintptr_t)t->ahead - (uintptr_t)t->ahead_at * 64;
    int at = t->ahead_at;
    for (int i = 0; i < t->ahead_lines; ++i) {
        const uintptr_t q = run0 + (uintptr_t)at * 64;
        int hit = 0;
        for (int s = 0; s < 2; ++s) {
            const uintptr_t lo = g_ahead.buf[s];
            if (!lo || q < lo || q >= lo + g_ahead.lines[s] * 64 || (q - lo) % 64) continue;
            hit = 1;
            g_ahead.bad += g_ahead.mark[s][(q - lo) / 64]++ != 0; /* handed out twice */
        }
        g_ahead.bad += !hit;
        if (++at == t->ahead_run) at = 0, run0 += (uintptr_t)t->ahead_stride;
    }
    g_ahead.real->run(kc, a, lda, b, ldb, c, ldc, t);
}

/* Lines (j, l) of buffer s (P panels of lp lines) with mark == want
 * exactly where j < p0 && l < l0. */
static int rect_marked(int s, int64_t P, int64_t lp, int64_t p0, int64_t l0, int want) {
    int bad = 0;
    for (int64_t j = 0; j < P; ++j)
        for (int64_t l = 0; l < lp; ++l)
            bad += ((g_ahead.mark[s][j * lp + l] != 0) == want) != (j < p0 && l < l0);
    return bad;
}

static void test_ahead(void) {
    const int64_t shapes[][5] = {/* M, N, K, kc_max, next_b */
                                 {13, 100, 300, 0, 1}, {49, 520, 300, 0, 0},
                                 {5, 1000, 600, 64, 1}, {16, 512, 512, 256, 1},
                                 {7, 2000, 2100, 0, 0}, {1, 33, 3, 0, 1},
                                 {200, 70, 37, 16, 1}, {12, 4000, 64, 0, 0},
                                 /* several K and N blocks before next_b */
                                 {13, 1500, 700, 256, 1}};
    cnnk_isa_kernels isa = *g_isa;
    cnnk_sup_ukernel uk = *g_isa->sup;
    uk.run = record_run;
    isa.sup = &uk;
    g_ahead.real = g_isa->sup;
    const int64_t nr = uk.nr;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i) {
        const int64_t M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
        const size_t nb = cnnk_gemm_packed_b_size(nr, K, N);
        const int64_t P = cnnk_ceil_div(N, nr), lp = K * nr / 16; /* lines per panel */
        float *A = calloc((size_t)(M * K), sizeof *A), *C = malloc((size_t)(M * N) * sizeof *C);
        float *pb = calloc(nb, sizeof *pb), *next = shapes[i][4] ? calloc(nb, sizeof *next) : NULL;
        g_ahead.bad = 0;
        g_ahead.buf[0] = (uintptr_t)pb, g_ahead.buf[1] = (uintptr_t)next;
        g_ahead.lines[0] = g_ahead.lines[1] = nb / 16;
        g_ahead.mark[0] = calloc(nb / 16, 1), g_ahead.mark[1] = calloc(nb / 16, 1);
        const cnnk_sup_a a = {.a = A, .seg = M, .seg_h = 1, .ld_row = K,
                              .kc_max = shapes[i][3], .next_b = next};
        cnnk_gemm_sup(&isa, M, N, K, &a, pb, C, N, NULL, NULL, 1);
        /* The first block: the leading panels with line 0 never handed
         * out, the leading lines of panel 0 never handed out. */
        int64_t p0 = 0, l0 = 0;
        while (p0 < P && !g_ahead.mark[0][p0 * lp]) ++p0;
        while (l0 < lp && !g_ahead.mark[0][l0]) ++l0;
        int bad = g_ahead.bad + (p0 < 1) + (l0 < 1) + rect_marked(0, P, lp, p0, l0, 0);
        /* next_b: the same block handed out, nothing else of it. */
        if (next) bad += rect_marked(1, P, lp, p0, l0, 1);
        if (bad)
            fprintf(stderr, "%s sup ahead M%lld N%lld K%lld kc_max%lld: %d bad (p0 %lld l0 %lld)\n",
                    cnnk_isa_name(g_isa->isa), (long long)M, (long long)N, (long long)K,
                    (long long)shapes[i][3], bad, (long long)p0, (long long)l0);
        CHECK_EQ_I64(bad, 0);
        free(A), free(C), free(pb), free(next), free(g_ahead.mark[0]), free(g_ahead.mark[1]);
    }
}

/* The bare microkernel: each row count on one tile, A rows wider than K,
 * over one panel and (where the kernel takes more) all its panels, the
 * last column left out; only the tile's t->m rows and t->n columns may be
 * written. */
static void test_ukernel(void) {
    cnnk_rng r = {3};
    const cnnk_sup_ukernel *uk = g_isa->sup;
    CHECK(uk->nr == g_isa->gemm->nr); /* it reads the packed GEMM's B panels */
    const int nr = uk->nr, np = uk->panels > 1 ? uk->panels : 1, K = 23, lda = K + 2;
    const int ldc = np * nr + 4, ldb = K * nr;
    for (int panels = 1; panels <= np; panels += np > 1 ? np - 1 : 1)
        for (int m = 1; m <= uk->mr; ++m) {
            const int n = panels * nr - 1;
            float *a = alloc_fill((size_t)(m * lda), &r);
            float *b = alloc_fill((size_t)(np * ldb), &r);
            float *c = malloc((size_t)((uk->mr + 1) * ldc) * sizeof *c);
            for (int i = 0; i < (uk->mr + 1) * ldc; ++i) c[i] = CANARY;
            const cnnk_gemm_tile t = {.m = m, .n = n};
            uk->run(K, a, lda, b, ldb, c, ldc, &t);
            int bad = 0;
            for (int i = 0; i <= uk->mr; ++i)
                for (int j = 0; j < ldc; ++j) {
                    double want = CANARY;
                    if (i < m && j < n) {
                        const float *bp = b + j / nr * ldb;
                        want = 0.0;
                        for (int k = 0; k < K; ++k)
                            want += (double)a[i * lda + k] * bp[k * nr + j % nr];
                    }
                    bad += (double)c[i * ldc + j] != want;
                }
            CHECK_EQ_I64(bad, 0);
            free(a), free(b), free(c);
        }
}

int main(void) {
    int tested = 0;
    for (size_t i = 0; cnnk_isa_table_at(i); ++i) {
        const cnnk_isa_table *t = cnnk_isa_table_at(i);
        if (!t->kernels || !t->kernels->sup) continue;
        if (!cnnk_isa_available(t->isa)) {
            printf("test_gemm_sup: %s not available on this CPU, skipped\n", cnnk_isa_name(t->isa));
            continue;
        }
        g_isa = t->kernels;
        printf("test_gemm_sup: %s, %dx%d\n", cnnk_isa_name(t->isa), g_isa->sup->mr,
               g_isa->sup->nr * (g_isa->sup->panels > 1 ? g_isa->sup->panels : 1));
        test_ukernel();
        test_dense_sweep();
        test_epilogues();
        test_strided();
        test_ahead();
        ++tested;
    }
    printf("test_gemm_sup: %d ISA(s) tested\n", tested);
    CHECK(1);
    return check_finish("test_gemm_sup");
}
