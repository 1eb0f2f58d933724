/* The AVX2+FMA GEMM microkernel and A packing: the innermost tile of the
 * shared driver (kernels/common/gemm.c), which calls them through
 * cnnk_gemm_ukernel__avx2. See docs/GEMM.md for the blocking derivation
 * and measured figures. */
#include "kernels/avx2/gemm.h"

#include "kernels/avx2/gemm_store.h"
#include "kernels/avx2/vec.h"

enum { MR = CNNK_AVX2_MR, NR = CNNK_AVX2_NR };

/* ---- packing A: [MC/MR panels][KC][MR], zero-padded to MR ---------------- */

/* Transposes 8 columns of 6 rows (rows 6, 7 are zero) into 8 groups of MR. */
CNNK_INLINE void pack_a_6x8(const float *a, int64_t lda, float *dst, bool last_chunk) {
    __m256 r0 = _mm256_loadu_ps(a), r1 = _mm256_loadu_ps(a + lda);
    __m256 r2 = _mm256_loadu_ps(a + 2 * lda), r3 = _mm256_loadu_ps(a + 3 * lda);
    __m256 r4 = _mm256_loadu_ps(a + 4 * lda), r5 = _mm256_loadu_ps(a + 5 * lda);
    __m256 z = _mm256_setzero_ps();
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, z, 0x44), u5 = _mm256_shuffle_ps(t4, z, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, z, 0x44), u7 = _mm256_shuffle_ps(t5, z, 0xEE);
    /* Column k = (low 4 rows from u*, high rows from u4..u7); each store of
     * 8 overlaps the next column's first 2 floats, which it rewrites. */
    __m256 c[8];
    c[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    c[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    c[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    c[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    c[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    c[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    c[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    c[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
    for (int k = 0; k < 7; ++k) _mm256_storeu_ps(dst + k * MR, c[k]);
    if (last_chunk)
        _mm256_maskstore_ps(dst + 7 * MR, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0), c[7]);
    else
        _mm256_storeu_ps(dst + 7 * MR, c[7]);
}

static void pack_a_panel(int64_t mr, int64_t kc, const float *a, int64_t lda, float *dst) {
    int64_t k = 0;
    if (mr == MR) {
        for (; k + 8 <= kc; k += 8) pack_a_6x8(a + k, lda, dst + k * MR, k + 8 == kc);
    }
    for (; k < kc; ++k) {
        for (int64_t r = 0; r < mr; ++r) dst[k * MR + r] = a[r * lda + k];
        for (int64_t r = mr; r < MR; ++r) dst[k * MR + r] = 0.0f;
    }
}

void cnnk_gemm_pack_a__avx2(int64_t mc, int64_t kc, const float *a, int64_t lda, float *dst) {
    for (int64_t i = 0; i < mc; i += MR)
        pack_a_panel(mc - i < MR ? mc - i : MR, kc, a + i * lda, lda, dst + i * kc);
}

/* ---- the microkernel ---------------------------------------------------- */

/* One k step: two 8-wide B loads, MR broadcasts of A, 12 FMAs. A(r, u) is
 * the address of row r at k offset u. */
#define CNNK_AVX2_UK_STEP(u, A)                                            \
    do {                                                                   \
        const float *bq_ = b, *aq_ = a; /* after the last step's FMAs */    \
        _Pragma("GCC unroll 6") for (int r_ = 0; r_ < MR; ++r_) {          \
            bq_ = cnnk_avx2_after(bq_, acc[r_][0], acc[r_][1]);            \
            aq_ = cnnk_avx2_after(aq_, acc[r_][0], acc[r_][1]);            \
        }                                                                  \
        __m256 b0_ = _mm256_loadu_ps(bq_ + (u) * NR);                      \
        __m256 b1_ = _mm256_loadu_ps(bq_ + (u) * NR + 8);                  \
        _Pragma("GCC unroll 6") for (int r_ = 0; r_ < MR; ++r_) {          \
            __m256 a_ = _mm256_broadcast_ss(A(r_, u));                     \
            acc[r_][0] = _mm256_fmadd_ps(a_, b0_, acc[r_][0]);             \
            acc[r_][1] = _mm256_fmadd_ps(a_, b1_, acc[r_][1]);             \
        }                                                                  \
    } while (0)

/* The 6x16 microkernel on a packed A panel (a[k*MR + r]) and a packed B
 * micro-panel (b[k*NR + c]); k unrolled by 8. The C tile is prefetched
 * first (gemm_store.h). */
void cnnk_gemm_ukernel_6x16__avx2(int64_t kc, const float *a, const float *b, float *c,
                                  int64_t ldc, const cnnk_gemm_tile *t) {
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    cnnk_avx2_prefetch_tile(c, ldc, t);
#define CNNK_AVX2_A_PACKED(r, u) (aq_ + (u) * MR + (r))
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8, a += 8 * MR, b += 8 * NR) {
        CNNK_AVX2_UK_STEP(0, CNNK_AVX2_A_PACKED); CNNK_AVX2_UK_STEP(1, CNNK_AVX2_A_PACKED); CNNK_AVX2_UK_STEP(2, CNNK_AVX2_A_PACKED); CNNK_AVX2_UK_STEP(3, CNNK_AVX2_A_PACKED);
        CNNK_AVX2_UK_STEP(4, CNNK_AVX2_A_PACKED); CNNK_AVX2_UK_STEP(5, CNNK_AVX2_A_PACKED); CNNK_AVX2_UK_STEP(6, CNNK_AVX2_A_PACKED); CNNK_AVX2_UK_STEP(7, CNNK_AVX2_A_PACKED);
    }
    for (; k < kc; ++k, a += MR, b += NR) CNNK_AVX2_UK_STEP(0, CNNK_AVX2_A_PACKED);
#undef CNNK_AVX2_A_PACKED
    cnnk_avx2_store_tile(MR, c, ldc, t, acc);
}

#undef CNNK_AVX2_UK_STEP
