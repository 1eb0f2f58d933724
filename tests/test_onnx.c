/* ONNX import (core/onnx.c): small models written here with protobuf-c,
 * one per supported operator and attribute, each run through the
 * reference plan and compared with an independent NCHW computation in
 * this file (convolution, pooling) or with the same network built with
 * the builder and the same weights; one per refusal (operator, attribute,
 * opset, data type) and per class of malformed file, the status and the
 * message checked; every truncation of a small model is an error.
 *
 * `test_onnx --write-corpus DIR` writes the valid models into DIR, one NAME.onnx each
 * (the fuzzer's seeds, fuzz/corpus/onnx, and tests/onnx_cli.sh's). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/net.h"
#include "cnnk/npy.h"
#include "cnnk/onnx.h"
#include "cnnk/runner.h"
#include "onnx_model.h"
#include "validate/net_check.h"

static const char *g_corpus; /* --write-corpus DIR */

/* U(-1, 1), a fixed sequence */
static void fill(float *v, int64_t n, unsigned seed) {
    unsigned s = seed * 2654435761u + 1;
    for (int64_t i = 0; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        v[i] = (float)((double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0);
    }
}

static cnnk_status load(om *m, cnnk_net **net, cnnk_error *err, const char *corpus_name) {
    size_t len;
    uint8_t *buf = om_pack(m, &len);
    if (g_corpus && corpus_name) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.onnx", g_corpus, corpus_name);
        FILE *f = fopen(path, "wb");
        if (f) fwrite(buf, 1, len, f), fclose(f);
    }
    cnnk_status s = cnnk_onnx_load_mem(buf, len, "test", 0, net, err);
    free(buf);
    return s;
}

/* The model imported, or NULL (the failure reported). */
static cnnk_net *load_ok(om *m, const char *name) {
    cnnk_net *net = NULL;
    cnnk_error err;
    cnnk_status s = load(m, &net, &err, name);
    if (s != CNNK_OK) fprintf(stderr, "%s: %s\n", name, err.msg);
    CHECK(s == CNNK_OK);
    return net;
}

/* The net's output for an NCHW input, in the framework's layout. */
static float *run_ref(const cnnk_net *net, const float *x_nchw) {
    const int64_t nin = net->mb * net->c * net->h * net->w;
    float *x = malloc((size_t)nin * sizeof *x);
    const int64_t nout = cnnk_net_output_elems(net);
    float *y = malloc((size_t)nout * sizeof *y), *f = malloc((size_t)nout * sizeof *f);
    cnnk_nchw_to_nhwc(x, x_nchw, net->mb, net->c, net->h, net->w);
    cnnk_plan p = {.kind = CNNK_PLAN_REF, .algo = CNNK_ALGO_DIRECT};
    cnnk_runner *r = NULL;
    cnnk_error err;
    cnnk_status s = cnnk_runner_prepare(net, CNNK_ISA_REF, &p, 1, &r, &err);
    CHECK(s == CNNK_OK);
    if (s != CNNK_OK) fprintf(stderr, "prepare: %s\n", err.msg);
    if (s == CNNK_OK) {
        cnnk_runner_forward(r, x, y, false);
        cnnk_net_output_to_framework(net, y, f);
    } else {
        memset(f, 0, (size_t)nout * sizeof *f);
    }
    cnnk_runner_destroy(r);
    free(x), free(y);
    return f;
}

static void check_close(const float *got, const double *want, int64_t n, double tol,
                        const char *what) {
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) {
        double e = fabs(got[i] - want[i]) / (fabs(want[i]) > 1 ? fabs(want[i]) : 1);
        if (!(e <= worst)) worst = e;
    }
    if (!(worst <= tol)) fprintf(stderr, "%s: worst relative error %g > %g\n", what, worst, tol);
    CHECK(worst <= tol);
}

/* ---- an independent NCHW reference ----------------------------------------- */

typedef struct geo {
    int64_t n, c, h, w;      /* input */
    int64_t oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g;
} geo;

static int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1, int64_t d) {
    return (in + p0 + p1 - (k - 1) * d - 1) / s + 1;
}

static double *conv_nchw(const geo *q, const float *x, const float *wt, const float *b,
                         int64_t *oh, int64_t *ow) {
    *oh = out_dim(q->h, q->kh, q->sh, q->pt, q->pb, q->dh);
    *ow = out_dim(q->w, q->kw, q->sw, q->pl, q->pr, q->dw);
    double *y = calloc((size_t)(q->n * q->oc * *oh * *ow), sizeof *y);
    const int64_t icg = q->c / q->g, ocg = q->oc / q->g;
    for (int64_t n = 0; n < q->n; ++n)
        for (int64_t o = 0; o < q->oc; ++o)
            for (int64_t i = 0; i < *oh; ++i)
                for (int64_t j = 0; j < *ow; ++j) {
                    double acc = b ? b[o] : 0;
                    const int64_t grp = o / ocg;
                    for (int64_t ci = 0; ci < icg; ++ci)
                        for (int64_t u = 0; u < q->kh; ++u)
                            for (int64_t v = 0; v < q->kw; ++v) {
                                int64_t yy = i * q->sh - q->pt + u * q->dh;
                                int64_t xx = j * q->sw - q->pl + v * q->dw;
                                if (yy < 0 || yy >= q->h || xx < 0 || xx >= q->w) continue;
                                acc += (double)x[((n * q->c + grp * icg + ci) * q->h + yy) * q->w + xx] *
                                       wt[((o * icg + ci) * q->kh + u) * q->kw + v];
                            }
                    y[((n * q->oc + o) * *oh + i) * *ow + j] = acc;
                }
    return y;
}

/* max (alg 0), average with (1) or without (2) the padding; floor mode */
static double *pool_nchw(const geo *q, const float *x, int alg, int64_t *oh, int64_t *ow) {
    *oh = out_dim(q->h, q->kh, q->sh, q->pt, q->pb, 1);
    *ow = out_dim(q->w, q->kw, q->sw, q->pl, q->pr, 1);
    double *y = calloc((size_t)(q->n * q->c * *oh * *ow), sizeof *y);
    for (int64_t n = 0; n < q->n; ++n)
        for (int64_t c = 0; c < q->c; ++c)
            for (int64_t i = 0; i < *oh; ++i)
                for (int64_t j = 0; j < *ow; ++j) {
                    double acc = alg ? 0 : -INFINITY;
                    int64_t cnt = 0;
                    for (int64_t u = 0; u < q->kh; ++u)
                        for (int64_t v = 0; v < q->kw; ++v) {
                            int64_t yy = i * q->sh - q->pt + u, xx = j * q->sw - q->pl + v;
                            if (yy < 0 || yy >= q->h || xx < 0 || xx >= q->w) continue;
                            double t = x[((n * q->c + c) * q->h + yy) * q->w + xx];
                            acc = alg ? acc + t : (t > acc ? t : acc);
                            ++cnt;
                        }
                    y[((n * q->c + c) * *oh + i) * *ow + j] =
                        alg == 0 ? acc : acc / (double)(alg == 1 ? q->kh * q->kw : cnt);
                }
    return y;
}

/* ---- Conv and its attributes ---------------------------------------------------- */

typedef enum { PAD_EXPLICIT, PAD_SAME_UPPER, PAD_SAME_LOWER, PAD_VALID, PAD_NODE } pad_mode;

