/* The NEON register tile of the direct convolution: up to 8 output pixels
 * along a row x 12 output channels (24 q accumulators, 3 weight vectors:
 * 27 of the 32 v registers) sum every tap straight from the source, then
 * the epilogue is applied in the store. The scheme is the AVX2 tile's
 * (kernels/avx2/direct.c, docs/KERNELS_AVX2_DIRECT.md): packing, padding
 * cut, the row's taps and threads are kernels/common/direct.c's, the
 * split of a row into tiles kernels/common/direct_row.h's, instantiated
 * here with this tile inlined.
 *
 * Weights come packed as [kw][icg][12] per kh row; per input channel the
 * inner loop loads 3 weight vectors and one source scalar per pixel, and
 * multiplies by lane 0 of it (ldr s + fmla v.4s, v.4s, v.s[0]): a plain
 * load, where a broadcast load (ld1r) would also take a vector pipe on
 * Neoverse N1. 11 loads per 24 FMAs fit N1's two load pipes beside its two
 * FMA pipes. Border tiles keep the full width by pointing pixels in the
 * padding at a block of zeros, as on AVX2. */
#include <arm_neon.h>

#include "kernels/common/direct_row.h"
#include "kernels/neon/vec.h"

/* ZCHUNK bounds one inner loop so that a pixel in the padding can read
 * zeros from a constant block; 2 KiB stays in L1 next to the weights. */
enum { OC_BLK = 12, W_BLK = 8, ZCHUNK = 512 };
_Static_assert((int)W_BLK <= (int)CNNK_DIRECT_MAX_W, "the taps hold CNNK_DIRECT_MAX_W pixels");

static const float g_zeros[ZCHUNK] __attribute__((aligned(64)));

/* ---- the microkernel ----------------------------------------------------- */

/* bias, residual, relu, then the store of one pixel's 12 (or nvalid)
 * channels; tail loads and stores never touch lanes past nvalid. */
CNNK_INLINE void store_pixel(const cnnk_direct_store *s, int64_t p, const float32x4_t a[3]) {
    float *y = s->dst + p * s->dst_ld;
    const float *r = s->res ? s->res + p * s->res_ld : NULL;
    const bool full = s->nvalid == OC_BLK;
    for (int j = 0; j < 3; ++j) {
        const int64_t n = s->nvalid - 4 * j;
        if (n <= 0) break;
        cnnk_neon_store_epilogue(y + 4 * j, a[j], s->bias ? s->bias + 4 * j : NULL,
                                 r ? r + 4 * j : NULL, s->relu, s->relu_alpha, full, n);
    }
}

/* The FMA step shared by both tap walks: one input channel k of W pixels
 * (source pixel p at SRC) against 12 outputs. */
#define CNNK_NEON_TILE_STEP(W, acc, wq, k, SRC)                                \
    do {                                                                       \
        const float32x4_t w0_ = vld1q_f32((wq) + (k) * OC_BLK);                \
        const float32x4_t w1_ = vld1q_f32((wq) + (k) * OC_BLK + 4);            \
        const float32x4_t w2_ = vld1q_f32((wq) + (k) * OC_BLK + 8);            \
        _Pragma("GCC unroll 8") for (int p = 0; p < (W); ++p) {                \
            const float s_ = *(SRC);                                           \
            (acc)[p][0] = vfmaq_n_f32((acc)[p][0], w0_, s_);                   \
            (acc)[p][1] = vfmaq_n_f32((acc)[p][1], w1_, s_);                   \
            (acc)[p][2] = vfmaq_n_f32((acc)[p][2], w2_, s_);                   \
        }                                                                      \
    } while (0)

/* W pixels x 12 channels; W is a constant at every call, so the pixel
 * loops unroll and the 3W accumulators stay in registers. Interior tiles
 * walk fixed pixel offsets; border tiles walk segments and point pixels
 * in the padding at zeros (kernels/avx2/direct.c says why). */
