/* The network graph: the builder (each call derives and checks its layer's
 * descriptor), the table of networks, counts and activation liveness.
 *
 * The first error sticks: a definition is a straight list of layers and the
 * caller checks cnnk_net_status() once at the end. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "cnnk/onnx.h"
#include "nets/nets.h"

typedef long long ll;

static const char *const op_names[CNNK_NODE_OP_COUNT] = {
    "input", "conv", "bnorm", "relu", "pool", "lrn", "fc", "dropout", "concat", "add", "softmax",
    "leaky_relu", "deconv", "crop", "resize", "detect", "region_pool", "warp",
};

const char *cnnk_node_op_name(cnnk_node_op op) {
    return (unsigned)op < CNNK_NODE_OP_COUNT ? op_names[op] : "unknown";
}

void cnnk_net_set_error(cnnk_net *n, cnnk_status s, const char *fmt, ...) {
    if (n->status != CNNK_OK) return;
    n->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->err.msg, sizeof n->err.msg, fmt, ap);
    va_end(ap);
}

static bool grow(cnnk_net *n) {
    if (n->n < n->cap) return true;
    if (n->cap > (int)(((size_t)1 << 30) / sizeof(cnnk_node))) return false;
    int cap = n->cap ? 2 * n->cap : 64;
    cnnk_node *p = realloc(n->nodes, (size_t)cap * sizeof *p);
    if (!p) return false;
    n->nodes = p;
    n->cap = cap;
    return true;
}

cnnk_net *cnnk_net_create(const char *name, int64_t mb, int64_t c, int64_t h, int64_t w) {
    cnnk_net *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    if (!grow(n)) {
        free(n);
        return NULL;
    }
    snprintf(n->name, sizeof n->name, "%s", name ? name : "");
    n->mb = mb, n->c = c, n->h = h, n->w = w;
    cnnk_node *in = &n->nodes[0];
    memset(in, 0, sizeof *in);
    snprintf(in->name, sizeof in->name, "input");
    in->op = CNNK_NODE_INPUT;
    in->c = c, in->h = h, in->w = w;
    in->reps = 1;
    n->n = 1;
    if (mb < 1 || c < 1 || h < 1 || w < 1 || mb > CNNK_MAX_DIM || c > CNNK_MAX_DIM ||
        h > CNNK_MAX_DIM || w > CNNK_MAX_DIM)
        cnnk_net_set_error(n, CNNK_EINVAL,
                           "%s: input %lldx%lldx%lldx%lld (mb x c x h x w): each must be in "
                           "1..%lld",
                           n->name, (ll)mb, (ll)c, (ll)h, (ll)w, (ll)CNNK_MAX_DIM);
    return n;
}

void cnnk_net_destroy(cnnk_net *n) {
    if (!n) return;
    for (int i = 0; i < n->n; ++i) {
        cnnk_node *x = &n->nodes[i];
        free(x->weights);
        free(x->bias);
        for (int j = 0; j < 4; ++j) free(x->bn[j]);
    }
    free(n->nodes);
    free(n);
}

cnnk_status cnnk_net_status(const cnnk_net *n, cnnk_error *err) {
    if (!n) return cnnk_fail(err, CNNK_ENOMEM, "network: out of memory");
    if (n->status != CNNK_OK && err) *err = n->err;
    return n->status;
}

/* Starts a node reading `nin` inputs; NULL when the network already failed
 * or the arguments are wrong (the error is recorded). The node is appended
 * only by commit(), after its descriptor passed its check. */
static cnnk_node *begin(cnnk_net *n, cnnk_node *x, const char *name, cnnk_node_op op,
                        const int *in, int nin) {
    if (!n || n->status != CNNK_OK) return NULL;
    if (!name || strlen(name) >= CNNK_NAME_LEN) {
        cnnk_net_set_error(n, CNNK_EINVAL, "%s: a layer name is missing or longer than %d bytes",
                           n->name, CNNK_NAME_LEN - 1);
        return NULL;
    }
    if (nin < 1 || nin > CNNK_CONCAT_MAX_INPUTS) {
        cnnk_net_set_error(n, CNNK_EINVAL, "%s: %d inputs, must be 1..%d", name, nin,
                           CNNK_CONCAT_MAX_INPUTS);
        return NULL;
    }
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->op = op;
    x->ninputs = nin;
    for (int i = 0; i < nin; ++i) {
        if (in[i] < 0 || in[i] >= n->n) {
            cnnk_net_set_error(n, CNNK_EINVAL, "%s: input %d is node %d, not one of 0..%d", name,
                               i, in[i], n->n - 1);
            return NULL;
        }
        x->inputs[i] = in[i];
        /* A node's batch is its inputs': an add or concat of a region
         * batch with an image batch has no meaning. */
        const cnnk_node *t = &n->nodes[in[i]];
        if (i > 0 && t->reps != x->reps) {
            cnnk_net_set_error(n, CNNK_EINVAL,
                               "%s: input %d (%s) holds %lld images per network image, input 0 "
                               "(%s) %lld: the batch multipliers must be equal",
                               name, i, t->name, (ll)t->reps, n->nodes[in[0]].name,
                               (ll)x->reps);
            return NULL;
        }
        x->reps = t->reps;
    }
    return x;
}

