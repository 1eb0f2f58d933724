/* The NEON tile transforms of Winograd F(m x m, 3 x 3), m = 2, 4, 6: the
 * innermost part of the shared pipeline (kernels/common/winograd.c), which
 * calls them once per block of tiles through cnnk_isa_kernels__neon.wino.
 *
 * Transforms are vectorised across channels: NHWC makes 4 channels of one
 * pixel one q register, so every 1-D transform is a handful of FMAs on whole
 * vectors with no shuffles. m is a constant in each exported function, so
 * the 1-D transforms unroll completely. */
#include "kernels/neon/winograd.h"

#include "kernels/neon/vec.h"

enum { VL = CNNK_NEON_VL, MAX_ALPHA = 8 };

/* ---- 1-D transforms: kernels/common/wino_1d.h, on q registers ---------- */

/* Short names for the transforms' arithmetic, #undef'd at the end of the file. */
#define ADD vaddq_f32
#define SUB vsubq_f32
#define MUL vmulq_f32
#define FMA(a, b, c) vfmaq_f32((c), (a), (b)) /* a*b + c */
#define FNMA(a, b, c) vfmsq_f32((c), (a), (b)) /* c - a*b */
#define K(x) vdupq_n_f32(x)

#define CNNK_WINO_VEC float32x4_t
#include "kernels/common/wino_1d.h"

