/* The one pseudo-random generator of cnnk: splitmix64 (Steele, Lea, Flood
 * 2014). One 64-bit word of state, full period, good mixing; every seeded
 * thing (weights, test data, the sweep) draws from it, so a seed means the
 * same numbers everywhere and on every platform. */
#ifndef CNNK_CORE_RNG_H
#define CNNK_CORE_RNG_H

#include <stdint.h>

typedef struct cnnk_rng {
    uint64_t s;
} cnnk_rng;

static inline uint64_t cnnk_rng_next(cnnk_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
