/* The C tile's way out of the AVX-512 GEMM microkernels, shared by the
 * packed one (gemm.c) and the unpacked one (gemm_sup.c): the prefetch of
 * the C rows and residual the tile will touch, and the store with the
 * fused epilogue (isa.h's cnnk_gemm_tile). MR and NV are constants at
 * every call, so each shape gets straight-line code. Only files compiled
 * with the avx512 flags may include it. */
#ifndef CNNK_KERNELS_AVX512_GEMM_STORE_H
#define CNNK_KERNELS_AVX512_GEMM_STORE_H

#include "kernels/avx512/vec.h"
#include "kernels/common/isa.h"

enum { CNNK_AVX512_TILE_MAX_MR = 28, CNNK_AVX512_TILE_MAX_NV = 2 };

typedef __m512 cnnk_avx512_acc[CNNK_AVX512_TILE_MAX_MR][CNNK_AVX512_TILE_MAX_NV];

/* The C tile (and the residual, read once at the store) is prefetched
 * before the k loop so its misses overlap the FMAs rather than stall the
 * store. */
CNNK_INLINE void cnnk_avx512_prefetch_tile(const int NV, const float *c, int64_t ldc,
                                           const cnnk_gemm_tile *t) {
    for (int r = 0; r < t->m; ++r) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + NV * CNNK_AVX512_VL - 1), _MM_HINT_T0);
        if (t->res) {
            _mm_prefetch((const char *)(t->res + r * t->res_ld), _MM_HINT_T0);
            _mm_prefetch((const char *)(t->res + r * t->res_ld + NV * CNNK_AVX512_VL - 1),
                         _MM_HINT_T0);
        }
    }
}

/* A whole MR x (16 NV) tile, the epilogue in phases: each of C, bias,
 * residual and the activation is tested once per tile, not once per
 * vector, and the bias vectors are loaded once, not once per row. Per
 * vector, cnnk_avx512_store_epilogue's tests came to five branches and a
 * compare of alpha, some 400 instructions at the end of a 6 x 64 call:
 * at kc = 64 the microkernel alone lost 7% to it, the AVX2 one 20%
 * (docs/GEMM_SUP.md, "The epilogue in phases"). The sums keep the per-vector order:
 * ((acc + C) + bias) + residual, then the activation. */
CNNK_INLINE void cnnk_avx512_store_whole_tile(const int MR, const int NV, float *c, int64_t ldc,
                                              const cnnk_gemm_tile *t, cnnk_avx512_acc acc) {
    const int VL = CNNK_AVX512_VL;
    if (t->load_c) {
#pragma GCC unroll 28
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v)
                acc[r][v] = _mm512_add_ps(acc[r][v], _mm512_loadu_ps(c + r * ldc + v * VL));
    }
    if (t->bias) {
        __m512 b[CNNK_AVX512_TILE_MAX_NV];
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(t->bias + v * VL);
#pragma GCC unroll 28
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_add_ps(acc[r][v], b[v]);
    }
    if (t->res) {
#pragma GCC unroll 28
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v)
                acc[r][v] =
                    _mm512_add_ps(acc[r][v], _mm512_loadu_ps(t->res + r * t->res_ld + v * VL));
    }
    if (t->relu && t->relu_alpha == 0.0f) {
#pragma GCC unroll 28
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[r][v] = cnnk_avx512_relu(acc[r][v]);
    } else if (t->relu) {
        const __m512 alpha = _mm512_set1_ps(t->relu_alpha);
#pragma GCC unroll 28
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[r][v] = cnnk_avx512_leaky(acc[r][v], alpha);
    }
#pragma GCC unroll 28
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + r * ldc + v * VL, acc[r][v]);
}

/* Writes the valid t->m x t->n part of the MR x (16 NV) accumulator tile. */
CNNK_INLINE void cnnk_avx512_store_tile(const int MR, const int NV, float *c, int64_t ldc,
                                        const cnnk_gemm_tile *t, cnnk_avx512_acc acc) {
    const int VL = CNNK_AVX512_VL;
    if (t->m == MR && t->n == NV * VL) {
        cnnk_avx512_store_whole_tile(MR, NV, c, ldc, t, acc);
        return;
    }
    const bool full = t->n == NV * VL;
    __mmask16 m[CNNK_AVX512_TILE_MAX_NV];
    for (int v = 0; v < NV; ++v) m[v] = cnnk_avx512_mask(t->n - v * VL);
    /* Unrolled whatever its size, so acc is indexed by constants only and
     * stays in registers (as cnnk_avx2_store_tile: left a loop, GCC 12
     * stored every accumulator to the stack at the end of the k loop, and
     * in the k remainder loop every step). */
#pragma GCC unroll 28
    for (int r = 0; r < MR; ++r) {
        if (r >= t->m) break;
        float *cr = c + r * ldc;
        const float *res = t->res ? t->res + r * t->res_ld : NULL;
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) {
            if (!full && m[v] == 0) break;
            __m512 x = acc[r][v];
            if (t->load_c) x = _mm512_add_ps(x, cnnk_avx512_load(cr + v * VL, full, m[v]));
            cnnk_avx512_store_epilogue(cr + v * VL, x, t->bias ? t->bias + v * VL : NULL,
                                       res ? res + v * VL : NULL, t->relu, t->relu_alpha, full,
                                       m[v]);
        }
    }
}

#endif
