/* ResNet-18/34/50/101/152 as torchvision defines them
 * (torchvision/models/resnet.py): BasicBlock for 18 and 34, Bottleneck
 * with the stride on its 3x3 convolution (ResNet v1.5) for the others,
 * projection shortcut (1x1 convolution + batch-norm) wherever the shape
 * changes, ReLU after the add, batch-norm eps 1e-5, no convolution bias.
 *
 * The residual add takes the branch first and the shortcut second
 * (cnnk_net_add(n, name, branch, shortcut)): cnnk_net_init_weights damps
 * the batch-norm that ends the branch so depth does not blow up the scale. */
#include <stdio.h>

#include "nets/nets.h"

#define BN_EPS 1e-5f

static int conv_bn(cnnk_net *n, const char *block, int idx, int in, int64_t oc, int64_t k,
                   int64_t s, bool relu) {
    char name[64];
    CNNK_NETS_NAME(name, "%s.conv%d", block, idx);
    int x = cnnk_net_conv(n, name, in, oc, k, s, k / 2, false);
    CNNK_NETS_NAME(name, "%s.bn%d", block, idx);
    x = cnnk_net_bnorm(n, name, x, BN_EPS);
    if (!relu) return x;
    CNNK_NETS_NAME(name, "%s.relu%d", block, idx);
    return cnnk_net_relu(n, name, x);
}

/* identity, or downsample.0 (1x1 conv, stride s) and downsample.1 (BN) */
static int shortcut(cnnk_net *n, const char *block, int in, int64_t oc, int64_t s) {
    if (s == 1 && n->status == CNNK_OK && in >= 0 && n->nodes[in].c == oc) return in;
    char name[64];
    CNNK_NETS_NAME(name, "%s.downsample.0", block);
    int x = cnnk_net_conv(n, name, in, oc, 1, s, 0, false);
    CNNK_NETS_NAME(name, "%s.downsample.1", block);
    return cnnk_net_bnorm(n, name, x, BN_EPS);
}

static int finish(cnnk_net *n, const char *block, int branch, int sc) {
    char name[64];
    CNNK_NETS_NAME(name, "%s.add", block);
    int x = cnnk_net_add(n, name, branch, sc);
    CNNK_NETS_NAME(name, "%s.relu", block);
    return cnnk_net_relu(n, name, x);
}

static int basic_block(cnnk_net *n, const char *block, int in, int64_t planes, int64_t s) {
    int sc = shortcut(n, block, in, planes, s);
    int x = conv_bn(n, block, 1, in, planes, 3, s, true);
    x = conv_bn(n, block, 2, x, planes, 3, 1, false);
    return finish(n, block, x, sc);
}

static int bottleneck(cnnk_net *n, const char *block, int in, int64_t planes, int64_t s) {
    int sc = shortcut(n, block, in, planes * 4, s);
    int x = conv_bn(n, block, 1, in, planes, 1, 1, true);
    x = conv_bn(n, block, 2, x, planes, 3, s, true);
    x = conv_bn(n, block, 3, x, planes * 4, 1, 1, false);
    return finish(n, block, x, sc);
}

static void resnet(cnnk_net *n, bool bottlenecks, const int blocks[4]) {
    int x = cnnk_net_conv(n, "conv1", 0, 64, 7, 2, 3, false);
    x = cnnk_net_bnorm(n, "bn1", x, BN_EPS);
    x = cnnk_net_relu(n, "relu", x);
    x = cnnk_net_maxpool(n, "maxpool", x, 3, 2, 1, false);
    for (int l = 0; l < 4; ++l) {
        int64_t planes = (int64_t)64 << l;
        for (int b = 0; b < blocks[l]; ++b) {
            char block[32];
            CNNK_NETS_NAME(block, "layer%d.%d", l + 1, b);
            int64_t s = (l > 0 && b == 0) ? 2 : 1;
            x = bottlenecks ? bottleneck(n, block, x, planes, s)
                            : basic_block(n, block, x, planes, s);
        }
    }
    x = cnnk_net_global_avgpool(n, "avgpool", x);
    cnnk_net_fc(n, "fc", x, 1000);
}

void cnnk_nets_resnet18(cnnk_net *n) { resnet(n, false, (const int[4]){2, 2, 2, 2}); }
void cnnk_nets_resnet34(cnnk_net *n) { resnet(n, false, (const int[4]){3, 4, 6, 3}); }
void cnnk_nets_resnet50(cnnk_net *n) { resnet(n, true, (const int[4]){3, 4, 6, 3}); }
void cnnk_nets_resnet101(cnnk_net *n) { resnet(n, true, (const int[4]){3, 4, 23, 3}); }
void cnnk_nets_resnet152(cnnk_net *n) { resnet(n, true, (const int[4]){3, 8, 36, 3}); }