/* One Conv of geometry q (padding given by mode) against conv_nchw. */
static void conv_case(const char *name, geo q, pad_mode mode, bool bias) {
    om m;
    om_init(&m, q.n, q.c, q.h, q.w);
    const int64_t wd[4] = {q.oc, q.c / q.g, q.kh, q.kw}, bd[1] = {q.oc};
    const int64_t wc = wd[0] * wd[1] * wd[2] * wd[3];
    float *wt = malloc((size_t)wc * sizeof *wt), *b = malloc((size_t)q.oc * sizeof *b);
    fill(wt, wc, 3), fill(b, q.oc, 4);
    om_init_f(&m, "W", 4, wd, wt);
    if (bias) om_init_f(&m, "B", 1, bd, b);
    const char *x = "x";
    if (mode == PAD_NODE) { /* a Pad in front, folded into the Conv */
        const int64_t pd[1] = {8}, pads[8] = {0, 0, q.pt, q.pl, 0, 0, q.pb, q.pr};
        om_init_i64(&m, "pads", 1, pd, pads);
        om_node(&m, "Pad", "pad", "x,pads", "xp");
        x = "xp";
    }
    char ins[64];
    snprintf(ins, sizeof ins, "%s,W%s", x, bias ? ",B" : "");
    Onnx__NodeProto *n = om_node(&m, "Conv", "conv", ins, "y");
    om_attr_ints(&m, n, "kernel_shape", 2, q.kh, q.kw);
    om_attr_ints(&m, n, "strides", 2, q.sh, q.sw);
    om_attr_ints(&m, n, "dilations", 2, q.dh, q.dw);
    if (q.g != 1) om_attr_i(&m, n, "group", q.g);
    if (mode == PAD_EXPLICIT) om_attr_ints(&m, n, "pads", 4, q.pt, q.pl, q.pb, q.pr);
    if (mode == PAD_SAME_UPPER) om_attr_s(&m, n, "auto_pad", "SAME_UPPER");
    if (mode == PAD_SAME_LOWER) om_attr_s(&m, n, "auto_pad", "SAME_LOWER");
    if (mode == PAD_VALID) om_attr_s(&m, n, "auto_pad", "VALID");
    if (mode == PAD_SAME_UPPER || mode == PAD_SAME_LOWER) {
        /* what ONNX defines: out = ceil(in / s), the odd pixel at the end (upper) */
        for (int a = 0; a < 2; ++a) {
            int64_t in = a ? q.w : q.h, s = a ? q.sw : q.sh, k = a ? q.kw : q.kh,
                    d = a ? q.dw : q.dh;
            int64_t tot = ((in + s - 1) / s - 1) * s + (k - 1) * d + 1 - in;
            if (tot < 0) tot = 0;
            int64_t lo = mode == PAD_SAME_UPPER ? tot / 2 : tot - tot / 2;
            if (a) q.pl = lo, q.pr = tot - lo;
            else q.pt = lo, q.pb = tot - lo;
        }
    }
    if (mode == PAD_VALID) q.pt = q.pl = q.pb = q.pr = 0;
    cnnk_net *net = load_ok(&m, name);
    if (net) {
        const int64_t nin = q.n * q.c * q.h * q.w;
        float *xv = malloc((size_t)nin * sizeof *xv);
        fill(xv, nin, 5);
        int64_t oh, ow;
        double *want = conv_nchw(&q, xv, wt, bias ? b : NULL, &oh, &ow);
        float *got = run_ref(net, xv);
        CHECK_EQ_I64(cnnk_net_output_elems(net), q.n * q.oc * oh * ow);
        CHECK_EQ_I64(cnnk_net_output_rank(net), 4);
        check_close(got, want, q.n * q.oc * oh * ow, 1e-5, name);
        free(xv), free(want), free(got);
    }
    cnnk_net_destroy(net);
    free(wt), free(b);
    om_free(&m);
}

static void test_conv(void) {
    geo q = {.n = 2, .c = 3, .h = 9, .w = 7, .oc = 4, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
             .pt = 1, .pl = 1, .pb = 1, .pr = 1, .dh = 1, .dw = 1, .g = 1};
    conv_case("conv_pads_bias", q, PAD_EXPLICIT, true);
    conv_case("conv_no_bias", q, PAD_EXPLICIT, false);
    geo a = q;
    a.pt = 0, a.pl = 2, a.pb = 1, a.pr = 0; /* asymmetric */
    conv_case("conv_asymmetric_pads", a, PAD_EXPLICIT, true);
    geo s = q;
    s.sh = 2, s.sw = 3, s.kh = 3, s.kw = 2;
    conv_case("conv_strides", s, PAD_EXPLICIT, true);
    geo d = q;
    d.dh = 2, d.dw = 2, d.pt = d.pb = d.pl = d.pr = 2;
    conv_case("conv_dilations", d, PAD_EXPLICIT, true);
    geo g = q;
    g.c = 4, g.oc = 6, g.g = 2;
    conv_case("conv_group", g, PAD_EXPLICIT, true);
    geo dw = q;
    dw.c = 4, dw.oc = 4, dw.g = 4;
    conv_case("conv_depthwise", dw, PAD_EXPLICIT, true);
    geo au = q;
    au.sh = au.sw = 2, au.kh = au.kw = 4;
    conv_case("conv_same_upper", au, PAD_SAME_UPPER, true);
    conv_case("conv_same_lower", au, PAD_SAME_LOWER, true);
    conv_case("conv_valid", q, PAD_VALID, true);
    conv_case("pad_conv", a, PAD_NODE, true);
}

/* ---- ConvTranspose ------------------------------------------------------------------ */

static void expect_fail(const char *what, om *m, cnnk_status want, const char *msg1,
                        const char *msg2);

/* ConvTranspose in NCHW as ONNX defines it, by scattering (the importer's
 * kernels gather): input pixel (i, j) of channel ci adds x * W[ci][o][a][b]
 * at output (i s - pt + a d, j s - pl + b d); the output is
 * (in - 1) s + opad + (k - 1) d + 1 - pbegin - pend. W is [C_in][C_out/g]. */
static double *deconv_nchw(const geo *q, const int64_t opad[2], const float *x, const float *w,
                           const float *b, int64_t *oh, int64_t *ow) {
    *oh = (q->h - 1) * q->sh + opad[0] + (q->kh - 1) * q->dh + 1 - q->pt - q->pb;
    *ow = (q->w - 1) * q->sw + opad[1] + (q->kw - 1) * q->dw + 1 - q->pl - q->pr;
    const int64_t icg = q->c / q->g, ocg = q->oc / q->g;
    double *y = calloc((size_t)(q->n * q->oc * *oh * *ow), sizeof *y);
    for (int64_t n = 0; n < q->n; ++n)
        for (int64_t o = 0; o < q->oc; ++o)
            for (int64_t i = 0; i < *oh * *ow; ++i)
                y[(n * q->oc + o) * *oh * *ow + i] = b ? b[o] : 0.0;
    for (int64_t n = 0; n < q->n; ++n)
        for (int64_t ci = 0; ci < q->c; ++ci)
            for (int64_t i = 0; i < q->h; ++i)
                for (int64_t j = 0; j < q->w; ++j) {
                    const double xv = x[((n * q->c + ci) * q->h + i) * q->w + j];
                    const int64_t g = ci / icg;
                    for (int64_t o = 0; o < ocg; ++o)
                        for (int64_t a = 0; a < q->kh; ++a)
                            for (int64_t bb = 0; bb < q->kw; ++bb) {
                                const int64_t r = i * q->sh - q->pt + a * q->dh;
                                const int64_t cc = j * q->sw - q->pl + bb * q->dw;
                                if (r < 0 || r >= *oh || cc < 0 || cc >= *ow) continue;
                                const double wv = w[((ci * ocg + o) * q->kh + a) * q->kw + bb];
                                y[((n * q->oc + g * ocg + o) * *oh + r) * *ow + cc] += xv * wv;
                            }
                }
    return y;
}

static void deconv_case(const char *name, geo q, const int64_t opad[2], bool bias) {
    om m;
    om_init(&m, q.n, q.c, q.h, q.w);
    const int64_t wd[4] = {q.c, q.oc / q.g, q.kh, q.kw}, bd[1] = {q.oc};
    const int64_t wc = wd[0] * wd[1] * wd[2] * wd[3];
    float *wt = malloc((size_t)wc * sizeof *wt), *b = malloc((size_t)q.oc * sizeof *b);
    fill(wt, wc, 13), fill(b, q.oc, 14);
    om_init_f(&m, "W", 4, wd, wt);
    if (bias) om_init_f(&m, "B", 1, bd, b);
    Onnx__NodeProto *n = om_node(&m, "ConvTranspose", "up", bias ? "x,W,B" : "x,W", "y");
    om_attr_ints(&m, n, "kernel_shape", 2, q.kh, q.kw);
    om_attr_ints(&m, n, "strides", 2, q.sh, q.sw);
    om_attr_ints(&m, n, "dilations", 2, q.dh, q.dw);
    om_attr_ints(&m, n, "pads", 4, q.pt, q.pl, q.pb, q.pr);
    if (opad[0] || opad[1]) om_attr_ints(&m, n, "output_padding", 2, opad[0], opad[1]);
    if (q.g != 1) om_attr_i(&m, n, "group", q.g);
    cnnk_net *net = load_ok(&m, name);
    if (net) {
        const int64_t nin = q.n * q.c * q.h * q.w;
        float *xv = malloc((size_t)nin * sizeof *xv);
        fill(xv, nin, 15);
        int64_t oh, ow;
        double *want = deconv_nchw(&q, opad, xv, wt, bias ? b : NULL, &oh, &ow);
        float *got = run_ref(net, xv);
        CHECK_EQ_I64(cnnk_net_output_elems(net), q.n * q.oc * oh * ow);
        check_close(got, want, q.n * q.oc * oh * ow, 1e-5, name);
        free(xv), free(want), free(got);
    }
    cnnk_net_destroy(net);
    free(wt), free(b);
    om_free(&m);
}

