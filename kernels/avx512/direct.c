/* The AVX-512 register tile of the direct convolution: up to 14 output
 * pixels along a row x 32 output channels (28 zmm accumulators, two weight
 * vectors, the source broadcasts folded into the FMAs), the tile of
 * kernels/common/direct_tile.h on zmm vectors; output-channel tails
 * (nvalid < 32) are masked stores. The packing, the padding cut, the
 * row's taps and the threads are kernels/common/direct.c's, the split of a
 * row into tiles kernels/common/direct_row.h's. */
#include <immintrin.h>

#include "kernels/avx512/vec.h"
#include "kernels/common/isa.h"

enum { VL = CNNK_AVX512_VL, OC_BLK = 32, W_BLK = 14 };

/* ---- the microkernel ----------------------------------------------------- */

/* bias, residual, relu, then the store of one pixel's 32 (or nvalid)
 * channels; masked loads and stores never touch lanes past nvalid. */
CNNK_INLINE void store_pixel(const cnnk_direct_store *s, int64_t p, __m512 a0, __m512 a1) {
    float *y = s->dst + p * s->dst_ld;
    const float *r = s->res ? s->res + p * s->res_ld : NULL;
    const bool full = s->nvalid == OC_BLK;
    const __mmask16 m0 = cnnk_avx512_mask(s->nvalid), m1 = cnnk_avx512_mask(s->nvalid - VL);
    cnnk_avx512_store_epilogue(y, a0, s->bias, r, s->relu, s->relu_alpha, full, m0);
    if (full || m1)
        cnnk_avx512_store_epilogue(y + VL, a1, s->bias ? s->bias + VL : NULL, r ? r + VL : NULL,
                                   s->relu, s->relu_alpha, full, m1);
}

/* The template's vocabulary, #undef'd at the end of the file. */
#define CNNK_DT_VEC __m512
#define CNNK_DT_ZERO _mm512_setzero_ps
#define CNNK_DT_LOADU _mm512_loadu_ps
#define CNNK_DT_BCAST(p) _mm512_set1_ps(*(p))
#define CNNK_DT_FMA _mm512_fmadd_ps

#include "kernels/common/direct_tile.h"

/* w in [1, W_BLK] as a constant, so each width gets its own unrolled copy. */
CNNK_INLINE void tile_any(int w, const cnnk_direct_taps *t, const cnnk_direct_store *s) {
    switch (w) {
    case 1: tile(1, t, s); break;
    case 2: tile(2, t, s); break;
    case 3: tile(3, t, s); break;
    case 4: tile(4, t, s); break;
    case 5: tile(5, t, s); break;
    case 6: tile(6, t, s); break;
    case 7: tile(7, t, s); break;
    case 8: tile(8, t, s); break;
    case 9: tile(9, t, s); break;
    case 10: tile(10, t, s); break;
    case 11: tile(11, t, s); break;
    case 12: tile(12, t, s); break;
    case 13: tile(13, t, s); break;
    default: tile(14, t, s); break;
    }
}
_Static_assert(W_BLK == 14, "tile_any has a case per width");

CNNK_DIRECT_ROW_FN(row, W_BLK, tile_any)

const cnnk_direct_ukernel cnnk_direct_ukernel_14x32__avx512 = {
    .w_blk = W_BLK,
    .oc_blk = OC_BLK,
    .row = row,
};
