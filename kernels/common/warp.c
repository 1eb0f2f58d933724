/* The ISA-generic half of R-CNN's warp: the geometry and the taps are the
 * reference's (cnnk_ref_warp_box, cnnk_ref_resize_tap), so the rules exist
 * once; the regions are split over the threads, each building its
 * region's column table in its own workspace slice; the rows go through
 * the ISA's resize row. */
#include "kernels/common/warp.h"

#include <string.h>

#include "kernels/common/team.h"
#include "kernels/common/util.h"
#include "kernels/ref/ref.h"

bool cnnk_warp_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_WARP; }

static size_t table_floats(const cnnk_warp_desc *d) {
    const size_t bytes = (size_t)d->ow * sizeof(cnnk_resize_col);
    return cnnk_align16((bytes + sizeof(float) - 1) / sizeof(float));
}

size_t cnnk_warp_workspace_size(const cnnk_layer_desc *l, int nthreads) {
    return table_floats(&l->u.warp) * (size_t)(nthreads > 0 ? nthreads : 1);
}

typedef struct warp_job {
    const cnnk_warp_desc *d;
    const cnnk_op_args *a;
    cnnk_resize_row_fn row;
} warp_job;

/* count pixels of c channels, ld apart, set to 0 */
static void zero_pixels(float *p, int64_t count, int64_t c, int64_t ld) {
    if (ld == c) {
        memset(p, 0, (size_t)(count * c) * sizeof *p);
        return;
    }
    for (int64_t i = 0; i < count; ++i) memset(p + i * ld, 0, (size_t)c * sizeof *p);
}

static void warp_region(const warp_job *j, int64_t n, int64_t r, cnnk_resize_col *cols) {
    const cnnk_warp_desc *d = j->d;
    const int64_t sld = j->a->src_ld[0], dld = j->a->dst_ld;
    float *out = j->a->dst + (n * d->rois + r) * d->oh * d->ow * dld;
    cnnk_warp_box g;
    cnnk_ref_warp_box(d, j->a->params[0] + r * 5, &g);
    if (g.th == 0) {
        zero_pixels(out, d->oh * d->ow, d->c, dld);
        return;
    }
    for (int64_t x = 0; x < g.tw; ++x) {
        int64_t x0, x1;
        cnnk_ref_resize_tap(x, g.sw, g.tw, false, &x0, &x1, &cols[x].w0, &cols[x].w1);
        cols[x].x0 = (g.sx + x0) * sld, cols[x].x1 = (g.sx + x1) * sld;
    }
    const float *img = j->a->src[0] + n * d->ih * d->iw * sld;
    zero_pixels(out, g.ty * d->ow, d->c, dld);
    for (int64_t ry = 0; ry < g.th; ++ry) {
        float *y = out + (g.ty + ry) * d->ow * dld;
        int64_t y0, y1;
        float h0, h1;
        cnnk_ref_resize_tap(ry, g.sh, g.th, false, &y0, &y1, &h0, &h1);
        zero_pixels(y, g.tx, d->c, dld);
        j->row(d->c, g.tw, cols, img + (g.sy + y0) * d->iw * sld,
               img + (g.sy + y1) * d->iw * sld, h0, h1, y + g.tx * dld, dld);
        zero_pixels(y + (g.tx + g.tw) * dld, d->ow - g.tx - g.tw, d->c, dld);
    }
    zero_pixels(out + (g.ty + g.th) * d->ow * dld, (d->oh - g.ty - g.th) * d->ow, d->c, dld);
}

static void warp_regions(void *ctx, int64_t lo, int64_t hi, int t) {
    const warp_job *j = ctx;
    cnnk_resize_col *cols =
        (cnnk_resize_col *)(void *)(j->a->workspace + (size_t)t * table_floats(j->d));
    for (int64_t i = lo; i < hi; ++i) warp_region(j, i / j->d->rois, i % j->d->rois, cols);
}

void cnnk_warp_run(const cnnk_layer_desc *l, const cnnk_op_args *a, cnnk_resize_row_fn row) {
    warp_job j = {&l->u.warp, a, row};
    cnnk_parallel_for(a->nthreads, l->u.warp.mb * l->u.warp.rois, warp_regions, &j);
}
