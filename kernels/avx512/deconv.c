/* Transposed convolution for AVX-512, vectorised over output channels and
 * gathered per output pixel (the reference's formulation): for each kernel
 * tap (kh, kw), the input pixel that scatters onto (oh, ow) exists only
 * where the offset divides by the stride, and only those taps are visited
 * (kernels/common/deconv_taps.h: FCN's 64x64 stride 32 has 4 per pixel,
 * where scanning all 4096 and testing each was the bound); its icg channels are
 * broadcast against a packed row of output-channel weights. Gathering
 * rather than scattering means each output is written once, by one thread,
 * with no accumulation buffer, no workspace and no races; output rows are
 * the parallel items. Any stride, padding, dilation and group count.
 *
 * Packing: [g][kh][kw][icg][ocp] with ocp = ocg rounded up to 16, zeros in
 * the padding, so every weight row is whole zmm. Up to 64 output channels
 * (4 accumulators) share each broadcast; a group's last vector is stored
 * through a __mmask16, so neither the next group's channels nor the
 * output's gap lanes are touched.
 *
 * On integer data every partial sum is an integer below 2^24, so the float
 * result is exact whatever the order, as the tolerance table demands. */
#include <immintrin.h>
#include <string.h>

#include "cnnk/kernel.h"
#include "kernels/avx512/vec.h"
#include "kernels/common/deconv_taps.h"
#include "kernels/common/team.h"

/* 4 vectors of output channels x 6 pixels: 24 of the 32 zmm accumulate. */
enum { OC_VECS = 4, PX = 6 };

static int64_t round16(int64_t n) { return cnnk_round_up(n, 16); }

static bool deconv_applies(const cnnk_layer_desc *l) {
    return l->kind == CNNK_LAYER_DECONV && l->u.conv.transposed;
}

static size_t deconv_packed_size(const cnnk_layer_desc *l) {
    const cnnk_conv_desc *d = &l->u.conv;
    return (size_t)(d->g * d->kh * d->kw * (d->ic / d->g) * round16(d->oc / d->g));
}