static void test_conv_transpose(void) {
    const int64_t none[2] = {0, 0};
    /* FCN's upscore2: 4x4 stride 2, no padding, no bias */
    geo q = {.n = 2, .c = 5, .h = 4, .w = 3, .oc = 5, .kh = 4, .kw = 4, .sh = 2, .sw = 2,
             .dh = 1, .dw = 1, .g = 1};
    deconv_case("deconv_fcn_upscore2", q, none, false);
    geo a = q; /* asymmetric pads, bias, other channel counts */
    a.oc = 7, a.pt = 1, a.pl = 0, a.pb = 2, a.pr = 3;
    deconv_case("deconv_pads_bias", a, none, true);
    geo s = q; /* strides 3 x 2, kernel 5 x 3, output_padding */
    s.sh = 3, s.sw = 2, s.kh = 5, s.kw = 3, s.pt = s.pb = 2, s.pl = s.pr = 1;
    const int64_t op[2] = {1, 1};
    deconv_case("deconv_output_padding", s, op, true);
    geo d = q; /* dilation 2, groups 5 -> 10 outputs */
    d.dh = d.dw = 2, d.oc = 10, d.g = 5, d.pt = d.pl = d.pb = d.pr = 1;
    deconv_case("deconv_dilated_grouped", d, none, true);
    /* what the node cannot do: refused, named, not guessed */
    om m;
    om_init(&m, 1, 3, 4, 4);
    const int64_t wd[4] = {3, 2, 2, 2};
    float wt[24];
    fill(wt, 24, 1);
    om_init_f(&m, "W", 4, wd, wt);
    Onnx__NodeProto *n = om_node(&m, "ConvTranspose", "up", "x,W", "y");
    om_attr_ints(&m, n, "strides", 2, 2, 2);
    om_attr_ints(&m, n, "output_padding", 2, 1, 1); /* with no end padding to take it from */
    expect_fail("convtranspose output_padding", &m, CNNK_EUNSUPPORTED, "up (ConvTranspose)",
                "output_padding");
    om_free(&m);
    om_init(&m, 1, 3, 4, 4);
    om_init_f(&m, "W", 4, wd, wt);
    n = om_node(&m, "ConvTranspose", "up", "x,W", "y");
    om_attr_ints(&m, n, "output_shape", 2, 8, 8);
    expect_fail("convtranspose output_shape", &m, CNNK_EUNSUPPORTED, "up (ConvTranspose)",
                "output_shape");
    om_free(&m);
    om_init(&m, 1, 3, 4, 4);
    om_init_f(&m, "W", 4, wd, wt);
    om_attr_s(&m, om_node(&m, "ConvTranspose", "up", "x,W", "y"), "auto_pad", "SAME_UPPER");
    expect_fail("convtranspose auto_pad", &m, CNNK_EUNSUPPORTED, "up (ConvTranspose)",
                "auto_pad");
    om_free(&m);
}

/* ---- pooling --------------------------------------------------------------------------- */

static void pool_case(const char *name, const char *op, geo q, int alg, bool include,
                      bool pad_node) {
    om m;
    om_init(&m, q.n, q.c, q.h, q.w);
    const char *x = "x";
    if (pad_node) {
        const int64_t pd[1] = {8}, pads[8] = {0, 0, q.pt, q.pl, 0, 0, q.pb, q.pr};
        om_init_i64(&m, "pads", 1, pd, pads);
        om_node(&m, "Pad", "pad", "x,pads", "xp");
        x = "xp";
    }
    char ins[16];
    snprintf(ins, sizeof ins, "%s", x);
    Onnx__NodeProto *n = om_node(&m, op, "pool", ins, "y");
    om_attr_ints(&m, n, "kernel_shape", 2, q.kh, q.kw);
    om_attr_ints(&m, n, "strides", 2, q.sh, q.sw);
    if (!pad_node) om_attr_ints(&m, n, "pads", 4, q.pt, q.pl, q.pb, q.pr);
    if (include) om_attr_i(&m, n, "count_include_pad", 1);
    cnnk_net *net = load_ok(&m, name);
    if (net) {
        const int64_t nin = q.n * q.c * q.h * q.w;
        float *xv = malloc((size_t)nin * sizeof *xv);
        fill(xv, nin, 6);
        int64_t oh, ow;
        double *want = pool_nchw(&q, xv, alg, &oh, &ow);
        float *got = run_ref(net, xv);
        CHECK_EQ_I64(cnnk_net_output_elems(net), q.n * q.c * oh * ow);
        check_close(got, want, q.n * q.c * oh * ow, 1e-6, name);
        free(xv), free(want), free(got);
    }
    cnnk_net_destroy(net);
    om_free(&m);
}

static void test_pool(void) {
    geo q = {.n = 2, .c = 3, .h = 9, .w = 8, .kh = 3, .kw = 2, .sh = 2, .sw = 2,
             .pt = 1, .pl = 0, .pb = 1, .pr = 1, .dh = 1, .dw = 1, .g = 1};
    pool_case("maxpool_pads", "MaxPool", q, 0, false, false);
    pool_case("avgpool_exclude_pad", "AveragePool", q, 2, false, false);
    pool_case("avgpool_count_include_pad", "AveragePool", q, 1, true, false);
    /* a Pad's zeros are data: the average counts them */
    pool_case("pad_avgpool", "AveragePool", q, 1, false, true);
}

/* ---- against the builder ------------------------------------------------------------ */

/* Runs the imported net and the builder's net (same weights given by the
 * caller) through the reference plan; the outputs must be identical. */
static void same_as_builder(const char *name, om *m, cnnk_net *want_net) {
    cnnk_net *net = load_ok(m, name);
    CHECK(cnnk_net_status(want_net, NULL) == CNNK_OK);
    if (net) {
        CHECK_EQ_I64(net->n, want_net->n);
        CHECK_EQ_I64(cnnk_net_output_elems(net), cnnk_net_output_elems(want_net));
        const int64_t nin = net->mb * net->c * net->h * net->w;
        float *xv = malloc((size_t)nin * sizeof *xv);
        fill(xv, nin, 7);
        float *a = run_ref(net, xv), *b = run_ref(want_net, xv);
        const int64_t n = cnnk_net_output_elems(net);
        double *bd = malloc((size_t)n * sizeof *bd);
        for (int64_t i = 0; i < n; ++i) bd[i] = b[i];
        check_close(a, bd, n, 0.0, name);
        free(xv), free(a), free(b), free(bd);
    }
    cnnk_net_destroy(net);
}

static float *copy_f(const float *v, int64_t n) {
    float *p = malloc((size_t)n * sizeof *p);
    memcpy(p, v, (size_t)n * sizeof *p);
    return p;
}

/* Conv -> BatchNormalization -> Relu -> LRN -> MaxPool(ceil) -> Concat of
 * two branches -> GlobalAveragePool -> Flatten -> Gemm -> Softmax, with
 * Dropout and Identity in between. */
