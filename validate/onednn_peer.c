/* oneDNN as the performance peer: settings and the one-layer handle; see
 * validate/onednn_peer.h. The primitives come from validate/onednn_prim.c,
 * as the checker's do: this file chooses their layouts (oneDNN's own) and
 * owns their buffers. */
#include "validate/onednn_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <omp.h>

void cnnk_onednn_set_threads(int n) {
    if (n >= 1) omp_set_num_threads(n);
}

static const char *const algo_names[CNNK_ONEDNN_ALGO_COUNT] = {"direct", "winograd", "auto"};

const char *cnnk_onednn_algo_name(cnnk_onednn_algo a) {
    return (unsigned)a < CNNK_ONEDNN_ALGO_COUNT ? algo_names[a] : "?";
}

const char *cnnk_onednn_concat_name(cnnk_onednn_concat_mode c) {
    return c == CNNK_ONEDNN_CONCAT_COPY ? "copy" : c == CNNK_ONEDNN_CONCAT_IN_PLACE ? "inplace" : "?";
}

cnnk_status cnnk_onednn_algo_parse(const char *s, cnnk_onednn_algo *a, cnnk_error *err) {
    for (int i = 0; s && i < CNNK_ONEDNN_ALGO_COUNT; ++i)
        if (strcmp(s, algo_names[i]) == 0) return *a = (cnnk_onednn_algo)i, CNNK_OK;
    return cnnk_fail(err, CNNK_EINVAL,
                     "unknown oneDNN convolution algorithm '%.64s' (valid: direct, winograd, auto)",
                     s ? s : "");
}

#if defined(CNNK_HAVE_ONEDNN) && CNNK_HAVE_ONEDNN

#include <dnnl_debug.h>

#include "validate/onednn.h"
#include "validate/onednn_prim.h"

/* ---- settings ------------------------------------------------------------ */

static const struct {
    const char *name;
    dnnl_cpu_isa_t isa;
} isa_names[] = {
    {"all", dnnl_cpu_isa_all},
    {"sse41", dnnl_cpu_isa_sse41},
    {"avx", dnnl_cpu_isa_avx},
    {"avx2", dnnl_cpu_isa_avx2},
    {"avx2_vnni", dnnl_cpu_isa_avx2_vnni},
    {"avx512_mic", dnnl_cpu_isa_avx512_mic},
    {"avx512_mic_4ops", dnnl_cpu_isa_avx512_mic_4ops},
    {"avx512_core", dnnl_cpu_isa_avx512_core},
    {"avx512_core_vnni", dnnl_cpu_isa_avx512_core_vnni},
    {"avx512_core_bf16", dnnl_cpu_isa_avx512_core_bf16},
    {"avx512_core_amx", dnnl_cpu_isa_avx512_core_amx},
};
#define ISA_NAMES ((int)(sizeof isa_names / sizeof isa_names[0]))

const char *cnnk_onednn_isa_names(void) {
    return "all, sse41, avx, avx2, avx2_vnni, avx512_mic, avx512_mic_4ops, avx512_core, "
           "avx512_core_vnni, avx512_core_bf16, avx512_core_amx";
}

/* The names in any case: oneDNN's environment variable spells them in
 * capitals (DNNL_MAX_CPU_ISA=AVX512_CORE). */
