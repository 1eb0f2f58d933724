/* Max, average and global pooling for AVX-512 on NHWC, vectorised across
 * channels: every window cell of an output pixel is one contiguous run of
 * channels, so 16 channels are one zmm and a chunk of 64 channels keeps
 * four accumulators in flight (eight zmm of doubles for the average) while
 * the window is walked once. The last block of a chunk is a __mmask16
 * masked load and store: no scalar remainder, and masked lanes are never
 * read (a tail may end at the last byte of an allocation) nor written (the
 * gap lanes of a pitched output, the next branch of a concat buffer).
 *
 * The window geometry (ceil overhang never counted, include/exclude pad
 * divisors, empty windows give 0) is kernels/ref/pool.c's, cell for cell.
 * The average accumulates in double, in the reference's h-then-w order, so
 * it is bit-identical to the reference (its sum is double, then one
 * division): a float sum would lose digits to cancellation on signed data,
 * which the max-relative tolerance would flag. Max uses max(x, acc), which
 * ignores a NaN x exactly as the reference's `if (x > mx)` does.
 *
 * Work items are (output row, chunk of 64 channels) so that a global pool
 * (one output row per image) still splits across threads. */
#include <immintrin.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/team.h"

enum { CHUNK = 64, NB = CHUNK / 16 };

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
    int64_t input = (win.h1 > win.h0 && win.w1 > win.w0) ? (win.h1 - win.h0) * (win.w1 - win.w0)
                                                         : 0;
    if (input > 0) win.div = (double)(d->alg == CNNK_POOL_AVG_INCLUDE_PAD ? padded : input);
    return win;
}

/* Two halves of doubles back into 16 floats, each division rounded once. */
CNNK_INLINE __m512 div_to_ps(__m512d lo, __m512d hi, __m512d div) {
    __m256 l = _mm512_cvtpd_ps(_mm512_div_pd(lo, div));
    __m256 h = _mm512_cvtpd_ps(_mm512_div_pd(hi, div));
    return _mm512_insertf32x8(_mm512_castps256_ps512(l), h, 1);
}

/* ---- one full chunk of 64 channels ---------------------------------------- */

CNNK_INLINE void max_chunk(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                           float *y) {
    __m512 acc[NB];
    for (int b = 0; b < NB; ++b) acc[b] = _mm512_set1_ps(-INFINITY);
    for (int64_t h = w->h0; h < w->h1; ++h) {
        for (int64_t x = w->w0; x < w->w1; ++x) {
            const float *p = src_n + (h * iw + x) * ld;
            for (int b = 0; b < NB; ++b)
                acc[b] = _mm512_max_ps(_mm512_loadu_ps(p + 16 * b), acc[b]);
        }
    }
    for (int b = 0; b < NB; ++b) _mm512_storeu_ps(y + 16 * b, acc[b]);
}

CNNK_INLINE void avg_chunk(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                           float *y) {
    __m512d lo[NB], hi[NB];
    for (int b = 0; b < NB; ++b) lo[b] = hi[b] = _mm512_setzero_pd();
    for (int64_t h = w->h0; h < w->h1; ++h) {
        for (int64_t x = w->w0; x < w->w1; ++x) {
            const float *p = src_n + (h * iw + x) * ld;
            for (int b = 0; b < NB; ++b) {
                lo[b] = _mm512_add_pd(lo[b], _mm512_cvtps_pd(_mm256_loadu_ps(p + 16 * b)));
                hi[b] = _mm512_add_pd(hi[b], _mm512_cvtps_pd(_mm256_loadu_ps(p + 16 * b + 8)));
            }
        }
    }
    const __m512d div = _mm512_set1_pd(w->div);
    for (int b = 0; b < NB; ++b) _mm512_storeu_ps(y + 16 * b, div_to_ps(lo[b], hi[b], div));
}

/* ---- one block of 1..16 channels, masked ---------------------------------- */

static void max_block(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                      __mmask16 m, float *y) {
    __m512 acc = _mm512_set1_ps(-INFINITY);
    for (int64_t h = w->h0; h < w->h1; ++h)
        for (int64_t x = w->w0; x < w->w1; ++x)
            acc = _mm512_max_ps(cnnk_avx512_maskz_load(src_n + (h * iw + x) * ld, m), acc);
    cnnk_avx512_mask_store(y, acc, m);
}

static void avg_block(const float *src_n, int64_t iw, int64_t ld, const pool_win *w,
                      __mmask16 m, float *y) {
    const __mmask8 ml = (__mmask8)m, mh = (__mmask8)(m >> 8);
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (int64_t h = w->h0; h < w->h1; ++h) {
        for (int64_t x = w->w0; x < w->w1; ++x) {
            const float *p = src_n + (h * iw + x) * ld;
            lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(ml, p)));
            hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(mh, p + 8)));
        }
    }
    cnnk_avx512_mask_store(y, div_to_ps(lo, hi, _mm512_set1_pd(w->div)), m);
}

/* Channels [c0, c0 + n) of output pixel (oh, ow), n <= CHUNK. */
static void pool_pixel(const cnnk_pool_desc *d, const pool_geom *g, const float *src_n,
                       int64_t ld, int64_t oh, int64_t ow, int64_t c0, int64_t n, float *y) {
    pool_win w = pool_window(d, g, oh, ow);
    const float *s = src_n + c0;
    y += c0;
    if (w.div == 0.0) { /* empty window: 0, as the reference */
        for (int64_t c = 0; c < n; c += 16)
            cnnk_avx512_mask_store(y + c, _mm512_setzero_ps(), cnnk_avx512_mask(n - c));
        return;
    }
    const bool is_max = d->alg == CNNK_POOL_MAX;
    if (n == CHUNK) {
        if (is_max) max_chunk(s, d->iw, ld, &w, y);
        else avg_chunk(s, d->iw, ld, &w, y);
        return;
    }
    for (int64_t c = 0; c < n; c += 16) {
        const __mmask16 m = cnnk_avx512_mask(n - c);
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
    const int64_t nchunks = cnnk_ceil_div(d->c, CHUNK);
    const int64_t items = d->mb * g.oh * nchunks;
    pool_job j = {d, &g, a, nchunks};
    cnnk_parallel_for(a->nthreads, items, pool_items, &j);
}

const cnnk_op_kernel cnnk_pool__avx512 = {.name = "avx512/pool",
                                          .isa = CNNK_ISA_AVX512,
                                          .kind = CNNK_LAYER_POOL,
                                          .applies = pool_applies,
                                          .run = pool_run};
