/* rcnn_alexnet and the per-node batch it needs (docs/REGIONS.md):
 *  - the parameter count from bvlc_reference_caffenet's layer list (groups
 *    halve conv2/4/5's inputs), summed here independently of nets/rcnn.c,
 *    and the shapes of the default network (R = 64 regions of 227 x 227);
 *  - the builder's batch multipliers: a warp multiplies, every node
 *    inherits, unequal multipliers into a concat are an error, MACs and
 *    activation memory scale with R;
 *  - a --proposals file: its boxes held by the warp, R its count;
 *  - a small warp network through the runner (1-3 threads, batch 1-2, the
 *    layer and the image split, every ISA's heuristic plan) against the
 *    same layers built as a network of their own and run region by region
 *    on the reference warp's crops, and the oneDNN peer (the warp a host
 *    step) against the same. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "cnnk/proposals.h"
#include "cnnk/runner.h"
#include "kernels/ref/ref.h"
#include "tests/check.h"
#include "validate/check.h"
#include "validate/onednn.h"
#include "validate/onednn_peer.h"

static const cnnk_node *find(const cnnk_net *n, const char *name) {
    for (int i = 0; i < n->n; ++i)
        if (strcmp(n->nodes[i].name, name) == 0) return &n->nodes[i];
    return NULL;
}

static void test_caffenet(void) {
    /* {out, in, k, groups}: CaffeNet's five convs, fc6 over 256 x 6 x 6,
     * fc7, and the fine-tuned 21-way fc8; every layer has a bias. */
    const int64_t L[8][4] = {{96, 3, 11, 1},     {256, 96, 5, 2},  {384, 256, 3, 1},
                             {384, 384, 3, 2},   {256, 384, 3, 2}, {4096, 9216, 1, 1},
                             {4096, 4096, 1, 1}, {21, 4096, 1, 1}};
    int64_t want = 0;
    for (int i = 0; i < 8; ++i) want += L[i][0] * (L[i][1] / L[i][3]) * L[i][2] * L[i][2] + L[i][0];
    CHECK_EQ_I64(want, 56954261);
    /* with Caffe's 1000-way fc8, the published CaffeNet count */
    CHECK_EQ_I64(want - (21 * 4096 + 21) + (1000 * 4096 + 1000), 60965224);
    cnnk_net *n = NULL, *one = NULL, *big = NULL;
    cnnk_error err;
    CHECK(cnnk_net_build("rcnn_alexnet", 1, 0, 0, &n, &err) == CNNK_OK);
    CHECK(cnnk_net_build_rois("rcnn_alexnet", 2, 0, 0, 1, &one, &err) == CNNK_OK);
    CHECK(cnnk_net_build_rois("rcnn_alexnet", 1, 0, 0, 2000, &big, &err) == CNNK_OK);
    if (!n || !one || !big) goto done;
    CHECK_EQ_I64(n->h, 375);
    CHECK_EQ_I64(n->w, 500);
    CHECK_EQ_I64(cnnk_net_params(n), want);
    const cnnk_node *w = find(n, "warp"), *c1 = find(n, "conv1"), *p5 = find(n, "pool5");
    const cnnk_node *out = &n->nodes[n->n - 1];
    CHECK(w && c1 && p5);
    if (!w || !c1 || !p5) goto done;
    CHECK_EQ_I64(w->desc.u.warp.rois, 64);
    CHECK_EQ_I64(w->desc.u.warp.mb, 1); /* the warp's batch is its input's */
    CHECK_EQ_I64(w->reps, 64);
    CHECK(w->h == 227 && w->w == 227 && w->c == 3);
    CHECK_EQ_I64(c1->desc.u.conv.mb, 64);
    CHECK(c1->h == 55 && p5->h == 6 && p5->w == 6 && p5->c == 256);
    CHECK(out->c == 21 && out->h == 1 && out->w == 1 && out->reps == 64);
    CHECK_EQ_I64(out->desc.u.fc.mb, 64);
    CHECK_EQ_I64(cnnk_net_node_batch(n, out), 64);
    /* MACs count every region: 64 crops cost 64 x (at batch 2) 2 x one. */
    CHECK_EQ_I64(cnnk_net_macs(n), 32 * cnnk_net_macs(one));
    CHECK_EQ_I64(find(big, "fc8")->desc.u.fc.mb, 2000);
    /* activation memory: the 64 warped crops and conv1's 64 maps at least */
    CHECK(cnnk_net_peak_activation_bytes(n) >= 64 * 4 * (227 * 227 * 3 + 55 * 55 * 96));
done:
    cnnk_net_destroy(n), cnnk_net_destroy(one), cnnk_net_destroy(big);
}

/* The layers after the warp, on node x (the warp of the big network, or
 * the input of the region-by-region one). */
