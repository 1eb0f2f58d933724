/* The Winograd 1-D transforms, written once for every ISA: r = B^T d
 * (alpha inputs and outputs) and y = A^T s (alpha inputs, m outputs) for
 * F(m, 3), m = 2, 4, 6, on whole vectors of channels. The reference's
 * matrices (kernels/ref/winograd_1d.c, docs/WINOGRAD.md), factored as
 * NNPACK does: rows for the points +x and -x share their even and odd
 * parts, so each pair costs one add and one subtract after the shared
 * terms.
 *
 * A template without intrinsics, as direct_row.h is: an ISA's winograd.c
 * defines, before including it,
 *   CNNK_WINO_VEC        its vector type (__m256, __m512, float32x4_t)
 *   ADD(a, b), SUB(a, b), MUL(a, b)
 *   FMA(a, b, c)         a*b + c
 *   FNMA(a, b, c)        c - a*b
 *   K(x)                 x in every lane
 * and gets input_1d and output_1d, always inlined, so with m a constant at
 * each call they unroll into its tile loops. The arithmetic order is the
 * same on every ISA, so the transforms' rounding is too. */
#ifndef CNNK_WINO_VEC
#error "define CNNK_WINO_VEC and the arithmetic macros before including wino_1d.h"
#endif

#include "kernels/common/util.h"

/* r = B^T d, alpha inputs and outputs. */
CNNK_INLINE void input_1d(int m, const CNNK_WINO_VEC *d, CNNK_WINO_VEC *r) {
    if (m == 2) {
        r[0] = SUB(d[0], d[2]);
        r[1] = ADD(d[1], d[2]);
        r[2] = SUB(d[2], d[1]);
        r[3] = SUB(d[1], d[3]);
    } else if (m == 4) {
        CNNK_WINO_VEC t1 = FNMA(K(4.0f), d[2], d[4]), t2 = FNMA(K(4.0f), d[1], d[3]);
        CNNK_WINO_VEC t3 = SUB(d[4], d[2]), t4 = MUL(K(2.0f), SUB(d[3], d[1]));
        r[0] = FMA(K(4.0f), d[0], FNMA(K(5.0f), d[2], d[4]));
        r[1] = ADD(t1, t2);
        r[2] = SUB(t1, t2);
        r[3] = ADD(t3, t4);
        r[4] = SUB(t3, t4);
        r[5] = FMA(K(4.0f), d[1], FNMA(K(5.0f), d[3], d[5]));
    } else {
        r[0] = FMA(K(5.25f), SUB(d[4], d[2]), SUB(d[0], d[6]));
        r[7] = FMA(K(5.25f), SUB(d[3], d[5]), SUB(d[7], d[1]));
        CNNK_WINO_VEC a = FNMA(K(4.25f), d[4], ADD(d[2], d[6]));
        CNNK_WINO_VEC b = FNMA(K(4.25f), d[3], ADD(d[1], d[5]));
        r[1] = ADD(a, b);
        r[2] = SUB(a, b);
        a = FMA(K(0.25f), d[2], FNMA(K(1.25f), d[4], d[6]));
        b = FMA(K(0.5f), d[1], FNMA(K(2.5f), d[3], MUL(K(2.0f), d[5])));
        r[3] = ADD(a, b);
        r[4] = SUB(a, b);
        a = FMA(K(4.0f), d[2], FNMA(K(5.0f), d[4], d[6]));
        b = FMA(K(2.0f), d[1], FNMA(K(2.5f), d[3], MUL(K(0.5f), d[5])));
        r[5] = ADD(a, b);
        r[6] = SUB(a, b);
    }
}

/* y = A^T s, alpha inputs, m outputs. */
CNNK_INLINE void output_1d(int m, const CNNK_WINO_VEC *s, CNNK_WINO_VEC *y) {
    if (m == 2) {
        y[0] = ADD(ADD(s[0], s[1]), s[2]);
        y[1] = SUB(SUB(s[1], s[2]), s[3]);
    } else if (m == 4) {
        CNNK_WINO_VEC a = ADD(s[1], s[2]), b = SUB(s[1], s[2]);
        CNNK_WINO_VEC c = ADD(s[3], s[4]), e = SUB(s[3], s[4]);
        y[0] = ADD(ADD(s[0], a), c);
        y[1] = FMA(K(2.0f), e, b);
        y[2] = FMA(K(4.0f), c, a);
        y[3] = ADD(FMA(K(8.0f), e, b), s[5]);
    } else {
        CNNK_WINO_VEC a = ADD(s[1], s[2]), b = SUB(s[1], s[2]);
        CNNK_WINO_VEC c = ADD(s[3], s[4]), e = SUB(s[3], s[4]);
        CNNK_WINO_VEC f = ADD(s[5], s[6]), h = SUB(s[5], s[6]);
        y[0] = ADD(ADD(s[0], a), ADD(c, f));
        y[1] = FMA(K(0.5f), h, FMA(K(2.0f), e, b));
        y[2] = FMA(K(0.25f), f, FMA(K(4.0f), c, a));
        y[3] = FMA(K(0.125f), h, FMA(K(8.0f), e, b));
        y[4] = FMA(K(0.0625f), f, FMA(K(16.0f), c, a));
        y[5] = ADD(FMA(K(0.03125f), h, FMA(K(32.0f), e, b)), s[7]);
    }
}
