/* cnnk layers through oneDNN's C API; see validate/onednn.h. */
#include "validate/onednn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(CNNK_HAVE_ONEDNN) && CNNK_HAVE_ONEDNN

#include <dnnl.h>
#include <dnnl_debug.h>

#define STR_(x) #x
#define STR(x) STR_(x)

const char *cnnk_onednn_version(void) {
    return STR(DNNL_VERSION_MAJOR) "." STR(DNNL_VERSION_MINOR) "." STR(DNNL_VERSION_PATCH);
}

bool cnnk_onednn_available(void) { return true; }

/* ---- one call's resources --------------------------------------------- */

/* Concat binds every input plus dst; the other primitives bind at most 6. */
#define MAX_ARGS (CNNK_CONCAT_MAX_INPUTS + 2)

/* Everything one call creates, so that one function destroys it on every
 * path: the layer bodies return early on the first failure and the public
 * function closes the context whatever happened. */
typedef struct run_ctx {
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    dnnl_primitive_attr_t attr;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[MAX_ARGS];
    float *tmp; /* src restaged at dst's pitch, when a primitive needs one desc */
    float *dense_dst; /* deconv + residual: a dense dst, see conv_body */
    /* the weights reorder from OIHW into the layout the primitive chose */
    dnnl_primitive_desc_t wpd;
    dnnl_primitive_t wprim;
    dnnl_memory_t wfrom, wto;
    void *wbuf;
    const char *layer;
    cnnk_error *err;
} run_ctx;

static cnnk_status dnn_fail(run_ctx *c, dnnl_status_t s, const char *call) {
    return cnnk_fail(c->err, CNNK_EONEDNN, "%s: oneDNN %s failed: %s", c->layer, call,
                     dnnl_status2str(s));
}

/* DNN(c, dnnl_fn, (args)): calls dnnl_fn and returns its failure, named. */
#define DNN(c, fn, args)                                                         \
    do {                                                                         \
        dnnl_status_t dnn_s_ = fn args;                                          \
        if (dnn_s_ != dnnl_success) return dnn_fail((c), dnn_s_, #fn);           \
    } while (0)

#define TRY(x)                                                                   \
    do {                                                                         \
        cnnk_status try_s_ = (x);                                                \
        if (try_s_ != CNNK_OK) return try_s_;                                    \
    } while (0)

static cnnk_status ctx_open(run_ctx *c, const char *name, const char *kind, cnnk_error *err) {
    memset(c, 0, sizeof *c);
    c->layer = name && name[0] ? name : kind;
    c->err = err;
    DNN(c, dnnl_engine_create, (&c->eng, dnnl_cpu, 0));
    DNN(c, dnnl_stream_create, (&c->strm, c->eng, dnnl_stream_default_flags));
    DNN(c, dnnl_primitive_attr_create, (&c->attr));
    return CNNK_OK;
}

/* Objects that live on the engine go before it. */
static void ctx_close(run_ctx *c) {
    for (int i = 0; i < c->nargs; ++i) dnnl_memory_destroy(c->args[i].memory);
    if (c->prim) dnnl_primitive_destroy(c->prim);
    if (c->pd) dnnl_primitive_desc_destroy(c->pd);
    if (c->wfrom) dnnl_memory_destroy(c->wfrom);
    if (c->wto) dnnl_memory_destroy(c->wto);
    if (c->wprim) dnnl_primitive_destroy(c->wprim);
    if (c->wpd) dnnl_primitive_desc_destroy(c->wpd);
    if (c->attr) dnnl_primitive_attr_destroy(c->attr);
    if (c->strm) dnnl_stream_destroy(c->strm);
    if (c->eng) dnnl_engine_destroy(c->eng);
    free(c->wbuf);
    free(c->tmp);
    free(c->dense_dst);
    memset(c, 0, sizeof *c);
}

/* Post-ops in cnnk_epilogue's order: sum (the residual already in dst),
 * then ReLU. The attribute keeps its own copy of the list. */
static cnnk_status set_post_ops(run_ctx *c, bool sum, bool relu) {
    if (!sum && !relu) return CNNK_OK;
    dnnl_post_ops_t ops = NULL;
    DNN(c, dnnl_post_ops_create, (&ops));
    dnnl_status_t s = dnnl_success;
    const char *call = "dnnl_post_ops_append_sum";
    if (sum) s = dnnl_post_ops_append_sum(ops, 1.0f);
    if (s == dnnl_success && relu) {
        call = "dnnl_post_ops_append_eltwise";
        s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    }
    if (s == dnnl_success) {
        call = "dnnl_primitive_attr_set_post_ops";
        s = dnnl_primitive_attr_set_post_ops(c->attr, ops);
    }
    dnnl_post_ops_destroy(ops);
    return s == dnnl_success ? CNNK_OK : dnn_fail(c, s, call);
}

static cnnk_status create_pd(run_ctx *c, const void *op_desc) {
    DNN(c, dnnl_primitive_desc_create, (&c->pd, op_desc, c->attr, c->eng, NULL));
    return CNNK_OK;
}

/* oneDNN reads or writes the caller's buffer in place (no copy). */
static cnnk_status bind(run_ctx *c, int arg, const dnnl_memory_desc_t *md, const void *p) {
    if (c->nargs == MAX_ARGS)
        return cnnk_fail(c->err, CNNK_EINVAL, "%s: more than %d oneDNN arguments", c->layer,
                         MAX_ARGS);
    dnnl_memory_t m = NULL;
    DNN(c, dnnl_memory_create, (&m, md, c->eng, (void *)p));
    c->args[c->nargs].arg = arg;
    c->args[c->nargs].memory = m;
    ++c->nargs;
    return CNNK_OK;
}

static cnnk_status execute(run_ctx *c) {
    DNN(c, dnnl_primitive_create, (&c->prim, c->pd));
    DNN(c, dnnl_primitive_execute, (c->prim, c->strm, c->nargs, c->args));
    DNN(c, dnnl_stream_wait, (c->strm));
    return CNNK_OK;
}

/* Weights are described to the primitive as format `any`: oneDNN's fast
 * implementations exist only for their own blocked layouts, and with
 * plain OIHW weights every convolution falls back to "ref:any". The
 * caller's OIHW weights are reordered into the chosen layout once per
 * call, which is oneDNN's counterpart of cnnk's pack(). *w is replaced by
 * the packed copy when one is needed. */
static cnnk_status pack_weights(run_ctx *c, const dnnl_memory_desc_t *user, const void **w) {
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(c->pd, dnnl_query_weights_md, 0);
    if (!want)
        return cnnk_fail(c->err, CNNK_EONEDNN, "%s: oneDNN gave no weights layout", c->layer);
    if (dnnl_memory_desc_equal(want, user)) return CNNK_OK;
    size_t bytes = dnnl_memory_desc_get_size(want);
    c->wbuf = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!c->wbuf)
        return cnnk_fail(c->err, CNNK_ENOMEM, "%s: no memory for packed weights", c->layer);
    DNN(c, dnnl_reorder_primitive_desc_create, (&c->wpd, user, c->eng, want, c->eng, NULL));
    DNN(c, dnnl_primitive_create, (&c->wprim, c->wpd));
    DNN(c, dnnl_memory_create, (&c->wfrom, user, c->eng, (void *)*w));
    DNN(c, dnnl_memory_create, (&c->wto, want, c->eng, c->wbuf));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, c->wfrom}, {DNNL_ARG_TO, c->wto}};
    DNN(c, dnnl_primitive_execute, (c->wprim, c->strm, 2, args));
    DNN(c, dnnl_stream_wait, (c->strm));
    *w = c->wbuf;
    return CNNK_OK;
}

