/* oneDNN as the performance peer: settings, shared primitive builders and
 * the one-layer handle; see validate/onednn_peer.h. */
#define CNNK_ONEDNN_PEER_INTERNAL 1
#include "validate/onednn_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

void cnnk_onednn_set_threads(int n) {
    if (n >= 1) omp_set_num_threads(n);
}

#if defined(CNNK_HAVE_ONEDNN) && CNNK_HAVE_ONEDNN

#include <dnnl_debug.h>

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

cnnk_status cnnk_onednn_set_max_isa(const char *isa, cnnk_error *err) {
    for (int i = 0; isa && i < ISA_NAMES; ++i) {
        if (strcmp(isa, isa_names[i].name) != 0) continue;
        dnnl_status_t s = dnnl_set_max_cpu_isa(isa_names[i].isa);
        if (s == dnnl_success) return CNNK_OK;
        return cnnk_fail(err, CNNK_EONEDNN,
                         "onednn max isa %s: dnnl_set_max_cpu_isa failed (%s): it must be "
                         "called once, before oneDNN creates any primitive",
                         isa, dnnl_status2str(s));
    }
    char valid[CNNK_ERROR_MSG_LEN / 2] = "";
    size_t len = 0;
    for (int i = 0; i < ISA_NAMES && len < sizeof valid; ++i)
        len += (size_t)snprintf(valid + len, sizeof valid - len, "%s%s", i ? ", " : "",
                                isa_names[i].name);
    return cnnk_fail(err, CNNK_EINVAL, "unknown oneDNN max isa '%.64s' (valid: %s)",
                     isa ? isa : "", valid);
}

const char *cnnk_onednn_max_isa_name(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    /* "all" is a cap, never an effective ISA: skip it when naming one. */
    for (int i = 1; i < ISA_NAMES; ++i)
        if (isa_names[i].isa == isa) return isa_names[i].name;
    return "unknown";
}

/* ---- shared builders ------------------------------------------------------ */

cnnk_status cnnk_peer_fail(const cnnk_peer_ctx *c, dnnl_status_t s, const char *call) {
    return cnnk_fail(c->err, CNNK_EONEDNN, "%s: oneDNN %s failed: %s", c->layer, call,
                     dnnl_status2str(s));
}

static dnnl_status_t fill_attr(dnnl_primitive_attr_t attr, bool sum, bool relu) {
    dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s != dnnl_success || (!sum && !relu)) return s;
    dnnl_post_ops_t ops = NULL;
    s = dnnl_post_ops_create(&ops);
    if (s != dnnl_success) return s;
    if (sum) s = dnnl_post_ops_append_sum(ops, 1.0f);
    if (s == dnnl_success && relu)
        s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_post_ops_destroy(ops);
    return s;
}

cnnk_status cnnk_peer_pd(const cnnk_peer_ctx *c, const void *op_desc, bool sum, bool relu,
                         dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    DNN(c, dnnl_primitive_attr_create, (&attr));
    dnnl_status_t s = fill_attr(attr, sum, relu);
    const char *call = "primitive attributes";
    if (s == dnnl_success) {
        call = "dnnl_primitive_desc_create";
        s = dnnl_primitive_desc_create(pd, op_desc, attr, c->eng, NULL);
    }
    dnnl_primitive_attr_destroy(attr);
    return s == dnnl_success ? CNNK_OK : cnnk_peer_fail(c, s, call);
}

static cnnk_status tag_md(const cnnk_peer_ctx *c, dnnl_memory_desc_t *md, int nd,
                          const int64_t *d, dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {0};
    for (int i = 0; i < nd; ++i) dims[i] = d[i];
    DNN(c, dnnl_memory_desc_init_by_tag, (md, nd, dims, dnnl_f32, tag));
    return CNNK_OK;
}

static cnnk_status conv_wmd(const cnnk_peer_ctx *c, const cnnk_conv_desc *d, bool any,
                            dnnl_memory_desc_t *md) {
    if (d->g == 1) {
        int64_t dims[4] = {d->oc, d->ic, d->kh, d->kw};
        return tag_md(c, md, 4, dims, any ? dnnl_format_tag_any : dnnl_oihw);
    }
    int64_t dims[5] = {d->g, d->oc / d->g, d->ic / d->g, d->kh, d->kw};
    return tag_md(c, md, 5, dims, any ? dnnl_format_tag_any : dnnl_goihw);
}

