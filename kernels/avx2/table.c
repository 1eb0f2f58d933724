/* The AVX2+FMA table: everything this ISA contributes, in one place.
 * The shared drivers (kernels/common/) get the microkernel, the transforms,
 * the GEMV and the direct tile through cnnk_isa_kernels__avx2;
 * core/registry.c gets the entries and the peak loop through
 * cnnk_isa_table__avx2. */
#include <pthread.h>

#include "kernels/avx2/gemm.h"
#include "kernels/avx2/winograd.h"
#include "kernels/common/entries.h"

/* The entries written for AVX2 alone (intrinsics all through). */
extern const cnnk_op_kernel cnnk_pool__avx2, cnnk_lrn__avx2, cnnk_eltwise__avx2,
    cnnk_softmax__avx2, cnnk_concat__avx2, cnnk_bnorm__avx2, cnnk_deconv__avx2,
    cnnk_resize__avx2, cnnk_warp__avx2;

extern const cnnk_op_kernel cnnk_region_pool__avx2; /* region_pool.c */

/* peak.c: 12 independent FMA chains x 8 lanes x 2 FLOP per iteration. */
float cnnk_peak_loop__avx2(int64_t iters);
void cnnk_gemv__avx2(int64_t k, int64_t oc, const float *x, const float *packed,
                     const float *bias, bool relu, float alpha, float *y, int64_t lo,
                     int64_t hi);
/* direct.c: 6 pixels x 16 channels. */
extern const cnnk_direct_ukernel cnnk_direct_ukernel_6x16__avx2;
/* gemm_sup.c: the unpacked GEMM's 6x16, on the packed GEMM's B panels. */
extern const cnnk_sup_ukernel cnnk_sup_ukernel_6x16__avx2;

static const cnnk_gemm_ukernel g_ukernel = {
    .mr = CNNK_AVX2_MR,
    .nr = CNNK_AVX2_NR,
    .k_unroll = 8,
    .run = cnnk_gemm_ukernel_6x16__avx2,
    .pack_a = cnnk_gemm_pack_a__avx2,
};

CNNK_DEFINE_KERNEL_CONFIG(avx2_config, &g_ukernel)

const cnnk_isa_kernels cnnk_isa_kernels__avx2 = {
    .isa = CNNK_ISA_AVX2,
    .gemm = &g_ukernel,
    .config = avx2_config,
    .vl = 8,
    .wino = {{cnnk_wino_input_f2__avx2, cnnk_wino_output_f2__avx2},
             {cnnk_wino_input_f4__avx2, cnnk_wino_output_f4__avx2},
             {cnnk_wino_input_f6__avx2, cnnk_wino_output_f6__avx2}},
    .gemv = cnnk_gemv__avx2,
    .gemv_group = 4,
    .direct = &cnnk_direct_ukernel_6x16__avx2,
    .sup = &cnnk_sup_ukernel_6x16__avx2,
};

CNNK_SHARED_ENTRIES(avx2, CNNK_ISA_AVX2, cnnk_isa_kernels__avx2)
CNNK_DIRECT_ENTRY(avx2, CNNK_ISA_AVX2, cnnk_isa_kernels__avx2)
CNNK_SUP_ENTRIES(avx2, CNNK_ISA_AVX2, cnnk_isa_kernels__avx2)

static const cnnk_conv_kernel *const g_conv[] = {
    &cnnk_conv_im2col__avx2,        &cnnk_conv_1x1__avx2,
    &cnnk_conv_winograd_f2x2__avx2, &cnnk_conv_winograd_f4x4__avx2,
    &cnnk_conv_winograd_f6x6__avx2, &cnnk_conv_direct__avx2,
    &cnnk_conv_1x1_sup__avx2,      &cnnk_conv_im2col_sup__avx2,
};

static const cnnk_op_kernel *const g_ops[] = {
    &cnnk_pool__avx2,   &cnnk_lrn__avx2,   &cnnk_eltwise__avx2, &cnnk_softmax__avx2,
    &cnnk_concat__avx2, &cnnk_bnorm__avx2, &cnnk_deconv__avx2,  &cnnk_fc__avx2,
    &cnnk_resize__avx2,
    &cnnk_warp__avx2,
    &cnnk_region_pool__avx2,
};

const cnnk_isa_table cnnk_isa_table__avx2 = {
    .isa = CNNK_ISA_AVX2,
    .kernels = &cnnk_isa_kernels__avx2,
    .conv = g_conv,
    .nconv = sizeof g_conv / sizeof g_conv[0],
    .ops = g_ops,
    .nops = sizeof g_ops / sizeof g_ops[0],
    .peak_loop = cnnk_peak_loop__avx2,
    .peak_flop_per_iter = 192.0,
    .peak_iters = (int64_t)1 << 20,
    .onednn_isa = "avx2",
};
