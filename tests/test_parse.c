/* The benchdnn descriptor parser, the network shape lists and the sweep.
 *
 * Expected values are worked out by hand from benchdnn's rules (the
 * comments show the arithmetic); the network totals are torchvision's
 * published parameter counts and the MAC counts of docs/SHAPES.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/parse.h"
#include "core/sweep.h"
#include "cnnk/kernel.h"

static cnnk_parse_opts opts_for(cnnk_layer_kind k) {
    cnnk_parse_opts o;
    cnnk_parse_opts_init(&o);
    o.kind = k;
    return o;
}

/* Parses text as a descriptor of kind k; a failure is a test failure. */
static cnnk_layer_desc ok(const char *text, cnnk_layer_kind k) {
    cnnk_parse_opts o = opts_for(k);
    cnnk_layer_desc d;
    cnnk_error e = {{0}};
    memset(&d, 0, sizeof d);
    cnnk_status st = cnnk_parse_desc(text, &o, &d, &e);
    if (st != CNNK_OK) fprintf(stderr, "unexpected error for %s: %s\n", text, e.msg);
    CHECK(st == CNNK_OK);
    return d;
}

/* Expects status want and a message containing each of the given parts. */
static void bad_o(const char *text, const cnnk_parse_opts *o, cnnk_status want, const char *part1,
                  const char *part2) {
    cnnk_layer_desc d;
    cnnk_error e = {{0}};
    cnnk_status st = cnnk_parse_desc(text, o, &d, &e);
    if (st != want || !strstr(e.msg, part1) || (part2 && !strstr(e.msg, part2)))
        fprintf(stderr, "for %s: status %d (want %d), message '%s' (want '%s', '%s')\n", text,
                (int)st, (int)want, e.msg, part1, part2 ? part2 : "");
    CHECK(st == want);
    CHECK(strstr(e.msg, part1) != NULL);
    CHECK(part2 == NULL || strstr(e.msg, part2) != NULL);
}

static void bad(const char *text, cnnk_layer_kind k, cnnk_status want, const char *part1,
                const char *part2) {
    cnnk_parse_opts o = opts_for(k);
    bad_o(text, &o, want, part1, part2);
}

static void test_conv_full(void) {
    cnnk_layer_desc l = ok("g1mb1ic64ih56iw56oc64oh56ow56kh3kw3sh1sw1ph1pw1dh0dw0"
                           "n\"resnet50:res2a_branch2b\"",
                           CNNK_LAYER_CONV);
    const cnnk_conv_desc *d = &l.u.conv;
    CHECK(l.kind == CNNK_LAYER_CONV);
    CHECK(!d->transposed);
    CHECK_EQ_I64(d->g, 1);
    CHECK_EQ_I64(d->mb, 1);
    CHECK_EQ_I64(d->ic, 64);
    CHECK_EQ_I64(d->ih, 56);
    CHECK_EQ_I64(d->iw, 56);
    CHECK_EQ_I64(d->oc, 64);
    CHECK_EQ_I64(d->oh, 56);
    CHECK_EQ_I64(d->ow, 56);
    CHECK_EQ_I64(d->kh, 3);
    CHECK_EQ_I64(d->kw, 3);
    CHECK_EQ_I64(d->pt, 1);
    CHECK_EQ_I64(d->pb, 1);
    CHECK_EQ_I64(d->pl, 1);
    CHECK_EQ_I64(d->pr, 1);
    CHECK_EQ_I64(d->dh, 1); /* benchdnn dh0 = cnnk factor 1 */
    CHECK_EQ_I64(d->dw, 1);
    CHECK(strcmp(d->name, "resnet50:res2a_branch2b") == 0);
    /* '_' separators are ignored, as in benchdnn's canonical form */
    l = ok("g1mb1_ic64ih56iw56_oc64oh56ow56_kh3kw3_sh1sw1_ph1pw1_dh0dw0_n\"x\"", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.oh, 56);
    CHECK(strcmp(l.u.conv.name, "x") == 0);
    /* keys in any order */
    l = ok("kh3oc8ih9ic4", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.oh, 7);
}

static void test_conv_defaults(void) {
    /* mb 2, g 1, square from h, stride 1, padding 0, oh = 5 - 3 + 1 */
    cnnk_layer_desc l = ok("ic3ih5oc4kh3", CNNK_LAYER_CONV);
    const cnnk_conv_desc *d = &l.u.conv;
    CHECK_EQ_I64(d->mb, 2);
    CHECK_EQ_I64(d->g, 1);
    CHECK_EQ_I64(d->iw, 5);
    CHECK_EQ_I64(d->kw, 3);
    CHECK_EQ_I64(d->sh, 1);
    CHECK_EQ_I64(d->sw, 1);
    CHECK_EQ_I64(d->pt + d->pb + d->pl + d->pr, 0);
    CHECK_EQ_I64(d->dh, 1);
    CHECK_EQ_I64(d->oh, 3);
    CHECK_EQ_I64(d->ow, 3);
    CHECK(d->name[0] == '\0');
    /* non-square: w given apart from h */
    l = ok("mb1ic3ih7iw9oc2kh3kw1sh2sw1ph1pw0", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.oh, 4); /* (7 + 2 - 3) / 2 + 1 */
    CHECK_EQ_I64(l.u.conv.ow, 9);
    /* 1-D: only w given, h is benchdnn's {1, 1, 1, 1, 0, 0} */
    l = ok("mb1ic4iw10oc2kw3", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.ih, 1);
    CHECK_EQ_I64(l.u.conv.kh, 1);
    CHECK_EQ_I64(l.u.conv.oh, 1);
    CHECK_EQ_I64(l.u.conv.pt + l.u.conv.pb, 0);
    CHECK_EQ_I64(l.u.conv.ow, 8);
    /* dilation: dh1 = factor 2, dilated kernel 5, oh = 10 + 4 - 5 + 1 */
    l = ok("mb1ic2ih10oc2kh3dh1ph2", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.dh, 2);
    CHECK_EQ_I64(l.u.conv.dw, 2);
    CHECK_EQ_I64(l.u.conv.oh, 10);
    /* groups */
    l = ok("g4mb1ic8ih5oc12kh1", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.g, 4);
    CHECK_EQ_I64(cnnk_conv_weights(&l.u.conv), 12 * 2);
    /* trivial depth keys are accepted */
    l = ok("mb1ic2id1ih4oc2kd1kh3sd1pd0dd0", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.oh, 2);
}

