/* Transposed convolution for AVX-512: kernels/common/deconv.c's driver
 * with kernels/common/deconv_tile.h's tile on zmm vectors. 32 zmm
 * registers hold 6 pixels x up to 4 vectors (24 accumulators), the 4
 * weight vectors and a broadcast; a group's last vector is stored through
 * a __mmask16, so neither the next group's channels nor the output's gap
 * lanes are touched. */
#include <immintrin.h>

#include "cnnk/kernel.h"
#include "kernels/avx512/vec.h"

enum { VL = CNNK_AVX512_VL };
#define DC_MAX_NV 4
#define DC_PX(nv) 6
#define DC_VEC __m512
#define DC_ZERO() _mm512_setzero_ps()
#define DC_LOADU(p) _mm512_loadu_ps(p)
#define DC_BCAST(p) _mm512_set1_ps(*(p))
#define DC_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define DC_ADD(a, b) _mm512_add_ps(a, b)

CNNK_INLINE void dc_store(float *y, __m512 v, const float *bias, bool relu, float alpha,
                          int64_t n) {
    cnnk_avx512_store_epilogue(y, v, bias, NULL, relu, alpha, n >= VL, cnnk_avx512_mask(n));
}

#include "kernels/common/deconv_tile.h"

const cnnk_op_kernel cnnk_deconv__avx512 = {.name = "avx512/deconv",
                                            .isa = CNNK_ISA_AVX512,
                                            .kind = CNNK_LAYER_DECONV,
                                            .applies = cnnk_deconv_applies,
                                            .packed_size = dc_packed_size,
                                            .pack = dc_pack,
                                            .run = dc_run};
