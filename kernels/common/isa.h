/* What an ISA hands to the generic drivers of kernels/common/, and the one
 * table it exports to core/registry.c. A new ISA fills these two structs
 * in its kernels/<isa>/table.c; everything else (blocking, loop nests,
 * lowerings, the Winograd pipeline, threading) is shared. See
 * docs/ARCHITECTURE.md for the checklist.
 *
 * Nothing here depends on an ISA: this header is read by files compiled
 * with and without ISA flags alike. */
#ifndef CNNK_KERNELS_COMMON_ISA_H
#define CNNK_KERNELS_COMMON_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnnk/kernel.h"

/* ---- the GEMM microkernel ------------------------------------------------ */

/* How one MR x NR tile is written back; the epilogue order is kernel.h's:
 *   c = (load_c ? c : 0) + A*B + bias[n]   (bias: at the tile's column 0)
 *   c += res[m*res_ld + n]                 (res: at the tile's (0, 0))
 *   c = c > 0 ? c : relu_alpha * c         (when relu; alpha 0: max(c, 0))
 * bias, res and relu are set on the last K block only. */
typedef struct cnnk_gemm_tile {
    int m, n;            /* valid rows (<= MR) and columns (<= NR) */
    bool load_c;
    const float *bias;
    const float *res;
    int64_t res_ld;
    bool relu;
    float relu_alpha;
    /* The unpacked GEMM's lines ahead (gemm_sup.c): ahead_lines 64-byte
     * lines from `ahead` on, ahead_per_k4 of them prefetched before each
     * 4 k steps of the k loop, so the B block the driver multiplies next
     * arrives while this one computes. The lines lie in runs of
     * ahead_run, ahead_stride bytes from one run's start to the next;
     * `ahead` is line ahead_at of its run. Zero (the default) for none. */
    const char *ahead;
    int64_t ahead_stride;
    int ahead_lines, ahead_per_k4, ahead_run, ahead_at;
} cnnk_gemm_tile;

/* acc(MR x NR) = sum_k a[k*MR + r] * b[k*NR + c] over packed panels, stored
 * to c (pitch ldc) through t. */
typedef void (*cnnk_gemm_ukernel_fn)(int64_t kc, const float *a, const float *b, float *c,
                                     int64_t ldc, const cnnk_gemm_tile *t);

/* Packs the mc x kc block of row-major a (pitch lda) as mc/MR panels
 * [kc][MR], rows past mc zero: the transpose is where the ISA's shuffles
 * pay, so it is the ISA's. */
typedef void (*cnnk_gemm_pack_a_fn)(int64_t mc, int64_t kc, const float *a, int64_t lda,
                                    float *dst);

/* Which L1 rule sets KC (kernels/common/config.c). */
typedef enum cnnk_kc_rule {
    /* BLIS's: the MR x KC A and KC x NR B micro-panels share half of L1d. */
    CNNK_KC_RULE_AB_HALF_L1 = 0,
    /* The KC x NR B micro-panel alone fills L1d, the A micro-panels stream
     * from L2: for a wide NR, where the first rule leaves KC too short to
     * amortise the C tile's load and store (AVX-512's 14x32: KC 128 ->
     * 384 took 1024^3 SGEMM from 76% to 84% of peak on Zen 5,
     * docs/KERNELS_AVX512.md). */
    CNNK_KC_RULE_B_FILLS_L1 = 1,
} cnnk_kc_rule;

typedef struct cnnk_gemm_ukernel {
    int mr, nr;
    int k_unroll;        /* KC is rounded to it */
    cnnk_kc_rule kc_rule;
    cnnk_gemm_ukernel_fn run;
    cnnk_gemm_pack_a_fn pack_a;
} cnnk_gemm_ukernel;

/* ---- the unpacked ("sup") GEMM microkernel -------------------------------- */

/* acc(m x NR) = sum_k a[r*lda + k] * b[k*NR + c] for rows r < t->m
 * (1 <= t->m <= MR): A is read in place, its rows lda floats apart and
 * contiguous in k (NHWC pixels), b is a KC-slice of one packed B panel
 * (the layout of cnnk_gemm_pack_b, so NR is the packed GEMM's NR); the
 * tile is stored to c (pitch ldc) through t, epilogue included. The
 * microkernel picks its own code for t->m, so no A row past t->m is read
 * and no FMA is spent on it (kernels/common/gemm_sup.c, docs/GEMM_SUP.md). */
