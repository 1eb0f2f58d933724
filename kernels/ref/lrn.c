/* Local response normalisation across channels (PyTorch / oneDNN). */
#include <math.h>

#include "kernels/ref/ref.h"

/* The window c - (size-1)/2 .. c + (size-1)/2 of desc.h; size is odd
 * (cnnk_lrn_check), where PyTorch and oneDNN agree. The divisor is always
 * `size`, even where the window is clipped at the tensor's edge, as in both. */
static void lrn_pixel(const cnnk_lrn_desc *d, const float *x, float *y) {
    for (int64_t c = 0; c < d->c; ++c) {
        int64_t lo = c - (d->size - 1) / 2, hi = c + (d->size - 1) / 2;
        if (lo < 0) lo = 0;
        if (hi > d->c - 1) hi = d->c - 1;
        double sum = 0.0;
        for (int64_t j = lo; j <= hi; ++j) sum += (double)x[j] * x[j];
        double base = (double)d->k + (double)d->alpha / (double)d->size * sum;
        y[c] = (float)(x[c] / pow(base, (double)d->beta));
    }
}

void cnnk_ref_lrn(const cnnk_lrn_desc *d, const float *src, int64_t src_ld, float *dst,
                  int64_t dst_ld) {
    int64_t pixels = d->mb * d->h * d->w;
    for (int64_t p = 0; p < pixels; ++p) lrn_pixel(d, src + p * src_ld, dst + p * dst_ld);
}
