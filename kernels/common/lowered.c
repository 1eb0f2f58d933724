/* The im2col and 1x1 lowerings onto the shared GEMM, for every ISA
 * (lowered.h). Rows are output pixels over the whole batch
 * (p = (n*oh + oy)*ow + ox), columns K = (ky, kx, c) of one group, so the
 * GEMM writes straight into the NHWC dst at the group's channel offset,
 * with bias, residual and ReLU fused into its store. A block of `rows`
 * pixels is lowered into per-thread workspace, multiplied, and its slot
 * reused: the column block is written once and read once (by the GEMM's A
 * packing) while still in L2, instead of a whole oh*ow*K matrix streaming
 * through memory twice. A 1x1 convolution at stride > 1 is exactly a tiled
 * gather with K = ic; at stride 1 without padding A is src itself.
 * im2col_sup multiplies the same blocks on the unpacked GEMM (gemm_sup.h),
 * which reads the column block in place instead of packing it again, and
 * reads whole-row patches (the R-CNN heads) straight from src. */
#include "kernels/common/lowered.h"

#include <string.h>

#include "kernels/common/gemm.h"
#include "kernels/common/gemm_sup.h"
#include "kernels/common/team.h"
#include "kernels/common/util.h"

/* ---- weights ------------------------------------------------------------ */

size_t cnnk_pack_b_oihw_scratch(const cnnk_isa_kernels *isa, int64_t k) {
    return (size_t)(isa->gemm->nr * k);
}

/* Packs n OIHW rows of K = c*kh*kw into the GEMM's B with K reordered to
 * (ky, kx, c), the order of an NHWC column row. The GEMM packs B as
 * independent NR-column panels (docs/GEMM.md: panel j at j*K*NR), so each
 * panel is reordered into `scratch` (NR*K floats) and packed alone: a
 * scratch of one panel rather than a transposed copy of all the weights. */
void cnnk_pack_b_oihw(const cnnk_isa_kernels *isa, int64_t n, int64_t c, int64_t kh, int64_t kw, const float *w,
                            float *packed, float *scratch) {
    const int64_t k = c * kh * kw, nr = isa->gemm->nr;
    for (int64_t j0 = 0; j0 < n; j0 += nr) {
        int64_t cols = cnnk_min64(nr, n - j0);
        for (int64_t j = 0; j < cols; ++j) {
            const float *row = w + (j0 + j) * k;
            float *out = scratch + j * k;
            for (int64_t ci = 0; ci < c; ++ci)
                for (int64_t y = 0; y < kh; ++y)
                    for (int64_t x = 0; x < kw; ++x)
                        out[(y * kw + x) * c + ci] = row[(ci * kh + y) * kw + x];
        }
        cnnk_gemm_pack_b((int)nr, k, cols, scratch, k, true,
                               packed + cnnk_gemm_packed_b_size((int)nr, k, j0));
    }
}

/* ---- the lowering plan -------------------------------------------------- */

typedef struct lowering {
    int64_t icg, ocg, k, m;  /* GEMM per group: m x ocg x k, m over the batch */
    int64_t cap;             /* most rows a column block may hold */
    int64_t rows, blocks;    /* this run's block height and count */
    bool identity;           /* 1x1, stride 1, no padding: A is src itself */
    bool split_n;            /* too few pixels to split: the GEMM threads over N */
    bool sup;                /* multiplied on the unpacked GEMM (im2col_sup) */
    size_t slice;            /* floats of one thread's column block + GEMM scratch */
} lowering;

static bool is_identity(const cnnk_conv_desc *d) {
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 && d->pl == 0 &&
           d->pb == 0 && d->pr == 0;
}

/* A column block is written by the lowering and then read by the GEMM's A
 * packing; at half of L2 it survives between the two with room for the
 * packed A block and the B panels streaming past. Never taller than the
 * GEMM's MC (the GEMM would split it anyway) nor shorter than 4 microtile
 * rows (below that, per-block overhead dominates). */
static int64_t block_cap(const cnnk_kernel_config *cfg, int64_t k) {
    const cnnk_gemm_blocking *bl = &cfg->gemm;
    int64_t fit = cfg->col_block_bytes / (cnnk_max64(k, 1) * (int64_t)sizeof(float)) / bl->mr * bl->mr;
    return cnnk_max64(4 * bl->mr, cnnk_min64(bl->mc, fit));
}