static void test_classifier(void) {
    om m;
    om_init(&m, 2, 3, 12, 12);
    const int64_t wd[4] = {8, 3, 3, 3}, c8[1] = {8}, w1[4] = {4, 8, 1, 1}, c4[1] = {4};
    const int64_t gd[2] = {10, 12}, c10[1] = {10};
    float w[216], b[8], mean[8], var[8], gam[8], bet[8], wb[32], bb[4], gw[120], gb[10];
    fill(w, 216, 11), fill(b, 8, 12), fill(mean, 8, 13), fill(var, 8, 14), fill(gam, 8, 15);
    fill(bet, 8, 16), fill(wb, 32, 17), fill(bb, 4, 18), fill(gw, 120, 19), fill(gb, 10, 20);
    for (int i = 0; i < 8; ++i) var[i] = 1.5f + var[i];
    om_init_f(&m, "W", 4, wd, w), om_init_f(&m, "B", 1, c8, b);
    om_init_f(&m, "mean", 1, c8, mean), om_init_f(&m, "var", 1, c8, var);
    om_init_f(&m, "gamma", 1, c8, gam), om_init_f(&m, "beta", 1, c8, bet);
    om_init_f(&m, "W2", 4, w1, wb), om_init_f(&m, "B2", 1, c4, bb);
    om_init_f(&m, "G", 2, gd, gw), om_init_f(&m, "GB", 1, c10, gb);
    Onnx__NodeProto *n = om_node(&m, "Conv", "conv1", "x,W,B", "c1");
    om_attr_ints(&m, n, "pads", 4, 1, 1, 1, 1);
    n = om_node(&m, "BatchNormalization", "bn1", "c1,gamma,beta,mean,var", "b1");
    om_attr_f(&m, n, "epsilon", 1e-3f);
    om_node(&m, "Relu", "relu1", "b1", "r1");
    n = om_node(&m, "LRN", "lrn1", "r1", "l1");
    om_attr_i(&m, n, "size", 3), om_attr_f(&m, n, "alpha", 1e-2f), om_attr_f(&m, n, "beta", 0.75f);
    om_attr_f(&m, n, "bias", 2.0f);
    n = om_node(&m, "MaxPool", "pool1", "l1", "p1");
    om_attr_ints(&m, n, "kernel_shape", 2, 3, 3), om_attr_ints(&m, n, "strides", 2, 2, 2);
    om_attr_i(&m, n, "ceil_mode", 1);
    om_node(&m, "Dropout", "drop1", "p1", "d1");
    n = om_node(&m, "Conv", "conv2", "d1,W2,B2", "c2");
    om_node(&m, "Identity", "id1", "d1", "i1");
    n = om_node(&m, "Concat", "cat", "c2,i1", "cat");
    om_attr_i(&m, n, "axis", 1);
    om_node(&m, "GlobalAveragePool", "gap", "cat", "g");
    om_node(&m, "Flatten", "flat", "g", "f");
    n = om_node(&m, "Gemm", "fc", "f,G,GB", "logits");
    om_attr_i(&m, n, "transB", 1);
    n = om_node(&m, "Softmax", "prob", "logits", "y");
    om_attr_i(&m, n, "axis", 1);

    cnnk_net *b0 = cnnk_net_create("want", 2, 3, 12, 12);
    int x = cnnk_net_conv(b0, "conv1", 0, 8, 3, 1, 1, true);
    int c1 = x;
    x = cnnk_net_bnorm(b0, "bn1", x, 1e-3f);
    int bn = x;
    x = cnnk_net_relu(b0, "relu1", x);
    x = cnnk_net_lrn(b0, "lrn1", x, 3, 1e-2f, 0.75f, 2.0f);
    x = cnnk_net_maxpool(b0, "pool1", x, 3, 2, 0, true);
    int c2 = cnnk_net_conv(b0, "conv2", x, 4, 1, 1, 0, true);
    int in[2] = {c2, x};
    x = cnnk_net_concat(b0, "cat", 2, in);
    x = cnnk_net_global_avgpool(b0, "gap", x);
    int fc = cnnk_net_fc(b0, "fc", x, 10);
    cnnk_net_softmax(b0, "prob", fc);
    if (cnnk_net_status(b0, NULL) == CNNK_OK) {
        b0->nodes[c1].weights = copy_f(w, 216), b0->nodes[c1].bias = copy_f(b, 8);
        b0->nodes[bn].bn[0] = copy_f(mean, 8), b0->nodes[bn].bn[1] = copy_f(var, 8);
        b0->nodes[bn].bn[2] = copy_f(gam, 8), b0->nodes[bn].bn[3] = copy_f(bet, 8);
        b0->nodes[c2].weights = copy_f(wb, 32), b0->nodes[c2].bias = copy_f(bb, 4);
        b0->nodes[fc].weights = copy_f(gw, 120), b0->nodes[fc].bias = copy_f(gb, 10);
    }
    same_as_builder("classifier", &m, b0);
    cnnk_net_destroy(b0);
    om_free(&m);
}

/* Conv -> Add (residual) -> Reshape([N, -1] from a Constant) -> MatMul + Add (bias),
 * and AveragePool with ceil_mode. */
static void test_residual_matmul(void) {
    om m;
    om_init(&m, 1, 4, 6, 6);
    const int64_t wd[4] = {4, 4, 3, 3}, c4[1] = {4}, md[2] = {36, 5}, c5[1] = {5};
    float w[144], b[4], mw[180], mb[5];
    fill(w, 144, 21), fill(b, 4, 22), fill(mw, 180, 23), fill(mb, 5, 24);
    om_init_f(&m, "W", 4, wd, w), om_init_f(&m, "B", 1, c4, b);
    om_init_f(&m, "M", 2, md, mw), om_init_f(&m, "MB", 1, c5, mb);
    Onnx__NodeProto *n = om_node(&m, "Conv", "conv", "x,W,B", "c");
    om_attr_ints(&m, n, "pads", 4, 1, 1, 1, 1);
    om_node(&m, "Add", "res", "c,x", "a");
    n = om_node(&m, "AveragePool", "pool", "a", "p");
    om_attr_ints(&m, n, "kernel_shape", 2, 2, 2), om_attr_ints(&m, n, "strides", 2, 2, 2);
    om_attr_i(&m, n, "ceil_mode", 1);
    n = om_node(&m, "Constant", "shape", "", "s");
    {
        const int64_t sd[1] = {2}, sv[2] = {1, -1};
        Onnx__AttributeProto *a = om_attr(&m, n, "value");
        a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
        a->t = om_tensor(&m, "sv", 7, 1, sd, sv, sizeof sv);
    }
    om_node(&m, "Reshape", "flat", "p,s", "f");
    om_node(&m, "MatMul", "fc", "f,M", "mm");
    om_node(&m, "Add", "fc_bias", "mm,MB", "y");

    cnnk_net *b0 = cnnk_net_create("want", 1, 4, 6, 6);
    int c = cnnk_net_conv(b0, "conv", 0, 4, 3, 1, 1, true);
    int x = cnnk_net_add(b0, "res", c, 0);
    x = cnnk_net_avgpool(b0, "pool", x, 2, 2, 0, true, false);
    int fc = cnnk_net_fc(b0, "fc", x, 5);
    if (cnnk_net_status(b0, NULL) == CNNK_OK) {
        b0->nodes[c].weights = copy_f(w, 144), b0->nodes[c].bias = copy_f(b, 4);
        float *t = malloc(180 * sizeof *t);
        for (int k = 0; k < 36; ++k)
            for (int o = 0; o < 5; ++o) t[o * 36 + k] = mw[k * 5 + o];
        b0->nodes[fc].weights = t, b0->nodes[fc].bias = copy_f(mb, 5);
    }
    same_as_builder("residual_matmul", &m, b0);
    cnnk_net_destroy(b0);
    om_free(&m);
}

/* LeakyRelu after a convolution (fused into its epilogue by the runner) and
 * alone, with its slope given and with ONNX's default 0.01. */
static void test_leaky_relu(void) {
    const geo q = {.n = 2, .c = 3, .h = 6, .w = 5, .oc = 4, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                   .pt = 1, .pl = 1, .pb = 1, .pr = 1, .dh = 1, .dw = 1, .g = 1};
    for (int given = 0; given < 2; ++given) {
        om m;
        om_init(&m, q.n, q.c, q.h, q.w);
        const int64_t wd[4] = {q.oc, q.c, q.kh, q.kw}, bd[1] = {q.oc};
        float wt[108], b[4];
        fill(wt, 108, 41), fill(b, 4, 42);
        om_init_f(&m, "W", 4, wd, wt), om_init_f(&m, "B", 1, bd, b);
        Onnx__NodeProto *n = om_node(&m, "Conv", "conv", "x,W,B", "c");
        om_attr_ints(&m, n, "pads", 4, 1, 1, 1, 1);
        n = om_node(&m, "LeakyRelu", "leaky1", "c", "l");
        if (given) om_attr_f(&m, n, "alpha", 0.2f);
        n = om_node(&m, "LeakyRelu", "leaky2", "l", "y");
        om_attr_f(&m, n, "alpha", 0.5f);
        cnnk_net *net = load_ok(&m, given ? "leaky_alpha" : "leaky_default");
        if (net) {
            const int64_t nin = q.n * q.c * q.h * q.w;
            float xv[180];
            fill(xv, nin, 43);
            int64_t oh, ow;
            double *want = conv_nchw(&q, xv, wt, b, &oh, &ow);
            const double a1 = given ? 0.2 : 0.01;
            for (int64_t i = 0; i < q.n * q.oc * oh * ow; ++i) {
                if (want[i] < 0) want[i] *= a1;
                if (want[i] < 0) want[i] *= 0.5;
            }
            float *got = run_ref(net, xv);
            check_close(got, want, q.n * q.oc * oh * ow, 1e-5, given ? "leaky_alpha" : "leaky_default");
            free(want), free(got);
        }
        cnnk_net_destroy(net);
        om_free(&m);
    }
}

/* The shape chain exporters put before a Reshape: Shape -> Gather ->
 * Unsqueeze -> Concat with a constant -1 -> Reshape; and a dynamic batch. */
