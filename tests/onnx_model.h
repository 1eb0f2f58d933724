/* Writing small ONNX models in C with protobuf-c, for tests/test_onnx.c
 * and the fuzzer's seeds: a node list, initializers, one NCHW input and
 * one output, packed into a ModelProto. Every allocation goes into one
 * arena freed with om_free(). */
#ifndef CNNK_TESTS_ONNX_MODEL_H
#define CNNK_TESTS_ONNX_MODEL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

typedef struct om {
    void **blocks;
    size_t nblocks, cap;
    Onnx__NodeProto *nodes[256];
    size_t nnodes;
    Onnx__TensorProto *inits[256];
    size_t ninits;
    int64_t opset;
    int32_t in_type;   /* elem_type of the input (1: float) */
    int64_t in[4];     /* N, C, H, W; N < 0: dynamic */
    const char *in_name, *out_name;
    int in_rank;
} om;

static inline void *om_alloc(om *m, size_t n) {
    if (m->nblocks == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->blocks = realloc(m->blocks, m->cap * sizeof *m->blocks);
        if (!m->blocks) abort();
    }
    void *p = calloc(1, n ? n : 1);
    if (!p) abort();
    return m->blocks[m->nblocks++] = p;
}

static inline char *om_str(om *m, const char *s) {
    char *p = om_alloc(m, strlen(s) + 1);
    memcpy(p, s, strlen(s) + 1);
    return p;
}

static inline void om_init(om *m, int64_t n, int64_t c, int64_t h, int64_t w) {
    memset(m, 0, sizeof *m);
    m->opset = 13;
    m->in_type = 1;
    m->in[0] = n, m->in[1] = c, m->in[2] = h, m->in[3] = w;
    m->in_rank = 4;
    m->in_name = "x";
    m->out_name = "y";
}

static inline void om_free(om *m) {
    for (size_t i = 0; i < m->nblocks; ++i) free(m->blocks[i]);
    free(m->blocks);
    memset(m, 0, sizeof *m);
}

/* "a,b,c" into a string array (n set). Empty items stay empty strings. */
static inline char **om_list(om *m, const char *csv, size_t *n) {
    *n = 0;
    if (!csv || !*csv) return NULL;
    size_t k = 1;
    for (const char *p = csv; *p; ++p) k += *p == ',';
    char **v = om_alloc(m, k * sizeof *v);
    const char *p = csv;
    for (size_t i = 0; i < k; ++i) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        v[i] = om_alloc(m, len + 1);
        memcpy(v[i], p, len);
        p = e ? e + 1 : p + len;
    }
    *n = k;
    return v;
}

