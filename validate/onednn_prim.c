/* The one oneDNN primitive builder; see validate/onednn_prim.h. */
#include "validate/onednn_prim.h"

#if defined(CNNK_HAVE_ONEDNN) && CNNK_HAVE_ONEDNN

#include <stdio.h>

#include <dnnl_debug.h>

/* ---- the context --------------------------------------------------------- */

cnnk_status cnnk_dnn_fail(const cnnk_dnn_ctx *c, dnnl_status_t s, const char *call) {
    return cnnk_fail(c->err, CNNK_EONEDNN, "%s: oneDNN %s failed: %s", c->layer, call,
                     dnnl_status2str(s));
}

cnnk_status cnnk_dnn_open(cnnk_dnn_ctx *c) {
    CNNK_DNN(c, dnnl_engine_create, (&c->eng, dnnl_cpu, 0));
    CNNK_DNN(c, dnnl_stream_create, (&c->strm, c->eng, dnnl_stream_default_flags));
    return CNNK_OK;
}

void cnnk_dnn_close(cnnk_dnn_ctx *c) {
    if (c->strm) dnnl_stream_destroy(c->strm);
    if (c->eng) dnnl_engine_destroy(c->eng);
    c->strm = NULL;
    c->eng = NULL;
}

/* ---- memory descriptors -------------------------------------------------- */

cnnk_status cnnk_dnn_tag_md(const cnnk_dnn_ctx *c, dnnl_memory_desc_t *md, int nd,
                            const int64_t *dims, dnnl_format_tag_t tag) {
    dnnl_dims_t d = {0};
    for (int i = 0; i < nd; ++i) d[i] = dims[i];
    CNNK_DNN(c, dnnl_memory_desc_init_by_tag, (md, nd, d, dnnl_f32, tag));
    return CNNK_OK;
}

cnnk_status cnnk_dnn_vec_md(const cnnk_dnn_ctx *c, dnnl_memory_desc_t *md, int64_t n) {
    return cnnk_dnn_tag_md(c, md, 1, &n, dnnl_a);
}

cnnk_status cnnk_dnn_nhwc_md(const cnnk_dnn_ctx *c, dnnl_memory_desc_t *md, int64_t n,
                             int64_t ch, int64_t h, int64_t w, int64_t ld) {
    dnnl_dims_t dims = {n, ch, h, w};
    dnnl_dims_t strides = {h * w * ld, 1, w * ld, ld};
    CNNK_DNN(c, dnnl_memory_desc_init_by_strides, (md, 4, dims, dnnl_f32, strides));
    return CNNK_OK;
}

cnnk_status cnnk_dnn_conv_wmd(const cnnk_dnn_ctx *c, const cnnk_conv_desc *d, bool any,
                              dnnl_memory_desc_t *md) {
    if (d->g == 1) {
        int64_t dims[4] = {d->oc, d->ic, d->kh, d->kw};
        return cnnk_dnn_tag_md(c, md, 4, dims, any ? dnnl_format_tag_any : dnnl_oihw);
    }
    int64_t dims[5] = {d->g, d->oc / d->g, d->ic / d->g, d->kh, d->kw};
    return cnnk_dnn_tag_md(c, md, 5, dims, any ? dnnl_format_tag_any : dnnl_goihw);
}

static cnnk_status fc_src_ndims(const cnnk_dnn_ctx *c, const cnnk_fc_desc *d, int src_ndims) {
    if (src_ndims == 4 || (src_ndims == 2 && d->ih == 1 && d->iw == 1)) return CNNK_OK;
    return cnnk_fail(c->err, CNNK_EINVAL, "%s: fc on a %d-D src of %lldx%lld pixels", c->layer,
                     src_ndims, (long long)d->ih, (long long)d->iw);
}