cnnk_status cnnk_onednn_set_max_isa(const char *isa, cnnk_error *err) {
    for (int i = 0; isa && i < ISA_NAMES; ++i) {
        if (strcasecmp(isa, isa_names[i].name) != 0) continue;
        /* Whether oneDNN has settled its ISA already (a primitive, or a
         * query of the effective ISA): a second cap is then refused. */
        dnnl_status_t s = dnnl_set_max_cpu_isa(isa_names[i].isa);
        if (s == dnnl_success) return CNNK_OK;
        /* Both refusals are invalid_arguments: tell them apart by level. */
        if (isa_names[i].isa == dnnl_cpu_isa_avx512_mic ||
            isa_names[i].isa == dnnl_cpu_isa_avx512_mic_4ops)
            return cnnk_fail(err, CNNK_EONEDNN,
                             "onednn max isa %s: oneDNN %s refuses this level "
                             "(dnnl_set_max_cpu_isa: %s; 2.6 no longer takes the Xeon Phi "
                             "levels avx512_mic*)",
                             isa_names[i].name, cnnk_onednn_version(), dnnl_status2str(s));
        return cnnk_fail(err, CNNK_EONEDNN,
                         "onednn max isa %s: dnnl_set_max_cpu_isa failed (%s): it must be "
                         "called once, before oneDNN creates any primitive",
                         isa_names[i].name, dnnl_status2str(s));
    }
    return cnnk_fail(err, CNNK_EINVAL, "unknown oneDNN max isa '%.64s' (valid: %s)",
                     isa ? isa : "", cnnk_onednn_isa_names());
}

const char *cnnk_onednn_max_isa_name(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    /* "all" is a cap, never an effective ISA: skip it when naming one. */
    for (int i = 1; i < ISA_NAMES; ++i)
        if (isa_names[i].isa == isa) return isa_names[i].name;
    return "unknown";
}

bool cnnk_onednn_winograd_exists(void) {
    cnnk_error err;
    cnnk_dnn_ctx c = {.err = &err, .layer = "winograd probe"};
    cnnk_conv_desc d = {.g = 1, .mb = 1, .ic = 64, .ih = 56, .iw = 56, .oc = 64, .oh = 56,
                        .ow = 56, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .pt = 1, .pl = 1,
                        .pb = 1, .pr = 1, .dh = 1, .dw = 1};
    dnnl_primitive_desc_t pd = NULL;
    cnnk_onednn_algo used = CNNK_ONEDNN_DIRECT;
    if (cnnk_dnn_open(&c) == CNNK_OK &&
        cnnk_dnn_conv_pd_algo(&c, &d, NULL, NULL, true, false, true, 0.0f, CNNK_ONEDNN_WINOGRAD,
                              &pd, &used, NULL, 0) == CNNK_OK)
        dnnl_primitive_desc_destroy(pd);
    cnnk_dnn_close(&c);
    return used == CNNK_ONEDNN_WINOGRAD;
}

/* ---- one layer ------------------------------------------------------------ */

#define LAYER_ARGS (CNNK_CONCAT_MAX_INPUTS + 8)

struct cnnk_onednn_layer {
    cnnk_dnn_ctx c;
    cnnk_error scratch_err; /* where messages go after create */
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[LAYER_ARGS];
    char name[CNNK_NAME_LEN];
    cnnk_onednn_algo algo, used;
    char note[CNNK_ERROR_MSG_LEN];
    float *w_plain; /* the plain weights the primitive's were reordered from */
    size_t w_count;
};

void cnnk_onednn_layer_destroy(cnnk_onednn_layer *h) {
    if (!h) return;
    for (int i = 0; i < h->nargs; ++i) dnnl_memory_destroy(h->args[i].memory);
    if (h->prim) dnnl_primitive_destroy(h->prim);
    if (h->pd) dnnl_primitive_desc_destroy(h->pd);
    cnnk_dnn_close(&h->c);
    free(h->w_plain);
    free(h);
}

static cnnk_status add_arg(cnnk_onednn_layer *h, int arg, dnnl_memory_t m) {
    if (h->nargs == LAYER_ARGS) {
        dnnl_memory_destroy(m);
        return cnnk_fail(h->c.err, CNNK_EINVAL, "%s: too many arguments", h->c.layer);
    }
    h->args[h->nargs].arg = arg;
    h->args[h->nargs++].memory = m;
    return CNNK_OK;
}

/* Deterministic values in [-1, 1) with 1/64 steps, so sums stay exact-ish
 * and nothing overflows however often a sum post-op accumulates. */
static void fill_values(float *p, size_t n, unsigned seed) {
    uint32_t x = 2463534242u ^ (seed * 2654435761u);
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (float)((int)(x % 128u) - 64) / 64.0f;
    }
}

