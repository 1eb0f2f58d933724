/* One packed SGEMM driver for every ISA, in the BLIS manner: the GotoBLAS
 * loops and the thread split here, around the ISA's MR x NR microkernel
 * and A packing (cnnk_gemm_ukernel). im2col and 1x1 convolution,
 * Winograd's transform-domain multiplies and fully connected layers all
 * reuse it. See docs/GEMM.md.
 *
 *   C (M x N, row-major, pitch ldc) = A (M x K, row-major, pitch lda)
 *                                     * B (K x N, packed once)
 *
 * Only call with an ISA whose cnnk_isa_available() is true. */
#ifndef CNNK_KERNELS_COMMON_GEMM_H
#define CNNK_KERNELS_COMMON_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/common/isa.h"

/* Fused into the microkernel's store, in this order:
 *   c = (accumulate ? c : 0) + A*B + bias[n]   (bias: N values or NULL)
 *   c += residual[m*residual_ld + n]           (residual may be NULL)
 *   c = c > 0 ? c : relu_alpha * c             (when relu; kernel.h's) */
typedef struct cnnk_gemm_epilogue {
    const float *bias;
    const float *residual;
    int64_t residual_ld;
    bool relu;
    float relu_alpha;
    bool accumulate;
} cnnk_gemm_epilogue;

/* Floats needed for B packed with panel width nr. The packed layout does
 * not depend on the blocking, so it can be packed on one machine and run
 * on another with the same microkernel. */
size_t cnnk_gemm_packed_b_size(int nr, int64_t K, int64_t N);

/* [N/nr panels][K][nr], zero-padded to nr. trans=false: B[k*ldb + n];
 * trans=true: B[n*ldb + k] (OIHW 1x1 and FC weights are N x K). */
void cnnk_gemm_pack_b(int nr, int64_t K, int64_t N, const float *B, int64_t ldb, bool trans,
                      float *packed);

/* Floats of scratch for packed A blocks, for up to nthreads threads. */
size_t cnnk_gemm_workspace_size(const cnnk_isa_kernels *isa, int64_t M, int64_t N, int64_t K,
                                int nthreads);

/* C = epilogue(A * B). ep may be NULL (plain C = A*B). nthreads >= 1;
 * nthreads = 1 creates no parallel region. Never reads or writes C, A or
 * residual outside their M x N (M x K) extents. */
void cnnk_gemm(const cnnk_isa_kernels *isa, int64_t M, int64_t N, int64_t K, const float *A,
               int64_t lda, const float *packed_b, float *C, int64_t ldc,
               const cnnk_gemm_epilogue *ep, float *workspace, int nthreads);

#endif
