/* Transposed convolution for AVX2: kernels/common/deconv.c's driver with
 * kernels/common/deconv_tile.h's tile on ymm vectors. 16 ymm registers
 * hold w x nv accumulators, nv weight vectors and a broadcast: 8 pixels
 * x 1 vector, 6 x 2 or 4 x 3 (FCN's 21 channels are 3 vectors); more
 * channels are split into blocks of at most 3 vectors. */
#include <immintrin.h>

#include "cnnk/kernel.h"
#include "kernels/avx2/vec.h"

enum { VL = 8 };
#define DC_MAX_NV 3
#define DC_PX(nv) ((nv) == 1 ? 8 : (nv) == 2 ? 6 : (nv) == 3 ? 4 : 0)
#define DC_VEC __m256
#define DC_ZERO() _mm256_setzero_ps()
#define DC_LOADU(p) _mm256_loadu_ps(p)
#define DC_BCAST(p) _mm256_broadcast_ss(p)
#define DC_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define DC_ADD(a, b) _mm256_add_ps(a, b)

CNNK_INLINE void dc_store(float *y, __m256 v, const float *bias, bool relu, float alpha,
                          int64_t n) {
    const bool full = n >= VL;
    cnnk_avx2_store_epilogue(y, v, bias, NULL, relu, alpha, full,
                             full ? _mm256_setzero_si256() : cnnk_avx2_mask(n));
}

#include "kernels/common/deconv_tile.h"

const cnnk_op_kernel cnnk_deconv__avx2 = {.name = "avx2/deconv",
                                          .isa = CNNK_ISA_AVX2,
                                          .kind = CNNK_LAYER_DECONV,
                                          .applies = cnnk_deconv_applies,
                                          .packed_size = dc_packed_size,
                                          .pack = dc_pack,
                                          .run = dc_run};