static void test_conv_padding(void) {
    /* ph given and the symmetric floor gives oh: PyTorch's form is kept */
    cnnk_layer_desc l = ok("mb1ic3ih224oc64oh112kh7sh2ph3", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.pt, 3);
    CHECK_EQ_I64(l.u.conv.pb, 3);
    CHECK_EQ_I64(l.u.conv.oh, 112);
    /* ph missing: benchdnn's compute_pad ((112-1)*2 - 224 + 7) / 2 = 2, and
     * the opposite pad 222 - 224 + 7 - 2 = 3 */
    l = ok("mb1ic3ih224oc64oh112kh7sh2", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.pt, 2);
    CHECK_EQ_I64(l.u.conv.pb, 3);
    CHECK_EQ_I64(l.u.conv.pl, 2);
    CHECK_EQ_I64(l.u.conv.pr, 3);
    CHECK_EQ_I64(l.u.conv.oh, 112);
    /* ph missing, same-size 3x3: (55 - 56 + 3) / 2 = 1 on both sides */
    l = ok("mb1ic8ih56oc8oh56kh3", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.pt, 1);
    CHECK_EQ_I64(l.u.conv.pb, 1);
    /* asymmetric: ph0 with oh3 on 6 pixels, stride 2 (TensorFlow's SAME):
     * symmetric gives 2, so pb = (3-1)*2 - 6 + 3 - 0 = 1 */
    l = ok("mb1ic1ih6oc1oh3kh3sh2ph0", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.pt, 0);
    CHECK_EQ_I64(l.u.conv.pb, 1);
    CHECK_EQ_I64(l.u.conv.oh, 3);
    /* the reverse asymmetry: ph2 with oh4 on 7 pixels, stride 2:
     * symmetric gives 5, so pb = 3*2 - 7 + 3 - 2 = 0 */
    l = ok("mb1ic1ih7oc1oh4kh3sh2ph2", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.pt, 2);
    CHECK_EQ_I64(l.u.conv.pb, 0);
    /* a large oh takes a large end pad: pb = 8 - 5 + 3 - 1 = 5 */
    l = ok("mb1ic1ih5oc1oh9kh3ph1", CNNK_LAYER_CONV);
    CHECK_EQ_I64(l.u.conv.pt, 1);
    CHECK_EQ_I64(l.u.conv.pb, 5);
    CHECK_EQ_I64(l.u.conv.pr, 5);
    /* a small one would need a negative end pad: 1 - 5 + 3 - 0 = -1, and
     * cnnk_conv_check names it */
    bad("ic3ih5oc4oh2kh3ph0", CNNK_LAYER_CONV, CNNK_EINVAL, "cannot be reached", "-1");
}

static void test_deconv(void) {
    /* oh = (3 - 1) * 2 + 3 = 7 */
    cnnk_layer_desc l = ok("mb1ic4ih3oc2kh3sh2", CNNK_LAYER_DECONV);
    CHECK(l.kind == CNNK_LAYER_DECONV);
    CHECK(l.u.conv.transposed);
    CHECK_EQ_I64(l.u.conv.oh, 7);
    /* oh6 given: symmetric gives 7, so pb = (3-1)*2 - 6 + 3 - 0 = 1 */
    l = ok("mb1ic4ih3oc2oh6kh3sh2ph0", CNNK_LAYER_DECONV);
    CHECK_EQ_I64(l.u.conv.pt, 0);
    CHECK_EQ_I64(l.u.conv.pb, 1);
    CHECK_EQ_I64(l.u.conv.oh, 6);
}

