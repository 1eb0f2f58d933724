/* Executed floating-point work of the shared strategies, counted from the
 * code that runs, so that FMA utilisation (executed FLOP/s over the
 * measured peak) cannot be inflated by a strategy that does less
 * arithmetic than the direct definition. An FMA counts 2, an add,
 * subtract or multiply 1. */
#include "kernels/common/flops.h"

#include "kernels/common/util.h"

/* Operations of one 1-D transform on one vector of channels, counted in
 * kernels/common/wino_1d.h (the NNPACK-style factored forms):
 *   input_1d  r = B^T d: F(2) 4 add/sub; F(4) 5 FMA + 9 add/sub/mul;
 *                        F(6) 12 FMA + 14 add/sub/mul
 *   output_1d y = A^T s: F(2) 4 add/sub; F(4) 3 FMA + 7 add/sub;
 *                        F(6) 10 FMA + 10 add/sub */
double cnnk_wino_input_1d_flops(int m) { return m == 2 ? 4.0 : m == 4 ? 19.0 : 38.0; }
double cnnk_wino_output_1d_flops(int m) { return m == 2 ? 4.0 : m == 4 ? 13.0 : 30.0; }

/* Per output tile of m x m pixels (partial tiles at the border included:
 * the GEMM computes them whole):
 *   - the alpha^2 transform-domain products, one K = ic, N = oc GEMM row
 *     each: 2 alpha^2 ic oc;
 *   - the input transform B^T d B per input channel: alpha row passes and
 *     alpha column passes of input_1d;
 *   - the output transform A^T M A per output channel: alpha row passes
 *     and m column passes of output_1d.
 * Not counted (so this is a lower bound, and utilisation from it too):
 * the GEMM microkernel's padding of partial MR x NR tiles, the epilogue's
 * bias, residual and ReLU (which the direct count leaves out as well).
 * The border rows the input transform skips (wholly in the padding) are
 * counted: at most 2 rows of alpha in the first and last tile row. */
double cnnk_wino_flops(const cnnk_conv_desc *d, int m) {
    const double alpha = m + 2;
    const double tiles =
        (double)d->mb * (double)cnnk_ceil_div(d->oh, m) * (double)cnnk_ceil_div(d->ow, m);
    const double gemm = 2.0 * alpha * alpha * (double)d->ic * (double)d->oc;
    const double in = (double)d->ic * 2.0 * alpha * cnnk_wino_input_1d_flops(m);
    const double out = (double)d->oc * (alpha + m) * cnnk_wino_output_1d_flops(m);
    return tiles * (gemm + in + out);
}
