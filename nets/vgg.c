/* VGG-11/13/16/19 without batch-norm, as torchvision defines them
 * (torchvision/models/vgg.py, configurations A, B, D, E): each number is a
 * 3x3 convolution (padding 1) and its ReLU, M a 2x2 max pool; features.<i>
 * counts modules the way nn.Sequential does. */
#include <stdio.h>

#include "nets/nets.h"

#define M 0

static void vgg(cnnk_net *n, const int *cfg, int len) {
    char name[32];
    int x = 0, idx = 0;
    for (int i = 0; i < len; ++i) {
        if (cfg[i] == M) {
            CNNK_NETS_NAME(name, "features.%d", idx++);
            x = cnnk_net_maxpool(n, name, x, 2, 2, 0, false);
            continue;
        }
        CNNK_NETS_NAME(name, "features.%d", idx++);
        x = cnnk_net_conv(n, name, x, cfg[i], 3, 1, 1, true);
        CNNK_NETS_NAME(name, "features.%d", idx++);
        x = cnnk_net_relu(n, name, x);
    }
    x = cnnk_nets_adaptive_avgpool(n, "avgpool", x, 7);
    x = cnnk_net_fc(n, "classifier.0", x, 4096);
    x = cnnk_net_relu(n, "classifier.1", x);
    x = cnnk_net_dropout(n, "classifier.2", x);
    x = cnnk_net_fc(n, "classifier.3", x, 4096);
    x = cnnk_net_relu(n, "classifier.4", x);
    x = cnnk_net_dropout(n, "classifier.5", x);
    cnnk_net_fc(n, "classifier.6", x, 1000);
}

#define VGG(fn, ...)                                                                   \
    void fn(cnnk_net *n) {                                                             \
        static const int cfg[] = {__VA_ARGS__};                                        \
        vgg(n, cfg, (int)(sizeof cfg / sizeof cfg[0]));                                \
    }

VGG(cnnk_nets_vgg11, 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M)
VGG(cnnk_nets_vgg13, 64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M)
VGG(cnnk_nets_vgg16, 64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512,
    M)
VGG(cnnk_nets_vgg19, 64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512,
    512, 512, 512, M)

/* Caffe's VGG-16 trunk as the released FCN, Fast and Faster R-CNN models
 * name it: conv<b>_<i> (3x3, pad 1, bias) + relu<b>_<i> in blocks of 2, 2,
 * 3, 3, 3 convolutions of 64, 128, 256, 512, 512 channels, 2x2 stride-2 max
 * pools (Caffe's ceil rounding) pool1..pool4 after the first four blocks
 * and pool5 after the last when `pool5`; conv1_1 pads by pad1 (FCN's 100).
 * pools[b] gets pool<b+1>'s node (-1 for none) when pools is not NULL.
 * Returns the last node. */
int cnnk_nets_caffe_vgg16(cnnk_net *n, int64_t pad1, bool pool5, int pools[5]) {
    static const int blocks[5] = {2, 2, 3, 3, 3};
    static const int64_t width[5] = {64, 128, 256, 512, 512};
    char name[32];
    int x = 0;
    for (int b = 0; b < 5; ++b) {
        if (pools) pools[b] = -1;
        for (int i = 1; i <= blocks[b]; ++i) {
            CNNK_NETS_NAME(name, "conv%d_%d", b + 1, i);
            x = cnnk_net_conv(n, name, x, width[b], 3, 1, b == 0 && i == 1 ? pad1 : 1, true);
            CNNK_NETS_NAME(name, "relu%d_%d", b + 1, i);
            x = cnnk_net_relu(n, name, x);
        }
        if (b < 4 || pool5) {
            CNNK_NETS_NAME(name, "pool%d", b + 1);
            x = cnnk_net_maxpool(n, name, x, 2, 2, 0, true);
            if (pools) pools[b] = x;
        }
    }
    return x;
}
