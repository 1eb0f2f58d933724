/* Shape arithmetic and descriptor validation (core/desc.c). */
#include <string.h>

#include "check.h"
#include "cnnk/desc.h"

static cnnk_conv_desc conv(int64_t mb, int64_t ic, int64_t ih, int64_t oc, int64_t k, int64_t s,
                           int64_t p) {
    cnnk_conv_desc d;
    memset(&d, 0, sizeof d);
    d.g = 1, d.mb = mb, d.ic = ic, d.ih = d.iw = ih, d.oc = oc, d.kh = d.kw = k;
    d.sh = d.sw = s, d.pt = d.pl = d.pb = d.pr = p, d.dh = d.dw = 1;
    return d;
}

/* The message must name the field. */
static void check_rejects(cnnk_conv_desc d, cnnk_status want, const char *field) {
    cnnk_error e = {{0}};
    cnnk_status s = cnnk_conv_check(&d, &e);
    CHECK(s == want);
    CHECK(strstr(e.msg, field) != NULL);
    if (s != want || !strstr(e.msg, field)) fprintf(stderr, "  message was: %s\n", e.msg);
}

static void test_seed_example(void) {
    /* 32x32x3 convolved by four 5x5x3 filters: 28x28x4, 300 weights + 4 biases. */
    cnnk_conv_desc d = conv(1, 3, 32, 4, 5, 1, 0);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.oh, 28);
    CHECK_EQ_I64(d.ow, 28);
    CHECK_EQ_I64(cnnk_conv_weights(&d), 300);
    CHECK_EQ_I64(cnnk_conv_biases(&d), 4);
    CHECK_EQ_I64(cnnk_conv_macs(&d), 28 * 28 * 4 * 75);
    CHECK_EQ_I64(cnnk_conv_dst_elems(&d), 28 * 28 * 4);
}

static void test_out_size(void) {
    /* AlexNet conv1: 224, k11, s4, p2 -> 55. ResNet conv1: 224, k7, s2, p3 -> 112. */
    CHECK_EQ_I64(cnnk_out_size(224, 11, 4, 2, 2, 1, CNNK_ROUND_FLOOR), 55);
    CHECK_EQ_I64(cnnk_out_size(224, 7, 2, 3, 3, 1, CNNK_ROUND_FLOOR), 112);
    /* Dilation 2 makes a 3x3 kernel span 5. */
    CHECK_EQ_I64(cnnk_out_size(10, 3, 1, 0, 0, 2, CNNK_ROUND_FLOOR), 6);
    /* GoogLeNet's ceil-mode max pools: 112 -> 56, 56 -> 28, 28 -> 14 (k3 s2),
     * where floor gives 55, 27, 13. */
    CHECK_EQ_I64(cnnk_out_size(112, 3, 2, 0, 0, 1, CNNK_ROUND_CEIL), 56);
    CHECK_EQ_I64(cnnk_out_size(112, 3, 2, 0, 0, 1, CNNK_ROUND_FLOOR), 55);
    CHECK_EQ_I64(cnnk_out_size(28, 3, 2, 0, 0, 1, CNNK_ROUND_CEIL), 14);
    /* The PyTorch rule: a last window starting past input + left pad is
     * dropped. 5 wide, k2 s2 p1: ceil((5+2-2)/2)+1 = 4, but the 4th window
     * starts at 6 >= 5 + 1, so 3. */
    CHECK_EQ_I64(cnnk_out_size(5, 2, 2, 1, 1, 1, CNNK_ROUND_CEIL), 3);
    /* A kernel larger than the padded input has no output. */
    CHECK_EQ_I64(cnnk_out_size(3, 5, 1, 0, 0, 1, CNNK_ROUND_FLOOR), -1);
}

