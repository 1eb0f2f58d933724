/* Max, average and global pooling for AVX2 on NHWC, vectorised across
 * channels: every window cell of an output pixel is one contiguous run of
 * channels, so 8 channels are one ymm and a chunk of 32 channels keeps four
 * accumulators in flight while the window is walked once.
 *
 * The window geometry (ceil overhang never counted, include/exclude pad
 * divisors, empty windows give 0) is kernels/ref/pool.c's, cell for cell.
 * The average accumulates in double, in the reference's h-then-w order, so
 * it is bit-identical to the reference (its sum is double, then one
 * division): a float sum would lose digits to cancellation on signed data,
 * which the max-relative tolerance would flag. Max uses max(x, acc), which
 * ignores a NaN x exactly as the reference's `if (x > mx)` does.
 *
 * Work items are (output row, chunk of 32 channels) so that a global pool
 * (one output row per image) still splits across threads. */
#include <immintrin.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/team.h"

enum { CHUNK = 32, NB = CHUNK / 8 };


/* Lanes [0, n) on, n in 1..8. */
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
    pool_win win = {cnnk_max64(h0, 0), cnnk_min64(h1, d->ih), cnnk_max64(w0, 0), cnnk_min64(w1, d->iw), 0.0};
    int64_t input = (win.h1 > win.h0 && win.w1 > win.w0)
                        ? (win.h1 - win.h0) * (win.w1 - win.w0)
                        : 0;
    if (input > 0) win.div = (double)(d->alg == CNNK_POOL_AVG_INCLUDE_PAD ? padded : input);
    return win;
}

/* ---- one full chunk of 32 channels ---------------------------------------- */

CNNK_INLINE void max_chunk(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                           float *y) {
    __m256 acc[NB];
    for (int b = 0; b < NB; ++b) acc[b] = _mm256_set1_ps(-INFINITY);
    for (int64_t h = w->h0; h < w->h1; ++h) {
        for (int64_t x = w->w0; x < w->w1; ++x) {
            const float *p = src_n + (h * iw + x) * ld;
            for (int b = 0; b < NB; ++b) acc[b] = _mm256_max_ps(_mm256_loadu_ps(p + 8 * b), acc[b]);
        }
    }
    for (int b = 0; b < NB; ++b) _mm256_storeu_ps(y + 8 * b, acc[b]);
}

CNNK_INLINE void avg_chunk(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                           float *y) {
    __m256d lo[NB], hi[NB];
    for (int b = 0; b < NB; ++b) lo[b] = hi[b] = _mm256_setzero_pd();
    for (int64_t h = w->h0; h < w->h1; ++h) {
        for (int64_t x = w->w0; x < w->w1; ++x) {
            const float *p = src_n + (h * iw + x) * ld;
            for (int b = 0; b < NB; ++b) {
                lo[b] = _mm256_add_pd(lo[b], _mm256_cvtps_pd(_mm_loadu_ps(p + 8 * b)));
                hi[b] = _mm256_add_pd(hi[b], _mm256_cvtps_pd(_mm_loadu_ps(p + 8 * b + 4)));
            }
        }
    }
    const __m256d div = _mm256_set1_pd(w->div);
    for (int b = 0; b < NB; ++b) {
        __m128 l = _mm256_cvtpd_ps(_mm256_div_pd(lo[b], div));
        __m128 r = _mm256_cvtpd_ps(_mm256_div_pd(hi[b], div));
        _mm256_storeu_ps(y + 8 * b, _mm256_set_m128(r, l));
    }
}

/* ---- one block of 1..8 channels, masked --------------------------------- */

static void max_block(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                      int64_t n, float *y) {
    const __m256i m = cnnk_avx2_mask(n);
    __m256 acc = _mm256_set1_ps(-INFINITY);
    for (int64_t h = w->h0; h < w->h1; ++h)
        for (int64_t x = w->w0; x < w->w1; ++x)
            acc = _mm256_max_ps(_mm256_maskload_ps(src_n + (h * iw + x) * ld, m), acc);
    _mm256_maskstore_ps(y, m, acc);
}

static void avg_block(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                      int64_t n, float *y) {
    const __m256i m = cnnk_avx2_mask(n);
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    for (int64_t h = w->h0; h < w->h1; ++h) {
        for (int64_t x = w->w0; x < w->w1; ++x) {
            __m256 v = _mm256_maskload_ps(src_n + (h * iw + x) * ld, m);
            lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
            hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
        }
    }
    const __m256d div = _mm256_set1_pd(w->div);
    __m128 l = _mm256_cvtpd_ps(_mm256_div_pd(lo, div));
    __m128 r = _mm256_cvtpd_ps(_mm256_div_pd(hi, div));
    _mm256_maskstore_ps(y, m, _mm256_set_m128(r, l));
}

/* Channels [c0, c0 + n) of output pixel (oh, ow), n <= CHUNK. */
static void pool_pixel(const cnnk_pool_desc *d, const pool_geom *g, const float *src_n,
                       int64_t ld, int64_t oh, int64_t ow, int64_t c0, int64_t n, float *y) {
    pool_win w = pool_window(d, g, oh, ow);
    const float *s = src_n + c0;
    y += c0;
    if (w.div == 0.0) { /* empty window: 0, as the reference */
        const __m256 z = _mm256_setzero_ps();
        for (int64_t c = 0; c < n; c += 8) _mm256_maskstore_ps(y + c, cnnk_avx2_mask(cnnk_min64(8, n - c)), z);
        return;
    }
    const bool is_max = d->alg == CNNK_POOL_MAX;
    if (n == CHUNK) {
        if (is_max) max_chunk(s, d->iw, ld, &w, y);
        else avg_chunk(s, d->iw, ld, &w, y);
        return;
    }
    for (int64_t c = 0; c < n; c += 8) {
        int64_t m = cnnk_min64(8, n - c);
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

const cnnk_op_kernel cnnk_pool__avx2 = {.name = "avx2/pool",
                                        .isa = CNNK_ISA_AVX2,
                                        .kind = CNNK_LAYER_POOL,
                                        .applies = pool_applies,
                                        .run = pool_run};