static void test_other_drivers(void) {
    cnnk_layer_desc l = ok("mb1ic256ih6oc4096n\"alexnet:classifier.1\"", CNNK_LAYER_FC);
    CHECK(l.kind == CNNK_LAYER_FC);
    CHECK_EQ_I64(l.u.fc.ih, 6);
    CHECK_EQ_I64(l.u.fc.iw, 6);
    CHECK_EQ_I64(cnnk_fc_weights(&l.u.fc), 4096LL * 9216);
    CHECK(strcmp(l.u.fc.name, "alexnet:classifier.1") == 0);
    l = ok("ic10oc5", CNNK_LAYER_FC);
    CHECK_EQ_I64(l.u.fc.mb, 2);
    CHECK_EQ_I64(l.u.fc.ih * l.u.fc.iw, 1);

    /* GoogLeNet's ceil-mode max pool: floor gives 55, ceil 56 */
    l = ok("mb1ic64ih112oh56kh3sh2ph0", CNNK_LAYER_POOL);
    CHECK(l.kind == CNNK_LAYER_POOL);
    CHECK(l.u.pool.round == CNNK_ROUND_CEIL);
    CHECK_EQ_I64(l.u.pool.pt, 0);
    CHECK_EQ_I64(l.u.pool.pb, 0);
    CHECK_EQ_I64(l.u.pool.oh, 56);
    CHECK(l.u.pool.alg == CNNK_POOL_MAX);
    /* ResNet's: (112 + 2 - 3) / 2 + 1 = 56 with floor */
    l = ok("mb1ic64ih112oh56kh3sh2ph1", CNNK_LAYER_POOL);
    CHECK(l.u.pool.round == CNNK_ROUND_FLOOR);
    CHECK_EQ_I64(l.u.pool.pb, 1);
    /* ph missing: benchdnn's compute_pad (110 - 112 + 3) / 2 = 0, end pad 1 */
    l = ok("mb1ic64ih112oh56kh3sh2", CNNK_LAYER_POOL);
    CHECK(l.u.pool.round == CNNK_ROUND_FLOOR);
    CHECK_EQ_I64(l.u.pool.pt, 0);
    CHECK_EQ_I64(l.u.pool.pb, 1);
    /* oh missing: floor (7 - 2) / 2 + 1 = 3 */
    l = ok("ic3ih7kh2sh2", CNNK_LAYER_POOL);
    CHECK_EQ_I64(l.u.pool.mb, 2);
    CHECK_EQ_I64(l.u.pool.oh, 3);
    CHECK_EQ_I64(l.u.pool.ow, 3);
    /* floor 4, ceil 5: 7 is neither */
    bad("mb1ic1ih10oh7kh3sh2ph0", CNNK_LAYER_POOL, CNNK_EINVAL, "oh=7", "neither");
    bad("mb1ic1ih10kh3dh1", CNNK_LAYER_POOL, CNNK_EUNSUPPORTED, "dilated", "column 14");
    cnnk_parse_opts o = opts_for(CNNK_LAYER_POOL);
    cnnk_error e;
    CHECK(cnnk_parse_option("--alg=avg_p", &o, &e) == CNNK_OK);
    cnnk_layer_desc p;
    CHECK(cnnk_parse_desc("mb1ic8ih4kh2sh2", &o, &p, &e) == CNNK_OK);
    CHECK(p.u.pool.alg == CNNK_POOL_AVG_INCLUDE_PAD);

    l = ok("mb1ic96ih55ls5alpha0.0001beta0.75k2n\"alexnet-paper:norm1\"", CNNK_LAYER_LRN);
    CHECK(l.kind == CNNK_LAYER_LRN);
    CHECK_EQ_I64(l.u.lrn.c, 96);
    CHECK_EQ_I64(l.u.lrn.w, 55);
    CHECK_EQ_I64(l.u.lrn.size, 5);
    CHECK(l.u.lrn.alpha == 0.0001f);
    CHECK(l.u.lrn.beta == 0.75f);
    CHECK(l.u.lrn.k == 2.0f);
    l = ok("ic8ih4", CNNK_LAYER_LRN); /* benchdnn's defaults */
    CHECK_EQ_I64(l.u.lrn.size, 5);
    CHECK(l.u.lrn.alpha == 1.0f / 8192);
    CHECK(l.u.lrn.beta == 0.75f);
    CHECK(l.u.lrn.k == 1.0f);

    l = ok("mb1ic64ih56eps1e-5", CNNK_LAYER_BNORM);
    CHECK(l.kind == CNNK_LAYER_BNORM);
    CHECK(l.u.bnorm.eps == 1e-5f);
    CHECK_EQ_I64(l.u.bnorm.w, 56);
    l = ok("ic3iw7", CNNK_LAYER_BNORM); /* 1-D; benchdnn's eps 1/16 */
    CHECK_EQ_I64(l.u.bnorm.h, 1);
    CHECK_EQ_I64(l.u.bnorm.w, 7);
    CHECK(l.u.bnorm.eps == 0.0625f);

    l = ok("1x1000", CNNK_LAYER_SOFTMAX);
    CHECK(l.kind == CNNK_LAYER_SOFTMAX);
    CHECK_EQ_I64(l.u.softmax.mb, 1);
    CHECK_EQ_I64(l.u.softmax.c, 1000);
    CHECK_EQ_I64(l.u.softmax.h * l.u.softmax.w, 1);
    l = ok("2x10x3x4_n\"s m\"", CNNK_LAYER_SOFTMAX);
    CHECK_EQ_I64(l.u.softmax.h, 3);
    CHECK_EQ_I64(l.u.softmax.w, 4);
    CHECK(strcmp(l.u.softmax.name, "s m") == 0);
    bad("1000", CNNK_LAYER_SOFTMAX, CNNK_EPARSE, "NxC", NULL);
    bad("1x2x3x4x5", CNNK_LAYER_SOFTMAX, CNNK_EUNSUPPORTED, "dimensions", NULL);

    /* resampling: benchdnn's mb/ic/ih/iw/oh/ow, ow from oh, iw from ih */
    l = ok("mb1ic21ih65iw65oh520ow520n\"up\"", CNNK_LAYER_RESIZE);
    CHECK(l.kind == CNNK_LAYER_RESIZE);
    CHECK(l.u.resize.c == 21 && l.u.resize.ih == 65 && l.u.resize.iw == 65);
    CHECK(l.u.resize.oh == 520 && l.u.resize.ow == 520 && !l.u.resize.align_corners);
    CHECK(strcmp(l.u.resize.name, "up") == 0);
    l = ok("ic3ih5oh7", CNNK_LAYER_RESIZE);
    CHECK(l.u.resize.iw == 5 && l.u.resize.ow == 7);
    bad("ic3ih5", CNNK_LAYER_RESIZE, CNNK_EPARSE, "missing 'oh'", NULL);
    bad("ic3ih5id2oh7", CNNK_LAYER_RESIZE, CNNK_EUNSUPPORTED, "3-D", NULL);
    {
        cnnk_parse_opts ro;
        cnnk_parse_opts_init(&ro);
        CHECK(cnnk_parse_option("--resampling", &ro, NULL) == CNNK_OK);
        CHECK(ro.kind == CNNK_LAYER_RESIZE && !ro.align_corners);
        CHECK(cnnk_parse_option("--alg=linear_align_corners", &ro, NULL) == CNNK_OK);
        CHECK(ro.align_corners);
        cnnk_layer_desc r;
        CHECK(cnnk_parse_desc("ic3ih5oh7", &ro, &r, NULL) == CNNK_OK && r.u.resize.align_corners);
        CHECK(cnnk_parse_option("--alg=nearest", &ro, NULL) == CNNK_EPARSE);
        CHECK(cnnk_parse_option("--resampling", &ro, NULL) == CNNK_OK && !ro.align_corners);
    }

    l = ok("1x64x56x56n\"r\"", CNNK_LAYER_ELTWISE);
    CHECK(l.kind == CNNK_LAYER_ELTWISE);
    CHECK(l.u.eltwise.alg == CNNK_ELTWISE_RELU);
    CHECK_EQ_I64(l.u.eltwise.c, 64);
    o = opts_for(CNNK_LAYER_CONV);
    CHECK(cnnk_parse_option("--binary", &o, &e) == CNNK_OK);
    CHECK(cnnk_parse_desc("1x64x56x56:1x64x56x56", &o, &p, &e) == CNNK_OK);
    CHECK(p.u.eltwise.alg == CNNK_ELTWISE_ADD);
    CHECK_EQ_I64(p.u.eltwise.h, 56);
    bad_o("1x64x56x56:1x64x56x1", &o, CNNK_EUNSUPPORTED, "same shape", NULL);
    bad_o("1x64x56x56", &o, CNNK_EPARSE, "2 tensor", NULL);
    CHECK(cnnk_parse_option("--alg=add_relu", &o, &e) == CNNK_OK);
    CHECK(cnnk_parse_desc("1x8:1x8", &o, &p, &e) == CNNK_OK);
    CHECK(p.u.eltwise.alg == CNNK_ELTWISE_ADD_RELU);
    CHECK(cnnk_parse_option("--eltwise", &o, &e) == CNNK_OK);
    CHECK(cnnk_parse_option("--alg=dropout", &o, &e) == CNNK_OK);
    CHECK(cnnk_parse_desc("1x4096", &o, &p, &e) == CNNK_OK);
    CHECK(p.u.eltwise.alg == CNNK_ELTWISE_DROPOUT);

    l = ok("1x64x28x28:1x128x28x28:1x32x28x28n\"googlenet:inception3a(cat)\"",
           CNNK_LAYER_CONCAT);
    CHECK(l.kind == CNNK_LAYER_CONCAT);
    CHECK_EQ_I64(l.u.concat.n, 3);
    CHECK_EQ_I64(l.u.concat.c[1], 128);
    CHECK_EQ_I64(l.u.concat.h, 28);
    bad("1x64x28x28:1x128x14x14", CNNK_LAYER_CONCAT, CNNK_EINVAL, "input 2", NULL);
}

