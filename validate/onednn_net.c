/* A whole network through oneDNN primitives, created once and executed
 * many times; see validate/onednn_peer.h and docs/ONEDNN_PEER.md.
 *
 * Two passes. fuse() groups nodes by the runner's own rule (core/fuse.c:
 * conv + BN fold + residual add + ReLU; BN + ReLU; add + ReLU; FC + ReLU;
 * dropout an alias). emit() then creates the groups' primitives in the order of each
 * group's LAST node: a group's inputs, its residual included, are the last
 * nodes of groups that end earlier, so that order is topological even
 * where a residual's shortcut is defined after the branch that adds it. */
#include "validate/onednn_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fuse.h"
#include "kernels/ref/ref.h"

#if defined(CNNK_HAVE_ONEDNN) && CNNK_HAVE_ONEDNN

#include "validate/onednn_prim.h"

#define STEP_ARGS (CNNK_CONCAT_MAX_INPUTS + 8)
#define STEP_NAME (CNNK_NAME_LEN + 48)
#define STEP_NOTE 160
#define CACHE 4 /* reordered copies kept per value */

typedef struct group {
    int head, out, bn, res; /* nodes; bn, res: -1 when none */
    bool relu;
    float relu_alpha; /* relu's slope (a fused leaky ReLU's), else 0 */
    int crop;         /* a DECONV head's folded crop (core/fuse.c), or -1 */
} group;

typedef struct value {
    dnnl_memory_desc_t md;
    dnnl_memory_t mem; /* NULL until the producing group is emitted */
    /* In-place concats: the value's slice of a concat buffer (a dense
     * blocked tensor at its channel offset), and whether the concat is
     * itself made in place (its inputs written into their slices). */
    bool slot, in_place;
    dnnl_memory_desc_t slot_md;
    dnnl_memory_t slot_mem;
    int ncached;
    dnnl_memory_desc_t cached_md[CACHE];
    dnnl_memory_t cached[CACHE];
} value;

typedef struct step {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[STEP_ARGS];
    char name[STEP_NAME];
    bool conv;             /* a convolution: algo and note mean something */
    cnnk_onednn_algo algo; /* what it runs */
    char note[STEP_NOTE];  /* why not Winograd, where it was asked for */
    const char *role;      /* cnnk_onednn_net_prim_role */
    struct host_op *host;  /* a host step: no pd, no prim */
} step;

/* A host step (docs/REGIONS.md): a node oneDNN has no primitive for runs
 * cnnk's reference kernel of its layer kind on the peer's tensors,
 * reordered to and from plain NHWC by ordinary reorder steps, so both
 * sides run the same code for it. Any node kind with a reference entry
 * in the registry goes this way. */
typedef struct host_op {
    const cnnk_op_kernel *k;
    cnnk_layer_desc l;
    cnnk_op_args a; /* every pointer fixed at create, but the network input's */
    bool from_input[CNNK_CONCAT_MAX_INPUTS]; /* src[i] is the forward's input */
    float *packed, *workspace;
} host_op;

struct cnnk_onednn_net {
    cnnk_dnn_ctx c;
    cnnk_error quiet; /* messages after create */
    const cnnk_net *net; /* only during create */
    int nthreads;
    cnnk_onednn_algo algo; /* asked for every convolution */
    cnnk_onednn_concat_mode concat;
    bool unfused;
    dnnl_format_tag_t block_tag; /* the blocked layout of in-place concats */
    int64_t block;
    int64_t copy_bytes; /* per forward, by concats */
    int *alias, *last_reader, *producer;
    group *groups;
    int ngroups;
    value *values;
    step *steps;
    int nsteps, cap;
    dnnl_memory_t *mems; /* every memory object, destroyed once */
    int nmems, mcap;
    dnnl_memory_t in_mem, out_mem;
    void *scratch;
    int64_t out_elems;
};

/* ---- bookkeeping ------------------------------------------------------------ */

/* arr (n of *cap elements of size elem) with room for one more: arr
 * itself or its doubled copy; NULL when out of memory, arr left as it
 * was. */
static void *room_for_one(void *arr, int n, int *cap, size_t elem) {
    if (n < *cap) return arr;
    int grown = *cap ? 2 * *cap : 64;
    void *p = realloc(arr, (size_t)grown * elem);
    if (p) *cap = grown;
    return p;
}

static cnnk_status own_mem(cnnk_onednn_net *h, dnnl_memory_t m) {
    dnnl_memory_t *mems = room_for_one(h->mems, h->nmems, &h->mcap, sizeof *mems);
    if (!mems) {
        dnnl_memory_destroy(m);
        return cnnk_fail(h->c.err, CNNK_ENOMEM, "onednn net: out of memory");
    }
    h->mems = mems;
    h->mems[h->nmems++] = m;
    return CNNK_OK;
}

static cnnk_status new_mem(cnnk_onednn_net *h, const dnnl_memory_desc_t *md, void *handle,
                           dnnl_memory_t *out) {
    CNNK_DNN(&h->c, dnnl_memory_create, (out, md, h->c.eng, handle));
    return own_mem(h, *out);
}

/* A step owning pd; its primitive is created at once. */
static cnnk_status new_step(cnnk_onednn_net *h, dnnl_primitive_desc_t pd, const char *name,
                            step **out) {
    step *steps = room_for_one(h->steps, h->nsteps, &h->cap, sizeof *steps);
    if (!steps) {
        dnnl_primitive_desc_destroy(pd);
        return cnnk_fail(h->c.err, CNNK_ENOMEM, "onednn net: out of memory");
    }
    h->steps = steps;
    step *s = &h->steps[h->nsteps++];
    memset(s, 0, sizeof *s);
    s->pd = pd;
    s->role = "";
    snprintf(s->name, sizeof s->name, "%s", name);
    if (pd) CNNK_DNN(&h->c, dnnl_primitive_create, (&s->prim, pd));
    *out = s;
    return CNNK_OK;
}

static void arg(step *s, int a, dnnl_memory_t m) {
    s->args[s->nargs].arg = a;
    s->args[s->nargs++].memory = m;
}

static int root(const cnnk_onednn_net *h, int n) {
    while (h->alias[n] != n) n = h->alias[n];
    return n;
}

static const cnnk_node *node(const cnnk_onednn_net *h, int i) { return &h->net->nodes[i]; }

/* ---- fusion: the runner's rule (core/fuse.c) ------------------------------------ */

static cnnk_status fuse(cnnk_onednn_net *h) {
    cnnk_fusion f;
    CNNK_TRY(cnnk_fuse(h->net, &f, h->c.err));
    for (int i = 0; i < h->net->n; ++i) h->alias[i] = f.alias[i];
    if (h->unfused) { /* a primitive per node */
        h->ngroups = 0;
        for (int i = 1; i < h->net->n; ++i)
            if (f.group[i] >= 0) h->groups[h->ngroups++] = (group){i, i, -1, -1, false, 0.0f, -1};
    } else {
        for (int g = 0; g < f.ngroups; ++g) {
            const cnnk_fused *x = &f.groups[g];
            h->groups[g] =
                (group){x->head, x->out, x->bn, x->residual, x->relu, x->relu_alpha, x->crop};
        }
        h->ngroups = f.ngroups;
    }
    cnnk_fusion_free(&f);
    return CNNK_OK;
}

static int by_out(const void *a, const void *b) {
    const group *x = a, *y = b;
    return (x->out > y->out) - (x->out < y->out);
}

