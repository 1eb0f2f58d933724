/* The AVX-512 tile transforms of Winograd F(m x m, 3 x 3), m = 2, 4, 6: the
 * innermost part of the shared pipeline (kernels/common/winograd.c), which
 * calls them once per block of tiles through cnnk_isa_kernels__avx512.wino.
 *
 * Transforms are vectorised across channels: NHWC makes 16 channels of one
 * pixel one zmm, so every 1-D transform is a handful of FMAs on whole
 * vectors with no shuffles. m is a constant in each exported function, so
 * the 1-D transforms unroll completely. */
#include "kernels/avx512/winograd.h"

#include "kernels/avx512/vec.h"

enum { VL = CNNK_AVX512_VL, MAX_ALPHA = 8 };

/* ---- 1-D transforms: kernels/common/wino_1d.h, on this ISA's vectors --- */

/* Short names for the transforms' arithmetic, #undef'd at the end of the file. */
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define FMA _mm512_fmadd_ps   /* a*b + c */
#define FNMA _mm512_fnmadd_ps /* c - a*b */
#define K(x) _mm512_set1_ps(x)

#define CNNK_WINO_VEC __m512
#include "kernels/common/wino_1d.h"

/* V of one tile (global index tile) into v[pos * vstride + c]. The alpha x
 * alpha window starts at (ty m - pt, tx m - pl); pixels outside the image
 * are zero, which is all the padding handling. Channel tails load masked
 * (zero lanes) and store whole vectors into V's pitch (ic rounded up to 16), so V's padding
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
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t c0 = 0; c0 < d->ic; c0 += VL) {
        const bool full = c0 + VL <= d->ic;
        const __mmask16 mask = cnnk_avx512_mask(d->ic - c0);
        __m512 t[MAX_ALPHA][MAX_ALPHA];
        for (int i = 0; i < alpha; ++i) {
            __m512 row[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            if (i < rows_lo || i >= rows_hi) {
                for (int j = 0; j < alpha; ++j) t[i][j] = zero;
                continue;
            }
            /* An offset, not a pointer: x0 may lie left of the image. */
            const int64_t off = ((y0 + i) * d->iw + x0) * ld + c0;
            for (int j = 0; j < alpha; ++j)
                row[j] = (j >= cols_lo && j < cols_hi) ? cnnk_avx512_load(img + (off + j * ld), full, mask)
                                                       : zero;
            input_1d(m, row, t[i]);
        }
        for (int j = 0; j < alpha; ++j) {
            __m512 col[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            __m512 out[MAX_ALPHA];
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            input_1d(m, col, out);
            for (int i = 0; i < alpha; ++i)
                _mm512_storeu_ps(v + (i * alpha + j) * vstride + c0, out[i]);
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
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t o0 = 0; o0 < d->oc; o0 += VL) {
        const bool full = o0 + VL <= d->oc;
        const __mmask16 mask = cnnk_avx512_mask(d->oc - o0);
        __m512 t[MAX_ALPHA][MAX_ALPHA];
        for (int i = 0; i < alpha; ++i) {
            __m512 row[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            for (int j = 0; j < alpha; ++j)
                row[j] = cnnk_avx512_load(mm + (i * alpha + j) * mstride + o0, full, mask);
            output_1d(m, row, t[i]);
        }
        const float *bias = ep->bias ? ep->bias + o0 : NULL;
        for (int j = 0; j < vw; ++j) {
            __m512 col[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            __m512 y[MAX_ALPHA];
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            output_1d(m, col, y);
            for (int i = 0; i < vh; ++i) {
                const int64_t off = i * d->ow + j;
                cnnk_avx512_store_epilogue(dst + off * x->a->dst_ld + o0, y[i], bias,
                                         res ? res + off * ep->residual_ld + o0 : NULL, ep->relu,
                                         full, mask);
            }
        }
    }
}

/* The exported transforms of F(M x M): one call per block of tiles. */
#define CNNK_AVX512_WINO_TRANSFORMS(M)                                                          \
    void cnnk_wino_input_f##M##__avx512(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,       \
                                      float *v, int64_t vld, int64_t vstride) {               \
        for (int64_t t = 0; t < tn; ++t) input_tile(x, M, t0 + t, v + t * vld, vstride);      \
    }                                                                                         \
    void cnnk_wino_output_f##M##__avx512(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,      \
                                       const float *mm, int64_t mld, int64_t mstride) {       \
        for (int64_t t = 0; t < tn; ++t) output_tile(x, M, t0 + t, mm + t * mld, mstride);    \
    }

CNNK_AVX512_WINO_TRANSFORMS(2)
CNNK_AVX512_WINO_TRANSFORMS(4)
CNNK_AVX512_WINO_TRANSFORMS(6)

#undef CNNK_AVX512_WINO_TRANSFORMS
#undef CNNK_WINO_VEC
#undef ADD
#undef SUB
#undef MUL
#undef FMA
#undef FNMA
#undef K
