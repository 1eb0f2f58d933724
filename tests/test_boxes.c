/* Boxes out (kernels/ref/boxes.c): IoU, NMS, decoding, anchors, YOLOv1's
 * decoding and the RPN's proposals, on hand-computed cases and against
 * torchvision.ops.nms / py-faster-rcnn's py_cpu_nms and bbox_transform_inv
 * (tests/data/boxes_fixture.h, written by scripts/boxes-fixture.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data/boxes_fixture.h"
#include "kernels/ref/boxes.h"

static void test_iou(void) {
    const float a[4] = {0, 0, 10, 10}, b[4] = {5, 0, 15, 10}, c[4] = {10, 0, 20, 10};
    CHECK_NEAR(cnnk_ref_iou(a, b, 0.0f), 50.0 / 150.0, 1e-6);   /* 5x10 of 100 + 100 - 50 */
    CHECK_NEAR(cnnk_ref_iou(a, b, 1.0f), 66.0 / 176.0, 1e-6);   /* 6x11 of 121 + 121 - 66 */
    CHECK(cnnk_ref_iou(a, c, 0.0f) == 0.0f);                     /* touching: no area */
    CHECK_NEAR(cnnk_ref_iou(a, c, 1.0f), 11.0 / 231.0, 1e-6);   /* one shared pixel column */
    CHECK(cnnk_ref_iou(a, a, 0.0f) == 1.0f);
    const float empty[4] = {3, 3, 3, 3};
    CHECK(cnnk_ref_iou(empty, empty, 0.0f) == 0.0f);
}

static void test_nms_hand(void) {
    /* A, then C (disjoint), B overlaps A by 9/11 and goes. */
    const float boxes[] = {0, 0, 10, 10, 1, 0, 11, 10, 20, 20, 30, 30};
    const float scores[] = {0.9f, 0.8f, 0.85f};
    cnnk_scored work[3];
    int32_t keep[3];
    int64_t k = cnnk_ref_nms(boxes, 4, scores, 3, 0.5f, 0.0f, 0, 0, work, keep);
    CHECK_EQ_I64(k, 2);
    CHECK_EQ_I64(keep[0], 0);
    CHECK_EQ_I64(keep[1], 2);
    /* At 0.85 B's 0.818 stays: all three, by score. */
    k = cnnk_ref_nms(boxes, 4, scores, 3, 0.85f, 0.0f, 0, 0, work, keep);
    CHECK_EQ_I64(k, 3);
    CHECK(keep[0] == 0 && keep[1] == 2 && keep[2] == 1);
    /* max_keep and top_n. */
    k = cnnk_ref_nms(boxes, 4, scores, 3, 0.85f, 0.0f, 0, 1, work, keep);
    CHECK_EQ_I64(k, 1);
    k = cnnk_ref_nms(boxes, 4, scores, 3, 0.85f, 0.0f, 2, 0, work, keep);
    CHECK(k == 2 && keep[0] == 0 && keep[1] == 2);
    /* IoU equal to the threshold is kept: the rule is "> thresh". */
    const float eq[] = {0, 0, 10, 10, 5, 0, 15, 10};
    const float es[] = {0.5f, 0.4f};
    k = cnnk_ref_nms(eq, 4, es, 2, cnnk_ref_iou(eq, eq + 4, 0.0f), 0.0f, 0, 0, work, keep);
    CHECK_EQ_I64(k, 2);
    k = cnnk_ref_nms(eq, 4, es, 2, nextafterf(cnnk_ref_iou(eq, eq + 4, 0.0f), 0.0f), 0.0f, 0, 0,
                     work, keep);
    CHECK_EQ_I64(k, 1);
    /* Equal scores: the lower index first, as a stable sort. */
    const float same[] = {0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10};
    const float ss[] = {0.7f, 0.7f, 0.7f};
    k = cnnk_ref_nms(same, 4, ss, 3, 0.5f, 0.0f, 0, 0, work, keep);
    CHECK(k == 1 && keep[0] == 0);
    /* A pitch wider than 4. */
    const float wide[] = {0, 0, 10, 10, 9, 1, 0, 11, 10, 9, 20, 20, 30, 30, 9};
    k = cnnk_ref_nms(wide, 5, scores, 3, 0.5f, 0.0f, 0, 0, work, keep);
    CHECK(k == 2 && keep[0] == 0 && keep[1] == 2);
    CHECK_EQ_I64(cnnk_ref_nms(boxes, 4, scores, 0, 0.5f, 0.0f, 0, 0, work, keep), 0);
}

