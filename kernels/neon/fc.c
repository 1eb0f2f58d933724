/* The NEON batch-1 fully connected GEMV, on the shared GEMM's B panels
 * ([oc/12][K][12]); the driver, packing and batch > 1 GEMM are
 * kernels/common/fc.c's. As on AVX2 (kernels/avx2/fc.c) a GEMV is
 * bandwidth-bound, so it streams four panels at once (four sequential
 * streams keep more misses in flight) and reads each weight once. */
#include "kernels/neon/gemm.h"
#include "kernels/neon/vec.h"

enum { NR = CNNK_NEON_NR };

/* y[0..n) = epilogue(x . panel) for one K x 12 panel; n <= 12 valid outputs.
 * Two accumulator sets over even and odd k halve the FMA chains' latency. */
static void gemv_panel(int64_t k, const float *x, const float *b, const float *bias, bool relu,
                       float alpha, int n, float *y) {
    float32x4_t acc[6];
    for (int i = 0; i < 6; ++i) acc[i] = vdupq_n_f32(0.0f);
    int64_t kk = 0;
    for (; kk + 2 <= k; kk += 2, b += 2 * NR) {
        for (int u = 0; u < 2; ++u) {
            const float xv = x[kk + u];
            for (int j = 0; j < 3; ++j)
                acc[3 * u + j] = vfmaq_n_f32(acc[3 * u + j], vld1q_f32(b + u * NR + 4 * j), xv);
        }
    }
    for (; kk < k; ++kk, b += NR)
        for (int j = 0; j < 3; ++j) acc[j] = vfmaq_n_f32(acc[j], vld1q_f32(b + 4 * j), x[kk]);
    /* bias and y hold only the n valid outputs */
    for (int j = 0; j < 3; ++j)
        cnnk_neon_store_epilogue(y + 4 * j, vaddq_f32(acc[j], acc[3 + j]),
                                 bias ? bias + 4 * j : NULL, NULL, relu, alpha, false, n - 4 * j);
}

/* Four full panels at once: 12 accumulators, 48 outputs. */
static void gemv_4panels(int64_t k, const float *x, const float *b, const float *bias, bool relu,
                         float alpha, float *y) {
    float32x4_t acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = vdupq_n_f32(0.0f);
    const float *p[4] = {b, b + k * NR, b + 2 * k * NR, b + 3 * k * NR};
    for (int64_t kk = 0; kk < k; ++kk) {
        const float xv = x[kk];
        const int64_t o = kk * NR;
        for (int q = 0; q < 4; ++q)
            for (int j = 0; j < 3; ++j)
                acc[3 * q + j] = vfmaq_n_f32(acc[3 * q + j], vld1q_f32(p[q] + o + 4 * j), xv);
    }
    for (int i = 0; i < 12; ++i) {
        if (bias) acc[i] = vaddq_f32(acc[i], vld1q_f32(bias + 4 * i));
        if (relu) acc[i] = cnnk_neon_act(acc[i], alpha);
        vst1q_f32(y + 4 * i, acc[i]);
    }
}

/* Panels [lo, hi): groups of four full panels, then one at a time. */
void cnnk_gemv__neon(int64_t k, int64_t oc, const float *x, const float *packed,
                     const float *bias, bool relu, float alpha, float *y, int64_t lo,
                     int64_t hi) {
    int64_t j = lo;
    for (; j + 4 <= hi && (j + 4) * NR <= oc; j += 4)
        gemv_4panels(k, x, packed + j * NR * k, bias ? bias + j * NR : NULL, relu, alpha,
                     y + j * NR);
    for (; j < hi; ++j) {
        const int64_t o = j * NR;
        gemv_panel(k, x, packed + o * k, bias ? bias + o : NULL, relu, alpha,
                   (int)cnnk_min64(oc - o, NR), y + o);
    }
}
