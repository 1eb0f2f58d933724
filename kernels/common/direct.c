/* The direct convolution's driver, shared by every ISA; see direct.h for
 * the scheme and docs/KERNELS_AVX2_DIRECT.md for the figures. */
#include "kernels/common/direct.h"

#include <omp.h>

/* ---- geometry ------------------------------------------------------------ */

/* Shape constants shared by every row. */
typedef struct geom {
    const cnnk_conv_desc *d;
    const cnnk_direct_ukernel *uk;
    int64_t icg, ocg, nob, src_ld;
    int64_t ox_lo, ox_hi; /* interior: every kw tap inside the image */
    bool dense;           /* kw taps adjacent in memory */
} geom;

static geom make_geom(const cnnk_direct_ukernel *uk, const cnnk_conv_desc *d, int64_t src_ld) {
    geom g = {.d = d, .uk = uk, .icg = d->ic / d->g, .ocg = d->oc / d->g, .src_ld = src_ld};
    g.nob = cnnk_ceil_div(g.ocg, uk->oc_blk);
    g.dense = d->dw == 1 && src_ld == g.icg;
    const int64_t span = (d->kw - 1) * d->dw;
    g.ox_lo = cnnk_min64(cnnk_ceil_div(d->pl, d->sw), d->ow);
    const int64_t last = d->iw - 1 - span + d->pl; /* largest interior ox * sw */
    g.ox_hi = last < 0 ? g.ox_lo : cnnk_max64(g.ox_lo, cnnk_min64(last / d->sw + 1, d->ow));
    return g;
}

/* The tap range [lo, hi) of a window starting at i0 (taps dil apart) that
 * falls inside [0, n); empty ranges come back as lo == hi. */
static void tap_range(int64_t i0, int64_t k, int64_t dil, int64_t n, int64_t *lo, int64_t *hi) {
    *lo = i0 < 0 ? cnnk_ceil_div(-i0, dil) : 0;
    *hi = i0 > n - 1 ? 0 : cnnk_min64(k, (n - 1 - i0) / dil + 1);
    if (*hi < *lo) *hi = *lo;
}

/* Fills the per-pixel part of t for the w pixels from ox. */
static void set_columns(const geom *g, cnnk_direct_taps *t, int64_t ox, int64_t w) {
    const cnnk_conv_desc *d = g->d;
    t->interior = ox >= g->ox_lo && ox + w <= g->ox_hi;
    t->ix0[0] = ox * d->sw - d->pl;
    if (t->interior) { /* no divisions: they cost a tenth of a 7x7x3 tile */
        t->kx_min = 0;
        t->kx_max = d->kw;
        return;
    }
    t->kx_min = d->kw;
    t->kx_max = 0;
    for (int64_t p = 0; p < w; ++p) {
        t->ix0[p] = (ox + p) * d->sw - d->pl;
        tap_range(t->ix0[p], d->kw, d->dw, d->iw, &t->lo[p], &t->hi[p]);
        if (t->lo[p] < t->hi[p]) {
            t->kx_min = cnnk_min64(t->kx_min, t->lo[p]);
            t->kx_max = cnnk_max64(t->kx_max, t->hi[p]);
        }
    }
}

/* ---- one output row of one oc_blk-channel block -------------------------- */

typedef struct row_job {
    int64_t n, oy, grp, ob;
} row_job;

static void conv_row(const geom *g, const cnnk_conv_args *a, row_job j) {
    const cnnk_conv_desc *d = g->d;
    const int64_t ob_n = g->uk->oc_blk, w_blk = g->uk->w_blk;
    const int64_t ld = a->src_ld;
    const int64_t iy0 = j.oy * d->sh - d->pt;
    int64_t ky_lo, ky_hi;
    tap_range(iy0, d->kh, d->dh, d->ih, &ky_lo, &ky_hi);
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
        .nvalid = (int)cnnk_min64(ob_n, g->ocg - j.ob * ob_n),
    };
    const float *wblk = a->packed + (j.grp * g->nob + j.ob) * d->kh * d->kw * g->icg * ob_n;
    const int64_t iy = ky_hi > ky_lo ? iy0 + ky_lo * d->dh : 0;
    cnnk_direct_taps t = {
        .src = a->src + ((j.n * d->ih + iy) * d->iw) * ld + j.grp * g->icg,
        .w = wblk + ky_lo * d->kw * g->icg * ob_n,
        .ky_n = ky_hi - ky_lo,
        .src_row = d->dh * d->iw * ld,
        .w_row = d->kw * g->icg * ob_n,
        .ld = ld,
        .dw = d->dw,
        .icg = g->icg,
        .pix_step = d->sw * ld,
        .dense = g->dense,
    };

    /* Tiles as even as possible (56 = 6 x 6 + 4 x 5, not 9 x 6 + 2): a
     * narrow remainder tile runs at a fraction of the FMA rate. */
    const int64_t ntiles = cnnk_ceil_div(d->ow, w_blk);
    const int64_t base = d->ow / ntiles, wide = d->ow % ntiles;
    for (int64_t i = 0, ox = 0; i < ntiles; ++i) {
        const int64_t w = base + (i < wide);
        set_columns(g, &t, ox, w);
        cnnk_direct_store st = s;
        st.dst += ox * s.dst_ld;
        if (st.res) st.res += ox * s.res_ld;
        g->uk->tile[w - 1](&t, &st);
        ox += w;
    }
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

static void run_range(const geom *g, const cnnk_conv_args *a, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) conv_row(g, a, job_at(g, i));
}

void cnnk_direct_run(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                     const cnnk_conv_args *a) {
    const geom g = make_geom(isa->direct, d, a->src_ld);
    const int64_t jobs = d->g * g.nob * d->mb * d->oh;
    if (a->nthreads <= 1 || jobs < 2) {
        run_range(&g, a, 0, jobs);
        return;
    }
    const int nt = (int)cnnk_min64(a->nthreads, jobs);
#pragma omp parallel num_threads(nt)
    {
        const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
        run_range(&g, a, jobs * t / n, jobs * (t + 1) / n);
    }
}
