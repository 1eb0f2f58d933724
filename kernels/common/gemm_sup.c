/* The unpacked GEMM's loops (gemm_sup.h): K blocks, N blocks, M tiles, N
 * panels, around the ISA's in-place microkernel. See docs/GEMM_SUP.md for
 * the measurements behind the order and the block sizes. */
#include "kernels/common/gemm_sup.h"

#include <string.h>

#include "kernels/common/team.h"
#include "kernels/common/util.h"

typedef struct sup_plan {
    int64_t kc;             /* K block: the A tile MR x KC fits its L1 budget */
    int64_t np;             /* calls per N block: KC x NC of B in its L2 budget */
    int64_t tps, tiles;     /* M tiles per segment and in all */
    int64_t unit;           /* columns per microkernel call: its panels x NR */
    int64_t panels;         /* calls across N (units of `unit` columns) */
    int64_t tg, pg;         /* parts: tg groups of tiles x pg groups of panels */
    bool stage_a;           /* each A tile is copied first (stage_rows) */
    bool b_in_l1;           /* loop order: B's call-wide micro-panel in L1 across M tiles */
    int64_t mt;             /* M tiles per M block (b_in_l1): its A rows in L2 */
    int threads;
} sup_plan;

/* Rows whose pitch is a multiple of 4 KiB (1024 floats: the K = 1024 and
 * 2048 layers, and every stride-2 layer over 512 channels or more) all
 * fall into the same L1 set, and the 14 rows of a tile overflow its 12
 * ways: the tile would be fetched from L2 again for every panel. Such a
 * tile is first copied, MR x KC, into a per-thread buffer with a pitch of
 * KC + 16, which lies in L1 without conflict (docs/GEMM_SUP.md: 50% of
 * peak without, 80% with). */
static bool aliases(int64_t ld_row) { return ld_row > 0 && ld_row % 1024 == 0; }

/* A staged tile may gather its rows from two segments, so short output
 * rows (7 pixels: ResNet-50's layer4 downsample) fill whole tiles; worth
 * its copy once a tile meets at least 8 panels. */
static bool short_rows(int64_t M, int64_t seg, int64_t mr) {
    return seg < M && seg % mr != 0 && seg < 2 * mr;
}
static bool stage_rows(int64_t M, int64_t seg, int64_t ld_row, int64_t mr, int64_t panels) {
    return aliases(ld_row) || (short_rows(M, seg, mr) && panels >= 8);
}

enum { SUP_FEW_TILES = 8 };

/* The largest part of a tg x pg cut: its work (rows x columns) and the
 * bytes it reads per k (its rows of A plus its columns of B, in floats). */
static void part_size(const sup_plan *p, int64_t M, int64_t N, int64_t tg, int64_t pg,
                      int64_t *work, int64_t *bytes) {
    const int64_t rows = cnnk_ceil_div(p->tiles, tg) * cnnk_ceil_div(M, p->tiles);
    const int64_t cols = cnnk_ceil_div(p->panels, pg) * p->unit;
    *work = rows * cols;
    *bytes = cnnk_min64(M, rows) + cnnk_min64(N, cols);
}

/* Threads take M tiles alone while each gets at least 4 (B is then shared
 * through L3). Fewer tiles (ResNet-50's 14x14 layers have 14, its 7x7 ones
 * 4 to 7) would leave threads idle or unbalanced at 8 and more threads:
 * the tiles x panels rectangle is then cut into tg x pg parts, at most one
 * per thread, the cut with the smallest largest part (ties: fewer parts,
 * then more tile groups).
 *
 * Where that leaves a thread fewer than SUP_FEW_TILES tiles to share
 * each panel of B it streams, and all of A fits the L2 budget (a thread
 * that meets every row rereads them from L2 once per N block), a cut that
 * gives each thread no more work than that largest part, on all the
 * threads, but fewer bytes to read (part_size), is taken instead: at
 * M = 49 (9 tiles) and 2 threads the tile split has each thread stream
 * all of B (4 MiB on ResNet-50's 2048 -> 512) for 4 or
 * 5 tiles, the panel split half of it for 9 (docs/GEMM_SUP.md, "Threads
 * by bytes"; with 17 tiles a thread, 256 -> 1024 at 14x14, the panel
 * split measured slower). */
