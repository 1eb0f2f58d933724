/* oneDNN as the performance peer: primitives created once, executed many
 * times (docs/ONEDNN_PEER.md).
 *
 * validate/onednn.h runs one layer per call in cnnk's own NHWC buffers, to
 * CHECK values. This header is for TIMING: a layer or a whole network is
 * prepared once the way benchdnn and a framework would (format `any`, so
 * oneDNN picks its blocked layouts; weights reordered once; buffers
 * allocated once), and then executed with no reorder of weights and no
 * allocation.
 *
 * Without oneDNN (CNNK_WITH_ONEDNN=OFF) every create returns
 * CNNK_EUNSUPPORTED. */
#ifndef CNNK_VALIDATE_ONEDNN_PEER_H
#define CNNK_VALIDATE_ONEDNN_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnnk/desc.h"
#include "cnnk/net.h"
#include "cnnk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- process-wide settings ---------------------------------------------- */

/* Caps the ISA oneDNN may JIT for, through dnnl_set_max_cpu_isa: every
 * dnnl_cpu_isa_t level of oneDNN 2.6 ("all", "sse41", "avx", "avx2",
 * "avx2_vnni", "avx512_mic", "avx512_mic_4ops", "avx512_core",
 * "avx512_core_vnni", "avx512_core_bf16", "avx512_core_amx"), in any case,
 * so the names of the DNNL_MAX_CPU_ISA / ONEDNN_MAX_CPU_ISA variable
 * ("AVX512_CORE") work too. "all" is no cap: the CPU's best. It holds for
 * the whole process and only before oneDNN creates its first primitive:
 * later it is CNNK_EONEDNN. A level oneDNN refuses (2.6.3 refuses the
 * Xeon Phi levels avx512_mic*) is CNNK_EONEDNN, saying so. An unknown
 * name is CNNK_EINVAL listing the valid ones. */
cnnk_status cnnk_onednn_set_max_isa(const char *isa, cnnk_error *err);

/* The ISA oneDNN uses (dnnl_get_effective_cpu_isa), in the names above;
 * "none" without oneDNN. Settles oneDNN's ISA: set the cap first. */
const char *cnnk_onednn_max_isa_name(void);

/* The valid names of cnnk_onednn_set_max_isa, comma-separated. */
const char *cnnk_onednn_isa_names(void);

/* ---- the convolution algorithm ------------------------------------------- */

/* oneDNN's convolution algorithm kinds (dnnl_alg_kind_t), as the peer asks
 * for them. WINOGRAD falls back to DIRECT per layer where oneDNN refuses
 * it (its descriptor or primitive descriptor cannot be created: oneDNN 2.6
 * has f32 Winograd only for 3x3 stride-1 convolutions, and on CPUs only
 * from avx512_core up); AUTO is oneDNN's own choice. A deconvolution is
 * always DIRECT (cnnk has no Winograd deconvolution either). */
typedef enum cnnk_onednn_algo {
    CNNK_ONEDNN_DIRECT,
    CNNK_ONEDNN_WINOGRAD,
    CNNK_ONEDNN_AUTO,
    CNNK_ONEDNN_ALGO_COUNT
} cnnk_onednn_algo;

/* "direct", "winograd", "auto"; "?" out of range. */
const char *cnnk_onednn_algo_name(cnnk_onednn_algo a);
/* The algorithm named s; CNNK_EINVAL listing the valid names otherwise. */
cnnk_status cnnk_onednn_algo_parse(const char *s, cnnk_onednn_algo *a, cnnk_error *err);

/* Whether oneDNN, at its effective ISA, has a Winograd convolution at all
 * (asked on a 3x3, 64-channel, 56x56 convolution, which every oneDNN
 * Winograd implementation takes). Settles oneDNN's ISA; false without
 * oneDNN. */
bool cnnk_onednn_winograd_exists(void);

/* oneDNN here runs on OpenMP (libgomp): sets the calling thread's OpenMP
 * thread count (omp_set_num_threads). n < 1 is ignored. */
void cnnk_onednn_set_threads(int n);

/* ---- one layer ------------------------------------------------------------ */

/* Which parts of cnnk's fused epilogue (cnnk/kernel.h cnnk_epilogue) the
 * peer primitive carries: bias in the primitive, residual as a sum post-op
 * (the residual is what dst holds), relu as an eltwise post-op, in that
 * order. Read for CONV, DECONV (all three) and FC (bias, relu). */
