/* cnnk layers through oneDNN's C API; see validate/onednn.h. The
 * primitives come from validate/onednn_prim.c, as the peer's do; this file
 * owns what is the checker's alone: cnnk's buffers described in place, the
 * restaging of pitches and one call's resources. */
#include "validate/onednn.h"

#if defined(CNNK_HAVE_ONEDNN) && CNNK_HAVE_ONEDNN

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate/onednn_prim.h"

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
    cnnk_dnn_ctx dc;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[MAX_ARGS];
    float *tmp; /* src restaged at dst's pitch, when a primitive needs one desc */
    float *dense_dst; /* deconv + residual: a dense dst, see conv_body */
    dnnl_memory_t wmem; /* the weights in the layout the primitive chose */
} run_ctx;

static cnnk_status ctx_open(run_ctx *c, const char *name, const char *kind, cnnk_error *err) {
    memset(c, 0, sizeof *c);
    c->dc.layer = name && name[0] ? name : kind;
    c->dc.err = err;
    return cnnk_dnn_open(&c->dc);
}

/* Objects that live on the engine go before it. */
static void ctx_close(run_ctx *c) {
    for (int i = 0; i < c->nargs; ++i) dnnl_memory_destroy(c->args[i].memory);
    if (c->prim) dnnl_primitive_destroy(c->prim);
    if (c->pd) dnnl_primitive_desc_destroy(c->pd);
    if (c->wmem) dnnl_memory_destroy(c->wmem);
    cnnk_dnn_close(&c->dc);
    free(c->tmp);
    free(c->dense_dst);
    memset(c, 0, sizeof *c);
}

/* oneDNN reads or writes the caller's buffer in place (no copy). */
static cnnk_status bind(run_ctx *c, int arg, const dnnl_memory_desc_t *md, const void *p) {
    if (c->nargs == MAX_ARGS)
        return cnnk_fail(c->dc.err, CNNK_EINVAL, "%s: more than %d oneDNN arguments",
                         c->dc.layer, MAX_ARGS);
    dnnl_memory_t m = NULL;
    CNNK_DNN(&c->dc, dnnl_memory_create, (&m, md, c->dc.eng, (void *)p));
    c->args[c->nargs].arg = arg;
    c->args[c->nargs].memory = m;
    ++c->nargs;
    return CNNK_OK;
}

static cnnk_status execute(run_ctx *c) {
    CNNK_DNN(&c->dc, dnnl_primitive_create, (&c->prim, c->pd));
    CNNK_DNN(&c->dc, dnnl_primitive_execute, (c->prim, c->dc.strm, c->nargs, c->args));
    CNNK_DNN(&c->dc, dnnl_stream_wait, (c->dc.strm));
    return CNNK_OK;
}

/* The primitive takes weights of format `any` (onednn_prim.h says why):
 * the caller's plain weights are reordered into the chosen layout once
 * per call, and bound from there. */
static cnnk_status bind_weights(run_ctx *c, const dnnl_memory_desc_t *user, const void *w) {
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(c->pd, dnnl_query_weights_md, 0);
    if (!want)
        return cnnk_fail(c->dc.err, CNNK_EONEDNN, "%s: oneDNN gave no weights layout",
                         c->dc.layer);
    if (dnnl_memory_desc_equal(want, user)) return bind(c, DNNL_ARG_WEIGHTS, want, w);
    CNNK_TRY(cnnk_dnn_reorder_into(&c->dc, user, w, want, &c->wmem));
    void *packed = NULL;
    CNNK_DNN(&c->dc, dnnl_memory_get_data_handle, (c->wmem, &packed));
    return bind(c, DNNL_ARG_WEIGHTS, want, packed);
}

/* ---- argument checks --------------------------------------------------- */

static cnnk_status need_ptr(run_ctx *c, const void *p, const char *what) {
    if (p) return CNNK_OK;
    return cnnk_fail(c->dc.err, CNNK_EINVAL, "%s: %s is NULL", c->dc.layer, what);
}

