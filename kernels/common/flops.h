/* Executed FLOPs of one run of the shared strategies (kernel.h's optional
 * flops callback). Direct, im2col and 1x1 execute the definition's
 * 2 x MACs and need no callback; Winograd executes fewer. */
#ifndef CNNK_KERNELS_COMMON_FLOPS_H
#define CNNK_KERNELS_COMMON_FLOPS_H

#include "cnnk/desc.h"

/* F(m x m, 3 x 3), m = 2, 4 or 6, on a descriptor it applies to. */
double cnnk_wino_flops(const cnnk_conv_desc *d, int m);
/* FLOPs of one 1-D transform of kernels/common/wino_1d.h on one lane
 * (input_1d: B^T d; output_1d: A^T s); tests/test_flops.c counts them by
 * running the template on a counting number type. */
double cnnk_wino_input_1d_flops(int m);
double cnnk_wino_output_1d_flops(int m);

#endif