/* Sorts groups into emission order and records, per value, the position
 * of the last group that reads it (a residual may be overwritten in place
 * only by its last reader). */
static void order_groups(cnnk_onednn_net *h) {
    qsort(h->groups, (size_t)h->ngroups, sizeof *h->groups, by_out);
    for (int i = 0; i < h->net->n; ++i) h->last_reader[i] = h->producer[i] = -1;
    for (int g = 0; g < h->ngroups; ++g) {
        const cnnk_node *n = node(h, h->groups[g].head);
        h->producer[h->groups[g].out] = g;
        for (int k = 0; k < n->ninputs; ++k) h->last_reader[root(h, n->inputs[k])] = g;
        if (h->groups[g].res >= 0) h->last_reader[h->groups[g].res] = g;
    }
    h->last_reader[root(h, h->net->n - 1)] = h->ngroups; /* read by the output reorder */
}

/* ---- values and reorders ----------------------------------------------------- */

static cnnk_status add_reorder(cnnk_onednn_net *h, const dnnl_memory_desc_t *from_md,
                               dnnl_memory_t from, const dnnl_memory_desc_t *to_md,
                               dnnl_memory_t to, const char *what) {
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_reorder_pd(&h->c, from_md, to_md, &pd));
    char name[STEP_NAME];
    snprintf(name, sizeof name, "reorder:%s", what);
    step *st = NULL;
    CNNK_TRY(new_step(h, pd, name, &st));
    st->role = from == h->in_mem ? "input" : to == h->out_mem ? "output" : "reorder";
    arg(st, DNNL_ARG_FROM, from);
    arg(st, DNNL_ARG_TO, to);
    return CNNK_OK;
}

/* Node n's value in layout want: the value itself, or a copy reordered
 * by a step inserted here (kept for later readers wanting the same). */
static cnnk_status value_as(cnnk_onednn_net *h, int n, const dnnl_memory_desc_t *want,
                            dnnl_memory_t *out) {
    value *v = &h->values[root(h, n)];
    if (!v->mem)
        return cnnk_fail(h->c.err, CNNK_EINVAL, "%s: input %s is not computed yet", h->c.layer,
                         node(h, n)->name);
    if (dnnl_memory_desc_equal(&v->md, want)) return *out = v->mem, CNNK_OK;
    for (int i = 0; i < v->ncached; ++i)
        if (dnnl_memory_desc_equal(&v->cached_md[i], want)) return *out = v->cached[i], CNNK_OK;
    dnnl_memory_t m = NULL;
    CNNK_TRY(new_mem(h, want, DNNL_MEMORY_ALLOCATE, &m));
    CNNK_TRY(add_reorder(h, &v->md, v->mem, want, m, node(h, root(h, n))->name));
    if (v->ncached < CACHE) {
        v->cached_md[v->ncached] = *want;
        v->cached[v->ncached++] = m;
    }
    *out = m;
    return CNNK_OK;
}

static const dnnl_memory_desc_t *query(const step *s, dnnl_query_t q, int i) {
    return dnnl_primitive_desc_query_md(s->pd, q, i);
}

/* A fresh dst of the layout the step's primitive chose; it becomes node
 * out's value. */
static cnnk_status new_dst(cnnk_onednn_net *h, step *s, int out) {
    dnnl_memory_t m = NULL;
    const dnnl_memory_desc_t *md = query(s, dnnl_query_dst_md, 0);
    value *v = &h->values[out];
    if (v->slot && dnnl_memory_desc_equal(md, &v->slot_md))
        m = v->slot_mem; /* written straight into its concat slice */
    else
        CNNK_TRY(new_mem(h, md, DNNL_MEMORY_ALLOCATE, &m));
    arg(s, DNNL_ARG_DST, m);
    h->values[out].md = *md;
    h->values[out].mem = m;
    return CNNK_OK;
}

/* A parameter vector (bias, BN statistics) as a library-owned memory. */
static cnnk_status param_mem(cnnk_onednn_net *h, const float *p, int64_t n, dnnl_memory_t *out) {
    dnnl_memory_desc_t md;
    CNNK_TRY(cnnk_dnn_vec_md(&h->c, &md, n));
    CNNK_TRY(cnnk_dnn_reorder_into(&h->c, &md, p, &md, out));
    return own_mem(h, *out);
}

/* The weights, reordered once from the caller's layout user into the one
 * s's primitive chose, and the bias when there is one, bound to s. */
static cnnk_status bind_weights(cnnk_onednn_net *h, step *s, const dnnl_memory_desc_t *user,
                                const float *w, const float *bias, int64_t oc) {
    dnnl_memory_t m = NULL;
    CNNK_TRY(cnnk_dnn_reorder_into(&h->c, user, w, query(s, dnnl_query_weights_md, 0), &m));
    CNNK_TRY(own_mem(h, m));
    arg(s, DNNL_ARG_WEIGHTS, m);
    if (!bias) return CNNK_OK;
    CNNK_TRY(param_mem(h, bias, oc, &m));
    arg(s, DNNL_ARG_BIAS, m);
    return CNNK_OK;
}

/* ---- groups -> primitives ------------------------------------------------------- */

/* Weights and bias of a conv group, BN folded (on copies) as the runner does. */
typedef struct conv_params {
    float *w, *b;
} conv_params;

static cnnk_status conv_params_of(cnnk_onednn_net *h, const group *g, const cnnk_conv_desc *d,
                                  conv_params *p) {
    const cnnk_node *c = node(h, g->head);
    int64_t nw = cnnk_conv_weights(d);
    p->w = malloc((size_t)nw * sizeof(float));
    p->b = calloc((size_t)d->oc, sizeof(float));
    if (!p->w || !p->b) return cnnk_fail(h->c.err, CNNK_ENOMEM, "%s: out of memory", c->name);
    if (!c->weights) return cnnk_fail(h->c.err, CNNK_EINVAL, "%s: no weights", c->name);
    memcpy(p->w, c->weights, (size_t)nw * sizeof(float));
    if (c->has_bias && c->bias) memcpy(p->b, c->bias, (size_t)d->oc * sizeof(float));
    if (g->bn >= 0) {
        const cnnk_node *b = node(h, g->bn);
        if (!b->bn[0]) return cnnk_fail(h->c.err, CNNK_EINVAL, "%s: no parameters", b->name);
        cnnk_ref_bnorm_fold(d, p->w, p->b, b->bn[0], b->bn[1], b->bn[2], b->bn[3],
                            b->desc.u.bnorm.eps);
    }
    return CNNK_OK;
}

/* dst of a conv with a residual: the residual's own memory when this group
 * is its last reader and the layouts agree (oneDNN's in-place sum), else a
 * fresh dst the residual is reordered into before the conv runs. */
static cnnk_status residual_dst(cnnk_onednn_net *h, int gi, const dnnl_memory_desc_t *md,
                                dnnl_memory_t *dst) {
    const group *g = &h->groups[gi];
    value *r = &h->values[g->res];
    if (!r->mem)
        return cnnk_fail(h->c.err, CNNK_EINVAL, "%s: residual not computed", h->c.layer);
    /* not in place when the conv also reads the residual as its src */
    bool reads_it = root(h, node(h, g->head)->inputs[0]) == g->res;
    if (g->res != 0 && !reads_it && !r->slot && h->last_reader[g->res] == gi &&
        dnnl_memory_desc_equal(&r->md, md)) {
        *dst = r->mem;
        return CNNK_OK;
    }
    CNNK_TRY(new_mem(h, md, DNNL_MEMORY_ALLOCATE, dst));
    return add_reorder(h, &r->md, r->mem, md, *dst, node(h, g->res)->name);
}