/* ---- memory descriptors of cnnk's layouts ----------------------------- */

/* NHWC with pixel pitch ld, in oneDNN's logical order {N, C, H, W}. */
static cnnk_status act_md(run_ctx *c, dnnl_memory_desc_t *md, int64_t n, int64_t ch,
                          int64_t h, int64_t w, int64_t ld) {
    dnnl_dims_t dims = {n, ch, h, w};
    dnnl_dims_t strides = {h * w * ld, 1, w * ld, ld};
    DNN(c, dnnl_memory_desc_init_by_strides, (md, 4, dims, dnnl_f32, strides));
    return CNNK_OK;
}

static cnnk_status vec_md(run_ctx *c, dnnl_memory_desc_t *md, int64_t n) {
    dnnl_dims_t dims = {n};
    DNN(c, dnnl_memory_desc_init_by_tag, (md, 1, dims, dnnl_f32, dnnl_a));
    return CNNK_OK;
}

static cnnk_status tag_md(run_ctx *c, dnnl_memory_desc_t *md, int nd, const int64_t *d,
                          dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {0};
    for (int i = 0; i < nd; ++i) dims[i] = d[i];
    DNN(c, dnnl_memory_desc_init_by_tag, (md, nd, dims, dnnl_f32, tag));
    return CNNK_OK;
}

/* ---- argument checks --------------------------------------------------- */

static cnnk_status need_ptr(run_ctx *c, const void *p, const char *what) {
    if (p) return CNNK_OK;
    return cnnk_fail(c->err, CNNK_EINVAL, "%s: %s is NULL", c->layer, what);
}

static cnnk_status need_ld(run_ctx *c, int64_t ld, int64_t ch, const char *what) {
    if (ld >= ch) return CNNK_OK;
    return cnnk_fail(c->err, CNNK_EINVAL, "%s: %s pitch %lld is smaller than its %lld channels",
                     c->layer, what, (long long)ld, (long long)ch);
}

