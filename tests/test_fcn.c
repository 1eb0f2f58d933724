/* FCN-32s/16s/8s and what they brought: the transposed-convolution node,
 * the crop node (folded into a deconvolution's padding, or copied), and
 * the tap arithmetic of kernels/common/deconv_taps.h.
 *
 * The networks' counts are derived here from the layer list of the
 * released voc-fcn*s/net.py, written out independently of nets/fcn.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "kernels/common/deconv_taps.h"
#include "tests/net_compare.h"

/* ---- the networks' counts ---------------------------------------------------- */

/* Caffe's pooling output (ceil mode, no padding): ceil((i - k) / s) + 1. */
static int64_t caffe_pool(int64_t i) {
    return (i - 2 + 1) / 2 + 1;
}

typedef struct counts {
    int64_t params, macs, layers;
    int64_t pool3, pool4, score_fr; /* sides */
} counts;

static void add_conv(counts *c, int64_t ic, int64_t oc, int64_t k, int64_t out_side, bool bias) {
    c->params += oc * ic * k * k + (bias ? oc : 0);
    c->macs += out_side * out_side * oc * ic * k * k;
    c->layers++;
}

/* Transposed: every input pixel scatters ic x oc x k x k. */
static int64_t add_deconv(counts *c, int64_t ch, int64_t k, int64_t s, int64_t in_side) {
    c->params += ch * ch * k * k;
    c->macs += in_side * in_side * ch * ch * k * k;
    c->layers++;
    return (in_side - 1) * s + k;
}

static counts vgg_trunk(int64_t side) {
    static const int64_t cfg[5][2] = {{64, 2}, {128, 2}, {256, 3}, {512, 3}, {512, 3}};
    counts c = {0};
    int64_t ic = 3;
    side = side + 2 * 100 - 2; /* conv1_1: pad 100, 3x3 */
    for (int b = 0; b < 5; ++b) {
        for (int i = 0; i < cfg[b][1]; ++i) {
            add_conv(&c, ic, cfg[b][0], 3, side, true);
            ic = cfg[b][0];
        }
        side = caffe_pool(side);
        if (b == 2) c.pool3 = side;
        if (b == 3) c.pool4 = side;
    }
    side -= 6; /* fc6: 7x7, pad 0 */
    add_conv(&c, 512, 4096, 7, side, true);
    add_conv(&c, 4096, 4096, 1, side, true);
    add_conv(&c, 4096, 21, 1, side, true);
    c.score_fr = side;
    return c;
}

static void check_net(const char *name, int64_t side, const counts *c, int64_t final_full,
                      int64_t offset) {
    cnnk_net *n = NULL;
    cnnk_error err;
    CHECK(cnnk_net_build(name, 1, side, side, &n, &err) == CNNK_OK);
    if (!n) return;
    CHECK_EQ_I64(cnnk_net_params(n), c->params);
    CHECK_EQ_I64(cnnk_net_macs(n), c->macs);
    CHECK_EQ_I64(cnnk_net_weight_layers(n), c->layers);
    const cnnk_node *last = &n->nodes[n->n - 1], *up = &n->nodes[last->inputs[0]];
    CHECK(last->op == CNNK_NODE_CROP && up->op == CNNK_NODE_DECONV && !up->has_bias);
    CHECK(last->c == 21 && last->h == side && last->w == side);
    CHECK_EQ_I64(up->h, final_full);
    CHECK_EQ_I64(last->crop_top, offset);
    CHECK_EQ_I64(last->crop_left, offset);
    printf("test_fcn: %-6s at %lld: %lld parameters, %.3f GMACs\n", name, (long long)side,
           (long long)c->params, (double)c->macs / 1e9);
    cnnk_net_destroy(n);
}

/* fcn32s: upscore 64x64 s32, crop 19; fcn16s: upscore2 4x4 s2, score_pool4
 * (1x1, cropped at 5), add, upscore16 32x32 s16, crop 27; fcn8s: as 16s to
 * fuse_pool4, upscore_pool4 4x4 s2, score_pool3 (1x1, cropped at 9), add,
 * upscore8 16x16 s8, crop 31. At 500 and at a small input. */