CNNK_INLINE void tile(const int W, const cnnk_direct_taps *t, const cnnk_direct_store *s) {
    float32x4_t acc[W_BLK][3];
#pragma GCC unroll 8
    for (int p = 0; p < W; ++p) acc[p][0] = acc[p][1] = acc[p][2] = vdupq_n_f32(0.0f);
    if (t->interior) {
        const int64_t ps = t->pix_step, col = t->dw * t->ld, wcol = t->icg * OC_BLK;
        const int64_t kx_n = t->dense ? 1 : t->kx_max, nk = t->dense ? t->kx_max * t->icg : t->icg;
        const float *s0 = t->src + t->ix0[0] * t->ld;
        /* Pixel offsets held in registers (the empty asm hides the
         * product, as on AVX2, so it is not rebuilt inside the loop). */
        int64_t off[W_BLK];
#pragma GCC unroll 8
        for (int p = 0; p < W; ++p) {
            off[p] = p * ps;
            __asm__("" : "+r"(off[p]));
        }
        for (int64_t ky = 0; ky < t->ky_n; ++ky) {
            for (int64_t kx = 0; kx < kx_n; ++kx) {
                const float *sp = s0 + ky * t->src_row + kx * col;
                const float *wp = t->w + ky * t->w_row + kx * wcol;
#pragma GCC unroll 2
                for (int64_t k = 0; k < nk; ++k)
                    CNNK_NEON_TILE_STEP(W, acc, wp, k, sp + off[p] + k);
            }
        }
    } else {
        for (int64_t kx = t->kx_min, kx_end; kx < t->kx_max; kx = kx_end) {
            kx_end = cnnk_direct_segment_end(W, t, kx);
            bool valid[W_BLK];
            const float *px[W_BLK];
#pragma GCC unroll 8
            for (int p = 0; p < W; ++p) {
                valid[p] = kx >= t->lo[p] && kx < t->hi[p];
                px[p] = valid[p] ? t->src + (t->ix0[p] + kx * t->dw) * t->ld : g_zeros;
            }
            const int64_t len = (kx_end - kx) * t->icg;
            for (int64_t c = 0; c < len; c += ZCHUNK) {
                const int64_t n = cnnk_min64(ZCHUNK, len - c);
                const float *q[W_BLK];
#pragma GCC unroll 8
                for (int p = 0; p < W; ++p) q[p] = valid[p] ? px[p] + c : g_zeros;
                const float *wq = t->w + (kx * t->icg + c) * OC_BLK;
                for (int64_t ky = 0; ky < t->ky_n; ++ky) {
                    for (int64_t k = 0; k < n; ++k) CNNK_NEON_TILE_STEP(W, acc, wq, k, q[p] + k);
                    if (ky + 1 == t->ky_n) break; /* no pointer past the last row */
                    wq += t->w_row;
#pragma GCC unroll 8
                    for (int p = 0; p < W; ++p) q[p] += valid[p] ? t->src_row : 0;
                }
            }
        }
    }
#pragma GCC unroll 8
    for (int p = 0; p < W; ++p) store_pixel(s, p, acc[p]);
}

/* w in [1, W_BLK] as a constant, so each width gets its own unrolled copy. */
CNNK_INLINE void tile_any(int w, const cnnk_direct_taps *t, const cnnk_direct_store *s) {
    switch (w) {
    case 1: tile(1, t, s); break;
    case 2: tile(2, t, s); break;
    case 3: tile(3, t, s); break;
    case 4: tile(4, t, s); break;
    case 5: tile(5, t, s); break;
    case 6: tile(6, t, s); break;
    case 7: tile(7, t, s); break;
    default: tile(8, t, s); break;
    }
}
_Static_assert(W_BLK == 8, "tile_any has a case per width");

/* No scheduling before register allocation: as in the GEMM microkernel
 * (gemm.c), GCC hoisted the next channel's loads above the FMAs and spilled
 * 3 of the 24 accumulators in the 8-pixel interior loop (objdump). */
__attribute__((optimize("no-schedule-insns"))) CNNK_DIRECT_ROW_FN(row, W_BLK, tile_any)

#undef CNNK_NEON_TILE_STEP

const cnnk_direct_ukernel cnnk_direct_ukernel_8x12__neon = {
    .w_blk = W_BLK,
    .oc_blk = OC_BLK,
    .row = row,
};
