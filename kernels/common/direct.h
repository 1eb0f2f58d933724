/* The direct convolution for any ISA (docs/KERNELS_AVX2_DIRECT.md): NHWC,
 * no im2col buffer, no workspace. Here: the weight packing
 * [g][ocg/oc_blk][kh][kw][icg][oc_blk] (oc tail zero), the padding cut
 * (the kh range per output row, each pixel's valid kw range per tile), the
 * split of rows into tiles, and the threads over rows. The ISA's register
 * tile (cnnk_isa_kernels.direct) sums one tile's taps and stores it, one
 * call per tile. */
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

/* For a tile's border walk: the end of the segment of taps starting at kx,
 * i.e. the next kx at which the validity of one of the w pixels changes.
 * Without adjacent taps a segment is one kx. Inline: tiles call it once
 * per segment, inside their own loops. */
CNNK_INLINE int64_t cnnk_direct_segment_end(const int w, const cnnk_direct_taps *t, int64_t kx) {
    if (!t->dense) return kx + 1;
    int64_t e = t->kx_max;
    for (int p = 0; p < w; ++p) {
        if (t->lo[p] > kx && t->lo[p] < e) e = t->lo[p];
        if (t->hi[p] > kx && t->hi[p] < e) e = t->hi[p];
    }
    return e;
}

#endif
