/* 1-D Winograd minimal filtering F(m, 3), m in {2, 4, 6}, alpha = m + 2,
 * as in Lavin & Gray (2016) and NNPACK: y = A^T [(G g) . (B^T d)].
 * Interpolation points: F(2,3) 0, 1, -1, inf; F(4,3) 0, 1, -1, 2, -2, inf;
 * F(6,3) 0, 1, -1, 2, -2, 1/2, -1/2, inf (each matrix row or column below is
 * in that order). The matrices are tables so they can be read against the
 * paper; tests/test_winograd_1d.c checks each F(m,3) against a direct 1-D
 * correlation. Arithmetic is float, as an optimized kernel's is, so the
 * reference Winograd shows the error a real one has. */
#include "kernels/ref/ref.h"

#define R(p, q) ((float)(p) / (float)(q))

static const float bt2[4][4] = {
    {1, 0, -1, 0},
    {0, 1, 1, 0},
    {0, -1, 1, 0},
    {0, 1, 0, -1},
};
static const float g2[4][3] = {
    {1, 0, 0},
    {R(1, 2), R(1, 2), R(1, 2)},
    {R(1, 2), R(-1, 2), R(1, 2)},
    {0, 0, 1},
};
static const float at2[2][4] = {
    {1, 1, 1, 0},
    {0, 1, -1, -1},
};

static const float bt4[6][6] = {
    {4, 0, -5, 0, 1, 0},
    {0, -4, -4, 1, 1, 0},
    {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0},
    {0, 2, -1, -2, 1, 0},
    {0, 4, 0, -5, 0, 1},
};
static const float g4[6][3] = {
    {R(1, 4), 0, 0},
    {R(-1, 6), R(-1, 6), R(-1, 6)},
    {R(-1, 6), R(1, 6), R(-1, 6)},
    {R(1, 24), R(1, 12), R(1, 6)},
    {R(1, 24), R(-1, 12), R(1, 6)},
    {0, 0, 1},
};
static const float at4[4][6] = {
    {1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 0},
    {0, 1, 1, 4, 4, 0},
    {0, 1, -1, 8, -8, 1},
};

static const float bt6[8][8] = {
    {1, 0, R(-21, 4), 0, R(21, 4), 0, -1, 0},
    {0, 1, 1, R(-17, 4), R(-17, 4), 1, 1, 0},
    {0, -1, 1, R(17, 4), R(-17, 4), -1, 1, 0},
    {0, R(1, 2), R(1, 4), R(-5, 2), R(-5, 4), 2, 1, 0},
    {0, R(-1, 2), R(1, 4), R(5, 2), R(-5, 4), -2, 1, 0},
    {0, 2, 4, R(-5, 2), -5, R(1, 2), 1, 0},
    {0, -2, 4, R(5, 2), -5, R(-1, 2), 1, 0},
    {0, -1, 0, R(21, 4), 0, R(-21, 4), 0, 1},
};
static const float g6[8][3] = {
    {1, 0, 0},
    {R(-2, 9), R(-2, 9), R(-2, 9)},
    {R(-2, 9), R(2, 9), R(-2, 9)},
    {R(1, 90), R(1, 45), R(2, 45)},
    {R(1, 90), R(-1, 45), R(2, 45)},
    {R(32, 45), R(16, 45), R(8, 45)},
    {R(32, 45), R(-16, 45), R(8, 45)},
    {0, 0, 1},
};
static const float at6[6][8] = {
    {1, 1, 1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, R(1, 2), R(-1, 2), 0},
    {0, 1, 1, 4, 4, R(1, 4), R(1, 4), 0},
    {0, 1, -1, 8, -8, R(1, 8), R(-1, 8), 0},
    {0, 1, 1, 16, 16, R(1, 16), R(1, 16), 0},
    {0, 1, -1, 32, -32, R(1, 32), R(-1, 32), 1},
};

/* out[r] = sum_c mat[r][c] * in[c]; mat is rows x cols, row-major. */
static void apply(const float *mat, int rows, int cols, const float *in, int64_t in_stride,
                  float *out, int64_t out_stride) {
    float x[8];
    for (int c = 0; c < cols; ++c)
        x[c] = in[c * in_stride]; /* read first: in and out may alias */
    for (int r = 0; r < rows; ++r) {
        float acc = 0.0f;
        for (int c = 0; c < cols; ++c)
            acc += mat[r * cols + c] * x[c];
        out[r * out_stride] = acc;
    }
}

/* m outside {2, 4, 6} is a caller bug; it leaves out untouched rather than
 * aborting, and the Winograd kernels never pass one. */
void cnnk_ref_wino_input_1d(int m, const float *in, int64_t in_stride, float *out,
                            int64_t out_stride) {
    if (m == 2)
        apply(&bt2[0][0], 4, 4, in, in_stride, out, out_stride);
    else if (m == 4)
        apply(&bt4[0][0], 6, 6, in, in_stride, out, out_stride);
    else if (m == 6)
        apply(&bt6[0][0], 8, 8, in, in_stride, out, out_stride);
}

void cnnk_ref_wino_kernel_1d(int m, const float *in, int64_t in_stride, float *out,
                             int64_t out_stride) {
    if (m == 2)
        apply(&g2[0][0], 4, 3, in, in_stride, out, out_stride);
    else if (m == 4)
        apply(&g4[0][0], 6, 3, in, in_stride, out, out_stride);
    else if (m == 6)
        apply(&g6[0][0], 8, 3, in, in_stride, out, out_stride);
}

void cnnk_ref_wino_output_1d(int m, const float *in, int64_t in_stride, float *out,
                             int64_t out_stride) {
    if (m == 2)
        apply(&at2[0][0], 2, 4, in, in_stride, out, out_stride);
    else if (m == 4)
        apply(&at4[0][0], 4, 6, in, in_stride, out, out_stride);
    else if (m == 6)
        apply(&at6[0][0], 6, 8, in, in_stride, out, out_stride);
}
