/* The AVX-512 vector helpers every kernels/avx512/ file shares: tail masks
 * (__mmask16), masked or whole loads and stores, and the fused epilogue
 * store: the counterpart of kernels/avx2/vec.h. Only files compiled with
 * the avx512 flags (-mavx512f -mavx512cd -mavx512bw -mavx512dq -mavx512vl
 * -mfma) may include it.
 *
 * A tail is one opmask, not a scalar remainder: masked-off lanes of a load
 * read as zero and are never touched in memory (no fault past the end of
 * an allocation), masked-off lanes of a store are left as they were. */
#ifndef CNNK_KERNELS_AVX512_VEC_H
#define CNNK_KERNELS_AVX512_VEC_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernels/common/util.h"

enum { CNNK_AVX512_VL = 16 }; /* floats per zmm */

/* p, made to depend on x and y: a k step's loads go through it so they
 * issue after the previous step's FMAs (the counterpart of vec.h's
 * cnnk_avx2_after). Left free, GCC 12 hoists the next steps' B loads and
 * broadcasts and, with 24-28 accumulators in 32 registers, spills
 * accumulators inside the k loop (docs/GEMM_SUP.md). No instruction: an
 * empty asm with register operands. */
CNNK_INLINE const float *cnnk_avx512_after(const float *p, __m512 x, __m512 y) {
    __asm__("" : "+r"(p) : "v"(x), "v"(y));
    return p;
}

/* Lanes [0, n) set, n clamped to [0, 16]. */
CNNK_INLINE __mmask16 cnnk_avx512_mask(int64_t n) {
    return n <= 0 ? (__mmask16)0 : n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* full: all 16 lanes are valid (one plain load); otherwise lanes outside m
 * load as zero without reading memory. */
CNNK_INLINE __m512 cnnk_avx512_load(const float *p, bool full, __mmask16 m) {
    return full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}

CNNK_INLINE void cnnk_avx512_store(float *p, __m512 v, bool full, __mmask16 m) {
    if (full)
        _mm512_storeu_ps(p, v);
    else
        _mm512_mask_storeu_ps(p, m, v);
}

/* Masked load/store by mask alone: the forms the tails use when the mask is
 * already at hand (all-ones masks run at the speed of the plain forms). */
CNNK_INLINE __m512 cnnk_avx512_maskz_load(const float *p, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, p);
}

CNNK_INLINE void cnnk_avx512_mask_store(float *p, __m512 v, __mmask16 m) {
    _mm512_mask_storeu_ps(p, m, v);
}

/* The reference's ReLU, `x > 0 ? x : 0`: max returns its second operand
 * when the first is not greater (a NaN, -0), so +0 there, as the reference. */
CNNK_INLINE __m512 cnnk_avx512_relu(__m512 x) { return _mm512_max_ps(x, _mm512_setzero_ps()); }

/* The reference's leaky ReLU, `x > 0 ? x : alpha * x`: one compare into a
 * mask and a masked multiply of the lanes that are not greater than 0. */
CNNK_INLINE __m512 cnnk_avx512_leaky(__m512 x, __m512 alpha) {
    const __mmask16 le = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGT_UQ);
    return _mm512_mask_mul_ps(x, le, x, alpha);
}

/* kernel.h's activation: ReLU when alpha is 0 (max keeps ReLU's +0 and
 * its one instruction), leaky ReLU otherwise. alpha is uniform over a
 * whole run, so the branch is always predicted. */
CNNK_INLINE __m512 cnnk_avx512_act(__m512 x, float alpha) {
    return alpha == 0.0f ? cnnk_avx512_relu(x) : cnnk_avx512_leaky(x, _mm512_set1_ps(alpha));
}

/* The fused epilogue of include/cnnk/kernel.h on 16 output channels, in its
 * order: + bias, + residual, then the activation (relu, slope alpha); bias
 * and res are NULL when absent. Every AVX-512 convolution's store goes
 * through this one function. */
CNNK_INLINE void cnnk_avx512_store_epilogue(float *y, __m512 v, const float *bias,
                                            const float *res, bool relu, float alpha, bool full,
                                            __mmask16 m) {
    if (bias) v = _mm512_add_ps(v, cnnk_avx512_load(bias, full, m));
    if (res) v = _mm512_add_ps(v, cnnk_avx512_load(res, full, m));
    if (relu) v = cnnk_avx512_act(v, alpha);
    cnnk_avx512_store(y, v, full, m);
}

#endif
