/* The detection node (CNNK_NODE_DETECT) inside the runner: its output is
 * the reference decoding of its inputs as the runner computed them, image
 * by image, in every plan; and validate/det_check.c's comparison of
 * detections tells matches, threshold flips and real differences apart. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/cpu.h"
#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "kernels/ref/boxes.h"
#include "kernels/ref/ref.h"
#include "validate/det_check.h"

enum { MB = 2, SIDE = 24 };

static float *forward(const cnnk_net *n, cnnk_isa isa, cnnk_plan_kind kind, const float *in,
                      int64_t *elems) {
    cnnk_plan p = {.kind = kind, .algo = CNNK_ALGO_DIRECT};
    cnnk_runner *r = NULL;
    cnnk_error e;
    if (cnnk_runner_prepare(n, isa, &p, 1, &r, &e) != CNNK_OK) {
        fprintf(stderr, "prepare %s: %s\n", n->name, e.msg);
        CHECK(0);
        return NULL;
    }
    *elems = cnnk_runner_output_elems(r);
    float *out = malloc((size_t)*elems * sizeof *out);
    cnnk_runner_forward(r, in, out, false);
    cnnk_runner_destroy(r);
    return out;
}

static float *input(void) {
    float *in = malloc((size_t)MB * SIDE * SIDE * 3 * sizeof *in);
    uint64_t s = 7;
    for (int64_t i = 0; i < (int64_t)MB * SIDE * SIDE * 3; ++i) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        in[i] = (float)((double)(s >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
    }
    return in;
}

/* input -> fc(s*s*(5b + c)) [-> detect]: weights per node index, so the
 * prefix network has the same FC. */
static cnnk_net *yolo_net(bool det) {
    cnnk_net *n = cnnk_net_create("yolo_t", MB, 3, SIDE, SIDE);
    int x = cnnk_net_fc(n, "fc", 0, 3 * 3 * (2 * 5 + 4));
    if (det) cnnk_net_yolo_detect(n, "detect", x, 3, 2, 4, 0.05f, 0.5f, 18);
    CHECK(cnnk_net_status(n, NULL) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, 3, NULL) == CNNK_OK);
    return n;
}

static void test_yolo_node(const float *in) {
    cnnk_net *a = yolo_net(false), *b = yolo_net(true);
    int64_t na = 0, nb = 0;
    float *raw = forward(a, CNNK_ISA_REF, CNNK_PLAN_REF, in, &na);
    float *det = forward(b, CNNK_ISA_REF, CNNK_PLAN_REF, in, &nb);
    CHECK_EQ_I64(nb, MB * 18 * 6);
    const cnnk_yolo_params p = {.s = 3, .b = 2, .classes = 4, .img_w = SIDE, .img_h = SIDE,
                                .thresh = 0.05f, .nms = 0.5f, .max_det = 18};
    float *scratch = malloc((size_t)cnnk_ref_yolo_scratch(&p) * sizeof(float));
    float want[18 * 6];
    int64_t found = 0;
    for (int i = 0; raw && det && i < MB; ++i) {
        found += cnnk_ref_yolo_detect(&p, raw + i * na / MB, scratch, want, 6);
        CHECK(memcmp(want, det + i * 18 * 6, sizeof want) == 0);
    }
    CHECK(found > 0); /* the case decodes something */
    /* The best ISA's plan: boxes within tolerance, here all matched. */
    const cnnk_isa best = cnnk_best_isa();
    float *got = forward(b, best, CNNK_PLAN_HEURISTIC, in, &nb);
    const cnnk_detect_desc *d = &b->nodes[b->n - 1].desc.u.detect;
    cnnk_det_diff x;
    if (got && det) {
        cnnk_det_compare(d, got, det, cnnk_det_tolerance(d, 1e-5), &x);
        CHECK_EQ_I64(x.unexplained, 0);
        CHECK_EQ_I64(x.matched, x.want);
        CHECK_EQ_I64(x.want, found);
    }
    free(scratch), free(raw), free(det), free(got);
    cnnk_net_destroy(a), cnnk_net_destroy(b);
}

/* input -> conv 18 (node 1), conv 36 from the input (node 2) [-> proposals]. */
static cnnk_net *rpn_net(int upto) {
    cnnk_net *n = cnnk_net_create("rpn_t", MB, 3, SIDE * 4, SIDE * 4);
    int c = cnnk_net_conv(n, "cls", 0, 18, 16, 16, 0, true);
    if (upto >= 2) {
        int b = cnnk_net_conv(n, "bbox", 0, 36, 16, 16, 0, true);
        if (upto >= 3) cnnk_net_rpn_proposals(n, "proposal", c, b, 16, 20, 12, 0.7f, 16.0f);
    }
    CHECK(cnnk_net_status(n, NULL) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, 5, NULL) == CNNK_OK);
    return n;
}