static cnnk_status emit_layer(cnnk_onednn_net *h, int gi);

static bool is_ref(dnnl_primitive_desc_t pd) {
    const char *impl = cnnk_dnn_impl(pd);
    return !impl || strncmp(impl, "ref", 3) == 0;
}

/* In-place concats: a convolution is offered its input's layout (no
 * reorder in front of it) and, when its output is a concat slice, that
 * slice's layout; an offer is kept only where oneDNN still has an
 * optimized implementation of the same algorithm for it (a slice layout
 * must not cost a layer its Winograd), else the layouts are oneDNN's
 * (`any`). */
static cnnk_status conv_pd_placed(cnnk_onednn_net *h, const group *g, const cnnk_conv_desc *d,
                                  bool bias, dnnl_primitive_desc_t *pd, cnnk_onednn_algo *used,
                                  char *note) {
    CNNK_TRY(cnnk_dnn_conv_pd_algo(&h->c, d, NULL, NULL, bias, g->res >= 0, g->relu,
                                   g->relu_alpha, h->algo, pd, used, note, STEP_NOTE));
    if (h->concat != CNNK_ONEDNN_CONCAT_IN_PLACE) return CNNK_OK;
    const value *in = &h->values[root(h, node(h, g->head)->inputs[0])];
    const value *out = &h->values[g->out];
    const dnnl_memory_desc_t *dst = out->slot && g->res < 0 ? &out->slot_md : NULL;
    const dnnl_memory_desc_t *offers[3][2] = {{&in->md, dst}, {NULL, dst}, {&in->md, NULL}};
    for (int i = 0; i < 3; ++i) {
        if (!dst && i < 2) continue; /* no slice: only the src offer */
        dnnl_primitive_desc_t p = NULL;
        cnnk_onednn_algo u;
        char why[STEP_NOTE];
        if (cnnk_dnn_conv_pd_algo(&h->c, d, offers[i][0], offers[i][1], bias, g->res >= 0,
                                  g->relu, g->relu_alpha, h->algo, &p, &u, why,
                                  sizeof why) != CNNK_OK)
            continue;
        if (!is_ref(p) && u == *used) {
            dnnl_primitive_desc_destroy(*pd);
            *pd = p;
            snprintf(note, STEP_NOTE, "%s", why);
            return CNNK_OK;
        }
        dnnl_primitive_desc_destroy(p);
    }
    return CNNK_OK;
}

static cnnk_status emit_conv_with(cnnk_onednn_net *h, int gi, const cnnk_conv_desc *d,
                                  const conv_params *p, const char *name) {
    const group *g = &h->groups[gi];
    dnnl_primitive_desc_t pd = NULL;
    bool bias = node(h, g->head)->has_bias || g->bn >= 0;
    cnnk_onednn_algo used;
    char note[STEP_NOTE];
    CNNK_TRY(conv_pd_placed(h, g, d, bias, &pd, &used, note));
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    dnnl_memory_t src = NULL, dst = NULL;
    cnnk_status s = value_as(h, node(h, g->head)->inputs[0], smd, &src);
    if (s == CNNK_OK && g->res >= 0) s = residual_dst(h, gi, dmd, &dst);
    step *st = NULL;
    if (s == CNNK_OK) {
        s = new_step(h, pd, name, &st);
    } else {
        dnnl_primitive_desc_destroy(pd);
    }
    if (s != CNNK_OK) return s;
    st->conv = true;
    st->algo = used;
    snprintf(st->note, sizeof st->note, "%s", note);
    dnnl_memory_desc_t user;
    CNNK_TRY(cnnk_dnn_conv_wmd(&h->c, d, false, &user));
    arg(st, DNNL_ARG_SRC, src);
    CNNK_TRY(bind_weights(h, st, &user, p->w, bias ? p->b : NULL, d->oc));
    if (!dst) return new_dst(h, st, g->out);
    arg(st, DNNL_ARG_DST, dst);
    h->values[g->out].md = *dmd;
    h->values[g->out].mem = dst;
    return CNNK_OK;
}

static void group_name(const cnnk_onednn_net *h, const group *g, char *buf, size_t len) {
    snprintf(buf, len, "%s%s%s%s", node(h, g->head)->name, g->bn >= 0 ? "+bn" : "",
             g->res >= 0 ? "+sum" : "",
             !g->relu ? "" : g->relu_alpha != 0.0f ? "+leaky" : "+relu");
}

/* A convolution of a column of patches (cnnk_conv_patch_column: an R-CNN
 * head's fully connected layer over the regions stacked along h), which a
 * framework runs as an inner product over mb * ih / kh regions: oneDNN's
 * inner product on the same bytes. The NHWC stack of R kh x kw patches is
 * R NHWC images of kh x kw, and the R x oc rows of the product are the
 * NHWC column R x 1 x oc. Its weights are the convolution's OIHW, the
 * inner product's oihw. */
static cnnk_status emit_regions_fc(cnnk_onednn_net *h, int gi, const cnnk_conv_desc *d,
                                   const conv_params *p, const char *name) {
    const group *g = &h->groups[gi];
    const int in = node(h, g->head)->inputs[0];
    const cnnk_fc_desc fd = {.mb = d->mb * (d->ih / d->kh), .ic = d->ic, .ih = d->kh,
                             .iw = d->kw, .oc = d->oc};
    dnnl_memory_desc_t stack_md, src_md, col_md;
    dnnl_dims_t sdims = {d->mb, d->ic, d->ih, d->iw}, rdims = {fd.mb, d->ic, d->kh, d->kw};
    dnnl_dims_t cdims = {d->mb, d->oc, d->oh, d->ow};
    CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag, (&stack_md, 4, sdims, dnnl_f32, dnnl_nhwc));
    CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag, (&src_md, 4, rdims, dnnl_f32, dnnl_nhwc));
    CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag, (&col_md, 4, cdims, dnnl_f32, dnnl_nhwc));
    dnnl_memory_t stack = NULL, src = NULL, dst = NULL, col = NULL;
    CNNK_TRY(value_as(h, in, &stack_md, &stack));
    if (stack == h->in_mem) /* its handle is the caller's, set per run */
        return emit_conv_with(h, gi, d, p, name);
    void *base = NULL;
    CNNK_DNN(&h->c, dnnl_memory_get_data_handle, (stack, &base));
    CNNK_TRY(new_mem(h, &src_md, base, &src));
    const bool bias = node(h, g->head)->has_bias || g->bn >= 0;
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_fc_pd(&h->c, &fd, 4, &src_md, bias, g->relu, g->relu_alpha, &pd));
    step *st = NULL;
    CNNK_TRY(new_step(h, pd, name, &st));
    snprintf(st->note, sizeof st->note, "inner product over %lld regions",
             (long long)fd.mb);
    dnnl_memory_desc_t user;
    CNNK_TRY(cnnk_dnn_fc_wmd(&h->c, &fd, 4, false, &user));
    arg(st, DNNL_ARG_SRC, src);
    CNNK_TRY(bind_weights(h, st, &user, p->w, bias ? p->b : NULL, d->oc));
    CNNK_TRY(new_mem(h, query(st, dnnl_query_dst_md, 0), DNNL_MEMORY_ALLOCATE, &dst));
    arg(st, DNNL_ARG_DST, dst);
    CNNK_DNN(&h->c, dnnl_memory_get_data_handle, (dst, &base));
    CNNK_TRY(new_mem(h, &col_md, base, &col));
    h->values[g->out].md = col_md;
    h->values[g->out].mem = col;
    return CNNK_OK;
}

