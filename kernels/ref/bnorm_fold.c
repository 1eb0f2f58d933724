/* Folding inference batch-norm into the convolution before it, so that no
 * kernel needs a batch-norm epilogue: bn(conv(x, w) + b) = conv(x, s*w) +
 * (b - mean) * s + beta with s = gamma / sqrt(var + eps) per output channel. */
#include <math.h>

#include "kernels/ref/ref.h"

void cnnk_ref_bnorm_fold(const cnnk_conv_desc *d, float *w_oihw, float *bias,
                         const float *mean, const float *var, const float *gamma,
                         const float *beta, float eps) {
    const int64_t filter = d->ic / d->g * d->kh * d->kw;
    for (int64_t o = 0; o < d->oc; ++o) {
        /* double for the scale: sqrt and the division then round once. */
        const double s = (double)gamma[o] / sqrt((double)var[o] + (double)eps);
        float *w = w_oihw + o * filter;
        for (int64_t i = 0; i < filter; ++i)
            w[i] = (float)(w[i] * s);
        bias[o] = (float)(((double)bias[o] - mean[o]) * s + beta[o]);
    }
}
