/* Region max pooling (RoI pooling and the adaptive / pyramid form):
 *  - the bin geometry against figures worked by hand from Caffe's
 *    roi_pooling_layer.cpp and PyTorch's AdaptiveMaxPool2d;
 *  - the reference on tiny maps whose answers are written out;
 *  - every optimized ISA this CPU runs against the reference on a random
 *    sweep (odd sizes, channel counts around every vector width, boxes
 *    crossing and leaving the borders, reversed boxes, empty bins, padding
 *    rows, batch 3, several levels flattened, boxes from a node or held),
 *    bit for bit, output pitches with sentinels that must survive, and
 *    1, 2, 3, 5, 7 threads alike;
 *  - through validate/ (poisoned outputs, guards), and against oneDNN
 *    where oneDNN has the operation (uniform whole-map bins). */
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
#include "validate/onednn.h"

#define SENTINEL (-12345.0f)

static void bin(bool roi, int64_t i, int64_t n, int64_t start, int64_t len, int64_t size,
                int64_t lo, int64_t hi) {
    int64_t a, b;
    cnnk_region_bin(roi, i, n, start, len, size, &a, &b);
    CHECK_EQ_I64(a, lo);
    CHECK_EQ_I64(b, hi);
}

static void test_geometry(void) {
    /* PyTorch: 13 cells into 6 bins: starts floor(13i/6), ends ceil(13(i+1)/6). */
    const int64_t lo13[6] = {0, 2, 4, 6, 8, 10}, hi13[6] = {3, 5, 7, 9, 11, 13};
    for (int i = 0; i < 6; ++i) bin(false, i, 6, 0, 13, 13, lo13[i], hi13[i]);
    bin(false, 0, 3, 0, 5, 5, 0, 2);
    bin(false, 1, 3, 0, 5, 5, 1, 4);
    bin(false, 2, 3, 0, 5, 5, 3, 5);
    /* More bins than cells: every bin still holds a cell. */
    bin(false, 4, 6, 0, 2, 2, 1, 2);
    /* Caffe: a box of 3 cells from 0 into 2 bins of 1.5: [0, 2), [1, 3). */
    bin(true, 0, 2, 0, 3, 10, 0, 2);
    bin(true, 1, 2, 0, 3, 10, 1, 3);
    /* Offset and clipped to the map: from cell 8, 4 cells, map of 10. */
    bin(true, 1, 2, 8, 4, 10, 10, 10);
    bin(true, 0, 2, -3, 4, 10, 0, 0);
    /* A 7x7 grid over a 5-cell box: bin 5 of 7 is [floor(3.571), ceil(4.286)). */
    bin(true, 5, 7, 0, 5, 40, 3, 5);
    int64_t y0, h, x0, w;
    /* round(31/16 = 1.9375) = 2, round(0) = 0: 3 cells; round(8/16) = 1
     * (halves away from zero), round(7/16) = 0: x from 1, extent 1 (0-1+1 < 1). */
    const float box[4] = {8.0f, 0.0f, 7.0f, 31.0f};
    cnnk_region_box(box, 1.0f / 16, &y0, &h, &x0, &w);
    CHECK_EQ_I64(y0, 0);
    CHECK_EQ_I64(h, 3);
    CHECK_EQ_I64(x0, 1);
    CHECK_EQ_I64(w, 1);
}

static cnnk_region_pool_desc desc(int64_t mb, int64_t c, int64_t ih, int64_t iw, int64_t rois,
                                  float scale, int nlevels, const int64_t *bins, bool flatten) {
    cnnk_region_pool_desc d = {.mb = mb, .c = c, .ih = ih, .iw = iw, .rois = rois,
                               .spatial_scale = scale, .nlevels = nlevels, .flatten = flatten};
    for (int i = 0; i < nlevels; ++i) d.bins_h[i] = d.bins_w[i] = bins[i];
    cnnk_error e;
    CHECK(cnnk_region_pool_check(&d, &e) == CNNK_OK);
    return d;
}

