/* Networks that pool regions (docs/NETWORKS.md, docs/REGIONS.md), with the
 * released Caffe models' layer names.
 *
 * spp_zf5 (He et al., SPP-net): the ZF-5 of the released model, as
 * py-faster-rcnn's models/pascal_voc/ZF prototxt gives its trunk: conv1 96
 * 7x7 s2 p3, LRN, pool 3 s2 p1; conv2 256 5x5 s2 p2, LRN, pool 3 s2 p1;
 * conv3 384, conv4 384, conv5 256, 3x3 p1. Caffe's pooling rounds up
 * (ceil mode). The released LRN is WITHIN_CHANNEL (local_size 3, alpha
 * 5e-5, beta 0.75), which cnnk has no kernel for: it is the across-channel
 * LRN of the same size and constants here (no parameters either way).
 * Then the 4-level pyramid {6, 3, 2, 1} of 256 channels (12,800 features,
 * each level flattened C x H x W, levels concatenated: fc6's weight
 * order) and fc6 4096, fc7 4096, fc8 1000 with ReLU and dropout.
 *
 * fast_rcnn_vgg16 (Girshick, the released VGG16 test.prototxt): VGG-16's
 * conv1_1..conv5_3 with Caffe's ceil-mode pools, no pool5; RoI max pooling
 * 7x7 at 1/16 over R proposals (held by the node: the default set or
 * --proposals); fc6 4096, fc7 4096 (ReLU, dropout), cls_score 21 and its
 * softmax cls_prob, bbox_pred 84. The head runs on all R regions at once:
 * the pooled regions are stacked along h (R*7 x 7 x 512), so fc6 is the
 * 7x7 stride-7 convolution that is exactly the FC on each region (weights
 * OIHW [4096][512][7][7], Caffe's fc6 blob reshaped) and fc7, cls_score and
 * bbox_pred are 1x1 convolutions: the region batch is the GEMM's M. The
 * output is one tensor, R x 1 x 105 per image: cls_prob (21) then
 * bbox_pred (84) of each region, a channel concat of the two heads. */
#include <stdio.h>

#include "nets/nets.h"

/* The default number of proposals: Faster R-CNN's test-time 300; the
 * selective-search ~2000 of the papers is --proposals with 2000 boxes. */
enum { FAST_RCNN_ROIS = 300 };

void cnnk_nets_spp_zf5(cnnk_net *n) {
    static const int64_t levels[4] = {6, 3, 2, 1};
    int x = cnnk_net_conv(n, "conv1", 0, 96, 7, 2, 3, true);
    x = cnnk_net_relu(n, "relu1", x);
    x = cnnk_net_lrn(n, "norm1", x, 3, 0.00005f, 0.75f, 1.0f);
    x = cnnk_net_maxpool(n, "pool1", x, 3, 2, 1, true);
    x = cnnk_net_conv(n, "conv2", x, 256, 5, 2, 2, true);
    x = cnnk_net_relu(n, "relu2", x);
    x = cnnk_net_lrn(n, "norm2", x, 3, 0.00005f, 0.75f, 1.0f);
    x = cnnk_net_maxpool(n, "pool2", x, 3, 2, 1, true);
    x = cnnk_net_conv(n, "conv3", x, 384, 3, 1, 1, true);
    x = cnnk_net_relu(n, "relu3", x);
    x = cnnk_net_conv(n, "conv4", x, 384, 3, 1, 1, true);
    x = cnnk_net_relu(n, "relu4", x);
    x = cnnk_net_conv(n, "conv5", x, 256, 3, 1, 1, true);
    x = cnnk_net_relu(n, "relu5", x);
    x = cnnk_net_spp(n, "spp5", x, 4, levels);
    x = cnnk_net_fc(n, "fc6", x, 4096);
    x = cnnk_net_relu(n, "relu6", x);
    x = cnnk_net_dropout(n, "drop6", x);
    x = cnnk_net_fc(n, "fc7", x, 4096);
    x = cnnk_net_relu(n, "relu7", x);
    x = cnnk_net_dropout(n, "drop7", x);
    cnnk_net_fc(n, "fc8", x, 1000);
}

void cnnk_nets_fast_rcnn_vgg16(cnnk_net *n) {
    int x = cnnk_nets_caffe_vgg16(n, 1, false, NULL);
    const int64_t rois = n->rois > 0 ? n->rois : FAST_RCNN_ROIS;
    x = cnnk_net_roi_pool(n, "roi_pool5", x, -1, rois, 7, 1.0f / 16);
    x = cnnk_net_conv_ex(n, "fc6", x, 4096, 7, 7, 7, 7, 0, 0, 1, 1, true);
    x = cnnk_net_relu(n, "relu6", x);
    x = cnnk_net_dropout(n, "drop6", x);
    x = cnnk_net_conv(n, "fc7", x, 4096, 1, 1, 0, true);
    x = cnnk_net_relu(n, "relu7", x);
    const int fc7 = cnnk_net_dropout(n, "drop7", x);
    int heads[2];
    heads[0] = cnnk_net_conv(n, "cls_score", fc7, 21, 1, 1, 0, true);
    heads[0] = cnnk_net_softmax(n, "cls_prob", heads[0]);
    heads[1] = cnnk_net_conv(n, "bbox_pred", fc7, 84, 1, 1, 0, true);
    cnnk_net_concat(n, "detections", 2, heads);
}
