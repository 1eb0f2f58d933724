/* validate/onednn: first each wrapper against hand-computed values (so its
 * layout handling is proven on its own: pitches wider than the channels,
 * asymmetric padding, the FC flatten order), then the scalar reference
 * against oneDNN on awkward shapes.
 *
 * Conv, deconv, FC, pooling, add, ReLU and concat run on small integers:
 * every partial sum is an integer below 2^24, so any summation order is
 * exact in float and results must be equal. LRN, softmax and batch-norm
 * go through sqrt/pow/exp and are compared in units of float's epsilon,
 * see near_ulps. Pitch gaps are filled with a sentinel that must survive:
 * oneDNN must neither read (junk there would change results) nor write
 * them. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/desc.h"
#include "kernels/ref/ref.h"
#include "validate/onednn.h"

#if defined(CNNK_HAVE_ONEDNN) && CNNK_HAVE_ONEDNN
#include <dnnl.h>

#define SENTINEL (-12345.0f)

/* ---- buffers ------------------------------------------------------------ */

typedef struct rng {
    uint64_t s;
} rng;

static int rnd_int(rng *r, int lo, int hi) {
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (int)((r->s >> 33) % (uint64_t)(hi - lo + 1));
}

/* npix pixels of pitch ld, every cell the sentinel. */
static float *act_alloc(int64_t npix, int64_t ld) {
    size_t n = (size_t)(npix * ld);
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; ++i) p[i] = SENTINEL;
    return p;
}

static void act_fill(rng *r, float *p, int64_t npix, int64_t ch, int64_t ld, int lo, int hi) {
    for (int64_t q = 0; q < npix; ++q)
        for (int64_t c = 0; c < ch; ++c) p[q * ld + c] = (float)rnd_int(r, lo, hi);
}

static bool gaps_intact(const float *p, int64_t npix, int64_t ch, int64_t ld) {
    for (int64_t q = 0; q < npix; ++q)
        for (int64_t c = ch; c < ld; ++c)
            if (p[q * ld + c] != SENTINEL) return false;
    return true;
}

static int64_t count_unequal(const float *a, int64_t a_ld, const float *b, int64_t b_ld,
                             int64_t npix, int64_t ch, const char *what) {
    int64_t bad = 0;
    for (int64_t q = 0; q < npix; ++q)
        for (int64_t c = 0; c < ch; ++c)
            if (a[q * a_ld + c] != b[q * b_ld + c] && bad++ < 3)
                fprintf(stderr, "%s: pixel %lld channel %lld: onednn %.9g ref %.9g\n", what,
                        (long long)q, (long long)c, a[q * a_ld + c], b[q * b_ld + c]);
    return bad;
}

/* |got - want| <= ulps * FLT_EPSILON * max(|want|, floor). ulps bounds the
 * float rounding of the few operations oneDNN chains (each rounds to half
 * an ulp; its exp/pow approximations add a few ulps); floor is the size
 * below which an absolute bound takes over, for results that cancel. */
static double worst_ulps(const float *a, int64_t a_ld, const float *b, int64_t b_ld,
                         int64_t npix, int64_t ch, double floor) {
    double worst = 0.0;
    for (int64_t q = 0; q < npix; ++q)
        for (int64_t c = 0; c < ch; ++c) {
            double want = b[q * b_ld + c], got = a[q * a_ld + c];
            double scale = fabs(want) > floor ? fabs(want) : floor;
            double e = fabs(got - want) / (scale * FLT_EPSILON);
            if (!(e <= worst)) worst = e; /* NaN sticks */
        }
    return worst;
}