static void check_keep(const float *b, const float *s, float t, float off, const int *want) {
    cnnk_scored work[FIX_N];
    int32_t keep[FIX_N];
    const int64_t k = cnnk_ref_nms(b, 4, s, FIX_N, t, off, 0, 0, work, keep);
    int64_t n = 0;
    while (n < FIX_N && want[n] >= 0) ++n;
    CHECK_EQ_I64(k, n);
    for (int64_t i = 0; i < k && i < n; ++i) CHECK_EQ_I64(keep[i], want[i]);
}

static void test_nms_fixture(void) {
    const float *b[FIX_SETS] = {fix_boxes0, fix_boxes1, fix_boxes2, fix_boxes3};
    const float *s[FIX_SETS] = {fix_scores0, fix_scores1, fix_scores2, fix_scores3};
    const int *tv[FIX_SETS] = {fix_tv_keep0, fix_tv_keep1, fix_tv_keep2, fix_tv_keep3};
    const int *cf[FIX_SETS] = {fix_caffe_keep0, fix_caffe_keep1, fix_caffe_keep2,
                               fix_caffe_keep3};
    for (int k = 0; k < FIX_SETS; ++k) {
        check_keep(b[k], s[k], fix_thresh[k], 0.0f, tv[k]);
        check_keep(b[k], s[k], fix_thresh[k], 1.0f, cf[k]);
    }
}

static void test_decode(void) {
    /* Zero deltas give py-faster-rcnn's (x1, y1, x1 + w, y1 + h), w = x2 - x1 + 1. */
    const float anchor[4] = {0, 0, 15, 15}, zero[4] = {0, 0, 0, 0};
    float out[4];
    cnnk_ref_box_decode(anchor, zero, out);
    CHECK(out[0] == 0.0f && out[1] == 0.0f && out[2] == 16.0f && out[3] == 16.0f);
    const float d[4] = {0.5f, -0.25f, logf(2.0f), 0.0f};
    cnnk_ref_box_decode(anchor, d, out); /* cx 8 + 8 = 16, w 32; cy 8 - 4 = 4, h 16 */
    CHECK_NEAR(out[0], 0.0, 1e-5);
    CHECK_NEAR(out[2], 32.0, 1e-5);
    CHECK_NEAR(out[1], -4.0, 1e-5);
    CHECK_NEAR(out[3], 12.0, 1e-5);
    for (int i = 0; i < FIX_DEC; ++i) {
        cnnk_ref_box_decode(fix_anchors + 4 * i, fix_deltas + 4 * i, out);
        /* Float rounds each of about six steps on terms up to M = |centre|
         * + |width| (or height): a bound of 6 * 2^-24 * M, not relative to
         * the result, which cancels near the image edge. */
        const float *a = fix_anchors + 4 * i;
        for (int k = 0; k < 4; ++k) {
            const double m = fabs((double)a[k & 1] + a[(k & 1) + 2]) +
                             fabs((double)out[(k & 1) + 2] - out[k & 1]);
            CHECK(fabs(out[k] - fix_decoded[4 * i + k]) <= 6.0 * 0x1p-24 * m);
        }
    }
    float box[4] = {-3.0f, 5.0f, 120.0f, 80.0f};
    cnnk_ref_box_clip(box, 100.0f, 60.0f);
    CHECK(box[0] == 0.0f && box[1] == 5.0f && box[2] == 99.0f && box[3] == 59.0f);
}

static void test_anchors(void) {
    /* generate_anchors.py's own printout for base 16, ratios 0.5, 1, 2,
     * scales 8, 16, 32. */
    static const float want[9][4] = {
        {-84, -40, 99, 55},    {-176, -88, 191, 103}, {-360, -184, 375, 199},
        {-56, -56, 71, 71},    {-120, -120, 135, 135}, {-248, -248, 263, 263},
        {-36, -80, 51, 95},    {-80, -168, 95, 183},  {-168, -344, 183, 359},
    };
    const float ratios[3] = {0.5f, 1.0f, 2.0f}, scales[3] = {8.0f, 16.0f, 32.0f};
    float got[9][4];
    cnnk_ref_anchors(16.0f, ratios, 3, scales, 3, &got[0][0]);
    for (int i = 0; i < 9; ++i)
        for (int k = 0; k < 4; ++k) CHECK(got[i][k] == want[i][k]);
}