static void test_rpn_node(void) {
    const int64_t side = SIDE * 4, count = (int64_t)MB * side * side * 3;
    float *in = malloc((size_t)count * sizeof *in);
    for (int64_t i = 0; i < count; ++i) in[i] = (float)((i * 7919) % 1999) / 999.5f - 1.0f;
    cnnk_net *a1 = rpn_net(1), *a2 = rpn_net(2), *b = rpn_net(3);
    int64_t n1 = 0, n2 = 0, nb = 0;
    float *cls = forward(a1, CNNK_ISA_REF, CNNK_PLAN_REF, in, &n1);
    float *bbox = forward(a2, CNNK_ISA_REF, CNNK_PLAN_REF, in, &n2);
    float *rois = forward(b, CNNK_ISA_REF, CNNK_PLAN_REF, in, &nb);
    CHECK_EQ_I64(nb, MB * 12 * 5);
    const cnnk_detect_desc *d = &b->nodes[b->n - 1].desc.u.detect;
    CHECK(d->h == SIDE / 4 && d->w == SIDE / 4 && d->img_w == side);
    float *scratch = malloc((size_t)cnnk_ref_detect_scratch(d) * sizeof(float));
    float *want = malloc((size_t)nb * sizeof *want);
    if (cls && bbox && rois) {
        const float *src[2] = {cls, bbox};
        const int64_t ld[2] = {18, 36};
        cnnk_ref_detect(d, src, ld, scratch, want, 5);
        CHECK(memcmp(want, rois, (size_t)nb * sizeof *want) == 0);
        /* image 1's rows say batch 1 (or -1) */
        for (int64_t r = 0; r < 12; ++r) CHECK(rois[(12 + r) * 5] == 1.0f || rois[(12 + r) * 5] == -1.0f);
        CHECK(rois[12 * 5] == 1.0f);
    }
    free(in), free(cls), free(bbox), free(rois), free(scratch), free(want);
    cnnk_net_destroy(a1), cnnk_net_destroy(a2), cnnk_net_destroy(b);
}

/* validate/det_check.c on hand-made lists: 4 rows of (box, score, class). */
static void test_det_compare(void) {
    cnnk_detect_desc d = {.mb = 1, .rows = 4, .cols = 6, .alg = CNNK_DETECT_YOLOV1,
                          .img_h = 448, .img_w = 448, .thresh = 0.2f, .nms = 0.5f};
    const cnnk_det_tol t = {.box = 0.01, .score = 1e-4};
    const float want[4][6] = {{10, 10, 110, 110, 0.9f, 3},
                              {200, 200, 300, 300, 0.7f, 1},
                              {300, 10, 400, 60, 0.20005f, 2}, /* 5e-5 above thresh */
                              {0, 0, 0, 0, 0, -1}};
    float got[4][6];
    cnnk_det_diff x;
    memcpy(got, want, sizeof got);
    got[0][0] += 0.005f, got[1][4] -= 5e-5f;
    cnnk_det_compare(&d, &got[0][0], &want[0][0], t, &x);
    CHECK(x.want == 3 && x.got == 3 && x.matched == 3 && x.flips == 0 && x.unexplained == 0);
    /* A coordinate off by more than the tolerance: both rows unexplained. */
    got[0][0] += 0.02f;
    cnnk_det_compare(&d, &got[0][0], &want[0][0], t, &x);
    CHECK(x.matched == 2 && x.unexplained == 2);
    /* The threshold row missing: a flip, not a failure. */
    memcpy(got, want, sizeof got);
    memcpy(got[2], want[3], sizeof got[2]);
    cnnk_det_compare(&d, &got[0][0], &want[0][0], t, &x);
    CHECK(x.matched == 2 && x.flips == 1 && x.unexplained == 0);
    /* A confident row missing: a failure. */
    memcpy(got, want, sizeof got);
    memcpy(got[1], want[2], sizeof got[1]);
    memcpy(got[2], want[3], sizeof got[2]);
    cnnk_det_compare(&d, &got[0][0], &want[0][0], t, &x);
    CHECK(x.matched == 2 && x.unexplained == 1);
    /* An extra row whose IoU with a kept box sits on the NMS threshold
     * (100x100 boxes overlapping by a third of the width: IoU 0.5 at a
     * 100/3 shift): NMS may keep it on one side of the rounding. */
    memcpy(got, want, sizeof got);
    const float shifted[6] = {10 + 100.0f / 3.0f, 10, 110 + 100.0f / 3.0f, 110, 0.5f, 3};
    memcpy(got[3], shifted, sizeof shifted);
    cnnk_det_compare(&d, &got[0][0], &want[0][0], t, &x);
    CHECK(x.matched == 3 && x.flips == 1 && x.unexplained == 0);
    /* The same row well clear of the threshold (IoU 0.18): a failure. */
    got[3][0] += 40.0f, got[3][2] += 40.0f;
    cnnk_det_compare(&d, &got[0][0], &want[0][0], t, &x);
    CHECK(x.matched == 3 && x.unexplained == 1);
    /* The class of a box whose two class scores tie: reported in both
     * lists, each explained by its twin. */
    memcpy(got, want, sizeof got);
    got[1][5] = 4.0f;
    cnnk_det_compare(&d, &got[0][0], &want[0][0], t, &x);
    CHECK(x.matched == 2 && x.flips == 2 && x.unexplained == 0);
}

int main(void) {
    float *in = input();
    test_yolo_node(in);
    free(in);
    test_rpn_node();
    test_det_compare();
    return check_finish("test_detect_node");
}