#define CHECK_OK(call)                                                          \
    do {                                                                        \
        cnnk_error e_ = {{0}};                                                  \
        cnnk_status s_ = (call);                                                \
        if (s_ != CNNK_OK) fprintf(stderr, "%s: %s\n", #call, e_.msg);          \
        CHECK(s_ == CNNK_OK);                                                   \
    } while (0)

/* Calls take &e_ as their error: CHECK_OK(cnnk_onednn_x(..., &e_)). */

/* ---- hand-computed cases ------------------------------------------------ */

/* 3x3 input 1..9 in channel 0 of pitch 3 (junk 1000 in the gap), kernel
 * [[1,2],[3,4]], padding top 1 / right 1 only:
 *   y[oh][ow] = sum x[oh-1+kh][ow+kw] * w[kh][kw]
 * gives 11 18 9 / 37 47 21 / 67 77 33. The second output channel has the
 * negated kernel, bias 2, residual 20 and ReLU: max(22 - y, 0), which only
 * the order bias, residual, ReLU produces; channel 0 gets bias 1 and the
 * pixel index as residual. */
static void hand_conv(void) {
    cnnk_conv_desc d = {.g = 1, .mb = 1, .ic = 1, .ih = 3, .iw = 3, .oc = 2, .kh = 2, .kw = 2,
                        .sh = 1, .sw = 1, .pt = 1, .pl = 0, .pb = 0, .pr = 1, .dh = 1, .dw = 1};
    float src[27];
    for (int i = 0; i < 9; ++i) src[i * 3] = (float)(i + 1), src[i * 3 + 1] = src[i * 3 + 2] = 1000;
    const float w[8] = {1, 2, 3, 4, -1, -2, -3, -4};
    const float y[9] = {11, 18, 9, 37, 47, 21, 67, 77, 33};

    float *dst = act_alloc(9, 3);
    CHECK_OK(cnnk_onednn_conv(&d, src, 3, w, NULL, dst, 3, &e_));
    for (int i = 0; i < 9; ++i) CHECK(dst[i * 3] == y[i] && dst[i * 3 + 1] == -y[i]);
    CHECK(gaps_intact(dst, 9, 2, 3));

    float res[27], bias[2] = {1, 2};
    for (int i = 0; i < 9; ++i) res[i * 3] = (float)i, res[i * 3 + 1] = 20, res[i * 3 + 2] = 999;
    cnnk_epilogue ep = {.bias = bias, .residual = res, .residual_ld = 3, .relu = true};
    for (int i = 0; i < 27; ++i) dst[i] = SENTINEL;
    CHECK_OK(cnnk_onednn_conv(&d, src, 3, w, &ep, dst, 3, &e_));
    for (int i = 0; i < 9; ++i) {
        CHECK(dst[i * 3] == y[i] + 1 + (float)i);
        CHECK(dst[i * 3 + 1] == (22 - y[i] > 0 ? 22 - y[i] : 0));
    }
    CHECK(gaps_intact(dst, 9, 2, 3));

    /* The residual may be dst itself (an in-place residual block). */
    for (int i = 0; i < 27; ++i) dst[i] = res[i];
    ep.residual = dst;
    CHECK_OK(cnnk_onednn_conv(&d, src, 3, w, &ep, dst, 3, &e_));
    for (int i = 0; i < 9; ++i) {
        CHECK(dst[i * 3] == y[i] + 1 + (float)i);
        CHECK(dst[i * 3 + 1] == (22 - y[i] > 0 ? 22 - y[i] : 0));
    }
    free(dst);
}

/* Stride-2 2x2 deconvolution stamps x[i][j] * w into output block (i, j):
 * x = [[1,2],[3,4]], w = [[1,2],[3,4]], bias 0.5. */
static void hand_deconv(void) {
    cnnk_conv_desc d = {.g = 1, .mb = 1, .ic = 1, .ih = 2, .iw = 2, .oc = 1, .kh = 2, .kw = 2,
                        .sh = 2, .sw = 2, .dh = 1, .dw = 1, .transposed = true};
    const float src[4] = {1, 2, 3, 4}, w[4] = {1, 2, 3, 4}, bias[1] = {0.5f};
    cnnk_epilogue ep = {.bias = bias};
    float *dst = act_alloc(16, 2);
    CHECK_OK(cnnk_onednn_conv(&d, src, 1, w, &ep, dst, 2, &e_));
    for (int oh = 0; oh < 4; ++oh)
        for (int ow = 0; ow < 4; ++ow) {
            float want = src[(oh / 2) * 2 + ow / 2] * w[(oh % 2) * 2 + ow % 2] + 0.5f;
            CHECK(dst[(oh * 4 + ow) * 2] == want);
        }
    CHECK(gaps_intact(dst, 16, 1, 2));
    free(dst);
}

/* 4x4 input 1..16, 3x3 windows, stride 2, ceil: the second row and column
 * of windows hang one cell over the input. Max: 11 12 15 16. Average over
 * input cells: 54/9, 45/6, 72/6, 54/4. Average counting padding with that
 * overhang is refused (oneDNN would divide by 9 where cnnk divides by 6). */
static void hand_pool_ceil(void) {
    cnnk_pool_desc d = {.mb = 1, .c = 1, .ih = 4, .iw = 4, .kh = 3, .kw = 3, .sh = 2, .sw = 2,
                        .alg = CNNK_POOL_MAX, .round = CNNK_ROUND_CEIL};
    float src[32];
    for (int i = 0; i < 16; ++i) src[i * 2] = (float)(i + 1), src[i * 2 + 1] = 1e6f;
    float *dst = act_alloc(4, 3);
    CHECK_OK(cnnk_onednn_pool(&d, src, 2, dst, 3, &e_));
    CHECK(dst[0] == 11 && dst[3] == 12 && dst[6] == 15 && dst[9] == 16);
    d.alg = CNNK_POOL_AVG_EXCLUDE_PAD;
    CHECK_OK(cnnk_onednn_pool(&d, src, 2, dst, 3, &e_));
    CHECK(dst[0] == 6 && dst[3] == 7.5f && dst[6] == 12 && dst[9] == 13.5f);
    CHECK(gaps_intact(dst, 4, 1, 3));
    d.alg = CNNK_POOL_AVG_INCLUDE_PAD;
    cnnk_error e = {{0}};
    CHECK(cnnk_onednn_pool(&d, src, 2, dst, 3, &e) == CNNK_EUNSUPPORTED);
    CHECK(strstr(e.msg, "overhang") != NULL);
    free(dst);
}

/* 3x3 input 1..9, 2x2 windows, stride 1, padding top/left 1 only: the
 * first window holds 1 input cell of 4, the centre one 1 2 4 5. */
static void hand_pool_pad(void) {
    cnnk_pool_desc d = {.mb = 1, .c = 1, .ih = 3, .iw = 3, .kh = 2, .kw = 2, .sh = 1, .sw = 1,
                        .pt = 1, .pl = 1, .alg = CNNK_POOL_AVG_INCLUDE_PAD};
    float src[9];
    for (int i = 0; i < 9; ++i) src[i] = (float)(i + 1);
    float dst[9];
    CHECK_OK(cnnk_onednn_pool(&d, src, 1, dst, 1, &e_));
    CHECK(dst[0] == 0.25f && dst[1] == 0.75f && dst[4] == 3.0f);
    d.alg = CNNK_POOL_AVG_EXCLUDE_PAD;
    CHECK_OK(cnnk_onednn_pool(&d, src, 1, dst, 1, &e_));
    CHECK(dst[0] == 1.0f && dst[1] == 1.5f && dst[4] == 3.0f);

    cnnk_pool_desc g = {.mb = 2, .c = 2, .ih = 2, .iw = 3, .alg = CNNK_POOL_AVG_EXCLUDE_PAD,
                        .global = true};
    float gs[24], gd[4];
    for (int i = 0; i < 24; ++i) gs[i] = (float)i; /* n, pixel, c: c + 2 p + 12 n */
    CHECK_OK(cnnk_onednn_pool(&g, gs, 2, gd, 2, &e_));
    CHECK(gd[0] == 5 && gd[1] == 6 && gd[2] == 17 && gd[3] == 18);
}

/* size 3, alpha 3 (so alpha/size = 1), beta 1, k 1 on x = 1 2 3:
 * 1/(1+1+4), 2/(1+1+4+9), 3/(1+4+9). Without oneDNN's division of alpha
 * by size the first would be 1/16. */
static void hand_lrn(void) {
    cnnk_lrn_desc d = {.mb = 1, .c = 3, .h = 1, .w = 1, .size = 3, .alpha = 3, .beta = 1, .k = 1};
    const float src[4] = {1, 2, 3, 77};
    float dst[5] = {SENTINEL, SENTINEL, SENTINEL, SENTINEL, SENTINEL};
    CHECK_OK(cnnk_onednn_lrn(&d, src, 4, dst, 5, &e_));
    CHECK_NEAR(dst[0], 1.0 / 6, 4 * FLT_EPSILON);
    CHECK_NEAR(dst[1], 2.0 / 15, 4 * FLT_EPSILON);
    CHECK_NEAR(dst[2], 3.0 / 14, 4 * FLT_EPSILON);
    CHECK(dst[3] == SENTINEL && dst[4] == SENTINEL);
    d.size = 4; /* oneDNN's even window is not cnnk's: refused by the check */
    cnnk_error e = {{0}};
    CHECK(cnnk_onednn_lrn(&d, src, 4, dst, 5, &e) == CNNK_EINVAL);
}

/* mean 1 2, var 3 8, eps 1 (std 2 and 3), gamma 2 3, beta 1 -1:
 * x = 5 11 gives 2*4/2+1 = 5 and 3*9/3-1 = 8, exactly. */
static void hand_bnorm(void) {
    cnnk_bnorm_desc d = {.mb = 1, .c = 2, .h = 1, .w = 2, .eps = 1};
    const float src[6] = {5, 11, 0, 1, 2, 0};
    const float mean[2] = {1, 2}, var[2] = {3, 8}, gamma[2] = {2, 3}, beta[2] = {1, -1};
    float dst[4];
    CHECK_OK(cnnk_onednn_bnorm(&d, src, 3, mean, var, gamma, beta, dst, 2, &e_));
    CHECK(dst[0] == 5 && dst[1] == 8 && dst[2] == 1 && dst[3] == -1);
}

/* NHWC src (w0: c0=1 c1=2, w1: c0=3 c1=4) against OIHW weights
 * w[o][c][h][w] = 1 10 100 1000: the framework flatten pairs x(c0,w1)=3
 * with 10 and x(c1,w0)=2 with 100: 1 + 30 + 200 + 4000 = 4231 (memory
 * order would give 4321). Row 1 is negated, bias 5 7, ReLU. */
static void hand_fc(void) {
    cnnk_fc_desc d = {.mb = 1, .ic = 2, .ih = 1, .iw = 2, .oc = 2};
    const float src[4] = {1, 2, 3, 4};
    const float w[8] = {1, 10, 100, 1000, -1, -10, -100, -1000};
    const float bias[2] = {5, 7};
    float dst[2];
    CHECK_OK(cnnk_onednn_fc(&d, src, w, NULL, dst, false, 0.0f, &e_));
    CHECK(dst[0] == 4231 && dst[1] == -4231);
    CHECK_OK(cnnk_onednn_fc(&d, src, w, bias, dst, true, 0.0f, &e_));
    CHECK(dst[0] == 4236 && dst[1] == 0);
}

/* Softmax of (0, ln 3) is (1/4, 3/4); of equal values 1/c. */
static void hand_softmax(void) {
    cnnk_softmax_desc d = {.mb = 1, .c = 2, .h = 1, .w = 2};
    const float src[6] = {0, logf(3), 50, 7, 7, 50};
    float dst[8];
    for (int i = 0; i < 8; ++i) dst[i] = SENTINEL;
    CHECK_OK(cnnk_onednn_softmax(&d, src, 3, dst, 4, &e_));
    CHECK_NEAR(dst[0], 0.25, 4 * FLT_EPSILON);
    CHECK_NEAR(dst[1], 0.75, 4 * FLT_EPSILON);
    CHECK_NEAR(dst[4], 0.5, 4 * FLT_EPSILON);
    CHECK_NEAR(dst[5], 0.5, 4 * FLT_EPSILON);
    CHECK(gaps_intact(dst, 2, 2, 4));
}

static void hand_eltwise(void) {
    cnnk_eltwise_desc d = {.mb = 1, .c = 2, .h = 1, .w = 2, .alg = CNNK_ELTWISE_RELU};
    const float a[6] = {-1, 2, 99, 3, -4, 99}, b[4] = {10, 20, 1, 1};
    float dst[6];
    for (int i = 0; i < 6; ++i) dst[i] = SENTINEL;
    CHECK_OK(cnnk_onednn_eltwise(&d, a, 3, NULL, 0, dst, 3, &e_));
    CHECK(dst[0] == 0 && dst[1] == 2 && dst[3] == 3 && dst[4] == 0);
    CHECK(gaps_intact(dst, 2, 2, 3));
    float dst4[8];
    for (int i = 0; i < 8; ++i) dst4[i] = SENTINEL;
    CHECK_OK(cnnk_onednn_eltwise(&d, a, 3, NULL, 0, dst4, 4, &e_)); /* restaged src */
    CHECK(dst4[0] == 0 && dst4[1] == 2 && dst4[4] == 3 && dst4[5] == 0);
    CHECK(gaps_intact(dst4, 2, 2, 4));
    d.alg = CNNK_ELTWISE_ADD;
    CHECK_OK(cnnk_onednn_eltwise(&d, a, 3, b, 2, dst, 3, &e_));
    CHECK(dst[0] == 9 && dst[1] == 22 && dst[3] == 4 && dst[4] == -3);
    d.alg = CNNK_ELTWISE_ADD_RELU;
    CHECK_OK(cnnk_onednn_eltwise(&d, a, 3, b, 2, dst, 3, &e_));
    CHECK(dst[0] == 9 && dst[1] == 22 && dst[3] == 4 && dst[4] == 0);
    d.alg = CNNK_ELTWISE_LEAKY_RELU; /* eltwise_relu with alpha */
    d.alpha = 0.25f;
    CHECK_OK(cnnk_onednn_eltwise(&d, a, 3, NULL, 0, dst, 3, &e_));
    CHECK(dst[0] == -0.25f && dst[1] == 2 && dst[3] == 3 && dst[4] == -1);
    d.alpha = 0.0f;
    d.alg = CNNK_ELTWISE_DROPOUT;
    CHECK_OK(cnnk_onednn_eltwise(&d, a, 3, NULL, 0, dst4, 4, &e_));
    CHECK(dst4[0] == -1 && dst4[1] == 2 && dst4[4] == 3 && dst4[5] == -4);
    CHECK(gaps_intact(dst, 2, 2, 3) && gaps_intact(dst4, 2, 2, 4));
}

/* Inputs of 1 (pitch 2) and 2 (pitch 3) channels into pitch 4. */
static void hand_concat(void) {
    cnnk_concat_desc d = {.mb = 1, .h = 1, .w = 2, .n = 2, .c = {1, 2}};
    const float a[4] = {1, -9, 2, -9}, b[6] = {10, 11, -9, 20, 21, -9};
    const float *src[2] = {a, b};
    const int64_t ld[2] = {2, 3};
    float dst[8];
    for (int i = 0; i < 8; ++i) dst[i] = SENTINEL;
    CHECK_OK(cnnk_onednn_concat(&d, src, ld, dst, 4, &e_));
    CHECK(dst[0] == 1 && dst[1] == 10 && dst[2] == 11);
    CHECK(dst[4] == 2 && dst[5] == 20 && dst[6] == 21);
    CHECK(gaps_intact(dst, 2, 3, 4));
}

static void misc(void) {
    CHECK(strcmp(cnnk_onednn_version(), "2.6.3") == 0);
    const dnnl_version_t *v = dnnl_version();
    CHECK(v->major == DNNL_VERSION_MAJOR && v->minor == DNNL_VERSION_MINOR &&
          v->patch == DNNL_VERSION_PATCH);
    CHECK(cnnk_onednn_available());

    cnnk_conv_desc d = {.g = 1, .mb = 1, .ic = 16, .ih = 14, .iw = 14, .oc = 32, .kh = 3,
                        .kw = 3, .sh = 1, .sw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .dh = 1,
                        .dw = 1};
    char name[128];
    cnnk_epilogue ep = {.relu = true};
    CHECK_OK(cnnk_onednn_conv_impl(&d, 16, 32, &ep, name, sizeof name, &e_));
    CHECK(name[0] != '\0');
    printf("onednn %s picks %s for conv ic16 14x14 oc32 k3 + relu\n", cnnk_onednn_version(),
           name);

    cnnk_error e = {{0}};
    cnnk_conv_desc bad = d;
    bad.g = 3; /* does not divide ic */
    float x[1] = {0};
    CHECK(cnnk_onednn_conv(&bad, x, 16, x, NULL, x, 32, &e) == CNNK_EINVAL);
    CHECK(cnnk_onednn_conv(&d, x, 8, x, NULL, x, 32, &e) == CNNK_EINVAL); /* ld < ic */
    CHECK(strstr(e.msg, "pitch") != NULL);
    cnnk_eltwise_desc ed = {.mb = 1, .c = 1, .h = 1, .w = 1, .alg = CNNK_ELTWISE_ADD};
    CHECK(cnnk_onednn_eltwise(&ed, x, 1, NULL, 1, x, 1, &e) == CNNK_EINVAL); /* no b */
}

/* ---- the reference against oneDNN -------------------------------------- */

typedef struct conv_case {
    cnnk_conv_desc d;
    int64_t src_gap, dst_gap; /* pitch = channels + gap */
    bool bias, residual, relu;
    float alpha; /* relu's slope: oneDNN's eltwise_relu alpha (leaky) */
} conv_case;

#define GEOM(mb_, g_, ic_, ih_, iw_, oc_, kh_, kw_, sh_, sw_, pt_, pl_, pb_, pr_, dh_, dw_) \
    .mb = mb_, .g = g_, .ic = ic_, .ih = ih_, .iw = iw_, .oc = oc_, .kh = kh_, .kw = kw_,    \
    .sh = sh_, .sw = sw_, .pt = pt_, .pl = pl_, .pb = pb_, .pr = pr_, .dh = dh_, .dw = dw_

static const conv_case conv_cases[] = {
    {{GEOM(2, 1, 3, 8, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)}, 1, 2, true, false, true, 0.0f},
    {{GEOM(1, 2, 4, 9, 9, 6, 3, 3, 2, 2, 1, 0, 2, 1, 1, 1)}, 0, 3, false, true, false, 0.0f},
    {{GEOM(1, 8, 8, 7, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2)}, 3, 0, true, true, true, 0.0f},
    {{GEOM(1, 1, 3, 11, 10, 4, 5, 3, 3, 2, 2, 1, 0, 2, 2, 1)}, 2, 1, true, false, false, 0.0f},
    {{GEOM(2, 1, 16, 6, 5, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1)}, 0, 0, false, false, true, 0.0f},
    {{GEOM(1, 1, 64, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)}, 0, 0, true, true, true, 0.0f},
    {{GEOM(1, 3, 6, 5, 8, 9, 2, 4, 3, 1, 0, 3, 1, 0, 2, 1)}, 5, 2, true, true, true, 0.0f},
    /* transposed: its ic/ih/iw are the small side */
    {{GEOM(1, 1, 4, 5, 5, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), .transposed = true},
     1, 2, true, false, true, 0.0f},
    {{GEOM(1, 2, 4, 4, 5, 6, 4, 3, 2, 2, 1, 0, 2, 1, 2, 1), .transposed = true},
     0, 1, false, true, false, 0.0f},
    {{GEOM(2, 1, 3, 3, 4, 2, 3, 3, 3, 3, 0, 0, 0, 0, 1, 1), .transposed = true},
     2, 0, true, true, true, 0.0f},
    /* leaky ReLU as the post-op eltwise_relu with alpha (YOLO's 0.1) */
    {{GEOM(2, 1, 3, 8, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)}, 1, 2, true, false, true, 0.1f},
    {{GEOM(1, 1, 64, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)}, 0, 0, true, true, true, 0.125f},
    {{GEOM(1, 1, 4, 5, 5, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), .transposed = true},
     1, 2, true, false, true, 0.1f},
};

static void ref_vs_onednn_conv(const conv_case *k, int idx) {
    cnnk_conv_desc d = k->d;
    cnnk_error e = {{0}};
    if (cnnk_conv_check(&d, &e) != CNNK_OK) {
        fprintf(stderr, "conv case %d: %s\n", idx, e.msg);
        CHECK(!"conv case does not check");
        return;
    }
    rng r = {(uint64_t)idx + 1};
    int64_t sld = d.ic + k->src_gap, dld = d.oc + k->dst_gap;
    int64_t ipix = d.mb * d.ih * d.iw, opix = d.mb * d.oh * d.ow;
    float *src = act_alloc(ipix, sld);
    act_fill(&r, src, ipix, d.ic, sld, -3, 3);
    int64_t nw = cnnk_conv_weights(&d);
    float *w = act_alloc(nw, 1);
    act_fill(&r, w, nw, 1, 1, -2, 2);
    float *bias = act_alloc(d.oc, 1), *res = act_alloc(opix, d.oc + 1);
    act_fill(&r, bias, d.oc, 1, 1, -5, 5);
    act_fill(&r, res, opix, d.oc, d.oc + 1, -20, 20);
    cnnk_epilogue ep = {k->bias ? bias : NULL, k->residual ? res : NULL, d.oc + 1, k->relu,
                        k->alpha};

    float *got = act_alloc(opix, dld), *want = act_alloc(opix, dld);
    CHECK_OK(cnnk_onednn_conv(&d, src, sld, w, &ep, got, dld, &e_));
    if (d.transposed)
        cnnk_ref_deconv(&d, src, sld, w, want, dld, &ep);
    else
        cnnk_ref_conv(&d, src, sld, w, want, dld, &ep);
    char what[64];
    snprintf(what, sizeof what, "conv case %d", idx);
    CHECK_EQ_I64(count_unequal(got, dld, want, dld, opix, d.oc, what), 0);
    CHECK(gaps_intact(got, opix, d.oc, dld));
    free(src), free(w), free(bias), free(res), free(got), free(want);
}

typedef struct pool_case {
    cnnk_pool_desc d;
    int64_t src_gap, dst_gap;
} pool_case;

#define PGEOM(mb_, c_, ih_, iw_, kh_, kw_, sh_, sw_, pt_, pl_, pb_, pr_)                     \
    .mb = mb_, .c = c_, .ih = ih_, .iw = iw_, .kh = kh_, .kw = kw_, .sh = sh_, .sw = sw_,    \
    .pt = pt_, .pl = pl_, .pb = pb_, .pr = pr_

static const pool_case pool_cases[] = {
    {{PGEOM(1, 5, 13, 13, 3, 3, 2, 2, 0, 0, 0, 0), .alg = CNNK_POOL_MAX,
      .round = CNNK_ROUND_CEIL}, 3, 1},
    {{PGEOM(2, 3, 8, 9, 3, 3, 2, 2, 1, 1, 1, 1), .alg = CNNK_POOL_AVG_EXCLUDE_PAD,
      .round = CNNK_ROUND_CEIL}, 0, 2},
    {{PGEOM(1, 4, 7, 7, 2, 2, 2, 2, 1, 1, 1, 1), .alg = CNNK_POOL_AVG_INCLUDE_PAD}, 1, 0},
    /* ceil without overhang: (5 - 3) / 2 is exact */
    {{PGEOM(1, 2, 5, 5, 3, 3, 2, 2, 0, 0, 0, 0), .alg = CNNK_POOL_AVG_INCLUDE_PAD,
      .round = CNNK_ROUND_CEIL}, 0, 0},
    {{PGEOM(2, 10, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0), .alg = CNNK_POOL_AVG_EXCLUDE_PAD,
      .global = true}, 2, 3},
    {{PGEOM(1, 3, 10, 11, 4, 3, 3, 3, 2, 0, 1, 2), .alg = CNNK_POOL_MAX}, 1, 1},
    {{PGEOM(1, 3, 10, 11, 4, 3, 3, 3, 2, 0, 1, 2), .alg = CNNK_POOL_AVG_EXCLUDE_PAD,
      .round = CNNK_ROUND_CEIL}, 1, 1},
};

static void ref_vs_onednn_pool(const pool_case *k, int idx) {
    cnnk_pool_desc d = k->d;
    cnnk_error e = {{0}};
    if (cnnk_pool_check(&d, &e) != CNNK_OK) {
        fprintf(stderr, "pool case %d: %s\n", idx, e.msg);
        CHECK(!"pool case does not check");
        return;
    }
    rng r = {(uint64_t)idx + 101};
    int64_t sld = d.c + k->src_gap, dld = d.c + k->dst_gap;
    int64_t ipix = d.mb * d.ih * d.iw, opix = d.mb * d.oh * d.ow;
    float *src = act_alloc(ipix, sld), *got = act_alloc(opix, dld), *want = act_alloc(opix, dld);
    act_fill(&r, src, ipix, d.c, sld, -50, 50);
    CHECK_OK(cnnk_onednn_pool(&d, src, sld, got, dld, &e_));
    cnnk_ref_pool(&d, src, sld, want, dld);
    char what[64];
    snprintf(what, sizeof what, "pool case %d", idx);
    CHECK_EQ_I64(count_unequal(got, dld, want, dld, opix, d.c, what), 0);
    CHECK(gaps_intact(got, opix, d.c, dld));
    free(src), free(got), free(want);
}

/* LRN: oneDNN sums the squares in float (exact: integers below 2^24),
 * then one multiply-add and pow(base, -beta), each a few ulps; the
 * reference is double rounded once. 8 ulps bounds the chain. */
#define LRN_ULPS 8.0

static void ref_vs_onednn_lrn(void) {
    static const cnnk_lrn_desc cases[] = {
        {.mb = 1, .c = 16, .h = 5, .w = 4, .size = 5, .alpha = 1e-4f, .beta = 0.75f, .k = 2},
        {.mb = 2, .c = 7, .h = 3, .w = 3, .size = 3, .alpha = 0.5f, .beta = 0.75f, .k = 1},
        {.mb = 1, .c = 3, .h = 2, .w = 5, .size = 5, .alpha = 2.0f, .beta = 0.5f, .k = 1},
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); ++i) {
        const cnnk_lrn_desc *d = &cases[i];
        rng r = {(uint64_t)i + 201};
        int64_t npix = d->mb * d->h * d->w, sld = d->c + i, dld = d->c + 2 * (i % 2);
        float *src = act_alloc(npix, sld);
        float *got = act_alloc(npix, dld), *want = act_alloc(npix, dld);
        act_fill(&r, src, npix, d->c, sld, -9, 9);
        CHECK_OK(cnnk_onednn_lrn(d, src, sld, got, dld, &e_));
        cnnk_ref_lrn(d, src, sld, want, dld);
        double u = worst_ulps(got, dld, want, dld, npix, d->c, 0.0);
        printf("lrn case %d: max error %.2f ulps\n", i, u);
        CHECK(u <= LRN_ULPS);
        CHECK(gaps_intact(got, npix, d->c, dld));
        free(src), free(got), free(want);
    }
}

