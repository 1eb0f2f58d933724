/* R-CNN's region warp (cnnk_warp_desc, docs/REGIONS.md):
 *  - the geometry against rcnn_im_crop.m worked by hand (in Matlab's
 *    1-based arithmetic, shifted to 0-based pixels) for a box inside, one
 *    over the top-left corner, the whole image, one over the bottom-right
 *    corner and a single pixel, at R-CNN's 227 / 16 on a 375 x 500 image;
 *  - the reference's values on a tiny case worked by hand;
 *  - every optimized ISA's warp against the reference on a random sweep:
 *    boxes inside, touching and crossing the borders, tiny and whole-image,
 *    reversed and padding rows (an all-zero region, exactly), channels 1..33,
 *    pitches wider than the channels with sentinels, 1-7 threads;
 *  - three layers through the checker (guarded buffers, NaN poisoning). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/kernel.h"
#include "cnnk/proposals.h"
#include "core/rng.h"
#include "kernels/ref/ref.h"
#include "tests/check.h"
#include "tests/isa_kernels.h"
#include "validate/check.h"

#define SENTINEL 1234.5f

static cnnk_warp_desc desc(int64_t mb, int64_t c, int64_t ih, int64_t iw, int64_t rois,
                           int64_t oh, int64_t ow, int64_t pad) {
    return (cnnk_warp_desc){.mb = mb, .c = c, .ih = ih, .iw = iw, .rois = rois, .oh = oh,
                            .ow = ow, .pad = pad};
}

static void test_geometry(void) {
    const cnnk_warp_desc d = desc(1, 3, 375, 500, 1, 227, 227, 16);
    /* box x1 y1 x2 y2 -> crop sy sx sh sw, window ty tx th tw. The scale is
     * 227 / 195; e.g. the first box: centre (150, 125), half 50 x 25 ->
     * x 92..208 (117), y 96..154 (59) unclipped, all in the image, so the
     * crop fills the output. The second: x -8..108 -> 8 pixels out, the
     * crop 0..108 (109), 227/117 per pixel: tx = round(15.52) = 16, tw =
     * round(211.48) = 211. */
    const float box[5][5] = {{0, 100, 100, 199, 149}, {0, 0, 0, 99, 99}, {0, 0, 0, 499, 374},
                             {0, 450, 300, 499, 374}, {0, 10, 20, 10, 20}};
    const int64_t want[5][8] = {{96, 92, 59, 117, 0, 0, 227, 227},
                                {0, 0, 109, 109, 16, 16, 211, 211},
                                {0, 0, 375, 500, 16, 16, 194, 195},
                                {294, 446, 81, 54, 0, 0, 209, 208},
                                {20, 10, 2, 2, 0, 0, 227, 227}};
    for (int i = 0; i < 5; ++i) {
        cnnk_warp_box g;
        cnnk_ref_warp_box(&d, box[i], &g);
        const int64_t got[8] = {g.sy, g.sx, g.sh, g.sw, g.ty, g.tx, g.th, g.tw};
        for (int k = 0; k < 8; ++k) CHECK_EQ_I64(got[k], want[i][k]);
    }
    /* padding, reversed, wholly outside: an empty window */
    const float none[3][5] = {{-1, 1, 1, 50, 50}, {0, 60, 10, 50, 40}, {0, 600, 10, 700, 40}};
    for (int i = 0; i < 3; ++i) {
        cnnk_warp_box g;
        cnnk_ref_warp_box(&d, none[i], &g);
        CHECK_EQ_I64(g.th, 0);
    }
}

/* A 2 x 2 image of one channel, the whole-image box, 4 x 4 out, no
 * context (rcnn_im_crop.m then takes the box as it is): half-pixel taps,
 * 2 -> 4: src = (o + 0.5) / 2 - 0.5 = -0.25 (clamped 0), 0.25, 0.75, 1.25
 * (edge): weights of pixel 1 are 0, .25, .75, 1. With pad 1 on 6 x 6 out, the 2 x 2 box grows to
 * round(1 -+ 1.5) = -1..3 (5 wide, 6/5 per pixel): window at 1, side
 * round(2 * 1.2) = 2, a copy of the image, zeros around. */
static void test_values(void) {
    const float img[4] = {0, 4, 8, 12};
    const float box[5] = {0, 0, 0, 1, 1};
    cnnk_warp_desc d = desc(1, 1, 2, 2, 1, 4, 4, 0);
    float y[36];
    cnnk_ref_warp(&d, img, 1, box, y, 1);
    const float t[4] = {0, 0.25f, 0.75f, 1};
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) CHECK(y[i * 4 + j] == 8 * t[i] + 4 * t[j]);
    d = desc(1, 1, 2, 2, 1, 6, 6, 1);
    cnnk_ref_warp(&d, img, 1, box, y, 1);
    for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j) {
            const bool in = i >= 1 && i <= 2 && j >= 1 && j <= 2;
            CHECK(y[i * 6 + j] == (in ? img[(i - 1) * 2 + j - 1] : 0.0f));
        }
}

static const int64_t CS[] = {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 33};
#define NCS ((int)(sizeof CS / sizeof CS[0]))

static int64_t pick(cnnk_rng *g, int64_t lo, int64_t hi) {
    return lo + (int64_t)(cnnk_rng_next(g) % (uint64_t)(hi - lo + 1));
}

