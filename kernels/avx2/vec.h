/* The AVX2 vector helpers every kernels/avx2/ file shares: tail masks,
 * masked or whole loads and stores, and the fused epilogue store. Only
 * files compiled with -mavx2 -mfma may include it. */
#ifndef CNNK_KERNELS_AVX2_VEC_H
#define CNNK_KERNELS_AVX2_VEC_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernels/common/util.h"

enum { CNNK_AVX2_VL = 8 }; /* floats per ymm */

/* p, as a value that only exists once x and y do: a k step's loads made
 * through the pointer this returns cannot be scheduled before the FMAs
 * that produced x and y (the previous step's accumulators). GCC 12
 * otherwise hoists the next steps' loads of an unrolled 6 x 16 k loop
 * above the current FMAs, which needs more than the 16 ymm registers and
 * spills accumulators inside the loop (docs/GEMM_SUP.md). No instruction:
 * an empty asm with register operands. Only the loop's scheduling
 * changes; the arithmetic, and so every result, is the same. */
CNNK_INLINE const float *cnnk_avx2_after(const float *p, __m256 x, __m256 y) {
    __asm__("" : "+r"(p) : "x"(x), "x"(y));
    return p;
}

/* Lanes [0, n) set, n clamped to [0, 8]: one unaligned load from a sliding
 * window over 8 ones and 8 zeros, cheaper than a compare per call. */
CNNK_INLINE __m256i cnnk_avx2_mask(int64_t n) {
    static const int32_t window[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    n = n < 0 ? 0 : n > 8 ? 8 : n;
    return _mm256_loadu_si256((const __m256i *)(window + 8 - n));
}

/* full: all 8 lanes are valid; masked lanes load as zero and are never read
 * from memory (a tail may end at the last byte of an allocation). */
CNNK_INLINE __m256 cnnk_avx2_load(const float *p, bool full, __m256i m) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

CNNK_INLINE void cnnk_avx2_store(float *p, __m256 v, bool full, __m256i m) {
    if (full)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, m, v);
}

/* The reference's ReLU, `x > 0 ? x : 0`: max returns its second operand
 * when the first is not greater (a NaN, -0), so +0 there, as the reference. */
CNNK_INLINE __m256 cnnk_avx2_relu(__m256 x) { return _mm256_max_ps(x, _mm256_setzero_ps()); }

/* The reference's leaky ReLU, `x > 0 ? x : alpha * x`: x where x > 0
 * (ordered compare: a NaN takes alpha * NaN, a NaN), else alpha * x. */
CNNK_INLINE __m256 cnnk_avx2_leaky(__m256 x, __m256 alpha) {
    const __m256 gt = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_blendv_ps(_mm256_mul_ps(x, alpha), x, gt);
}

/* kernel.h's activation: ReLU when alpha is 0 (max keeps ReLU's +0 and
 * its one instruction), leaky ReLU otherwise. alpha is uniform over a
 * whole run, so the branch is always predicted. */
CNNK_INLINE __m256 cnnk_avx2_act(__m256 x, float alpha) {
    return alpha == 0.0f ? cnnk_avx2_relu(x) : cnnk_avx2_leaky(x, _mm256_set1_ps(alpha));
}

/* The fused epilogue of include/cnnk/kernel.h on 8 output channels, in its
 * order: + bias, + residual, then the activation (relu, slope alpha); bias
 * and res are NULL when absent. Every convolution's store goes through
 * this one function. */
CNNK_INLINE void cnnk_avx2_store_epilogue(float *y, __m256 v, const float *bias, const float *res,
                                          bool relu, float alpha, bool full, __m256i m) {
    if (bias) v = _mm256_add_ps(v, cnnk_avx2_load(bias, full, m));
    if (res) v = _mm256_add_ps(v, cnnk_avx2_load(res, full, m));
    if (relu) v = cnnk_avx2_act(v, alpha);
    cnnk_avx2_store(y, v, full, m);
}

#endif