cnnk_status cnnk_peer_conv_user_wmd(const cnnk_peer_ctx *c, const cnnk_conv_desc *d,
                                    dnnl_memory_desc_t *md) {
    return conv_wmd(c, d, false, md);
}

cnnk_status cnnk_peer_conv_pd(const cnnk_peer_ctx *c, const cnnk_conv_desc *d,
                              const dnnl_memory_desc_t *src, bool bias, bool sum, bool relu,
                              dnnl_primitive_desc_t *pd) {
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    int64_t sdims[4] = {d->mb, d->ic, d->ih, d->iw}, ddims[4] = {d->mb, d->oc, d->oh, d->ow};
    int64_t bdims[1] = {d->oc};
    if (src)
        smd = *src;
    else
        TRY(tag_md(c, &smd, 4, sdims, dnnl_format_tag_any));
    TRY(conv_wmd(c, d, true, &wmd));
    TRY(tag_md(c, &bmd, 1, bdims, dnnl_a));
    TRY(tag_md(c, &dmd, 4, ddims, dnnl_format_tag_any));
    dnnl_dims_t strides = {d->sh, d->sw};
    dnnl_dims_t dilates = {d->dh - 1, d->dw - 1}; /* oneDNN: 0 = none */
    dnnl_dims_t pad_l = {d->pt, d->pl}, pad_r = {d->pb, d->pr};
    const dnnl_memory_desc_t *b = bias ? &bmd : NULL;
    if (d->transposed) {
        dnnl_deconvolution_desc_t od;
        DNN(c, dnnl_dilated_deconvolution_forward_desc_init,
            (&od, dnnl_forward_inference, dnnl_deconvolution_direct, &smd, &wmd, b, &dmd,
             strides, dilates, pad_l, pad_r));
        return cnnk_peer_pd(c, &od, sum, relu, pd);
    }
    dnnl_convolution_desc_t od;
    DNN(c, dnnl_dilated_convolution_forward_desc_init,
        (&od, dnnl_forward_inference, dnnl_convolution_direct, &smd, &wmd, b, &dmd, strides,
         dilates, pad_l, pad_r));
    return cnnk_peer_pd(c, &od, sum, relu, pd);
}

static void fc_dims(const cnnk_fc_desc *d, int src_ndims, int64_t *s, int64_t *w) {
    s[0] = d->mb, s[1] = d->ic, s[2] = d->ih, s[3] = d->iw;
    w[0] = d->oc, w[1] = d->ic, w[2] = d->ih, w[3] = d->iw;
    (void)src_ndims;
}

cnnk_status cnnk_peer_fc_user_wmd(const cnnk_peer_ctx *c, const cnnk_fc_desc *d, int src_ndims,
                                  dnnl_memory_desc_t *md) {
    int64_t s[4], w[4];
    fc_dims(d, src_ndims, s, w);
    /* [oc][ic][ih][iw] is the framework's flatten of NCHW: oneDNN contracts
     * over the logical (c, h, w) whatever the src layout. */
    return tag_md(c, md, src_ndims, w, src_ndims == 4 ? dnnl_oihw : dnnl_oi);
}

cnnk_status cnnk_peer_fc_pd(const cnnk_peer_ctx *c, const cnnk_fc_desc *d, int src_ndims,
                            bool bias, bool relu, dnnl_primitive_desc_t *pd) {
    if (src_ndims != 4 && !(src_ndims == 2 && d->ih == 1 && d->iw == 1))
        return cnnk_fail(c->err, CNNK_EINVAL, "%s: fc on a %d-D src of %lldx%lld pixels",
                         c->layer, src_ndims, (long long)d->ih, (long long)d->iw);
    int64_t s[4], w[4], dd[2] = {d->mb, d->oc}, bd[1] = {d->oc};
    fc_dims(d, src_ndims, s, w);
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    TRY(tag_md(c, &smd, src_ndims, s, dnnl_format_tag_any));
    TRY(tag_md(c, &wmd, src_ndims, w, dnnl_format_tag_any));
    TRY(tag_md(c, &bmd, 1, bd, dnnl_a));
    TRY(tag_md(c, &dmd, 2, dd, dnnl_nc));
    dnnl_inner_product_desc_t od;
    DNN(c, dnnl_inner_product_forward_desc_init,
        (&od, dnnl_forward_inference, &smd, &wmd, bias ? &bmd : NULL, &dmd));
    return cnnk_peer_pd(c, &od, false, relu, pd);
}

