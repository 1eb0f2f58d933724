/* Direct convolution for AVX2+FMA on NHWC (oneDNN jit:avx2's scheme adapted
 * to NHWC), with no im2col buffer: a register tile of up to 6 output pixels
 * along a row x 16 output channels (12 ymm accumulators) sums every tap
 * straight from the source, then the epilogue is applied in the store.
 *
 * Weights are packed as [g][ocg/16 blocks][kh][kw][icg][16] (oc tail zero),
 * so the inner loop reads two vectors of 16 output channels per input
 * channel and broadcasts one source value per pixel of the tile.
 * Padding never enters the inner loop: the kh range is cut per output row;
 * along the row, each pixel of a tile has its own valid kw range, and the
 * taps are walked in segments over which the set of valid pixels is fixed.
 * A pixel whose taps fall in the padding for a segment reads a constant
 * block of zeros instead, so border tiles keep the full tile width (a
 * one-pixel border path would run at a third of the FMA rate).
 * When the kw taps are adjacent in memory (dilation 1 and a dense source,
 * src_ld == ic/g: the 3-channel first layers), a segment spans several kw
 * taps, so an interior 11x11x3 filter row is one 33-step loop rather than
 * 11 loops of 3. See docs/KERNELS_AVX2_DIRECT.md. */
#include <immintrin.h>
#include <omp.h>

#include "cnnk/kernel.h"
#include "kernels/avx2/vec.h"

/* ZCHUNK bounds one inner loop so that a pixel in the padding can read
 * zeros from a constant block; 2 KiB stays in L1 next to the weights. */
enum { OC_BLK = 16, W_BLK = 6, ZCHUNK = 512 };

static const float g_zeros[ZCHUNK] __attribute__((aligned(64)));


/* ---- the microkernel ----------------------------------------------------- */

/* One tile's taps. src points at column 0 of the first valid source row
 * (at the group's first channel), w at the weights of that row's kx = 0;
 * rows are src_row / w_row apart. Pixel p's window starts at column ix0[p]
 * and its valid taps are kx in [lo[p], hi[p]); interior tiles fill only
 * ix0[0], the other pixels following pix_step apart. */
typedef struct taps {
    const float *src;
    const float *w;
    int64_t ky_n, src_row, w_row;
    int64_t ld, dw, icg, pix_step;
    bool dense;    /* kw taps adjacent in memory: a segment spans several */
    bool interior; /* every pixel's every tap inside the row */
    int64_t kx_min, kx_max;
    int64_t ix0[W_BLK], lo[W_BLK], hi[W_BLK];
} taps;

/* What the store needs: the first output of the tile, the 16-channel slice
 * of bias and residual (NULL when absent), and how many of the 16 lanes are
 * real output channels. */
typedef struct store {
    float *dst;
    int64_t dst_ld;
    const float *bias;
    const float *res;
    int64_t res_ld;
    bool relu;
    int nvalid;
} store;

/* bias, residual, relu, then the store of one pixel's 16 (or nvalid)
 * channels; masked loads and stores never touch lanes past nvalid. */
CNNK_INLINE void store_pixel(const store *s, int64_t p, __m256 a0, __m256 a1) {
    float *y = s->dst + p * s->dst_ld;
    const float *r = s->res ? s->res + p * s->res_ld : NULL;
    const bool full = s->nvalid == OC_BLK;
    const __m256i m0 = cnnk_avx2_mask(s->nvalid), m1 = cnnk_avx2_mask(s->nvalid - 8);
    cnnk_avx2_store_epilogue(y, a0, s->bias, r, s->relu, full, m0);
    cnnk_avx2_store_epilogue(y + 8, a1, s->bias ? s->bias + 8 : NULL, r ? r + 8 : NULL, s->relu,
                             full, m1);
}

/* The end of the segment of taps starting at kx: the next kx at which some
 * pixel's validity changes. Without adjacent taps a segment is one kx. */
CNNK_INLINE int64_t segment_end(const int W, const taps *t, int64_t kx) {
    if (!t->dense) return kx + 1;
    int64_t e = t->kx_max;
    for (int p = 0; p < W; ++p) {
        if (t->lo[p] > kx && t->lo[p] < e) e = t->lo[p];
        if (t->hi[p] > kx && t->hi[p] < e) e = t->hi[p];
    }
    return e;
}

/* The FMA step shared by both tap walks: one input channel k of W pixels
 * (source pixel p at q[p] + k, or at sp + p * ps + k) against 16 outputs. */
