/* The AVX-512 peak loop that cnnk_peak_gflops() times (core/peak.c).
 *
 * Twenty-four independent zmm accumulators: enough chains for two 512-bit
 * FMA ports at a 4-cycle latency (8 in flight) with margin, as on AVX2,
 * and well inside the 32 registers with the two operands. On Zen 4 a zmm
 * FMA occupies both 256-bit pipes, so the figure equals AVX2's FLOP/cycle
 * there; on Skylake-SP/Ice Lake with two 512-bit ports it doubles. As on
 * AVX2 the function is optimized even in a Debug build and never analysed
 * across calls (noipa), so no caller can hoist it out of its timed region. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/common/util.h"

#define CNNK_AVX512_PEAK_CHAINS 24

CNNK_TIMED_LOOP("O2") float cnnk_peak_loop__avx512(int64_t iters) {
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-6f);
    __m512 c[CNNK_AVX512_PEAK_CHAINS];
#pragma GCC unroll 24
    for (int i = 0; i < CNNK_AVX512_PEAK_CHAINS; ++i) c[i] = _mm512_set1_ps(0.05f * (float)i);
    /* Converges to a / (1 - m) = 1: no overflow, no denormals. */
    for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 24
        for (int i = 0; i < CNNK_AVX512_PEAK_CHAINS; ++i) c[i] = _mm512_fmadd_ps(c[i], m, a);
    }
    __m512 s = _mm512_setzero_ps();
#pragma GCC unroll 24
    for (int i = 0; i < CNNK_AVX512_PEAK_CHAINS; ++i) s = _mm512_add_ps(s, c[i]);
    return _mm512_reduce_add_ps(s);
}

#undef CNNK_AVX512_PEAK_CHAINS
