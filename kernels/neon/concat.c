/* Channel concatenation for NEON: each pixel's row of every input is copied
 * to its channel offset of the output pixel. In the networks the branches
 * usually write straight into the concat buffer (desc.h's pitch), so this
 * runs only where a copy is really needed; it is a pure stream, judged
 * against memory bandwidth. Tails of 1-3 channels are partial stores, so
 * the output's gap lanes and the neighbouring inputs' channels are never
 * written twice. Items are AVX2's (kernels/avx2/concat.c). */
#include <arm_neon.h>

#include "cnnk/kernel.h"
#include "kernels/neon/vec.h"
#include "kernels/common/team.h"

/* Pixels per work item: enough to amortise scheduling, few enough to
 * balance threads on a 7x7 map. */
enum { PIXELS_PER_ITEM = 16 };

static void copy_row(const float *s, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t v0 = vld1q_f32(s + i), v1 = vld1q_f32(s + i + 4);
        float32x4_t v2 = vld1q_f32(s + i + 8), v3 = vld1q_f32(s + i + 12);
        vst1q_f32(y + i, v0);
        vst1q_f32(y + i + 4, v1);
        vst1q_f32(y + i + 8, v2);
        vst1q_f32(y + i + 12, v3);
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vld1q_f32(s + i));
    if (i < n) cnnk_neon_store_n(y + i, cnnk_neon_load_n(s + i, n - i), n - i);
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

const cnnk_op_kernel cnnk_concat__neon = {.name = "neon/concat",
                                          .isa = CNNK_ISA_NEON,
                                          .kind = CNNK_LAYER_CONCAT,
                                          .applies = concat_applies,
                                          .run = concat_run};
