/* The networks: published counts, torchvision's module names, builder
 * errors, deterministic weights, and the activation scale those weights
 * give through the deepest networks (measured with a small reference-only
 * interpreter below, independent of core/runner.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "kernels/ref/ref.h"
#include "tests/check.h"

/* ---- counts ------------------------------------------------------------- */

typedef struct published {
    const char *name;
    int64_t params; /* torchvision's parameter count */
    double gmacs;   /* 0: no published figure pinned */
} published;

/* Parameters: torchvision's model table (weights + biases + BN gamma/beta);
 * yolov1's from test_yolov1's layer list, the FCNs' from tests/test_fcn.c's
 * (at 500x500; the parameters do not depend on the input). GMACs: the figures (conv
 * + fc at each network's default input, 224x224, batch 1). */
static const published counts[] = {
    {"alexnet", 61100840, 0.714},     {"vgg11", 132863336, 0},
    {"vgg13", 133047848, 0},          {"vgg16", 138357544, 15.47},
    {"vgg19", 143667240, 0},          {"googlenet", 6624904, 1.498},
    {"resnet18", 11689512, 1.814},    {"resnet34", 21797672, 0},
    {"resnet50", 25557032, 4.089},    {"resnet101", 44549160, 0},
    {"resnet152", 60192808, 0},       {"densenet121", 7978856, 2.834},
    {"densenet169", 14149480, 0},     {"densenet201", 20013928, 0},
    {"yolov1", 271703550, 0},         {"fcn32s", 136152917, 0},
    {"fcn16s", 134815994, 0},         {"fcn8s", 134489759, 0},
    {"fcn_resnet50", 32957013, 0},
    {"yolov1_det", 271703550, 0},
    {"faster_rcnn_vgg16_rpn", 17102198, 0}, {"faster_rcnn_vgg16", 137078239, 0},
    /* tests/test_regions_nets.c derives these from the prototxt layer lists */
    {"spp_zf5", 77037672, 0},         {"fast_rcnn_vgg16", 134690729, 0},
    /* tests/test_rcnn.c derives it from bvlc_reference_caffenet's layers */
    {"rcnn_alexnet", 56954261, 0},
};
#define NCOUNTS ((int)(sizeof counts / sizeof counts[0]))

static cnnk_net *build(const char *name, int64_t mb, int64_t hw) {
    cnnk_net *n = NULL;
    cnnk_error err;
    if (cnnk_net_build(name, mb, hw, hw, &n, &err) != CNNK_OK) {
        fprintf(stderr, "build %s at %lld: %s\n", name, (long long)hw, err.msg);
        return NULL;
    }
    return n;
}

static void test_registry(void) {
    CHECK_EQ_I64(cnnk_net_count(), NCOUNTS);
    for (int i = 0; i < NCOUNTS; ++i) CHECK(strcmp(cnnk_net_name_at((size_t)i), counts[i].name) == 0);
    CHECK(cnnk_net_name_at((size_t)NCOUNTS) == NULL);
}

static void test_counts(void) {
    for (int i = 0; i < NCOUNTS; ++i) {
        cnnk_net *n = build(counts[i].name, 1, 0); /* 0: the network's default input */
        CHECK(n != NULL);
        if (!n) continue;
        CHECK_EQ_I64(n->h, cnnk_net_default_side(counts[i].name));
        CHECK_EQ_I64(cnnk_net_params(n), counts[i].params);
        if (counts[i].gmacs > 0) CHECK_NEAR(cnnk_net_macs(n) / 1e9, counts[i].gmacs, 0.005);
        cnnk_net_destroy(n);
    }
    /* Batch scales MACs, not parameters. */
    cnnk_net *a = build("resnet18", 1, 224), *b = build("resnet18", 3, 224);
    CHECK(a && b);
    if (a && b) {
        CHECK_EQ_I64(cnnk_net_macs(b), 3 * cnnk_net_macs(a));
        CHECK_EQ_I64(cnnk_net_params(b), cnnk_net_params(a));
    }
    cnnk_net_destroy(a);
    cnnk_net_destroy(b);
}

