/* Transposed convolution for NEON, vectorised over output channels and
 * gathered per output pixel (the reference's formulation, and
 * kernels/avx2/deconv.c's): for each kernel tap (kh, kw), the input pixel
 * that scatters onto (oh, ow) exists only where the offset divides by the
 * stride, and its icg channels are multiplied into a packed row of
 * output-channel weights. Gathering rather than scattering means each
 * output is written once, by one thread, with no accumulation buffer, no
 * workspace and no races; output rows are the parallel items. Any stride,
 * padding, dilation and group count.
 *
 * Packing: [g][kh][kw][icg][ocp] with ocp = ocg rounded up to 4, zeros in
 * the padding, so every weight row is whole vectors. Up to 32 output
 * channels (8 of the 32 q registers as accumulators) share each input
 * value; four input channels are loaded at once and applied with
 * lane-indexed fmla, the rest one by one.
 *
 * On integer data every partial sum is an integer below 2^24, so the float
 * result is exact whatever the order, as the tolerance table demands; the
 * order is the reference's anyway (kh, kw, then input channel). */
#include <arm_neon.h>
#include <string.h>

#include "cnnk/kernel.h"
#include "kernels/neon/vec.h"
#include "kernels/common/deconv_taps.h"
#include "kernels/common/team.h"

enum { OC_VECS = 8 };

static int64_t round4(int64_t n) { return (n + 3) / 4 * 4; }

static bool deconv_applies(const cnnk_layer_desc *l) {
    return l->kind == CNNK_LAYER_DECONV && l->u.conv.transposed;
}

static size_t deconv_packed_size(const cnnk_layer_desc *l) {
    const cnnk_conv_desc *d = &l->u.conv;
    return (size_t)(d->g * d->kh * d->kw * (d->ic / d->g) * round4(d->oc / d->g));
}

static void deconv_pack(const cnnk_layer_desc *l, const float *w, float *packed) {
    const cnnk_conv_desc *d = &l->u.conv;
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g, ocp = round4(ocg);
    memset(packed, 0, deconv_packed_size(l) * sizeof(float));
    for (int64_t g = 0; g < d->g; ++g)
        for (int64_t o = 0; o < ocg; ++o)
            for (int64_t i = 0; i < icg; ++i)
                for (int64_t kh = 0; kh < d->kh; ++kh)
                    for (int64_t kw = 0; kw < d->kw; ++kw) {
                        float v = w[(((g * ocg + o) * icg + i) * d->kh + kh) * d->kw + kw];
                        packed[(((g * d->kh + kh) * d->kw + kw) * icg + i) * ocp + o] = v;
                    }
}

typedef struct deconv_ctx {
    const cnnk_conv_desc *d;
    const cnnk_op_args *a;
    int64_t icg, ocg, ocp;
} deconv_ctx;

/* acc[v] += x[i] * w[i][v] for the icg input channels of one tap; nv is a
 * constant in every caller, so acc stays in registers. */
CNNK_INLINE void tap_fma(const float *x, const float *w, int64_t icg, int64_t ocp, int nv,
                         float32x4_t *acc) {
    int64_t i = 0;
    for (; i + 4 <= icg; i += 4) {
        const float32x4_t xv = vld1q_f32(x + i);
        const float *w0 = w + i * ocp;
        for (int v = 0; v < nv; ++v) acc[v] = vfmaq_laneq_f32(acc[v], vld1q_f32(w0 + 4 * v), xv, 0);
        w0 += ocp;
        for (int v = 0; v < nv; ++v) acc[v] = vfmaq_laneq_f32(acc[v], vld1q_f32(w0 + 4 * v), xv, 1);
        w0 += ocp;
        for (int v = 0; v < nv; ++v) acc[v] = vfmaq_laneq_f32(acc[v], vld1q_f32(w0 + 4 * v), xv, 2);
        w0 += ocp;
        for (int v = 0; v < nv; ++v) acc[v] = vfmaq_laneq_f32(acc[v], vld1q_f32(w0 + 4 * v), xv, 3);
    }
    for (; i < icg; ++i)
        for (int v = 0; v < nv; ++v)
            acc[v] = vfmaq_n_f32(acc[v], vld1q_f32(w + i * ocp + 4 * v), x[i]);
}

/* nv (1..OC_VECS) vectors of output channels [o0, o0 + 4 nv) of group g at
 * one output pixel; x_n is image n's source, w_g the group's packing. */
