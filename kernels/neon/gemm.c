/* The NEON GEMM microkernel and A packing: the innermost tile of the shared
 * driver (kernels/common/gemm.c), which calls them through
 * cnnk_isa_kernels__neon. The microkernel is the lane-indexed form of
 * OpenBLAS/XNNPACK's AArch64 kernels: per k step, 8 A values arrive in two
 * q registers and each feeds 3 FMAs by lane (fmla v.4s, v.4s, v.s[l]), so
 * 24 FMAs cost 5 loads and no broadcasts. */
#include "kernels/neon/gemm.h"

#include "kernels/neon/vec.h"

enum { MR = CNNK_NEON_MR, NR = CNNK_NEON_NR };

/* ---- packing A: [MC/MR panels][KC][MR], zero-padded to MR ---------------- */

/* Columns 0..3 of 4 rows as 4 vectors of those rows (a 4x4 transpose). */
CNNK_INLINE void transpose4(float32x4_t r0, float32x4_t r1, float32x4_t r2, float32x4_t r3,
                            float32x4_t c[4]) {
    const float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
    const float32x4_t t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
    c[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    c[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    c[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    c[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

/* 4 columns of a full 8-row panel: two 4x4 transposes. */
CNNK_INLINE void pack_a_8x4(const float *a, int64_t lda, float *dst) {
    float32x4_t lo[4], hi[4];
    transpose4(vld1q_f32(a), vld1q_f32(a + lda), vld1q_f32(a + 2 * lda), vld1q_f32(a + 3 * lda), lo);
    transpose4(vld1q_f32(a + 4 * lda), vld1q_f32(a + 5 * lda), vld1q_f32(a + 6 * lda),
               vld1q_f32(a + 7 * lda), hi);
    for (int k = 0; k < 4; ++k) {
        vst1q_f32(dst + k * MR, lo[k]);
        vst1q_f32(dst + k * MR + 4, hi[k]);
    }
}

static void pack_a_panel(int64_t mr, int64_t kc, const float *a, int64_t lda, float *dst) {
    int64_t k = 0;
    if (mr == MR) {
        for (; k + 4 <= kc; k += 4) pack_a_8x4(a + k, lda, dst + k * MR);
    }
    for (; k < kc; ++k) {
        for (int64_t r = 0; r < mr; ++r) dst[k * MR + r] = a[r * lda + k];
        for (int64_t r = mr; r < MR; ++r) dst[k * MR + r] = 0.0f;
    }
}

void cnnk_gemm_pack_a__neon(int64_t mc, int64_t kc, const float *a, int64_t lda, float *dst) {
    for (int64_t i = 0; i < mc; i += MR)
        pack_a_panel(mc - i < MR ? mc - i : MR, kc, a + i * lda, lda, dst + i * kc);
}

/* ---- the microkernel ---------------------------------------------------- */

/* Writes the valid t->m x t->n part of the 8x12 accumulator tile. */
CNNK_INLINE void store_tile(float *c, int64_t ldc, const cnnk_gemm_tile *t,
                            float32x4_t acc[MR][3]) {
    const bool full = t->n == NR;
    for (int r = 0; r < MR; ++r) {
        if (r >= t->m) break;
        float *cr = c + r * ldc;
        const float *res = t->res ? t->res + r * t->res_ld : NULL;
        for (int j = 0; j < 3; ++j) {
            const int64_t n = t->n - 4 * j;
            if (n <= 0) break;
            float32x4_t v = acc[r][j];
            if (t->load_c) v = vaddq_f32(v, cnnk_neon_load(cr + 4 * j, full, n));
            cnnk_neon_store_epilogue(cr + 4 * j, v, t->bias ? t->bias + 4 * j : NULL,
                                     res ? res + 4 * j : NULL, t->relu, t->relu_alpha, full,
                                     n);
        }
    }
}

/* The 24 accumulators are named variables, not an array: with
 * float32x4_t acc[8][3] GCC 12 kept the array in memory and stored all 24
 * to the stack on every iteration of the k loop (aarch64-linux-gnu-objdump
 * -d). X(r, l, av) lists the rows: row r reads lane l of A vector av. */
#define CNNK_NEON_ROWS(X) \
    X(0, 0, a0_) X(1, 1, a0_) X(2, 2, a0_) X(3, 3, a0_) X(4, 0, a1_) X(5, 1, a1_) X(6, 2, a1_) X(7, 3, a1_)
#define CNNK_NEON_DECL(r, l, av) float32x4_t c##r##0 = z, c##r##1 = z, c##r##2 = z;
#define CNNK_NEON_FMA(r, l, av)                                                  \
    c##r##0 = vfmaq_laneq_f32(c##r##0, b0_, av, l);                              \
    c##r##1 = vfmaq_laneq_f32(c##r##1, b1_, av, l);                              \
    c##r##2 = vfmaq_laneq_f32(c##r##2, b2_, av, l);
#define CNNK_NEON_OUT(r, l, av) acc[r][0] = c##r##0, acc[r][1] = c##r##1, acc[r][2] = c##r##2;

/* One k step at offset u: 2 A loads, 3 B loads, 24 FMAs by lane. */
#define CNNK_NEON_UK_STEP(u)                                                     \
    do {                                                                         \
        const float32x4_t a0_ = vld1q_f32(a + (u) * MR);                         \
        const float32x4_t a1_ = vld1q_f32(a + (u) * MR + 4);                     \
        const float32x4_t b0_ = vld1q_f32(b + (u) * NR);                         \
        const float32x4_t b1_ = vld1q_f32(b + (u) * NR + 4);                     \
        const float32x4_t b2_ = vld1q_f32(b + (u) * NR + 8);                     \
        CNNK_NEON_ROWS(CNNK_NEON_FMA)                                            \
    } while (0)

/* The 8x12 microkernel on a packed A panel (a[k*MR + r]) and a packed B
 * micro-panel (b[k*NR + c]); k unrolled by 4. The C tile (and the
 * residual, read once at the store) is prefetched first so its misses
 * overlap the k loop. GCC's scheduling before register allocation hoists
 * the next step's loads above this step's FMAs, which needs more than the
 * 3 free registers and spilled 4 accumulators to the stack on every
 * iteration (objdump); without it the loop is 96 fmla + 20 loads and no
 * stack access (docs/KERNELS_NEON.md). */
__attribute__((optimize("no-schedule-insns")))
void cnnk_gemm_ukernel_8x12__neon(int64_t kc, const float *a, const float *b, float *c,
                                  int64_t ldc, const cnnk_gemm_tile *t) {
    for (int r = 0; r < t->m; ++r) {
        __builtin_prefetch(c + r * ldc, 1);
        __builtin_prefetch(c + r * ldc + NR - 1, 1);
        if (t->res) {
            __builtin_prefetch(t->res + r * t->res_ld);
            __builtin_prefetch(t->res + r * t->res_ld + NR - 1);
        }
    }
    const float32x4_t z = vdupq_n_f32(0.0f);
    CNNK_NEON_ROWS(CNNK_NEON_DECL)
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4, a += 4 * MR, b += 4 * NR) {
        CNNK_NEON_UK_STEP(0);
        CNNK_NEON_UK_STEP(1);
        CNNK_NEON_UK_STEP(2);
        CNNK_NEON_UK_STEP(3);
    }
    for (; k < kc; ++k, a += MR, b += NR) CNNK_NEON_UK_STEP(0);
    float32x4_t acc[MR][3];
    CNNK_NEON_ROWS(CNNK_NEON_OUT)
    store_tile(c, ldc, t, acc);
}

#undef CNNK_NEON_UK_STEP
#undef CNNK_NEON_ROWS
#undef CNNK_NEON_DECL
#undef CNNK_NEON_FMA
#undef CNNK_NEON_OUT