/* A convolution, or a transposed one (oneDNN's deconvolution) with the
 * crop the runner folds into its padding folded the same way (oneDNN takes
 * any padding on each side). */
static cnnk_status emit_conv(cnnk_onednn_net *h, int gi, const char *name) {
    const group *g = &h->groups[gi];
    const cnnk_fused f = {.head = g->head, .out = g->out, .bn = g->bn, .residual = g->res,
                          .crop = g->crop};
    cnnk_conv_desc d = cnnk_fused_desc(h->net, &f).u.conv;
    CNNK_TRY(cnnk_conv_check(&d, h->c.err));
    conv_params p = {NULL, NULL};
    cnnk_status s = conv_params_of(h, g, &d, &p);
    /* more than one patch per image: a 1x1 on a single pixel stays a conv */
    if (s == CNNK_OK && cnnk_conv_patch_column(&d) && d.ih > d.kh && g->res < 0)
        s = emit_regions_fc(h, gi, &d, &p, name);
    else if (s == CNNK_OK)
        s = emit_conv_with(h, gi, &d, &p, name);
    free(p.w);
    free(p.b);
    return s;
}

static dnnl_format_tag_t act_tag(const dnnl_memory_desc_t *md);

/* A crop no producer absorbed: a reorder from the window (a submemory of
 * the input's value, in its layout) into a dense tensor of that layout. */
static cnnk_status emit_crop(cnnk_onednn_net *h, const group *g, const char *name) {
    const cnnk_node *n = node(h, g->head);
    const int in = root(h, n->inputs[0]);
    const value *v = &h->values[in];
    if (in == 0 || !v->mem)
        return cnnk_fail(h->c.err, CNNK_EUNSUPPORTED, "%s: a crop of the network input", name);
    dnnl_dims_t dims = {cnnk_net_node_batch(h->net, n), n->c, n->h, n->w};
    dnnl_dims_t offs = {0, 0, n->crop_top, n->crop_left};
    dnnl_memory_desc_t sub, dmd;
    CNNK_DNN(&h->c, dnnl_memory_desc_init_submemory, (&sub, &v->md, dims, offs));
    dnnl_format_tag_t tag = act_tag(&v->md);
    CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag,
             (&dmd, 4, dims, dnnl_f32, tag == dnnl_format_tag_undef ? dnnl_nhwc : tag));
    void *base = NULL;
    CNNK_DNN(&h->c, dnnl_memory_get_data_handle, (v->mem, &base));
    dnnl_memory_t from = NULL, to = NULL;
    CNNK_TRY(new_mem(h, &sub, base, &from));
    CNNK_TRY(new_mem(h, &dmd, DNNL_MEMORY_ALLOCATE, &to));
    CNNK_TRY(add_reorder(h, &sub, from, &dmd, to, name));
    h->steps[h->nsteps - 1].role = "other";
    h->values[g->out].md = dmd;
    h->values[g->out].mem = to;
    return CNNK_OK;
}

/* A step of one src whose dst takes the src's layout (eltwise, LRN, BN,
 * softmax): pd was built on the src value's layout. */
static cnnk_status emit_same_layout(cnnk_onednn_net *h, const group *g,
                                    dnnl_primitive_desc_t pd, const char *name) {
    step *st = NULL;
    CNNK_TRY(new_step(h, pd, name, &st));
    arg(st, DNNL_ARG_SRC, h->values[root(h, node(h, g->head)->inputs[0])].mem);
    return new_dst(h, st, g->out);
}

static const value *input_value(const cnnk_onednn_net *h, const group *g, int k) {
    return &h->values[root(h, node(h, g->head)->inputs[k])];
}

static cnnk_status emit_bnorm(cnnk_onednn_net *h, const group *g, const char *name) {
    const cnnk_node *n = node(h, g->head);
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_bnorm_pd(&h->c, &n->desc.u.bnorm, &input_value(h, g, 0)->md, g->relu,
                               g->relu_alpha, &pd));
    CNNK_TRY(emit_same_layout(h, g, pd, name));
    step *st = &h->steps[h->nsteps - 1];
    const int which[4] = {DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_SCALE, DNNL_ARG_SHIFT};
    for (int k = 0; k < 4; ++k) {
        if (!n->bn[k]) return cnnk_fail(h->c.err, CNNK_EINVAL, "%s: no parameters", n->name);
        dnnl_memory_t m = NULL;
        CNNK_TRY(param_mem(h, n->bn[k], n->desc.u.bnorm.c, &m));
        arg(st, which[k], m);
    }
    return CNNK_OK;
}

static cnnk_status emit_relu(cnnk_onednn_net *h, const group *g, const char *name) {
    dnnl_primitive_desc_t pd = NULL;
    /* a RELU node's alpha is 0; a LEAKY_RELU node's its slope */
    const float alpha = node(h, g->head)->desc.u.eltwise.alpha;
    CNNK_TRY(cnnk_dnn_relu_pd(&h->c, &input_value(h, g, 0)->md, alpha, &pd));
    return emit_same_layout(h, g, pd, name);
}

static cnnk_status emit_lrn(cnnk_onednn_net *h, const group *g, const char *name) {
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_lrn_pd(&h->c, &node(h, g->head)->desc.u.lrn, &input_value(h, g, 0)->md,
                             &pd));
    return emit_same_layout(h, g, pd, name);
}

static cnnk_status emit_softmax(cnnk_onednn_net *h, const group *g, const char *name) {
    const dnnl_memory_desc_t *md = &input_value(h, g, 0)->md;
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_softmax_pd(&h->c, md, md, &pd));
    return emit_same_layout(h, g, pd, name);
}

/* oneDNN's resampling_linear is align_corners=False's half-pixel rule; the
 * dst keeps whatever layout oneDNN picks for the src's (format any). */
static cnnk_status emit_resize(cnnk_onednn_net *h, const group *g, const char *name) {
    const cnnk_resize_desc *d = &node(h, g->head)->desc.u.resize;
    if (d->align_corners)
        return cnnk_fail(h->c.err, CNNK_EUNSUPPORTED,
                         "%s: oneDNN's resampling has no align_corners=True", h->c.layer);
    const int64_t dims[4] = {d->mb, d->c, d->oh, d->ow};
    dnnl_memory_desc_t dmd;
    CNNK_TRY(cnnk_dnn_tag_md(&h->c, &dmd, 4, dims, dnnl_format_tag_any));
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_resampling_pd(&h->c, &input_value(h, g, 0)->md, &dmd, &pd));
    return emit_same_layout(h, g, pd, name);
}

static cnnk_status emit_add(cnnk_onednn_net *h, const group *g, const char *name) {
    const cnnk_node *n = node(h, g->head);
    const dnnl_memory_desc_t *md = &input_value(h, g, 0)->md;
    dnnl_memory_t b = NULL;
    CNNK_TRY(value_as(h, n->inputs[1], md, &b));
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_add_pd(&h->c, md, md, md, g->relu, g->relu_alpha, &pd));
    step *st = NULL;
    CNNK_TRY(new_step(h, pd, name, &st));
    arg(st, DNNL_ARG_SRC_0, input_value(h, g, 0)->mem);
    arg(st, DNNL_ARG_SRC_1, b);
    return new_dst(h, st, g->out);
}

