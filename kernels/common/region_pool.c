/* Region max pooling's driver (kernels/common/region_pool.h). The bin
 * geometry is the descriptor's (cnnk_region_bin, cnnk_region_box), the
 * same calls as the reference; work items are (image, region) pairs, so
 * Fast R-CNN's hundreds of boxes spread over the threads while a pyramid
 * over one image is one item (its 50 bins are too little to split). */
#include <string.h>

#include "kernels/common/region_pool.h"
#include "kernels/common/team.h"
#include "kernels/common/util.h"

bool cnnk_region_pool_applies(const cnnk_layer_desc *l) {
    return l->kind == CNNK_LAYER_REGION_POOL;
}

size_t cnnk_region_pool_workspace_size(const cnnk_layer_desc *l, int nthreads) {
    const cnnk_region_pool_desc *d = &l->u.region;
    return d->flatten ? cnnk_align16((size_t)d->c) * (size_t)(nthreads > 0 ? nthreads : 1) : 0;
}

typedef struct region_job {
    const cnnk_region_pool_desc *d;
    const cnnk_op_args *a;
    cnnk_region_bin_max_fn bin_max;
} region_job;

/* The boxes of image n: a node's tensor, or the held set every image shares. */
static const float *boxes_of(const cnnk_region_pool_desc *d, const cnnk_op_args *a, int64_t n,
                             int64_t *ld) {
    if (a->src[1]) {
        *ld = a->src_ld[1];
        return a->src[1] + n * d->rois * a->src_ld[1];
    }
    *ld = 5;
    return a->params[0];
}

static void region(const region_job *j, int64_t item, float *gather) {
    const cnnk_region_pool_desc *d = j->d;
    const cnnk_op_args *a = j->a;
    const bool roi = d->rois > 0;
    const int64_t regions = roi ? d->rois : 1, n = item / regions, r = item % regions;
    const int64_t ld = a->src_ld[0];
    const float *img = a->src[0] + n * d->ih * d->iw * ld;
    int64_t y0 = 0, hlen = d->ih, x0 = 0, wlen = d->iw;
    bool padding = false;
    if (roi) {
        int64_t bld;
        const float *b = boxes_of(d, a, n, &bld) + r * bld;
        padding = !(b[0] >= 0.0f);
        cnnk_region_box(b + 1, d->spatial_scale, &y0, &hlen, &x0, &wlen);
    }
    int64_t off = 0;
    for (int l = 0; l < d->nlevels; ++l) {
        const int64_t bh = d->bins_h[l], bw = d->bins_w[l];
        for (int64_t i = 0; i < bh; ++i) {
            int64_t h0, h1, w0, w1;
            cnnk_region_bin(roi, i, bh, y0, hlen, d->ih, &h0, &h1);
            for (int64_t jx = 0; jx < bw; ++jx) {
                cnnk_region_bin(roi, jx, bw, x0, wlen, d->iw, &w0, &w1);
                const bool empty = padding || h1 <= h0 || w1 <= w0;
                float *y = d->flatten
                               ? gather
                               : a->dst + ((n * d->oh + r * bh + i) * d->ow + jx) * a->dst_ld;
                if (empty)
                    memset(y, 0, (size_t)d->c * sizeof *y);
                else
                    j->bin_max(img, d->iw, ld, h0, h1, w0, w1, d->c, y);
                if (!d->flatten) continue;
                /* C x H x W within the level: channel c's cell is c*bh*bw apart. */
                float *row = a->dst + (n * d->ow + r) * a->dst_ld + off + i * bw + jx;
                for (int64_t c = 0; c < d->c; ++c) row[c * bh * bw] = y[c];
            }
        }
        off += d->c * bh * bw;
    }
}

static void regions(void *ctx, int64_t lo, int64_t hi, int part) {
    const region_job *j = ctx;
    float *gather = j->a->workspace ? j->a->workspace + (size_t)part * cnnk_align16((size_t)j->d->c)
                                    : NULL;
    for (int64_t i = lo; i < hi; ++i) region(j, i, gather);
}

void cnnk_region_pool_drive(const cnnk_layer_desc *l, const cnnk_op_args *a,
                            cnnk_region_bin_max_fn bin_max) {
    const cnnk_region_pool_desc *d = &l->u.region;
    const region_job j = {d, a, bin_max};
    const int64_t items = d->mb * (d->rois > 0 ? d->rois : 1);
    cnnk_parallel_for(a->nthreads, items, regions, (void *)&j);
}
