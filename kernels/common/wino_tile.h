/* The Winograd tile transforms, written once for every ISA: the input
 * transform V = B^T d B and the output transform Y = A^T M A of whole
 * tiles, with the fused epilogue, over channel vectors (NHWC puts VL
 * channels of one pixel in one vector, so no shuffles). The shared
 * pipeline (kernels/common/winograd.c) calls them once per block of tiles
 * through cnnk_isa_kernels.wino.
 *
 * Two paths per transform. The interior fast path takes a tile whose
 * window lies wholly inside the image (input) or whose m x m pixels all
 * lie inside the output (output), on its full channel vectors: the row
 * pointers are computed once per tile, every load is a plain load, and
 * the epilogue (bias, residual, ReLU) is chosen once per call, so every
 * loop has a constant trip count and unrolls into straight-line code. The
 * general path takes border tiles and the channel tail: masked loads, a
 * row and column range test per vector, the epilogue flags per pixel.
 * Both run the same 1-D transforms in the same order, so a tile's result
 * does not depend on the path, bit for bit.
 *
 * A template without intrinsics, as direct_row.h is: an ISA's winograd.c
 * defines wino_1d.h's arithmetic macros and
 *   CNNK_WINO_VEC, CNNK_WINO_MASK   its vector and tail-mask types
 *   CNNK_WINO_VL                    floats per vector
 *   CNNK_WINO_ZERO()                a zero vector
 *   CNNK_WINO_MASK_OF(n)            the mask of lanes [0, n)
 *   CNNK_WINO_LOAD(p, full, mask)   a load, masked lanes zero and unread
 *   CNNK_WINO_LOADU(p)              a whole-vector load
 *   CNNK_WINO_STOREU(p, v)          a whole-vector store
 *   CNNK_WINO_RELU(v)               the reference's ReLU, exact on any
 *                                   add or FMA result (interior path)
 *   CNNK_WINO_SET1(x)               x in every lane
 *   CNNK_WINO_LEAKY(v, alpha)       the reference's leaky ReLU, alpha a
 *                                   vector of the slope (interior path)
 *   CNNK_WINO_STORE_EPILOGUE(y, v, bias, res, relu, alpha, full, mask)
 *                                   its vec.h's fused epilogue store
 *   CNNK_WINO_ATTR                  attributes of the exported functions
 *                                   (optional; empty if undefined)
 * then includes this file and expands CNNK_WINO_TRANSFORMS(M, isa) for
 * M = 2, 4, 6, which defines cnnk_wino_{input,output}_fM__isa, then
 * includes wino_tile_end.h, which #undefs the vocabulary. m is a constant
 * in each, so the 1-D transforms unroll completely. */
#include "kernels/common/isa.h"
#include "kernels/common/wino_1d.h"

#ifndef CNNK_WINO_ATTR
#define CNNK_WINO_ATTR
#endif

enum { CNNK_WINO_MAX_ALPHA = 8 };

/* ---- the general path: border tiles and channel tails ----------------- */

/* V of one tile (global index tile), channels [c_start, ic), into
 * v[pos * vstride + c]. The alpha x alpha window starts at
 * (ty m - pt, tx m - pl); pixels outside the image are zero, which is all
 * the padding handling. Channel tails load masked (zero lanes) and store
 * whole vectors into V's pitch (ic rounded up to the vector), so V's
 * padding columns are zero and never read by the GEMM (K = ic). */