/* A memory of layout md holding deterministic data, reordered from a plain
 * buffer so that padding of a blocked layout is what oneDNN expects. */
static cnnk_status filled_memory_keep(cnnk_onednn_layer *h, const dnnl_memory_desc_t *md,
                                      unsigned seed, dnnl_memory_t *out, bool keep) {
    const cnnk_dnn_ctx *c = &h->c;
    dnnl_memory_desc_t plain;
    dnnl_format_tag_t tags[] = {dnnl_format_tag_undef, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd,
                                dnnl_abcde};
    if (md->ndims < 1 || md->ndims > 5)
        return cnnk_fail(c->err, CNNK_EINVAL, "%s: %d-D tensor", c->layer, md->ndims);
    CNNK_DNN(c, dnnl_memory_desc_init_by_tag,
             (&plain, md->ndims, md->dims, dnnl_f32, tags[md->ndims]));
    size_t bytes = dnnl_memory_desc_get_size(&plain);
    float *data = malloc(bytes ? bytes : sizeof(float));
    if (!data) return cnnk_fail(c->err, CNNK_ENOMEM, "%s: no memory for data", c->layer);
    fill_values(data, bytes / sizeof(float), seed);
    cnnk_status s = cnnk_dnn_reorder_into(c, &plain, data, md, out);
    if (keep && s == CNNK_OK) {
        h->w_plain = data;
        h->w_count = bytes / sizeof(float);
    } else {
        free(data);
    }
    return s;
}

static cnnk_status filled_memory(cnnk_onednn_layer *h, const dnnl_memory_desc_t *md,
                                 unsigned seed, dnnl_memory_t *out) {
    return filled_memory_keep(h, md, seed, out, false);
}

static cnnk_status bind_filled(cnnk_onednn_layer *h, int arg, dnnl_query_t q, int idx,
                               unsigned seed) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(h->pd, q, idx);
    if (!md) return cnnk_fail(h->c.err, CNNK_EONEDNN, "%s: no layout for arg %d", h->c.layer, arg);
    dnnl_memory_t m = NULL;
    CNNK_TRY(filled_memory(h, md, seed, &m));
    return add_arg(h, arg, m);
}

static cnnk_status bind_scratch(cnnk_onednn_layer *h) {
    const dnnl_memory_desc_t *md =
        dnnl_primitive_desc_query_md(h->pd, dnnl_query_scratchpad_md, 0);
    if (!md || dnnl_memory_desc_get_size(md) == 0) return CNNK_OK;
    dnnl_memory_t m = NULL;
    CNNK_DNN(&h->c, dnnl_memory_create, (&m, md, h->c.eng, DNNL_MEMORY_ALLOCATE));
    return add_arg(h, DNNL_ARG_SCRATCHPAD, m);
}

/* The layout a convolution with format `any` gives a tensor of c channels
 * at h x w: the layout a pooling, LRN, ... would meet inside a network. */
static cnnk_status act_layout(const cnnk_dnn_ctx *c, int64_t mb, int64_t ch, int64_t hh,
                              int64_t ww, dnnl_memory_desc_t *md) {
    cnnk_conv_desc d = {.g = 1, .mb = mb, .ic = ch, .ih = hh, .iw = ww, .oc = ch, .oh = hh,
                        .ow = ww, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .pt = 1, .pl = 1,
                        .pb = 1, .pr = 1, .dh = 1, .dw = 1};
    dnnl_primitive_desc_t pd = NULL;
    CNNK_TRY(cnnk_dnn_conv_pd(c, &d, NULL, NULL, false, false, false, 0.0f, &pd));
    *md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    dnnl_primitive_desc_destroy(pd);
    return CNNK_OK;
}

/* src and dst of h's primitive, filled; with a sum post-op dst holds the
 * residual. */
