/* Region max pooling's loop nest, written once for every ISA: regions,
 * levels and bins here; only the max over one bin's pixels, vectorised
 * across channels, belongs to an ISA (kernels/<isa>/region_pool.c). */
#ifndef CNNK_KERNELS_COMMON_REGION_POOL_H
#define CNNK_KERNELS_COMMON_REGION_POOL_H

#include "cnnk/kernel.h"

/* y[0..c) = max over pixels [h0, h1) x [w0, w1) (non-empty) of img, an
 * ih x iw map of pixel pitch ld, channels [0, c). */
typedef void (*cnnk_region_bin_max_fn)(const float *img, int64_t iw, int64_t ld, int64_t h0,
                                       int64_t h1, int64_t w0, int64_t w1, int64_t c, float *y);

bool cnnk_region_pool_applies(const cnnk_layer_desc *l);
/* A flattened output is gathered through c floats per part. */
size_t cnnk_region_pool_workspace_size(const cnnk_layer_desc *l, int nthreads);
void cnnk_region_pool_drive(const cnnk_layer_desc *l, const cnnk_op_args *a,
                            cnnk_region_bin_max_fn bin_max);

#endif