int64_t cnnk_net_node_batch(const cnnk_net *n, const cnnk_node *x) {
    return n->mb * x->reps;
}

static int commit(cnnk_net *n, const cnnk_node *x, cnnk_status st, const cnnk_error *err) {
    if (st != CNNK_OK) {
        cnnk_net_set_error(n, st, "%s", err->msg);
        return -1;
    }
    if (!grow(n)) {
        cnnk_net_set_error(n, CNNK_ENOMEM, "%s: out of memory adding layer %d", x->name, n->n);
        return -1;
    }
    n->nodes[n->n] = *x;
    return n->n++;
}

static const cnnk_node *input_of(const cnnk_net *n, const cnnk_node *x, int i) {
    return &n->nodes[x->inputs[i]];
}

/* A convolution (op CONV) or a transposed one (op DECONV) of geom. */
static int conv_node(cnnk_net *n, const char *name, int in, const cnnk_conv_desc *geom,
                     bool bias, cnnk_node_op op) {
    const bool transposed = op == CNNK_NODE_DECONV;
    cnnk_node x;
    if (!begin(n, &x, name, op, &in, 1)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = transposed ? CNNK_LAYER_DECONV : CNNK_LAYER_CONV;
    cnnk_conv_desc *d = &x.desc.u.conv;
    *d = (cnnk_conv_desc){.g = geom->g, .mb = n->mb * x.reps, .ic = s->c, .ih = s->h, .iw = s->w,
                          .oc = geom->oc, .kh = geom->kh, .kw = geom->kw, .sh = geom->sh,
                          .sw = geom->sw, .pt = geom->pt, .pb = geom->pb, .pl = geom->pl,
                          .pr = geom->pr, .dh = geom->dh, .dw = geom->dw,
                          .transposed = transposed};
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_conv_check(d, &err);
    x.c = d->oc, x.h = d->oh, x.w = d->ow;
    x.has_bias = bias;
    return commit(n, &x, st, &err);
}

int cnnk_net_conv_geom(cnnk_net *n, const char *name, int in, const cnnk_conv_desc *geom,
                       bool bias) {
    return conv_node(n, name, in, geom, bias, CNNK_NODE_CONV);
}

int cnnk_net_conv_ex(cnnk_net *n, const char *name, int in, int64_t oc, int64_t kh, int64_t kw,
                     int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups,
                     int64_t dilation, bool bias) {
    const cnnk_conv_desc geom = {.g = groups, .oc = oc, .kh = kh, .kw = kw, .sh = sh, .sw = sw,
                                 .pt = ph, .pb = ph, .pl = pw, .pr = pw, .dh = dilation,
                                 .dw = dilation};
    return cnnk_net_conv_geom(n, name, in, &geom, bias);
}

int cnnk_net_conv(cnnk_net *n, const char *name, int in, int64_t oc, int64_t k, int64_t s,
                  int64_t p, bool bias) {
    return cnnk_net_conv_ex(n, name, in, oc, k, k, s, s, p, p, 1, 1, bias);
}

int cnnk_net_bnorm(cnnk_net *n, const char *name, int in, float eps) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_BNORM, &in, 1)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_BNORM;
    cnnk_bnorm_desc *d = &x.desc.u.bnorm;
    *d = (cnnk_bnorm_desc){.mb = n->mb * x.reps, .c = s->c, .h = s->h, .w = s->w, .eps = eps};
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_bnorm_check(d, &err);
    x.c = s->c, x.h = s->h, x.w = s->w;
    return commit(n, &x, st, &err);
}