static int trunk(cnnk_net *n, int x) {
    x = cnnk_net_conv(n, "c1", x, 8, 3, 2, 0, true);
    x = cnnk_net_relu(n, "r1", x);
    x = cnnk_net_maxpool(n, "p1", x, 3, 2, 0, true);
    x = cnnk_net_lrn(n, "n1", x, 5, 0.0001f, 0.75f, 1.0f);
    x = cnnk_net_conv_ex(n, "c2", x, 16, 3, 3, 1, 1, 1, 1, 2, 1, true);
    x = cnnk_net_relu(n, "r2", x);
    x = cnnk_net_fc(n, "f1", x, 10);
    x = cnnk_net_relu(n, "r3", x);
    return cnnk_net_fc(n, "f2", x, 5);
}

enum { IH = 21, IW = 17, R = 4, OH = 15, OW = 13, PAD = 2 };

static void test_builder(void) {
    cnnk_net *n = cnnk_net_create("m", 2, 3, IH, IW);
    const int w = cnnk_net_warp(n, "warp", 0, R, OH, OW, PAD);
    const int s = cnnk_net_resize(n, "same_size", 0, OH, OW, false);
    CHECK(n->nodes[w].reps == R && n->nodes[s].reps == 1);
    const int both[2] = {w, s};
    CHECK(cnnk_net_concat(n, "cat", 2, both) < 0);
    cnnk_error err;
    CHECK(cnnk_net_status(n, &err) == CNNK_EINVAL);
    CHECK(strstr(err.msg, "batch multipliers must be equal") != NULL);
    cnnk_net_destroy(n);
    n = cnnk_net_create("m", 1, 3, IH, IW);
    const int a = cnnk_net_warp(n, "warp", 0, R, OH, OW, PAD);
    const int b = cnnk_net_warp(n, "warp2", a, 3, 9, 9, 0); /* regions of regions */
    CHECK(cnnk_net_add(n, "add", a, b) < 0);
    CHECK(n->nodes[b].reps == 3 * R && n->nodes[b].desc.u.warp.mb == R);
    cnnk_net_destroy(n);
    n = cnnk_net_create("m", 1, 3, IH, IW);
    CHECK(cnnk_net_warp(n, "warp", 0, R, OH, OW, 7) < 0); /* 2 pad >= 13 */
    cnnk_net_destroy(n);
}

static void copy_params(cnnk_net *to, const cnnk_net *from) {
    for (int i = 1; i < to->n; ++i) {
        cnnk_node *t = &to->nodes[i];
        const cnnk_node *f = find(from, t->name);
        if (!t->weights || !f) continue;
        const cnnk_layer_dims d = cnnk_layer_dims_of(&t->desc);
        memcpy(t->weights, f->weights, (size_t)d.weights * sizeof(float));
        if (t->has_bias) memcpy(t->bias, f->bias, (size_t)d.bias * sizeof(float));
    }
}

static double run(const cnnk_net *n, cnnk_isa isa, const cnnk_plan *p, int threads,
                  const float *x, float *y) {
    cnnk_runner *r = NULL;
    cnnk_error err;
    if (cnnk_runner_prepare(n, isa, p, threads, &r, &err) != CNNK_OK) {
        fprintf(stderr, "%s: %s\n", n->name, err.msg);
        return -1;
    }
    cnnk_runner_forward(r, x, y, false);
    const double elems = (double)cnnk_runner_output_elems(r);
    cnnk_runner_destroy(r);
    return elems;
}

/* The biggest |a - b| over m values, relative to the biggest |b|. */
static double rel_diff(const float *a, const float *b, int64_t m) {
    double worst = 0, big = 0;
    for (int64_t i = 0; i < m; ++i) big = fabs(b[i]) > big ? fabs(b[i]) : big;
    for (int64_t i = 0; i < m; ++i) {
        const double d = fabs((double)a[i] - b[i]);
        worst = d > worst || d != d ? d : worst;
    }
    return big > 0 ? worst / big : worst;
}

