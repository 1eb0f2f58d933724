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
