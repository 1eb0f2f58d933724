/* oneDNN as the performance peer (validate/onednn_peer.h): the max-ISA
 * setting, one-layer handles of every kind, and whole networks through
 * oneDNN primitives compared with an unfused walk of the graph by the
 * scalar reference (kernels/ref/ref.h): relative L2 of the logits <= 1e-4
 * and the same top-5; the convolution algorithms (direct, Winograd with
 * its per-layer fallback, auto).
 *
 * oneDNN's ISA cap holds for the whole process, so the program takes it
 * as its argument: none (avx2, where oneDNN has no Winograd and every
 * Winograd request must fall back), or e.g. avx512_core, where Winograd
 * must run on 3x3 stride-1 layers and fall back on the others
 * (cmake/cli_tests.cmake runs both). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "core/fuse.h"
#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "kernels/ref/ref.h"
#include "validate/check.h"
#include "validate/onednn.h"
#include "validate/onednn_peer.h"

/* ---- the reference walk: every node alone, NHWC, pitch = channels ------ */

static void ref_node(const cnnk_net *net, int i, float **out) {
    const cnnk_node *n = &net->nodes[i];
    const float *a = n->ninputs > 0 ? out[n->inputs[0]] : NULL;
    const int64_t ald = n->ninputs > 0 ? net->nodes[n->inputs[0]].c : 0;
    float *y = out[i];
    switch (n->op) {
    case CNNK_NODE_CONV: {
        cnnk_epilogue ep = {.bias = n->has_bias ? n->bias : NULL};
        cnnk_ref_conv(&n->desc.u.conv, a, ald, n->weights, y, n->c, &ep);
        break;
    }
    case CNNK_NODE_BNORM:
        cnnk_ref_bnorm(&n->desc.u.bnorm, a, ald, n->bn[0], n->bn[1], n->bn[2], n->bn[3], y, n->c);
        break;
    case CNNK_NODE_RELU:
    case CNNK_NODE_LEAKY_RELU:
    case CNNK_NODE_DROPOUT:
        cnnk_ref_eltwise(&n->desc.u.eltwise, a, ald, NULL, 0, y, n->c);
        break;
    case CNNK_NODE_ADD:
        cnnk_ref_eltwise(&n->desc.u.eltwise, a, ald, out[n->inputs[1]],
                         net->nodes[n->inputs[1]].c, y, n->c);
        break;
    case CNNK_NODE_POOL: cnnk_ref_pool(&n->desc.u.pool, a, ald, y, n->c); break;
    case CNNK_NODE_LRN: cnnk_ref_lrn(&n->desc.u.lrn, a, ald, y, n->c); break;
    case CNNK_NODE_FC:
        cnnk_ref_fc(&n->desc.u.fc, a, n->weights, n->has_bias ? n->bias : NULL, y, false,
                    0.0f);
        break;
    case CNNK_NODE_SOFTMAX: cnnk_ref_softmax(&n->desc.u.softmax, a, ald, y, n->c); break;
    case CNNK_NODE_RESIZE: cnnk_ref_resize(&n->desc.u.resize, a, ald, y, n->c); break;
    case CNNK_NODE_WARP: cnnk_ref_warp(&n->desc.u.warp, a, ald, n->weights, y, n->c); break;
    case CNNK_NODE_REGION_POOL: {
        const bool node = n->ninputs == 2;
        const cnnk_region_pool_desc *d = &n->desc.u.region;
        cnnk_ref_region_pool(d, a, ald, node ? out[n->inputs[1]] : n->weights, 5,
                             node ? d->rois * 5 : 0, y, n->c);
        break;
    }
    case CNNK_NODE_CONCAT: {
        const float *src[CNNK_CONCAT_MAX_INPUTS];
        int64_t ld[CNNK_CONCAT_MAX_INPUTS];
        for (int k = 0; k < n->ninputs; ++k) {
            src[k] = out[n->inputs[k]];
            ld[k] = net->nodes[n->inputs[k]].c;
        }
        cnnk_ref_concat(&n->desc.u.concat, src, ld, y, n->c);
        break;
    }
    case CNNK_NODE_DECONV: {
        cnnk_epilogue ep = {.bias = n->has_bias ? n->bias : NULL};
        cnnk_ref_deconv(&n->desc.u.conv, a, ald, n->weights, y, n->c, &ep);
        break;
    }
    case CNNK_NODE_CROP: {
        const cnnk_node *s = &net->nodes[n->inputs[0]];
        for (int64_t b = 0; b < net->mb; ++b)
            for (int64_t h = 0; h < n->h; ++h)
                memcpy(y + (b * n->h + h) * n->w * n->c,
                       a + ((b * s->h + h + n->crop_top) * s->w + n->crop_left) * ald,
                       (size_t)(n->w * n->c) * sizeof(float));
        break;
    }
    case CNNK_NODE_DETECT: CHECK(!"the peer's networks have no detection node"); break;
    case CNNK_NODE_INPUT:
    case CNNK_NODE_OP_COUNT: break;
    }
}

/* Runs the graph node by node; returns the last node's values (malloc'd). */
static float *ref_forward(const cnnk_net *net, const float *input) {
    float **out = calloc((size_t)net->n, sizeof *out);
    if (!out) return NULL;
    bool ok = true;
    for (int i = 1; i < net->n && ok; ++i) {
        const cnnk_node *n = &net->nodes[i];
        out[i] = malloc((size_t)(net->mb * n->reps * n->h * n->w * n->c) * sizeof(float));
        ok = out[i] != NULL;
    }
    out[0] = (float *)input;
    for (int i = 1; i < net->n && ok; ++i) ref_node(net, i, out);
    float *last = ok ? out[net->n - 1] : NULL;
    for (int i = 1; i < net->n - 1; ++i) free(out[i]);
    if (!ok) free(out[net->n - 1]);
    free(out);
    return last;
}

/* ---- comparisons -------------------------------------------------------------- */

static double rel_l2(const float *a, const float *b, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; ++i) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * (double)b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void top5(const float *x, int64_t n, int64_t idx[5]) {
    for (int k = 0; k < 5; ++k) {
        int64_t best = -1;
        for (int64_t i = 0; i < n; ++i) {
            bool taken = false;
            for (int j = 0; j < k; ++j) taken = taken || idx[j] == i;
            if (!taken && (best < 0 || x[i] > x[best])) best = i;
        }
        idx[k] = best;
    }
}

/* ---- tests ------------------------------------------------------------------------- */