/* A column block, or src itself, as the unpacked GEMM's A: one pitched
 * matrix, K summed in the packed GEMM's KC blocks, so that im2col_sup's
 * rounding is the packed im2col's (docs/TOLERANCE.md), as for Winograd. */
static cnnk_sup_a col_rows(const cnnk_isa_kernels *isa, const float *a, int64_t m, int64_t ld) {
    return (cnnk_sup_a){.a = a, .seg = m, .seg_h = 1, .ld_row = ld,
                        .kc_max = isa->config()->gemm.kc};
}

/* Floats of GEMM workspace for an m x n x k multiply with A's pitch lda
 * on nthreads threads, on whichever GEMM L multiplies with. */
static size_t gemm_floats(const cnnk_isa_kernels *isa, bool sup, int64_t m, int64_t n, int64_t k,
                          int64_t lda, int nthreads) {
    if (!sup) return cnnk_gemm_workspace_size(isa, m, n, k, nthreads);
    const cnnk_sup_a A = col_rows(isa, NULL, m, lda);
    return cnnk_gemm_sup_workspace_size(isa, m, n, k, &A, nthreads);
}

static void lowered_gemm(const cnnk_isa_kernels *isa, bool sup, int64_t m, int64_t n, int64_t k,
                         const float *a, int64_t lda, const float *pb, float *c, int64_t ldc,
                         const cnnk_gemm_epilogue *ep, float *ws, int nthreads) {
    if (sup) {
        const cnnk_sup_a A = col_rows(isa, a, m, lda);
        cnnk_gemm_sup(isa, m, n, k, &A, pb, c, ldc, ep, ws, nthreads);
        return;
    }
    cnnk_gemm(isa, m, n, k, a, lda, pb, c, ldc, ep, ws, nthreads);
}

/* Non-overlapping patches as wide as the image (kernel = stride = iw, no
 * padding: the R-CNN heads' fc6 over regions stacked along h, one output
 * column): each output pixel's window is kh whole rows of src, K
 * contiguous floats when src is dense, so the unpacked GEMM reads them in
 * place, all M rows in one call, and the weights stream once instead of
 * once per column block (whose cap at K = 25088 is 4 microtile rows). */
static bool whole_row_patches(const cnnk_conv_desc *d) {
    return d->g == 1 && d->kw == d->iw && d->sw == d->kw && d->sh == d->kh && d->dh == 1 &&
           d->dw == 1 && !(d->pt | d->pl | d->pb | d->pr);
}

static cnnk_sup_a patch_rows(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                             const float *src, int64_t k) {
    cnnk_sup_a A = col_rows(isa, src, d->mb * d->oh, k);
    A.seg = d->oh;
    A.ld_img = d->ih * d->iw * d->ic;
    return A;
}

/* Pixel blocks are the parallel work items, as many per thread; below 8
 * microtile rows per thread the blocks would be too short to run at speed,
 * so the pixels stay in one block and the GEMM splits N instead. */
static lowering make_lowering(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                               int nthreads, bool sup) {
    const int64_t mr = isa->gemm->mr;
    lowering L = {.icg = d->ic / d->g, .ocg = d->oc / d->g, .sup = sup};
    L.k = d->kh * d->kw * L.icg;
    L.m = d->mb * d->oh * d->ow;
    L.identity = is_identity(d);
    L.cap = block_cap(isa->config(), L.k);
    /* im2col_sup reads the column block where it lies, a tile at a time,
     * so the block need not wait in L2 for a packing; the weights stream
     * once per block. A lowered matrix that fits in L2 (twice the column
     * budget) whole is one block: ResNet-50's layer4.0.conv2, 49 x 4608,
     * streams its 9.4 MB of weights once instead of three times (0.90x in
     * the network). Larger ones keep the budget: layer3.0.conv2 (196 x
     * 2304) in two blocks instead of four measured 1.06x (GEMM_SUP.md,
     * "Lines ahead"). */
    if (sup && L.m * L.k * (int64_t)sizeof(float) <= 2 * isa->config()->col_block_bytes)
        L.cap = cnnk_max64(L.cap, cnnk_round_up(L.m, mr));
    L.slice = cnnk_align16((size_t)(L.cap * L.k)) +
              cnnk_align16(gemm_floats(isa, sup, L.cap, L.ocg, L.k, L.k, 1));
    L.split_n = nthreads > 1 && L.m < (int64_t)nthreads * 8 * mr;
    if (L.split_n) {
        L.rows = L.m;
        L.blocks = 1;
        return L;
    }
    L.blocks = cnnk_round_up(cnnk_ceil_div(L.m, L.cap), nthreads);
    L.rows = cnnk_round_up(cnnk_ceil_div(L.m, L.blocks), mr);
    L.blocks = cnnk_ceil_div(L.m, L.rows);
    return L;
}

