/* The AVX-512 batch-1 fully connected GEMV, on the shared GEMM's B panels
 * ([oc/32][K][32]); the driver, packing and batch > 1 GEMM are
 * kernels/common/fc.c's. Bandwidth-bound as on AVX2 (each weight is used
 * once): it streams two 32-wide panels at a time (64 floats per k, the
 * same bytes per step as AVX2's four 16-wide panels: two streams, 4 zmm
 * loads, 4 independent accumulators per step, 8 with the k unroll). */
#include "kernels/avx512/gemm.h"
#include "kernels/avx512/vec.h"

enum { NR = CNNK_AVX512_NR, VL = CNNK_AVX512_VL };

/* y[0..n) = epilogue(x . panel) for one K x 32 panel; n <= 32 valid outputs. */
static void gemv_panel(int64_t k, const float *x, const float *b, const float *bias, bool relu,
                       float alpha, int n, float *y) {
    __m512 acc[8];
    for (int i = 0; i < 8; ++i) acc[i] = _mm512_setzero_ps();
    int64_t kk = 0;
    for (; kk + 4 <= k; kk += 4, b += 4 * NR) {
        for (int u = 0; u < 4; ++u) {
            const __m512 xv = _mm512_set1_ps(x[kk + u]);
            acc[2 * u] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b + u * NR), acc[2 * u]);
            acc[2 * u + 1] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b + u * NR + VL), acc[2 * u + 1]);
        }
    }
    for (; kk < k; ++kk, b += NR) {
        const __m512 xv = _mm512_set1_ps(x[kk]);
        acc[0] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b), acc[0]);
        acc[1] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b + VL), acc[1]);
    }
    const __m512 lo = _mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[4], acc[6]));
    const __m512 hi = _mm512_add_ps(_mm512_add_ps(acc[1], acc[3]), _mm512_add_ps(acc[5], acc[7]));
    /* masked: bias and y hold only the valid outputs */
    cnnk_avx512_store_epilogue(y, lo, bias, NULL, relu, alpha, false, cnnk_avx512_mask(n));
    cnnk_avx512_store_epilogue(y + VL, hi, bias ? bias + VL : NULL, NULL, relu, alpha, false,
                               cnnk_avx512_mask(n - VL));
}

/* Two full panels at once: two concurrent weight streams, 64 floats per k. */
static void gemv_2panels(int64_t k, const float *x, const float *b, const float *bias, bool relu,
                         float alpha, float *y) {
    __m512 acc[8];
    for (int i = 0; i < 8; ++i) acc[i] = _mm512_setzero_ps();
    const float *p0 = b, *p1 = b + k * NR;
    int64_t kk = 0;
    for (; kk + 2 <= k; kk += 2) {
        for (int u = 0; u < 2; ++u) {
            const __m512 xv = _mm512_set1_ps(x[kk + u]);
            const int64_t o = (kk + u) * NR;
            acc[4 * u] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(p0 + o), acc[4 * u]);
            acc[4 * u + 1] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(p0 + o + VL), acc[4 * u + 1]);
            acc[4 * u + 2] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(p1 + o), acc[4 * u + 2]);
            acc[4 * u + 3] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(p1 + o + VL), acc[4 * u + 3]);
        }
    }
    for (; kk < k; ++kk) {
        const __m512 xv = _mm512_set1_ps(x[kk]);
        const int64_t o = kk * NR;
        acc[0] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(p0 + o), acc[0]);
        acc[1] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(p0 + o + VL), acc[1]);
        acc[2] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(p1 + o), acc[2]);
        acc[3] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(p1 + o + VL), acc[3]);
    }
    for (int i = 0; i < 4; ++i) {
        __m512 v = _mm512_add_ps(acc[i], acc[4 + i]);
        if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + VL * i));
        if (relu) v = cnnk_avx512_act(v, alpha);
        _mm512_storeu_ps(y + VL * i, v);
    }
}

/* Panels [lo, hi): pairs of full panels, then one at a time. */
void cnnk_gemv__avx512(int64_t k, int64_t oc, const float *x, const float *packed,
                       const float *bias, bool relu, float alpha, float *y, int64_t lo,
                     int64_t hi) {
    int64_t j = lo;
    for (; j + 2 <= hi && (j + 2) * NR <= oc; j += 2)
        gemv_2panels(k, x, packed + j * NR * k, bias ? bias + j * NR : NULL, relu, alpha,
                     y + j * NR);
    for (; j < hi; ++j) {
        const int64_t o = j * NR;
        gemv_panel(k, x, packed + o * k, bias ? bias + o : NULL, relu, alpha,
                   (int)cnnk_min64(oc - o, NR), y + o);
    }
}
