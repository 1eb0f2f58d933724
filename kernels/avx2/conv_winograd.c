/* "avx2/winograd_f{2,4,6}x{2,4,6}": Winograd F(m x m, 3 x 3), alpha = m + 2,
 * the algorithm of kernels/ref/conv_winograd.c blocked for cache and SIMD
 * (see docs/KERNELS_AVX2_WINOGRAD.md):
 *
 *  - pack(): U = G g G^T for every (oc, ic) pair, then each of the alpha^2
 *    positions packed as one GEMM B operand (K = ic, N = oc);
 *  - run(): the output tiles of the whole batch are numbered and cut into
 *    blocks of T tiles; per block, the input transform writes
 *    V[alpha^2][T][ic8], alpha^2 GEMMs write M[alpha^2][T][oc8], and the
 *    output transform applies A^T M A and the fused epilogue while storing.
 *
 * Transforms are vectorised across channels: NHWC makes 8 channels of one
 * pixel one ymm, so every 1-D transform is a handful of FMAs on whole
 * vectors with no shuffles. Threads take contiguous ranges of blocks, each
 * with its own workspace slice; the GEMMs inside run on one thread. */
#include <immintrin.h>
#include <omp.h>

#include "cnnk/cpu.h"
#include "cnnk/kernel.h"
#include "kernels/avx2/gemm.h"
#include "kernels/ref/ref.h"

#define CNNK_INLINE static inline __attribute__((always_inline))

enum { VL = 8, MAX_ALPHA = 8 };

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round_up(int64_t v, int64_t q) { return ceil_div(v, q) * q; }

/* ---- geometry: tiles, blocks, workspace slices ------------------------- */