static void test_shape_chain(void) {
    om m;
    om_init(&m, -1, 2, 4, 4);
    const int64_t gd[2] = {3, 32}, c3[1] = {3}, sd0[1] = {1}, zero[1] = {0}, m1[1] = {-1};
    float gw[96], gb[3];
    fill(gw, 96, 31), fill(gb, 3, 32);
    om_init_f(&m, "G", 2, gd, gw), om_init_f(&m, "GB", 1, c3, gb);
    om_init_i64(&m, "zero", 0, sd0, zero);
    om_init_i64(&m, "minus1", 1, sd0, m1);
    om_node(&m, "Relu", "relu", "x", "r");
    om_node(&m, "Shape", "shape", "r", "s");
    om_node(&m, "Gather", "gather", "s,zero", "n");
    Onnx__NodeProto *u = om_node(&m, "Unsqueeze", "unsq", "n", "n1");
    om_attr_ints(&m, u, "axes", 1, (int64_t)0);
    Onnx__NodeProto *c = om_node(&m, "Concat", "cat", "n1,minus1", "shp");
    om_attr_i(&m, c, "axis", 0);
    om_node(&m, "Reshape", "flat", "r,shp", "f");
    Onnx__NodeProto *g = om_node(&m, "Gemm", "fc", "f,G,GB", "y");
    om_attr_i(&m, g, "transB", 1);
    m.opset = 11; /* Unsqueeze takes axes as an attribute before 13 */

    cnnk_net *b0 = cnnk_net_create("want", 1, 2, 4, 4);
    int x = cnnk_net_relu(b0, "relu", 0);
    int fc = cnnk_net_fc(b0, "fc", x, 3);
    if (cnnk_net_status(b0, NULL) == CNNK_OK)
        b0->nodes[fc].weights = copy_f(gw, 96), b0->nodes[fc].bias = copy_f(gb, 3);
    same_as_builder("shape_chain", &m, b0);
    cnnk_net_destroy(b0);

    /* the dynamic batch takes the batch asked for */
    size_t len;
    uint8_t *buf = om_pack(&m, &len);
    cnnk_net *net = NULL;
    cnnk_error err;
    CHECK(cnnk_onnx_load_mem(buf, len, "dyn", 3, &net, &err) == CNNK_OK);
    if (net) CHECK_EQ_I64(net->mb, 3);
    cnnk_net_destroy(net);
    free(buf);
    om_free(&m);
}

/* ---- refusals and malformed files ------------------------------------------------------------ */

/* A Relu model with one node op (attributes added by the caller). */
static void expect_fail(const char *what, om *m, cnnk_status want, const char *msg1,
                        const char *msg2) {
    size_t len;
    uint8_t *buf = om_pack(m, &len);
    cnnk_net *net = NULL;
    cnnk_error err = {{0}};
    cnnk_status s = cnnk_onnx_load_mem(buf, len, "bad", 0, &net, &err);
    bool ok = s == want && net == NULL && (!msg1 || strstr(err.msg, msg1)) &&
              (!msg2 || strstr(err.msg, msg2));
    if (!ok)
        fprintf(stderr, "%s: status %s (want %s), message '%s' (want '%s' and '%s')\n", what,
                cnnk_status_str(s), cnnk_status_str(want), err.msg, msg1 ? msg1 : "",
                msg2 ? msg2 : "");
    CHECK(ok);
    cnnk_net_destroy(net);
    free(buf);
}

static Onnx__NodeProto *one_conv(om *m) {
    static const float w[3 * 2 * 3 * 3];
    const int64_t wd[4] = {2, 3, 3, 3};
    om_init(m, 1, 3, 8, 8);
    om_init_f(m, "W", 4, wd, w);
    return om_node(m, "Conv", "the_conv", "x,W", "y");
}

/* What a review of the importer found (2026-12-01), each pinned:
 * a node without a first output name; a Flatten of a tensor with pixels
 * (the output is NCHW-flattened, and a Softmax there is refused); a
 * MatMul + Add whose constant is not [oc] / [1, oc]; a Pad at the end in
 * front of a ceil_mode pool; an Add folding into a MatMul whose output
 * another node reads through an alias. */
static void test_review_findings(void) {
    om m;
    /* 1. an empty first output with a named second one */
    om_init(&m, 1, 3, 8, 8);
    om_node(&m, "Relu", "r", "x", ",y");
    expect_fail("empty first output", &m, CNNK_EPARSE, "no first output name", NULL);
    om_free(&m);

    /* 2. Conv -> Flatten at the end: [N, C*H*W] in NCHW order */
    const geo q = {.n = 2, .c = 2, .h = 3, .w = 4, .oc = 3, .kh = 1, .kw = 1, .sh = 1, .sw = 1,
                   .dh = 1, .dw = 1, .g = 1};
    om_init(&m, q.n, q.c, q.h, q.w);
    const int64_t wd[4] = {3, 2, 1, 1};
    float wt[6], xv[48];
    fill(wt, 6, 51), fill(xv, 48, 52);
    om_init_f(&m, "W", 4, wd, wt);
    om_node(&m, "Conv", "conv", "x,W", "c");
    Onnx__NodeProto *f = om_node(&m, "Flatten", "flat", "c", "y");
    om_attr_i(&m, f, "axis", 1);
    cnnk_net *net = load_ok(&m, "conv_flatten_out");
    if (net) {
        int64_t oh, ow;
        double *want = conv_nchw(&q, xv, wt, NULL, &oh, &ow);
        float *got = run_ref(net, xv);
        CHECK_EQ_I64(cnnk_net_output_rank(net), 2);
        check_close(got, want, q.n * q.oc * oh * ow, 1e-5, "conv_flatten_out");
        free(want), free(got);
    }
    cnnk_net_destroy(net);
    om_free(&m);
    /* ... and a Softmax of it (ONNX: over all C*H*W values) is refused */
    om_init(&m, 1, 2, 3, 4);
    om_init_f(&m, "W", 4, wd, wt);
    om_node(&m, "Conv", "conv", "x,W", "c");
    f = om_node(&m, "Flatten", "flat", "c", "fl");
    om_attr_i(&m, f, "axis", 1);
    Onnx__NodeProto *sm = om_node(&m, "Softmax", "sm", "fl", "y");
    om_attr_i(&m, sm, "axis", 1);
    expect_fail("softmax of a flattened tensor with pixels", &m, CNNK_EUNSUPPORTED, "sm", "axis");
    om_free(&m);

    /* 3. MatMul + Add of a [oc, 1] constant (ONNX broadcasts it to [oc, oc]) */
    om_init(&m, 1, 4, 1, 1);
    const int64_t bd[2] = {4, 4}, cd[2] = {4, 1};
    float b16[16], c4[4];
    fill(b16, 16, 53), fill(c4, 4, 54);
    om_init_f(&m, "B", 2, bd, b16), om_init_f(&m, "C", 2, cd, c4);
    f = om_node(&m, "Flatten", "flat", "x", "fl");
    om_node(&m, "MatMul", "mm", "fl,B", "mmo");
    om_node(&m, "Add", "add", "mmo,C", "y");
    expect_fail("MatMul + Add of [oc, 1]", &m, CNNK_EUNSUPPORTED, "add", "bias");
    om_free(&m);

    /* 4. MatMul read twice through an Identity: the Add must not fold */
    om_init(&m, 1, 4, 1, 1);
    const int64_t vd[1] = {4};
    om_init_f(&m, "B", 2, bd, b16), om_init_f(&m, "C", 1, vd, c4);
    om_node(&m, "Flatten", "flat", "x", "fl");
    om_node(&m, "MatMul", "mm", "fl,B", "mmo");
    om_node(&m, "Identity", "id", "mmo", "ido");
    om_node(&m, "Add", "addc", "ido,C", "biased");
    om_node(&m, "Add", "sum", "biased,mmo", "y");
    expect_fail("MatMul read twice", &m, CNNK_EUNSUPPORTED, "addc", "bias");
    om_free(&m);

    /* 5. a Pad at the right in front of a ceil_mode AveragePool */
    om_init(&m, 1, 1, 4, 4);
    const int64_t pd[1] = {8}, pads[8] = {0, 0, 0, 0, 0, 0, 1, 1};
    om_init_i64(&m, "pads", 1, pd, pads);
    om_node(&m, "Pad", "pad", "x,pads", "xp");
    Onnx__NodeProto *ap = om_node(&m, "AveragePool", "pool", "xp", "y");
    om_attr_ints(&m, ap, "kernel_shape", 2, 2, 2), om_attr_ints(&m, ap, "strides", 2, 2, 2);
    om_attr_i(&m, ap, "ceil_mode", 1);
    expect_fail("Pad before a ceil_mode pool", &m, CNNK_EUNSUPPORTED, "pool", "ceil_mode");
    om_free(&m);
}