static cnnk_status need_ld(run_ctx *c, int64_t ld, int64_t ch, const char *what) {
    if (ld >= ch) return CNNK_OK;
    return cnnk_fail(c->dc.err, CNNK_EINVAL,
                     "%s: %s pitch %lld is smaller than its %lld channels", c->dc.layer, what,
                     (long long)ld, (long long)ch);
}

static cnnk_status need_act(run_ctx *c, const void *p, int64_t ld, int64_t ch,
                            const char *what) {
    CNNK_TRY(need_ptr(c, p, what));
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
            return cnnk_fail(c->dc.err, CNNK_ENOMEM, "%s: no memory to restage src",
                             c->dc.layer);
        memset(c->tmp, 0, count * sizeof(float));
        copy_pixels(n * h * w, ch, *src, src_ld, c->tmp, dst_ld);
        *src = c->tmp;
    }
    return cnnk_dnn_nhwc_md(&c->dc, md, n, ch, h, w, dst_ld);
}

/* ---- convolution and deconvolution -------------------------------------- */

typedef struct conv_mds {
    dnnl_memory_desc_t src, wei, bias, dst;
} conv_mds;

/* Builds the primitive descriptor of d (checked) with ep's post-ops, on
 * cnnk's buffers as they are. */
static cnnk_status conv_pd(run_ctx *c, const cnnk_conv_desc *d, int64_t src_ld, int64_t dst_ld,
                           const cnnk_epilogue *ep, conv_mds *m) {
    const cnnk_dnn_ctx *dc = &c->dc;
    CNNK_TRY(cnnk_dnn_nhwc_md(dc, &m->src, d->mb, d->ic, d->ih, d->iw, src_ld));
    CNNK_TRY(cnnk_dnn_nhwc_md(dc, &m->dst, d->mb, d->oc, d->oh, d->ow, dst_ld));
    CNNK_TRY(cnnk_dnn_conv_wmd(dc, d, false, &m->wei));
    CNNK_TRY(cnnk_dnn_vec_md(dc, &m->bias, d->oc));
    return cnnk_dnn_conv_pd(dc, d, &m->src, &m->dst, ep && ep->bias, ep && ep->residual,
                            ep && ep->relu, ep ? ep->relu_alpha : 0.0f, &c->pd);
}

static cnnk_status conv_args(run_ctx *c, const cnnk_conv_desc *d, const float *src,
                             int64_t src_ld, const float *w, const cnnk_epilogue *ep, float *dst,
                             int64_t dst_ld) {
    CNNK_TRY(need_act(c, src, src_ld, d->ic, "src"));
    CNNK_TRY(need_act(c, dst, dst_ld, d->oc, "dst"));
    CNNK_TRY(need_ptr(c, w, "weights"));
    if (ep && ep->residual) CNNK_TRY(need_ld(c, ep->residual_ld, d->oc, "residual"));
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
    CNNK_TRY(conv_args(c, d, src, src_ld, w, ep, dst, dst_ld));
    int64_t npix = d->mb * d->oh * d->ow;
    float *out = dst;
    int64_t out_ld = dst_ld;
    if (needs_dense_dst(d, ep, dst_ld)) {
        c->dense_dst = malloc((size_t)(npix * d->oc) * sizeof(float));
        if (!c->dense_dst)
            return cnnk_fail(c->dc.err, CNNK_ENOMEM, "%s: no memory for a dense dst",
                             c->dc.layer);
        out = c->dense_dst, out_ld = d->oc;
    }
    conv_mds m;
    CNNK_TRY(conv_pd(c, d, src_ld, out_ld, ep, &m));
    CNNK_TRY(bind(c, DNNL_ARG_SRC, &m.src, src));
    CNNK_TRY(bind_weights(c, &m.wei, w));
    if (ep && ep->bias) CNNK_TRY(bind(c, DNNL_ARG_BIAS, &m.bias, ep->bias));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &m.dst, out));
    /* The sum post-op adds what dst holds: put the residual there. */
    if (ep && ep->residual) copy_pixels(npix, d->oc, ep->residual, ep->residual_ld, out, out_ld);
    CNNK_TRY(execute(c));
    if (out != dst) copy_pixels(npix, d->oc, out, out_ld, dst, dst_ld);
    return CNNK_OK;
}