static cnnk_status bind_src_dst(cnnk_onednn_layer *h) {
    CNNK_TRY(bind_filled(h, DNNL_ARG_SRC, dnnl_query_src_md, 0, 1));
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

/* Weights reordered from plain OIHW once, as from a framework's tensor;
 * the plain values are kept for cnnk_onednn_layer_read (a Winograd-domain
 * layout cannot be reordered back). */
static cnnk_status bind_weights(cnnk_onednn_layer *h, bool bias) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(h->pd, dnnl_query_weights_md, 0);
    if (!md) return cnnk_fail(h->c.err, CNNK_EONEDNN, "%s: no layout for weights", h->c.layer);
    dnnl_memory_t m = NULL;
    CNNK_TRY(filled_memory_keep(h, md, 2, &m, true));
    CNNK_TRY(add_arg(h, DNNL_ARG_WEIGHTS, m));
    if (bias) CNNK_TRY(bind_filled(h, DNNL_ARG_BIAS, dnnl_query_weights_md, 1, 3));
    return CNNK_OK;
}

static cnnk_status conv_layer(cnnk_onednn_layer *h, const cnnk_conv_desc *d,
                              const cnnk_epilogue_spec *ep) {
    bool bias = ep && ep->bias, sum = ep && ep->residual, relu = ep && ep->relu;
    const float alpha = ep ? ep->relu_alpha : 0.0f;
    CNNK_TRY(cnnk_dnn_conv_pd_algo(&h->c, d, NULL, NULL, bias, sum, relu, alpha, h->algo, &h->pd,
                                   &h->used, h->note, sizeof h->note));
    CNNK_TRY(bind_weights(h, bias));
    return bind_src_dst(h);
}

static cnnk_status fc_layer(cnnk_onednn_layer *h, const cnnk_fc_desc *d,
                            const cnnk_epilogue_spec *ep) {
    bool bias = ep && ep->bias, relu = ep && ep->relu;
    CNNK_TRY(cnnk_dnn_fc_pd(&h->c, d, 4, NULL, bias, relu, ep ? ep->relu_alpha : 0.0f, &h->pd));
    CNNK_TRY(bind_weights(h, bias));
    return bind_src_dst(h);
}

static cnnk_status pool_layer(cnnk_onednn_layer *h, const cnnk_pool_desc *d) {
    dnnl_memory_desc_t src;
    CNNK_TRY(act_layout(&h->c, d->mb, d->c, d->ih, d->iw, &src));
    CNNK_TRY(cnnk_dnn_pool_pd(&h->c, d, &src, NULL, &h->pd));
    return bind_src_dst(h);
}

static cnnk_status lrn_layer(cnnk_onednn_layer *h, const cnnk_lrn_desc *d) {
    dnnl_memory_desc_t md;
    CNNK_TRY(act_layout(&h->c, d->mb, d->c, d->h, d->w, &md));
    CNNK_TRY(cnnk_dnn_lrn_pd(&h->c, d, &md, &h->pd));
    return bind_src_dst(h);
}