static void test_batch(int64_t mb) {
    cnnk_net *n = cnnk_net_create("rcnn_small", mb, 3, IH, IW);
    trunk(n, cnnk_net_warp(n, "warp", 0, R, OH, OW, PAD));
    cnnk_net *t = cnnk_net_create("trunk", 1, 3, OH, OW);
    trunk(t, 0);
    cnnk_error err;
    CHECK(cnnk_net_status(n, &err) == CNNK_OK && cnnk_net_status(t, &err) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, 5, &err) == CNNK_OK);
    CHECK(cnnk_net_init_weights(t, 9, &err) == CNNK_OK);
    copy_params(t, n);
    /* inside; crossing the top-left corner; the whole image; a padding row */
    const float boxes[R][5] = {{0, 3, 4, 10, 15}, {0, 0, 0, 5, 3}, {0, 0, 0, IW - 1, IH - 1},
                               {-1, 2, 2, 8, 8}};
    cnnk_node *w = (cnnk_node *)find(n, "warp");
    memcpy(w->weights, boxes, sizeof boxes);
    const int64_t nin = mb * IH * IW * 3, crop = OH * OW * 3, rows = mb * R;
    float *x = malloc((size_t)nin * sizeof *x), *crops = malloc((size_t)(rows * crop) * 4);
    float *want = malloc((size_t)rows * 5 * 4), *got = malloc((size_t)rows * 5 * 4);
    cnnk_fill_tensor(x, nin, CNNK_FILL_FLOAT, 4, 17);
    cnnk_ref_warp(&w->desc.u.warp, x, 3, w->weights, crops, 3);
    const cnnk_plan ref = {.kind = CNNK_PLAN_REF, .algo = CNNK_ALGO_DIRECT};
    for (int64_t q = 0; q < rows; ++q)
        CHECK(run(t, CNNK_ISA_REF, &ref, 1, crops + q * crop, want + q * 5) == 5);
    /* the padding row's crop is zeros, and its scores are the trunk's on 0 */
    CHECK(crops[3 * crop + crop / 2] == 0.0f);
    cnnk_plan heur;
    CHECK(cnnk_plan_parse("heuristic", &heur, &err) == CNNK_OK);
    for (int isa = 0; isa < CNNK_ISA_COUNT; ++isa) {
        if (!cnnk_isa_available((cnnk_isa)isa)) continue;
        for (int th = 1; th <= 3; ++th)
            for (int split = 0; split < 2; ++split) {
                setenv("CNNK_BATCH_SPLIT", split ? "images" : "layers", 1);
                for (int64_t i = 0; i < rows * 5; ++i) got[i] = NAN;
                const cnnk_plan *p = isa == CNNK_ISA_REF ? &ref : &heur;
                CHECK(run(n, (cnnk_isa)isa, p, th, x, got) == (double)(rows * 5));
                const double d = rel_diff(got, want, rows * 5);
                /* the reference kernels compute each value alone: equal */
                CHECK(isa == CNNK_ISA_REF ? d == 0.0 : d <= 1e-5);
                if (isa == CNNK_ISA_REF ? d != 0.0 : !(d <= 1e-5))
                    fprintf(stderr, "mb %lld %s threads %d split %d: rel %g\n", (long long)mb,
                            cnnk_isa_name((cnnk_isa)isa), th, split, d);
            }
    }
    unsetenv("CNNK_BATCH_SPLIT");
    if (cnnk_onednn_available()) {
        cnnk_onednn_net *d = NULL;
        CHECK(cnnk_onednn_net_create(n, 2, CNNK_ONEDNN_DIRECT, &d, &err) == CNNK_OK);
        if (d) {
            char hosts[64];
            CHECK_EQ_I64(cnnk_onednn_net_host_steps(d, hosts, sizeof hosts), 1);
            CHECK(strcmp(hosts, "warp") == 0);
            CHECK_EQ_I64(cnnk_onednn_net_output_elems(d), rows * 5);
            for (int64_t i = 0; i < rows * 5; ++i) got[i] = NAN;
            CHECK(cnnk_onednn_net_forward(d, x, got) == CNNK_OK);
            const double rd = rel_diff(got, want, rows * 5);
            CHECK(rd <= 1e-5);
            if (!(rd <= 1e-5)) fprintf(stderr, "mb %lld onednn: rel %g\n", (long long)mb, rd);
            cnnk_onednn_net_destroy(d);
        } else {
            fprintf(stderr, "onednn: %s\n", err.msg);
        }
    }
    free(x), free(crops), free(want), free(got);
    cnnk_net_destroy(n), cnnk_net_destroy(t);
}

/* --proposals: a file's boxes replace the default set of the warp node,
 * and R is the file's count (cnnk_net_build_rois). */
static void test_proposals_file(void) {
    char path[] = "/tmp/test_rcnn_XXXXXX";
    const int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# x1 y1 x2 y2\n100 100 199 149\n-1 0 0 10 10\n0 0 499 374\n");
    fclose(f);
    cnnk_error err;
    const int64_t r = cnnk_proposals_count(path, &err);
    CHECK_EQ_I64(r, 3);
    cnnk_net *n = NULL;
    CHECK(cnnk_net_build_rois("rcnn_alexnet", 1, 0, 0, r, &n, &err) == CNNK_OK);
    if (n) {
        CHECK(cnnk_net_init_weights(n, 1, &err) == CNNK_OK);
        CHECK(cnnk_net_set_proposals(n, path, &err) == CNNK_OK);
        const cnnk_node *w = find(n, "warp");
        const float want[15] = {0, 100, 100, 199, 149, -1, 0, 0, 10, 10, 0, 0, 0, 499, 374};
        for (int i = 0; i < 15; ++i) CHECK(w->weights[i] == want[i]);
        CHECK_EQ_I64(n->nodes[n->n - 1].reps, 3);
    }
    cnnk_net_destroy(n);
    remove(path);
}

int main(void) {
    test_caffenet();
    test_proposals_file();
    test_builder();
    test_batch(1);
    test_batch(2);
    return check_finish("test_rcnn");
}