/* Sets the cap isa (any case), after the refusals that must not set it. */
static void test_max_isa(const char *isa) {
    cnnk_error err = {{0}};
    CHECK(cnnk_onednn_set_max_isa("avx3", &err) == CNNK_EINVAL);
    /* every dnnl_cpu_isa_t level of oneDNN 2.6 is listed */
    static const char *const levels[] = {"all", "sse41", "avx", "avx2", "avx2_vnni",
                                         "avx512_mic", "avx512_mic_4ops", "avx512_core",
                                         "avx512_core_vnni", "avx512_core_bf16",
                                         "avx512_core_amx"};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; ++i) {
        CHECK(strstr(err.msg, levels[i]) != NULL);
        CHECK(strstr(cnnk_onednn_isa_names(), levels[i]) != NULL);
    }
    CHECK(strstr(err.msg, "avx3") != NULL);
    CHECK(cnnk_onednn_set_max_isa(NULL, &err) == CNNK_EINVAL);
    /* a known level oneDNN 2.6.3 refuses: named as such, and no cap set */
    CHECK(cnnk_onednn_set_max_isa("avx512_mic", &err) == CNNK_EONEDNN);
    CHECK(strstr(err.msg, "refuses") != NULL);
    /* Before any primitive exists the cap takes; oneDNN then reports it
     * (the environment variable's capitals work as well). */
    CHECK(cnnk_onednn_set_max_isa(isa, &err) == CNNK_OK);
    if (strcasecmp(isa, "avx2") == 0) CHECK(strcmp(cnnk_onednn_max_isa_name(), "avx2") == 0);
    /* Once oneDNN has settled its ISA, a new cap is refused, named. */
    CHECK(cnnk_onednn_set_max_isa("avx512_core", &err) == CNNK_EONEDNN);
    CHECK(strstr(err.msg, "dnnl_set_max_cpu_isa") != NULL);
    CHECK(strstr(err.msg, "once") != NULL);
}

static void test_algo_names(void) {
    cnnk_error err = {{0}};
    for (int i = 0; i < CNNK_ONEDNN_ALGO_COUNT; ++i) {
        cnnk_onednn_algo a = CNNK_ONEDNN_ALGO_COUNT;
        CHECK(cnnk_onednn_algo_parse(cnnk_onednn_algo_name((cnnk_onednn_algo)i), &a, &err) ==
              CNNK_OK);
        CHECK(a == (cnnk_onednn_algo)i);
    }
    cnnk_onednn_algo a = CNNK_ONEDNN_DIRECT;
    CHECK(cnnk_onednn_algo_parse("wino", &a, &err) == CNNK_EINVAL);
    CHECK(strstr(err.msg, "wino") && strstr(err.msg, "winograd") && strstr(err.msg, "auto"));
    CHECK(cnnk_onednn_algo_parse(NULL, &a, &err) == CNNK_EINVAL);
    CHECK(strcmp(cnnk_onednn_algo_name(CNNK_ONEDNN_ALGO_COUNT), "?") == 0);
}

static cnnk_conv_desc conv(int64_t ic, int64_t hw, int64_t oc, int64_t k, int64_t s,
                           int64_t p) {
    return (cnnk_conv_desc){.g = 1, .mb = 1, .ic = ic, .ih = hw, .iw = hw, .oc = oc, .kh = k,
                            .kw = k, .sh = s, .sw = s, .pt = p, .pl = p, .pb = p, .pr = p,
                            .dh = 1, .dw = 1};
}

/* Creates (with algo), executes twice and destroys a handle; returns its
 * status; *used and note (when not NULL) what it ran and why not Winograd. */
static cnnk_status run_layer_algo(const cnnk_layer_desc *l, const cnnk_epilogue_spec *ep,
                                  cnnk_onednn_algo algo, char *impl, size_t len,
                                  cnnk_onednn_algo *used, char *note) {
    cnnk_error err = {{0}};
    cnnk_onednn_layer *h = NULL;
    cnnk_status s = cnnk_onednn_layer_create(l, ep, algo, &h, &err);
    if (s != CNNK_OK) {
        CHECK(h == NULL);
        snprintf(impl, len, "%s", err.msg);
        return s;
    }
    s = cnnk_onednn_layer_execute(h);
    if (s == CNNK_OK) s = cnnk_onednn_layer_execute(h);
    snprintf(impl, len, "%s", cnnk_onednn_layer_impl(h));
    if (used) *used = cnnk_onednn_layer_algo(h);
    if (note) snprintf(note, CNNK_ERROR_MSG_LEN, "%s", cnnk_onednn_layer_note(h));
    cnnk_onednn_layer_destroy(h);
    return s;
}

static cnnk_status run_layer(const cnnk_layer_desc *l, const cnnk_epilogue_spec *ep,
                             char *impl, size_t len) {
    return run_layer_algo(l, ep, CNNK_ONEDNN_DIRECT, impl, len, NULL, NULL);
}

static void test_layers(const char *isa) {
    char impl[CNNK_ERROR_MSG_LEN];
    cnnk_layer_desc l = {.kind = CNNK_LAYER_CONV};
    l.u.conv = conv(64, 14, 64, 3, 1, 1);
    cnnk_epilogue_spec full = {true, true, true, 0.0f};
    CHECK(run_layer(&l, &full, impl, sizeof impl) == CNNK_OK);
    /* format `any`: a JIT kernel of the capped ISA, not the reference */
    CHECK(strstr(impl, isa) != NULL && strstr(impl, "ref") == NULL);
    if (!strstr(impl, isa)) fprintf(stderr, "conv impl: %s\n", impl);
    l.u.conv = conv(3, 32, 16, 7, 2, 3); /* a first layer: 3 channels */
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_OK);
    l.u.conv = conv(32, 8, 16, 4, 2, 1);
    l.u.conv.transposed = true;
    l.u.conv.ih = l.u.conv.iw = 4;
    l.kind = CNNK_LAYER_DECONV;
    CHECK(run_layer(&l, &full, impl, sizeof impl) == CNNK_OK);

    l = (cnnk_layer_desc){.kind = CNNK_LAYER_FC};
    l.u.fc = (cnnk_fc_desc){.mb = 2, .ic = 64, .ih = 3, .iw = 3, .oc = 10};
    cnnk_epilogue_spec br = {true, false, true, 0.0f};
    CHECK(run_layer(&l, &br, impl, sizeof impl) == CNNK_OK);

    l = (cnnk_layer_desc){.kind = CNNK_LAYER_POOL};
    l.u.pool = (cnnk_pool_desc){.mb = 1, .c = 32, .ih = 14, .iw = 14, .kh = 3, .kw = 3,
                                .sh = 2, .sw = 2, .alg = CNNK_POOL_MAX, .round = CNNK_ROUND_CEIL};
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_OK);
    l.u.pool.alg = CNNK_POOL_AVG_INCLUDE_PAD; /* the ceil overhang: refused, named */
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_EUNSUPPORTED);
    CHECK(strstr(impl, "overhang") != NULL);

    l = (cnnk_layer_desc){.kind = CNNK_LAYER_LRN};
    l.u.lrn = (cnnk_lrn_desc){.mb = 1, .c = 24, .h = 7, .w = 7, .size = 5, .alpha = 1e-4f,
                              .beta = 0.75f, .k = 2.0f};
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_OK);

    l = (cnnk_layer_desc){.kind = CNNK_LAYER_BNORM};
    l.u.bnorm = (cnnk_bnorm_desc){.mb = 1, .c = 40, .h = 5, .w = 5, .eps = 1e-5f};
    cnnk_epilogue_spec relu = {false, false, true, 0.0f};
    CHECK(run_layer(&l, &relu, impl, sizeof impl) == CNNK_OK);

    l = (cnnk_layer_desc){.kind = CNNK_LAYER_SOFTMAX};
    l.u.softmax = (cnnk_softmax_desc){.mb = 2, .c = 100, .h = 1, .w = 1};
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_OK);

    l = (cnnk_layer_desc){.kind = CNNK_LAYER_ELTWISE};
    l.u.eltwise = (cnnk_eltwise_desc){.mb = 1, .c = 16, .h = 6, .w = 6, .alg = CNNK_ELTWISE_RELU};
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_OK);
    l.u.eltwise.alg = CNNK_ELTWISE_ADD_RELU;
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_OK);
    l.u.eltwise.alg = CNNK_ELTWISE_DROPOUT;
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_EUNSUPPORTED);

    l = (cnnk_layer_desc){.kind = CNNK_LAYER_CONCAT};
    l.u.concat = (cnnk_concat_desc){.mb = 1, .h = 7, .w = 7, .n = 3, .c = {64, 32, 16}};
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_OK);

    /* a bad descriptor is the checker's error; nothing is leaked */
    l = (cnnk_layer_desc){.kind = CNNK_LAYER_CONV};
    l.u.conv = conv(0, 8, 8, 3, 1, 1);
    CHECK(run_layer(&l, NULL, impl, sizeof impl) == CNNK_EINVAL);
    cnnk_error err = {{0}};
    cnnk_onednn_layer *h = (cnnk_onednn_layer *)&err;
    CHECK(cnnk_onednn_layer_create(NULL, NULL, CNNK_ONEDNN_DIRECT, &h, &err) == CNNK_EINVAL &&
          h == NULL);
    h = (cnnk_onednn_layer *)&err;
    l.u.conv = conv(8, 8, 8, 3, 1, 1);
    CHECK(cnnk_onednn_layer_create(&l, NULL, CNNK_ONEDNN_ALGO_COUNT, &h, &err) == CNNK_EINVAL &&
          h == NULL);
}