CNNK_INLINE void input_tile(const cnnk_wino_tiles *x, int m, int64_t tile, float *v,
                            int64_t vstride, int64_t c_start) {
    const cnnk_conv_desc *d = x->d;
    const int alpha = m + 2;
    const int64_t n = tile / x->nt, r = tile % x->nt;
    const int64_t y0 = r / x->tw * m - d->pt, x0 = r % x->tw * m - d->pl;
    const int64_t ld = x->a->src_ld;
    const float *img = x->a->src + n * d->ih * d->iw * ld;
    int rows_lo = 0, rows_hi = alpha, cols_lo = 0, cols_hi = alpha;
    if (y0 < 0) rows_lo = (int)-y0;
    if (y0 + alpha > d->ih) rows_hi = (int)(d->ih - y0);
    if (x0 < 0) cols_lo = (int)-x0;
    if (x0 + alpha > d->iw) cols_hi = (int)(d->iw - x0);
    const CNNK_WINO_VEC zero = CNNK_WINO_ZERO();
    for (int64_t c0 = c_start; c0 < d->ic; c0 += CNNK_WINO_VL) {
        const bool full = c0 + CNNK_WINO_VL <= d->ic;
        const CNNK_WINO_MASK mask = CNNK_WINO_MASK_OF(d->ic - c0);
        CNNK_WINO_VEC t[CNNK_WINO_MAX_ALPHA][CNNK_WINO_MAX_ALPHA];
        for (int i = 0; i < alpha; ++i) {
            CNNK_WINO_VEC row[CNNK_WINO_MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            if (i < rows_lo || i >= rows_hi) {
                for (int j = 0; j < alpha; ++j) t[i][j] = zero;
                continue;
            }
            /* An offset, not a pointer: x0 may lie left of the image. */
            const int64_t off = ((y0 + i) * d->iw + x0) * ld + c0;
            for (int j = 0; j < alpha; ++j)
                row[j] = (j >= cols_lo && j < cols_hi) ? CNNK_WINO_LOAD(img + (off + j * ld), full, mask)
                                                       : zero;
            input_1d(m, row, t[i]);
        }
        for (int j = 0; j < alpha; ++j) {
            CNNK_WINO_VEC col[CNNK_WINO_MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            CNNK_WINO_VEC out[CNNK_WINO_MAX_ALPHA];
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            input_1d(m, col, out);
            for (int i = 0; i < alpha; ++i)
                CNNK_WINO_STOREU(v + (i * alpha + j) * vstride + c0, out[i]);
        }
    }
}

/* Y = A^T M A of one tile, output channels [o_start, oc), then bias,
 * residual and ReLU (the reference's order), stored for the pixels of the
 * tile inside the output only. */
CNNK_INLINE void output_tile(const cnnk_wino_tiles *x, int m, int64_t tile, const float *mm,
                             int64_t mstride, int64_t o_start) {
    const cnnk_conv_desc *d = x->d;
    const cnnk_epilogue *ep = &x->a->ep;
    const int alpha = m + 2;
    const int64_t n = tile / x->nt, r = tile % x->nt;
    const int64_t oy = r / x->tw * m, ox = r % x->tw * m;
    const int vh = (int)(d->oh - oy < m ? d->oh - oy : m);
    const int vw = (int)(d->ow - ox < m ? d->ow - ox : m);
    const int64_t pix0 = (n * d->oh + oy) * d->ow + ox; /* pixel of the tile's (0, 0) */
    float *dst = x->a->dst + pix0 * x->a->dst_ld;
    const float *res = ep->residual ? ep->residual + pix0 * ep->residual_ld : NULL;
    const CNNK_WINO_VEC zero = CNNK_WINO_ZERO();
    for (int64_t o0 = o_start; o0 < d->oc; o0 += CNNK_WINO_VL) {
        const bool full = o0 + CNNK_WINO_VL <= d->oc;
        const CNNK_WINO_MASK mask = CNNK_WINO_MASK_OF(d->oc - o0);
        CNNK_WINO_VEC t[CNNK_WINO_MAX_ALPHA][CNNK_WINO_MAX_ALPHA];
        for (int i = 0; i < alpha; ++i) {
            CNNK_WINO_VEC row[CNNK_WINO_MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            for (int j = 0; j < alpha; ++j)
                row[j] = CNNK_WINO_LOAD(mm + (i * alpha + j) * mstride + o0, full, mask);
            output_1d(m, row, t[i]);
        }
        const float *bias = ep->bias ? ep->bias + o0 : NULL;
        for (int j = 0; j < vw; ++j) {
            CNNK_WINO_VEC col[CNNK_WINO_MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            CNNK_WINO_VEC y[CNNK_WINO_MAX_ALPHA];
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            output_1d(m, col, y);
            for (int i = 0; i < vh; ++i) {
                const int64_t off = i * d->ow + j;
                CNNK_WINO_STORE_EPILOGUE(dst + off * x->a->dst_ld + o0, y[i], bias,
                                         res ? res + off * ep->residual_ld + o0 : NULL, ep->relu,
                                         ep->relu_alpha, full, mask);
            }
        }
    }
}

/* ---- the interior fast path ------------------------------------------- */

/* V of one interior tile, channels [0, icf) (whole vectors): rows[i] is
 * the window's row i at its first pixel. The tile lives in registers
 * (spilling what does not fit). */
CNNK_INLINE void input_tile_interior(int m, const float *const *rows, int64_t ld, int64_t icf,
                                     float *v, int64_t vstride) {
    const int alpha = m + 2;
    for (int64_t c0 = 0; c0 < icf; c0 += CNNK_WINO_VL) {
        CNNK_WINO_VEC t[CNNK_WINO_MAX_ALPHA][CNNK_WINO_MAX_ALPHA];
#pragma GCC unroll 8
        for (int i = 0; i < alpha; ++i) {
            CNNK_WINO_VEC row[CNNK_WINO_MAX_ALPHA];
#pragma GCC unroll 8
            for (int j = 0; j < alpha; ++j) row[j] = CNNK_WINO_LOADU(rows[i] + j * ld + c0);
            input_1d(m, row, t[i]);
        }
#pragma GCC unroll 8
        for (int j = 0; j < alpha; ++j) {
            CNNK_WINO_VEC col[CNNK_WINO_MAX_ALPHA], out[CNNK_WINO_MAX_ALPHA];
#pragma GCC unroll 8
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            input_1d(m, col, out);
#pragma GCC unroll 8
            for (int i = 0; i < alpha; ++i)
                CNNK_WINO_STOREU(v + (i * alpha + j) * vstride + c0, out[i]);
        }
    }
}

/* One tile: the interior path for its full channel vectors when the window
 * lies inside the image, the general path for the rest. */
CNNK_INLINE void input_tile_any(const cnnk_wino_tiles *x, int m, int64_t tile, float *v,
                                int64_t vstride) {
    const cnnk_conv_desc *d = x->d;
    const int alpha = m + 2;
    const int64_t n = tile / x->nt, r = tile % x->nt;
    const int64_t y0 = r / x->tw * m - d->pt, x0 = r % x->tw * m - d->pl;
    if (y0 < 0 || x0 < 0 || y0 + alpha > d->ih || x0 + alpha > d->iw) {
        input_tile(x, m, tile, v, vstride, 0);
        return;
    }
    const int64_t ld = x->a->src_ld;
    const float *img = x->a->src + n * d->ih * d->iw * ld;
    const float *rows[CNNK_WINO_MAX_ALPHA];
#pragma GCC unroll 8
    for (int i = 0; i < alpha; ++i) rows[i] = img + ((y0 + i) * d->iw + x0) * ld;
    const int64_t icf = d->ic / CNNK_WINO_VL * CNNK_WINO_VL;
    input_tile_interior(m, rows, ld, icf, v, vstride);
    if (icf < d->ic) input_tile(x, m, tile, v, vstride, icf);
}

/* Y of one interior tile, output channels [0, ocf) (whole vectors), into
 * drow[i] (output row i at the tile's first pixel), residual from rrow[i].
 * has_bias, has_res and act (CNNK_WINO_ACT_*) are constants in each
 * instance (output_tiles), so the epilogue is straight-line code with the
 * bias loaded once per channel vector; its order is the general path's:
 * + bias, + residual, then the activation (slope: the leaky one's). */
enum { CNNK_WINO_ACT_NONE = 0, CNNK_WINO_ACT_RELU = 1, CNNK_WINO_ACT_LEAKY = 2 };

CNNK_INLINE void output_tile_interior(int m, float *const *drow, int64_t dld,
                                      const float *const *rrow, int64_t rld, const float *bias,
                                      int64_t ocf, const float *mm, int64_t mstride,
                                      bool has_bias, bool has_res, int act, float slope) {
    const int alpha = m + 2;
    const CNNK_WINO_VEC vslope = CNNK_WINO_SET1(slope);
    for (int64_t o0 = 0; o0 < ocf; o0 += CNNK_WINO_VL) {
        CNNK_WINO_VEC t[CNNK_WINO_MAX_ALPHA][CNNK_WINO_MAX_ALPHA];
#pragma GCC unroll 8
        for (int i = 0; i < alpha; ++i) {
            CNNK_WINO_VEC row[CNNK_WINO_MAX_ALPHA];
#pragma GCC unroll 8
            for (int j = 0; j < alpha; ++j)
                row[j] = CNNK_WINO_LOADU(mm + (i * alpha + j) * mstride + o0);
            output_1d(m, row, t[i]);
        }
        const CNNK_WINO_VEC b = has_bias ? CNNK_WINO_LOADU(bias + o0) : CNNK_WINO_ZERO();
#pragma GCC unroll 8
        for (int j = 0; j < m; ++j) {
            CNNK_WINO_VEC col[CNNK_WINO_MAX_ALPHA], y[CNNK_WINO_MAX_ALPHA];
#pragma GCC unroll 8
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            output_1d(m, col, y);
#pragma GCC unroll 8
            for (int i = 0; i < m; ++i) {
                CNNK_WINO_VEC o = y[i];
                if (has_bias) o = ADD(o, b);
                if (has_res) o = ADD(o, CNNK_WINO_LOADU(rrow[i] + j * rld + o0));
                if (act == CNNK_WINO_ACT_RELU) o = CNNK_WINO_RELU(o);
                if (act == CNNK_WINO_ACT_LEAKY) o = CNNK_WINO_LEAKY(o, vslope);
                CNNK_WINO_STOREU(drow[i] + j * dld + o0, o);
            }
        }
    }
}

/* Tiles [t0, t0 + tn) of F(m x m) with one epilogue: the interior path for
 * whole tiles' full channel vectors, the general path for the rest. */
CNNK_INLINE void output_tiles(const cnnk_wino_tiles *x, int m, int64_t t0, int64_t tn,
                              const float *mm, int64_t mld, int64_t mstride, bool has_bias,
                              bool has_res, int act) {
    const cnnk_conv_desc *d = x->d;
    const cnnk_epilogue *ep = &x->a->ep;
    const int64_t dld = x->a->dst_ld, rld = ep->residual_ld;
    const int64_t ocf = d->oc / CNNK_WINO_VL * CNNK_WINO_VL;
    for (int64_t t = 0; t < tn; ++t) {
        const int64_t tile = t0 + t, n = tile / x->nt, r = tile % x->nt;
        const int64_t oy = r / x->tw * m, ox = r % x->tw * m;
        const float *mt = mm + t * mld;
        if (oy + m > d->oh || ox + m > d->ow) {
            output_tile(x, m, tile, mt, mstride, 0);
            continue;
        }
        const int64_t pix0 = (n * d->oh + oy) * d->ow + ox;
        float *drow[CNNK_WINO_MAX_ALPHA];
        const float *rrow[CNNK_WINO_MAX_ALPHA];
#pragma GCC unroll 8
        for (int i = 0; i < m; ++i) {
            drow[i] = x->a->dst + (pix0 + i * d->ow) * dld;
            rrow[i] = has_res ? ep->residual + (pix0 + i * d->ow) * rld : NULL;
        }
        output_tile_interior(m, drow, dld, rrow, rld, ep->bias, ocf, mt, mstride, has_bias,
                             has_res, act, ep->relu_alpha);
        if (ocf < d->oc) output_tile(x, m, tile, mt, mstride, ocf);
    }
}

/* One case of the epilogue switch below: bias, residual and activation as
 * constants, so each of the 12 combinations is its own straight-line copy. */
#define CNNK_WINO_TILES_CASE(M, E, BIAS, RES, ACT)                                            \
    case E: output_tiles(x, M, t0, tn, mm, mld, mstride, BIAS, RES, ACT); break;

/* The exported transforms of F(M x M) for ISA: one call per block of
 * tiles; the output's epilogue is chosen once per call, not per pixel. */
#define CNNK_WINO_TRANSFORMS(M, ISA)                                                          \
    CNNK_WINO_ATTR                                                                            \
    void cnnk_wino_input_f##M##__##ISA(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,      \
                                       float *v, int64_t vld, int64_t vstride) {              \
        for (int64_t t = 0; t < tn; ++t) input_tile_any(x, M, t0 + t, v + t * vld, vstride);  \
    }                                                                                         \
    CNNK_WINO_ATTR                                                                            \
    void cnnk_wino_output_f##M##__##ISA(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,     \
                                        const float *mm, int64_t mld, int64_t mstride) {      \
        const cnnk_epilogue *ep = &x->a->ep;                                                  \
        const int act = !ep->relu ? CNNK_WINO_ACT_NONE                                        \
                        : ep->relu_alpha == 0.0f ? CNNK_WINO_ACT_RELU : CNNK_WINO_ACT_LEAKY;  \
        const int e = (ep->bias ? 2 : 0) | (ep->residual ? 1 : 0);                            \
        switch (e * 3 + act) {                                                                \
        CNNK_WINO_TILES_CASE(M, 0, false, false, CNNK_WINO_ACT_NONE)                          \
        CNNK_WINO_TILES_CASE(M, 1, false, false, CNNK_WINO_ACT_RELU)                          \
        CNNK_WINO_TILES_CASE(M, 2, false, false, CNNK_WINO_ACT_LEAKY)                         \
        CNNK_WINO_TILES_CASE(M, 3, false, true, CNNK_WINO_ACT_NONE)                           \
        CNNK_WINO_TILES_CASE(M, 4, false, true, CNNK_WINO_ACT_RELU)                           \
        CNNK_WINO_TILES_CASE(M, 5, false, true, CNNK_WINO_ACT_LEAKY)                          \
        CNNK_WINO_TILES_CASE(M, 6, true, false, CNNK_WINO_ACT_NONE)                           \
        CNNK_WINO_TILES_CASE(M, 7, true, false, CNNK_WINO_ACT_RELU)                           \
        CNNK_WINO_TILES_CASE(M, 8, true, false, CNNK_WINO_ACT_LEAKY)                          \
        CNNK_WINO_TILES_CASE(M, 9, true, true, CNNK_WINO_ACT_NONE)                            \
        CNNK_WINO_TILES_CASE(M, 10, true, true, CNNK_WINO_ACT_RELU)                           \
        default: output_tiles(x, M, t0, tn, mm, mld, mstride, true, true, CNNK_WINO_ACT_LEAKY); \
        }                                                                                     \
    }
