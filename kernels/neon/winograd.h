/* The NEON Winograd tile transforms (winograd.c), listed in
 * cnnk_isa_kernels__neon.wino (table.c). */
#ifndef CNNK_KERNELS_NEON_WINOGRAD_H
#define CNNK_KERNELS_NEON_WINOGRAD_H

#include "kernels/common/isa.h"

#define CNNK_NEON_WINO_DECLARE(M)                                                         \
    void cnnk_wino_input_f##M##__neon(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,   \
                                      float *v, int64_t vld, int64_t vstride);            \
    void cnnk_wino_output_f##M##__neon(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,  \
                                       const float *mm, int64_t mld, int64_t mstride);
CNNK_NEON_WINO_DECLARE(2)
CNNK_NEON_WINO_DECLARE(4)
CNNK_NEON_WINO_DECLARE(6)
#undef CNNK_NEON_WINO_DECLARE

#endif
