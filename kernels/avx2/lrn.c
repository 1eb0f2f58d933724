/* Local response normalisation across channels for AVX2:
 *   y[c] = x[c] / (k + alpha/size * sum_{|j-c| <= size/2} x[j]^2)^beta
 *
 * Per pixel the squares go once into a per-thread buffer with size/2 zeros
 * on each side, so the clipped window of 8 neighbouring channels is `size`
 * unaligned loads of that buffer added up: no edge cases, and no running
 * (add-new, subtract-old) sum, whose subtractions would leave the rounding
 * of a large square that left the window in a small sum. The squares are
 * positive, so the float sum is within (size - 1) ulp of the double one.
 *
 * The power: beta = 0.75 (AlexNet, GoogLeNet) is base^-0.75 =
 * 1 / sqrt(base * sqrt(base)), two correctly rounded square roots and a
 * product, a few ulp; beta = 1 and 0.5 are a division and a square root.
 * Any other beta goes through scalar double pow() per channel. */
#include <immintrin.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/team.h"

static int64_t round8(int64_t n) { return (n + 7) / 8 * 8; }

typedef enum lrn_pow { POW_075, POW_1, POW_05, POW_ANY } lrn_pow;

/* One thread's square buffer: half zeros, round8(c) squares (or zeros past
 * c), half zeros; rounded to whole cache lines so slices do not share one. */
static int64_t slice_floats(const cnnk_lrn_desc *d) {
    int64_t half = (d->size - 1) / 2;
    return (round8(d->c) + 2 * half + 15) / 16 * 16;
}

static size_t lrn_workspace(const cnnk_layer_desc *l, int nthreads) {
    return (size_t)(slice_floats(&l->u.lrn) * (nthreads > 1 ? nthreads : 1));
}

static __m256 lrn_power(lrn_pow kind, __m256 base, float beta) {
    switch (kind) {
    case POW_075: return _mm256_sqrt_ps(_mm256_mul_ps(base, _mm256_sqrt_ps(base)));
    case POW_1: return base;
    case POW_05: return _mm256_sqrt_ps(base);
    case POW_ANY: break;
    }
    float b[8];
    _mm256_storeu_ps(b, base);
    for (int i = 0; i < 8; ++i) b[i] = (float)pow((double)b[i], (double)beta);
    return _mm256_loadu_ps(b);
}

/* sq: the thread's slice, whose zero margins are already in place. */
static void lrn_pixel(const cnnk_lrn_desc *d, lrn_pow kind, const float *x, float *y,
                      float *sq) {
    const int64_t half = (d->size - 1) / 2, c = d->c;
    float *mid = sq + half;
    int64_t j = 0;
    for (; j + 8 <= c; j += 8) {
        __m256 v = _mm256_loadu_ps(x + j);
        _mm256_storeu_ps(mid + j, _mm256_mul_ps(v, v));
    }
    if (j < c) {
        __m256 v = _mm256_maskload_ps(x + j, cnnk_avx2_mask(c - j));
        _mm256_storeu_ps(mid + j, _mm256_mul_ps(v, v)); /* masked lanes square to 0 */
    }
    const __m256 k = _mm256_set1_ps(d->k), a = _mm256_set1_ps(d->alpha / (float)d->size);
    for (j = 0; j < c; j += 8) {
        __m256 sum = _mm256_loadu_ps(sq + j);
        for (int64_t t = 1; t < d->size; ++t) sum = _mm256_add_ps(sum, _mm256_loadu_ps(sq + j + t));
        __m256 den = lrn_power(kind, _mm256_fmadd_ps(a, sum, k), d->beta);
        const __m256i m = cnnk_avx2_mask(cnnk_min64(8, c - j));
        _mm256_maskstore_ps(y + j, m, _mm256_div_ps(_mm256_maskload_ps(x + j, m), den));
    }
}

static void zero_slice(float *sq, int64_t n) {
    for (int64_t i = 0; i < n; ++i) sq[i] = 0.0f;
}

static lrn_pow pow_kind(float beta) {
    return beta == 0.75f ? POW_075 : beta == 1.0f ? POW_1 : beta == 0.5f ? POW_05 : POW_ANY;
}

static bool lrn_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_LRN; }

typedef struct lrn_job {
    const cnnk_lrn_desc *d;
    const cnnk_op_args *a;
    lrn_pow kind;
    int64_t slice;
} lrn_job;

/* Part t's slice of the workspace: lrn_workspace sizes it for nthreads
 * parts, and cnnk_parallel_for never makes more. */
static void lrn_pixels(void *ctx, int64_t lo, int64_t hi, int part) {
    const lrn_job *j = ctx;
    const cnnk_op_args *a = j->a;
    float *sq = a->workspace + j->slice * part;
    zero_slice(sq, j->slice);
    for (int64_t p = lo; p < hi; ++p)
        lrn_pixel(j->d, j->kind, a->src[0] + p * a->src_ld[0], a->dst + p * a->dst_ld, sq);
}

static void lrn_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_lrn_desc *d = &l->u.lrn;
    lrn_job j = {d, a, pow_kind(d->beta), slice_floats(d)};
    cnnk_parallel_for(a->nthreads, d->mb * d->h * d->w, lrn_pixels, &j);
}

const cnnk_op_kernel cnnk_lrn__avx2 = {.name = "avx2/lrn",
                                       .isa = CNNK_ISA_AVX2,
                                       .kind = CNNK_LAYER_LRN,
                                       .applies = lrn_applies,
                                       .workspace_size = lrn_workspace,
                                       .run = lrn_run};