static void split(sup_plan *p, int nthreads, int64_t M, int64_t N, bool a_in_l2) {
    p->tg = p->tiles, p->pg = 1;
    if (p->tiles >= 4 * (int64_t)nthreads) {
        p->tg = nthreads;
    } else {
        int64_t best = -1;
        for (int64_t tg = 1; tg <= cnnk_min64(p->tiles, nthreads); ++tg) {
            const int64_t pg = cnnk_max64(1, cnnk_min64(p->panels, nthreads / tg));
            const int64_t cost = cnnk_ceil_div(p->tiles, tg) * cnnk_ceil_div(p->panels, pg);
            if (best < 0 || cost < best || (cost == best && tg * pg < p->tg * p->pg) ||
                (cost == best && tg * pg == p->tg * p->pg && tg > p->tg))
                best = cost, p->tg = tg, p->pg = pg;
        }
    }
    if (p->tg < 1) p->tg = 1;
    if (a_in_l2 && cnnk_ceil_div(p->tiles, p->tg) < SUP_FEW_TILES) {
        int64_t work, bytes;
        part_size(p, M, N, p->tg, p->pg, &work, &bytes);
        for (int64_t pg = 2; pg <= cnnk_min64(p->panels, nthreads); ++pg) {
            const int64_t tg = nthreads / pg;
            if (tg * pg != nthreads || tg > p->tiles) continue;
            int64_t w, b;
            part_size(p, M, N, tg, pg, &w, &b);
            if (w <= work && b < bytes) work = w, bytes = b, p->tg = tg, p->pg = pg;
        }
    }
    p->threads = (int)(p->tg * p->pg);
}

/* K is cut into equal blocks no longer than the A budget allows, so C
 * stays in registers across all of K when the A tile fits (K <= 864 for
 * 14 rows in 48 KiB) and is otherwise stored and reloaded once per block.
 * Threads split the M tiles while each gets at least 4 (B then shared
 * through L3), the N panels otherwise. */
static sup_plan make_plan(const cnnk_isa_kernels *isa, int64_t M, int64_t N, int64_t K,
                          const cnnk_sup_a *A, int nthreads) {
    const int64_t seg = A->seg, ld_row = A->ld_row;
    const cnnk_kernel_config *cfg = isa->config();
    const int64_t mr = isa->sup->mr, fsz = (int64_t)sizeof(float);
    const int64_t unit = (int64_t)isa->sup->nr * cnnk_max64(1, isa->sup->panels);
    sup_plan p;
    /* A tile in L1 (B streaming from L2) unless the rows alias in L1 and
     * fill whole tiles where they lie: then B's call-wide micro-panel in
     * L1 (KC of 256: 64 KiB for 6 x 64) and the A rows from L2, no copy. */
    p.b_in_l1 = isa->sup->panels > 1 && aliases(ld_row) && !short_rows(M, seg, mr);
    int64_t kc_max =
        p.b_in_l1 ? cnnk_max64(16, cnnk_round_down(cfg->sup_a_bytes * 4 / 3 / (unit * fsz), 16))
                  : cnnk_max64(16, cnnk_round_down(cfg->sup_a_bytes / (mr * fsz), 16));
    if (A->kc_max > 0) kc_max = cnnk_min64(kc_max, A->kc_max);
    const int64_t kb = cnnk_ceil_div(cnnk_max64(K, 1), kc_max);
    p.kc = cnnk_round_up(cnnk_ceil_div(cnnk_max64(K, 1), kb), 8);
    p.unit = unit;
    p.np = cnnk_max64(1, cfg->sup_b_bytes / (p.kc * unit * fsz));
    p.panels = cnnk_ceil_div(N, unit);
    p.stage_a = !p.b_in_l1 && stage_rows(M, seg, ld_row, mr, p.panels);
    p.mt = cnnk_max64(1, cfg->sup_b_bytes / (mr * p.kc * fsz));
    /* Staged tiles run over all M rows at once, in-place ones per segment. */
    p.tps = cnnk_ceil_div(p.stage_a ? M : seg, mr);
    p.tiles = p.stage_a ? p.tps : M / seg * p.tps;
    split(&p, nthreads, M, N, M * cnnk_max64(K, 1) * fsz <= cfg->sup_b_bytes);
    return p;
}

