/* The NEON vector helpers every kernels/neon/ file shares: the NEON
 * counterpart of kernels/avx2/vec.h. Tail loads and stores touch only the
 * valid lanes (a tail may end at the last byte of an allocation), and the
 * fused epilogue store. AArch64 only (NEON is part of armv8-a). */
#ifndef CNNK_KERNELS_NEON_VEC_H
#define CNNK_KERNELS_NEON_VEC_H

#include <arm_neon.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernels/common/util.h"

enum { CNNK_NEON_VL = 4 }; /* floats per q register */

/* Lanes [0, n) all ones, the rest zero, n clamped to [0, 4]: for vbslq_f32
 * selects in the op kernels' tails. */
CNNK_INLINE uint32x4_t cnnk_neon_mask(int64_t n) {
    static const uint32_t window[8] = {~0u, ~0u, ~0u, ~0u, 0, 0, 0, 0};
    n = n < 0 ? 0 : n > 4 ? 4 : n;
    return vld1q_u32(window + 4 - n);
}

/* Lanes [0, n) from p, the rest zero; n clamped to [0, 4]. Never reads
 * p[n] or beyond. */
CNNK_INLINE float32x4_t cnnk_neon_load_n(const float *p, int64_t n) {
    const float32x4_t z = vdupq_n_f32(0.0f);
    if (n >= 4) return vld1q_f32(p);
    if (n <= 0) return z;
    if (n == 1) return vld1q_lane_f32(p, z, 0);
    float32x4_t v = vcombine_f32(vld1_f32(p), vdup_n_f32(0.0f));
    return n == 2 ? v : vld1q_lane_f32(p + 2, v, 2);
}

/* Stores lanes [0, n) of v to p; n clamped to [0, 4]. Never writes p[n]
 * or beyond. */
CNNK_INLINE void cnnk_neon_store_n(float *p, float32x4_t v, int64_t n) {
    if (n >= 4) {
        vst1q_f32(p, v);
    } else if (n == 1) {
        vst1q_lane_f32(p, v, 0);
    } else if (n >= 2) {
        vst1_f32(p, vget_low_f32(v));
        if (n == 3) vst1q_lane_f32(p + 2, v, 2);
    }
}

/* full: all 4 lanes are valid (the common case, one plain load); otherwise
 * the first n lanes, the rest zero. */
CNNK_INLINE float32x4_t cnnk_neon_load(const float *p, bool full, int64_t n) {
    return full ? vld1q_f32(p) : cnnk_neon_load_n(p, n);
}

CNNK_INLINE void cnnk_neon_store(float *p, float32x4_t v, bool full, int64_t n) {
    if (full)
        vst1q_f32(p, v);
    else
        cnnk_neon_store_n(p, v, n);
}

/* The reference's ReLU on 4 lanes: x where x > 0, else +0. A compare and
 * an AND, so every input gives the reference's `x > 0 ? x : 0` (and
 * AVX2's max(x, 0)): fmax would return a NaN x where the reference gives
 * 0, and fmaxnm would do the same for a signalling NaN. */
CNNK_INLINE float32x4_t cnnk_neon_relu(float32x4_t x) {
    return vreinterpretq_f32_u32(
        vandq_u32(vcgtq_f32(x, vdupq_n_f32(0.0f)), vreinterpretq_u32_f32(x)));
}

/* The reference's leaky ReLU, `x > 0 ? x : alpha * x`: a compare selects
 * x or alpha * x (a NaN fails the compare and takes alpha * NaN, a NaN). */
CNNK_INLINE float32x4_t cnnk_neon_leaky(float32x4_t x, float alpha) {
    return vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), x, vmulq_n_f32(x, alpha));
}

/* kernel.h's activation: ReLU when alpha is 0 (ReLU's +0), leaky ReLU
 * otherwise. alpha is uniform over a whole run, so the branch is always
 * predicted. */
CNNK_INLINE float32x4_t cnnk_neon_act(float32x4_t x, float alpha) {
    return alpha == 0.0f ? cnnk_neon_relu(x) : cnnk_neon_leaky(x, alpha);
}

/* The fused epilogue of include/cnnk/kernel.h on 4 output channels, in its
 * order: + bias, + residual, then the activation (relu, slope alpha); bias
 * and res are NULL when absent. Every convolution's store goes through
 * this one function. */
CNNK_INLINE void cnnk_neon_store_epilogue(float *y, float32x4_t v, const float *bias,
                                          const float *res, bool relu, float alpha, bool full,
                                          int64_t n) {
    if (bias) v = vaddq_f32(v, cnnk_neon_load(bias, full, n));
    if (res) v = vaddq_f32(v, cnnk_neon_load(res, full, n));
    if (relu) v = cnnk_neon_act(v, alpha);
    cnnk_neon_store(y, v, full, n);
}

#endif
