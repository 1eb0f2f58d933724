/* The kernel taps of a transposed convolution that reach one output
 * coordinate, in one spatial dimension: ISA-generic, shared by every
 * deconv kernel (kernels/<isa>/deconv.c).
 *
 * Output o gathers tap k from input i when i*s - p + k*dil == o. Scanning
 * all k and testing divisibility visits k taps for about k/s useful ones:
 * at FCN's 64x64 stride 32 that is 4096 tests, each an integer division,
 * for 4 taps per pixel. The useful k form one arithmetic progression:
 * k*dil == o + p (mod s) has solutions k == k0 (mod s/g), g = gcd(dil, s),
 * and consecutive ones read inputs dil/g apart. cnnk_deconv_taps returns
 * that progression, clipped to the kernel and to the input, in O(s/g). */
#ifndef CNNK_KERNELS_COMMON_DECONV_TAPS_H
#define CNNK_KERNELS_COMMON_DECONV_TAPS_H

#include <stdint.h>

/* Tap j < count is kernel index k0 + j*kstep, reading input i0 - j*istep. */
typedef struct cnnk_deconv_taps {
    int64_t k0, kstep;
    int64_t i0, istep;
    int64_t count;
} cnnk_deconv_taps;

static inline int64_t cnnk_deconv_gcd(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b, b = t;
    }
    return a;
}

/* t (taps clipped to the kernel only) clipped to the inputs 0..n-1 too.
 * Inputs fall by istep per tap: skip those >= n, stop before those < 0.
 * istep is 1 without dilation: no division on that path, which the
 * driver takes once per tile (kernels/common/deconv.c). */
static inline cnnk_deconv_taps cnnk_deconv_taps_clip(cnnk_deconv_taps t, int64_t n) {
    if (t.count == 0) return t;
    if (t.i0 >= n) {
        const int64_t over = t.i0 - (n - 1);
        const int64_t skip = t.istep == 1 ? over : (over + t.istep - 1) / t.istep;
        if (skip >= t.count) return (cnnk_deconv_taps){0, t.kstep, 0, t.istep, 0};
        t.k0 += skip * t.kstep;
        t.i0 -= skip * t.istep;
        t.count -= skip;
    }
    if (t.i0 < 0) return (cnnk_deconv_taps){0, t.kstep, 0, t.istep, 0};
    const int64_t fit = (t.istep == 1 ? t.i0 : t.i0 / t.istep) + 1;
    if (t.count > fit) t.count = fit;
    return t;
}

/* Output coordinate o of a dimension with kernel k, stride s, begin padding
 * p, dilation dil and n input pixels. When `clip_input` is false, taps are
 * clipped to the kernel only (their inputs may lie outside 0..n-1; a
 * caller testing a block of pixels at once wants them all). */
static inline cnnk_deconv_taps cnnk_deconv_taps_of(int64_t o, int64_t k, int64_t s, int64_t p,
                                                   int64_t dil, int64_t n, int clip_input) {
    cnnk_deconv_taps t = {0, 1, 0, 1, 0};
    const int64_t g = dil == 1 ? 1 : cnnk_deconv_gcd(dil, s), period = s / g;
    int64_t k0 = -1;
    if (dil == 1) { /* the common case, without the scan */
        int64_t r = (o + p) % s;
        if (r < 0) r += s;
        k0 = r < k ? r : -1;
    }
    for (int64_t c = 0; dil != 1 && c < period && c < k; ++c) {
        int64_t r = (o + p - c * dil) % s;
        if (r == 0) {
            k0 = c;
            break;
        }
    }
    if (k0 < 0) return t;
    t.kstep = period;
    t.istep = dil / g;
    /* o + p - k0*dil is a multiple of s but may be negative: floor divide. */
    const int64_t num = o + p - k0 * dil;
    t.i0 = num >= 0 ? num / s : -((-num + s - 1) / s);
    t.k0 = k0;
    t.count = (k - k0 + period - 1) / period;
    return clip_input ? cnnk_deconv_taps_clip(t, n) : t;
}

/* Output row t (0..n-1) of a dimension of n outputs, stride s, begin
 * padding p, in phase-major order: the rows whose (o + p) mod s is 0
 * first, then 1, ... Rows of one phase take the same kernel rows (the
 * same taps, whatever the dilation), so running them one after another
 * keeps that phase's weights in cache: a 64x64 stride-32 kernel of 21
 * channels packs to 11 MB, one phase's share to 344 KB. A stride above n
 * leaves at most one row per phase: then the order is the identity. */
static inline int64_t cnnk_deconv_phase_row(int64_t t, int64_t n, int64_t s, int64_t p) {
    if (s > n) return t;
    for (int64_t ph = 0; ph < s; ++ph) {
        const int64_t first = ((ph - p) % s + s) % s;
        const int64_t count = first < n ? (n - first + s - 1) / s : 0;
        if (t < count) return first + t * s;
        t -= count;
    }
    return t; /* not reached: the phases count n rows */
}

#endif
