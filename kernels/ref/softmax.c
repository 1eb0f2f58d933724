/* Softmax over the channels of each pixel. */
#include <math.h>

#include "kernels/ref/ref.h"

/* Subtracting the max keeps every exp() in (0, 1], so no input overflows;
 * the sum is in double so the reference is the exact ratio to float. */
static void softmax_pixel(int64_t c, const float *x, float *y) {
    float mx = x[0];
    for (int64_t j = 1; j < c; ++j)
        if (x[j] > mx) mx = x[j];
    double sum = 0.0;
    for (int64_t j = 0; j < c; ++j) sum += exp((double)x[j] - mx);
    for (int64_t j = 0; j < c; ++j) y[j] = (float)(exp((double)x[j] - mx) / sum);
}

void cnnk_ref_softmax(const cnnk_softmax_desc *d, const float *src, int64_t src_ld,
                      float *dst, int64_t dst_ld) {
    int64_t pixels = d->mb * d->h * d->w;
    for (int64_t p = 0; p < pixels; ++p) softmax_pixel(d->c, src + p * src_ld, dst + p * dst_ld);
}
