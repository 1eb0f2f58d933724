/* The AVX-512 unpacked ("sup") GEMM microkernel: up to 14 rows x 32
 * columns (28 zmm accumulators, 2 B vectors), A read in place, rows lda
 * floats apart (isa.h's cnnk_sup_ukernel_fn; the loops around it are
 * kernels/common/gemm_sup.c's). The shape is the packed kernel's 14x32,
 * so the packed B panels serve both; each row count 1..14 gets its own
 * straight-line copy (a switch per call, once per 2*m*32*KC FLOPs), so a
 * 7-row tile of a 7x7 map spends no FMA on absent rows. */
#include "kernels/avx512/gemm_store.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/gemm_sup.h"

enum { VL = CNNK_AVX512_VL, MR = 14, NV = 2 };

/* Row r of A sits at p[r / 3] + (r % 3) * lda: five row-group pointers and
 * lda itself, so every broadcast is one {1to16} operand [p + lda*{0,4,8}
 * + disp] rather than fourteen pointers spilled from too few registers. */
#define CNNK_SUP_STEP(M, u)                                                                 \
    do {                                                                                    \
        const __m512 b0_ = _mm512_loadu_ps(b + (u) * NV * VL);                              \
        const __m512 b1_ = _mm512_loadu_ps(b + (u) * NV * VL + VL);                         \
        _Pragma("GCC unroll 14") for (int r_ = 0; r_ < (M); ++r_) {                         \
            const __m512 a_ = _mm512_set1_ps(p[r_ / 3][(r_ % 3) * lda + (u)]);              \
            acc[r_][0] = _mm512_fmadd_ps(a_, b0_, acc[r_][0]);                              \
            acc[r_][1] = _mm512_fmadd_ps(a_, b1_, acc[r_][1]);                              \
        }                                                                                   \
    } while (0)

CNNK_INLINE void sup_tile(const int M, int64_t kc, const float *a, int64_t lda, const float *b,
                          float *c, int64_t ldc, const cnnk_gemm_tile *t) {
    cnnk_avx512_acc acc;
#pragma GCC unroll 14
    for (int r = 0; r < M; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    const float *p[(MR + 2) / 3];
#pragma GCC unroll 5
    for (int g = 0; g < (M + 2) / 3; ++g) p[g] = a + 3 * g * lda;
    cnnk_avx512_prefetch_tile(NV, c, ldc, t);
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4, b += 4 * NV * VL) {
        CNNK_SUP_STEP(M, 0);
        CNNK_SUP_STEP(M, 1);
        CNNK_SUP_STEP(M, 2);
        CNNK_SUP_STEP(M, 3);
#pragma GCC unroll 5
        for (int g = 0; g < (M + 2) / 3; ++g) p[g] += 4;
    }
    for (; k < kc; ++k, b += NV * VL) {
        CNNK_SUP_STEP(M, 0);
#pragma GCC unroll 5
        for (int g = 0; g < (M + 2) / 3; ++g) p[g] += 1;
    }
    cnnk_avx512_store_tile(M, NV, c, ldc, t, acc);
}

#undef CNNK_SUP_STEP

void cnnk_gemm_sup_ukernel_14x32__avx512(int64_t kc, const float *a, int64_t lda, const float *b,
                                         float *c, int64_t ldc, const cnnk_gemm_tile *t) {
    switch (t->m) {
        CNNK_SUP_HEIGHTS_1_6(sup_tile, kc, a, lda, b, c, ldc, t)
        CNNK_SUP_HEIGHTS_7_14(sup_tile, kc, a, lda, b, c, ldc, t)
    default: break;
    }
}

const cnnk_sup_ukernel cnnk_sup_ukernel_14x32__avx512 = {
    .mr = MR,
    .nr = NV * VL,
    .run = cnnk_gemm_sup_ukernel_14x32__avx512,
};
