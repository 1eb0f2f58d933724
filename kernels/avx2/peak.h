/* The AVX2+FMA peak loop (kernels/avx2/peak.c), timed by core/peak.c.
 * Call only when cnnk_isa_available(CNNK_ISA_AVX2). */
#ifndef CNNK_KERNELS_AVX2_PEAK_H
#define CNNK_KERNELS_AVX2_PEAK_H

#include <stdint.h>

/* FLOP done per iteration of cnnk_peak_loop__avx2: 12 FMAs x 8 lanes x 2. */
#define CNNK_PEAK_FLOP_PER_ITER__AVX2 192

/* Runs iters iterations; the result only keeps the work alive. */
float cnnk_peak_loop__avx2(int64_t iters);

#endif
