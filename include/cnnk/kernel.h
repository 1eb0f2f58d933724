/* The kernel contract and the registry: the one list that validate/,
 * bench/ and the tuner iterate. Adding an entry to core/registry.c adds a
 * kernel to all three with no other edit.
 *
 * A convolution kernel is used in two steps:
 *   1. pack(desc, w_oihw, packed)   once, at prepare time, never timed
 *   2. run(desc, args)              every forward pass; allocates nothing
 * `applies(desc)` is false, never a wrong answer, for shapes the kernel
 * cannot do; desc is always a checked descriptor (cnnk_conv_check). */
#ifndef CNNK_KERNEL_H
#define CNNK_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnnk/desc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnnk_isa {
    CNNK_ISA_REF = 0,
    CNNK_ISA_AVX2,
    CNNK_ISA_AVX512, /* AVX-512 F+CD+BW+DQ+VL (Skylake-SP on), oneDNN's avx512_core */
    CNNK_ISA_NEON,
    CNNK_ISA_COUNT
} cnnk_isa;

typedef enum cnnk_algo {
    CNNK_ALGO_DIRECT = 0,
    CNNK_ALGO_IM2COL,
    CNNK_ALGO_WINOGRAD_F2,  /* F(2x2,3x3) */
    CNNK_ALGO_WINOGRAD_F4,  /* F(4x4,3x3) */
    CNNK_ALGO_WINOGRAD_F6,  /* F(6x6,3x3) */
    CNNK_ALGO_1X1,
    CNNK_ALGO_1X1_SUP,      /* 1x1 on the unpacked GEMM: src read in place */
    CNNK_ALGO_IM2COL_SUP,   /* im2col on the unpacked GEMM: the column block read in place */
    CNNK_ALGO_COUNT
} cnnk_algo;

const char *cnnk_isa_name(cnnk_isa isa);     /* "ref", "avx2", "neon" */
const char *cnnk_algo_name(cnnk_algo algo);  /* "direct", "im2col", "winograd_f2x2", ... */
/* Parses a name; returns false when it names nothing. */
bool cnnk_isa_from_name(const char *s, cnnk_isa *isa);
bool cnnk_algo_from_name(const char *s, cnnk_algo *algo);

/* Fused epilogue of a convolution, applied in this order:
 *   y = conv(x) + bias[oc]  (bias may be NULL)
 *   y += residual           (residual may be NULL; NHWC, pitch residual_ld;
 *                           it may be dst itself only for a kernel with
 *                           residual_in_dst, below)
 *   y = y > 0 ? y : relu_alpha * y   (when relu; relu_alpha 0: ReLU, +0 for
 *                           every y <= 0; else leaky ReLU, YOLO's 0.1)
 * Batch-norm is folded into weights and bias before packing. relu_alpha is
 * oneDNN's eltwise_relu alpha: one flag and one slope, so the zero-filled
 * initialiser of every existing caller stays plain ReLU. */
typedef struct cnnk_epilogue {
    const float *bias;
    const float *residual;
    int64_t residual_ld;
    bool relu;
    float relu_alpha;
} cnnk_epilogue;

typedef struct cnnk_conv_args {
    const float *src;   /* NHWC, pitch src_ld >= ic */
    int64_t src_ld;
    const float *packed;/* from pack() */
    float *dst;         /* NHWC, pitch dst_ld >= oc */
    int64_t dst_ld;
    cnnk_epilogue ep;
    float *workspace;   /* workspace_size(d, n) floats, 64-byte aligned */
    int nthreads;       /* 1 <= nthreads <= the n the workspace was sized for */
} cnnk_conv_args;

typedef struct cnnk_conv_kernel {
    const char *name;   /* "<isa>/<algo>", e.g. "avx2/winograd_f4x4" */
    cnnk_isa isa;
    cnnk_algo algo;
    bool (*applies)(const cnnk_conv_desc *d);
    size_t (*packed_size)(const cnnk_conv_desc *d);               /* floats */
    size_t (*workspace_size)(const cnnk_conv_desc *d, int nthreads); /* floats */
    void (*pack)(const cnnk_conv_desc *d, const float *w_oihw, float *packed);
    void (*run)(const cnnk_conv_desc *d, const cnnk_conv_args *a);
    /* Optional: the floating-point operations one run() executes for d
     * (an FMA counts 2), e.g. Winograd's transform-domain GEMM and its
     * transforms, which is less than the direct definition's 2 x MACs.
     * NULL: 2 x MACs. Read it through cnnk_conv_kernel_flops(). */
    double (*flops)(const cnnk_conv_desc *d);
    /* run() takes ep.residual == dst (same pitch): the residual is read
     * where the output goes, each value before its output is written, as
     * oneDNN's sum post-op does. One read of dst replaces the read of a
     * separate residual and the write-allocate read of dst (the runner
     * uses it where the residual dies at this layer: core/runner.c). */
    bool residual_in_dst;
} cnnk_conv_kernel;