/* V of one tile (global index tile), channels [c_start, ic), into
 * v[pos * vstride + c]: the general path, for border tiles and the channel
 * tail. The alpha x alpha window starts at (ty m - pt, tx m - pl); pixels
 * outside the image are zero, which is all the padding handling. Channel
 * tails load only the valid lanes (the rest zero) and store whole vectors
 * into V's pitch (ic rounded up to 4), so V's padding columns are zero and
 * never read by the GEMM (K = ic). */
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
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (int64_t c0 = c_start; c0 < d->ic; c0 += VL) {
        const bool full = c0 + VL <= d->ic;
        const int64_t nvalid = d->ic - c0;
        float32x4_t t[MAX_ALPHA][MAX_ALPHA];
        for (int i = 0; i < alpha; ++i) {
            float32x4_t row[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            if (i < rows_lo || i >= rows_hi) {
                for (int j = 0; j < alpha; ++j) t[i][j] = zero;
                continue;
            }
            /* An offset, not a pointer: x0 may lie left of the image. */
            const int64_t off = ((y0 + i) * d->iw + x0) * ld + c0;
            for (int j = 0; j < alpha; ++j)
                row[j] = (j >= cols_lo && j < cols_hi)
                             ? cnnk_neon_load(img + (off + j * ld), full, nvalid)
                             : zero;
            input_1d(m, row, t[i]);
        }
        for (int j = 0; j < alpha; ++j) {
            float32x4_t col[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            float32x4_t out[MAX_ALPHA];
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            input_1d(m, col, out);
            for (int i = 0; i < alpha; ++i)
                vst1q_f32(v + (i * alpha + j) * vstride + c0, out[i]);
        }
    }
}

/* The interior fast path: the whole window inside the image and 4 valid
 * channels, so no range test and no masked load; the window's row
 * pointers are computed once per tile. Every loop has a constant trip
 * count (m is a constant), so it unrolls completely and the tile lives in
 * q registers (spilling only what does not fit in 32). Same 1-D transforms
 * in the same order as the general path: the same results bit for bit. */
CNNK_INLINE void input_tile_interior(int m, const float *const *rows, int64_t ld, int64_t ic4,
                                     float *v, int64_t vstride) {
    const int alpha = m + 2;
    for (int64_t c0 = 0; c0 < ic4; c0 += VL) {
        float32x4_t t[MAX_ALPHA][MAX_ALPHA];
#pragma GCC unroll 8
        for (int i = 0; i < alpha; ++i) {
            float32x4_t row[MAX_ALPHA];
#pragma GCC unroll 8
            for (int j = 0; j < alpha; ++j) row[j] = vld1q_f32(rows[i] + j * ld + c0);
            input_1d(m, row, t[i]);
        }
#pragma GCC unroll 8
        for (int j = 0; j < alpha; ++j) {
            float32x4_t col[MAX_ALPHA], out[MAX_ALPHA];
#pragma GCC unroll 8
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            input_1d(m, col, out);
#pragma GCC unroll 8
            for (int i = 0; i < alpha; ++i)
                vst1q_f32(v + (i * alpha + j) * vstride + c0, out[i]);
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
    const float *rows[MAX_ALPHA];
#pragma GCC unroll 8
    for (int i = 0; i < alpha; ++i) rows[i] = img + ((y0 + i) * d->iw + x0) * ld;
    const int64_t ic4 = d->ic / VL * VL;
    input_tile_interior(m, rows, ld, ic4, v, vstride);
    if (ic4 < d->ic) input_tile(x, m, tile, v, vstride, ic4);
}

/* Y = A^T M A of one tile, output channels [o_start, oc), then bias,
 * residual and ReLU (the reference's order), stored for the pixels of the
 * tile inside the output only: the general path, for border tiles and the
 * channel tail. */
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
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (int64_t o0 = o_start; o0 < d->oc; o0 += VL) {
        const bool full = o0 + VL <= d->oc;
        const int64_t nvalid = d->oc - o0;
        float32x4_t t[MAX_ALPHA][MAX_ALPHA];
        for (int i = 0; i < alpha; ++i) {
            float32x4_t row[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            for (int j = 0; j < alpha; ++j)
                row[j] = cnnk_neon_load(mm + (i * alpha + j) * mstride + o0, full, nvalid);
            output_1d(m, row, t[i]);
        }
        const float *bias = ep->bias ? ep->bias + o0 : NULL;
        for (int j = 0; j < vw; ++j) {
            float32x4_t col[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            float32x4_t y[MAX_ALPHA];
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            output_1d(m, col, y);
            for (int i = 0; i < vh; ++i) {
                const int64_t off = i * d->ow + j;
                cnnk_neon_store_epilogue(dst + off * x->a->dst_ld + o0, y[i], bias,
                                         res ? res + off * ep->residual_ld + o0 : NULL, ep->relu,
                                         full, nvalid);
            }
        }
    }
}

/* The interior fast path of the output transform: all m x m pixels inside
 * the output and 4 valid channels. has_bias, has_res and relu are
 * compile-time constants in each instance (output_tiles below), so the
 * epilogue is straight-line code: bias loaded once per channel vector, no
 * per-pixel test. Same order as cnnk_neon_store_epilogue: + bias,
 * + residual, then ReLU. */
CNNK_INLINE void output_tile_interior(int m, float *const *drow, int64_t dld,
                                      const float *const *rrow, int64_t rld, const float *bias,
                                      int64_t oc4, const float *mm, int64_t mstride,
                                      bool has_bias, bool has_res, bool relu) {
    const int alpha = m + 2;
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (int64_t o0 = 0; o0 < oc4; o0 += VL) {
        float32x4_t t[MAX_ALPHA][MAX_ALPHA];
#pragma GCC unroll 8
        for (int i = 0; i < alpha; ++i) {
            float32x4_t row[MAX_ALPHA];
#pragma GCC unroll 8
            for (int j = 0; j < alpha; ++j) row[j] = vld1q_f32(mm + (i * alpha + j) * mstride + o0);
            output_1d(m, row, t[i]);
        }
        const float32x4_t b = has_bias ? vld1q_f32(bias + o0) : zero;
#pragma GCC unroll 8
        for (int j = 0; j < m; ++j) {
            float32x4_t col[MAX_ALPHA], y[MAX_ALPHA];
#pragma GCC unroll 8
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            output_1d(m, col, y);
#pragma GCC unroll 8
            for (int i = 0; i < m; ++i) {
                float32x4_t o = y[i];
                if (has_bias) o = vaddq_f32(o, b);
                if (has_res) o = vaddq_f32(o, vld1q_f32(rrow[i] + j * rld + o0));
                if (relu) o = vmaxq_f32(o, zero);
                vst1q_f32(drow[i] + j * dld + o0, o);
            }
        }
    }
}

/* Tiles [t0, t0 + tn) of F(m x m) with one epilogue: the interior path for
 * whole tiles' full channel vectors, the general path for the rest. */
CNNK_INLINE void output_tiles(const cnnk_wino_tiles *x, int m, int64_t t0, int64_t tn,
                              const float *mm, int64_t mld, int64_t mstride, bool has_bias,
                              bool has_res, bool relu) {
    const cnnk_conv_desc *d = x->d;
    const cnnk_epilogue *ep = &x->a->ep;
    const int64_t dld = x->a->dst_ld, rld = ep->residual_ld;
    const int64_t oc4 = d->oc / VL * VL;
    for (int64_t t = 0; t < tn; ++t) {
        const int64_t tile = t0 + t, n = tile / x->nt, r = tile % x->nt;
        const int64_t oy = r / x->tw * m, ox = r % x->tw * m;
        const float *mt = mm + t * mld;
        if (oy + m > d->oh || ox + m > d->ow) {
            output_tile(x, m, tile, mt, mstride, 0);
            continue;
        }
        const int64_t pix0 = (n * d->oh + oy) * d->ow + ox;
        float *drow[MAX_ALPHA];
        const float *rrow[MAX_ALPHA];
#pragma GCC unroll 8
        for (int i = 0; i < m; ++i) {
            drow[i] = x->a->dst + (pix0 + i * d->ow) * dld;
            rrow[i] = has_res ? ep->residual + (pix0 + i * d->ow) * rld : NULL;
        }
        output_tile_interior(m, drow, dld, rrow, rld, ep->bias, oc4, mt, mstride, has_bias,
                             has_res, relu);
        if (oc4 < d->oc) output_tile(x, m, tile, mt, mstride, oc4);
    }
}

/* No pre-RA scheduling (as in gemm.c and direct.c): GCC's scheduler
 * hoists all of a tile's loads to the top of the unrolled iteration and
 * then spills the values it cannot hold, each spill a store that costs
 * FP-pipe slots on the Neoverse cores. */
#define CNNK_NEON_WINO_NOSCHED __attribute__((optimize("no-schedule-insns")))

/* The exported transforms of F(M x M): one call per block of tiles; the
 * output's epilogue is chosen once per call, not per pixel. */
#define CNNK_NEON_WINO_TRANSFORMS(M)                                                          \
    CNNK_NEON_WINO_NOSCHED                                                                    \
    void cnnk_wino_input_f##M##__neon(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,       \
                                      float *v, int64_t vld, int64_t vstride) {               \
        for (int64_t t = 0; t < tn; ++t) input_tile_any(x, M, t0 + t, v + t * vld, vstride);  \
    }                                                                                         \
    CNNK_NEON_WINO_NOSCHED                                                                    \
    void cnnk_wino_output_f##M##__neon(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,      \
                                       const float *mm, int64_t mld, int64_t mstride) {       \
        const cnnk_epilogue *ep = &x->a->ep;                                                  \
        const int e = (ep->bias ? 4 : 0) | (ep->residual ? 2 : 0) | (ep->relu ? 1 : 0);       \
        switch (e) {                                                                          \
        case 0: output_tiles(x, M, t0, tn, mm, mld, mstride, false, false, false); break;     \
        case 1: output_tiles(x, M, t0, tn, mm, mld, mstride, false, false, true); break;      \
        case 2: output_tiles(x, M, t0, tn, mm, mld, mstride, false, true, false); break;      \
        case 3: output_tiles(x, M, t0, tn, mm, mld, mstride, false, true, true); break;       \
        case 4: output_tiles(x, M, t0, tn, mm, mld, mstride, true, false, false); break;      \
        case 5: output_tiles(x, M, t0, tn, mm, mld, mstride, true, false, true); break;       \
        case 6: output_tiles(x, M, t0, tn, mm, mld, mstride, true, true, false); break;       \
        default: output_tiles(x, M, t0, tn, mm, mld, mstride, true, true, true); break;       \
        }                                                                                     \
    }

CNNK_NEON_WINO_TRANSFORMS(2)
CNNK_NEON_WINO_TRANSFORMS(4)
CNNK_NEON_WINO_TRANSFORMS(6)

#undef CNNK_NEON_WINO_TRANSFORMS
#undef CNNK_NEON_WINO_NOSCHED
#undef CNNK_WINO_VEC
#undef ADD
#undef SUB
#undef MUL
#undef FMA
#undef FNMA
#undef K