typedef struct cnnk_epilogue_spec {
    bool bias, residual, relu;
    float relu_alpha; /* relu's slope: 0 ReLU, else leaky (eltwise_relu's alpha) */
} cnnk_epilogue_spec;

typedef struct cnnk_onednn_layer cnnk_onednn_layer;

/* Creates the primitive of l (checked on a copy), allocates and fills its
 * buffers with deterministic data, reorders weights into the primitive's
 * layout once. ep may be NULL (no epilogue). algo is read for CONV (see
 * cnnk_onednn_algo). Layers: CONV, DECONV, FC, POOL, LRN, BNORM, SOFTMAX,
 * ELTWISE (RELU, ADD, ADD_RELU) and CONCAT; DROPOUT is CNNK_EUNSUPPORTED
 * (elided, nothing to time). */
cnnk_status cnnk_onednn_layer_create(const cnnk_layer_desc *l, const cnnk_epilogue_spec *ep,
                                     cnnk_onednn_algo algo, cnnk_onednn_layer **out,
                                     cnnk_error *err);
/* Runs the primitive once (the timed part) and waits for it. */
cnnk_status cnnk_onednn_layer_execute(cnnk_onednn_layer *h);
/* oneDNN's implementation name, e.g. "brgconv:avx512_core". */
const char *cnnk_onednn_layer_impl(const cnnk_onednn_layer *h);
/* The algorithm the layer's primitive runs (DIRECT or WINOGRAD; DIRECT
 * for layers other than convolutions), and why Winograd was not used
 * where it was asked for ("" otherwise): oneDNN's refusal. */
cnnk_onednn_algo cnnk_onednn_layer_algo(const cnnk_onednn_layer *h);
const char *cnnk_onednn_layer_note(const cnnk_onednn_layer *h);
void cnnk_onednn_layer_destroy(cnnk_onednn_layer *h);

/* The layer's tensors, read back to check that the timed primitive does
 * cnnk's work (tests/test_onednn_peer.c; never timed). */
typedef enum cnnk_onednn_tensor {
    CNNK_ONEDNN_SRC,
    CNNK_ONEDNN_WEIGHTS,
    CNNK_ONEDNN_BIAS,
    CNNK_ONEDNN_DST, /* before the first execute: the residual a sum post-op adds */
    CNNK_ONEDNN_MEAN,
    CNNK_ONEDNN_VARIANCE,
    CNNK_ONEDNN_SCALE,
    CNNK_ONEDNN_SHIFT,
    CNNK_ONEDNN_TENSOR_COUNT
} cnnk_onednn_tensor;

/* Copies tensor t into out in oneDNN's plain order of its dimensions
 * (activations NCHW or NC, weights OIHW or GOIHW, vectors as they are;
 * the weights are the plain values the primitive's were reordered from),
 * at most n floats; *count gets its element count. CNNK_EINVAL when the
 * layer has no such tensor or n is too small; CNNK_EUNSUPPORTED without
 * oneDNN. */
cnnk_status cnnk_onednn_layer_read(const cnnk_onednn_layer *h, cnnk_onednn_tensor t, float *out,
                                   size_t n, size_t *count, cnnk_error *err);

/* ---- a whole network -------------------------------------------------------- */

typedef struct cnnk_onednn_net cnnk_onednn_net;

/* Builds the network's primitives (the net must have weights and may be
 * freed afterwards: parameters are copied). Fusion as cnnk's runner: a
 * batch-norm after a convolution folded into its weights and bias, a
 * residual add (sum post-op) and a ReLU (eltwise post-op) after it; a
 * batch-norm elsewhere is a batch-norm primitive (ReLU fused by flag);
 * dropout elided. nthreads >= 1 is the OpenMP thread count used to create
 * and run the primitives; 0 keeps OpenMP's current setting. algo is each
 * convolution's (see cnnk_onednn_algo; per layer, Winograd where oneDNN
 * takes it and direct elsewhere). */
cnnk_status cnnk_onednn_net_create(const cnnk_net *net, int nthreads, cnnk_onednn_algo algo,
                                   cnnk_onednn_net **out, cnnk_error *err);

/* How a network's concats are made (docs/ONEDNN_PEER.md, "Concats"):
 * COPY: oneDNN's concat primitive, a copy of every input; IN_PLACE: at
 * batch 1, each input whose channel count is a multiple of the blocked
 * layout's block (8 under AVX2, 16 under AVX-512) is written by its
 * producing convolution or pooling straight into its slice of the concat
 * buffer (the slice of an nChw<B>c tensor at a block-aligned channel
 * offset is itself a dense nChw<B>c tensor), the producers asked for
 * that layout and their consumers offered it first; only the inputs that
 * cannot be placed are copied. oneDNN 2.6's optimized primitives refuse
 * strided sub-memory descriptors (they fall back to ref:any), which is
 * why only block-aligned slices at batch 1 can be in place. */
