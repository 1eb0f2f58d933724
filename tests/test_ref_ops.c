/* The scalar reference of every non-convolution layer, on small cases whose
 * expected values are worked out by hand in the comments (never by calling
 * the code under test). Every case also runs with pitches ld > c and checks
 * that the pad lanes are neither read nor written. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "kernels/ref/ref.h"
#include "tests/check.h"

/* Written into pad lanes of outputs: must survive. In pad lanes of inputs
 * it would show up in any result that read it. */
#define SENTINEL (-12345.0f)

static void fill(float *p, int64_t n, float v) {
    for (int64_t i = 0; i < n; ++i) p[i] = v;
}

/* ---- pooling ------------------------------------------------------------ */

/* 4x4 ramp x(h,w) = 4h + w in channel 0 and its negation in channel 1,
 * 2x2 max pool stride 2. Channel 0 takes each block's bottom-right
 * (5, 7, 13, 15); channel 1 its top-left, negated (0, -2, -8, -10). */
static void test_pool_max_ramp(void) {
    cnnk_pool_desc d = {.mb = 1, .c = 2, .ih = 4, .iw = 4, .kh = 2, .kw = 2, .sh = 2, .sw = 2,
                        .alg = CNNK_POOL_MAX, .round = CNNK_ROUND_FLOOR};
    CHECK(cnnk_pool_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.oh, 2);
    CHECK_EQ_I64(d.ow, 2);
    float src[16 * 3], dst[4 * 4];
    for (int p = 0; p < 16; ++p) {
        src[p * 3 + 0] = (float)p;
        src[p * 3 + 1] = -(float)p;
        src[p * 3 + 2] = 999.0f; /* a pad lane: would win every max */
    }
    fill(dst, 16, SENTINEL);
    cnnk_ref_pool(&d, src, 3, dst, 4);
    const float want0[4] = {5, 7, 13, 15}, want1[4] = {0, -2, -8, -10};
    for (int p = 0; p < 4; ++p) {
        CHECK(dst[p * 4 + 0] == want0[p]);
        CHECK(dst[p * 4 + 1] == want1[p]);
        CHECK(dst[p * 4 + 2] == SENTINEL && dst[p * 4 + 3] == SENTINEL);
    }
}

/* 3x3 input x(h,w) = 3h + w + 1, 3x3 window, stride 1, padding 1.
 * Corner (0,0): inputs 1+2+4+5 = 12 over 4 real cells of 9:
 *   include pad 12/9, exclude pad 12/4 = 3.
 * Edge (0,1): 1+2+3+4+5+6 = 21 over 6 real cells: 21/9 vs 21/6 = 3.5.
 * Centre: 45/9 = 5 both ways. */
static void test_pool_avg_pad(void) {
    for (int excl = 0; excl < 2; ++excl) {
        cnnk_pool_desc d = {.mb = 1, .c = 1, .ih = 3, .iw = 3, .kh = 3, .kw = 3, .sh = 1,
                            .sw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1,
                            .alg = excl ? CNNK_POOL_AVG_EXCLUDE_PAD : CNNK_POOL_AVG_INCLUDE_PAD};
        CHECK(cnnk_pool_check(&d, NULL) == CNNK_OK);
        CHECK_EQ_I64(d.oh, 3);
        float src[9 * 2], dst[9 * 2];
        for (int p = 0; p < 9; ++p) src[p * 2] = (float)(p + 1), src[p * 2 + 1] = 1e6f;
        fill(dst, 18, SENTINEL);
        cnnk_ref_pool(&d, src, 2, dst, 2);
        CHECK_NEAR(dst[0 * 2], excl ? 3.0 : 12.0 / 9.0, 1e-6);
        CHECK_NEAR(dst[1 * 2], excl ? 3.5 : 21.0 / 9.0, 1e-6);
        CHECK_NEAR(dst[4 * 2], 5.0, 1e-6);
        /* Bottom-right corner: 5+6+8+9 = 28. */
        CHECK_NEAR(dst[8 * 2], excl ? 7.0 : 28.0 / 9.0, 1e-6);
        for (int p = 0; p < 9; ++p) CHECK(dst[p * 2 + 1] == SENTINEL);
    }
}