cnnk_status cnnk_peer_pool_pd(const cnnk_peer_ctx *c, const cnnk_pool_desc *d,
                              const dnnl_memory_desc_t *src, dnnl_primitive_desc_t *pd) {
    int64_t nb, nr;
    cnnk_pool_end_padding(d, &nb, &nr);
    if ((nb > d->pb || nr > d->pr) && d->alg == CNNK_POOL_AVG_INCLUDE_PAD)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: avg pooling including padding with a ceil-mode overhang: oneDNN "
                         "would count the overhang cells in the divisor, cnnk does not",
                         c->layer);
    dnnl_alg_kind_t alg = d->alg == CNNK_POOL_MAX               ? dnnl_pooling_max
                          : d->alg == CNNK_POOL_AVG_INCLUDE_PAD ? dnnl_pooling_avg_include_padding
                                                                : dnnl_pooling_avg_exclude_padding;
    int64_t ddims[4] = {d->mb, d->c, d->oh, d->ow};
    dnnl_memory_desc_t dmd;
    TRY(tag_md(c, &dmd, 4, ddims, dnnl_format_tag_any));
    dnnl_dims_t strides = {d->sh, d->sw}, kernel = {d->kh, d->kw};
    dnnl_dims_t pad_l = {d->pt, d->pl};
    dnnl_dims_t pad_r = {nb, nr};
    dnnl_pooling_desc_t od;
    DNN(c, dnnl_pooling_forward_desc_init,
        (&od, dnnl_forward_inference, alg, src, &dmd, strides, kernel, pad_l, pad_r));
    return cnnk_peer_pd(c, &od, false, false, pd);
}

cnnk_status cnnk_peer_reorder_into(const cnnk_peer_ctx *c, const dnnl_memory_desc_t *from,
                                   const void *data, const dnnl_memory_desc_t *to,
                                   dnnl_memory_t *out) {
    *out = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t rp = NULL;
    dnnl_memory_t src = NULL;
    const char *call = "dnnl_memory_create";
    dnnl_status_t s = dnnl_memory_create(out, to, c->eng, DNNL_MEMORY_ALLOCATE);
    if (s == dnnl_success)
        s = dnnl_memory_create(&src, from, c->eng, (void *)data);
    if (s == dnnl_success) {
        call = "dnnl_reorder_primitive_desc_create";
        s = dnnl_reorder_primitive_desc_create(&rpd, from, c->eng, to, c->eng, NULL);
    }
    if (s == dnnl_success) {
        call = "dnnl_primitive_create";
        s = dnnl_primitive_create(&rp, rpd);
    }
    if (s == dnnl_success) {
        call = "dnnl_primitive_execute";
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, *out}};
        s = dnnl_primitive_execute(rp, c->strm, 2, args);
    }
    if (s == dnnl_success) {
        call = "dnnl_stream_wait";
        s = dnnl_stream_wait(c->strm);
    }
    if (rp) dnnl_primitive_destroy(rp);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (src) dnnl_memory_destroy(src);
    if (s == dnnl_success) return CNNK_OK;
    if (*out) dnnl_memory_destroy(*out);
    *out = NULL;
    return cnnk_peer_fail(c, s, call);
}

const char *cnnk_peer_impl(const dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success)
        return "unknown";
    return impl ? impl : "unknown";
}

size_t cnnk_peer_scratch_bytes(const dnnl_primitive_desc_t pd) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

/* ---- one layer ------------------------------------------------------------ */

#define LAYER_ARGS (CNNK_CONCAT_MAX_INPUTS + 8)

