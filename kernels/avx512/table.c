/* The AVX-512 table: everything this ISA contributes, in one place.
 * The shared drivers (kernels/common/) get the microkernel, the transforms,
 * the GEMV and the direct tile through cnnk_isa_kernels__avx512;
 * core/registry.c gets the entries and the peak loop through
 * cnnk_isa_table__avx512. */
#include <pthread.h>

#include "kernels/avx512/gemm.h"
#include "kernels/avx512/winograd.h"
#include "kernels/common/entries.h"

/* The op entries written for AVX-512 alone (intrinsics all through). */
extern const cnnk_op_kernel cnnk_pool__avx512, cnnk_lrn__avx512, cnnk_eltwise__avx512,
    cnnk_softmax__avx512, cnnk_concat__avx512, cnnk_bnorm__avx512, cnnk_deconv__avx512,
    cnnk_resize__avx512, cnnk_warp__avx512;

extern const cnnk_op_kernel cnnk_region_pool__avx512; /* region_pool.c */

/* peak.c: 24 independent FMA chains x 16 lanes x 2 FLOP per iteration. */
float cnnk_peak_loop__avx512(int64_t iters);
void cnnk_gemv__avx512(int64_t k, int64_t oc, const float *x, const float *packed,
                       const float *bias, bool relu, float alpha, float *y, int64_t lo,
                     int64_t hi);
/* direct.c: 14 pixels x 32 channels. */
extern const cnnk_direct_ukernel cnnk_direct_ukernel_14x32__avx512;
/* gemm_sup.c: the unpacked GEMM's 14x32, on the packed GEMM's B panels. */
extern const cnnk_sup_ukernel cnnk_sup_ukernel_6x64__avx512;

static const cnnk_gemm_ukernel g_ukernel = {
    .mr = CNNK_AVX512_MR,
    .nr = CNNK_AVX512_NR,
    .k_unroll = 8,
    .kc_rule = CNNK_KC_RULE_B_FILLS_L1,
    .run = cnnk_gemm_ukernel_14x32__avx512,
    .pack_a = cnnk_gemm_pack_a_14__avx512,
};

CNNK_DEFINE_KERNEL_CONFIG(avx512_config, &g_ukernel)

const cnnk_isa_kernels cnnk_isa_kernels__avx512 = {
    .isa = CNNK_ISA_AVX512,
    .gemm = &g_ukernel,
    .config = avx512_config,
    .vl = 16,
    .wino = {{cnnk_wino_input_f2__avx512, cnnk_wino_output_f2__avx512},
             {cnnk_wino_input_f4__avx512, cnnk_wino_output_f4__avx512},
             {cnnk_wino_input_f6__avx512, cnnk_wino_output_f6__avx512}},
    .gemv = cnnk_gemv__avx512,
    .gemv_group = 2,
    .direct = &cnnk_direct_ukernel_14x32__avx512,
    .sup = &cnnk_sup_ukernel_6x64__avx512,
};

CNNK_SHARED_ENTRIES(avx512, CNNK_ISA_AVX512, cnnk_isa_kernels__avx512)
CNNK_DIRECT_ENTRY(avx512, CNNK_ISA_AVX512, cnnk_isa_kernels__avx512)
CNNK_SUP_ENTRIES(avx512, CNNK_ISA_AVX512, cnnk_isa_kernels__avx512)

static const cnnk_conv_kernel *const g_conv[] = {
    &cnnk_conv_im2col__avx512,        &cnnk_conv_1x1__avx512,
    &cnnk_conv_winograd_f2x2__avx512, &cnnk_conv_winograd_f4x4__avx512,
    &cnnk_conv_winograd_f6x6__avx512, &cnnk_conv_direct__avx512,
    &cnnk_conv_1x1_sup__avx512,       &cnnk_conv_im2col_sup__avx512,
};

static const cnnk_op_kernel *const g_ops[] = {
    &cnnk_pool__avx512,   &cnnk_lrn__avx512,   &cnnk_eltwise__avx512, &cnnk_softmax__avx512,
    &cnnk_concat__avx512, &cnnk_bnorm__avx512, &cnnk_deconv__avx512,  &cnnk_fc__avx512,
    &cnnk_resize__avx512,
    &cnnk_warp__avx512,
    &cnnk_region_pool__avx512,
};

const cnnk_isa_table cnnk_isa_table__avx512 = {
    .isa = CNNK_ISA_AVX512,
    .kernels = &cnnk_isa_kernels__avx512,
    .conv = g_conv,
    .nconv = sizeof g_conv / sizeof g_conv[0],
    .ops = g_ops,
    .nops = sizeof g_ops / sizeof g_ops[0],
    .peak_loop = cnnk_peak_loop__avx512,
    .peak_flop_per_iter = 768.0,
    .peak_iters = (int64_t)1 << 19,
    .onednn_isa = "avx512_core",
};
