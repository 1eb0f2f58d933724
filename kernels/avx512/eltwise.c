/* ReLU, add, add+ReLU, dropout (the identity at inference) and leaky ReLU for AVX-512.
 * These are pure streams: the only aim is to run at memory bandwidth, so a
 * dense tensor (every pitch == c) is one flat run split evenly across
 * threads, and a pitched one is walked pixel by pixel with __mmask16
 * masked tails that never touch the gap lanes.
 *
 * max(x, 0) is _mm512_max_ps(x, 0), which returns its second operand unless
 * x > 0: NaN and -0 give +0, exactly the reference's `x > 0 ? x : 0`.
 * dst may alias a or b (same pitch): every element is read before written. */
#include <immintrin.h>

#include "cnnk/kernel.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/team.h"

/* Flat runs are cut into pieces of this many floats (64 KiB) per item, big
 * enough to amortise scheduling and small enough to balance 2+ threads. */
enum { PIECE = 16384 };

/* b is indexed only by the binary algs (it is NULL for the unary ones, and
 * NULL + i is undefined); full as in vec.h: otherwise only m's lanes are
 * read. */
CNNK_INLINE __m512 op16(cnnk_eltwise_alg alg, float alpha, __m512 x, const float *b, int64_t i,
                        bool full, __mmask16 m) {
    const __m512 z = _mm512_setzero_ps();
    switch (alg) {
    case CNNK_ELTWISE_RELU: return _mm512_max_ps(x, z);
    case CNNK_ELTWISE_ADD: return _mm512_add_ps(x, cnnk_avx512_load(b + i, full, m));
    case CNNK_ELTWISE_ADD_RELU:
        return _mm512_max_ps(_mm512_add_ps(x, cnnk_avx512_load(b + i, full, m)), z);
    case CNNK_ELTWISE_DROPOUT: return x;
    case CNNK_ELTWISE_LEAKY_RELU: return cnnk_avx512_leaky(x, _mm512_set1_ps(alpha));
    }
    return x;
}

/* n contiguous elements; alg is a compile-time constant in each caller. */
CNNK_INLINE void run_span(cnnk_eltwise_alg alg, float alpha, const float *a, const float *b,
                          float *y, int64_t n) {
    const __mmask16 all = (__mmask16)0xFFFF;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 r0 = op16(alg, alpha, _mm512_loadu_ps(a + i), b, i, true, all);
        __m512 r1 = op16(alg, alpha, _mm512_loadu_ps(a + i + 16), b, i + 16, true, all);
        __m512 r2 = op16(alg, alpha, _mm512_loadu_ps(a + i + 32), b, i + 32, true, all);
        __m512 r3 = op16(alg, alpha, _mm512_loadu_ps(a + i + 48), b, i + 48, true, all);
        _mm512_storeu_ps(y + i, r0);
        _mm512_storeu_ps(y + i + 16, r1);
        _mm512_storeu_ps(y + i + 32, r2);
        _mm512_storeu_ps(y + i + 48, r3);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, op16(alg, alpha, _mm512_loadu_ps(a + i), b, i, true, all));
    if (i < n) {
        const __mmask16 m = cnnk_avx512_mask(n - i);
        __m512 r = op16(alg, alpha, cnnk_avx512_maskz_load(a + i, m), b, i, false, m);
        cnnk_avx512_mask_store(y + i, r, m);
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
    bool flat;     /* one run of `total` elements */
    int64_t total; /* flat: elements; else pixels */
    int64_t per;   /* elements per item (flat) or pixels per item */
    int64_t items;
} elt_plan;

static elt_plan plan(const cnnk_eltwise_desc *d, const cnnk_op_args *a, bool binary) {
    int64_t pixels = d->mb * d->h * d->w;
    bool flat = a->src_ld[0] == d->c && a->dst_ld == d->c && (!binary || a->src_ld[1] == d->c);
    elt_plan p = {flat, flat ? pixels * d->c : pixels, 0, 0};
    /* Pitched: as many pixels per item as make about one PIECE. */
    p.per = flat ? PIECE : cnnk_ceil_div(PIECE, d->c);
    p.items = cnnk_ceil_div(p.total, p.per);
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

const cnnk_op_kernel cnnk_eltwise__avx512 = {.name = "avx512/eltwise",
                                             .isa = CNNK_ISA_AVX512,
                                             .kind = CNNK_LAYER_ELTWISE,
                                             .applies = elt_applies,
                                             .run = elt_run};