static void test_counts(void) {
    static const int64_t sides[] = {500, 64};
    for (int i = 0; i < 2; ++i) {
        const int64_t side = sides[i];
        counts c = vgg_trunk(side);
        int64_t up = add_deconv(&c, 21, 64, 32, c.score_fr);
        check_net("fcn32s", side, &c, up, 19);

        c = vgg_trunk(side);
        up = add_deconv(&c, 21, 4, 2, c.score_fr);
        add_conv(&c, 512, 21, 1, c.pool4, true);
        CHECK(5 + up <= c.pool4);
        up = add_deconv(&c, 21, 32, 16, up);
        check_net("fcn16s", side, &c, up, 27);

        c = vgg_trunk(side);
        up = add_deconv(&c, 21, 4, 2, c.score_fr);
        add_conv(&c, 512, 21, 1, c.pool4, true);
        up = add_deconv(&c, 21, 4, 2, up);
        add_conv(&c, 256, 21, 1, c.pool3, true);
        CHECK(9 + up <= c.pool3);
        up = add_deconv(&c, 21, 16, 8, up);
        check_net("fcn8s", side, &c, up, 31);
    }
    /* The sizes the prototxts' comments and coord_map imply at 500. */
    counts c = vgg_trunk(500);
    CHECK_EQ_I64(c.pool3, 88);
    CHECK_EQ_I64(c.pool4, 44);
    CHECK_EQ_I64(c.score_fr, 16);
    CHECK_EQ_I64(cnnk_net_default_side("fcn8s"), 500);
}

/* ---- the tap progression -------------------------------------------------------- */

/* cnnk_deconv_taps_of against the scan it replaces, for every output of
 * many small dimensions (dilation included, where taps have a period of
 * s / gcd(d, s) and a tap may never reach an output). */
static void test_taps(void) {
    int cases = 0;
    for (int64_t s = 1; s <= 9; ++s)
        for (int64_t k = 1; k <= 2 * s + 3; ++k)
            for (int64_t d = 1; d <= 4; ++d)
                for (int64_t p = 0; p <= k; p += 2)
                    for (int64_t n = 1; n <= 5; n += 2) {
                        const int64_t o_max = (n - 1) * s + (k - 1) * d + 1 - p;
                        for (int64_t o = 0; o < o_max; ++o)
                            for (int clip = 0; clip < 2; ++clip) {
                                cnnk_deconv_taps t = cnnk_deconv_taps_of(o, k, s, p, d, n, clip);
                                int64_t j = 0;
                                bool ok = true;
                                for (int64_t kk = 0; kk < k; ++kk) {
                                    const int64_t num = o + p - kk * d;
                                    if (num % s != 0) continue;
                                    const int64_t i = num >= 0 ? num / s : -((-num) / s);
                                    if (clip && (i < 0 || i >= n)) continue;
                                    ok &= j < t.count && t.k0 + j * t.kstep == kk &&
                                          t.i0 - j * t.istep == i;
                                    ++j;
                                }
                                ok &= j == t.count;
                                if (!ok)
                                    fprintf(stderr, "taps o%lld k%lld s%lld p%lld d%lld n%lld "
                                                    "clip%d wrong\n",
                                            (long long)o, (long long)k, (long long)s,
                                            (long long)p, (long long)d, (long long)n, clip);
                                CHECK(ok);
                                ++cases;
                            }
                    }
    printf("test_fcn: %d tap progressions checked\n", cases);
}

/* ---- crop in the runner --------------------------------------------------------- */

/* A deconvolution (bias, ReLU behind) cropped at every offset of a small
 * window: the crop folds into the deconvolution (one step, no copy) and
 * every plan on every ISA matches the unfused reference. */
