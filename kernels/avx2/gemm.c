/* Packed SGEMM for AVX2+FMA: the GotoBLAS/BLIS loops around a 6x16
 * microkernel. See gemm.h for the contract and docs/GEMM.md for the
 * blocking derivation and measured figures. */
#include "kernels/avx2/gemm.h"

#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "cnnk/cpu.h"

enum { MR = 6, NR = 16 };

#define CNNK_INLINE static inline __attribute__((always_inline))

/* ---- blocking ----------------------------------------------------------- */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static int64_t round_down(int64_t v, int64_t q) { return v / q * q; }
static int64_t round_up(int64_t v, int64_t q) { return (v + q - 1) / q * q; }
static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* The one place block sizes come from (BLIS's analytical model, Low et al.,
 * "Analytical modeling is enough for high-performance BLIS", 2016):
 *  - KC: the microkernel streams an MR x KC A micro-panel and reuses one
 *    KC x NR B micro-panel across the whole MC loop, so both must stay in
 *    L1 with room left for the C tile and the lines in flight: half of L1d.
 *    (MR + NR) * KC * 4 bytes <= L1d / 2; rounded to the k-unroll of 8.
 *  - MC: the packed MC x KC A block is reused across every NR panel of the
 *    NC loop, so it lives in L2. Every C tile and B micro-panel of the NC
 *    loop also streams through L2 (MC x NC of C per KC step, several times
 *    the A block), so A gets a quarter of L2 rather than BLIS's usual
 *    half, leaving the streams room that would otherwise evict A (on this
 *    noisy VM the measurements could not separate the two; see
 *    docs/GEMM.md). Rounded to MR.
 *  - NC: the KC x NC B block is reused across every MC block; it lives in
 *    L3 (half of it, shared), capped because B is prepacked (no packing cost
 *    to amortise) and larger NC only delays A reuse. Rounded to NR.
 * Unknown cache sizes (0 from hwloc) fall back to Haswell-class values. */
cnnk_gemm_blocking cnnk_gemm_blocking__avx2(void) {
    const cnnk_cpu_info *cpu = cnnk_cpu();
    int64_t l1 = cpu->l1d > 0 ? cpu->l1d : 32 * 1024;
    int64_t l2 = cpu->l2 > 0 ? cpu->l2 : 256 * 1024;
    int64_t l3 = cpu->l3 > 0 ? cpu->l3 : 8 * 1024 * 1024;
    int64_t fsz = (int64_t)sizeof(float);
    cnnk_gemm_blocking b = {.mr = MR, .nr = NR};
    b.kc = clamp64(round_down(l1 / 2 / ((MR + NR) * fsz), 8), 64, 1024);
    b.mc = clamp64(round_down(l2 / 4 / (b.kc * fsz), MR), 4 * MR, 4096 / MR * MR);
    b.nc = clamp64(round_down(l3 / 2 / (b.kc * fsz), NR), 16 * NR, 4096);
    return b;
}

/* ---- packing B: [N/NR panels][K][NR], zero-padded to NR ------------------
 * A panel holds all of K so that the layout is independent of KC: the
 * KC-slice of panel j starting at k = p is the contiguous run at
 * packed + j*K*NR + p*NR. */

size_t cnnk_gemm_packed_b_size__avx2(int64_t K, int64_t N) {
    return (size_t)(round_up(N, NR) * K);
}

void cnnk_gemm_pack_b__avx2(int64_t K, int64_t N, const float *B, int64_t ldb, bool trans,
                            float *packed) {
    for (int64_t j0 = 0; j0 < N; j0 += NR) {
        int64_t nr = N - j0 < NR ? N - j0 : NR;
        float *dst = packed + j0 * K;
        for (int64_t k = 0; k < K; ++k, dst += NR) {
            for (int64_t j = 0; j < nr; ++j)
                dst[j] = trans ? B[(j0 + j) * ldb + k] : B[k * ldb + j0 + j];
            for (int64_t j = nr; j < NR; ++j) dst[j] = 0.0f;
        }
    }
}

/* ---- packing A: [MC/MR panels][KC][MR], zero-padded to MR ---------------- */