/* Weight layers: convolutions + FC, counted from the definitions. */
static void test_weight_layers(void) {
    static const struct { const char *name; int layers; } L[] = {
        {"alexnet", 8},      {"vgg11", 11},       {"vgg16", 16},        {"vgg19", 19},
        /* 3 stem convs + 9 inceptions x 6 convs + fc */
        {"googlenet", 58},
        /* 1 + 2*8 + 3 downsample + fc */
        {"resnet18", 21},
        /* 1 + 3*16 + 4 downsample + fc */
        {"resnet50", 54},
        /* 1 + 3*50 + 4 + fc */
        {"resnet152", 156},
        /* 1 + 2*58 + 3 transitions + classifier */
        {"densenet121", 121},
        {"densenet201", 201},
        /* the paper's 24 convolutions + 2 FC */
        {"yolov1", 26},
        /* VGG-16's 13 + fc6, fc7, score_fr + the upscores and score_pools */
        {"fcn32s", 17},
        {"fcn16s", 19},
        {"fcn8s", 21},
        /* resnet50's 53 convolutions (no fc) + the head's 3x3 and 1x1 */
        {"fcn_resnet50", 55},
    };
    for (size_t i = 0; i < sizeof L / sizeof L[0]; ++i) {
        cnnk_net *n = build(L[i].name, 1, 224);
        CHECK(n != NULL);
        if (n) CHECK_EQ_I64(cnnk_net_weight_layers(n), L[i].layers);
        cnnk_net_destroy(n);
    }
}

/* YOLOv1 from the paper's Figure 3, written out here as the layer list
 * (kernel, filters, stride) with its four 2x2 max pools, independently of
 * nets/yolo.c: parameters (weights + biases, "same" padding), MACs at
 * 448x448, and the 7x7x30 = 1470 outputs. */
/* faster_rcnn_vgg16_rpn from the prototxt's layer list, written out here:
 * VGG-16's 13 3x3 convolutions (64 64 | 128 128 | 256 x3 | 512 x3 | 512 x3),
 * rpn_conv/3x3 512, the 1x1 rpn_cls_score 18 and rpn_bbox_pred 36, all with
 * biases; at 600x1000 conv5_3 is 38x63 (Caffe's ceil pools), so the
 * proposal node sees 38 x 63 x 9 anchors and writes 300 rows of 5. */
static void test_faster_rcnn_rpn(void) {
    static const int64_t oc[13] = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
    int64_t ic = 3, params = 0;
    for (int i = 0; i < 13; ++i) params += oc[i] * ic * 9 + oc[i], ic = oc[i];
    params += 512 * 512 * 9 + 512 + 18 * 512 + 18 + 36 * 512 + 36;
    cnnk_net *n = NULL;
    cnnk_error e;
    CHECK(cnnk_net_build("faster_rcnn_vgg16_rpn", 1, 600, 1000, &n, &e) == CNNK_OK);
    if (!n) return;
    CHECK_EQ_I64(cnnk_net_params(n), params);
    CHECK_EQ_I64(params, 14714688 + 2359808 + 9234 + 18468); /* torchvision's vgg16.features + RPN */
    const cnnk_node *p = &n->nodes[n->n - 1];
    CHECK(p->op == CNNK_NODE_DETECT && p->desc.u.detect.alg == CNNK_DETECT_RPN);
    CHECK(p->c == 5 && p->h == 1 && p->w == 300);
    CHECK(p->desc.u.detect.h == 38 && p->desc.u.detect.w == 63);
    CHECK(p->desc.u.detect.pre_nms == 6000 && p->desc.u.detect.nms == 0.7f &&
          p->desc.u.detect.min_size == 16.0f && p->desc.u.detect.feat_stride == 16);
    cnnk_net_destroy(n);
    /* The whole network adds the head: fc6 (a 7x7 convolution over each
     * 7x7x512 region), fc7, cls_score 21 and bbox_pred 84, with biases. */
    const int64_t head = 4096 * 512 * 49 + 4096 + 4096 * 4096 + 4096 + 21 * 4096 + 21 +
                         84 * 4096 + 84;
    CHECK(cnnk_net_build("faster_rcnn_vgg16", 1, 600, 1000, &n, &e) == CNNK_OK);
    if (!n) return;
    CHECK_EQ_I64(cnnk_net_params(n), params + head);
    const cnnk_node *d = &n->nodes[n->n - 1];
    CHECK(d->op == CNNK_NODE_DETECT && d->desc.u.detect.alg == CNNK_DETECT_FRCNN);
    CHECK(d->c == 6 && d->w == 100 && d->desc.u.detect.nms == 0.3f &&
          d->desc.u.detect.thresh == 0.05f);
    CHECK(n->nodes[d->inputs[2]].op == CNNK_NODE_DETECT); /* the rois are the proposals */
    cnnk_net_destroy(n);
}

