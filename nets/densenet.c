/* DenseNet-121/169/201 as torchvision defines them
 * (torchvision/models/densenet.py): growth rate 32, bn_size 4 (the 1x1
 * bottleneck has 128 channels), 64 initial features, no dropout,
 * batch-norm eps 1e-5, no convolution bias.
 *
 * torchvision feeds dense layer k the concat of the block input and layers
 * 1..k-1. Here that is a chain: "...denselayer<k>.cat" = concat(the
 * features layer k read, layer k's 32 new channels), which is the same
 * tensor, and lets each concat be a view of the block's final buffer. */
#include <stdio.h>

#include "nets/nets.h"

#define BN_EPS 1e-5f
#define GROWTH 32
#define BOTTLENECK (4 * GROWTH)

static int norm_relu_conv(cnnk_net *n, const char *path, const char *suffix, int in,
                          int64_t oc, int64_t k) {
    char name[96];
    CNNK_NETS_NAME(name, "%s.norm%s", path, suffix);
    int x = cnnk_net_bnorm(n, name, in, BN_EPS);
    CNNK_NETS_NAME(name, "%s.relu%s", path, suffix);
    x = cnnk_net_relu(n, name, x);
    CNNK_NETS_NAME(name, "%s.conv%s", path, suffix);
    return cnnk_net_conv(n, name, x, oc, k, 1, k / 2, false);
}

static int dense_block(cnnk_net *n, int block, int in, int layers) {
    int x = in;
    for (int l = 1; l <= layers; ++l) {
        char path[64], name[80];
        CNNK_NETS_NAME(path, "features.denseblock%d.denselayer%d", block, l);
        int y = norm_relu_conv(n, path, "1", x, BOTTLENECK, 1);
        y = norm_relu_conv(n, path, "2", y, GROWTH, 3);
        CNNK_NETS_NAME(name, "%s.cat", path);
        x = cnnk_net_concat(n, name, 2, (const int[2]){x, y});
    }
    return x;
}

static int transition(cnnk_net *n, int block, int in) {
    char path[32], name[48];
    CNNK_NETS_NAME(path, "features.transition%d", block);
    int64_t c = (n->status == CNNK_OK && in >= 0) ? n->nodes[in].c / 2 : 1;
    int x = norm_relu_conv(n, path, "", in, c, 1);
    CNNK_NETS_NAME(name, "%s.pool", path);
    return cnnk_net_avgpool(n, name, x, 2, 2, 0, false, true);
}

static void densenet(cnnk_net *n, const int blocks[4]) {
    int x = cnnk_net_conv(n, "features.conv0", 0, 64, 7, 2, 3, false);
    x = cnnk_net_bnorm(n, "features.norm0", x, BN_EPS);
    x = cnnk_net_relu(n, "features.relu0", x);
    x = cnnk_net_maxpool(n, "features.pool0", x, 3, 2, 1, false);
    for (int b = 0; b < 4; ++b) {
        x = dense_block(n, b + 1, x, blocks[b]);
        if (b < 3) x = transition(n, b + 1, x);
    }
    x = cnnk_net_bnorm(n, "features.norm5", x, BN_EPS);
    x = cnnk_net_relu(n, "relu", x);
    x = cnnk_net_global_avgpool(n, "avgpool", x);
    cnnk_net_fc(n, "classifier", x, 1000);
}

void cnnk_nets_densenet121(cnnk_net *n) { densenet(n, (const int[4]){6, 12, 24, 16}); }
void cnnk_nets_densenet169(cnnk_net *n) { densenet(n, (const int[4]){6, 12, 32, 32}); }
void cnnk_nets_densenet201(cnnk_net *n) { densenet(n, (const int[4]){6, 12, 48, 32}); }
