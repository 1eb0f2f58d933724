/* Registry entries of the shared drivers, bound to one ISA. The kernel
 * contract (include/cnnk/kernel.h) has no room for an ISA argument, so an
 * ISA's table.c instantiates these macros once; each defines small static
 * wrappers that pass the ISA's cnnk_isa_kernels K to the generic code, and
 * the entries cnnk_conv_<algo>__<ISA> / cnnk_fc__<ISA> named "<ISA>/<algo>". */
#ifndef CNNK_KERNELS_COMMON_ENTRIES_H
#define CNNK_KERNELS_COMMON_ENTRIES_H

#include "kernels/common/direct.h"
#include "kernels/common/flops.h"
#include "kernels/common/isa.h"
#include "kernels/common/lowered.h"
#include "kernels/common/winograd.h"

/* "<ISA>/im2col" and "<ISA>/1x1" on the shared lowering. */
#define CNNK_LOWERED_ENTRIES(ISA, ISA_ENUM, K)                                                 \
    static size_t ISA##_lowered_ws_(const cnnk_conv_desc *d, int n) {                          \
        return cnnk_lowered_workspace_size(&(K), d, n, false);                                 \
    }                                                                                          \
    static void ISA##_lowered_run_(const cnnk_conv_desc *d, const cnnk_conv_args *a) {         \
        cnnk_lowered_run(&(K), d, a, false);                                                   \
    }                                                                                          \
    static size_t ISA##_im2col_packed_size_(const cnnk_conv_desc *d) {                         \
        return cnnk_im2col_packed_size(&(K), d);                                               \
    }                                                                                          \
    static void ISA##_im2col_pack_(const cnnk_conv_desc *d, const float *w, float *p) {        \
        cnnk_im2col_pack(&(K), d, w, p);                                                       \
    }                                                                                          \
    static size_t ISA##_1x1_packed_size_(const cnnk_conv_desc *d) {                            \
        return cnnk_1x1_packed_size(&(K), d);                                                  \
    }                                                                                          \
    static void ISA##_1x1_pack_(const cnnk_conv_desc *d, const float *w, float *p) {           \
        cnnk_1x1_pack(&(K), d, w, p);                                                          \
    }                                                                                          \
    const cnnk_conv_kernel cnnk_conv_im2col__##ISA = {                                         \
        .name = #ISA "/im2col", .isa = ISA_ENUM, .algo = CNNK_ALGO_IM2COL,                     \
        .applies = cnnk_im2col_applies, .packed_size = ISA##_im2col_packed_size_,              \
        .workspace_size = ISA##_lowered_ws_, .pack = ISA##_im2col_pack_,                       \
        .run = ISA##_lowered_run_,                                                             \
        .residual_in_dst = true,                                                               \
    };                                                                                         \
    const cnnk_conv_kernel cnnk_conv_1x1__##ISA = {                                            \
        .name = #ISA "/1x1", .isa = ISA_ENUM, .algo = CNNK_ALGO_1X1,                           \
        .applies = cnnk_1x1_applies, .packed_size = ISA##_1x1_packed_size_,                    \
        .workspace_size = ISA##_lowered_ws_, .pack = ISA##_1x1_pack_,                          \
        .run = ISA##_lowered_run_,                                                             \
        .residual_in_dst = true,                                                               \
    };

/* "<ISA>/1x1_sup" and "<ISA>/im2col_sup": 1x1's and im2col's shapes and
 * packed weights (their pack wrappers, from CNNK_LOWERED_ENTRIES: expand
 * this after CNNK_SHARED_ENTRIES) on the unpacked GEMM; only for an ISA
 * whose K has a sup microkernel (K.sup->nr == K.gemm->nr). */
#define CNNK_SUP_ENTRIES(ISA, ISA_ENUM, K)                                                     \
    static size_t ISA##_1x1_sup_ws_(const cnnk_conv_desc *d, int n) {                          \
        return cnnk_1x1_sup_workspace_size(&(K), d, n);                                        \
    }                                                                                          \
    static void ISA##_1x1_sup_run_(const cnnk_conv_desc *d, const cnnk_conv_args *a) {         \
        cnnk_1x1_sup_run(&(K), d, a);                                                          \
    }                                                                                          \
    const cnnk_conv_kernel cnnk_conv_1x1_sup__##ISA = {                                        \
        .name = #ISA "/1x1_sup", .isa = ISA_ENUM, .algo = CNNK_ALGO_1X1_SUP,                   \
        .applies = cnnk_1x1_applies, .packed_size = ISA##_1x1_packed_size_,                    \
        .workspace_size = ISA##_1x1_sup_ws_, .pack = ISA##_1x1_pack_,                          \
        .run = ISA##_1x1_sup_run_,                                                             \
        .residual_in_dst = true,                                                               \
    };                                                                                         \
    static size_t ISA##_im2col_sup_ws_(const cnnk_conv_desc *d, int n) {                       \
        return cnnk_lowered_workspace_size(&(K), d, n, true);                                  \
    }                                                                                          \
    static void ISA##_im2col_sup_run_(const cnnk_conv_desc *d, const cnnk_conv_args *a) {      \
        cnnk_lowered_run(&(K), d, a, true);                                                    \
    }                                                                                          \
    const cnnk_conv_kernel cnnk_conv_im2col_sup__##ISA = {                                     \
        .name = #ISA "/im2col_sup", .isa = ISA_ENUM, .algo = CNNK_ALGO_IM2COL_SUP,             \
        .applies = cnnk_im2col_applies, .packed_size = ISA##_im2col_packed_size_,              \
        .workspace_size = ISA##_im2col_sup_ws_, .pack = ISA##_im2col_pack_,                    \
        .run = ISA##_im2col_sup_run_,                                                          \
        .residual_in_dst = true,                                                               \
    };

