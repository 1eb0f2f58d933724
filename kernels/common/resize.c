/* The ISA-generic half of the bilinear resize: the taps (the reference's
 * cnnk_ref_resize_tap, so the rule exists once), the column table and the
 * split of output rows over threads. Each ISA gives the row function. */
#include "kernels/common/resize.h"

#include "kernels/common/team.h"
#include "kernels/common/util.h"
#include "kernels/ref/ref.h"

bool cnnk_resize_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_RESIZE; }

size_t cnnk_resize_workspace_size(const cnnk_layer_desc *l, int nthreads) {
    (void)nthreads; /* one table, read by every thread */
    const size_t bytes = (size_t)l->u.resize.ow * sizeof(cnnk_resize_col);
    return cnnk_align16((bytes + sizeof(float) - 1) / sizeof(float));
}

typedef struct resize_job {
    const cnnk_resize_desc *d;
    const cnnk_op_args *a;
    const cnnk_resize_col *cols;
    cnnk_resize_row_fn row;
} resize_job;

static void resize_rows(void *ctx, int64_t lo, int64_t hi, int t) {
    (void)t;
    const resize_job *j = ctx;
    const cnnk_resize_desc *d = j->d;
    const int64_t ld = j->a->src_ld[0];
    for (int64_t r = lo; r < hi; ++r) {
        const int64_t n = r / d->oh, oy = r % d->oh;
        int64_t y0, y1;
        float h0, h1;
        cnnk_ref_resize_tap(oy, d->ih, d->oh, d->align_corners, &y0, &y1, &h0, &h1);
        const float *r0 = j->a->src[0] + (n * d->ih + y0) * d->iw * ld;
        const float *r1 = j->a->src[0] + (n * d->ih + y1) * d->iw * ld;
        j->row(d->c, d->ow, j->cols, r0, r1, h0, h1, j->a->dst + r * d->ow * j->a->dst_ld,
               j->a->dst_ld);
    }
}

void cnnk_resize_run(const cnnk_layer_desc *l, const cnnk_op_args *a, cnnk_resize_row_fn row) {
    const cnnk_resize_desc *d = &l->u.resize;
    cnnk_resize_col *cols = (cnnk_resize_col *)(void *)a->workspace;
    for (int64_t x = 0; x < d->ow; ++x) {
        int64_t x0, x1;
        cnnk_ref_resize_tap(x, d->iw, d->ow, d->align_corners, &x0, &x1, &cols[x].w0,
                            &cols[x].w1);
        cols[x].x0 = x0 * a->src_ld[0], cols[x].x1 = x1 * a->src_ld[0];
    }
    resize_job j = {d, a, cols, row};
    cnnk_parallel_for(a->nthreads, d->mb * d->oh, resize_rows, &j);
}