static int eltwise(cnnk_net *n, const char *name, cnnk_node_op op, cnnk_eltwise_alg alg,
                   float alpha, const int *in, int nin) {
    cnnk_node x;
    if (!begin(n, &x, name, op, in, nin)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    for (int i = 1; i < nin; ++i) {
        const cnnk_node *t = input_of(n, &x, i);
        if (t->c != s->c || t->h != s->h || t->w != s->w) {
            cnnk_net_set_error(n, CNNK_EINVAL,
                               "%s: input %d (%s) is %lldx%lldx%lld (c x h x w), input 0 (%s) "
                               "is %lldx%lldx%lld: the shapes must be equal",
                               name, i, t->name, (ll)t->c, (ll)t->h, (ll)t->w, s->name,
                               (ll)s->c, (ll)s->h, (ll)s->w);
            return -1;
        }
    }
    x.desc.kind = CNNK_LAYER_ELTWISE;
    cnnk_eltwise_desc *d = &x.desc.u.eltwise;
    *d = (cnnk_eltwise_desc){
        .mb = n->mb * x.reps, .c = s->c, .h = s->h, .w = s->w, .alg = alg, .alpha = alpha};
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_eltwise_check(d, &err);
    x.c = s->c, x.h = s->h, x.w = s->w;
    return commit(n, &x, st, &err);
}

int cnnk_net_relu(cnnk_net *n, const char *name, int in) {
    return eltwise(n, name, CNNK_NODE_RELU, CNNK_ELTWISE_RELU, 0.0f, &in, 1);
}

int cnnk_net_leaky_relu(cnnk_net *n, const char *name, int in, float alpha) {
    return eltwise(n, name, CNNK_NODE_LEAKY_RELU, CNNK_ELTWISE_LEAKY_RELU, alpha, &in, 1);
}

int cnnk_net_dropout(cnnk_net *n, const char *name, int in) {
    return eltwise(n, name, CNNK_NODE_DROPOUT, CNNK_ELTWISE_DROPOUT, 0.0f, &in, 1);
}

int cnnk_net_add(cnnk_net *n, const char *name, int a, int b) {
    int in[2] = {a, b};
    return eltwise(n, name, CNNK_NODE_ADD, CNNK_ELTWISE_ADD, 0.0f, in, 2);
}

static int pool(cnnk_net *n, const char *name, int in, const cnnk_pool_desc *proto) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_POOL, &in, 1)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_POOL;
    cnnk_pool_desc *d = &x.desc.u.pool;
    *d = *proto;
    d->mb = n->mb * x.reps, d->c = s->c, d->ih = s->h, d->iw = s->w, d->oh = d->ow = 0;
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_pool_check(d, &err);
    x.c = s->c, x.h = d->oh, x.w = d->ow;
    return commit(n, &x, st, &err);
}

int cnnk_net_pool_geom(cnnk_net *n, const char *name, int in, const cnnk_pool_desc *geom) {
    return pool(n, name, in, geom);
}

int cnnk_net_maxpool(cnnk_net *n, const char *name, int in, int64_t k, int64_t s, int64_t p,
                     bool ceil_mode) {
    cnnk_pool_desc d = {.kh = k, .kw = k, .sh = s, .sw = s, .pt = p, .pl = p, .pb = p, .pr = p,
                        .alg = CNNK_POOL_MAX,
                        .round = ceil_mode ? CNNK_ROUND_CEIL : CNNK_ROUND_FLOOR};
    return pool(n, name, in, &d);
}

int cnnk_net_avgpool(cnnk_net *n, const char *name, int in, int64_t k, int64_t s, int64_t p,
                     bool ceil_mode, bool count_include_pad) {
    cnnk_pool_desc d = {.kh = k, .kw = k, .sh = s, .sw = s, .pt = p, .pl = p, .pb = p, .pr = p,
                        .alg = count_include_pad ? CNNK_POOL_AVG_INCLUDE_PAD
                                                 : CNNK_POOL_AVG_EXCLUDE_PAD,
                        .round = ceil_mode ? CNNK_ROUND_CEIL : CNNK_ROUND_FLOOR};
    return pool(n, name, in, &d);
}

int cnnk_net_global_avgpool(cnnk_net *n, const char *name, int in) {
    cnnk_pool_desc d = {.alg = CNNK_POOL_AVG_INCLUDE_PAD, .round = CNNK_ROUND_FLOOR,
                        .global = true};
    return pool(n, name, in, &d);
}

int cnnk_net_lrn(cnnk_net *n, const char *name, int in, int64_t size, float alpha, float beta,
                 float k) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_LRN, &in, 1)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_LRN;
    cnnk_lrn_desc *d = &x.desc.u.lrn;
    *d = (cnnk_lrn_desc){.mb = n->mb * x.reps, .c = s->c, .h = s->h, .w = s->w, .size = size,
                         .alpha = alpha, .beta = beta, .k = k};
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_lrn_check(d, &err);
    x.c = s->c, x.h = s->h, x.w = s->w;
    return commit(n, &x, st, &err);
}

