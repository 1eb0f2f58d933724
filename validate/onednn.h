/* Every cnnk layer computed by oneDNN (libdnnl 2.6, C API, CPU engine):
 * the independent peer that the scalar reference is checked against, and
 * the time that cnnk's kernels are benchmarked beside.
 *
 * Tensors are cnnk's own (include/cnnk/desc.h): NHWC with a pixel pitch
 * `ld`, weights OIHW (grouped [g][oc/g][ic/g][kh][kw]). Activations are
 * described to oneDNN by strides, so oneDNN reads and writes them in
 * place. The copies made are: the weights, reordered into the layout the
 * primitive picked (given as plain OIHW every convolution would run
 * oneDNN's "ref:any"); the residual into dst (oneDNN's sum post-op adds
 * what dst holds); src into dst's pitch for the one-descriptor primitives
 * (eltwise ReLU, LRN, batch-norm) when the two pitches differ; and dst of a
 * transposed convolution with a residual and a pitch wider than oc, which
 * runs on a dense copy because oneDNN 2.6.3 gets that case wrong.
 *
 * Each call creates and destroys its own engine, stream and primitive: no
 * state survives a call, at the price of primitive creation per call
 * (oneDNN's primitive cache absorbs most of it).
 *
 * Descriptors are checked (cnnk_*_check on a copy) before use. On failure
 * the functions return a status and, when err is not NULL, a message that
 * names the oneDNN call and oneDNN's status. Without oneDNN
 * (CNNK_WITH_ONEDNN=OFF) every layer function returns CNNK_EUNSUPPORTED. */
#ifndef CNNK_VALIDATE_ONEDNN_H
#define CNNK_VALIDATE_ONEDNN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnnk/desc.h"
#include "cnnk/kernel.h"
#include "cnnk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The oneDNN version compiled against, e.g. "2.6.3"; "none" without it. */
const char *cnnk_onednn_version(void);

/* Whether this build has oneDNN at all. */
bool cnnk_onednn_available(void);

/* Convolution (forward inference, direct) or, when d->transposed,
 * deconvolution. ep may be NULL (no epilogue); its bias becomes the
 * primitive's bias, its residual a sum post-op (scale 1; the residual is
 * first copied into dst, so residual may alias dst with the same pitch) and
 * its relu an eltwise post-op, in cnnk_epilogue's order. */
cnnk_status cnnk_onednn_conv(const cnnk_conv_desc *d, const float *src, int64_t src_ld,
                             const float *w_oihw, const cnnk_epilogue *ep, float *dst,
                             int64_t dst_ld, cnnk_error *err);

/* The name of the implementation oneDNN picks for this convolution with
 * these pitches and this epilogue (only the NULL-ness of ep's pointers
 * matters), e.g. "brgconv:avx512_core"; written into name (len bytes,
 * terminated). */
cnnk_status cnnk_onednn_conv_impl(const cnnk_conv_desc *d, int64_t src_ld, int64_t dst_ld,
                                  const cnnk_epilogue *ep, char *name, size_t len,
                                  cnnk_error *err);

/* Pooling. Ceil rounding becomes extra bottom/right padding. For
 * AVG_INCLUDE_PAD with such an overhang oneDNN would count the overhang
 * cells in the divisor and cnnk does not: CNNK_EUNSUPPORTED. */
cnnk_status cnnk_onednn_pool(const cnnk_pool_desc *d, const float *src, int64_t src_ld,
                             float *dst, int64_t dst_ld, cnnk_error *err);

/* LRN across channels; oneDNN divides alpha by size itself, as cnnk does. */
cnnk_status cnnk_onednn_lrn(const cnnk_lrn_desc *d, const float *src, int64_t src_ld,
                            float *dst, int64_t dst_ld, cnnk_error *err);

/* Inference batch-norm with given statistics, scale (gamma) and shift (beta). */
cnnk_status cnnk_onednn_bnorm(const cnnk_bnorm_desc *d, const float *src, int64_t src_ld,
                              const float *mean, const float *var, const float *gamma,
                              const float *beta, float *dst, int64_t dst_ld,
                              cnnk_error *err);

/* Inner product: src contiguous NHWC mb x ih x iw x ic, weights OIHW
 * [oc][ic][ih][iw], dst mb x oc; bias may be NULL; relu after the bias. */
cnnk_status cnnk_onednn_fc(const cnnk_fc_desc *d, const float *src, const float *w_oihw,
                           const float *bias, float *dst, bool relu, float relu_alpha,
                           cnnk_error *err);

/* Softmax over the channels of every pixel. */
cnnk_status cnnk_onednn_softmax(const cnnk_softmax_desc *d, const float *src, int64_t src_ld,
                                float *dst, int64_t dst_ld, cnnk_error *err);

/* RELU and DROPOUT read a (b may be NULL); ADD and ADD_RELU compute a + b. */
cnnk_status cnnk_onednn_eltwise(const cnnk_eltwise_desc *d, const float *a, int64_t a_ld,
                                const float *b, int64_t b_ld, float *dst, int64_t dst_ld,
                                cnnk_error *err);

/* Channel concatenation; input i has pitch src_ld[i]. */
cnnk_status cnnk_onednn_concat(const cnnk_concat_desc *d, const float *const *src,
                               const int64_t *src_ld, float *dst, int64_t dst_ld,
                               cnnk_error *err);

/* Bilinear resize as oneDNN's resampling_linear, whose half-pixel
 * coordinates are align_corners=False's; align_corners=True has no oneDNN
 * counterpart (CNNK_EUNSUPPORTED). */
cnnk_status cnnk_onednn_resize(const cnnk_resize_desc *d, const float *src, int64_t src_ld,
                               float *dst, int64_t dst_ld, cnnk_error *err);

#ifdef __cplusplus
}
#endif
#endif
