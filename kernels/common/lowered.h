/* Convolutions and FC lowered onto the shared GEMM (kernels/common/gemm.h),
 * for any ISA: the generic halves of the "<isa>/im2col", "<isa>/1x1" and
 * "<isa>/fc" entries (and their unpacked "_sup" twins), bound to an ISA by
 * the macros of entries.h. */
#ifndef CNNK_KERNELS_COMMON_LOWERED_H
#define CNNK_KERNELS_COMMON_LOWERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/common/isa.h"

/* Packs n OIHW rows of K = c*kh*kw into the GEMM's B with K reordered to
 * (ky, kx, c), the order of an NHWC column row; scratch holds
 * cnnk_pack_b_oihw_scratch(isa, K) floats. */
size_t cnnk_pack_b_oihw_scratch(const cnnk_isa_kernels *isa, int64_t k);
void cnnk_pack_b_oihw(const cnnk_isa_kernels *isa, int64_t n, int64_t c, int64_t kh, int64_t kw,
                      const float *w, float *packed, float *scratch);

/* The lowered run shared by im2col and 1x1, which recognises the copy-free
 * case (1x1, stride 1, no padding) itself. sup multiplies on the unpacked
 * GEMM (gemm_sup.h; "<isa>/im2col_sup", only for an ISA with isa->sup),
 * which reads the column block where the lowering wrote it, else on the
 * packed GEMM; both take the same packed weights. */
size_t cnnk_lowered_workspace_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                                   int nthreads, bool sup);
void cnnk_lowered_run(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                      const cnnk_conv_args *a, bool sup);

bool cnnk_im2col_applies(const cnnk_conv_desc *d);
size_t cnnk_im2col_packed_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d);
void cnnk_im2col_pack(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, const float *w_oihw,
                      float *packed);

bool cnnk_1x1_applies(const cnnk_conv_desc *d);
size_t cnnk_1x1_packed_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d);
void cnnk_1x1_pack(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, const float *w_oihw,
                   float *packed);

/* "<isa>/1x1_sup": the same shapes and packed weights as 1x1, run on the
 * unpacked GEMM (gemm_sup.h) straight from src, strided rows included;
 * a workspace of one small A tile per thread. Only for an ISA with
 * isa->sup. */
size_t cnnk_1x1_sup_workspace_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                                   int nthreads);
void cnnk_1x1_sup_run(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                      const cnnk_conv_args *a);

bool cnnk_fc_applies(const cnnk_layer_desc *l);
size_t cnnk_fc_packed_size(const cnnk_isa_kernels *isa, const cnnk_layer_desc *l);
void cnnk_fc_pack(const cnnk_isa_kernels *isa, const cnnk_layer_desc *l, const float *w_oihw,
                  float *packed);
size_t cnnk_fc_workspace_size(const cnnk_isa_kernels *isa, const cnnk_layer_desc *l,
                              int nthreads);
void cnnk_fc_run(const cnnk_isa_kernels *isa, const cnnk_layer_desc *l, const cnnk_op_args *a);

#endif