int cnnk_net_fc(cnnk_net *n, const char *name, int in, int64_t oc) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_FC, &in, 1)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_FC;
    cnnk_fc_desc *d = &x.desc.u.fc;
    *d = (cnnk_fc_desc){.mb = n->mb * x.reps, .ic = s->c, .ih = s->h, .iw = s->w, .oc = oc};
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_fc_check(d, &err);
    x.c = oc, x.h = 1, x.w = 1;
    x.has_bias = true; /* nn.Linear's default, and every network here keeps it */
    return commit(n, &x, st, &err);
}

int cnnk_net_concat(cnnk_net *n, const char *name, int count, const int *in) {
    cnnk_node x;
    if (!in || !begin(n, &x, name, CNNK_NODE_CONCAT, in, count)) {
        if (n && !in) cnnk_net_set_error(n, CNNK_EINVAL, "%s: no inputs", name ? name : "concat");
        return -1;
    }
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_CONCAT;
    cnnk_concat_desc *d = &x.desc.u.concat;
    memset(d, 0, sizeof *d);
    d->mb = n->mb * x.reps, d->h = s->h, d->w = s->w, d->n = count;
    snprintf(d->name, sizeof d->name, "%s", name);
    int64_t c = 0;
    for (int i = 0; i < count; ++i) {
        const cnnk_node *t = input_of(n, &x, i);
        if (t->h != s->h || t->w != s->w) {
            cnnk_net_set_error(n, CNNK_EINVAL,
                               "%s: input %d (%s) is %lldx%lld, input 0 (%s) is %lldx%lld: a "
                               "channel concat needs equal h x w",
                               name, i, t->name, (ll)t->h, (ll)t->w, s->name, (ll)s->h,
                               (ll)s->w);
            return -1;
        }
        d->c[i] = t->c;
        c += t->c; /* each <= CNNK_MAX_DIM, at most 64: no overflow */
    }
    cnnk_error err;
    cnnk_status st = cnnk_concat_check(d, &err);
    x.c = c, x.h = s->h, x.w = s->w;
    return commit(n, &x, st, &err);
}

int cnnk_net_softmax(cnnk_net *n, const char *name, int in) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_SOFTMAX, &in, 1)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_SOFTMAX;
    cnnk_softmax_desc *d = &x.desc.u.softmax;
    *d = (cnnk_softmax_desc){.mb = n->mb * x.reps, .c = s->c, .h = s->h, .w = s->w};
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_softmax_check(d, &err);
    x.c = s->c, x.h = s->h, x.w = s->w;
    return commit(n, &x, st, &err);
}

int cnnk_net_deconv_geom(cnnk_net *n, const char *name, int in, const cnnk_conv_desc *geom,
                         bool bias) {
    return conv_node(n, name, in, geom, bias, CNNK_NODE_DECONV);
}

int cnnk_net_deconv(cnnk_net *n, const char *name, int in, int64_t oc, int64_t k, int64_t s,
                    int64_t p, bool bias) {
    cnnk_conv_desc g = {.g = 1, .oc = oc, .kh = k, .kw = k, .sh = s, .sw = s, .pt = p, .pl = p,
                        .pb = p, .pr = p, .dh = 1, .dw = 1};
    return cnnk_net_deconv_geom(n, name, in, &g, bias);
}

int cnnk_net_crop_ex(cnnk_net *n, const char *name, int in, int64_t h, int64_t w, int64_t top,
                     int64_t left) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_CROP, &in, 1)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    if (h < 1 || w < 1 || top < 0 || left < 0 || top > s->h - h || left > s->w - w) {
        cnnk_net_set_error(n, CNNK_EINVAL,
                           "%s: a %lldx%lld crop at (%lld, %lld) does not lie inside its "
                           "%lldx%lld input %s",
                           name, (ll)h, (ll)w, (ll)top, (ll)left, (ll)s->h, (ll)s->w, s->name);
        return -1;
    }
    x.crop_top = top, x.crop_left = left;
    x.desc.kind = CNNK_LAYER_ELTWISE;
    cnnk_eltwise_desc *d = &x.desc.u.eltwise;
    *d = (cnnk_eltwise_desc){
        .mb = n->mb * x.reps, .c = s->c, .h = h, .w = w, .alg = CNNK_ELTWISE_DROPOUT};
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_eltwise_check(d, &err);
    x.c = s->c, x.h = h, x.w = w;
    return commit(n, &x, st, &err);
}

