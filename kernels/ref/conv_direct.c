/* The convolution definition (cnnk_ref_conv), its fused epilogue, and the
 * "ref/direct" registry entry that runs the definition as a kernel. */
#include <string.h>

#include "kernels/ref/ref.h"

void cnnk_ref_epilogue(const cnnk_epilogue *ep, int64_t oc, int64_t pixel, float *y) {
    if (!ep)
        return;
    const float *res = ep->residual ? ep->residual + pixel * ep->residual_ld : NULL;
    for (int64_t c = 0; c < oc; ++c) {
        float v = y[c];
        if (ep->bias)
            v += ep->bias[c];
        if (res)
            v += res[c];
        if (ep->relu && v < 0.0f) /* a NaN passes through: a kernel's bug stays visible */
            v = ep->relu_alpha == 0.0f ? 0.0f : ep->relu_alpha * v;
        y[c] = v;
    }
}

/* One output value: the dot product of a (group-local) filter with the
 * input window whose top-left tap is at (y0, x0). Taps falling in the
 * padding contribute zero. A double accumulator makes the definition
 * independent of summation order to well below float precision. */
static float conv_point(const cnnk_conv_desc *d, const float *src_img, int64_t src_ld,
                        const float *w_filter, int64_t c0, int64_t y0, int64_t x0) {
    const int64_t icg = d->ic / d->g;
    double acc = 0.0;
    for (int64_t c = 0; c < icg; ++c) {
        for (int64_t ky = 0; ky < d->kh; ++ky) {
            const int64_t y = y0 + ky * d->dh;
            if (y < 0 || y >= d->ih)
                continue;
            for (int64_t kx = 0; kx < d->kw; ++kx) {
                const int64_t x = x0 + kx * d->dw;
                if (x < 0 || x >= d->iw)
                    continue;
                const float s = src_img[(y * d->iw + x) * src_ld + c0 + c];
                const float w = w_filter[(c * d->kh + ky) * d->kw + kx];
                acc += (double)s * (double)w;
            }
        }
    }
    return (float)acc;
}

void cnnk_ref_conv(const cnnk_conv_desc *d, const float *src, int64_t src_ld,
                   const float *w_oihw, float *dst, int64_t dst_ld,
                   const cnnk_epilogue *ep) {
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g;
    const int64_t filter = icg * d->kh * d->kw;
    for (int64_t n = 0; n < d->mb; ++n) {
        const float *src_img = src + n * d->ih * d->iw * src_ld;
        for (int64_t oy = 0; oy < d->oh; ++oy) {
            for (int64_t ox = 0; ox < d->ow; ++ox) {
                const int64_t pixel = (n * d->oh + oy) * d->ow + ox;
                float *y = dst + pixel * dst_ld;
                for (int64_t o = 0; o < d->oc; ++o) {
                    const int64_t grp = o / ocg;
                    y[o] = conv_point(d, src_img, src_ld, w_oihw + o * filter, grp * icg,
                                      oy * d->sh - d->pt, ox * d->sw - d->pl);
                }
                cnnk_ref_epilogue(ep, d->oc, pixel, y);
            }
        }
    }
}

/* ---- registry entry: the definition as a kernel ---------------------- */

static bool direct_applies(const cnnk_conv_desc *d) {
    return !d->transposed;
}

static size_t direct_packed_size(const cnnk_conv_desc *d) {
    return (size_t)cnnk_conv_weights(d);
}

static size_t direct_workspace_size(const cnnk_conv_desc *d, int nthreads) {
    (void)d;
    (void)nthreads;
    return 0;
}

static void direct_pack(const cnnk_conv_desc *d, const float *w_oihw, float *packed) {
    memcpy(packed, w_oihw, direct_packed_size(d) * sizeof(float));
}

static void direct_run(const cnnk_conv_desc *d, const cnnk_conv_args *a) {
    cnnk_ref_conv(d, a->src, a->src_ld, a->packed, a->dst, a->dst_ld, &a->ep);
}

const cnnk_conv_kernel cnnk_conv_direct__ref = {
    .name = "ref/direct",
    .isa = CNNK_ISA_REF,
    .algo = CNNK_ALGO_DIRECT,
    .applies = direct_applies,
    .packed_size = direct_packed_size,
    .workspace_size = direct_workspace_size,
    .pack = direct_pack,
    .run = direct_run,
};