#define CNNK_TILE_STEP(W, acc, wq, k, SRC)                                     \
    do {                                                                       \
        const __m256 w0_ = _mm256_loadu_ps((wq) + (k) * OC_BLK);               \
        const __m256 w1_ = _mm256_loadu_ps((wq) + (k) * OC_BLK + 8);           \
        _Pragma("GCC unroll 6") for (int p = 0; p < (W); ++p) {                \
            const __m256 b_ = _mm256_broadcast_ss(SRC);                        \
            (acc)[p][0] = _mm256_fmadd_ps(b_, w0_, (acc)[p][0]);               \
            (acc)[p][1] = _mm256_fmadd_ps(b_, w1_, (acc)[p][1]);               \
        }                                                                      \
    } while (0)

/* W pixels x 16 channels; W is a constant at every call, so the pixel
 * loops unroll and the 2W accumulators stay in registers.
 * Interior tiles (the bulk) walk fixed pixel offsets with no per-segment
 * bookkeeping: for a 7x7x3 first layer one kh row is only 21 steps, so
 * any setup per row costs a visible fraction. Border tiles walk segments
 * and point pixels in the padding at zeros. */
CNNK_INLINE void tile(const int W, const taps *t, const store *s) {
    __m256 acc[W_BLK][2];
#pragma GCC unroll 6
    for (int p = 0; p < W; ++p) acc[p][0] = acc[p][1] = _mm256_setzero_ps();
    if (t->interior) {
        const int64_t ps = t->pix_step, col = t->dw * t->ld, wcol = t->icg * OC_BLK;
        const int64_t kx_n = t->dense ? 1 : t->kx_max, nk = t->dense ? t->kx_max * t->icg : t->icg;
        const float *s0 = t->src + t->ix0[0] * t->ld;
        for (int64_t ky = 0; ky < t->ky_n; ++ky) {
            for (int64_t kx = 0; kx < kx_n; ++kx) {
                const float *sp = s0 + ky * t->src_row + kx * col;
                const float *wp = t->w + ky * t->w_row + kx * wcol;
                /* Unrolled by 2: the loop's own 3 uops per step are an
                 * eighth of the 23 that feed 12 FMAs (measured 4-5% on 3x3). */
#pragma GCC unroll 2
                for (int64_t k = 0; k < nk; ++k) CNNK_TILE_STEP(W, acc, wp, k, sp + p * ps + k);
            }
        }
    } else {
        /* Segments outermost: their setup (which pixels read zeros) is paid
         * once per tile, not once per kh row. */
        for (int64_t kx = t->kx_min, kx_end; kx < t->kx_max; kx = kx_end) {
            kx_end = segment_end(W, t, kx);
            bool valid[W_BLK];
            const float *px[W_BLK];
#pragma GCC unroll 6
            for (int p = 0; p < W; ++p) {
                valid[p] = kx >= t->lo[p] && kx < t->hi[p];
                px[p] = valid[p] ? t->src + (t->ix0[p] + kx * t->dw) * t->ld : g_zeros;
            }
            const int64_t len = (kx_end - kx) * t->icg;
            for (int64_t c = 0; c < len; c += ZCHUNK) {
                const int64_t n = cnnk_min64(ZCHUNK, len - c);
                const float *q[W_BLK];
#pragma GCC unroll 6
                for (int p = 0; p < W; ++p) q[p] = valid[p] ? px[p] + c : g_zeros;
                const float *wq = t->w + (kx * t->icg + c) * OC_BLK;
                for (int64_t ky = 0; ky < t->ky_n; ++ky) {
                    for (int64_t k = 0; k < n; ++k) CNNK_TILE_STEP(W, acc, wq, k, q[p] + k);
                    if (ky + 1 == t->ky_n) break; /* no pointer past the last row */
                    wq += t->w_row;
#pragma GCC unroll 6
                    for (int p = 0; p < W; ++p) q[p] += valid[p] ? t->src_row : 0;
                }
            }
        }
    }
#pragma GCC unroll 6
    for (int p = 0; p < W; ++p) store_pixel(s, p, acc[p][0], acc[p][1]);
}

static void tile_w1(const taps *t, const store *s) { tile(1, t, s); }
static void tile_w2(const taps *t, const store *s) { tile(2, t, s); }
static void tile_w3(const taps *t, const store *s) { tile(3, t, s); }
static void tile_w4(const taps *t, const store *s) { tile(4, t, s); }
static void tile_w5(const taps *t, const store *s) { tile(5, t, s); }
static void tile_w6(const taps *t, const store *s) { tile(6, t, s); }

