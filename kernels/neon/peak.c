/* The NEON peak loop that cnnk_peak_gflops() times (core/peak.c).
 *
 * Sixteen independent accumulators: a Neoverse V1 has four 128-bit FMA
 * pipes with a 4-cycle latency, so 16 chains keep every pipe busy; N1 and
 * the Cortex-A7x cores (two pipes) need 8. With the two operands that is
 * 18 of the 32 v registers. As for AVX2 (kernels/avx2/peak.c): optimized
 * even in a Debug build, and noipa so that no caller hoists it. */
#include <arm_neon.h>
#include <stdint.h>

#include "kernels/common/util.h"

CNNK_TIMED_LOOP("O2") float cnnk_peak_loop__neon(int64_t iters) {
    const float32x4_t m = vdupq_n_f32(0.999999f), a = vdupq_n_f32(1e-6f);
    float32x4_t c[16];
    for (int i = 0; i < 16; ++i) c[i] = vdupq_n_f32(0.1f * (float)i);
    /* Converges to a / (1 - m) = 1: no overflow, no denormals. */
    for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j) c[j] = vfmaq_f32(a, c[j], m);
    }
    float32x4_t s = c[0];
    for (int i = 1; i < 16; ++i) s = vaddq_f32(s, c[i]);
    return vgetq_lane_f32(s, 0) + vgetq_lane_f32(s, 3);
}