static cnnk_status emit_pool(cnnk_onednn_net *h, const group *g, const char *name) {
    cnnk_pool_desc d = node(h, g->head)->desc.u.pool;
    CNNK_TRY(cnnk_pool_check(&d, h->c.err));
    dnnl_primitive_desc_t pd = NULL;
    const value *out = &h->values[g->out];
    /* a concat slice's layout where an optimized pooling takes it */
    if (out->slot &&
        cnnk_dnn_pool_pd(&h->c, &d, &input_value(h, g, 0)->md, &out->slot_md, &pd) == CNNK_OK &&
        is_ref(pd)) {
        dnnl_primitive_desc_destroy(pd);
        pd = NULL;
    }
    if (!pd) CNNK_TRY(cnnk_dnn_pool_pd(&h->c, &d, &input_value(h, g, 0)->md, NULL, &pd));
    step *st = NULL;
    CNNK_TRY(new_step(h, pd, name, &st));
    arg(st, DNNL_ARG_SRC, input_value(h, g, 0)->mem);
    return new_dst(h, st, g->out);
}

static cnnk_status emit_fc(cnnk_onednn_net *h, const group *g, const char *name) {
    const cnnk_node *n = node(h, g->head);
    const cnnk_fc_desc *d = &n->desc.u.fc;
    int nd = input_value(h, g, 0)->md.ndims;
    if (!n->weights) return cnnk_fail(h->c.err, CNNK_EINVAL, "%s: no weights", n->name);
    bool bias = n->has_bias && n->bias;
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_fc_pd(&h->c, d, nd, NULL, bias, g->relu, g->relu_alpha, &pd));
    dnnl_memory_t src = NULL;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    cnnk_status s = value_as(h, n->inputs[0], smd, &src);
    if (s != CNNK_OK) {
        dnnl_primitive_desc_destroy(pd);
        return s;
    }
    step *st = NULL;
    CNNK_TRY(new_step(h, pd, name, &st));
    dnnl_memory_desc_t user;
    CNNK_TRY(cnnk_dnn_fc_wmd(&h->c, d, nd, false, &user));
    arg(st, DNNL_ARG_SRC, src);
    CNNK_TRY(bind_weights(h, st, &user, n->weights, bias ? n->bias : NULL, d->oc));
    return new_dst(h, st, g->out);
}

/* The format tag md is in, among the activation layouts oneDNN's
 * convolutions choose; dnnl_format_tag_undef for any other. */
static dnnl_format_tag_t act_tag(const dnnl_memory_desc_t *md) {
    static const dnnl_format_tag_t tags[] = {dnnl_acdb, dnnl_aBcd16b, dnnl_aBcd8b, dnnl_abcd};
    for (size_t i = 0; md->ndims == 4 && i < sizeof tags / sizeof tags[0]; ++i) {
        dnnl_memory_desc_t t;
        if (dnnl_memory_desc_init_by_tag(&t, 4, md->dims, dnnl_f32, tags[i]) == dnnl_success &&
            dnnl_memory_desc_equal(&t, md))
            return tags[i];
    }
    return dnnl_format_tag_undef;
}

/* Concat's inputs in one layout, the first input's: oneDNN 2.6 has only its
 * reference concat ("ref:any", several times slower) for inputs of mixed
 * layouts, which a Winograd network meets wherever a Winograd branch
 * (nChw16c) joins a direct one (nhwc). The other inputs are reordered into
 * that layout (a timed step each, as a framework would insert). */
static cnnk_status concat_inputs(cnnk_onednn_net *h, const cnnk_node *n,
                                 dnnl_memory_desc_t *smd, dnnl_memory_t *mem) {
    const value *first = &h->values[root(h, n->inputs[0])];
    dnnl_format_tag_t tag = act_tag(&first->md);
    for (int k = 0; k < n->ninputs; ++k) {
        const value *v = &h->values[root(h, n->inputs[k])];
        smd[k] = v->md;
        mem[k] = v->mem;
        if (k == 0 || tag == dnnl_format_tag_undef || act_tag(&v->md) == tag) continue;
        CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag, (&smd[k], 4, v->md.dims, dnnl_f32, tag));
        CNNK_TRY(value_as(h, n->inputs[k], &smd[k], &mem[k]));
    }
    return CNNK_OK;
}

static int64_t md_bytes(const dnnl_memory_desc_t *md) {
    return (int64_t)dnnl_memory_desc_get_size(md);
}

/* An in-place concat is no primitive: its value is its buffer (or its
 * slice of a wider one), and only the inputs whose producers could not
 * write into their slices are copied there. */
static cnnk_status emit_concat_in_place(cnnk_onednn_net *h, const group *g) {
    const cnnk_node *n = node(h, g->head);
    for (int k = 0; k < n->ninputs; ++k) {
        const int x = root(h, n->inputs[k]);
        value *v = &h->values[x];
        if (v->mem == v->slot_mem) continue;
        CNNK_TRY(add_reorder(h, &v->md, v->mem, &v->slot_md, v->slot_mem, node(h, x)->name));
        h->steps[h->nsteps - 1].role = "concat";
        h->copy_bytes += md_bytes(&v->slot_md);
    }
    value *c = &h->values[g->out];
    c->md = c->slot_md;
    c->mem = c->slot_mem;
    return CNNK_OK;
}

static cnnk_status emit_concat(cnnk_onednn_net *h, const group *g, const char *name) {
    const cnnk_node *n = node(h, g->head);
    if (h->values[g->out].in_place) return emit_concat_in_place(h, g);
    dnnl_memory_desc_t smd[CNNK_CONCAT_MAX_INPUTS], dmd;
    dnnl_memory_t mem[CNNK_CONCAT_MAX_INPUTS];
    CNNK_TRY(concat_inputs(h, n, smd, mem));
    int64_t dims[4] = {cnnk_net_node_batch(h->net, n), n->c, n->h, n->w};
    if (h->values[g->out].slot) /* a copy, but into its slice of a wider concat */
        dmd = h->values[g->out].slot_md;
    else
        CNNK_TRY(cnnk_dnn_tag_md(&h->c, &dmd, 4, dims, dnnl_format_tag_any));
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_concat_pd(&h->c, n->ninputs, smd, &dmd, &pd));
    step *st = NULL;
    CNNK_TRY(new_step(h, pd, name, &st));
    for (int k = 0; k < n->ninputs; ++k) arg(st, DNNL_ARG_MULTIPLE_SRC + k, mem[k]);
    st->role = "concat";
    h->copy_bytes += md_bytes(query(st, dnnl_query_dst_md, 0));
    return new_dst(h, st, g->out);
}

/* ---- in-place concats ----------------------------------------------------------- */

/* Whether value x can be written straight into a concat slice: the output
 * of a convolution without a residual, of a pooling, or of a concat
 * (itself made in place or copied into the slice). */
static bool writable(const cnnk_onednn_net *h, int x) {
    if (x <= 0 || h->producer[x] < 0 || h->values[x].slot) return false;
    const group *g = &h->groups[h->producer[x]];
    switch (node(h, g->head)->op) {
    case CNNK_NODE_CONV: return g->res < 0;
    case CNNK_NODE_POOL:
    case CNNK_NODE_CONCAT: return true;
    default: return false;
    }
}

/* Concat c can be in place when every input is writable, listed once, and
 * its channels a multiple of the block, at batch 1 (a block-aligned slice
 * of an nChw<B>c tensor is then a dense nChw<B>c tensor). */