/* A model whose graph input's type nests `depth` TypeProto sequences,
 * written straight in the wire format (inside out, so no copy grows). */
static uint8_t *nested_types(int depth, size_t *len) {
    const size_t cap = (size_t)depth * 12 + 64;
    uint8_t *b = malloc(cap);
    if (!b) return NULL;
    size_t at = cap, inner = 0; /* the bytes are built backwards from the end */
#define PUT_BYTE(x) (b[--at] = (uint8_t)(x))
#define PUT_HDR(field, n)                                                                     \
    do {                                                                                      \
        uint8_t tmp[10];                                                                      \
        int k = 0;                                                                            \
        uint64_t v = (n);                                                                     \
        do tmp[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)); while ((v >>= 7) != 0); \
        while (k) PUT_BYTE(tmp[--k]);                                                         \
        PUT_BYTE(((field) << 3) | 2);                                                         \
    } while (0)
    for (int i = 0; i < depth; ++i) {
        PUT_HDR(1, inner); /* Sequence.elem_type */
        inner = cap - at;
        PUT_HDR(4, inner); /* TypeProto.sequence_type */
        inner = cap - at;
    }
    PUT_HDR(2, inner); /* ValueInfoProto.type */
    PUT_BYTE('x');
    PUT_BYTE(1);
    PUT_BYTE((1 << 3) | 2); /* ValueInfoProto.name = "x" */
    inner = cap - at;
    PUT_HDR(11, inner); /* GraphProto.input */
    inner = cap - at;
    PUT_HDR(7, inner); /* ModelProto.graph */
    PUT_BYTE(7);
    PUT_BYTE((1 << 3) | 0); /* ir_version 7 */
#undef PUT_HDR
#undef PUT_BYTE
    *len = cap - at;
    memmove(b, b + at, *len);
    return b;
}

/* protobuf-c recurses once per nested message: 200,000 levels (1.6 MB)
 * would exhaust the stack; the importer refuses them before unpacking,
 * while a model nested a few levels is read as usual (and refused later
 * for what it is: an input that is no tensor). */