/* src's pitch is not in the descriptor: where A is src itself the
 * unpacked GEMM's workspace is sized for the worst pitch, a multiple of
 * 1024 (gemm_sup.c), as for 1x1_sup. */
size_t cnnk_lowered_workspace_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                                  int nthreads, bool sup) {
    if (nthreads < 1) nthreads = 1;
    lowering L = make_lowering(isa, d, nthreads, sup);
    if (L.identity) return gemm_floats(isa, sup, L.m, L.ocg, L.k, 1024, nthreads);
    size_t in_place = 0; /* src dense or not is known only at run time */
    if (sup && whole_row_patches(d)) {
        const cnnk_sup_a A = patch_rows(isa, d, NULL, L.k);
        in_place = cnnk_gemm_sup_workspace_size(isa, L.m, L.ocg, L.k, &A, nthreads);
    }
    size_t blocked = L.slice * (size_t)nthreads;
    size_t whole = 0; /* the split_n layout, needed by any thread count that picks it */
    for (int t = 2; t <= nthreads; ++t) {
        lowering S = make_lowering(isa, d, t, sup);
        if (!S.split_n) continue;
        size_t need = cnnk_align16((size_t)(S.m * S.k)) +
                      gemm_floats(isa, sup, S.m, S.ocg, S.k, S.k, t);
        whole = need > whole ? need : whole;
    }
    if (in_place > whole) whole = in_place;
    return blocked > whole ? blocked : whole;
}

/* ---- lowering one block ------------------------------------------------- */

/* One column row: the kh*kw*icg inputs under output pixel p, zeros where
 * the window hangs over the padding. When a kernel row's taps are adjacent
 * pixels of a dense tensor (dilation 1, one group, src_ld == ic) the
 * in-bounds taps are one contiguous run, copied at once. */
static void lower_row(const cnnk_conv_desc *d, const float *src, int64_t src_ld, int64_t c0,
                      int64_t icg, int64_t p, float *out) {
    const int64_t img = d->oh * d->ow, n = p / img, oy = p % img / d->ow, ox = p % d->ow;
    const float *base = src + n * d->ih * d->iw * src_ld + c0;
    const int64_t x0 = ox * d->sw - d->pl;
    const bool runs = d->dw == 1 && src_ld == icg;
    for (int64_t ky = 0; ky < d->kh; ++ky, out += d->kw * icg) {
        const int64_t y = oy * d->sh - d->pt + ky * d->dh;
        if (y < 0 || y >= d->ih) {
            memset(out, 0, (size_t)(d->kw * icg) * sizeof *out);
            continue;
        }
        const float *line = base + y * d->iw * src_ld;
        if (runs) {
            int64_t a = cnnk_min64(d->kw, cnnk_max64(0, -x0)), b = cnnk_max64(a, cnnk_min64(d->kw, d->iw - x0));
            memset(out, 0, (size_t)(a * icg) * sizeof *out);
            memcpy(out + a * icg, line + (x0 + a) * src_ld, (size_t)((b - a) * icg) * sizeof *out);
            memset(out + b * icg, 0, (size_t)((d->kw - b) * icg) * sizeof *out);
            continue;
        }
        for (int64_t kx = 0; kx < d->kw; ++kx) {
            const int64_t x = x0 + kx * d->dw;
            float *o = out + kx * icg;
            if (x < 0 || x >= d->iw)
                memset(o, 0, (size_t)icg * sizeof *o);
            else
                memcpy(o, line + x * src_ld, (size_t)icg * sizeof *o);
        }
    }
}

