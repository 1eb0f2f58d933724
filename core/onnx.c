/* ONNX import (include/cnnk/onnx.h): protobuf-c unpacks the ModelProto
 * (code generated at build time from Debian's onnx.proto), then the graph
 * is checked and sorted, and each node needed by the output becomes a
 * builder call.
 *
 * Values are tracked by name: an activation (a cnnk node, as NCHW rank 4
 * or flattened to [N, K] rank 2, possibly with a zero padding still to be
 * folded into the next Conv or AveragePool) or a constant (an
 * initializer, a Constant node, or a folded shape computation). Every
 * size read from the file is checked before it is used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/onnx.h"
#include "onnx.pb-c.h"

typedef long long ll;

enum {
    ONNX_MAX_NODES = 1 << 20,  /* graph nodes, values: keeps every index an int */
    ONNX_MAX_RANK = 8,
    ONNX_FLOAT = 1,            /* TensorProto.DataType */
    ONNX_INT64 = 7,
};

#define ONNX_MAX_FILE ((int64_t)1 << 32) /* protobuf-c's own limit is 2 GiB per field */

typedef enum { V_ACT = 1, V_CONST } val_kind;

typedef struct val {
    const char *name;
    val_kind kind;
    /* V_ACT */
    int node, rank;      /* cnnk node; 4 (NCHW) or 2 (flattened [N, K]) */
    int64_t pad[4];      /* zero padding still to fold: top, left, bottom, right */
    bool fc_open;        /* a MatMul's FC whose bias an Add may still set */
    /* V_CONST */
    const Onnx__TensorProto *t; /* NULL for a folded int64 value */
    int32_t dtype;
    int ndim;
    int64_t dims[ONNX_MAX_RANK], count;
    int64_t *ints;       /* folded values (owned) */
    int uses;            /* consumers among the needed nodes (+1 for the graph output) */
} val;

typedef struct ctx {
    const Onnx__GraphProto *g;
    cnnk_net *net;
    cnnk_error *err;
    int64_t opset;
    val *v;
    int nv, capv;
    int *hash;           /* value index + 1, 0 empty */
    size_t hcap;
    char label[300];     /* "name (Op)" of the node being built */
} ctx;

/* ---- names ------------------------------------------------------------------ */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; ++s) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int find(const ctx *c, const char *name) {
    if (!name || !c->hcap) return -1;
    for (size_t i = hash_str(name) & (c->hcap - 1);; i = (i + 1) & (c->hcap - 1)) {
        int k = c->hash[i];
        if (!k) return -1;
        if (strcmp(c->v[k - 1].name, name) == 0) return k - 1;
    }
}

/* A new value named name; -1 (the error recorded) for a duplicate name. */
static int add_val(ctx *c, const char *name, val_kind kind, const char *what) {
    if (find(c, name) >= 0) {
        cnnk_fail(c->err, CNNK_EPARSE, "%.200s: the name '%.200s' is defined twice (%s)",
                  c->net->name, name, what);
        return -1;
    }
    if (c->nv == c->capv) return cnnk_fail(c->err, CNNK_EPARSE, "too many values"), -1;
    val *x = &c->v[c->nv];
    memset(x, 0, sizeof *x);
    x->name = name;
    x->kind = kind;
    size_t i = hash_str(name) & (c->hcap - 1);
    while (c->hash[i]) i = (i + 1) & (c->hcap - 1);
    c->hash[i] = ++c->nv;
    return c->nv - 1;
}

static const char *node_label(const Onnx__NodeProto *n, size_t i, char *buf, size_t len) {
    const char *name = n->name && n->name[0]                        ? n->name
                       : n->n_output && n->output[0] && n->output[0][0] ? n->output[0]
                                                                     : NULL;
    if (name) snprintf(buf, len, "%.200s (%.60s)", name, n->op_type ? n->op_type : "?");
    else snprintf(buf, len, "node #%zu (%.60s)", i, n->op_type ? n->op_type : "?");
    return buf;
}

/* The cnnk layer name: the ONNX node name, else its first output. */
static void layer_name(const Onnx__NodeProto *n, char *buf) {
    const char *s = n->name && n->name[0] ? n->name : n->output[0];
    snprintf(buf, CNNK_NAME_LEN, "%s", s);
}

/* ---- tensors ---------------------------------------------------------------- */

static cnnk_status check_dims(ctx *c, const char *what, const int64_t *dims, size_t nd,
                              int64_t *count) {
    if (nd > ONNX_MAX_RANK)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%.300s: %zu dimensions (at most %d)", what,
                         nd, ONNX_MAX_RANK);
    int64_t p = 1;
    for (size_t i = 0; i < nd; ++i) {
        if (dims[i] < 0 || dims[i] > CNNK_MAX_DIM)
            return cnnk_fail(c->err, CNNK_EOVERFLOW, "%.300s: dimension %zu is %lld (0..%lld)",
                             what, i, (ll)dims[i], (ll)CNNK_MAX_DIM);
        p *= dims[i]; /* both <= 2^31 after the check below: no overflow */
        if (p > CNNK_MAX_ELEMS)
            return cnnk_fail(c->err, CNNK_EOVERFLOW, "%.300s: more than %lld elements", what,
                             (ll)CNNK_MAX_ELEMS);
    }
    *count = p;
    return CNNK_OK;
}

static cnnk_status set_tensor(ctx *c, val *x, const Onnx__TensorProto *t, const char *what) {
    CNNK_TRY(check_dims(c, what, t->dims, t->n_dims, &x->count));
    x->t = t;
    x->dtype = t->has_data_type ? t->data_type : 0;
    x->ndim = (int)t->n_dims;
    for (size_t i = 0; i < t->n_dims; ++i) x->dims[i] = t->dims[i];
    return CNNK_OK;
}

/* The constant input i of the node, or NULL (error recorded). */
static val *const_in(ctx *c, const Onnx__NodeProto *n, size_t i, const char *role) {
    int k = i < n->n_input ? find(c, n->input[i]) : -1;
    if (k < 0) {
        cnnk_fail(c->err, CNNK_EPARSE, "%s: input %zu (%s) is missing", c->label, i, role);
        return NULL;
    }
    if (c->v[k].kind != V_CONST) {
        cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                  "%s: input %zu (%s, '%.200s') must be a constant (an initializer), it is "
                  "computed",
                  c->label, i, role, n->input[i]);
        return NULL;
    }
    return &c->v[k];
}

/* Copies the float32 constant x (count values) into dst. */
static cnnk_status read_f32(ctx *c, const val *x, const char *role, float *dst) {
    const Onnx__TensorProto *t = x->t;
    if (!t || x->dtype != ONNX_FLOAT)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: %s '%.200s' has data type %d, only float32 (1) is supported",
                         c->label, role, x->name, (int)x->dtype);
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: %s '%.200s' is stored in an external file (not supported)",
                         c->label, role, x->name);
    if (t->has_raw_data) {
        if ((int64_t)t->raw_data.len != x->count * 4)
            return cnnk_fail(c->err, CNNK_EPARSE,
                             "%s: %s '%.200s' holds %zu bytes of raw data, its dims need %lld",
                             c->label, role, x->name, t->raw_data.len, (ll)x->count * 4);
        /* little-endian IEEE float32, as ONNX stores it and every target reads it */
        if (x->count) memcpy(dst, t->raw_data.data, (size_t)x->count * 4);
        return CNNK_OK;
    }
    if ((int64_t)t->n_float_data != x->count)
        return cnnk_fail(c->err, CNNK_EPARSE,
                         "%s: %s '%.200s' holds %zu floats, its dims need %lld", c->label, role,
                         x->name, t->n_float_data, (ll)x->count);
    if (x->count) memcpy(dst, t->float_data, (size_t)x->count * sizeof *dst);
    return CNNK_OK;
}

/* The int64 constant x, up to max values, into dst; *count set. */
static cnnk_status read_i64(ctx *c, const val *x, const char *role, int64_t *dst, int64_t max,
                            int64_t *count) {
    if (x->count > max)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: %s '%.200s' has %lld values (at most %lld)",
                         c->label, role, x->name, (ll)x->count, (ll)max);
    *count = x->count;
    if (x->ints) {
        memcpy(dst, x->ints, (size_t)x->count * sizeof *dst);
        return CNNK_OK;
    }
    const Onnx__TensorProto *t = x->t;
    if (x->dtype != ONNX_INT64)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: %s '%.200s' has data type %d, only int64 (7) is supported here",
                         c->label, role, x->name, (int)x->dtype);
    if (t->has_raw_data) {
        if ((int64_t)t->raw_data.len != x->count * 8)
            return cnnk_fail(c->err, CNNK_EPARSE,
                             "%s: %s '%.200s' holds %zu bytes of raw data, its dims need %lld",
                             c->label, role, x->name, t->raw_data.len, (ll)x->count * 8);
        if (x->count) memcpy(dst, t->raw_data.data, (size_t)x->count * 8);
        return CNNK_OK;
    }
    if ((int64_t)t->n_int64_data != x->count)
        return cnnk_fail(c->err, CNNK_EPARSE, "%s: %s '%.200s' holds %zu int64, its dims need %lld",
                         c->label, role, x->name, t->n_int64_data, (ll)x->count);
    if (x->count) memcpy(dst, t->int64_data, (size_t)x->count * sizeof *dst);
    return CNNK_OK;
}

/* ---- attributes ------------------------------------------------------------- */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
    for (size_t i = 0; i < n->n_attribute; ++i)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

/* Refuses an attribute outside the comma-separated list known. */
static cnnk_status known_attrs(ctx *c, const Onnx__NodeProto *n, const char *known) {
    for (size_t i = 0; i < n->n_attribute; ++i) {
        const char *a = n->attribute[i]->name ? n->attribute[i]->name : "";
        size_t len = strlen(a);
        bool ok = false;
        for (const char *p = known; *p && !ok;) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            ok = l == len && strncmp(p, a, l) == 0;
            p = e ? e + 1 : p + l;
        }
        if (!ok)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                             "%s: attribute '%.100s' is not supported (known: %s)", c->label, a,
                             known);
    }
    return CNNK_OK;
}