static void test_conv_checks(void) {
    cnnk_conv_desc d = conv(1, 3, 8, 4, 3, 1, 1);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.oh, 8);

    d = conv(1, 3, 0, 4, 3, 1, 0);
    check_rejects(d, CNNK_EINVAL, "ih");
    d = conv(1, 3, 8, 4, 3, 0, 0);
    check_rejects(d, CNNK_EINVAL, "sh");
    d = conv(1, 3, 8, 0, 3, 1, 0);
    check_rejects(d, CNNK_EINVAL, "oc");
    d = conv(0, 3, 8, 4, 3, 1, 0);
    check_rejects(d, CNNK_EINVAL, "mb");
    d = conv(1, 3, 4, 4, 7, 1, 0);
    check_rejects(d, CNNK_EINVAL, "larger than the padded input");
    /* Padding as wide as the kernel is legal (PyTorch and oneDNN take it):
     * the border outputs see only padding. */
    d = conv(1, 3, 8, 4, 1, 1, 1);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.oh, 10);
    d = conv(1, 3, 8, 4, 3, 1, 0);
    d.pb = -1;
    check_rejects(d, CNNK_EINVAL, "pb");
    d = conv(1, 4, 8, 6, 3, 1, 0);
    d.g = 4;
    check_rejects(d, CNNK_EINVAL, "g=4");
    d = conv(1, 3, 8, 4, 3, 1, 0);
    d.oh = 7;
    check_rejects(d, CNNK_EINVAL, "oh=7");
    d = conv(1, 3, 8, 4, 3, 1, 0);
    d.dh = 0;
    check_rejects(d, CNNK_EINVAL, "dh");
    /* Sizes: one dimension over the limit, and a product over 2^31 elements
     * whose factors are each fine. */
    d = conv(1, 3, (int64_t)1 << 40, 4, 3, 1, 0);
    check_rejects(d, CNNK_EOVERFLOW, "ih");
    d = conv(4096, 4096, 4096, 4, 1, 1, 0);
    check_rejects(d, CNNK_EOVERFLOW, "src");
    d = conv(1, 3, 8, 4, 3, 1, 0);
    d.kh = CNNK_MAX_DIM, d.dh = CNNK_MAX_DIM;
    check_rejects(d, CNNK_EOVERFLOW, "dilated");
}

static void test_deconv(void) {
    /* The adjoint geometry: 4x4 input, k3 s2 p1 -> (4-1)*2 - 2 + 3 = 7. */
    cnnk_conv_desc d = conv(1, 8, 4, 3, 3, 2, 1);
    d.transposed = true;
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.oh, 7);
    CHECK_EQ_I64(cnnk_conv_macs(&d), 4 * 4 * 8 * 3 * 9);
    d = conv(1, 8, 1, 3, 2, 1, 1);
    d.transposed = true;
    check_rejects(d, CNNK_EINVAL, "no output");
}

static void test_pool_checks(void) {
    cnnk_pool_desc p;
    memset(&p, 0, sizeof p);
    p.mb = 1, p.c = 64, p.ih = p.iw = 112, p.kh = p.kw = 3, p.sh = p.sw = 2;
    p.round = CNNK_ROUND_CEIL;
    CHECK(cnnk_pool_check(&p, NULL) == CNNK_OK);
    CHECK_EQ_I64(p.oh, 56);
    /* Ceil's 56th window ends one past the input: oneDNN needs pad 1. */
    int64_t pb, pr;
    cnnk_pool_end_padding(&p, &pb, &pr);
    CHECK_EQ_I64(pb, 1);
    CHECK_EQ_I64(pr, 1);
    p.round = CNNK_ROUND_FLOOR, p.oh = p.ow = 0;
    CHECK(cnnk_pool_check(&p, NULL) == CNNK_OK);
    cnnk_pool_end_padding(&p, &pb, &pr); /* floor: the declared 0 suffices */
    CHECK_EQ_I64(pb, 0);
    CHECK_EQ_I64(pr, 0);
    p.round = CNNK_ROUND_CEIL, p.oh = 55, p.ow = 55;
    CHECK(cnnk_pool_check(&p, NULL) == CNNK_EINVAL);

    memset(&p, 0, sizeof p);
    p.mb = 1, p.c = 2048, p.ih = p.iw = 7, p.global = true, p.alg = CNNK_POOL_AVG_EXCLUDE_PAD;
    CHECK(cnnk_pool_check(&p, NULL) == CNNK_OK);
    CHECK_EQ_I64(p.kh, 7);
    CHECK_EQ_I64(p.oh, 1);
    CHECK_EQ_I64(p.ow, 1);

    memset(&p, 0, sizeof p);
    p.mb = 1, p.c = 1, p.ih = p.iw = 4, p.kh = p.kw = 2, p.sh = p.sw = 1, p.pt = 2;
    cnnk_error e = {{0}};
    CHECK(cnnk_pool_check(&p, &e) == CNNK_EINVAL);
    CHECK(strstr(e.msg, "padding") != NULL);
    p.pt = 0, p.alg = (cnnk_pool_alg)7;
    CHECK(cnnk_pool_check(&p, &e) == CNNK_EINVAL);
}

