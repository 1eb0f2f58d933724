/* "avx2/1x1": a 1x1 convolution without padding is one GEMM over pixels.
 * At stride 1 the NHWC activations are the GEMM's A as they stand
 * (M = mb*oh*ow rows, lda = src_ld; no copy) and the GEMM threads over
 * them. At a larger stride the sampled pixels are gathered in L2-sized
 * blocks into per-thread workspace first: that is the im2col lowering with
 * K = ic, so both cases run the shared lowering of conv_im2col.c, which
 * recognises the copy-free case itself. */
#include "cnnk/kernel.h"
#include "kernels/avx2/gemm.h"

/* From conv_im2col.c. */
size_t cnnk_lowered_workspace_size__avx2(const cnnk_conv_desc *d, int nthreads);
void cnnk_lowered_run__avx2(const cnnk_conv_desc *d, const cnnk_conv_args *a);

static bool c1x1_applies(const cnnk_conv_desc *d) {
    return !d->transposed && d->g == 1 && d->kh == 1 && d->kw == 1 && d->dh == 1 &&
           d->dw == 1 && d->pt == 0 && d->pl == 0 && d->pb == 0 && d->pr == 0;
}

static size_t c1x1_packed_size(const cnnk_conv_desc *d) {
    return cnnk_gemm_packed_b_size__avx2(d->ic, d->oc);
}

/* OIHW 1x1 weights are oc x ic: the GEMM's B transposed, packed as is. */
static void c1x1_pack(const cnnk_conv_desc *d, const float *w_oihw, float *packed) {
    cnnk_gemm_pack_b__avx2(d->ic, d->oc, w_oihw, d->ic, true, packed);
}

const cnnk_conv_kernel cnnk_conv_1x1__avx2 = {
    .name = "avx2/1x1",
    .isa = CNNK_ISA_AVX2,
    .algo = CNNK_ALGO_1X1,
    .applies = c1x1_applies,
    .packed_size = c1x1_packed_size,
    .workspace_size = cnnk_lowered_workspace_size__avx2,
    .pack = c1x1_pack,
    .run = cnnk_lowered_run__avx2,
};
