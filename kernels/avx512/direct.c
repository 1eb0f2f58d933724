/* The AVX-512 register tile of the direct convolution (oneDNN
 * jit:avx512_core's scheme adapted to NHWC, as kernels/avx2/direct.c): up
 * to 14 output pixels along a row x 32 output channels (28 zmm
 * accumulators, two weight vectors, the source broadcasts folded into the
 * FMAs) sum every tap straight from the source, then the epilogue is
 * applied in the store. The packing, the padding cut, the row's taps and
 * the threads are kernels/common/direct.c's, the split of a row into tiles
 * kernels/common/direct_row.h's, instantiated here with this tile inlined.
 *
 * Weights come packed as [kw][icg][32] per kh row, so the inner loop reads
 * two vectors of 16 output channels per input channel and broadcasts one
 * source value per pixel of the tile. The border walk (segments of taps
 * over which the set of valid pixels is fixed, pixels in the padding
 * reading a constant block of zeros) and the dense walk of 3-channel first
 * layers are AVX2's; see docs/KERNELS_AVX2_DIRECT.md. Output-channel tails
 * (nvalid < 32) are masked stores. */
#include <immintrin.h>

#include "kernels/avx512/vec.h"
#include "kernels/common/direct_row.h"

/* ZCHUNK bounds one inner loop so that a pixel in the padding can read
 * zeros from a constant block; 2 KiB stays in L1 next to the weights. */
enum { VL = CNNK_AVX512_VL, OC_BLK = 32, W_BLK = 14, ZCHUNK = 512 };
_Static_assert((int)W_BLK <= (int)CNNK_DIRECT_MAX_W, "the taps hold CNNK_DIRECT_MAX_W pixels");

static const float g_zeros[ZCHUNK] __attribute__((aligned(64)));

/* ---- the microkernel ----------------------------------------------------- */

/* bias, residual, relu, then the store of one pixel's 32 (or nvalid)
 * channels; masked loads and stores never touch lanes past nvalid. */
CNNK_INLINE void store_pixel(const cnnk_direct_store *s, int64_t p, __m512 a0, __m512 a1) {
    float *y = s->dst + p * s->dst_ld;
    const float *r = s->res ? s->res + p * s->res_ld : NULL;
    const bool full = s->nvalid == OC_BLK;
    const __mmask16 m0 = cnnk_avx512_mask(s->nvalid), m1 = cnnk_avx512_mask(s->nvalid - VL);
    cnnk_avx512_store_epilogue(y, a0, s->bias, r, s->relu, full, m0);
    if (full || m1)
        cnnk_avx512_store_epilogue(y + VL, a1, s->bias ? s->bias + VL : NULL, r ? r + VL : NULL,
                                   s->relu, full, m1);
}

/* The FMA step shared by both tap walks: one input channel k of W pixels
 * (source pixel p at q[p] + k, or at sp + p * ps + k) against 32 outputs. */
#define CNNK_TILE_STEP(W, acc, wq, k, SRC)                                     \
    do {                                                                       \
        const __m512 w0_ = _mm512_loadu_ps((wq) + (k) * OC_BLK);               \
        const __m512 w1_ = _mm512_loadu_ps((wq) + (k) * OC_BLK + VL);          \
        _Pragma("GCC unroll 14") for (int p = 0; p < (W); ++p) {                \
            const __m512 b_ = _mm512_set1_ps(*(SRC));                        \
            (acc)[p][0] = _mm512_fmadd_ps(b_, w0_, (acc)[p][0]);               \
            (acc)[p][1] = _mm512_fmadd_ps(b_, w1_, (acc)[p][1]);               \
        }                                                                      \
    } while (0)

/* W pixels x 32 channels; W is a constant at every call, so the pixel
 * loops unroll and the 2W accumulators stay in registers.
 * Interior tiles (the bulk) walk fixed pixel offsets with no per-segment
 * bookkeeping: for a 7x7x3 first layer one kh row is only 21 steps, so
 * any setup per row costs a visible fraction. Border tiles walk segments
 * and point pixels in the padding at zeros. */
CNNK_INLINE void tile(const int W, const cnnk_direct_taps *t, const cnnk_direct_store *s) {
    __m512 acc[W_BLK][2];
#pragma GCC unroll 14
    for (int p = 0; p < W; ++p) acc[p][0] = acc[p][1] = _mm512_setzero_ps();
    if (t->interior) {
        const int64_t ps = t->pix_step, col = t->dw * t->ld, wcol = t->icg * OC_BLK;
        const int64_t kx_n = t->dense ? 1 : t->kx_max, nk = t->dense ? t->kx_max * t->icg : t->icg;
        const float *s0 = t->src + t->ix0[0] * t->ld;
        /* Pixel offsets computed once: left to itself, GCC rebuilds p * ps
         * with lea inside the loop (measured on AVX2, kernels/avx2/direct.c);
         * the empty asm hides the product. */
        int64_t off[W_BLK];
#pragma GCC unroll 14
        for (int p = 0; p < W; ++p) {
            off[p] = p * ps;
            __asm__("" : "+r"(off[p]));
        }
        for (int64_t ky = 0; ky < t->ky_n; ++ky) {
            for (int64_t kx = 0; kx < kx_n; ++kx) {
                const float *sp = s0 + ky * t->src_row + kx * col;
                const float *wp = t->w + ky * t->w_row + kx * wcol;
                /* Unrolled by 2, as on AVX2 (the loop's own uops per step). */
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
#pragma GCC unroll 14
            for (int p = 0; p < W; ++p) {
                valid[p] = kx >= t->lo[p] && kx < t->hi[p];
                px[p] = valid[p] ? t->src + (t->ix0[p] + kx * t->dw) * t->ld : g_zeros;
            }
            const int64_t len = (kx_end - kx) * t->icg;
            for (int64_t c = 0; c < len; c += ZCHUNK) {
                const int64_t n = cnnk_min64(ZCHUNK, len - c);
                const float *q[W_BLK];
#pragma GCC unroll 14
                for (int p = 0; p < W; ++p) q[p] = valid[p] ? px[p] + c : g_zeros;
                const float *wq = t->w + (kx * t->icg + c) * OC_BLK;
                for (int64_t ky = 0; ky < t->ky_n; ++ky) {
                    for (int64_t k = 0; k < n; ++k) CNNK_TILE_STEP(W, acc, wq, k, q[p] + k);
                    if (ky + 1 == t->ky_n) break; /* no pointer past the last row */
                    wq += t->w_row;
#pragma GCC unroll 14
                    for (int p = 0; p < W; ++p) q[p] += valid[p] ? t->src_row : 0;
                }
            }
        }
    }
#pragma GCC unroll 14
    for (int p = 0; p < W; ++p) store_pixel(s, p, acc[p][0], acc[p][1]);
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
    case 8: tile(8, t, s); break;
    case 9: tile(9, t, s); break;
    case 10: tile(10, t, s); break;
    case 11: tile(11, t, s); break;
    case 12: tile(12, t, s); break;
    case 13: tile(13, t, s); break;
    default: tile(14, t, s); break;
    }
}
_Static_assert(W_BLK == 14, "tile_any has a case per width");

CNNK_DIRECT_ROW_FN(row, W_BLK, tile_any)

const cnnk_direct_ukernel cnnk_direct_ukernel_14x32__avx512 = {
    .w_blk = W_BLK,
    .oc_blk = OC_BLK,
    .row = row,
};