/* Softmax: exp (a few ulps in oneDNN's vector exp), a float sum of c
 * terms in [0, 1] and a division: the relative error of the sum grows
 * with c, so the bound is 8 ulps plus c/2 (half an ulp per addition). */
static void ref_vs_onednn_softmax(void) {
    static const cnnk_softmax_desc cases[] = {
        {.mb = 1, .c = 10, .h = 1, .w = 1},
        {.mb = 2, .c = 7, .h = 3, .w = 2},
        {.mb = 1, .c = 1000, .h = 1, .w = 1},
        {.mb = 1, .c = 1, .h = 2, .w = 2},
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); ++i) {
        const cnnk_softmax_desc *d = &cases[i];
        rng r = {(uint64_t)i + 301};
        int64_t npix = d->mb * d->h * d->w, sld = d->c + 1 + i, dld = d->c + (i % 2);
        float *src = act_alloc(npix, sld);
        float *got = act_alloc(npix, dld), *want = act_alloc(npix, dld);
        act_fill(&r, src, npix, d->c, sld, -8, 8);
        CHECK_OK(cnnk_onednn_softmax(d, src, sld, got, dld, &e_));
        cnnk_ref_softmax(d, src, sld, want, dld);
        double u = worst_ulps(got, dld, want, dld, npix, d->c, 0.0);
        printf("softmax case %d (c=%lld): max error %.2f ulps\n", i, (long long)d->c, u);
        CHECK(u <= 8.0 + (double)d->c / 2);
        CHECK(gaps_intact(got, npix, d->c, dld));
        free(src), free(got), free(want);
    }
}