/* ---- the per-layer peer computes cnnk's work ------------------------------
 * A layer benchmark times cnnk's kernel with its epilogue beside this
 * primitive; were a post-op dropped (or the bias, or the order of sum and
 * ReLU changed), oneDNN would time easier work than cnnk unnoticed. So each
 * primitive's output is read back and compared with the reference given
 * the primitive's own inputs, for every epilogue combination. */

#define PEER_MAX 40000

typedef struct peer_io {
    float src[PEER_MAX], w[PEER_MAX], bias[PEER_MAX], res[PEER_MAX], got[PEER_MAX];
    float want[PEER_MAX], a[PEER_MAX], b[PEER_MAX], v[4][PEER_MAX];
} peer_io;

static peer_io g_io;

/* NCHW (oneDNN's plain order) to NHWC (cnnk's). */
static void to_nhwc(const float *x, float *y, int64_t mb, int64_t c, int64_t hw) {
    for (int64_t n = 0; n < mb; ++n)
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t p = 0; p < hw; ++p) y[(n * hw + p) * c + ch] = x[(n * c + ch) * hw + p];
}

static size_t read_t(cnnk_onednn_layer *h, cnnk_onednn_tensor t, float *out) {
    size_t n = 0;
    cnnk_error err = {{0}};
    const cnnk_status s = cnnk_onednn_layer_read(h, t, out, PEER_MAX, &n, &err);
    if (s != CNNK_OK) fprintf(stderr, "read %d: %s\n", (int)t, err.msg);
    CHECK(s == CNNK_OK);
    return s == CNNK_OK ? n : 0;
}

/* got (NCHW, n values) against want (NHWC): relative L2 within bound. */
static void peer_agrees(const char *what, int bits, const float *got_nchw, const float *want,
                        int64_t mb, int64_t c, int64_t hw, double bound) {
    to_nhwc(got_nchw, g_io.b, mb, c, hw);
    cnnk_diff d;
    cnnk_diff_compute(g_io.b, want, mb * c * hw, &d);
    if (!(d.rel_l2 <= bound))
        fprintf(stderr, "  peer %s ep%d: rel_l2 %.3g > %.0e\n", what, bits, d.rel_l2, bound);
    CHECK(d.rel_l2 <= bound);
}

/* One convolution or deconvolution, epilogue bits (1 bias, 2 sum, 4 relu,
 * 8 leaky ReLU 0.1: the post-op eltwise_relu with alpha). */
static void conv_peer_case(cnnk_conv_desc d, cnnk_onednn_algo algo, int bits) {
    cnnk_layer_desc l = {.kind = d.transposed ? CNNK_LAYER_DECONV : CNNK_LAYER_CONV, .u.conv = d};
    cnnk_error err = {{0}};
    CHECK(cnnk_conv_check(&l.u.conv, &err) == CNNK_OK);
    d = l.u.conv;
    const float alpha = (bits & 8) ? 0.1f : 0.0f;
    const cnnk_epilogue_spec spec = {bits & 1, (bits & 2) != 0, (bits & 12) != 0, alpha};
    cnnk_onednn_layer *h = NULL;
    CHECK(cnnk_onednn_layer_create(&l, &spec, algo, &h, &err) == CNNK_OK);
    if (!h) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    const int64_t ihw = d.ih * d.iw, ohw = d.oh * d.ow;
    CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_SRC, g_io.a), d.mb * d.ic * ihw);
    to_nhwc(g_io.a, g_io.src, d.mb, d.ic, ihw);
    CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_WEIGHTS, g_io.w), d.oc * (d.ic / d.g) * d.kh * d.kw);
    if (bits & 1) CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_BIAS, g_io.bias), d.oc);
    if (bits & 2) { /* what dst holds before the run is what the sum adds */
        CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_DST, g_io.a), d.mb * d.oc * ohw);
        to_nhwc(g_io.a, g_io.res, d.mb, d.oc, ohw);
    }
    CHECK(cnnk_onednn_layer_execute(h) == CNNK_OK);
    CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_DST, g_io.got), d.mb * d.oc * ohw);
    const cnnk_epilogue ep = {.bias = (bits & 1) ? g_io.bias : NULL,
                              .residual = (bits & 2) ? g_io.res : NULL,
                              .residual_ld = d.oc,
                              .relu = (bits & 12) != 0,
                              .relu_alpha = alpha};
    if (d.transposed)
        cnnk_ref_deconv(&d, g_io.src, d.ic, g_io.w, g_io.want, d.oc, &ep);
    else
        cnnk_ref_conv(&d, g_io.src, d.ic, g_io.w, g_io.want, d.oc, &ep);
    /* data in 1/64 steps: direct sums are exact in any order; Winograd's
     * transforms round */
    const double bound = cnnk_onednn_layer_algo(h) == CNNK_ONEDNN_WINOGRAD ? 1e-4 : 1e-6;
    char what[96];
    snprintf(what, sizeof what, "%s %s ic%lld oc%lld k%lld s%lld g%lld",
             d.transposed ? "deconv" : "conv", cnnk_onednn_algo_name(cnnk_onednn_layer_algo(h)),
             (long long)d.ic, (long long)d.oc, (long long)d.kh, (long long)d.sh, (long long)d.g);
    peer_agrees(what, bits, g_io.got, g_io.want, d.mb, d.oc, ohw, bound);
    cnnk_onednn_layer_destroy(h);
}