typedef enum cnnk_onednn_concat_mode {
    CNNK_ONEDNN_CONCAT_COPY,
    CNNK_ONEDNN_CONCAT_IN_PLACE,
    CNNK_ONEDNN_CONCAT_COUNT
} cnnk_onednn_concat_mode;
const char *cnnk_onednn_concat_name(cnnk_onednn_concat_mode c); /* "copy", "inplace" */
/* How the network is built: cnnk_onednn_net_create is {algo, COPY, false}. */
typedef struct cnnk_onednn_net_opts {
    cnnk_onednn_algo algo;
    cnnk_onednn_concat_mode concat;
    /* Every node its own primitive: batch-norm not folded, ReLU and the
     * residual add not post-ops. What a framework's eager mode runs
     * (PyTorch without freezing); docs/ONEDNN_PEER.md's fairness table
     * measures what the fusion is worth. */
    bool unfused;
} cnnk_onednn_net_opts;
cnnk_status cnnk_onednn_net_create_ex(const cnnk_net *net, int nthreads,
                                      const cnnk_onednn_net_opts *opts, cnnk_onednn_net **out,
                                      cnnk_error *err);
/* One forward run primitive by primitive, each waited for and timed:
 * ms[i] gets step i's milliseconds (ms has cnnk_onednn_net_prim_count
 * entries). For attributing a network's time (input reorder, layout
 * reorders, concats); the sum is not the forward's time (a wait after
 * every step). */
cnnk_status cnnk_onednn_net_profile(cnnk_onednn_net *h, const float *input_nhwc, float *output,
                                    double *ms);
/* Bytes the concats copy per forward (each input copied is counted once,
 * the bytes written): the concat primitives' outputs and the reorders
 * into concat slices. */
int64_t cnnk_onednn_net_concat_copy_bytes(const cnnk_onednn_net *h);
/* input: NHWC mb x h x w x c contiguous (its reorder into oneDNN's layout is
 * part of the forward); output: the last node's values, mb x classes.
 * Allocates nothing. */
cnnk_status cnnk_onednn_net_forward(cnnk_onednn_net *h, const float *input_nhwc,
                                    float *output);
int64_t cnnk_onednn_net_output_elems(const cnnk_onednn_net *h);
/* The executed primitives in order: what each computes (node names, e.g.
 * "layer1.0.conv2+bn2+add+relu", or "reorder:<node>") and oneDNN's
 * implementation name. NULL past the end. */
int cnnk_onednn_net_prim_count(const cnnk_onednn_net *h);
const char *cnnk_onednn_net_prim_name(const cnnk_onednn_net *h, int i);
const char *cnnk_onednn_net_prim_impl(const cnnk_onednn_net *h, int i);
/* For a convolution step, the algorithm it runs ("direct", "winograd")
 * and, where Winograd was asked for and refused, why (oneDNN's status);
 * "" for other steps and notes; NULL past the end. */
const char *cnnk_onednn_net_prim_algo(const cnnk_onednn_net *h, int i);
const char *cnnk_onednn_net_prim_note(const cnnk_onednn_net *h, int i);
/* What step i is beside a layer: "input" (the NHWC input's reorder),
 * "output" (into the caller's buffer), "reorder" (between layouts),
 * "concat" (a concat primitive or a copy into a concat slice), "other" (a
 * batch-norm, ReLU or add not fused into a convolution: no layer row of
 * cnnk-bench times it), "host" (cnnk_onednn_net_host_steps); "" for any
 * other layer's primitive; NULL past the
 * end. */
const char *cnnk_onednn_net_prim_role(const cnnk_onednn_net *h, int i);
/* Host steps (role "host"): nodes oneDNN has no primitive for (RoI
 * pooling, ...), run as cnnk's reference kernel on the peer's tensors.
 * Returns how many; buf gets their layer names, comma-separated. */
int cnnk_onednn_net_host_steps(const cnnk_onednn_net *h, char *buf, size_t len);
/* Convolution steps running algorithm a (DIRECT or WINOGRAD). */
int cnnk_onednn_net_conv_count(const cnnk_onednn_net *h, cnnk_onednn_algo a);
void cnnk_onednn_net_destroy(cnnk_onednn_net *h);

#ifdef __cplusplus
}
#endif

#endif