cnnk_status cnnk_dnn_fc_wmd(const cnnk_dnn_ctx *c, const cnnk_fc_desc *d, int src_ndims,
                            bool any, dnnl_memory_desc_t *md) {
    CNNK_TRY(fc_src_ndims(c, d, src_ndims));
    int64_t dims[4] = {d->oc, d->ic, d->ih, d->iw};
    dnnl_format_tag_t plain = src_ndims == 4 ? dnnl_oihw : dnnl_oi;
    return cnnk_dnn_tag_md(c, md, src_ndims, dims, any ? dnnl_format_tag_any : plain);
}

/* ---- attributes and primitive descriptors ---------------------------------- */

static dnnl_status_t fill_attr(const cnnk_dnn_ctx *c, dnnl_primitive_attr_t attr, bool sum,
                               bool relu, float alpha) {
    dnnl_status_t s = dnnl_success;
    if (c->user_scratchpad)
        s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s != dnnl_success || (!sum && !relu)) return s;
    dnnl_post_ops_t ops = NULL;
    s = dnnl_post_ops_create(&ops);
    if (s != dnnl_success) return s;
    if (sum) s = dnnl_post_ops_append_sum(ops, 1.0f);
    if (s == dnnl_success && relu)
        s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, alpha, 0.0f);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_post_ops_destroy(ops);
    return s;
}

cnnk_status cnnk_dnn_attr(const cnnk_dnn_ctx *c, bool sum, bool relu, float alpha,
                          dnnl_primitive_attr_t *attr) {
    *attr = NULL;
    CNNK_DNN(c, dnnl_primitive_attr_create, (attr));
    dnnl_status_t s = fill_attr(c, *attr, sum, relu, alpha);
    if (s == dnnl_success) return CNNK_OK;
    dnnl_primitive_attr_destroy(*attr);
    *attr = NULL;
    return cnnk_dnn_fail(c, s, "primitive attributes");
}

cnnk_status cnnk_dnn_pd(const cnnk_dnn_ctx *c, const void *op_desc, bool sum, bool relu,
                        float alpha, dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    CNNK_TRY(cnnk_dnn_attr(c, sum, relu, alpha, &attr));
    dnnl_status_t s = dnnl_primitive_desc_create(pd, op_desc, attr, c->eng, NULL);
    dnnl_primitive_attr_destroy(attr);
    return s == dnnl_success ? CNNK_OK : cnnk_dnn_fail(c, s, "dnnl_primitive_desc_create");
}

/* ---- one builder per layer kind ------------------------------------------------ */

/* md, or the same dims as format `any` when md is NULL. */
static cnnk_status md_or_any(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *md, int nd,
                             const int64_t *dims, dnnl_memory_desc_t *out) {
    if (md) {
        *out = *md;
        return CNNK_OK;
    }
    return cnnk_dnn_tag_md(c, out, nd, dims, dnnl_format_tag_any);
}

/* The convolution (or deconvolution) of algorithm kind alg. */
static cnnk_status conv_pd_kind(const cnnk_dnn_ctx *c, const cnnk_conv_desc *d,
                                const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                                bool bias, bool sum, bool relu, float alpha, dnnl_alg_kind_t alg,
                                dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    int64_t sdims[4] = {d->mb, d->ic, d->ih, d->iw}, ddims[4] = {d->mb, d->oc, d->oh, d->ow};
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    CNNK_TRY(md_or_any(c, src, 4, sdims, &smd));
    CNNK_TRY(md_or_any(c, dst, 4, ddims, &dmd));
    CNNK_TRY(cnnk_dnn_conv_wmd(c, d, true, &wmd));
    CNNK_TRY(cnnk_dnn_vec_md(c, &bmd, d->oc));
    const dnnl_memory_desc_t *b = bias ? &bmd : NULL;
    dnnl_dims_t strides = {d->sh, d->sw};
    dnnl_dims_t dilates = {d->dh - 1, d->dw - 1}; /* oneDNN: 0 = none */
    dnnl_dims_t pad_l = {d->pt, d->pl}, pad_r = {d->pb, d->pr};
    if (d->transposed) {
        dnnl_deconvolution_desc_t od;
        CNNK_DNN(c, dnnl_dilated_deconvolution_forward_desc_init,
                 (&od, dnnl_forward_inference, dnnl_deconvolution_direct, &smd, &wmd, b, &dmd,
                  strides, dilates, pad_l, pad_r));
        return cnnk_dnn_pd(c, &od, sum, relu, alpha, pd);
    }
    dnnl_convolution_desc_t od;
    CNNK_DNN(c, dnnl_dilated_convolution_forward_desc_init,
             (&od, dnnl_forward_inference, alg, &smd, &wmd, b, &dmd, strides, dilates, pad_l,
              pad_r));
    return cnnk_dnn_pd(c, &od, sum, relu, alpha, pd);
}