static void test_yolov1(void) {
    static const struct { int k, oc, s, pool; } L[24] = {
        {7, 64, 2, 1},    {3, 192, 1, 1},   {1, 128, 1, 0},   {3, 256, 1, 0},
        {1, 256, 1, 0},   {3, 512, 1, 1},   {1, 256, 1, 0},   {3, 512, 1, 0},
        {1, 256, 1, 0},   {3, 512, 1, 0},   {1, 256, 1, 0},   {3, 512, 1, 0},
        {1, 256, 1, 0},   {3, 512, 1, 0},   {1, 512, 1, 0},   {3, 1024, 1, 1},
        {1, 512, 1, 0},   {3, 1024, 1, 0},  {1, 512, 1, 0},   {3, 1024, 1, 0},
        {3, 1024, 1, 0},  {3, 1024, 2, 0},  {3, 1024, 1, 0},  {3, 1024, 1, 0},
    };
    int64_t ic = 3, side = 448, params = 0, macs = 0;
    for (int i = 0; i < 24; ++i) {
        side = (side + 2 * (L[i].k / 2) - L[i].k) / L[i].s + 1;
        const int64_t w = (int64_t)L[i].oc * ic * L[i].k * L[i].k;
        params += w + L[i].oc;
        macs += w * side * side;
        if (L[i].pool) side /= 2;
        ic = L[i].oc;
    }
    CHECK_EQ_I64(side, 7);
    const int64_t flat = side * side * ic, out = 7 * 7 * (2 * 5 + 20);
    params += flat * 4096 + 4096 + 4096 * out + out;
    macs += flat * 4096 + 4096 * out;
    cnnk_net *n = build("yolov1", 1, 448);
    CHECK(n != NULL);
    if (!n) return;
    CHECK_EQ_I64(cnnk_net_params(n), params);
    CHECK_EQ_I64(cnnk_net_macs(n), macs);
    const cnnk_node *last = &n->nodes[n->n - 1];
    CHECK(last->op == CNNK_NODE_FC && last->c * last->h * last->w == 1470);
    /* yolov1_det: the same network, its decoding adds no parameters; 98
     * rows (S*S*B boxes, each at most once) of 6. */
    cnnk_net *det = build("yolov1_det", 1, 448);
    CHECK(det != NULL);
    if (det) {
        CHECK_EQ_I64(cnnk_net_params(det), params);
        CHECK_EQ_I64(cnnk_net_macs(det), macs);
        CHECK_EQ_I64(det->n, n->n + 1);
        const cnnk_node *d = &det->nodes[det->n - 1];
        CHECK(d->op == CNNK_NODE_DETECT && d->c == 6 && d->h == 1 && d->w == 98);
        CHECK(d->inputs[0] == det->n - 2);
        CHECK(d->desc.u.detect.thresh == 0.2f && d->desc.u.detect.nms == 0.5f);
        cnnk_net_destroy(det);
    }
    /* leaky 0.1 after every layer but the last (linear), no batch-norm */
    int leaky = 0;
    for (int i = 0; i < n->n; ++i) {
        const cnnk_node *x = &n->nodes[i];
        CHECK(x->op != CNNK_NODE_BNORM && x->op != CNNK_NODE_RELU);
        if (x->op == CNNK_NODE_CONV || x->op == CNNK_NODE_FC) CHECK(x->has_bias);
        if (x->op != CNNK_NODE_LEAKY_RELU) continue;
        ++leaky;
        CHECK(x->desc.u.eltwise.alpha == 0.1f);
    }
    CHECK_EQ_I64(leaky, 25);
    cnnk_net_destroy(n);
}

/* ---- names and shapes ------------------------------------------------------ */

static const cnnk_node *lookup(const cnnk_net *n, const char *name) {
    for (int i = 0; i < n->n; ++i)
        if (strcmp(n->nodes[i].name, name) == 0) return &n->nodes[i];
    return NULL;
}

static const cnnk_node *find(const cnnk_net *n, const char *name) {
    const cnnk_node *x = lookup(n, name);
    if (!x) fprintf(stderr, "%s: no node '%s'\n", n->name, name);
    return x;
}

static void check_conv(const cnnk_net *net, const char *name, int64_t ic, int64_t oc, int64_t k,
                       int64_t s, int64_t oh) {
    const cnnk_node *x = find(net, name);
    CHECK(x != NULL);
    if (!x) return;
    const cnnk_conv_desc *d = &x->desc.u.conv;
    CHECK(x->op == CNNK_NODE_CONV);
    CHECK_EQ_I64(d->ic, ic);
    CHECK_EQ_I64(d->oc, oc);
    CHECK_EQ_I64(d->kh, k);
    CHECK_EQ_I64(d->sh, s);
    CHECK_EQ_I64(d->oh, oh);
    CHECK(strcmp(d->name, name) == 0);
}