struct cnnk_onednn_layer {
    cnnk_peer_ctx c;
    cnnk_error scratch_err; /* where messages go after create */
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[LAYER_ARGS];
    char name[CNNK_NAME_LEN];
};

void cnnk_onednn_layer_destroy(cnnk_onednn_layer *h) {
    if (!h) return;
    for (int i = 0; i < h->nargs; ++i) dnnl_memory_destroy(h->args[i].memory);
    if (h->prim) dnnl_primitive_destroy(h->prim);
    if (h->pd) dnnl_primitive_desc_destroy(h->pd);
    if (h->c.strm) dnnl_stream_destroy(h->c.strm);
    if (h->c.eng) dnnl_engine_destroy(h->c.eng);
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
static cnnk_status filled_memory(cnnk_onednn_layer *h, const dnnl_memory_desc_t *md,
                                 unsigned seed, dnnl_memory_t *out) {
    const cnnk_peer_ctx *c = &h->c;
    dnnl_memory_desc_t plain;
    dnnl_format_tag_t tags[] = {dnnl_format_tag_undef, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd,
                                dnnl_abcde};
    if (md->ndims < 1 || md->ndims > 5)
        return cnnk_fail(c->err, CNNK_EINVAL, "%s: %d-D tensor", c->layer, md->ndims);
    DNN(c, dnnl_memory_desc_init_by_tag, (&plain, md->ndims, md->dims, dnnl_f32, tags[md->ndims]));
    size_t bytes = dnnl_memory_desc_get_size(&plain);
    float *data = malloc(bytes ? bytes : sizeof(float));
    if (!data) return cnnk_fail(c->err, CNNK_ENOMEM, "%s: no memory for data", c->layer);
    fill_values(data, bytes / sizeof(float), seed);
    cnnk_status s = cnnk_peer_reorder_into(c, &plain, data, md, out);
    free(data);
    return s;
}

static cnnk_status bind_filled(cnnk_onednn_layer *h, int arg, dnnl_query_t q, int idx,
                               unsigned seed) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(h->pd, q, idx);
    if (!md) return cnnk_fail(h->c.err, CNNK_EONEDNN, "%s: no layout for arg %d", h->c.layer, arg);
    dnnl_memory_t m = NULL;
    TRY(filled_memory(h, md, seed, &m));
    return add_arg(h, arg, m);
}

static cnnk_status bind_scratch(cnnk_onednn_layer *h) {
    const dnnl_memory_desc_t *md =
        dnnl_primitive_desc_query_md(h->pd, dnnl_query_scratchpad_md, 0);
    if (!md || dnnl_memory_desc_get_size(md) == 0) return CNNK_OK;
    dnnl_memory_t m = NULL;
    DNN(&h->c, dnnl_memory_create, (&m, md, h->c.eng, DNNL_MEMORY_ALLOCATE));
    return add_arg(h, DNNL_ARG_SCRATCHPAD, m);
}

/* The layout a convolution with format `any` gives a tensor of c channels
 * at h x w: the layout a pooling, LRN, ... would meet inside a network. */
static cnnk_status act_layout(const cnnk_peer_ctx *c, int64_t mb, int64_t ch, int64_t hh,
                              int64_t ww, dnnl_memory_desc_t *md) {
    cnnk_conv_desc d = {.g = 1, .mb = mb, .ic = ch, .ih = hh, .iw = ww, .oc = ch, .oh = hh,
                        .ow = ww, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .pt = 1, .pl = 1,
                        .pb = 1, .pr = 1, .dh = 1, .dw = 1};
    dnnl_primitive_desc_t pd = NULL;
    TRY(cnnk_peer_conv_pd(c, &d, NULL, false, false, false, &pd));
    *md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    dnnl_primitive_desc_destroy(pd);
    return CNNK_OK;
}

