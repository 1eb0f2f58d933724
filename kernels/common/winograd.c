/* The Winograd pipeline shared by every ISA; see winograd.h for the
 * algorithm and docs/KERNELS_AVX2_WINOGRAD.md for the figures. */
#include "kernels/common/winograd.h"

#include "kernels/common/gemm.h"
#include "kernels/common/gemm_sup.h"
#include "kernels/common/team.h"
#include "kernels/common/util.h"
#include "kernels/ref/ref.h"

/* ---- geometry: tiles, blocks, workspace slices ------------------------- */

typedef struct wino_geom {
    int m, alpha, npos;      /* npos = alpha^2 transform positions */
    int64_t icv, ocv;        /* row pitches of V and M (channels rounded to the vector) */
    int64_t tw, nt, total;   /* tiles per output row, per image, in the batch */
    int64_t T, units;        /* the most tiles per block; MR-row units of all tiles */
    size_t v_floats, m_floats, slice; /* per thread */
    int threads;             /* threads that get a block */
    /* Wide mode (few tiles for many threads): the whole layer is one block
     * run in three phases, each split across all threads: input transform
     * by tiles, the alpha^2 GEMMs by position x output-channel chunk,
     * output transform by tiles. V and M are shared; slice is then each
     * thread's GEMM workspace, after them. */
    bool wide;
    int64_t chunk, nchunks;  /* output channels per GEMM item (NR multiple) */
    bool sup;                /* the multiplies read V in place (gemm_sup.h) */
} wino_geom;

/* Tiles per block. The block's V (alpha^2 x T x ic) and M (alpha^2 x T x oc)
 * should stay in L2 (half of it, leaving the rest to the GEMM's packed A and
 * the B panels streaming through): the input transform writes V, the GEMMs
 * read it and write M, the output transform reads M, all while hot. But each
 * block streams every U_p (alpha^2 x ic x oc, from L3 or memory) through the
 * GEMM once, so the multiply reads 2T FLOPs per U float: below about
 * MIN_TILES the multiply becomes bound by that stream rather than by the
 * FMAs, and we then prefer L3-resident V and M to a starved GEMM. The upper
 * bound is the GEMM's MC, so one block is one packed A block. */
enum { MIN_TILES = 48, MAX_ALPHA = 8 };

/* Wide mode or the block split, by what each costs beyond the FMAs. The
 * block split has every thread stream all of U (alpha^2 x ic x oc) for
 * its own tiles, whose V and M stay private; wide mode has each thread
 * stream its share of U, but its three phases read V and M that other
 * cores wrote. Wide mode is taken when the block split would leave
 * threads idle (fewer MR-row units than threads), or when U streamed by
 * every thread outweighs V and M crossing cores, a cache line crossing
 * counted SHARE_COST times a streamed one:
 * ic x oc x threads > SHARE_COST x tiles x (icv + ocv). Measured at 2
 * threads on the Zen 5 guest (docs/THREADS.md "Winograd: wide or split"):
 * DenseNet's 128 -> 32 at 14x14, F(2x2), ran 0.067 ms wide and 0.032
 * split (0.050 at one thread); ResNet-50's 512 -> 512 at 7x7 0.72 ms wide
 * and 1.06 split. SHARE_COST is low because inside a network U comes from
 * memory: at 8, fitted on warm single-layer runs, GoogLeNet's 28x28
 * F(4x4) layers ran 16-20% slower in the network split than wide. GEMM
 * items are made ITEMS_PER_THREAD per thread where the channels allow. */
enum { ITEMS_PER_THREAD = 4, SHARE_COST = 2 };

static int64_t cache_tiles(const cnnk_kernel_config *cfg, int alpha, int64_t icv, int64_t ocv) {
    const cnnk_gemm_blocking *bl = &cfg->gemm;
    int64_t per_tile = (int64_t)alpha * alpha * (icv + ocv) * (int64_t)sizeof(float);
    int64_t t = cfg->wino_block_bytes / per_tile / bl->mr * bl->mr;
    if (t < MIN_TILES) t = MIN_TILES;
    if (t > bl->mc) t = bl->mc;
    return t;
}

/* The alpha^2 multiplies run on the unpacked GEMM (gemm_sup.h: V's rows
 * read where the input transform wrote them, no packed copy, tiles of
 * equal height) wherever the ISA has one and K = ic >= WINO_SUP_MIN_K.
 * Against the packed GEMM on every 3x3 layer of ResNet-50, VGG-16,
 * GoogLeNet and DenseNet-121 (Zen 5, one thread; docs/GEMM_SUP.md
 * "Winograd's multiplies unpacked") it took 0.63-0.99x the time on AVX2
 * and 0.41-1.0x on AVX-512, the most where a block has few tiles (7x7
 * maps: 4 or 16 tiles, which the packed 14-row tile covers badly); VGG's
 * maps of 56x56 and up stayed within +-5% on AVX-512. Where K = 16
 * (GoogLeNet's 16 -> 32 and 16 -> 48) it lost, 1.00-1.13x, and at K = 3
 * 1.05-1.19x: a tile then runs 3 to 16 FMA steps per store of its C.
 * K = 24 measured 0.77-0.95x. */