static void fc_peer_case(const cnnk_fc_desc *d, int bits) {
    cnnk_layer_desc l = {.kind = CNNK_LAYER_FC, .u.fc = *d};
    const cnnk_epilogue_spec spec = {bits & 1, false, (bits & 4) != 0, 0.0f};
    cnnk_onednn_layer *h = NULL;
    cnnk_error err = {{0}};
    CHECK(cnnk_onednn_layer_create(&l, &spec, CNNK_ONEDNN_DIRECT, &h, &err) == CNNK_OK);
    if (!h) return;
    const int64_t hw = d->ih * d->iw;
    CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_SRC, g_io.a), d->mb * d->ic * hw);
    to_nhwc(g_io.a, g_io.src, d->mb, d->ic, hw);
    CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_WEIGHTS, g_io.w), d->oc * d->ic * hw);
    if (bits & 1) CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_BIAS, g_io.bias), d->oc);
    CHECK(cnnk_onednn_layer_execute(h) == CNNK_OK);
    CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_DST, g_io.got), d->mb * d->oc);
    cnnk_ref_fc(d, g_io.src, g_io.w, (bits & 1) ? g_io.bias : NULL, g_io.want, (bits & 4) != 0,
                0.0f);
    peer_agrees("fc", bits, g_io.got, g_io.want, d->mb, d->oc, 1, 1e-6);
    cnnk_onednn_layer_destroy(h);
}

/* Batch-norm with and without its ReLU flag. */
static void bnorm_peer_case(const cnnk_bnorm_desc *d, bool relu) {
    cnnk_layer_desc l = {.kind = CNNK_LAYER_BNORM, .u.bnorm = *d};
    const cnnk_epilogue_spec spec = {false, false, relu, 0.0f};
    cnnk_onednn_layer *h = NULL;
    cnnk_error err = {{0}};
    CHECK(cnnk_onednn_layer_create(&l, &spec, CNNK_ONEDNN_DIRECT, &h, &err) == CNNK_OK);
    if (!h) return;
    const int64_t hw = d->h * d->w;
    CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_SRC, g_io.a), d->mb * d->c * hw);
    to_nhwc(g_io.a, g_io.src, d->mb, d->c, hw);
    const cnnk_onednn_tensor v[4] = {CNNK_ONEDNN_MEAN, CNNK_ONEDNN_VARIANCE, CNNK_ONEDNN_SCALE,
                                     CNNK_ONEDNN_SHIFT};
    for (int i = 0; i < 4; ++i) CHECK_EQ_I64(read_t(h, v[i], g_io.v[i]), d->c);
    CHECK(cnnk_onednn_layer_execute(h) == CNNK_OK);
    CHECK_EQ_I64(read_t(h, CNNK_ONEDNN_DST, g_io.got), d->mb * d->c * hw);
    cnnk_ref_bnorm(d, g_io.src, d->c, g_io.v[0], g_io.v[1], g_io.v[2], g_io.v[3], g_io.want, d->c);
    if (relu)
        for (int64_t i = 0; i < d->mb * d->c * hw; ++i)
            g_io.want[i] = g_io.want[i] > 0 ? g_io.want[i] : 0;
    peer_agrees("bnorm", relu ? 4 : 0, g_io.got, g_io.want, d->mb, d->c, hw, 1e-6);
    cnnk_onednn_layer_destroy(h);
}

static void test_layer_outputs(void) {
    cnnk_conv_desc convs[4] = {conv(16, 9, 24, 3, 1, 1), conv(8, 11, 12, 3, 2, 1),
                               conv(12, 7, 20, 1, 1, 0), conv(8, 6, 12, 3, 1, 1)};
    convs[0].mb = 2;
    convs[3].g = 2; /* grouped: oneDNN's 5-D weights, cnnk's OIHW order */
    for (int c = 0; c < 4; ++c)
        for (int a = 0; a < CNNK_ONEDNN_ALGO_COUNT; ++a)
            for (int bits = 0; bits < 12; ++bits) /* 8-11: leaky */
                conv_peer_case(convs[c], (cnnk_onednn_algo)a, bits);
    cnnk_conv_desc dc = conv(32, 8, 16, 4, 2, 1);
    dc.transposed = true;
    dc.ih = dc.iw = 4;
    for (int bits = 0; bits < 12; ++bits) conv_peer_case(dc, CNNK_ONEDNN_DIRECT, bits);
    const cnnk_fc_desc fc = {.mb = 2, .ic = 12, .ih = 3, .iw = 3, .oc = 10};
    for (int bits = 0; bits < 8; bits += 1) fc_peer_case(&fc, bits & 5);
    const cnnk_bnorm_desc bn = {.mb = 1, .c = 20, .h = 5, .w = 5, .eps = 1e-5f};
    bnorm_peer_case(&bn, false);
    bnorm_peer_case(&bn, true);
}

/* Per layer: Winograd where oneDNN has it (3x3, stride 1, at avx512_core
 * and up), direct with the refusal named elsewhere; auto is one of the two. */