typedef struct wino_geom {
    int m, alpha, npos;      /* npos = alpha^2 transform positions */
    int64_t ic8, oc8;        /* row pitches of V and M (channels rounded to 8) */
    int64_t tw, nt, total;   /* tiles per output row, per image, in the batch */
    int64_t T, nblocks;      /* tiles per block, blocks */
    size_t v_floats, m_floats, slice; /* per thread */
    int threads;             /* threads that get a block */
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
enum { MIN_TILES = 48 };

static int64_t cache_tiles(int alpha, int64_t ic8, int64_t oc8) {
    const cnnk_cpu_info *cpu = cnnk_cpu();
    cnnk_gemm_blocking bl = cnnk_gemm_blocking__avx2();
    int64_t l2 = cpu->l2 > 0 ? cpu->l2 : 256 * 1024;
    int64_t per_tile = (int64_t)alpha * alpha * (ic8 + oc8) * (int64_t)sizeof(float);
    int64_t t = l2 / 2 / per_tile / bl.mr * bl.mr;
    if (t < MIN_TILES) t = MIN_TILES;
    if (t > bl.mc) t = bl.mc;
    return t;
}

/* Blocks are made a multiple of the thread count (balance), then T is
 * rounded up to the microkernel's MR: work is counted in MR-row tiles by
 * the GEMM anyway, so this costs no balance and avoids ragged GEMM rows. */
static wino_geom make_geom(const cnnk_conv_desc *d, int m, int nthreads) {
    wino_geom g;
    const int mr = cnnk_gemm_blocking__avx2().mr;
    if (nthreads < 1) nthreads = 1;
    g.m = m;
    g.alpha = m + 2;
    g.npos = g.alpha * g.alpha;
    g.ic8 = round_up(d->ic, VL);
    g.oc8 = round_up(d->oc, VL);
    g.tw = ceil_div(d->ow, m);
    g.nt = ceil_div(d->oh, m) * g.tw;
    g.total = d->mb * g.nt;
    int64_t t0 = cache_tiles(g.alpha, g.ic8, g.oc8);
    int64_t nb = round_up(ceil_div(g.total, t0), nthreads);
    int64_t t = ceil_div(g.total, nb);
    if (t > mr) t = round_up(t, mr);
    g.T = t;
    g.nblocks = ceil_div(g.total, t);
    g.threads = g.nblocks < nthreads ? (int)g.nblocks : nthreads;
    g.v_floats = (size_t)(g.npos * g.T * g.ic8);
    g.m_floats = (size_t)(g.npos * g.T * g.oc8);
    size_t gemm = cnnk_gemm_workspace_size__avx2(g.T, d->oc, d->ic, 1);
    g.slice = (size_t)round_up((int64_t)(g.v_floats + g.m_floats + gemm), 16);
    return g;
}

static bool wino_applies(const cnnk_conv_desc *d) {
    return !d->transposed && d->g == 1 && d->kh == 3 && d->kw == 3 && d->sh == 1 &&
           d->sw == 1 && d->dh == 1 && d->dw == 1;
}

/* The block size depends on the thread count (fewer threads, larger
 * blocks), so a workspace sized for n threads must cover a run with any
 * t <= n (kernel.h): the largest t-thread need over 1..n. */
static size_t wino_workspace_size(const cnnk_conv_desc *d, int m, int nthreads) {
    size_t most = 0;
    for (int t = 1; t <= nthreads; ++t) {
        wino_geom g = make_geom(d, m, t);
        size_t need = g.slice * (size_t)g.threads;
        if (need > most) most = need;
    }
    return most;
}

/* ---- pack: U = G g G^T, alpha^2 GEMM B operands ------------------------ */

/* The packed buffer holds the alpha^2 packed B operands, then ic x oc
 * floats of scratch where each position's U_p is assembled before packing:
 * pack() has no way to report an allocation failure, so it allocates
 * nothing; the scratch costs 1/alpha^2 of the packed size. */
static size_t slot_floats(const cnnk_conv_desc *d) {
    return cnnk_gemm_packed_b_size__avx2(d->ic, d->oc);
}

static size_t wino_packed_size(const cnnk_conv_desc *d, int m) {
    const size_t npos = (size_t)(m + 2) * (size_t)(m + 2);
    return npos * slot_floats(d) + (size_t)(d->ic * d->oc);
}

/* G as a matrix, read off the reference's 1-D kernel transform applied to
 * unit vectors (exact: each output is one product by 1 plus zeros), so the
 * AVX2 kernel uses exactly the reference's coefficients. */
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

static void wino_pack(const cnnk_conv_desc *d, int m, const float *w_oihw, float *packed) {
    const int alpha = m + 2;
    const size_t slot = slot_floats(d);
    float *u = packed + (size_t)(alpha * alpha) * slot;
    float gm[MAX_ALPHA][3];
    kernel_matrix(m, gm);
    for (int p = 0; p < alpha * alpha; ++p) {
        for (int64_t c = 0; c < d->ic; ++c)
            for (int64_t o = 0; o < d->oc; ++o)
                u[c * d->oc + o] = kernel_at(gm, p / alpha, p % alpha, w_oihw + (o * d->ic + c) * 9);
        cnnk_gemm_pack_b__avx2(d->ic, d->oc, u, d->oc, false, packed + (size_t)p * slot);
    }
}

/* ---- 1-D transforms on 8-channel vectors -------------------------------
 * The reference's matrices (kernels/ref/winograd_1d.c, docs/WINOGRAD.md),
 * factored as NNPACK does: rows for the points +x and -x share their even
 * and odd parts, so each pair costs one add and one subtract after the
 * shared terms. */

#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define FMA _mm256_fmadd_ps   /* a*b + c */
#define FNMA _mm256_fnmadd_ps /* c - a*b */
#define K(x) _mm256_set1_ps(x)

/* r = B^T d, alpha inputs and outputs. */
CNNK_INLINE void input_1d(int m, const __m256 *d, __m256 *r) {
    if (m == 2) {
        r[0] = SUB(d[0], d[2]);
        r[1] = ADD(d[1], d[2]);
        r[2] = SUB(d[2], d[1]);
        r[3] = SUB(d[1], d[3]);
    } else if (m == 4) {
        __m256 t1 = FNMA(K(4.0f), d[2], d[4]), t2 = FNMA(K(4.0f), d[1], d[3]);
        __m256 t3 = SUB(d[4], d[2]), t4 = MUL(K(2.0f), SUB(d[3], d[1]));
        r[0] = FMA(K(4.0f), d[0], FNMA(K(5.0f), d[2], d[4]));
        r[1] = ADD(t1, t2);
        r[2] = SUB(t1, t2);
        r[3] = ADD(t3, t4);
        r[4] = SUB(t3, t4);
        r[5] = FMA(K(4.0f), d[1], FNMA(K(5.0f), d[3], d[5]));
    } else {
        r[0] = FMA(K(5.25f), SUB(d[4], d[2]), SUB(d[0], d[6]));
        r[7] = FMA(K(5.25f), SUB(d[3], d[5]), SUB(d[7], d[1]));
        __m256 a = FNMA(K(4.25f), d[4], ADD(d[2], d[6]));
        __m256 b = FNMA(K(4.25f), d[3], ADD(d[1], d[5]));
        r[1] = ADD(a, b);
        r[2] = SUB(a, b);
        a = FMA(K(0.25f), d[2], FNMA(K(1.25f), d[4], d[6]));
        b = FMA(K(0.5f), d[1], FNMA(K(2.5f), d[3], MUL(K(2.0f), d[5])));
        r[3] = ADD(a, b);
        r[4] = SUB(a, b);
        a = FMA(K(4.0f), d[2], FNMA(K(5.0f), d[4], d[6]));
        b = FMA(K(2.0f), d[1], FNMA(K(2.5f), d[3], MUL(K(0.5f), d[5])));
        r[5] = ADD(a, b);
        r[6] = SUB(a, b);
    }
}

/* y = A^T s, alpha inputs, m outputs. */
CNNK_INLINE void output_1d(int m, const __m256 *s, __m256 *y) {
    if (m == 2) {
        y[0] = ADD(ADD(s[0], s[1]), s[2]);
        y[1] = SUB(SUB(s[1], s[2]), s[3]);
    } else if (m == 4) {
        __m256 a = ADD(s[1], s[2]), b = SUB(s[1], s[2]);
        __m256 c = ADD(s[3], s[4]), e = SUB(s[3], s[4]);
        y[0] = ADD(ADD(s[0], a), c);
        y[1] = FMA(K(2.0f), e, b);
        y[2] = FMA(K(4.0f), c, a);
        y[3] = ADD(FMA(K(8.0f), e, b), s[5]);
    } else {
        __m256 a = ADD(s[1], s[2]), b = SUB(s[1], s[2]);
        __m256 c = ADD(s[3], s[4]), e = SUB(s[3], s[4]);
        __m256 f = ADD(s[5], s[6]), h = SUB(s[5], s[6]);
        y[0] = ADD(ADD(s[0], a), ADD(c, f));
        y[1] = FMA(K(0.5f), h, FMA(K(2.0f), e, b));
        y[2] = FMA(K(0.25f), f, FMA(K(4.0f), c, a));
        y[3] = FMA(K(0.125f), h, FMA(K(8.0f), e, b));
        y[4] = FMA(K(0.0625f), f, FMA(K(16.0f), c, a));
        y[5] = ADD(FMA(K(0.03125f), h, FMA(K(32.0f), e, b)), s[7]);
    }
}

/* ---- the block pipeline ------------------------------------------------- */

typedef struct wino_run_ctx {
    const cnnk_conv_desc *d;
    const cnnk_conv_args *a;
    wino_geom g;
    size_t slot;
} wino_run_ctx;

/* Lanes [0, n) of a mask; n >= VL means all. */
CNNK_INLINE __m256i lane_mask(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < VL ? n : VL)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

CNNK_INLINE __m256 load8(const float *p, bool full, __m256i mask) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

/* V of one tile (global index tile) into v[pos * vstride + c]. The alpha x
 * alpha window starts at (ty m - pt, tx m - pl); pixels outside the image
 * are zero, which is all the padding handling. Channel tails load masked
 * (zero lanes) and store whole vectors into V's pitch ic8, so V's padding
 * columns are zero and never read by the GEMM (K = ic). */
CNNK_INLINE void input_tile(const wino_run_ctx *x, int m, int64_t tile, float *v,
                            int64_t vstride) {
    const cnnk_conv_desc *d = x->d;
    const int alpha = m + 2;
    const int64_t n = tile / x->g.nt, r = tile % x->g.nt;
    const int64_t y0 = r / x->g.tw * m - d->pt, x0 = r % x->g.tw * m - d->pl;
    const int64_t ld = x->a->src_ld;
    const float *img = x->a->src + n * d->ih * d->iw * ld;
    int rows_lo = 0, rows_hi = alpha, cols_lo = 0, cols_hi = alpha;
    if (y0 < 0) rows_lo = (int)-y0;
    if (y0 + alpha > d->ih) rows_hi = (int)(d->ih - y0);
    if (x0 < 0) cols_lo = (int)-x0;
    if (x0 + alpha > d->iw) cols_hi = (int)(d->iw - x0);
    const __m256 zero = _mm256_setzero_ps();
    for (int64_t c0 = 0; c0 < d->ic; c0 += VL) {
        const bool full = c0 + VL <= d->ic;
        const __m256i mask = lane_mask(d->ic - c0);
        __m256 t[MAX_ALPHA][MAX_ALPHA];
        for (int i = 0; i < alpha; ++i) {
            __m256 row[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            if (i < rows_lo || i >= rows_hi) {
                for (int j = 0; j < alpha; ++j) t[i][j] = zero;
                continue;
            }
            /* An offset, not a pointer: x0 may lie left of the image. */
            const int64_t off = ((y0 + i) * d->iw + x0) * ld + c0;
            for (int j = 0; j < alpha; ++j)
                row[j] = (j >= cols_lo && j < cols_hi) ? load8(img + (off + j * ld), full, mask)
                                                       : zero;
            input_1d(m, row, t[i]);
        }
        for (int j = 0; j < alpha; ++j) {
            __m256 col[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            __m256 out[MAX_ALPHA];
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            input_1d(m, col, out);
            for (int i = 0; i < alpha; ++i)
                _mm256_storeu_ps(v + (i * alpha + j) * vstride + c0, out[i]);
        }
    }
}

/* Y = A^T M A of one tile, then bias, residual and ReLU (the reference's
 * order), stored for the pixels of the tile inside the output only. */
CNNK_INLINE void output_tile(const wino_run_ctx *x, int m, int64_t tile, const float *mm,
                             int64_t mstride) {
    const cnnk_conv_desc *d = x->d;
    const cnnk_epilogue *ep = &x->a->ep;
    const int alpha = m + 2;
    const int64_t n = tile / x->g.nt, r = tile % x->g.nt;
    const int64_t oy = r / x->g.tw * m, ox = r % x->g.tw * m;
    const int vh = (int)(d->oh - oy < m ? d->oh - oy : m);
    const int vw = (int)(d->ow - ox < m ? d->ow - ox : m);
    const int64_t pix0 = (n * d->oh + oy) * d->ow + ox; /* pixel of the tile's (0, 0) */
    float *dst = x->a->dst + pix0 * x->a->dst_ld;
    const float *res = ep->residual ? ep->residual + pix0 * ep->residual_ld : NULL;
    const __m256 zero = _mm256_setzero_ps();
    for (int64_t o0 = 0; o0 < d->oc; o0 += VL) {
        const bool full = o0 + VL <= d->oc;
        const __m256i mask = lane_mask(d->oc - o0);
        __m256 t[MAX_ALPHA][MAX_ALPHA];
        for (int i = 0; i < alpha; ++i) {
            __m256 row[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            for (int j = 0; j < alpha; ++j)
                row[j] = load8(mm + (i * alpha + j) * mstride + o0, full, mask);
            output_1d(m, row, t[i]);
        }
        const __m256 bias = ep->bias ? load8(ep->bias + o0, full, mask) : zero;
        for (int j = 0; j < vw; ++j) {
            __m256 col[MAX_ALPHA] = {zero, zero, zero, zero, zero, zero, zero, zero};
            __m256 y[MAX_ALPHA];
            for (int i = 0; i < alpha; ++i) col[i] = t[i][j];
            output_1d(m, col, y);
            for (int i = 0; i < vh; ++i) {
                const int64_t off = i * d->ow + j;
                __m256 val = y[i];
                if (ep->bias) val = ADD(val, bias);
                if (res) val = ADD(val, load8(res + off * ep->residual_ld + o0, full, mask));
                if (ep->relu) val = _mm256_max_ps(val, zero);
                float *p = dst + off * x->a->dst_ld + o0;
                if (full)
                    _mm256_storeu_ps(p, val);
                else
                    _mm256_maskstore_ps(p, mask, val);
            }
        }
    }
}

/* One block of tiles: transform in, alpha^2 GEMMs, transform out. */
CNNK_INLINE void run_block(const wino_run_ctx *x, int m, int64_t b, float *ws) {
    const cnnk_conv_desc *d = x->d;
    const wino_geom *g = &x->g;
    const int64_t t0 = b * g->T;
    const int64_t tn = g->total - t0 < g->T ? g->total - t0 : g->T;
    float *v = ws, *mm = ws + g->v_floats, *gws = mm + g->m_floats;
    const int64_t vstride = g->T * g->ic8, mstride = g->T * g->oc8;
    for (int64_t t = 0; t < tn; ++t) input_tile(x, m, t0 + t, v + t * g->ic8, vstride);
    for (int p = 0; p < g->npos; ++p)
        cnnk_gemm__avx2(tn, d->oc, d->ic, v + p * vstride, g->ic8, x->a->packed + p * x->slot,
                        mm + p * mstride, g->oc8, NULL, gws, 1);
    for (int64_t t = 0; t < tn; ++t) output_tile(x, m, t0 + t, mm + t * g->oc8, mstride);
}

CNNK_INLINE void run_range(const wino_run_ctx *x, int m, int t, int nthreads, float *ws) {
    const int64_t nb = x->g.nblocks;
    for (int64_t b = nb * t / nthreads; b < nb * (t + 1) / nthreads; ++b) run_block(x, m, b, ws);
}

CNNK_INLINE void wino_run(const cnnk_conv_desc *d, int m, const cnnk_conv_args *a) {
    wino_run_ctx x = {.d = d, .a = a, .g = make_geom(d, m, a->nthreads), .slot = slot_floats(d)};
    if (x.g.total == 0) return;
    if (x.g.threads == 1) {
        run_range(&x, m, 0, 1, a->workspace);
        return;
    }
#pragma omp parallel num_threads(x.g.threads)
    {
        const int t = omp_get_thread_num(), n = omp_get_num_threads();
        run_range(&x, m, t, n, a->workspace + (size_t)t * x.g.slice);
    }
}

/* ---- the three registry entries ----------------------------------------- */

#define WINO_ENTRY(M, ALGO)                                                         \
    static size_t wino##M##_packed_size(const cnnk_conv_desc *d) {                  \
        return wino_packed_size(d, M);                                              \
    }                                                                               \
    static size_t wino##M##_workspace_size(const cnnk_conv_desc *d, int nthreads) { \
        return wino_workspace_size(d, M, nthreads);                                 \
    }                                                                               \
    static void wino##M##_pack(const cnnk_conv_desc *d, const float *w, float *p) { \
        wino_pack(d, M, w, p);                                                      \
    }                                                                               \
    static void wino##M##_run(const cnnk_conv_desc *d, const cnnk_conv_args *a) {   \
        wino_run(d, M, a);                                                          \
    }                                                                               \
    const cnnk_conv_kernel cnnk_conv_winograd_f##M##x##M##__avx2 = {                \
        .name = "avx2/winograd_f" #M "x" #M,                                        \
        .isa = CNNK_ISA_AVX2,                                                       \
        .algo = ALGO,                                                               \
        .applies = wino_applies,                                                    \
        .packed_size = wino##M##_packed_size,                                       \
        .workspace_size = wino##M##_workspace_size,                                 \
        .pack = wino##M##_pack,                                                     \
        .run = wino##M##_run,                                                       \
    };

WINO_ENTRY(2, CNNK_ALGO_WINOGRAD_F2)
WINO_ENTRY(4, CNNK_ALGO_WINOGRAD_F4)
WINO_ENTRY(6, CNNK_ALGO_WINOGRAD_F6)
