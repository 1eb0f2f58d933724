/* The direct convolution's register tile, written once for the x86 ISAs:
 * W pixels of one output row x two vectors of output channels (OC_BLK =
 * 2 VL), every tap summed straight from the source with one broadcast per
 * pixel and two weight vectors per input channel, then the ISA's
 * store_pixel applies the epilogue. oneDNN jit:avx2's and jit:avx512's
 * scheme adapted to NHWC; docs/KERNELS_AVX2_DIRECT.md has the design and
 * its measurements.
 *
 * Weights come packed as [kw][icg][OC_BLK] per kh row. Along the row, each
 * pixel of a border tile has its own valid kw range, and the taps are
 * walked in segments over which the set of valid pixels is fixed; a pixel
 * whose taps fall in the padding for a segment reads a constant block of
 * zeros instead, so border tiles keep the full tile width (a one-pixel
 * border path would run at a third of the FMA rate). When the kw taps are
 * adjacent in memory (dilation 1 and a dense source, src_ld == ic/g: the
 * 3-channel first layers), a segment spans several kw taps, so an interior
 * 11x11x3 filter row is one 33-step loop rather than 11 loops of 3.
 *
 * A template without intrinsics, as direct_row.h is: an ISA's direct.c
 * defines, before including it,
 *   VL, OC_BLK (= 2 VL), W_BLK (<= CNNK_DIRECT_MAX_W, <= 16)
 *   CNNK_DT_VEC                 its vector type
 *   CNNK_DT_ZERO()              a zero vector
 *   CNNK_DT_LOADU(p)            an unaligned load
 *   CNNK_DT_BCAST(p)            *p in every lane
 *   CNNK_DT_FMA(a, b, c)        a*b + c
 *   store_pixel(s, p, a0, a1)   the epilogue store of pixel p (vec.h's)
 * and gets tile(W, t, s), always inlined: W is a constant at every call
 * (the ISA's width switch), so the pixel loops unroll and the 2W
 * accumulators stay in registers. */
#include "kernels/common/direct_row.h"

/* ZCHUNK bounds one inner loop so that a pixel in the padding can read
 * zeros from a constant block; 2 KiB stays in L1 next to the weights. */
enum { ZCHUNK = 512 };
_Static_assert((int)W_BLK <= (int)CNNK_DIRECT_MAX_W, "the taps hold CNNK_DIRECT_MAX_W pixels");
_Static_assert((int)W_BLK <= 16 && (int)OC_BLK == 2 * (int)VL, "the tile's shape");

static const float g_zeros[ZCHUNK] __attribute__((aligned(64)));

/* The FMA step shared by both tap walks: one input channel k of W pixels
 * (source pixel p at q[p] + k, or at sp + p * ps + k) against OC_BLK outputs. */
#define CNNK_TILE_STEP(W, acc, wq, k, SRC)                                     \
    do {                                                                       \
        const CNNK_DT_VEC w0_ = CNNK_DT_LOADU((wq) + (k) * OC_BLK);               \
        const CNNK_DT_VEC w1_ = CNNK_DT_LOADU((wq) + (k) * OC_BLK + VL);          \
        _Pragma("GCC unroll 16") for (int p = 0; p < (W); ++p) {                \
            const CNNK_DT_VEC b_ = CNNK_DT_BCAST(SRC);                        \
            (acc)[p][0] = CNNK_DT_FMA(b_, w0_, (acc)[p][0]);               \
            (acc)[p][1] = CNNK_DT_FMA(b_, w1_, (acc)[p][1]);               \
        }                                                                      \
    } while (0)

/* W pixels x OC_BLK channels; W is a constant at every call, so the pixel
 * loops unroll and the 2W accumulators stay in registers.
 * Interior tiles (the bulk) walk fixed pixel offsets with no per-segment
 * bookkeeping: for a 7x7x3 first layer one kh row is only 21 steps, so
 * any setup per row costs a visible fraction. Border tiles walk segments
 * and point pixels in the padding at zeros. */
CNNK_INLINE void tile(const int W, const cnnk_direct_taps *t, const cnnk_direct_store *s) {
    CNNK_DT_VEC acc[W_BLK][2];
#pragma GCC unroll 16
    for (int p = 0; p < W; ++p) acc[p][0] = acc[p][1] = CNNK_DT_ZERO();
    if (t->interior) {
        const int64_t ps = t->pix_step, col = t->dw * t->ld, wcol = t->icg * OC_BLK;
        const int64_t kx_n = t->dense ? 1 : t->kx_max, nk = t->dense ? t->kx_max * t->icg : t->icg;
        const float *s0 = t->src + t->ix0[0] * t->ld;
        /* Pixel offsets computed once: left to itself, GCC rebuilds p * ps
         * with lea inside the loop (45 -> 49 instructions per 24 FMAs on AVX2);
         * the empty asm hides the product. */
        int64_t off[W_BLK];
#pragma GCC unroll 16
        for (int p = 0; p < W; ++p) {
            off[p] = p * ps;
            __asm__("" : "+r"(off[p]));
        }
        for (int64_t ky = 0; ky < t->ky_n; ++ky) {
            for (int64_t kx = 0; kx < kx_n; ++kx) {
                const float *sp = s0 + ky * t->src_row + kx * col;
                const float *wp = t->w + ky * t->w_row + kx * wcol;
                /* Unrolled by 2: the loop's own 3 uops per step are an eighth of the 23 that feed 12 FMAs on AVX2 (measured 4-5% on 3x3). */
#pragma GCC unroll 2
                for (int64_t k = 0; k < nk; ++k) CNNK_TILE_STEP(W, acc, wp, k, sp + off[p] + k);
            }
        }
    } else {
        /* Segments outermost: their setup (which pixels read zeros) is paid
         * once per tile, not once per kh row. */
        for (int64_t kx = t->kx_min, kx_end; kx < t->kx_max; kx = kx_end) {
            kx_end = cnnk_direct_segment_end(W, t, kx);
            bool valid[W_BLK];
            const float *px[W_BLK];
#pragma GCC unroll 16
            for (int p = 0; p < W; ++p) {
                valid[p] = kx >= t->lo[p] && kx < t->hi[p];
                px[p] = valid[p] ? t->src + (t->ix0[p] + kx * t->dw) * t->ld : g_zeros;
            }
            const int64_t len = (kx_end - kx) * t->icg;
            for (int64_t c = 0; c < len; c += ZCHUNK) {
                const int64_t n = cnnk_min64(ZCHUNK, len - c);
                const float *q[W_BLK];
#pragma GCC unroll 16
                for (int p = 0; p < W; ++p) q[p] = valid[p] ? px[p] + c : g_zeros;
                const float *wq = t->w + (kx * t->icg + c) * OC_BLK;
                for (int64_t ky = 0; ky < t->ky_n; ++ky) {
                    for (int64_t k = 0; k < n; ++k) CNNK_TILE_STEP(W, acc, wq, k, q[p] + k);
                    if (ky + 1 == t->ky_n) break; /* no pointer past the last row */
                    wq += t->w_row;
#pragma GCC unroll 16
                    for (int p = 0; p < W; ++p) q[p] += valid[p] ? t->src_row : 0;
                }
            }
        }
    }
#pragma GCC unroll 16
    for (int p = 0; p < W; ++p) store_pixel(s, p, acc[p][0], acc[p][1]);
}