/* fcn_resnet50 written out from torchvision 0.14's resnet.py and fcn.py,
 * independently of nets/: ResNet-50's stages (planes, blocks) at output
 * stride 8 (layer3 and layer4 dilated: their stride-2 becomes stride 1),
 * every 3x3 padded by its dilation so each stage keeps its size, the FCN
 * head, and the bilinear resize back to the input. Parameters (weights, BN
 * gamma and beta, the last conv's bias) and MACs at 520x520; then the
 * dilations (the first block of a dilated stage at the previous one). */
static void test_fcn_resnet50(void) {
    static const struct { int64_t planes, blocks, stride; } L[4] = {
        {64, 3, 1}, {128, 4, 2}, {256, 6, 1}, {512, 3, 1}};
    int64_t side = 260, ic = 64; /* conv1: 7x7/2 on 520 */
    int64_t params = 3 * 64 * 49 + 2 * 64, macs = 3 * 64 * 49 * side * side;
    side = 130; /* maxpool 3x3/2 pad 1 */
    for (int l = 0; l < 4; ++l) {
        const int64_t w = L[l].planes, out = 4 * w;
        const int64_t in_side = side;
        side = (side - 1) / L[l].stride + 1;
        for (int64_t b = 0; b < L[l].blocks; ++b) {
            params += ic * w + 9 * w * w + w * out + 2 * (w + w + out);
            /* conv1 at the block's input size; conv2 (the stride) and conv3 after */
            macs += ic * w * (b == 0 ? in_side * in_side : side * side);
            macs += (9 * w * w + w * out) * side * side;
            if (b == 0) params += ic * out + 2 * out, macs += ic * out * side * side;
            ic = out;
        }
    }
    CHECK_EQ_I64(side, 65);
    params += 2048 * 512 * 9 + 2 * 512 + 512 * 21 + 21;
    macs += (2048 * 512 * 9 + 512 * 21) * side * side;
    CHECK_EQ_I64(params, 32957013);
    cnnk_net *n = build("fcn_resnet50", 1, 520);
    CHECK(n != NULL);
    if (!n) return;
    CHECK_EQ_I64(cnnk_net_params(n), params);
    CHECK_EQ_I64(cnnk_net_macs(n), macs);
    static const struct { const char *name; int64_t s, d, oh; } C[] = {
        {"backbone.layer2.0.conv2", 2, 1, 65},    {"backbone.layer2.0.downsample.0", 2, 1, 65},
        {"backbone.layer3.0.conv2", 1, 1, 65},    {"backbone.layer3.0.downsample.0", 1, 1, 65},
        {"backbone.layer3.1.conv2", 1, 2, 65},    {"backbone.layer3.5.conv2", 1, 2, 65},
        {"backbone.layer4.0.conv2", 1, 2, 65},    {"backbone.layer4.0.downsample.0", 1, 1, 65},
        {"backbone.layer4.1.conv2", 1, 4, 65},    {"backbone.layer4.2.conv2", 1, 4, 65},
        {"classifier.0", 1, 1, 65},               {"classifier.4", 1, 1, 65},
    };
    for (size_t i = 0; i < sizeof C / sizeof C[0]; ++i) {
        const cnnk_node *x = find(n, C[i].name);
        CHECK(x && x->op == CNNK_NODE_CONV);
        if (!x || x->op != CNNK_NODE_CONV) continue;
        const cnnk_conv_desc *d = &x->desc.u.conv;
        CHECK_EQ_I64(d->sh, C[i].s);
        CHECK_EQ_I64(d->dh, C[i].d);
        CHECK_EQ_I64(d->dw, C[i].d);
        CHECK_EQ_I64(d->pt, d->kh == 3 ? C[i].d : 0);
        CHECK_EQ_I64(d->oh, C[i].oh);
    }
    const cnnk_node *last = &n->nodes[n->n - 1];
    CHECK(last->op == CNNK_NODE_RESIZE && strcmp(last->name, "interpolate") == 0);
    CHECK(last->c == 21 && last->h == 520 && last->w == 520);
    CHECK(!last->desc.u.resize.align_corners);
    CHECK_EQ_I64(cnnk_net_output_rank(n), 4);
    cnnk_net_destroy(n);
}

