/* Faster R-CNN (Ren, He, Girshick, Sun, "Faster R-CNN: Towards Real-Time
 * Object Detection with Region Proposal Networks", NIPS 2015), the released
 * py-faster-rcnn VGG16 faster_rcnn_end2end test.prototxt: VGG-16 conv1_1 ..
 * conv5_3 (3x3 pad 1, ReLU; 2x2 stride-2 max pools, Caffe's ceil rounding),
 * then the region proposal network on conv5_3: rpn_conv/3x3 (512, pad 1) +
 * ReLU, rpn_cls_score (1x1, 18 = 2 x 9 anchors) and rpn_bbox_pred (1x1,
 * 36 = 4 x 9), and the proposal layer (feat_stride 16, 6000 before NMS 0.7,
 * 300 after, min_size 16): 300 rois in the shared box layout.
 *
 * faster_rcnn_vgg16_rpn is that first half, the network whose output is
 * the proposals; faster_rcnn_vgg16 adds the RoI head (below).
 *
 * Node names are Caffe's, with '/' as '_' (they name weight files). */
#include <stdio.h>

#include "nets/nets.h"

enum { RPN_POST_NMS = 300, RPN_PRE_NMS = 6000, RPN_STRIDE = 16 };

#define RPN_NMS 0.7f
#define RPN_MIN_SIZE 16.0f
#define FRCNN_THRESH 0.05f /* test_net's thresh */
#define FRCNN_NMS 0.3f     /* cfg.TEST.NMS */
enum { FRCNN_MAX_DET = 100 }; /* test_net's max_per_image */

/* conv1_1 .. conv5_3 with their ReLUs, no pool5; returns relu5_3. */
static int vgg16_trunk(cnnk_net *n) { return cnnk_nets_caffe_vgg16(n, 1, false, NULL); }

/* The RPN on the trunk; returns the proposals node (1 x R x 5; R = 300,
 * or the network's rois when built for fewer: cnnk_net_build_rois). */
static int rpn(cnnk_net *n, int trunk) {
    const int64_t post = n->rois > 0 ? n->rois : RPN_POST_NMS;
    int x = cnnk_net_conv(n, "rpn_conv_3x3", trunk, 512, 3, 1, 1, true);
    x = cnnk_net_relu(n, "rpn_relu_3x3", x);
    const int cls = cnnk_net_conv(n, "rpn_cls_score", x, 18, 1, 1, 0, true);
    const int bbox = cnnk_net_conv(n, "rpn_bbox_pred", x, 36, 1, 1, 0, true);
    return cnnk_net_rpn_proposals(n, "proposal", cls, bbox, RPN_STRIDE, RPN_PRE_NMS, post,
                                  RPN_NMS, RPN_MIN_SIZE);
}

void cnnk_nets_faster_rcnn_vgg16_rpn(cnnk_net *n) { rpn(n, vgg16_trunk(n)); }

/* The whole network: the RPN's proposals through roi_pool5 (7x7 at 1/16,
 * Caffe's ROIPooling), fc6 (a 7x7 stride-7 convolution over the stacked
 * regions: one 4096-vector per roi, weights OIHW [4096][512][7][7] = Caffe's
 * fc6 blob), fc7, cls_score 21 + softmax (cls_prob) and bbox_pred 84, then
 * test_net's per-class decoding + NMS 0.3 above 0.05, the 100 best. */
void cnnk_nets_faster_rcnn_vgg16(cnnk_net *n) {
    const int trunk = vgg16_trunk(n);
    const int rois = rpn(n, trunk);
    const int64_t r = n->rois > 0 ? n->rois : RPN_POST_NMS;
    int x = cnnk_net_roi_pool(n, "roi_pool5", trunk, rois, r, 7, 1.0f / RPN_STRIDE);
    x = cnnk_net_conv_ex(n, "fc6", x, 4096, 7, 7, 7, 7, 0, 0, 1, 1, true);
    x = cnnk_net_relu(n, "relu6", x);
    x = cnnk_net_dropout(n, "drop6", x);
    x = cnnk_net_conv(n, "fc7", x, 4096, 1, 1, 0, true);
    x = cnnk_net_relu(n, "relu7", x);
    x = cnnk_net_dropout(n, "drop7", x);
    int prob = cnnk_net_conv(n, "cls_score", x, 21, 1, 1, 0, true);
    prob = cnnk_net_softmax(n, "cls_prob", prob);
    const int bbox = cnnk_net_conv(n, "bbox_pred", x, 84, 1, 1, 0, true);
    cnnk_net_frcnn_detect(n, "detections", prob, bbox, rois, FRCNN_THRESH, FRCNN_NMS,
                          FRCNN_MAX_DET);
}
