/* "avx2/fc": fully connected on the packed AVX2 SGEMM's B layout.
 *
 * pack() reorders the OIHW [oc][ic][ih][iw] weights to the NHWC flatten
 * order k = (h*iw + w)*ic + c once, into the GEMM's B panels
 * ([oc/16][K][16], docs/GEMM.md). That one layout serves both cases:
 *  - batch > 1: the GEMM itself (A = the input rows, bias and ReLU fused);
 *  - batch 1: a GEMV, which is bandwidth-bound (each weight is used once),
 *    so it streams the panels four at a time (four sequential streams,
 *    8 independent accumulators), reading each weight once. Per 64 bytes
 *    of weights it issues 2 loads, 1 broadcast and 2 FMAs, far under the
 *    core's budget, so memory alone sets its speed.
 * Threads split the output channels (whole 16-wide panels). */
#include <immintrin.h>
#include <omp.h>

#include "cnnk/kernel.h"
#include "kernels/avx2/gemm.h"

/* From conv_im2col.c. */
void cnnk_pack_b_oihw__avx2(int64_t n, int64_t c, int64_t kh, int64_t kw, const float *w,
                            float *packed, float *scratch);
size_t cnnk_pack_b_oihw_scratch__avx2(int64_t k);

enum { NR = 16 }; /* the GEMM's panel width (gemm.h: 6x16 microkernel) */

static int64_t fc_k(const cnnk_fc_desc *d) { return d->ic * d->ih * d->iw; }

static bool fc_applies(const cnnk_layer_desc *l) {
    return l->kind == CNNK_LAYER_FC && cnnk_gemm_blocking__avx2().nr == NR;
}

/* The packed panels, then one panel of reordering scratch for pack(). */
static size_t fc_packed_size(const cnnk_layer_desc *l) {
    const cnnk_fc_desc *d = &l->u.fc;
    return cnnk_gemm_packed_b_size__avx2(fc_k(d), d->oc) + cnnk_pack_b_oihw_scratch__avx2(fc_k(d));
}

static void fc_pack(const cnnk_layer_desc *l, const float *w_oihw, float *packed) {
    const cnnk_fc_desc *d = &l->u.fc;
    float *scratch = packed + cnnk_gemm_packed_b_size__avx2(fc_k(d), d->oc);
    cnnk_pack_b_oihw__avx2(d->oc, d->ic, d->ih, d->iw, w_oihw, packed, scratch);
}

static size_t fc_workspace_size(const cnnk_layer_desc *l, int nthreads) {
    const cnnk_fc_desc *d = &l->u.fc;
    if (d->mb == 1) return 0;
    return cnnk_gemm_workspace_size__avx2(d->mb, d->oc, fc_k(d), nthreads);
}

/* ---- batch 1: GEMV over the packed panels ------------------------------- */

/* y[0..n) = epilogue(x . panel) for one K x 16 panel; n <= 16 valid outputs. */
static void gemv_panel(int64_t k, const float *x, const float *b, const float *bias, bool relu,
                       int n, float *y) {
    __m256 acc[8];
    for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
    int64_t kk = 0;
    for (; kk + 4 <= k; kk += 4, b += 4 * NR) {
        for (int u = 0; u < 4; ++u) {
            __m256 xv = _mm256_broadcast_ss(x + kk + u);
            acc[2 * u] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b + u * NR), acc[2 * u]);
            acc[2 * u + 1] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b + u * NR + 8), acc[2 * u + 1]);
        }
    }
    for (; kk < k; ++kk, b += NR) {
        __m256 xv = _mm256_broadcast_ss(x + kk);
        acc[0] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b), acc[0]);
        acc[1] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b + 8), acc[1]);
    }
    __m256 lo = _mm256_add_ps(_mm256_add_ps(acc[0], acc[2]), _mm256_add_ps(acc[4], acc[6]));
    __m256 hi = _mm256_add_ps(_mm256_add_ps(acc[1], acc[3]), _mm256_add_ps(acc[5], acc[7]));
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lane);
    if (bias) { /* masked: bias holds only the valid outputs */
        lo = _mm256_add_ps(lo, _mm256_maskload_ps(bias, m0));
        hi = _mm256_add_ps(hi, _mm256_maskload_ps(bias + 8, m1));
    }
    if (relu) {
        lo = _mm256_max_ps(lo, _mm256_setzero_ps());
        hi = _mm256_max_ps(hi, _mm256_setzero_ps());
    }
    _mm256_maskstore_ps(y, m0, lo);
    _mm256_maskstore_ps(y + 8, m1, hi);
}