static void test_other_checks(void) {
    cnnk_lrn_desc l = {.mb = 1, .c = 96, .h = 55, .w = 55, .size = 5, .alpha = 1e-4f,
                       .beta = 0.75f, .k = 2.0f};
    CHECK(cnnk_lrn_check(&l, NULL) == CNNK_OK);
    l.size = 0;
    CHECK(cnnk_lrn_check(&l, NULL) == CNNK_EINVAL);
    l.size = 5, l.k = 0.0f;
    CHECK(cnnk_lrn_check(&l, NULL) == CNNK_EINVAL);

    cnnk_bnorm_desc b = {.mb = 1, .c = 64, .h = 56, .w = 56, .eps = 1e-5f};
    CHECK(cnnk_bnorm_check(&b, NULL) == CNNK_OK);
    CHECK_EQ_I64(cnnk_bnorm_params(&b), 128);
    b.eps = 0.0f;
    CHECK(cnnk_bnorm_check(&b, NULL) == CNNK_EINVAL);

    /* AlexNet fc6: 256x6x6 -> 4096: 37,748,736 weights. */
    cnnk_fc_desc f = {.mb = 1, .ic = 256, .ih = 6, .iw = 6, .oc = 4096};
    CHECK(cnnk_fc_check(&f, NULL) == CNNK_OK);
    CHECK_EQ_I64(cnnk_fc_weights(&f), 37748736);
    CHECK_EQ_I64(cnnk_fc_macs(&f), 37748736);
    f.oc = 0;
    CHECK(cnnk_fc_check(&f, NULL) == CNNK_EINVAL);
    f.oc = 1 << 20, f.ic = 1 << 20;
    CHECK(cnnk_fc_check(&f, NULL) == CNNK_EOVERFLOW);

    cnnk_concat_desc c = {.mb = 1, .h = 28, .w = 28, .n = 4, .c = {64, 128, 32, 32}};
    CHECK(cnnk_concat_check(&c, NULL) == CNNK_OK);
    c.c[2] = 0;
    CHECK(cnnk_concat_check(&c, NULL) == CNNK_EINVAL);
    c.c[2] = 32, c.n = 0;
    CHECK(cnnk_concat_check(&c, NULL) == CNNK_EINVAL);

    cnnk_eltwise_desc e = {.mb = 1, .c = 64, .h = 56, .w = 56, .alg = CNNK_ELTWISE_ADD_RELU};
    CHECK(cnnk_eltwise_check(&e, NULL) == CNNK_OK);
    e.alg = (cnnk_eltwise_alg)42;
    CHECK(cnnk_eltwise_check(&e, NULL) == CNNK_EINVAL);

    cnnk_softmax_desc s = {.mb = 1, .c = 1000, .h = 1, .w = 1};
    CHECK(cnnk_softmax_check(&s, NULL) == CNNK_OK);
    s.c = -1;
    CHECK(cnnk_softmax_check(&s, NULL) == CNNK_EINVAL);
}

static void test_format(void) {
    cnnk_conv_desc d = conv(1, 64, 56, 64, 3, 1, 1);
    snprintf(d.name, sizeof d.name, "resnet50:layer1.0.conv2");
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    char buf[256];
    cnnk_conv_format(&d, buf, sizeof buf);
    CHECK(strcmp(buf, "g1mb1ic64ih56iw56oc64oh56ow56kh3kw3sh1sw1ph1pw1n\"resnet50:layer1.0.conv2\"") == 0);
    d.dh = 2, d.dw = 3, d.oh = d.ow = 0, d.name[0] = '\0';
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    cnnk_conv_format(&d, buf, sizeof buf);
    CHECK(strstr(buf, "dh1dw2") != NULL);
}

int main(void) {
    test_seed_example();
    test_out_size();
    test_conv_checks();
    test_deconv();
    test_pool_checks();
    test_other_checks();
    test_format();
    return check_finish("test_desc");
}