static void tile_any(int64_t w, const taps *t, const store *s) {
    switch (w) {
    case 1: tile_w1(t, s); break;
    case 2: tile_w2(t, s); break;
    case 3: tile_w3(t, s); break;
    case 4: tile_w4(t, s); break;
    case 5: tile_w5(t, s); break;
    default: tile_w6(t, s); break;
    }
}

/* ---- one output row of one 16-channel block ------------------------------ */

/* Shape constants shared by every row. */
typedef struct geom {
    const cnnk_conv_desc *d;
    int64_t icg, ocg, nob, src_ld;
    int64_t ox_lo, ox_hi; /* interior: every kw tap inside the image */
    bool dense;           /* kw taps adjacent in memory */
} geom;

static geom make_geom(const cnnk_conv_desc *d, int64_t src_ld) {
    geom g = {.d = d, .icg = d->ic / d->g, .ocg = d->oc / d->g, .src_ld = src_ld};
    g.nob = cnnk_ceil_div(g.ocg, OC_BLK);
    g.dense = d->dw == 1 && src_ld == g.icg;
    const int64_t span = (d->kw - 1) * d->dw;
    g.ox_lo = cnnk_min64(cnnk_ceil_div(d->pl, d->sw), d->ow);
    const int64_t last = d->iw - 1 - span + d->pl; /* largest interior ox * sw */
    g.ox_hi = last < 0 ? g.ox_lo : cnnk_max64(g.ox_lo, cnnk_min64(last / d->sw + 1, d->ow));
    return g;
}

/* The tap range [lo, hi) of a window starting at i0 (taps dil apart) that
 * falls inside [0, n); empty ranges come back as lo == hi. */
static void tap_range(int64_t i0, int64_t k, int64_t dil, int64_t n, int64_t *lo, int64_t *hi) {
    *lo = i0 < 0 ? cnnk_ceil_div(-i0, dil) : 0;
    *hi = i0 > n - 1 ? 0 : cnnk_min64(k, (n - 1 - i0) / dil + 1);
    if (*hi < *lo) *hi = *lo;
}

/* Fills the per-pixel part of t for the w pixels from ox. */
static void set_columns(const geom *g, taps *t, int64_t ox, int64_t w) {
    const cnnk_conv_desc *d = g->d;
    t->interior = ox >= g->ox_lo && ox + w <= g->ox_hi;
    t->ix0[0] = ox * d->sw - d->pl;
    if (t->interior) { /* no divisions: they cost a tenth of a 7x7x3 tile */
        t->kx_min = 0;
        t->kx_max = d->kw;
        return;
    }
    t->kx_min = d->kw;
    t->kx_max = 0;
    for (int64_t p = 0; p < w; ++p) {
        t->ix0[p] = (ox + p) * d->sw - d->pl;
        tap_range(t->ix0[p], d->kw, d->dw, d->iw, &t->lo[p], &t->hi[p]);
        if (t->lo[p] < t->hi[p]) {
            t->kx_min = cnnk_min64(t->kx_min, t->lo[p]);
            t->kx_max = cnnk_max64(t->kx_max, t->hi[p]);
        }
    }
}

typedef struct row_job {
    int64_t n, oy, grp, ob;
} row_job;

