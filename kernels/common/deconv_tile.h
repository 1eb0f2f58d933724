/* The transposed convolution's register tile, written once for every ISA
 * (the driver is kernels/common/deconv.c, the formulation deconv.h's):
 * w output pixels of a row (ow, ow + sw, ...) x nv vectors of output
 * channels, summed over pixel 0's taps; per input channel, nv weight
 * vectors are loaded once and each pixel's input value is broadcast
 * against them (w x nv FMAs for w broadcasts and nv loads).
 *
 * A template without intrinsics, as direct_tile.h is: an ISA's deconv.c
 * defines, before including it,
 *   VL                        floats per vector
 *   DC_MAX_NV                 vectors per tile, <= CNNK_DECONV_MAX_NV
 *   DC_PX(nv)                 the widest tile of nv vectors, <= CNNK_DECONV_MAX_PX
 *                             (a constant expression: w x nv accumulators, nv weights
 *                             and a broadcast fit the register file)
 *   DC_VEC                    its vector type
 *   DC_ZERO()                 a zero vector
 *   DC_LOADU(p)               an unaligned load
 *   DC_BCAST(p)               *p in every lane
 *   DC_FMA(a, b, c)           a*b + c
 *   DC_ADD(a, b)              a + b
 *   dc_store(y, v, bias, relu, alpha, n)
 *                             the epilogue store (vec.h's) of lanes [0, n), all when n >= VL
 * and gets dc_packed_size, dc_pack and dc_run, the op kernel's functions.
 *
 * On integer data every partial sum is an integer below 2^24, so the float
 * result is exact whatever the order, as the tolerance table demands. */
#include "kernels/common/deconv.h"
#include "kernels/common/util.h"

_Static_assert(DC_MAX_NV >= 1 && DC_MAX_NV <= CNNK_DECONV_MAX_NV, "DC_MAX_NV");
_Static_assert(DC_PX(1) <= CNNK_DECONV_MAX_PX && DC_PX(2) <= CNNK_DECONV_MAX_PX &&
                   DC_PX(3) <= CNNK_DECONV_MAX_PX && DC_PX(4) <= CNNK_DECONV_MAX_PX,
               "DC_PX");

/* W and NV are constants at every call (dc_tile's switch), so the loops
 * unroll and the W x NV accumulators stay in registers. */
CNNK_INLINE void dc_tile_body(const cnnk_deconv_tile *t, const int W, const int NV) {
    DC_VEC acc[CNNK_DECONV_MAX_PX][CNNK_DECONV_MAX_NV];
    const int rows = W == 1 ? 2 : W; /* W == 1: acc[1] sums the odd channels */
#pragma GCC unroll 8
    for (int p = 0; p < rows; ++p) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[p][v] = DC_ZERO();
    }
    const int64_t ld = t->ld, icg = t->icg, ocp = t->ocp;
    for (int64_t jh = 0; jh < t->th.count; ++jh) {
        const int64_t kh = t->th.k0 + jh * t->th.kstep, ih = t->th.i0 - jh * t->th.istep;
        for (int64_t jw = 0; jw < t->tw.count; ++jw) {
            const int64_t kw = t->tw.k0 + jw * t->tw.kstep, iw = t->tw.i0 - jw * t->tw.istep;
            const float *x = t->x + (ih * t->iw_n + iw) * ld;
            const float *w = t->w + (kh * t->kw + kw) * icg * ocp;
            int64_t i = 0;
            if (W == 1) {
                /* One pixel: two sums per vector (even and odd input
                 * channels), or its NV chains of dependent FMAs leave it
                 * bound by the FMA latency (FCN's 21 channels: 84 chained
                 * FMAs per pixel). acc[1] is free for the odd ones. */
                for (; i + 2 <= icg; i += 2) {
                    const DC_VEC b0 = DC_BCAST(x + i), b1 = DC_BCAST(x + i + 1);
#pragma GCC unroll 4
                    for (int v = 0; v < NV; ++v) {
                        acc[0][v] = DC_FMA(b0, DC_LOADU(w + i * ocp + VL * v), acc[0][v]);
                        acc[1][v] = DC_FMA(b1, DC_LOADU(w + (i + 1) * ocp + VL * v), acc[1][v]);
                    }
                }
            }
            for (; i < icg; ++i) {
                DC_VEC wv[CNNK_DECONV_MAX_NV];
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v) wv[v] = DC_LOADU(w + i * ocp + VL * v);
#pragma GCC unroll 8
                for (int p = 0; p < W; ++p) {
                    const DC_VEC b = DC_BCAST(x + p * ld + i);
#pragma GCC unroll 4
                    for (int v = 0; v < NV; ++v) acc[p][v] = DC_FMA(b, wv[v], acc[p][v]);
                }
            }
        }
    }
    if (W == 1) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[0][v] = DC_ADD(acc[0][v], acc[1][v]);
    }
#pragma GCC unroll 8
    for (int p = 0; p < W; ++p) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
            dc_store(t->y + p * t->y_step + VL * v, acc[p][v], t->bias ? t->bias + VL * v : NULL,
                     t->relu, t->relu_alpha, t->oc - VL * v);
    }
}

#define DC_CASE(NV, W)                                                                     \
    case (NV) * 16 + (W):                                                                  \
        if ((NV) <= DC_MAX_NV && (W) <= DC_PX(NV)) dc_tile_body(t, (W), (NV));              \
        break;
#define DC_CASES(NV)                                                                       \
    DC_CASE(NV, 1) DC_CASE(NV, 2) DC_CASE(NV, 3) DC_CASE(NV, 4) DC_CASE(NV, 5) DC_CASE(NV, 6) \
    DC_CASE(NV, 7) DC_CASE(NV, 8)

static void dc_tile(const cnnk_deconv_tile *t, int w, int nv) {
    _Static_assert(CNNK_DECONV_MAX_PX == 8 && CNNK_DECONV_MAX_NV == 4, "the cases below");
    switch (nv * 16 + w) {
        DC_CASES(1)
        DC_CASES(2)
        DC_CASES(3)
        DC_CASES(4)
    default: break;
    }
}

#undef DC_CASES
#undef DC_CASE

static const cnnk_deconv_isa dc_isa = {
    .vl = VL,
    .max_nv = DC_MAX_NV,
    .px = {0, DC_PX(1), DC_PX(2), DC_PX(3), DC_PX(4)},
    .tile = dc_tile,
};

static size_t dc_packed_size(const cnnk_layer_desc *l) { return cnnk_deconv_packed_size(l, VL); }

static void dc_pack(const cnnk_layer_desc *l, const float *w, float *packed) {
    cnnk_deconv_pack(l, w, packed, VL);
}

static void dc_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_deconv_run(l, a, &dc_isa);
}