static void test_layer_algos(bool wino) {
    char impl[CNNK_ERROR_MSG_LEN], note[CNNK_ERROR_MSG_LEN];
    cnnk_onednn_algo used = CNNK_ONEDNN_ALGO_COUNT;
    cnnk_epilogue_spec full = {true, true, true, 0.0f};
    cnnk_layer_desc l = {.kind = CNNK_LAYER_CONV};
    CHECK(cnnk_onednn_winograd_exists() == wino);

    l.u.conv = conv(64, 28, 64, 3, 1, 1);
    CHECK(run_layer_algo(&l, &full, CNNK_ONEDNN_WINOGRAD, impl, sizeof impl, &used, note) ==
          CNNK_OK);
    CHECK(used == (wino ? CNNK_ONEDNN_WINOGRAD : CNNK_ONEDNN_DIRECT));
    CHECK((strstr(impl, "wino") != NULL) == wino);
    CHECK((note[0] != '\0') == !wino);
    if (!wino) CHECK(strstr(note, "winograd refused") && strstr(note, "unimplemented"));
    if (used != (wino ? CNNK_ONEDNN_WINOGRAD : CNNK_ONEDNN_DIRECT))
        fprintf(stderr, "3x3 winograd: %s %s\n", impl, note);

    /* direct asked: direct, no note, never a Winograd implementation */
    CHECK(run_layer_algo(&l, &full, CNNK_ONEDNN_DIRECT, impl, sizeof impl, &used, note) ==
          CNNK_OK);
    CHECK(used == CNNK_ONEDNN_DIRECT && note[0] == '\0' && !strstr(impl, "wino"));

    /* oneDNN has no Winograd for 1x1, strided or 5x5 layers: fallback */
    const cnnk_conv_desc refused[] = {conv(64, 28, 64, 1, 1, 0), conv(64, 28, 64, 3, 2, 1),
                                      conv(16, 14, 32, 5, 1, 2)};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; ++i) {
        l.u.conv = refused[i];
        CHECK(run_layer_algo(&l, &full, CNNK_ONEDNN_WINOGRAD, impl, sizeof impl, &used, note) ==
              CNNK_OK);
        CHECK(used == CNNK_ONEDNN_DIRECT && strstr(note, "winograd refused") != NULL);
        CHECK(!strstr(impl, "wino") && !strstr(impl, "ref"));
    }
    /* auto: oneDNN's choice, reported as what the primitive runs */
    l.u.conv = conv(64, 28, 64, 3, 1, 1);
    CHECK(run_layer_algo(&l, NULL, CNNK_ONEDNN_AUTO, impl, sizeof impl, &used, note) == CNNK_OK);
    CHECK(used == (strstr(impl, "wino") ? CNNK_ONEDNN_WINOGRAD : CNNK_ONEDNN_DIRECT));
    CHECK(note[0] == '\0');
    /* a deconvolution is direct whatever is asked */
    l = (cnnk_layer_desc){.kind = CNNK_LAYER_DECONV};
    l.u.conv = conv(32, 8, 16, 3, 1, 1);
    l.u.conv.transposed = true;
    CHECK(run_layer_algo(&l, NULL, CNNK_ONEDNN_WINOGRAD, impl, sizeof impl, &used, note) ==
          CNNK_OK);
    CHECK(used == CNNK_ONEDNN_DIRECT);
}

static void fill_input(float *x, int64_t n, uint32_t seed) {
    uint32_t s = seed;
    for (int64_t i = 0; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) / 8388608.0f - 1.0f; /* U(-1, 1) */
    }
}

/* The conv node a step named "<node>[+bn][+sum][+relu]" heads. */
static const cnnk_node *step_conv(const cnnk_net *net, const char *step) {
    for (int i = 1; i < net->n; ++i) {
        const cnnk_node *n = &net->nodes[i];
        size_t len = strlen(n->name);
        if (n->op == CNNK_NODE_CONV && strncmp(step, n->name, len) == 0 &&
            (step[len] == '\0' || step[len] == '+'))
            return n;
    }
    return NULL;
}

/* Winograd asked for: each convolution runs it exactly where oneDNN has it
 * (3x3 stride 1, when wino), else direct with the refusal as its note. */
static void check_winograd_steps(const cnnk_net *net, const cnnk_onednn_net *h, bool wino) {
    int convs = 0;
    for (int i = 0; i < cnnk_onednn_net_prim_count(h); ++i) {
        const char *algo = cnnk_onednn_net_prim_algo(h, i);
        if (!algo[0]) continue;
        const cnnk_node *n = step_conv(net, cnnk_onednn_net_prim_name(h, i));
        CHECK(n != NULL);
        if (!n) continue;
        convs++;
        const cnnk_conv_desc *d = &n->desc.u.conv;
        bool can = wino && d->kh == 3 && d->kw == 3 && d->sh == 1 && d->sw == 1 && d->g == 1 &&
                   d->dh == 1 && d->dw == 1;
        CHECK(strcmp(algo, can ? "winograd" : "direct") == 0);
        CHECK((strstr(cnnk_onednn_net_prim_impl(h, i), "wino") != NULL) == can);
        CHECK((strstr(cnnk_onednn_net_prim_note(h, i), "winograd refused") != NULL) == !can);
        if (strcmp(algo, can ? "winograd" : "direct") != 0)
            fprintf(stderr, "%s: %s ran %s (%s)\n", net->name, cnnk_onednn_net_prim_name(h, i),
                    algo, cnnk_onednn_net_prim_note(h, i));
    }
    CHECK(convs > 0);
    CHECK_EQ_I64(convs, cnnk_onednn_net_conv_count(h, CNNK_ONEDNN_WINOGRAD) +
                            cnnk_onednn_net_conv_count(h, CNNK_ONEDNN_DIRECT));
    /* Winograd's nChw16c beside direct's nhwc must not push any step onto
     * oneDNN's reference code (a concat of mixed layouts did: "ref:any") */
    for (int i = 0; i < cnnk_onednn_net_prim_count(h); ++i) {
        bool ref = strstr(cnnk_onednn_net_prim_impl(h, i), "ref") != NULL;
        if (ref) fprintf(stderr, "%s: %s runs %s\n", net->name, cnnk_onednn_net_prim_name(h, i),
                         cnnk_onednn_net_prim_impl(h, i));
        CHECK(!ref);
    }
}

/* name at batch mb, hw x hw, weights from seed 7; NULL (a failed check)
 * when it does not build. */
static cnnk_net *built_net(const char *name, int64_t mb, int64_t hw) {
    cnnk_error err = {{0}};
    cnnk_net *net = NULL;
    if (cnnk_net_build(name, mb, hw, hw, &net, &err) != CNNK_OK ||
        cnnk_net_init_weights(net, 7, &err) != CNNK_OK) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        CHECK(!"network builds");
        cnnk_net_destroy(net);
        return NULL;
    }
    return net;
}

/* Builds name at hw x hw, runs it through oneDNN (convolutions by algo)
 * and through the reference walk; logits within relative L2 1e-4, same
 * top-5. With Winograd asked for, wino says whether oneDNN has it: then
 * every 3x3 stride-1 convolution (and only those) must run it, the others
 * falling back to direct with the refusal named. */
