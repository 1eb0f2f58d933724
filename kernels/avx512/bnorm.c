/* Inference batch-norm as a layer of its own, for AVX-512:
 *   s = gamma / sqrt(var + eps),  t = beta - mean * s,  y = x * s + t
 * with s and t precomputed once per run into the workspace, then one FMA
 * per element (and an optional ReLU) in a pure stream; the channel tail is
 * one __mmask16 load and store.
 *
 * Why s, t and the FMA are in double: y often nearly cancels (x*s close to
 * -t; on integer test data exactly so, up to the eps inside the sqrt), and
 * a float s or t carries an absolute error of ulp(|x*s|) that the
 * max-relative tolerance (1e-5) sees as a large error of a tiny y. In
 * double the error is ~1e-16 of the operands, and the one final rounding
 * to float matches the double reference to within one ulp. The stream
 * stays memory-bound: two conversions and two FMAs per 16 floats. */
#include <immintrin.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/team.h"

enum { PIXELS_PER_ITEM = 64 };

/* s and t: round16(c) doubles each, so the tail's s and t are whole
 * vectors; padded lanes are 0 (read, never stored). */
static int64_t padded_c(const cnnk_bnorm_desc *d) { return cnnk_round_up(d->c, 16); }

static size_t bnorm_workspace(const cnnk_layer_desc *l, int nthreads) {
    (void)nthreads; /* shared read-only by every thread */
    return (size_t)(4 * padded_c(&l->u.bnorm));
}

static void precompute(const cnnk_bnorm_desc *d, const float *const *p, double *s, double *t) {
    const float *mean = p[0], *var = p[1], *gamma = p[2], *beta = p[3];
    for (int64_t c = 0; c < padded_c(d); ++c) s[c] = t[c] = 0.0;
    for (int64_t c = 0; c < d->c; ++c) {
        s[c] = (double)gamma[c] / sqrt((double)var[c] + (double)d->eps);
        t[c] = (double)beta[c] - (double)mean[c] * s[c];
    }
}

CNNK_INLINE __m512 affine16(__m512 x, const double *s, const double *t) {
    __m512d lo = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)), _mm512_loadu_pd(s),
                                 _mm512_loadu_pd(t));
    __m512d hi = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1)),
                                 _mm512_loadu_pd(s + 8), _mm512_loadu_pd(t + 8));
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
}

static void bnorm_row(const float *x, float *y, int64_t n, const double *s, const double *t,
                      bool relu, float alpha) {
    int64_t c = 0;
    for (; c + 16 <= n; c += 16) {
        __m512 v = affine16(_mm512_loadu_ps(x + c), s + c, t + c);
        _mm512_storeu_ps(y + c, relu ? cnnk_avx512_act(v, alpha) : v);
    }
    if (c < n) {
        const __mmask16 m = cnnk_avx512_mask(n - c);
        __m512 v = affine16(cnnk_avx512_maskz_load(x + c, m), s + c, t + c);
        cnnk_avx512_mask_store(y + c, relu ? cnnk_avx512_act(v, alpha) : v, m);
    }
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
    double *s = (double *)(void *)a->workspace, *t = s + padded_c(d);
    precompute(d, a->params, s, t);
    const int64_t pixels = d->mb * d->h * d->w;
    const int64_t items = cnnk_ceil_div(pixels, PIXELS_PER_ITEM);
    bnorm_job j = {d, a, s, t, pixels};
    cnnk_parallel_for(a->nthreads, items, bnorm_items, &j);
}

const cnnk_op_kernel cnnk_bnorm__avx512 = {.name = "avx512/bnorm",
                                           .isa = CNNK_ISA_AVX512,
                                           .kind = CNNK_LAYER_BNORM,
                                           .applies = bnorm_applies,
                                           .workspace_size = bnorm_workspace,
                                           .run = bnorm_run};
