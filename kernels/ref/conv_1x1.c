/* "ref/1x1": a 1x1 convolution without padding is a GEMM over pixels,
 * dst[p][o] = sum_c src[p'][c] * W[c][o]. At stride 1 the NHWC input is the
 * GEMM's A as it stands (ld src_ld); at a larger stride the sampled pixels
 * are gathered into the workspace first so A is dense again. */
#include "kernels/ref/ref.h"

static bool strided(const cnnk_conv_desc *d) {
    return d->sh != 1 || d->sw != 1;
}

static bool c1x1_applies(const cnnk_conv_desc *d) {
    return !d->transposed && d->g == 1 && d->kh == 1 && d->kw == 1 && d->dh == 1 &&
           d->dw == 1 && d->pt == 0 && d->pl == 0 && d->pb == 0 && d->pr == 0;
}

/* W as ic x oc: the B of the GEMM, rows read contiguously. */
static size_t c1x1_packed_size(const cnnk_conv_desc *d) {
    return (size_t)(d->ic * d->oc);
}

static size_t c1x1_workspace_size(const cnnk_conv_desc *d, int nthreads) {
    (void)nthreads; /* the reference is single-threaded */
    return strided(d) ? (size_t)(d->oh * d->ow * d->ic) : 0;
}

static void c1x1_pack(const cnnk_conv_desc *d, const float *w_oihw, float *packed) {
    for (int64_t o = 0; o < d->oc; ++o)
        for (int64_t c = 0; c < d->ic; ++c)
            packed[c * d->oc + o] = w_oihw[o * d->ic + c];
}

static void gather(const cnnk_conv_desc *d, const float *src_img, int64_t src_ld, float *out) {
    for (int64_t oy = 0; oy < d->oh; ++oy)
        for (int64_t ox = 0; ox < d->ow; ++ox) {
            const float *s = src_img + (oy * d->sh * d->iw + ox * d->sw) * src_ld;
            float *o = out + (oy * d->ow + ox) * d->ic;
            for (int64_t c = 0; c < d->ic; ++c)
                o[c] = s[c];
        }
}

static void c1x1_run(const cnnk_conv_desc *d, const cnnk_conv_args *a) {
    const int64_t pixels = d->oh * d->ow;
    for (int64_t n = 0; n < d->mb; ++n) {
        const float *src_img = a->src + n * d->ih * d->iw * a->src_ld;
        float *dst_img = a->dst + n * pixels * a->dst_ld;
        const float *pix = src_img;
        int64_t lda = a->src_ld;
        if (strided(d)) {
            gather(d, src_img, a->src_ld, a->workspace);
            pix = a->workspace;
            lda = d->ic;
        }
        cnnk_ref_gemm(pixels, d->oc, d->ic, pix, lda, a->packed, d->oc, dst_img, a->dst_ld);
        for (int64_t p = 0; p < pixels; ++p)
            cnnk_ref_epilogue(&a->ep, d->oc, n * pixels + p, dst_img + p * a->dst_ld);
    }
}

const cnnk_conv_kernel cnnk_conv_1x1__ref = {
    .name = "ref/1x1",
    .isa = CNNK_ISA_REF,
    .algo = CNNK_ALGO_1X1,
    .applies = c1x1_applies,
    .packed_size = c1x1_packed_size,
    .workspace_size = c1x1_workspace_size,
    .pack = c1x1_pack,
    .run = c1x1_run,
};