/* Batch-norm: scale = gamma / sqrt(var + eps) and y = scale * (x - mean)
 * + beta, four roundings on operands up to ~16 in size. The result may
 * cancel to near 0, so the bound is relative to 16 there: 4 ulps of 16. */
static void ref_vs_onednn_bnorm(void) {
    static const cnnk_bnorm_desc cases[] = {
        {.mb = 1, .c = 16, .h = 4, .w = 3, .eps = 1e-5f},
        {.mb = 2, .c = 5, .h = 3, .w = 3, .eps = 1e-3f},
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); ++i) {
        const cnnk_bnorm_desc *d = &cases[i];
        rng r = {(uint64_t)i + 401};
        int64_t npix = d->mb * d->h * d->w, sld = d->c + 2 * i, dld = d->c + 1;
        float *src = act_alloc(npix, sld);
        float *got = act_alloc(npix, dld), *want = act_alloc(npix, dld);
        float *p = act_alloc(4 * d->c, 1);
        float *mean = p, *var = p + d->c, *gamma = p + 2 * d->c, *beta = p + 3 * d->c;
        act_fill(&r, src, npix, d->c, sld, -4, 4);
        act_fill(&r, mean, d->c, 1, 1, -2, 2);
        act_fill(&r, var, d->c, 1, 1, 1, 9);
        act_fill(&r, gamma, d->c, 1, 1, -3, 3);
        act_fill(&r, beta, d->c, 1, 1, -2, 2);
        CHECK_OK(cnnk_onednn_bnorm(d, src, sld, mean, var, gamma, beta, got, dld, &e_));
        cnnk_ref_bnorm(d, src, sld, mean, var, gamma, beta, want, dld);
        double u = worst_ulps(got, dld, want, dld, npix, d->c, 16.0);
        printf("bnorm case %d: max error %.2f ulps of max(|y|, 16)\n", i, u);
        CHECK(u <= 4.0);
        CHECK(gaps_intact(got, npix, d->c, dld));
        free(src), free(got), free(want), free(p);
    }
}