static size_t stage_floats(const cnnk_sup_ukernel *uk, int64_t kc) {
    return cnnk_align16((size_t)(uk->mr * (kc + 16)));
}

size_t cnnk_gemm_sup_workspace_size(const cnnk_isa_kernels *isa, int64_t M, int64_t N, int64_t K,
                                    const cnnk_sup_a *A, int nthreads) {
    if (M <= 0 || N <= 0 || A->seg <= 0) return 0;
    if (nthreads < 1) nthreads = 1;
    const sup_plan p = make_plan(isa, M, N, K, A, 1);
    if (!p.stage_a) return 0;
    return stage_floats(isa->sup, p.kc) * (size_t)nthreads;
}

/* Row i of A (gemm_sup.h). */
static const float *row_at(const cnnk_sup_a *A, int64_t i) {
    const int64_t s = i / A->seg;
    return A->a + s / A->seg_h * A->ld_img + s % A->seg_h * A->ld_seg + i % A->seg * A->ld_row;
}

typedef struct sup_args {
    const cnnk_sup_ukernel *uk;
    int64_t M, N, K;
    cnnk_sup_a A;
    const float *pb;
    float *C;
    int64_t ldc;
    cnnk_gemm_epilogue ep;
    sup_plan plan;
} sup_args;

/* ---- lines ahead ----------------------------------------------------------
 * A block of B (KC rows of an N block's panels) is read from memory by the
 * first M tile that meets it and from L2 by the rest. Meanwhile the block
 * the loops multiply next (the next N block; after the last, the next K
 * block's first; after the last of those, the first block of the caller's
 * next_b) is prefetched: its lines are shared out over the calls of every
 * tile but the first (over the one tile's calls when there is only one),
 * each call's share spread over its k loop by the microkernel
 * (cnnk_sup_ahead_step). On Zen 5, ResNet-50's layer4 Winograd multiplies
 * took 1.6x their warm time in the network without it; the same lines
 * prefetched in one burst between calls gained half as much
 * (docs/GEMM_SUP.md, "Lines ahead"). The B-in-L1 order (run_range_b) has
 * none. */
typedef struct sup_ahead {
    const float *b;        /* the block's first NR-panel chunk */
    int64_t stride;        /* floats from one panel's chunk to the next */
    int64_t chunks, lines; /* NR-panel chunks, 64-byte lines per chunk */
    int64_t c, l;          /* the next line: chunk c, line l */
    int64_t per_call;
} sup_ahead;

/* Panels [qb, qe) of packed B pb, K rows [pc, pc + kc). */
static sup_ahead ahead_block(const sup_args *g, const float *pb, int64_t pc, int64_t kc,
                             int64_t qb, int64_t qe) {
    const int64_t nr = g->uk->nr, unit = g->plan.unit;
    sup_ahead h = {.b = pb + qb * unit * g->K + pc * nr, .stride = nr * g->K};
    if (kc > 0 && qe > qb) {
        h.chunks = cnnk_ceil_div(cnnk_min64(g->N, qe * unit) - qb * unit, nr);
        h.lines = cnnk_ceil_div(kc * nr * (int64_t)sizeof(float), 64);
    }
    return h;
}

/* The block after K rows [pc, pc + kc) x panels up to qe, in run_range's
 * order over panels [q0, q1), shared over `calls` calls. */
static sup_ahead next_block(const sup_args *g, int64_t pc, int64_t kc, int64_t qe, int64_t q0,
                            int64_t q1, int64_t calls) {
    const sup_plan *p = &g->plan;
    const int64_t first_qe = cnnk_min64(q1, q0 + p->np);
    sup_ahead h = {.chunks = 0};
    if (qe < q1)
        h = ahead_block(g, g->pb, pc, kc, qe, cnnk_min64(q1, qe + p->np));
    else if (pc + kc < g->K)
        h = ahead_block(g, g->pb, pc + kc, cnnk_min64(g->K - pc - kc, p->kc), q0, first_qe);
    else if (g->A.next_b)
        h = ahead_block(g, g->A.next_b, 0, cnnk_min64(g->K, p->kc), q0, first_qe);
    h.per_call = cnnk_ceil_div(h.chunks * h.lines, cnnk_max64(1, calls));
    return h;
}

