/* Bilinear resize, the definition (PyTorch's F.interpolate, mode
 * "bilinear"): each output pixel blends the four input pixels around its
 * source coordinate (cnnk_ref_resize_tap), the width taps inside, the
 * height taps outside, in float as PyTorch's CPU kernel sums them. */
#include "kernels/ref/ref.h"

void cnnk_ref_resize(const cnnk_resize_desc *d, const float *src, int64_t src_ld, float *dst,
                     int64_t dst_ld) {
    for (int64_t n = 0; n < d->mb; ++n)
        for (int64_t oy = 0; oy < d->oh; ++oy) {
            int64_t y0, y1;
            float h0, h1;
            cnnk_ref_resize_tap(oy, d->ih, d->oh, d->align_corners, &y0, &y1, &h0, &h1);
            const float *r0 = src + (n * d->ih + y0) * d->iw * src_ld;
            const float *r1 = src + (n * d->ih + y1) * d->iw * src_ld;
            for (int64_t ox = 0; ox < d->ow; ++ox) {
                int64_t x0, x1;
                float w0, w1;
                cnnk_ref_resize_tap(ox, d->iw, d->ow, d->align_corners, &x0, &x1, &w0, &w1);
                float *y = dst + ((n * d->oh + oy) * d->ow + ox) * dst_ld;
                for (int64_t c = 0; c < d->c; ++c) {
                    const float top = w0 * r0[x0 * src_ld + c] + w1 * r0[x1 * src_ld + c];
                    const float bot = w0 * r1[x0 * src_ld + c] + w1 * r1[x1 * src_ld + c];
                    y[c] = h0 * top + h1 * bot;
                }
            }
        }
}