cnnk_status cnnk_onednn_conv(const cnnk_conv_desc *d, const float *src, int64_t src_ld,
                             const float *w_oihw, const cnnk_epilogue *ep, float *dst,
                             int64_t dst_ld, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "conv: descriptor is NULL");
    cnnk_conv_desc dd = *d;
    CNNK_TRY(cnnk_conv_check(&dd, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, dd.name, "conv", err);
    if (s == CNNK_OK) s = conv_body(&c, &dd, src, src_ld, w_oihw, ep, dst, dst_ld);
    ctx_close(&c);
    return s;
}

static cnnk_status impl_body(run_ctx *c, const cnnk_conv_desc *d, int64_t src_ld,
                             int64_t dst_ld, const cnnk_epilogue *ep, char *name, size_t len) {
    CNNK_TRY(need_ld(c, src_ld, d->ic, "src"));
    CNNK_TRY(need_ld(c, dst_ld, d->oc, "dst"));
    conv_mds m;
    CNNK_TRY(conv_pd(c, d, src_ld, dst_ld, ep, &m));
    const char *impl = NULL;
    CNNK_DNN(&c->dc, dnnl_primitive_desc_query, (c->pd, dnnl_query_impl_info_str, 0, &impl));
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
    CNNK_TRY(cnnk_conv_check(&dd, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, dd.name, "conv", err);
    if (s == CNNK_OK) s = impl_body(&c, &dd, src_ld, dst_ld, ep, name, len);
    ctx_close(&c);
    return s;
}

/* ---- pooling ------------------------------------------------------------ */

static cnnk_status pool_body(run_ctx *c, const cnnk_pool_desc *d, const float *src,
                             int64_t src_ld, float *dst, int64_t dst_ld) {
    CNNK_TRY(need_act(c, src, src_ld, d->c, "src"));
    CNNK_TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    dnnl_memory_desc_t smd, dmd;
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &smd, d->mb, d->c, d->ih, d->iw, src_ld));
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &dmd, d->mb, d->c, d->oh, d->ow, dst_ld));
    CNNK_TRY(cnnk_dnn_pool_pd(&c->dc, d, &smd, &dmd, &c->pd));
    CNNK_TRY(bind(c, DNNL_ARG_SRC, &smd, src));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_pool(const cnnk_pool_desc *d, const float *src, int64_t src_ld,
                             float *dst, int64_t dst_ld, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "pool: descriptor is NULL");
    cnnk_pool_desc dd = *d;
    CNNK_TRY(cnnk_pool_check(&dd, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, dd.name, "pool", err);
    if (s == CNNK_OK) s = pool_body(&c, &dd, src, src_ld, dst, dst_ld);
    ctx_close(&c);
    return s;
}

/* ---- LRN ---------------------------------------------------------------- */