static void test_names(void) {
    cnnk_net *n = build("resnet50", 1, 224);
    if (n) {
        /* v1.5: the stride sits on conv2 of the first bottleneck of layer2 */
        check_conv(n, "layer1.0.conv2", 64, 64, 3, 1, 56);
        check_conv(n, "layer2.0.conv1", 256, 128, 1, 1, 56);
        check_conv(n, "layer2.0.conv2", 128, 128, 3, 2, 28);
        check_conv(n, "layer2.0.downsample.0", 256, 512, 1, 2, 28);
        const cnnk_node *fc = find(n, "fc");
        CHECK(fc && fc->op == CNNK_NODE_FC && fc->desc.u.fc.ic == 2048 && fc->desc.u.fc.ih == 1);
        CHECK(lookup(n, "layer1.1.downsample.0") == NULL); /* identity shortcut */
    }
    cnnk_net_destroy(n);

    n = build("googlenet", 1, 224);
    if (n) {
        check_conv(n, "inception3a.branch2.1.conv", 96, 128, 3, 1, 28);
        /* torchvision's branch3 is 3x3 where the paper has 5x5 */
        check_conv(n, "inception3a.branch3.1.conv", 16, 32, 3, 1, 28);
        const cnnk_node *cat = find(n, "inception3a");
        CHECK(cat && cat->op == CNNK_NODE_CONCAT && cat->c == 256 && cat->ninputs == 4);
        /* ceil_mode: 112 -> 56 (floor would give 55) */
        const cnnk_node *mp = find(n, "maxpool1");
        CHECK(mp && mp->h == 56);
        const cnnk_node *bn = find(n, "conv1.bn");
        CHECK(bn && bn->desc.u.bnorm.eps == 1e-3f);
    }
    cnnk_net_destroy(n);

    n = build("densenet121", 1, 224);
    if (n) {
        check_conv(n, "features.denseblock1.denselayer1.conv1", 64, 128, 1, 1, 56);
        check_conv(n, "features.denseblock1.denselayer2.conv1", 96, 128, 1, 1, 56);
        check_conv(n, "features.denseblock1.denselayer6.conv2", 128, 32, 3, 1, 56);
        check_conv(n, "features.transition1.conv", 256, 128, 1, 1, 56);
        check_conv(n, "features.denseblock4.denselayer16.conv2", 128, 32, 3, 1, 7);
        const cnnk_node *cls = find(n, "classifier");
        CHECK(cls && cls->desc.u.fc.ic == 1024);
    }
    cnnk_net_destroy(n);

    n = build("alexnet", 1, 224);
    if (n) {
        check_conv(n, "features.0", 3, 64, 11, 4, 55);
        const cnnk_node *fc = find(n, "classifier.1");
        /* AdaptiveAvgPool2d((6,6)) is identity at 224: the FC flattens 256x6x6 */
        CHECK(fc && fc->desc.u.fc.ic == 256 && fc->desc.u.fc.ih == 6 && fc->desc.u.fc.iw == 6);
        CHECK(lookup(n, "avgpool") == NULL);
        const cnnk_node *last = &n->nodes[n->n - 1];
        CHECK(strcmp(last->name, "classifier.6") == 0 && last->c == 1000);
    }
    cnnk_net_destroy(n);

    n = build("vgg16", 1, 224);
    if (n) check_conv(n, "features.28", 512, 512, 3, 1, 14);
    cnnk_net_destroy(n);

    /* At 448 the adaptive pool is a real 2x2 average pool. */
    cnnk_error err;
    n = (cnnk_net *)1;
    /* 448 -> features 13x13: not a multiple of 6 */
    CHECK(cnnk_net_build("alexnet", 1, 448, 448, &n, &err) == CNNK_EINVAL && n == NULL);
    CHECK(strstr(err.msg, "avgpool") && strstr(err.msg, "13x13"));
    n = build("vgg11", 1, 448);
    if (n) {
        const cnnk_node *ap = find(n, "avgpool");
        CHECK(ap && ap->op == CNNK_NODE_POOL && ap->desc.u.pool.kh == 2 && ap->h == 7);
        CHECK_EQ_I64(cnnk_net_params(n), 132863336);
    }
    CHECK(n != NULL);
    cnnk_net_destroy(n);
}

/* ---- errors --------------------------------------------------------------- */