static void ref_vs_onednn_fc(void) {
    static const cnnk_fc_desc cases[] = {
        {.mb = 1, .ic = 3, .ih = 4, .iw = 5, .oc = 7},
        {.mb = 2, .ic = 64, .ih = 3, .iw = 3, .oc = 10},
        {.mb = 3, .ic = 100, .ih = 1, .iw = 1, .oc = 9},
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); ++i) {
        const cnnk_fc_desc *d = &cases[i];
        rng r = {(uint64_t)i + 501};
        int64_t nin = d->mb * d->ih * d->iw * d->ic, nw = cnnk_fc_weights(d);
        float *src = act_alloc(nin, 1), *w = act_alloc(nw, 1), *bias = act_alloc(d->oc, 1);
        float *got = act_alloc(d->mb * d->oc, 1), *want = act_alloc(d->mb * d->oc, 1);
        act_fill(&r, src, nin, 1, 1, -3, 3);
        act_fill(&r, w, nw, 1, 1, -2, 2);
        act_fill(&r, bias, d->oc, 1, 1, -9, 9);
        bool relu = i % 2 == 0;
        const float alpha = i == 2 ? 0.1f : 0.0f; /* the last: leaky ReLU */
        const float *b = i == 1 ? NULL : bias;
        CHECK_OK(cnnk_onednn_fc(d, src, w, b, got, relu, alpha, &e_));
        cnnk_ref_fc(d, src, w, b, want, relu, alpha);
        char what[64];
        snprintf(what, sizeof what, "fc case %d", i);
        CHECK_EQ_I64(count_unequal(got, d->oc, want, d->oc, d->mb, d->oc, what), 0);
        free(src), free(w), free(bias), free(got), free(want);
    }
}