static cnnk_status lrn_body(run_ctx *c, const cnnk_lrn_desc *d, const float *src,
                            int64_t src_ld, float *dst, int64_t dst_ld) {
    CNNK_TRY(need_act(c, src, src_ld, d->c, "src"));
    CNNK_TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    dnnl_memory_desc_t md;
    CNNK_TRY(stage_src(c, d->mb, d->c, d->h, d->w, &src, src_ld, dst_ld, &md));
    CNNK_TRY(cnnk_dnn_lrn_pd(&c->dc, d, &md, &c->pd));
    CNNK_TRY(bind(c, DNNL_ARG_SRC, &md, src));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &md, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_lrn(const cnnk_lrn_desc *d, const float *src, int64_t src_ld,
                            float *dst, int64_t dst_ld, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "lrn: descriptor is NULL");
    CNNK_TRY(cnnk_lrn_check(d, err));
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
    CNNK_TRY(need_act(c, src, src_ld, d->c, "src"));
    CNNK_TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    CNNK_TRY(need_ptr(c, p->mean, "mean"));
    CNNK_TRY(need_ptr(c, p->var, "var"));
    CNNK_TRY(need_ptr(c, p->gamma, "gamma"));
    CNNK_TRY(need_ptr(c, p->beta, "beta"));
    dnnl_memory_desc_t md, vmd;
    CNNK_TRY(stage_src(c, d->mb, d->c, d->h, d->w, &src, src_ld, dst_ld, &md));
    CNNK_TRY(cnnk_dnn_vec_md(&c->dc, &vmd, d->c));
    CNNK_TRY(cnnk_dnn_bnorm_pd(&c->dc, d, &md, false, 0.0f, &c->pd));
    CNNK_TRY(bind(c, DNNL_ARG_SRC, &md, src));
    CNNK_TRY(bind(c, DNNL_ARG_MEAN, &vmd, p->mean));
    CNNK_TRY(bind(c, DNNL_ARG_VARIANCE, &vmd, p->var));
    CNNK_TRY(bind(c, DNNL_ARG_SCALE, &vmd, p->gamma));
    CNNK_TRY(bind(c, DNNL_ARG_SHIFT, &vmd, p->beta));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &md, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_bnorm(const cnnk_bnorm_desc *d, const float *src, int64_t src_ld,
                              const float *mean, const float *var, const float *gamma,
                              const float *beta, float *dst, int64_t dst_ld,
                              cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "bnorm: descriptor is NULL");
    CNNK_TRY(cnnk_bnorm_check(d, err));
    bnorm_params p = {mean, var, gamma, beta};
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "bnorm", err);
    if (s == CNNK_OK) s = bnorm_body(&c, d, src, src_ld, &p, dst, dst_ld);
    ctx_close(&c);
    return s;
}

/* ---- fully connected -------------------------------------------------------- */

static cnnk_status fc_body(run_ctx *c, const cnnk_fc_desc *d, const float *src, const float *w,
                           const float *bias, float *dst, bool relu, float relu_alpha) {
    CNNK_TRY(need_ptr(c, src, "src"));
    CNNK_TRY(need_ptr(c, w, "weights"));
    CNNK_TRY(need_ptr(c, dst, "dst"));
    /* src as 4-D nhwc and weights as 4-D oihw: oneDNN contracts over the
     * logical (c, h, w), which is the framework's flatten of NCHW. */
    int64_t sdims[4] = {d->mb, d->ic, d->ih, d->iw}, ddims[2] = {d->mb, d->oc};
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    CNNK_TRY(cnnk_dnn_tag_md(&c->dc, &smd, 4, sdims, dnnl_nhwc));
    CNNK_TRY(cnnk_dnn_fc_wmd(&c->dc, d, 4, false, &wmd));
    CNNK_TRY(cnnk_dnn_vec_md(&c->dc, &bmd, d->oc));
    CNNK_TRY(cnnk_dnn_tag_md(&c->dc, &dmd, 2, ddims, dnnl_nc));
    CNNK_TRY(cnnk_dnn_fc_pd(&c->dc, d, 4, &smd, bias != NULL, relu, relu_alpha, &c->pd));
    CNNK_TRY(bind(c, DNNL_ARG_SRC, &smd, src));
    CNNK_TRY(bind_weights(c, &wmd, w));
    if (bias) CNNK_TRY(bind(c, DNNL_ARG_BIAS, &bmd, bias));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_fc(const cnnk_fc_desc *d, const float *src, const float *w_oihw,
                           const float *bias, float *dst, bool relu, float relu_alpha,
                           cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "fc: descriptor is NULL");
    CNNK_TRY(cnnk_fc_check(d, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "fc", err);
    if (s == CNNK_OK) s = fc_body(&c, d, src, w_oihw, bias, dst, relu, relu_alpha);
    ctx_close(&c);
    return s;
}

/* ---- softmax -------------------------------------------------------------- */

static cnnk_status softmax_body(run_ctx *c, const cnnk_softmax_desc *d, const float *src,
                                int64_t src_ld, float *dst, int64_t dst_ld) {
    CNNK_TRY(need_act(c, src, src_ld, d->c, "src"));
    CNNK_TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    dnnl_memory_desc_t smd, dmd;
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &smd, d->mb, d->c, d->h, d->w, src_ld));
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &dmd, d->mb, d->c, d->h, d->w, dst_ld));
    CNNK_TRY(cnnk_dnn_softmax_pd(&c->dc, &smd, &dmd, &c->pd));
    CNNK_TRY(bind(c, DNNL_ARG_SRC, &smd, src));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_softmax(const cnnk_softmax_desc *d, const float *src, int64_t src_ld,
                                float *dst, int64_t dst_ld, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "softmax: descriptor is NULL");
    CNNK_TRY(cnnk_softmax_check(d, err));
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
    CNNK_TRY(stage_src(c, d->mb, d->c, d->h, d->w, &a, a_ld, dst_ld, &md));
    CNNK_TRY(cnnk_dnn_relu_pd(&c->dc, &md, d->alpha, &c->pd));
    CNNK_TRY(bind(c, DNNL_ARG_SRC, &md, a));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &md, dst));
    return execute(c);
}