static void test_options(void) {
    cnnk_parse_opts o;
    cnnk_parse_opts_init(&o);
    cnnk_error e = {{0}};
    CHECK(o.kind == CNNK_LAYER_CONV && o.mb == 0 && o.pool_alg == CNNK_POOL_MAX &&
          o.elt_alg == CNNK_ELTWISE_RELU);
    CHECK(cnnk_parse_option("--mb=4", &o, &e) == CNNK_OK);
    CHECK_EQ_I64(o.mb, 4);
    cnnk_layer_desc d;
    CHECK(cnnk_parse_desc("mb1ic3ih5oc4kh3", &o, &d, &e) == CNNK_OK);
    CHECK_EQ_I64(d.u.conv.mb, 4); /* --mb overrides the written mb */
    CHECK(cnnk_parse_option("--ip", &o, &e) == CNNK_OK);
    CHECK_EQ_I64(o.mb, 4); /* a driver switch keeps --mb */
    CHECK(o.kind == CNNK_LAYER_FC);
    CHECK(cnnk_parse_option("--mb=0", &o, &e) == CNNK_OK);
    CHECK(cnnk_parse_desc("mb1ic3oc4", &o, &d, &e) == CNNK_OK);
    CHECK_EQ_I64(d.u.fc.mb, 1);
    CHECK(cnnk_parse_option("--deconv", &o, &e) == CNNK_OK && o.kind == CNNK_LAYER_DECONV);
    CHECK(cnnk_parse_option("--lrn", &o, &e) == CNNK_OK && o.kind == CNNK_LAYER_LRN);
    CHECK(cnnk_parse_option("--bnorm", &o, &e) == CNNK_OK && o.kind == CNNK_LAYER_BNORM);
    CHECK(cnnk_parse_option("--softmax", &o, &e) == CNNK_OK && o.kind == CNNK_LAYER_SOFTMAX);
    CHECK(cnnk_parse_option("--axis=1", &o, &e) == CNNK_OK);
    CHECK(cnnk_parse_option("--axis=2", &o, &e) == CNNK_EUNSUPPORTED);
    CHECK(strstr(e.msg, "axis") != NULL);
    CHECK(cnnk_parse_option("--concat", &o, &e) == CNNK_OK && o.kind == CNNK_LAYER_CONCAT);
    CHECK(cnnk_parse_option("--pool", &o, &e) == CNNK_OK && o.kind == CNNK_LAYER_POOL);
    CHECK(cnnk_parse_option("--alg=AVG_NP", &o, &e) == CNNK_OK); /* benchdnn: any case */
    CHECK(o.pool_alg == CNNK_POOL_AVG_EXCLUDE_PAD);
    CHECK(cnnk_parse_option("--alg=max", &o, &e) == CNNK_OK && o.pool_alg == CNNK_POOL_MAX);
    CHECK(cnnk_parse_option("--alg=median", &o, &e) == CNNK_EPARSE);
    CHECK(strstr(e.msg, "median") != NULL);
    CHECK(cnnk_parse_option("--conv", &o, &e) == CNNK_OK && o.kind == CNNK_LAYER_CONV);
    CHECK(cnnk_parse_option("--alg=relu", &o, &e) == CNNK_EPARSE);
    CHECK(strstr(e.msg, "conv") != NULL);
    CHECK(cnnk_parse_option("--frobnicate", &o, &e) == CNNK_EPARSE);
    CHECK(strstr(e.msg, "--frobnicate") != NULL);
    CHECK(cnnk_parse_option("--mb=x", &o, &e) == CNNK_EPARSE);
    CHECK(cnnk_parse_option("--mb=-1", &o, &e) == CNNK_EPARSE);
    CHECK(cnnk_parse_option("--mb=99999999999999999999", &o, &e) == CNNK_EPARSE);
    CHECK(cnnk_parse_option("--mb=16777217", &o, &e) == CNNK_EOVERFLOW);
    CHECK(cnnk_parse_option("conv", &o, &e) == CNNK_EPARSE);

    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_CONV), "conv") == 0);
    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_DECONV), "deconv") == 0);
    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_FC), "ip") == 0);
    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_POOL), "pool") == 0);
    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_LRN), "lrn") == 0);
    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_BNORM), "bnorm") == 0);
    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_SOFTMAX), "softmax") == 0);
    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_ELTWISE), "eltwise") == 0);
    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_CONCAT), "concat") == 0);
    CHECK(strcmp(cnnk_layer_kind_name(CNNK_LAYER_KIND_COUNT), "unknown") == 0);
}

static void test_names(void) {
    cnnk_layer_desc l = ok("ic3ih5oc4kh3n\"net:a.b-c/d(e)[f]:g,h=i'j\"", CNNK_LAYER_CONV);
    CHECK(strcmp(l.u.conv.name, "net:a.b-c/d(e)[f]:g,h=i'j") == 0);
    l = ok("ic3ih5oc4kh3n\"with spaces # and hash\"", CNNK_LAYER_CONV);
    CHECK(strcmp(l.u.conv.name, "with spaces # and hash") == 0);
    l = ok("ic3ih5oc4kh3nbare:name.1", CNNK_LAYER_CONV); /* benchdnn's unquoted form */
    CHECK(strcmp(l.u.conv.name, "bare:name.1") == 0);
    l = ok("ic3ih5oc4kh3n\"\"", CNNK_LAYER_CONV);
    CHECK(l.u.conv.name[0] == '\0');
    char longname[160];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "ic3ih5oc4kh3n\"", 14);
    longname[14 + 96] = '"';
    longname[14 + 97] = '\0';
    bad(longname, CNNK_LAYER_CONV, CNNK_EPARSE, "96 characters", "95");
    longname[14 + 95] = '"';
    longname[14 + 96] = '\0';
    l = ok(longname, CNNK_LAYER_CONV);
    CHECK_EQ_I64((int64_t)strlen(l.u.conv.name), 95);
}