enum { WINO_SUP_MIN_K = 24 };

/* Floats of one thread's GEMM workspace for C (m x n) = V (m x ic) U. */
static size_t gemm_floats(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, const wino_geom *g,
                          int64_t m, int64_t n) {
    if (!g->sup) return cnnk_gemm_workspace_size(isa, m, n, d->ic, 1);
    const cnnk_sup_a A = {.a = NULL, .seg = m, .seg_h = 1, .ld_row = g->icv,
                          .kc_max = isa->config()->gemm.kc};
    return cnnk_gemm_sup_workspace_size(isa, m, n, d->ic, &A, 1);
}

/* Blocks are made a multiple of the thread count (balance), then T is
 * rounded up to the microkernel's MR: work is counted in MR-row tiles by
 * the GEMM anyway, so this costs no balance and avoids ragged GEMM rows. */
static wino_geom make_geom(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, int m,
                           int nthreads) {
    wino_geom g;
    const int mr = isa->gemm->mr;
    if (nthreads < 1) nthreads = 1;
    g.m = m;
    g.alpha = m + 2;
    g.npos = g.alpha * g.alpha;
    g.icv = cnnk_round_up(d->ic, isa->vl);
    g.ocv = cnnk_round_up(d->oc, isa->vl);
    g.tw = cnnk_ceil_div(d->ow, m);
    g.nt = cnnk_ceil_div(d->oh, m) * g.tw;
    g.total = d->mb * g.nt;
    g.units = cnnk_ceil_div(g.total, mr);
    g.sup = isa->sup != NULL && d->ic >= WINO_SUP_MIN_K;
    int64_t t0 = cache_tiles(isa->config(), g.alpha, g.icv, g.ocv);
    const double u_stream = (double)d->ic * (double)d->oc * nthreads;
    const double vm_shared = SHARE_COST * (double)g.total * (double)(g.icv + g.ocv);
    g.wide = nthreads > 1 && (g.units < nthreads || u_stream > vm_shared);
    if (g.wide) {
        const int nr = isa->gemm->nr;
        const int64_t panels = cnnk_ceil_div(d->oc, nr);
        int64_t want = cnnk_ceil_div((int64_t)ITEMS_PER_THREAD * nthreads, g.npos);
        want = cnnk_clamp64(want, 1, panels);
        g.chunk = cnnk_ceil_div(panels, want) * nr;
        g.nchunks = cnnk_ceil_div(d->oc, g.chunk);
        g.T = g.total;
        g.threads = nthreads;
        g.v_floats = cnnk_align16((size_t)(g.npos * g.total * g.icv));
        g.m_floats = cnnk_align16((size_t)(g.npos * g.total * g.ocv));
        g.slice = cnnk_align16(gemm_floats(isa, d, &g, g.total, g.chunk));
        return g;
    }
    g.chunk = g.nchunks = 0;
    /* Threads split the MR-row units of tiles evenly, then cut their own
     * share into equal blocks of at most T tiles (MR multiples: a layer of
     * 25 tiles is one block of T = 28 at one thread, not 14 + 11). Rounding
     * a thread-multiple block count's T up to MR instead could leave fewer
     * blocks than that multiple: 196 tiles in blocks of 42 gave 2 threads
     * 2 and 3 blocks (docs/TUNING.md, "Zen 5 at two threads"). */
    g.threads = g.units < nthreads ? (int)cnnk_max64(g.units, 1) : nthreads;
    const int64_t per = cnnk_ceil_div(g.units, g.threads);
    const int64_t bpt = cnnk_max64(1, cnnk_ceil_div(per * mr, t0));
    g.T = cnnk_max64(1, cnnk_ceil_div(per, bpt)) * mr; /* not clamped to total: T / MR exact */
    g.v_floats = (size_t)(g.npos * g.T * g.icv);
    g.m_floats = (size_t)(g.npos * g.T * g.ocv);
    size_t gemm = gemm_floats(isa, d, &g, g.T, d->oc);
    g.slice = (size_t)cnnk_round_up((int64_t)(g.v_floats + g.m_floats + gemm), 16);
    return g;
}

bool cnnk_wino_applies(const cnnk_conv_desc *d) {
    return !d->transposed && d->g == 1 && d->kh == 3 && d->kw == 3 && d->sh == 1 &&
           d->sw == 1 && d->dh == 1 && d->dw == 1;
}