/* S = 2, B = 1, C = 2 on a 100 x 100 input, darknet's layout: 4 cells x 2
 * class probabilities, 4 confidences, 4 boxes (x, y, sqrt w, sqrt h). */
static void test_yolo(void) {
    const float r = sqrtf(0.5f);
    const float pred[28] = {
        0.9f, 0.1f, 0.3f, 0.7f, 0.8f, 0.2f, 1.0f, 0.0f, /* class probabilities */
        1.0f, 0.5f, 0.8f, 0.7f,                          /* confidences */
        0.5f, 0.5f, r, r,                                /* cell (0,0): 0..50 x 0..50 */
        0.5f, 0.5f, r, r,                                /* cell (0,1): 50..100 x 0..50 */
        0.6f, 0.4f, r, r,                                /* cell (1,0): centre (30, 70) */
        -0.46f, -0.46f, r, r,                            /* cell (1,1): centre (27, 27) */
    };
    const cnnk_yolo_params p = {.s = 2, .b = 1, .classes = 2, .img_w = 100, .img_h = 100,
                                .thresh = 0.2f, .nms = 0.5f, .max_det = 5};
    float *scratch = malloc((size_t)cnnk_ref_yolo_scratch(&p) * sizeof(float));
    float dst[5][7];
    memset(dst, 0x7f, sizeof dst);
    const int64_t found = cnnk_ref_yolo_detect(&p, pred, scratch, &dst[0][0], 7);
    /* Cell (1,1)'s 0.7 of class 0 overlaps cell (0,0)'s 0.9 by 2304/2696:
     * suppressed. Cell (0,1)'s class 0 scores 0.15 < 0.2, (1,0)'s class 1
     * 0.16. */
    CHECK_EQ_I64(found, 3);
    const float want[3][6] = {{0, 0, 50, 50, 0.9f, 0},
                              {5, 45, 55, 95, 0.64f, 0},
                              {50, 0, 99, 50, 0.35f, 1}}; /* x2 clipped to 99 */
    for (int i = 0; i < 3; ++i)
        for (int k = 0; k < 6; ++k) CHECK_NEAR(dst[i][k], want[i][k], 1e-4);
    for (int i = 3; i < 5; ++i) {
        CHECK(dst[i][5] == -1.0f && dst[i][4] == 0.0f && dst[i][0] == 0.0f);
        CHECK(dst[i][6] != 0.0f); /* the pitch's spare column untouched */
    }
    /* max_det 1: only the best is written, the count is still 3. */
    const cnnk_yolo_params p1 = {.s = 2, .b = 1, .classes = 2, .img_w = 100, .img_h = 100,
                                 .thresh = 0.2f, .nms = 0.5f, .max_det = 1};
    CHECK_EQ_I64(cnnk_ref_yolo_detect(&p1, pred, scratch, &dst[0][0], 7), 3);
    CHECK_NEAR(dst[0][4], 0.9, 1e-6);
    free(scratch);
}

/* A 2x2 map, stride 16, on a 32 x 32 image, two anchors: anchor 0 the
 * 16x16 base box, anchor 1 the same shifted by a delta (overlapping 0's
 * box by more than 0.7 at one position, tiny elsewhere). */