static void check_net_mode(const char *name, int64_t mb, int64_t hw, cnnk_onednn_algo algo,
                           bool wino, cnnk_onednn_concat_mode concat, bool unfused) {
    cnnk_error err = {{0}};
    cnnk_net *net = built_net(name, mb, hw);
    if (!net) return;
    int64_t in_elems = mb * hw * hw * 3;
    float *in = malloc((size_t)in_elems * sizeof(float));
    CHECK(in != NULL);
    fill_input(in, in_elems, 11);
    cnnk_onednn_net *h = NULL;
    const cnnk_onednn_net_opts opts = {algo, concat, unfused};
    cnnk_status s = cnnk_onednn_net_create_ex(net, 1, &opts, &h, &err);
    CHECK(s == CNNK_OK);
    if (s != CNNK_OK) fprintf(stderr, "%s: %s\n", name, err.msg);
    float *ref = ref_forward(net, in);
    CHECK(ref != NULL);
    const cnnk_node *last = &net->nodes[net->n - 1];
    int64_t classes = last->c * last->h * last->w;
    if (h && ref && in) {
        CHECK_EQ_I64(cnnk_onednn_net_output_elems(h), mb * classes);
        float *out = malloc((size_t)(mb * classes) * sizeof(float));
        /* twice: the forward leaves nothing behind that changes the next */
        CHECK(cnnk_onednn_net_forward(h, in, out) == CNNK_OK);
        CHECK(cnnk_onednn_net_forward(h, in, out) == CNNK_OK);
        double e = rel_l2(out, ref, mb * classes);
        int nw = cnnk_onednn_net_conv_count(h, CNNK_ONEDNN_WINOGRAD);
        printf("%-12s %lldx%lld mb%lld %-8s %-7s%s: %d primitives, %d winograd, rel L2 %.3g\n",
               name, (long long)hw, (long long)hw, (long long)mb, cnnk_onednn_algo_name(algo),
               cnnk_onednn_concat_name(concat), unfused ? " unfused" : "",
               cnnk_onednn_net_prim_count(h), nw, e);
        /* unfused: no step computes more than its node, and the batch-norms,
         * ReLUs and adds are steps of their own ("other") */
        int others = 0;
        for (int i = 0; i < cnnk_onednn_net_prim_count(h); ++i) {
            const char *role = cnnk_onednn_net_prim_role(h, i);
            const bool reorder = strncmp(cnnk_onednn_net_prim_name(h, i), "reorder:", 8) == 0;
            CHECK(strcmp(role, "input") && strcmp(role, "output") && strcmp(role, "reorder")
                      ? !reorder || strcmp(role, "concat") == 0
                      : reorder);
            others += strcmp(role, "other") == 0;
            if (unfused) CHECK(strchr(cnnk_onednn_net_prim_name(h, i), '+') == NULL);
        }
        if (unfused) CHECK(others > 0);
        /* the profile is a forward too, step by step: the same output */
        double *ms = calloc((size_t)cnnk_onednn_net_prim_count(h), sizeof(double));
        float *again = malloc((size_t)(mb * classes) * sizeof(float));
        CHECK(ms && again && cnnk_onednn_net_profile(h, in, again, ms) == CNNK_OK);
        if (ms && again) {
            CHECK(memcmp(again, out, (size_t)(mb * classes) * sizeof(float)) == 0);
            for (int i = 0; i < cnnk_onednn_net_prim_count(h); ++i) CHECK(ms[i] >= 0.0);
        }
        free(ms);
        free(again);
        if (algo == CNNK_ONEDNN_DIRECT) CHECK_EQ_I64(nw, 0);
        if (algo == CNNK_ONEDNN_WINOGRAD) check_winograd_steps(net, h, wino);
        CHECK(e <= 1e-4);
        for (int64_t b = 0; b < mb; ++b) {
            int64_t t1[5], t2[5];
            top5(out + b * classes, classes, t1);
            top5(ref + b * classes, classes, t2);
            for (int k = 0; k < 5; ++k) CHECK_EQ_I64(t1[k], t2[k]);
        }
        /* every conv is a JIT kernel, never oneDNN's reference */
        for (int i = 0; i < cnnk_onednn_net_prim_count(h); ++i)
            if (strstr(cnnk_onednn_net_prim_impl(h, i), "ref")) {
                bool conv = strstr(cnnk_onednn_net_prim_name(h, i), "conv") != NULL;
                if (conv) fprintf(stderr, "%s: %s runs %s\n", name,
                                  cnnk_onednn_net_prim_name(h, i), cnnk_onednn_net_prim_impl(h, i));
                CHECK(!conv);
            }
        free(out);
    }
    free(ref);
    free(in);
    cnnk_onednn_net_destroy(h);
    cnnk_net_destroy(net);
}

static void check_net_algo(const char *name, int64_t mb, int64_t hw, cnnk_onednn_algo algo,
                           bool wino) {
    check_net_mode(name, mb, hw, algo, wino, CNNK_ONEDNN_CONCAT_COPY, false);
}

static void check_net(const char *name, int64_t mb, int64_t hw) {
    check_net_algo(name, mb, hw, CNNK_ONEDNN_DIRECT, false);
}

/* The per-layer rows time the network's own primitives: for every layer
 * step of a (copy) network, the one-layer handle that cnnk-bench's
 * layer/<net>/<layer>/onednn rows time, given the same descriptor and the
 * epilogue the fusion gives that layer, runs the same oneDNN
 * implementation as the network's step. Summing a network's layer rows
 * then differs from its network row only by the steps that are not
 * layers (reorders, concats, unfused batch-norms) and cache state
 * (docs/ONEDNN_PEER.md, "Layer rows and network rows"). */
static void check_layer_impls(const char *name, int64_t hw, cnnk_onednn_algo algo) {
    cnnk_error err = {{0}};
    cnnk_fusion f = {0};
    cnnk_net *net = built_net(name, 1, hw);
    if (!net) return;
    if (cnnk_fuse(net, &f, &err) != CNNK_OK) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        CHECK(!"network fuses");
        cnnk_net_destroy(net);
        return;
    }
    cnnk_onednn_net *h = NULL;
    CHECK(cnnk_onednn_net_create(net, 1, algo, &h, &err) == CNNK_OK);
    int layers = 0, same = 0;
    for (int i = 0; h && i < cnnk_onednn_net_prim_count(h); ++i) {
        if (cnnk_onednn_net_prim_role(h, i)[0]) continue;
        char head[CNNK_NAME_LEN + 48];
        snprintf(head, sizeof head, "%s", cnnk_onednn_net_prim_name(h, i));
        head[strcspn(head, "+")] = '\0';
        int n = 1;
        while (n < net->n && strcmp(net->nodes[n].name, head) != 0) ++n;
        CHECK(n < net->n);
        if (n >= net->n || net->nodes[n].op != CNNK_NODE_CONV) continue;
        const cnnk_fused *g = &f.groups[f.group[n]];
        const cnnk_epilogue_spec ep = {.bias = net->nodes[n].has_bias || g->bn >= 0,
                                       .residual = g->residual >= 0,
                                       .relu = g->relu};
        cnnk_onednn_layer *l = NULL;
        CHECK(cnnk_onednn_layer_create(&net->nodes[n].desc, &ep, algo, &l, &err) == CNNK_OK);
        if (l) {
            const char *a = cnnk_onednn_layer_impl(l), *b = cnnk_onednn_net_prim_impl(h, i);
            layers++;
            same += strcmp(a, b) == 0;
            if (strcmp(a, b) != 0)
                fprintf(stderr, "%s: %s: layer row runs %s, network %s\n", name, head, a, b);
        }
        cnnk_onednn_layer_destroy(l);
    }
    printf("%-12s %lldx%lld %-8s: %d of %d convolutions run the same implementation alone\n",
           name, (long long)hw, (long long)hw, cnnk_onednn_algo_name(algo), same, layers);
    CHECK(layers > 0);
    CHECK_EQ_I64(same, layers);
    cnnk_onednn_net_destroy(h);
    cnnk_fusion_free(&f);
    cnnk_net_destroy(net);
}