static bool concat_fits(const cnnk_onednn_net *h, int c) {
    const cnnk_node *n = node(h, c);
    if (cnnk_net_node_batch(h->net, n) != 1) return false;
    for (int k = 0; k < n->ninputs; ++k) {
        const int x = root(h, n->inputs[k]);
        for (int j = 0; j < k; ++j)
            if (root(h, n->inputs[j]) == x) return false;
        if (!writable(h, x) || node(h, x)->c % h->block != 0) return false;
    }
    return true;
}

/* x's slice of the buffer at base, channels from off: a dense tensor of
 * the block layout. */
static cnnk_status make_slot(cnnk_onednn_net *h, int x, float *base, int64_t off) {
    const cnnk_node *n = node(h, x);
    value *v = &h->values[x];
    int64_t dims[4] = {1, n->c, n->h, n->w};
    CNNK_TRY(cnnk_dnn_tag_md(&h->c, &v->slot_md, 4, dims, h->block_tag));
    CNNK_TRY(new_mem(h, &v->slot_md, base + off * n->h * n->w, &v->slot_mem));
    v->slot = true;
    return CNNK_OK;
}

/* Last concat first, as cnnk's runner places them: the widest buffer of a
 * DenseNet block is made before the earlier concats, which are its
 * prefixes, place their inputs in it. */
static cnnk_status place_concats(cnnk_onednn_net *h) {
    if (h->concat != CNNK_ONEDNN_CONCAT_IN_PLACE) return CNNK_OK;
    for (int c = h->net->n - 1; c > 0; --c) {
        if (node(h, c)->op != CNNK_NODE_CONCAT || root(h, c) != c || !concat_fits(h, c))
            continue;
        value *v = &h->values[c];
        if (!v->slot) {
            const cnnk_node *n = node(h, c);
            int64_t dims[4] = {1, n->c, n->h, n->w};
            CNNK_TRY(cnnk_dnn_tag_md(&h->c, &v->slot_md, 4, dims, h->block_tag));
            CNNK_TRY(new_mem(h, &v->slot_md, DNNL_MEMORY_ALLOCATE, &v->slot_mem));
            v->slot = true;
        }
        void *base = NULL;
        CNNK_DNN(&h->c, dnnl_memory_get_data_handle, (v->slot_mem, &base));
        int64_t off = 0;
        const cnnk_node *n = node(h, c);
        for (int k = 0; k < n->ninputs; ++k) {
            const int x = root(h, n->inputs[k]);
            CNNK_TRY(make_slot(h, x, base, off));
            off += node(h, x)->c;
        }
        v->in_place = true;
    }
    return CNNK_OK;
}

static void choose_block(cnnk_onednn_net *h) {
    bool avx512 = strncmp(cnnk_onednn_max_isa_name(), "avx512", 6) == 0;
    h->block_tag = avx512 ? dnnl_nChw16c : dnnl_nChw8c;
    h->block = avx512 ? 16 : 8;
}

/* ---- host steps -------------------------------------------------------------- */

static const cnnk_op_kernel *ref_kernel(cnnk_layer_kind kind) {
    for (size_t i = 0; i < cnnk_op_kernel_count(); ++i) {
        const cnnk_op_kernel *k = cnnk_op_kernel_at(i);
        if (k->isa == CNNK_ISA_REF && k->kind == kind) return k;
    }
    return NULL;
}

/* Node x's value as a plain NHWC buffer the host reads. */
static cnnk_status host_input(cnnk_onednn_net *h, int x, const float **p) {
    const cnnk_node *n = node(h, root(h, x));
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {cnnk_net_node_batch(h->net, n), n->c, n->h, n->w};
    /* An inner product's value is 2-D (mb x c): its plain nc is NHWC's
     * bytes at 1 x 1, and a reorder to 4-D would be refused. */
    const bool flat = h->values[root(h, x)].md.ndims == 2 && n->h == 1 && n->w == 1;
    CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag,
             (&md, flat ? 2 : 4, dims, dnnl_f32, flat ? dnnl_nc : dnnl_nhwc));
    dnnl_memory_t m = NULL;
    CNNK_TRY(value_as(h, x, &md, &m));
    if (m == h->in_mem) { /* the caller's buffer, known at each forward (R-CNN's warp) */
        *p = NULL;
        return CNNK_OK;
    }
    void *base = NULL;
    CNNK_DNN(&h->c, dnnl_memory_get_data_handle, (m, &base));
    *p = base;
    return CNNK_OK;
}

static cnnk_status emit_host(cnnk_onednn_net *h, const group *g, const char *name) {
    const cnnk_node *n = node(h, g->head);
    const cnnk_op_kernel *k = ref_kernel(n->desc.kind);
    if (!k || g->bn >= 0 || g->res >= 0)
        return cnnk_fail(h->c.err, CNNK_EUNSUPPORTED, "%s: no oneDNN primitive and no host step "
                                                      "for op %s",
                         h->c.layer, cnnk_node_op_name(n->op));
    host_op *op = calloc(1, sizeof *op);
    if (!op) return cnnk_fail(h->c.err, CNNK_ENOMEM, "onednn net: out of memory");
    /* The inputs first: a value not yet in NHWC gets its reorder step
     * here, and that step must come before the host step in the run
     * order. (Taken after it, the host read the reorder's buffer before
     * it was written: wrong and uninitialised results wherever oneDNN's
     * convolution left a blocked layout, as on AVX2-only CPUs.) */
    cnnk_status s = CNNK_OK;
    for (int i = 0; i < n->ninputs && s == CNNK_OK; ++i) {
        s = host_input(h, n->inputs[i], &op->a.src[i]);
        op->from_input[i] = !op->a.src[i];
        op->a.src_ld[i] = node(h, root(h, n->inputs[i]))->c;
    }
    char full[STEP_NAME];
    snprintf(full, sizeof full, "%.*s (host)", (int)(sizeof full - 8), name);
    step *st = NULL;
    if (s == CNNK_OK) s = new_step(h, NULL, full, &st);
    if (s != CNNK_OK) {
        free(op);
        return s;
    }
    st->host = op;
    st->role = "host";
    op->k = k;
    op->l = n->desc;
    if (n->op == CNNK_NODE_BNORM)
        for (int i = 0; i < 4; ++i) op->a.params[i] = n->bn[i];
    else if (n->op == CNNK_NODE_FC || n->desc.kind == CNNK_LAYER_DECONV)
        op->a.params[0] = n->has_bias ? n->bias : NULL;
    else
        op->a.params[0] = n->weights; /* held data: a RoI pooling's proposals */
    const size_t np = k->packed_size ? k->packed_size(&op->l) : 0;
    const size_t nw = k->workspace_size ? k->workspace_size(&op->l, 1) : 0;
    op->packed = np ? aligned_alloc(64, (np * sizeof(float) + 63) / 64 * 64) : NULL;
    op->workspace = nw ? aligned_alloc(64, (nw * sizeof(float) + 63) / 64 * 64) : NULL;
    if ((np && !op->packed) || (nw && !op->workspace))
        return cnnk_fail(h->c.err, CNNK_ENOMEM, "onednn net: out of memory");
    if (np) k->pack(&op->l, n->weights, op->packed);
    op->a.packed = op->packed;
    op->a.workspace = op->workspace;
    op->a.relu = g->relu;
    op->a.relu_alpha = g->relu_alpha;
    op->a.nthreads = 1;
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {cnnk_net_node_batch(h->net, n), n->c, n->h, n->w};
    CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag, (&md, 4, dims, dnnl_f32, dnnl_nhwc));
    dnnl_memory_t m = NULL;
    CNNK_TRY(new_mem(h, &md, DNNL_MEMORY_ALLOCATE, &m));
    void *base = NULL;
    CNNK_DNN(&h->c, dnnl_memory_get_data_handle, (m, &base));
    op->a.dst = base;
    op->a.dst_ld = n->c;
    h->values[g->out].md = md;
    h->values[g->out].mem = m;
    return CNNK_OK;
}

