/* The NEON table: everything this ISA contributes, in one place. The
 * shared drivers (kernels/common/) get the microkernel, the transforms,
 * the GEMV and the direct tile through cnnk_isa_kernels__neon;
 * core/registry.c gets the entries and the peak loop through
 * cnnk_isa_table__neon. */
#include <pthread.h>

#include "kernels/common/entries.h"
#include "kernels/neon/gemm.h"
#include "kernels/neon/winograd.h"

/* The op kernels written for NEON (pool.c ... deconv.c). */
extern const cnnk_op_kernel cnnk_pool__neon, cnnk_lrn__neon, cnnk_eltwise__neon,
    cnnk_softmax__neon, cnnk_concat__neon, cnnk_bnorm__neon, cnnk_deconv__neon,
    cnnk_resize__neon, cnnk_warp__neon;

extern const cnnk_op_kernel cnnk_region_pool__neon; /* region_pool.c */

/* peak.c: 16 independent FMA chains x 4 lanes x 2 FLOP per iteration. */
float cnnk_peak_loop__neon(int64_t iters);
void cnnk_gemv__neon(int64_t k, int64_t oc, const float *x, const float *packed,
                     const float *bias, bool relu, float alpha, float *y, int64_t lo,
                     int64_t hi);
/* direct.c: 8 pixels x 12 channels. */
extern const cnnk_direct_ukernel cnnk_direct_ukernel_8x12__neon;

static const cnnk_gemm_ukernel g_ukernel = {
    .mr = CNNK_NEON_MR,
    .nr = CNNK_NEON_NR,
    .k_unroll = 4,
    .run = cnnk_gemm_ukernel_8x12__neon,
    .pack_a = cnnk_gemm_pack_a__neon,
};

CNNK_DEFINE_KERNEL_CONFIG(neon_config, &g_ukernel)

const cnnk_isa_kernels cnnk_isa_kernels__neon = {
    .isa = CNNK_ISA_NEON,
    .gemm = &g_ukernel,
    .config = neon_config,
    .vl = 4,
    .wino = {{cnnk_wino_input_f2__neon, cnnk_wino_output_f2__neon},
             {cnnk_wino_input_f4__neon, cnnk_wino_output_f4__neon},
             {cnnk_wino_input_f6__neon, cnnk_wino_output_f6__neon}},
    .gemv = cnnk_gemv__neon,
    .gemv_group = 4,
    .direct = &cnnk_direct_ukernel_8x12__neon,
};

CNNK_SHARED_ENTRIES(neon, CNNK_ISA_NEON, cnnk_isa_kernels__neon)
CNNK_DIRECT_ENTRY(neon, CNNK_ISA_NEON, cnnk_isa_kernels__neon)

static const cnnk_conv_kernel *const g_conv[] = {
    &cnnk_conv_im2col__neon,        &cnnk_conv_1x1__neon,
    &cnnk_conv_winograd_f2x2__neon, &cnnk_conv_winograd_f4x4__neon,
    &cnnk_conv_winograd_f6x6__neon, &cnnk_conv_direct__neon,
};

static const cnnk_op_kernel *const g_ops[] = {
    &cnnk_pool__neon,   &cnnk_lrn__neon,   &cnnk_eltwise__neon, &cnnk_softmax__neon,
    &cnnk_concat__neon, &cnnk_bnorm__neon, &cnnk_deconv__neon,  &cnnk_fc__neon,
    &cnnk_resize__neon,
    &cnnk_warp__neon,
    &cnnk_region_pool__neon,
};

const cnnk_isa_table cnnk_isa_table__neon = {
    .isa = CNNK_ISA_NEON,
    .kernels = &cnnk_isa_kernels__neon,
    .conv = g_conv,
    .nconv = sizeof g_conv / sizeof g_conv[0],
    .ops = g_ops,
    .nops = sizeof g_ops / sizeof g_ops[0],
    .peak_loop = cnnk_peak_loop__neon,
    .peak_flop_per_iter = 128.0,
    .peak_iters = (int64_t)1 << 20,
    .onednn_isa = "all", /* oneDNN 2.6 names no AArch64 level */
};