static cnnk_status add_body(run_ctx *c, const cnnk_eltwise_desc *d, const float *a,
                            int64_t a_ld, const float *b, int64_t b_ld, float *dst,
                            int64_t dst_ld) {
    CNNK_TRY(need_act(c, b, b_ld, d->c, "b"));
    dnnl_memory_desc_t amd, bmd, dmd;
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &amd, d->mb, d->c, d->h, d->w, a_ld));
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &bmd, d->mb, d->c, d->h, d->w, b_ld));
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &dmd, d->mb, d->c, d->h, d->w, dst_ld));
    CNNK_TRY(cnnk_dnn_add_pd(&c->dc, &amd, &bmd, &dmd, d->alg == CNNK_ELTWISE_ADD_RELU, 0.0f,
                             &c->pd));
    CNNK_TRY(bind(c, DNNL_ARG_SRC_0, &amd, a));
    CNNK_TRY(bind(c, DNNL_ARG_SRC_1, &bmd, b));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

/* Dropout is the identity at inference: a reorder between the pitches. */
static cnnk_status dropout_body(run_ctx *c, const cnnk_eltwise_desc *d, const float *a,
                                int64_t a_ld, float *dst, int64_t dst_ld) {
    dnnl_memory_desc_t amd, dmd;
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &amd, d->mb, d->c, d->h, d->w, a_ld));
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &dmd, d->mb, d->c, d->h, d->w, dst_ld));
    CNNK_TRY(cnnk_dnn_reorder_pd(&c->dc, &amd, &dmd, &c->pd));
    CNNK_TRY(bind(c, DNNL_ARG_FROM, &amd, a));
    CNNK_TRY(bind(c, DNNL_ARG_TO, &dmd, dst));
    return execute(c);
}

static cnnk_status eltwise_body(run_ctx *c, const cnnk_eltwise_desc *d, const float *a,
                                int64_t a_ld, const float *b, int64_t b_ld, float *dst,
                                int64_t dst_ld) {
    CNNK_TRY(need_act(c, a, a_ld, d->c, "a"));
    CNNK_TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    switch (d->alg) {
    case CNNK_ELTWISE_RELU:
    case CNNK_ELTWISE_LEAKY_RELU: return relu_body(c, d, a, a_ld, dst, dst_ld);
    case CNNK_ELTWISE_ADD:
    case CNNK_ELTWISE_ADD_RELU: return add_body(c, d, a, a_ld, b, b_ld, dst, dst_ld);
    case CNNK_ELTWISE_DROPOUT: return dropout_body(c, d, a, a_ld, dst, dst_ld);
    }
    return cnnk_fail(c->dc.err, CNNK_EINVAL, "%s: unknown eltwise algorithm %d", c->dc.layer,
                     (int)d->alg);
}

