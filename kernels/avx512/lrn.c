/* Local response normalisation across channels for AVX-512:
 *   y[c] = x[c] / (k + alpha/size * sum_{|j-c| <= size/2} x[j]^2)^beta
 *
 * Per pixel the squares go once into a per-thread buffer with size/2 zeros
 * on each side, so the clipped window of 16 neighbouring channels is `size`
 * unaligned loads of that buffer added up: no edge cases, and no running
 * (add-new, subtract-old) sum, whose subtractions would leave the rounding
 * of a large square that left the window in a small sum. The squares are
 * positive, so the float sum is within (size - 1) ulp of the double one.
 * The channel tail is one __mmask16 load and store; its masked lanes
 * square to 0, which is what the right margin must hold.
 *
 * The power: beta = 0.75 (AlexNet, GoogLeNet) is base^-0.75 =
 * 1 / sqrt(base * sqrt(base)), two correctly rounded square roots and a
 * product, a few ulp; beta = 1 and 0.5 are a division and a square root.
 * Any other beta goes through scalar double pow() per channel. */
#include <immintrin.h>
#include <math.h>
#include <omp.h>

#include "cnnk/kernel.h"
#include "kernels/avx512/vec.h"

typedef enum lrn_pow { POW_075, POW_1, POW_05, POW_ANY } lrn_pow;

/* One thread's square buffer: half zeros, round16(c) squares (or zeros past
 * c), half zeros; whole cache lines, so slices do not share one. */
static int64_t slice_floats(const cnnk_lrn_desc *d) {
    int64_t half = (d->size - 1) / 2;
    return cnnk_round_up(cnnk_round_up(d->c, 16) + 2 * half, 16);
}

static size_t lrn_workspace(const cnnk_layer_desc *l, int nthreads) {
    return (size_t)(slice_floats(&l->u.lrn) * (nthreads > 1 ? nthreads : 1));
}

static __m512 lrn_power(lrn_pow kind, __m512 base, float beta) {
    switch (kind) {
    case POW_075: return _mm512_sqrt_ps(_mm512_mul_ps(base, _mm512_sqrt_ps(base)));
    case POW_1: return base;
    case POW_05: return _mm512_sqrt_ps(base);
    case POW_ANY: break;
    }
    float b[16];
    _mm512_storeu_ps(b, base);
    for (int i = 0; i < 16; ++i) b[i] = (float)pow((double)b[i], (double)beta);
    return _mm512_loadu_ps(b);
}

/* sq: the thread's slice, whose zero margins are already in place. */
static void lrn_pixel(const cnnk_lrn_desc *d, lrn_pow kind, const float *x, float *y,
                      float *sq) {
    const int64_t half = (d->size - 1) / 2, c = d->c;
    float *mid = sq + half;
    int64_t j = 0;
    for (; j + 16 <= c; j += 16) {
        __m512 v = _mm512_loadu_ps(x + j);
        _mm512_storeu_ps(mid + j, _mm512_mul_ps(v, v));
    }
    if (j < c) {
        __m512 v = cnnk_avx512_maskz_load(x + j, cnnk_avx512_mask(c - j));
        _mm512_storeu_ps(mid + j, _mm512_mul_ps(v, v)); /* masked lanes square to 0 */
    }
    const __m512 k = _mm512_set1_ps(d->k), a = _mm512_set1_ps(d->alpha / (float)d->size);
    for (j = 0; j < c; j += 16) {
        __m512 sum = _mm512_loadu_ps(sq + j);
        for (int64_t t = 1; t < d->size; ++t) sum = _mm512_add_ps(sum, _mm512_loadu_ps(sq + j + t));
        __m512 den = lrn_power(kind, _mm512_fmadd_ps(a, sum, k), d->beta);
        const __mmask16 m = cnnk_avx512_mask(c - j);
        cnnk_avx512_mask_store(y + j, _mm512_div_ps(cnnk_avx512_maskz_load(x + j, m), den), m);
    }
}

static void zero_slice(float *sq, int64_t n) {
    for (int64_t i = 0; i < n; ++i) sq[i] = 0.0f;
}

static lrn_pow pow_kind(float beta) {
    return beta == 0.75f ? POW_075 : beta == 1.0f ? POW_1 : beta == 0.5f ? POW_05 : POW_ANY;
}

static bool lrn_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_LRN; }

static void lrn_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_lrn_desc *d = &l->u.lrn;
    const int64_t pixels = d->mb * d->h * d->w, slice = slice_floats(d);
    const lrn_pow kind = pow_kind(d->beta);
    if (a->nthreads <= 1) {
        zero_slice(a->workspace, slice);
        for (int64_t p = 0; p < pixels; ++p)
            lrn_pixel(d, kind, a->src[0] + p * a->src_ld[0], a->dst + p * a->dst_ld, a->workspace);
        return;
    }
#pragma omp parallel num_threads(a->nthreads)
    {
        float *sq = a->workspace + slice * omp_get_thread_num();
        zero_slice(sq, slice);
#pragma omp for schedule(static)
        for (int64_t p = 0; p < pixels; ++p)
            lrn_pixel(d, kind, a->src[0] + p * a->src_ld[0], a->dst + p * a->dst_ld, sq);
    }
}

const cnnk_op_kernel cnnk_lrn__avx512 = {.name = "avx512/lrn",
                                         .isa = CNNK_ISA_AVX512,
                                         .kind = CNNK_LAYER_LRN,
                                         .applies = lrn_applies,
                                         .workspace_size = lrn_workspace,
                                         .run = lrn_run};