/* What the concats copy: the copy strategy every concat's output; in
 * place, at batch 1, nothing under AVX2 (every concat input of GoogLeNet
 * and DenseNet is a convolution's or pooling's output of a multiple of 8
 * channels, and oneDNN's AVX2 primitives take nChw8c), less than the copy
 * under AVX-512 (there the first pooling of a DenseNet block keeps its
 * nhwc and is copied), and at batch 2 (no dense slice) all of it again. */
static void check_concat_bytes(const char *name, int64_t mb, int64_t hw, bool avx2) {
    cnnk_error err = {{0}};
    cnnk_net *net = built_net(name, mb, hw);
    if (!net) return;
    int64_t want = 0;
    for (int i = 0; i < net->n; ++i)
        if (net->nodes[i].op == CNNK_NODE_CONCAT)
            want += mb * net->nodes[i].c * net->nodes[i].h * net->nodes[i].w * 4;
    cnnk_onednn_net *copy = NULL, *in_place = NULL;
    const cnnk_onednn_net_opts co = {CNNK_ONEDNN_DIRECT, CNNK_ONEDNN_CONCAT_COPY, false};
    const cnnk_onednn_net_opts po = {CNNK_ONEDNN_DIRECT, CNNK_ONEDNN_CONCAT_IN_PLACE, false};
    CHECK(cnnk_onednn_net_create_ex(net, 1, &co, &copy, &err) == CNNK_OK);
    CHECK(cnnk_onednn_net_create_ex(net, 1, &po, &in_place, &err) == CNNK_OK);
    if (copy && in_place) {
        int64_t c = cnnk_onednn_net_concat_copy_bytes(copy);
        int64_t p = cnnk_onednn_net_concat_copy_bytes(in_place);
        printf("%-12s %lldx%lld mb%lld concat copies: %lld bytes copy, %lld in place\n", name,
               (long long)hw, (long long)hw, (long long)mb, (long long)c, (long long)p);
        CHECK(want > 0);
        CHECK_EQ_I64(c, want);
        if (mb > 1) CHECK_EQ_I64(p, want);
        else if (avx2) CHECK_EQ_I64(p, 0);
        else CHECK(p < c);
    }
    cnnk_onednn_net_destroy(copy);
    cnnk_onednn_net_destroy(in_place);
    cnnk_net_destroy(net);
}

/* A residual whose shortcut conv is defined after the branch, a conv
 * reading the residual it adds, a BN that cannot be folded, dropout and a
 * softmax: the fusion and ordering corner cases on a tiny graph. */
static void test_small_graph(void) {
    cnnk_net *n = cnnk_net_create("tiny", 2, 8, 9, 9);
    int x = cnnk_net_conv(n, "c0", 0, 16, 3, 1, 1, true);
    int b = cnnk_net_conv(n, "branch", x, 16, 3, 1, 1, false);
    b = cnnk_net_bnorm(n, "branch.bn", b, 1e-5f);
    int sc = cnnk_net_conv(n, "shortcut", x, 16, 1, 1, 0, false);
    x = cnnk_net_add(n, "add", b, sc);
    x = cnnk_net_relu(n, "relu", x);
    int y = cnnk_net_conv(n, "self", x, 16, 3, 1, 1, false);
    x = cnnk_net_add(n, "self.add", y, x); /* conv(x) + x */
    x = cnnk_net_bnorm(n, "pre.bn", x, 1e-5f);
    x = cnnk_net_relu(n, "pre.relu", x);
    x = cnnk_net_maxpool(n, "pool", x, 3, 2, 0, true);
    x = cnnk_net_lrn(n, "lrn", x, 5, 1e-2f, 0.75f, 2.0f);
    int cat = cnnk_net_concat(n, "cat", 2, (const int[2]){x, x});
    x = cnnk_net_dropout(n, "drop", cat);
    x = cnnk_net_fc(n, "fc1", x, 20);
    x = cnnk_net_relu(n, "fc1.relu", x);
    x = cnnk_net_fc(n, "fc2", x, 10);
    cnnk_net_softmax(n, "prob", x);
    cnnk_error err = {{0}};
    CHECK(cnnk_net_status(n, &err) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, 3, &err) == CNNK_OK);
    float in[2 * 9 * 9 * 8], out[20];
    fill_input(in, 2 * 9 * 9 * 8, 5);
    cnnk_onednn_net *h = NULL;
    CHECK(cnnk_onednn_net_create(n, 1, CNNK_ONEDNN_DIRECT, &h, &err) == CNNK_OK);
    float *ref = ref_forward(n, in);
    if (h && ref) {
        CHECK(cnnk_onednn_net_forward(h, in, out) == CNNK_OK);
        CHECK(cnnk_onednn_net_forward(h, in, out) == CNNK_OK);
        CHECK(rel_l2(out, ref, 20) <= 1e-5);
        bool fused = false;
        for (int i = 0; i < cnnk_onednn_net_prim_count(h); ++i)
            fused = fused || strcmp(cnnk_onednn_net_prim_name(h, i), "branch+bn+sum+relu") == 0;
        CHECK(fused);
        CHECK(cnnk_onednn_net_prim_name(h, -1) == NULL);
        CHECK(cnnk_onednn_net_prim_name(h, cnnk_onednn_net_prim_count(h)) == NULL);
    }
    free(ref);
    cnnk_onednn_net_destroy(h);
    /* a network without weights is refused, named, and nothing leaks */
    cnnk_net *bare = cnnk_net_create("bare", 1, 3, 8, 8);
    cnnk_net_conv(bare, "c", 0, 4, 3, 1, 1, false);
    h = NULL;
    CHECK(cnnk_onednn_net_create(bare, 1, CNNK_ONEDNN_DIRECT, &h, &err) == CNNK_EINVAL &&
          h == NULL);
    CHECK(strstr(err.msg, "no weights") != NULL);
    cnnk_net_destroy(bare);
    cnnk_net_destroy(n);
}

/* FCN-8s's head in small: transposed convolutions, a crop folded into one
 * (oneDNN's deconvolution with the padding grown), a crop of a 1x1 score
 * (a submemory reorder) added to an upsampled map. */
