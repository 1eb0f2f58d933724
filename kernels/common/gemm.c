/* The GotoBLAS/BLIS loops around an ISA's microkernel. The microkernel is
 * called through a pointer once per MR x NR tile, i.e. once per
 * 2*MR*NR*KC FLOPs: its inner loop, its store and the A packing stay
 * inlined within the ISA's file. See gemm.h and docs/GEMM.md. */
#include "kernels/common/gemm.h"

#include "kernels/common/team.h"
#include "kernels/common/util.h"

/* ---- packing B: [N/NR panels][K][NR], zero-padded to NR ------------------
 * A panel holds all of K so that the layout is independent of KC: the
 * KC-slice of panel j starting at k = p is the contiguous run at
 * packed + j*K*NR + p*NR. */

size_t cnnk_gemm_packed_b_size(int nr, int64_t K, int64_t N) {
    return (size_t)(cnnk_round_up(N, nr) * K);
}

void cnnk_gemm_pack_b(int nr, int64_t K, int64_t N, const float *B, int64_t ldb, bool trans,
                      float *packed) {
    for (int64_t j0 = 0; j0 < N; j0 += nr) {
        int64_t n = cnnk_min64(N - j0, nr);
        float *dst = packed + j0 * K;
        for (int64_t k = 0; k < K; ++k, dst += nr) {
            for (int64_t j = 0; j < n; ++j)
                dst[j] = trans ? B[(j0 + j) * ldb + k] : B[k * ldb + j0 + j];
            for (int64_t j = n; j < nr; ++j) dst[j] = 0.0f;
        }
    }
}

/* ---- the plan --------------------------------------------------------------- */

typedef struct gemm_plan {
    int64_t kc, mc, nc;     /* effective block sizes for this problem */
    int64_t mb, nb;         /* blocks along M and N: the parallel work items */
    int threads;            /* threads that get work */
} gemm_plan;

/* Shrinks the cache blocks to the problem and splits it into independent
 * (MC x NC) C blocks, at least one per thread and balanced: M is split
 * first (B panels are then shared through L3), N when M is too short. */
static gemm_plan make_plan(const cnnk_gemm_blocking *bl, int64_t M, int64_t N, int64_t K,
                           int nthreads) {
    const int64_t mr = bl->mr, nr = bl->nr;
    gemm_plan p;
    p.kc = K < bl->kc ? (K > 0 ? K : 1) : bl->kc;
    p.mb = cnnk_ceil_div(M, bl->mc);
    p.nb = cnnk_ceil_div(N, bl->nc);
    if (nthreads > 1 && p.mb * p.nb < nthreads) {
        if (M >= (int64_t)nthreads * 4 * mr)
            p.mb = cnnk_round_up(p.mb, nthreads);
        else
            p.nb = cnnk_round_up(p.nb, nthreads);
    } else if (nthreads > 1 && p.mb > 1) {
        p.mb = cnnk_round_up(p.mb, nthreads);
    }
    p.mc = cnnk_max64(cnnk_round_up(cnnk_ceil_div(M, p.mb), mr), mr);
    p.nc = cnnk_max64(cnnk_round_up(cnnk_ceil_div(N, p.nb), nr), nr);
    p.mb = cnnk_ceil_div(M, p.mc);
    p.nb = cnnk_ceil_div(N, p.nc);
    int64_t items = p.mb * p.nb;
    p.threads = items < nthreads ? (int)items : nthreads;
    if (p.threads < 1) p.threads = 1;
    return p;
}

/* Floats per thread: one packed MC x KC A block, 64-byte multiple. Sized
 * from the unsplit blocking, which bounds every plan's MC, so a workspace
 * sized for nthreads also serves any smaller thread count. */
static size_t slice_floats(const cnnk_gemm_blocking *bl, int64_t M, int64_t K) {
    int64_t mc = cnnk_min64(cnnk_round_up(M, bl->mr), bl->mc);
    int64_t kc = K < bl->kc ? (K > 0 ? K : 1) : bl->kc;
    return cnnk_align16((size_t)(mc * kc));
}

size_t cnnk_gemm_workspace_size(const cnnk_isa_kernels *isa, int64_t M, int64_t N, int64_t K,
                                int nthreads) {
    if (M <= 0 || N <= 0) return 0;
    if (nthreads < 1) nthreads = 1;
    return slice_floats(&isa->config()->gemm, M, K) * (size_t)nthreads;
}

/* ---- the loops ------------------------------------------------------------ */

typedef struct gemm_args {
    const cnnk_gemm_ukernel *uk;
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
    const cnnk_gemm_ukernel_fn ukernel = g->uk->run;
    const int64_t mr = g->uk->mr, nr = g->uk->nr;
    const int64_t mc = cnnk_min64(g->M - ic, p->mc), nc = cnnk_min64(g->N - jc, p->nc);
    int64_t pc = 0;
    do {
        const int64_t kc = cnnk_min64(g->K - pc, p->kc);
        const bool last = pc + kc >= g->K;
        if (kc > 0) g->uk->pack_a(mc, kc, g->A + ic * g->lda + pc, g->lda, ws);
        for (int64_t jr = 0; jr < nc; jr += nr) {
            const int64_t j = jc + jr;
            const float *bp = g->pb + j * g->K + pc * nr;
            cnnk_gemm_tile t = {
                .n = (int)cnnk_min64(g->N - j, nr),
                .load_c = pc > 0 || g->ep.accumulate,
                .bias = last && g->ep.bias ? g->ep.bias + j : NULL,
                .res_ld = g->ep.residual_ld,
                .relu = last && g->ep.relu,
                .relu_alpha = g->ep.relu_alpha,
            };
            for (int64_t ir = 0; ir < mc; ir += mr) {
                const int64_t i = ic + ir;
                t.m = (int)cnnk_min64(mc - ir, mr);
                t.res = last && g->ep.residual ? g->ep.residual + i * g->ep.residual_ld + j : NULL;
                ukernel(kc, ws + ir * kc, bp, g->C + i * g->ldc + j, g->ldc, &t);
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

typedef struct gemm_job {
    const gemm_args *g;
    float *ws;
    size_t slice;
} gemm_job;

static void gemm_part(void *p, int t, int nt) {
    const gemm_job *j = p;
    run_items(j->g, t, nt, j->ws + (size_t)t * j->slice);
}

void cnnk_gemm(const cnnk_isa_kernels *isa, int64_t M, int64_t N, int64_t K, const float *A,
               int64_t lda, const float *packed_b, float *C, int64_t ldc,
               const cnnk_gemm_epilogue *ep, float *workspace, int nthreads) {
    if (M <= 0 || N <= 0) return;
    if (nthreads < 1) nthreads = 1;
    const cnnk_gemm_blocking *bl = &isa->config()->gemm;
    gemm_args g = {
        .uk = isa->gemm, .M = M, .N = N, .K = K < 0 ? 0 : K, .A = A, .lda = lda,
        .pb = packed_b, .C = C, .ldc = ldc, .plan = make_plan(bl, M, N, K, nthreads),
    };
    if (ep) g.ep = *ep;
    gemm_job job = {.g = &g, .ws = workspace, .slice = slice_floats(bl, M, g.K)};
    cnnk_parallel(g.plan.threads, gemm_part, &job);
}
