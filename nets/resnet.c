/* ResNet-18/34/50/101/152 as torchvision defines them
 * (torchvision/models/resnet.py): BasicBlock for 18 and 34, Bottleneck
 * with the stride on its 3x3 convolution (ResNet v1.5) for the others,
 * projection shortcut (1x1 convolution + batch-norm) wherever the shape
 * changes, ReLU after the add, batch-norm eps 1e-5, no convolution bias.
 *
 * The residual add takes the branch first and the shortcut second
 * (cnnk_net_add(n, name, branch, shortcut)): cnnk_net_init_weights damps
 * the batch-norm that ends the branch so depth does not blow up the scale.
 *
 * The trunk also takes torchvision's replace_stride_with_dilation (the
 * segmentation backbones, nets/fcn_resnet.c): a dilated stage keeps stride
 * 1 and multiplies the dilation by the stride it drops; its first block
 * (and the downsample 1x1, stride 1) still runs at the previous dilation,
 * the others at the new one, and each 3x3 pads by its dilation. */
#include <stdio.h>

#include "nets/nets.h"

#define BN_EPS 1e-5f

static int conv_bn(cnnk_net *n, const char *block, int idx, int in, int64_t oc, int64_t k,
                   int64_t s, int64_t dil, bool relu) {
    char name[96];
    CNNK_NETS_NAME(name, "%s.conv%d", block, idx);
    int x = cnnk_net_conv_ex(n, name, in, oc, k, k, s, s, k / 2 * dil, k / 2 * dil, 1, dil,
                             false);
    CNNK_NETS_NAME(name, "%s.bn%d", block, idx);
    x = cnnk_net_bnorm(n, name, x, BN_EPS);
    if (!relu) return x;
    CNNK_NETS_NAME(name, "%s.relu%d", block, idx);
    return cnnk_net_relu(n, name, x);
}

/* identity, or downsample.0 (1x1 conv, stride s) and downsample.1 (BN) */
static int shortcut(cnnk_net *n, const char *block, int in, int64_t oc, int64_t s) {
    if (s == 1 && n->status == CNNK_OK && in >= 0 && n->nodes[in].c == oc) return in;
    char name[96];
    CNNK_NETS_NAME(name, "%s.downsample.0", block);
    int x = cnnk_net_conv(n, name, in, oc, 1, s, 0, false);
    CNNK_NETS_NAME(name, "%s.downsample.1", block);
    return cnnk_net_bnorm(n, name, x, BN_EPS);
}

static int finish(cnnk_net *n, const char *block, int branch, int sc) {
    char name[96];
    CNNK_NETS_NAME(name, "%s.add", block);
    int x = cnnk_net_add(n, name, branch, sc);
    CNNK_NETS_NAME(name, "%s.relu", block);
    return cnnk_net_relu(n, name, x);
}

static int basic_block(cnnk_net *n, const char *block, int in, int64_t planes, int64_t s) {
    int sc = shortcut(n, block, in, planes, s);
    int x = conv_bn(n, block, 1, in, planes, 3, s, 1, true);
    x = conv_bn(n, block, 2, x, planes, 3, 1, 1, false);
    return finish(n, block, x, sc);
}

static int bottleneck(cnnk_net *n, const char *block, int in, int64_t planes, int64_t s,
                      int64_t dil) {
    int sc = shortcut(n, block, in, planes * 4, s);
    int x = conv_bn(n, block, 1, in, planes, 1, 1, 1, true);
    x = conv_bn(n, block, 2, x, planes, 3, s, dil, true);
    x = conv_bn(n, block, 3, x, planes * 4, 1, 1, 1, false);
    return finish(n, block, x, sc);
}

int cnnk_nets_resnet_trunk(cnnk_net *n, const char *prefix, bool bottlenecks, const int blocks[4],
                           const bool dilate[3]) {
    char name[96];
    CNNK_NETS_NAME(name, "%sconv1", prefix);
    int x = cnnk_net_conv(n, name, 0, 64, 7, 2, 3, false);
    CNNK_NETS_NAME(name, "%sbn1", prefix);
    x = cnnk_net_bnorm(n, name, x, BN_EPS);
    CNNK_NETS_NAME(name, "%srelu", prefix);
    x = cnnk_net_relu(n, name, x);
    CNNK_NETS_NAME(name, "%smaxpool", prefix);
    x = cnnk_net_maxpool(n, name, x, 3, 2, 1, false);
    int64_t dil = 1;
    for (int l = 0; l < 4; ++l) {
        int64_t planes = (int64_t)64 << l, stride = l > 0 ? 2 : 1;
        const int64_t first_dil = dil; /* torchvision's previous_dilation */
        if (l > 0 && dilate[l - 1]) dil *= stride, stride = 1;
        for (int b = 0; b < blocks[l]; ++b) {
            char block[64];
            CNNK_NETS_NAME(block, "%slayer%d.%d", prefix, l + 1, b);
            int64_t s = b == 0 ? stride : 1;
            x = bottlenecks ? bottleneck(n, block, x, planes, s, b == 0 ? first_dil : dil)
                            : basic_block(n, block, x, planes, s);
        }
    }
    return x;
}

static void resnet(cnnk_net *n, bool bottlenecks, const int blocks[4]) {
    int x = cnnk_nets_resnet_trunk(n, "", bottlenecks, blocks, (const bool[3]){false, false, false});
    x = cnnk_net_global_avgpool(n, "avgpool", x);
    cnnk_net_fc(n, "fc", x, 1000);
}

void cnnk_nets_resnet18(cnnk_net *n) { resnet(n, false, (const int[4]){2, 2, 2, 2}); }
void cnnk_nets_resnet34(cnnk_net *n) { resnet(n, false, (const int[4]){3, 4, 6, 3}); }
void cnnk_nets_resnet50(cnnk_net *n) { resnet(n, true, (const int[4]){3, 4, 6, 3}); }
void cnnk_nets_resnet101(cnnk_net *n) { resnet(n, true, (const int[4]){3, 4, 23, 3}); }
void cnnk_nets_resnet152(cnnk_net *n) { resnet(n, true, (const int[4]){3, 8, 36, 3}); }
