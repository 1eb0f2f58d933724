/* R-CNN's region warp, the definition (include/cnnk/desc.h's
 * cnnk_warp_desc; docs/REGIONS.md): rcnn_im_crop.m's "warp" crop with
 * context padding, then a bilinear resize of the in-image part (the
 * resize's own taps, cnnk_ref_resize_tap) into its place in the output;
 * what the dilated box has outside the image is 0. */
#include <math.h>
#include <string.h>

#include "kernels/ref/ref.h"

/* rcnn_im_crop.m (padding > 0, crop_mode "warp") in 0-based pixels: the
 * arithmetic is Matlab's, in double, its round() halves away from zero as
 * C's round() does; shifting every coordinate by the one pixel of Matlab's
 * 1-based indexing commutes with each step (integer shifts). */
void cnnk_ref_warp_box(const cnnk_warp_desc *d, const float *box, cnnk_warp_box *g) {
    memset(g, 0, sizeof *g);
    const double x1 = box[1], y1 = box[2], x2 = box[3], y2 = box[4];
    if (!(box[0] >= 0.0f) || !(x2 >= x1) || !(y2 >= y1)) return; /* padding, reversed, NaN */
    if (d->pad == 0) {
        /* rcnn_im_crop.m skips its context branch: the box as it is (here
         * clipped to the image, where Matlab would fail) fills the output */
        const double cy1 = fmax(0.0, y1), cx1 = fmax(0.0, x1);
        const double cy2 = fmin((double)(d->ih - 1), y2), cx2 = fmin((double)(d->iw - 1), x2);
        if (!(cy2 >= cy1) || !(cx2 >= cx1)) return;
        g->sy = (int64_t)cy1, g->sx = (int64_t)cx1;
        g->sh = (int64_t)(cy2 - cy1) + 1, g->sw = (int64_t)(cx2 - cx1) + 1;
        g->th = d->oh, g->tw = d->ow;
        return;
    }
    const double scale_h = (double)d->oh / (double)(d->oh - 2 * d->pad);
    const double scale_w = (double)d->ow / (double)(d->ow - 2 * d->pad);
    const double half_h = (y2 - y1 + 1.0) / 2.0, half_w = (x2 - x1 + 1.0) / 2.0;
    const double cy = y1 + half_h, cx = x1 + half_w;
    const double by1 = round(cy - half_h * scale_h), by2 = round(cy + half_h * scale_h);
    const double bx1 = round(cx - half_w * scale_w), bx2 = round(cx + half_w * scale_w);
    const double unclipped_h = by2 - by1 + 1.0, unclipped_w = bx2 - bx1 + 1.0;
    const double pad_y1 = fmax(0.0, -by1), pad_x1 = fmax(0.0, -bx1);
    const double cy1 = fmax(0.0, by1), cx1 = fmax(0.0, bx1);
    const double cy2 = fmin((double)(d->ih - 1), by2), cx2 = fmin((double)(d->iw - 1), bx2);
    const double clipped_h = cy2 - cy1 + 1.0, clipped_w = cx2 - cx1 + 1.0;
    if (!(clipped_h >= 1.0) || !(clipped_w >= 1.0)) return; /* nothing of it in the image */
    const double sy = (double)d->oh / unclipped_h, sx = (double)d->ow / unclipped_w;
    int64_t th = (int64_t)round(clipped_h * sy), tw = (int64_t)round(clipped_w * sx);
    const int64_t ty = (int64_t)round(pad_y1 * sy), tx = (int64_t)round(pad_x1 * sx);
    if (ty + th > d->oh) th = d->oh - ty;
    if (tx + tw > d->ow) tw = d->ow - tx;
    if (th < 1 || tw < 1) return;
    g->sy = (int64_t)cy1, g->sx = (int64_t)cx1;
    g->sh = (int64_t)clipped_h, g->sw = (int64_t)clipped_w;
    g->ty = ty, g->tx = tx, g->th = th, g->tw = tw;
}

void cnnk_ref_warp(const cnnk_warp_desc *d, const float *src, int64_t src_ld, const float *boxes,
                   float *dst, int64_t dst_ld) {
    for (int64_t n = 0; n < d->mb; ++n)
        for (int64_t r = 0; r < d->rois; ++r) {
            cnnk_warp_box g;
            cnnk_ref_warp_box(d, boxes + r * 5, &g);
            const float *img = src + n * d->ih * d->iw * src_ld;
            for (int64_t oy = 0; oy < d->oh; ++oy)
                for (int64_t ox = 0; ox < d->ow; ++ox) {
                    float *y = dst + (((n * d->rois + r) * d->oh + oy) * d->ow + ox) * dst_ld;
                    const int64_t ry = oy - g.ty, rx = ox - g.tx;
                    if (ry < 0 || ry >= g.th || rx < 0 || rx >= g.tw) {
                        for (int64_t c = 0; c < d->c; ++c) y[c] = 0.0f;
                        continue;
                    }
                    int64_t y0, y1, x0, x1;
                    float h0, h1, w0, w1;
                    cnnk_ref_resize_tap(ry, g.sh, g.th, false, &y0, &y1, &h0, &h1);
                    cnnk_ref_resize_tap(rx, g.sw, g.tw, false, &x0, &x1, &w0, &w1);
                    const float *r0 = img + ((g.sy + y0) * d->iw + g.sx) * src_ld;
                    const float *r1 = img + ((g.sy + y1) * d->iw + g.sx) * src_ld;
                    for (int64_t c = 0; c < d->c; ++c) {
                        const float top = w0 * r0[x0 * src_ld + c] + w1 * r0[x1 * src_ld + c];
                        const float bot = w0 * r1[x0 * src_ld + c] + w1 * r1[x1 * src_ld + c];
                        y[c] = h0 * top + h1 * bot;
                    }
                }
        }
}