static void conv_row(const geom *g, const cnnk_conv_args *a, row_job j) {
    const cnnk_conv_desc *d = g->d;
    const int64_t ld = a->src_ld;
    const int64_t iy0 = j.oy * d->sh - d->pt;
    int64_t ky_lo, ky_hi;
    tap_range(iy0, d->kh, d->dh, d->ih, &ky_lo, &ky_hi);
    if (ky_hi == ky_lo) ky_lo = ky_hi = 0; /* the row is all padding: read nothing */

    const int64_t oc0 = j.grp * g->ocg + j.ob * OC_BLK;
    const int64_t pixel0 = (j.n * d->oh + j.oy) * d->ow;
    const store s = {
        .dst = a->dst + pixel0 * a->dst_ld + oc0,
        .dst_ld = a->dst_ld,
        .bias = a->ep.bias ? a->ep.bias + oc0 : NULL,
        .res = a->ep.residual ? a->ep.residual + pixel0 * a->ep.residual_ld + oc0 : NULL,
        .res_ld = a->ep.residual_ld,
        .relu = a->ep.relu,
        .nvalid = (int)cnnk_min64(OC_BLK, g->ocg - j.ob * OC_BLK),
    };
    const float *wblk = a->packed + (j.grp * g->nob + j.ob) * d->kh * d->kw * g->icg * OC_BLK;
    const int64_t iy = ky_hi > ky_lo ? iy0 + ky_lo * d->dh : 0;
    taps t = {
        .src = a->src + ((j.n * d->ih + iy) * d->iw) * ld + j.grp * g->icg,
        .w = wblk + ky_lo * d->kw * g->icg * OC_BLK,
        .ky_n = ky_hi - ky_lo,
        .src_row = d->dh * d->iw * ld,
        .w_row = d->kw * g->icg * OC_BLK,
        .ld = ld,
        .dw = d->dw,
        .icg = g->icg,
        .pix_step = d->sw * ld,
        .dense = g->dense,
    };

    /* Tiles as even as possible (56 = 6 x 6 + 4 x 5, not 9 x 6 + 2): a
     * narrow remainder tile runs at a fraction of the FMA rate. */
    const int64_t ntiles = cnnk_ceil_div(d->ow, W_BLK);
    const int64_t base = d->ow / ntiles, wide = d->ow % ntiles;
    for (int64_t i = 0, ox = 0; i < ntiles; ++i) {
        const int64_t w = base + (i < wide);
        set_columns(g, &t, ox, w);
        store st = s;
        st.dst += ox * s.dst_ld;
        if (st.res) st.res += ox * s.res_ld;
        tile_any(w, &t, &st);
        ox += w;
    }
}

/* ---- the entry --------------------------------------------------------- */

static bool direct_applies(const cnnk_conv_desc *d) { return !d->transposed; }

static size_t direct_packed_size(const cnnk_conv_desc *d) {
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g;
    return (size_t)(d->g * cnnk_ceil_div(ocg, OC_BLK) * d->kh * d->kw * icg * OC_BLK);
}

/* No workspace: not even for border tiles. Copying a zero-padded strip of
 * a border tile's taps (so that it could run the interior loop) measured
 * 1-3% slower than the segment walk on ResNet's conv1 and AlexNet's conv1
 * (H200 host, 3 runs; docs/KERNELS_AVX2_DIRECT.md). */
static size_t direct_workspace_size(const cnnk_conv_desc *d, int nthreads) {
    (void)d;
    (void)nthreads;
    return 0;
}

static void direct_pack(const cnnk_conv_desc *d, const float *w_oihw, float *packed) {
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g, nob = cnnk_ceil_div(ocg, OC_BLK);
    const int64_t khw = d->kh * d->kw;
    float *p = packed;
    for (int64_t grp = 0; grp < d->g; ++grp)
        for (int64_t ob = 0; ob < nob; ++ob)
            for (int64_t k = 0; k < khw; ++k)
                for (int64_t c = 0; c < icg; ++c)
                    for (int64_t l = 0; l < OC_BLK; ++l) {
                        const int64_t o = ob * OC_BLK + l;
                        *p++ = o < ocg ? w_oihw[((grp * ocg + o) * icg + c) * khw + k] : 0.0f;
                    }
}

/* Work item i, in the order a thread walks them: rows innermost, so one
 * 16-channel block of weights stays in L1/L2 across consecutive rows. */
static row_job job_at(const geom *g, int64_t i) {
    const cnnk_conv_desc *d = g->d;
    row_job j;
    j.oy = i % d->oh;
    i /= d->oh;
    j.n = i % d->mb;
    i /= d->mb;
    j.ob = i % g->nob;
    j.grp = i / g->nob;
    return j;
}

static void run_range(const geom *g, const cnnk_conv_args *a, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) conv_row(g, a, job_at(g, i));
}

static void direct_run(const cnnk_conv_desc *d, const cnnk_conv_args *a) {
    const geom g = make_geom(d, a->src_ld);
    const int64_t jobs = d->g * g.nob * d->mb * d->oh;
    if (a->nthreads <= 1 || jobs < 2) {
        run_range(&g, a, 0, jobs);
        return;
    }
    const int nt = (int)cnnk_min64(a->nthreads, jobs);
#pragma omp parallel num_threads(nt)
    {
        const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
        run_range(&g, a, jobs * t / n, jobs * (t + 1) / n);
    }
}

const cnnk_conv_kernel cnnk_conv_direct__avx2 = {
    .name = "avx2/direct",
    .isa = CNNK_ISA_AVX2,
    .algo = CNNK_ALGO_DIRECT,
    .applies = direct_applies,
    .packed_size = direct_packed_size,
    .workspace_size = direct_workspace_size,
    .pack = direct_pack,
    .run = direct_run,
};
