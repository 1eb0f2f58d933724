/* Internal: the network definitions (nets/) and the builder helpers they
 * share beyond the public API of cnnk/net.h. core/net.c holds the table of
 * networks that cnnk_net_build() looks names up in. */
#ifndef CNNK_NETS_NETS_H
#define CNNK_NETS_NETS_H

#include "cnnk/net.h"

/* A network definition appends its layers to n, whose node 0 is the 3-channel
 * input; errors are recorded in n (sticky), so a definition returns nothing. */
typedef void (*cnnk_net_builder)(cnnk_net *n);

void cnnk_nets_alexnet(cnnk_net *n);
void cnnk_nets_vgg11(cnnk_net *n);
void cnnk_nets_vgg13(cnnk_net *n);
void cnnk_nets_vgg16(cnnk_net *n);
void cnnk_nets_vgg19(cnnk_net *n);
void cnnk_nets_googlenet(cnnk_net *n);
void cnnk_nets_resnet18(cnnk_net *n);
void cnnk_nets_resnet34(cnnk_net *n);
void cnnk_nets_resnet50(cnnk_net *n);
void cnnk_nets_resnet101(cnnk_net *n);
void cnnk_nets_resnet152(cnnk_net *n);
void cnnk_nets_densenet121(cnnk_net *n);
void cnnk_nets_densenet169(cnnk_net *n);
void cnnk_nets_densenet201(cnnk_net *n);
void cnnk_nets_yolov1(cnnk_net *n);
/* Caffe's VGG-16 conv1_1 .. relu5_3 with the released models' names
 * (nets/vgg.c: FCN, Fast and Faster R-CNN share it). */
int cnnk_nets_caffe_vgg16(cnnk_net *n, int64_t pad1, bool pool5, int pools[5]);
void cnnk_nets_fcn32s(cnnk_net *n);
void cnnk_nets_fcn16s(cnnk_net *n);
void cnnk_nets_fcn8s(cnnk_net *n);
void cnnk_nets_fcn_resnet50(cnnk_net *n);

/* torchvision's ResNet trunk, conv1 to layer4 (nets/resnet.c): bottleneck
 * blocks when `bottlenecks`, blocks[l] per stage, node names under prefix
 * ("" or "backbone."); dilate[l - 1] replaces stage l's stride 2 by
 * dilation (replace_stride_with_dilation, l = 2..4). Returns layer4's
 * output node. */
int cnnk_nets_resnet_trunk(cnnk_net *n, const char *prefix, bool bottlenecks, const int blocks[4],
                           const bool dilate[3]);
void cnnk_nets_yolov1_det(cnnk_net *n);
void cnnk_nets_faster_rcnn_vgg16_rpn(cnnk_net *n);
void cnnk_nets_faster_rcnn_vgg16(cnnk_net *n);
void cnnk_nets_spp_zf5(cnnk_net *n);
void cnnk_nets_fast_rcnn_vgg16(cnnk_net *n);
void cnnk_nets_rcnn_alexnet(cnnk_net *n);

/* Records an error in n unless one is already there (the first one wins). */
void cnnk_net_set_error(cnnk_net *n, cnnk_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* PyTorch's AdaptiveAvgPool2d((out, out)) where it is an ordinary pooling:
 * identity when the input already is out x out (no node is added; returns
 * `in`), an average pool of kernel = stride = side/out when both sides are
 * multiples of out, and an error naming the layer otherwise (PyTorch would
 * use overlapping windows of varying size, which no kernel here runs). */
int cnnk_nets_adaptive_avgpool(cnnk_net *n, const char *name, int in, int64_t out);

/* snprintf into a node-name buffer: module paths are built from parts. */
#define CNNK_NETS_NAME(buf, ...) snprintf((buf), sizeof(buf), __VA_ARGS__)

#endif
