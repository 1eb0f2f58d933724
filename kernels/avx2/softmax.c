/* Softmax over the channels of each pixel, for AVX2, in three passes over
 * the row: the max (and min), e = exp(x - max) written to dst while the sum
 * is kept, then dst *= 1/sum. dst may be src: each pass reads an element
 * before it writes it.
 *
 * exp: Cephes' expf range reduction, x = n ln2 + r with |r| <= ln2/2, ln2
 * split in two (C1 exact in 9 bits, so n*C1 is exact) and a degree-5
 * polynomial for e^r, evaluated with FMA: about 1 ulp on the range used
 * here, [-87.3, 0], where e^x and 2^n are normal floats.
 * The sum is kept in double: the reference's is, and a float sum of 1000
 * terms could drift by ~c/8 ulp in the worst case. The scale is one float
 * multiply, so each output is within ~3 ulp of the double reference.
 *
 * A row whose values span more than 87 (max - min) would have outputs
 * below FLT_MIN, subnormal in the reference; a relative bound cannot be
 * kept there by the polynomial, so such rows take the reference's scalar
 * double path, as do rows holding a NaN (NaN throughout, as the reference's
 * sum makes it; the vector max alone would drop it). No network reaches it; it keeps the kernel honest. */
#include <immintrin.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/team.h"

enum { PIXELS_PER_ITEM = 8 };

/* exp(x) >= FLT_MIN for x >= this (ln FLT_MIN = -87.336). */
#define EXP_LO (-87.0f)


/* e^(x - mx) for x - mx in [EXP_LO, 0]; lanes below are clamped (callers
 * mask them). x - mx is not rounded before the reduction: it is split
 * exactly into s + e (Knuth's two-sum), and r = (s - n*C1) + e - n*C2, where
 * s - n*C1 is exact (n*C1 has at most 17 bits and nearly cancels s). A
 * rounded s would cost |x - mx| * 2^-24 of relative error in the result,
 * 2.4e-6 at a distance of 40 from the max: over the tolerance. */
static inline __m256 exp_diff8(__m256 x, __m256 mx) {
    const __m256 s = _mm256_sub_ps(x, mx);
    const __m256 bb = _mm256_sub_ps(s, x);
    const __m256 e = _mm256_sub_ps(_mm256_sub_ps(x, _mm256_sub_ps(s, bb)),
                                   _mm256_add_ps(mx, bb));
    const __m256 sc = _mm256_max_ps(s, _mm256_set1_ps(EXP_LO));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(sc, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), sc);
    /* the low part only where s was not clamped */
    r = _mm256_add_ps(r, _mm256_and_ps(e, _mm256_cmp_ps(s, sc, _CMP_EQ_OQ)));
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i q = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(q));
}

static float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static float hmin(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static double hsum_pd(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* The row's max and min, and whether it holds a NaN: max and min drop a
 * NaN operand, so it is tracked apart (a masked-off lane loads as 0). */
static bool row_range(const float *x, int64_t c, float *mx, float *mn) {
    __m256 vmax = _mm256_set1_ps(-INFINITY), vmin = _mm256_set1_ps(INFINITY);
    __m256 nan = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= c; j += 8) {
        __m256 v = _mm256_loadu_ps(x + j);
        vmax = _mm256_max_ps(v, vmax);
        vmin = _mm256_min_ps(v, vmin);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    if (j < c) {
        const __m256i m = cnnk_avx2_mask(c - j);
        __m256 v = _mm256_maskload_ps(x + j, m);
        __m256 on = _mm256_castsi256_ps(m);
        vmax = _mm256_max_ps(_mm256_blendv_ps(vmax, v, on), vmax);
        vmin = _mm256_min_ps(_mm256_blendv_ps(vmin, v, on), vmin);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    *mx = hmax(vmax);
    *mn = hmin(vmin);
    return _mm256_movemask_ps(nan) == 0;
}

/* The reference's own arithmetic, for rows with subnormal outputs. */
static void softmax_scalar(int64_t c, const float *x, float *y, float mx) {
    double sum = 0.0;
    for (int64_t j = 0; j < c; ++j) sum += exp((double)x[j] - mx);
    for (int64_t j = 0; j < c; ++j) y[j] = (float)(exp((double)x[j] - mx) / sum);
}

static void softmax_pixel(int64_t c, const float *x, float *y) {
    float mx, mn;
    const bool finite = row_range(x, c, &mx, &mn);
    if (!finite || !(mn - mx >= EXP_LO)) { /* NaN, inf and subnormal-output rows */
        softmax_scalar(c, x, y, mx);
        return;
    }
    const __m256 vmx = _mm256_set1_ps(mx);
    __m256d sum = _mm256_setzero_pd();
    for (int64_t j = 0; j < c; j += 8) {
        const __m256i m = cnnk_avx2_mask(cnnk_min64(8, c - j));
        __m256 e = exp_diff8(_mm256_maskload_ps(x + j, m), vmx);
        e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
        sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
        _mm256_maskstore_ps(y + j, m, e);
    }
    const __m256 inv = _mm256_set1_ps((float)(1.0 / hsum_pd(sum)));
    for (int64_t j = 0; j < c; j += 8) {
        const __m256i m = cnnk_avx2_mask(cnnk_min64(8, c - j));
        _mm256_maskstore_ps(y + j, m, _mm256_mul_ps(_mm256_maskload_ps(y + j, m), inv));
    }
}

static void softmax_item(const cnnk_softmax_desc *d, const cnnk_op_args *a, int64_t pixels,
                         int64_t item) {
    int64_t p0 = item * PIXELS_PER_ITEM, p1 = cnnk_min64(pixels, p0 + PIXELS_PER_ITEM);
    for (int64_t p = p0; p < p1; ++p)
        softmax_pixel(d->c, a->src[0] + p * a->src_ld[0], a->dst + p * a->dst_ld);
}

typedef struct softmax_job {
    const cnnk_softmax_desc *d;
    const cnnk_op_args *a;
    int64_t pixels;
} softmax_job;

static void softmax_items(void *ctx, int64_t lo, int64_t hi, int part) {
    (void)part;
    const softmax_job *j = ctx;
    for (int64_t i = lo; i < hi; ++i) softmax_item(j->d, j->a, j->pixels, i);
}

static bool softmax_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_SOFTMAX; }

static void softmax_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_softmax_desc *d = &l->u.softmax;
    const int64_t pixels = d->mb * d->h * d->w;
    const int64_t items = (pixels + PIXELS_PER_ITEM - 1) / PIXELS_PER_ITEM;
    softmax_job j = {d, a, pixels};
    cnnk_parallel_for(a->nthreads, items, softmax_items, &j);
}

const cnnk_op_kernel cnnk_softmax__avx2 = {.name = "avx2/softmax",
                                           .isa = CNNK_ISA_AVX2,
                                           .kind = CNNK_LAYER_SOFTMAX,
                                           .applies = softmax_applies,
                                           .run = softmax_run};
