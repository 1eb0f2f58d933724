/* The AVX2+FMA pieces of the shared GEMM (kernels/common/gemm.h): a 6x16
 * microkernel and its A packing, listed in cnnk_isa_kernels__avx2
 * (table.c). Call only when cnnk_isa_available(CNNK_ISA_AVX2); these files
 * are compiled with -mavx2 -mfma. See docs/GEMM.md. */
#ifndef CNNK_KERNELS_AVX2_GEMM_H
#define CNNK_KERNELS_AVX2_GEMM_H

#include <stdint.h>

#include "kernels/common/isa.h"

/* 6 rows x 2 ymm: 12 accumulators, 2 B vectors and 1 broadcast fill 15 of
 * the 16 ymm registers. */
enum { CNNK_AVX2_MR = 6, CNNK_AVX2_NR = 16 };

void cnnk_gemm_ukernel_6x16__avx2(int64_t kc, const float *a, const float *b, float *c,
                                  int64_t ldc, const cnnk_gemm_tile *t);
void cnnk_gemm_pack_a__avx2(int64_t mc, int64_t kc, const float *a, int64_t lda, float *dst);

/* What the shared drivers read of AVX2 (table.c). */
extern const cnnk_isa_kernels cnnk_isa_kernels__avx2;

#endif