static void test_errors(void) {
    bad("ic3ic4ih5oc4kh3", CNNK_LAYER_CONV, CNNK_EPARSE, "column 4", "duplicate key 'ic'");
    bad("ic3ih5oc4kh3zz1", CNNK_LAYER_CONV, CNNK_EPARSE, "column 13", "unknown key 'zz'");
    bad("ic3ihoc4kh3", CNNK_LAYER_CONV, CNNK_EPARSE, "column 6", "missing number after 'ih'");
    bad("ic3ih", CNNK_LAYER_CONV, CNNK_EPARSE, "column 6", "missing number after 'ih'");
    bad("ic3ih-5oc4kh3", CNNK_LAYER_CONV, CNNK_EPARSE, "column 6", "negative number for 'ih'");
    bad("ic3ih99999999999999999999oc4kh3", CNNK_LAYER_CONV, CNNK_EOVERFLOW, "column 6",
        "'ih' overflows int64");
    bad("ic3ih9223372036854775807oc4kh3", CNNK_LAYER_CONV, CNNK_EOVERFLOW, "column 6",
        "exceeds the limit");
    bad("ic3ih5oc4kh3;", CNNK_LAYER_CONV, CNNK_EPARSE, "column 13", "unexpected ';'");
    bad("ic3ih5oc4kh3n\"x\"y", CNNK_LAYER_CONV, CNNK_EPARSE, "column 17", "after the quoted name");
    bad("ic3ih5oc4kh3n\"abc", CNNK_LAYER_CONV, CNNK_EPARSE, "column 14", "unterminated quote");
    bad("ic3ih5oc4kh3n", CNNK_LAYER_CONV, CNNK_EPARSE, "column 13", "missing name");
    bad("ih5oc4kh3", CNNK_LAYER_CONV, CNNK_EPARSE, "missing 'ic'", NULL);
    bad("ic3ih5kh3", CNNK_LAYER_CONV, CNNK_EPARSE, "missing 'oc'", NULL);
    bad("ic3ih5oc4", CNNK_LAYER_CONV, CNNK_EPARSE, "missing 'kh'", NULL);
    bad("ic3oc4", CNNK_LAYER_CONV, CNNK_EPARSE, "no spatial size", NULL);
    bad("ic3ih5iw5oc4kh3", CNNK_LAYER_CONV, CNNK_EPARSE, "missing 'kw'", NULL);
    bad("ic3id4ih5oc4kh3", CNNK_LAYER_CONV, CNNK_EUNSUPPORTED, "column 4", "3-D");
    bad("ic3ih5oc4kd3kh3", CNNK_LAYER_CONV, CNNK_EUNSUPPORTED, "3-D", "kd=3");
    bad("", CNNK_LAYER_CONV, CNNK_EPARSE, "empty", NULL);
    bad("ic3 ih5oc4kh3", CNNK_LAYER_CONV, CNNK_EPARSE, "column 4", "unexpected ' '");
    /* errors from the descriptor checks come through with their field */
    bad("g2ic3ih5oc4kh3", CNNK_LAYER_CONV, CNNK_EINVAL, "g=2", NULL);
    bad("ic0ih5oc4kh3", CNNK_LAYER_CONV, CNNK_EINVAL, "ic=0", NULL);
    bad("ic3ih2oc4kh3", CNNK_LAYER_CONV, CNNK_EINVAL, "larger than the padded input", NULL);
    bad("mb1ic8ih4alpha1e999", CNNK_LAYER_LRN, CNNK_EOVERFLOW, "alpha", "range");
    bad("mb1ic8ih4alphanan", CNNK_LAYER_LRN, CNNK_EPARSE, "missing number after 'alpha'", NULL);
    bad("mb1ic8ih4eps-1", CNNK_LAYER_BNORM, CNNK_EPARSE, "negative number for 'eps'", NULL);
    bad("mb1ic8ih4eps0", CNNK_LAYER_BNORM, CNNK_EINVAL, "eps", NULL);
    bad("1x64xx3", CNNK_LAYER_ELTWISE, CNNK_EPARSE, "column 6", "missing number");
    bad("1x64y", CNNK_LAYER_ELTWISE, CNNK_EPARSE, "column 5", "unexpected 'y'");
    bad("mb1oc3", CNNK_LAYER_FC, CNNK_EPARSE, "missing 'ic'", NULL);
    /* a NULL cnnk_error is allowed */
    cnnk_layer_desc d;
    CHECK(cnnk_parse_desc("ic3ic3", NULL, &d, NULL) == CNNK_EPARSE);
    CHECK(cnnk_parse_desc("ic3ih5oc4kh3", NULL, &d, NULL) == CNNK_OK);
}

static void test_batch(void) {
    const char *text =
        "# a benchdnn batch file\n"
        "\n"
        "   mb1ic3ih5oc4kh3n\"first\"   # trailing comment\n"
        "--pool --alg=avg_np\tmb1ic8ih4kh2sh2n\"second one\"\n"
        "--ip\n"
        "  mb1ic8oc2n\"a # not a comment\"  mb1ic8ih2oc3\n"
        "--mb=3 --conv ic3ih5oc4kh3 # mb from --mb\n";
    cnnk_batch b;
    cnnk_error e = {{0}};
    cnnk_status st = cnnk_batch_parse(text, "t.txt", &b, &e);
    if (st != CNNK_OK) fprintf(stderr, "batch: %s\n", e.msg);
    CHECK(st == CNNK_OK);
    CHECK_EQ_I64(b.n, 5);
    if (b.n == 5) {
        CHECK(b.items[0].kind == CNNK_LAYER_CONV);
        CHECK_EQ_I64(b.line[0], 3);
        CHECK(strcmp(b.items[0].u.conv.name, "first") == 0);
        CHECK(b.items[1].kind == CNNK_LAYER_POOL);
        CHECK(b.items[1].u.pool.alg == CNNK_POOL_AVG_EXCLUDE_PAD);
        CHECK(strcmp(b.items[1].u.pool.name, "second one") == 0);
        CHECK_EQ_I64(b.line[1], 4);
        CHECK(b.items[2].kind == CNNK_LAYER_FC);
        CHECK(strcmp(b.items[2].u.fc.name, "a # not a comment") == 0);
        CHECK_EQ_I64(b.line[2], 6);
        CHECK_EQ_I64(b.items[3].u.fc.ih, 2);
        CHECK_EQ_I64(b.line[3], 6);
        CHECK(b.items[4].kind == CNNK_LAYER_CONV);
        CHECK_EQ_I64(b.items[4].u.conv.mb, 3);
        CHECK_EQ_I64(b.line[4], 7);
    }
    cnnk_batch_free(&b);
    CHECK(b.items == NULL && b.n == 0);

    /* the error on line 3, column 5 + 10 - 1: the items before it stay */
    const char *bad3 = "ic3ih5oc4kh3\n"
                       "ic3ih6oc4kh3 # fine\n"
                       "    ic3ih5oc4kh3zz1\n"
                       "ic3ih5oc4kh3\n";
    st = cnnk_batch_parse(bad3, "bad.txt", &b, &e);
    CHECK(st == CNNK_EPARSE);
    CHECK(strstr(e.msg, "bad.txt:3:17: unknown key 'zz'") == e.msg);
    CHECK_EQ_I64(b.n, 2);
    cnnk_batch_free(&b);

    st = cnnk_batch_parse("ic3ih5oc4kh3\n  --pool --alg=nope\n", "o.txt", &b, &e);
    CHECK(st == CNNK_EPARSE);
    CHECK(strstr(e.msg, "o.txt:2:10:") == e.msg && strstr(e.msg, "nope"));
    cnnk_batch_free(&b);
    st = cnnk_batch_parse("\n\nic3ih5oc4kh3n\"open name\n", "q.txt", &b, &e);
    CHECK(st == CNNK_EPARSE);
    CHECK(strstr(e.msg, "q.txt:3:14: unterminated quote") == e.msg);
    cnnk_batch_free(&b);
    st = cnnk_batch_parse("ic3ih5oc4kh3\ng2ic3ih5oc4kh3\n", "c.txt", &b, &e);
    CHECK(st == CNNK_EINVAL);
    CHECK(strstr(e.msg, "c.txt:2:1: ") == e.msg && strstr(e.msg, "g=2"));
    CHECK_EQ_I64(b.n, 1);
    cnnk_batch_free(&b);
    st = cnnk_batch_parse("", "empty", &b, &e);
    CHECK(st == CNNK_OK && b.n == 0);
    cnnk_batch_free(&b);

    st = cnnk_batch_read("shapes/does-not-exist.txt", &b, &e);
    CHECK(st == CNNK_EIO);
    CHECK(strstr(e.msg, "does-not-exist") != NULL);
    cnnk_batch_free(&b);
}

/* ---- the network shape lists ------------------------------------------ */

typedef enum bn_rule { BN_NONE, BN_AFTER, BN_BEFORE } bn_rule;

typedef struct net_totals {
    const char *file;
    bn_rule bn;
    int convs, fcs;
    int64_t params, macs;
} net_totals;

