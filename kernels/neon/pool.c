/* Max, average and global pooling for NEON on NHWC, vectorised across
 * channels: every window cell of an output pixel is one contiguous run of
 * channels, so 4 channels are one q register and a chunk of 32 channels
 * keeps 8 accumulators (max) or 16 double-pair accumulators (average) in
 * flight, of the 32 registers, while the window is walked once. The chunk
 * and the work items are AVX2's (kernels/avx2/pool.c), so both split a
 * layer across threads alike.
 *
 * The window geometry (ceil overhang never counted, include/exclude pad
 * divisors, empty windows give 0) is kernels/ref/pool.c's, cell for cell.
 * The average accumulates in double, in the reference's h-then-w order, so
 * it is bit-identical to the reference (its sum is double, then one
 * division). Max keeps the reference's `if (x > mx) mx = x` exactly, as a
 * compare and a select: NEON's fmax would propagate a NaN x and fmaxnm
 * would turn a window of -0 then +0 into +0, where the reference keeps
 * the first. The select costs one instruction per vector of a load-bound
 * loop.
 *
 * Work items are (output row, chunk of 32 channels) so that a global pool
 * (one output row per image) still splits across threads. */
#include <arm_neon.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/neon/vec.h"
#include "kernels/common/team.h"

enum { CHUNK = 32, NB = CHUNK / CNNK_NEON_VL };

typedef struct pool_geom {
    int64_t kh, kw, sh, sw, pt, pl, pb, pr, oh, ow;
} pool_geom;

static pool_geom pool_geometry(const cnnk_pool_desc *d) {
    if (d->global) return (pool_geom){d->ih, d->iw, 1, 1, 0, 0, 0, 0, 1, 1};
    return (pool_geom){d->kh, d->kw, d->sh, d->sw, d->pt, d->pl, d->pb, d->pr, d->oh, d->ow};
}

/* One output pixel's window, clipped for reading, with both divisors. */
typedef struct pool_win {
    int64_t h0, h1, w0, w1;
    double div; /* 0 when the window holds no input cell */
} pool_win;

static pool_win pool_window(const cnnk_pool_desc *d, const pool_geom *g, int64_t oh,
                            int64_t ow) {
    int64_t h0 = oh * g->sh - g->pt, w0 = ow * g->sw - g->pl;
    int64_t h1 = cnnk_min64(h0 + g->kh, d->ih + g->pb), w1 = cnnk_min64(w0 + g->kw, d->iw + g->pr);
    int64_t padded = (h1 - h0) * (w1 - w0);
    pool_win win = {cnnk_max64(h0, 0), cnnk_min64(h1, d->ih), cnnk_max64(w0, 0),
                    cnnk_min64(w1, d->iw), 0.0};
    int64_t input = (win.h1 > win.h0 && win.w1 > win.w0)
                        ? (win.h1 - win.h0) * (win.w1 - win.w0)
                        : 0;
    if (input > 0) win.div = (double)(d->alg == CNNK_POOL_AVG_INCLUDE_PAD ? padded : input);
    return win;
}

/* The reference's `if (x > acc) acc = x`: NaN x and an equal x leave acc. */
CNNK_INLINE float32x4_t max_keep(float32x4_t x, float32x4_t acc) {
    return vbslq_f32(vcgtq_f32(x, acc), x, acc);
}

/* sum / div rounded once to float, as the reference's (float)(sum / div). */
CNNK_INLINE float32x4_t avg_of(float64x2_t lo, float64x2_t hi, float64x2_t div) {
    return vcvt_high_f32_f64(vcvt_f32_f64(vdivq_f64(lo, div)), vdivq_f64(hi, div));
}

/* ---- one full chunk of 32 channels ---------------------------------------- */

CNNK_INLINE void max_chunk(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                           float *y) {
    float32x4_t acc[NB];
    for (int b = 0; b < NB; ++b) acc[b] = vdupq_n_f32(-INFINITY);
    for (int64_t h = w->h0; h < w->h1; ++h) {
        for (int64_t x = w->w0; x < w->w1; ++x) {
            const float *p = src_n + (h * iw + x) * ld;
            for (int b = 0; b < NB; ++b) acc[b] = max_keep(vld1q_f32(p + 4 * b), acc[b]);
        }
    }
    for (int b = 0; b < NB; ++b) vst1q_f32(y + 4 * b, acc[b]);
}