int cnnk_net_crop(cnnk_net *n, const char *name, int in, int ref, int64_t offset) {
    if (!n || n->status != CNNK_OK) return -1;
    if (ref < 0 || ref >= n->n) {
        cnnk_net_set_error(n, CNNK_EINVAL, "%s: reference node %d is not one of 0..%d",
                           name ? name : "crop", ref, n->n - 1);
        return -1;
    }
    const cnnk_node *r = &n->nodes[ref];
    return cnnk_net_crop_ex(n, name, in, r->h, r->w, offset, offset);
}

int cnnk_net_resize(cnnk_net *n, const char *name, int in, int64_t oh, int64_t ow,
                    bool align_corners) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_RESIZE, &in, 1)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_RESIZE;
    cnnk_resize_desc *d = &x.desc.u.resize;
    *d = (cnnk_resize_desc){.mb = n->mb * x.reps, .c = s->c, .ih = s->h, .iw = s->w, .oh = oh,
                            .ow = ow, .align_corners = align_corners};
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_resize_check(d, &err);
    x.c = s->c, x.h = oh, x.w = ow;
    return commit(n, &x, st, &err);
}

static int detect(cnnk_net *n, const char *name, const int *in, int nin,
                  const cnnk_detect_desc *proto) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_DETECT, in, nin)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_DETECT;
    cnnk_detect_desc *d = &x.desc.u.detect;
    *d = *proto;
    d->mb = n->mb * x.reps, d->c = s->c, d->h = s->h, d->w = s->w;
    d->img_h = n->h, d->img_w = n->w;
    if (nin > 1) {
        const cnnk_node *t = input_of(n, &x, 1);
        if (t->h != s->h || t->w != s->w) {
            cnnk_net_set_error(n, CNNK_EINVAL, "%s: scores are %lldx%lld, deltas %lldx%lld: "
                               "one map", name, (ll)s->h, (ll)s->w, (ll)t->h, (ll)t->w);
            return -1;
        }
        d->c1 = t->c;
    }
    if (nin > 2) {
        const cnnk_node *r = input_of(n, &x, 2);
        if (r->c != 5 || r->h * r->w != s->h * s->w) {
            cnnk_net_set_error(n, CNNK_EINVAL, "%s: %lld rows of scores need as many rois of "
                               "5, got %lldx%lldx%lld", name, (ll)(s->h * s->w), (ll)r->h,
                               (ll)r->w, (ll)r->c);
            return -1;
        }
    }
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_detect_check(d, &err);
    x.c = d->cols, x.h = 1, x.w = d->rows;
    return commit(n, &x, st, &err);
}

int cnnk_net_yolo_detect(cnnk_net *n, const char *name, int in, int64_t s, int64_t b,
                         int64_t classes, float thresh, float nms, int64_t max_det) {
    const cnnk_detect_desc d = {.alg = CNNK_DETECT_YOLOV1, .rows = max_det, .cols = 6, .s = s,
                                .b = b, .classes = classes, .thresh = thresh, .nms = nms};
    return detect(n, name, &in, 1, &d);
}

int cnnk_net_rpn_proposals(cnnk_net *n, const char *name, int cls, int bbox,
                           int64_t feat_stride, int64_t pre_nms, int64_t post_nms, float nms,
                           float min_size) {
    const int in[2] = {cls, bbox};
    const cnnk_detect_desc d = {.alg = CNNK_DETECT_RPN, .rows = post_nms, .cols = 5,
                                .feat_stride = feat_stride, .pre_nms = pre_nms, .nms = nms,
                                .min_size = min_size};
    return detect(n, name, in, 2, &d);
}

int cnnk_net_frcnn_detect(cnnk_net *n, const char *name, int prob, int deltas, int rois,
                          float thresh, float nms, int64_t max_det) {
    const int in[3] = {prob, deltas, rois};
    const cnnk_detect_desc d = {.alg = CNNK_DETECT_FRCNN, .rows = max_det, .cols = 6,
                                .thresh = thresh, .nms = nms};
    return detect(n, name, in, 3, &d);
}

static int region_pool(cnnk_net *n, const char *name, const int *in, int nin,
                       const cnnk_region_pool_desc *proto) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_REGION_POOL, in, nin)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_REGION_POOL;
    cnnk_region_pool_desc *d = &x.desc.u.region;
    *d = *proto;
    d->mb = n->mb * x.reps, d->c = s->c, d->ih = s->h, d->iw = s->w;
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_region_pool_check(d, &err);
    if (st == CNNK_OK && nin == 2) {
        const cnnk_node *b = input_of(n, &x, 1);
        if (b->c != 5 || b->h != 1 || b->w != d->rois)
            st = cnnk_fail(&err, CNNK_EINVAL,
                           "%s: boxes %s are %lldx%lldx%lld (c x h x w), RoI pooling of %lld "
                           "boxes takes 5x1x%lld",
                           name, b->name, (ll)b->c, (ll)b->h, (ll)b->w, (ll)d->rois,
                           (ll)d->rois);
    }
    x.c = d->oc, x.h = d->oh, x.w = d->ow;
    return commit(n, &x, st, &err);
}