static cnnk_status conv_layer(cnnk_onednn_layer *h, const cnnk_conv_desc *d,
                              const cnnk_epilogue_spec *ep) {
    const cnnk_peer_ctx *c = &h->c;
    bool bias = ep && ep->bias, sum = ep && ep->residual, relu = ep && ep->relu;
    TRY(cnnk_peer_conv_pd(c, d, NULL, bias, sum, relu, &h->pd));
    dnnl_memory_desc_t user;
    TRY(cnnk_peer_conv_user_wmd(c, d, &user));
    TRY(bind_filled(h, DNNL_ARG_SRC, dnnl_query_src_md, 0, 1));
    /* weights reordered from OIHW once, as from a framework's tensor */
    TRY(bind_filled(h, DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, 2));
    if (bias) TRY(bind_filled(h, DNNL_ARG_BIAS, dnnl_query_weights_md, 1, 3));
    /* with a sum post-op dst holds the residual */
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status fc_layer(cnnk_onednn_layer *h, const cnnk_fc_desc *d,
                            const cnnk_epilogue_spec *ep) {
    bool bias = ep && ep->bias, relu = ep && ep->relu;
    TRY(cnnk_peer_fc_pd(&h->c, d, 4, bias, relu, &h->pd));
    TRY(bind_filled(h, DNNL_ARG_SRC, dnnl_query_src_md, 0, 1));
    TRY(bind_filled(h, DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, 2));
    if (bias) TRY(bind_filled(h, DNNL_ARG_BIAS, dnnl_query_weights_md, 1, 3));
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status pool_layer(cnnk_onednn_layer *h, cnnk_pool_desc *d) {
    dnnl_memory_desc_t src;
    TRY(act_layout(&h->c, d->mb, d->c, d->ih, d->iw, &src));
    TRY(cnnk_peer_pool_pd(&h->c, d, &src, &h->pd));
    TRY(bind_filled(h, DNNL_ARG_SRC, dnnl_query_src_md, 0, 1));
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status lrn_layer(cnnk_onednn_layer *h, const cnnk_lrn_desc *d) {
    const cnnk_peer_ctx *c = &h->c;
    dnnl_memory_desc_t md;
    TRY(act_layout(c, d->mb, d->c, d->h, d->w, &md));
    dnnl_lrn_desc_t od;
    DNN(c, dnnl_lrn_forward_desc_init,
        (&od, dnnl_forward_inference, dnnl_lrn_across_channels, &md, d->size, d->alpha, d->beta,
         d->k));
    TRY(cnnk_peer_pd(c, &od, false, false, &h->pd));
    TRY(bind_filled(h, DNNL_ARG_SRC, dnnl_query_src_md, 0, 1));
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status bnorm_layer(cnnk_onednn_layer *h, const cnnk_bnorm_desc *d,
                               const cnnk_epilogue_spec *ep) {
    const cnnk_peer_ctx *c = &h->c;
    dnnl_memory_desc_t md;
    TRY(act_layout(c, d->mb, d->c, d->h, d->w, &md));
    unsigned flags = dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift;
    if (ep && ep->relu) flags |= dnnl_fuse_norm_relu;
    dnnl_batch_normalization_desc_t od;
    DNN(c, dnnl_batch_normalization_forward_desc_init,
        (&od, dnnl_forward_inference, &md, d->eps, flags));
    TRY(cnnk_peer_pd(c, &od, false, false, &h->pd));
    TRY(bind_filled(h, DNNL_ARG_SRC, dnnl_query_src_md, 0, 1));
    int64_t vd[1] = {d->c};
    dnnl_memory_desc_t vmd;
    TRY(tag_md(c, &vmd, 1, vd, dnnl_a));
    const int vargs[4] = {DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_SCALE, DNNL_ARG_SHIFT};
    for (int i = 0; i < 4; ++i) {
        dnnl_memory_t m = NULL;
        TRY(filled_memory(h, &vmd, 10u + (unsigned)i, &m));
        TRY(add_arg(h, vargs[i], m));
    }
    /* a variance must be positive: 1 + |v| */
    float *var = NULL;
    DNN(c, dnnl_memory_get_data_handle, (h->args[h->nargs - 3].memory, (void **)&var));
    for (int64_t i = 0; i < d->c; ++i) var[i] = 1.0f + (var[i] < 0 ? -var[i] : var[i]);
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status softmax_layer(cnnk_onednn_layer *h, const cnnk_softmax_desc *d) {
    const cnnk_peer_ctx *c = &h->c;
    dnnl_memory_desc_t md;
    TRY(act_layout(c, d->mb, d->c, d->h, d->w, &md));
    dnnl_softmax_v2_desc_t od;
    DNN(c, dnnl_softmax_v2_forward_desc_init,
        (&od, dnnl_forward_inference, dnnl_softmax_accurate, &md, &md, 1));
    TRY(cnnk_peer_pd(c, &od, false, false, &h->pd));
    TRY(bind_filled(h, DNNL_ARG_SRC, dnnl_query_src_md, 0, 1));
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status eltwise_layer(cnnk_onednn_layer *h, const cnnk_eltwise_desc *d) {
    const cnnk_peer_ctx *c = &h->c;
    if (d->alg == CNNK_ELTWISE_DROPOUT)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: dropout is the identity at inference and elided: nothing to time",
                         c->layer);
    dnnl_memory_desc_t md;
    TRY(act_layout(c, d->mb, d->c, d->h, d->w, &md));
    if (d->alg == CNNK_ELTWISE_RELU) {
        dnnl_eltwise_desc_t od;
        DNN(c, dnnl_eltwise_forward_desc_init,
            (&od, dnnl_forward_inference, dnnl_eltwise_relu, &md, 0.0f, 0.0f));
        TRY(cnnk_peer_pd(c, &od, false, false, &h->pd));
        TRY(bind_filled(h, DNNL_ARG_SRC, dnnl_query_src_md, 0, 1));
        return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
    }
    dnnl_binary_desc_t od;
    DNN(c, dnnl_binary_desc_init, (&od, dnnl_binary_add, &md, &md, &md));
    TRY(cnnk_peer_pd(c, &od, false, d->alg == CNNK_ELTWISE_ADD_RELU, &h->pd));
    TRY(bind_filled(h, DNNL_ARG_SRC_0, dnnl_query_src_md, 0, 1));
    TRY(bind_filled(h, DNNL_ARG_SRC_1, dnnl_query_src_md, 1, 2));
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status concat_layer(cnnk_onednn_layer *h, const cnnk_concat_desc *d) {
    const cnnk_peer_ctx *c = &h->c;
    dnnl_memory_desc_t smd[CNNK_CONCAT_MAX_INPUTS], dmd;
    int64_t total = 0;
    for (int i = 0; i < d->n; ++i) {
        TRY(act_layout(c, d->mb, d->c[i], d->h, d->w, &smd[i]));
        total += d->c[i];
    }
    int64_t dd[4] = {d->mb, total, d->h, d->w};
    TRY(tag_md(c, &dmd, 4, dd, dnnl_format_tag_any));
    dnnl_primitive_attr_t attr = NULL;
    DNN(c, dnnl_primitive_attr_create, (&attr));
    dnnl_status_t s = fill_attr(attr, false, false);
    if (s == dnnl_success)
        s = dnnl_concat_primitive_desc_create(&h->pd, &dmd, d->n, 1, smd, attr, c->eng);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return cnnk_peer_fail(c, s, "dnnl_concat_primitive_desc_create");
    for (int i = 0; i < d->n; ++i)
        TRY(bind_filled(h, DNNL_ARG_MULTIPLE_SRC + i, dnnl_query_src_md, i, 1u + (unsigned)i));
    return bind_filled(h, DNNL_ARG_DST, dnnl_query_dst_md, 0, 4);
}

static cnnk_status checked_copy(const cnnk_layer_desc *l, cnnk_layer_desc *o, cnnk_error *err) {
    *o = *l;
    switch (l->kind) {
    case CNNK_LAYER_CONV:
    case CNNK_LAYER_DECONV: return cnnk_conv_check(&o->u.conv, err);
    case CNNK_LAYER_FC: return cnnk_fc_check(&o->u.fc, err);
    case CNNK_LAYER_POOL: return cnnk_pool_check(&o->u.pool, err);
    case CNNK_LAYER_LRN: return cnnk_lrn_check(&o->u.lrn, err);
    case CNNK_LAYER_BNORM: return cnnk_bnorm_check(&o->u.bnorm, err);
    case CNNK_LAYER_SOFTMAX: return cnnk_softmax_check(&o->u.softmax, err);
    case CNNK_LAYER_ELTWISE: return cnnk_eltwise_check(&o->u.eltwise, err);
    case CNNK_LAYER_CONCAT: return cnnk_concat_check(&o->u.concat, err);
    case CNNK_LAYER_KIND_COUNT: break;
    }
    return cnnk_fail(err, CNNK_EINVAL, "onednn layer: unknown layer kind %d", (int)l->kind);
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
    case CNNK_LAYER_KIND_COUNT: break;
    }
    return CNNK_EINVAL;
}

static const char *layer_name(const cnnk_layer_desc *l) {
    switch (l->kind) {
    case CNNK_LAYER_CONV:
    case CNNK_LAYER_DECONV: return l->u.conv.name;
    case CNNK_LAYER_FC: return l->u.fc.name;
    case CNNK_LAYER_POOL: return l->u.pool.name;
    case CNNK_LAYER_LRN: return l->u.lrn.name;
    case CNNK_LAYER_BNORM: return l->u.bnorm.name;
    case CNNK_LAYER_SOFTMAX: return l->u.softmax.name;
    case CNNK_LAYER_ELTWISE: return l->u.eltwise.name;
    case CNNK_LAYER_CONCAT: return l->u.concat.name;
    case CNNK_LAYER_KIND_COUNT: break;
    }
    return "";
}

static cnnk_status layer_open(cnnk_onednn_layer *h, cnnk_layer_desc *l,
                              const cnnk_epilogue_spec *ep) {
    const cnnk_peer_ctx *c = &h->c;
    DNN(c, dnnl_engine_create, (&h->c.eng, dnnl_cpu, 0));
    DNN(c, dnnl_stream_create, (&h->c.strm, h->c.eng, dnnl_stream_default_flags));
    TRY(layer_body(h, l, ep));
    TRY(bind_scratch(h));
    DNN(c, dnnl_primitive_create, (&h->prim, h->pd));
    return CNNK_OK;
}

cnnk_status cnnk_onednn_layer_create(const cnnk_layer_desc *l, const cnnk_epilogue_spec *ep,
                                     cnnk_onednn_layer **out, cnnk_error *err) {
    if (!out) return cnnk_fail(err, CNNK_EINVAL, "onednn layer: out is NULL");
    *out = NULL;
    if (!l) return cnnk_fail(err, CNNK_EINVAL, "onednn layer: descriptor is NULL");
    cnnk_layer_desc dl;
    TRY(checked_copy(l, &dl, err));
    cnnk_onednn_layer *h = calloc(1, sizeof *h);
    if (!h) return cnnk_fail(err, CNNK_ENOMEM, "onednn layer: out of memory");
    snprintf(h->name, sizeof h->name, "%s",
             layer_name(&dl)[0] ? layer_name(&dl) : cnnk_layer_kind_name(dl.kind));
    h->c.layer = h->name;
    h->c.err = err;
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
    return h ? cnnk_peer_impl(h->pd) : "none";
}

#else /* no oneDNN in this build */

static cnnk_status no_onednn(cnnk_error *err, const char *what) {
    return cnnk_fail(err, CNNK_EUNSUPPORTED, "%s: built without oneDNN (CNNK_WITH_ONEDNN=OFF)",
                     what);
}

cnnk_status cnnk_onednn_set_max_isa(const char *isa, cnnk_error *err) {
    (void)isa;
    return no_onednn(err, "onednn max isa");
}
const char *cnnk_onednn_max_isa_name(void) { return "none"; }

cnnk_status cnnk_onednn_layer_create(const cnnk_layer_desc *l, const cnnk_epilogue_spec *ep,
                                     cnnk_onednn_layer **out, cnnk_error *err) {
    (void)l, (void)ep;
    if (out) *out = NULL;
    return no_onednn(err, "onednn layer");
}
cnnk_status cnnk_onednn_layer_execute(cnnk_onednn_layer *h) {
    (void)h;
    return CNNK_EUNSUPPORTED;
}
const char *cnnk_onednn_layer_impl(const cnnk_onednn_layer *h) {
    (void)h;
    return "none";
}
void cnnk_onednn_layer_destroy(cnnk_onednn_layer *h) { (void)h; }

#endif
