/* The NEON pieces of the shared GEMM (kernels/common/gemm.h): an 8x12
 * microkernel and its A packing, listed in cnnk_isa_kernels__neon
 * (table.c). Call only when cnnk_isa_available(CNNK_ISA_NEON). */
#ifndef CNNK_KERNELS_NEON_GEMM_H
#define CNNK_KERNELS_NEON_GEMM_H

#include <stdint.h>

#include "kernels/common/isa.h"

/* 8 rows x 3 q registers: 24 accumulators, 2 A vectors (8 rows, read by
 * lane) and 3 B vectors fill 29 of the 32 v registers. */
enum { CNNK_NEON_MR = 8, CNNK_NEON_NR = 12 };

void cnnk_gemm_ukernel_8x12__neon(int64_t kc, const float *a, const float *b, float *c,
                                  int64_t ldc, const cnnk_gemm_tile *t);
void cnnk_gemm_pack_a__neon(int64_t mc, int64_t kc, const float *a, int64_t lda, float *dst);

/* What the shared drivers read of NEON (table.c). */
extern const cnnk_isa_kernels cnnk_isa_kernels__neon;

#endif
