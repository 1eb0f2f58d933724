/* Softmax over the channels of each pixel, for NEON, in three passes over
 * the row: the max (and min), e = exp(x - max) written to dst while the sum
 * is kept, then dst *= 1/sum. dst may be src: each pass reads an element
 * before it writes it. kernels/avx2/softmax.c's method at 4 lanes.
 *
 * exp: Cephes' expf range reduction, x = n ln2 + r with |r| <= ln2/2, ln2
 * split in two (C1 exact in 9 bits, so n*C1 is exact) and a degree-5
 * polynomial for e^r, evaluated with FMA: about 1 ulp on the range used
 * here, [-87.3, 0], where e^x and 2^n are normal floats. The instruction
 * sequence is AVX2's operation for operation (frintn for the round to
 * nearest even, fmls for fnmadd), so both give the same floats per lane.
 * The sum is kept in double: the reference's is, and a float sum of 1000
 * terms could drift by ~c/8 ulp in the worst case. The scale is one float
 * multiply, so each output is within ~3 ulp of the double reference.
 *
 * A row whose values span more than 87 (max - min) would have outputs
 * below FLT_MIN, subnormal in the reference; a relative bound cannot be
 * kept there by the polynomial, so such rows take the reference's scalar
 * double path. The range pass uses fmax/fmin, which propagate NaN, so a
 * row holding a NaN or an infinity fails the span test and takes that path
 * too, giving the reference's NaNs. */
#include <arm_neon.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/neon/vec.h"
#include "kernels/common/team.h"

enum { PIXELS_PER_ITEM = 8 };

/* exp(x) >= FLT_MIN for x >= this (ln FLT_MIN = -87.336). */
#define CNNK_NEON_EXP_LO (-87.0f)

/* e^(x - mx) for x - mx in [EXP_LO, 0]; lanes below are clamped (only the
 * lanes past a row's end reach them, and callers mask those). x - mx is
 * not rounded before the reduction: it is split exactly into s + e
 * (Knuth's two-sum), and r = (s - n*C1) + e - n*C2, where s - n*C1 is
 * exact (n*C1 has at most 17 bits and nearly cancels s). A rounded s would
 * cost |x - mx| * 2^-24 of relative error in the result, 2.4e-6 at a
 * distance of 40 from the max: over the tolerance. */
CNNK_INLINE float32x4_t exp_diff4(float32x4_t x, float32x4_t mx) {
    const float32x4_t s = vsubq_f32(x, mx);
    const float32x4_t bb = vsubq_f32(s, x);
    const float32x4_t e = vsubq_f32(vsubq_f32(x, vsubq_f32(s, bb)), vaddq_f32(mx, bb));
    const float32x4_t sc = vmaxq_f32(s, vdupq_n_f32(CNNK_NEON_EXP_LO));
    float32x4_t n = vrndnq_f32(vmulq_f32(sc, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(sc, n, vdupq_n_f32(0.693359375f));
    /* the low part only where s was not clamped */
    r = vaddq_f32(r, vreinterpretq_f32_u32(
                         vandq_u32(vreinterpretq_u32_f32(e), vceqq_f32(s, sc))));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    int32x4_t q = vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(q));
}

static void row_range(const float *x, int64_t c, float *mx, float *mn) {
    float32x4_t vmax = vdupq_n_f32(-INFINITY), vmin = vdupq_n_f32(INFINITY);
    int64_t j = 0;
    for (; j + 4 <= c; j += 4) {
        float32x4_t v = vld1q_f32(x + j);
        vmax = vmaxq_f32(v, vmax);
        vmin = vminq_f32(v, vmin);
    }
    if (j < c) { /* lanes past c load as 0 and are kept out */
        const uint32x4_t on = cnnk_neon_mask(c - j);
        float32x4_t v = cnnk_neon_load_n(x + j, c - j);
        vmax = vbslq_f32(on, vmaxq_f32(v, vmax), vmax);
        vmin = vbslq_f32(on, vminq_f32(v, vmin), vmin);
    }
    *mx = vmaxvq_f32(vmax);
    *mn = vminvq_f32(vmin);
}

/* y[0, n) = e^(x - mx) for n <= 4 channels, added to sum in double. */
CNNK_INLINE void exp_step(const float *x, float *y, int64_t n, float32x4_t vmx,
                          float64x2_t sum[2]) {
    float32x4_t e = exp_diff4(cnnk_neon_load_n(x, n), vmx);
    /* lanes past n load as 0 and give e^-mx: kept out of the sum */
    e = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(e), cnnk_neon_mask(n)));
    sum[0] = vaddq_f64(sum[0], vcvt_f64_f32(vget_low_f32(e)));
    sum[1] = vaddq_f64(sum[1], vcvt_high_f64_f32(e));
    cnnk_neon_store_n(y, e, n);
}

/* The reference's own arithmetic, for rows with subnormal outputs. */
static void softmax_scalar(int64_t c, const float *x, float *y, float mx) {
    double sum = 0.0;
    for (int64_t j = 0; j < c; ++j) sum += exp((double)x[j] - mx);
    for (int64_t j = 0; j < c; ++j) y[j] = (float)(exp((double)x[j] - mx) / sum);
}

static void softmax_pixel(int64_t c, const float *x, float *y) {
    float mx, mn;
    row_range(x, c, &mx, &mn);
    if (!(mn - mx >= CNNK_NEON_EXP_LO)) { /* also NaN / inf rows */
        softmax_scalar(c, x, y, mx);
        return;
    }
    const float32x4_t vmx = vdupq_n_f32(mx);
    float64x2_t sum[2] = {vdupq_n_f64(0.0), vdupq_n_f64(0.0)};
    int64_t j = 0;
    for (; j + 4 <= c; j += 4) exp_step(x + j, y + j, 4, vmx, sum);
    if (j < c) exp_step(x + j, y + j, c - j, vmx, sum);
    const float32x4_t inv = vdupq_n_f32((float)(1.0 / vaddvq_f64(vaddq_f64(sum[0], sum[1]))));
    for (j = 0; j + 4 <= c; j += 4) vst1q_f32(y + j, vmulq_f32(vld1q_f32(y + j), inv));
    if (j < c) cnnk_neon_store_n(y + j, vmulq_f32(cnnk_neon_load_n(y + j, c - j), inv), c - j);
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

#undef CNNK_NEON_EXP_LO

const cnnk_op_kernel cnnk_softmax__neon = {.name = "neon/softmax",
                                           .isa = CNNK_ISA_NEON,
                                           .kind = CNNK_LAYER_SOFTMAX,
                                           .applies = softmax_applies,
                                           .run = softmax_run};