static void host_run(const host_op *op, const float *input_nhwc) {
    cnnk_op_args a = op->a;
    for (int i = 0; i < CNNK_CONCAT_MAX_INPUTS; ++i)
        if (op->from_input[i]) a.src[i] = input_nhwc;
    op->k->run(&op->l, &a);
}

/* Batch-norm, ReLU and add steps: layers without a layer row of their own
 * in cnnk-bench (role "other"). */
static cnnk_status emit_group(cnnk_onednn_net *h, int gi) {
    const int first = h->nsteps;
    const cnnk_node_op op = node(h, h->groups[gi].head)->op;
    cnnk_status s = emit_layer(h, gi);
    if (op == CNNK_NODE_BNORM || op == CNNK_NODE_RELU || op == CNNK_NODE_LEAKY_RELU ||
        op == CNNK_NODE_ADD)
        for (int i = first; i < h->nsteps; ++i)
            if (!h->steps[i].role[0]) h->steps[i].role = "other";
    return s;
}

static cnnk_status emit_layer(cnnk_onednn_net *h, int gi) {
    const group *g = &h->groups[gi];
    char name[STEP_NAME];
    group_name(h, g, name, sizeof name);
    h->c.layer = node(h, g->head)->name;
    switch (node(h, g->head)->op) {
    case CNNK_NODE_CONV: return emit_conv(h, gi, name);
    case CNNK_NODE_BNORM: return emit_bnorm(h, g, name);
    case CNNK_NODE_RELU:
    case CNNK_NODE_LEAKY_RELU: return emit_relu(h, g, name);
    case CNNK_NODE_POOL: return emit_pool(h, g, name);
    case CNNK_NODE_LRN: return emit_lrn(h, g, name);
    case CNNK_NODE_FC: return emit_fc(h, g, name);
    case CNNK_NODE_CONCAT: return emit_concat(h, g, name);
    case CNNK_NODE_ADD: return emit_add(h, g, name);
    case CNNK_NODE_SOFTMAX: return emit_softmax(h, g, name);
    case CNNK_NODE_DECONV: return emit_conv(h, gi, name);
    case CNNK_NODE_CROP: return emit_crop(h, g, name);
    case CNNK_NODE_RESIZE: return emit_resize(h, g, name);
    case CNNK_NODE_INPUT:
    case CNNK_NODE_DROPOUT:
    case CNNK_NODE_OP_COUNT: break;
    /* A kind oneDNN has no primitive for (region pooling, the detection
     * steps): cnnk's reference kernel on the peer's tensors, the same code
     * on both sides (emit_host fails for a kind without one). */
    default: return emit_host(h, g, name);
    }
    return cnnk_fail(h->c.err, CNNK_EUNSUPPORTED, "%s: no oneDNN primitive for op %s",
                     h->c.layer, cnnk_node_op_name(node(h, g->head)->op));
}

/* ---- input, output, scratchpad ---------------------------------------------------- */

/* The network input arrives NHWC; its memory gets the caller's pointer at
 * each forward. */
static cnnk_status bind_input(cnnk_onednn_net *h) {
    const cnnk_net *net = h->net;
    dnnl_dims_t dims = {net->mb, net->c, net->h, net->w};
    value *v = &h->values[0];
    CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag, (&v->md, 4, dims, dnnl_f32, dnnl_nhwc));
    CNNK_TRY(new_mem(h, &v->md, DNNL_MEMORY_NONE, &h->in_mem));
    v->mem = h->in_mem;
    return CNNK_OK;
}

/* The last value reordered into the caller's plain buffer: mb x classes
 * (or NHWC for a network ending on a spatial tensor). */
static cnnk_status bind_output(cnnk_onednn_net *h) {
    int last = root(h, h->net->n - 1);
    const value *v = &h->values[last];
    const cnnk_node *n = node(h, last);
    dnnl_memory_desc_t md;
    const int64_t mb = cnnk_net_node_batch(h->net, n);
    if (v->md.ndims == 2) {
        dnnl_dims_t dims = {mb, n->c};
        CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag, (&md, 2, dims, dnnl_f32, dnnl_nc));
    } else {
        dnnl_dims_t dims = {mb, n->c, n->h, n->w};
        CNNK_DNN(&h->c, dnnl_memory_desc_init_by_tag, (&md, 4, dims, dnnl_f32, dnnl_nhwc));
    }
    h->out_elems = mb * n->c * n->h * n->w;
    CNNK_TRY(new_mem(h, &md, DNNL_MEMORY_NONE, &h->out_mem));
    h->c.layer = "output";
    return add_reorder(h, &v->md, v->mem, &md, h->out_mem, n->name);
}

/* One scratchpad buffer shared by every step: they run one after another. */
static cnnk_status bind_scratch(cnnk_onednn_net *h) {
    size_t most = 0;
    for (int i = 0; i < h->nsteps; ++i) {
        if (!h->steps[i].pd) continue;
        size_t b = cnnk_dnn_scratch_bytes(h->steps[i].pd);
        if (b > most) most = b;
    }
    if (most == 0) return CNNK_OK;
    h->scratch = aligned_alloc(64, (most + 63) / 64 * 64);
    if (!h->scratch) return cnnk_fail(h->c.err, CNNK_ENOMEM, "onednn net: no scratchpad");
    for (int i = 0; i < h->nsteps; ++i) {
        step *s = &h->steps[i];
        if (!s->pd || cnnk_dnn_scratch_bytes(s->pd) == 0) continue;
        dnnl_memory_t m = NULL;
        CNNK_TRY(new_mem(h, query(s, dnnl_query_scratchpad_md, 0), h->scratch, &m));
        arg(s, DNNL_ARG_SCRATCHPAD, m);
    }
    return CNNK_OK;
}

/* ---- public ------------------------------------------------------------------------- */

static void free_plan(cnnk_onednn_net *h) {
    free(h->alias), free(h->last_reader), free(h->producer);
    free(h->groups), free(h->values);
    h->alias = h->last_reader = h->producer = NULL;
    h->groups = NULL, h->values = NULL;
}

void cnnk_onednn_net_destroy(cnnk_onednn_net *h) {
    if (!h) return;
    for (int i = 0; i < h->nsteps; ++i) {
        if (h->steps[i].prim) dnnl_primitive_destroy(h->steps[i].prim);
        if (h->steps[i].pd) dnnl_primitive_desc_destroy(h->steps[i].pd);
        if (h->steps[i].host) {
            free(h->steps[i].host->packed), free(h->steps[i].host->workspace);
            free(h->steps[i].host);
        }
    }
    for (int i = 0; i < h->nmems; ++i) dnnl_memory_destroy(h->mems[i]);
    free(h->steps), free(h->mems), free(h->scratch);
    free_plan(h);
    cnnk_dnn_close(&h->c);
    free(h);
}