typedef void (*cnnk_sup_ukernel_fn)(int64_t kc, const float *a, int64_t lda, const float *b,
                                    int64_t ldb, float *c, int64_t ldc, const cnnk_gemm_tile *t);

/* A call covers `panels` packed B panels of NR columns side by side (the
 * next one ldb floats on: K * NR in cnnk_gemm_pack_b's layout), so its
 * tile is MR x (panels * NR); t->n counts all of them. panels 0 means 1. */
typedef struct cnnk_sup_ukernel {
    int mr, nr, panels;
    cnnk_sup_ukernel_fn run;
} cnnk_sup_ukernel;

/* ---- per-CPU configuration ------------------------------------------------ */

typedef struct cnnk_gemm_blocking {
    int mr, nr;
    int64_t kc, mc, nc;
} cnnk_gemm_blocking;

/* Block sizes an ISA gets on this CPU: filled once from cnnk_cpu() by
 * cnnk_kernel_config_derive (kernels/common/config.c), read by kernels. */
typedef struct cnnk_kernel_config {
    cnnk_gemm_blocking gemm;
    int64_t col_block_bytes;   /* im2col: the budget of one column block */
    int64_t wino_block_bytes;  /* Winograd: the budget of one block's V and M */
    int64_t sup_a_bytes;       /* unpacked GEMM: the in-place MR x KC A tile's budget */
    int64_t sup_b_bytes;       /* unpacked GEMM: the KC x NC B block's budget */
} cnnk_kernel_config;

cnnk_kernel_config cnnk_kernel_config_derive(const cnnk_gemm_ukernel *uk);

/* Defines `static const cnnk_kernel_config *NAME(void)`: the configuration
 * of ukernel UK, derived on first use (pthread_once), then read-only. */
