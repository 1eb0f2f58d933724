/* One packed SGEMM for AVX2+FMA, in the BLIS manner: a 6x16 microkernel
 * inside the GotoBLAS loops, block sizes derived from the cache sizes.
 * im2col and 1x1 convolution, Winograd's transform-domain multiplies and
 * fully connected layers all reuse it.
 *
 *   C (M x N, row-major, pitch ldc) = A (M x K, row-major, pitch lda)
 *                                     * B (K x N, packed once)
 *
 * Only call these when cnnk_isa_available(CNNK_ISA_AVX2) is true; this file
 * is compiled with -mavx2 -mfma. See docs/GEMM.md. */
#ifndef CNNK_KERNELS_AVX2_GEMM_H
#define CNNK_KERNELS_AVX2_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fused into the microkernel's store, in this order:
 *   c = (accumulate ? c : 0) + A*B + bias[n]   (bias: N values or NULL)
 *   c += residual[m*residual_ld + n]           (residual may be NULL)
 *   c = max(c, 0)                              (when relu) */
typedef struct cnnk_gemm_epilogue {
    const float *bias;
    const float *residual;
    int64_t residual_ld;
    bool relu;
    bool accumulate;
} cnnk_gemm_epilogue;

/* The blocking this machine gets: MR x NR microkernel tile; KC, MC, NC
 * derived from cnnk_cpu()'s cache sizes (see the function's comment). */
typedef struct cnnk_gemm_blocking {
    int mr, nr;
    int64_t kc, mc, nc;
} cnnk_gemm_blocking;

cnnk_gemm_blocking cnnk_gemm_blocking__avx2(void);

/* Floats needed for B packed by cnnk_gemm_pack_b__avx2. The packed layout
 * does not depend on the blocking, so it can be packed on one machine and
 * run on another. */
size_t cnnk_gemm_packed_b_size__avx2(int64_t K, int64_t N);

/* trans=false: B[k*ldb + n]; trans=true: B[n*ldb + k] (OIHW 1x1 and FC
 * weights are N x K). `packed` needs cnnk_gemm_packed_b_size__avx2 floats. */
void cnnk_gemm_pack_b__avx2(int64_t K, int64_t N, const float *B, int64_t ldb, bool trans,
                            float *packed);

/* Floats of scratch for packed A panels, for up to nthreads threads. */
size_t cnnk_gemm_workspace_size__avx2(int64_t M, int64_t N, int64_t K, int nthreads);

/* C = epilogue(A * B). ep may be NULL (plain C = A*B). nthreads >= 1;
 * nthreads = 1 creates no parallel region. Never reads or writes C,
 * A or residual outside their M x N (M x K) extents. */
void cnnk_gemm__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                     const float *packed_b, float *C, int64_t ldc, const cnnk_gemm_epilogue *ep,
                     float *workspace, int nthreads);

/* The bare microkernel, exposed for the timing program and the tests:
 * acc(6x16) = sum_k a[k*6 + r] * b[k*16 + c] over packed panels, stored to
 * c (pitch ldc) as c = (load_c ? c : 0) + acc, full 6x16 tile. */
void cnnk_gemm_ukernel_6x16__avx2(int64_t kc, const float *a, const float *b, float *c,
                                  int64_t ldc, bool load_c);

#ifdef __cplusplus
}
#endif
#endif
