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
 * The power: beta = 0.75 (AlexNet, GoogLeNet) is y = x * r * sqrt(r) with
 * r = base^-1/2 from vrsqrt14ps (14 bits) and one Newton step (~28 bits,
 * then ~1 ulp of rounding): one square root per 16 channels, where AVX2's
 * x / sqrt(base * sqrt(base)) takes two and a division: those three
 * divider operations bound the kernel (ported as they were, it ran at
 * 0.65x AVX2's time and oneDNN's LRN at half of that). Worst relative error of base^-0.75 over
 * [1e-6, 1e7]: 2.2e-7, 3.7 ulp (a throwaway sweep against double pow());
 * the table's bound is 1e-6. r is finite for every finite base > 0, so
 * nothing overflows where base^1.5 would. beta = 1 is a division, 0.5 a
 * square root and a division; any other beta goes through scalar double
 * pow() per channel. */
#include <immintrin.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/team.h"

typedef enum lrn_pow { POW_075, POW_1, POW_05, POW_ANY } lrn_pow;

/* Pixels squared before the first of them is summed: a window load right
 * after the stores it overlaps cannot take its data from the store buffer
 * (it spans two stores) and waits for them to reach L1, which cost more
 * than the arithmetic; squaring a block first puts a block of stores
 * between each pixel's writes and its reads. */
enum { BLOCK = 8 };

/* One pixel's square buffer: half zeros, round16(c) squares (or zeros past
 * c), half zeros; whole cache lines. A thread holds BLOCK of them. */
static int64_t slice_floats(const cnnk_lrn_desc *d) {
    int64_t half = (d->size - 1) / 2;
    return cnnk_round_up(cnnk_round_up(d->c, 16) + 2 * half, 16);
}

static size_t lrn_workspace(const cnnk_layer_desc *l, int nthreads) {
    return (size_t)(BLOCK * slice_floats(&l->u.lrn) * (nthreads > 1 ? nthreads : 1));
}

/* x / base^beta. */
CNNK_INLINE __m512 lrn_scale(lrn_pow kind, __m512 x, __m512 base, float beta) {
    switch (kind) {
    case POW_075: {
        __m512 r = _mm512_rsqrt14_ps(base);
        const __m512 e = _mm512_fnmadd_ps(_mm512_mul_ps(base, r), r, _mm512_set1_ps(1.0f));
        r = _mm512_fmadd_ps(_mm512_mul_ps(r, _mm512_set1_ps(0.5f)), e, r); /* r (1 + e/2) */
        return _mm512_mul_ps(x, _mm512_mul_ps(r, _mm512_sqrt_ps(r)));
    }
    case POW_1: return _mm512_div_ps(x, base);
    case POW_05: return _mm512_div_ps(x, _mm512_sqrt_ps(base));
    case POW_ANY: break;
    }
    float b[16];
    _mm512_storeu_ps(b, base);
    for (int i = 0; i < 16; ++i) b[i] = (float)pow((double)b[i], (double)beta);
    return _mm512_div_ps(x, _mm512_loadu_ps(b));
}

/* The squares of one pixel into sq's middle (its zero margins in place). */
static void lrn_squares(const cnnk_lrn_desc *d, const float *x, float *sq) {
    const int64_t c = d->c;
    float *mid = sq + (d->size - 1) / 2;
    int64_t j = 0;
    for (; j + 16 <= c; j += 16) {
        __m512 v = _mm512_loadu_ps(x + j);
        _mm512_storeu_ps(mid + j, _mm512_mul_ps(v, v));
    }
    if (j < c) {
        __m512 v = cnnk_avx512_maskz_load(x + j, cnnk_avx512_mask(c - j));
        _mm512_storeu_ps(mid + j, _mm512_mul_ps(v, v)); /* masked lanes square to 0 */
    }
}

/* One pixel from its squares. */
static void lrn_pixel(const cnnk_lrn_desc *d, lrn_pow kind, const float *x, float *y,
                      const float *sq) {
    const int64_t c = d->c;
    const __m512 k = _mm512_set1_ps(d->k), a = _mm512_set1_ps(d->alpha / (float)d->size);
    for (int64_t j = 0; j < c; j += 16) {
        __m512 sum = _mm512_loadu_ps(sq + j);
        for (int64_t t = 1; t < d->size; ++t) sum = _mm512_add_ps(sum, _mm512_loadu_ps(sq + j + t));
        const __mmask16 m = cnnk_avx512_mask(c - j);
        __m512 base = _mm512_fmadd_ps(a, sum, k);
        __m512 v = lrn_scale(kind, cnnk_avx512_maskz_load(x + j, m), base, d->beta);
        cnnk_avx512_mask_store(y + j, v, m);
    }
}

/* Pixels [BLOCK * item, + BLOCK) of the batch; sq: the thread's BLOCK slices. */
static void lrn_block(const cnnk_lrn_desc *d, lrn_pow kind, const cnnk_op_args *a,
                      int64_t pixels, int64_t slice, int64_t item, float *sq) {
    const int64_t p0 = item * BLOCK, n = cnnk_min64(BLOCK, pixels - p0);
    for (int64_t q = 0; q < n; ++q)
        lrn_squares(d, a->src[0] + (p0 + q) * a->src_ld[0], sq + q * slice);
    for (int64_t q = 0; q < n; ++q)
        lrn_pixel(d, kind, a->src[0] + (p0 + q) * a->src_ld[0], a->dst + (p0 + q) * a->dst_ld,
                  sq + q * slice);
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
    int64_t pixels, slice;
} lrn_job;

/* Part t's BLOCK slices of the workspace: lrn_workspace sizes it for
 * nthreads parts, and cnnk_parallel_for never makes more. */
static void lrn_blocks(void *ctx, int64_t lo, int64_t hi, int part) {
    const lrn_job *j = ctx;
    float *sq = j->a->workspace + BLOCK * j->slice * part;
    zero_slice(sq, BLOCK * j->slice);
    for (int64_t i = lo; i < hi; ++i) lrn_block(j->d, j->kind, j->a, j->pixels, j->slice, i, sq);
}

static void lrn_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_lrn_desc *d = &l->u.lrn;
    const int64_t pixels = d->mb * d->h * d->w;
    lrn_job j = {d, a, pow_kind(d->beta), pixels, slice_floats(d)};
    cnnk_parallel_for(a->nthreads, cnnk_ceil_div(pixels, BLOCK), lrn_blocks, &j);
}

const cnnk_op_kernel cnnk_lrn__avx512 = {.name = "avx512/lrn",
                                         .isa = CNNK_ISA_AVX512,
                                         .kind = CNNK_LAYER_LRN,
                                         .applies = lrn_applies,
                                         .workspace_size = lrn_workspace,
                                         .run = lrn_run};