static cnnk_status need_act(run_ctx *c, const void *p, int64_t ld, int64_t ch,
                            const char *what) {
    TRY(need_ptr(c, p, what));
    return need_ld(c, ld, ch, what);
}

/* Copies ch channels of npix pixels between pitches; memmove because a
 * residual may be dst itself. */
static void copy_pixels(int64_t npix, int64_t ch, const float *src, int64_t src_ld, float *dst,
                        int64_t dst_ld) {
    if (src == dst && src_ld == dst_ld) return;
    for (int64_t p = 0; p < npix; ++p)
        memmove(dst + p * dst_ld, src + p * src_ld, (size_t)ch * sizeof(float));
}

/* Eltwise, LRN and batch-norm take one descriptor for src and dst. When
 * the pitches differ, src is restaged at dst's pitch in a scratch buffer
 * (not in dst: LRN must not run in place) and *md describes both. */
static cnnk_status stage_src(run_ctx *c, int64_t n, int64_t ch, int64_t h, int64_t w,
                             const float **src, int64_t src_ld, int64_t dst_ld,
                             dnnl_memory_desc_t *md) {
    if (src_ld != dst_ld) {
        size_t count = (size_t)(n * h * w) * (size_t)dst_ld;
        c->tmp = malloc(count * sizeof(float));
        if (!c->tmp)
            return cnnk_fail(c->err, CNNK_ENOMEM, "%s: no memory to restage src", c->layer);
        memset(c->tmp, 0, count * sizeof(float));
        copy_pixels(n * h * w, ch, *src, src_ld, c->tmp, dst_ld);
        *src = c->tmp;
    }
    return act_md(c, md, n, ch, h, w, dst_ld);
}

/* ---- convolution and deconvolution -------------------------------------- */

/* The caller's OIHW / GOIHW weights, or the same dims in layout `any`. */
static cnnk_status conv_weights_md(run_ctx *c, const cnnk_conv_desc *d, bool any,
                                   dnnl_memory_desc_t *md) {
    if (d->g == 1) {
        int64_t dims[4] = {d->oc, d->ic, d->kh, d->kw};
        return tag_md(c, md, 4, dims, any ? dnnl_format_tag_any : dnnl_oihw);
    }
    int64_t dims[5] = {d->g, d->oc / d->g, d->ic / d->g, d->kh, d->kw};
    return tag_md(c, md, 5, dims, any ? dnnl_format_tag_any : dnnl_goihw);
}

typedef struct conv_mds {
    dnnl_memory_desc_t src, wei, wei_any, bias, dst;
} conv_mds;

/* Builds the primitive descriptor of d (checked) with ep's post-ops. */
static cnnk_status conv_pd(run_ctx *c, const cnnk_conv_desc *d, int64_t src_ld, int64_t dst_ld,
                           const cnnk_epilogue *ep, conv_mds *m) {
    bool has_bias = ep && ep->bias, has_res = ep && ep->residual, relu = ep && ep->relu;
    TRY(act_md(c, &m->src, d->mb, d->ic, d->ih, d->iw, src_ld));
    TRY(act_md(c, &m->dst, d->mb, d->oc, d->oh, d->ow, dst_ld));
    TRY(conv_weights_md(c, d, false, &m->wei));
    TRY(conv_weights_md(c, d, true, &m->wei_any));
    TRY(vec_md(c, &m->bias, d->oc));
    TRY(set_post_ops(c, has_res, relu));
    const dnnl_memory_desc_t *bias = has_bias ? &m->bias : NULL;
    dnnl_dims_t strides = {d->sh, d->sw};
    dnnl_dims_t dilates = {d->dh - 1, d->dw - 1}; /* oneDNN: 0 = none */
    dnnl_dims_t pad_l = {d->pt, d->pl}, pad_r = {d->pb, d->pr};
    if (d->transposed) {
        dnnl_deconvolution_desc_t od;
        DNN(c, dnnl_dilated_deconvolution_forward_desc_init,
            (&od, dnnl_forward_inference, dnnl_deconvolution_direct, &m->src, &m->wei_any, bias,
             &m->dst, strides, dilates, pad_l, pad_r));
        return create_pd(c, &od);
    }
    dnnl_convolution_desc_t od;
    DNN(c, dnnl_dilated_convolution_forward_desc_init,
        (&od, dnnl_forward_inference, dnnl_convolution_direct, &m->src, &m->wei_any, bias, &m->dst,
         strides, dilates, pad_l, pad_r));
    return create_pd(c, &od);
}

