/* Every oneDNN entry point of validate/ in a build without oneDNN
 * (-DCNNK_WITH_ONEDNN=OFF), in one place: the checker (onednn.h) and the
 * peer (onednn_peer.h) refuse with CNNK_EUNSUPPORTED and a message that
 * says why, so callers need no #if of their own. The oneDNN files compile
 * to nothing in such a build. */
#include "validate/onednn.h"
#include "validate/onednn_peer.h"

#if !(defined(CNNK_HAVE_ONEDNN) && CNNK_HAVE_ONEDNN)

#include <stdio.h>

static cnnk_status no_onednn(cnnk_error *err, const char *what) {
    return cnnk_fail(err, CNNK_EUNSUPPORTED, "%s: built without oneDNN (CNNK_WITH_ONEDNN=OFF)",
                     what);
}

/* ---- the checker (validate/onednn.h) ----------------------------------- */

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
                           const float *bias, float *dst, bool relu, float relu_alpha,
                           cnnk_error *err) {
    (void)d, (void)src, (void)w_oihw, (void)bias, (void)dst, (void)relu, (void)relu_alpha;
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

cnnk_status cnnk_onednn_resize(const cnnk_resize_desc *d, const float *src, int64_t src_ld,
                               float *dst, int64_t dst_ld, cnnk_error *err) {
    (void)d, (void)src, (void)src_ld, (void)dst, (void)dst_ld;
    return no_onednn(err, "resampling");
}

/* ---- the peer (validate/onednn_peer.h) ----------------------------------- */

cnnk_status cnnk_onednn_set_max_isa(const char *isa, cnnk_error *err) {
    (void)isa;
    return no_onednn(err, "onednn max isa");
}
const char *cnnk_onednn_max_isa_name(void) { return "none"; }
const char *cnnk_onednn_isa_names(void) { return "none (built without oneDNN)"; }
bool cnnk_onednn_winograd_exists(void) { return false; }

cnnk_status cnnk_onednn_layer_create(const cnnk_layer_desc *l, const cnnk_epilogue_spec *ep,
                                     cnnk_onednn_algo algo, cnnk_onednn_layer **out,
                                     cnnk_error *err) {
    (void)l, (void)ep, (void)algo;
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
cnnk_onednn_algo cnnk_onednn_layer_algo(const cnnk_onednn_layer *h) {
    return (void)h, CNNK_ONEDNN_DIRECT;
}
const char *cnnk_onednn_layer_note(const cnnk_onednn_layer *h) { return (void)h, ""; }
void cnnk_onednn_layer_destroy(cnnk_onednn_layer *h) { (void)h; }
cnnk_status cnnk_onednn_layer_read(const cnnk_onednn_layer *h, cnnk_onednn_tensor t, float *out,
                                   size_t n, size_t *count, cnnk_error *err) {
    (void)h, (void)t, (void)out, (void)n, (void)count;
    return cnnk_fail(err, CNNK_EUNSUPPORTED, "built without oneDNN");
}

cnnk_status cnnk_onednn_net_create(const cnnk_net *net, int nthreads, cnnk_onednn_algo algo,
                                   cnnk_onednn_net **out, cnnk_error *err) {
    (void)net, (void)nthreads, (void)algo;
    if (out) *out = NULL;
    return no_onednn(err, "onednn net");
}
cnnk_status cnnk_onednn_net_create_ex(const cnnk_net *net, int nthreads,
                                      const cnnk_onednn_net_opts *opts, cnnk_onednn_net **out,
                                      cnnk_error *err) {
    return cnnk_onednn_net_create(net, nthreads, opts ? opts->algo : CNNK_ONEDNN_DIRECT, out, err);
}
cnnk_status cnnk_onednn_net_profile(cnnk_onednn_net *h, const float *input_nhwc, float *output,
                                    double *ms) {
    (void)h, (void)input_nhwc, (void)output, (void)ms;
    return CNNK_EUNSUPPORTED;
}
int64_t cnnk_onednn_net_concat_copy_bytes(const cnnk_onednn_net *h) { return (void)h, 0; }

int cnnk_onednn_net_host_steps(const cnnk_onednn_net *h, char *buf, size_t len) {
    (void)h;
    if (len) buf[0] = '\0';
    return 0;
}
cnnk_status cnnk_onednn_net_forward(cnnk_onednn_net *h, const float *input_nhwc,
                                    float *output) {
    (void)h, (void)input_nhwc, (void)output;
    return CNNK_EUNSUPPORTED;
}
int64_t cnnk_onednn_net_output_elems(const cnnk_onednn_net *h) { return (void)h, 0; }
int cnnk_onednn_net_prim_count(const cnnk_onednn_net *h) { return (void)h, 0; }
const char *cnnk_onednn_net_prim_name(const cnnk_onednn_net *h, int i) {
    return (void)h, (void)i, NULL;
}
const char *cnnk_onednn_net_prim_impl(const cnnk_onednn_net *h, int i) {
    return (void)h, (void)i, NULL;
}
const char *cnnk_onednn_net_prim_role(const cnnk_onednn_net *h, int i) {
    return (void)h, (void)i, NULL;
}
const char *cnnk_onednn_net_prim_algo(const cnnk_onednn_net *h, int i) {
    return (void)h, (void)i, NULL;
}
const char *cnnk_onednn_net_prim_note(const cnnk_onednn_net *h, int i) {
    return (void)h, (void)i, NULL;
}
int cnnk_onednn_net_conv_count(const cnnk_onednn_net *h, cnnk_onednn_algo a) {
    return (void)h, (void)a, 0;
}
void cnnk_onednn_net_destroy(cnnk_onednn_net *h) { (void)h; }

#endif