static int64_t attr_i(const Onnx__NodeProto *n, const char *name, int64_t def) {
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_i ? a->i : def;
}

static float attr_f(const Onnx__NodeProto *n, const char *name, float def) {
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_f ? a->f : def;
}

/* The ints attribute name into v[want] (def when absent); a wrong count is
 * unsupported. */
static cnnk_status attr_ints(ctx *c, const Onnx__NodeProto *n, const char *name, size_t want,
                             int64_t def, int64_t *v) {
    const Onnx__AttributeProto *a = attr(n, name);
    for (size_t i = 0; i < want; ++i) v[i] = def;
    if (!a) return CNNK_OK;
    if (a->n_ints != want)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: attribute %s has %zu values, only %zu (2-D, NCHW) are supported",
                         c->label, name, a->n_ints, want);
    for (size_t i = 0; i < want; ++i) v[i] = a->ints[i];
    return CNNK_OK;
}

/* ---- activations ---------------------------------------------------------------- */

/* The activation input i, or NULL (error recorded). A pending zero padding
 * is refused unless the operator folds it (pad_ok). */
static val *act_in(ctx *c, const Onnx__NodeProto *n, size_t i, bool pad_ok) {
    int k = i < n->n_input && n->input[i][0] ? find(c, n->input[i]) : -1;
    if (k < 0) {
        cnnk_fail(c->err, CNNK_EPARSE, "%s: input %zu is missing", c->label, i);
        return NULL;
    }
    val *x = &c->v[k];
    if (x->kind != V_ACT) {
        cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                  "%s: input %zu ('%.200s') is a constant: only computed tensors are supported "
                  "there",
                  c->label, i, n->input[i]);
        return NULL;
    }
    if (!pad_ok && (x->pad[0] || x->pad[1] || x->pad[2] || x->pad[3])) {
        cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                  "%s: its input comes from a Pad, which folds only into a Conv or an "
                  "AveragePool",
                  c->label);
        return NULL;
    }
    return x;
}

/* Defines output 0 of the node as an activation (cnnk node, rank). */
static cnnk_status def_act(ctx *c, const Onnx__NodeProto *n, int node, int rank) {
    if (node < 0) return cnnk_net_status(c->net, c->err);
    int k = find(c, n->output[0]);
    val *x = &c->v[k];
    x->kind = V_ACT, x->node = node, x->rank = rank;
    return CNNK_OK;
}

/* Output 0 is input x under another name (Identity, Dropout, Flatten...). */
static cnnk_status alias(ctx *c, const Onnx__NodeProto *n, const val *x, int rank) {
    val *y = &c->v[find(c, n->output[0])];
    const char *name = y->name;
    int uses = y->uses;
    *y = *x;
    y->name = name, y->uses = uses;
    /* An Add may fold into a MatMul's bias only when nothing else reads
     * the MatMul's output: through an alias, x must have no other reader. */
    y->fc_open = x->fc_open && x->uses == 1;
    y->ints = NULL; /* owned by x */
    if (x->ints) {  /* a folded constant: share by copy */
        y->ints = malloc((size_t)(x->count ? x->count : 1) * sizeof *y->ints);
        if (!y->ints) {
            y->kind = 0;
            return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->label);
        }
        memcpy(y->ints, x->ints, (size_t)x->count * sizeof *y->ints);
    }
    if (x->kind == V_ACT) y->rank = rank ? rank : x->rank;
    return CNNK_OK;
}

/* Refuses outputs past the first that something uses (training outputs). */
static cnnk_status one_output(ctx *c, const Onnx__NodeProto *n, const char *what) {
    for (size_t i = 1; i < n->n_output; ++i) {
        int k = n->output[i][0] ? find(c, n->output[i]) : -1;
        if (k >= 0 && c->v[k].uses)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: output %zu (%s) is used: not supported",
                             c->label, i, what);
    }
    return CNNK_OK;
}

static const cnnk_node *node_of(const ctx *c, const val *x) { return &c->net->nodes[x->node]; }

/* ---- operators ------------------------------------------------------------- */

/* auto_pad SAME_*: the total padding that gives ceil(in / s) outputs. */
static cnnk_status auto_pad(ctx *c, const Onnx__NodeProto *n, const int64_t *in, const int64_t *k,
                            const int64_t *s, const int64_t *d, int64_t *pads) {
    const Onnx__AttributeProto *a = attr(n, "auto_pad");
    char mode[32] = "NOTSET";
    if (a && a->has_s) snprintf(mode, sizeof mode, "%.*s", (int)(a->s.len < 31 ? a->s.len : 31),
                                (const char *)a->s.data);
    if (strcmp(mode, "NOTSET") == 0 || mode[0] == '\0') return CNNK_OK;
    if (strcmp(mode, "VALID") == 0) {
        for (int i = 0; i < 4; ++i) pads[i] = 0;
        return CNNK_OK;
    }
    bool upper = strcmp(mode, "SAME_UPPER") == 0;
    if (!upper && strcmp(mode, "SAME_LOWER") != 0)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: auto_pad '%s' is not supported", c->label,
                         mode);
    for (int i = 0; i < 2; ++i) {
        if (k[i] < 1 || s[i] < 1 || d[i] < 1 || k[i] > CNNK_MAX_DIM || s[i] > CNNK_MAX_DIM ||
            d[i] > CNNK_MAX_DIM || (k[i] - 1) * d[i] > CNNK_MAX_DIM)
            return cnnk_fail(c->err, CNNK_EINVAL, "%s: kernel, stride or dilation out of range",
                             c->label);
        int64_t out = (in[i] + s[i] - 1) / s[i];
        int64_t total = (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i];
        if (total < 0) total = 0;
        pads[i] = upper ? total / 2 : total - total / 2;
        pads[i + 2] = total - pads[i];
    }
    return CNNK_OK;
}

static cnnk_status op_conv(ctx *c, const Onnx__NodeProto *n, const char *name) {
    CNNK_TRY(known_attrs(c, n, "auto_pad,dilations,group,kernel_shape,pads,strides"));
    val *x = act_in(c, n, 0, true);
    if (!x) return c->net->status ? c->net->status : CNNK_EUNSUPPORTED;
    if (x->rank != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: the input is flattened, a Conv needs NCHW",
                         c->label);
    val *w = const_in(c, n, 1, "weights");
    if (!w) return CNNK_EUNSUPPORTED;
    if (w->ndim != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: weights '%.200s' have %d dimensions, only 2-D convolutions (4) are "
                         "supported",
                         c->label, w->name, w->ndim);
    val *b = n->n_input > 2 && n->input[2][0] ? const_in(c, n, 2, "bias") : NULL;
    if (n->n_input > 2 && n->input[2][0] && !b) return CNNK_EUNSUPPORTED;
    int64_t ks[2], st[2], dl[2], pads[4];
    CNNK_TRY(attr_ints(c, n, "kernel_shape", 2, 0, ks));
    CNNK_TRY(attr_ints(c, n, "strides", 2, 1, st));
    CNNK_TRY(attr_ints(c, n, "dilations", 2, 1, dl));
    CNNK_TRY(attr_ints(c, n, "pads", 4, 0, pads));
    if (attr(n, "kernel_shape") && (ks[0] != w->dims[2] || ks[1] != w->dims[3]))
        return cnnk_fail(c->err, CNNK_EPARSE,
                         "%s: kernel_shape %lldx%lld does not match the weights' %lldx%lld",
                         c->label, (ll)ks[0], (ll)ks[1], (ll)w->dims[2], (ll)w->dims[3]);
    const cnnk_node *s = node_of(c, x);
    int64_t g = attr_i(n, "group", 1);
    int64_t in[2] = {s->h + x->pad[0] + x->pad[2], s->w + x->pad[1] + x->pad[3]};
    CNNK_TRY(auto_pad(c, n, in, &w->dims[2], st, dl, pads));
    if (g < 1 || g > CNNK_MAX_DIM || w->dims[1] * g != s->c)
        return cnnk_fail(c->err, CNNK_EPARSE,
                         "%s: weights '%.200s' take %lld channels per group x group %lld, the "
                         "input has %lld",
                         c->label, w->name, (ll)w->dims[1], (ll)g, (ll)s->c);
    for (int i = 0; i < 4; ++i)
        if (pads[i] < 0 || pads[i] > CNNK_MAX_DIM)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: pads[%d]=%lld (0..%lld)", c->label, i,
                             (ll)pads[i], (ll)CNNK_MAX_DIM);
    if (b && b->count != w->dims[0])
        return cnnk_fail(c->err, CNNK_EPARSE, "%s: bias '%.200s' has %lld values for %lld outputs",
                         c->label, b->name, (ll)b->count, (ll)w->dims[0]);
    cnnk_conv_desc geom = {.g = g, .oc = w->dims[0], .kh = w->dims[2], .kw = w->dims[3],
                           .sh = st[0], .sw = st[1], .dh = dl[0], .dw = dl[1],
                           .pt = pads[0] + x->pad[0], .pl = pads[1] + x->pad[1],
                           .pb = pads[2] + x->pad[2], .pr = pads[3] + x->pad[3]};
    int k = cnnk_net_conv_geom(c->net, name, x->node, &geom, b != NULL);
    if (k < 0) return cnnk_net_status(c->net, c->err);
    cnnk_node *y = &c->net->nodes[k];
    y->weights = malloc((size_t)(w->count ? w->count : 1) * sizeof(float));
    y->bias = b ? malloc((size_t)b->count * sizeof(float)) : NULL;
    if (!y->weights || (b && !y->bias))
        return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory for the weights", c->label);
    CNNK_TRY(read_f32(c, w, "weights", y->weights));
    if (b) CNNK_TRY(read_f32(c, b, "bias", y->bias));
    return def_act(c, n, k, 4);
}

/* ConvTranspose: weights [C_in][C_out/group][kH][kW] (ONNX's order)
 * transposed into the node's OIHW (O = outputs, grouped), output
 * (in - 1) s + output_padding + (k - 1) d + 1 - pads: output_padding
 * comes off the end padding, which must stay >= 0. Refused: output_shape,
 * auto_pad other than NOTSET/VALID, a Pad node in front (a padded input is
 * no padding of a transposed convolution). */
