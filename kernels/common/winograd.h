/* Winograd F(m x m, 3 x 3), alpha = m + 2, for any ISA: geometry, U
 * packing, tile blocking and threading here, the tile transforms through
 * the ISA's cnnk_isa_kernels.wino[] (docs/KERNELS_AVX2_WINOGRAD.md):
 *
 *  - pack(): U = G g G^T for every (oc, ic) pair, then each of the alpha^2
 *    positions packed as one GEMM B operand (K = ic, N = oc);
 *  - run(): the output tiles of the whole batch are numbered and cut into
 *    blocks of T tiles; per block, the ISA's input transform writes
 *    V[alpha^2][T][icv], alpha^2 GEMMs write M[alpha^2][T][ocv], and the
 *    ISA's output transform applies A^T M A and the fused epilogue.
 * Threads take contiguous ranges of blocks, each with its own workspace
 * slice; the GEMMs inside run on one thread. m is 2, 4 or 6. */
#ifndef CNNK_KERNELS_COMMON_WINOGRAD_H
#define CNNK_KERNELS_COMMON_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/common/isa.h"

bool cnnk_wino_applies(const cnnk_conv_desc *d);
size_t cnnk_wino_packed_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, int m);
size_t cnnk_wino_workspace_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, int m,
                                int nthreads);
void cnnk_wino_pack(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, int m,
                    const float *w_oihw, float *packed);
void cnnk_wino_run(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, int m,
                   const cnnk_conv_args *a);

#endif
