/* Inference batch-norm as a layer of its own, for networks that keep it
 * apart from the convolution (cnnk_ref_bnorm_fold is the fused form). */
#include <math.h>

#include "kernels/ref/ref.h"

void cnnk_ref_bnorm(const cnnk_bnorm_desc *d, const float *src, int64_t src_ld,
                    const float *mean, const float *var, const float *gamma,
                    const float *beta, float *dst, int64_t dst_ld) {
    int64_t pixels = d->mb * d->h * d->w;
    for (int64_t p = 0; p < pixels; ++p) {
        const float *x = src + p * src_ld;
        float *y = dst + p * dst_ld;
        for (int64_t c = 0; c < d->c; ++c) {
            double inv_std = 1.0 / sqrt((double)var[c] + (double)d->eps);
            y[c] = (float)((double)gamma[c] * ((double)x[c] - mean[c]) * inv_std + beta[c]);
        }
    }
}