static void deconv_pack(const cnnk_layer_desc *l, const float *w, float *packed) {
    const cnnk_conv_desc *d = &l->u.conv;
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g, ocp = round16(ocg);
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

/* nv (1..OC_VECS) vectors of output channels [o0, o0 + 16 nv) of group g at
 * one output pixel; x_n is image n's source, w_g the group's packing. */
CNNK_INLINE void pixel_block(const deconv_ctx *c, const float *x_n, const float *w_g,
                             int64_t oh, int64_t ow, int64_t g, int64_t o0, int nv,
                             __m512 *acc) {
    const cnnk_conv_desc *d = c->d;
    /* Two sums per vector (even and odd input channels): one chain of
     * dependent FMAs per vector would leave this single-pixel path bound by
     * the FMA latency (FCN's 21 channels: 84 chained FMAs per pixel). */
    __m512 odd[OC_VECS];
    for (int v = 0; v < nv; ++v) acc[v] = odd[v] = _mm512_setzero_ps();
    const cnnk_deconv_taps th = cnnk_deconv_taps_of(oh, d->kh, d->sh, d->pt, d->dh, d->ih, 1);
    const cnnk_deconv_taps tw = cnnk_deconv_taps_of(ow, d->kw, d->sw, d->pl, d->dw, d->iw, 1);
    for (int64_t jh = 0; jh < th.count; ++jh) {
        const int64_t kh = th.k0 + jh * th.kstep, ih = th.i0 - jh * th.istep;
        for (int64_t jw = 0; jw < tw.count; ++jw) {
            const int64_t kw = tw.k0 + jw * tw.kstep, iw = tw.i0 - jw * tw.istep;
            const float *x = x_n + (ih * d->iw + iw) * c->a->src_ld[0] + g * c->icg;
            const float *w = w_g + (kh * d->kw + kw) * c->icg * c->ocp + o0;
            int64_t i = 0;
            for (; i + 2 <= c->icg; i += 2) {
                const __m512 b0 = _mm512_set1_ps(x[i]), b1 = _mm512_set1_ps(x[i + 1]);
                for (int v = 0; v < nv; ++v) {
                    acc[v] = _mm512_fmadd_ps(b0, _mm512_loadu_ps(w + i * c->ocp + 16 * v), acc[v]);
                    odd[v] = _mm512_fmadd_ps(b1, _mm512_loadu_ps(w + (i + 1) * c->ocp + 16 * v),
                                             odd[v]);
                }
            }
            if (i < c->icg) {
                const __m512 b = _mm512_set1_ps(x[i]);
                for (int v = 0; v < nv; ++v)
                    acc[v] = _mm512_fmadd_ps(b, _mm512_loadu_ps(w + i * c->ocp + 16 * v), acc[v]);
            }
        }
    }
    for (int v = 0; v < nv; ++v) acc[v] = _mm512_add_ps(acc[v], odd[v]);
}

/* Bias and ReLU in the store; the last vector of a group may be partial. */
static void store_block(const deconv_ctx *c, float *y, int64_t g, int64_t o0, int nv,
                        const __m512 *acc) {
    const float *bias = c->a->params[0];
    for (int v = 0; v < nv; ++v) {
        int64_t o = o0 + 16 * v;
        const __mmask16 m = cnnk_avx512_mask(c->ocg - o);
        __m512 r = acc[v];
        if (bias) r = _mm512_add_ps(r, cnnk_avx512_maskz_load(bias + g * c->ocg + o, m));
        if (c->a->relu) r = cnnk_avx512_act(r, c->a->relu_alpha);
        cnnk_avx512_mask_store(y + g * c->ocg + o, r, m);
    }
}

/* Whether output pixels ow, ow + sw, ..., ow + (PX - 1) sw of a row take
 * the same taps: for each kw the offset divides by the stride for all of
 * them or none, and pixel p then reads input column first + p; the block
 * is uniform when, for every kw, all PX columns are inside the row or all
 * outside. */
static bool uniform_taps(const cnnk_conv_desc *d, int64_t ow) {
    const cnnk_deconv_taps tw = cnnk_deconv_taps_of(ow, d->kw, d->sw, d->pl, d->dw, d->iw, 0);
    for (int64_t j = 0; j < tw.count; ++j) {
        const int64_t first = tw.i0 - j * tw.istep;
        bool all_in = first >= 0 && first + PX - 1 < d->iw;
        bool all_out = first + PX - 1 < 0 || first >= d->iw;
        if (!all_in && !all_out) return false;
    }
    return true;
}

/* PX pixels ow + p sw (a uniform block) x nv vectors of output channels:
 * each weight vector loaded once feeds PX FMAs, where pixel_block's feeds
 * one (the weights streamed per pixel were the bound: a 256->128 3x3
 * layer's group is 1.2 MB). */
CNNK_INLINE void pixels_block(const deconv_ctx *c, const float *x_n, const float *w_g,
                              int64_t oh, int64_t ow, int64_t g, int64_t o0, int nv,
                              __m512 acc[PX][OC_VECS]) {
    const cnnk_conv_desc *d = c->d;
    const int64_t ld = c->a->src_ld[0];
    for (int p = 0; p < PX; ++p)
        for (int v = 0; v < nv; ++v) acc[p][v] = _mm512_setzero_ps();
    /* The block is uniform: pixel 0's taps inside the row are all PX's. */
    const cnnk_deconv_taps th = cnnk_deconv_taps_of(oh, d->kh, d->sh, d->pt, d->dh, d->ih, 1);
    const cnnk_deconv_taps tw = cnnk_deconv_taps_of(ow, d->kw, d->sw, d->pl, d->dw, d->iw, 1);
    for (int64_t jh = 0; jh < th.count; ++jh) {
        const int64_t kh = th.k0 + jh * th.kstep, ih = th.i0 - jh * th.istep;
        for (int64_t jw = 0; jw < tw.count; ++jw) {
            const int64_t kw = tw.k0 + jw * tw.kstep, iw = tw.i0 - jw * tw.istep;
            const float *x = x_n + (ih * d->iw + iw) * ld + g * c->icg;
            const float *w = w_g + (kh * d->kw + kw) * c->icg * c->ocp + o0;
            for (int64_t i = 0; i < c->icg; ++i) {
                __m512 wv[OC_VECS];
                for (int v = 0; v < nv; ++v) wv[v] = _mm512_loadu_ps(w + i * c->ocp + 16 * v);
                for (int p = 0; p < PX; ++p) {
                    const __m512 b = _mm512_set1_ps(x[p * ld + i]);
                    for (int v = 0; v < nv; ++v) acc[p][v] = _mm512_fmadd_ps(b, wv[v], acc[p][v]);
                }
            }
        }
    }
}

/* Output pixels ow + p sw, p < PX, of row `row` (or the one pixel ow when
 * !block), channels [o0, o0 + 16 nv) of group g. */
CNNK_INLINE void deconv_tile(const deconv_ctx *c, const float *x_n, const float *w_g,
                             int64_t row, int64_t oh, int64_t ow, int64_t g, int64_t o0, int nv,
                             bool block) {
    const cnnk_conv_desc *d = c->d;
    float *y = c->a->dst + (row * d->ow + ow) * c->a->dst_ld;
    if (!block) {
        __m512 acc[OC_VECS];
        pixel_block(c, x_n, w_g, oh, ow, g, o0, nv, acc);
        store_block(c, y, g, o0, nv, acc);
        return;
    }
    __m512 acc[PX][OC_VECS];
    pixels_block(c, x_n, w_g, oh, ow, g, o0, nv, acc);
    for (int p = 0; p < PX; ++p) store_block(c, y + p * d->sw * c->a->dst_ld, g, o0, nv, acc[p]);
}

static void deconv_tile_nv(const deconv_ctx *c, const float *x_n, const float *w_g,
                           int64_t row, int64_t oh, int64_t ow, int64_t g, int64_t o0, int nv,
                           bool block) {
    switch (nv) { /* constant trip counts keep acc in registers */
    case 4: deconv_tile(c, x_n, w_g, row, oh, ow, g, o0, 4, block); break;
    case 3: deconv_tile(c, x_n, w_g, row, oh, ow, g, o0, 3, block); break;
    case 2: deconv_tile(c, x_n, w_g, row, oh, ow, g, o0, 2, block); break;
    default: deconv_tile(c, x_n, w_g, row, oh, ow, g, o0, 1, block); break;
    }
}

/* Item = one output row (n, oh), the rows taken phase by phase
 * (deconv_taps.h): per group and channel block, the pixels of each stride
 * class (ow mod sw) in uniform blocks of PX where they fit, one by one
 * elsewhere (the borders). */
static void deconv_row(const deconv_ctx *c, int64_t item) {
    const cnnk_conv_desc *d = c->d;
    const int64_t n = item / d->oh;
    const int64_t oh = cnnk_deconv_phase_row(item % d->oh, d->oh, d->sh, d->pt);
    const int64_t row = n * d->oh + oh;
    const float *x_n = c->a->src[0] + n * d->ih * d->iw * c->a->src_ld[0];
    const int64_t wg_size = d->kh * d->kw * c->icg * c->ocp;
    for (int64_t g = 0; g < d->g; ++g) {
        const float *w_g = c->a->packed + g * wg_size;
        for (int64_t o0 = 0; o0 < c->ocg; o0 += 16 * OC_VECS) {
            int nv = (int)cnnk_min64(OC_VECS, cnnk_ceil_div(c->ocg - o0, 16));
            for (int64_t r = 0; r < cnnk_min64(d->sw, d->ow); ++r) {
                for (int64_t ow = r; ow < d->ow;) {
                    bool block = ow + (PX - 1) * d->sw < d->ow && uniform_taps(d, ow);
                    deconv_tile_nv(c, x_n, w_g, row, oh, ow, g, o0, nv, block);
                    ow += block ? PX * d->sw : d->sw;
                }
            }
        }
    }
}

static void deconv_rows(void *ctx, int64_t lo, int64_t hi, int part) {
    (void)part;
    for (int64_t r = lo; r < hi; ++r) deconv_row(ctx, r);
}

static void deconv_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_conv_desc *d = &l->u.conv;
    deconv_ctx c = {d, a, d->ic / d->g, d->oc / d->g, round16(d->oc / d->g)};
    const int64_t rows = d->mb * d->oh;
    cnnk_parallel_for(a->nthreads, rows, deconv_rows, &c);
}

const cnnk_op_kernel cnnk_deconv__avx512 = {.name = "avx512/deconv",
                                            .isa = CNNK_ISA_AVX512,
                                            .kind = CNNK_LAYER_DECONV,
                                            .applies = deconv_applies,
                                            .packed_size = deconv_packed_size,
                                            .pack = deconv_pack,
                                            .run = deconv_run};