/* A residual in dst (residual_in_dst) is the GEMM's accumulate: C's old
 * values are loaded by the first K block's tile, added to, and stored. */
static cnnk_gemm_epilogue group_epilogue(const cnnk_conv_args *a, int64_t p0, int64_t c0) {
    const bool in_dst =
        a->ep.residual && a->ep.residual == a->dst && a->ep.residual_ld == a->dst_ld;
    cnnk_gemm_epilogue ep = {
        .bias = a->ep.bias ? a->ep.bias + c0 : NULL,
        .residual = a->ep.residual && !in_dst ? a->ep.residual + p0 * a->ep.residual_ld + c0 : NULL,
        .residual_ld = a->ep.residual_ld,
        .relu = a->ep.relu,
        .relu_alpha = a->ep.relu_alpha,
        .accumulate = in_dst,
    };
    return ep;
}

/* Lowers pixels [p0, p0 + m) of group grp into col, then multiplies. */
static void run_block(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, const cnnk_conv_args *a, const lowering *L,
                      int64_t grp, int64_t p0, int64_t m, float *col, float *gemm_ws,
                      int gemm_threads) {
    const int64_t c0 = grp * L->icg, o0 = grp * L->ocg;
    for (int64_t i = 0; i < m; ++i)
        lower_row(d, a->src, a->src_ld, c0, L->icg, p0 + i, col + i * L->k);
    const float *pb = a->packed + (size_t)grp * cnnk_gemm_packed_b_size(isa->gemm->nr, L->k, L->ocg);
    cnnk_gemm_epilogue ep = group_epilogue(a, p0, o0);
    lowered_gemm(isa, L->sup, m, L->ocg, L->k, col, L->k, pb, a->dst + p0 * a->dst_ld + o0,
                 a->dst_ld, &ep, gemm_ws, gemm_threads);
}

/* Items are numbered group-major so a thread's consecutive blocks share
 * the group's packed B, which then stays in cache. */
typedef struct lowered_job {
    const cnnk_isa_kernels *isa;
    const cnnk_conv_desc *d;
    const cnnk_conv_args *a;
    const lowering *L;
} lowered_job;

static void run_items(void *job, int t, int nthreads) {
    const lowered_job *j = job;
    const cnnk_isa_kernels *isa = j->isa;
    const cnnk_conv_desc *d = j->d;
    const cnnk_conv_args *a = j->a;
    const lowering *L = j->L;
    float *col = a->workspace + (size_t)t * L->slice;
    float *gemm_ws = col + cnnk_align16((size_t)(L->cap * L->k));
    int64_t items = L->blocks * d->g;
    for (int64_t it = items * t / nthreads; it < items * (t + 1) / nthreads; ++it) {
        int64_t grp = it / L->blocks, p0 = it % L->blocks * L->rows;
        run_block(isa, d, a, L, grp, p0, cnnk_min64(L->rows, L->m - p0), col, gemm_ws, 1);
    }
}

static void run_identity(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, const cnnk_conv_args *a, const lowering *L) {
    for (int64_t grp = 0; grp < d->g; ++grp) {
        const float *pb = a->packed + (size_t)grp * cnnk_gemm_packed_b_size(isa->gemm->nr, L->k, L->ocg);
        cnnk_gemm_epilogue ep = group_epilogue(a, 0, grp * L->ocg);
        lowered_gemm(isa, L->sup, L->m, L->ocg, L->k, a->src + grp * L->icg, a->src_ld, pb,
                     a->dst + grp * L->ocg, a->dst_ld, &ep, a->workspace, a->nthreads);
    }
}

void cnnk_lowered_run(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                       const cnnk_conv_args *a, bool sup) {
    const int nthreads = a->nthreads < 1 ? 1 : a->nthreads;
    const lowering L = make_lowering(isa, d, nthreads, sup);
    if (L.identity) {
        run_identity(isa, d, a, &L);
        return;
    }
    if (sup && whole_row_patches(d) && a->src_ld == d->ic) {
        const cnnk_sup_a A = patch_rows(isa, d, a->src, L.k);
        const cnnk_gemm_epilogue ep = group_epilogue(a, 0, 0);
        cnnk_gemm_sup(isa, L.m, L.ocg, L.k, &A, a->packed, a->dst, a->dst_ld, &ep, a->workspace,
                      nthreads);
        return;
    }
    if (L.split_n) {
        float *gemm_ws = a->workspace + cnnk_align16((size_t)(L.m * L.k));
        for (int64_t grp = 0; grp < d->g; ++grp)
            run_block(isa, d, a, &L, grp, 0, L.m, a->workspace, gemm_ws, nthreads);
        return;
    }
    lowered_job job = {.isa = isa, .d = d, .a = a, .L = &L};
    cnnk_parallel(nthreads, run_items, &job);
}

