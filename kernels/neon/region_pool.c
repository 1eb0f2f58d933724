/* Region max pooling's bin for NEON (the loop nest is
 * kernels/common/region_pool.c): 16 channels are four q accumulators
 * walked over the bin once; the tail loads and stores only lanes below c.
 * The max is a compare and a select, the reference's `if (x > m) m = x`
 * (fmax would propagate a NaN x; fmaxnm would pick +0 over a first -0). */
#include <arm_neon.h>
#include <math.h>

#include "kernels/common/region_pool.h"
#include "kernels/neon/vec.h"

enum { NB = 4, CHUNK = 4 * NB };

CNNK_INLINE float32x4_t max_keep(float32x4_t x, float32x4_t acc) {
    return vbslq_f32(vcgtq_f32(x, acc), x, acc);
}

static void bin_max(const float *img, int64_t iw, int64_t ld, int64_t h0, int64_t h1, int64_t w0,
                    int64_t w1, int64_t c, float *y) {
    int64_t c0 = 0;
    for (; c0 + CHUNK <= c; c0 += CHUNK) {
        float32x4_t acc[NB];
        for (int b = 0; b < NB; ++b) acc[b] = vdupq_n_f32(-INFINITY);
        for (int64_t h = h0; h < h1; ++h)
            for (int64_t x = w0; x < w1; ++x) {
                const float *p = img + (h * iw + x) * ld + c0;
                for (int b = 0; b < NB; ++b) acc[b] = max_keep(vld1q_f32(p + 4 * b), acc[b]);
            }
        for (int b = 0; b < NB; ++b) vst1q_f32(y + c0 + 4 * b, acc[b]);
    }
    for (; c0 < c; c0 += 4) {
        const int64_t n = c - c0;
        float32x4_t acc = vdupq_n_f32(-INFINITY);
        for (int64_t h = h0; h < h1; ++h)
            for (int64_t x = w0; x < w1; ++x)
                acc = max_keep(cnnk_neon_load_n(img + (h * iw + x) * ld + c0, n), acc);
        cnnk_neon_store_n(y + c0, acc, n);
    }
}

static void region_pool_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_region_pool_drive(l, a, bin_max);
}

const cnnk_op_kernel cnnk_region_pool__neon = {
    .name = "neon/region_pool",
    .isa = CNNK_ISA_NEON,
    .kind = CNNK_LAYER_REGION_POOL,
    .applies = cnnk_region_pool_applies,
    .workspace_size = cnnk_region_pool_workspace_size,
    .run = region_pool_run,
};
