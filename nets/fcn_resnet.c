/* fcn_resnet50 as torchvision 0.14 defines it
 * (torchvision/models/segmentation/fcn.py and resnet.py):
 * fcn_resnet50(weights=None, weights_backbone=None, num_classes=21,
 * aux_loss=False), i.e.
 *   backbone   ResNet-50 conv1..layer4 with replace_stride_with_dilation =
 *              [False, True, True]: layer3 at dilation 2 and layer4 at 4,
 *              stride 8 overall (nets/resnet.c's trunk), no avgpool or fc;
 *   classifier FCNHead(2048, 21): 3x3 convolution to 512 (padding 1, no
 *              bias), batch-norm, ReLU, Dropout(0.1), 1x1 convolution to 21
 *              with bias;
 *   then       F.interpolate(size = the input's, mode="bilinear",
 *              align_corners=False): the "out" logits, 21 x H x W.
 * 32,957,013 parameters. Node names are the module paths of the model's
 * state_dict (backbone.layer3.0.conv2, classifier.4); the interpolation is
 * no module in torchvision and is named "interpolate". */
#include "nets/nets.h"

enum { FCN_CLASSES = 21, FCN_HEAD = 512 };

void cnnk_nets_fcn_resnet50(cnnk_net *n) {
    int x = cnnk_nets_resnet_trunk(n, "backbone.", true, (const int[4]){3, 4, 6, 3},
                                   (const bool[3]){false, true, true});
    x = cnnk_net_conv(n, "classifier.0", x, FCN_HEAD, 3, 1, 1, false);
    x = cnnk_net_bnorm(n, "classifier.1", x, 1e-5f);
    x = cnnk_net_relu(n, "classifier.2", x);
    x = cnnk_net_dropout(n, "classifier.3", x);
    x = cnnk_net_conv(n, "classifier.4", x, FCN_CLASSES, 1, 1, 0, true);
    cnnk_net_resize(n, "interpolate", x, n->h, n->w, false);
}