int cnnk_net_roi_pool(cnnk_net *n, const char *name, int in, int boxes, int64_t rois,
                      int64_t bins, float spatial_scale) {
    const cnnk_region_pool_desc d = {.rois = rois, .spatial_scale = spatial_scale, .nlevels = 1,
                                     .bins_h = {bins}, .bins_w = {bins}};
    const int inputs[2] = {in, boxes};
    return region_pool(n, name, inputs, boxes < 0 ? 1 : 2, &d);
}

int cnnk_net_warp(cnnk_net *n, const char *name, int in, int64_t rois, int64_t oh, int64_t ow,
                  int64_t pad) {
    cnnk_node x;
    if (!begin(n, &x, name, CNNK_NODE_WARP, &in, 1)) return -1;
    const cnnk_node *s = input_of(n, &x, 0);
    x.desc.kind = CNNK_LAYER_WARP;
    cnnk_warp_desc *d = &x.desc.u.warp;
    *d = (cnnk_warp_desc){.mb = n->mb * x.reps, .c = s->c, .ih = s->h, .iw = s->w, .rois = rois,
                          .oh = oh, .ow = ow, .pad = pad};
    snprintf(d->name, sizeof d->name, "%s", name);
    cnnk_error err;
    cnnk_status st = cnnk_warp_check(d, &err);
    if (st == CNNK_OK && x.reps > CNNK_MAX_DIM / rois)
        st = cnnk_fail(&err, CNNK_EINVAL, "%s: %lld x %lld regions per network image is more "
                       "than %lld", name, (ll)x.reps, (ll)rois, (ll)CNNK_MAX_DIM);
    x.c = s->c, x.h = oh, x.w = ow;
    x.reps *= rois;
    return commit(n, &x, st, &err);
}

int cnnk_net_spp(cnnk_net *n, const char *name, int in, int nlevels, const int64_t *bins) {
    cnnk_region_pool_desc d = {.nlevels = nlevels, .flatten = true};
    for (int i = 0; i < nlevels && i < CNNK_REGION_MAX_LEVELS; ++i)
        d.bins_h[i] = d.bins_w[i] = bins[i];
    return region_pool(n, name, &in, 1, &d);
}

int cnnk_nets_adaptive_avgpool(cnnk_net *n, const char *name, int in, int64_t out) {
    if (!n || n->status != CNNK_OK) return -1;
    if (in < 0 || in >= n->n) return cnnk_net_avgpool(n, name, in, 1, 1, 0, false, true);
    const cnnk_node *s = &n->nodes[in];
    if (s->h == out && s->w == out) return in;
    if (s->h % out == 0 && s->w % out == 0 && s->h / out == s->w / out) {
        int64_t k = s->h / out;
        return cnnk_net_avgpool(n, name, in, k, k, 0, false, true);
    }
    cnnk_net_set_error(n, CNNK_EINVAL,
                       "%s: adaptive average pooling to %lldx%lld needs an input of %lldx%lld "
                       "or square multiples of it, got %lldx%lld (from a %lldx%lld network "
                       "input)",
                       name, (ll)out, (ll)out, (ll)out, (ll)out, (ll)s->h, (ll)s->w, (ll)n->h,
                       (ll)n->w);
    return -1;
}

/* ---- the table of networks ------------------------------------------------ */

/* Each network with the input side its source trains and evaluates at,
 * which cnnk_net_build takes for h = w = 0. */