static void test_errors(void) {
    cnnk_net *n = (cnnk_net *)1;
    cnnk_error err = {{0}};
    /* 16 -> conv 11/4 p2: (16+4-11)/4+1 = 3 -> maxpool 3/2: 1 -> conv 5 p2: 1
     * -> features.5, a 3x3 max pool, cannot take a 1x1 input. */
    CHECK(cnnk_net_build("alexnet", 1, 16, 16, &n, &err) == CNNK_EINVAL);
    CHECK(n == NULL);
    CHECK(strstr(err.msg, "features.5") != NULL);

    CHECK(cnnk_net_build("vgg16", 1, 100, 100, &n, &err) == CNNK_EINVAL);
    CHECK(strstr(err.msg, "avgpool") != NULL && strstr(err.msg, "3x3") != NULL);

    CHECK(cnnk_net_build("resnet18", 0, 224, 224, &n, &err) == CNNK_EINVAL);
    /* 2^20 images: features.0's output exceeds CNNK_MAX_ELEMS */
    CHECK(cnnk_net_build("vgg16", (int64_t)1 << 20, 224, 224, &n, &err) == CNNK_EOVERFLOW);
    CHECK(strstr(err.msg, "features.0") != NULL);

    CHECK(cnnk_net_build("resnet", 1, 224, 224, &n, &err) == CNNK_EINVAL);
    CHECK(strstr(err.msg, "unknown network 'resnet'") != NULL);
    for (int i = 0; i < NCOUNTS; ++i) CHECK(strstr(err.msg, counts[i].name) != NULL);

    /* Builder: shape mismatches and stickiness. */
    cnnk_net *b = cnnk_net_create("t", 1, 2, 8, 8);
    CHECK(b != NULL);
    if (!b) return;
    int x = cnnk_net_conv(b, "a", 0, 4, 3, 1, 1, true);
    int y = cnnk_net_conv(b, "b", 0, 4, 3, 2, 1, true); /* 4x4 */
    CHECK(x == 1 && y == 2);
    CHECK(cnnk_net_add(b, "sum", x, 0) == -1); /* 4 vs 2 channels */
    CHECK(cnnk_net_status(b, &err) == CNNK_EINVAL && strstr(err.msg, "sum") != NULL);
    CHECK(cnnk_net_relu(b, "later", x) == -1); /* sticky */
    CHECK(strstr(b->err.msg, "sum") != NULL);
    CHECK_EQ_I64(b->n, 3);
    cnnk_net_destroy(b);

    b = cnnk_net_create("t", 1, 2, 8, 8);
    x = cnnk_net_conv(b, "a", 0, 4, 3, 1, 1, true);
    y = cnnk_net_conv(b, "b", 0, 4, 3, 2, 1, true);
    CHECK(cnnk_net_concat(b, "cat", 2, (const int[2]){x, y}) == -1);
    CHECK(strstr(b->err.msg, "cat") != NULL && strstr(b->err.msg, "8x8") != NULL);
    cnnk_net_destroy(b);

    b = cnnk_net_create("t", 1, 2, 8, 8);
    CHECK(cnnk_net_relu(b, "r", 5) == -1); /* no such node */
    cnnk_net_destroy(b);
}

/* ---- liveness ------------------------------------------------------------------- */

/* input 2x4x4 (128 B); a = conv(input) 4x4x4 (256 B); b = conv(input)
 * (256 B); cat(a, b) 8 ch (512 B) holds a and b; relu(cat) 512 B.
 * Live: t1 input+cat = 640, t2 640, t3 cat = 512, t4 cat+relu = 1024. */
static void test_peak_activation(void) {
    cnnk_net *n = cnnk_net_create("t", 1, 2, 4, 4);
    int a = cnnk_net_conv(n, "a", 0, 4, 3, 1, 1, false);
    int b = cnnk_net_conv(n, "b", 0, 4, 3, 1, 1, false);
    int c = cnnk_net_concat(n, "cat", 2, (const int[2]){a, b});
    cnnk_net_relu(n, "r", c);
    CHECK(cnnk_net_status(n, NULL) == CNNK_OK);
    CHECK_EQ_I64(cnnk_net_peak_activation_bytes(n), 1024);
    cnnk_net_destroy(n);

    /* A chain: the peak is two neighbours at a time, the largest pair. */
    n = cnnk_net_create("t", 2, 1, 8, 8);             /* 512 B */
    int x = cnnk_net_conv(n, "c1", 0, 8, 3, 1, 1, false); /* 4096 B */
    x = cnnk_net_conv(n, "c2", x, 2, 3, 1, 1, false);     /* 1024 B */
    cnnk_net_relu(n, "r", x);                             /* 1024 B */
    CHECK_EQ_I64(cnnk_net_peak_activation_bytes(n), 4096 + 1024);
    cnnk_net_destroy(n);
}

/* ---- weights ------------------------------------------------------------------ */