/* 5x5 input x(h,w) = 5h + w, 2x2 stride 2, no padding. Ceil mode gives 3x3
 * (floor would give 2x2); the last row and column of windows hang one cell
 * over the input and those cells are not counted even with include-pad:
 *   (0,0): (0+1+5+6)/4 = 3      (0,2): (4+9)/2 = 6.5
 *   (2,0): (20+21)/2 = 20.5     (2,2): 24/1 = 24
 * Max: (0,2) = 9, (2,2) = 24. */
static void test_pool_ceil_overhang(void) {
    const cnnk_pool_alg algs[3] = {CNNK_POOL_AVG_INCLUDE_PAD, CNNK_POOL_AVG_EXCLUDE_PAD,
                                   CNNK_POOL_MAX};
    for (int a = 0; a < 3; ++a) {
        cnnk_pool_desc d = {.mb = 1, .c = 1, .ih = 5, .iw = 5, .kh = 2, .kw = 2, .sh = 2,
                            .sw = 2, .alg = algs[a], .round = CNNK_ROUND_CEIL};
        CHECK(cnnk_pool_check(&d, NULL) == CNNK_OK);
        CHECK_EQ_I64(d.oh, 3);
        CHECK_EQ_I64(d.ow, 3);
        float src[25], dst[9];
        for (int p = 0; p < 25; ++p) src[p] = (float)p;
        cnnk_ref_pool(&d, src, 1, dst, 1);
        if (algs[a] == CNNK_POOL_MAX) {
            CHECK(dst[0] == 6.0f && dst[2] == 9.0f && dst[6] == 21.0f && dst[8] == 24.0f);
        } else {
            CHECK(dst[0] == 3.0f);
            CHECK(dst[2] == 6.5f);
            CHECK(dst[6] == 20.5f);
            CHECK(dst[8] == 24.0f);
        }
    }
}

/* Ceil mode with declared padding: a 6x1 column x(h) = h + 1, 3x1 window,
 * stride 2, pt = pb = 1. Ceil gives 4 outputs (floor 3). Windows, in input
 * rows: [-1,1] [1,3] [3,5] [5,7]. Row -1 and row 6 are declared padding,
 * row 7 is overhang.
 *   include: (1+2)/3 = 1, 9/3 = 3, 15/3 = 5, 6/2 = 3 (row 7 not counted)
 *   exclude: 3/2 = 1.5, 3, 5, 6/1 = 6 */
static void test_pool_ceil_with_padding(void) {
    for (int excl = 0; excl < 2; ++excl) {
        cnnk_pool_desc d = {.mb = 1, .c = 1, .ih = 6, .iw = 1, .kh = 3, .kw = 1, .sh = 2,
                            .sw = 1, .pt = 1, .pb = 1, .round = CNNK_ROUND_CEIL,
                            .alg = excl ? CNNK_POOL_AVG_EXCLUDE_PAD : CNNK_POOL_AVG_INCLUDE_PAD};
        CHECK(cnnk_pool_check(&d, NULL) == CNNK_OK);
        CHECK_EQ_I64(d.oh, 4);
        CHECK_EQ_I64(d.ow, 1);
        float src[6] = {1, 2, 3, 4, 5, 6}, dst[4];
        cnnk_ref_pool(&d, src, 1, dst, 1);
        const float inc[4] = {1, 3, 5, 3}, exc[4] = {1.5f, 3, 5, 6};
        for (int i = 0; i < 4; ++i) CHECK_NEAR(dst[i], excl ? exc[i] : inc[i], 1e-6);
    }
}

/* Global pooling of a 2x3 image, 2 images, 2 channels (pitch 3):
 * image 0: channel 0 = 1..6 (avg 3.5, max 6), channel 1 = 10..60 (35, 60);
 * image 1: the same minus 100 (avg -96.5 / -65, max -94 / -40). */
static void test_pool_global(void) {
    for (int mx = 0; mx < 2; ++mx) {
        cnnk_pool_desc d = {.mb = 2, .c = 2, .ih = 2, .iw = 3, .global = true,
                            .alg = mx ? CNNK_POOL_MAX : CNNK_POOL_AVG_EXCLUDE_PAD};
        CHECK(cnnk_pool_check(&d, NULL) == CNNK_OK);
        CHECK_EQ_I64(d.oh, 1);
        CHECK_EQ_I64(d.ow, 1);
        float src[2 * 6 * 3], dst[2 * 3];
        for (int n = 0; n < 2; ++n)
            for (int p = 0; p < 6; ++p) {
                float *x = src + (n * 6 + p) * 3;
                x[0] = (float)(p + 1) - 100.0f * n;
                x[1] = 10.0f * (p + 1) - 100.0f * n;
                x[2] = 1e6f;
            }
        fill(dst, 6, SENTINEL);
        cnnk_ref_pool(&d, src, 3, dst, 3);
        CHECK_NEAR(dst[0], mx ? 6.0 : 3.5, 1e-6);
        CHECK_NEAR(dst[1], mx ? 60.0 : 35.0, 1e-6);
        CHECK_NEAR(dst[3], mx ? -94.0 : -96.5, 1e-6);
        CHECK_NEAR(dst[4], mx ? -40.0 : -65.0, 1e-6);
        CHECK(dst[2] == SENTINEL && dst[5] == SENTINEL);
    }
}

