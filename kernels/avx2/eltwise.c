/* ReLU, add, add+ReLU, dropout (the identity at inference) and leaky ReLU for AVX2.
 * These are pure streams: the only aim is to run at memory bandwidth, so a
 * dense tensor (every pitch == c) is one flat run split evenly across
 * threads, and a pitched one is walked pixel by pixel with masked tails
 * that never touch the gap lanes.
 *
 * max(x, 0) is _mm256_max_ps(x, 0), which returns its second operand unless
 * x > 0: NaN and -0 give +0, exactly the reference's `x > 0 ? x : 0`.
 * dst may alias a or b (same pitch): every element is read before written. */
#include <immintrin.h>

#include "cnnk/kernel.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/team.h"

/* Flat runs are cut into pieces of this many floats (64 KiB) per item, big
 * enough to amortise scheduling and small enough to balance 2+ threads. */
enum { PIECE = 16384 };


/* b is indexed only by the binary algs: it is NULL for the unary ones. */
CNNK_INLINE __m256 op8(cnnk_eltwise_alg alg, float alpha, __m256 x, const float *b, int64_t i,
                       __m256i m, bool masked) {
    const __m256 z = _mm256_setzero_ps();
    switch (alg) {
    case CNNK_ELTWISE_RELU: return _mm256_max_ps(x, z);
    case CNNK_ELTWISE_ADD:
        return _mm256_add_ps(x, masked ? _mm256_maskload_ps(b + i, m) : _mm256_loadu_ps(b + i));
    case CNNK_ELTWISE_ADD_RELU:
        return _mm256_max_ps(
            _mm256_add_ps(x, masked ? _mm256_maskload_ps(b + i, m) : _mm256_loadu_ps(b + i)), z);
    case CNNK_ELTWISE_DROPOUT: return x;
    case CNNK_ELTWISE_LEAKY_RELU: return cnnk_avx2_leaky(x, _mm256_set1_ps(alpha));
    }
    return x;
}

/* n contiguous elements; alg is a compile-time constant in each caller. */
CNNK_INLINE void run_span(cnnk_eltwise_alg alg, float alpha, const float *a, const float *b,
                          float *y, int64_t n) {
    const __m256i all = _mm256_set1_epi32(-1);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 r0 = op8(alg, alpha, _mm256_loadu_ps(a + i), b, i, all, false);
        __m256 r1 = op8(alg, alpha, _mm256_loadu_ps(a + i + 8), b, i + 8, all, false);
        __m256 r2 = op8(alg, alpha, _mm256_loadu_ps(a + i + 16), b, i + 16, all, false);
        __m256 r3 = op8(alg, alpha, _mm256_loadu_ps(a + i + 24), b, i + 24, all, false);
        _mm256_storeu_ps(y + i, r0);
        _mm256_storeu_ps(y + i + 8, r1);
        _mm256_storeu_ps(y + i + 16, r2);
        _mm256_storeu_ps(y + i + 24, r3);
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, op8(alg, alpha, _mm256_loadu_ps(a + i), b, i, all, false));
    if (i < n) {
        const __m256i m = cnnk_avx2_mask(n - i);
        const __m256 r = op8(alg, alpha, _mm256_maskload_ps(a + i, m), b, i, m, true);
        _mm256_maskstore_ps(y + i, m, r);
    }
}

static void span(cnnk_eltwise_alg alg, float alpha, const float *a, const float *b, float *y,
                 int64_t n) {
    switch (alg) {
    case CNNK_ELTWISE_RELU: run_span(CNNK_ELTWISE_RELU, alpha, a, b, y, n); return;
    case CNNK_ELTWISE_ADD: run_span(CNNK_ELTWISE_ADD, alpha, a, b, y, n); return;
    case CNNK_ELTWISE_ADD_RELU: run_span(CNNK_ELTWISE_ADD_RELU, alpha, a, b, y, n); return;
    case CNNK_ELTWISE_DROPOUT: run_span(CNNK_ELTWISE_DROPOUT, alpha, a, b, y, n); return;
    case CNNK_ELTWISE_LEAKY_RELU:
        run_span(CNNK_ELTWISE_LEAKY_RELU, alpha, a, b, y, n);
        return;
    }
}

typedef struct elt_plan {
    bool flat;       /* one run of `total` elements */
    int64_t total;   /* flat: elements; else pixels */
    int64_t per;     /* elements per item (flat) or pixels per item */
    int64_t items;
} elt_plan;

static elt_plan plan(const cnnk_eltwise_desc *d, const cnnk_op_args *a, bool binary) {
    int64_t pixels = d->mb * d->h * d->w;
    bool flat = a->src_ld[0] == d->c && a->dst_ld == d->c && (!binary || a->src_ld[1] == d->c);
    elt_plan p = {flat, flat ? pixels * d->c : pixels, 0, 0};
    /* Pitched: as many pixels per item as make about one PIECE. */
    p.per = flat ? PIECE : (PIECE + d->c - 1) / d->c;
    p.items = (p.total + p.per - 1) / p.per;
    return p;
}

static void elt_item(const cnnk_eltwise_desc *d, const cnnk_op_args *a, const elt_plan *p,
                     bool binary, int64_t item) {
    int64_t lo = item * p->per, hi = cnnk_min64(p->total, lo + p->per);
    const float *b = a->src[1];
    if (p->flat) {
        span(d->alg, d->alpha, a->src[0] + lo, binary ? b + lo : NULL, a->dst + lo, hi - lo);
        return;
    }
    for (int64_t px = lo; px < hi; ++px)
        span(d->alg, d->alpha, a->src[0] + px * a->src_ld[0],
             binary ? b + px * a->src_ld[1] : NULL, a->dst + px * a->dst_ld, d->c);
}

typedef struct elt_job {
    const cnnk_eltwise_desc *d;
    const cnnk_op_args *a;
    const elt_plan *p;
    bool binary;
} elt_job;

static void elt_items(void *ctx, int64_t lo, int64_t hi, int part) {
    (void)part;
    const elt_job *j = ctx;
    for (int64_t i = lo; i < hi; ++i) elt_item(j->d, j->a, j->p, j->binary, i);
}

static bool elt_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_ELTWISE; }

static void elt_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_eltwise_desc *d = &l->u.eltwise;
    const bool binary = d->alg == CNNK_ELTWISE_ADD || d->alg == CNNK_ELTWISE_ADD_RELU;
    const elt_plan p = plan(d, a, binary);
    elt_job j = {d, a, &p, binary};
    cnnk_parallel_for(a->nthreads, p.items, elt_items, &j);
}

const cnnk_op_kernel cnnk_eltwise__avx2 = {.name = "avx2/eltwise",
                                           .isa = CNNK_ISA_AVX2,
                                           .kind = CNNK_LAYER_ELTWISE,
                                           .applies = elt_applies,
                                           .run = elt_run};