static void test_rpn(void) {
    const float anchors[8] = {0, 0, 15, 15, 0, 0, 15, 15};
    float cls[4][4], bbox[4][8];
    memset(bbox, 0, sizeof bbox);
    const float fg0[4] = {3.0f, 1.0f, 2.0f, 0.0f}; /* anchor 0's object logits */
    for (int i = 0; i < 4; ++i) {
        cls[i][0] = 0.0f, cls[i][1] = 0.0f;        /* background */
        cls[i][2] = fg0[i], cls[i][3] = -1.0f;     /* object */
        bbox[i][6] = bbox[i][7] = -3.0f;           /* anchor 1: 16 * e^-3 < 1 pixel */
    }
    bbox[2][4] = 0.05f, bbox[2][6] = bbox[2][7] = 0.0f; /* position 2: 0.8 pixel shift */
    const cnnk_rpn_params p = {.fh = 2, .fw = 2, .anchors = 2, .anchor_boxes = anchors,
                               .feat_stride = 16, .img_w = 32, .img_h = 32, .min_size = 16,
                               .pre_nms = 100, .post_nms = 6, .nms = 0.7f};
    float *scratch = malloc((size_t)cnnk_ref_rpn_scratch(&p) * sizeof(float));
    float dst[6][5];
    const int64_t kept = cnnk_ref_rpn_proposals(&p, &cls[0][0], 4, &bbox[0][0], 8, 0.0f,
                                                scratch, &dst[0][0], 5);
    /* Anchor 1 is filtered everywhere but position 2, where it overlaps
     * anchor 0's box there (IoU 16.2*16 / (2*272 - 259.2) = 0.91 > 0.7) and scores
     * lower: four survivors, by logit 3, 2, 1, 0 = positions 0, 2, 1, 3. */
    CHECK_EQ_I64(kept, 4);
    const float want[4][5] = {{0, 0, 0, 16, 16}, {0, 0, 16, 16, 31},
                              {0, 16, 0, 31, 16}, {0, 16, 16, 31, 31}};
    for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 5; ++k) CHECK_NEAR(dst[i][k], want[i][k], 1e-6);
    for (int i = 4; i < 6; ++i)
        CHECK(dst[i][0] == -1.0f && dst[i][1] == 0.0f && dst[i][4] == 0.0f);
    /* pre_nms 1: only the best candidate reaches NMS. */
    cnnk_rpn_params q = p;
    q.pre_nms = 1;
    CHECK_EQ_I64(cnnk_ref_rpn_proposals(&q, &cls[0][0], 4, &bbox[0][0], 8, 2.0f, scratch,
                                        &dst[0][0], 5),
                 1);
    CHECK(dst[0][0] == 2.0f && dst[1][0] == -1.0f);
    free(scratch);
}

/* Two classes and the background, three rois (the last padding): class
 * 1's second roi overlaps the first (IoU 272/306 > 0.3) and goes; class 2's
 * deltas move roi 1 clear of roi 0 (IoU 68/510), so both stay. */
static void test_frcnn(void) {
    const float rois[3][5] = {{0, 0, 0, 15, 15}, {0, 1, 0, 16, 15}, {-1, 0, 0, 15, 15}};
    const float prob[3][3] = {{0.1f, 0.8f, 0.1f}, {0.2f, 0.6f, 0.2f}, {0, 1, 0}};
    float deltas[3][12];
    memset(deltas, 0, sizeof deltas);
    deltas[1][8] = 0.75f; /* roi 1, class 2: dx, 12 pixels of its 16 */
    const cnnk_frcnn_params p = {.rois = 3, .classes = 3, .img_w = 100, .img_h = 100,
                                 .thresh = 0.05f, .nms = 0.3f, .max_det = 4};
    float *scratch = malloc((size_t)cnnk_ref_frcnn_scratch(&p) * sizeof(float));
    float dst[4][6];
    CHECK_EQ_I64(cnnk_ref_frcnn_detect(&p, &prob[0][0], 3, &deltas[0][0], 12, &rois[0][0], 5,
                                       scratch, &dst[0][0], 6),
                 3);
    const float want[4][6] = {{0, 0, 16, 16, 0.8f, 1},
                              {13, 0, 29, 16, 0.2f, 2},
                              {0, 0, 16, 16, 0.1f, 2},
                              {0, 0, 0, 0, 0, -1}};
    for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 6; ++k) CHECK_NEAR(dst[i][k], want[i][k], 1e-6);
    /* max_det 2 cuts the lowest; thresh 0.15 drops class 2's 0.1 before NMS. */
    cnnk_frcnn_params q = p;
    q.max_det = 2;
    CHECK_EQ_I64(cnnk_ref_frcnn_detect(&q, &prob[0][0], 3, &deltas[0][0], 12, &rois[0][0], 5,
                                       scratch, &dst[0][0], 6),
                 3);
    CHECK(dst[1][4] == 0.2f && dst[1][5] == 2.0f);
    q = p;
    q.thresh = 0.15f;
    CHECK_EQ_I64(cnnk_ref_frcnn_detect(&q, &prob[0][0], 3, &deltas[0][0], 12, &rois[0][0], 5,
                                       scratch, &dst[0][0], 6),
                 2);
    free(scratch);
}

int main(void) {
    test_iou();
    test_nms_hand();
    test_nms_fixture();
    test_decode();
    test_anchors();
    test_yolo();
    test_rpn();
    test_frcnn();
    return check_finish("test_boxes");
}