static void test_fcn_graph(void) {
    cnnk_net *n = cnnk_net_create("tiny_fcn", 2, 8, 12, 12);
    const int pool = cnnk_net_maxpool(n, "pool", 0, 2, 2, 0, true); /* 6x6 */
    int up = cnnk_net_deconv(n, "up2", pool, 21, 4, 2, 0, false);    /* 14x14 */
    int score = cnnk_net_conv(n, "score", 0, 21, 1, 1, 0, true);
    score = cnnk_net_crop_ex(n, "scorec", score, 10, 10, 1, 2);
    up = cnnk_net_crop_ex(n, "up2c", up, 10, 10, 3, 2);
    up = cnnk_net_add(n, "fuse", up, score);
    up = cnnk_net_deconv(n, "up8", up, 21, 16, 8, 0, true); /* 88x88 */
    cnnk_net_crop_ex(n, "out", up, 12, 12, 31, 30);
    cnnk_error err = {{0}};
    CHECK(cnnk_net_status(n, &err) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, 4, &err) == CNNK_OK);
    const int64_t nin = 2 * 12 * 12 * 8, nout = 2 * 12 * 12 * 21;
    float *in = malloc((size_t)nin * sizeof *in), *out = malloc((size_t)nout * sizeof *out);
    fill_input(in, nin, 8);
    cnnk_onednn_net *h = NULL;
    CHECK(cnnk_onednn_net_create(n, 1, CNNK_ONEDNN_DIRECT, &h, &err) == CNNK_OK);
    if (!h) fprintf(stderr, "tiny_fcn: %s\n", err.msg);
    float *ref = ref_forward(n, in);
    if (h && ref) {
        CHECK(cnnk_onednn_net_forward(h, in, out) == CNNK_OK);
        CHECK(rel_l2(out, ref, nout) <= 1e-5);
    }
    free(ref), free(in), free(out);
    cnnk_onednn_net_destroy(h);
    cnnk_net_destroy(n);
}

/* YOLOv1's end in small: the decoding + NMS host step reads an inner
 * product's 2-D value (mb x c), which must reach it as the plain bytes of
 * c x 1 x 1, not through a 2-D to 4-D reorder oneDNN refuses. */
static void test_detect_after_fc(void) {
    cnnk_net *n = cnnk_net_create("tiny_yolo", 1, 3, 8, 8);
    int x = cnnk_net_fc(n, "fc", 0, 2 * 2 * (5 * 2 + 3)); /* s 2, b 2, 3 classes */
    cnnk_net_yolo_detect(n, "detect", x, 2, 2, 3, 0.0f, 0.5f, 8);
    cnnk_error err = {{0}};
    CHECK(cnnk_net_status(n, &err) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, 5, &err) == CNNK_OK);
    float in[8 * 8 * 3], out[8 * 6];
    fill_input(in, 8 * 8 * 3, 9);
    cnnk_onednn_net *h = NULL;
    CHECK(cnnk_onednn_net_create(n, 1, CNNK_ONEDNN_DIRECT, &h, &err) == CNNK_OK);
    if (!h) fprintf(stderr, "tiny_yolo: %s\n", err.msg);
    /* the reference: cnnk's runner on the reference plan (the graph
     * walker above has no detection node) */
    float ref[8 * 6];
    cnnk_runner *r = NULL;
    const cnnk_plan plan = {.kind = CNNK_PLAN_REF};
    CHECK(cnnk_runner_prepare(n, CNNK_ISA_REF, &plan, 1, &r, &err) == CNNK_OK);
    if (r) cnnk_runner_forward(r, in, ref, false);
    if (h && r) {
        char hosts[64];
        CHECK(cnnk_onednn_net_host_steps(h, hosts, sizeof hosts) == 1 && strcmp(hosts, "detect") == 0);
        CHECK(cnnk_onednn_net_forward(h, in, out) == CNNK_OK);
        CHECK(rel_l2(out, ref, 8 * 6) <= 1e-5);
    }
    cnnk_runner_destroy(r);
    cnnk_onednn_net_destroy(h);
    cnnk_net_destroy(n);
}

/* Whether this CPU runs oneDNN's level isa: its effective ISA under the cap
 * is the cap itself (a higher cap than the CPU has reads lower). */
static bool cpu_runs(const char *isa) { return strcasecmp(cnnk_onednn_max_isa_name(), isa) == 0; }

int main(int argc, char **argv) {
    if (!cnnk_onednn_available()) {
        cnnk_onednn_net *h = NULL;
        CHECK(cnnk_onednn_net_create(NULL, 1, CNNK_ONEDNN_DIRECT, &h, NULL) ==
              CNNK_EUNSUPPORTED);
        return check_finish("test_onednn_peer");
    }
    /* The cap under test: avx2 unless the argument names another. */
    const char *isa = argc > 1 ? argv[1] : "avx2";
    test_algo_names();
    test_max_isa(isa);
    if (!cpu_runs(isa)) {
        printf("test_onednn_peer: this CPU does not run oneDNN's %s (it runs %s): skipped\n", isa,
               cnnk_onednn_max_isa_name());
        return check_finish("test_onednn_peer");
    }
    /* oneDNN 2.6 has CPU Winograd from avx512_core up, none below. */
    const bool wino = strncasecmp(isa, "avx512_core", 11) == 0;
    test_layer_algos(wino);
    test_layer_outputs();
    test_detect_after_fc();
    check_net_algo("resnet18", 2, 32, CNNK_ONEDNN_WINOGRAD, wino);
    check_net_algo("googlenet", 1, 64, CNNK_ONEDNN_WINOGRAD, wino);
    check_net_algo("resnet18", 2, 32, CNNK_ONEDNN_AUTO, wino);
    /* in-place concats: the same logits (the slices are where the reference
     * walk's concat puts each branch), at both caps */
    check_net_mode("googlenet", 1, 64, CNNK_ONEDNN_WINOGRAD, wino, CNNK_ONEDNN_CONCAT_IN_PLACE,
                   false);
    check_net_mode("densenet121", 1, 32, CNNK_ONEDNN_DIRECT, wino, CNNK_ONEDNN_CONCAT_IN_PLACE,
                   false);
    check_net_mode("googlenet", 2, 64, CNNK_ONEDNN_DIRECT, wino, CNNK_ONEDNN_CONCAT_IN_PLACE,
                   false);
    /* unfused (a primitive per node, PyTorch eager's way): the same logits */
    check_net_mode("resnet18", 2, 32, CNNK_ONEDNN_DIRECT, wino, CNNK_ONEDNN_CONCAT_COPY, true);
    check_net_mode("densenet121", 1, 32, CNNK_ONEDNN_DIRECT, wino, CNNK_ONEDNN_CONCAT_COPY, true);
    const bool avx2 = strcasecmp(isa, "avx2") == 0;
    check_layer_impls("resnet18", 64, CNNK_ONEDNN_DIRECT);
    check_layer_impls("googlenet", 64, CNNK_ONEDNN_WINOGRAD);
    check_layer_impls("densenet121", 32, CNNK_ONEDNN_DIRECT);
    check_concat_bytes("googlenet", 1, 64, avx2);
    check_concat_bytes("densenet121", 1, 32, avx2);
    check_concat_bytes("googlenet", 2, 64, avx2);
    if (argc > 1) return check_finish("test_onednn_peer"); /* the rest runs once, at avx2 */
    test_layers(isa);
    test_small_graph();
    test_fcn_graph();
    check_net("resnet18", 2, 32);
    check_net("googlenet", 1, 64);
    check_net("densenet121", 1, 32);
    /* VGG's adaptive pooling needs 224 (7x7 after five halvings): minutes
     * of scalar reference under the sanitizers, so on request only. */
    if (getenv("CNNK_TEST_SLOW")) check_net("vgg11", 1, 224);
    check_net("alexnet", 1, 224);
    return check_finish("test_onednn_peer");
}