static cnnk_status op_conv_transpose(ctx *c, const Onnx__NodeProto *n, const char *name) {
    CNNK_TRY(known_attrs(c, n, "auto_pad,dilations,group,kernel_shape,output_padding,"
                               "output_shape,pads,strides"));
    if (attr(n, "output_shape"))
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: output_shape is not supported (give pads and output_padding)",
                         c->label);
    const Onnx__AttributeProto *ap = attr(n, "auto_pad");
    if (ap && ap->has_s && !(ap->s.len == 6 && memcmp(ap->s.data, "NOTSET", 6) == 0) &&
        !(ap->s.len == 5 && memcmp(ap->s.data, "VALID", 5) == 0) && ap->s.len != 0)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: auto_pad '%.*s' is not supported on a ConvTranspose", c->label,
                         (int)(ap->s.len < 31 ? ap->s.len : 31), (const char *)ap->s.data);
    val *x = act_in(c, n, 0, false);
    if (!x) return c->net->status ? c->net->status : CNNK_EUNSUPPORTED;
    if (x->rank != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: the input is flattened, a ConvTranspose needs NCHW", c->label);
    val *w = const_in(c, n, 1, "weights");
    if (!w) return CNNK_EUNSUPPORTED;
    if (w->ndim != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: weights '%.200s' have %d dimensions, only 2-D transposed "
                         "convolutions (4) are supported",
                         c->label, w->name, w->ndim);
    val *b = n->n_input > 2 && n->input[2][0] ? const_in(c, n, 2, "bias") : NULL;
    if (n->n_input > 2 && n->input[2][0] && !b) return CNNK_EUNSUPPORTED;
    int64_t ks[2], st[2], dl[2], pads[4], op[2];
    CNNK_TRY(attr_ints(c, n, "kernel_shape", 2, 0, ks));
    CNNK_TRY(attr_ints(c, n, "strides", 2, 1, st));
    CNNK_TRY(attr_ints(c, n, "dilations", 2, 1, dl));
    CNNK_TRY(attr_ints(c, n, "pads", 4, 0, pads));
    CNNK_TRY(attr_ints(c, n, "output_padding", 2, 0, op));
    if (ap && ap->has_s && ap->s.len == 5) pads[0] = pads[1] = pads[2] = pads[3] = 0; /* VALID */
    if (attr(n, "kernel_shape") && (ks[0] != w->dims[2] || ks[1] != w->dims[3]))
        return cnnk_fail(c->err, CNNK_EPARSE,
                         "%s: kernel_shape %lldx%lld does not match the weights' %lldx%lld",
                         c->label, (ll)ks[0], (ll)ks[1], (ll)w->dims[2], (ll)w->dims[3]);
    const cnnk_node *s = node_of(c, x);
    const int64_t g = attr_i(n, "group", 1);
    if (g < 1 || g > CNNK_MAX_DIM || w->dims[0] != s->c || s->c % g)
        return cnnk_fail(c->err, CNNK_EPARSE,
                         "%s: weights '%.200s' take %lld input channels in %lld groups, the "
                         "input has %lld",
                         c->label, w->name, (ll)w->dims[0], (ll)g, (ll)s->c);
    for (int i = 0; i < 4; ++i)
        if (pads[i] < 0 || pads[i] > CNNK_MAX_DIM)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: pads[%d]=%lld (0..%lld)", c->label, i,
                             (ll)pads[i], (ll)CNNK_MAX_DIM);
    for (int i = 0; i < 2; ++i)
        if (op[i] < 0 || op[i] >= st[i] || op[i] > pads[i + 2])
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                             "%s: output_padding[%d]=%lld is not supported (it must be below "
                             "the stride and at most the end padding pads[%d]=%lld)",
                             c->label, i, (ll)op[i], i + 2, (ll)pads[i + 2]);
    const int64_t oc = w->dims[1] * g;
    if (b && b->count != oc)
        return cnnk_fail(c->err, CNNK_EPARSE, "%s: bias '%.200s' has %lld values for %lld outputs",
                         c->label, b->name, (ll)b->count, (ll)oc);
    cnnk_conv_desc geom = {.g = g, .oc = oc, .kh = w->dims[2], .kw = w->dims[3], .sh = st[0],
                           .sw = st[1], .dh = dl[0], .dw = dl[1], .pt = pads[0], .pl = pads[1],
                           .pb = pads[2] - op[0], .pr = pads[3] - op[1]};
    int k = cnnk_net_deconv_geom(c->net, name, x->node, &geom, b != NULL);
    if (k < 0) return cnnk_net_status(c->net, c->err);
    cnnk_node *y = &c->net->nodes[k];
    float *onnx_w = malloc((size_t)(w->count ? w->count : 1) * sizeof(float));
    y->weights = malloc((size_t)(w->count ? w->count : 1) * sizeof(float));
    y->bias = b ? malloc((size_t)b->count * sizeof(float)) : NULL;
    if (!onnx_w || !y->weights || (b && !y->bias)) {
        free(onnx_w);
        return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory for the weights", c->label);
    }
    cnnk_status rs = read_f32(c, w, "weights", onnx_w);
    const int64_t icg = s->c / g, ocg = w->dims[1], khw = w->dims[2] * w->dims[3];
    for (int64_t gi = 0; rs == CNNK_OK && gi < g; ++gi)
        for (int64_t i = 0; i < icg; ++i)
            for (int64_t o = 0; o < ocg; ++o)
                memcpy(y->weights + ((gi * ocg + o) * icg + i) * khw,
                       onnx_w + ((gi * icg + i) * ocg + o) * khw, (size_t)khw * sizeof(float));
    free(onnx_w);
    CNNK_TRY(rs);
    if (b) CNNK_TRY(read_f32(c, b, "bias", y->bias));
    return def_act(c, n, k, 4);
}

static cnnk_status op_pool(ctx *c, const Onnx__NodeProto *n, const char *name, bool max) {
    CNNK_TRY(known_attrs(c, n, max ? "auto_pad,ceil_mode,dilations,kernel_shape,pads,"
                                     "storage_order,strides"
                                   : "auto_pad,ceil_mode,count_include_pad,kernel_shape,pads,"
                                     "strides"));
    CNNK_TRY(one_output(c, n, "Indices"));
    val *x = act_in(c, n, 0, !max);
    if (!x) return CNNK_EUNSUPPORTED;
    if (x->rank != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: the input is flattened, pooling needs NCHW",
                         c->label);
    if (!attr(n, "kernel_shape"))
        return cnnk_fail(c->err, CNNK_EPARSE, "%s: kernel_shape is missing", c->label);
    int64_t ks[2], st[2], dl[2], pads[4];
    CNNK_TRY(attr_ints(c, n, "kernel_shape", 2, 0, ks));
    CNNK_TRY(attr_ints(c, n, "strides", 2, 1, st));
    CNNK_TRY(attr_ints(c, n, "dilations", 2, 1, dl));
    CNNK_TRY(attr_ints(c, n, "pads", 4, 0, pads));
    if (dl[0] != 1 || dl[1] != 1)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: dilations %lldx%lld: only 1 is supported",
                         c->label, (ll)dl[0], (ll)dl[1]);
    if (attr_i(n, "storage_order", 0) != 0)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: storage_order 1 is not supported", c->label);
    const cnnk_node *s = node_of(c, x);
    int64_t in[2] = {s->h + x->pad[0] + x->pad[2], s->w + x->pad[1] + x->pad[3]};
    CNNK_TRY(auto_pad(c, n, in, ks, st, dl, pads));
    bool include = attr_i(n, "count_include_pad", 0) != 0;
    bool pending = x->pad[0] || x->pad[1] || x->pad[2] || x->pad[3];
    /* A Pad's zeros are data: they count like padding that is included. */
    if (pending && !include && (pads[0] || pads[1] || pads[2] || pads[3]))
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: a Pad in front and pads with count_include_pad=0: not supported",
                         c->label);
    int64_t ceil = attr_i(n, "ceil_mode", 0);
    if (ceil && (x->pad[2] || x->pad[3]))
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: a Pad at the bottom or right in front of a ceil_mode pool is not "
                         "supported (ONNX lets the last window start in the Pad's zeros)",
                         c->label);
    cnnk_pool_desc geom = {.kh = ks[0], .kw = ks[1], .sh = st[0], .sw = st[1],
                           .pt = pads[0] + x->pad[0], .pl = pads[1] + x->pad[1],
                           .pb = pads[2] + x->pad[2], .pr = pads[3] + x->pad[3],
                           .alg = max ? CNNK_POOL_MAX
                                  : include || pending ? CNNK_POOL_AVG_INCLUDE_PAD
                                                       : CNNK_POOL_AVG_EXCLUDE_PAD,
                           .round = ceil ? CNNK_ROUND_CEIL : CNNK_ROUND_FLOOR};
    return def_act(c, n, cnnk_net_pool_geom(c->net, name, x->node, &geom), 4);
}

static cnnk_status op_simple(ctx *c, const Onnx__NodeProto *n, const char *name, const char *op) {
    val *x = act_in(c, n, 0, false);
    if (!x) return CNNK_EUNSUPPORTED;
    if (strcmp(op, "Relu") == 0) {
        CNNK_TRY(known_attrs(c, n, ""));
        return def_act(c, n, cnnk_net_relu(c->net, name, x->node), x->rank);
    }
    if (strcmp(op, "LeakyRelu") == 0) {
        CNNK_TRY(known_attrs(c, n, "alpha"));
        const float alpha = attr_f(n, "alpha", 0.01f); /* ONNX's default slope */
        return def_act(c, n, cnnk_net_leaky_relu(c->net, name, x->node, alpha), x->rank);
    }
    if (x->rank != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: the input is flattened, %s needs NCHW",
                         c->label, op);
    if (strcmp(op, "GlobalAveragePool") == 0) {
        CNNK_TRY(known_attrs(c, n, ""));
        return def_act(c, n, cnnk_net_global_avgpool(c->net, name, x->node), 4);
    }
    /* LRN */
    CNNK_TRY(known_attrs(c, n, "alpha,beta,bias,size"));
    if (!attr(n, "size")) return cnnk_fail(c->err, CNNK_EPARSE, "%s: size is missing", c->label);
    return def_act(c, n,
                   cnnk_net_lrn(c->net, name, x->node, attr_i(n, "size", 1),
                                attr_f(n, "alpha", 1e-4f), attr_f(n, "beta", 0.75f),
                                attr_f(n, "bias", 1.0f)),
                   4);
}