/* The block size depends on the thread count (fewer threads, larger
 * blocks), so a workspace sized for n threads must cover a run with any
 * t <= n (kernel.h): the largest t-thread need over 1..n. */
size_t cnnk_wino_workspace_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, int m,
                                int nthreads) {
    size_t most = 0;
    for (int t = 1; t <= nthreads; ++t) {
        wino_geom g = make_geom(isa, d, m, t);
        size_t need = g.slice * (size_t)g.threads;
        if (g.wide) need += g.v_floats + g.m_floats;
        if (need > most) most = need;
    }
    return most;
}

/* ---- pack: U = G g G^T, alpha^2 GEMM B operands ------------------------ */

/* The packed buffer holds the alpha^2 packed B operands, then ic x oc
 * floats of scratch where each position's U_p is assembled before packing:
 * pack() has no way to report an allocation failure, so it allocates
 * nothing; the scratch costs 1/alpha^2 of the packed size. */
static size_t slot_floats(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d) {
    return cnnk_gemm_packed_b_size(isa->gemm->nr, d->ic, d->oc);
}

size_t cnnk_wino_packed_size(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, int m) {
    const size_t npos = (size_t)(m + 2) * (size_t)(m + 2);
    return npos * slot_floats(isa, d) + (size_t)(d->ic * d->oc);
}

/* G as a matrix, read off the reference's 1-D kernel transform applied to
 * unit vectors (exact: each output is one product by 1 plus zeros), so the
 * ISA kernels use exactly the reference's coefficients. */
static void kernel_matrix(int m, float gm[MAX_ALPHA][3]) {
    const int alpha = m + 2;
    for (int b = 0; b < 3; ++b) {
        float e[3] = {0.0f, 0.0f, 0.0f}, col[MAX_ALPHA];
        e[b] = 1.0f;
        cnnk_ref_wino_kernel_1d(m, e, 1, col, 1);
        for (int j = 0; j < alpha; ++j) gm[j][b] = col[j];
    }
}

/* U_p(i, j) for one filter, in the reference's order: rows of g first
 * (t[r] = sum_b G[j][b] g[r][b]), then the column (sum_r G[i][r] t[r]). */
static float kernel_at(const float gm[MAX_ALPHA][3], int i, int j, const float *g) {
    float acc = 0.0f;
    for (int r = 0; r < 3; ++r) {
        float t = 0.0f;
        for (int b = 0; b < 3; ++b) t += gm[j][b] * g[r * 3 + b];
        acc += gm[i][r] * t;
    }
    return acc;
}

void cnnk_wino_pack(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, int m,
                    const float *w_oihw, float *packed) {
    const int alpha = m + 2;
    const size_t slot = slot_floats(isa, d);
    float *u = packed + (size_t)(alpha * alpha) * slot;
    float gm[MAX_ALPHA][3];
    kernel_matrix(m, gm);
    for (int p = 0; p < alpha * alpha; ++p) {
        for (int64_t c = 0; c < d->ic; ++c)
            for (int64_t o = 0; o < d->oc; ++o)
                u[c * d->oc + o] = kernel_at(gm, p / alpha, p % alpha, w_oihw + (o * d->ic + c) * 9);
        cnnk_gemm_pack_b(isa->gemm->nr, d->ic, d->oc, u, d->oc, false, packed + (size_t)p * slot);
    }
}

/* ---- the block pipeline ------------------------------------------------- */

typedef struct wino_run_ctx {
    const cnnk_isa_kernels *isa;
    const cnnk_wino_transforms *tf;
    cnnk_wino_tiles tiles;
    wino_geom g;
    size_t slot;
} wino_run_ctx;

/* M (m x n, pitch ocv) = V (m x ic, pitch icv) x one position's packed U
 * (the same panels serve both GEMMs: isa->sup->nr == isa->gemm->nr). The
 * unpacked GEMM sums K in the packed GEMM's KC blocks: in one run over
 * K = 1024 its rounding error doubled (F(2x2) on AVX2: 9.9e-7 against
 * 5.1e-7, the bound 1e-6; docs/TOLERANCE.md). next_u, the position
 * multiplied next (or NULL), is prefetched during this one's last block
 * (gemm_sup.c, "lines ahead"). */
static void wino_gemm(const wino_run_ctx *x, int64_t m, int64_t n, const float *v,
                      const float *u, float *c, float *ws, const float *next_u) {
    const cnnk_conv_desc *d = x->tiles.d;
    if (x->g.sup) {
        const cnnk_sup_a A = {.a = v, .seg = m, .seg_h = 1, .ld_row = x->g.icv,
                              .kc_max = x->isa->config()->gemm.kc, .next_b = next_u};
        cnnk_gemm_sup(x->isa, m, n, d->ic, &A, u, c, x->g.ocv, NULL, ws, 1);
        return;
    }
    cnnk_gemm(x->isa, m, n, d->ic, v, x->g.icv, u, c, x->g.ocv, NULL, ws, 1);
}

