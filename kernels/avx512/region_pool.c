/* Region max pooling's bin for AVX-512 (the loop nest is
 * kernels/common/region_pool.c): a bin's pixels are runs of channels, so
 * 64 channels are four zmm accumulators walked over the bin once, and the
 * tail a __mmask16 load and store that never touches lanes past c.
 * max(x, acc) returns acc for a NaN x and for equal zeros: the
 * reference's `if (x > m) m = x`, bit for bit. */
#include <immintrin.h>
#include <math.h>

#include "kernels/avx512/vec.h"
#include "kernels/common/region_pool.h"

enum { NB = 4, CHUNK = 16 * NB };

static void bin_max(const float *img, int64_t iw, int64_t ld, int64_t h0, int64_t h1, int64_t w0,
                    int64_t w1, int64_t c, float *y) {
    int64_t c0 = 0;
    for (; c0 + CHUNK <= c; c0 += CHUNK) {
        __m512 acc[NB];
        for (int b = 0; b < NB; ++b) acc[b] = _mm512_set1_ps(-INFINITY);
        for (int64_t h = h0; h < h1; ++h)
            for (int64_t x = w0; x < w1; ++x) {
                const float *p = img + (h * iw + x) * ld + c0;
                for (int b = 0; b < NB; ++b)
                    acc[b] = _mm512_max_ps(_mm512_loadu_ps(p + 16 * b), acc[b]);
            }
        for (int b = 0; b < NB; ++b) _mm512_storeu_ps(y + c0 + 16 * b, acc[b]);
    }
    for (; c0 < c; c0 += 16) {
        const __mmask16 m = cnnk_avx512_mask(c - c0);
        __m512 acc = _mm512_set1_ps(-INFINITY);
        for (int64_t h = h0; h < h1; ++h)
            for (int64_t x = w0; x < w1; ++x)
                acc = _mm512_max_ps(_mm512_maskz_loadu_ps(m, img + (h * iw + x) * ld + c0), acc);
        _mm512_mask_storeu_ps(y + c0, m, acc);
    }
}

static void region_pool_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_region_pool_drive(l, a, bin_max);
}

const cnnk_op_kernel cnnk_region_pool__avx512 = {
    .name = "avx512/region_pool",
    .isa = CNNK_ISA_AVX512,
    .kind = CNNK_LAYER_REGION_POOL,
    .applies = cnnk_region_pool_applies,
    .workspace_size = cnnk_region_pool_workspace_size,
    .run = region_pool_run,
};
