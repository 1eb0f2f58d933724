/* Transposed convolution: the adjoint of cnnk_ref_conv with the same
 * geometry, as oneDNN's deconvolution (= convolution backward data):
 *
 *   dst[n][oh][ow][g*OCg + o] = sum over i < ICg, kh, kw, ih, iw with
 *       ih*sh - pt + kh*dh == oh  and  iw*sw - pl + kw*dw == ow  of
 *     src[n][ih][iw][g*ICg + i] * w[g][o][i][kh][kw]
 *
 * with OCg = oc/g, ICg = ic/g and w in oneDNN's deconvolution order (O the
 * outputs of the transposed convolution). The kernel is not flipped. */
#include "kernels/ref/ref.h"

/* One output pixel, gathered: for each kernel tap, the input pixel that
 * scatters onto (oh, ow) exists only when the offset divides by the
 * stride, so the loop reads, never scatters, and each output is one sum. */
static void deconv_pixel(const cnnk_conv_desc *d, const float *src_n, int64_t src_ld,
                         const float *w, int64_t oh, int64_t ow, float *y) {
    int64_t icg = d->ic / d->g, ocg = d->oc / d->g;
    for (int64_t g = 0; g < d->g; ++g) {
        for (int64_t o = 0; o < ocg; ++o) {
            const float *w_o = w + (g * ocg + o) * icg * d->kh * d->kw;
            double acc = 0.0;
            for (int64_t kh = 0; kh < d->kh; ++kh) {
                int64_t th = oh + d->pt - kh * d->dh;
                if (th < 0 || th % d->sh != 0 || th / d->sh >= d->ih) continue;
                int64_t ih = th / d->sh;
                for (int64_t kw = 0; kw < d->kw; ++kw) {
                    int64_t tw = ow + d->pl - kw * d->dw;
                    if (tw < 0 || tw % d->sw != 0 || tw / d->sw >= d->iw) continue;
                    int64_t iw = tw / d->sw;
                    const float *x = src_n + (ih * d->iw + iw) * src_ld + g * icg;
                    for (int64_t i = 0; i < icg; ++i)
                        acc += (double)x[i] * w_o[(i * d->kh + kh) * d->kw + kw];
                }
            }
            y[g * ocg + o] = (float)acc;
        }
    }
}

void cnnk_ref_deconv(const cnnk_conv_desc *d, const float *src, int64_t src_ld,
                     const float *w_oihw, float *dst, int64_t dst_ld,
                     const cnnk_epilogue *ep) {
    for (int64_t n = 0; n < d->mb; ++n) {
        const float *src_n = src + n * d->ih * d->iw * src_ld;
        for (int64_t oh = 0; oh < d->oh; ++oh) {
            for (int64_t ow = 0; ow < d->ow; ++ow) {
                int64_t pixel = (n * d->oh + oh) * d->ow + ow;
                float *y = dst + pixel * dst_ld;
                deconv_pixel(d, src_n, src_ld, w_oihw, oh, ow, y);
                cnnk_ref_epilogue(ep, d->oc, pixel, y);
            }
        }
    }
}
