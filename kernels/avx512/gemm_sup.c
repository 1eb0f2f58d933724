/* The AVX-512 unpacked ("sup") GEMM microkernel: up to 6 rows x 64
 * columns (24 zmm accumulators over two packed B panels of 32, 4 B
 * vectors), A read in place, rows lda floats apart (isa.h's
 * cnnk_sup_ukernel_fn; the loops around it are kernels/common/gemm_sup.c's).
 * Each k step is 4 B loads and 6 broadcasts for 24 FMAs (0.42 loads per
 * FMA, against 0.57 for the 14 x 32 tile this replaced, which ran at
 * 62-78% of the FMA peak with everything in L1 on Ice Lake against 69-88%
 * for this one: docs/GEMM_SUP.md). The panels are the packed kernel's
 * (NR = 32), so the packed B serves both; a call over one panel (N's
 * last 32 or fewer columns) runs the 6 x 32 half. Each row count 1..6 is
 * its own straight-line copy behind one switch per call. */
#include "kernels/avx512/gemm_store.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/gemm_sup.h"

enum { VL = CNNK_AVX512_VL, MR = 6, NR = 2 * VL };

/* Row r of A sits at p[r / 3] + (r % 3) * lda: two row-group pointers and
 * lda, so every broadcast is one [p + lda*{0,4,8} + disp] operand. NV is
 * 2 (one panel, b0) or 4 (two, b0 and b1). */
#define CNNK_SUP_STEP(M, NV, u)                                                             \
    do {                                                                                    \
        const float *bq0_ = b0, *bq1_ = b1, *pq_[2] = {p[0], p[(M) > 3]};                   \
        _Pragma("GCC unroll 6") for (int r_ = 0; r_ < (M); ++r_) {                          \
            bq0_ = cnnk_avx512_after(bq0_, lo[r_][0], lo[r_][1]);                           \
            pq_[0] = cnnk_avx512_after(pq_[0], lo[r_][0], lo[r_][1]);                       \
            pq_[1] = cnnk_avx512_after(pq_[1], lo[r_][0], lo[r_][1]);                       \
            if ((NV) > 2) {                                                                 \
                bq1_ = cnnk_avx512_after(bq1_, hi[r_][0], hi[r_][1]);                       \
                pq_[0] = cnnk_avx512_after(pq_[0], hi[r_][0], hi[r_][1]);                   \
                pq_[1] = cnnk_avx512_after(pq_[1], hi[r_][0], hi[r_][1]);                   \
            }                                                                               \
        }                                                                                   \
        const __m512 b0_ = _mm512_loadu_ps(bq0_ + (u) * NR);                                \
        const __m512 b1_ = _mm512_loadu_ps(bq0_ + (u) * NR + VL);                           \
        __m512 b2_ = b0_, b3_ = b1_;                                                        \
        if ((NV) > 2) {                                                                     \
            b2_ = _mm512_loadu_ps(bq1_ + (u) * NR);                                         \
            b3_ = _mm512_loadu_ps(bq1_ + (u) * NR + VL);                                    \
        }                                                                                   \
        _Pragma("GCC unroll 6") for (int r_ = 0; r_ < (M); ++r_) {                          \
            const __m512 a_ = _mm512_set1_ps(pq_[r_ / 3][(r_ % 3) * lda + (u)]);            \
            lo[r_][0] = _mm512_fmadd_ps(a_, b0_, lo[r_][0]);                                \
            lo[r_][1] = _mm512_fmadd_ps(a_, b1_, lo[r_][1]);                                \
            if ((NV) > 2) {                                                                 \
                hi[r_][0] = _mm512_fmadd_ps(a_, b2_, hi[r_][0]);                            \
                hi[r_][1] = _mm512_fmadd_ps(a_, b3_, hi[r_][1]);                            \
            }                                                                               \
        }                                                                                   \
    } while (0)

CNNK_INLINE void sup_tile(const int M, const int NV, int64_t kc, const float *a, int64_t lda,
                          const float *b0, int64_t ldb, float *c, int64_t ldc,
                          const cnnk_gemm_tile *t) {
    cnnk_avx512_acc lo, hi;
#pragma GCC unroll 6
    for (int r = 0; r < M; ++r) {
        lo[r][0] = lo[r][1] = _mm512_setzero_ps();
        if (NV > 2) hi[r][0] = hi[r][1] = _mm512_setzero_ps();
    }
    const float *b1 = b0 + ldb;
    const float *p[(MR + 2) / 3];
#pragma GCC unroll 2
    for (int g = 0; g < (M + 2) / 3; ++g) p[g] = a + 3 * g * lda;
    /* The second half's tile: columns 32.., its bias and residual. */
    cnnk_gemm_tile th = *t;
    th.n = t->n - NR;
    if (th.bias) th.bias += NR;
    if (th.res) th.res += NR;
    cnnk_avx512_prefetch_tile(2, c, ldc, t);
    if (NV > 2) cnnk_avx512_prefetch_tile(2, c + NR, ldc, &th);
    cnnk_sup_ahead ahead = cnnk_sup_ahead_start(t);
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4, b0 += 4 * NR, b1 += 4 * NR) {
        cnnk_sup_ahead_step(&ahead);
        CNNK_SUP_STEP(M, NV, 0);
        CNNK_SUP_STEP(M, NV, 1);
        CNNK_SUP_STEP(M, NV, 2);
        CNNK_SUP_STEP(M, NV, 3);
#pragma GCC unroll 2
        for (int g = 0; g < (M + 2) / 3; ++g) p[g] += 4;
    }
    for (; k < kc; ++k, b0 += NR, b1 += NR) {
        CNNK_SUP_STEP(M, NV, 0);
#pragma GCC unroll 2
        for (int g = 0; g < (M + 2) / 3; ++g) p[g] += 1;
    }
    if (NV > 2) {
        cnnk_gemm_tile tl = *t;
        tl.n = NR;
        cnnk_avx512_store_tile(M, 2, c, ldc, &tl, lo);
        cnnk_avx512_store_tile(M, 2, c + NR, ldc, &th, hi);
    } else {
        cnnk_avx512_store_tile(M, 2, c, ldc, t, lo);
    }
}

#undef CNNK_SUP_STEP

#define CNNK_SUP_TILE_2(m, ...) sup_tile(m, 2, __VA_ARGS__)
#define CNNK_SUP_TILE_4(m, ...) sup_tile(m, 4, __VA_ARGS__)

void cnnk_gemm_sup_ukernel_6x64__avx512(int64_t kc, const float *a, int64_t lda, const float *b,
                                        int64_t ldb, float *c, int64_t ldc,
                                        const cnnk_gemm_tile *t) {
    if (t->n > NR) {
        switch (t->m) {
            CNNK_SUP_HEIGHTS_1_6(CNNK_SUP_TILE_4, kc, a, lda, b, ldb, c, ldc, t)
        default: break;
        }
    } else {
        switch (t->m) {
            CNNK_SUP_HEIGHTS_1_6(CNNK_SUP_TILE_2, kc, a, lda, b, ldb, c, ldc, t)
        default: break;
        }
    }
}

#undef CNNK_SUP_TILE_2
#undef CNNK_SUP_TILE_4

const cnnk_sup_ukernel cnnk_sup_ukernel_6x64__avx512 = {
    .mr = MR,
    .nr = NR,
    .panels = 2,
    .run = cnnk_gemm_sup_ukernel_6x64__avx512,
};