/* One block of tiles [t0, t0 + tn), tn <= T: transform in, alpha^2 GEMMs,
 * transform out. */
static void run_block(const wino_run_ctx *x, int64_t t0, int64_t tn, float *ws) {
    const cnnk_conv_desc *d = x->tiles.d;
    const wino_geom *g = &x->g;
    float *v = ws, *mm = ws + g->v_floats, *gws = mm + g->m_floats;
    const int64_t vstride = g->T * g->icv, mstride = g->T * g->ocv;
    x->tf->input(&x->tiles, t0, tn, v, g->icv, vstride);
    for (int p = 0; p < g->npos; ++p)
        wino_gemm(x, tn, d->oc, v + p * vstride, x->tiles.a->packed + p * x->slot,
                  mm + p * mstride, gws,
                  p + 1 < g->npos ? x->tiles.a->packed + (p + 1) * x->slot : NULL);
    x->tf->output(&x->tiles, t0, tn, mm, g->ocv, mstride);
}

static void wino_part(void *p, int t, int nt) {
    const wino_run_ctx *x = p;
    const wino_geom *g = &x->g;
    float *ws = x->tiles.a->workspace + (size_t)t * g->slice;
    /* This thread's MR-row units, cut into equal blocks of at most T tiles
     * (make_geom). */
    const int64_t mr = x->isa->gemm->mr;
    const int64_t ulo = g->units * t / nt, un = g->units * (t + 1) / nt - ulo;
    const int64_t bpt = cnnk_ceil_div(un, g->T / mr);
    for (int64_t b = 0; b < bpt; ++b) {
        const int64_t t0 = (ulo + un * b / bpt) * mr;
        const int64_t t1 = cnnk_min64(g->total, (ulo + un * (b + 1) / bpt) * mr);
        run_block(x, t0, t1 - t0, ws);
    }
}

/* ---- wide mode: three phases over the whole layer ------------------------ */

static void wide_input(void *p, int64_t lo, int64_t hi, int t) {
    (void)t;
    const wino_run_ctx *x = p;
    float *v = x->tiles.a->workspace;
    x->tf->input(&x->tiles, lo, hi - lo, v + lo * x->g.icv, x->g.icv, x->g.total * x->g.icv);
}

/* Items position-major: a thread's consecutive items share V_p. */
static void wide_gemms(void *p, int64_t lo, int64_t hi, int t) {
    const wino_run_ctx *x = p;
    const wino_geom *g = &x->g;
    const cnnk_conv_desc *d = x->tiles.d;
    const float *v = x->tiles.a->workspace;
    float *mm = x->tiles.a->workspace + g->v_floats;
    float *gws = mm + g->m_floats + (size_t)t * g->slice;
    for (int64_t it = lo; it < hi; ++it) {
        const int64_t pos = it / g->nchunks, j0 = it % g->nchunks * g->chunk;
        const int64_t n = cnnk_min64(d->oc - j0, g->chunk);
        wino_gemm(x, g->total, n, v + pos * g->total * g->icv,
                  x->tiles.a->packed + pos * x->slot + j0 * d->ic,
                  mm + pos * g->total * g->ocv + j0, gws, NULL);
    }
}

static void wide_output(void *p, int64_t lo, int64_t hi, int t) {
    (void)t;
    const wino_run_ctx *x = p;
    const float *mm = x->tiles.a->workspace + x->g.v_floats;
    x->tf->output(&x->tiles, lo, hi - lo, mm + lo * x->g.ocv, x->g.ocv, x->g.total * x->g.ocv);
}

static void run_wide(wino_run_ctx *x) {
    const int nt = x->g.threads;
    cnnk_parallel_for(nt, x->g.total, wide_input, x);
    cnnk_parallel_for(nt, x->g.npos * x->g.nchunks, wide_gemms, x);
    cnnk_parallel_for(nt, x->g.total, wide_output, x);
}

void cnnk_wino_run(const cnnk_isa_kernels *isa, const cnnk_conv_desc *d, int m,
                   const cnnk_conv_args *a) {
    wino_run_ctx x = {.isa = isa, .tf = &isa->wino[m / 2 - 1], .g = make_geom(isa, d, m, a->nthreads),
                      .slot = slot_floats(isa, d)};
    x.tiles = (cnnk_wino_tiles){.d = d, .a = a, .tw = x.g.tw, .nt = x.g.nt};
    if (x.g.total == 0) return;
    if (x.g.wide) {
        run_wide(&x);
        return;
    }
    cnnk_parallel(x.g.threads, wino_part, &x);
}
