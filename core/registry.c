/* The registry: the one list of kernels that validate/, bench/ and the
 * tuner iterate. Add a kernel here and it is validated, benchmarked and
 * tuned with no other edit. */
#include <string.h>

#include "cnnk/kernel.h"
#include "kernels/ref/ref.h"

/* Optimized kernels are declared here, one line each, and listed below;
 * x86 entries exist only in x86 builds (kernels/avx2/ is compiled there). */
#if defined(__x86_64__)
/* ---- avx2 conv entries ---- */
extern const cnnk_conv_kernel cnnk_conv_im2col__avx2;
extern const cnnk_conv_kernel cnnk_conv_1x1__avx2;
extern const cnnk_conv_kernel cnnk_conv_winograd_f2x2__avx2;
extern const cnnk_conv_kernel cnnk_conv_winograd_f4x4__avx2;
extern const cnnk_conv_kernel cnnk_conv_winograd_f6x6__avx2;
extern const cnnk_conv_kernel cnnk_conv_direct__avx2;
/* ---- avx2 op entries ---- */
extern const cnnk_op_kernel cnnk_pool__avx2;
extern const cnnk_op_kernel cnnk_lrn__avx2;
extern const cnnk_op_kernel cnnk_eltwise__avx2;
extern const cnnk_op_kernel cnnk_softmax__avx2;
extern const cnnk_op_kernel cnnk_concat__avx2;
extern const cnnk_op_kernel cnnk_bnorm__avx2;
extern const cnnk_op_kernel cnnk_deconv__avx2;
extern const cnnk_op_kernel cnnk_fc__avx2;
#endif

static const cnnk_conv_kernel *const g_conv_kernels[] = {
    &cnnk_conv_direct__ref,
    &cnnk_conv_im2col__ref,
    &cnnk_conv_winograd_f2x2__ref,
    &cnnk_conv_winograd_f4x4__ref,
    &cnnk_conv_winograd_f6x6__ref,
    &cnnk_conv_1x1__ref,
#if defined(__x86_64__)
    /* ---- avx2 conv list ---- */
    &cnnk_conv_im2col__avx2,
    &cnnk_conv_1x1__avx2,
    &cnnk_conv_winograd_f2x2__avx2,
    &cnnk_conv_winograd_f4x4__avx2,
    &cnnk_conv_winograd_f6x6__avx2,
    &cnnk_conv_direct__avx2,
#endif
};

size_t cnnk_conv_kernel_count(void) { return sizeof g_conv_kernels / sizeof g_conv_kernels[0]; }

const cnnk_conv_kernel *cnnk_conv_kernel_at(size_t i) {
    return i < cnnk_conv_kernel_count() ? g_conv_kernels[i] : NULL;
}

const cnnk_conv_kernel *cnnk_conv_kernel_find(const char *name) {
    for (size_t i = 0; i < cnnk_conv_kernel_count(); ++i)
        if (strcmp(g_conv_kernels[i]->name, name) == 0) return g_conv_kernels[i];
    return NULL;
}

static const cnnk_op_kernel *const g_op_kernels[] = {
    &cnnk_pool__ref, &cnnk_lrn__ref,    &cnnk_softmax__ref, &cnnk_bnorm__ref,
    &cnnk_eltwise__ref, &cnnk_concat__ref, &cnnk_fc__ref,   &cnnk_deconv__ref,
#if defined(__x86_64__)
    /* ---- avx2 op list ---- */
    &cnnk_pool__avx2,
    &cnnk_lrn__avx2,
    &cnnk_eltwise__avx2,
    &cnnk_softmax__avx2,
    &cnnk_concat__avx2,
    &cnnk_bnorm__avx2,
    &cnnk_deconv__avx2,
    &cnnk_fc__avx2,
#endif
};

size_t cnnk_op_kernel_count(void) { return sizeof g_op_kernels / sizeof g_op_kernels[0]; }

const cnnk_op_kernel *cnnk_op_kernel_at(size_t i) {
    return i < cnnk_op_kernel_count() ? g_op_kernels[i] : NULL;
}

const cnnk_op_kernel *cnnk_op_kernel_find(const char *name) {
    for (size_t i = 0; i < cnnk_op_kernel_count(); ++i)
        if (strcmp(g_op_kernels[i]->name, name) == 0) return g_op_kernels[i];
    return NULL;
}

static const char *const g_isa_names[CNNK_ISA_COUNT] = {"ref", "avx2", "neon"};
static const char *const g_algo_names[CNNK_ALGO_COUNT] = {
    "direct", "im2col", "winograd_f2x2", "winograd_f4x4", "winograd_f6x6", "1x1"};

const char *cnnk_isa_name(cnnk_isa isa) {
    return isa >= 0 && isa < CNNK_ISA_COUNT ? g_isa_names[isa] : "?";
}

const char *cnnk_algo_name(cnnk_algo algo) {
    return algo >= 0 && algo < CNNK_ALGO_COUNT ? g_algo_names[algo] : "?";
}

bool cnnk_isa_from_name(const char *s, cnnk_isa *isa) {
    for (int i = 0; i < CNNK_ISA_COUNT; ++i)
        if (strcmp(s, g_isa_names[i]) == 0) return *isa = (cnnk_isa)i, true;
    return false;
}

bool cnnk_algo_from_name(const char *s, cnnk_algo *algo) {
    for (int i = 0; i < CNNK_ALGO_COUNT; ++i)
        if (strcmp(s, g_algo_names[i]) == 0) return *algo = (cnnk_algo)i, true;
    return false;
}
