/* Bilinear resize, the AVX2 row: for each output pixel the four taps'
 * channels, 8 at a time (the tail a maskload/maskstore block), blended with
 * FMAs in the reference's order (width inside, height outside). The driver
 * (kernels/common/resize.c) gives the taps and the threads. */
#include <immintrin.h>

#include "kernels/avx2/vec.h"
#include "kernels/common/resize.h"
#include "kernels/common/warp.h"

CNNK_INLINE __m256 blend8(const float *a, const float *b, __m256 wa, __m256 wb, bool full,
                          __m256i m) {
    return _mm256_fmadd_ps(wb, cnnk_avx2_load(b, full, m),
                           _mm256_mul_ps(wa, cnnk_avx2_load(a, full, m)));
}

static void resize_row(int64_t c, int64_t ow, const cnnk_resize_col *cols, const float *r0,
                       const float *r1, float h0, float h1, float *dst, int64_t dst_ld) {
    const __m256 vh0 = _mm256_set1_ps(h0), vh1 = _mm256_set1_ps(h1);
    const __m256i tail = cnnk_avx2_mask(c % 8);
    for (int64_t j = 0; j < ow; ++j) {
        const cnnk_resize_col *t = &cols[j];
        const __m256 w0 = _mm256_set1_ps(t->w0), w1 = _mm256_set1_ps(t->w1);
        float *y = dst + j * dst_ld;
        for (int64_t k = 0; k < c; k += 8) {
            const bool full = k + 8 <= c;
            const __m256 top = blend8(r0 + t->x0 + k, r0 + t->x1 + k, w0, w1, full, tail);
            const __m256 bot = blend8(r1 + t->x0 + k, r1 + t->x1 + k, w0, w1, full, tail);
            cnnk_avx2_store(y + k, _mm256_fmadd_ps(vh1, bot, _mm256_mul_ps(vh0, top)), full,
                            tail);
        }
    }
}

static void resize_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_resize_run(l, a, resize_row);
}

const cnnk_op_kernel cnnk_resize__avx2 = {.name = "avx2/resampling",
                                          .isa = CNNK_ISA_AVX2,
                                          .kind = CNNK_LAYER_RESIZE,
                                          .applies = cnnk_resize_applies,
                                          .workspace_size = cnnk_resize_workspace_size,
                                          .run = resize_run};

/* R-CNN's warp (kernels/common/warp.c): the same row into each region's
 * window. */
static void warp_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_warp_run(l, a, resize_row);
}

const cnnk_op_kernel cnnk_warp__avx2 = {.name = "avx2/warp",
                                        .isa = CNNK_ISA_AVX2,
                                        .kind = CNNK_LAYER_WARP,
                                        .applies = cnnk_warp_applies,
                                        .workspace_size = cnnk_warp_workspace_size,
                                        .run = warp_run};
