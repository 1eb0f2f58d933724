/* Region max pooling: the definition (include/cnnk/desc.h,
 * cnnk_region_pool_desc; docs/REGIONS.md). Each bin's max over its pixels,
 * channel by channel; an empty bin and a padding row give 0. */
#include <math.h>
#include <string.h>

#include "kernels/ref/ref.h"

/* Where level l's bin (i, j), channel c of region r of image n lands. */
static float *out_at(const cnnk_region_pool_desc *d, float *dst, int64_t dst_ld, int64_t n,
                     int64_t r, int l, int64_t i, int64_t j, int64_t c) {
    if (!d->flatten) {
        const int64_t row = r * d->bins_h[0] + i;
        return dst + ((n * d->oh + row) * d->ow + j) * dst_ld + c;
    }
    int64_t off = 0;
    for (int k = 0; k < l; ++k) off += d->c * d->bins_h[k] * d->bins_w[k];
    off += (c * d->bins_h[l] + i) * d->bins_w[l] + j;
    return dst + (n * d->ow + r) * dst_ld + off;
}

void cnnk_ref_region_pool(const cnnk_region_pool_desc *d, const float *src, int64_t src_ld,
                          const float *boxes, int64_t boxes_ld, int64_t boxes_stride,
                          float *dst, int64_t dst_ld) {
    const bool roi = d->rois > 0;
    const int64_t regions = roi ? d->rois : 1;
    for (int64_t n = 0; n < d->mb; ++n) {
        const float *img = src + n * d->ih * d->iw * src_ld;
        for (int64_t r = 0; r < regions; ++r) {
            int64_t y0 = 0, hlen = d->ih, x0 = 0, wlen = d->iw;
            bool padding = false;
            if (roi) {
                const float *b = boxes + n * boxes_stride + r * boxes_ld;
                padding = !(b[0] >= 0.0f);
                cnnk_region_box(b + 1, d->spatial_scale, &y0, &hlen, &x0, &wlen);
            }
            for (int l = 0; l < d->nlevels; ++l) {
                for (int64_t i = 0; i < d->bins_h[l]; ++i) {
                    int64_t h0, h1, w0, w1;
                    cnnk_region_bin(roi, i, d->bins_h[l], y0, hlen, d->ih, &h0, &h1);
                    for (int64_t j = 0; j < d->bins_w[l]; ++j) {
                        cnnk_region_bin(roi, j, d->bins_w[l], x0, wlen, d->iw, &w0, &w1);
                        const bool empty = padding || h1 <= h0 || w1 <= w0;
                        for (int64_t c = 0; c < d->c; ++c) {
                            float m = -INFINITY;
                            for (int64_t h = h0; !empty && h < h1; ++h)
                                for (int64_t w = w0; w < w1; ++w) {
                                    const float x = img[(h * d->iw + w) * src_ld + c];
                                    if (x > m) m = x;
                                }
                            *out_at(d, dst, dst_ld, n, r, l, i, j, c) = empty ? 0.0f : m;
                        }
                    }
                }
            }
        }
    }
}