static void ref_vs_onednn_eltwise(void) {
    for (int alg = CNNK_ELTWISE_RELU; alg <= CNNK_ELTWISE_DROPOUT; ++alg) {
        cnnk_eltwise_desc d = {.mb = 2, .c = 11, .h = 3, .w = 4, .alg = (cnnk_eltwise_alg)alg};
        rng r = {(uint64_t)alg + 601};
        int64_t npix = d.mb * d.h * d.w, ald = 13, bld = 11, dld = 12 + alg % 2;
        float *a = act_alloc(npix, ald), *b = act_alloc(npix, bld);
        float *got = act_alloc(npix, dld), *want = act_alloc(npix, dld);
        act_fill(&r, a, npix, d.c, ald, -9, 9);
        act_fill(&r, b, npix, d.c, bld, -9, 9);
        CHECK_OK(cnnk_onednn_eltwise(&d, a, ald, b, bld, got, dld, &e_));
        cnnk_ref_eltwise(&d, a, ald, b, bld, want, dld);
        char what[64];
        snprintf(what, sizeof what, "eltwise alg %d", alg);
        CHECK_EQ_I64(count_unequal(got, dld, want, dld, npix, d.c, what), 0);
        CHECK(gaps_intact(got, npix, d.c, dld));
        free(a), free(b), free(got), free(want);
    }
}

