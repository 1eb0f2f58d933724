/* "ref/im2col": lower the convolution to a GEMM, one image and one group at
 * a time. With NHWC activations the natural lowering puts output pixels on
 * the rows: col[p][(ky, kx, c)] x W[(ky, kx, c)][o] = dst[p][o], so the
 * GEMM writes straight into dst at the group's channel offset (ld dst_ld)
 * and the column buffer is read row by row. */
#include "kernels/ref/ref.h"

/* Rows of the column matrix: one per output pixel; columns: (ky, kx, c). */
static int64_t col_k(const cnnk_conv_desc *d) {
    return d->kh * d->kw * (d->ic / d->g);
}

static bool im2col_applies(const cnnk_conv_desc *d) {
    return !d->transposed;
}

/* Per group a K x ocg panel, K ordered (ky, kx, c) to match col rows. */
static size_t im2col_packed_size(const cnnk_conv_desc *d) {
    return (size_t)(d->g * col_k(d) * (d->oc / d->g));
}

static size_t im2col_workspace_size(const cnnk_conv_desc *d, int nthreads) {
    (void)nthreads; /* the reference is single-threaded */
    return (size_t)(d->oh * d->ow * col_k(d));
}

static void im2col_pack(const cnnk_conv_desc *d, const float *w_oihw, float *packed) {
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g, k = col_k(d);
    for (int64_t grp = 0; grp < d->g; ++grp) {
        float *panel = packed + grp * k * ocg;
        for (int64_t o = 0; o < ocg; ++o) {
            const float *w = w_oihw + (grp * ocg + o) * icg * d->kh * d->kw;
            for (int64_t c = 0; c < icg; ++c)
                for (int64_t ky = 0; ky < d->kh; ++ky)
                    for (int64_t kx = 0; kx < d->kw; ++kx)
                        panel[((ky * d->kw + kx) * icg + c) * ocg + o] =
                            w[(c * d->kh + ky) * d->kw + kx];
        }
    }
}

/* Fills col for one image and the group's channels [c0, c0 + icg). */
static void im2col(const cnnk_conv_desc *d, const float *src_img, int64_t src_ld, int64_t c0,
                   float *col) {
    const int64_t icg = d->ic / d->g;
    for (int64_t oy = 0; oy < d->oh; ++oy) {
        for (int64_t ox = 0; ox < d->ow; ++ox) {
            float *row = col + (oy * d->ow + ox) * col_k(d);
            for (int64_t ky = 0; ky < d->kh; ++ky) {
                const int64_t y = oy * d->sh - d->pt + ky * d->dh;
                for (int64_t kx = 0; kx < d->kw; ++kx) {
                    const int64_t x = ox * d->sw - d->pl + kx * d->dw;
                    const bool inside = y >= 0 && y < d->ih && x >= 0 && x < d->iw;
                    float *r = row + (ky * d->kw + kx) * icg;
                    if (!inside) {
                        for (int64_t c = 0; c < icg; ++c)
                            r[c] = 0.0f;
                        continue;
                    }
                    const float *s = src_img + (y * d->iw + x) * src_ld + c0;
                    for (int64_t c = 0; c < icg; ++c)
                        r[c] = s[c];
                }
            }
        }
    }
}

static void im2col_run(const cnnk_conv_desc *d, const cnnk_conv_args *a) {
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g, k = col_k(d);
    const int64_t pixels = d->oh * d->ow;
    for (int64_t n = 0; n < d->mb; ++n) {
        const float *src_img = a->src + n * d->ih * d->iw * a->src_ld;
        float *dst_img = a->dst + n * pixels * a->dst_ld;
        for (int64_t grp = 0; grp < d->g; ++grp) {
            im2col(d, src_img, a->src_ld, grp * icg, a->workspace);
            cnnk_ref_gemm(pixels, ocg, k, a->workspace, k, a->packed + grp * k * ocg, ocg,
                 dst_img + grp * ocg, a->dst_ld);
        }
        for (int64_t p = 0; p < pixels; ++p)
            cnnk_ref_epilogue(&a->ep, d->oc, n * pixels + p, dst_img + p * a->dst_ld);
    }
}

const cnnk_conv_kernel cnnk_conv_im2col__ref = {
    .name = "ref/im2col",
    .isa = CNNK_ISA_REF,
    .algo = CNNK_ALGO_IM2COL,
    .applies = im2col_applies,
    .packed_size = im2col_packed_size,
    .workspace_size = im2col_workspace_size,
    .pack = im2col_pack,
    .run = im2col_run,
};