static void test_crop_folded(void) {
    const int64_t kh = 4, s = 2, ih = 5, iw = 6;
    const int64_t oh = (ih - 1) * s + kh, ow = (iw - 1) * s + kh; /* 12 x 14 */
    const int64_t ch = 5, cw = 7;
    for (int64_t top = 0; top + ch <= oh; top += 3)
        for (int64_t left = 0; left + cw <= ow; left += 2) {
            cnnk_net *n = cnnk_net_create("t_crop_deconv", 2, 6, ih, iw);
            int x = cnnk_net_conv(n, "c", 0, 19, 3, 1, 1, true);
            x = cnnk_net_deconv(n, "up", x, 21, kh, s, 0, (top + left) % 2 == 0);
            x = cnnk_net_crop_ex(n, "crop", x, ch, cw, top, left);
            cnnk_net_relu(n, "r", x);
            /* c, up+crop, r */
            cnnk_runner *r = compare_plans_seeded(n, 11, 5, 3);
            if (r) {
                CHECK(strcmp(cnnk_runner_step(r, 1)->layer, "up") == 0);
                CHECK(strstr(cnnk_runner_step(r, 1)->kernel, "deconv") != NULL);
            }
            cnnk_runner_destroy(r);
            cnnk_net_destroy(n);
        }
    /* FCN's own: the 64x64 stride-32 upscore of a 3x3 map cropped at 19. */
    cnnk_net *n = cnnk_net_create("t_fcn32_tail", 1, 21, 3, 3);
    int x = cnnk_net_deconv(n, "upscore", 0, 21, 64, 32, 0, false);
    cnnk_net_crop_ex(n, "score", x, 64, 64, 19, 19);
    cnnk_runner_destroy(compare_plans_seeded(n, 3, 4, 1));
    cnnk_net_destroy(n);
}

/* Crops a producer cannot absorb are copies: of a 1x1 convolution's output
 * added to a deconvolution's (FCN's score_pool4c), of a deconvolution with
 * a second reader, of the network input. */
static void test_crop_copied(void) {
    for (int64_t off = 0; off <= 4; ++off) {
        cnnk_net *n = cnnk_net_create("t_crop_skip", 2, 8, 9, 9);
        const int pool = cnnk_net_maxpool(n, "pool", 0, 2, 2, 0, true); /* 5x5 */
        int up = cnnk_net_deconv(n, "up", pool, 21, 4, 2, 0, false);   /* 12x12 */
        int score = cnnk_net_conv(n, "score_pool", 0, 21, 1, 1, 0, true);
        /* a 5x5 window of the 9x9 score: the add needs the up's size */
        up = cnnk_net_crop_ex(n, "upc", up, 5, 5, 1, 2);
        score = cnnk_net_crop(n, "scorec", score, up, off);
        cnnk_net_add(n, "fuse", up, score);
        /* pool, up+upc, score_pool, scorec (copy), fuse */
        cnnk_runner *r = compare_plans_seeded(n, 2, 9, 5);
        if (r) {
            int copies = 0;
            for (int i = 0; i < cnnk_runner_step_count(r); ++i)
                copies += strcmp(cnnk_runner_step(r, i)->kernel, "copy") == 0;
            CHECK_EQ_I64(copies, 1);
        }
        cnnk_runner_destroy(r);
        cnnk_net_destroy(n);
    }
    cnnk_net *n = cnnk_net_create("t_crop_shared", 1, 4, 6, 6);
    const int up = cnnk_net_deconv(n, "up", 0, 3, 3, 2, 1, true); /* 11x11 */
    const int a = cnnk_net_crop_ex(n, "a", up, 4, 4, 0, 7);
    const int b = cnnk_net_crop_ex(n, "b", up, 4, 4, 7, 0);
    const int in = cnnk_net_crop_ex(n, "in", 0, 4, 4, 2, 1);
    const int ab = cnnk_net_add(n, "ab", a, b);
    cnnk_net_concat(n, "out", 2, (const int[2]){ab, in});
    cnnk_runner_destroy(compare_plans_seeded(n, 4, 6, -1));
    cnnk_net_destroy(n);
}

static void test_builder_errors(void) {
    cnnk_net *n = cnnk_net_create("t_bad_crop", 1, 3, 8, 8);
    cnnk_net_crop_ex(n, "crop", 0, 4, 4, 5, 0); /* 5 + 4 > 8 */
    cnnk_error err;
    CHECK(cnnk_net_status(n, &err) == CNNK_EINVAL);
    CHECK(strstr(err.msg, "crop") != NULL);
    cnnk_net_destroy(n);
    n = cnnk_net_create("t_bad_deconv", 1, 3, 2, 2);
    cnnk_net_deconv(n, "up", 0, 4, 2, 2, 2, false); /* (2-1)*2 + 2 - 4 = 0 */
    CHECK(cnnk_net_status(n, &err) == CNNK_EINVAL);
    cnnk_net_destroy(n);
}

int main(void) {
    test_counts();
    test_taps();
    test_crop_folded();
    test_crop_copied();
    test_builder_errors();
    return check_finish("test_fcn");
}