static const struct {
    const char *name;
    cnnk_net_builder build;
    int64_t side;
} networks[] = {
    {"alexnet", cnnk_nets_alexnet, 224},         {"vgg11", cnnk_nets_vgg11, 224},
    {"vgg13", cnnk_nets_vgg13, 224},             {"vgg16", cnnk_nets_vgg16, 224},
    {"vgg19", cnnk_nets_vgg19, 224},             {"googlenet", cnnk_nets_googlenet, 224},
    {"resnet18", cnnk_nets_resnet18, 224},       {"resnet34", cnnk_nets_resnet34, 224},
    {"resnet50", cnnk_nets_resnet50, 224},       {"resnet101", cnnk_nets_resnet101, 224},
    {"resnet152", cnnk_nets_resnet152, 224},     {"densenet121", cnnk_nets_densenet121, 224},
    {"densenet169", cnnk_nets_densenet169, 224}, {"densenet201", cnnk_nets_densenet201, 224},
    {"yolov1", cnnk_nets_yolov1, 448},
    {"fcn32s", cnnk_nets_fcn32s, 500},           {"fcn16s", cnnk_nets_fcn16s, 500},
    {"fcn8s", cnnk_nets_fcn8s, 500},             {"fcn_resnet50", cnnk_nets_fcn_resnet50, 520},
    {"yolov1_det", cnnk_nets_yolov1_det, 448},
    /* py-faster-rcnn tests at 600 x 1000 (wide[] below). */
    {"faster_rcnn_vgg16_rpn", cnnk_nets_faster_rcnn_vgg16_rpn, 600},
    {"faster_rcnn_vgg16", cnnk_nets_faster_rcnn_vgg16, 600},
    {"spp_zf5", cnnk_nets_spp_zf5, 224},
    {"fast_rcnn_vgg16", cnnk_nets_fast_rcnn_vgg16, 600},
    /* R-CNN warps each proposal to 227 x 227 whatever the image; the
     * default image is PASCAL VOC's most common, 500 x 375 (wide[]). */
    {"rcnn_alexnet", cnnk_nets_rcnn_alexnet, 375},
};

/* The networks defined at a rectangle: side (h) x width (w). Fast R-CNN
 * tests at scale 600 with the longer side at most 1000. */
static const struct {
    const char *name;
    int64_t width;
} wide[] = {{"fast_rcnn_vgg16", 1000}, {"faster_rcnn_vgg16_rpn", 1000},
             {"faster_rcnn_vgg16", 1000}, {"rcnn_alexnet", 500}};

#define NETWORKS (sizeof networks / sizeof networks[0])

size_t cnnk_net_count(void) { return NETWORKS; }

const char *cnnk_net_name_at(size_t i) { return i < NETWORKS ? networks[i].name : NULL; }

static bool is_onnx_path(const char *name) {
    size_t n = name ? strlen(name) : 0;
    return n > 5 && strcmp(name + n - 5, ".onnx") == 0;
}

static cnnk_status build_onnx(const char *path, int64_t mb, int64_t h, int64_t w, cnnk_net **out,
                              cnnk_error *err) {
    CNNK_TRY(cnnk_onnx_load(path, mb, out, err));
    const cnnk_net *n = *out;
    if ((h && h != n->h) || (w && w != n->w)) {
        cnnk_status s = cnnk_fail(err, CNNK_EINVAL, "%.300s: the model takes %lldx%lld, not %lldx%lld",
                                  path, (ll)n->h, (ll)n->w, (ll)h, (ll)w);
        cnnk_net_destroy(*out);
        *out = NULL;
        return s;
    }
    return CNNK_OK;
}

int64_t cnnk_net_default_width(const char *name) {
    for (size_t i = 0; name && i < sizeof wide / sizeof wide[0]; ++i)
        if (strcmp(name, wide[i].name) == 0) return wide[i].width;
    return cnnk_net_default_side(name);
}

int64_t cnnk_net_default_side(const char *name) {
    for (size_t i = 0; name && i < NETWORKS; ++i)
        if (strcmp(name, networks[i].name) == 0) return networks[i].side;
    return 0;
}

cnnk_status cnnk_net_build(const char *name, int64_t mb, int64_t h, int64_t w, cnnk_net **out,
                           cnnk_error *err) {
    return cnnk_net_build_rois(name, mb, h, w, 0, out, err);
}

cnnk_status cnnk_net_build_rois(const char *name, int64_t mb, int64_t h, int64_t w, int64_t rois,
                                cnnk_net **out, cnnk_error *err) {
    *out = NULL;
    if (is_onnx_path(name)) return build_onnx(name, mb, h, w, out, err);
    for (size_t i = 0; name && i < NETWORKS; ++i) {
        if (strcmp(name, networks[i].name) != 0) continue;
        if (h == 0 && w == 0) h = networks[i].side, w = cnnk_net_default_width(name);
        cnnk_net *n = cnnk_net_create(name, mb, 3, h, w);
        if (!n) return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", name);
        n->rois = rois;
        networks[i].build(n);
        cnnk_status st = cnnk_net_status(n, err);
        if (st != CNNK_OK) {
            cnnk_net_destroy(n);
            return st;
        }
        *out = n;
        return CNNK_OK;
    }
    /* the message keeps 64 characters of the name and room for the list */
    char valid[CNNK_ERROR_MSG_LEN - 128] = "";
    size_t len = 0;
    for (size_t i = 0; i < NETWORKS && len < sizeof valid; ++i)
        len += (size_t)snprintf(valid + len, sizeof valid - len, "%s%s", i ? ", " : "",
                                networks[i].name);
    return cnnk_fail(err, CNNK_EINVAL, "unknown network '%.64s' (valid: %s)", name ? name : "",
                     valid);
}

