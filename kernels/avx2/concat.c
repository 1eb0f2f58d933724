/* Channel concatenation for AVX2: each pixel's row of every input is copied
 * to its channel offset of the output pixel. In the networks the branches
 * usually write straight into the concat buffer (desc.h's pitch), so this
 * runs only where a copy is really needed; it is a pure stream, judged
 * against memory bandwidth. Tails are masked so the output's gap lanes and
 * the neighbouring inputs' channels are never written twice. */
#include <immintrin.h>

#include "cnnk/kernel.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/team.h"

/* Pixels per work item: enough to amortise scheduling, few enough to
 * balance threads on a 7x7 map. */
enum { PIXELS_PER_ITEM = 16 };


static void copy_row(const float *s, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 v0 = _mm256_loadu_ps(s + i), v1 = _mm256_loadu_ps(s + i + 8);
        __m256 v2 = _mm256_loadu_ps(s + i + 16), v3 = _mm256_loadu_ps(s + i + 24);
        _mm256_storeu_ps(y + i, v0);
        _mm256_storeu_ps(y + i + 8, v1);
        _mm256_storeu_ps(y + i + 16, v2);
        _mm256_storeu_ps(y + i + 24, v3);
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_loadu_ps(s + i));
    if (i < n) {
        const __m256i m = cnnk_avx2_mask(n - i);
        _mm256_maskstore_ps(y + i, m, _mm256_maskload_ps(s + i, m));
    }
}

static void concat_item(const cnnk_concat_desc *d, const cnnk_op_args *a, int64_t pixels,
                        int64_t item) {
    int64_t p0 = item * PIXELS_PER_ITEM, p1 = cnnk_min64(pixels, p0 + PIXELS_PER_ITEM);
    for (int64_t p = p0; p < p1; ++p) {
        float *y = a->dst + p * a->dst_ld;
        for (int i = 0; i < d->n; ++i) {
            copy_row(a->src[i] + p * a->src_ld[i], y, d->c[i]);
            y += d->c[i];
        }
    }
}

typedef struct concat_job {
    const cnnk_concat_desc *d;
    const cnnk_op_args *a;
    int64_t pixels;
} concat_job;

static void concat_items(void *ctx, int64_t lo, int64_t hi, int part) {
    (void)part;
    const concat_job *j = ctx;
    for (int64_t i = lo; i < hi; ++i) concat_item(j->d, j->a, j->pixels, i);
}

static bool concat_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_CONCAT; }

static void concat_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_concat_desc *d = &l->u.concat;
    const int64_t pixels = d->mb * d->h * d->w;
    const int64_t items = (pixels + PIXELS_PER_ITEM - 1) / PIXELS_PER_ITEM;
    concat_job j = {d, a, pixels};
    cnnk_parallel_for(a->nthreads, items, concat_items, &j);
}

const cnnk_op_kernel cnnk_concat__avx2 = {.name = "avx2/concat",
                                          .isa = CNNK_ISA_AVX2,
                                          .kind = CNNK_LAYER_CONCAT,
                                          .applies = concat_applies,
                                          .run = concat_run};
