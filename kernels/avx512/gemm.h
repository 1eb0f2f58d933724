/* The AVX-512 pieces of the shared GEMM (kernels/common/gemm.h): an MR x NR
 * microkernel and its A packing, listed in cnnk_isa_kernels__avx512
 * (table.c). Call only when cnnk_isa_available(CNNK_ISA_AVX512); these
 * files are compiled with the avx512 flags. See docs/KERNELS_AVX512.md for
 * the choice of shape (measured). */
#ifndef CNNK_KERNELS_AVX512_GEMM_H
#define CNNK_KERNELS_AVX512_GEMM_H

#include <stdint.h>

#include "kernels/common/isa.h"

/* 14 rows x 2 zmm: 28 accumulators, 2 B vectors and the broadcasts (folded
 * into the FMAs as {1to16} memory operands) fit the 32 zmm registers. */
enum { CNNK_AVX512_MR = 14, CNNK_AVX512_NR = 32 };

void cnnk_gemm_ukernel_14x32__avx512(int64_t kc, const float *a, const float *b, float *c,
                                     int64_t ldc, const cnnk_gemm_tile *t);
void cnnk_gemm_pack_a_14__avx512(int64_t mc, int64_t kc, const float *a, int64_t lda,
                                 float *dst);
/* The alternative shape, 28 rows x 1 zmm, kept for the measurement that
 * chose 14x32 (docs/KERNELS_AVX512.md; tests/test_gemm.c runs only the
 * table's shape). */
void cnnk_gemm_ukernel_28x16__avx512(int64_t kc, const float *a, const float *b, float *c,
                                     int64_t ldc, const cnnk_gemm_tile *t);
void cnnk_gemm_pack_a_28__avx512(int64_t mc, int64_t kc, const float *a, int64_t lda,
                                 float *dst);

/* What the shared drivers read of AVX-512 (table.c). */
extern const cnnk_isa_kernels cnnk_isa_kernels__avx512;

#endif
