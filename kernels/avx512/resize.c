/* Bilinear resize, the AVX-512 row: for each output pixel the four taps'
 * channels, 16 at a time (the tail one __mmask16 block), blended with FMAs
 * in the reference's order (width inside, height outside). The driver
 * (kernels/common/resize.c) gives the taps and the threads.
 * Whole vectors load and store unmasked: an all-ones masked store is not
 * free on every CPU (on this Zen 5 guest the row with masked stores
 * throughout ran at half the AVX2 kernel's speed, docs/PERFORMANCE.md). */
#include <immintrin.h>

#include "kernels/avx512/vec.h"
#include "kernels/common/resize.h"
#include "kernels/common/warp.h"

CNNK_INLINE __m512 blend16(const float *a, const float *b, __m512 wa, __m512 wb, bool full,
                           __mmask16 m) {
    return _mm512_fmadd_ps(wb, cnnk_avx512_load(b, full, m),
                           _mm512_mul_ps(wa, cnnk_avx512_load(a, full, m)));
}

static void resize_row(int64_t c, int64_t ow, const cnnk_resize_col *cols, const float *r0,
                       const float *r1, float h0, float h1, float *dst, int64_t dst_ld) {
    const __m512 vh0 = _mm512_set1_ps(h0), vh1 = _mm512_set1_ps(h1);
    for (int64_t j = 0; j < ow; ++j) {
        const cnnk_resize_col *t = &cols[j];
        const __m512 w0 = _mm512_set1_ps(t->w0), w1 = _mm512_set1_ps(t->w1);
        float *y = dst + j * dst_ld;
        for (int64_t k = 0; k < c; k += 16) {
            const bool full = k + 16 <= c;
            const __mmask16 m = cnnk_avx512_mask(c - k);
            const __m512 top = blend16(r0 + t->x0 + k, r0 + t->x1 + k, w0, w1, full, m);
            const __m512 bot = blend16(r1 + t->x0 + k, r1 + t->x1 + k, w0, w1, full, m);
            cnnk_avx512_store(y + k, _mm512_fmadd_ps(vh1, bot, _mm512_mul_ps(vh0, top)), full,
                              m);
        }
    }
}

static void resize_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_resize_run(l, a, resize_row);
}

const cnnk_op_kernel cnnk_resize__avx512 = {.name = "avx512/resampling",
                                            .isa = CNNK_ISA_AVX512,
                                            .kind = CNNK_LAYER_RESIZE,
                                            .applies = cnnk_resize_applies,
                                            .workspace_size = cnnk_resize_workspace_size,
                                            .run = resize_run};

/* R-CNN's warp (kernels/common/warp.c): the same row into each region's
 * window. */
static void warp_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_warp_run(l, a, resize_row);
}

const cnnk_op_kernel cnnk_warp__avx512 = {.name = "avx512/warp",
                                          .isa = CNNK_ISA_AVX512,
                                          .kind = CNNK_LAYER_WARP,
                                          .applies = cnnk_warp_applies,
                                          .workspace_size = cnnk_warp_workspace_size,
                                          .run = warp_run};
