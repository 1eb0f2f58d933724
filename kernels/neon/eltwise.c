/* ReLU, add, add+ReLU, dropout (the identity at inference) and leaky ReLU for NEON.
 * These are pure streams: the only aim is to run at memory bandwidth, so a
 * dense tensor (every pitch == c) is one flat run split evenly across
 * threads, and a pitched one is walked pixel by pixel with partial tails
 * that never touch the gap lanes. The plan and the items are AVX2's
 * (kernels/avx2/eltwise.c).
 *
 * ReLU is vec.h's, the reference's `x > 0 ? x : 0` for every input, NaN
 * included.
 * dst may alias a or b (same pitch): every element is read before written. */
#include <arm_neon.h>

#include "cnnk/kernel.h"
#include "kernels/neon/vec.h"
#include "kernels/common/team.h"

/* Flat runs are cut into pieces of this many floats (64 KiB) per item, big
 * enough to amortise scheduling and small enough to balance 2+ threads. */
enum { PIECE = 16384 };

/* b is indexed only by the binary algs: it is NULL for the unary ones. n is
 * the number of valid lanes, 4 for whole vectors. */
CNNK_INLINE float32x4_t op4(cnnk_eltwise_alg alg, float alpha, float32x4_t x, const float *b,
                            int64_t i, int64_t n) {
    switch (alg) {
    case CNNK_ELTWISE_RELU: return cnnk_neon_relu(x);
    case CNNK_ELTWISE_ADD: return vaddq_f32(x, cnnk_neon_load_n(b + i, n));
    case CNNK_ELTWISE_ADD_RELU: return cnnk_neon_relu(vaddq_f32(x, cnnk_neon_load_n(b + i, n)));
    case CNNK_ELTWISE_DROPOUT: return x;
    case CNNK_ELTWISE_LEAKY_RELU: return cnnk_neon_leaky(x, alpha);
    }
    return x;
}

/* n contiguous elements; alg is a compile-time constant in each caller. */
CNNK_INLINE void run_span(cnnk_eltwise_alg alg, float alpha, const float *a, const float *b,
                          float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t r0 = op4(alg, alpha, vld1q_f32(a + i), b, i, 4);
        float32x4_t r1 = op4(alg, alpha, vld1q_f32(a + i + 4), b, i + 4, 4);
        float32x4_t r2 = op4(alg, alpha, vld1q_f32(a + i + 8), b, i + 8, 4);
        float32x4_t r3 = op4(alg, alpha, vld1q_f32(a + i + 12), b, i + 12, 4);
        vst1q_f32(y + i, r0);
        vst1q_f32(y + i + 4, r1);
        vst1q_f32(y + i + 8, r2);
        vst1q_f32(y + i + 12, r3);
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, op4(alg, alpha, vld1q_f32(a + i), b, i, 4));
    if (i < n) {
        const int64_t t = n - i;
        cnnk_neon_store_n(y + i, op4(alg, alpha, cnnk_neon_load_n(a + i, t), b, i, t), t);
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

const cnnk_op_kernel cnnk_eltwise__neon = {.name = "neon/eltwise",
                                           .isa = CNNK_ISA_NEON,
                                           .kind = CNNK_LAYER_ELTWISE,
                                           .applies = elt_applies,
                                           .run = elt_run};