static void ref_vs_onednn_concat(void) {
    cnnk_concat_desc d = {.mb = 2, .h = 3, .w = 5, .n = 4, .c = {3, 16, 1, 7}};
    const int64_t ld[4] = {3, 20, 2, 7};
    int64_t npix = d.mb * d.h * d.w, total = 27, dld = 29;
    rng r = {701};
    float *in[4];
    for (int i = 0; i < 4; ++i) {
        in[i] = act_alloc(npix, ld[i]);
        act_fill(&r, in[i], npix, d.c[i], ld[i], -99, 99);
    }
    float *got = act_alloc(npix, dld), *want = act_alloc(npix, dld);
    const float *const src[4] = {in[0], in[1], in[2], in[3]};
    CHECK_OK(cnnk_onednn_concat(&d, src, ld, got, dld, &e_));
    cnnk_ref_concat(&d, src, ld, want, dld);
    CHECK_EQ_I64(count_unequal(got, dld, want, dld, npix, total, "concat"), 0);
    CHECK(gaps_intact(got, npix, total, dld));
    for (int i = 0; i < 4; ++i) free(in[i]);
    free(got), free(want);
}

int main(void) {
    misc();
    hand_conv();
    hand_deconv();
    hand_pool_ceil();
    hand_pool_pad();
    hand_lrn();
    hand_bnorm();
    hand_fc();
    hand_softmax();
    hand_eltwise();
    hand_concat();
    for (int i = 0; i < (int)(sizeof conv_cases / sizeof conv_cases[0]); ++i)
        ref_vs_onednn_conv(&conv_cases[i], i);
    for (int i = 0; i < (int)(sizeof pool_cases / sizeof pool_cases[0]); ++i)
        ref_vs_onednn_pool(&pool_cases[i], i);
    ref_vs_onednn_lrn();
    ref_vs_onednn_softmax();
    ref_vs_onednn_bnorm();
    ref_vs_onednn_fc();
    ref_vs_onednn_eltwise();
    ref_vs_onednn_concat();
    return check_finish("test_onednn");
}

#else /* built without oneDNN: the wrappers must say so, not pretend */

int main(void) {
    cnnk_error e = {{0}};
    cnnk_fc_desc d = {.mb = 1, .ic = 1, .ih = 1, .iw = 1, .oc = 1};
    float x[1] = {0};
    CHECK(!cnnk_onednn_available());
    CHECK(cnnk_onednn_fc(&d, x, x, NULL, x, false, 0.0f, &e) == CNNK_EUNSUPPORTED);
    CHECK(strstr(e.msg, "without oneDNN") != NULL);
    return check_finish("test_onednn");
}

#endif
