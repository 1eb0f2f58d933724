/* The AVX-512 tile transforms of Winograd F(m x m, 3 x 3), m = 2, 4, 6:
 * kernels/common/wino_tile.h's template on 16-channel zmm vectors (NHWC
 * makes 16 channels of one pixel one zmm), with this ISA's masked tails
 * and fused epilogue store from vec.h. */
#include "kernels/avx512/winograd.h"

#include "kernels/avx512/vec.h"

/* The template's vocabulary, #undef'd by wino_tile_end.h. */
#define CNNK_WINO_VEC __m512
#define CNNK_WINO_MASK __mmask16
#define CNNK_WINO_VL CNNK_AVX512_VL
#define CNNK_WINO_ZERO _mm512_setzero_ps
#define CNNK_WINO_MASK_OF cnnk_avx512_mask
#define CNNK_WINO_LOAD cnnk_avx512_load
#define CNNK_WINO_LOADU _mm512_loadu_ps
#define CNNK_WINO_STOREU _mm512_storeu_ps
#define CNNK_WINO_RELU cnnk_avx512_relu
#define CNNK_WINO_SET1 _mm512_set1_ps
#define CNNK_WINO_LEAKY cnnk_avx512_leaky
#define CNNK_WINO_STORE_EPILOGUE cnnk_avx512_store_epilogue
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define FMA _mm512_fmadd_ps   /* a*b + c */
#define FNMA _mm512_fnmadd_ps /* c - a*b */
#define K(x) _mm512_set1_ps(x)

#include "kernels/common/wino_tile.h"

CNNK_WINO_TRANSFORMS(2, avx512)
CNNK_WINO_TRANSFORMS(4, avx512)
CNNK_WINO_TRANSFORMS(6, avx512)

#include "kernels/common/wino_tile_end.h"