/* ---- LRN ---------------------------------------------------------------- */

/* x = 1, 2, 3, 4; size 3 sums channels c-1..c+1 clipped:
 *   c0: 1+4 = 5, c1: 1+4+9 = 14, c2: 4+9+16 = 29, c3: 9+16 = 25;
 * y = x / (k + alpha/3 * sum)^beta with k = 2, alpha = 0.3, beta = 0.75. */
static void test_lrn_size3(void) {
    cnnk_lrn_desc d = {.mb = 1, .c = 4, .h = 1, .w = 2, .size = 3, .alpha = 0.3f,
                       .beta = 0.75f, .k = 2.0f};
    CHECK(cnnk_lrn_check(&d, NULL) == CNNK_OK);
    float src[2 * 5], dst[2 * 6];
    for (int p = 0; p < 2; ++p) {
        for (int c = 0; c < 4; ++c) src[p * 5 + c] = (float)(c + 1) * (p ? -1.0f : 1.0f);
        src[p * 5 + 4] = 1e3f;
    }
    fill(dst, 12, SENTINEL);
    cnnk_ref_lrn(&d, src, 5, dst, 6);
    const double sums[4] = {5, 14, 29, 25};
    for (int p = 0; p < 2; ++p) {
        for (int c = 0; c < 4; ++c) {
            double want = (c + 1) / pow(2.0 + 0.1 * sums[c], 0.75) * (p ? -1.0 : 1.0);
            CHECK_NEAR(dst[p * 6 + c], want, 1e-6);
        }
        CHECK(dst[p * 6 + 4] == SENTINEL && dst[p * 6 + 5] == SENTINEL);
    }
}

/* size 5 wider than 3 channels: every window holds all channels
 * (1 + 4 + 9 = 14) yet the divisor stays 5: y = x / (1 + 1e-1/5*14)^1. */
static void test_lrn_window_clipped(void) {
    cnnk_lrn_desc d = {.mb = 1, .c = 3, .h = 1, .w = 1, .size = 5, .alpha = 0.1f, .beta = 1.0f,
                       .k = 1.0f};
    CHECK(cnnk_lrn_check(&d, NULL) == CNNK_OK);
    float src[3] = {1, 2, 3}, dst[3];
    cnnk_ref_lrn(&d, src, 3, dst, 3);
    for (int c = 0; c < 3; ++c) CHECK_NEAR(dst[c], (c + 1) / (1.0 + 0.02 * 14.0), 1e-6);
}

/* Even sizes are rejected: PyTorch centres an even window at c - size/2 ..
 * c + (size-1)/2 and oneDNN's reference at c +- (size-1)/2, so no single
 * definition could match both peers. */
static void test_lrn_even_size(void) {
    cnnk_lrn_desc d = {.mb = 1, .c = 4, .h = 1, .w = 1, .size = 4, .alpha = 0.4f, .beta = 0.5f,
                       .k = 1.0f};
    cnnk_error e = {{0}};
    CHECK(cnnk_lrn_check(&d, &e) == CNNK_EINVAL);
    CHECK(strstr(e.msg, "odd") != NULL);
}

/* ---- batch-norm --------------------------------------------------------- */

/* eps = 1 with var = 3 and 0 makes sqrt(var + eps) = 2 and 1:
 *   c0: 2 * (3 - 1) / 2 + 1 = 3;  c1: 0.5 * (-1 - 1) / 1 - 1 = -2.
 * Pixel 1 holds 5 and 7: 2 * 4 / 2 + 1 = 5;  0.5 * 6 - 1 = 2. */
