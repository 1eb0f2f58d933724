/* The one place oneDNN primitives of cnnk layers are built: the checker
 * (validate/onednn.c), the layer peer (onednn_peer.c) and the network peer
 * (onednn_net.c) all call it, so the three compare against, and time, the
 * same algorithms with the same post-ops. Internal to validate/; only in
 * builds with oneDNN (the builds without it are validate/onednn_none.c).
 *
 * What differs between the callers is the memory descriptors, so every
 * builder takes them from the caller: the checker's plain NHWC with a
 * pitch (cnnk_dnn_nhwc_md), the peer's `any` (NULL where a builder says
 * so) or the layout its producer gave. Everything else is fixed here:
 * forward inference, direct convolution, weights `any` (oneDNN's fast
 * implementations exist only for their own blocked layouts; plain OIHW
 * weights would run "ref:any"), the epilogue as bias in the primitive and
 * post-ops sum (scale 1) then ReLU, in cnnk_epilogue's order. */
#ifndef CNNK_VALIDATE_ONEDNN_PRIM_H
#define CNNK_VALIDATE_ONEDNN_PRIM_H

#if defined(CNNK_HAVE_ONEDNN) && CNNK_HAVE_ONEDNN

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dnnl.h>

#include "cnnk/desc.h"
#include "cnnk/status.h"
#include "validate/onednn_peer.h"

/* ---- the context --------------------------------------------------------- */

/* One engine and stream, where messages go, and the one policy that
 * differs between callers' primitives: user_scratchpad makes every
 * primitive built through this context take its scratchpad from the
 * caller, so that a timed execution never allocates (the peer); without
 * it oneDNN manages the scratchpad (the checker, which runs once). */
typedef struct cnnk_dnn_ctx {
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    bool user_scratchpad;
    const char *layer; /* names the layer in messages */
    cnnk_error *err;
} cnnk_dnn_ctx;

/* Creates the CPU engine and its stream; layer, err and user_scratchpad
 * are the caller's to set. On failure what was created is left for
 * cnnk_dnn_close. */
cnnk_status cnnk_dnn_open(cnnk_dnn_ctx *c);
/* Destroys the stream and the engine (objects living on the engine go
 * first: the caller's job). Safe on a context that failed to open. */
void cnnk_dnn_close(cnnk_dnn_ctx *c);

/* CNNK_EONEDNN with "<layer>: oneDNN <call> failed: <oneDNN's status>". */
cnnk_status cnnk_dnn_fail(const cnnk_dnn_ctx *c, dnnl_status_t s, const char *call);

/* CNNK_DNN(c, dnnl_fn, (args)): calls dnnl_fn and returns its failure,
 * named. (CNNK_TRY, for a failed cnnk_status, is cnnk/status.h's.) */
