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
    CNNK_ALGO_COUNT
} cnnk_algo;

const char *cnnk_isa_name(cnnk_isa isa);     /* "ref", "avx2", "neon" */
const char *cnnk_algo_name(cnnk_algo algo);  /* "direct", "im2col", "winograd_f2x2", ... */
/* Parses a name; returns false when it names nothing. */
bool cnnk_isa_from_name(const char *s, cnnk_isa *isa);
bool cnnk_algo_from_name(const char *s, cnnk_algo *algo);

/* Fused epilogue of a convolution, applied in this order:
 *   y = conv(x) + bias[oc]  (bias may be NULL)
 *   y += residual           (residual may be NULL; NHWC, pitch residual_ld)
 *   y = max(y, 0)           (when relu)
 * Batch-norm is folded into weights and bias before packing. */
typedef struct cnnk_epilogue {
    const float *bias;
    const float *residual;
    int64_t residual_ld;
    bool relu;
} cnnk_epilogue;

typedef struct cnnk_conv_args {
    const float *src;   /* NHWC, pitch src_ld >= ic */
    int64_t src_ld;
    const float *packed;/* from pack() */
    float *dst;         /* NHWC, pitch dst_ld >= oc */
    int64_t dst_ld;
    cnnk_epilogue ep;
    float *workspace;   /* workspace_size() floats, 64-byte aligned */
    int nthreads;       /* >= 1 */
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
} cnnk_conv_kernel;

/* The registry of convolution kernels (core/registry.c). Entries whose ISA
 * the running CPU lacks are listed but cnnk_isa_available() says false. */
size_t cnnk_conv_kernel_count(void);
const cnnk_conv_kernel *cnnk_conv_kernel_at(size_t i);
const cnnk_conv_kernel *cnnk_conv_kernel_find(const char *name);

/* Whether this CPU (cpuid / getauxval, not compile flags alone) runs isa. */
bool cnnk_isa_available(cnnk_isa isa);

#ifdef __cplusplus
}
#endif
#endif