static bool same_params(const cnnk_net *a, const cnnk_net *b) {
    for (int i = 0; i < a->n; ++i) {
        const cnnk_node *x = &a->nodes[i], *y = &b->nodes[i];
        int64_t nw = x->op == CNNK_NODE_CONV ? cnnk_conv_weights(&x->desc.u.conv)
                     : x->op == CNNK_NODE_FC ? cnnk_fc_weights(&x->desc.u.fc)
                                             : 0;
        if (nw && memcmp(x->weights, y->weights, (size_t)nw * sizeof(float))) return false;
        if (x->bias && memcmp(x->bias, y->bias, (size_t)x->c * sizeof(float))) return false;
        for (int j = 0; j < 4 && x->op == CNNK_NODE_BNORM; ++j)
            if (memcmp(x->bn[j], y->bn[j], (size_t)x->c * sizeof(float))) return false;
    }
    return true;
}

static void test_weights(void) {
    cnnk_net *a = build("resnet18", 1, 32), *b = build("resnet18", 1, 32);
    CHECK(a && b);
    if (!a || !b) goto out;
    CHECK(a->nodes[1].weights == NULL);
    CHECK(cnnk_net_init_weights(a, 42, NULL) == CNNK_OK);
    CHECK(cnnk_net_init_weights(b, 42, NULL) == CNNK_OK);
    CHECK(same_params(a, b));
    CHECK(cnnk_net_init_weights(b, 43, NULL) == CNNK_OK); /* re-init frees the old arrays */
    CHECK(!same_params(a, b));

    /* He: variance 2/fan_in. layer4.0.conv2: 512*512*9 weights, fan_in 4608;
     * the sample variance of 2.4M uniforms is within 1% of 2/4608. */
    const cnnk_node *c = find(a, "layer4.0.conv2");
    if (c) {
        int64_t nw = cnnk_conv_weights(&c->desc.u.conv);
        double s2 = 0;
        for (int64_t i = 0; i < nw; ++i) s2 += (double)c->weights[i] * c->weights[i];
        CHECK_NEAR(s2 / (double)nw / (2.0 / 4608), 1.0, 0.01);
        CHECK(c->bias == NULL && !c->has_bias);
    }
    /* BN: folded scale gamma/sqrt(var+eps) in [0.8, 1.2], divided by
     * sqrt(8) (resnet18 has 8 adds) where the BN ends a residual branch. */
    const cnnk_node *bn1 = find(a, "layer1.0.bn1"), *bn2 = find(a, "layer1.0.bn2");
    const cnnk_node *ds = find(a, "layer2.0.downsample.1");
    CHECK(bn1 && bn2 && ds);
    if (bn1 && bn2 && ds) {
        for (int64_t k = 0; k < 64; ++k) {
            float s1 = bn1->bn[2][k] / sqrtf(bn1->bn[1][k] + 1e-5f);
            float s2 = bn2->bn[2][k] / sqrtf(bn2->bn[1][k] + 1e-5f) * sqrtf(8.0f);
            float s3 = ds->bn[2][k] / sqrtf(ds->bn[1][k] + 1e-5f);
            CHECK(s1 >= 0.799f && s1 <= 1.201f);
            CHECK(s2 >= 0.799f && s2 <= 1.201f);
            CHECK(s3 >= 0.799f && s3 <= 1.201f);
            CHECK(bn1->bn[1][k] >= 0.5f && bn1->bn[1][k] < 1.5f);
        }
    }
out:
    cnnk_net_destroy(a);
    cnnk_net_destroy(b);
}

/* ---- activation scale: a reference-only interpreter ------------------------ */

/* Runs node by node with the scalar reference, every output in its own
 * contiguous buffer (pitch = channels). Fine for small inputs. Returns the
 * RMS of every node's output in rms[], false when out of memory. */
