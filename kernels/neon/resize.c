/* Bilinear resize, the NEON row: for each output pixel the four taps'
 * channels, 4 at a time (the tail through vec.h's lane-exact load and
 * store), blended with FMAs in the reference's order (width inside, height
 * outside). The driver (kernels/common/resize.c) gives the taps and the
 * threads. */
#include <arm_neon.h>

#include "kernels/common/resize.h"
#include "kernels/common/warp.h"
#include "kernels/neon/vec.h"

CNNK_INLINE float32x4_t blend4(const float *a, const float *b, float wa, float wb, bool full,
                               int64_t n) {
    return vfmaq_n_f32(vmulq_n_f32(cnnk_neon_load(a, full, n), wa), cnnk_neon_load(b, full, n),
                       wb);
}

static void resize_row(int64_t c, int64_t ow, const cnnk_resize_col *cols, const float *r0,
                       const float *r1, float h0, float h1, float *dst, int64_t dst_ld) {
    for (int64_t j = 0; j < ow; ++j) {
        const cnnk_resize_col *t = &cols[j];
        float *y = dst + j * dst_ld;
        for (int64_t k = 0; k < c; k += 4) {
            const bool full = k + 4 <= c;
            const int64_t n = c - k;
            const float32x4_t top = blend4(r0 + t->x0 + k, r0 + t->x1 + k, t->w0, t->w1, full, n);
            const float32x4_t bot = blend4(r1 + t->x0 + k, r1 + t->x1 + k, t->w0, t->w1, full, n);
            cnnk_neon_store(y + k, vfmaq_n_f32(vmulq_n_f32(top, h0), bot, h1), full, n);
        }
    }
}

static void resize_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_resize_run(l, a, resize_row);
}

const cnnk_op_kernel cnnk_resize__neon = {.name = "neon/resampling",
                                          .isa = CNNK_ISA_NEON,
                                          .kind = CNNK_LAYER_RESIZE,
                                          .applies = cnnk_resize_applies,
                                          .workspace_size = cnnk_resize_workspace_size,
                                          .run = resize_run};

/* R-CNN's warp (kernels/common/warp.c): the same row into each region's
 * window. */
static void warp_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_warp_run(l, a, resize_row);
}

const cnnk_op_kernel cnnk_warp__neon = {.name = "neon/warp",
                                        .isa = CNNK_ISA_NEON,
                                        .kind = CNNK_LAYER_WARP,
                                        .applies = cnnk_warp_applies,
                                        .workspace_size = cnnk_warp_workspace_size,
                                        .run = warp_run};
