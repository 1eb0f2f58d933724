/* FCN-32s, FCN-16s and FCN-8s (Long, Shelhamer, Darrell, "Fully
 * Convolutional Networks for Semantic Segmentation", CVPR 2015), as the
 * released PASCAL VOC models define them: shelhamer/fcn.berkeleyvision.org,
 * voc-fcn32s/net.py, voc-fcn16s/net.py, voc-fcn8s/net.py (the staged
 * models; voc-fcn8s-atonce, which scales pool4 by 0.01 and pool3 by 1e-4
 * before its score layers, is not this one).
 *
 * The trunk is VGG-16 with Caffe's layers: conv1_1 padded by 100 (so any
 * input down to one pixel survives the five pools and the 7x7 fc6), 2x2
 * stride-2 max pools rounding up (Caffe's only mode), fc6 a 7x7 convolution
 * to 4096 without padding, fc7 a 1x1 convolution to 4096, each with ReLU and
 * dropout (the identity here), score_fr a 1x1 convolution to 21 classes.
 * The upsampling layers are transposed convolutions without bias and
 * groups 1; Caffe's Crop takes the window at (offset, offset) of the size
 * of its second bottom. The offsets are coord_map's for these layers (the
 * prototxts' values): 5 (score_pool4c), 9 (score_pool3c) and 19, 27, 31
 * for the final crops of fcn32s, fcn16s, fcn8s.
 *
 * Node names are the Caffe layer names; a ReLU or dropout in place gets
 * its own Caffe name (relu1_1, drop6). */
#include <stdio.h>

#include "nets/nets.h"

enum { FCN_CLASSES = 21 };

typedef struct trunk {
    int pool3, pool4, score_fr;
} trunk;

/* conv1_1 .. score_fr; the pools the skip branches read. */
static trunk vgg_trunk(cnnk_net *n) {
    int pools[5];
    int x = cnnk_nets_caffe_vgg16(n, 100, true, pools);
    trunk t = {pools[2], pools[3], -1};
    x = cnnk_net_conv(n, "fc6", x, 4096, 7, 1, 0, true);
    x = cnnk_net_relu(n, "relu6", x);
    x = cnnk_net_dropout(n, "drop6", x);
    x = cnnk_net_conv(n, "fc7", x, 4096, 1, 1, 0, true);
    x = cnnk_net_relu(n, "relu7", x);
    x = cnnk_net_dropout(n, "drop7", x);
    t.score_fr = cnnk_net_conv(n, "score_fr", x, FCN_CLASSES, 1, 1, 0, true);
    return t;
}

/* score_<pool> (1x1 to the classes) cropped to up's size at `offset`, added
 * to up: one skip of the 16s / 8s nets. */
static int fuse_skip(cnnk_net *n, const char *pool, int from, int up, int64_t offset) {
    char score[32], crop[32], fuse[32];
    CNNK_NETS_NAME(score, "score_%s", pool);
    CNNK_NETS_NAME(crop, "score_%sc", pool);
    CNNK_NETS_NAME(fuse, "fuse_%s", pool);
    int s = cnnk_net_conv(n, score, from, FCN_CLASSES, 1, 1, 0, true);
    s = cnnk_net_crop(n, crop, s, up, offset);
    return cnnk_net_add(n, fuse, up, s);
}

void cnnk_nets_fcn32s(cnnk_net *n) {
    trunk t = vgg_trunk(n);
    int x = cnnk_net_deconv(n, "upscore", t.score_fr, FCN_CLASSES, 64, 32, 0, false);
    cnnk_net_crop(n, "score", x, 0, 19);
}

void cnnk_nets_fcn16s(cnnk_net *n) {
    trunk t = vgg_trunk(n);
    int x = cnnk_net_deconv(n, "upscore2", t.score_fr, FCN_CLASSES, 4, 2, 0, false);
    x = fuse_skip(n, "pool4", t.pool4, x, 5);
    x = cnnk_net_deconv(n, "upscore16", x, FCN_CLASSES, 32, 16, 0, false);
    cnnk_net_crop(n, "score", x, 0, 27);
}

void cnnk_nets_fcn8s(cnnk_net *n) {
    trunk t = vgg_trunk(n);
    int x = cnnk_net_deconv(n, "upscore2", t.score_fr, FCN_CLASSES, 4, 2, 0, false);
    x = fuse_skip(n, "pool4", t.pool4, x, 5);
    x = cnnk_net_deconv(n, "upscore_pool4", x, FCN_CLASSES, 4, 2, 0, false);
    x = fuse_skip(n, "pool3", t.pool3, x, 9);
    x = cnnk_net_deconv(n, "upscore8", x, FCN_CLASSES, 16, 8, 0, false);
    cnnk_net_crop(n, "score", x, 0, 31);
}