static bool ref_forward(const cnnk_net *n, const float *input, double *rms) {
    float **out = calloc((size_t)n->n, sizeof *out);
    bool ok = out != NULL;
    for (int i = 0; ok && i < n->n; ++i) {
        const cnnk_node *x = &n->nodes[i];
        int64_t count = n->mb * x->c * x->h * x->w;
        ok = (out[i] = malloc((size_t)count * sizeof(float))) != NULL;
        if (!ok) break;
        const float *s = x->ninputs ? out[x->inputs[0]] : NULL;
        int64_t sld = x->ninputs ? n->nodes[x->inputs[0]].c : 0;
        const cnnk_layer_desc *d = &x->desc;
        switch (x->op) {
        case CNNK_NODE_INPUT: memcpy(out[i], input, (size_t)count * sizeof(float)); break;
        case CNNK_NODE_CONV: {
            cnnk_epilogue ep = {.bias = x->bias};
            cnnk_ref_conv(&d->u.conv, s, sld, x->weights, out[i], x->c, &ep);
            break;
        }
        case CNNK_NODE_BNORM:
            cnnk_ref_bnorm(&d->u.bnorm, s, sld, x->bn[0], x->bn[1], x->bn[2], x->bn[3], out[i],
                           x->c);
            break;
        case CNNK_NODE_RELU:
        case CNNK_NODE_LEAKY_RELU:
        case CNNK_NODE_DROPOUT:
            cnnk_ref_eltwise(&d->u.eltwise, s, sld, NULL, 0, out[i], x->c);
            break;
        case CNNK_NODE_ADD:
            cnnk_ref_eltwise(&d->u.eltwise, s, sld, out[x->inputs[1]], x->c, out[i], x->c);
            break;
        case CNNK_NODE_POOL: cnnk_ref_pool(&d->u.pool, s, sld, out[i], x->c); break;
        case CNNK_NODE_LRN: cnnk_ref_lrn(&d->u.lrn, s, sld, out[i], x->c); break;
        case CNNK_NODE_FC:
            cnnk_ref_fc(&d->u.fc, s, x->weights, x->bias, out[i], false, 0.0f);
            break;
        case CNNK_NODE_SOFTMAX: cnnk_ref_softmax(&d->u.softmax, s, sld, out[i], x->c); break;
        case CNNK_NODE_RESIZE: cnnk_ref_resize(&d->u.resize, s, sld, out[i], x->c); break;
        case CNNK_NODE_CONCAT: {
            const float *src[CNNK_CONCAT_MAX_INPUTS];
            int64_t ld[CNNK_CONCAT_MAX_INPUTS];
            for (int j = 0; j < x->ninputs; ++j) {
                src[j] = out[x->inputs[j]];
                ld[j] = n->nodes[x->inputs[j]].c;
            }
            cnnk_ref_concat(&d->u.concat, src, ld, out[i], x->c);
            break;
        }
        default: ok = false;
        }
        double s2 = 0;
        for (int64_t k = 0; k < count; ++k) s2 += (double)out[i][k] * out[i][k];
        rms[i] = sqrt(s2 / (double)count);
    }
    for (int i = 0; out && i < n->n; ++i) free(out[i]);
    free(out);
    return ok;
}

/* Every node's output RMS, logits included, within [1e-2, 1e2] for input
 * U(-1, 1) (RMS 0.577): order one, however deep. */
static void check_scale(const char *name, int64_t hw) {
    cnnk_net *n = build(name, 1, hw);
    CHECK(n != NULL);
    if (!n) return;
    CHECK(cnnk_net_init_weights(n, 1, NULL) == CNNK_OK);
    int64_t count = n->c * n->h * n->w;
    float *in = malloc((size_t)count * sizeof(float));
    double *rms = malloc((size_t)n->n * sizeof(double));
    CHECK(in && rms);
    if (in && rms) {
        uint64_t s = 12345;
        for (int64_t i = 0; i < count; ++i) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            in[i] = (float)((double)(s >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
        }
        CHECK(ref_forward(n, in, rms));
        double lo = INFINITY, hi = 0;
        for (int i = 1; i < n->n; ++i) lo = fmin(lo, rms[i]), hi = fmax(hi, rms[i]);
        printf("%-12s %3lldx%-3lld activation RMS min %.3g max %.3g, logits %.3g\n", name,
               (long long)hw, (long long)hw, lo, hi, rms[n->n - 1]);
        CHECK(lo >= 1e-2 && hi <= 1e2);
    }
    free(in);
    free(rms);
    cnnk_net_destroy(n);
}

/* The deepest networks at reduced size, so the test takes seconds (the
 * scalar reference is slow, the more so under sanitizers); `test_nets
 * --scale HxW` measures every network at any size (docs/NETWORKS.md). */
static void test_activation_scale(void) {
    check_scale("resnet152", 32);
    check_scale("densenet201", 32);
    check_scale("googlenet", 64);
    check_scale("resnet18", 64);
    check_scale("yolov1", 64);
    check_scale("fcn_resnet50", 32);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--scale") == 0) {
        long long hw = atoll(argv[2]);
        for (size_t i = 0; i < cnnk_net_count(); ++i) check_scale(cnnk_net_name_at(i), hw);
        return check_finish("test_nets --scale");
    }
    test_registry();
    test_counts();
    test_weight_layers();
    test_yolov1();
    test_fcn_resnet50();
    test_faster_rcnn_rpn();
    test_names();
    test_errors();
    test_peak_activation();
    test_weights();
    test_activation_scale();
    return check_finish("test_nets");
}
