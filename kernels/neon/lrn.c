/* Local response normalisation across channels for NEON:
 *   y[c] = x[c] / (k + alpha/size * sum_{|j-c| <= size/2} x[j]^2)^beta
 *
 * kernels/avx2/lrn.c's method at 4 lanes. Per pixel the squares go once
 * into a per-thread buffer with size/2 zeros on each side, so the clipped
 * window of 4 neighbouring channels is `size` unaligned loads of that
 * buffer added up: no edge cases, and no running (add-new, subtract-old)
 * sum, whose subtractions would leave the rounding of a large square that
 * left the window in a small sum. The squares are positive, so the float
 * sum is within (size - 1) ulp of the double one.
 *
 * The power: beta = 0.75 (AlexNet, GoogLeNet) is base^-0.75 =
 * 1 / sqrt(base * sqrt(base)), two correctly rounded square roots (AArch64
 * fsqrt) and a product, a few ulp; beta = 1 and 0.5 are a division and a
 * square root. Any other beta goes through scalar double pow() per
 * channel. The operations and their order are AVX2's, so both ISAs give
 * the same floats. */
#include <arm_neon.h>
#include <math.h>

#include "cnnk/kernel.h"
#include "kernels/neon/vec.h"
#include "kernels/common/team.h"

static int64_t round4(int64_t n) { return (n + 3) / 4 * 4; }

typedef enum lrn_pow { POW_075, POW_1, POW_05, POW_ANY } lrn_pow;

/* One thread's square buffer: half zeros, round4(c) squares (or zeros past
 * c), half zeros; rounded to whole cache lines so slices do not share one.
 * The last window load starts at round4(c) - 4 + size - 1 and ends at
 * round4(c) + 2 half, inside. */
static int64_t slice_floats(const cnnk_lrn_desc *d) {
    int64_t half = (d->size - 1) / 2;
    return (int64_t)cnnk_align16((size_t)(round4(d->c) + 2 * half));
}

static size_t lrn_workspace(const cnnk_layer_desc *l, int nthreads) {
    return (size_t)(slice_floats(&l->u.lrn) * (nthreads > 1 ? nthreads : 1));
}

static float32x4_t lrn_power(lrn_pow kind, float32x4_t base, float beta) {
    switch (kind) {
    case POW_075: return vsqrtq_f32(vmulq_f32(base, vsqrtq_f32(base)));
    case POW_1: return base;
    case POW_05: return vsqrtq_f32(base);
    case POW_ANY: break;
    }
    float b[4];
    vst1q_f32(b, base);
    for (int i = 0; i < 4; ++i) b[i] = (float)pow((double)b[i], (double)beta);
    return vld1q_f32(b);
}

/* sq: the thread's slice, whose zero margins are already in place. */
static void lrn_pixel(const cnnk_lrn_desc *d, lrn_pow kind, const float *x, float *y,
                      float *sq) {
    const int64_t half = (d->size - 1) / 2, c = d->c;
    float *mid = sq + half;
    int64_t j = 0;
    for (; j + 4 <= c; j += 4) {
        float32x4_t v = vld1q_f32(x + j);
        vst1q_f32(mid + j, vmulq_f32(v, v));
    }
    if (j < c) {
        float32x4_t v = cnnk_neon_load_n(x + j, c - j);
        vst1q_f32(mid + j, vmulq_f32(v, v)); /* lanes past c square to 0 */
    }
    const float32x4_t k = vdupq_n_f32(d->k), a = vdupq_n_f32(d->alpha / (float)d->size);
    for (j = 0; j < c; j += 4) {
        float32x4_t sum = vld1q_f32(sq + j);
        for (int64_t t = 1; t < d->size; ++t) sum = vaddq_f32(sum, vld1q_f32(sq + j + t));
        float32x4_t den = lrn_power(kind, vfmaq_f32(k, a, sum), d->beta);
        const int64_t n = cnnk_min64(4, c - j);
        cnnk_neon_store_n(y + j, vdivq_f32(cnnk_neon_load_n(x + j, n), den), n);
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

const cnnk_op_kernel cnnk_lrn__neon = {.name = "neon/lrn",
                                       .isa = CNNK_ISA_NEON,
                                       .kind = CNNK_LAYER_LRN,
                                       .applies = lrn_applies,
                                       .workspace_size = lrn_workspace,
                                       .run = lrn_run};