static void test_bnorm(void) {
    cnnk_bnorm_desc d = {.mb = 1, .c = 2, .h = 2, .w = 1, .eps = 1.0f};
    CHECK(cnnk_bnorm_check(&d, NULL) == CNNK_OK);
    const float mean[2] = {1, 1}, var[2] = {3, 0}, gamma[2] = {2, 0.5f}, beta[2] = {1, -1};
    float src[2 * 3] = {3, -1, 1e6f, 5, 7, 1e6f}, dst[2 * 4];
    fill(dst, 8, SENTINEL);
    cnnk_ref_bnorm(&d, src, 3, mean, var, gamma, beta, dst, 4);
    CHECK_NEAR(dst[0], 3.0, 1e-6);
    CHECK_NEAR(dst[1], -2.0, 1e-6);
    CHECK_NEAR(dst[4], 5.0, 1e-6);
    CHECK_NEAR(dst[5], 2.0, 1e-6);
    CHECK(dst[2] == SENTINEL && dst[3] == SENTINEL && dst[6] == SENTINEL && dst[7] == SENTINEL);
}

/* ---- fully connected ---------------------------------------------------- */

/* 2x2x2 input, NHWC: x(h,w,c) = 1 + 4h + 2w + c, stored 1..8 in order.
 * Output 0's weights are one-hot at OIHW flat index 1 = (c0, h0, w1), which
 * selects x(0,1,0) = 3 (an NHWC flattening would pick x(0,0,1) = 2).
 * Output 1's weights are 1..8 in OIHW order: w(c,h,w) = 1 + 4c + 2h + w;
 *   sum x*w over (h,w,c) = 1*1 + 2*5 + 3*2 + 4*6 + 5*3 + 6*7 + 7*4 + 8*8 = 190
 * (the flat dot product 1*1 + ... + 8*8 would be 204).
 * Bias 0.5, -200: 3.5 and -10 (0 with ReLU). Image 1 is image 0 negated:
 * -2.5 and -390 (both 0 with ReLU). */
static void test_fc_flattening(void) {
    cnnk_fc_desc d = {.mb = 2, .ic = 2, .ih = 2, .iw = 2, .oc = 2};
    CHECK(cnnk_fc_check(&d, NULL) == CNNK_OK);
    float src[16], w[16] = {0}, dst[4];
    for (int i = 0; i < 8; ++i) src[i] = (float)(i + 1), src[8 + i] = -(float)(i + 1);
    w[1] = 1.0f;
    for (int i = 0; i < 8; ++i) w[8 + i] = (float)(i + 1);
    const float bias[2] = {0.5f, -200.0f};
    for (int relu = 0; relu < 2; ++relu) {
        cnnk_ref_fc(&d, src, w, bias, dst, relu, 0.0f);
        CHECK(dst[0] == 3.5f);
        CHECK(dst[1] == (relu ? 0.0f : -10.0f));
        CHECK(dst[2] == (relu ? 0.0f : -2.5f));
        CHECK(dst[3] == (relu ? 0.0f : -390.0f));
    }
    cnnk_ref_fc(&d, src, w, NULL, dst, false, 0.0f);
    CHECK(dst[0] == 3.0f && dst[1] == 190.0f && dst[2] == -3.0f && dst[3] == -190.0f);
}

/* ---- softmax ------------------------------------------------------------ */

/* softmax(1, 2, 3) = (e^-2, e^-1, 1) / (1 + e^-1 + e^-2)
 *                 = 0.0900305732, 0.2447284711, 0.6652409558.
 * (1000, 1001, 1002) has the same answer and would overflow exp() in
 * float without subtracting the max. */
static void test_softmax(void) {
    cnnk_softmax_desc d = {.mb = 1, .c = 3, .h = 1, .w = 2};
    CHECK(cnnk_softmax_check(&d, NULL) == CNNK_OK);
    float src[2 * 4] = {1, 2, 3, 1e6f, 1000, 1001, 1002, 1e6f}, dst[2 * 5];
    fill(dst, 10, SENTINEL);
    cnnk_ref_softmax(&d, src, 4, dst, 5);
    const double want[3] = {0.0900305732, 0.2447284711, 0.6652409558};
    for (int p = 0; p < 2; ++p) {
        for (int c = 0; c < 3; ++c) CHECK_NEAR(dst[p * 5 + c], want[c], 1e-7);
        CHECK(dst[p * 5 + 3] == SENTINEL && dst[p * 5 + 4] == SENTINEL);
    }
}

/* ---- bilinear resize ------------------------------------------------------ */

