/* The AVX2+FMA unpacked ("sup") GEMM microkernel: up to 6 rows x 16
 * columns (12 ymm accumulators, 2 B vectors), A read in place, rows lda
 * floats apart (isa.h's cnnk_sup_ukernel_fn; the loops are
 * kernels/common/gemm_sup.c's). The packed kernel's 6x16, so its B panels
 * serve both; each row count 1..6 is its own straight-line copy. */
#include "kernels/avx2/gemm_store.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/gemm_sup.h"

enum { MR = CNNK_AVX2_MR, NR = CNNK_AVX2_NR };

/* Row r at p[r / 3] + (r % 3) * lda: two row-group pointers and lda, each
 * broadcast one [p + lda*{0,4,8} + disp] operand. */
#define CNNK_SUP_STEP(M, u)                                                                 \
    do {                                                                                    \
        const float *bq_ = b, *pq_[2] = {p[0], p[1]};                                       \
        _Pragma("GCC unroll 6") for (int r_ = 0; r_ < (M); ++r_) {                          \
            bq_ = cnnk_avx2_after(bq_, acc[r_][0], acc[r_][1]);                             \
            pq_[0] = cnnk_avx2_after(pq_[0], acc[r_][0], acc[r_][1]);                       \
            pq_[1] = cnnk_avx2_after(pq_[1], acc[r_][0], acc[r_][1]);                       \
        }                                                                                   \
        const __m256 b0_ = _mm256_loadu_ps(bq_ + (u) * NR);                                 \
        const __m256 b1_ = _mm256_loadu_ps(bq_ + (u) * NR + 8);                             \
        _Pragma("GCC unroll 6") for (int r_ = 0; r_ < (M); ++r_) {                          \
            const __m256 a_ = _mm256_broadcast_ss(&pq_[r_ / 3][(r_ % 3) * lda + (u)]);      \
            acc[r_][0] = _mm256_fmadd_ps(a_, b0_, acc[r_][0]);                              \
            acc[r_][1] = _mm256_fmadd_ps(a_, b1_, acc[r_][1]);                              \
        }                                                                                   \
    } while (0)

CNNK_INLINE void sup_tile(const int M, int64_t kc, const float *a, int64_t lda, const float *b,
                          float *c, int64_t ldc, const cnnk_gemm_tile *t) {
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < M; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    const float *p[2] = {a, a + 3 * lda};
    cnnk_avx2_prefetch_tile(c, ldc, t);
    cnnk_sup_ahead ahead = cnnk_sup_ahead_start(t);
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4, b += 4 * NR, p[0] += 4, p[1] += 4) {
        cnnk_sup_ahead_step(&ahead);
        CNNK_SUP_STEP(M, 0);
        CNNK_SUP_STEP(M, 1);
        CNNK_SUP_STEP(M, 2);
        CNNK_SUP_STEP(M, 3);
    }
    for (; k < kc; ++k, b += NR, p[0] += 1, p[1] += 1) CNNK_SUP_STEP(M, 0);
    cnnk_avx2_store_tile(M, c, ldc, t, acc);
}

#undef CNNK_SUP_STEP

void cnnk_gemm_sup_ukernel_6x16__avx2(int64_t kc, const float *a, int64_t lda, const float *b,
                                      int64_t ldb, float *c, int64_t ldc,
                                      const cnnk_gemm_tile *t) {
    (void)ldb; /* one panel per call */
    switch (t->m) {
        CNNK_SUP_HEIGHTS_1_6(sup_tile, kc, a, lda, b, c, ldc, t)
    default: break;
    }
}

const cnnk_sup_ukernel cnnk_sup_ukernel_6x16__avx2 = {
    .mr = MR,
    .nr = NR,
    .panels = 1,
    .run = cnnk_gemm_sup_ukernel_6x16__avx2,
};