int cnnk_net_output_rank(const cnnk_net *n) {
    if (n->out_rank) return n->out_rank;
    const cnnk_node *x = &n->nodes[n->n - 1];
    return (x->op == CNNK_NODE_FC || x->op == CNNK_NODE_SOFTMAX) && x->h == 1 && x->w == 1 ? 2
                                                                                          : 4;
}

/* ---- counts --------------------------------------------------------------- */

int64_t cnnk_net_params(const cnnk_net *n) {
    int64_t p = 0;
    for (int i = 0; i < n->n; ++i) {
        const cnnk_node *x = &n->nodes[i];
        if (x->op == CNNK_NODE_CONV || x->op == CNNK_NODE_DECONV)
            p += cnnk_conv_weights(&x->desc.u.conv) +
                 (x->has_bias ? cnnk_conv_biases(&x->desc.u.conv) : 0);
        else if (x->op == CNNK_NODE_FC)
            p += cnnk_fc_weights(&x->desc.u.fc) + (x->has_bias ? x->desc.u.fc.oc : 0);
        else if (x->op == CNNK_NODE_BNORM)
            p += cnnk_bnorm_params(&x->desc.u.bnorm);
    }
    return p;
}

int64_t cnnk_net_macs(const cnnk_net *n) {
    int64_t m = 0;
    for (int i = 0; i < n->n; ++i) {
        const cnnk_node *x = &n->nodes[i];
        if (x->op == CNNK_NODE_CONV || x->op == CNNK_NODE_DECONV)
            m += cnnk_conv_macs(&x->desc.u.conv);
        else if (x->op == CNNK_NODE_FC) m += cnnk_fc_macs(&x->desc.u.fc);
    }
    return m;
}

int cnnk_net_weight_layers(const cnnk_net *n) {
    int k = 0;
    for (int i = 0; i < n->n; ++i)
        k += n->nodes[i].op == CNNK_NODE_CONV || n->nodes[i].op == CNNK_NODE_DECONV ||
             n->nodes[i].op == CNNK_NODE_FC;
    return k;
}

/* ---- activation liveness ---------------------------------------------------- */

/* A concat's inputs are written straight into its buffer, so an input
 * aliases into the first concat that reads it (a DenseNet's chain of
 * concats collapses into one buffer per block); the network input is the
 * caller's and never aliases. Returns the buffer that holds node i. */
static int buffer_of(const int *alias, int i) {
    while (alias[i] != i) i = alias[i];
    return i;
}

int64_t cnnk_net_peak_activation_bytes(const cnnk_net *n) {
    if (!n || n->status != CNNK_OK || n->n < 1) return 0;
    int *alias = malloc((size_t)n->n * sizeof *alias);
    int *first = malloc((size_t)n->n * sizeof *first);
    int *last = malloc((size_t)n->n * sizeof *last);
    int64_t *live = calloc((size_t)n->n + 1, sizeof *live);
    int64_t peak = -1;
    if (!alias || !first || !last || !live) goto done;
    for (int i = 0; i < n->n; ++i) alias[i] = i, first[i] = i, last[i] = i;
    last[n->n - 1] = n->n - 1;
    for (int i = 0; i < n->n; ++i) {
        const cnnk_node *x = &n->nodes[i];
        for (int j = 0; j < x->ninputs; ++j) {
            int s = x->inputs[j];
            if (x->op == CNNK_NODE_CONCAT && s != 0 && alias[s] == s) alias[s] = i;
            if (last[s] < i) last[s] = i;
        }
    }
    /* A buffer lives from its first writer to its last reader. Aliases always
     * point forward, so one pass in order sees each chain complete. */
    for (int i = 0; i < n->n; ++i) {
        int b = buffer_of(alias, i);
        if (b == i) continue;
        if (first[b] > first[i]) first[b] = first[i];
        if (last[b] < last[i]) last[b] = last[i];
    }
    for (int i = 0; i < n->n; ++i) {
        if (alias[i] != i) continue;
        const cnnk_node *x = &n->nodes[i];
        int64_t bytes = n->mb * x->reps * x->c * x->h * x->w * (int64_t)sizeof(float);
        live[first[i]] += bytes;
        live[last[i] + 1] -= bytes;
    }
    peak = 0;
    int64_t now = 0;
    for (int t = 0; t < n->n; ++t) {
        now += live[t];
        if (now > peak) peak = now;
    }
done:
    free(alias);
    free(first);
    free(last);
    free(live);
    return peak;
}
