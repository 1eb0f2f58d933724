/* The transposed convolution's driver (kernels/common/deconv.h): packing,
 * rows, channel blocks and the walk along a row in tiles; no intrinsics. */
#include "kernels/common/deconv.h"

#include <string.h>

#include "kernels/common/team.h"
#include "kernels/common/util.h"

bool cnnk_deconv_applies(const cnnk_layer_desc *l) {
    return l->kind == CNNK_LAYER_DECONV && l->u.conv.transposed;
}

size_t cnnk_deconv_packed_size(const cnnk_layer_desc *l, int vl) {
    const cnnk_conv_desc *d = &l->u.conv;
    return (size_t)(d->g * d->kh * d->kw * (d->ic / d->g) * cnnk_round_up(d->oc / d->g, vl));
}

void cnnk_deconv_pack(const cnnk_layer_desc *l, const float *w, float *packed, int vl) {
    const cnnk_conv_desc *d = &l->u.conv;
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g, ocp = cnnk_round_up(ocg, vl);
    memset(packed, 0, cnnk_deconv_packed_size(l, vl) * sizeof(float));
    for (int64_t g = 0; g < d->g; ++g)
        for (int64_t o = 0; o < ocg; ++o)
            for (int64_t i = 0; i < icg; ++i)
                for (int64_t kh = 0; kh < d->kh; ++kh)
                    for (int64_t kw = 0; kw < d->kw; ++kw) {
                        float v = w[(((g * ocg + o) * icg + i) * d->kh + kh) * d->kw + kw];
                        packed[(((g * d->kh + kh) * d->kw + kw) * icg + i) * ocp + o] = v;
                    }
}

typedef struct deconv_ctx {
    const cnnk_conv_desc *d;
    const cnnk_op_args *a;
    const cnnk_deconv_isa *isa;
    int64_t icg, ocg, ocp;
    int64_t nvec, nblk; /* vectors of a group's channels, in nblk blocks */
} deconv_ctx;

/* The widest tile of at most `limit` pixels whose pixel 0 takes the
 * kernel columns of u (clipped to the kernel only): for every one, the
 * tile's input columns (first, first + 1, ...) must lie all inside the
 * row or all outside it. */
static int tile_width(const cnnk_deconv_taps *u, int64_t iw, int64_t limit) {
    int64_t w = limit;
    for (int64_t j = 0; j < u->count && w > 1; ++j) {
        const int64_t first = u->i0 - j * u->istep;
        if (first < 0)
            w = cnnk_min64(w, -first);
        else if (first < iw)
            w = cnnk_min64(w, iw - first);
    }
    return (int)w;
}

/* The pixels of one stride class (ow = r + m sw) of a row, in tiles. Its
 * pixels take the same kernel columns, pixel m reading m input columns
 * further than pixel 0: the taps are found once per class, and per tile
 * only clipped (no division without dilation). */
static void class_tiles(const deconv_ctx *c, cnnk_deconv_tile *t, float *y_row, int64_t r,
                        int nv) {
    const cnnk_conv_desc *d = c->d;
    const int64_t px = c->isa->px[nv], n = (d->ow - 1 - r) / d->sw + 1;
    const cnnk_deconv_taps base = cnnk_deconv_taps_of(r, d->kw, d->sw, d->pl, d->dw, d->iw, 0);
    for (int64_t m = 0; m < n;) {
        cnnk_deconv_taps u = base;
        u.i0 += m;
        const int w = tile_width(&u, d->iw, cnnk_min64(px, n - m));
        t->tw = cnnk_deconv_taps_clip(u, d->iw);
        t->y = y_row + (r + m * d->sw) * c->a->dst_ld;
        c->isa->tile(t, w, nv);
        m += w;
    }
}

/* Item = one output row (n, oh), the rows taken phase by phase
 * (deconv_taps.h); per group and channel block, the stride classes of the
 * row in turn. */
static void deconv_row(const deconv_ctx *c, int64_t item) {
    const cnnk_conv_desc *d = c->d;
    const cnnk_op_args *a = c->a;
    const int64_t n = item / d->oh;
    const int64_t oh = cnnk_deconv_phase_row(item % d->oh, d->oh, d->sh, d->pt);
    const float *bias = a->params[0];
    cnnk_deconv_tile t = {
        .th = cnnk_deconv_taps_of(oh, d->kh, d->sh, d->pt, d->dh, d->ih, 1),
        .iw_n = d->iw,
        .ld = a->src_ld[0],
        .kw = d->kw,
        .icg = c->icg,
        .ocp = c->ocp,
        .y_step = d->sw * a->dst_ld,
        .relu = a->relu,
        .relu_alpha = a->relu_alpha,
    };
    const float *x_n = a->src[0] + n * d->ih * d->iw * a->src_ld[0];
    float *y_row = a->dst + (n * d->oh + oh) * d->ow * a->dst_ld;
    const int64_t wg_size = d->kh * d->kw * c->icg * c->ocp;
    for (int64_t g = 0; g < d->g; ++g) {
        int64_t o0 = 0;
        /* Blocks as even as possible: 5 vectors as 3 + 2, not 4 + 1. */
        for (int64_t b = 0; b < c->nblk; ++b) {
            const int nv = (int)(c->nvec / c->nblk + (b < c->nvec % c->nblk));
            t.x = x_n + g * c->icg;
            t.w = a->packed + g * wg_size + o0;
            t.oc = c->ocg - o0;
            t.bias = bias ? bias + g * c->ocg + o0 : NULL;
            for (int64_t r = 0; r < cnnk_min64(d->sw, d->ow); ++r)
                class_tiles(c, &t, y_row + g * c->ocg + o0, r, nv);
            o0 += (int64_t)nv * c->isa->vl;
        }
    }
}

static void deconv_rows(void *ctx, int64_t lo, int64_t hi, int part) {
    (void)part;
    for (int64_t r = lo; r < hi; ++r) deconv_row(ctx, r);
}

void cnnk_deconv_run(const cnnk_layer_desc *l, const cnnk_op_args *a, const cnnk_deconv_isa *isa) {
    const cnnk_conv_desc *d = &l->u.conv;
    deconv_ctx c = {.d = d, .a = a, .isa = isa, .icg = d->ic / d->g, .ocg = d->oc / d->g};
    c.ocp = cnnk_round_up(c.ocg, isa->vl);
    c.nvec = c.ocp / isa->vl;
    c.nblk = cnnk_ceil_div(c.nvec, isa->max_nv);
    cnnk_parallel_for(a->nthreads, d->mb * d->oh, deconv_rows, &c);
}
