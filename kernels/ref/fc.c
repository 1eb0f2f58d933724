/* Fully connected: NHWC input against OIHW weights, so the result equals
 * a framework's FC on its NCHW-flattened tensor. */
#include "kernels/ref/ref.h"

void cnnk_ref_fc(const cnnk_fc_desc *d, const float *src, const float *w_oihw,
                 const float *bias, float *dst, bool relu, float relu_alpha) {
    int64_t hw = d->ih * d->iw, in_per_image = hw * d->ic;
    for (int64_t n = 0; n < d->mb; ++n) {
        const float *x = src + n * in_per_image;
        for (int64_t o = 0; o < d->oc; ++o) {
            const float *w_o = w_oihw + o * in_per_image;
            double acc = bias ? (double)bias[o] : 0.0;
            for (int64_t h = 0; h < d->ih; ++h)
                for (int64_t w = 0; w < d->iw; ++w)
                    for (int64_t c = 0; c < d->ic; ++c)
                        acc += (double)x[(h * d->iw + w) * d->ic + c] *
                               w_o[(c * d->ih + h) * d->iw + w];
            float y = (float)acc;
            dst[n * d->oc + o] = relu ? cnnk_ref_act(y, relu_alpha) : y;
        }
    }
}