cnnk_status cnnk_dnn_conv_pd(const cnnk_dnn_ctx *c, const cnnk_conv_desc *d,
                             const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                             bool bias, bool sum, bool relu, float alpha,
                             dnnl_primitive_desc_t *pd) {
    return conv_pd_kind(c, d, src, dst, bias, sum, relu, alpha, dnnl_convolution_direct, pd);
}

/* What a convolution primitive descriptor runs: oneDNN writes the
 * algorithm it resolved (AUTO's choice) into its copy of the descriptor. */
static cnnk_onednn_algo pd_algo(const dnnl_primitive_desc_t pd) {
    const dnnl_convolution_desc_t *cd = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_convolution_d, 0, &cd) != dnnl_success || !cd)
        return CNNK_ONEDNN_DIRECT;
    return cd->alg_kind == dnnl_convolution_winograd ? CNNK_ONEDNN_WINOGRAD : CNNK_ONEDNN_DIRECT;
}

cnnk_status cnnk_dnn_conv_pd_algo(const cnnk_dnn_ctx *c, const cnnk_conv_desc *d,
                                  const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                                  bool bias, bool sum, bool relu, float alpha,
                                  cnnk_onednn_algo algo, dnnl_primitive_desc_t *pd,
                                  cnnk_onednn_algo *used, char *why, size_t len) {
    if (why && len) why[0] = '\0';
    *used = CNNK_ONEDNN_DIRECT;
    if (d->transposed || algo == CNNK_ONEDNN_DIRECT)
        return conv_pd_kind(c, d, src, dst, bias, sum, relu, alpha, dnnl_convolution_direct, pd);
    if (algo == CNNK_ONEDNN_AUTO) {
        CNNK_TRY(conv_pd_kind(c, d, src, dst, bias, sum, relu, alpha, dnnl_convolution_auto, pd));
        *used = pd_algo(*pd);
        return CNNK_OK;
    }
    /* Winograd, asked quietly: a refusal is the fallback's reason, not an
     * error. */
    cnnk_error refused = {0};
    cnnk_dnn_ctx quiet = *c;
    quiet.err = &refused;
    if (conv_pd_kind(&quiet, d, src, dst, bias, sum, relu, alpha, dnnl_convolution_winograd, pd) ==
        CNNK_OK) {
        *used = pd_algo(*pd);
        return CNNK_OK;
    }
    if (why && len) snprintf(why, len, "winograd refused (%s)", refused.msg);
    return conv_pd_kind(c, d, src, dst, bias, sum, relu, alpha, dnnl_convolution_direct, pd);
}

cnnk_status cnnk_dnn_fc_pd(const cnnk_dnn_ctx *c, const cnnk_fc_desc *d, int src_ndims,
                           const dnnl_memory_desc_t *src, bool bias, bool relu, float alpha,
                           dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    CNNK_TRY(fc_src_ndims(c, d, src_ndims));
    int64_t sdims[4] = {d->mb, d->ic, d->ih, d->iw}, ddims[2] = {d->mb, d->oc};
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    CNNK_TRY(md_or_any(c, src, src_ndims, sdims, &smd));
    CNNK_TRY(cnnk_dnn_fc_wmd(c, d, src_ndims, true, &wmd));
    CNNK_TRY(cnnk_dnn_vec_md(c, &bmd, d->oc));
    CNNK_TRY(cnnk_dnn_tag_md(c, &dmd, 2, ddims, dnnl_nc));
    dnnl_inner_product_desc_t od;
    CNNK_DNN(c, dnnl_inner_product_forward_desc_init,
             (&od, dnnl_forward_inference, &smd, &wmd, bias ? &bmd : NULL, &dmd));
    return cnnk_dnn_pd(c, &od, false, relu, alpha, pd);
}

