/* The AVX2 tile transforms of Winograd F(m x m, 3 x 3), m = 2, 4, 6:
 * kernels/common/wino_tile.h's template on 8-channel ymm vectors (NHWC
 * makes 8 channels of one pixel one ymm), with this ISA's masked tails
 * and fused epilogue store from vec.h. */
#include "kernels/avx2/winograd.h"

#include "kernels/avx2/vec.h"

/* The template's vocabulary, #undef'd by wino_tile_end.h. */
#define CNNK_WINO_VEC __m256
#define CNNK_WINO_MASK __m256i
#define CNNK_WINO_VL CNNK_AVX2_VL
#define CNNK_WINO_ZERO _mm256_setzero_ps
#define CNNK_WINO_MASK_OF cnnk_avx2_mask
#define CNNK_WINO_LOAD cnnk_avx2_load
#define CNNK_WINO_LOADU _mm256_loadu_ps
#define CNNK_WINO_STOREU _mm256_storeu_ps
#define CNNK_WINO_RELU cnnk_avx2_relu
#define CNNK_WINO_SET1 _mm256_set1_ps
#define CNNK_WINO_LEAKY cnnk_avx2_leaky
#define CNNK_WINO_STORE_EPILOGUE cnnk_avx2_store_epilogue
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define FMA _mm256_fmadd_ps   /* a*b + c */
#define FNMA _mm256_fnmadd_ps /* c - a*b */
#define K(x) _mm256_set1_ps(x)

#include "kernels/common/wino_tile.h"

CNNK_WINO_TRANSFORMS(2, avx2)
CNNK_WINO_TRANSFORMS(4, avx2)
CNNK_WINO_TRANSFORMS(6, avx2)

#include "kernels/common/wino_tile_end.h"