CNNK_INLINE void pixel_block(const deconv_ctx *c, const float *x_n, const float *w_g,
                             int64_t oh, int64_t ow, int64_t g, int64_t o0, int nv,
                             float32x4_t *acc) {
    const cnnk_conv_desc *d = c->d;
    for (int v = 0; v < nv; ++v) acc[v] = vdupq_n_f32(0.0f);
    const cnnk_deconv_taps th = cnnk_deconv_taps_of(oh, d->kh, d->sh, d->pt, d->dh, d->ih, 1);
    const cnnk_deconv_taps tw = cnnk_deconv_taps_of(ow, d->kw, d->sw, d->pl, d->dw, d->iw, 1);
    for (int64_t jh = 0; jh < th.count; ++jh) {
        const int64_t kh = th.k0 + jh * th.kstep, ih = th.i0 - jh * th.istep;
        for (int64_t jw = 0; jw < tw.count; ++jw) {
            const int64_t kw = tw.k0 + jw * tw.kstep, iw = tw.i0 - jw * tw.istep;
            const float *x = x_n + (ih * d->iw + iw) * c->a->src_ld[0] + g * c->icg;
            const float *w = w_g + (kh * d->kw + kw) * c->icg * c->ocp + o0;
            tap_fma(x, w, c->icg, c->ocp, nv, acc);
        }
    }
}

/* Bias and ReLU (vec.h's) in the store; the last vector of a group may be
 * partial. */
static void store_block(const deconv_ctx *c, float *y, int64_t g, int64_t o0, int nv,
                        const float32x4_t *acc) {
    const float *bias = c->a->params[0];
    for (int v = 0; v < nv; ++v) {
        int64_t o = o0 + 4 * v, n = cnnk_min64(4, c->ocg - o);
        float32x4_t r = acc[v];
        if (bias) r = vaddq_f32(r, cnnk_neon_load_n(bias + g * c->ocg + o, n));
        if (c->a->relu) r = cnnk_neon_act(r, c->a->relu_alpha);
        cnnk_neon_store_n(y + g * c->ocg + o, r, n);
    }
}

static void deconv_pixel(const deconv_ctx *c, const float *x_n, int64_t oh, int64_t ow,
                         float *y) {
    const cnnk_conv_desc *d = c->d;
    const int64_t wg_size = d->kh * d->kw * c->icg * c->ocp;
    for (int64_t g = 0; g < d->g; ++g) {
        const float *w_g = c->a->packed + g * wg_size;
        for (int64_t o0 = 0; o0 < c->ocg; o0 += 4 * OC_VECS) {
            float32x4_t acc[OC_VECS];
            int nv = (int)cnnk_min64(OC_VECS, (c->ocg - o0 + 3) / 4);
            switch (nv) { /* constant trip counts keep acc in registers */
            case 8: pixel_block(c, x_n, w_g, oh, ow, g, o0, 8, acc); break;
            case 7: pixel_block(c, x_n, w_g, oh, ow, g, o0, 7, acc); break;
            case 6: pixel_block(c, x_n, w_g, oh, ow, g, o0, 6, acc); break;
            case 5: pixel_block(c, x_n, w_g, oh, ow, g, o0, 5, acc); break;
            case 4: pixel_block(c, x_n, w_g, oh, ow, g, o0, 4, acc); break;
            case 3: pixel_block(c, x_n, w_g, oh, ow, g, o0, 3, acc); break;
            case 2: pixel_block(c, x_n, w_g, oh, ow, g, o0, 2, acc); break;
            default: pixel_block(c, x_n, w_g, oh, ow, g, o0, 1, acc); break;
            }
            store_block(c, y, g, o0, nv, acc);
        }
    }
}

/* Item = one output row (n, oh). */
static void deconv_row(const deconv_ctx *c, int64_t item) {
    const cnnk_conv_desc *d = c->d;
    const int64_t n = item / d->oh;
    const int64_t oh = cnnk_deconv_phase_row(item % d->oh, d->oh, d->sh, d->pt);
    const int64_t row = n * d->oh + oh;
    const float *x_n = c->a->src[0] + n * d->ih * d->iw * c->a->src_ld[0];
    for (int64_t ow = 0; ow < d->ow; ++ow)
        deconv_pixel(c, x_n, oh, ow, c->a->dst + (row * d->ow + ow) * c->a->dst_ld);
}

static void deconv_rows(void *ctx, int64_t lo, int64_t hi, int part) {
    (void)part;
    for (int64_t r = lo; r < hi; ++r) deconv_row(ctx, r);
}

static void deconv_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_conv_desc *d = &l->u.conv;
    deconv_ctx c = {d, a, d->ic / d->g, d->oc / d->g, round4(d->oc / d->g)};
    const int64_t rows = d->mb * d->oh;
    cnnk_parallel_for(a->nthreads, rows, deconv_rows, &c);
}

const cnnk_op_kernel cnnk_deconv__neon = {.name = "neon/deconv",
                                          .isa = CNNK_ISA_NEON,
                                          .kind = CNNK_LAYER_DECONV,
                                          .applies = deconv_applies,
                                          .packed_size = deconv_packed_size,
                                          .pack = deconv_pack,
                                          .run = deconv_run};