static dnnl_alg_kind_t pool_alg(cnnk_pool_alg a) {
    switch (a) {
    case CNNK_POOL_MAX: return dnnl_pooling_max;
    case CNNK_POOL_AVG_INCLUDE_PAD: return dnnl_pooling_avg_include_padding;
    case CNNK_POOL_AVG_EXCLUDE_PAD: break;
    }
    return dnnl_pooling_avg_exclude_padding;
}

cnnk_status cnnk_dnn_pool_pd(const cnnk_dnn_ctx *c, const cnnk_pool_desc *d,
                             const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                             dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    int64_t need_b, need_r;
    cnnk_pool_end_padding(d, &need_b, &need_r);
    bool overhang = need_b > d->pb || need_r > d->pr;
    if (overhang && d->alg == CNNK_POOL_AVG_INCLUDE_PAD)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "%s: avg pooling including padding with a ceil-mode overhang "
                         "(bottom %lld > %lld or right %lld > %lld): oneDNN would count the "
                         "overhang cells in the divisor, cnnk does not",
                         c->layer, (long long)need_b, (long long)d->pb, (long long)need_r,
                         (long long)d->pr);
    int64_t ddims[4] = {d->mb, d->c, d->oh, d->ow};
    dnnl_memory_desc_t dmd;
    CNNK_TRY(md_or_any(c, dst, 4, ddims, &dmd));
    dnnl_dims_t strides = {d->sh, d->sw}, kernel = {d->kh, d->kw};
    dnnl_dims_t pad_l = {d->pt, d->pl};
    dnnl_dims_t pad_r = {need_b, need_r};
    dnnl_pooling_desc_t od;
    CNNK_DNN(c, dnnl_pooling_forward_desc_init,
             (&od, dnnl_forward_inference, pool_alg(d->alg), src, &dmd, strides, kernel, pad_l,
              pad_r));
    return cnnk_dnn_pd(c, &od, false, false, 0.0f, pd);
}

cnnk_status cnnk_dnn_lrn_pd(const cnnk_dnn_ctx *c, const cnnk_lrn_desc *d,
                            const dnnl_memory_desc_t *md, dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    /* The size is odd (cnnk_lrn_check): for an even one oneDNN's window
     * c +- (size-1)/2 would not be cnnk's c - (size-1)/2 .. c + size/2.
     * oneDNN divides alpha by size itself (dev guide: alpha / n_l), as
     * cnnk's formula does: alpha goes in unchanged. */
    dnnl_lrn_desc_t od;
    CNNK_DNN(c, dnnl_lrn_forward_desc_init,
             (&od, dnnl_forward_inference, dnnl_lrn_across_channels, md, d->size, d->alpha,
              d->beta, d->k));
    return cnnk_dnn_pd(c, &od, false, false, 0.0f, pd);
}

cnnk_status cnnk_dnn_bnorm_pd(const cnnk_dnn_ctx *c, const cnnk_bnorm_desc *d,
                              const dnnl_memory_desc_t *md, bool relu, float alpha,
                              dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    /* oneDNN 2.6's fused ReLU flag has no slope, nor does batch-norm take
     * an eltwise post-op: a leaky ReLU after a batch-norm it cannot fuse. */
    if (relu && alpha != 0.0f)
        return cnnk_fail(c->err, CNNK_EUNSUPPORTED,
                         "oneDNN: batch-norm with a fused leaky ReLU (alpha %g)", (double)alpha);
    unsigned flags = dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift;
    if (relu) flags |= dnnl_fuse_norm_relu;
    dnnl_batch_normalization_desc_t od;
    CNNK_DNN(c, dnnl_batch_normalization_forward_desc_init,
             (&od, dnnl_forward_inference, md, d->eps, flags));
    return cnnk_dnn_pd(c, &od, false, false, 0.0f, pd);
}

