/* The AVX2+FMA register tile of the direct convolution: up to 6 output
 * pixels along a row x 16 output channels (12 ymm accumulators), the tile
 * of kernels/common/direct_tile.h on ymm vectors. The packing, the padding
 * cut, the row's taps and the threads are kernels/common/direct.c's, the
 * split of a row into tiles kernels/common/direct_row.h's, instantiated
 * here with this tile inlined. See docs/KERNELS_AVX2_DIRECT.md. */
#include <immintrin.h>

#include "kernels/avx2/vec.h"
#include "kernels/common/isa.h"

enum { VL = CNNK_AVX2_VL, OC_BLK = 16, W_BLK = 6 };

/* ---- the microkernel ----------------------------------------------------- */

/* bias, residual, relu, then the store of one pixel's 16 (or nvalid)
 * channels; masked loads and stores never touch lanes past nvalid. */
CNNK_INLINE void store_pixel(const cnnk_direct_store *s, int64_t p, __m256 a0, __m256 a1) {
    float *y = s->dst + p * s->dst_ld;
    const float *r = s->res ? s->res + p * s->res_ld : NULL;
    const bool full = s->nvalid == OC_BLK;
    const __m256i m0 = cnnk_avx2_mask(s->nvalid), m1 = cnnk_avx2_mask(s->nvalid - 8);
    cnnk_avx2_store_epilogue(y, a0, s->bias, r, s->relu, s->relu_alpha, full, m0);
    cnnk_avx2_store_epilogue(y + 8, a1, s->bias ? s->bias + 8 : NULL, r ? r + 8 : NULL, s->relu,
                             s->relu_alpha, full, m1);
}

/* The template's vocabulary, #undef'd at the end of the file. */
#define CNNK_DT_VEC __m256
#define CNNK_DT_ZERO _mm256_setzero_ps
#define CNNK_DT_LOADU _mm256_loadu_ps
#define CNNK_DT_BCAST _mm256_broadcast_ss
#define CNNK_DT_FMA _mm256_fmadd_ps

#include "kernels/common/direct_tile.h"

/* w in [1, W_BLK] as a constant, so each width gets its own unrolled copy. */
CNNK_INLINE void tile_any(int w, const cnnk_direct_taps *t, const cnnk_direct_store *s) {
    switch (w) {
    case 1: tile(1, t, s); break;
    case 2: tile(2, t, s); break;
    case 3: tile(3, t, s); break;
    case 4: tile(4, t, s); break;
    case 5: tile(5, t, s); break;
    default: tile(6, t, s); break;
    }
}
_Static_assert(W_BLK == 6, "tile_any has a case per width");

CNNK_DIRECT_ROW_FN(row, W_BLK, tile_any)

const cnnk_direct_ukernel cnnk_direct_ukernel_6x16__avx2 = {
    .w_blk = W_BLK,
    .oc_blk = OC_BLK,
    .row = row,
};
