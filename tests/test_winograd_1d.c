/* The 1-D Winograd transforms F(m, 3), m = 2, 4, 6: transforming input and
 * kernel, multiplying pointwise and transforming back must give the direct
 * 1-D correlation y[i] = sum_k d[i + k] g[k], i < m. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "kernels/ref/ref.h"

typedef cnnk_rng rng;

static float rng_unif(rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)((cnnk_rng_next(r) >> 40) * (1.0 / 16777216.0));
}

/* y = A^T [(G g) . (B^T d)] through the transforms, with strides. */
static void wino_1d(int m, const float *d, const float *g, float *y) {
    const int alpha = m + 2;
    float v[8], u[8], p[8];
    cnnk_ref_wino_input_1d(m, d, 1, v, 1);
    cnnk_ref_wino_kernel_1d(m, g, 1, u, 1);
    for (int i = 0; i < alpha; ++i)
        p[i] = u[i] * v[i];
    cnnk_ref_wino_output_1d(m, p, 1, y, 1);
}

static void correlate(int m, const float *d, const float *g, double *y) {
    for (int i = 0; i < m; ++i)
        y[i] = (double)d[i] * g[0] + (double)d[i + 1] * g[1] + (double)d[i + 2] * g[2];
}

/* Uniform floats in [-1, 1], so |y| <= 3 and one float ulp of y is at most
 * 2.4e-7. A wrong matrix entry shows as an error near 0.1 or more; what is
 * left is float rounding in the transforms, which grows with the size of
 * the coefficients (F(4,3): 5 and 1/6 .. 1/24; F(6,3): 32, 21/4, 1/90).
 * Worst over 2000 draws for each of 9 seeds: 4.2e-7 (under 2 ulps),
 * 2.0e-6, 3.2e-6. Each bound is ~1.5x that, so a regression of a few ulps
 * fails while any seed passes. */
static const double bound_1d[7] = {0, 0, 6e-7, 0, 3e-6, 0, 5e-6};

static void test_random(int m) {
    rng r = {0x1234u + (uint64_t)m};
    double worst = 0.0;
    for (int t = 0; t < 2000; ++t) {
        float d[8], g[3], y[6];
        double ref[6];
        for (int i = 0; i < m + 2; ++i)
            d[i] = rng_unif(&r, -1.0f, 1.0f);
        for (int i = 0; i < 3; ++i)
            g[i] = rng_unif(&r, -1.0f, 1.0f);
        wino_1d(m, d, g, y);
        correlate(m, d, g, ref);
        for (int i = 0; i < m; ++i) {
            const double e = fabs(y[i] - ref[i]);
            worst = e > worst ? e : worst;
        }
    }
    printf("F(%d,3): max |error| = %.3g\n", m, worst);
    CHECK(worst <= bound_1d[m]);
}

/* F(2,3) uses only 1 and 1/2: on small integers it is exact. */
static void test_f2_exact(void) {
    const float d[4] = {1, -2, 3, 5}, g[3] = {2, -1, 3};
    float y[2];
    wino_1d(2, d, g, y);
    CHECK(y[0] == 1 * 2 + -2 * -1 + 3 * 3); /* 13 */
    CHECK(y[1] == -2 * 2 + 3 * -1 + 5 * 3); /* 8 */
}

/* The strides are honoured and nothing between strided elements is touched. */
static void test_strides(int m) {
    const int alpha = m + 2;
    float d[8], d_strided[3 * 8], out[2 * 8], out_strided[4 * 8];
    for (int i = 0; i < alpha; ++i) {
        d[i] = (float)(i * i - 3 * i + 1);
        d_strided[3 * i] = d[i];
        d_strided[3 * i + 1] = d_strided[3 * i + 2] = 1e30f;
    }
    for (int i = 0; i < 4 * 8; ++i)
        out_strided[i] = -7.0f;
    cnnk_ref_wino_input_1d(m, d, 1, out, 1);
    cnnk_ref_wino_input_1d(m, d_strided, 3, out_strided, 4);
    for (int i = 0; i < alpha; ++i) {
        CHECK(out_strided[4 * i] == out[i]);
        for (int j = 1; j < 4; ++j)
            CHECK(out_strided[4 * i + j] == -7.0f);
    }
    const float g[3] = {1, 2, 3}, g_strided[5] = {1, 99, 2, 99, 3};
    float u[8], u_strided[16];
    cnnk_ref_wino_kernel_1d(m, g, 1, u, 1);
    cnnk_ref_wino_kernel_1d(m, g_strided, 2, u_strided, 2);
    for (int i = 0; i < alpha; ++i)
        CHECK(u_strided[2 * i] == u[i]);
    float y[6], y_strided[12];
    memset(y_strided, 0, sizeof y_strided);
    cnnk_ref_wino_output_1d(m, d, 1, y, 1);
    cnnk_ref_wino_output_1d(m, d_strided, 3, y_strided, 2);
    for (int i = 0; i < m; ++i) {
        CHECK(y_strided[2 * i] == y[i]);
        CHECK(y_strided[2 * i + 1] == 0.0f);
    }
}

int main(void) {
    test_f2_exact();
    for (int m = 2; m <= 6; m += 2) {
        test_random(m);
        test_strides(m);
    }
    return check_finish("test_winograd_1d");
}
