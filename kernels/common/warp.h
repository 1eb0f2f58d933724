/* R-CNN's region warp driver (kernels/common/warp.c): a warp is a bilinear
 * resize of each region's clipped crop into a window of its output, zeros
 * around it, so each ISA gives the same row function as its resize
 * (kernels/common/resize.h) and nothing else. */
#ifndef CNNK_KERNELS_COMMON_WARP_H
#define CNNK_KERNELS_COMMON_WARP_H

#include "kernels/common/resize.h"

bool cnnk_warp_applies(const cnnk_layer_desc *l);
size_t cnnk_warp_workspace_size(const cnnk_layer_desc *l, int nthreads); /* floats */
/* The regions (mb x rois) over a->nthreads, each thread with its own
 * column table in the workspace; the boxes are a->params[0]. */
void cnnk_warp_run(const cnnk_layer_desc *l, const cnnk_op_args *a, cnnk_resize_row_fn row);

#endif