static cnnk_status op_bnorm(ctx *c, const Onnx__NodeProto *n, const char *name) {
    CNNK_TRY(known_attrs(c, n, "epsilon,momentum,spatial,training_mode"));
    CNNK_TRY(one_output(c, n, "a training statistic"));
    if (attr_i(n, "training_mode", 0) != 0 || attr_i(n, "spatial", 1) != 1)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: training_mode=1 or spatial=0: only inference is supported", c->label);
    val *x = act_in(c, n, 0, false);
    if (!x) return CNNK_EUNSUPPORTED;
    if (x->rank != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: the input is flattened, a "
                         "BatchNormalization needs NCHW", c->label);
    static const char *const role[4] = {"scale", "B", "mean", "var"};
    val *p[4];
    for (int i = 0; i < 4; ++i) {
        if (!(p[i] = const_in(c, n, (size_t)i + 1, role[i]))) return CNNK_EUNSUPPORTED;
        if (p[i]->count != node_of(c, x)->c)
            return cnnk_fail(c->err, CNNK_EPARSE, "%s: %s '%.200s' has %lld values for %lld channels",
                             c->label, role[i], p[i]->name, (ll)p[i]->count,
                             (ll)node_of(c, x)->c);
    }
    int k = cnnk_net_bnorm(c->net, name, x->node, attr_f(n, "epsilon", 1e-5f));
    if (k < 0) return cnnk_net_status(c->net, c->err);
    cnnk_node *y = &c->net->nodes[k];
    static const int slot[4] = {2, 3, 0, 1}; /* cnnk: mean, var, gamma, beta */
    for (int i = 0; i < 4; ++i) {
        if (!(y->bn[slot[i]] = malloc((size_t)p[i]->count * sizeof(float))))
            return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->label);
        CNNK_TRY(read_f32(c, p[i], role[i], y->bn[slot[i]]));
    }
    return def_act(c, n, k, 4);
}

/* Gemm (B is [oc, K] with transB=1) and MatMul (B is [K, oc]). */
static cnnk_status op_fc(ctx *c, const Onnx__NodeProto *n, const char *name, bool gemm) {
    if (gemm) {
        CNNK_TRY(known_attrs(c, n, "alpha,beta,transA,transB"));
        if (attr_f(n, "alpha", 1) != 1 || attr_f(n, "beta", 1) != 1 || attr_i(n, "transA", 0) ||
            attr_i(n, "transB", 0) != 1)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                             "%s: only alpha=1, beta=1, transA=0, transB=1 are supported",
                             c->label);
    } else {
        CNNK_TRY(known_attrs(c, n, ""));
    }
    val *x = act_in(c, n, 0, false);
    if (!x) return CNNK_EUNSUPPORTED;
    const cnnk_node *s = node_of(c, x);
    if (x->rank != 2)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: input A must be 2-D (put a Flatten or Reshape to [N, -1] in front)",
                         c->label);
    val *w = const_in(c, n, 1, "B");
    if (!w) return CNNK_EUNSUPPORTED;
    const int64_t k = s->c * s->h * s->w;
    if (w->ndim != 2 || w->dims[gemm ? 1 : 0] != k)
        return cnnk_fail(c->err, CNNK_EPARSE,
                         "%s: B '%.200s' must be %s with K=%lld (the flattened input)", c->label,
                         w->name, gemm ? "[oc, K]" : "[K, oc]", (ll)k);
    const int64_t oc = w->dims[gemm ? 0 : 1];
    val *b = gemm && n->n_input > 2 && n->input[2][0] ? const_in(c, n, 2, "C") : NULL;
    if (gemm && n->n_input > 2 && n->input[2][0] && !b) return CNNK_EUNSUPPORTED;
    if (b && (b->count != oc || b->ndim > 2 || (b->ndim == 2 && b->dims[0] != 1)))
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: C '%.200s' must be [oc] or [1, oc] with oc=%lld", c->label, b->name,
                         (ll)oc);
    int id = cnnk_net_fc(c->net, name, x->node, oc);
    if (id < 0) return cnnk_net_status(c->net, c->err);
    cnnk_node *y = &c->net->nodes[id];
    y->weights = malloc((size_t)(w->count ? w->count : 1) * sizeof(float));
    y->bias = calloc((size_t)oc, sizeof(float));
    if (!y->weights || !y->bias)
        return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory for the weights", c->label);
    if (gemm) {
        CNNK_TRY(read_f32(c, w, "B", y->weights));
    } else {
        float *t = malloc((size_t)(w->count ? w->count : 1) * sizeof(float));
        if (!t) return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->label);
        cnnk_status st = read_f32(c, w, "B", t);
        for (int64_t i = 0; st == CNNK_OK && i < k; ++i)
            for (int64_t o = 0; o < oc; ++o) y->weights[o * k + i] = t[i * oc + o];
        free(t);
        CNNK_TRY(st);
    }
    if (b) CNNK_TRY(read_f32(c, b, "C", y->bias));
    CNNK_TRY(def_act(c, n, id, 2));
    c->v[find(c, n->output[0])].fc_open = !gemm;
    return CNNK_OK;
}

static cnnk_status op_add(ctx *c, const Onnx__NodeProto *n, const char *name) {
    CNNK_TRY(known_attrs(c, n, ""));
    int ka = n->n_input == 2 ? find(c, n->input[0]) : -1;
    int kb = n->n_input == 2 ? find(c, n->input[1]) : -1;
    if (ka < 0 || kb < 0)
        return cnnk_fail(c->err, CNNK_EPARSE, "%s: needs two inputs", c->label);
    if (c->v[ka].kind == V_CONST) {
        int t = ka;
        ka = kb, kb = t;
    }
    val *a = &c->v[ka], *b = &c->v[kb];
    if (a->kind == V_CONST)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: an Add of two constants is not supported",
                         c->label);
    if (b->kind == V_CONST) {
        /* MatMul + Add: the constant becomes the FC's bias. */
        const cnnk_node *s = node_of(c, a);
        const bool vec = b->ndim == 1 || (b->ndim == 2 && b->dims[0] == 1);
        if (!a->fc_open || a->uses != 1 || b->count != s->c || !vec)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                             "%s: an Add of a constant is supported only as the bias of the "
                             "MatMul in front of it ([oc] values)",
                             c->label);
        float *add = malloc((size_t)b->count * sizeof *add);
        if (!add) return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->label);
        cnnk_status st = read_f32(c, b, "bias", add);
        float *bias = c->net->nodes[a->node].bias;
        for (int64_t i = 0; st == CNNK_OK && i < b->count; ++i) bias[i] += add[i];
        free(add);
        CNNK_TRY(st);
        CNNK_TRY(alias(c, n, a, 2));
        c->v[find(c, n->output[0])].fc_open = false;
        return CNNK_OK;
    }
    if (!act_in(c, n, 0, false) || !act_in(c, n, 1, false)) return CNNK_EUNSUPPORTED;
    if (a->rank != b->rank)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: the inputs have ranks %d and %d",
                         c->label, a->rank, b->rank);
    return def_act(c, n, cnnk_net_add(c->net, name, a->node, b->node), a->rank);
}

static cnnk_status op_concat(ctx *c, const Onnx__NodeProto *n, const char *name);

static cnnk_status op_softmax(ctx *c, const Onnx__NodeProto *n, const char *name) {
    CNNK_TRY(known_attrs(c, n, "axis"));
    val *x = act_in(c, n, 0, false);
    if (!x) return CNNK_EUNSUPPORTED;
    const cnnk_node *s = node_of(c, x);
    int64_t axis = attr_i(n, "axis", c->opset >= 13 ? -1 : 1);
    if (axis < 0) axis += x->rank;
    /* cnnk's softmax runs over the channels of each pixel: ONNX's axis 1
     * of a 2-D tensor, of NCHW from opset 13 on, or of N x C x 1 x 1. */
    bool ok = axis == 1 && ((s->h == 1 && s->w == 1) || (x->rank == 4 && c->opset >= 13));
    if (!ok)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: axis %lld of a %d-D input: only the channel axis (1) is supported",
                         c->label, (ll)attr_i(n, "axis", 1), x->rank);
    return def_act(c, n, cnnk_net_softmax(c->net, name, x->node), x->rank);
}

static cnnk_status op_flatten(ctx *c, const Onnx__NodeProto *n, bool reshape) {
    CNNK_TRY(known_attrs(c, n, reshape ? "allowzero" : "axis"));
    val *x = act_in(c, n, 0, false);
    if (!x) return CNNK_EUNSUPPORTED;
    const cnnk_node *s = node_of(c, x);
    if (reshape) {
        val *sh = const_in(c, n, 1, "shape");
        if (!sh) return CNNK_EUNSUPPORTED;
        int64_t v[ONNX_MAX_RANK], cnt;
        CNNK_TRY(read_i64(c, sh, "shape", v, ONNX_MAX_RANK, &cnt));
        const int64_t k = s->c * s->h * s->w;
        bool az = attr_i(n, "allowzero", 0) != 0;
        bool ok = cnt == 2 && (v[0] == c->net->mb || (v[0] == 0 && !az) || (v[0] == -1 && v[1] == k)) &&
                  (v[1] == -1 || v[1] == k);
        if (!ok)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                             "%s: only a reshape to [N, -1] (or [N, %lld]) is supported", c->label,
                             (ll)k);
    } else {
        int64_t axis = attr_i(n, "axis", 1);
        if (axis != 1 && axis != 1 - x->rank)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: axis %lld: only 1 is supported",
                             c->label, (ll)axis);
    }
    return alias(c, n, x, 2);
}

