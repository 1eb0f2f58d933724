/* The AVX2 batch-1 fully connected GEMV, on the shared GEMM's B panels
 * ([oc/16][K][16], docs/GEMM.md); the driver, packing and batch > 1 GEMM
 * are kernels/common/fc.c's. A GEMV is bandwidth-bound (each weight is
 * used once), so it streams the panels four at a time (four sequential
 * streams, 8 independent accumulators), reading each weight once. Per 64
 * bytes of weights it issues 2 loads, 1 broadcast and 2 FMAs, far under
 * the core's budget, so memory alone sets its speed. */
#include "kernels/avx2/gemm.h"
#include "kernels/avx2/vec.h"

enum { NR = CNNK_AVX2_NR };

/* ---- batch 1: GEMV over the packed panels ------------------------------- */

/* y[0..n) = epilogue(x . panel) for one K x 16 panel; n <= 16 valid outputs. */
static void gemv_panel(int64_t k, const float *x, const float *b, const float *bias, bool relu,
                       float alpha, int n, float *y) {
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
    /* masked: bias and y hold only the valid outputs */
    const __m256i m0 = cnnk_avx2_mask(n), m1 = cnnk_avx2_mask(n - 8);
    cnnk_avx2_store_epilogue(y, lo, bias, NULL, relu, alpha, false, m0);
    cnnk_avx2_store_epilogue(y + 8, hi, bias ? bias + 8 : NULL, NULL, relu, alpha, false, m1);
}

/* Four panels at once: four concurrent weight streams keep more cache-line
 * misses in flight than one (about 15% more bandwidth from one core on
 * the development machine; see docs/KERNELS_AVX2_GEMM.md). */
static void gemv_4panels(int64_t k, const float *x, const float *b, const float *bias, bool relu,
                         float alpha, float *y) {
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
        if (relu) acc[i] = cnnk_avx2_act(acc[i], alpha);
        _mm256_storeu_ps(y + 8 * i, acc[i]);
    }
}

/* Panels [lo, hi): groups of four full panels, then one at a time. */
void cnnk_gemv__avx2(int64_t k, int64_t oc, const float *x, const float *packed,
                     const float *bias, bool relu, float alpha, float *y, int64_t lo,
                     int64_t hi) {
    int64_t j = lo;
    for (; j + 4 <= hi && (j + 4) * NR <= oc; j += 4)
        gemv_4panels(k, x, packed + j * NR * k, bias ? bias + j * NR : NULL, relu, alpha,
                     y + j * NR);
    for (; j < hi; ++j) {
        int64_t o = j * NR;
        gemv_panel(k, x, packed + o * k, bias ? bias + o : NULL, relu, alpha,
                   (int)cnnk_min64(oc - o, NR), y + o);
    }
}
