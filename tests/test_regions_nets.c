/* The region-pooling networks against their published definitions,
 * derived here independently of nets/regions.c:
 *  - parameter counts from the released prototxts' layer lists (kernel,
 *    channels, bias), summed by hand-written arithmetic;
 *  - spp_zf5 at 224, 180 and 300x400: the pyramid always gives 12,800
 *    features, whatever the map (Caffe's ceil pooling sizes the map);
 *  - fast_rcnn_vgg16's conv5_3 map at 600x1000 (38 x 63 by Caffe's ceil
 *    pools) and its RoI head's shapes for R boxes;
 *  - a small fast_rcnn_vgg16 and spp_zf5 through the runner: every ISA's
 *    heuristic plan against the reference plan, RoI pooling's boxes held,
 *    and the oneDNN peer with its host step against the same. */
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "tests/check.h"
#include "validate/check.h"
#include "validate/onednn.h"
#include "validate/onednn_peer.h"

typedef struct layer {
    int64_t out, in, k; /* a conv (k x k) or FC (k = 1, in = flattened) with bias */
} layer;

static int64_t params_of(const layer *l, int n) {
    int64_t p = 0;
    for (int i = 0; i < n; ++i) p += l[i].out * l[i].in * l[i].k * l[i].k + l[i].out;
    return p;
}

static cnnk_net *build(const char *name, int64_t h, int64_t w, int64_t rois) {
    cnnk_net *n = NULL;
    cnnk_error err;
    if (cnnk_net_build_rois(name, 1, h, w, rois, &n, &err) != CNNK_OK) {
        fprintf(stderr, "build %s: %s\n", name, err.msg);
        return NULL;
    }
    return n;
}

static const cnnk_node *find(const cnnk_net *n, const char *name) {
    for (int i = 0; i < n->n; ++i)
        if (strcmp(n->nodes[i].name, name) == 0) return &n->nodes[i];
    return NULL;
}

static void test_spp_zf5(void) {
    /* ZF-5 trunk, then fc6 over 256 x (36 + 9 + 4 + 1) = 12,800 features. */
    const layer L[] = {{96, 3, 7},         {256, 96, 5},      {384, 256, 3},   {384, 384, 3},
                       {256, 384, 3},      {4096, 12800, 1},  {4096, 4096, 1}, {1000, 4096, 1}};
    const int64_t want = params_of(L, 8);
    CHECK_EQ_I64(want, 77037672);
    const int64_t sizes[3][3] = {{224, 224, 15}, {180, 180, 12}, {300, 400, 20}};
    for (int i = 0; i < 3; ++i) {
        cnnk_net *n = build("spp_zf5", sizes[i][0], sizes[i][1], 0);
        CHECK(n != NULL);
        if (!n) continue;
        CHECK_EQ_I64(cnnk_net_params(n), want);
        const cnnk_node *c5 = find(n, "conv5"), *spp = find(n, "spp5");
        CHECK(c5 && spp);
        if (c5 && spp) {
            CHECK_EQ_I64(c5->h, sizes[i][2]);
            CHECK_EQ_I64(spp->c * spp->h * spp->w, 12800);
        }
        cnnk_net_destroy(n);
    }
}

static void test_fast_rcnn(void) {
    /* VGG-16's 13 convs; fc6 over 512 x 7 x 7; fc7; cls_score 21; bbox_pred 84. */
    const layer L[] = {{64, 3, 3},    {64, 64, 3},   {128, 64, 3},      {128, 128, 3},
                       {256, 128, 3}, {256, 256, 3}, {256, 256, 3},     {512, 256, 3},
                       {512, 512, 3}, {512, 512, 3}, {512, 512, 3},     {512, 512, 3},
                       {512, 512, 3}, {4096, 25088, 1}, {4096, 4096, 1}, {21, 4096, 1},
                       {84, 4096, 1}};
    const int64_t want = params_of(L, 17);
    CHECK_EQ_I64(want, 134690729);
    cnnk_net *n = build("fast_rcnn_vgg16", 0, 0, 0);
    CHECK(n != NULL);
    if (!n) return;
    CHECK_EQ_I64(n->h, 600);
    CHECK_EQ_I64(n->w, 1000);
    CHECK_EQ_I64(cnnk_net_params(n), want);
    const cnnk_node *c5 = find(n, "conv5_3"), *roi = find(n, "roi_pool5"), *out = &n->nodes[n->n - 1];
    CHECK(c5 && roi);
    if (c5 && roi) {
        CHECK_EQ_I64(c5->h, 38);
        CHECK_EQ_I64(c5->w, 63);
        CHECK_EQ_I64(roi->desc.u.region.rois, 300); /* the default R */
        CHECK_EQ_I64(roi->h, 300 * 7);
    }
    CHECK_EQ_I64(out->c, 21 + 84);
    CHECK_EQ_I64(out->h, 300);
    cnnk_net_destroy(n);
    n = build("fast_rcnn_vgg16", 600, 1000, 2000); /* the papers' selective-search count */
    CHECK(n && find(n, "roi_pool5")->desc.u.region.rois == 2000);
    cnnk_net_destroy(n);
}

/* out = the ref plan's output, then each ISA's heuristic plan and the
 * oneDNN peer must agree with it (argmax of every region's scores equal,
 * values within a relative 1e-3 of the largest). */