/* [[1, 2], [3, 4]] as PyTorch's F.interpolate(mode="bilinear") gives it
 * (torch 1.13): to 4x4 with align_corners=False each source coordinate is
 * (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to [0, 1]:
 * weights 0, 0.25, 0.75, 1 along each axis; to 3x3 with align_corners=True
 * the coordinates are 0, 0.5, 1. Two channels (the second is 10x the
 * first) at pitches 3 (src) and 4 (dst). */
static void test_resize(void) {
    static const float half[4][4] = {{1.0f, 1.25f, 1.75f, 2.0f},
                                     {1.5f, 1.75f, 2.25f, 2.5f},
                                     {2.5f, 2.75f, 3.25f, 3.5f},
                                     {3.0f, 3.25f, 3.75f, 4.0f}};
    static const float corners[3][3] = {{1, 1.5f, 2}, {2, 2.5f, 3}, {3, 3.5f, 4}};
    float src[4 * 3], dst[16 * 4];
    for (int p = 0; p < 4; ++p) src[p * 3] = (float)(p + 1), src[p * 3 + 1] = 10.0f * (float)(p + 1),
                                src[p * 3 + 2] = SENTINEL;
    for (int ac = 0; ac < 2; ++ac) {
        const int64_t o = ac ? 3 : 4;
        cnnk_resize_desc d = {.mb = 1, .c = 2, .ih = 2, .iw = 2, .oh = o, .ow = o,
                              .align_corners = ac == 1};
        CHECK(cnnk_resize_check(&d, NULL) == CNNK_OK);
        fill(dst, 64, SENTINEL);
        cnnk_ref_resize(&d, src, 3, dst, 4);
        for (int64_t y = 0; y < o; ++y)
            for (int64_t x = 0; x < o; ++x) {
                const float want = ac ? corners[y][x] : half[y][x];
                const float *px = dst + (y * o + x) * 4;
                CHECK(px[0] == want);
                CHECK_NEAR(px[1], 10.0f * want, 1e-5);
                CHECK(px[2] == SENTINEL && px[3] == SENTINEL);
            }
    }
    /* out of range: an output size of 0 */
    cnnk_resize_desc bad = {.mb = 1, .c = 1, .ih = 2, .iw = 2, .oh = 0, .ow = 2};
    CHECK(cnnk_resize_check(&bad, NULL) != CNNK_OK);
}

/* ---- element-wise ------------------------------------------------------- */

/* a = (-1, 0, 2.5), b = (0.5, -3, -1) at two pixels (pitches 4, 5, 6):
 *   relu = (0, 0, 2.5); add = (-0.5, -3, 1.5); add_relu = (0, 0, 1.5);
 *   dropout = a. */
static void test_eltwise(void) {
    const float want[4][3] = {{0, 0, 2.5f}, {-0.5f, -3, 1.5f}, {0, 0, 1.5f}, {-1, 0, 2.5f}};
    const cnnk_eltwise_alg algs[4] = {CNNK_ELTWISE_RELU, CNNK_ELTWISE_ADD,
                                      CNNK_ELTWISE_ADD_RELU, CNNK_ELTWISE_DROPOUT};
    float a[2 * 4], b[2 * 5], dst[2 * 6];
    for (int p = 0; p < 2; ++p) {
        a[p * 4 + 0] = -1, a[p * 4 + 1] = 0, a[p * 4 + 2] = 2.5f, a[p * 4 + 3] = 1e6f;
        b[p * 5 + 0] = 0.5f, b[p * 5 + 1] = -3, b[p * 5 + 2] = -1;
        b[p * 5 + 3] = b[p * 5 + 4] = 1e6f;
    }
    for (int k = 0; k < 4; ++k) {
        cnnk_eltwise_desc d = {.mb = 1, .c = 3, .h = 2, .w = 1, .alg = algs[k]};
        CHECK(cnnk_eltwise_check(&d, NULL) == CNNK_OK);
        bool binary = algs[k] == CNNK_ELTWISE_ADD || algs[k] == CNNK_ELTWISE_ADD_RELU;
        fill(dst, 12, SENTINEL);
        cnnk_ref_eltwise(&d, a, 4, binary ? b : NULL, 5, dst, 6);
        for (int p = 0; p < 2; ++p) {
            for (int c = 0; c < 3; ++c) CHECK(dst[p * 6 + c] == want[k][c]);
            for (int c = 3; c < 6; ++c) CHECK(dst[p * 6 + c] == SENTINEL);
        }
    }
    /* In place, as a network runs a ReLU on its own buffer. */
    cnnk_eltwise_desc d = {.mb = 1, .c = 3, .h = 2, .w = 1, .alg = CNNK_ELTWISE_ADD_RELU};
    cnnk_ref_eltwise(&d, a, 4, b, 5, a, 4);
    CHECK(a[0] == 0 && a[1] == 0 && a[2] == 1.5f && a[3] == 1e6f && a[6] == 1.5f);
}