static cnnk_status plan_alloc(cnnk_onednn_net *h) {
    size_t n = (size_t)h->net->n;
    h->alias = calloc(n, sizeof(int));
    h->last_reader = calloc(n, sizeof(int));
    h->producer = calloc(n, sizeof(int));
    h->groups = calloc(n, sizeof(group));
    h->values = calloc(n, sizeof(value));
    if (!h->alias || !h->last_reader || !h->producer || !h->groups || !h->values)
        return cnnk_fail(h->c.err, CNNK_ENOMEM, "onednn net: out of memory");
    return CNNK_OK;
}

static cnnk_status build(cnnk_onednn_net *h) {
    h->c.layer = h->net->name;
    CNNK_TRY(cnnk_dnn_open(&h->c));
    CNNK_TRY(plan_alloc(h));
    CNNK_TRY(fuse(h));
    order_groups(h);
    CNNK_TRY(bind_input(h));
    choose_block(h);
    CNNK_TRY(place_concats(h));
    for (int g = 0; g < h->ngroups; ++g) CNNK_TRY(emit_group(h, g));
    CNNK_TRY(bind_output(h));
    return bind_scratch(h);
}

cnnk_status cnnk_onednn_net_create(const cnnk_net *net, int nthreads, cnnk_onednn_algo algo,
                                   cnnk_onednn_net **out, cnnk_error *err) {
    const cnnk_onednn_net_opts opts = {algo, CNNK_ONEDNN_CONCAT_COPY, false};
    return cnnk_onednn_net_create_ex(net, nthreads, &opts, out, err);
}

cnnk_status cnnk_onednn_net_create_ex(const cnnk_net *net, int nthreads,
                                      const cnnk_onednn_net_opts *opts, cnnk_onednn_net **out,
                                      cnnk_error *err) {
    if (!out) return cnnk_fail(err, CNNK_EINVAL, "onednn net: out is NULL");
    *out = NULL;
    if (!net || net->n < 2) return cnnk_fail(err, CNNK_EINVAL, "onednn net: empty network");
    if (!opts) return cnnk_fail(err, CNNK_EINVAL, "onednn net: opts is NULL");
    if ((unsigned)opts->algo >= CNNK_ONEDNN_ALGO_COUNT)
        return cnnk_fail(err, CNNK_EINVAL, "onednn net: unknown algorithm %d", (int)opts->algo);
    if ((unsigned)opts->concat >= CNNK_ONEDNN_CONCAT_COUNT)
        return cnnk_fail(err, CNNK_EINVAL, "onednn net: unknown concat strategy %d",
                         (int)opts->concat);
    CNNK_TRY(cnnk_net_status(net, err));
    cnnk_onednn_net *h = calloc(1, sizeof *h);
    if (!h) return cnnk_fail(err, CNNK_ENOMEM, "onednn net: out of memory");
    h->c.err = err;
    h->c.user_scratchpad = true; /* forward() must not allocate: it is timed */
    h->net = net;
    h->nthreads = nthreads;
    h->algo = opts->algo;
    h->concat = opts->concat;
    h->unfused = opts->unfused;
    /* oneDNN sizes its thread partitioning when a primitive is created */
    cnnk_onednn_set_threads(nthreads);
    cnnk_status s = build(h);
    free_plan(h);
    h->net = NULL;
    h->c.err = &h->quiet;
    h->c.layer = "onednn net";
    if (s != CNNK_OK) {
        cnnk_onednn_net_destroy(h);
        return s;
    }
    *out = h;
    return CNNK_OK;
}

/* A forward pass; ms: NULL, or each step waited for and timed into ms[i]. */
static cnnk_status run_steps(cnnk_onednn_net *h, const float *input_nhwc, float *output,
                             double *ms) {
    if (!h || !input_nhwc || !output) return CNNK_EINVAL;
    cnnk_onednn_set_threads(h->nthreads);
    if (dnnl_memory_set_data_handle(h->in_mem, (void *)input_nhwc) != dnnl_success ||
        dnnl_memory_set_data_handle(h->out_mem, output) != dnnl_success)
        return CNNK_EONEDNN;
    for (int i = 0; i < h->nsteps; ++i) {
        step *s = &h->steps[i];
        struct timespec t0, t1;
        if (ms) clock_gettime(CLOCK_MONOTONIC, &t0);
        if (s->host) {
            /* the host reads what the primitives before it wrote */
            if (dnnl_stream_wait(h->c.strm) != dnnl_success) return CNNK_EONEDNN;
            host_run(s->host, input_nhwc);
        } else if (dnnl_primitive_execute(s->prim, h->c.strm, s->nargs, s->args) !=
                   dnnl_success) {
            return CNNK_EONEDNN;
        }
        if (!ms) continue;
        if (dnnl_stream_wait(h->c.strm) != dnnl_success) return CNNK_EONEDNN;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
    }
    return dnnl_stream_wait(h->c.strm) == dnnl_success ? CNNK_OK : CNNK_EONEDNN;
}

cnnk_status cnnk_onednn_net_forward(cnnk_onednn_net *h, const float *input_nhwc,
                                    float *output) {
    return run_steps(h, input_nhwc, output, NULL);
}

cnnk_status cnnk_onednn_net_profile(cnnk_onednn_net *h, const float *input_nhwc, float *output,
                                    double *ms) {
    return ms ? run_steps(h, input_nhwc, output, ms) : CNNK_EINVAL;
}

int64_t cnnk_onednn_net_output_elems(const cnnk_onednn_net *h) { return h ? h->out_elems : 0; }

int64_t cnnk_onednn_net_concat_copy_bytes(const cnnk_onednn_net *h) {
    return h ? h->copy_bytes : 0;
}

int cnnk_onednn_net_prim_count(const cnnk_onednn_net *h) { return h ? h->nsteps : 0; }

const char *cnnk_onednn_net_prim_name(const cnnk_onednn_net *h, int i) {
    return h && i >= 0 && i < h->nsteps ? h->steps[i].name : NULL;
}

const char *cnnk_onednn_net_prim_impl(const cnnk_onednn_net *h, int i) {
    if (!h || i < 0 || i >= h->nsteps) return NULL;
    return h->steps[i].host ? h->steps[i].host->k->name : cnnk_dnn_impl(h->steps[i].pd);
}

int cnnk_onednn_net_host_steps(const cnnk_onednn_net *h, char *buf, size_t len) {
    int n = 0;
    size_t used = 0;
    if (len) buf[0] = '\0';
    for (int i = 0; h && i < h->nsteps; ++i) {
        if (!h->steps[i].host) continue;
        const char *name = cnnk_layer_name(&h->steps[i].host->l);
        int m = snprintf(buf + used, len > used ? len - used : 0, "%s%s", n ? "," : "", name);
        if (m > 0 && used + (size_t)m < len) used += (size_t)m;
        ++n;
    }
    return n;
}

const char *cnnk_onednn_net_prim_algo(const cnnk_onednn_net *h, int i) {
    if (!h || i < 0 || i >= h->nsteps) return NULL;
    return h->steps[i].conv ? cnnk_onednn_algo_name(h->steps[i].algo) : "";
}

const char *cnnk_onednn_net_prim_role(const cnnk_onednn_net *h, int i) {
    return h && i >= 0 && i < h->nsteps ? h->steps[i].role : NULL;
}

const char *cnnk_onednn_net_prim_note(const cnnk_onednn_net *h, int i) {
    return h && i >= 0 && i < h->nsteps ? h->steps[i].note : NULL;
}

int cnnk_onednn_net_conv_count(const cnnk_onednn_net *h, cnnk_onednn_algo a) {
    int n = 0;
    for (int i = 0; h && i < h->nsteps; ++i) n += h->steps[i].conv && h->steps[i].algo == a;
    return n;
}

#endif