static void test_deep_nesting(void) {
    static const struct { int depth; cnnk_status want; const char *msg; } cases[] = {
        {200000, CNNK_EUNSUPPORTED, "nested deeper than"},
        {40, CNNK_EUNSUPPORTED, "nested deeper than"},
        {3, CNNK_OK, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        size_t len;
        uint8_t *buf = nested_types(cases[i].depth, &len);
        CHECK(buf != NULL);
        if (!buf) continue;
        cnnk_net *net = NULL;
        cnnk_error err = {{0}};
        cnnk_status s = cnnk_onnx_load_mem(buf, len, "deep", 0, &net, &err);
        CHECK(net == NULL && s != CNNK_OK);
        if (cases[i].msg) {
            CHECK(s == cases[i].want && strstr(err.msg, cases[i].msg));
        } else {
            CHECK(!strstr(err.msg, "nested deeper than"));
        }
        if (cases[i].msg && !strstr(err.msg, cases[i].msg))
            fprintf(stderr, "depth %d: %s\n", cases[i].depth, err.msg);
        free(buf);
    }
}

/* ONNX's Resize, linear, written from the operator's definition (onnx
 * Operators.md) in double: x_orig = (x + 0.5) / scale - 0.5 (half_pixel,
 * clamped at 0) or x * (in - 1) / (out - 1) (align_corners), scale =
 * out / in, then the two neighbours clamped to the input. */
static const float sc_none[1] = {0}; /* an empty roi's (unread) data */

static void resize_axis(int64_t o, int64_t in, int64_t out, bool ac, int64_t *i0, int64_t *i1,
                        double *f) {
    double x = ac ? (out > 1 ? (double)o * (double)(in - 1) / (double)(out - 1) : 0.0)
                  : ((double)o + 0.5) / ((double)out / (double)in) - 0.5;
    if (x < 0) x = 0;
    if (x > (double)(in - 1)) x = (double)(in - 1);
    *i0 = (int64_t)x;
    *i1 = *i0 + 1 < in ? *i0 + 1 : *i0;
    *f = x - (double)*i0;
}

static double *resize_nchw(const float *x, int64_t n, int64_t c, int64_t h, int64_t w,
                           int64_t oh, int64_t ow, bool ac) {
    double *y = malloc((size_t)(n * c * oh * ow) * sizeof *y);
    for (int64_t p = 0; p < n * c; ++p)
        for (int64_t yy = 0; yy < oh; ++yy)
            for (int64_t xx = 0; xx < ow; ++xx) {
                int64_t y0, y1, x0, x1;
                double fy, fx;
                resize_axis(yy, h, oh, ac, &y0, &y1, &fy);
                resize_axis(xx, w, ow, ac, &x0, &x1, &fx);
                const float *s = x + p * h * w;
                const double top = (1 - fx) * s[y0 * w + x0] + fx * s[y0 * w + x1];
                const double bot = (1 - fx) * s[y1 * w + x0] + fx * s[y1 * w + x1];
                y[(p * oh + yy) * ow + xx] = (1 - fy) * top + fy * bot;
            }
    return y;
}

/* Resize after a Relu (so it reads an activation), its size from sizes
 * (half_pixel, pytorch_half_pixel) or from whole scales (align_corners,
 * and half_pixel x2), against resize_nchw. */
static void test_resize(void) {
    static const struct { const char *ctm; bool sizes; int64_t oh, ow; } T[] = {
        {"half_pixel", true, 7, 5},       {"pytorch_half_pixel", true, 13, 3},
        {"align_corners", false, 6, 12},  {"half_pixel", false, 6, 12},
        {NULL, true, 9, 2}, /* the default coordinate mode: half_pixel */
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; ++i) {
        const int64_t n = 2, c = 3, h = 3, w = 4;
        om m;
        om_init(&m, n, c, h, w);
        const int64_t d1[1] = {4}, d0[1] = {0};
        const int64_t sz[4] = {n, c, T[i].oh, T[i].ow};
        const float sc[4] = {1, 1, (float)T[i].oh / (float)h, (float)T[i].ow / (float)w};
        om_init_f(&m, "roi", 1, d0, sc_none);
        if (T[i].sizes) om_init_i64(&m, "sizes", 1, d1, sz);
        else om_init_f(&m, "scales", 1, d1, sc);
        om_node(&m, "Relu", "relu", "x", "r");
        Onnx__NodeProto *r = om_node(&m, "Resize", "up", T[i].sizes ? "r,roi,,sizes" : "r,roi,scales", "y");
        om_attr_s(&m, r, "mode", "linear");
        if (T[i].ctm) om_attr_s(&m, r, "coordinate_transformation_mode", T[i].ctm);
        char what[64];
        snprintf(what, sizeof what, "resize %s %s", T[i].ctm ? T[i].ctm : "default",
                 T[i].sizes ? "sizes" : "scales");
        cnnk_net *net = load_ok(&m, i == 0 ? "resize_sizes" : i == 2 ? "resize_scales" : NULL);
        if (net) {
            float xv[72], rx[72];
            fill(xv, n * c * h * w, 61 + (unsigned)i);
            for (int k = 0; k < n * c * h * w; ++k) rx[k] = xv[k] > 0 ? xv[k] : 0.0f;
            const bool ac = T[i].ctm && strcmp(T[i].ctm, "align_corners") == 0;
            double *want = resize_nchw(rx, n, c, h, w, T[i].oh, T[i].ow, ac);
            const cnnk_node *last = &net->nodes[net->n - 1];
            CHECK(last->op == CNNK_NODE_RESIZE && last->h == T[i].oh && last->w == T[i].ow);
            CHECK(last->desc.u.resize.align_corners == ac);
            float *got = run_ref(net, xv);
            check_close(got, want, n * c * T[i].oh * T[i].ow, 1e-6, what);
            free(want), free(got);
        }
        cnnk_net_destroy(net);
        om_free(&m);
    }
}

/* What Resize refuses, each naming the node. */
static void test_resize_refusals(void) {
    static const struct { const char *mode, *ctm, *why; cnnk_status st; float scale; int64_t oh; } T[] = {
        {"nearest", "half_pixel", "only linear", CNNK_EUNSUPPORTED, 2, 0},
        {"cubic", "half_pixel", "only linear", CNNK_EUNSUPPORTED, 2, 0},
        {"linear", "asymmetric", "asymmetric", CNNK_EUNSUPPORTED, 2, 0},
        {"linear", "tf_crop_and_resize", "tf_crop_and_resize", CNNK_EUNSUPPORTED, 2, 0},
        {"linear", "half_pixel", "whole size", CNNK_EUNSUPPORTED, 1.3f, 0},
        {"linear", "pytorch_half_pixel", "size of 1", CNNK_EUNSUPPORTED, 0, 1},
        {"linear", "half_pixel", "spatial axes", CNNK_EUNSUPPORTED, 0, -1},
        {"linear", "half_pixel", "neither scales nor sizes", CNNK_EPARSE, 0, 0},
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; ++i) {
        om m;
        om_init(&m, 1, 3, 8, 8);
        const int64_t d1[1] = {4}, d0[1] = {0};
        const char *in = "x,roi";
        om_init_f(&m, "roi", 1, d0, sc_none);
        if (T[i].scale > 0) {
            const float sc[4] = {1, 1, T[i].scale, T[i].scale};
            om_init_f(&m, "scales", 1, d1, sc);
            in = "x,roi,scales";
        } else if (T[i].oh) {
            /* oh 1: a 1-pixel output; -1: the channels resized */
            const int64_t sz[4] = {1, T[i].oh < 0 ? 6 : 3, T[i].oh < 0 ? 8 : 1, 8};
            om_init_i64(&m, "sizes", 1, d1, sz);
            in = "x,roi,,sizes";
        }
        Onnx__NodeProto *r = om_node(&m, "Resize", "the_resize", in, "y");
        om_attr_s(&m, r, "mode", T[i].mode);
        om_attr_s(&m, r, "coordinate_transformation_mode", T[i].ctm);
        expect_fail(T[i].why, &m, T[i].st, "the_resize (Resize)", T[i].why);
        om_free(&m);
    }
}

static void test_refusals(void) {
    om m;
    /* operators */
    om_init(&m, 1, 3, 8, 8);
    om_node(&m, "Sigmoid", "sig", "x", "y");
    expect_fail("unknown op", &m, CNNK_EUNSUPPORTED, "sig (Sigmoid)", "not supported");
    om_free(&m);
    om_init(&m, 1, 3, 8, 8);
    om_node(&m, "Relu", "r", "x", "y")->domain = (char *)"com.microsoft";
    expect_fail("domain", &m, CNNK_EUNSUPPORTED, "r (Relu)", "domain");
    om_free(&m);
    /* attributes */
    om_attr_i(&m, one_conv(&m), "foo", 1);
    expect_fail("unknown attribute", &m, CNNK_EUNSUPPORTED, "the_conv (Conv)", "'foo'");
    om_free(&m);
    om_attr_s(&m, one_conv(&m), "auto_pad", "SAME_WEIRD");
    expect_fail("auto_pad", &m, CNNK_EUNSUPPORTED, "the_conv", "auto_pad");
    om_free(&m);
    om_attr_ints(&m, one_conv(&m), "strides", 3, (int64_t)1, (int64_t)1, (int64_t)1);
    expect_fail("3-D strides", &m, CNNK_EUNSUPPORTED, "the_conv", "strides");
    om_free(&m);
    om_attr_ints(&m, one_conv(&m), "pads", 4, (int64_t)-1, (int64_t)0, (int64_t)0, (int64_t)0);
    expect_fail("negative pads", &m, CNNK_EUNSUPPORTED, "the_conv", "pads");
    om_free(&m);
    om_attr_i(&m, one_conv(&m), "group", 2);
    expect_fail("group vs weights", &m, CNNK_EPARSE, "the_conv", "group");
    om_free(&m);
    om_init(&m, 1, 3, 8, 8);
    Onnx__NodeProto *n = om_node(&m, "MaxPool", "mp", "x", "y");
    om_attr_ints(&m, n, "kernel_shape", 2, (int64_t)2, (int64_t)2);
    om_attr_ints(&m, n, "dilations", 2, (int64_t)2, (int64_t)2);
    expect_fail("pool dilations", &m, CNNK_EUNSUPPORTED, "mp (MaxPool)", "dilations");
    om_free(&m);
    om_init(&m, 1, 3, 8, 8);
    n = om_node(&m, "MaxPool", "mp", "x", "y");
    om_attr_ints(&m, n, "kernel_shape", 2, (int64_t)2, (int64_t)2);
    om_attr_i(&m, n, "storage_order", 1);
    expect_fail("storage_order", &m, CNNK_EUNSUPPORTED, "mp", "storage_order");
    om_free(&m);
    om_init(&m, 1, 3, 8, 8);
    n = om_node(&m, "MaxPool", "mp", "x", "y,idx");
    om_attr_ints(&m, n, "kernel_shape", 2, (int64_t)2, (int64_t)2);
    om_node(&m, "Add", "use_idx", "y,idx", "z");
    m.out_name = "z";
    expect_fail("MaxPool indices", &m, CNNK_EUNSUPPORTED, "mp", "Indices");
    om_free(&m);
    {
        const int64_t gd[2] = {5, 192};
        static const float gw[5 * 192];
        om_init(&m, 1, 3, 8, 8);
        om_init_f(&m, "G", 2, gd, gw);
        om_node(&m, "Flatten", "f", "x", "f");
        n = om_node(&m, "Gemm", "fc", "f,G", "y");
        expect_fail("Gemm transB=0", &m, CNNK_EUNSUPPORTED, "fc (Gemm)", "transB=1");
        om_free(&m);
        om_init(&m, 1, 3, 8, 8);
        om_init_f(&m, "G", 2, gd, gw);
        n = om_node(&m, "Gemm", "fc", "x,G", "y");
        om_attr_i(&m, n, "transB", 1);
        expect_fail("Gemm of 4-D", &m, CNNK_EUNSUPPORTED, "fc (Gemm)", "Flatten");
        om_free(&m);
        om_init(&m, 1, 3, 8, 8);
        om_init_f(&m, "G", 2, gd, gw);
        om_node(&m, "Flatten", "f", "x", "f");
        n = om_node(&m, "Gemm", "fc", "f,G", "y");
        om_attr_i(&m, n, "transB", 1), om_attr_f(&m, n, "alpha", 2.0f);
        expect_fail("Gemm alpha", &m, CNNK_EUNSUPPORTED, "fc (Gemm)", "alpha=1");
        om_free(&m);
    }
    om_init(&m, 1, 3, 8, 8);
    n = om_node(&m, "Pad", "pad", "x", "y");
    om_attr_s(&m, n, "mode", "reflect");
    m.opset = 10;
    om_attr_ints(&m, n, "pads", 8, (int64_t)0, (int64_t)0, (int64_t)1, (int64_t)1, (int64_t)0,
                 (int64_t)0, (int64_t)1, (int64_t)1);
    expect_fail("Pad reflect", &m, CNNK_EUNSUPPORTED, "pad (Pad)", "reflect");
    om_free(&m);
    om_init(&m, 1, 3, 8, 8);
    m.opset = 10;
    n = om_node(&m, "Pad", "pad", "x", "p");
    om_attr_ints(&m, n, "pads", 8, (int64_t)0, (int64_t)0, (int64_t)1, (int64_t)1, (int64_t)0,
                 (int64_t)0, (int64_t)1, (int64_t)1);
    om_node(&m, "Relu", "r", "p", "y");
    expect_fail("Pad before Relu", &m, CNNK_EUNSUPPORTED, "r (Relu)", "Pad");
    om_free(&m);
    om_init(&m, 1, 3, 8, 8);
    m.opset = 10;
    n = om_node(&m, "Pad", "pad", "x", "y");
    om_attr_ints(&m, n, "pads", 8, (int64_t)0, (int64_t)0, (int64_t)1, (int64_t)1, (int64_t)0,
                 (int64_t)0, (int64_t)1, (int64_t)1);
    om_attr_f(&m, n, "value", 1.0f);
    expect_fail("Pad value", &m, CNNK_EUNSUPPORTED, "pad (Pad)", "zero");
    om_free(&m);
    om_init(&m, 1, 3, 8, 8);
    n = om_node(&m, "Softmax", "sm", "x", "y");
    om_attr_i(&m, n, "axis", 2);
    expect_fail("Softmax axis", &m, CNNK_EUNSUPPORTED, "sm (Softmax)", "axis");
    om_free(&m);
    {
        const int64_t c3[1] = {3};
        static const float v[3] = {1, 1, 1};
        om_init(&m, 1, 3, 8, 8);
        om_init_f(&m, "s", 1, c3, v), om_init_f(&m, "b", 1, c3, v);
        om_init_f(&m, "m", 1, c3, v), om_init_f(&m, "v", 1, c3, v);
        n = om_node(&m, "BatchNormalization", "bn", "x,s,b,m,v", "y");
        om_attr_i(&m, n, "training_mode", 1);
        expect_fail("BN training", &m, CNNK_EUNSUPPORTED, "bn (BatchNormalization)", "training");
        om_free(&m);
    }
    /* opsets */
    om_init(&m, 1, 3, 8, 8);
    om_node(&m, "Relu", "r", "x", "y");
    m.opset = 6;
    expect_fail("opset 6", &m, CNNK_EUNSUPPORTED, "opset 6", "7..17");
    m.opset = 18;
    expect_fail("opset 18", &m, CNNK_EUNSUPPORTED, "opset 18", "7..17");
    /* data types */
    m.opset = 13;
    m.in_type = 10; /* float16 input */
    expect_fail("float16 input", &m, CNNK_EUNSUPPORTED, "4-D float", NULL);
    om_free(&m);
    {
        const int64_t wd[4] = {2, 3, 3, 3};
        static const uint16_t h[54];
        om_init(&m, 1, 3, 8, 8);
        m.inits[m.ninits++] = om_tensor(&m, "W", 10, 4, wd, h, sizeof h);
        om_node(&m, "Conv", "the_conv", "x,W", "y");
        expect_fail("float16 weights", &m, CNNK_EUNSUPPORTED, "the_conv", "data type 10");
        om_free(&m);
    }
}

static void test_malformed(void) {
    om m;
    /* truncation at every byte of a small valid model */
    {
        one_conv(&m);
        om_node(&m, "Relu", "relu", "y", "z");
        m.out_name = "z";
        size_t len;
        uint8_t *buf = om_pack(&m, &len);
        int errors = 0;
        for (size_t k = 0; k < len; ++k) {
            cnnk_net *net = NULL;
            cnnk_error err;
            uint8_t *cut = malloc(k ? k : 1); /* exact size: ASan sees any overread */
            memcpy(cut, buf, k);
            errors += cnnk_onnx_load_mem(cut, k, "cut", 0, &net, &err) != CNNK_OK;
            cnnk_net_destroy(net);
            free(cut);
        }
        CHECK_EQ_I64(errors, (long long)len);
        cnnk_net *net = NULL;
        cnnk_error err;
        CHECK(cnnk_onnx_load_mem(buf, len, "whole", 0, &net, &err) == CNNK_OK);
        cnnk_net_destroy(net);
        free(buf);
        om_free(&m);
    }
    /* dangling input */
    om_init(&m, 1, 3, 8, 8);
    om_node(&m, "Relu", "r", "nowhere", "y");
    expect_fail("dangling", &m, CNNK_EPARSE, "'nowhere'", "dangling");
    om_free(&m);
    /* a cycle */
    om_init(&m, 1, 3, 8, 8);
    om_node(&m, "Add", "a", "x,b", "a");
    om_node(&m, "Relu", "r", "a", "b");
    om_node(&m, "Relu", "out", "b", "y");
    expect_fail("cycle", &m, CNNK_EPARSE, "cycle", NULL);
    om_free(&m);
    /* duplicate names */
    om_init(&m, 1, 3, 8, 8);
    om_node(&m, "Relu", "r1", "x", "y");
    om_node(&m, "Relu", "r2", "x", "y");
    expect_fail("duplicate output", &m, CNNK_EPARSE, "'y'", "twice");
    om_free(&m);
    {
        const int64_t c3[1] = {3};
        static const float v[3];
        om_init(&m, 1, 3, 8, 8);
        om_init_f(&m, "w", 1, c3, v), om_init_f(&m, "w", 1, c3, v);
        om_node(&m, "Relu", "r", "x", "y");
        expect_fail("duplicate initializer", &m, CNNK_EPARSE, "'w'", "twice");
        om_free(&m);
    }
    /* no graph input */
    om_init(&m, 1, 3, 8, 8);
    om_node(&m, "Relu", "r", "x", "y");
    m.in_name = NULL;
    expect_fail("no input", &m, CNNK_EPARSE, "no input", NULL);
    om_free(&m);
    /* an output nothing produces */
    om_init(&m, 1, 3, 8, 8);
    om_node(&m, "Relu", "r", "x", "z");
    expect_fail("no output", &m, CNNK_EPARSE, "'y'", "not produced");
    om_free(&m);
    /* initializer data shorter than its dims */
    {
        const int64_t wd[4] = {2, 3, 3, 3};
        static const float w[10];
        om_init(&m, 1, 3, 8, 8);
        m.inits[m.ninits++] = om_tensor(&m, "W", 1, 4, wd, w, sizeof w);
        om_node(&m, "Conv", "the_conv", "x,W", "y");
        expect_fail("short initializer", &m, CNNK_EPARSE, "the_conv", "216");
        om_free(&m);
    }
    /* initializer dims that do not fit the operator */
    {
        const int64_t wd[4] = {2, 5, 3, 3};
        static const float w[90];
        om_init(&m, 1, 3, 8, 8);
        om_init_f(&m, "W", 4, wd, w);
        om_node(&m, "Conv", "the_conv", "x,W", "y");
        expect_fail("weights for 5 channels", &m, CNNK_EPARSE, "the_conv", "input has 3");
        om_free(&m);
    }
    /* huge dimensions */
    {
        const int64_t wd[4] = {(int64_t)1 << 40, 3, 3, 3};
        static const float w[1];
        om_init(&m, 1, 3, 8, 8);
        m.inits[m.ninits++] = om_tensor(&m, "W", 1, 4, wd, w, sizeof w);
        om_node(&m, "Conv", "the_conv", "x,W", "y");
        expect_fail("huge dims", &m, CNNK_EOVERFLOW, "'W'", "dimension 0");
        om_free(&m);
        const int64_t big[4] = {1 << 20, 1 << 20, 1 << 20, 3};
        om_init(&m, 1, 3, 8, 8);
        m.inits[m.ninits++] = om_tensor(&m, "W", 1, 4, big, w, sizeof w);
        om_node(&m, "Conv", "the_conv", "x,W", "y");
        expect_fail("huge count", &m, CNNK_EOVERFLOW, "'W'", "elements");
        om_free(&m);
        om_init(&m, 1, 3, (int64_t)1 << 30, 8);
        om_node(&m, "Relu", "r", "x", "y");
        expect_fail("huge input", &m, CNNK_EOVERFLOW, "input 'x'", "dimension 2");
        om_free(&m);
    }
    /* a fixed batch other than the one asked for */
    om_init(&m, 2, 3, 8, 8);
    om_node(&m, "Relu", "r", "x", "y");
    {
        size_t len;
        uint8_t *buf = om_pack(&m, &len);
        cnnk_net *net = NULL;
        cnnk_error err;
        CHECK(cnnk_onnx_load_mem(buf, len, "b", 3, &net, &err) == CNNK_EINVAL);
        CHECK(strstr(err.msg, "fixed at 2") != NULL);
        CHECK(net == NULL);
        free(buf);
    }
    om_free(&m);
    /* not a model at all */
    {
        cnnk_net *net = NULL;
        cnnk_error err;
        static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
        CHECK(cnnk_onnx_load_mem(junk, sizeof junk, "junk", 0, &net, &err) == CNNK_EPARSE);
        CHECK(strstr(err.msg, "not an ONNX model") != NULL);
        CHECK(cnnk_onnx_load("/nonexistent/m.onnx", 0, &net, &err) == CNNK_EIO);
    }
}

/* Nodes out of order are sorted: the same model with its nodes reversed. */
static void test_out_of_order(void) {
    om m;
    om_init(&m, 1, 2, 4, 4);
    om_node(&m, "Relu", "r2", "a", "y");
    om_node(&m, "MaxPool", "p", "x", "a");
    om_attr_ints(&m, m.nodes[1], "kernel_shape", 2, (int64_t)2, (int64_t)2);
    cnnk_net *b0 = cnnk_net_create("want", 1, 2, 4, 4);
    int x = cnnk_net_maxpool(b0, "p", 0, 2, 1, 0, false);
    cnnk_net_relu(b0, "r2", x);
    same_as_builder("out_of_order", &m, b0);
    cnnk_net_destroy(b0);
    om_free(&m);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) g_corpus = argv[2];
    if (!cnnk_onnx_available()) {
        printf("built without ONNX support: nothing to test\n");
        return 0;
    }
    test_conv();
    test_conv_transpose();
    test_pool();
    test_classifier();
    test_residual_matmul();
    test_leaky_relu();
    test_resize();
    test_resize_refusals();
    test_review_findings();
    test_deep_nesting();
    test_shape_chain();
    test_out_of_order();
    test_refusals();
    test_malformed();
    return check_finish("test_onnx");
}