cnnk_status cnnk_onednn_eltwise(const cnnk_eltwise_desc *d, const float *a, int64_t a_ld,
                                const float *b, int64_t b_ld, float *dst, int64_t dst_ld,
                                cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "eltwise: descriptor is NULL");
    CNNK_TRY(cnnk_eltwise_check(d, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "eltwise", err);
    if (s == CNNK_OK) s = eltwise_body(&c, d, a, a_ld, b, b_ld, dst, dst_ld);
    ctx_close(&c);
    return s;
}

/* ---- concat ------------------------------------------------------------------ */

static cnnk_status concat_body(run_ctx *c, const cnnk_concat_desc *d, const float *const *src,
                               const int64_t *src_ld, float *dst, int64_t dst_ld) {
    CNNK_TRY(need_ptr(c, src, "src array"));
    CNNK_TRY(need_ptr(c, src_ld, "src_ld array"));
    dnnl_memory_desc_t smd[CNNK_CONCAT_MAX_INPUTS], dmd;
    int64_t total = 0;
    for (int i = 0; i < d->n; ++i) {
        CNNK_TRY(need_act(c, src[i], src_ld[i], d->c[i], "src[i]"));
        CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &smd[i], d->mb, d->c[i], d->h, d->w, src_ld[i]));
        total += d->c[i];
    }
    CNNK_TRY(need_act(c, dst, dst_ld, total, "dst"));
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &dmd, d->mb, total, d->h, d->w, dst_ld));
    CNNK_TRY(cnnk_dnn_concat_pd(&c->dc, d->n, smd, &dmd, &c->pd));
    for (int i = 0; i < d->n; ++i) CNNK_TRY(bind(c, DNNL_ARG_MULTIPLE_SRC + i, &smd[i], src[i]));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_concat(const cnnk_concat_desc *d, const float *const *src,
                               const int64_t *src_ld, float *dst, int64_t dst_ld,
                               cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "concat: descriptor is NULL");
    CNNK_TRY(cnnk_concat_check(d, err));
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "concat", err);
    if (s == CNNK_OK) s = concat_body(&c, d, src, src_ld, dst, dst_ld);
    ctx_close(&c);
    return s;
}

/* ---- resampling ----------------------------------------------------------- */

static cnnk_status resize_body(run_ctx *c, const cnnk_resize_desc *d, const float *src,
                               int64_t src_ld, float *dst, int64_t dst_ld) {
    CNNK_TRY(need_act(c, src, src_ld, d->c, "src"));
    CNNK_TRY(need_act(c, dst, dst_ld, d->c, "dst"));
    dnnl_memory_desc_t smd, dmd;
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &smd, d->mb, d->c, d->ih, d->iw, src_ld));
    CNNK_TRY(cnnk_dnn_nhwc_md(&c->dc, &dmd, d->mb, d->c, d->oh, d->ow, dst_ld));
    CNNK_TRY(cnnk_dnn_resampling_pd(&c->dc, &smd, &dmd, &c->pd));
    CNNK_TRY(bind(c, DNNL_ARG_SRC, &smd, src));
    CNNK_TRY(bind(c, DNNL_ARG_DST, &dmd, dst));
    return execute(c);
}

cnnk_status cnnk_onednn_resize(const cnnk_resize_desc *d, const float *src, int64_t src_ld,
                               float *dst, int64_t dst_ld, cnnk_error *err) {
    if (!d) return cnnk_fail(err, CNNK_EINVAL, "resampling: descriptor is NULL");
    CNNK_TRY(cnnk_resize_check(d, err));
    if (d->align_corners)
        return cnnk_fail(err, CNNK_EUNSUPPORTED,
                         "oneDNN's resampling_linear has no align_corners=True");
    run_ctx c;
    cnnk_status s = ctx_open(&c, d->name, "resampling", err);
    if (s == CNNK_OK) s = resize_body(&c, d, src, src_ld, dst, dst_ld);
    ctx_close(&c);
    return s;
}

#endif
