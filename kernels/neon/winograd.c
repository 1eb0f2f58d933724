/* The NEON tile transforms of Winograd F(m x m, 3 x 3), m = 2, 4, 6:
 * kernels/common/wino_tile.h's template on 4-channel q registers (NHWC
 * makes 4 channels of one pixel one q register), with this ISA's tail
 * loads (a lane count for a mask) and fused epilogue store from vec.h. */
#include "kernels/neon/winograd.h"

#include "kernels/neon/vec.h"

/* The template's vocabulary, #undef'd by wino_tile_end.h. */
#define CNNK_WINO_VEC float32x4_t
#define CNNK_WINO_MASK int64_t /* NEON's tails take a lane count */
#define CNNK_WINO_VL CNNK_NEON_VL
#define CNNK_WINO_ZERO() vdupq_n_f32(0.0f)
#define CNNK_WINO_MASK_OF(n) (n)
#define CNNK_WINO_LOAD cnnk_neon_load
#define CNNK_WINO_LOADU vld1q_f32
#define CNNK_WINO_STOREU vst1q_f32
/* The interior path's ReLU in one instruction (vec.h's compare-and-AND
 * takes two): fmaxnm gives the number against a quiet NaN and +0 for
 * (-0, +0), so it equals the reference's `x > 0 ? x : 0` except on a
 * signalling NaN, which the value here, always the result of an add or
 * FMA, never is. */
#define CNNK_WINO_RELU(v) vmaxnmq_f32((v), vdupq_n_f32(0.0f))
#define CNNK_WINO_SET1 vdupq_n_f32
/* vec.h's leaky ReLU with the slope already a vector */
#define CNNK_WINO_LEAKY(v, a) \
    vbslq_f32(vcgtq_f32((v), vdupq_n_f32(0.0f)), (v), vmulq_f32((v), (a)))
#define CNNK_WINO_STORE_EPILOGUE cnnk_neon_store_epilogue
/* No pre-RA scheduling (as in gemm.c and direct.c): GCC's scheduler
 * hoists all of a tile's loads to the top of the unrolled iteration and
 * then spills the values it cannot hold, each spill a store that costs
 * FP-pipe slots on the Neoverse cores. */
#define CNNK_WINO_ATTR __attribute__((optimize("no-schedule-insns")))
#define ADD vaddq_f32
#define SUB vsubq_f32
#define MUL vmulq_f32
#define FMA(a, b, c) vfmaq_f32((c), (a), (b))  /* a*b + c */
#define FNMA(a, b, c) vfmsq_f32((c), (a), (b)) /* c - a*b */
#define K(x) vdupq_n_f32(x)

#include "kernels/common/wino_tile.h"

CNNK_WINO_TRANSFORMS(2, neon)
CNNK_WINO_TRANSFORMS(4, neon)
CNNK_WINO_TRANSFORMS(6, neon)

#include "kernels/common/wino_tile_end.h"
