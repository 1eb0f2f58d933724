/* Transposed convolution for NEON: kernels/common/deconv.c's driver with
 * kernels/common/deconv_tile.h's tile on q registers. 32 of them hold 6
 * pixels x up to 4 vectors (24 accumulators), the 4 weight vectors and a
 * broadcast (ld1r); 8 pixels of one vector. */
#include <arm_neon.h>

#include "cnnk/kernel.h"
#include "kernels/neon/vec.h"

enum { VL = CNNK_NEON_VL };
#define DC_MAX_NV 4
#define DC_PX(nv) ((nv) == 1 ? 8 : 6)
#define DC_VEC float32x4_t
#define DC_ZERO() vdupq_n_f32(0.0f)
#define DC_LOADU(p) vld1q_f32(p)
#define DC_BCAST(p) vld1q_dup_f32(p)
#define DC_FMA(a, b, c) vfmaq_f32(c, a, b)
#define DC_ADD(a, b) vaddq_f32(a, b)

CNNK_INLINE void dc_store(float *y, float32x4_t v, const float *bias, bool relu, float alpha,
                          int64_t n) {
    cnnk_neon_store_epilogue(y, v, bias, NULL, relu, alpha, n >= VL, n);
}

#include "kernels/common/deconv_tile.h"

const cnnk_op_kernel cnnk_deconv__neon = {.name = "neon/deconv",
                                          .isa = CNNK_ISA_NEON,
                                          .kind = CNNK_LAYER_DECONV,
                                          .applies = cnnk_deconv_applies,
                                          .packed_size = dc_packed_size,
                                          .pack = dc_pack,
                                          .run = dc_run};
