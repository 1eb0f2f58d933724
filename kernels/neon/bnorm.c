/* Inference batch-norm as a layer of its own, for NEON:
 *   s = gamma / sqrt(var + eps),  t = beta - mean * s,  y = x * s + t
 * with s and t precomputed once per run into the workspace, then one FMA
 * per element (and an optional ReLU) in a pure stream.
 *
 * Why s, t and the FMA are in double (as in kernels/avx2/bnorm.c): y often
 * nearly cancels (x*s close to -t; on integer test data exactly so, up to
 * the eps inside the sqrt), and a float s or t carries an absolute error of
 * ulp(|x*s|) that the max-relative tolerance (1e-5) sees as a large error
 * of a tiny y. In double the error is ~1e-16 of the operands, and the one
 * final rounding to float matches the double reference to within one ulp.
 * The stream stays memory-bound: per 4 floats, two widenings, two double
 * FMAs and a narrowing. ReLU is vec.h's, the reference's for every input. */
#include <arm_neon.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/neon/vec.h"
#include "kernels/common/team.h"

enum { PIXELS_PER_ITEM = 64 };

static int64_t round4(int64_t n) { return (n + 3) / 4 * 4; }

/* s and t: round4(c) doubles each; padded lanes are 0 (read, never used). */
static size_t bnorm_workspace(const cnnk_layer_desc *l, int nthreads) {
    (void)nthreads; /* shared read-only by every thread */
    return (size_t)(4 * round4(l->u.bnorm.c));
}

static void precompute(const cnnk_bnorm_desc *d, const float *const *p, double *s, double *t) {
    const float *mean = p[0], *var = p[1], *gamma = p[2], *beta = p[3];
    for (int64_t c = 0; c < round4(d->c); ++c) s[c] = t[c] = 0.0;
    for (int64_t c = 0; c < d->c; ++c) {
        s[c] = (double)gamma[c] / sqrt((double)var[c] + (double)d->eps);
        t[c] = (double)beta[c] - (double)mean[c] * s[c];
    }
}

CNNK_INLINE float32x4_t affine4(float32x4_t x, const double *s, const double *t, bool relu,
                                float alpha) {
    float64x2_t lo = vfmaq_f64(vld1q_f64(t), vcvt_f64_f32(vget_low_f32(x)), vld1q_f64(s));
    float64x2_t hi = vfmaq_f64(vld1q_f64(t + 2), vcvt_high_f64_f32(x), vld1q_f64(s + 2));
    float32x4_t y = vcvt_high_f32_f64(vcvt_f32_f64(lo), hi);
    return relu ? cnnk_neon_act(y, alpha) : y;
}

static void bnorm_row(const float *x, float *y, int64_t n, const double *s, const double *t,
                      bool relu, float alpha) {
    int64_t c = 0;
    for (; c + 4 <= n; c += 4)
        vst1q_f32(y + c, affine4(vld1q_f32(x + c), s + c, t + c, relu, alpha));
    if (c < n)
        cnnk_neon_store_n(y + c,
                          affine4(cnnk_neon_load_n(x + c, n - c), s + c, t + c, relu, alpha),
                          n - c);
}

static void bnorm_item(const cnnk_bnorm_desc *d, const cnnk_op_args *a, const double *s,
                       const double *t, int64_t pixels, int64_t item) {
    int64_t p0 = item * PIXELS_PER_ITEM, p1 = cnnk_min64(pixels, p0 + PIXELS_PER_ITEM);
    for (int64_t p = p0; p < p1; ++p)
        bnorm_row(a->src[0] + p * a->src_ld[0], a->dst + p * a->dst_ld, d->c, s, t, a->relu,
                  a->relu_alpha);
}

typedef struct bnorm_job {
    const cnnk_bnorm_desc *d;
    const cnnk_op_args *a;
    const double *s, *t;
    int64_t pixels;
} bnorm_job;

static void bnorm_items(void *ctx, int64_t lo, int64_t hi, int part) {
    (void)part;
    const bnorm_job *j = ctx;
    for (int64_t i = lo; i < hi; ++i) bnorm_item(j->d, j->a, j->s, j->t, j->pixels, i);
}

static bool bnorm_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_BNORM; }

static void bnorm_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_bnorm_desc *d = &l->u.bnorm;
    double *s = (double *)(void *)a->workspace, *t = s + round4(d->c);
    precompute(d, a->params, s, t);
    const int64_t pixels = d->mb * d->h * d->w;
    const int64_t items = (pixels + PIXELS_PER_ITEM - 1) / PIXELS_PER_ITEM;
    bnorm_job j = {d, a, s, t, pixels};
    cnnk_parallel_for(a->nthreads, items, bnorm_items, &j);
}

const cnnk_op_kernel cnnk_bnorm__neon = {.name = "neon/bnorm",
                                         .isa = CNNK_ISA_NEON,
                                         .kind = CNNK_LAYER_BNORM,
                                         .applies = bnorm_applies,
                                         .workspace_size = bnorm_workspace,
                                         .run = bnorm_run};