static cnnk_status op_pad(ctx *c, const Onnx__NodeProto *n) {
    CNNK_TRY(known_attrs(c, n, c->opset < 11 ? "mode,pads,value" : "mode"));
    const Onnx__AttributeProto *m = attr(n, "mode");
    if (m && !(m->has_s && m->s.len == 8 && memcmp(m->s.data, "constant", 8) == 0))
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: mode '%.*s': only constant (zero) padding is supported", c->label,
                         m->has_s ? (int)(m->s.len < 32 ? m->s.len : 32) : 0,
                         m->has_s ? (const char *)m->s.data : "");
    val *x = act_in(c, n, 0, true);
    if (!x) return CNNK_EUNSUPPORTED;
    int64_t p[8] = {0}, cnt = 0;
    float value = 0;
    if (c->opset < 11) {
        const Onnx__AttributeProto *a = attr(n, "pads");
        if (!a || a->n_ints > 8)
            return cnnk_fail(c->err, CNNK_EPARSE, "%s: pads must have 8 values", c->label);
        cnt = (int64_t)a->n_ints;
        memcpy(p, a->ints, a->n_ints * sizeof *p);
        value = attr_f(n, "value", 0);
    } else {
        val *pv = const_in(c, n, 1, "pads");
        if (!pv) return CNNK_EUNSUPPORTED;
        CNNK_TRY(read_i64(c, pv, "pads", p, 8, &cnt));
        if (n->n_input > 2 && n->input[2][0]) {
            val *cv = const_in(c, n, 2, "constant_value");
            if (!cv) return CNNK_EUNSUPPORTED;
            if (cv->count != 1)
                return cnnk_fail(c->err, CNNK_EPARSE, "%s: constant_value must be a scalar",
                                 c->label);
            CNNK_TRY(read_f32(c, cv, "constant_value", &value));
        }
        if (n->n_input > 3)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: the axes input is not supported",
                             c->label);
    }
    if (cnt != 8 || x->rank != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: only pads of NCHW (8 values) are supported",
                         c->label);
    if (value != 0)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: padding with %g: only zero is supported",
                         c->label, (double)value);
    if (p[0] || p[1] || p[4] || p[5])
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: padding of the batch or channel axis is not supported", c->label);
    const int64_t add[4] = {p[2], p[3], p[6], p[7]};
    for (int i = 0; i < 4; ++i)
        if (add[i] < 0 || add[i] > CNNK_MAX_DIM || x->pad[i] + add[i] > CNNK_MAX_DIM)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: pads %lld: only 0..%lld is supported",
                             c->label, (ll)add[i], (ll)CNNK_MAX_DIM);
    CNNK_TRY(alias(c, n, x, 4));
    val *y = &c->v[find(c, n->output[0])];
    for (int i = 0; i < 4; ++i) y->pad[i] = x->pad[i] + add[i];
    return CNNK_OK;
}

static cnnk_status op_dropout(ctx *c, const Onnx__NodeProto *n) {
    CNNK_TRY(known_attrs(c, n, "is_test,ratio,seed"));
    CNNK_TRY(one_output(c, n, "mask"));
    if (n->n_input > 2 && n->input[2][0]) {
        val *t = const_in(c, n, 2, "training_mode");
        if (!t) return CNNK_EUNSUPPORTED;
        const Onnx__TensorProto *p = t->t;
        bool on = p && t->count == 1 &&
                  ((p->has_raw_data && p->raw_data.len == 1 && p->raw_data.data[0]) ||
                   (p->n_int32_data == 1 && p->int32_data[0]));
        if (on)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: training_mode=true is not supported",
                             c->label);
    }
    int k = n->n_input ? find(c, n->input[0]) : -1;
    if (k < 0) return cnnk_fail(c->err, CNNK_EPARSE, "%s: input 0 is missing", c->label);
    return alias(c, n, &c->v[k], 0);
}

static cnnk_status op_constant(ctx *c, const Onnx__NodeProto *n) {
    if (n->n_attribute != 1 || strcmp(n->attribute[0]->name ? n->attribute[0]->name : "", "value") ||
        !n->attribute[0]->t)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: only a Constant with one tensor attribute 'value' is supported",
                         c->label);
    val *y = &c->v[find(c, n->output[0])];
    y->kind = V_CONST;
    return set_tensor(c, y, n->attribute[0]->t, c->label);
}

/* Concat: of activations (a channel concat) or of int64 constants (a
 * shape computation, folded). */
static cnnk_status op_concat(ctx *c, const Onnx__NodeProto *n, const char *name) {
    CNNK_TRY(known_attrs(c, n, "axis"));
    if (!attr(n, "axis")) return cnnk_fail(c->err, CNNK_EPARSE, "%s: axis is missing", c->label);
    int64_t axis = attr_i(n, "axis", 1);
    if (n->n_input < 1 || n->n_input > CNNK_CONCAT_MAX_INPUTS)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: %zu inputs (1..%d supported)", c->label,
                         n->n_input, CNNK_CONCAT_MAX_INPUTS);
    int k0 = find(c, n->input[0]);
    if (k0 >= 0 && c->v[k0].kind == V_CONST) {
        int64_t tot = 0, buf[64];
        for (size_t i = 0; i < n->n_input; ++i) {
            val *x = const_in(c, n, i, "shape part");
            int64_t cnt;
            if (!x) return CNNK_EUNSUPPORTED;
            if (x->ndim > 1 || axis != 0)
                return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                                 "%s: only a concat of 1-D int64 constants on axis 0 folds",
                                 c->label);
            CNNK_TRY(read_i64(c, x, "shape part", buf + tot, 64 - tot, &cnt));
            tot += cnt;
        }
        val *y = &c->v[find(c, n->output[0])];
        y->kind = V_CONST, y->dtype = ONNX_INT64, y->ndim = 1, y->dims[0] = y->count = tot;
        if (!(y->ints = malloc((size_t)(tot ? tot : 1) * sizeof *y->ints)))
            return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->label);
        memcpy(y->ints, buf, (size_t)tot * sizeof *buf);
        return CNNK_OK;
    }
    int in[CNNK_CONCAT_MAX_INPUTS];
    for (size_t i = 0; i < n->n_input; ++i) {
        val *x = act_in(c, n, i, false);
        if (!x) return CNNK_EUNSUPPORTED;
        if (x->rank != 4 || (axis != 1 && axis != -3))
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                             "%s: axis %lld of a %d-D input: only the channel axis of NCHW is "
                             "supported",
                             c->label, (ll)axis, x->rank);
        in[i] = x->node;
    }
    return def_act(c, n, cnnk_net_concat(c->net, name, (int)n->n_input, in), 4);
}

/* Shape of an activation, Gather and Unsqueeze of int64 constants: the
 * shape computations exporters put in front of a Reshape, folded. */
static cnnk_status op_shape_chain(ctx *c, const Onnx__NodeProto *n, const char *op) {
    int64_t v[ONNX_MAX_RANK] = {0}, cnt = 0;
    int ndim = 1;
    if (strcmp(op, "Shape") == 0) {
        CNNK_TRY(known_attrs(c, n, ""));
        val *x = act_in(c, n, 0, false);
        if (!x) return CNNK_EUNSUPPORTED;
        const cnnk_node *s = node_of(c, x);
        if (x->rank == 4) v[0] = c->net->mb, v[1] = s->c, v[2] = s->h, v[3] = s->w, cnt = 4;
        else v[0] = c->net->mb, v[1] = s->c * s->h * s->w, cnt = 2;
    } else if (strcmp(op, "Gather") == 0) {
        CNNK_TRY(known_attrs(c, n, "axis"));
        val *d = const_in(c, n, 0, "data"), *ix = d ? const_in(c, n, 1, "indices") : NULL;
        if (!ix) return CNNK_EUNSUPPORTED;
        int64_t dv[ONNX_MAX_RANK], dn, iv[ONNX_MAX_RANK], in;
        CNNK_TRY(read_i64(c, d, "data", dv, ONNX_MAX_RANK, &dn));
        CNNK_TRY(read_i64(c, ix, "indices", iv, ONNX_MAX_RANK, &in));
        if (attr_i(n, "axis", 0) != 0 || d->ndim != 1 || ix->ndim > 1)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: only a Gather on axis 0 of a 1-D "
                             "int64 constant folds", c->label);
        for (int64_t i = 0; i < in; ++i) {
            int64_t j = iv[i] < 0 ? iv[i] + dn : iv[i];
            if (j < 0 || j >= dn)
                return cnnk_fail(c->err, CNNK_EPARSE, "%s: index %lld out of range", c->label,
                                 (ll)iv[i]);
            v[i] = dv[j];
        }
        cnt = in;
        ndim = ix->ndim;
    } else { /* Unsqueeze of a scalar to 1-D */
        CNNK_TRY(known_attrs(c, n, "axes"));
        val *d = const_in(c, n, 0, "data");
        if (!d) return CNNK_EUNSUPPORTED;
        CNNK_TRY(read_i64(c, d, "data", v, 1, &cnt));
        if (d->ndim != 0)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: only an Unsqueeze of a scalar folds",
                             c->label);
    }
    val *y = &c->v[find(c, n->output[0])];
    y->kind = V_CONST, y->dtype = ONNX_INT64, y->ndim = ndim, y->dims[0] = y->count = cnt;
    if (!(y->ints = malloc((size_t)(cnt ? cnt : 1) * sizeof *y->ints)))
        return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->label);
    memcpy(y->ints, v, (size_t)cnt * sizeof *v);
    return CNNK_OK;
}

/* Slice of a 1-D int64 constant (opset 10 on: starts, ends, axes, steps
 * as inputs), folded: the Shape -> Slice -> Concat chain torch 1.13 puts
 * in front of a Resize's sizes (F.interpolate(size=x.shape[-2:])). */