static cnnk_status conv_args(run_ctx *c, const cnnk_conv_desc *d, const float *src,
                             int64_t src_ld, const float *w, const cnnk_epilogue *ep, float *dst,
                             int64_t dst_ld) {
    TRY(need_act(c, src, src_ld, d->ic, "src"));
    TRY(need_act(c, dst, dst_ld, d->oc, "dst"));
    TRY(need_ptr(c, w, "weights"));
    if (ep && ep->residual) TRY(need_ld(c, ep->residual_ld, d->oc, "residual"));
    return CNNK_OK;
}

/* oneDNN 2.6.3's deconvolution mishandles a dst pitch wider than its
 * channels: the sum post-op gives wrong values (test_onednn's conv case 8)
 * and, without it, the JIT kernel writes past the strided buffer (heap
 * corruption that ASan cannot see in JIT code; valgrind does). Every
 * strided deconvolution runs on a dense copy of dst, copied out. */
static bool needs_dense_dst(const cnnk_conv_desc *d, const cnnk_epilogue *ep, int64_t dst_ld) {
    (void)ep;
    return d->transposed && dst_ld != d->oc;
}

static cnnk_status conv_body(run_ctx *c, const cnnk_conv_desc *d, const float *src,
                             int64_t src_ld, const float *w, const cnnk_epilogue *ep, float *dst,
                             int64_t dst_ld) {
    TRY(conv_args(c, d, src, src_ld, w, ep, dst, dst_ld));
    int64_t npix = d->mb * d->oh * d->ow;
    float *out = dst;
    int64_t out_ld = dst_ld;
    if (needs_dense_dst(d, ep, dst_ld)) {
        c->dense_dst = malloc((size_t)(npix * d->oc) * sizeof(float));
        if (!c->dense_dst)
            return cnnk_fail(c->err, CNNK_ENOMEM, "%s: no memory for a dense dst", c->layer);
        out = c->dense_dst, out_ld = d->oc;
    }
    conv_mds m;
    TRY(conv_pd(c, d, src_ld, out_ld, ep, &m));
    const void *wp = w;
    TRY(pack_weights(c, &m.wei, &wp));
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(c->pd, dnnl_query_weights_md, 0);
    TRY(bind(c, DNNL_ARG_SRC, &m.src, src));
    TRY(bind(c, DNNL_ARG_WEIGHTS, wmd, wp));
    if (ep && ep->bias) TRY(bind(c, DNNL_ARG_BIAS, &m.bias, ep->bias));
    TRY(bind(c, DNNL_ARG_DST, &m.dst, out));
    /* The sum post-op adds what dst holds: put the residual there. */
    if (ep && ep->residual) copy_pixels(npix, d->oc, ep->residual, ep->residual_ld, out, out_ld);
    TRY(execute(c));
    if (out != dst) copy_pixels(npix, d->oc, out, out_ld, dst, dst_ld);
    return CNNK_OK;
}

cnnk_status cnnk_onednn_conv(const cnnk_conv_desc *d, const float *src, int64_t src_ld,
                             const float *w_oihw, const cnnk_epilogue *ep, float *dst,
                             int64_t dst_ld, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "conv: descriptor is NULL");
    cnnk_conv_desc dd = *d;
    TRY(cnnk_conv_check(&dd, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, dd.name, "conv", err);
    if (s == CNNK_OK) s = conv_body(&c, &dd, src, src_ld, w_oihw, ep, dst, dst_ld);
    ctx_close(&c);
    return s;
}

static cnnk_status impl_body(run_ctx *c, const cnnk_conv_desc *d, int64_t src_ld,
                             int64_t dst_ld, const cnnk_epilogue *ep, char *name, size_t len) {
    TRY(need_ld(c, src_ld, d->ic, "src"));
    TRY(need_ld(c, dst_ld, d->oc, "dst"));
    conv_mds m;
    TRY(conv_pd(c, d, src_ld, dst_ld, ep, &m));
    const char *impl = NULL;
    DNN(c, dnnl_primitive_desc_query, (c->pd, dnnl_query_impl_info_str, 0, &impl));
    snprintf(name, len, "%s", impl ? impl : "unknown");
    return CNNK_OK;
}