/* One call's share of the block's lines, handed to its tile. */
static void ahead_share(sup_ahead *h, int64_t kc, cnnk_gemm_tile *t) {
    t->ahead_lines = 0;
    if (h->c >= h->chunks) return;
    const int64_t n = cnnk_min64(h->per_call, (h->chunks - h->c) * h->lines - h->l);
    t->ahead = (const char *)(h->b + h->c * h->stride) + h->l * 64;
    t->ahead_stride = h->stride * (int64_t)sizeof(float);
    t->ahead_lines = (int)n;
    t->ahead_per_k4 = (int)cnnk_ceil_div(n, cnnk_max64(1, kc / 4));
    t->ahead_run = (int)h->lines;
    t->ahead_at = (int)h->l;
    h->l += n;
    h->c += h->l / h->lines;
    h->l %= h->lines;
}

/* Tiles [t0, t1) x panels [q0, q1): for each K block and N block, every
 * tile's A (in L1 after its first panel) against every panel of the block
 * (in L2 after the first tile). The first K block writes (or accumulates
 * into) C, later ones add to it, the last applies bias, residual, ReLU. */
static void run_range(const sup_args *g, int64_t t0, int64_t t1, int64_t q0, int64_t q1,
                      float *stage) {
    const sup_plan *p = &g->plan;
    const cnnk_sup_a *A = &g->A;
    const int64_t nr = g->uk->nr, ldb = nr * g->K;
    for (int64_t pc = 0; pc < g->K || pc == 0; pc += p->kc) {
        const int64_t kc = cnnk_min64(g->K - pc, p->kc);
        const bool last = pc + kc >= g->K;
        for (int64_t qb = q0; qb < q1; qb += p->np) {
            const int64_t qe = cnnk_min64(q1, qb + p->np);
            sup_ahead ahead =
                next_block(g, pc, kc, qe, q0, q1, cnnk_max64(1, t1 - t0 - 1) * (qe - qb));
            for (int64_t ti = t0; ti < t1; ++ti) {
                /* A run of L rows is cut into tps tiles of equal height
                 * (49 = 13 + 12 + 12 + 12, not 14 + 14 + 14 + 7: a short
                 * tile runs below the full one's rate). */
                const int64_t s = ti / p->tps, k = ti % p->tps;
                const int64_t run = p->stage_a ? g->M : A->seg, h = run / p->tps, x = run % p->tps;
                const int64_t j0 = k * h + cnnk_min64(k, x), m = h + (k < x);
                const int64_t i = s * A->seg + j0;
                int64_t lda = p->kc + 16;
                const float *a = stage;
                if (p->stage_a) {
                    for (int64_t r = 0; r < m; ++r)
                        memcpy(stage + r * lda, row_at(A, i + r) + pc, (size_t)kc * sizeof *a);
                } else {
                    a = row_at(A, i) + pc;
                    lda = A->ld_row;
                }
                cnnk_gemm_tile t = {
                    .m = (int)m,
                    .load_c = pc > 0 || g->ep.accumulate,
                    .res_ld = g->ep.residual_ld,
                    .relu = last && g->ep.relu,
                    .relu_alpha = g->ep.relu_alpha,
                };
                for (int64_t q = qb; q < qe; ++q) {
                    const int64_t j = q * p->unit;
                    t.n = (int)cnnk_min64(g->N - j, p->unit);
                    t.bias = last && g->ep.bias ? g->ep.bias + j : NULL;
                    t.res = last && g->ep.residual ? g->ep.residual + i * g->ep.residual_ld + j
                                                   : NULL;
                    if (ti > t0 || t1 - t0 == 1) ahead_share(&ahead, kc, &t);
                    g->uk->run(kc, a, lda, g->pb + j * g->K + pc * nr, ldb,
                               g->C + i * g->ldc + j, g->ldc, &t);
                }
            }
        }
        if (kc <= 0) break;
    }
}