/* "<ISA>/winograd_f<M>x<M>" on the shared pipeline and K's transforms. */
#define CNNK_WINOGRAD_ENTRY(ISA, ISA_ENUM, K, M, ALGO)                                         \
    static size_t ISA##_wino##M##_packed_size_(const cnnk_conv_desc *d) {                      \
        return cnnk_wino_packed_size(&(K), d, M);                                              \
    }                                                                                          \
    static size_t ISA##_wino##M##_ws_(const cnnk_conv_desc *d, int n) {                        \
        return cnnk_wino_workspace_size(&(K), d, M, n);                                        \
    }                                                                                          \
    static void ISA##_wino##M##_pack_(const cnnk_conv_desc *d, const float *w, float *p) {     \
        cnnk_wino_pack(&(K), d, M, w, p);                                                      \
    }                                                                                          \
    static void ISA##_wino##M##_run_(const cnnk_conv_desc *d, const cnnk_conv_args *a) {       \
        cnnk_wino_run(&(K), d, M, a);                                                          \
    }                                                                                          \
    static double ISA##_wino##M##_flops_(const cnnk_conv_desc *d) {                            \
        return cnnk_wino_flops(d, M);                                                          \
    }                                                                                          \
    const cnnk_conv_kernel cnnk_conv_winograd_f##M##x##M##__##ISA = {                          \
        .name = #ISA "/winograd_f" #M "x" #M, .isa = ISA_ENUM, .algo = ALGO,                   \
        .applies = cnnk_wino_applies, .packed_size = ISA##_wino##M##_packed_size_,             \
        .workspace_size = ISA##_wino##M##_ws_, .pack = ISA##_wino##M##_pack_,                  \
        .run = ISA##_wino##M##_run_, .flops = ISA##_wino##M##_flops_,                          \
    };

/* "<ISA>/fc" on the shared GEMM and K's GEMV. */
#define CNNK_FC_ENTRY(ISA, ISA_ENUM, K)                                                        \
    static size_t ISA##_fc_packed_size_(const cnnk_layer_desc *l) {                            \
        return cnnk_fc_packed_size(&(K), l);                                                   \
    }                                                                                          \
    static void ISA##_fc_pack_(const cnnk_layer_desc *l, const float *w, float *p) {           \
        cnnk_fc_pack(&(K), l, w, p);                                                           \
    }                                                                                          \
    static size_t ISA##_fc_ws_(const cnnk_layer_desc *l, int n) {                              \
        return cnnk_fc_workspace_size(&(K), l, n);                                             \
    }                                                                                          \
    static void ISA##_fc_run_(const cnnk_layer_desc *l, const cnnk_op_args *a) {               \
        cnnk_fc_run(&(K), l, a);                                                               \
    }                                                                                          \
    const cnnk_op_kernel cnnk_fc__##ISA = {                                                    \
        .name = #ISA "/fc", .isa = ISA_ENUM, .kind = CNNK_LAYER_FC,                            \
        .applies = cnnk_fc_applies, .packed_size = ISA##_fc_packed_size_,                      \
        .pack = ISA##_fc_pack_, .workspace_size = ISA##_fc_ws_, .run = ISA##_fc_run_,          \
    };

/* "<ISA>/direct" on the shared driver and K's register tile (K.direct).
 * Apart from CNNK_SHARED_ENTRIES: an ISA may list it only once it has a
 * tile; the reference entry serves meanwhile. */
#define CNNK_DIRECT_ENTRY(ISA, ISA_ENUM, K)                                                    \
    static size_t ISA##_direct_packed_size_(const cnnk_conv_desc *d) {                         \
        return cnnk_direct_packed_size(&(K), d);                                               \
    }                                                                                          \
    static void ISA##_direct_pack_(const cnnk_conv_desc *d, const float *w, float *p) {        \
        cnnk_direct_pack(&(K), d, w, p);                                                       \
    }                                                                                          \
    static void ISA##_direct_run_(const cnnk_conv_desc *d, const cnnk_conv_args *a) {          \
        cnnk_direct_run(&(K), d, a);                                                           \
    }                                                                                          \
    const cnnk_conv_kernel cnnk_conv_direct__##ISA = {                                         \
        .name = #ISA "/direct", .isa = ISA_ENUM, .algo = CNNK_ALGO_DIRECT,                     \
        .applies = cnnk_direct_applies, .packed_size = ISA##_direct_packed_size_,              \
        .workspace_size = cnnk_direct_workspace_size, .pack = ISA##_direct_pack_,              \
        .run = ISA##_direct_run_,                                                              \
    };

/* Every entry of the shared drivers at once: im2col, 1x1, the three
 * Winograd sizes and FC. */
#define CNNK_SHARED_ENTRIES(ISA, ISA_ENUM, K)                                                  \
    CNNK_LOWERED_ENTRIES(ISA, ISA_ENUM, K)                                                     \
    CNNK_WINOGRAD_ENTRY(ISA, ISA_ENUM, K, 2, CNNK_ALGO_WINOGRAD_F2)                            \
    CNNK_WINOGRAD_ENTRY(ISA, ISA_ENUM, K, 4, CNNK_ALGO_WINOGRAD_F4)                            \
    CNNK_WINOGRAD_ENTRY(ISA, ISA_ENUM, K, 6, CNNK_ALGO_WINOGRAD_F6)                            \
    CNNK_FC_ENTRY(ISA, ISA_ENUM, K)

#endif
