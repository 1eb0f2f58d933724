/* R-CNN (Girshick et al. 2014, "Rich feature hierarchies for accurate
 * object detection and semantic segmentation"; docs/NETWORKS.md): each
 * region proposal cropped from the image with 16 pixels of context at the
 * warped scale and warped to 227 x 227 (rcnn_im_crop.m's "warp", the
 * paper's best; cnnk_net_warp), then the R crops as one batch through the
 * PASCAL fine-tuned CaffeNet (Caffe's bvlc_reference_caffenet: conv1 96
 * 11x11 s4, ReLU, pool 3 s2, LRN 5; conv2 256 5x5 p2 groups 2, ReLU, pool,
 * LRN; conv3 384 3x3 p1; conv4 384 groups 2; conv5 256 groups 2, pool5;
 * fc6 4096, fc7 4096 with ReLU and dropout; fc8 with the 21 PASCAL
 * outputs of the fine-tuned model). Caffe's pools round up (ceil mode; at
 * 227 both roundings agree). Its LRN is Caffe's across-channel one:
 * local_size 5, alpha 1e-4 (over the window), beta 0.75, k 1. The output
 * is R rows of 21 scores per image (the node's batch is mb * R). */
#include "nets/nets.h"

/* Default proposals per image: enough for a benchmark here; the papers'
 * ~2000 selective-search boxes are a --proposals file of 2000 lines. */
enum { RCNN_ROIS = 64, RCNN_CROP = 227, RCNN_CONTEXT = 16 };

void cnnk_nets_rcnn_alexnet(cnnk_net *n) {
    const int64_t rois = n->rois > 0 ? n->rois : RCNN_ROIS;
    int x = cnnk_net_warp(n, "warp", 0, rois, RCNN_CROP, RCNN_CROP, RCNN_CONTEXT);
    x = cnnk_net_conv(n, "conv1", x, 96, 11, 4, 0, true);
    x = cnnk_net_relu(n, "relu1", x);
    x = cnnk_net_maxpool(n, "pool1", x, 3, 2, 0, true);
    x = cnnk_net_lrn(n, "norm1", x, 5, 0.0001f, 0.75f, 1.0f);
    x = cnnk_net_conv_ex(n, "conv2", x, 256, 5, 5, 1, 1, 2, 2, 2, 1, true);
    x = cnnk_net_relu(n, "relu2", x);
    x = cnnk_net_maxpool(n, "pool2", x, 3, 2, 0, true);
    x = cnnk_net_lrn(n, "norm2", x, 5, 0.0001f, 0.75f, 1.0f);
    x = cnnk_net_conv(n, "conv3", x, 384, 3, 1, 1, true);
    x = cnnk_net_relu(n, "relu3", x);
    x = cnnk_net_conv_ex(n, "conv4", x, 384, 3, 3, 1, 1, 1, 1, 2, 1, true);
    x = cnnk_net_relu(n, "relu4", x);
    x = cnnk_net_conv_ex(n, "conv5", x, 256, 3, 3, 1, 1, 1, 1, 2, 1, true);
    x = cnnk_net_relu(n, "relu5", x);
    x = cnnk_net_maxpool(n, "pool5", x, 3, 2, 0, true);
    x = cnnk_net_fc(n, "fc6", x, 4096);
    x = cnnk_net_relu(n, "relu6", x);
    x = cnnk_net_dropout(n, "drop6", x);
    x = cnnk_net_fc(n, "fc7", x, 4096);
    x = cnnk_net_relu(n, "relu7", x);
    x = cnnk_net_dropout(n, "drop7", x);
    cnnk_net_fc(n, "fc8", x, 21);
}