CNNK_INLINE void avg_chunk(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                           float *y) {
    float64x2_t lo[NB], hi[NB];
    for (int b = 0; b < NB; ++b) lo[b] = hi[b] = vdupq_n_f64(0.0);
    for (int64_t h = w->h0; h < w->h1; ++h) {
        for (int64_t x = w->w0; x < w->w1; ++x) {
            const float *p = src_n + (h * iw + x) * ld;
            for (int b = 0; b < NB; ++b) {
                float32x4_t v = vld1q_f32(p + 4 * b);
                lo[b] = vaddq_f64(lo[b], vcvt_f64_f32(vget_low_f32(v)));
                hi[b] = vaddq_f64(hi[b], vcvt_high_f64_f32(v));
            }
        }
    }
    const float64x2_t div = vdupq_n_f64(w->div);
    for (int b = 0; b < NB; ++b) vst1q_f32(y + 4 * b, avg_of(lo[b], hi[b], div));
}

/* ---- one block of 1..4 channels, partial loads ---------------------------- */

static void max_block(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                      int64_t n, float *y) {
    float32x4_t acc = vdupq_n_f32(-INFINITY);
    for (int64_t h = w->h0; h < w->h1; ++h)
        for (int64_t x = w->w0; x < w->w1; ++x)
            acc = max_keep(cnnk_neon_load_n(src_n + (h * iw + x) * ld, n), acc);
    cnnk_neon_store_n(y, acc, n);
}

static void avg_block(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                      int64_t n, float *y) {
    float64x2_t lo = vdupq_n_f64(0.0), hi = vdupq_n_f64(0.0);
    for (int64_t h = w->h0; h < w->h1; ++h) {
        for (int64_t x = w->w0; x < w->w1; ++x) {
            float32x4_t v = cnnk_neon_load_n(src_n + (h * iw + x) * ld, n);
            lo = vaddq_f64(lo, vcvt_f64_f32(vget_low_f32(v)));
            hi = vaddq_f64(hi, vcvt_high_f64_f32(v));
        }
    }
    cnnk_neon_store_n(y, avg_of(lo, hi, vdupq_n_f64(w->div)), n);
}

/* Channels [c0, c0 + n) of output pixel (oh, ow), n <= CHUNK. */
static void pool_pixel(const cnnk_pool_desc *d, const pool_geom *g, const float *src_n,
                       int64_t ld, int64_t oh, int64_t ow, int64_t c0, int64_t n, float *y) {
    pool_win w = pool_window(d, g, oh, ow);
    const float *s = src_n + c0;
    y += c0;
    if (w.div == 0.0) { /* empty window: 0, as the reference */
        for (int64_t c = 0; c < n; c += 4)
            cnnk_neon_store_n(y + c, vdupq_n_f32(0.0f), cnnk_min64(4, n - c));
        return;
    }
    const bool is_max = d->alg == CNNK_POOL_MAX;
    if (n == CHUNK) {
        if (is_max) max_chunk(s, d->iw, ld, &w, y);
        else avg_chunk(s, d->iw, ld, &w, y);
        return;
    }
    for (int64_t c = 0; c < n; c += 4) {
        int64_t m = cnnk_min64(4, n - c);
        if (is_max) max_block(s + c, d->iw, ld, &w, m, y + c);
        else avg_block(s + c, d->iw, ld, &w, m, y + c);
    }
}

/* Item = (image n, output row oh, channel chunk). */
static void pool_item(const cnnk_pool_desc *d, const pool_geom *g, const cnnk_op_args *a,
                      int64_t nchunks, int64_t item) {
    int64_t chunk = item % nchunks, row = item / nchunks;
    int64_t n = row / g->oh, oh = row % g->oh;
    int64_t c0 = chunk * CHUNK, cn = cnnk_min64(CHUNK, d->c - c0);
    const float *src_n = a->src[0] + n * d->ih * d->iw * a->src_ld[0];
    for (int64_t ow = 0; ow < g->ow; ++ow) {
        float *y = a->dst + (row * g->ow + ow) * a->dst_ld;
        pool_pixel(d, g, src_n, a->src_ld[0], oh, ow, c0, cn, y);
    }
}

typedef struct pool_job {
    const cnnk_pool_desc *d;
    const pool_geom *g;
    const cnnk_op_args *a;
    int64_t nchunks;
} pool_job;

static void pool_items(void *ctx, int64_t lo, int64_t hi, int part) {
    (void)part;
    const pool_job *j = ctx;
    for (int64_t i = lo; i < hi; ++i) pool_item(j->d, j->g, j->a, j->nchunks, i);
}

static bool pool_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_POOL; }

static void pool_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_pool_desc *d = &l->u.pool;
    const pool_geom g = pool_geometry(d);
    const int64_t nchunks = (d->c + CHUNK - 1) / CHUNK;
    const int64_t items = d->mb * g.oh * nchunks;
    pool_job j = {d, &g, a, nchunks};
    cnnk_parallel_for(a->nthreads, items, pool_items, &j);
}

const cnnk_op_kernel cnnk_pool__neon = {.name = "neon/pool",
                                        .isa = CNNK_ISA_NEON,
                                        .kind = CNNK_LAYER_POOL,
                                        .applies = pool_applies,
                                        .run = pool_run};
