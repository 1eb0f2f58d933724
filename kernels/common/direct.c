/* The direct convolution's driver, shared by every ISA; see direct.h for
 * the scheme and docs/KERNELS_AVX2_DIRECT.md for the figures. */
#include "kernels/common/direct.h"
#include "kernels/common/direct_row.h"

#include "kernels/common/team.h"

/* ---- geometry ------------------------------------------------------------ */

/* Shape constants shared by every row. */
typedef struct geom {
    const cnnk_conv_desc *d;
    const cnnk_direct_ukernel *uk;
    int64_t icg, ocg, nob, src_ld;
    cnnk_direct_cols cols;
    bool dense; /* kw taps adjacent in memory */
} geom;

static geom make_geom(const cnnk_direct_ukernel *uk, const cnnk_conv_desc *d, int64_t src_ld) {
    geom g = {.d = d, .uk = uk, .icg = d->ic / d->g, .ocg = d->oc / d->g, .src_ld = src_ld};
    g.nob = cnnk_ceil_div(g.ocg, uk->oc_blk);
    g.dense = d->dw == 1 && src_ld == g.icg;
    const int64_t span = (d->kw - 1) * d->dw;
    /* interior: every kw tap inside the image */
    const int64_t ox_lo = cnnk_min64(cnnk_ceil_div(d->pl, d->sw), d->ow);
    const int64_t last = d->iw - 1 - span + d->pl; /* largest interior ox * sw */
    g.cols = (cnnk_direct_cols){
        .ow = d->ow, .sw = d->sw, .pl = d->pl, .kw = d->kw, .dw = d->dw, .iw = d->iw,
        .ox_lo = ox_lo,
        .ox_hi = last < 0 ? ox_lo : cnnk_max64(ox_lo, cnnk_min64(last / d->sw + 1, d->ow)),
    };
    return g;
}

/* ---- one output row of one oc_blk-channel block -------------------------- */

typedef struct row_job {
    int64_t n, oy, grp, ob;
} row_job;

static void conv_row(const geom *g, const cnnk_conv_args *a, row_job j) {
    const cnnk_conv_desc *d = g->d;
    const int64_t ob_n = g->uk->oc_blk;
    const int64_t ld = a->src_ld;
    const int64_t iy0 = j.oy * d->sh - d->pt;
    int64_t ky_lo, ky_hi;
    cnnk_direct_tap_range(iy0, d->kh, d->dh, d->ih, &ky_lo, &ky_hi);
    if (ky_hi == ky_lo) ky_lo = ky_hi = 0; /* the row is all padding: read nothing */

    const int64_t oc0 = j.grp * g->ocg + j.ob * ob_n;
    const int64_t pixel0 = (j.n * d->oh + j.oy) * d->ow;
    const cnnk_direct_store s = {
        .dst = a->dst + pixel0 * a->dst_ld + oc0,
        .dst_ld = a->dst_ld,
        .bias = a->ep.bias ? a->ep.bias + oc0 : NULL,
        .res = a->ep.residual ? a->ep.residual + pixel0 * a->ep.residual_ld + oc0 : NULL,
        .res_ld = a->ep.residual_ld,
        .relu = a->ep.relu,
        .relu_alpha = a->ep.relu_alpha,
        .nvalid = (int)cnnk_min64(ob_n, g->ocg - j.ob * ob_n),
    };
    const float *wblk = a->packed + (j.grp * g->nob + j.ob) * d->kh * d->kw * g->icg * ob_n;
    const int64_t iy = ky_hi > ky_lo ? iy0 + ky_lo * d->dh : 0;
    /* Field by field, not an initializer: zeroing the per-pixel arrays,
     * which the row function fills before any tile reads them, was a
     * rep stos per row, ~3% of a 1x1 row over 64 channels. */
    cnnk_direct_taps t;
    t.src = a->src + ((j.n * d->ih + iy) * d->iw) * ld + j.grp * g->icg;
    t.w = wblk + ky_lo * d->kw * g->icg * ob_n;
    t.ky_n = ky_hi - ky_lo;
    t.src_row = d->dh * d->iw * ld;
    t.w_row = d->kw * g->icg * ob_n;
    t.ld = ld;
    t.dw = d->dw;
    t.icg = g->icg;
    t.pix_step = d->sw * ld;
    t.dense = g->dense;

    g->uk->row(&g->cols, &t, &s);
}

/* ---- the entry points ---------------------------------------------------- */

bool cnnk_direct_applies(const cnnk_conv_desc *d) { return !d->transposed; }

size_t cnnk_direct_packed_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d) {
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g, ob_n = isa->direct->oc_blk;
    return (size_t)(d->g * cnnk_ceil_div(ocg, ob_n) * d->kh * d->kw * icg * ob_n);
}

/* No workspace: not even for border tiles. Copying a zero-padded strip of
 * a border tile's taps (so that it could run the interior loop) measured
 * 1-3% slower than the segment walk on ResNet's conv1 and AlexNet's conv1
 * (H200 host, 3 runs; docs/KERNELS_AVX2_DIRECT.md). */
size_t cnnk_direct_workspace_size(const cnnk_conv_desc *d, int nthreads) {
    (void)d;
    (void)nthreads;
    return 0;
}

void cnnk_direct_pack(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, const float *w_oihw,
                      float *packed) {
    const int64_t ob_n = isa->direct->oc_blk;
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g, nob = cnnk_ceil_div(ocg, ob_n);
    const int64_t khw = d->kh * d->kw;
    float *p = packed;
    for (int64_t grp = 0; grp < d->g; ++grp)
        for (int64_t ob = 0; ob < nob; ++ob)
            for (int64_t k = 0; k < khw; ++k)
                for (int64_t c = 0; c < icg; ++c)
                    for (int64_t l = 0; l < ob_n; ++l) {
                        const int64_t o = ob * ob_n + l;
                        *p++ = o < ocg ? w_oihw[((grp * ocg + o) * icg + c) * khw + k] : 0.0f;
                    }
}

/* Work item i, in the order a thread walks them: rows innermost, so one
 * channel block of weights stays in L1/L2 across consecutive rows. */
static row_job job_at(const geom *g, int64_t i) {
    const cnnk_conv_desc *d = g->d;
    row_job j;
    j.oy = i % d->oh;
    i /= d->oh;
    j.n = i % d->mb;
    i /= d->mb;
    j.ob = i % g->nob;
    j.grp = i / g->nob;
    return j;
}

typedef struct direct_job {
    const geom *g;
    const cnnk_conv_args *a;
} direct_job;

static void run_range(void *p, int64_t lo, int64_t hi, int t) {
    (void)t;
    const direct_job *j = p;
    for (int64_t i = lo; i < hi; ++i) conv_row(j->g, j->a, job_at(j->g, i));
}

void cnnk_direct_run(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                     const cnnk_conv_args *a) {
    const geom g = make_geom(isa->direct, d, a->src_ld);
    const int64_t jobs = d->g * g.nob * d->mb * d->oh;
    direct_job j = {.g = &g, .a = a};
    cnnk_parallel_for(a->nthreads, jobs, run_range, &j);
}