/* ---- concat ------------------------------------------------------------- */

/* Inputs of 2 and 3 channels (pitches 3 and 4) into a 7-wide buffer:
 * each pixel becomes (a0, a1, b0, b1, b2) and lanes 5, 6 stay untouched. */
static void test_concat(void) {
    cnnk_concat_desc d = {.mb = 1, .h = 1, .w = 3, .n = 2, .c = {2, 3}};
    CHECK(cnnk_concat_check(&d, NULL) == CNNK_OK);
    float a[3 * 3], b[3 * 4], dst[3 * 7];
    for (int p = 0; p < 3; ++p) {
        a[p * 3 + 0] = 10.0f * p + 1, a[p * 3 + 1] = 10.0f * p + 2, a[p * 3 + 2] = 1e6f;
        for (int c = 0; c < 3; ++c) b[p * 4 + c] = 10.0f * p + 3 + c;
        b[p * 4 + 3] = 1e6f;
    }
    const float *srcs[2] = {a, b};
    const int64_t lds[2] = {3, 4};
    fill(dst, 21, SENTINEL);
    cnnk_ref_concat(&d, srcs, lds, dst, 7);
    for (int p = 0; p < 3; ++p) {
        for (int c = 0; c < 5; ++c) CHECK(dst[p * 7 + c] == 10.0f * p + 1 + c);
        CHECK(dst[p * 7 + 5] == SENTINEL && dst[p * 7 + 6] == SENTINEL);
    }
}

/* ---- transposed convolution --------------------------------------------- */

static cnnk_conv_desc deconv_desc(int64_t g, int64_t ic, int64_t ih, int64_t iw, int64_t oc,
                                  int64_t k, int64_t s, int64_t p) {
    cnnk_conv_desc d = {.g = g, .mb = 1, .ic = ic, .ih = ih, .iw = iw, .oc = oc, .kh = k,
                        .kw = k, .sh = s, .sw = s, .pt = p, .pl = p, .pb = p, .pr = p,
                        .dh = 1, .dw = 1, .transposed = true};
    return d;
}

/* 2x2 input (1 2; 3 4), kernel (1 10; 100 1000), stride 2: each input
 * pixel stamps the kernel, scaled, onto its own 2x2 block of the 4x4
 * output: dst[2i + kh][2j + kw] = x[i][j] * w[kh][kw]. */
static void test_deconv_stride2(void) {
    cnnk_conv_desc d = deconv_desc(1, 1, 2, 2, 1, 2, 2, 0);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.oh, 4);
    CHECK_EQ_I64(d.ow, 4);
    float src[4 * 2] = {1, 1e6f, 2, 1e6f, 3, 1e6f, 4, 1e6f}, w[4] = {1, 10, 100, 1000};
    float dst[16 * 2];
    fill(dst, 32, SENTINEL);
    cnnk_ref_deconv(&d, src, 2, w, dst, 2, NULL);
    const float want[16] = {1,   10,   2,   20,   100, 1000, 200, 2000,
                            3,   30,   4,   40,   300, 3000, 400, 4000};
    for (int p = 0; p < 16; ++p) {
        CHECK(dst[p * 2] == want[p]);
        CHECK(dst[p * 2 + 1] == SENTINEL);
    }
}

/* 2x2 input (1 2; 3 4), 3x3 kernel 1..9, stride 2, padding 1: the full
 * 5x5 scatter full[2i + kh][2j + kw] += x[i][j] * w[kh][kw], cropped by one
 * on each side, 3x3:
 *   (0,0) = 1*w11 = 5                 (0,1) = 1*w12 + 2*w10 = 6 + 8 = 14
 *   (0,2) = 2*w11 = 10                (1,0) = 1*w21 + 3*w01 = 8 + 6 = 14
 *   (1,1) = 1*w22 + 2*w20 + 3*w02 + 4*w00 = 9 + 14 + 9 + 4 = 36
 *   (1,2) = 2*w21 + 4*w01 = 16 + 8 = 24   (2,0) = 3*w11 = 15
 *   (2,1) = 3*w12 + 4*w10 = 18 + 16 = 34  (2,2) = 4*w11 = 20 */
