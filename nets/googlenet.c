/* GoogLeNet (Inception v1) as torchvision defines it
 * (torchvision/models/googlenet.py) in inference mode: no auxiliary heads,
 * transform_input=False, dropout as identity. BasicConv2d is a convolution
 * without bias, batch-norm with eps 1e-3 and a ReLU; every max pool rounds
 * up (ceil_mode=True); branch3 uses a 3x3 convolution where the paper has
 * 5x5, as torchvision does (its published weights and counts have it). */
#include <stdio.h>

#include "nets/nets.h"

static int basic_conv(cnnk_net *n, const char *path, int in, int64_t oc, int64_t k, int64_t s,
                      int64_t p) {
    char name[CNNK_NAME_LEN + 8];
    CNNK_NETS_NAME(name, "%s.conv", path);
    int x = cnnk_net_conv(n, name, in, oc, k, s, p, false);
    CNNK_NETS_NAME(name, "%s.bn", path);
    x = cnnk_net_bnorm(n, name, x, 1e-3f);
    CNNK_NETS_NAME(name, "%s.relu", path);
    return cnnk_net_relu(n, name, x);
}

typedef struct inception_cfg {
    const char *name;
    int64_t ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj;
} inception_cfg;

static int inception(cnnk_net *n, int in, const inception_cfg *c) {
    char path[64];
    int b[4];
    CNNK_NETS_NAME(path, "%s.branch1", c->name);
    b[0] = basic_conv(n, path, in, c->ch1x1, 1, 1, 0);
    CNNK_NETS_NAME(path, "%s.branch2.0", c->name);
    b[1] = basic_conv(n, path, in, c->ch3x3red, 1, 1, 0);
    CNNK_NETS_NAME(path, "%s.branch2.1", c->name);
    b[1] = basic_conv(n, path, b[1], c->ch3x3, 3, 1, 1);
    CNNK_NETS_NAME(path, "%s.branch3.0", c->name);
    b[2] = basic_conv(n, path, in, c->ch5x5red, 1, 1, 0);
    CNNK_NETS_NAME(path, "%s.branch3.1", c->name);
    b[2] = basic_conv(n, path, b[2], c->ch5x5, 3, 1, 1);
    CNNK_NETS_NAME(path, "%s.branch4.0", c->name);
    b[3] = cnnk_net_maxpool(n, path, in, 3, 1, 1, true);
    CNNK_NETS_NAME(path, "%s.branch4.1", c->name);
    b[3] = basic_conv(n, path, b[3], c->pool_proj, 1, 1, 0);
    return cnnk_net_concat(n, c->name, 4, b);
}

static int inceptions(cnnk_net *n, int x, const inception_cfg *c, int count) {
    for (int i = 0; i < count; ++i) x = inception(n, x, &c[i]);
    return x;
}

void cnnk_nets_googlenet(cnnk_net *n) {
    static const inception_cfg stage3[] = {
        {"inception3a", 64, 96, 128, 16, 32, 32},
        {"inception3b", 128, 128, 192, 32, 96, 64},
    };
    static const inception_cfg stage4[] = {
        {"inception4a", 192, 96, 208, 16, 48, 64},
        {"inception4b", 160, 112, 224, 24, 64, 64},
        {"inception4c", 128, 128, 256, 24, 64, 64},
        {"inception4d", 112, 144, 288, 32, 64, 64},
        {"inception4e", 256, 160, 320, 32, 128, 128},
    };
    static const inception_cfg stage5[] = {
        {"inception5a", 256, 160, 320, 32, 128, 128},
        {"inception5b", 384, 192, 384, 48, 128, 128},
    };
    int x = basic_conv(n, "conv1", 0, 64, 7, 2, 3);
    x = cnnk_net_maxpool(n, "maxpool1", x, 3, 2, 0, true);
    x = basic_conv(n, "conv2", x, 64, 1, 1, 0);
    x = basic_conv(n, "conv3", x, 192, 3, 1, 1);
    x = cnnk_net_maxpool(n, "maxpool2", x, 3, 2, 0, true);
    x = inceptions(n, x, stage3, 2);
    x = cnnk_net_maxpool(n, "maxpool3", x, 3, 2, 0, true);
    x = inceptions(n, x, stage4, 5);
    x = cnnk_net_maxpool(n, "maxpool4", x, 2, 2, 0, true);
    x = inceptions(n, x, stage5, 2);
    x = cnnk_net_global_avgpool(n, "avgpool", x);
    x = cnnk_net_dropout(n, "dropout", x);
    cnnk_net_fc(n, "fc", x, 1000);
}