#define CNNK_DNN(c, fn, args)                                                    \
    do {                                                                         \
        dnnl_status_t cnnk_dnn_s_ = fn args;                                     \
        if (cnnk_dnn_s_ != dnnl_success) return cnnk_dnn_fail((c), cnnk_dnn_s_, #fn); \
    } while (0)

/* ---- memory descriptors -------------------------------------------------- */

/* f32 of nd dims in a format tag (dnnl_format_tag_any: oneDNN chooses). */
cnnk_status cnnk_dnn_tag_md(const cnnk_dnn_ctx *c, dnnl_memory_desc_t *md, int nd,
                            const int64_t *dims, dnnl_format_tag_t tag);
/* A vector of n (bias, batch-norm statistics). */
cnnk_status cnnk_dnn_vec_md(const cnnk_dnn_ctx *c, dnnl_memory_desc_t *md, int64_t n);
/* cnnk's activations: NHWC with pixel pitch ld, in oneDNN's logical
 * order {N, C, H, W}, so oneDNN reads and writes cnnk's buffers in place. */
cnnk_status cnnk_dnn_nhwc_md(const cnnk_dnn_ctx *c, dnnl_memory_desc_t *md, int64_t n,
                             int64_t ch, int64_t h, int64_t w, int64_t ld);

/* The caller's convolution weights, OIHW or GOIHW, or (any) the same dims
 * in format `any`. */
cnnk_status cnnk_dnn_conv_wmd(const cnnk_dnn_ctx *c, const cnnk_conv_desc *d, bool any,
                              dnnl_memory_desc_t *md);
/* The caller's inner-product weights for a src of src_ndims (4: OIHW
 * [oc][ic][ih][iw], the framework's flatten of NCHW, which oneDNN
 * contracts over the logical (c, h, w) whatever the src layout; 2: OI,
 * when ih = iw = 1), or (any) the same dims in format `any`. */
cnnk_status cnnk_dnn_fc_wmd(const cnnk_dnn_ctx *c, const cnnk_fc_desc *d, int src_ndims,
                            bool any, dnnl_memory_desc_t *md);

/* ---- attributes and primitive descriptors ---------------------------------- */

/* A new attribute (the caller destroys it) with the context's scratchpad
 * policy and post-ops sum (scale 1, the residual already in dst) then
 * ReLU (eltwise_relu with alpha: leaky when alpha != 0), each when asked. */
cnnk_status cnnk_dnn_attr(const cnnk_dnn_ctx *c, bool sum, bool relu, float alpha,
                          dnnl_primitive_attr_t *attr);
/* The primitive descriptor of op_desc with cnnk_dnn_attr's attribute. */
cnnk_status cnnk_dnn_pd(const cnnk_dnn_ctx *c, const void *op_desc, bool sum, bool relu,
                        float alpha, dnnl_primitive_desc_t *pd);

/* ---- one builder per layer kind ------------------------------------------------ */

/* Convolution or, when d->transposed, deconvolution of a checked d, with
 * bias, sum and ReLU as asked; src and dst: NULL is `any`. */
cnnk_status cnnk_dnn_conv_pd(const cnnk_dnn_ctx *c, const cnnk_conv_desc *d,
                             const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                             bool bias, bool sum, bool relu, float alpha,
                             dnnl_primitive_desc_t *pd);
/* As cnnk_dnn_conv_pd with oneDNN's algorithm algo (a deconvolution is
 * always direct). WINOGRAD falls back to DIRECT where oneDNN refuses it,
 * i.e. where its descriptor or primitive descriptor cannot be created;
 * that refusal goes to why (len bytes; "" when Winograd was used or not
 * asked for), not to c->err. *used is what the primitive descriptor runs
 * (AUTO resolved by oneDNN: DIRECT or WINOGRAD). */
cnnk_status cnnk_dnn_conv_pd_algo(const cnnk_dnn_ctx *c, const cnnk_conv_desc *d,
                                  const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                                  bool bias, bool sum, bool relu, float alpha,
                                  cnnk_onednn_algo algo, dnnl_primitive_desc_t *pd,
                                  cnnk_onednn_algo *used, char *why, size_t len);
/* Inner product on a src of src_ndims (see cnnk_dnn_fc_wmd; other shapes
 * are CNNK_EINVAL); src NULL is `any`; dst is mb x oc, nc. */
cnnk_status cnnk_dnn_fc_pd(const cnnk_dnn_ctx *c, const cnnk_fc_desc *d, int src_ndims,
                           const dnnl_memory_desc_t *src, bool bias, bool relu, float alpha,
                           dnnl_primitive_desc_t *pd);
/* Pooling of a checked d; dst NULL is `any`. Ceil rounding becomes extra
 * end padding; AVG_INCLUDE_PAD with such an overhang is CNNK_EUNSUPPORTED
 * (oneDNN would count the overhang cells in the divisor, cnnk does not). */
cnnk_status cnnk_dnn_pool_pd(const cnnk_dnn_ctx *c, const cnnk_pool_desc *d,
                             const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                             dnnl_primitive_desc_t *pd);
/* LRN across channels; md is src and dst. */
cnnk_status cnnk_dnn_lrn_pd(const cnnk_dnn_ctx *c, const cnnk_lrn_desc *d,
                            const dnnl_memory_desc_t *md, dnnl_primitive_desc_t *pd);
/* Inference batch-norm with given statistics, scale and shift, the ReLU
 * fused by flag (a leaky one, alpha != 0, is CNNK_EUNSUPPORTED); md is src
 * and dst. */
cnnk_status cnnk_dnn_bnorm_pd(const cnnk_dnn_ctx *c, const cnnk_bnorm_desc *d,
                              const dnnl_memory_desc_t *md, bool relu, float alpha,
                              dnnl_primitive_desc_t *pd);
/* Softmax over the channels (axis 1). */
cnnk_status cnnk_dnn_softmax_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *src,
                                const dnnl_memory_desc_t *dst, dnnl_primitive_desc_t *pd);
/* Element-wise ReLU, leaky with slope alpha (0: plain); md is src and dst. */
cnnk_status cnnk_dnn_relu_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *md, float alpha,
                             dnnl_primitive_desc_t *pd);
/* dst = a + b, then ReLU when asked (a post-op). */
cnnk_status cnnk_dnn_add_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *a,
                            const dnnl_memory_desc_t *b, const dnnl_memory_desc_t *dst,
                            bool relu, float alpha, dnnl_primitive_desc_t *pd);
/* Concatenation of n srcs along the channels. */
cnnk_status cnnk_dnn_concat_pd(const cnnk_dnn_ctx *c, int n, const dnnl_memory_desc_t *src,
                               const dnnl_memory_desc_t *dst, dnnl_primitive_desc_t *pd);
/* Linear resampling from src's spatial size to dst's (oneDNN's
 * resampling_linear: half-pixel centres, PyTorch's align_corners=False). */
cnnk_status cnnk_dnn_resampling_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *src,
                                   const dnnl_memory_desc_t *dst, dnnl_primitive_desc_t *pd);
/* A reorder (a copy between layouts or pitches) to be executed later. */
cnnk_status cnnk_dnn_reorder_pd(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *from,
                                const dnnl_memory_desc_t *to, dnnl_primitive_desc_t *pd);

/* ---- data and queries -------------------------------------------------------------- */

/* A new library-allocated memory of layout `to`, filled from data (layout
 * `from`) by a reorder run now: the once-only weight reorder, oneDNN's
 * counterpart of cnnk's pack(). */
cnnk_status cnnk_dnn_reorder_into(const cnnk_dnn_ctx *c, const dnnl_memory_desc_t *from,
                                  const void *data, const dnnl_memory_desc_t *to,
                                  dnnl_memory_t *out);
/* oneDNN's implementation name, e.g. "brgconv:avx512_core"; "unknown". */
const char *cnnk_dnn_impl(const dnnl_primitive_desc_t pd);
/* Size in bytes of the scratchpad pd wants (0: none). */
size_t cnnk_dnn_scratch_bytes(const dnnl_primitive_desc_t pd);

#endif
#endif