cnnk_status cnnk_onednn_conv_impl(const cnnk_conv_desc *d, int64_t src_ld, int64_t dst_ld,
                                  const cnnk_epilogue *ep, char *name, size_t len,
                                  cnnk_error *err) {
    if (!d || !name || len == 0)
        return cnnk_fail(err, CNNK_EINVAL, "conv impl: descriptor or name buffer missing");
    name[0] = '\0';
    cnnk_conv_desc dd = *d;
    TRY(cnnk_conv_check(&dd, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, dd.name, "conv", err);
    if (s == CNNK_OK) s = impl_body(&c, &dd, src_ld, dst_ld, ep, name, len);
    ctx_close(&c);
    return s;
}

/* ---- pooling ------------------------------------------------------------ */

static dnnl_alg_kind_t pool_alg(cnnk_pool_alg a) {
    switch (a) {
    case CNNK_POOL_MAX: return dnnl_pooling_max;
    case CNNK_POOL_AVG_INCLUDE_PAD: return dnnl_pooling_avg_include_padding;
    case CNNK_POOL_AVG_EXCLUDE_PAD: break;
    }
    return dnnl_pooling_avg_exclude_padding;
}

static cnnk_status pool_body(run_ctx *c, const cnnk_pool_desc *d, const float *src,
                             int64_t src_ld, float *dst, int64_t dst_ld) {
    TRY(need_act(c, src, src_ld, d->c, "src"));
    TRY(need_act(c, dst, dst_ld, d->c, "dst"));
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
    dnnl_memory_desc_t smd, dmd;
    TRY(act_md(c, &smd, d->mb, d->c, d->ih, d->iw, src_ld));
    TRY(act_md(c, &dmd, d->mb, d->c, d->oh, d->ow, dst_ld));
    dnnl_dims_t strides = {d->sh, d->sw}, kernel = {d->kh, d->kw};
    dnnl_dims_t pad_l = {d->pt, d->pl};
    dnnl_dims_t pad_r = {need_b, need_r};
    dnnl_pooling_desc_t od;
    DNN(c, dnnl_pooling_forward_desc_init,
        (&od, dnnl_forward_inference, pool_alg(d->alg), &smd, &dmd, strides, kernel, pad_l,
         pad_r));
    TRY(create_pd(c, &od));
    TRY(bind(c, DNNL_ARG_SRC, &smd, src));
    TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_pool(const cnnk_pool_desc *d, const float *src, int64_t src_ld,
                             float *dst, int64_t dst_ld, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "pool: descriptor is NULL");
    cnnk_pool_desc dd = *d;
    TRY(cnnk_pool_check(&dd, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, dd.name, "pool", err);
    if (s == CNNK_OK) s = pool_body(&c, &dd, src, src_ld, dst, dst_ld);
    ctx_close(&c);
    return s;
}

/* ---- LRN ---------------------------------------------------------------- */

static cnnk_status lrn_body(run_ctx *c, const cnnk_lrn_desc *d, const float *src,
                            int64_t src_ld, float *dst, int64_t dst_ld) {
    TRY(need_act(c, src, src_ld, d->c, "src"));
    TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    /* The size is odd (cnnk_lrn_check): for an even one oneDNN's window
     * c +- (size-1)/2 would not be cnnk's c - (size-1)/2 .. c + size/2. */
    dnnl_memory_desc_t md;
    TRY(stage_src(c, d->mb, d->c, d->h, d->w, &src, src_ld, dst_ld, &md));
    /* oneDNN divides alpha by size itself (dev guide: alpha / n_l), as
     * cnnk's formula does: pass alpha unchanged. */
    dnnl_lrn_desc_t od;
    DNN(c, dnnl_lrn_forward_desc_init,
        (&od, dnnl_forward_inference, dnnl_lrn_across_channels, &md, d->size, d->alpha, d->beta,
         d->k));
    TRY(create_pd(c, &od));
    TRY(bind(c, DNNL_ARG_SRC, &md, src));
    TRY(bind(c, DNNL_ARG_DST, &md, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_lrn(const cnnk_lrn_desc *d, const float *src, int64_t src_ld,
                            float *dst, int64_t dst_ld, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "lrn: descriptor is NULL");
    TRY(cnnk_lrn_check(d, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "lrn", err);
    if (s == CNNK_OK) s = lrn_body(&c, d, src, src_ld, dst, dst_ld);
    ctx_close(&c);
    return s;
}

/* ---- batch-norm ----------------------------------------------------------- */

typedef struct bnorm_params {
    const float *mean, *var, *gamma, *beta;
} bnorm_params;

static cnnk_status bnorm_body(run_ctx *c, const cnnk_bnorm_desc *d, const float *src,
                              int64_t src_ld, const bnorm_params *p, float *dst,
                              int64_t dst_ld) {
    TRY(need_act(c, src, src_ld, d->c, "src"));
    TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    TRY(need_ptr(c, p->mean, "mean"));
    TRY(need_ptr(c, p->var, "var"));
    TRY(need_ptr(c, p->gamma, "gamma"));
    TRY(need_ptr(c, p->beta, "beta"));
    dnnl_memory_desc_t md, vmd;
    TRY(stage_src(c, d->mb, d->c, d->h, d->w, &src, src_ld, dst_ld, &md));
    TRY(vec_md(c, &vmd, d->c));
    unsigned flags = dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift;
    dnnl_batch_normalization_desc_t od;
    DNN(c, dnnl_batch_normalization_forward_desc_init,
        (&od, dnnl_forward_inference, &md, d->eps, flags));
    TRY(create_pd(c, &od));
    TRY(bind(c, DNNL_ARG_SRC, &md, src));
    TRY(bind(c, DNNL_ARG_MEAN, &vmd, p->mean));
    TRY(bind(c, DNNL_ARG_VARIANCE, &vmd, p->var));
    TRY(bind(c, DNNL_ARG_SCALE, &vmd, p->gamma));
    TRY(bind(c, DNNL_ARG_SHIFT, &vmd, p->beta));
    TRY(bind(c, DNNL_ARG_DST, &md, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_bnorm(const cnnk_bnorm_desc *d, const float *src, int64_t src_ld,
                              const float *mean, const float *var, const float *gamma,
                              const float *beta, float *dst, int64_t dst_ld,
                              cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "bnorm: descriptor is NULL");
    TRY(cnnk_bnorm_check(d, err));
    bnorm_params p = {mean, var, gamma, beta};
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "bnorm", err);
    if (s == CNNK_OK) s = bnorm_body(&c, d, src, src_ld, &p, dst, dst_ld);
    ctx_close(&c);
    return s;
}

/* ---- fully connected -------------------------------------------------------- */

static cnnk_status fc_body(run_ctx *c, const cnnk_fc_desc *d, const float *src, const float *w,
                           const float *bias, float *dst, bool relu) {
    TRY(need_ptr(c, src, "src"));
    TRY(need_ptr(c, w, "weights"));
    TRY(need_ptr(c, dst, "dst"));
    /* src as 4-D nhwc and weights as 4-D oihw: oneDNN contracts over the
     * logical (c, h, w), which is the framework's flatten of NCHW. */
    int64_t sdims[4] = {d->mb, d->ic, d->ih, d->iw};
    int64_t wdims[4] = {d->oc, d->ic, d->ih, d->iw};
    int64_t ddims[2] = {d->mb, d->oc};
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    TRY(tag_md(c, &smd, 4, sdims, dnnl_nhwc));
    dnnl_memory_desc_t wany;
    TRY(tag_md(c, &wmd, 4, wdims, dnnl_oihw));
    TRY(tag_md(c, &wany, 4, wdims, dnnl_format_tag_any));
    TRY(vec_md(c, &bmd, d->oc));
    TRY(tag_md(c, &dmd, 2, ddims, dnnl_nc));
    TRY(set_post_ops(c, false, relu));
    dnnl_inner_product_desc_t od;
    DNN(c, dnnl_inner_product_forward_desc_init,
        (&od, dnnl_forward_inference, &smd, &wany, bias ? &bmd : NULL, &dmd));
    TRY(create_pd(c, &od));
    const void *wp = w;
    TRY(pack_weights(c, &wmd, &wp));
    TRY(bind(c, DNNL_ARG_SRC, &smd, src));
    TRY(bind(c, DNNL_ARG_WEIGHTS, dnnl_primitive_desc_query_md(c->pd, dnnl_query_weights_md, 0),
             wp));
    if (bias) TRY(bind(c, DNNL_ARG_BIAS, &bmd, bias));
    TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_fc(const cnnk_fc_desc *d, const float *src, const float *w_oihw,
                           const float *bias, float *dst, bool relu, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "fc: descriptor is NULL");
    TRY(cnnk_fc_check(d, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "fc", err);
    if (s == CNNK_OK) s = fc_body(&c, d, src, w_oihw, bias, dst, relu);
    ctx_close(&c);
    return s;
}

/* ---- softmax -------------------------------------------------------------- */

static cnnk_status softmax_body(run_ctx *c, const cnnk_softmax_desc *d, const float *src,
                                int64_t src_ld, float *dst, int64_t dst_ld) {
    TRY(need_act(c, src, src_ld, d->c, "src"));
    TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    dnnl_memory_desc_t smd, dmd;
    TRY(act_md(c, &smd, d->mb, d->c, d->h, d->w, src_ld));
    TRY(act_md(c, &dmd, d->mb, d->c, d->h, d->w, dst_ld));
    /* v2 takes src and dst descriptors apart, so pitches may differ. */
    dnnl_softmax_v2_desc_t od;
    DNN(c, dnnl_softmax_v2_forward_desc_init,
        (&od, dnnl_forward_inference, dnnl_softmax_accurate, &smd, &dmd, 1));
    TRY(create_pd(c, &od));
    TRY(bind(c, DNNL_ARG_SRC, &smd, src));
    TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_softmax(const cnnk_softmax_desc *d, const float *src, int64_t src_ld,
                                float *dst, int64_t dst_ld, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "softmax: descriptor is NULL");
    TRY(cnnk_softmax_check(d, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "softmax", err);
    if (s == CNNK_OK) s = softmax_body(&c, d, src, src_ld, dst, dst_ld);
    ctx_close(&c);
    return s;
}

/* ---- element-wise ----------------------------------------------------------- */

static cnnk_status relu_body(run_ctx *c, const cnnk_eltwise_desc *d, const float *a,
                             int64_t a_ld, float *dst, int64_t dst_ld) {
    dnnl_memory_desc_t md;
    TRY(stage_src(c, d->mb, d->c, d->h, d->w, &a, a_ld, dst_ld, &md));
    dnnl_eltwise_desc_t od;
    DNN(c, dnnl_eltwise_forward_desc_init,
        (&od, dnnl_forward_inference, dnnl_eltwise_relu, &md, 0.0f, 0.0f));
    TRY(create_pd(c, &od));
    TRY(bind(c, DNNL_ARG_SRC, &md, a));
    TRY(bind(c, DNNL_ARG_DST, &md, dst));
    return execute(c);
}

static cnnk_status add_body(run_ctx *c, const cnnk_eltwise_desc *d, const float *a,
                            int64_t a_ld, const float *b, int64_t b_ld, float *dst,
                            int64_t dst_ld) {
    TRY(need_act(c, b, b_ld, d->c, "b"));
    dnnl_memory_desc_t amd, bmd, dmd;
    TRY(act_md(c, &amd, d->mb, d->c, d->h, d->w, a_ld));
    TRY(act_md(c, &bmd, d->mb, d->c, d->h, d->w, b_ld));
    TRY(act_md(c, &dmd, d->mb, d->c, d->h, d->w, dst_ld));
    TRY(set_post_ops(c, false, d->alg == CNNK_ELTWISE_ADD_RELU));
    dnnl_binary_desc_t od;
    DNN(c, dnnl_binary_desc_init, (&od, dnnl_binary_add, &amd, &bmd, &dmd));
    TRY(create_pd(c, &od));
    TRY(bind(c, DNNL_ARG_SRC_0, &amd, a));
    TRY(bind(c, DNNL_ARG_SRC_1, &bmd, b));
    TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

/* Dropout is the identity at inference: a reorder between the pitches. */
static cnnk_status dropout_body(run_ctx *c, const cnnk_eltwise_desc *d, const float *a,
                                int64_t a_ld, float *dst, int64_t dst_ld) {
    dnnl_memory_desc_t amd, dmd;
    TRY(act_md(c, &amd, d->mb, d->c, d->h, d->w, a_ld));
    TRY(act_md(c, &dmd, d->mb, d->c, d->h, d->w, dst_ld));
    DNN(c, dnnl_reorder_primitive_desc_create, (&c->pd, &amd, c->eng, &dmd, c->eng, c->attr));
    TRY(bind(c, DNNL_ARG_FROM, &amd, a));
    TRY(bind(c, DNNL_ARG_TO, &dmd, dst));
    return execute(c);
}

static cnnk_status eltwise_body(run_ctx *c, const cnnk_eltwise_desc *d, const float *a,
                                int64_t a_ld, const float *b, int64_t b_ld, float *dst,
                                int64_t dst_ld) {
    TRY(need_act(c, a, a_ld, d->c, "a"));
    TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    switch (d->alg) {
    case CNNK_ELTWISE_RELU: return relu_body(c, d, a, a_ld, dst, dst_ld);
    case CNNK_ELTWISE_ADD:
    case CNNK_ELTWISE_ADD_RELU: return add_body(c, d, a, a_ld, b, b_ld, dst, dst_ld);
    case CNNK_ELTWISE_DROPOUT: return dropout_body(c, d, a, a_ld, dst, dst_ld);
    }
    return cnnk_fail(c->err, CNNK_EINVAL, "%s: unknown eltwise algorithm %d", c->layer,
                     (int)d->alg);
}

cnnk_status cnnk_onednn_eltwise(const cnnk_eltwise_desc *d, const float *a, int64_t a_ld,
                                const float *b, int64_t b_ld, float *dst, int64_t dst_ld,
                                cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "eltwise: descriptor is NULL");
    TRY(cnnk_eltwise_check(d, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "eltwise", err);
    if (s == CNNK_OK) s = eltwise_body(&c, d, a, a_ld, b, b_ld, dst, dst_ld);
    ctx_close(&c);
    return s;
}

/* ---- concat ------------------------------------------------------------------ */

static cnnk_status concat_body(run_ctx *c, const cnnk_concat_desc *d, const float *const *src,
                               const int64_t *src_ld, float *dst, int64_t dst_ld) {
    TRY(need_ptr(c, src, "src array"));
    TRY(need_ptr(c, src_ld, "src_ld array"));
    dnnl_memory_desc_t smd[CNNK_CONCAT_MAX_INPUTS], dmd;
    int64_t total = 0;
    for (int i = 0; i < d->n; ++i) {
        TRY(need_act(c, src[i], src_ld[i], d->c[i], "src[i]"));
        TRY(act_md(c, &smd[i], d->mb, d->c[i], d->h, d->w, src_ld[i]));
        total += d->c[i];
    }
    TRY(need_act(c, dst, dst_ld, total, "dst"));
    TRY(act_md(c, &dmd, d->mb, total, d->h, d->w, dst_ld));
    DNN(c, dnnl_concat_primitive_desc_create, (&c->pd, &dmd, d->n, 1, smd, c->attr, c->eng));
    for (int i = 0; i < d->n; ++i) TRY(bind(c, DNNL_ARG_MULTIPLE_SRC + i, &smd[i], src[i]));
    TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_concat(const cnnk_concat_desc *d, const float *const *src,
                               const int64_t *src_ld, float *dst, int64_t dst_ld,
                               cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "concat: descriptor is NULL");
    TRY(cnnk_concat_check(d, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "concat", err);
    if (s == CNNK_OK) s = concat_body(&c, d, src, src_ld, dst, dst_ld);
    ctx_close(&c);
    return s;
}

#else /* no oneDNN in this build */

static cnnk_status no_onednn(cnnk_error *err, const char *what) {
    return cnnk_fail(err, CNNK_EUNSUPPORTED, "%s: built without oneDNN (CNNK_WITH_ONEDNN=OFF)",
                     what);
}

const char *cnnk_onednn_version(void) { return "none"; }
bool cnnk_onednn_available(void) { return false; }

cnnk_status cnnk_onednn_conv(const cnnk_conv_desc *d, const float *src, int64_t src_ld,
                             const float *w_oihw, const cnnk_epilogue *ep, float *dst,
                             int64_t dst_ld, cnnk_error *err) {
    (void)d, (void)src, (void)src_ld, (void)w_oihw, (void)ep, (void)dst, (void)dst_ld;
    return no_onednn(err, "conv");
}

cnnk_status cnnk_onednn_conv_impl(const cnnk_conv_desc *d, int64_t src_ld, int64_t dst_ld,
                                  const cnnk_epilogue *ep, char *name, size_t len,
                                  cnnk_error *err) {
    (void)d, (void)src_ld, (void)dst_ld, (void)ep;
    if (name && len) snprintf(name, len, "none");
    return no_onednn(err, "conv impl");
}

cnnk_status cnnk_onednn_pool(const cnnk_pool_desc *d, const float *src, int64_t src_ld,
                             float *dst, int64_t dst_ld, cnnk_error *err) {
    (void)d, (void)src, (void)src_ld, (void)dst, (void)dst_ld;
    return no_onednn(err, "pool");
}

cnnk_status cnnk_onednn_lrn(const cnnk_lrn_desc *d, const float *src, int64_t src_ld,
                            float *dst, int64_t dst_ld, cnnk_error *err) {
    (void)d, (void)src, (void)src_ld, (void)dst, (void)dst_ld;
    return no_onednn(err, "lrn");
}

cnnk_status cnnk_onednn_bnorm(const cnnk_bnorm_desc *d, const float *src, int64_t src_ld,
                              const float *mean, const float *var, const float *gamma,
                              const float *beta, float *dst, int64_t dst_ld,
                              cnnk_error *err) {
    (void)d, (void)src, (void)src_ld, (void)mean, (void)var, (void)gamma, (void)beta;
    (void)dst, (void)dst_ld;
    return no_onednn(err, "bnorm");
}

cnnk_status cnnk_onednn_fc(const cnnk_fc_desc *d, const float *src, const float *w_oihw,
                           const float *bias, float *dst, bool relu, cnnk_error *err) {
    (void)d, (void)src, (void)w_oihw, (void)bias, (void)dst, (void)relu;
    return no_onednn(err, "fc");
}

cnnk_status cnnk_onednn_softmax(const cnnk_softmax_desc *d, const float *src, int64_t src_ld,
                                float *dst, int64_t dst_ld, cnnk_error *err) {
    (void)d, (void)src, (void)src_ld, (void)dst, (void)dst_ld;
    return no_onednn(err, "softmax");
}

cnnk_status cnnk_onednn_eltwise(const cnnk_eltwise_desc *d, const float *a, int64_t a_ld,
                                const float *b, int64_t b_ld, float *dst, int64_t dst_ld,
                                cnnk_error *err) {
    (void)d, (void)a, (void)a_ld, (void)b, (void)b_ld, (void)dst, (void)dst_ld;
    return no_onednn(err, "eltwise");
}

cnnk_status cnnk_onednn_concat(const cnnk_concat_desc *d, const float *const *src,
                               const int64_t *src_ld, float *dst, int64_t dst_ld,
                               cnnk_error *err) {
    (void)d, (void)src, (void)src_ld, (void)dst, (void)dst_ld;
    return no_onednn(err, "concat");
}

#endif