static void test_reference(void) {
    float map[16];
    for (int i = 0; i < 16; ++i) map[i] = (float)i; /* 4x4, one channel, value = 4h + w */
    /* Adaptive 2x2: the quadrants' maxima. */
    const int64_t two = 2, pyramid[2] = {2, 1};
    cnnk_region_pool_desc d = desc(1, 1, 4, 4, 0, 0.0f, 1, &two, false);
    CHECK_EQ_I64(d.oh, 2);
    float y[8];
    cnnk_ref_region_pool(&d, map, 1, NULL, 0, 0, y, 1);
    CHECK(y[0] == 5 && y[1] == 7 && y[2] == 13 && y[3] == 15);
    /* RoI at scale 1/2: (2,2)-(5,5) -> cells 1..3 (round(2.5) = 3), 3x3 cells
     * into 2x2 bins [1,3) [2,4); row 1 is padding; row 2 lies off the map. */
    const float boxes[15] = {0, 2, 2, 5, 5, -1, 0, 0, 7, 7, 0, 20, 20, 30, 30};
    d = desc(1, 1, 4, 4, 3, 0.5f, 1, &two, false);
    CHECK_EQ_I64(d.oh, 6);
    CHECK_EQ_I64(d.ow, 2);
    float r[12];
    cnnk_ref_region_pool(&d, map, 1, boxes, 5, 0, r, 1);
    CHECK(r[0] == 10 && r[1] == 11 && r[2] == 14 && r[3] == 15);
    for (int i = 4; i < 12; ++i) CHECK(r[i] == 0.0f);
    /* Two channels, levels {2, 1} flattened: C x H x W per level. */
    float m2[32];
    for (int i = 0; i < 16; ++i) m2[2 * i] = (float)i, m2[2 * i + 1] = (float)-i;
    d = desc(1, 2, 4, 4, 0, 0.0f, 2, pyramid, true);
    CHECK_EQ_I64(d.oc, 10);
    float f[10];
    cnnk_ref_region_pool(&d, m2, 2, NULL, 0, 0, f, 10);
    const float want[10] = {5, 7, 13, 15, 0, -2, -8, -10, 15, 0};
    for (int i = 0; i < 10; ++i) CHECK(f[i] == want[i]);
}

static const int64_t CS[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 79};
#define NCS ((int)(sizeof CS / sizeof CS[0]))

static int64_t pick(cnnk_rng *g, int64_t lo, int64_t hi) {
    return lo + (int64_t)(cnnk_rng_next(g) % (uint64_t)(hi - lo + 1));
}

/* One random case through kernel k and the reference. */
static void sweep_case(const cnnk_op_kernel *k, cnnk_rng *g, int iter) {
    const int64_t mb = pick(g, 1, 3), c = CS[pick(g, 0, NCS - 1)];
    const int64_t ih = pick(g, 1, 23), iw = pick(g, 1, 23);
    const bool roi = cnnk_rng_next(g) % 2;
    const int64_t rois = roi ? pick(g, 1, 9) : 0;
    const float scale = roi ? 1.0f / (float)pick(g, 1, 16) : 0.0f;
    const int nlevels = (int)pick(g, 1, 3);
    const bool flatten = nlevels > 1 || cnnk_rng_next(g) % 4 == 0;
    int64_t bins[3];
    for (int i = 0; i < nlevels; ++i) bins[i] = pick(g, 1, 8);
    cnnk_layer_desc l = {.kind = CNNK_LAYER_REGION_POOL};
    l.u.region = desc(mb, c, ih, iw, rois, scale, nlevels, bins, flatten);
    if (pick(g, 0, 1)) l.u.region.bins_w[0] = pick(g, 1, 8); /* non-square bins */
    cnnk_error e;
    CHECK(cnnk_region_pool_check(&l.u.region, &e) == CNNK_OK);
    const cnnk_region_pool_desc *d = &l.u.region;
    const int64_t src_ld = c + (iter % 3), dst_ld = d->oc + (iter % 2) * 5;
    const int64_t nsrc = mb * ih * iw * src_ld, ndst = mb * d->oh * d->ow * dst_ld;
    const bool node = roi && cnnk_rng_next(g) % 2; /* boxes from a node: per image */
    const int64_t nbox = (rois ? rois : 1) * (node ? mb : 1) * 5;
    float *src = malloc((size_t)nsrc * sizeof *src), *want = malloc((size_t)ndst * sizeof *want);
    float *got = malloc((size_t)ndst * sizeof *got), *boxes = malloc((size_t)nbox * sizeof *boxes);
    cnnk_fill_tensor(src, nsrc, CNNK_FILL_FLOAT, 4, cnnk_rng_next(g));
    if (roi)
        cnnk_proposals_random(nbox / 5, (int64_t)((float)ih / scale), (int64_t)((float)iw / scale),
                              cnnk_rng_next(g), boxes);
    for (int64_t i = 0; i < ndst; ++i) want[i] = SENTINEL;
    cnnk_ref_region_pool(d, src, src_ld, boxes, 5, node ? rois * 5 : 0, want, dst_ld);
    const size_t nws = k->workspace_size ? k->workspace_size(&l, 7) : 0;
    float *ws = malloc((nws + 16) * sizeof *ws);
    bool same = true;
    for (int t = 0; t < CHECK_NTHREADS; ++t) {
        for (int64_t i = 0; i < ndst; ++i) got[i] = SENTINEL;
        cnnk_op_args a = {.dst = got, .dst_ld = dst_ld, .workspace = nws ? ws : NULL,
                          .nthreads = check_threads[t]};
        a.src[0] = src, a.src_ld[0] = src_ld;
        if (node) a.src[1] = boxes, a.src_ld[1] = 5;
        else a.params[0] = boxes;
        k->run(&l, &a);
        same = same && memcmp(got, want, (size_t)ndst * sizeof *got) == 0;
    }
    CHECK(same);
    if (!same)
        fprintf(stderr, "%s: mb%lld c%lld %lldx%lld rois %lld scale %g levels %d flatten %d\n",
                k->name, (long long)mb, (long long)c, (long long)ih, (long long)iw,
                (long long)rois, (double)scale, nlevels, (int)flatten);
    free(src), free(want), free(got), free(boxes), free(ws);
}