static int64_t clamp_i64(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static cnnk_status op_slice_const(ctx *c, const Onnx__NodeProto *n) {
    CNNK_TRY(known_attrs(c, n, ""));
    int64_t dv[ONNX_MAX_RANK], dn, b[1], e[1], ax[1] = {0}, st[1] = {1}, cnt;
    val *d = const_in(c, n, 0, "data");
    if (!d) return CNNK_EUNSUPPORTED;
    if (d->ndim != 1 || c->opset < 10)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: only a Slice of a 1-D int64 constant (opset >= 10) folds", c->label);
    CNNK_TRY(read_i64(c, d, "data", dv, ONNX_MAX_RANK, &dn));
    const char *role[4] = {"starts", "ends", "axes", "steps"};
    int64_t *dst[4] = {b, e, ax, st};
    for (size_t i = 1; i < 5; ++i) {
        if (i >= 3 && (i >= n->n_input || !n->input[i][0])) continue;
        val *x = const_in(c, n, i, role[i - 1]);
        if (!x) return CNNK_EUNSUPPORTED;
        CNNK_TRY(read_i64(c, x, role[i - 1], dst[i - 1], 1, &cnt));
        if (cnt != 1)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: %s must hold one value", c->label,
                             role[i - 1]);
    }
    if ((ax[0] != 0 && ax[0] != -1) || st[0] != 1)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: only axis 0, step 1 folds", c->label);
    const int64_t lo = clamp_i64(b[0] < 0 ? b[0] + dn : b[0], 0, dn);
    const int64_t hi = clamp_i64(e[0] < 0 ? e[0] + dn : e[0], 0, dn);
    const int64_t k = hi > lo ? hi - lo : 0;
    val *y = &c->v[find(c, n->output[0])];
    y->kind = V_CONST, y->dtype = ONNX_INT64, y->ndim = 1, y->dims[0] = y->count = k;
    if (!(y->ints = malloc((size_t)(k ? k : 1) * sizeof *y->ints)))
        return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->label);
    if (k) memcpy(y->ints, dv + lo, (size_t)k * sizeof *dv);
    return CNNK_OK;
}

/* Resize (opsets 11-13): mode "linear" on the two spatial axes of NCHW,
 * coordinate_transformation_mode half_pixel or pytorch_half_pixel (both
 * cnnk's align_corners=False; the PyTorch form maps an output of 1 pixel
 * to 0 where PyTorch itself does not, so that case is refused) or
 * align_corners; the output size from `sizes`, or from `scales` when it
 * is exact (in * scale an integer, so the coordinate's scale is out/in as
 * cnnk computes it), either a constant. roi is ignored, as those modes do. */
static cnnk_status op_resize(ctx *c, const Onnx__NodeProto *n, const char *name) {
    CNNK_TRY(known_attrs(c, n, "mode,coordinate_transformation_mode,cubic_coeff_a,"
                                "exclude_outside,extrapolation_value,nearest_mode"));
    const Onnx__AttributeProto *m = attr(n, "mode"), *t = attr(n, "coordinate_transformation_mode");
    char mode[32] = "nearest", ctm[32] = "half_pixel";
    if (m && m->has_s)
        snprintf(mode, sizeof mode, "%.*s", (int)(m->s.len < 31 ? m->s.len : 31),
                 (const char *)m->s.data);
    if (t && t->has_s)
        snprintf(ctm, sizeof ctm, "%.*s", (int)(t->s.len < 31 ? t->s.len : 31),
                 (const char *)t->s.data);
    if (strcmp(mode, "linear") != 0)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: mode '%s': only linear is supported",
                         c->label, mode);
    const bool ac = strcmp(ctm, "align_corners") == 0;
    const bool pytorch = strcmp(ctm, "pytorch_half_pixel") == 0;
    if (!ac && !pytorch && strcmp(ctm, "half_pixel") != 0)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: coordinate_transformation_mode '%s' (half_pixel, "
                         "pytorch_half_pixel and align_corners are supported)",
                         c->label, ctm);
    if (c->opset < 11)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: Resize of opset %lld (11-13 supported)",
                         c->label, (ll)c->opset);
    CNNK_TRY(one_output(c, n, "Resize"));
    val *x = act_in(c, n, 0, false);
    if (!x) return CNNK_EUNSUPPORTED;
    if (x->rank != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: a %d-D input (only NCHW)", c->label,
                         x->rank);
    const cnnk_node *s = node_of(c, x);
    const int64_t in[4] = {c->net->mb, s->c, s->h, s->w};
    int64_t out[4], cnt = 0;
    const bool has_sizes = n->n_input > 3 && n->input[3][0];
    const bool has_scales = n->n_input > 2 && n->input[2][0];
    if (has_sizes) {
        val *z = const_in(c, n, 3, "sizes");
        if (!z) return CNNK_EUNSUPPORTED;
        CNNK_TRY(read_i64(c, z, "sizes", out, 4, &cnt));
    } else if (has_scales) {
        val *z = const_in(c, n, 2, "scales");
        float sc[4];
        if (!z) return CNNK_EUNSUPPORTED;
        if (z->count != 4)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: %lld scales (4, one per NCHW axis)",
                             c->label, (ll)z->count);
        CNNK_TRY(read_f32(c, z, "scales", sc));
        cnt = 4;
        for (int i = 0; i < 4; ++i) {
            const double o = (double)in[i] * sc[i];
            out[i] = (int64_t)o;
            if (!(sc[i] > 0.0f) || o != (double)out[i] || o > (double)CNNK_MAX_DIM)
                return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                                 "%s: scale %g of axis %d: only scales giving a whole size are "
                                 "supported (give sizes)",
                                 c->label, (double)sc[i], i);
        }
    } else {
        return cnnk_fail(c->err, CNNK_EPARSE, "%s: neither scales nor sizes is given", c->label);
    }
    if (cnt != 4 || out[0] != in[0] || out[1] != in[1])
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: only the spatial axes may be resized (4 sizes, N and C kept)",
                         c->label);
    if (pytorch && (out[2] == 1 || out[3] == 1))
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: pytorch_half_pixel to a size of 1 (the source coordinate is 0 "
                         "there, not half-pixel's)",
                         c->label);
    return def_act(c, n, cnnk_net_resize(c->net, name, x->node, out[2], out[3], ac), 4);
}

static cnnk_status build_node(ctx *c, const Onnx__NodeProto *n) {
    const char *op = n->op_type;
    char name[CNNK_NAME_LEN];
    layer_name(n, name);
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: domain '%.100s' is not supported",
                         c->label, n->domain);
    if (strcmp(op, "Conv") == 0) return op_conv(c, n, name);
    if (strcmp(op, "MaxPool") == 0) return op_pool(c, n, name, true);
    if (strcmp(op, "AveragePool") == 0) return op_pool(c, n, name, false);
    if (strcmp(op, "Relu") == 0 || strcmp(op, "LeakyRelu") == 0 ||
        strcmp(op, "GlobalAveragePool") == 0 || strcmp(op, "LRN") == 0)
        return op_simple(c, n, name, op);
    if (strcmp(op, "BatchNormalization") == 0) return op_bnorm(c, n, name);
    if (strcmp(op, "Gemm") == 0) return op_fc(c, n, name, true);
    if (strcmp(op, "MatMul") == 0) return op_fc(c, n, name, false);
    if (strcmp(op, "Add") == 0) return op_add(c, n, name);
    if (strcmp(op, "Concat") == 0) return op_concat(c, n, name);
    if (strcmp(op, "Softmax") == 0) return op_softmax(c, n, name);
    if (strcmp(op, "Flatten") == 0) return op_flatten(c, n, false);
    if (strcmp(op, "Reshape") == 0) return op_flatten(c, n, true);
    if (strcmp(op, "Pad") == 0) return op_pad(c, n);
    if (strcmp(op, "Dropout") == 0) return op_dropout(c, n);
    if (strcmp(op, "Identity") == 0) {
        CNNK_TRY(known_attrs(c, n, ""));
        return op_dropout(c, n);
    }
    if (strcmp(op, "Constant") == 0) return op_constant(c, n);
    if (strcmp(op, "Shape") == 0 || strcmp(op, "Gather") == 0 || strcmp(op, "Unsqueeze") == 0)
        return op_shape_chain(c, n, op);
    if (strcmp(op, "ConvTranspose") == 0) return op_conv_transpose(c, n, name);
    if (strcmp(op, "Resize") == 0) return op_resize(c, n, name);
    if (strcmp(op, "Slice") == 0) return op_slice_const(c, n);
    return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                     "%s: operator %.60s is not supported (docs/ONNX.md lists those that are)",
                     c->label, op);
}

/* ---- the graph ------------------------------------------------------------- */

static cnnk_status check_opset(ctx *c, const Onnx__ModelProto *m) {
    c->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; ++i) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0) c->opset = o->version;
    }
    if (c->opset < 0)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: no opset of the default ONNX domain is imported", c->net->name);
    if (c->opset < CNNK_ONNX_OPSET_MIN || c->opset > CNNK_ONNX_OPSET_MAX)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: opset %lld: only %d..%d are supported",
                         c->net->name, (ll)c->opset, CNNK_ONNX_OPSET_MIN, CNNK_ONNX_OPSET_MAX);
    return CNNK_OK;
}

/* The one graph input that is not an initializer: N x C x H x W float. */
static cnnk_status find_input(ctx *c, int64_t mb, const Onnx__ValueInfoProto **out,
                              int64_t dims[4]) {
    const Onnx__GraphProto *g = c->g;
    *out = NULL;
    for (size_t i = 0; i < g->n_input; ++i) {
        const Onnx__ValueInfoProto *vi = g->input[i];
        if (!vi->name || !vi->name[0])
            return cnnk_fail(c->err, CNNK_EPARSE, "%s: graph input %zu has no name", c->net->name, i);
        if (find(c, vi->name) >= 0) continue; /* an initializer listed as an input */
        if (*out)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                             "%s: graph inputs '%.100s' and '%.100s': only one input is supported",
                             c->net->name, (*out)->name, vi->name);
        *out = vi;
    }
    if (!*out)
        return cnnk_fail(c->err, CNNK_EPARSE, "%s: the graph has no input", c->net->name);
    const Onnx__ValueInfoProto *vi = *out;
    const Onnx__TypeProto *t = vi->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type ||
        t->tensor_type->elem_type != ONNX_FLOAT || !t->tensor_type->shape ||
        t->tensor_type->shape->n_dim != 4)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: input '%.200s' must be a 4-D float tensor (N x C x H x W)",
                         c->net->name, vi->name);
    for (int i = 0; i < 4; ++i) {
        const Onnx__TensorShapeProto__Dimension *d = t->tensor_type->shape->dim[i];
        bool fixed = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (!fixed && i > 0)
            return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                             "%s: input '%.200s': dimension %d is dynamic, only the batch may be",
                             c->net->name, vi->name, i);
        dims[i] = fixed ? d->dim_value : mb ? mb : 1;
        if (dims[i] < 1 || dims[i] > CNNK_MAX_DIM)
            return cnnk_fail(c->err, CNNK_EOVERFLOW, "%s: input '%.200s': dimension %d is %lld "
                             "(1..%lld)", c->net->name, vi->name, i, (ll)dims[i], (ll)CNNK_MAX_DIM);
    }
    if (mb && dims[0] != mb)
        return cnnk_fail(c->err, CNNK_EINVAL,
                         "%s: the model's batch is fixed at %lld, %lld was asked for",
                         c->net->name, (ll)dims[0], (ll)mb);
    return CNNK_OK;
}