static cnnk_status bnorm_layer(cnnk_onednn_layer *h, const cnnk_bnorm_desc *d,
                               const cnnk_epilogue_spec *ep) {
    const cnnk_dnn_ctx *c = &h->c;
    dnnl_memory_desc_t md, vmd;
    CNNK_TRY(act_layout(c, d->mb, d->c, d->h, d->w, &md));
    CNNK_TRY(cnnk_dnn_bnorm_pd(c, d, &md, ep && ep->relu, ep ? ep->relu_alpha : 0.0f, &h->pd));
    CNNK_TRY(bind_filled(h, DNNL_ARG_SRC, dnnl_query_src_md, 0, 1));
    CNNK_TRY(cnnk_dnn_vec_md(c, &vmd, d->c));
    const int vargs[4] = {DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_SCALE, DNNL_ARG_SHIFT};
    for (int i = 0; i < 4; ++i) {
        dnnl_memory_t m = NULL;
        CNNK_TRY(filled_memory(h, &vmd, 10u + (unsigned)i, &m));
        CNNK_TRY(add_arg(h, vargs[i], m));
    }
    /* a variance must be positive: 1 + |v| */
    float *var = NULL;
    CNNK_DNN(c, dnnl_memory_get_data_handle, (h->args[h->nargs - 3].memory, (void **)&var));
    for (int64_t i = 0; i < d->c; ++i) var[i] = 1.0f + (var[i] < 0 ? -var[i] : var[i]);
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status softmax_layer(cnnk_onednn_layer *h, const cnnk_softmax_desc *d) {
    dnnl_memory_desc_t md;
    CNNK_TRY(act_layout(&h->c, d->mb, d->c, d->h, d->w, &md));
    CNNK_TRY(cnnk_dnn_softmax_pd(&h->c, &md, &md, &h->pd));
    return bind_src_dst(h);
}

static cnnk_status eltwise_layer(cnnk_onednn_layer *h, const cnnk_eltwise_desc *d) {
    const cnnk_dnn_ctx *c = &h->c;
    dnnl_memory_desc_t md;
    switch (d->alg) {
    case CNNK_ELTWISE_DROPOUT: break;
    case CNNK_ELTWISE_RELU:
    case CNNK_ELTWISE_LEAKY_RELU:
        CNNK_TRY(act_layout(c, d->mb, d->c, d->h, d->w, &md));
        CNNK_TRY(cnnk_dnn_relu_pd(c, &md, d->alpha, &h->pd));
        return bind_src_dst(h);
    case CNNK_ELTWISE_ADD:
    case CNNK_ELTWISE_ADD_RELU:
        CNNK_TRY(act_layout(c, d->mb, d->c, d->h, d->w, &md));
        CNNK_TRY(cnnk_dnn_add_pd(c, &md, &md, &md, d->alg == CNNK_ELTWISE_ADD_RELU, 0.0f, &h->pd));
        CNNK_TRY(bind_filled(h, DNNL_ARG_SRC_0, dnnl_query_src_md, 0, 1));
        CNNK_TRY(bind_filled(h, DNNL_ARG_SRC_1, dnnl_query_src_md, 1, 2));
        return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
    }
    return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                     "%s: dropout is the identity at inference and elided: nothing to time",
                     c->layer);
}

