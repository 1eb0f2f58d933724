/* The Winograd tile transforms, written once for the x86 ISAs: the input
 * transform V = B^T d B and the output transform Y = A^T M A of whole
 * tiles, with the fused epilogue, over channel vectors (NHWC puts VL
 * channels of one pixel in one vector, so no shuffles). The shared
 * pipeline (kernels/common/winograd.c) calls them once per block of tiles
 * through cnnk_isa_kernels.wino.
 *
 * A template without intrinsics, as direct_row.h is: an ISA's winograd.c
 * defines wino_1d.h's arithmetic macros and
 *   CNNK_WINO_VEC, CNNK_WINO_MASK   its vector and tail-mask types
 *   CNNK_WINO_VL                    floats per vector
 *   CNNK_WINO_ZERO()                a zero vector
 *   CNNK_WINO_MASK_OF(n)            the mask of lanes [0, n)
 *   CNNK_WINO_LOAD(p, full, mask)   a load, masked lanes zero and unread
 *   CNNK_WINO_STOREU(p, v)          a whole-vector store
 *   CNNK_WINO_STORE_EPILOGUE(y, v, bias, res, relu, full, mask)
 *                                   its vec.h's fused epilogue store
 * then includes this file and expands CNNK_WINO_TRANSFORMS(M, isa) for
 * M = 2, 4, 6, which defines cnnk_wino_{input,output}_fM__isa. m is a
 * constant in each, so the 1-D transforms unroll completely. */
#include "kernels/common/isa.h"
#include "kernels/common/wino_1d.h"

enum { CNNK_WINO_MAX_ALPHA = 8 };

/* V of one tile (global index tile) into v[pos * vstride + c]. The alpha x
 * alpha window starts at (ty m - pt, tx m - pl); pixels outside the image
 * are zero, which is all the padding handling. Channel tails load masked
 * (zero lanes) and store whole vectors into V's pitch (ic rounded up to the vector), so V's padding
 * columns are zero and never read by the GEMM (K = ic). */
CNNK_INLINE void input_tile(const cnnk_wino_tiles *x, int m, int64_t tile, float *v,
                            int64_t vstride) {
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
    for (int64_t c0 = 0; c0 < d->ic; c0 += CNNK_WINO_VL) {
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

/* Y = A^T M A of one tile, then bias, residual and ReLU (the reference's
 * order), stored for the pixels of the tile inside the output only. */
CNNK_INLINE void output_tile(const cnnk_wino_tiles *x, int m, int64_t tile, const float *mm,
                             int64_t mstride) {
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
    for (int64_t o0 = 0; o0 < d->oc; o0 += CNNK_WINO_VL) {
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
                                         full, mask);
            }
        }
    }
}

/* The exported transforms of F(M x M) for ISA: one call per block of tiles. */
#define CNNK_WINO_TRANSFORMS(M, ISA)                                                          \
    void cnnk_wino_input_f##M##__##ISA(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,      \
                                       float *v, int64_t vld, int64_t vstride) {              \
        for (int64_t t = 0; t < tn; ++t) input_tile(x, M, t0 + t, v + t * vld, vstride);      \
    }                                                                                         \
    void cnnk_wino_output_f##M##__##ISA(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,     \
                                        const float *mm, int64_t mld, int64_t mstride) {      \
        for (int64_t t = 0; t < tn; ++t) output_tile(x, M, t0 + t, mm + t * mld, mstride);    \
    }
