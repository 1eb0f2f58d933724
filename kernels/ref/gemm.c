/* The scalar GEMM shared by the reference im2col, 1x1 and Winograd
 * strategies. */
#include "kernels/ref/ref.h"

void cnnk_ref_gemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                   int64_t ldb, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            float acc = 0.0f;
            for (int64_t p = 0; p < k; ++p) acc += a[i * lda + p] * b[p * ldb + j];
            c[i * ldc + j] = acc;
        }
    }
}