static cnnk_status concat_layer(cnnk_onednn_layer *h, const cnnk_concat_desc *d) {
    const cnnk_dnn_ctx *c = &h->c;
    dnnl_memory_desc_t smd[CNNK_CONCAT_MAX_INPUTS], dmd;
    int64_t total = 0;
    for (int i = 0; i < d->n; ++i) {
        CNNK_TRY(act_layout(c, d->mb, d->c[i], d->h, d->w, &smd[i]));
        total += d->c[i];
    }
    int64_t dd[4] = {d->mb, total, d->h, d->w};
    CNNK_TRY(cnnk_dnn_tag_md(c, &dmd, 4, dd, dnnl_format_tag_any));
    CNNK_TRY(cnnk_dnn_concat_pd(c, d->n, smd, &dmd, &h->pd));
    for (int i = 0; i < d->n; ++i)
        CNNK_TRY(bind_filled(h, DNNL_ARG_MULTIPLE_SRC + i, dnnl_query_src_md, i, 1u + (unsigned)i));
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status resize_layer(cnnk_onednn_layer *h, const cnnk_resize_desc *d) {
    const cnnk_dnn_ctx *c = &h->c;
    if (d->align_corners)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: oneDNN's resampling has no align_corners=True", c->layer);
    dnnl_memory_desc_t smd, dmd;
    CNNK_TRY(act_layout(c, d->mb, d->c, d->ih, d->iw, &smd));
    const int64_t dd[4] = {d->mb, d->c, d->oh, d->ow};
    CNNK_TRY(cnnk_dnn_tag_md(c, &dmd, 4, dd, dnnl_format_tag_any));
    CNNK_TRY(cnnk_dnn_resampling_pd(c, &smd, &dmd, &h->pd));
    return bind_src_dst(h);
}

static cnnk_status layer_body(cnnk_onednn_layer *h, cnnk_layer_desc *l,
                              const cnnk_epilogue_spec *ep) {
    switch (l->kind) {
    case CNNK_LAYER_CONV:
    case CNNK_LAYER_DECONV: return conv_layer(h, &l->u.conv, ep);
    case CNNK_LAYER_FC: return fc_layer(h, &l->u.fc, ep);
    case CNNK_LAYER_POOL: return pool_layer(h, &l->u.pool);
    case CNNK_LAYER_LRN: return lrn_layer(h, &l->u.lrn);
    case CNNK_LAYER_BNORM: return bnorm_layer(h, &l->u.bnorm, ep);
    case CNNK_LAYER_SOFTMAX: return softmax_layer(h, &l->u.softmax);
    case CNNK_LAYER_ELTWISE: return eltwise_layer(h, &l->u.eltwise);
    case CNNK_LAYER_CONCAT: return concat_layer(h, &l->u.concat);
    case CNNK_LAYER_RESIZE: return resize_layer(h, &l->u.resize);
    case CNNK_LAYER_REGION_POOL: {
        /* Uniform whole-map bins are oneDNN pooling; RoI pooling it lacks. */
        cnnk_pool_desc p;
        if (!cnnk_region_pool_as_pool(&l->u.region, &p)) return CNNK_EUNSUPPORTED;
        l->kind = CNNK_LAYER_POOL;
        l->u.pool = p;
        return pool_layer(h, &l->u.pool);
    }
    case CNNK_LAYER_DETECT: /* oneDNN has no NMS */
    case CNNK_LAYER_WARP:   /* nor R-CNN's crop and warp */
    case CNNK_LAYER_KIND_COUNT: break;
    }
    return CNNK_EINVAL;
}

static cnnk_status layer_open(cnnk_onednn_layer *h, cnnk_layer_desc *l,
                              const cnnk_epilogue_spec *ep) {
    CNNK_TRY(cnnk_dnn_open(&h->c));
    CNNK_TRY(layer_body(h, l, ep));
    CNNK_TRY(bind_scratch(h));
    CNNK_DNN(&h->c, dnnl_primitive_create, (&h->prim, h->pd));
    return CNNK_OK;
}

cnnk_status cnnk_onednn_layer_create(const cnnk_layer_desc *l, const cnnk_epilogue_spec *ep,
                                     cnnk_onednn_algo algo, cnnk_onednn_layer **out,
                                     cnnk_error *err) {
    if (!out) return cnnk_fail(err, CNNK_EINVAL, "onednn layer: out is NULL");
    *out = NULL;
    if (!l) return cnnk_fail(err, CNNK_EINVAL, "onednn layer: descriptor is NULL");
    if ((unsigned)algo >= CNNK_ONEDNN_ALGO_COUNT)
        return cnnk_fail(err, CNNK_EINVAL, "onednn layer: unknown algorithm %d", (int)algo);
    cnnk_layer_desc dl = *l;
    CNNK_TRY(cnnk_layer_check(&dl, err));
    cnnk_onednn_layer *h = calloc(1, sizeof *h);
    if (!h) return cnnk_fail(err, CNNK_ENOMEM, "onednn layer: out of memory");
    snprintf(h->name, sizeof h->name, "%s",
             cnnk_layer_name(&dl)[0] ? cnnk_layer_name(&dl) : cnnk_layer_kind_name(dl.kind));
    h->c.layer = h->name;
    h->c.err = err;
    h->c.user_scratchpad = true; /* execute() must not allocate: it is timed */
    h->algo = algo;
    h->used = CNNK_ONEDNN_DIRECT;
    cnnk_status s = layer_open(h, &dl, ep);
    h->c.err = &h->scratch_err;
    if (s != CNNK_OK) {
        cnnk_onednn_layer_destroy(h);
        return s;
    }
    *out = h;
    return CNNK_OK;
}

cnnk_status cnnk_onednn_layer_execute(cnnk_onednn_layer *h) {
    if (dnnl_primitive_execute(h->prim, h->c.strm, h->nargs, h->args) != dnnl_success)
        return CNNK_EONEDNN;
    return dnnl_stream_wait(h->c.strm) == dnnl_success ? CNNK_OK : CNNK_EONEDNN;
}

const char *cnnk_onednn_layer_impl(const cnnk_onednn_layer *h) {
    return h ? cnnk_dnn_impl(h->pd) : "none";
}

cnnk_onednn_algo cnnk_onednn_layer_algo(const cnnk_onednn_layer *h) {
    return h ? h->used : CNNK_ONEDNN_DIRECT;
}

const char *cnnk_onednn_layer_note(const cnnk_onednn_layer *h) { return h ? h->note : ""; }

static dnnl_memory_t layer_arg(const cnnk_onednn_layer *h, int arg) {
    for (int i = 0; i < h->nargs; ++i)
        if (h->args[i].arg == arg) return h->args[i].memory;
    return NULL;
}

cnnk_status cnnk_onednn_layer_read(const cnnk_onednn_layer *h, cnnk_onednn_tensor t, float *out,
                                   size_t n, size_t *count, cnnk_error *err) {
    static const int ids[CNNK_ONEDNN_TENSOR_COUNT] = {
        DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS,  DNNL_ARG_DST,
        DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_SCALE, DNNL_ARG_SHIFT};
    if (!h || (unsigned)t >= CNNK_ONEDNN_TENSOR_COUNT)
        return cnnk_fail(err, CNNK_EINVAL, "onednn layer read: no layer or tensor %d", (int)t);
    const dnnl_memory_t m = layer_arg(h, ids[t]);
    if (!m) return cnnk_fail(err, CNNK_EINVAL, "%s: no tensor %d", h->name, (int)t);
    if (t == CNNK_ONEDNN_WEIGHTS) {
        *count = h->w_count;
        if (*count > n)
            return cnnk_fail(err, CNNK_EINVAL, "%s: %zu weights, room for %zu", h->name, *count, n);
        memcpy(out, h->w_plain, *count * sizeof(float));
        return CNNK_OK;
    }
    const dnnl_memory_desc_t *md = NULL;
    dnnl_memory_desc_t plain;
    const dnnl_format_tag_t tags[] = {dnnl_format_tag_undef, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd,
                                      dnnl_abcde};
    if (dnnl_memory_get_memory_desc(m, &md) != dnnl_success || md->ndims < 1 || md->ndims > 5 ||
        dnnl_memory_desc_init_by_tag(&plain, md->ndims, md->dims, dnnl_f32, tags[md->ndims]) !=
            dnnl_success)
        return cnnk_fail(err, CNNK_EONEDNN, "%s: tensor %d has no plain layout", h->name, (int)t);
    *count = dnnl_memory_desc_get_size(&plain) / sizeof(float);
    if (*count > n)
        return cnnk_fail(err, CNNK_EINVAL, "%s: tensor %d has %zu values, room for %zu", h->name,
                         (int)t, *count, n);
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t rp = NULL;
    dnnl_memory_t to = NULL;
    dnnl_status_t s = dnnl_memory_create(&to, &plain, h->c.eng, out);
    if (s == dnnl_success)
        s = dnnl_reorder_primitive_desc_create(&rpd, md, h->c.eng, &plain, h->c.eng, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&rp, rpd);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, to}};
        s = dnnl_primitive_execute(rp, h->c.strm, 2, args);
    }
    if (s == dnnl_success) s = dnnl_stream_wait(h->c.strm);
    if (rp) dnnl_primitive_destroy(rp);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (to) dnnl_memory_destroy(to);
    return s == dnnl_success
               ? CNNK_OK
               : cnnk_fail(err, CNNK_EONEDNN, "%s: reading tensor %d: oneDNN status %d", h->name,
                           (int)t, (int)s);
}

#endif