static void test_deconv_padding(void) {
    cnnk_conv_desc d = deconv_desc(1, 1, 2, 2, 1, 3, 2, 1);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.oh, 3);
    CHECK_EQ_I64(d.ow, 3);
    float src[4] = {1, 2, 3, 4}, w[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, dst[9];
    cnnk_ref_deconv(&d, src, 1, w, dst, 1, NULL);
    const float want[9] = {5, 14, 10, 14, 36, 24, 15, 34, 20};
    for (int p = 0; p < 9; ++p) CHECK(dst[p] == want[p]);
}

/* Dilation 2, stride 1, a 2x1 column (1; 2) and a 2x1 kernel (10; 100):
 * oh = (2-1)*1 + (2-1)*2 + 1 = 4 and dst[ih + 2*kh] = x[ih] * w[kh]:
 * (10, 20, 100, 200). */
static void test_deconv_dilation(void) {
    cnnk_conv_desc d = {.g = 1, .mb = 1, .ic = 1, .ih = 2, .iw = 1, .oc = 1, .kh = 2, .kw = 1,
                        .sh = 1, .sw = 1, .dh = 2, .dw = 1, .transposed = true};
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.oh, 4);
    CHECK_EQ_I64(d.ow, 1);
    float src[2] = {1, 2}, w[2] = {10, 100}, dst[4];
    cnnk_ref_deconv(&d, src, 1, w, dst, 1, NULL);
    CHECK(dst[0] == 10 && dst[1] == 20 && dst[2] == 100 && dst[3] == 200);
}

/* Weight order with ic != oc: 1x1 kernel, ic = 2, oc = 3, OIHW with O the
 * deconvolution's outputs: dst[o] = sum_i x[i] * w[o][i]. x = (1, 2),
 * w = (1 10; 100 1000; 2 3): (21, 2100, 8). Two images, the second x * -1. */
static void test_deconv_weight_order(void) {
    cnnk_conv_desc d = deconv_desc(1, 2, 1, 1, 3, 1, 1, 0);
    d.mb = 2;
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    float src[2 * 3] = {1, 2, 1e6f, -1, -2, 1e6f}, w[6] = {1, 10, 100, 1000, 2, 3};
    float dst[2 * 4];
    fill(dst, 8, SENTINEL);
    cnnk_ref_deconv(&d, src, 3, w, dst, 4, NULL);
    CHECK(dst[0] == 21 && dst[1] == 2100 && dst[2] == 8 && dst[3] == SENTINEL);
    CHECK(dst[4] == -21 && dst[5] == -2100 && dst[6] == -8 && dst[7] == SENTINEL);
}

/* Groups: g = 2, ic = 2, oc = 4 (one input, two outputs per group), 1x1:
 * dst[2g + o] = x[g] * w[g][o]. x = (3, 5), w = (1, 2, 3, 4): (3, 6, 15, 20). */
static void test_deconv_groups(void) {
    cnnk_conv_desc d = deconv_desc(2, 2, 1, 1, 4, 1, 1, 0);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    float src[3] = {3, 5, 1e6f}, w[4] = {1, 2, 3, 4}, dst[5];
    fill(dst, 5, SENTINEL);
    cnnk_ref_deconv(&d, src, 3, w, dst, 5, NULL);
    CHECK(dst[0] == 3 && dst[1] == 6 && dst[2] == 15 && dst[3] == 20 && dst[4] == SENTINEL);
}

/* The epilogue, in its order: bias, then residual, then ReLU. The weight
 * order case above gives (21, 2100, 8) and (-21, -2100, -8); bias
 * (-30, 0, 1) and residual (1, -3000, 0 | 100, 0, 0) at pitch 4:
 *   pixel 0: 21-30+1 = -8 -> 0;  2100-3000 = -900 -> 0;  8+1 = 9
 *   pixel 1: -21-30+100 = 49;    -2100 -> 0;             -8+1 = -7 -> 0
 * Without ReLU: (-8, -900, 9 | 49, -2100, -7). */
