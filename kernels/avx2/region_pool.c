/* Region max pooling's bin for AVX2 (the loop nest is
 * kernels/common/region_pool.c): 32 channels are four ymm accumulators
 * walked over the bin once; the tail is a maskload/maskstore that never
 * touches lanes past c. max(x, acc) returns acc for a NaN x and for equal
 * zeros: the reference's `if (x > m) m = x`, bit for bit. */
#include <immintrin.h>
#include <math.h>

#include "kernels/avx2/vec.h"
#include "kernels/common/region_pool.h"

enum { NB = 4, CHUNK = 8 * NB };

static void bin_max(const float *img, int64_t iw, int64_t ld, int64_t h0, int64_t h1, int64_t w0,
                    int64_t w1, int64_t c, float *y) {
    int64_t c0 = 0;
    for (; c0 + CHUNK <= c; c0 += CHUNK) {
        __m256 acc[NB];
        for (int b = 0; b < NB; ++b) acc[b] = _mm256_set1_ps(-INFINITY);
        for (int64_t h = h0; h < h1; ++h)
            for (int64_t x = w0; x < w1; ++x) {
                const float *p = img + (h * iw + x) * ld + c0;
                for (int b = 0; b < NB; ++b)
                    acc[b] = _mm256_max_ps(_mm256_loadu_ps(p + 8 * b), acc[b]);
            }
        for (int b = 0; b < NB; ++b) _mm256_storeu_ps(y + c0 + 8 * b, acc[b]);
    }
    for (; c0 < c; c0 += 8) {
        const bool full = c - c0 >= 8;
        const __m256i m = cnnk_avx2_mask(c - c0);
        __m256 acc = _mm256_set1_ps(-INFINITY);
        for (int64_t h = h0; h < h1; ++h)
            for (int64_t x = w0; x < w1; ++x)
                acc = _mm256_max_ps(cnnk_avx2_load(img + (h * iw + x) * ld + c0, full, m), acc);
        cnnk_avx2_store(y + c0, acc, full, m);
    }
}

static void region_pool_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_region_pool_drive(l, a, bin_max);
}

const cnnk_op_kernel cnnk_region_pool__avx2 = {
    .name = "avx2/region_pool",
    .isa = CNNK_ISA_AVX2,
    .kind = CNNK_LAYER_REGION_POOL,
    .applies = cnnk_region_pool_applies,
    .workspace_size = cnnk_region_pool_workspace_size,
    .run = region_pool_run,
};