/* Kahn's order over the nodes; every input must be produced, an
 * initializer or the graph input. order[] gets the node indices. */
static cnnk_status sort_nodes(ctx *c, const int *producer, int *order) {
    const Onnx__GraphProto *g = c->g;
    const int nn = (int)g->n_node;
    int *deps = calloc((size_t)nn + 1, sizeof *deps);
    int *head = malloc(((size_t)c->nv + 1) * sizeof *head); /* consumers by value: linked */
    int *next = NULL, *who = NULL;
    size_t edges = 0;
    for (int i = 0; i < nn; ++i) edges += g->node[i]->n_input;
    next = malloc((edges + 1) * sizeof *next);
    who = malloc((edges + 1) * sizeof *who);
    cnnk_status st = CNNK_OK;
    if (!deps || !head || !next || !who) {
        st = cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->net->name);
        goto done;
    }
    for (int i = 0; i < c->nv; ++i) head[i] = -1;
    size_t e = 0;
    for (int i = 0; i < nn && st == CNNK_OK; ++i) {
        const Onnx__NodeProto *n = g->node[i];
        for (size_t j = 0; j < n->n_input; ++j) {
            if (!n->input[j][0]) continue; /* an omitted optional input */
            int k = find(c, n->input[j]);
            if (k < 0) {
                char lb[300];
                st = cnnk_fail(c->err, CNNK_EPARSE,
                               "%s: %s: input '%.200s' is not produced by any node, nor an "
                               "initializer or the graph input (dangling)",
                               c->net->name, node_label(n, (size_t)i, lb, sizeof lb), n->input[j]);
                break;
            }
            if (producer[k] < 0) continue;
            ++deps[i];
            who[e] = i, next[e] = head[k], head[k] = (int)e, ++e;
        }
    }
    int done_n = 0, qh = 0;
    for (int i = 0; i < nn && st == CNNK_OK; ++i)
        if (!deps[i]) order[done_n++] = i;
    while (st == CNNK_OK && qh < done_n) {
        const Onnx__NodeProto *n = g->node[order[qh++]];
        for (size_t j = 0; j < n->n_output; ++j) {
            int k = n->output[j][0] ? find(c, n->output[j]) : -1;
            for (int x = k >= 0 ? head[k] : -1; x >= 0; x = next[x])
                if (--deps[who[x]] == 0) order[done_n++] = who[x];
        }
    }
    if (st == CNNK_OK && done_n < nn) {
        for (int i = 0; i < nn; ++i) {
            if (!deps[i]) continue;
            char lb[300];
            st = cnnk_fail(c->err, CNNK_EPARSE, "%s: the graph has a cycle through %s",
                           c->net->name, node_label(g->node[i], (size_t)i, lb, sizeof lb));
            break;
        }
    }
done:
    free(deps), free(head), free(next), free(who);
    return st;
}

/* Marks the nodes the output needs (reverse reachability) and counts each
 * value's uses among them. */
static cnnk_status mark_needed(ctx *c, const int *producer, int out, bool *need) {
    const Onnx__GraphProto *g = c->g;
    int *stack = malloc(((size_t)g->n_node + 1) * sizeof *stack);
    if (!stack) return cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->net->name);
    int sp = 0;
    c->v[out].uses++;
    if (producer[out] >= 0) need[producer[out]] = true, stack[sp++] = producer[out];
    while (sp) {
        const Onnx__NodeProto *n = g->node[stack[--sp]];
        for (size_t j = 0; j < n->n_input; ++j) {
            int k = n->input[j][0] ? find(c, n->input[j]) : -1;
            if (k < 0) continue;
            c->v[k].uses++;
            int p = producer[k];
            if (p >= 0 && !need[p]) need[p] = true, stack[sp++] = p;
        }
    }
    free(stack);
    return CNNK_OK;
}

static cnnk_status build_graph(ctx *c, int64_t mb) {
    const Onnx__GraphProto *g = c->g;
    if (g->n_node > ONNX_MAX_NODES || g->n_initializer > ONNX_MAX_NODES ||
        g->n_input > ONNX_MAX_NODES)
        return cnnk_fail(c->err, CNNK_EOVERFLOW, "%s: more than %d nodes or initializers",
                         c->net->name, ONNX_MAX_NODES);
    size_t nval = g->n_initializer + g->n_input;
    for (size_t i = 0; i < g->n_node; ++i) {
        const Onnx__NodeProto *n = g->node[i];
        if (!n->op_type || !n->n_output) {
            char lb[300];
            return cnnk_fail(c->err, CNNK_EPARSE, "%s: %s has no operator or no output",
                             c->net->name, node_label(n, i, lb, sizeof lb));
        }
        if (n->n_output > 16 || n->n_input > (size_t)ONNX_MAX_NODES)
            return cnnk_fail(c->err, CNNK_EPARSE, "%s: node %zu has too many inputs or outputs",
                             c->net->name, i);
        nval += n->n_output;
    }
    if (nval > (size_t)4 * ONNX_MAX_NODES)
        return cnnk_fail(c->err, CNNK_EOVERFLOW, "%s: too many values", c->net->name);
    c->capv = (int)nval + 1;
    for (c->hcap = 16; c->hcap < 2 * (size_t)c->capv; c->hcap *= 2) {}
    c->v = calloc((size_t)c->capv, sizeof *c->v);
    c->hash = calloc(c->hcap, sizeof *c->hash);
    int *producer = malloc((size_t)c->capv * sizeof *producer);
    int *order = malloc((g->n_node + 1) * sizeof *order);
    bool *need = calloc(g->n_node + 1, sizeof *need);
    cnnk_status st = CNNK_OK;
    if (!c->v || !c->hash || !producer || !order || !need) {
        st = cnnk_fail(c->err, CNNK_ENOMEM, "%s: out of memory", c->net->name);
        goto done;
    }
    for (int i = 0; i < c->capv; ++i) producer[i] = -1;
    for (size_t i = 0; i < g->n_initializer && st == CNNK_OK; ++i) {
        const Onnx__TensorProto *t = g->initializer[i];
        if (!t->name || !t->name[0]) {
            st = cnnk_fail(c->err, CNNK_EPARSE, "%s: initializer %zu has no name", c->net->name, i);
            break;
        }
        int k = add_val(c, t->name, V_CONST, "initializer");
        char what[300];
        snprintf(what, sizeof what, "initializer '%.200s'", t->name);
        st = k < 0 ? CNNK_EPARSE : set_tensor(c, &c->v[k], t, what);
    }
    const Onnx__ValueInfoProto *in = NULL;
    int64_t dims[4];
    if (st == CNNK_OK) st = find_input(c, mb, &in, dims);
    if (st != CNNK_OK) goto done;
    /* the network's input node, sized now that the batch is known */
    c->net->mb = dims[0], c->net->c = dims[1], c->net->h = dims[2], c->net->w = dims[3];
    c->net->nodes[0].c = dims[1], c->net->nodes[0].h = dims[2], c->net->nodes[0].w = dims[3];
    int kin = add_val(c, in->name, V_ACT, "graph input");
    if (kin < 0) {
        st = CNNK_EPARSE;
        goto done;
    }
    c->v[kin].node = 0, c->v[kin].rank = 4;
    for (size_t i = 0; i < g->n_node && st == CNNK_OK; ++i) {
        const Onnx__NodeProto *n = g->node[i];
        if (n->n_output == 0 || !n->output[0] || !n->output[0][0]) {
            st = cnnk_fail(c->err, CNNK_EPARSE, "%s: node %zu (%.60s) has no first output name",
                           c->net->name, i, n->op_type ? n->op_type : "?");
            break;
        }
        for (size_t j = 0; j < n->n_output; ++j) {
            if (!n->output[j][0]) continue;
            int k = add_val(c, n->output[j], 0, "node output");
            if (k < 0) {
                st = CNNK_EPARSE;
                break;
            }
            producer[k] = (int)i;
        }
    }
    if (st != CNNK_OK) goto done;
    if (g->n_output != 1) {
        st = cnnk_fail(c->err, CNNK_EUNSUPPORTED, "%s: %zu graph outputs: only one is supported",
                       c->net->name, g->n_output);
        goto done;
    }
    int out = g->output[0]->name ? find(c, g->output[0]->name) : -1;
    if (out < 0 || producer[out] < 0) {
        st = cnnk_fail(c->err, CNNK_EPARSE,
                       "%s: the graph output '%.200s' is not produced by any node", c->net->name,
                       g->output[0]->name ? g->output[0]->name : "");
        goto done;
    }
    if ((st = sort_nodes(c, producer, order)) != CNNK_OK) goto done;
    if ((st = mark_needed(c, producer, out, need)) != CNNK_OK) goto done;
    for (size_t i = 0; i < g->n_node && st == CNNK_OK; ++i) {
        const Onnx__NodeProto *n = g->node[order[i]];
        if (!need[order[i]]) continue;
        node_label(n, (size_t)order[i], c->label, sizeof c->label);
        st = build_node(c, n);
        /* a builder error (a shape the layer cannot take) names the node too */
        if (st != CNNK_OK && c->err && !strstr(c->err->msg, c->label)) {
            char msg[CNNK_ERROR_MSG_LEN];
            snprintf(msg, sizeof msg, "%s", c->err->msg);
            cnnk_fail(c->err, st, "%s: %.300s", c->label, msg);
        }
    }
    if (st != CNNK_OK) goto done;
    const val *y = &c->v[out];
    if (y->kind != V_ACT || y->node == 0 || y->node != c->net->n - 1 || y->pad[0] || y->pad[1] ||
        y->pad[2] || y->pad[3]) {
        st = cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                       "%s: the graph output '%.200s' must be computed by the last layer of the "
                       "network (not the input, a constant or a pending Pad)",
                       c->net->name, y->name);
        goto done;
    }
    c->net->out_rank = y->rank;
    c->net->params_given = true;