#define CNNK_DEFINE_KERNEL_CONFIG(NAME, UK)                                        \
    static cnnk_kernel_config NAME##_value_;                                       \
    static pthread_once_t NAME##_once_ = PTHREAD_ONCE_INIT;                        \
    static void NAME##_init_(void) { NAME##_value_ = cnnk_kernel_config_derive(UK); } \
    static const cnnk_kernel_config *NAME(void) {                                  \
        pthread_once(&NAME##_once_, NAME##_init_);                                 \
        return &NAME##_value_;                                                     \
    }

/* ---- Winograd tile transforms ------------------------------------------- */

/* The tiles of one run: output tile t of the batch is image t / nt, row
 * t % nt / tw, column t % tw, each m x m outputs from an alpha x alpha
 * input window (alpha = m + 2). */
typedef struct cnnk_wino_tiles {
    const cnnk_conv_desc *d;
    const cnnk_conv_args *a;
    int64_t tw, nt;
} cnnk_wino_tiles;

/* Input transform of tiles [t0, t0 + tn): V of tile t0 + i at
 * v + i*vld + pos*vstride, channels [0, ic) then zeros up to the ISA's
 * vector width. */
typedef void (*cnnk_wino_input_fn)(const cnnk_wino_tiles *x, int64_t t0, int64_t tn, float *v,
                                   int64_t vld, int64_t vstride);
/* Output transform of tiles [t0, t0 + tn) from M (same layout as V, oc
 * channels), with the fused epilogue, storing only pixels inside dst. */
typedef void (*cnnk_wino_output_fn)(const cnnk_wino_tiles *x, int64_t t0, int64_t tn,
                                    const float *mm, int64_t mld, int64_t mstride);

typedef struct cnnk_wino_transforms {
    cnnk_wino_input_fn input;
    cnnk_wino_output_fn output;
} cnnk_wino_transforms;

/* ---- the direct convolution tile ------------------------------------------ */

/* The widest pixel tile an ISA may declare: the taps carry per-pixel
 * windows in fixed arrays. AVX-512's 32 zmm would hold 14 pixels x 2
 * vectors; AVX2 uses 6, NEON 8. */
enum { CNNK_DIRECT_MAX_W = 16 };

/* One tile's taps. src points at column 0 of the first valid source row
 * (at the group's first channel), w at the weights of that row's kx = 0,
 * packed [kw][icg][oc_blk]; rows are src_row / w_row apart. Pixel p's
 * window starts at column ix0[p] and its valid taps are kx in
 * [lo[p], hi[p]); interior tiles fill only ix0[0], the other pixels
 * following pix_step apart. */
typedef struct cnnk_direct_taps {
    const float *src;
    const float *w;
    int64_t ky_n, src_row, w_row;
    int64_t ld, dw, icg, pix_step;
    bool dense;    /* kw taps adjacent in memory: a segment spans several */
    bool interior; /* every pixel's every tap inside the row */
    int64_t kx_min, kx_max;
    int64_t ix0[CNNK_DIRECT_MAX_W], lo[CNNK_DIRECT_MAX_W], hi[CNNK_DIRECT_MAX_W];
} cnnk_direct_taps;

/* What the store needs: the first output of the tile, the oc_blk-channel
 * slice of bias and residual (NULL when absent), and how many of the
 * oc_blk lanes are real output channels. Pixel p goes to dst + p * dst_ld,
 * with the epilogue order of kernel.h. */
typedef struct cnnk_direct_store {
    float *dst;
    int64_t dst_ld;
    const float *bias;
    const float *res;
    int64_t res_ld;
    bool relu;
    float relu_alpha;
    int nvalid;
} cnnk_direct_store;

/* The column geometry of every output row: ow pixels, pixel ox's window
 * starting at source column ox * sw - pl, kw taps dw apart in a row of iw;
 * [ox_lo, ox_hi) are the pixels whose every tap is inside the row. */
typedef struct cnnk_direct_cols {
    int64_t ow, sw, pl, kw, dw, iw;
    int64_t ox_lo, ox_hi;
} cnnk_direct_cols;

/* One output row of oc_blk channels: t holds the row's taps (its per-pixel
 * part is the row function's to fill, tile by tile), s the store of pixel
 * 0. An ISA defines it with CNNK_DIRECT_ROW_FN (kernels/common/direct_row.h),
 * which splits the row into tiles and inlines the ISA's tile into that
 * loop: one call per row, none per tile (a call per tile cost 5-10% on
 * 1x1 layers with 64 input channels; docs/KERNELS_AVX2_DIRECT.md). */
typedef void (*cnnk_direct_row_fn)(const cnnk_direct_cols *c, cnnk_direct_taps *t,
                                   const cnnk_direct_store *s);

/* Tiles of up to w_blk pixels x oc_blk output channels. The packed
 * weights' channel block is oc_blk, so pack and run read it from the same
 * description. */
typedef struct cnnk_direct_ukernel {
    int w_blk, oc_blk;
    cnnk_direct_row_fn row;
} cnnk_direct_ukernel;

/* ---- what the generic drivers read of an ISA ----------------------------- */

/* Batch-1 FC: y[o] = epilogue(x . W[:, o]) for the NR-wide B panels
 * [lo, hi) of K x oc weights packed as the GEMM's B. */
typedef void (*cnnk_gemv_fn)(int64_t k, int64_t oc, const float *x, const float *packed,
                             const float *bias, bool relu, float relu_alpha, float *y,
                             int64_t lo, int64_t hi);

typedef struct cnnk_isa_kernels {
    cnnk_isa isa;
    const cnnk_gemm_ukernel *gemm;
    const cnnk_kernel_config *(*config)(void);
    int vl;                            /* floats per vector: Winograd's channel pitch */
    cnnk_wino_transforms wino[3];      /* F(2x2,3x3), F(4x4,3x3), F(6x6,3x3) */
    cnnk_gemv_fn gemv;
    int gemv_group;                    /* panels one gemv step streams together */
    const cnnk_direct_ukernel *direct; /* NULL: the ISA has no direct tile */
    const cnnk_sup_ukernel *sup;       /* NULL: no unpacked GEMM; else sup->nr == gemm->nr */
} cnnk_isa_kernels;

/* ---- the table an ISA exports -------------------------------------------- */

typedef struct cnnk_isa_table {
    cnnk_isa isa;
    const cnnk_isa_kernels *kernels;
    const cnnk_conv_kernel *const *conv;
    size_t nconv;
    const cnnk_op_kernel *const *ops;
    size_t nops;
    /* The FMA peak loop core/peak.c times: iters iterations of
     * peak_flop_per_iter FLOP; peak_iters runs take about 2 ms. */
    float (*peak_loop)(int64_t iters);
    double peak_flop_per_iter;
    int64_t peak_iters;
    const char *onednn_isa;            /* oneDNN's max-ISA name of the same level */
} cnnk_isa_table;

/* The tables this build compiled (core/registry.c); NULL past the end. */
const cnnk_isa_table *cnnk_isa_table_at(size_t i);
/* The table of isa, or NULL when this build has none. */
const cnnk_isa_table *cnnk_isa_table_find(cnnk_isa isa);

#endif
