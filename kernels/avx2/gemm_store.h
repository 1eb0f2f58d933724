/* The C tile's way out of the AVX2 GEMM microkernels, shared by the packed
 * one (gemm.c) and the unpacked one (gemm_sup.c): the prefetch of the C
 * rows and residual the tile will touch, and the store of its valid
 * t->m x t->n part with the fused epilogue (isa.h's cnnk_gemm_tile). Only
 * files compiled with the avx2 flags may include it. */
#ifndef CNNK_KERNELS_AVX2_GEMM_STORE_H
#define CNNK_KERNELS_AVX2_GEMM_STORE_H

#include "kernels/avx2/gemm.h"
#include "kernels/avx2/vec.h"
#include "kernels/common/isa.h"

/* The C tile first, so its misses overlap the k loop rather than stall the
 * store; the residual too, read once at the store: without a prefetch its
 * misses stalled ResNet's K = 64 1x1 layers by a sixth (perf annotate). */
CNNK_INLINE void cnnk_avx2_prefetch_tile(const float *c, int64_t ldc, const cnnk_gemm_tile *t) {
    for (int r = 0; r < t->m; ++r) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + CNNK_AVX2_NR - 1), _MM_HINT_T0);
    }
    if (t->res) {
        for (int r = 0; r < t->m; ++r) {
            _mm_prefetch((const char *)(t->res + r * t->res_ld), _MM_HINT_T0);
            _mm_prefetch((const char *)(t->res + r * t->res_ld + CNNK_AVX2_NR - 1), _MM_HINT_T0);
        }
    }
}

/* A whole M x 16 tile, the epilogue in phases: C, bias, residual and the
 * activation each tested once per tile rather than once per vector, the
 * two bias vectors loaded once (the twin of cnnk_avx512_store_whole_tile;
 * docs/GEMM_SUP.md, "The epilogue in phases"). Same order of the sums:
 * ((acc + C) + bias) + residual, then the activation. */
CNNK_INLINE void cnnk_avx2_store_whole_tile(const int M, float *c, int64_t ldc,
                                            const cnnk_gemm_tile *t,
                                            __m256 acc[CNNK_AVX2_MR][2]) {
    if (t->load_c) {
#pragma GCC unroll 6
        for (int r = 0; r < M; ++r) {
            acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(c + r * ldc));
            acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(c + r * ldc + 8));
        }
    }
    if (t->bias) {
        const __m256 b0 = _mm256_loadu_ps(t->bias), b1 = _mm256_loadu_ps(t->bias + 8);
#pragma GCC unroll 6
        for (int r = 0; r < M; ++r) {
            acc[r][0] = _mm256_add_ps(acc[r][0], b0);
            acc[r][1] = _mm256_add_ps(acc[r][1], b1);
        }
    }
    if (t->res) {
#pragma GCC unroll 6
        for (int r = 0; r < M; ++r) {
            const float *res = t->res + r * t->res_ld;
            acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(res));
            acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(res + 8));
        }
    }
    if (t->relu && t->relu_alpha == 0.0f) {
#pragma GCC unroll 6
        for (int r = 0; r < M; ++r) {
            acc[r][0] = cnnk_avx2_relu(acc[r][0]);
            acc[r][1] = cnnk_avx2_relu(acc[r][1]);
        }
    } else if (t->relu) {
        const __m256 alpha = _mm256_set1_ps(t->relu_alpha);
#pragma GCC unroll 6
        for (int r = 0; r < M; ++r) {
            acc[r][0] = cnnk_avx2_leaky(acc[r][0], alpha);
            acc[r][1] = cnnk_avx2_leaky(acc[r][1], alpha);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < M; ++r) {
        _mm256_storeu_ps(c + r * ldc, acc[r][0]);
        _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
    }
}

/* Rows [0, min(M, t->m)) of the M x 16 accumulator tile. */
CNNK_INLINE void cnnk_avx2_store_tile(const int M, float *c, int64_t ldc, const cnnk_gemm_tile *t,
                                      __m256 acc[CNNK_AVX2_MR][2]) {
    if (t->m == M && t->n == CNNK_AVX2_NR) {
        cnnk_avx2_store_whole_tile(M, c, ldc, t, acc);
        return;
    }
    const bool full = t->n == CNNK_AVX2_NR;
    const __m256i m0 = cnnk_avx2_mask(t->n), m1 = cnnk_avx2_mask(t->n - 8);
    const float *b1 = t->bias ? t->bias + 8 : NULL;
    /* Unrolled whatever its size, so acc is indexed by constants only and
     * stays in registers: left a loop (GCC 12 does not fully unroll a
     * body this large by itself), acc lived on the stack and the k loop
     * stored all 12 accumulators every step (the unpacked microkernel
     * alone at 62-69 GFLOP/s on Zen 3 against 77-95 after, of a measured
     * 89.9 peak; docs/GEMM_SUP.md). */
#pragma GCC unroll 6
    for (int r = 0; r < M; ++r) {
        if (r >= t->m) break;
        float *cr = c + r * ldc;
        const float *res = t->res ? t->res + r * t->res_ld : NULL;
        __m256 v0 = acc[r][0], v1 = acc[r][1];
        if (t->load_c) {
            v0 = _mm256_add_ps(v0, cnnk_avx2_load(cr, full, m0));
            v1 = _mm256_add_ps(v1, cnnk_avx2_load(cr + 8, full, m1));
        }
        cnnk_avx2_store_epilogue(cr, v0, t->bias, res, t->relu, t->relu_alpha, full, m0);
        cnnk_avx2_store_epilogue(cr + 8, v1, b1, res ? res + 8 : NULL, t->relu, t->relu_alpha,
                                 full, m1);
    }
}

#endif