/* Four panels at once: four concurrent weight streams keep more cache-line
 * misses in flight than one (about 15% more bandwidth from one core on
 * the development machine; see docs/KERNELS_AVX2_GEMM.md). */
static void gemv_4panels(int64_t k, const float *x, const float *b, const float *bias, bool relu,
                         float *y) {
    __m256 acc[8];
    for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
    const float *p0 = b, *p1 = b + k * NR, *p2 = b + 2 * k * NR, *p3 = b + 3 * k * NR;
    for (int64_t kk = 0; kk < k; ++kk) {
        __m256 xv = _mm256_broadcast_ss(x + kk);
        int64_t o = kk * NR;
        acc[0] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(p0 + o), acc[0]);
        acc[1] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(p0 + o + 8), acc[1]);
        acc[2] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(p1 + o), acc[2]);
        acc[3] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(p1 + o + 8), acc[3]);
        acc[4] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(p2 + o), acc[4]);
        acc[5] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(p2 + o + 8), acc[5]);
        acc[6] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(p3 + o), acc[6]);
        acc[7] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(p3 + o + 8), acc[7]);
    }
    for (int i = 0; i < 8; ++i) {
        if (bias) acc[i] = _mm256_add_ps(acc[i], _mm256_loadu_ps(bias + 8 * i));
        if (relu) acc[i] = _mm256_max_ps(acc[i], _mm256_setzero_ps());
        _mm256_storeu_ps(y + 8 * i, acc[i]);
    }
}

/* Panels [lo, hi): groups of four full panels, then one at a time. */
static void gemv_range(const cnnk_fc_desc *d, const cnnk_op_args *a, int64_t lo, int64_t hi) {
    const int64_t k = fc_k(d);
    const float *bias = a->params[0];
    int64_t j = lo;
    for (; j + 4 <= hi && (j + 4) * NR <= d->oc; j += 4)
        gemv_4panels(k, a->src[0], a->packed + j * NR * k, bias ? bias + j * NR : NULL, a->relu,
                     a->dst + j * NR);
    for (; j < hi; ++j) {
        int64_t o = j * NR;
        int n = (int)(d->oc - o < NR ? d->oc - o : NR);
        gemv_panel(k, a->src[0], a->packed + o * k, bias ? bias + o : NULL, a->relu, n,
                   a->dst + o);
    }
}

/* Thread t's share of the panels, cut at multiples of four. */
static void gemv_panels(const cnnk_fc_desc *d, const cnnk_op_args *a, int t, int nthreads) {
    const int64_t quads = (d->oc + 4 * NR - 1) / (4 * NR), panels = (d->oc + NR - 1) / NR;
    int64_t lo = quads * t / nthreads * 4, hi = quads * (t + 1) / nthreads * 4;
    gemv_range(d, a, lo, hi < panels ? hi : panels);
}

static void fc_gemv(const cnnk_fc_desc *d, const cnnk_op_args *a) {
    const int64_t quads = (d->oc + 4 * NR - 1) / (4 * NR);
    int nthreads = a->nthreads < 1 ? 1 : a->nthreads;
    if (nthreads > quads) nthreads = (int)quads;
    if (nthreads == 1) {
        gemv_panels(d, a, 0, 1);
        return;
    }
#pragma omp parallel num_threads(nthreads)
    gemv_panels(d, a, omp_get_thread_num(), omp_get_num_threads());
}

static void fc_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_fc_desc *d = &l->u.fc;
    if (d->mb == 1) {
        fc_gemv(d, a);
        return;
    }
    /* The GEMM splits N itself when M (the batch) is too short to split. */
    cnnk_gemm_epilogue ep = {.bias = a->params[0], .relu = a->relu};
    cnnk_gemm__avx2(d->mb, d->oc, fc_k(d), a->src[0], fc_k(d), a->packed, a->dst, d->oc, &ep,
                    a->workspace, a->nthreads < 1 ? 1 : a->nthreads);
}

const cnnk_op_kernel cnnk_fc__avx2 = {
    .name = "avx2/fc",
    .isa = CNNK_ISA_AVX2,
    .kind = CNNK_LAYER_FC,
    .applies = fc_applies,
    .packed_size = fc_packed_size,
    .pack = fc_pack,
    .workspace_size = fc_workspace_size,
    .run = fc_run,
};
