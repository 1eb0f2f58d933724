/* Integer helpers every kernel layer uses, written once. Header-only and
 * ISA-neutral: included by kernels/common/ (no ISA flags) and by every
 * kernels/<isa>/ file alike. */
#ifndef CNNK_KERNELS_COMMON_UTIL_H
#define CNNK_KERNELS_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Inner-loop helpers must inline even at -O0/-O1 in the sanitizer builds:
 * a call per vector would measure the call, and intrinsic arguments of
 * vector type would go through memory. */
#define CNNK_INLINE static inline __attribute__((always_inline))

/* The timing loops (peak.c) must be optimized in every build type and must
 * stay opaque to their callers. GCC says both per function (optimize,
 * noipa); clang, which builds only the fuzzers (docs/FUZZING.md) and times
 * nothing there, has neither: noinline keeps them out of line. */
#if defined(__clang__)
#define CNNK_TIMED_LOOP(...) __attribute__((noinline))
#else
#define CNNK_TIMED_LOOP(...) __attribute__((optimize(__VA_ARGS__), noipa))
#endif

static inline int64_t cnnk_min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t cnnk_max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t cnnk_clamp64(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}
static inline int64_t cnnk_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static inline int64_t cnnk_round_up(int64_t v, int64_t q) { return (v + q - 1) / q * q; }
static inline int64_t cnnk_round_down(int64_t v, int64_t q) { return v / q * q; }
/* Workspace slices are 16-float (64-byte) multiples, so each stays aligned. */
static inline size_t cnnk_align16(size_t n) { return (n + 15) / 16 * 16; }

#endif