static void totals(const cnnk_batch *b, bn_rule bn, int *convs, int *fcs, int64_t *params,
                   int64_t *macs) {
    *convs = *fcs = 0;
    *params = *macs = 0;
    for (size_t i = 0; i < b->n; ++i) {
        const cnnk_layer_desc *l = &b->items[i];
        if (l->kind == CNNK_LAYER_CONV) {
            const cnnk_conv_desc *d = &l->u.conv;
            ++*convs;
            *macs += cnnk_conv_macs(d);
            *params += cnnk_conv_weights(d);
            /* a batch-norm right after the conv (gamma, beta of oc), or a
             * pre-activation one right before it (of ic); convs without a
             * norm have a bias */
            *params += bn == BN_NONE ? cnnk_conv_biases(d) : bn == BN_AFTER ? 2 * d->oc : 2 * d->ic;
        } else if (l->kind == CNNK_LAYER_FC) {
            ++*fcs;
            *macs += cnnk_fc_macs(&l->u.fc);
            *params += cnnk_fc_weights(&l->u.fc) + l->u.fc.oc;
        }
    }
}

static void test_networks(void) {
    /* torchvision's parameter counts (sum of p.numel(), no aux heads);
     * MACs of conv + fc at 224x224, batch 1 (docs/SHAPES.md) */
    const net_totals nets[] = {
        {"shapes/alexnet.txt", BN_NONE, 5, 3, 61100840, 714188480},
        {"shapes/vgg16.txt", BN_NONE, 13, 3, 138357544, 15470264320},
        {"shapes/googlenet.txt", BN_AFTER, 57, 1, 6624904, 1498376192},
        {"shapes/resnet50.txt", BN_AFTER, 53, 1, 25557032, 4089184256},
        /* DenseNet: every conv but conv0 follows a norm of its ic; conv0
         * (ic 3) is followed by norm0 (64), and norm5 (1024) ends the features */
        {"shapes/densenet121.txt", BN_BEFORE, 120, 1, 7978856 + 2 * 3 - 2 * 64 - 2 * 1024,
         2834161664},
        /* YOLOv1 at its 448x448: tests/test_nets.c's layer-list formula */
        {"shapes/yolov1.txt", BN_NONE, 24, 2, 271703550, 20285153280},
        /* fcn_resnet50 at its 520x520: tests/test_nets.c's layer-list
         * formula; every conv but the last is followed by a batch-norm, and
         * classifier.4's bias (21) is counted as a norm's 2 x 21 */
        {"shapes/fcn_resnet50.txt", BN_AFTER, 55, 0, 32957013 + 21, 142725772800},
    };
    /* the commonly quoted GMACs, to 0.5% (YOLOv1, fcn_resnet50: none quoted,
     * their own totals) */
    const double quoted[] = {0.714e9, 15.47e9, 1.498e9, 4.089e9, 2.834e9, 20285153280.0,
                             142725772800.0};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; ++i) {
        cnnk_batch b;
        cnnk_error e = {{0}};
        cnnk_status st = cnnk_batch_read(nets[i].file, &b, &e);
        if (st != CNNK_OK) fprintf(stderr, "%s\n", e.msg);
        CHECK(st == CNNK_OK);
        int convs, fcs;
        int64_t params, macs;
        totals(&b, nets[i].bn, &convs, &fcs, &params, &macs);
        if (params != nets[i].params || macs != nets[i].macs)
            fprintf(stderr, "%s: params %lld, MACs %lld\n", nets[i].file, (long long)params,
                    (long long)macs);
        CHECK_EQ_I64(convs, nets[i].convs);
        CHECK_EQ_I64(fcs, nets[i].fcs);
        CHECK_EQ_I64(params, nets[i].params);
        CHECK_EQ_I64(macs, nets[i].macs);
        CHECK_NEAR((double)macs, quoted[i], 0.005);
        int dup = 0;
        for (size_t k = 0; k < b.n; ++k) {
            const char *name = cnnk_layer_name(&b.items[k]);
            for (size_t j = 0; j < k; ++j)
                dup += strcmp(name, cnnk_layer_name(&b.items[j])) == 0;
            CHECK(strchr(name, ':') != NULL);
            CHECK(b.items[k].kind == CNNK_LAYER_CONV ? b.items[k].u.conv.mb == 1
                                                     : b.items[k].u.fc.mb == 1);
        }
        CHECK_EQ_I64(dup, 0); /* every layer once, each under its own name */
        cnnk_batch_free(&b);
    }
}

static void test_layers_file(void) {
    cnnk_batch b;
    cnnk_error e = {{0}};
    cnnk_status st = cnnk_batch_read("shapes/layers.txt", &b, &e);
    if (st != CNNK_OK) fprintf(stderr, "%s\n", e.msg);
    CHECK(st == CNNK_OK);
    int count[CNNK_LAYER_KIND_COUNT] = {0};
    bool ceil_pool = false, lrn_paper = false, add = false, dropout = false;
    /* padded average pools of both divisors: where include-pad and
     * exclude-pad give different results (issue 19) */
    bool avg_p_padded = false, avg_np_padded = false;
    for (size_t i = 0; i < b.n; ++i) {
        const cnnk_layer_desc *l = &b.items[i];
        ++count[l->kind];
        if (l->kind == CNNK_LAYER_POOL && l->u.pool.round == CNNK_ROUND_CEIL &&
            strcmp(l->u.pool.name, "googlenet:maxpool1") == 0)
            ceil_pool = l->u.pool.oh == 56;
        if (l->kind == CNNK_LAYER_POOL && l->u.pool.pt > 0 && l->u.pool.pl > 0) {
            avg_p_padded |= l->u.pool.alg == CNNK_POOL_AVG_INCLUDE_PAD;
            avg_np_padded |= l->u.pool.alg == CNNK_POOL_AVG_EXCLUDE_PAD;
        }
        if (l->kind == CNNK_LAYER_LRN && strcmp(l->u.lrn.name, "alexnet-paper:norm1") == 0)
            lrn_paper = l->u.lrn.c == 96 && l->u.lrn.h == 55 && l->u.lrn.size == 5 &&
                        l->u.lrn.k == 2.0f && l->u.lrn.alpha == 1e-4f && l->u.lrn.beta == 0.75f;
        if (l->kind == CNNK_LAYER_ELTWISE && l->u.eltwise.alg == CNNK_ELTWISE_ADD) add = true;
        if (l->kind == CNNK_LAYER_ELTWISE && l->u.eltwise.alg == CNNK_ELTWISE_DROPOUT)
            dropout = true;
        if (l->kind == CNNK_LAYER_SOFTMAX) CHECK_EQ_I64(l->u.softmax.c, 1000);
    }
    CHECK(count[CNNK_LAYER_CONV] == 0 && count[CNNK_LAYER_FC] == 0);
    CHECK(count[CNNK_LAYER_POOL] > 10);
    CHECK_EQ_I64(count[CNNK_LAYER_LRN], 2);
    CHECK(count[CNNK_LAYER_BNORM] > 50);
    CHECK_EQ_I64(count[CNNK_LAYER_SOFTMAX], 1);
    CHECK(count[CNNK_LAYER_ELTWISE] > 20);
    CHECK(count[CNNK_LAYER_CONCAT] > 9);
    CHECK(ceil_pool && lrn_paper && add && dropout);
    CHECK(avg_p_padded && avg_np_padded);
    cnnk_batch_free(&b);
}