static void test_sweep(void) {
    for (int isa = 0; isa < CNNK_ISA_COUNT; ++isa) {
        if (!isa_testable("test_region_pool", (cnnk_isa)isa, "region_pool")) continue;
        const cnnk_op_kernel *k = isa_op((cnnk_isa)isa, "region_pool");
        CHECK(k && k->applies);
        cnnk_rng g = {0x5050 + (uint64_t)isa};
        for (int i = 0; i < 200; ++i) sweep_case(k, &g, i);
    }
}

/* Through the checker: kernels against the reference, and oneDNN where it
 * has the operation (uniform bins); RoI pooling it lacks is a skip. */
static void test_validate(void) {
    cnnk_validate_opts o;
    cnnk_validate_opts_init(&o);
    for (int i = 0; i < CNNK_ISA_COUNT; ++i) o.isa[i] = true;
    o.kernels = true;
    o.against_onednn = cnnk_onednn_available();
    o.out = NULL;
    const int64_t six = 6, three = 3, seven = 7;
    cnnk_layer_desc l[3] = {{.kind = CNNK_LAYER_REGION_POOL},
                            {.kind = CNNK_LAYER_REGION_POOL},
                            {.kind = CNNK_LAYER_REGION_POOL}};
    l[0].u.region = desc(2, 37, 12, 18, 0, 0.0f, 1, &six, false);    /* uniform: 2x3 windows */
    l[1].u.region = desc(1, 21, 13, 11, 0, 0.0f, 1, &three, false);  /* uneven bins */
    l[2].u.region = desc(2, 19, 9, 14, 5, 1.0f / 16, 1, &seven, false); /* RoI */
    for (int i = 0; i < 3; ++i) {
        for (int f = 0; f < 2; ++f) {
            o.fill = f ? CNNK_FILL_FLOAT : CNNK_FILL_INT;
            cnnk_validate_counts n = {0};
            cnnk_error e;
            CHECK(cnnk_validate_layer(&o, &l[i], &n, &e) == CNNK_OK);
            CHECK_EQ_I64(n.failed, 0);
            CHECK(n.passed >= (i == 0 && o.against_onednn ? 1 : 0));
        }
    }
    if (!o.against_onednn) printf("test_region_pool: no oneDNN in this build, its check skipped\n");
}

int main(void) {
    test_geometry();
    test_reference();
    test_sweep();
    test_validate();
    return check_finish("test_region_pool");
}
