/* The direct convolution's walk along one output row, shared by every ISA
 * and compiled into each ISA's file (no intrinsics here): the split of the
 * row into tiles, each tile's padding cut (cnnk_direct_set_columns) and,
 * for the tiles' border walk, the segments of taps (cnnk_direct_segment_end).
 * An ISA instantiates the row once with its tile,
 *
 *     CNNK_DIRECT_ROW_FN(row, W_BLK, tile_any)
 *
 * so that the tile is inlined into the loop over tiles and the driver
 * (kernels/common/direct.c) calls the ISA once per row: a call per tile
 * cost 5-10% on 1x1 layers with 64 input channels. */
#ifndef CNNK_KERNELS_COMMON_DIRECT_ROW_H
#define CNNK_KERNELS_COMMON_DIRECT_ROW_H

#include <stdbool.h>

#include "kernels/common/isa.h"
#include "kernels/common/util.h"

/* The tap range [lo, hi) of a window starting at i0 (taps dil apart) that
 * falls inside [0, n); empty ranges come back as lo == hi. */
CNNK_INLINE void cnnk_direct_tap_range(int64_t i0, int64_t k, int64_t dil, int64_t n, int64_t *lo,
                                       int64_t *hi) {
    *lo = i0 < 0 ? cnnk_ceil_div(-i0, dil) : 0;
    *hi = i0 > n - 1 ? 0 : cnnk_min64(k, (n - 1 - i0) / dil + 1);
    if (*hi < *lo) *hi = *lo;
}

/* Fills the per-pixel part of t for the w pixels from ox. */
CNNK_INLINE void cnnk_direct_set_columns(const cnnk_direct_cols *c, cnnk_direct_taps *t,
                                         int64_t ox, int64_t w) {
    t->interior = ox >= c->ox_lo && ox + w <= c->ox_hi;
    t->ix0[0] = ox * c->sw - c->pl;
    if (t->interior) { /* no divisions: they cost a tenth of a 7x7x3 tile */
        t->kx_min = 0;
        t->kx_max = c->kw;
        return;
    }
    t->kx_min = c->kw;
    t->kx_max = 0;
    for (int64_t p = 0; p < w; ++p) {
        t->ix0[p] = (ox + p) * c->sw - c->pl;
        cnnk_direct_tap_range(t->ix0[p], c->kw, c->dw, c->iw, &t->lo[p], &t->hi[p]);
        if (t->lo[p] < t->hi[p]) {
            t->kx_min = cnnk_min64(t->kx_min, t->lo[p]);
            t->kx_max = cnnk_max64(t->kx_max, t->hi[p]);
        }
    }
}

/* For a tile's border walk: the end of the segment of taps starting at kx,
 * i.e. the next kx at which the validity of one of the w pixels changes.
 * Without adjacent taps a segment is one kx. */
CNNK_INLINE int64_t cnnk_direct_segment_end(const int w, const cnnk_direct_taps *t, int64_t kx) {
    if (!t->dense) return kx + 1;
    int64_t e = t->kx_max;
    for (int p = 0; p < w; ++p) {
        if (t->lo[p] > kx && t->lo[p] < e) e = t->lo[p];
        if (t->hi[p] > kx && t->hi[p] < e) e = t->hi[p];
    }
    return e;
}

/* Where the walk along a row stands. Tiles are as even as possible
 * (56 = 6 x 6 + 4 x 5, not 9 x 6 + 2): a narrow remainder tile runs at a
 * fraction of the FMA rate. */
typedef struct cnnk_direct_row_walk {
    int64_t i, ntiles, base, wide, ox;
} cnnk_direct_row_walk;

CNNK_INLINE cnnk_direct_row_walk cnnk_direct_row_begin(const cnnk_direct_cols *c, int w_blk) {
    const int64_t ntiles = cnnk_ceil_div(c->ow, w_blk);
    return (cnnk_direct_row_walk){
        .ntiles = ntiles, .base = c->ow / ntiles, .wide = c->ow % ntiles};
}

/* The next tile's width (0 past the last), with its columns filled into t
 * and its store into *st. */
CNNK_INLINE int cnnk_direct_row_next(cnnk_direct_row_walk *r, const cnnk_direct_cols *c,
                                     cnnk_direct_taps *t, const cnnk_direct_store *s,
                                     cnnk_direct_store *st) {
    if (r->i == r->ntiles) return 0;
    const int64_t ox = r->ox, w = r->base + (r->i < r->wide);
    cnnk_direct_set_columns(c, t, ox, w);
    *st = *s;
    st->dst += ox * s->dst_ld;
    if (st->res) st->res += ox * s->res_ld;
    r->ox += w;
    ++r->i;
    return (int)w;
}

/* Defines `static void NAME(...)`, a cnnk_direct_row_fn over tiles of up
 * to W_BLK pixels. TILE(w, t, s) is the ISA's tile for w in [1, W_BLK]:
 * an always-inline function that turns w into a constant (a switch), so
 * that each width unrolls its pixel loops. */
#define CNNK_DIRECT_ROW_FN(NAME, W_BLK, TILE)                                                      \
    static void NAME(const cnnk_direct_cols *c_, cnnk_direct_taps *t_,                             \
                     const cnnk_direct_store *s_) {                                                \
        cnnk_direct_row_walk r_ = cnnk_direct_row_begin(c_, (W_BLK));                              \
        cnnk_direct_store st_;                                                                     \
        for (int w_; (w_ = cnnk_direct_row_next(&r_, c_, t_, s_, &st_)) > 0;) TILE(w_, t_, &st_);  \
    }

#endif