/* ---- im2col and 1x1 entries -------------------------------------------- */

static int64_t group_k(const cnnk_conv_desc *d) { return d->kh * d->kw * (d->ic / d->g); }

bool cnnk_im2col_applies(const cnnk_conv_desc *d) { return !d->transposed; }

/* Per group a packed K x ocg B, then one panel of reordering scratch. */
size_t cnnk_im2col_packed_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d) {
    int64_t k = group_k(d);
    return (size_t)d->g * cnnk_gemm_packed_b_size(isa->gemm->nr, k, d->oc / d->g) +
           cnnk_pack_b_oihw_scratch(isa, k);
}

void cnnk_im2col_pack(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, const float *w_oihw, float *packed) {
    const int64_t k = group_k(d), ocg = d->oc / d->g, icg = d->ic / d->g;
    const size_t per_group = cnnk_gemm_packed_b_size(isa->gemm->nr, k, ocg);
    float *scratch = packed + (size_t)d->g * per_group;
    for (int64_t grp = 0; grp < d->g; ++grp)
        cnnk_pack_b_oihw(isa, ocg, icg, d->kh, d->kw, w_oihw + grp * ocg * k,
                               packed + (size_t)grp * per_group, scratch);
}

bool cnnk_1x1_applies(const cnnk_conv_desc *d) {
    return !d->transposed && d->g == 1 && d->kh == 1 && d->kw == 1 && d->dh == 1 &&
           d->dw == 1 && d->pt == 0 && d->pl == 0 && d->pb == 0 && d->pr == 0;
}

size_t cnnk_1x1_packed_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d) {
    return cnnk_gemm_packed_b_size(isa->gemm->nr, d->ic, d->oc);
}

/* OIHW 1x1 weights are oc x ic: the GEMM's B transposed, packed as is. */
void cnnk_1x1_pack(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, const float *w_oihw,
                   float *packed) {
    cnnk_gemm_pack_b(isa->gemm->nr, d->ic, d->oc, w_oihw, d->ic, true, packed);
}

/* The rows of A are the output pixels' source pixels: at stride 1 all of
 * src as one pitched matrix (ih = oh, iw = ow), at larger strides one
 * segment per output row, sw pixels apart, read in place. */
static cnnk_sup_a sup_rows(const cnnk_conv_desc *d, const float *src, int64_t ld) {
    cnnk_sup_a A = {.a = src, .seg = d->mb * d->oh * d->ow, .seg_h = 1, .ld_row = d->sw * ld};
    if (d->sh != 1 || d->sw != 1) {
        A.seg = d->ow;
        A.seg_h = d->oh;
        A.ld_seg = d->sh * d->iw * ld;
        A.ld_img = d->ih * d->iw * ld;
    }
    return A;
}

/* The workspace depends on src's pitch, which the descriptor does not
 * give: sized for the worst pitch, a multiple of 1024 (gemm_sup.c). */
size_t cnnk_1x1_sup_workspace_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                                   int nthreads) {
    const cnnk_sup_a A = sup_rows(d, NULL, 1024);
    return cnnk_gemm_sup_workspace_size(isa, d->mb * d->oh * d->ow, d->oc, d->ic, &A, nthreads);
}

void cnnk_1x1_sup_run(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d,
                      const cnnk_conv_args *a) {
    const cnnk_sup_a A = sup_rows(d, a->src, a->src_ld);
    const cnnk_gemm_epilogue ep = group_epilogue(a, 0, 0);
    cnnk_gemm_sup(isa, d->mb * d->oh * d->ow, d->oc, d->ic, &A, a->packed, a->dst, a->dst_ld,
                  &ep, a->workspace, a->nthreads);
}
