/* The direct convolution for any ISA (docs/KERNELS_AVX2_DIRECT.md): NHWC,
 * no im2col buffer, no workspace. Here: the weight packing
 * [g][ocg/oc_blk][kh][kw][icg][oc_blk] (oc tail zero), the kh range of
 * each output row (its padding cut), the rows' taps, and the threads over
 * rows. The ISA's row function (cnnk_isa_kernels.direct, built on
 * kernels/common/direct_row.h) splits one row into tiles, cuts each
 * pixel's kw range and runs its register tile on each: one call per row. */
#ifndef CNNK_KERNELS_COMMON_DIRECT_H
#define CNNK_KERNELS_COMMON_DIRECT_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/common/isa.h"
#include "kernels/common/util.h"

bool cnnk_direct_applies(const cnnk_conv_desc *d);
size_t cnnk_direct_packed_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d);
size_t cnnk_direct_workspace_size(const cnnk_conv_desc *d, int nthreads);
void cnnk_direct_pack(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, const float *w_oihw,
                      float *packed);
void cnnk_direct_run(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                     const cnnk_conv_args *a);

#endif
