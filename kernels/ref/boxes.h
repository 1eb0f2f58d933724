/* Boxes out: the scalar definitions of what detection networks do after
 * their last layer -- greedy non-maximum suppression, box decoding against
 * anchors or proposals, anchor generation, YOLOv1's grid decoding and the
 * region proposal network's proposal step (Ren et al.).
 *
 * A box is four floats (x1, y1, x2, y2) in pixels of the network input.
 * These are not convolutions: reference C is their only implementation,
 * and the runner times them inside the forward pass (docs/NETWORKS.md).
 * Nothing here allocates: callers pass the scratch (sizes below). */
#ifndef CNNK_KERNELS_REF_BOXES_H
#define CNNK_KERNELS_REF_BOXES_H

#include <stdint.h>

/* A score and the index of its box: the sort key of NMS. */
typedef struct cnnk_scored {
    float score;
    int32_t index; /* -1 marks a suppressed entry inside cnnk_ref_nms */
} cnnk_scored;

/* Intersection over union of boxes a and b. offset 0: torchvision's
 * continuous convention (width x2 - x1); offset 1: Caffe / py-faster-rcnn's
 * pixel-inclusive one (width x2 - x1 + 1). 0 when the union is empty. */
float cnnk_ref_iou(const float *a, const float *b, float offset);

/* order[0..n) = (scores[i], i) sorted by score descending, ties by index
 * ascending: what a stable sort of descending scores gives
 * (torch.sort(stable=True), and torchvision.ops.nms on distinct scores). */
void cnnk_ref_score_order(const float *scores, int64_t n, cnnk_scored *order);

/* Greedy NMS: boxes (n rows of pitch box_ld >= 4) visited by descending
 * score (cnnk_ref_score_order); of the first top_n of that order (top_n
 * <= 0: all), a box is kept unless its IoU (offset as cnnk_ref_iou) with a
 * kept box is > thresh -- torchvision.ops.nms's and Caffe's nms's rule.
 * Writes the kept indices to keep[], in score order, at most max_keep
 * (<= 0: no limit); returns how many. work holds n entries. */
int64_t cnnk_ref_nms(const float *boxes, int64_t box_ld, const float *scores, int64_t n,
                     float thresh, float offset, int64_t top_n, int64_t max_keep,
                     cnnk_scored *work, int32_t *keep);

/* Faster R-CNN's bbox_transform_inv for one box: anchor (x1, y1, x2, y2)
 * with widths x2 - x1 + 1, deltas (dx, dy, dw, dh):
 *   cx' = dx * w + cx, w' = exp(dw) * w (same in y),
 *   out = (cx' - w'/2, cy' - h'/2, cx' + w'/2, cy' + h'/2). */
void cnnk_ref_box_decode(const float *anchor, const float *delta, float *out);

/* clip_boxes: x into [0, img_w - 1], y into [0, img_h - 1]. */
void cnnk_ref_box_clip(float *box, float img_w, float img_h);

/* generate_anchors.py: base box [0, 0, base - 1, base - 1], for each ratio
 * (ratio-major) and each scale, rounded (half to even, as numpy's round)
 * widths and heights about the base box's centre; nratios * nscales rows
 * of 4 into out. */
void cnnk_ref_anchors(float base, const float *ratios, int nratios, const float *scales,
                      int nscales, float *out);

/* ---- YOLOv1 (darknet's detection layer at test time) --------------------- */

typedef struct cnnk_yolo_params {
    int s, b, classes;        /* grid side, boxes per cell, classes: 7, 2, 20 */
    float img_w, img_h;       /* the network input, the boxes' pixel frame */
    float thresh;             /* class-specific score kept if > thresh: 0.2 */
    float nms;                /* per-class NMS IoU: 0.5 (continuous) */
    int64_t max_det;          /* output rows D */
} cnnk_yolo_params;

/* Floats of scratch cnnk_ref_yolo_detect needs. */
int64_t cnnk_ref_yolo_scratch(const cnnk_yolo_params *p);

/* pred: the s*s*(b*5 + classes) outputs of the last layer in darknet's
 * order (all cells' class probabilities, then their b confidences, then
 * their b boxes of (x, y, sqrt w, sqrt h)). Writes max_det rows of 6
 * (x1, y1, x2, y2, score, class) to dst (pitch dst_ld), by score
 * descending; unused rows are zero with class -1. Returns the detections
 * found (may exceed max_det; only max_det are written). */
int64_t cnnk_ref_yolo_detect(const cnnk_yolo_params *p, const float *pred, float *scratch,
                             float *dst, int64_t dst_ld);

/* ---- the RPN's proposal step (py-faster-rcnn proposal_layer.py, test) ---- */

typedef struct cnnk_rpn_params {
    int64_t fh, fw;           /* the score map's size */
    int64_t anchors;          /* A: 9 */
    const float *anchor_boxes;/* A rows of 4 (cnnk_ref_anchors) */
    float feat_stride;        /* 16 */
    float img_w, img_h;
    float min_size;           /* 16 (times the image scale, 1 here) */
    int64_t pre_nms, post_nms;/* 6000, 300 */
    float nms;                /* 0.7, Caffe's +1 IoU */
} cnnk_rpn_params;

int64_t cnnk_ref_rpn_scratch(const cnnk_rpn_params *p);

/* cls: fh x fw pixels of 2A scores (pitch cls_ld): A background then A
 * foreground, as rpn_cls_score's 18 channels; the objectness of anchor a
 * is the 2-way softmax of (cls[a], cls[A + a]). bbox: fh x fw pixels of
 * 4A deltas (pitch bbox_ld), anchor a's at 4a. Writes post_nms rows of 5
 * (batch, x1, y1, x2, y2) to dst (pitch dst_ld), by objectness
 * descending; rows past the survivors have batch -1 and zero boxes.
 * Returns the survivors. */
int64_t cnnk_ref_rpn_proposals(const cnnk_rpn_params *p, const float *cls, int64_t cls_ld,
                               const float *bbox, int64_t bbox_ld, float batch, float *scratch,
                               float *dst, int64_t dst_ld);

/* ---- Faster R-CNN's detections (py-faster-rcnn test.py im_detect + test_net) -- */

typedef struct cnnk_frcnn_params {
    int64_t rois;             /* R rows of cls_prob, bbox_pred and rois */
    int64_t classes;          /* 21: class 0 is the background, never reported */
    float img_w, img_h;
    float thresh;             /* a class score is a candidate if > thresh: 0.05 */
    float nms;                /* per-class NMS, Caffe's +1 IoU: 0.3 */
    int64_t max_det;          /* max_per_image: 100 */
} cnnk_frcnn_params;

int64_t cnnk_ref_frcnn_scratch(const cnnk_frcnn_params *p);

/* prob: R rows of `classes` probabilities (pitch prob_ld); deltas: R rows
 * of 4 * classes (pitch delta_ld), class j's at 4j; rois: R rows of 5
 * (batch, x1, y1, x2, y2; batch < 0 skipped). For each class j >= 1: the
 * rois scoring > thresh, decoded by class j's deltas (bbox_transform_inv)
 * and clipped, greedy NMS; then the max_det best of all classes by score
 * (ties: lower class, then earlier roi) as rows of 6 (x1, y1, x2, y2,
 * score, class), padding rows class -1. Returns the detections before
 * the max_det cut. */
int64_t cnnk_ref_frcnn_detect(const cnnk_frcnn_params *p, const float *prob, int64_t prob_ld,
                              const float *deltas, int64_t delta_ld, const float *rois,
                              int64_t rois_ld, float *scratch, float *dst, int64_t dst_ld);

#endif