/* A node op named name reading the inputs "a,b" and writing "y". */
static inline Onnx__NodeProto *om_node(om *m, const char *op, const char *name, const char *ins,
                                const char *outs) {
    Onnx__NodeProto *n = om_alloc(m, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = om_str(m, op);
    n->name = om_str(m, name);
    n->input = om_list(m, ins, &n->n_input);
    n->output = om_list(m, outs, &n->n_output);
    m->nodes[m->nnodes++] = n;
    return n;
}

static inline Onnx__AttributeProto *om_attr(om *m, Onnx__NodeProto *n, const char *name) {
    Onnx__AttributeProto *a = om_alloc(m, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = om_str(m, name);
    Onnx__AttributeProto **v = om_alloc(m, (n->n_attribute + 1) * sizeof *v);
    if (n->n_attribute) memcpy(v, n->attribute, n->n_attribute * sizeof *v);
    v[n->n_attribute++] = a;
    n->attribute = v;
    return a;
}

static inline void om_attr_i(om *m, Onnx__NodeProto *n, const char *name, int64_t i) {
    Onnx__AttributeProto *a = om_attr(m, n, name);
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1, a->i = i;
}

static inline void om_attr_f(om *m, Onnx__NodeProto *n, const char *name, float f) {
    Onnx__AttributeProto *a = om_attr(m, n, name);
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1, a->f = f;
}

static inline void om_attr_s(om *m, Onnx__NodeProto *n, const char *name, const char *s) {
    Onnx__AttributeProto *a = om_attr(m, n, name);
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    a->has_s = 1, a->s.len = strlen(s), a->s.data = (uint8_t *)om_str(m, s);
}

/* count ints follow */
static inline void om_attr_ints(om *m, Onnx__NodeProto *n, const char *name, int count, ...) {
    Onnx__AttributeProto *a = om_attr(m, n, name);
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->ints = om_alloc(m, (size_t)count * sizeof *a->ints);
    a->n_ints = (size_t)count;
    va_list ap;
    va_start(ap, count);
    for (int i = 0; i < count; ++i) a->ints[i] = va_arg(ap, int64_t);
    va_end(ap);
}

static inline Onnx__TensorProto *om_tensor(om *m, const char *name, int32_t type, int nd,
                                    const int64_t *dims, const void *data, size_t bytes) {
    Onnx__TensorProto *t = om_alloc(m, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = om_str(m, name);
    t->has_data_type = 1, t->data_type = type;
    t->n_dims = (size_t)nd;
    t->dims = om_alloc(m, (size_t)(nd ? nd : 1) * sizeof *t->dims);
    memcpy(t->dims, dims, (size_t)nd * sizeof *dims);
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = om_alloc(m, bytes);
    memcpy(t->raw_data.data, data, bytes);
    return t;
}

/* An initializer of floats, values v (count from dims). */
static inline Onnx__TensorProto *om_init_f(om *m, const char *name, int nd, const int64_t *dims,
                                    const float *v) {
    size_t count = 1;
    for (int i = 0; i < nd; ++i) count *= (size_t)dims[i];
    Onnx__TensorProto *t = om_tensor(m, name, 1, nd, dims, v, count * sizeof(float));
    m->inits[m->ninits++] = t;
    return t;
}

static inline Onnx__TensorProto *om_init_i64(om *m, const char *name, int nd, const int64_t *dims,
                                      const int64_t *v) {
    size_t count = 1;
    for (int i = 0; i < nd; ++i) count *= (size_t)dims[i];
    Onnx__TensorProto *t = om_tensor(m, name, 7, nd, dims, v, count * sizeof(int64_t));
    m->inits[m->ninits++] = t;
    return t;
}

static inline Onnx__ValueInfoProto *om_value(om *m, const char *name, int32_t type, int rank,
                                      const int64_t *dims) {
    Onnx__ValueInfoProto *v = om_alloc(m, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = om_str(m, name);
    Onnx__TypeProto *t = om_alloc(m, sizeof *t);
    onnx__type_proto__init(t);
    Onnx__TypeProto__Tensor *tt = om_alloc(m, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1, tt->elem_type = type;
    Onnx__TensorShapeProto *s = om_alloc(m, sizeof *s);
    onnx__tensor_shape_proto__init(s);
    s->n_dim = (size_t)rank;
    s->dim = om_alloc(m, (size_t)(rank ? rank : 1) * sizeof *s->dim);
    for (int i = 0; i < rank; ++i) {
        Onnx__TensorShapeProto__Dimension *d = om_alloc(m, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] >= 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = om_str(m, "N");
        }
        s->dim[i] = d;
    }
    tt->shape = s;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->type = t;
    return v;
}

/* The packed model (malloc'ed, *len bytes). */
static inline uint8_t *om_pack(om *m, size_t *len) {
    Onnx__ModelProto mp;
    onnx__model_proto__init(&mp);
    mp.has_ir_version = 1, mp.ir_version = 7;
    Onnx__OperatorSetIdProto op;
    onnx__operator_set_id_proto__init(&op);
    op.domain = (char *)"";
    op.has_version = 1, op.version = m->opset;
    Onnx__OperatorSetIdProto *ops[1] = {&op};
    mp.n_opset_import = 1, mp.opset_import = ops;
    Onnx__GraphProto g;
    onnx__graph_proto__init(&g);
    g.name = (char *)"test";
    g.n_node = m->nnodes, g.node = m->nodes;
    g.n_initializer = m->ninits, g.initializer = m->inits;
    Onnx__ValueInfoProto *in[1] = {
        m->in_name ? om_value(m, m->in_name, m->in_type, m->in_rank, m->in) : NULL};
    int64_t od[2] = {-1, -1};
    Onnx__ValueInfoProto *out[1] = {m->out_name ? om_value(m, m->out_name, 1, 0, od) : NULL};
    g.n_input = m->in_name ? 1 : 0, g.input = in;
    g.n_output = m->out_name ? 1 : 0, g.output = out;
    mp.graph = &g;
    *len = onnx__model_proto__get_packed_size(&mp);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (!buf) abort();
    onnx__model_proto__pack(&mp, buf);
    return buf;
}

#endif
