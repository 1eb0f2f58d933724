/* The unpacked ("sup", after BLIS's small/skinny path) SGEMM driver: A is
 * read in place, rows of pixels straight from an NHWC tensor, B is packed
 * once as for the packed GEMM (gemm.h), and the ISA's cnnk_sup_ukernel
 * keeps an MR x NR C tile in registers across a whole K block. No copy
 * of A (but one tile at a time where its pitch aliases in L1): a 1x1 convolution at batch 1 has too few FMAs
 * per input element (K of 64..2048) to pay for packing it. See
 * docs/GEMM_SUP.md.
 *
 *   C (M x N, row-major, pitch ldc) = A (M x K, rows as below) * B (packed)
 *
 * Only call with an ISA whose cnnk_isa_available() is true and whose
 * isa->sup is set. */
#ifndef CNNK_KERNELS_COMMON_GEMM_SUP_H
#define CNNK_KERNELS_COMMON_GEMM_SUP_H

#include <stdint.h>

#include "kernels/common/gemm.h"
#include "kernels/common/isa.h"

/* Where A's rows are: row i = s * seg + j (0 <= j < seg) starts at
 *   a + (s / seg_h) * ld_img + (s % seg_h) * ld_seg + j * ld_row
 * and holds K contiguous floats. A dense or pitched matrix is one segment
 * (seg = M, seg_h = 1); a strided 1x1 convolution's rows are its output
 * rows (seg = ow pixels sw pixels apart, seg_h = oh rows sh source rows
 * apart, images ih*iw pixels apart), read where they lie. M must be a
 * multiple of seg.
 *
 * kc_max, when > 0, caps the K block: each output is then summed in
 * blocks of at most kc_max terms (rounded up to 8), added to C one after
 * another, instead of in one run over all of K (the default: K blocks as
 * long as the A tile's L1 budget allows, 2048 on a 48 KiB L1). Winograd
 * caps it at the packed GEMM's KC, with whose rounding error its tolerance
 * was measured (winograd.c). */
typedef struct cnnk_sup_a {
    const float *a;
    int64_t seg, seg_h;
    int64_t ld_row, ld_seg, ld_img;
    int64_t kc_max;
    /* The packed B of the caller's next call with the same N and K (the
     * next Winograd position's U), or NULL: its first block is
     * prefetched during this call's last one, as each block's successor
     * is during the block (gemm_sup.c, "lines ahead"). A hint: results
     * do not depend on it, and it is never dereferenced. */
    const float *next_b;
} cnnk_sup_a;

/* Floats of workspace for up to nthreads threads: none unless A's row
 * pitch aliases in L1 (gemm_sup.c), then one small A tile per thread. */
size_t cnnk_gemm_sup_workspace_size(const cnnk_isa_kernels *isa, int64_t M, int64_t N, int64_t K,
                                    const cnnk_sup_a *A, int nthreads);

/* C = epilogue(A * B), B packed by cnnk_gemm_pack_b with isa->sup->nr.
 * ep may be NULL. nthreads >= 1; 1 creates no parallel region. Never reads
 * or writes C, A or residual outside their M x N (M x K) extents. */
void cnnk_gemm_sup(const cnnk_isa_kernels *isa, int64_t M, int64_t N, int64_t K,
                   const cnnk_sup_a *A, const float *packed_b, float *C, int64_t ldc,
                   const cnnk_gemm_epilogue *ep, float *workspace, int nthreads);

/* A microkernel's lines ahead (isa.h's cnnk_gemm_tile): start with
 * cnnk_sup_ahead_start(t), call cnnk_sup_ahead_step before each 4 k
 * steps. Prefetched to L1 and L2 (T0): on Zen 5 the L2-only hint measured
 * slower (docs/GEMM_SUP.md, "Lines ahead"). */
typedef struct cnnk_sup_ahead {
    const char *run0; /* the current run's first line */
    int64_t stride;
    int run, at, left, per_k4;
} cnnk_sup_ahead;

static inline cnnk_sup_ahead cnnk_sup_ahead_start(const cnnk_gemm_tile *t) {
    if (t->ahead_lines <= 0) return (cnnk_sup_ahead){.left = 0}; /* `ahead` may be NULL */
    const cnnk_sup_ahead h = {
        .run0 = t->ahead - (ptrdiff_t)t->ahead_at * 64, .stride = t->ahead_stride,
        .run = t->ahead_run, .at = t->ahead_at, .left = t->ahead_lines,
        .per_k4 = t->ahead_per_k4};
    return h;
}

static inline void cnnk_sup_ahead_step(cnnk_sup_ahead *h) {
    for (int j = 0; j < h->per_k4 && h->left > 0; ++j, --h->left) {
        __builtin_prefetch(h->run0 + (ptrdiff_t)h->at * 64, 0, 3);
        if (++h->at == h->run) h->at = 0, h->run0 += h->stride;
    }
}

/* The case labels an ISA's microkernel dispatches its tile height with:
 * FN(m, ...) for each constant m, so every height unrolls into code of
 * its own. `switch (t->m) { CNNK_SUP_HEIGHTS_1_6(f, ...) default: break; }`
 * for a 6-row tile; add CNNK_SUP_HEIGHTS_7_14 for a 14-row one. */
#define CNNK_SUP_HEIGHT_(m, FN, ...) \
    case m: FN(m, __VA_ARGS__); break;
#define CNNK_SUP_HEIGHTS_1_6(FN, ...)                                                  \
    CNNK_SUP_HEIGHT_(1, FN, __VA_ARGS__) CNNK_SUP_HEIGHT_(2, FN, __VA_ARGS__)          \
    CNNK_SUP_HEIGHT_(3, FN, __VA_ARGS__) CNNK_SUP_HEIGHT_(4, FN, __VA_ARGS__)          \
    CNNK_SUP_HEIGHT_(5, FN, __VA_ARGS__) CNNK_SUP_HEIGHT_(6, FN, __VA_ARGS__)
#define CNNK_SUP_HEIGHTS_7_14(FN, ...)                                                 \
    CNNK_SUP_HEIGHT_(7, FN, __VA_ARGS__) CNNK_SUP_HEIGHT_(8, FN, __VA_ARGS__)          \
    CNNK_SUP_HEIGHT_(9, FN, __VA_ARGS__) CNNK_SUP_HEIGHT_(10, FN, __VA_ARGS__)         \
    CNNK_SUP_HEIGHT_(11, FN, __VA_ARGS__) CNNK_SUP_HEIGHT_(12, FN, __VA_ARGS__)        \
    CNNK_SUP_HEIGHT_(13, FN, __VA_ARGS__) CNNK_SUP_HEIGHT_(14, FN, __VA_ARGS__)

#endif
