/* The bilinear resize driver (kernels/common/resize.c) and the one piece
 * each ISA writes: a row of output pixels from two input rows, vectorised
 * over the channels (NHWC keeps a pixel's channels contiguous, so every tap
 * is a contiguous load and no gather is needed). */
#ifndef CNNK_KERNELS_COMMON_RESIZE_H
#define CNNK_KERNELS_COMMON_RESIZE_H

#include "cnnk/kernel.h"

/* One output column's taps: element offsets of its two source pixels in a
 * row (already times src_ld) and their weights. Filled once per run, for
 * every row, in the workspace. */
typedef struct cnnk_resize_col {
    int64_t x0, x1;
    float w0, w1;
} cnnk_resize_col;

/* dst[j * dst_ld + k] = h0 * (w0 r0[x0 + k] + w1 r0[x1 + k])
 *                     + h1 * (w0 r1[x0 + k] + w1 r1[x1 + k])
 * for the ow columns j of one output row and the c channels k. */
typedef void (*cnnk_resize_row_fn)(int64_t c, int64_t ow, const cnnk_resize_col *cols,
                                   const float *r0, const float *r1, float h0, float h1,
                                   float *dst, int64_t dst_ld);

bool cnnk_resize_applies(const cnnk_layer_desc *l);
size_t cnnk_resize_workspace_size(const cnnk_layer_desc *l, int nthreads); /* floats */
/* The column table, then the rows (mb x oh of them) over a->nthreads. */
void cnnk_resize_run(const cnnk_layer_desc *l, const cnnk_op_args *a, cnnk_resize_row_fn row);

#endif