/* The registry of convolution kernels (core/registry.c). Entries whose ISA
 * the running CPU lacks are listed but cnnk_isa_available() says false. */
size_t cnnk_conv_kernel_count(void);
const cnnk_conv_kernel *cnnk_conv_kernel_at(size_t i);
const cnnk_conv_kernel *cnnk_conv_kernel_find(const char *name);

/* Work of a convolution, both as FLOPs of one pass (an FMA counts 2):
 *   effective: 2 x MACs of the plain definition, whatever the algorithm
 *              (what "effective GFLOP/s" divides by the time);
 *   executed:  what kernel k actually computes (its flops callback, else
 *              2 x MACs): what FMA utilisation divides by the peak. */
double cnnk_conv_effective_flops(const cnnk_conv_desc *d);
double cnnk_conv_kernel_flops(const cnnk_conv_kernel *k, const cnnk_conv_desc *d);

/* ---- every other layer: one contract for pooling, LRN, batch-norm, FC,
 * softmax, element-wise, concat and transposed convolution ------------- */

/* Arguments of a layer kernel; which fields a kind reads:
 *   POOL, LRN, SOFTMAX   src[0] -> dst
 *   BNORM                src[0] -> dst; params = mean, var, gamma, beta; relu
 *   FC                   src[0] (contiguous NHWC) -> dst (mb x oc, dst_ld = oc);
 *                        packed; params[0] = bias or NULL; relu
 *   DECONV               src[0] -> dst; packed; params[0] = bias or NULL; relu
 *   ELTWISE              src[0] (and src[1] for ADD, ADD_RELU) -> dst; a
 *                        LEAKY_RELU's slope is its descriptor's alpha
 * relu with relu_alpha is the activation of cnnk_epilogue.
 *   CONCAT               src[0..n) -> dst
 *   REGION_POOL          src[0] -> dst; RoI pooling's boxes (each image's R
 *                        rows of 5: batch index, x1, y1, x2, y2) are src[1]
 *                        (pitch src_ld[1], image after image) when given by a
 *                        node, else params[0] (R x 5, the same for every image)
 * Pitches are per tensor (src_ld[i], dst_ld) as in desc.h. */
typedef struct cnnk_op_args {
    const float *src[CNNK_CONCAT_MAX_INPUTS];
    int64_t src_ld[CNNK_CONCAT_MAX_INPUTS];
    const float *packed;
    const float *params[4];
    float *dst;
    int64_t dst_ld;
    bool relu;
    float relu_alpha;
    float *workspace; /* workspace_size() floats, 64-byte aligned */
    int nthreads;
} cnnk_op_args;

typedef struct cnnk_op_kernel {
    const char *name;       /* "<isa>/<kind>", e.g. "avx2/pool" */
    cnnk_isa isa;
    cnnk_layer_kind kind;   /* never CONV: convolutions use cnnk_conv_kernel */
    bool (*applies)(const cnnk_layer_desc *l);
    /* FC and DECONV: packed weights from OIHW; NULL for kinds without weights. */
    size_t (*packed_size)(const cnnk_layer_desc *l);
    void (*pack)(const cnnk_layer_desc *l, const float *w_oihw, float *packed);
    size_t (*workspace_size)(const cnnk_layer_desc *l, int nthreads); /* NULL: none */
    void (*run)(const cnnk_layer_desc *l, const cnnk_op_args *a);
} cnnk_op_kernel;

size_t cnnk_op_kernel_count(void);
const cnnk_op_kernel *cnnk_op_kernel_at(size_t i);
const cnnk_op_kernel *cnnk_op_kernel_find(const char *name);

/* Whether this CPU (cpuid / getauxval, not compile flags alone) runs isa. */
bool cnnk_isa_available(cnnk_isa isa);

#ifdef __cplusplus
}
#endif
#endif