static void test_deconv_epilogue(void) {
    cnnk_conv_desc d = deconv_desc(1, 2, 1, 2, 3, 1, 1, 0);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    float src[2 * 2] = {1, 2, -1, -2}, w[6] = {1, 10, 100, 1000, 2, 3}, dst[2 * 3];
    const float bias[3] = {-30, 0, 1};
    const float residual[2 * 4] = {1, -3000, 0, 1e6f, 100, 0, 0, 1e6f};
    for (int relu = 0; relu < 2; ++relu) {
        cnnk_epilogue ep = {.bias = bias, .residual = residual, .residual_ld = 4,
                            .relu = relu};
        cnnk_ref_deconv(&d, src, 2, w, dst, 3, &ep);
        const float with[6] = {0, 0, 9, 49, 0, 0}, without[6] = {-8, -900, 9, 49, -2100, -7};
        for (int i = 0; i < 6; ++i) CHECK(dst[i] == (relu ? with[i] : without[i]));
    }
}

/* The transposed convolution is the adjoint of the convolution with the
 * same geometry: <conv(x), y> == <x, deconv(y)>, the deconvolution's
 * weights being the convolution's with O and I swapped per group
 * (wd[g][a][b] = wc[g][b][a]), as oneDNN runs deconvolution as convolution
 * backward-data. Groups, strides 2 and 3, dilation, asymmetric padding;
 * small integers keep both sides exact. */
static void test_deconv_adjoint(void) {
    enum { G = 2, A = 4, B = 6, MB = 2 };
    cnnk_conv_desc c = {.g = G, .mb = MB, .ic = A, .ih = 8, .iw = 7, .oc = B, .kh = 3,
                        .kw = 2, .sh = 2, .sw = 3, .pt = 1, .pb = 2, .pl = 0, .pr = 1,
                        .dh = 2, .dw = 1};
    CHECK(cnnk_conv_check(&c, NULL) == CNNK_OK);
    CHECK_EQ_I64(c.oh, 4);
    CHECK_EQ_I64(c.ow, 3);
    cnnk_conv_desc t = c;
    t.transposed = true;
    t.ic = B, t.oc = A, t.ih = c.oh, t.iw = c.ow, t.oh = 0, t.ow = 0;
    CHECK(cnnk_conv_check(&t, NULL) == CNNK_OK);
    CHECK_EQ_I64(t.oh, 8);
    CHECK_EQ_I64(t.ow, 7);

    enum { AG = A / G, BG = B / G, K = 3 * 2, NX = MB * 8 * 7, NY = MB * 4 * 3 };
    static float x[NX * (A + 1)], y[NY * (B + 2)], cx[NY * B], ty[NX * A];
    static float wc[B * AG * K], wd[A * BG * K];
    for (int i = 0; i < NX * (A + 1); ++i) x[i] = (float)((i * 7) % 5 - 2);
    for (int i = 0; i < NY * (B + 2); ++i) y[i] = (float)((i * 5) % 7 - 3);
    for (int i = 0; i < B * AG * K; ++i) wc[i] = (float)((i * 3) % 5 - 2);
    for (int g = 0; g < G; ++g)
        for (int b = 0; b < BG; ++b)
            for (int a = 0; a < AG; ++a)
                for (int k = 0; k < K; ++k)
                    wd[((g * AG + a) * BG + b) * K + k] = wc[((g * BG + b) * AG + a) * K + k];

    cnnk_ref_conv(&c, x, A + 1, wc, cx, B, NULL);
    cnnk_ref_deconv(&t, y, B + 2, wd, ty, A, NULL);
    double lhs = 0.0, rhs = 0.0;
    for (int p = 0; p < NY; ++p)
        for (int o = 0; o < B; ++o) lhs += (double)cx[p * B + o] * y[p * (B + 2) + o];
    for (int p = 0; p < NX; ++p)
        for (int i = 0; i < A; ++i) rhs += (double)x[p * (A + 1) + i] * ty[p * A + i];
    CHECK(lhs == rhs);
    CHECK(lhs != 0.0); /* a vacuous 0 == 0 would prove nothing */
}

int main(void) {
    test_pool_max_ramp();
    test_pool_avg_pad();
    test_pool_ceil_overhang();
    test_pool_ceil_with_padding();
    test_pool_global();
    test_lrn_size3();
    test_lrn_window_clipped();
    test_lrn_even_size();
    test_bnorm();
    test_fc_flattening();
    test_softmax();
    test_resize();
    test_eltwise();
    test_concat();
    test_deconv_stride2();
    test_deconv_padding();
    test_deconv_dilation();
    test_deconv_weight_order();
    test_deconv_groups();
    test_deconv_epilogue();
    test_deconv_adjoint();
    return check_finish("test_ref_ops");
}