static void agree(const char *name, int64_t h, int64_t w, int64_t rois) {
    cnnk_net *n = build(name, h, w, rois);
    CHECK(n != NULL);
    if (!n) return;
    cnnk_error err;
    CHECK(cnnk_net_init_weights(n, 3, &err) == CNNK_OK);
    const int64_t in = n->h * n->w * 3;
    float *x = malloc((size_t)in * sizeof *x);
    cnnk_fill_tensor(x, in, CNNK_FILL_FLOAT, 4, 11);
    for (int64_t i = 0; i < in; ++i) x[i] = x[i] * 0.5f + 0.5f;
    cnnk_plan plan;
    CHECK(cnnk_plan_parse("heuristic", &plan, &err) == CNNK_OK);
    cnnk_runner *r = NULL;
    /* The reference plan runs fc6 as the literal 7x7 stride-7 convolution. */
    cnnk_plan ref_plan;
    CHECK(cnnk_plan_parse("ref", &ref_plan, &err) == CNNK_OK);
    CHECK(cnnk_runner_prepare(n, CNNK_ISA_REF, &ref_plan, 1, &r, &err) == CNNK_OK);
    if (!r) {
        fprintf(stderr, "%s\n", err.msg);
        free(x), cnnk_net_destroy(n);
        return;
    }
    const int64_t m = cnnk_runner_output_elems(r);
    float *want = malloc((size_t)m * sizeof *want), *got = malloc((size_t)m * sizeof *got);
    cnnk_runner_forward(r, x, want, false);
    cnnk_runner_destroy(r);
    double big = 0;
    for (int64_t i = 0; i < m; ++i) big = fabs(want[i]) > big ? fabs(want[i]) : big;
    CHECK(big > 0);
    for (int isa = CNNK_ISA_REF; isa <= CNNK_ISA_COUNT; ++isa) {
        const bool dnn = isa == CNNK_ISA_COUNT;
        if (!dnn && !cnnk_isa_available((cnnk_isa)isa)) continue;
        if (dnn && !cnnk_onednn_available()) continue;
        for (int64_t i = 0; i < m; ++i) got[i] = NAN;
        if (dnn) {
            cnnk_onednn_net *d = NULL;
            CHECK(cnnk_onednn_net_create(n, 2, CNNK_ONEDNN_DIRECT, &d, &err) == CNNK_OK);
            if (!d) { fprintf(stderr, "%s\n", err.msg); continue; }
            char hosts[256];
            CHECK_EQ_I64(cnnk_onednn_net_host_steps(d, hosts, sizeof hosts), 1);
            CHECK(strcmp(hosts, strcmp(name, "spp_zf5") == 0 ? "spp5" : "roi_pool5") == 0);
            /* The head's fc6 (7x7 stride 7 over the stack), fc7, cls_score
             * and bbox_pred (1x1 over R x 1) run as inner products over R. */
            char want_note[64];
            snprintf(want_note, sizeof want_note, "inner product over %lld regions",
                     (long long)rois);
            int ips = 0;
            for (int i = 0; i < cnnk_onednn_net_prim_count(d); ++i)
                ips += strcmp(cnnk_onednn_net_prim_note(d, i), want_note) == 0;
            CHECK_EQ_I64(ips, rois ? 4 : 0);
            CHECK_EQ_I64(cnnk_onednn_net_output_elems(d), m);
            CHECK(cnnk_onednn_net_forward(d, x, got) == CNNK_OK);
            cnnk_onednn_net_destroy(d);
        } else {
            CHECK(cnnk_runner_prepare(n, (cnnk_isa)isa, &plan, 2, &r, &err) == CNNK_OK);
            if (!r) continue;
            /* fc6, the 7x7 stride-7 convolution over the stack of regions,
             * runs as the 1x1 over its patches (core/runner.c). */
            int patches = 0;
            for (int i = 0; i < cnnk_runner_step_count(r); ++i)
                patches += strstr(cnnk_runner_step(r, i)->note, "as 1x1 over") != NULL;
            CHECK_EQ_I64(patches, rois ? 1 : 0);
            cnnk_runner_forward(r, x, got, false);
            cnnk_runner_destroy(r);
        }
        double worst = 0;
        for (int64_t i = 0; i < m; ++i) {
            const double d = fabs((double)got[i] - want[i]) / big;
            worst = d > worst || d != d ? d : worst;
        }
        CHECK(worst <= 1e-3);
        /* fast_rcnn: each region's 21 class probabilities, then 84 deltas. */
        const int64_t row = strcmp(name, "spp_zf5") == 0 ? m : 105, cls = row == m ? m : 21;
        int64_t same = 0, rows = m / row;
        for (int64_t q = 0; q < rows; ++q) {
            int64_t a = 0, b = 0;
            for (int64_t c = 1; c < cls; ++c) {
                if (want[q * row + c] > want[q * row + a]) a = c;
                if (got[q * row + c] > got[q * row + b]) b = c;
            }
            same += a == b;
        }
        CHECK_EQ_I64(same, rows);
        if (worst > 1e-3 || same != rows)
            fprintf(stderr, "%s %s: worst %g, argmax %lld/%lld\n", name,
                    dnn ? "onednn" : cnnk_isa_name((cnnk_isa)isa), worst, (long long)same,
                    (long long)rows);
    }
    free(x), free(want), free(got);
    cnnk_net_destroy(n);
}

int main(void) {
    test_spp_zf5();
    test_fast_rcnn();
    agree("spp_zf5", 47, 39, 0);
    agree("fast_rcnn_vgg16", 48, 40, 4);
    return check_finish("test_regions_nets");
}