/* Transposes 8 columns of 6 rows (rows 6, 7 are zero) into 8 groups of MR. */
CNNK_INLINE void pack_a_6x8(const float *a, int64_t lda, float *dst, bool last_chunk) {
    __m256 r0 = _mm256_loadu_ps(a), r1 = _mm256_loadu_ps(a + lda);
    __m256 r2 = _mm256_loadu_ps(a + 2 * lda), r3 = _mm256_loadu_ps(a + 3 * lda);
    __m256 r4 = _mm256_loadu_ps(a + 4 * lda), r5 = _mm256_loadu_ps(a + 5 * lda);
    __m256 z = _mm256_setzero_ps();
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, z, 0x44), u5 = _mm256_shuffle_ps(t4, z, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, z, 0x44), u7 = _mm256_shuffle_ps(t5, z, 0xEE);
    /* Column k = (low 4 rows from u*, high rows from u4..u7); each store of
     * 8 overlaps the next column's first 2 floats, which it rewrites. */
    __m256 c[8];
    c[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    c[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    c[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    c[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    c[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    c[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    c[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    c[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
    for (int k = 0; k < 7; ++k) _mm256_storeu_ps(dst + k * MR, c[k]);
    if (last_chunk)
        _mm256_maskstore_ps(dst + 7 * MR, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0), c[7]);
    else
        _mm256_storeu_ps(dst + 7 * MR, c[7]);
}

static void pack_a_panel(int64_t mr, int64_t kc, const float *a, int64_t lda, float *dst) {
    int64_t k = 0;
    if (mr == MR) {
        for (; k + 8 <= kc; k += 8) pack_a_6x8(a + k, lda, dst + k * MR, k + 8 == kc);
    }
    for (; k < kc; ++k) {
        for (int64_t r = 0; r < mr; ++r) dst[k * MR + r] = a[r * lda + k];
        for (int64_t r = mr; r < MR; ++r) dst[k * MR + r] = 0.0f;
    }
}

static void pack_a_block(int64_t mc, int64_t kc, const float *a, int64_t lda, float *dst) {
    for (int64_t i = 0; i < mc; i += MR)
        pack_a_panel(mc - i < MR ? mc - i : MR, kc, a + i * lda, lda, dst + i * kc);
}

/* ---- the microkernel ---------------------------------------------------- */

/* How a tile is written back: the fused epilogue, and the valid extent. */
typedef struct tile_store {
    int m, n;               /* valid rows (<= MR) and columns (<= NR) */
    bool load_c;            /* c += acc rather than c = acc */
    const float *bias;      /* at the tile's first column; NULL unless last k block */
    const float *res;       /* at the tile's (0, 0); NULL unless last k block */
    int64_t res_ld;
    bool relu;              /* only on the last k block */
} tile_store;

CNNK_INLINE __m256 ld(const float *p, bool full, __m256i m) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

CNNK_INLINE void store_row(float *c, const float *res, const tile_store *t, __m256 v0, __m256 v1,
                           bool full, __m256i m0, __m256i m1) {
    if (t->load_c) {
        v0 = _mm256_add_ps(v0, ld(c, full, m0));
        v1 = _mm256_add_ps(v1, ld(c + 8, full, m1));
    }
    if (t->bias) {
        v0 = _mm256_add_ps(v0, ld(t->bias, full, m0));
        v1 = _mm256_add_ps(v1, ld(t->bias + 8, full, m1));
    }
    if (res) {
        v0 = _mm256_add_ps(v0, ld(res, full, m0));
        v1 = _mm256_add_ps(v1, ld(res + 8, full, m1));
    }
    if (t->relu) {
        v0 = _mm256_max_ps(v0, _mm256_setzero_ps());
        v1 = _mm256_max_ps(v1, _mm256_setzero_ps());
    }
    if (full) {
        _mm256_storeu_ps(c, v0);
        _mm256_storeu_ps(c + 8, v1);
    } else {
        _mm256_maskstore_ps(c, m0, v0);
        _mm256_maskstore_ps(c + 8, m1, v1);
    }
}

/* Writes the valid t->m x t->n part of the 6x16 accumulator tile. */
CNNK_INLINE void store_tile(float *c, int64_t ldc, const tile_store *t, __m256 acc[MR][2]) {
    bool full = t->n == NR;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(t->n), lane);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(t->n - 8), lane);
    for (int r = 0; r < MR; ++r) {
        if (r >= t->m) break;
        const float *res = t->res ? t->res + r * t->res_ld : NULL;
        store_row(c + r * ldc, res, t, acc[r][0], acc[r][1], full, m0, m1);
    }
}

/* One k step: two 8-wide B loads, MR broadcasts of A, 12 FMAs. A(r, u) is
 * the address of row r at k offset u. */
#define UK_STEP(u, A)                                                      \
    do {                                                                   \
        __m256 b0_ = _mm256_loadu_ps(b + (u) * NR);                        \
        __m256 b1_ = _mm256_loadu_ps(b + (u) * NR + 8);                    \
        for (int r_ = 0; r_ < MR; ++r_) {                                  \
            __m256 a_ = _mm256_broadcast_ss(A(r_, u));                     \
            acc[r_][0] = _mm256_fmadd_ps(a_, b0_, acc[r_][0]);             \
            acc[r_][1] = _mm256_fmadd_ps(a_, b1_, acc[r_][1]);             \
        }                                                                  \
    } while (0)

/* The 6x16 microkernel on a packed A panel (a[k*MR + r]) and a packed B
 * micro-panel (b[k*NR + c]); k unrolled by 8. The C tile is prefetched
 * first so its misses overlap the k loop rather than stall the store. */
static void ukernel_packed(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                           const tile_store *t) {
    __m256 acc[MR][2];
    for (int r = 0; r < MR; ++r) {
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
        if (r < t->m) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        if (r < t->m) _mm_prefetch((const char *)(c + r * ldc + NR - 1), _MM_HINT_T0);
    }
    /* The residual is read once, at the store: without a prefetch its
     * misses stalled ResNet's K = 64 1x1 layers by a sixth (perf annotate). */
    if (t->res) {
        for (int r = 0; r < t->m; ++r) {
            _mm_prefetch((const char *)(t->res + r * t->res_ld), _MM_HINT_T0);
            _mm_prefetch((const char *)(t->res + r * t->res_ld + NR - 1), _MM_HINT_T0);
        }
    }
#define A_PACKED(r, u) (a + (u) * MR + (r))
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8, a += 8 * MR, b += 8 * NR) {
        UK_STEP(0, A_PACKED); UK_STEP(1, A_PACKED); UK_STEP(2, A_PACKED); UK_STEP(3, A_PACKED);
        UK_STEP(4, A_PACKED); UK_STEP(5, A_PACKED); UK_STEP(6, A_PACKED); UK_STEP(7, A_PACKED);
    }
    for (; k < kc; ++k, a += MR, b += NR) UK_STEP(0, A_PACKED);
#undef A_PACKED
    store_tile(c, ldc, t, acc);
}

void cnnk_gemm_ukernel_6x16__avx2(int64_t kc, const float *a, const float *b, float *c,
                                  int64_t ldc, bool load_c) {
    tile_store t = {.m = MR, .n = NR, .load_c = load_c};
    ukernel_packed(kc, a, b, c, ldc, &t);
}

/* ---- the loops ------------------------------------------------------------ */

typedef struct gemm_plan {
    int64_t kc, mc, nc;     /* effective block sizes for this problem */
    int64_t mb, nb;         /* blocks along M and N: the parallel work items */
    int threads;            /* threads that get work */
} gemm_plan;

/* Shrinks the cache blocks to the problem and splits it into independent
 * (MC x NC) C blocks, at least one per thread and balanced: M is split
 * first (B panels are then shared through L3), N when M is too short. */
static gemm_plan make_plan(int64_t M, int64_t N, int64_t K, int nthreads) {
    cnnk_gemm_blocking bl = cnnk_gemm_blocking__avx2();
    gemm_plan p;
    p.kc = K < bl.kc ? (K > 0 ? K : 1) : bl.kc;
    p.mb = ceil_div(M, bl.mc);
    p.nb = ceil_div(N, bl.nc);
    if (nthreads > 1 && p.mb * p.nb < nthreads) {
        if (M >= (int64_t)nthreads * 4 * MR)
            p.mb = round_up(p.mb, nthreads);
        else
            p.nb = round_up(p.nb, nthreads);
    } else if (nthreads > 1 && p.mb > 1) {
        p.mb = round_up(p.mb, nthreads);
    }
    p.mc = round_up(ceil_div(M, p.mb), MR);
    p.nc = round_up(ceil_div(N, p.nb), NR);
    if (p.mc < MR) p.mc = MR;
    if (p.nc < NR) p.nc = NR;
    p.mb = ceil_div(M, p.mc);
    p.nb = ceil_div(N, p.nc);
    int64_t items = p.mb * p.nb;
    p.threads = items < nthreads ? (int)items : nthreads;
    if (p.threads < 1) p.threads = 1;
    return p;
}

/* Floats per thread: one packed MC x KC A block, 64-byte multiple. Sized
 * from the unsplit blocking, which bounds every plan's MC, so a workspace
 * sized for nthreads also serves any smaller thread count. */
static size_t slice_floats(int64_t M, int64_t K) {
    cnnk_gemm_blocking bl = cnnk_gemm_blocking__avx2();
    int64_t mc = round_up(M, MR) < bl.mc ? round_up(M, MR) : bl.mc;
    int64_t kc = K < bl.kc ? (K > 0 ? K : 1) : bl.kc;
    return (size_t)round_up(mc * kc, 16);
}

size_t cnnk_gemm_workspace_size__avx2(int64_t M, int64_t N, int64_t K, int nthreads) {
    if (M <= 0 || N <= 0) return 0;
    if (nthreads < 1) nthreads = 1;
    return slice_floats(M, K) * (size_t)nthreads;
}

typedef struct gemm_args {
    int64_t M, N, K;
    const float *A;
    int64_t lda;
    const float *pb;
    float *C;
    int64_t ldc;
    cnnk_gemm_epilogue ep;
    gemm_plan plan;
} gemm_args;

/* One C block (rows ic.., columns jc..) through the whole K loop. The first
 * K block writes (or accumulates into) C, later ones add to it, and only
 * the last applies bias, residual and ReLU. */
static void run_block(const gemm_args *g, int64_t ic, int64_t jc, float *ws) {
    const gemm_plan *p = &g->plan;
    int64_t mc = g->M - ic < p->mc ? g->M - ic : p->mc;
    int64_t nc = g->N - jc < p->nc ? g->N - jc : p->nc;
    int64_t pc = 0;
    do {
        int64_t kc = g->K - pc < p->kc ? g->K - pc : p->kc;
        bool last = pc + kc >= g->K;
        if (kc > 0) pack_a_block(mc, kc, g->A + ic * g->lda + pc, g->lda, ws);
        for (int64_t jr = 0; jr < nc; jr += NR) {
            int64_t j = jc + jr;
            const float *bp = g->pb + j * g->K + pc * NR;
            tile_store t = {
                .n = (int)(g->N - j < NR ? g->N - j : NR),
                .load_c = pc > 0 || g->ep.accumulate,
                .bias = last && g->ep.bias ? g->ep.bias + j : NULL,
                .res_ld = g->ep.residual_ld,
                .relu = last && g->ep.relu,
            };
            for (int64_t ir = 0; ir < mc; ir += MR) {
                int64_t i = ic + ir;
                t.m = (int)(mc - ir < MR ? mc - ir : MR);
                t.res = last && g->ep.residual ? g->ep.residual + i * g->ep.residual_ld + j : NULL;
                ukernel_packed(kc, ws + ir * kc, bp, g->C + i * g->ldc + j, g->ldc, &t);
            }
        }
        pc += kc;
    } while (pc < g->K);
}

/* Work items are numbered N-block-major so a thread's consecutive items
 * share the KC x NC B block it just brought into L3. */
static void run_items(const gemm_args *g, int t, int nthreads, float *ws) {
    int64_t items = g->plan.mb * g->plan.nb;
    int64_t lo = items * t / nthreads, hi = items * (t + 1) / nthreads;
    for (int64_t it = lo; it < hi; ++it) {
        int64_t jb = it / g->plan.mb, ib = it % g->plan.mb;
        run_block(g, ib * g->plan.mc, jb * g->plan.nc, ws);
    }
}

void cnnk_gemm__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                     const float *packed_b, float *C, int64_t ldc, const cnnk_gemm_epilogue *ep,
                     float *workspace, int nthreads) {
    if (M <= 0 || N <= 0) return;
    if (nthreads < 1) nthreads = 1;
    gemm_args g = {
        .M = M, .N = N, .K = K < 0 ? 0 : K, .A = A, .lda = lda, .pb = packed_b,
        .C = C, .ldc = ldc, .plan = make_plan(M, N, K, nthreads),
    };
    if (ep) g.ep = *ep;
    size_t slice = slice_floats(M, g.K);
    int threads = g.plan.threads;
    if (threads == 1) {
        run_items(&g, 0, 1, workspace);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
        int n = omp_get_num_threads();
        run_items(&g, t, n, workspace + (size_t)t * slice);
    }
}