done:
    for (int i = 0; c->v && i < c->nv; ++i) free(c->v[i].ints);
    free(c->v), free(c->hash), free(producer), free(order), free(need);
    return st;
}

/* ---- nesting, before protobuf-c sees the bytes ------------------------------
 * protobuf-c unpacks (and frees) nested messages by recursion without a
 * depth limit, and ONNX's schema nests without end (a TypeProto's sequence
 * of TypeProto, a graph in a node's attribute): a file of a megabyte can
 * exhaust the stack. So the wire format is walked first, iteratively, over
 * the messages that can recurse; deeper than ONNX_MAX_NEST, or not wire
 * format at all, the file is refused. */
#define ONNX_MAX_NEST 64

typedef enum { W_NONE, W_MODEL, W_GRAPH, W_NODE, W_ATTR, W_VALUE, W_TYPE, W_TSEQ, W_TMAP, W_TOPT,
               W_FUNC, W_TRAIN } wire_msg;

/* The message a length-delimited field of `in` holds, among those that
 * lead back to a recursion (onnx.proto, ONNX 1.12); W_NONE: skipped. */
static wire_msg wire_child(wire_msg in, uint64_t field) {
    switch (in) {
    case W_MODEL: return field == 7 ? W_GRAPH : field == 20 ? W_TRAIN : field == 25 ? W_FUNC : W_NONE;
    case W_TRAIN: return field == 1 || field == 2 ? W_GRAPH : W_NONE;
    case W_FUNC: return field == 7 ? W_NODE : W_NONE;
    case W_GRAPH: return field == 1 ? W_NODE : field >= 11 && field <= 13 ? W_VALUE : W_NONE;
    case W_NODE: return field == 5 ? W_ATTR : W_NONE;
    case W_ATTR: return field == 6 || field == 11 ? W_GRAPH : field == 14 || field == 15 ? W_TYPE : W_NONE;
    case W_VALUE: return field == 2 ? W_TYPE : W_NONE;
    case W_TYPE: return field == 4 ? W_TSEQ : field == 5 ? W_TMAP : field == 9 ? W_TOPT : W_NONE;
    case W_TSEQ: case W_TOPT: return field == 1 ? W_TYPE : W_NONE;
    case W_TMAP: return field == 2 ? W_TYPE : W_NONE;
    default: return W_NONE;
    }
}

static bool wire_varint(const uint8_t *b, size_t end, size_t *pos, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64 && *pos < end; shift += 7) {
        uint8_t x = b[(*pos)++];
        *v |= (uint64_t)(x & 0x7f) << shift;
        if (!(x & 0x80)) return true;
    }
    return false;
}

/* 0: fine; 1: nested deeper than ONNX_MAX_NEST; 2: not wire format. */
static int wire_check(const uint8_t *b, size_t len) {
    struct { wire_msg m; size_t end; } st[ONNX_MAX_NEST + 1];
    int top = 0;
    st[0].m = W_MODEL, st[0].end = len;
    size_t pos = 0;
    while (top >= 0) {
        if (pos == st[top].end) {
            --top;
            continue;
        }
        uint64_t key, v;
        if (!wire_varint(b, st[top].end, &pos, &key)) return 2;
        switch (key & 7) {
        case 0:
            if (!wire_varint(b, st[top].end, &pos, &v)) return 2;
            break;
        case 1:
        case 5: {
            const size_t w = (key & 7) == 1 ? 8 : 4;
            if (st[top].end - pos < w) return 2;
            pos += w;
            break;
        }
        case 2: {
            if (!wire_varint(b, st[top].end, &pos, &v) || v > st[top].end - pos) return 2;
            const wire_msg child = wire_child(st[top].m, key >> 3);
            if (child == W_NONE) {
                pos += (size_t)v;
            } else {
                if (top == ONNX_MAX_NEST) return 1;
                ++top;
                st[top].m = child, st[top].end = pos + (size_t)v;
            }
            break;
        }
        default: return 2; /* groups (3, 4) and 6, 7: not in ONNX */
        }
    }
    return 0;
}

/* ---- memory, while protobuf-c unpacks -------------------------------------
 * protobuf-c allocates every message and every repeated element before
 * cnnk's checks see them, and unpacked they can be far larger than on the
 * wire: an empty NodeProto is 2 bytes in the file and a struct of over 100
 * bytes (and a pointer) in memory, a packed int64 of 1 byte is 8. So a
 * file of a few hundred megabytes could ask for tens of gigabytes. Unpacking
 * goes through an allocator with a budget, ONNX_UNPACK_BUDGET(len): the
 * file once more (initializers' raw_data is copied) plus 64 MiB for the
 * structures of a real model (torchvision's exports need the file and at
 * most 0.7 MiB more: densenet201, 81 MB; docs/ONNX.md); past it protobuf-c's unpack fails cleanly, and the
 * file is refused. Each block carries its size so the budget is returned
 * as protobuf-c frees. */
#define ONNX_UNPACK_BUDGET(len) (2 * (size_t)(len) + ((size_t)64 << 20))

typedef struct onnx_budget {
    size_t used, limit;
    bool refused; /* an allocation was refused: the unpack failed for the budget */
} onnx_budget;

enum { ONNX_BLOCK_HEAD = 16 }; /* keeps the block aligned as malloc's */

static void *budget_alloc(void *data, size_t size) {
    onnx_budget *b = data;
    unsigned char *p = NULL;
    if (size <= b->limit - b->used) p = malloc(size + ONNX_BLOCK_HEAD);
    if (!p) {
        b->refused = true;
        return NULL;
    }
    memcpy(p, &size, sizeof size);
    b->used += size;
    return p + ONNX_BLOCK_HEAD;
}

static void budget_free(void *data, void *ptr) {
    if (!ptr) return;
    onnx_budget *b = data;
    unsigned char *p = (unsigned char *)ptr - ONNX_BLOCK_HEAD;
    size_t size;
    memcpy(&size, p, sizeof size);
    b->used -= size;
    free(p);
}

bool cnnk_onnx_available(void) { return true; }

cnnk_status cnnk_onnx_load_mem(const void *buf, size_t len, const char *name, int64_t mb,
                               cnnk_net **out, cnnk_error *err) {
    return cnnk_onnx_load_mem_budget(buf, len, name, mb, ONNX_UNPACK_BUDGET(len), out, err);
}

cnnk_status cnnk_onnx_load_mem_budget(const void *buf, size_t len, const char *name, int64_t mb,
                                      size_t budget, cnnk_net **out, cnnk_error *err) {
    *out = NULL;
    if (mb < 0 || mb > CNNK_MAX_DIM)
        return cnnk_fail(err, CNNK_EINVAL, "%s: batch %lld (1..%lld, or 0: the model's)", name,
                         (ll)mb, (ll)CNNK_MAX_DIM);
    const int wire = wire_check(buf, len);
    if (wire == 1)
        return cnnk_fail(err, CNNK_EUNSUPPORTED,
                         "%.200s: messages nested deeper than %d levels (graphs in attributes, "
                         "types in types): refused before unpacking",
                         name, ONNX_MAX_NEST);
    if (wire == 2)
        return cnnk_fail(err, CNNK_EPARSE,
                         "%.200s: not an ONNX model (protobuf: truncated or malformed, %zu bytes)",
                         name, len);
    onnx_budget bud = {0, budget, false};
    ProtobufCAllocator alloc = {budget_alloc, budget_free, &bud};
    Onnx__ModelProto *m = onnx__model_proto__unpack(&alloc, len, buf);
    if (!m) {
        if (bud.refused)
            return cnnk_fail(err, CNNK_EOVERFLOW,
                             "%.200s: unpacking the model would take more than %zu MiB for %zu "
                             "bytes of file (the limit: twice the file and 64 MiB; a model of "
                             "mostly empty or tiny messages)",
                             name, budget >> 20, len);
        return cnnk_fail(err, CNNK_EPARSE,
                         "%.200s: not an ONNX model (protobuf: truncated or malformed, %zu bytes)",
                         name, len);
    }
    cnnk_net *net = cnnk_net_create(name, 1, 1, 1, 1);
    if (!net) {
        onnx__model_proto__free_unpacked(m, &alloc);
        return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", name);
    }
    ctx c = {.g = m->graph, .net = net, .err = err};
    cnnk_status st = check_opset(&c, m);
    if (st == CNNK_OK && !m->graph)
        st = cnnk_fail(err, CNNK_EPARSE, "%.200s: the model has no graph", name);
    if (st == CNNK_OK) st = build_graph(&c, mb);
    onnx__model_proto__free_unpacked(m, &alloc);
    if (st != CNNK_OK) {
        cnnk_net_destroy(net);
        return st;
    }
    *out = net;
    return CNNK_OK;
}

cnnk_status cnnk_onnx_load(const char *path, int64_t mb, cnnk_net **out, cnnk_error *err) {
    *out = NULL;
    char stem[32];
    cnnk_onnx_stem(path, stem, sizeof stem);
    FILE *f = fopen(path, "rb");
    if (!f) return cnnk_fail(err, CNNK_EIO, "%.300s: cannot open", path);
    void *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size >= 0 && (int64_t)size < ONNX_MAX_FILE && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)size + 1);
    bool ok = buf && fread(buf, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!ok) {
        free(buf);
        return cnnk_fail(err, CNNK_EIO, "%.300s: cannot read (%ld bytes)", path, size);
    }
    cnnk_status st = cnnk_onnx_load_mem(buf, (size_t)size, stem, mb, out, err);
    free(buf);
    return st;
}