cnnk_status cnnk_dnn_softmax_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *src,
                                const dnnl_memory_desc_t *dst, dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    /* v2 takes src and dst descriptors apart, so pitches may differ. */
    dnnl_softmax_v2_desc_t od;
    CNNK_DNN(c, dnnl_softmax_v2_forward_desc_init,
             (&od, dnnl_forward_inference, dnnl_softmax_accurate, src, dst, 1));
    return cnnk_dnn_pd(c, &od, false, false, 0.0f, pd);
}

cnnk_status cnnk_dnn_resampling_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *src,
                                   const dnnl_memory_desc_t *dst, dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    /* factors NULL: oneDNN takes them from the sizes, dst / src */
    dnnl_resampling_desc_t od;
    CNNK_DNN(c, dnnl_resampling_forward_desc_init,
             (&od, dnnl_forward_inference, dnnl_resampling_linear, NULL, src, dst));
    return cnnk_dnn_pd(c, &od, false, false, 0.0f, pd);
}

cnnk_status cnnk_dnn_relu_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *md, float alpha,
                             dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    dnnl_eltwise_desc_t od;
    CNNK_DNN(c, dnnl_eltwise_forward_desc_init,
             (&od, dnnl_forward_inference, dnnl_eltwise_relu, md, alpha, 0.0f));
    return cnnk_dnn_pd(c, &od, false, false, 0.0f, pd);
}

cnnk_status cnnk_dnn_add_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *a,
                            const dnnl_memory_desc_t *b, const dnnl_memory_desc_t *dst,
                            bool relu, float alpha, dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    dnnl_binary_desc_t od;
    CNNK_DNN(c, dnnl_binary_desc_init, (&od, dnnl_binary_add, a, b, dst));
    return cnnk_dnn_pd(c, &od, false, relu, alpha, pd);
}

cnnk_status cnnk_dnn_concat_pd(const cnnk_dnn_ctx *c, int n, const dnnl_memory_desc_t *src,
                               const dnnl_memory_desc_t *dst, dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    CNNK_TRY(cnnk_dnn_attr(c, false, false, 0.0f, &attr));
    dnnl_status_t s = dnnl_concat_primitive_desc_create(pd, dst, n, 1, src, attr, c->eng);
    dnnl_primitive_attr_destroy(attr);
    return s == dnnl_success ? CNNK_OK : cnnk_dnn_fail(c, s, "dnnl_concat_primitive_desc_create");
}

cnnk_status cnnk_dnn_reorder_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *from,
                                const dnnl_memory_desc_t *to, dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    CNNK_TRY(cnnk_dnn_attr(c, false, false, 0.0f, &attr));
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(pd, from, c->eng, to, c->eng, attr);
    dnnl_primitive_attr_destroy(attr);
    return s == dnnl_success ? CNNK_OK
                             : cnnk_dnn_fail(c, s, "dnnl_reorder_primitive_desc_create");
}

/* ---- data and queries -------------------------------------------------------------- */

cnnk_status cnnk_dnn_reorder_into(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *from,
                                  const void *data, const dnnl_memory_desc_t *to,
                                  dnnl_memory_t *out) {
    *out = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t rp = NULL;
    dnnl_memory_t src = NULL;
    const char *call = "dnnl_memory_create";
    dnnl_status_t s = dnnl_memory_create(out, to, c->eng, DNNL_MEMORY_ALLOCATE);
    if (s == dnnl_success) s = dnnl_memory_create(&src, from, c->eng, (void *)data);
    /* Run once, now, where nothing is timed: oneDNN's own scratchpad,
     * whatever the context's policy. */
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
    return cnnk_dnn_fail(c, s, call);
}

const char *cnnk_dnn_impl(const dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success)
        return "unknown";
    return impl ? impl : "unknown";
}

size_t cnnk_dnn_scratch_bytes(const dnnl_primitive_desc_t pd) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

#endif
