/* Softmax over the channels of each pixel, for AVX-512, in three passes
 * over the row: the max (and min), e = exp(x - max) written to dst while
 * the sum is kept, then dst *= 1/sum. dst may be src: each pass reads an
 * element before it writes it. The row's tail is one __mmask16 block in
 * every pass.
 *
 * exp: Cephes' expf range reduction, x = n ln2 + r with |r| <= ln2/2, ln2
 * split in two (C1 exact in 9 bits, so n*C1 is exact) and a degree-5
 * polynomial for e^r, evaluated with FMA: about 1 ulp on the range used
 * here, [-87.3, 0], where e^x and 2^n are normal floats; the final
 * p * 2^n is vscalefps, exact there as the AVX2 kernel's exponent-bits
 * multiply is.
 * The sum is kept in double: the reference's is, and a float sum of 1000
 * terms could drift by ~c/16 ulp in the worst case. The scale is one float
 * multiply, so each output is within ~3 ulp of the double reference.
 *
 * A row whose values span more than 87 (max - min) would have outputs
 * below FLT_MIN, subnormal in the reference; a relative bound cannot be
 * kept there by the polynomial, so such rows take the reference's scalar
 * double path, as do rows holding an infinity or a NaN (the reference's
 * NaN or inf arithmetic, which the polynomial would not reproduce). No
 * network reaches it; it keeps the kernel honest. */
#include <immintrin.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/team.h"

enum { PIXELS_PER_ITEM = 8 };

/* exp(x) >= FLT_MIN for x >= this (ln FLT_MIN = -87.336). */
#define CNNK_SOFTMAX_EXP_LO (-87.0f)

/* e^(x - mx) for x - mx in [CNNK_SOFTMAX_EXP_LO, 0]; lanes below are clamped (callers
 * mask them). x - mx is not rounded before the reduction: it is split
 * exactly into s + e (Knuth's two-sum), and r = (s - n*C1) + e - n*C2, where
 * s - n*C1 is exact (n*C1 has at most 17 bits and nearly cancels s). A
 * rounded s would cost |x - mx| * 2^-24 of relative error in the result,
 * 2.4e-6 at a distance of 40 from the max: over the tolerance. */
CNNK_INLINE __m512 exp_diff16(__m512 x, __m512 mx) {
    const __m512 s = _mm512_sub_ps(x, mx);
    const __m512 bb = _mm512_sub_ps(s, x);
    const __m512 e = _mm512_sub_ps(_mm512_sub_ps(x, _mm512_sub_ps(s, bb)), _mm512_add_ps(mx, bb));
    const __m512 sc = _mm512_max_ps(s, _mm512_set1_ps(CNNK_SOFTMAX_EXP_LO));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(sc, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), sc);
    /* the low part only where s was not clamped */
    r = _mm512_mask_add_ps(r, _mm512_cmp_ps_mask(s, sc, _CMP_EQ_OQ), r, e);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

/* The row's max and min, and whether it holds a NaN (max and min skip
 * NaN operands, so it is tracked apart). */
static bool row_range(const float *x, int64_t c, float *mx, float *mn) {
    __m512 vmax = _mm512_set1_ps(-INFINITY), vmin = _mm512_set1_ps(INFINITY);
    __mmask16 nan = 0;
    for (int64_t j = 0; j < c; j += 16) {
        const __mmask16 m = cnnk_avx512_mask(c - j);
        __m512 v = cnnk_avx512_maskz_load(x + j, m);
        vmax = _mm512_mask_max_ps(vmax, m, v, vmax);
        vmin = _mm512_mask_min_ps(vmin, m, v, vmin);
        nan |= _mm512_mask_cmp_ps_mask(m, v, v, _CMP_UNORD_Q);
    }
    *mx = _mm512_reduce_max_ps(vmax);
    *mn = _mm512_reduce_min_ps(vmin);
    return nan == 0;
}

/* The reference's own arithmetic, for rows with subnormal outputs. */
static void softmax_scalar(int64_t c, const float *x, float *y, float mx) {
    double sum = 0.0;
    for (int64_t j = 0; j < c; ++j) sum += exp((double)x[j] - mx);
    for (int64_t j = 0; j < c; ++j) y[j] = (float)(exp((double)x[j] - mx) / sum);
}

static void softmax_pixel(int64_t c, const float *x, float *y) {
    float mx, mn;
    const bool ordered = row_range(x, c, &mx, &mn);
    if (!ordered || !(mn - mx >= CNNK_SOFTMAX_EXP_LO)) { /* also inf rows */
        softmax_scalar(c, x, y, mx);
        return;
    }
    const __m512 vmx = _mm512_set1_ps(mx);
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (int64_t j = 0; j < c; j += 16) {
        const __mmask16 m = cnnk_avx512_mask(c - j);
        __m512 e = _mm512_maskz_mov_ps(m, exp_diff16(cnnk_avx512_maskz_load(x + j, m), vmx));
        lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(e, 1)));
        cnnk_avx512_mask_store(y + j, e, m);
    }
    const __m512 inv = _mm512_set1_ps((float)(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(lo, hi))));
    for (int64_t j = 0; j < c; j += 16) {
        const __mmask16 m = cnnk_avx512_mask(c - j);
        cnnk_avx512_mask_store(y + j, _mm512_mul_ps(cnnk_avx512_maskz_load(y + j, m), inv), m);
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
    const int64_t items = cnnk_ceil_div(pixels, PIXELS_PER_ITEM);
    softmax_job j = {d, a, pixels};
    cnnk_parallel_for(a->nthreads, items, softmax_items, &j);
}

const cnnk_op_kernel cnnk_softmax__avx512 = {.name = "avx512/softmax",
                                             .isa = CNNK_ISA_AVX512,
                                             .kind = CNNK_LAYER_SOFTMAX,
                                             .applies = softmax_applies,
                                             .run = softmax_run};

#undef CNNK_SOFTMAX_EXP_LO
