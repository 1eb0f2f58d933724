/* The reference's ReLU on 4 lanes, for the NEON op kernels (eltwise,
 * batch-norm, transposed convolution): x where x > 0, else +0. A compare
 * and an AND, so every input gives the reference's `x > 0 ? x : 0`: fmax
 * would return a NaN x where the reference gives 0, and fmaxnm would do
 * the same for a signalling NaN. */
#ifndef CNNK_KERNELS_NEON_RELU_H
#define CNNK_KERNELS_NEON_RELU_H

#include <arm_neon.h>

#include "kernels/common/util.h"

CNNK_INLINE float32x4_t cnnk_neon_relu(float32x4_t x) {
    return vreinterpretq_f32_u32(
        vandq_u32(vcgtq_f32(x, vdupq_n_f32(0.0f)), vreinterpretq_u32_f32(x)));
}

#endif