/* ---- the sweep -------------------------------------------------------- */

/* The sweep's output as a string (caller frees). */
static char *sweep_text(uint64_t seed, int count) {
    FILE *f = tmpfile();
    if (!f) return NULL;
    cnnk_error e = {{0}};
    cnnk_status st = cnnk_sweep_write(seed, count, f, &e);
    if (st != CNNK_OK) fprintf(stderr, "sweep: %s\n", e.msg);
    CHECK(st == CNNK_OK);
    long n = ftell(f);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf) {
        rewind(f);
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

static void test_sweep(void) {
    char *t = sweep_text(7, 1000);
    CHECK(t != NULL);
    if (!t) return;
    cnnk_batch b;
    cnnk_error e = {{0}};
    cnnk_status st = cnnk_batch_parse(t, "sweep", &b, &e);
    if (st != CNNK_OK) fprintf(stderr, "%s\n", e.msg);
    CHECK(st == CNNK_OK);
    CHECK_EQ_I64(b.n, 1000);
    int ic3 = 0, img1 = 0, odd_c = 0, asym = 0, dil = 0, grp = 0, wino = 0, mb = 0, big_s = 0,
        big_k = 0, named = 0, over = 0, oned = 0;
    for (size_t i = 0; i < b.n; ++i) {
        cnnk_conv_desc d = b.items[i].u.conv;
        char want[32];
        snprintf(want, sizeof want, "sweep:%zu", i);
        named += b.items[i].kind == CNNK_LAYER_CONV && strcmp(d.name, want) == 0;
        CHECK(cnnk_conv_check(&d, &e) == CNNK_OK);
        over += cnnk_conv_macs(&d) > CNNK_SWEEP_MAX_MACS;
        ic3 += d.ic == 3;
        img1 += d.ih == 1 && d.iw == 1;
        odd_c += d.ic % 8 != 0 || d.oc % 8 != 0;
        asym += d.pt != d.pb || d.pl != d.pr;
        dil += d.dh > 1 || d.dw > 1;
        grp += d.g > 1;
        wino += d.kh == 3 && d.kw == 3 && d.sh == 1 && d.sw == 1 && d.dh == 1 && d.dw == 1;
        mb += d.mb > 1;
        big_s += d.sh >= 2 || d.sw >= 2;
        big_k += d.kh >= 7 || d.kw >= 7;
        oned += d.ih == 1 && d.kh == 1 && d.iw > 1;
    }
    CHECK_EQ_I64(named, 1000);
    CHECK_EQ_I64(over, 0);
    /* each awkward feature is well represented, not a token case */
    CHECK(ic3 >= 100);
    CHECK(img1 >= 20);
    CHECK(odd_c >= 700);
    CHECK(asym >= 50);
    CHECK(dil >= 50);
    CHECK(grp >= 50);
    CHECK(wino >= 150);
    CHECK(mb >= 200);
    CHECK(big_s >= 200);
    CHECK(big_k >= 50);
    CHECK(oned >= 20);
    cnnk_batch_free(&b);

    /* reproducible, seed-dependent, and a prefix of a longer sweep */
    char *again = sweep_text(7, 1000), *other = sweep_text(8, 1000), *shorter = sweep_text(7, 10);
    CHECK(again && strcmp(t, again) == 0);
    CHECK(other && strcmp(t, other) != 0);
    if (shorter) {
        const char *body_short = strstr(shorter, "--conv\n"), *body_long = strstr(t, "--conv\n");
        CHECK(body_short && body_long && strncmp(body_short, body_long, strlen(body_short)) == 0);
    }
    free(again);
    free(other);
    free(shorter);
    free(t);
    CHECK(cnnk_sweep_write(1, -1, stdout, &e) == CNNK_EINVAL);

    /* shapes/sweep.txt is exactly `cnnk sweep --seed 1 --count 1200` */
    char *gen = sweep_text(1, 1200);
    FILE *f = fopen("shapes/sweep.txt", "rb");
    CHECK(f != NULL);
    if (f && gen) {
        size_t n = strlen(gen);
        char *file = malloc(n + 2);
        size_t got = file ? fread(file, 1, n + 1, f) : 0;
        CHECK(got == n && memcmp(file, gen, n) == 0);
        free(file);
    }
    if (f) fclose(f);
    free(gen);
}

/* The targeted sweeps: every case applies to every kernel of its strategy
 * (so 10,000 cases are 10,000 checks of each), and they are seeded streams
 * of their own. */
static void test_sweep_kinds(void) {
    static const struct { cnnk_sweep_kind kind; const char *kernels[3]; } kinds[] = {
        {CNNK_SWEEP_WINOGRAD, {"ref/winograd_f2x2", "ref/winograd_f4x4", "ref/winograd_f6x6"}},
        {CNNK_SWEEP_1X1, {"ref/1x1", NULL, NULL}},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
        FILE *f = tmpfile();
        CHECK(f != NULL);
        if (!f) continue;
        cnnk_error e = {{0}};
        CHECK(cnnk_sweep_write_kind(3, 500, kinds[k].kind, f, &e) == CNNK_OK);
        long n = ftell(f);
        char *t = n > 0 ? malloc((size_t)n + 1) : NULL;
        if (t) {
            rewind(f);
            t[fread(t, 1, (size_t)n, f)] = '\0';
        }
        fclose(f);
        CHECK(t && strstr(t, cnnk_sweep_kind_name(kinds[k].kind)));
        cnnk_batch b = {0};
        CHECK(t && cnnk_batch_parse(t, "sweep", &b, &e) == CNNK_OK);
        CHECK_EQ_I64(b.n, 500);
        int applies = 0;
        for (size_t i = 0; i < b.n; ++i) {
            bool all = true;
            for (int j = 0; j < 3 && kinds[k].kernels[j]; ++j) {
                const cnnk_conv_kernel *kk = cnnk_conv_kernel_find(kinds[k].kernels[j]);
                all = all && kk && kk->applies(&b.items[i].u.conv);
            }
            applies += all;
        }
        CHECK_EQ_I64(applies, 500);
        cnnk_batch_free(&b);
        free(t);
    }
    char *general = sweep_text(3, 50);
    FILE *f = tmpfile();
    cnnk_error e = {{0}};
    CHECK(f && cnnk_sweep_write_kind(3, 50, CNNK_SWEEP_ALL, f, &e) == CNNK_OK);
    if (f) {
        long n = ftell(f);
        char *t = malloc((size_t)n + 1);
        rewind(f);
        if (t) t[fread(t, 1, (size_t)n, f)] = '\0';
        CHECK(t && general && strcmp(t, general) == 0); /* ALL is the plain sweep */
        free(t);
        fclose(f);
    }
    free(general);
}

/* Values a descriptor must refuse, never quietly replace: a stride 0 read
 * as 1 (or divided by), a negative or too-large pad, a zero kernel or
 * size, groups that do not divide the channels, sizes whose tensors
 * overflow. Each through the parser (field and column in the message), and
 * the checks the parser shares with the network builder on a descriptor
 * given directly (cnnk factor dilation 0 cannot be written in benchdnn's
 * holes-counting `dh`). */
static void test_refused(void) {
    /* stride 0: conv, deconv, pool, with and without a given output */
    bad("ic3ih5oc4kh3sh0", CNNK_LAYER_CONV, CNNK_EINVAL, "sh=0 must be >= 1", "column 13");
    bad("ic3ih5iw5oc4kh3kw3sw0", CNNK_LAYER_CONV, CNNK_EINVAL, "sw=0 must be >= 1", NULL);
    bad("ic3ih5oc4oh5kh3sh0ph1", CNNK_LAYER_CONV, CNNK_EINVAL, "sh=0", NULL);
    bad("ic3ih5oc4kh3sh0", CNNK_LAYER_DECONV, CNNK_EINVAL, "sh=0", NULL);
    bad("mb1ic1ih10kh3sh0", CNNK_LAYER_POOL, CNNK_EINVAL, "sh=0 must be >= 1", NULL);
    bad("mb1ic1ih10oh5kh3sh0ph1", CNNK_LAYER_POOL, CNNK_EINVAL, "sh=0", NULL);
    /* negative values never reach the descriptor */
    bad("ic3ih5oc4kh3ph-1", CNNK_LAYER_CONV, CNNK_EPARSE, "negative number for 'ph'", NULL);
    bad("ic3ih5oc4kh3sh-2", CNNK_LAYER_CONV, CNNK_EPARSE, "negative number for 'sh'", NULL);
    bad("ic3ih5oc4kh3dh-1", CNNK_LAYER_CONV, CNNK_EPARSE, "negative number for 'dh'", NULL);
    bad("g-1ic3ih5oc4kh3", CNNK_LAYER_CONV, CNNK_EPARSE, "negative number for 'g'", NULL);
    bad("mb1ic1ih10kh3pw-1", CNNK_LAYER_POOL, CNNK_EPARSE, "negative number for 'pw'", NULL);
    /* zero kernel, zero sizes */
    bad("ic3ih5oc4kh0", CNNK_LAYER_CONV, CNNK_EINVAL, "kh=0 must be >= 1", NULL);
    bad("ic3ih5iw5oc4kh3kw0", CNNK_LAYER_CONV, CNNK_EINVAL, "kw=0", NULL);
    bad("mb1ic1ih10kh0", CNNK_LAYER_POOL, CNNK_EINVAL, "kh=0", NULL);
    bad("ic3ih0oc4kh1", CNNK_LAYER_CONV, CNNK_EINVAL, "ih=0", NULL);
    bad("ic3ih5oc0kh1", CNNK_LAYER_CONV, CNNK_EINVAL, "oc=0", NULL);
    bad("g0ic3ih5oc3kh1", CNNK_LAYER_CONV, CNNK_EINVAL, "g=0", NULL);
    bad("mb0ic3ih5oc4kh1", CNNK_LAYER_CONV, CNNK_EINVAL, "mb=0", NULL);
    /* a pooling pad as large as the window reads a window of padding only */
    bad("mb1ic1ih10kh3ph3", CNNK_LAYER_POOL, CNNK_EINVAL, "must be smaller than the kernel", NULL);
    /* groups that do not divide the input or the output channels */
    bad("g3ic4ih5oc6kh3", CNNK_LAYER_CONV, CNNK_EINVAL, "g=3 must divide ic=4 and oc=6", NULL);
    bad("g2ic4ih5oc3kh3", CNNK_LAYER_CONV, CNNK_EINVAL, "g=2 must divide", NULL);
    /* overflow: a field over CNNK_MAX_DIM, a tensor over CNNK_MAX_ELEMS */
    bad("ic3ih16777217oc4kh3", CNNK_LAYER_CONV, CNNK_EOVERFLOW, "ih=16777217 exceeds the limit",
        NULL);
    bad("mb65536ic65536ih16oc4kh3", CNNK_LAYER_CONV, CNNK_EOVERFLOW, "elements", "over the limit");
    bad("mb1ic3ih5oc4kh3dh16777216", CNNK_LAYER_CONV, CNNK_EOVERFLOW, "exceeds the limit", NULL);

    /* the descriptor checks themselves, as the network builder calls them */
    cnnk_conv_desc c = ok("ic3ih5oc4kh3ph1", CNNK_LAYER_CONV).u.conv;
    cnnk_error e = {{0}};
    cnnk_conv_desc x = c;
    x.dh = 0;
    CHECK(cnnk_conv_check(&x, &e) == CNNK_EINVAL && strstr(e.msg, "dh=0 must be >= 1"));
    x = c, x.dw = -1;
    CHECK(cnnk_conv_check(&x, &e) == CNNK_EINVAL && strstr(e.msg, "dw=-1"));
    x = c, x.sh = 0;
    CHECK(cnnk_conv_check(&x, &e) == CNNK_EINVAL && strstr(e.msg, "sh=0"));
    x = c, x.pl = -1;
    CHECK(cnnk_conv_check(&x, &e) == CNNK_EINVAL && strstr(e.msg, "pl=-1"));
    x = c, x.g = 2;
    CHECK(cnnk_conv_check(&x, &e) == CNNK_EINVAL && strstr(e.msg, "g=2 must divide"));
    x = c, x.oh = -1;
    CHECK(cnnk_conv_check(&x, &e) == CNNK_EINVAL);
    x = c, x.dh = CNNK_MAX_DIM, x.kh = 3;
    CHECK(cnnk_conv_check(&x, &e) == CNNK_EOVERFLOW);
    x = c;
    CHECK(cnnk_conv_check(&x, &e) == CNNK_OK); /* the unmodified descriptor is fine */
    cnnk_pool_desc q = ok("mb1ic1ih10kh3sh2ph1", CNNK_LAYER_POOL).u.pool, y = q;
    y.sw = 0;
    CHECK(cnnk_pool_check(&y, &e) == CNNK_EINVAL && strstr(e.msg, "sw=0"));
    y = q, y.kh = 0;
    CHECK(cnnk_pool_check(&y, &e) == CNNK_EINVAL && strstr(e.msg, "kh=0"));
    y = q, y.pb = -1;
    CHECK(cnnk_pool_check(&y, &e) == CNNK_EINVAL && strstr(e.msg, "pb=-1"));
    y = q;
    CHECK(cnnk_pool_check(&y, &e) == CNNK_OK);
}

int main(void) {
    test_sweep_kinds();
    test_conv_full();
    test_conv_defaults();
    test_conv_padding();
    test_deconv();
    test_other_drivers();
    test_options();
    test_names();
    test_errors();
    test_refused();
    test_batch();
    test_networks();
    test_layers_file();
    test_sweep();
    return check_finish("test_parse");
}