/* Tiles [t0, t1) x calls [q0, q1), B in L1: for each K block and block
 * of mt tiles (their A rows in L2), every call's KC x (panels x NR) B
 * micro-panel (in L1) against every tile of the block. */
static void run_range_b(const sup_args *g, int64_t t0, int64_t t1, int64_t q0, int64_t q1) {
    const sup_plan *p = &g->plan;
    const cnnk_sup_a *A = &g->A;
    const int64_t nr = g->uk->nr, ldb = nr * g->K;
    for (int64_t pc = 0; pc < g->K || pc == 0; pc += p->kc) {
        const int64_t kc = cnnk_min64(g->K - pc, p->kc);
        const bool last = pc + kc >= g->K;
        for (int64_t tb = t0; tb < t1; tb += p->mt) {
            const int64_t te = cnnk_min64(t1, tb + p->mt);
            for (int64_t q = q0; q < q1; ++q) {
                const int64_t j = q * p->unit;
                const float *b = g->pb + j * g->K + pc * nr;
                cnnk_gemm_tile t = {
                    .n = (int)cnnk_min64(g->N - j, p->unit),
                    .load_c = pc > 0 || g->ep.accumulate,
                    .res_ld = g->ep.residual_ld,
                    .relu = last && g->ep.relu,
                    .relu_alpha = g->ep.relu_alpha,
                    .bias = last && g->ep.bias ? g->ep.bias + j : NULL,
                };
                for (int64_t ti = tb; ti < te; ++ti) {
                    const int64_t s = ti / p->tps, k = ti % p->tps;
                    const int64_t h = A->seg / p->tps, x = A->seg % p->tps;
                    const int64_t j0 = k * h + cnnk_min64(k, x);
                    const int64_t i = s * A->seg + j0;
                    t.m = (int)(h + (k < x));
                    t.res = last && g->ep.residual ? g->ep.residual + i * g->ep.residual_ld + j
                                                   : NULL;
                    g->uk->run(kc, row_at(A, i) + pc, A->ld_row, b, ldb, g->C + i * g->ldc + j,
                               g->ldc, &t);
                }
            }
        }
        if (kc <= 0) break;
    }
}

typedef struct sup_job {
    const sup_args *g;
    float *ws;
} sup_job;

static void run_thread(void *job, int t, int n) {
    const sup_args *g = ((const sup_job *)job)->g;
    float *ws = ((const sup_job *)job)->ws;
    const sup_plan *p = &g->plan;
    float *stage = p->stage_a ? ws + (size_t)t * stage_floats(g->uk, p->kc) : NULL;
    (void)n; /* n == p->tg * p->pg */
    int64_t t0, t1, q0, q1;
    cnnk_part_range(p->tiles, (int)(t / p->pg), (int)p->tg, &t0, &t1);
    cnnk_part_range(p->panels, (int)(t % p->pg), (int)p->pg, &q0, &q1);
    if (p->b_in_l1)
        run_range_b(g, t0, t1, q0, q1);
    else
        run_range(g, t0, t1, q0, q1, stage);
}

void cnnk_gemm_sup(const cnnk_isa_kernels *isa, int64_t M, int64_t N, int64_t K,
                   const cnnk_sup_a *A, const float *packed_b, float *C, int64_t ldc,
                   const cnnk_gemm_epilogue *ep, float *workspace, int nthreads) {
    if (M <= 0 || N <= 0 || A->seg <= 0) return;
    if (nthreads < 1) nthreads = 1;
    sup_args g = {
        .uk = isa->sup, .M = M, .N = N, .K = K < 0 ? 0 : K, .A = *A, .pb = packed_b, .C = C,
        .ldc = ldc, .plan = make_plan(isa, M, N, K, A, nthreads),
    };
    if (ep) g.ep = *ep;
    sup_job job = {.g = &g, .ws = workspace};
    cnnk_parallel(g.plan.threads, run_thread, &job);
}
