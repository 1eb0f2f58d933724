/* Pooling: the definition of max and average pooling, global included. */
#include <math.h>

#include "kernels/ref/ref.h"

/* The window geometry actually applied: `global` overrides the fields. */
typedef struct pool_geom {
    int64_t kh, kw, sh, sw, pt, pl, pb, pr, oh, ow;
} pool_geom;

static pool_geom pool_geometry(const cnnk_pool_desc *d) {
    pool_geom g = {d->kh, d->kw, d->sh, d->sw, d->pt, d->pl, d->pb, d->pr, d->oh, d->ow};
    if (d->global) {
        g = (pool_geom){d->ih, d->iw, 1, 1, 0, 0, 0, 0, 1, 1};
    }
    return g;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* One output pixel, all channels. The window is first clipped to the
 * declared padding [-pt, ih + pb): cells past it exist only because of
 * ceil rounding and are never counted, not even by AVG_INCLUDE_PAD
 * (PyTorch's pool_size). It is then clipped to the input for reading. */
static void pool_pixel(const cnnk_pool_desc *d, const pool_geom *g, const float *src_n,
                       int64_t src_ld, int64_t oh, int64_t ow, float *y) {
    int64_t h0 = oh * g->sh - g->pt, w0 = ow * g->sw - g->pl;
    int64_t h1 = min64(h0 + g->kh, d->ih + g->pb), w1 = min64(w0 + g->kw, d->iw + g->pr);
    int64_t padded_cells = (h1 - h0) * (w1 - w0);
    h0 = max64(h0, 0);
    w0 = max64(w0, 0);
    h1 = min64(h1, d->ih);
    w1 = min64(w1, d->iw);
    int64_t input_cells = (h1 > h0 && w1 > w0) ? (h1 - h0) * (w1 - w0) : 0;

    for (int64_t c = 0; c < d->c; ++c) {
        double sum = 0.0;
        float mx = -INFINITY;
        for (int64_t h = h0; h < h1; ++h) {
            for (int64_t w = w0; w < w1; ++w) {
                float x = src_n[(h * d->iw + w) * src_ld + c];
                sum += x;
                if (x > mx) mx = x;
            }
        }
        /* An empty window (only reachable with padding >= kernel, which
         * the check forbids) yields 0 rather than -inf or 0/0. */
        if (input_cells == 0) {
            y[c] = 0.0f;
        } else if (d->alg == CNNK_POOL_MAX) {
            y[c] = mx;
        } else {
            int64_t div = d->alg == CNNK_POOL_AVG_INCLUDE_PAD ? padded_cells : input_cells;
            y[c] = (float)(sum / (double)div);
        }
    }
}

void cnnk_ref_pool(const cnnk_pool_desc *d, const float *src, int64_t src_ld, float *dst,
                   int64_t dst_ld) {
    pool_geom g = pool_geometry(d);
    for (int64_t n = 0; n < d->mb; ++n) {
        const float *src_n = src + n * d->ih * d->iw * src_ld;
        for (int64_t oh = 0; oh < g.oh; ++oh) {
            for (int64_t ow = 0; ow < g.ow; ++ow) {
                float *y = dst + ((n * g.oh + oh) * g.ow + ow) * dst_ld;
                pool_pixel(d, &g, src_n, src_ld, oh, ow, y);
            }
        }
    }
}
