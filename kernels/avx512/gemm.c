/* The AVX-512 GEMM microkernels and A packing: the innermost tile of the
 * shared driver (kernels/common/gemm.c). Both shapes come from one
 * template over (MR, NV = NR / 16) with constant arguments, so each
 * unrolls into straight-line code with its accumulators in registers:
 * 14x32 (28 accumulators, 2 B loads and 14 broadcasts per 28 FMAs) and
 * 28x16 (28 accumulators, 1 B load and 28 broadcasts per 28 FMAs). The
 * broadcasts fold into the FMAs as {1to16} memory operands. */
#include "kernels/avx512/gemm.h"

#include "kernels/avx512/gemm_store.h"
#include "kernels/avx512/vec.h"

enum { VL = CNNK_AVX512_VL, MAX_MR = CNNK_AVX512_TILE_MAX_MR, MAX_NV = CNNK_AVX512_TILE_MAX_NV };

/* ---- packing A: [MC/MR panels][KC][MR], zero-padded to MR ---------------- */

/* In-register transpose of 16 rows x 16 floats: r[i] holds row i on entry,
 * column i on exit (unpack, shuffle_ps, then two shuffle_f32x4 stages). */
CNNK_INLINE void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* u[4g + j], 128-bit lane L: column 4L + j of rows 4g .. 4g + 3 */
    for (int g = 0; g < 16; g += 4) {
        u[g] = _mm512_shuffle_ps(t[g], t[g + 2], 0x44);
        u[g + 1] = _mm512_shuffle_ps(t[g], t[g + 2], 0xEE);
        u[g + 2] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0x44);
        u[g + 3] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    /* t[j] (j < 4): columns j, 8 + j of rows 0..7; t[4 + j]: 4 + j, 12 + j;
     * t[8..15] likewise for rows 8..15 */
    for (int h = 0; h < 16; h += 8) {
        for (int j = 0; j < 4; ++j) {
            t[h + j] = _mm512_shuffle_f32x4(u[h + j], u[h + 4 + j], 0x88);
            t[h + 4 + j] = _mm512_shuffle_f32x4(u[h + j], u[h + 4 + j], 0xDD);
        }
    }
    for (int j = 0; j < 4; ++j) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD);
        r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD);
    }
}

/* One panel of MR rows (mr of them real) through 16-row x 16-column
 * transposes; rows past mr and columns past kc are masked, never read. */
CNNK_INLINE void pack_a_panel(const int MR, int64_t mr, int64_t kc, const float *a, int64_t lda,
                              float *dst) {
    for (int r0 = 0; r0 < MR; r0 += 16) {
        const int rows = MR - r0 < 16 ? MR - r0 : 16;
        const __mmask16 store_m = cnnk_avx512_mask(rows);
        for (int64_t k = 0; k < kc; k += 16) {
            const int64_t cols = cnnk_min64(kc - k, 16);
            const __mmask16 load_m = cnnk_avx512_mask(cols);
            __m512 v[16];
            for (int i = 0; i < 16; ++i)
                v[i] = r0 + i < mr ? cnnk_avx512_maskz_load(a + (r0 + i) * lda + k, load_m)
                                   : _mm512_setzero_ps();
            transpose16(v);
            for (int c = 0; c < cols; ++c)
                cnnk_avx512_mask_store(dst + (k + c) * MR + r0, v[c], store_m);
        }
    }
}

CNNK_INLINE void pack_a(const int MR, int64_t mc, int64_t kc, const float *a, int64_t lda,
                        float *dst) {
    for (int64_t i = 0; i < mc; i += MR)
        pack_a_panel(MR, cnnk_min64(mc - i, MR), kc, a + i * lda, lda, dst + i * kc);
}

void cnnk_gemm_pack_a_14__avx512(int64_t mc, int64_t kc, const float *a, int64_t lda,
                                 float *dst) {
    pack_a(14, mc, kc, a, lda, dst);
}