static void sweep_case(const cnnk_op_kernel *k, cnnk_rng *g, int iter) {
    const int64_t mb = pick(g, 1, 2), c = CS[pick(g, 0, NCS - 1)];
    const int64_t ih = pick(g, 1, 31), iw = pick(g, 1, 31), rois = pick(g, 1, 7);
    const int64_t oh = pick(g, 1, 24), ow = pick(g, 1, 24);
    const int64_t side = oh < ow ? oh : ow, pad = pick(g, 0, (side - 1) / 2);
    cnnk_layer_desc l = {.kind = CNNK_LAYER_WARP};
    l.u.warp = desc(mb, c, ih, iw, rois, oh, ow, pad);
    cnnk_error e;
    CHECK(cnnk_warp_check(&l.u.warp, &e) == CNNK_OK);
    const int64_t src_ld = c + (iter % 3), dst_ld = c + (iter % 2) * 5;
    const int64_t nsrc = mb * ih * iw * src_ld, ndst = mb * rois * oh * ow * dst_ld;
    float *src = malloc((size_t)nsrc * sizeof *src), *want = malloc((size_t)ndst * sizeof *want);
    float *got = malloc((size_t)ndst * sizeof *got), *boxes = malloc((size_t)rois * 5 * 4);
    cnnk_fill_tensor(src, nsrc, CNNK_FILL_FLOAT, 4, cnnk_rng_next(g));
    cnnk_proposals_random(rois, ih, iw, cnnk_rng_next(g), boxes);
    if (iter % 5 == 0) { /* the whole image, and a one-pixel box */
        const float whole[5] = {0, 0, 0, (float)(iw - 1), (float)(ih - 1)};
        memcpy(boxes, whole, sizeof whole);
        if (rois > 1) {
            const float dot[5] = {0, (float)(iw / 2), (float)(ih / 2), (float)(iw / 2),
                                  (float)(ih / 2)};
            memcpy(boxes + 5, dot, sizeof dot);
        }
    }
    for (int64_t i = 0; i < ndst; ++i) want[i] = SENTINEL;
    cnnk_ref_warp(&l.u.warp, src, src_ld, boxes, want, dst_ld);
    const size_t nws = k->workspace_size ? k->workspace_size(&l, 7) : 0;
    float *ws = malloc((nws + 16) * sizeof *ws);
    bool ok = true;
    for (int t = 0; t < CHECK_NTHREADS; ++t) {
        for (int64_t i = 0; i < ndst; ++i) got[i] = SENTINEL;
        cnnk_op_args a = {.dst = got, .dst_ld = dst_ld, .workspace = nws ? ws : NULL,
                          .nthreads = check_threads[t]};
        a.src[0] = src, a.src_ld[0] = src_ld;
        a.params[0] = boxes;
        k->run(&l, &a);
        /* the pitch's gap untouched, zeros exactly where the reference's are */
        for (int64_t i = 0; i < ndst; ++i) {
            const bool gap = i % dst_ld >= c;
            if (gap) ok &= got[i] == SENTINEL;
            else if (want[i] == 0.0f) ok &= got[i] == 0.0f;
        }
        double num = 0, den = 0;
        for (int64_t i = 0; i < ndst; ++i) {
            if (i % dst_ld >= c) continue;
            const double dv = (double)got[i] - want[i];
            num += dv * dv, den += (double)want[i] * want[i];
        }
        ok &= num <= 1e-12 * den; /* rel_l2 <= 1e-6: cnnk_tolerance_op's warp bound */
    }
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "%s: mb%lld c%lld %lldx%lld rois %lld -> %lldx%lld pad %lld\n", k->name,
                (long long)mb, (long long)c, (long long)ih, (long long)iw, (long long)rois,
                (long long)oh, (long long)ow, (long long)pad);
    free(src), free(want), free(got), free(boxes), free(ws);
}

static void test_sweep(void) {
    for (int isa = 0; isa < CNNK_ISA_COUNT; ++isa) {
        if (!isa_testable("test_warp", (cnnk_isa)isa, "warp")) continue;
        const cnnk_op_kernel *k = isa_op((cnnk_isa)isa, "warp");
        CHECK(k && k->applies && k->applies(&(cnnk_layer_desc){.kind = CNNK_LAYER_WARP}));
        cnnk_rng g = {0x3a3a + (uint64_t)isa};
        for (int i = 0; i < 200; ++i) sweep_case(k, &g, i);
    }
}

static void test_validate(void) {
    cnnk_validate_opts o;
    cnnk_validate_opts_init(&o);
    for (int i = 0; i < CNNK_ISA_COUNT; ++i) o.isa[i] = true;
    o.kernels = true;
    o.against_onednn = false; /* oneDNN has no warp */
    o.out = NULL;
    const cnnk_warp_desc d[3] = {desc(1, 3, 40, 50, 6, 27, 27, 4), desc(2, 17, 9, 13, 3, 8, 11, 2),
                                 desc(1, 1, 5, 4, 9, 7, 7, 0)};
    for (int i = 0; i < 3; ++i)
        for (int f = 0; f < 2; ++f) {
            cnnk_layer_desc l = {.kind = CNNK_LAYER_WARP};
            l.u.warp = d[i];
            o.fill = f ? CNNK_FILL_FLOAT : CNNK_FILL_INT;
            cnnk_validate_counts n = {0};
            cnnk_error e;
            CHECK(cnnk_validate_layer(&o, &l, &n, &e) == CNNK_OK);
            CHECK_EQ_I64(n.failed, 0);
        }
}

int main(void) {
    test_geometry();
    test_values();
    test_sweep();
    test_validate();
    return check_finish("test_warp");
}