void cnnk_gemm_pack_a_28__avx512(int64_t mc, int64_t kc, const float *a, int64_t lda,
                                 float *dst) {
    pack_a(28, mc, kc, a, lda, dst);
}

/* ---- the microkernel ---------------------------------------------------- */

/* acc += A(:, k) B(k, :) for one k: NV B loads, MR broadcasts. With two B
 * vectors (14 x 32: 28 accumulators + 2 + a broadcast in 32 registers)
 * the loads wait for the previous step's FMAs (cnnk_avx512_after), or GCC
 * hoists them and spills; the 28 x 16 kernel did not spill and measured
 * no better with it (docs/GEMM_SUP.md, "AVX-512 on Zen 5"). */
#define CNNK_AVX512_UK_STEP(MR, NV, u)                                                 \
    do {                                                                               \
        const float *bq_ = b, *aq_ = a; /* after the last step's FMAs */                \
        if ((NV) > 1) {                                                                \
            _Pragma("GCC unroll 28") for (int r_ = 0; r_ < (MR); ++r_) {               \
                bq_ = cnnk_avx512_after(bq_, acc[r_][0], acc[r_][(NV) - 1]);           \
                aq_ = cnnk_avx512_after(aq_, acc[r_][0], acc[r_][(NV) - 1]);           \
            }                                                                          \
        }                                                                              \
        __m512 b_[MAX_NV];                                                             \
        _Pragma("GCC unroll 2") for (int v_ = 0; v_ < (NV); ++v_)                      \
            b_[v_] = _mm512_loadu_ps(bq_ + (u) * (NV) * VL + v_ * VL);                 \
        _Pragma("GCC unroll 28") for (int r_ = 0; r_ < (MR); ++r_) {                   \
            const __m512 a_ = _mm512_set1_ps(aq_[(u) * (MR) + r_]);                    \
            _Pragma("GCC unroll 2") for (int v_ = 0; v_ < (NV); ++v_)                  \
                acc[r_][v_] = _mm512_fmadd_ps(a_, b_[v_], acc[r_][v_]);                \
        }                                                                              \
    } while (0)

/* The MR x 16NV microkernel on a packed A panel (a[k*MR + r]) and a packed
 * B micro-panel (b[k*NR + c]); k unrolled by 4. The C tile is prefetched
 * first (gemm_store.h), as on AVX2. */
CNNK_INLINE void ukernel(const int MR, const int NV, int64_t kc, const float *a, const float *b,
                         float *c, int64_t ldc, const cnnk_gemm_tile *t) {
    cnnk_avx512_acc acc;
#pragma GCC unroll 28
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
    }
    cnnk_avx512_prefetch_tile(NV, c, ldc, t);
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4, a += 4 * MR, b += 4 * NV * VL) {
        CNNK_AVX512_UK_STEP(MR, NV, 0);
        CNNK_AVX512_UK_STEP(MR, NV, 1);
        CNNK_AVX512_UK_STEP(MR, NV, 2);
        CNNK_AVX512_UK_STEP(MR, NV, 3);
    }
    for (; k < kc; ++k, a += MR, b += NV * VL) CNNK_AVX512_UK_STEP(MR, NV, 0);
    cnnk_avx512_store_tile(MR, NV, c, ldc, t, acc);
}

#undef CNNK_AVX512_UK_STEP

void cnnk_gemm_ukernel_14x32__avx512(int64_t kc, const float *a, const float *b, float *c,
                                     int64_t ldc, const cnnk_gemm_tile *t) {
    ukernel(14, 2, kc, a, b, c, ldc, t);
}

void cnnk_gemm_ukernel_28x16__avx512(int64_t kc, const float *a, const float *b, float *c,
                                     int64_t ldc, const cnnk_gemm_tile *t) {
    ukernel(28, 1, kc, a, b, c, ldc, t);
}
