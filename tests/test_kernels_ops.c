/* The op kernels of every optimized ISA this CPU runs (pool, LRN, eltwise, softmax, concat, batch-norm,
 * transposed convolution) against the reference entries, through the whole
 * op-kernel contract (pack, workspace_size, run), on awkward shapes:
 * channel counts around every vector width (4 lanes on NEON, 8 on AVX2,
 * 16 on AVX-512: 1, 2, 3, 6, 7, 8, 9, 15, 16, 17, 31, 33, 34, so every
 * tail length of each), the AVX2 pool's 32-channel chunk plus a tail (40),
 * the AVX-512 one's 64 alone and plus a tail (64, 79), 1x1 images, ceil pooling with overhang,
 * include/exclude pad, global pools, batch 3, pitches ld > c on every input
 * and output, with sentinels in the gap lanes that must survive (outputs)
 * or would show in any result that read them (inputs: 1e30).
 * Tolerances are validate/tolerance.c's (cnnk_tolerance_op), for integer
 * and float data, plus what a kernel claims beyond them (see check_op);
 * nthreads 2, 3, 5 and 7 must give bit for bit what nthreads 1 gives. */
#define _DEFAULT_SOURCE /* mmap's MAP_ANONYMOUS */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cnnk/kernel.h"
#include "kernels/ref/ref.h"
#include "tests/check.h"
#include "validate/check.h"
#include "tests/isa_kernels.h"

/* The ISA under test's entries. */
static const cnnk_op_kernel *g_pool, *g_lrn, *g_eltwise, *g_softmax, *g_concat, *g_bnorm,
    *g_deconv, *g_resize;

#define OUT_SENTINEL (-12345.0f)
#define IN_SENTINEL (1e30f)

static const int64_t CS[] = {1, 2, 3, 6, 7, 8, 9, 15, 16, 17, 31, 33, 34, 40, 64, 79};
#define NCS ((int)(sizeof CS / sizeof CS[0]))

static float *falloc(int64_t n) {
    size_t bytes = ((size_t)(n > 0 ? n : 1) * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes);
}

/* A pitched NHWC tensor: pixels rows of c values at pitch ld. */
typedef struct tensor {
    float *p;
    int64_t pixels, c, ld;
} tensor;

static tensor tensor_make(int64_t pixels, int64_t c, int64_t ld, float sentinel) {
    tensor t = {falloc(pixels * ld), pixels, c, ld};
    for (int64_t i = 0; i < pixels * ld; ++i) t.p[i] = sentinel;
    return t;
}

static tensor tensor_input(int64_t pixels, int64_t c, int64_t ld, cnnk_fill fill, int range,
                           uint64_t seed) {
    tensor t = tensor_make(pixels, c, ld, IN_SENTINEL);
    float *v = falloc(pixels * c);
    cnnk_fill_tensor(v, pixels * c, fill, range, seed);
    for (int64_t p = 0; p < pixels; ++p) memcpy(t.p + p * ld, v + p * c, (size_t)c * sizeof(float));
    free(v);
    return t;
}

static void run_kernel(const cnnk_op_kernel *k, const cnnk_layer_desc *l, cnnk_op_args a,
                       const float *w, float *dst, int nthreads) {
    size_t np = k->packed_size ? k->packed_size(l) : 0;
    size_t nws = k->workspace_size ? k->workspace_size(l, nthreads) : 0;
    float *packed = falloc((int64_t)np), *ws = falloc((int64_t)nws);
    if (k->pack) k->pack(l, w, packed);
    a.packed = packed, a.workspace = ws, a.dst = dst, a.nthreads = nthreads;
    k->run(l, &a);
    free(packed);
    free(ws);
}

/* Runs k and ref on args a into fresh pitched outputs and checks them
 * against the table, and against what the kernel claims beyond it: claim 0
 * demands bit-identical values (the pool's double-summed average), claim
 * > 0 a max relative error (batch-norm's double FMA: 2 ulp per element,
 * where the table only bounds the norm); claim < 0 nothing more. */
static void check_op(const char *what, const cnnk_op_kernel *k, const cnnk_op_kernel *ref,
                     const cnnk_layer_desc *l, cnnk_op_args a, const float *w, int64_t pixels,
                     int64_t c, int64_t dst_ld, cnnk_fill fill, double claim) {
    tensor want = tensor_make(pixels, c, dst_ld, OUT_SENTINEL);
    tensor got1 = tensor_make(pixels, c, dst_ld, OUT_SENTINEL);
    tensor got2 = tensor_make(pixels, c, dst_ld, OUT_SENTINEL);
    a.dst_ld = dst_ld;
    run_kernel(ref, l, a, w, want.p, 1);
    run_kernel(k, l, a, w, got1.p, check_threads[0]);
    float *gv = falloc(pixels * c), *wv = falloc(pixels * c);
    bool gaps_ok = true, same = true;
    int differs_at = 0;
    for (int ti = 1; ti < CHECK_NTHREADS; ++ti) {
        for (int64_t i = 0; i < pixels * dst_ld; ++i) got2.p[i] = OUT_SENTINEL;
        run_kernel(k, l, a, w, got2.p, check_threads[ti]);
        for (int64_t p = 0; p < pixels; ++p)
            for (int64_t i = c; i < dst_ld; ++i)
                if (got2.p[p * dst_ld + i] != OUT_SENTINEL) gaps_ok = false;
        if (same && memcmp(got1.p, got2.p, (size_t)(pixels * dst_ld) * sizeof(float)) != 0) {
            same = false;
            differs_at = check_threads[ti];
        }
    }
    for (int64_t p = 0; p < pixels; ++p) {
        memcpy(gv + p * c, got1.p + p * dst_ld, (size_t)c * sizeof(float));
        memcpy(wv + p * c, want.p + p * dst_ld, (size_t)c * sizeof(float));
        for (int64_t i = c; i < dst_ld; ++i)
            if (got1.p[p * dst_ld + i] != OUT_SENTINEL) gaps_ok = false;
    }
    cnnk_diff diff;
    cnnk_diff_compute(gv, wv, pixels * c, &diff);
    cnnk_tolerance t = cnnk_tolerance_op(l->kind, fill);
    bool pass = cnnk_tolerance_pass(t, &diff);
    CHECK(pass);
    if (claim == 0.0) CHECK(diff.max_abs == 0.0);
    if (claim > 0.0) CHECK(diff.max_rel <= claim);
    CHECK(gaps_ok);
    CHECK(same);
    char differs[48] = "";
    if (!same) snprintf(differs, sizeof differs, " nthreads %d differs from 1", differs_at);
    if (!pass || !gaps_ok || !same)
        fprintf(stderr, "  %s (%s data): max_abs=%.3g max_rel=%.3g rel_l2=%.3g (%s<=%.3g)%s%s\n",
                what, fill == CNNK_FILL_INT ? "int" : "float", diff.max_abs, diff.max_rel,
                diff.rel_l2, cnnk_tol_measure_name(t.measure), t.bound,
                gaps_ok ? "" : " gap lanes written", differs);
    free(gv), free(wv), free(want.p), free(got1.p), free(got2.p);
}

static const cnnk_fill FILLS[2] = {CNNK_FILL_INT, CNNK_FILL_FLOAT};

/* ---- pooling --------------------------------------------------------------- */

typedef struct pool_case {
    int64_t mb, ih, iw, kh, kw, sh, sw, pt, pl, pb, pr;
    cnnk_round round;
    bool global;
} pool_case;

static const pool_case POOLS[] = {
    {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, CNNK_ROUND_FLOOR, false}, /* 1x1 image */
    {3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, CNNK_ROUND_FLOOR, true},  /* 1x1 global */
    {3, 6, 6, 2, 2, 2, 2, 0, 0, 0, 0, CNNK_ROUND_FLOOR, false},
    {1, 5, 7, 3, 3, 2, 2, 1, 1, 1, 1, CNNK_ROUND_CEIL, false},  /* overhang past pad */
    {3, 8, 5, 3, 3, 3, 3, 0, 0, 0, 0, CNNK_ROUND_CEIL, false},  /* overhang, no pad */
    {1, 7, 6, 3, 2, 1, 2, 1, 0, 1, 1, CNNK_ROUND_FLOOR, false}, /* asymmetric */
    {2, 7, 7, 7, 7, 1, 1, 0, 0, 0, 0, CNNK_ROUND_FLOOR, true},  /* global 7x7 */
    {1, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1, CNNK_ROUND_CEIL, false},  /* same-size, padded */
};

static void test_pool(void) {
    const cnnk_pool_alg algs[3] = {CNNK_POOL_MAX, CNNK_POOL_AVG_INCLUDE_PAD,
                                   CNNK_POOL_AVG_EXCLUDE_PAD};
    int cases = 0;
    for (size_t pi = 0; pi < sizeof POOLS / sizeof POOLS[0]; ++pi)
        for (int ai = 0; ai < 3; ++ai)
            for (int ci = 0; ci < NCS; ++ci)
                for (int fi = 0; fi < 2; ++fi) {
                    const pool_case *q = &POOLS[pi];
                    cnnk_layer_desc l = {.kind = CNNK_LAYER_POOL};
                    cnnk_pool_desc *d = &l.u.pool;
                    *d = (cnnk_pool_desc){.mb = q->mb, .c = CS[ci], .ih = q->ih, .iw = q->iw,
                                          .kh = q->kh, .kw = q->kw, .sh = q->sh, .sw = q->sw,
                                          .pt = q->pt, .pl = q->pl, .pb = q->pb, .pr = q->pr,
                                          .alg = algs[ai], .round = q->round,
                                          .global = q->global};
                    cnnk_error err;
                    if (cnnk_pool_check(d, &err) != CNNK_OK) {
                        fprintf(stderr, "pool case %zu: %s\n", pi, err.msg);
                        CHECK(false);
                        continue;
                    }
                    int64_t oh = d->global ? 1 : d->oh, ow = d->global ? 1 : d->ow;
                    int64_t sld = d->c + 1 + ci % 3, dld = d->c + 2;
                    /* A global max over 49 integers in [-4, 4] is 4 almost
                     * everywhere: a constant expected output proves nothing
                     * (cnnk_diff's mistrust), so global pools get a wider range. */
                    tensor s = tensor_input(d->mb * d->ih * d->iw, d->c, sld, FILLS[fi],
                                            d->global ? 1000 : 4, 100 + pi * 7 + (uint64_t)ci);
                    cnnk_op_args a = {.src = {s.p}, .src_ld = {sld}};
                    char what[96];
                    snprintf(what, sizeof what, "pool case %zu alg %d c %lld", pi, ai,
                             (long long)d->c);
                    check_op(what, g_pool, &cnnk_pool__ref, &l, a, NULL,
                             d->mb * oh * ow, d->c, dld, FILLS[fi], 0.0);
                    free(s.p);
                    ++cases;
                }
    CHECK(cases > 300);
}

/* The ceil overhang, by hand: 1x4 input (1 2 3 4), kw 3, sw 2, pad 1 each
 * side, ceil. Windows start at -1, 1, 3: cells [-1,2) = {pad,1,2},
 * [1,4) = {2,3,4}, [3,6) clipped to the declared pad: [3,5) = {4, pad}.
 * Include pad: 3/3 = 1, 9/3 = 3, 4/2 = 2 (the overhang cell not counted).
 * Exclude pad: 3/2 = 1.5, 3, 4. */
static void test_pool_overhang_by_hand(void) {
    const float want[2][3] = {{1.0f, 3.0f, 2.0f}, {1.5f, 3.0f, 4.0f}};
    for (int excl = 0; excl < 2; ++excl) {
        cnnk_layer_desc l = {.kind = CNNK_LAYER_POOL};
        l.u.pool = (cnnk_pool_desc){.mb = 1, .c = 1, .ih = 1, .iw = 4, .kh = 1, .kw = 3,
                                    .sh = 1, .sw = 2, .pl = 1, .pr = 1,
                                    .alg = excl ? CNNK_POOL_AVG_EXCLUDE_PAD
                                                : CNNK_POOL_AVG_INCLUDE_PAD,
                                    .round = CNNK_ROUND_CEIL};
        CHECK(cnnk_pool_check(&l.u.pool, NULL) == CNNK_OK);
        CHECK_EQ_I64(l.u.pool.ow, 3);
        float src[4] = {1, 2, 3, 4}, dst[3] = {0, 0, 0};
        float ws[16];
        cnnk_op_args a = {.src = {src}, .src_ld = {1}, .dst = dst, .dst_ld = 1,
                          .workspace = ws, .nthreads = 1};
        g_pool->run(&l, &a);
        for (int i = 0; i < 3; ++i) CHECK(dst[i] == want[excl][i]);
    }
}

/* ---- LRN --------------------------------------------------------------- */

static void test_lrn(void) {
    const struct {
        int64_t size;
        float alpha, beta, k;
    } P[] = {{5, 1e-4f, 0.75f, 2.0f}, {3, 0.5f, 0.75f, 1.0f}, {1, 1.0f, 0.75f, 0.5f},
             {5, 0.3f, 1.0f, 1.0f},   {7, 0.3f, 0.5f, 2.0f},  {5, 0.7f, 0.6f, 1.0f},
             {11, 1.0f, 0.75f, 1.0f}};
    for (size_t pi = 0; pi < sizeof P / sizeof P[0]; ++pi)
        for (int ci = 0; ci < NCS; ++ci)
            for (int fi = 0; fi < 2; ++fi) {
                cnnk_layer_desc l = {.kind = CNNK_LAYER_LRN};
                l.u.lrn = (cnnk_lrn_desc){.mb = ci % 2 ? 3 : 1, .c = CS[ci], .h = 3, .w = ci % 3 ? 2 : 1,
                                          .size = P[pi].size, .alpha = P[pi].alpha,
                                          .beta = P[pi].beta, .k = P[pi].k};
                CHECK(cnnk_lrn_check(&l.u.lrn, NULL) == CNNK_OK);
                const cnnk_lrn_desc *d = &l.u.lrn;
                int64_t px = d->mb * d->h * d->w, sld = d->c + 3, dld = d->c + 1;
                tensor s = tensor_input(px, d->c, sld, FILLS[fi], 4, 300 + pi * 11 + (uint64_t)ci);
                cnnk_op_args a = {.src = {s.p}, .src_ld = {sld}};
                char what[96];
                snprintf(what, sizeof what, "lrn params %zu c %lld", pi, (long long)d->c);
                check_op(what, g_lrn, &cnnk_lrn__ref, &l, a, NULL, px, d->c, dld,
                         FILLS[fi], -1.0);
                free(s.p);
            }
}

/* ---- softmax ------------------------------------------------------------ */

static void test_softmax(void) {
    const int64_t cs[] = {1, 2, 3, 6, 7, 8, 9, 15, 16, 17, 31, 33, 1000};
    /* range 60: rows spanning > 87 take the scalar path for subnormals. */
    const int ranges[] = {4, 20, 60};
    for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ++ci)
        for (int ri = 0; ri < 3; ++ri)
            for (int fi = 0; fi < 2; ++fi) {
                cnnk_layer_desc l = {.kind = CNNK_LAYER_SOFTMAX};
                l.u.softmax = (cnnk_softmax_desc){.mb = 3, .c = cs[ci], .h = 1, .w = 2};
                CHECK(cnnk_softmax_check(&l.u.softmax, NULL) == CNNK_OK);
                int64_t px = 6, c = cs[ci], sld = c + 5, dld = c + 1;
                tensor s = tensor_input(px, c, sld, FILLS[fi], ranges[ri], 500 + ci * 3 + (uint64_t)ri);
                cnnk_op_args a = {.src = {s.p}, .src_ld = {sld}};
                char what[96];
                snprintf(what, sizeof what, "softmax c %lld range %d", (long long)c, ranges[ri]);
                check_op(what, g_softmax, &cnnk_softmax__ref, &l, a, NULL, px, c, dld,
                         FILLS[fi], -1.0);
                free(s.p);
            }
}

/* exp over the whole vector range: the row (0, x), x in [-87, 0], has
 * e^x / (1 + e^x) as its second output; checked against double exp. */
static void test_softmax_exp_sweep(void) {
    double worst = 0.0;
    for (int i = 0; i <= 8700; ++i) {
        float row[2] = {0.0f, -(float)i * 0.01f}, y[2];
        cnnk_layer_desc l = {.kind = CNNK_LAYER_SOFTMAX};
        l.u.softmax = (cnnk_softmax_desc){.mb = 1, .c = 2, .h = 1, .w = 1};
        cnnk_op_args a = {.src = {row}, .src_ld = {2}, .dst = y, .dst_ld = 2, .nthreads = 1};
        g_softmax->run(&l, &a);
        double e = exp((double)row[1]), want = e / (1.0 + e);
        double rel = fabs((double)y[1] - want) / want;
        if (rel > worst) worst = rel;
    }
    CHECK(worst <= 1e-6); /* the table's softmax bound */
    /* The bound actually achieved, so a regression in exp shows. */
    CHECK(worst <= 6e-7);
    if (worst > 6e-7) fprintf(stderr, "  softmax exp sweep: worst rel %.3g\n", worst);
}

/* ---- bilinear resize ------------------------------------------------------ */

/* Every channel count of CS (vector tails), up, down, identity and 1-pixel
 * sizes in each direction, batch 2, pitched src and dst, both coordinate
 * rules. */
static void test_resize(void) {
    static const struct { int64_t ih, iw, oh, ow; } S[] = {
        {5, 7, 11, 9}, {9, 13, 4, 5}, {4, 4, 4, 4}, {1, 3, 5, 4}, {6, 1, 3, 2}, {3, 4, 1, 1},
        {8, 8, 64, 64}};
    for (int ci = 0; ci < NCS; ++ci)
        for (size_t si = 0; si < sizeof S / sizeof S[0]; ++si)
            for (int ac = 0; ac < 2; ++ac) {
                const int64_t c = CS[ci], mb = 2, sld = c + 3, dld = c + 1;
                cnnk_layer_desc l = {.kind = CNNK_LAYER_RESIZE};
                l.u.resize = (cnnk_resize_desc){.mb = mb, .c = c, .ih = S[si].ih, .iw = S[si].iw,
                                                .oh = S[si].oh, .ow = S[si].ow,
                                                .align_corners = ac == 1};
                CHECK(cnnk_resize_check(&l.u.resize, NULL) == CNNK_OK);
                const cnnk_fill fill = FILLS[(ci + (int)si) % 2];
                tensor s = tensor_input(mb * S[si].ih * S[si].iw, c, sld, fill, 8,
                                        900 + (uint64_t)(ci * 16 + (int)si));
                cnnk_op_args a = {.src = {s.p}, .src_ld = {sld}};
                char what[96];
                snprintf(what, sizeof what, "resampling c %lld %lldx%lld->%lldx%lld ac %d",
                         (long long)c, (long long)S[si].ih, (long long)S[si].iw,
                         (long long)S[si].oh, (long long)S[si].ow, ac);
                check_op(what, g_resize, &cnnk_resize__ref, &l, a, NULL,
                         mb * S[si].oh * S[si].ow, c, dld, fill, -1.0);
                free(s.p);
            }
}

/* ---- eltwise ------------------------------------------------------------ */

static void test_eltwise(void) {
    const cnnk_eltwise_alg algs[5] = {CNNK_ELTWISE_RELU, CNNK_ELTWISE_ADD,
                                      CNNK_ELTWISE_ADD_RELU, CNNK_ELTWISE_DROPOUT,
                                      CNNK_ELTWISE_LEAKY_RELU};
    for (int ai = 0; ai < 5; ++ai)
        for (int ci = 0; ci < NCS; ++ci)
            for (int dense = 0; dense < 2; ++dense)
                for (int fi = 0; fi < 2; ++fi) {
                    cnnk_layer_desc l = {.kind = CNNK_LAYER_ELTWISE};
                    /* 3 x 5 x 7 x c: the flat path's run crosses many vectors */
                    l.u.eltwise = (cnnk_eltwise_desc){
                        .mb = 3, .c = CS[ci], .h = 5, .w = 7, .alg = algs[ai],
                        .alpha = algs[ai] == CNNK_ELTWISE_LEAKY_RELU ? 0.1f : 0.0f};
                    CHECK(cnnk_eltwise_check(&l.u.eltwise, NULL) == CNNK_OK);
                    int64_t c = CS[ci], px = 105;
                    int64_t ald = dense ? c : c + 2, bld = dense ? c : c + 5, dld = dense ? c : c + 1;
                    tensor s0 = tensor_input(px, c, ald, FILLS[fi], 4, 700 + (uint64_t)ci);
                    tensor s1 = tensor_input(px, c, bld, FILLS[fi], 4, 800 + (uint64_t)ci);
                    cnnk_op_args a = {.src = {s0.p, s1.p}, .src_ld = {ald, bld}};
                    char what[96];
                    snprintf(what, sizeof what, "eltwise alg %d c %lld dense %d", ai,
                             (long long)c, dense);
                    check_op(what, g_eltwise, &cnnk_eltwise__ref, &l, a, NULL, px, c,
                             dld, FILLS[fi], 0.0);
                    free(s0.p), free(s1.p);
                }
}

/* In place (dst == a), which the runner does for a non-fused ReLU / add. */
static void test_eltwise_in_place(void) {
    const cnnk_eltwise_alg algs[3] = {CNNK_ELTWISE_RELU, CNNK_ELTWISE_ADD_RELU,
                                      CNNK_ELTWISE_LEAKY_RELU};
    for (int ai = 0; ai < 3; ++ai) {
        cnnk_layer_desc l = {.kind = CNNK_LAYER_ELTWISE};
        l.u.eltwise = (cnnk_eltwise_desc){.mb = 1, .c = 17, .h = 3, .w = 3, .alg = algs[ai],
                                          .alpha = ai == 2 ? 0.1f : 0.0f};
        int64_t px = 9, ld = 20;
        tensor x = tensor_input(px, 17, ld, CNNK_FILL_FLOAT, 4, 901);
        tensor b = tensor_input(px, 17, ld, CNNK_FILL_FLOAT, 4, 902);
        tensor want = tensor_make(px, 17, ld, OUT_SENTINEL);
        cnnk_ref_eltwise(&l.u.eltwise, x.p, ld, b.p, ld, want.p, ld);
        cnnk_op_args a = {.src = {x.p, b.p}, .src_ld = {ld, ld}, .dst = x.p, .dst_ld = ld,
                          .nthreads = 2};
        g_eltwise->run(&l, &a);
        bool ok = true;
        for (int64_t p = 0; p < px; ++p)
            for (int64_t i = 0; i < 17; ++i) ok = ok && x.p[p * ld + i] == want.p[p * ld + i];
        CHECK(ok);
        free(x.p), free(b.p), free(want.p);
    }
}

/* ---- concat ------------------------------------------------------------- */

static void test_concat(void) {
    /* every NEON tail (1, 2, 3), every AVX2 and AVX-512 tail length among
     * the inputs, and a 64-float unrolled run */
    const int64_t sets[5][4] = {{1, 7, 9, 0}, {17, 33, 8, 3}, {40, 1, 0, 0}, {31, 15, 65, 16},
                                {2, 6, 5, 34}};
    const int ns[5] = {3, 4, 2, 4, 4};
    for (int si = 0; si < 5; ++si)
        for (int mbi = 0; mbi < 2; ++mbi) {
            cnnk_layer_desc l = {.kind = CNNK_LAYER_CONCAT};
            cnnk_concat_desc *d = &l.u.concat;
            *d = (cnnk_concat_desc){.mb = mbi ? 3 : 1, .h = mbi ? 5 : 1, .w = mbi ? 6 : 1,
                                    .n = ns[si]};
            int64_t ctot = 0;
            for (int i = 0; i < d->n; ++i) d->c[i] = sets[si][i], ctot += d->c[i];
            CHECK(cnnk_concat_check(d, NULL) == CNNK_OK);
            int64_t px = d->mb * d->h * d->w;
            tensor in[4];
            cnnk_op_args a = {0};
            for (int i = 0; i < d->n; ++i) {
                in[i] = tensor_input(px, d->c[i], d->c[i] + i, CNNK_FILL_FLOAT, 4,
                                     1000 + (uint64_t)(si * 8 + i));
                a.src[i] = in[i].p, a.src_ld[i] = in[i].ld;
            }
            char what[64];
            snprintf(what, sizeof what, "concat set %d mb %lld", si, (long long)d->mb);
            check_op(what, g_concat, &cnnk_concat__ref, &l, a, NULL, px, ctot,
                     ctot + 3, CNNK_FILL_FLOAT, 0.0);
            for (int i = 0; i < d->n; ++i) free(in[i].p);
        }
}

/* ---- batch-norm ---------------------------------------------------------- */

static void test_bnorm(void) {
    const float eps[2] = {1e-5f, 1e-3f};
    for (int ci = 0; ci < NCS; ++ci)
        for (int ei = 0; ei < 2; ++ei)
            for (int relu = 0; relu < 3; ++relu) /* 2: leaky ReLU 0.1 */
                for (int fi = 0; fi < 2; ++fi) {
                    cnnk_layer_desc l = {.kind = CNNK_LAYER_BNORM};
                    l.u.bnorm = (cnnk_bnorm_desc){.mb = 3, .c = CS[ci], .h = 4, .w = 5,
                                                  .eps = eps[ei]};
                    CHECK(cnnk_bnorm_check(&l.u.bnorm, NULL) == CNNK_OK);
                    int64_t c = CS[ci], px = 60, sld = c + 4, dld = c + 2;
                    tensor s = tensor_input(px, c, sld, FILLS[fi], 4, 1200 + (uint64_t)ci);
                    float *p[4];
                    for (int i = 0; i < 4; ++i) {
                        p[i] = falloc(c);
                        cnnk_fill_tensor(p[i], c, FILLS[fi], 3, 1300 + (uint64_t)(ci * 4 + i));
                    }
                    for (int64_t i = 0; i < c; ++i) p[1][i] = fabsf(p[1][i]) + 1.0f;
                    cnnk_op_args a = {.src = {s.p}, .src_ld = {sld},
                                      .params = {p[0], p[1], p[2], p[3]}, .relu = relu != 0,
                                      .relu_alpha = relu == 2 ? 0.1f : 0.0f};
                    char what[96];
                    snprintf(what, sizeof what, "bnorm c %lld eps %g relu %d", (long long)c,
                             (double)eps[ei], relu);
                    check_op(what, g_bnorm, &cnnk_bnorm__ref, &l, a, NULL, px, c, dld,
                             FILLS[fi], 2.4e-7);
                    for (int i = 0; i < 4; ++i) free(p[i]);
                    free(s.p);
                }
}

/* ---- transposed convolution -------------------------------------------- */

typedef struct deconv_case {
    int64_t g, mb, ic, ih, iw, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
} deconv_case;

static const deconv_case DECONVS[] = {
    {1, 1, 3, 1, 1, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},   /* 1x1 image, 1x1 kernel */
    {1, 3, 9, 4, 5, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},  /* batch 3, stride 2 */
    {1, 1, 8, 3, 3, 33, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1},  /* the FCN/GAN 4x4 s2 */
    {2, 1, 6, 3, 4, 18, 3, 3, 3, 3, 2, 0, 1, 2, 1, 1},  /* groups, stride 3, asymmetric */
    {3, 2, 9, 5, 3, 3, 3, 2, 1, 2, 1, 0, 1, 0, 2, 2},   /* groups of 1 oc, dilation 2 */
    {1, 1, 1, 2, 2, 40, 5, 5, 4, 4, 2, 2, 2, 2, 1, 1},  /* stride 4, ic 1 */
    {1, 1, 3, 1, 1, 8, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1},   /* 1x1 image, 3x3 out */
    {1, 1, 17, 3, 3, 79, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, /* 4 zmm blocks + 15-lane tail */
    {2, 2, 6, 3, 2, 62, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1},  /* groups of 31 oc */
    /* rows wide enough for multi-pixel blocks, with single pixels at the borders */
    {1, 1, 17, 2, 16, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  /* stride 1 */
    {2, 2, 8, 3, 13, 34, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1},   /* stride 2, groups of 17 */
    {1, 1, 5, 2, 14, 20, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},   /* dilation 2 */
    {1, 1, 4, 1, 20, 9, 3, 5, 1, 3, 0, 4, 0, 3, 1, 1},    /* stride 3, asymmetric */
    {1, 2, 6, 3, 3, 26, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1},  /* ic 4 + 2, oc 24 + 2 */
    /* kernels/common/deconv.c's tiles: widths cut at both borders of each
     * stride class, every width up to the widest (AVX2: 8 pixels of one
     * vector, 4 of FCN's 3), a tail vector in each */
    {1, 1, 5, 2, 19, 7, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1},  /* oc 7: one partial vector */
    {1, 1, 21, 3, 16, 21, 4, 4, 2, 2, 0, 0, 0, 0, 1, 1}, /* FCN's upscore2, 16 -> 34 */
};

static void test_deconv(void) {
    for (size_t di = 0; di < sizeof DECONVS / sizeof DECONVS[0]; ++di)
        for (int bias = 0; bias < 2; ++bias)
            for (int relu = 0; relu < 3; ++relu) /* 2: leaky ReLU 0.1 */
                for (int fi = 0; fi < 2; ++fi) {
                    const deconv_case *q = &DECONVS[di];
                    cnnk_layer_desc l = {.kind = CNNK_LAYER_DECONV};
                    cnnk_conv_desc *d = &l.u.conv;
                    *d = (cnnk_conv_desc){.g = q->g, .mb = q->mb, .ic = q->ic, .ih = q->ih,
                                          .iw = q->iw, .oc = q->oc, .kh = q->kh, .kw = q->kw,
                                          .sh = q->sh, .sw = q->sw, .pt = q->pt, .pl = q->pl,
                                          .pb = q->pb, .pr = q->pr, .dh = q->dh, .dw = q->dw,
                                          .transposed = true};
                    cnnk_error err;
                    if (cnnk_conv_check(d, &err) != CNNK_OK) {
                        fprintf(stderr, "deconv case %zu: %s\n", di, err.msg);
                        CHECK(false);
                        continue;
                    }
                    CHECK(g_deconv->applies(&l));
                    int64_t sld = d->ic + 2, dld = d->oc + 3;
                    tensor s = tensor_input(d->mb * d->ih * d->iw, d->ic, sld, FILLS[fi], 4,
                                            1500 + di);
                    int64_t nw = cnnk_conv_weights(d);
                    float *w = falloc(nw), *b = falloc(d->oc);
                    cnnk_fill_tensor(w, nw, FILLS[fi], 3, 1600 + di);
                    cnnk_fill_tensor(b, d->oc, FILLS[fi], 8, 1700 + di);
                    cnnk_op_args a = {.src = {s.p}, .src_ld = {sld},
                                      .params = {bias ? b : NULL}, .relu = relu != 0,
                                      .relu_alpha = relu == 2 ? 0.1f : 0.0f};
                    char what[96];
                    snprintf(what, sizeof what, "deconv case %zu bias %d relu %d", di, bias, relu);
                    check_op(what, g_deconv, &cnnk_deconv__ref, &l, a, w,
                             d->mb * d->oh * d->ow, d->oc, dld, FILLS[fi],
                             FILLS[fi] == CNNK_FILL_INT ? 0.0 : -1.0);
                    free(w), free(b), free(s.p);
                }
    cnnk_layer_desc conv = {.kind = CNNK_LAYER_DECONV};
    conv.u.conv = (cnnk_conv_desc){.g = 1, .mb = 1, .ic = 1, .ih = 1, .iw = 1, .oc = 1,
                                   .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1};
    CHECK(!g_deconv->applies(&conv)); /* not transposed: not ours */
}

/* ---- NaN and signed zeros ------------------------------------------------ */

/* Bit for bit, a NaN wherever the reference has one: the tolerance's
 * numeric diff cannot tell -0 from +0, nor see which operand a max kept. */
static bool same_bits(const float *got, const float *want, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        if (isnan(got[i]) != isnan(want[i])) return false;
        if (!isnan(got[i]) && memcmp(&got[i], &want[i], sizeof(float)) != 0) return false;
    }
    return true;
}

/* Max pooling keeps the reference's `if (x > mx)`: a NaN cell is skipped and
 * of -0 and +0 the first stays (a vector fmax would return the NaN, fmaxnm
 * the +0). ReLU is `x > 0 ? x : +0`: 0 for NaN and -0. 11 channels: whole
 * vectors and tails of 8-lane and 4-lane ISAs both meet each pattern. */
static void test_nan_and_signed_zero(void) {
    const float vals[7] = {NAN, -0.0f, 0.0f, -2.0f, NAN, 0.0f, -0.0f};
    enum { PX = 4, C = 11 };
    float x[PX * C], zero[PX * C], want[PX * C], got[PX * C];
    for (int p = 0; p < PX; ++p)
        for (int c = 0; c < C; ++c) x[p * C + c] = vals[(p + 3 * c) % 7], zero[p * C + c] = -0.0f;
    cnnk_layer_desc pool = {.kind = CNNK_LAYER_POOL};
    pool.u.pool = (cnnk_pool_desc){.mb = 1, .c = C, .ih = 2, .iw = 2, .kh = 2, .kw = 2, .sh = 1,
                                   .sw = 1, .alg = CNNK_POOL_MAX, .global = true};
    CHECK(cnnk_pool_check(&pool.u.pool, NULL) == CNNK_OK);
    cnnk_op_args a = {.src = {x}, .src_ld = {C}, .dst_ld = C};
    run_kernel(&cnnk_pool__ref, &pool, a, NULL, want, 1);
    run_kernel(g_pool, &pool, a, NULL, got, 1);
    CHECK(same_bits(got, want, C));
    const cnnk_eltwise_alg algs[2] = {CNNK_ELTWISE_RELU, CNNK_ELTWISE_ADD_RELU};
    for (int ai = 0; ai < 2; ++ai) {
        cnnk_layer_desc l = {.kind = CNNK_LAYER_ELTWISE};
        l.u.eltwise = (cnnk_eltwise_desc){.mb = 1, .c = C, .h = 2, .w = 2, .alg = algs[ai]};
        cnnk_op_args e = {.src = {x, zero}, .src_ld = {C, C}, .dst_ld = C};
        run_kernel(&cnnk_eltwise__ref, &l, e, NULL, want, 1);
        run_kernel(g_eltwise, &l, e, NULL, got, 1);
        CHECK(same_bits(got, want, PX * C));
    }
    /* Softmax: a row holding a NaN is NaN throughout, as the reference's
     * sum makes it; a vector max drops the NaN, so a kernel must look for
     * it apart. 19 channels: the NaN at 2 sits in a whole vector of every
     * ISA, the one at 17 in a tail of each; the others are finite. */
    enum { SC = 19 };
    float row[3 * SC], swant[3 * SC], sgot[3 * SC];
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < SC; ++c) row[r * SC + c] = (float)((c * 7 + r) % 5) - 2.0f;
    row[0 * SC + 2] = NAN;
    row[1 * SC + 17] = NAN;
    cnnk_layer_desc sm = {.kind = CNNK_LAYER_SOFTMAX};
    sm.u.softmax = (cnnk_softmax_desc){.mb = 3, .c = SC, .h = 1, .w = 1};
    CHECK(cnnk_softmax_check(&sm.u.softmax, NULL) == CNNK_OK);
    cnnk_op_args sa = {.src = {row}, .src_ld = {SC}, .dst_ld = SC};
    run_kernel(&cnnk_softmax__ref, &sm, sa, NULL, swant, 1);
    run_kernel(g_softmax, &sm, sa, NULL, sgot, 1);
    CHECK(isnan(swant[0]) && isnan(swant[SC]) && !isnan(swant[2 * SC]));
    CHECK(same_bits(sgot, swant, 2 * SC));
    for (int c = 0; c < SC; ++c) CHECK(fabsf(sgot[2 * SC + c] - swant[2 * SC + c]) <= 1e-6f);
}

/* ---- tails at the end of memory ----------------------------------------- */

/* n floats ending exactly at a page boundary, an inaccessible page after
 * them: a kernel that reads or writes one float past its last tail faults.
 * Sanitizers cannot stand in for this: GCC does not instrument vector
 * intrinsics' loads and stores (NEON ld1/st1, AVX2 vmaskmov). */
typedef struct guarded {
    float *p;
    char *base;
    size_t len;
} guarded;

static guarded guarded_alloc(int64_t n, cnnk_fill fill, uint64_t seed) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = (size_t)n * sizeof(float);
    const size_t data = (bytes + page - 1) / page * page;
    char *base = mmap(NULL, data + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    CHECK(base != MAP_FAILED);
    CHECK(mprotect(base + data, page, PROT_NONE) == 0);
    guarded g = {(float *)(void *)(base + data - bytes), base, data + page};
    cnnk_fill_tensor(g.p, n, fill, 4, seed);
    return g;
}

static void guarded_free(guarded g) { munmap(g.base, g.len); }

/* k and the reference on l, every tensor (inputs, params, output) ending at
 * a guard page; the output must also pass the tolerance table. */
static void check_at_page_end(const char *what, const cnnk_op_kernel *k,
                              const cnnk_op_kernel *ref, const cnnk_layer_desc *l,
                              cnnk_op_args a, const float *w, int64_t out_n) {
    guarded got = guarded_alloc(out_n, CNNK_FILL_INT, 0);
    float *want = falloc(out_n);
    run_kernel(ref, l, a, w, want, 1);
    run_kernel(k, l, a, w, got.p, 1);
    cnnk_diff diff;
    cnnk_diff_compute(got.p, want, out_n, &diff);
    bool pass = cnnk_tolerance_pass(cnnk_tolerance_op(l->kind, CNNK_FILL_INT), &diff);
    CHECK(pass);
    if (!pass) fprintf(stderr, "  %s at page end: max_abs=%.3g\n", what, diff.max_abs);
    guarded_free(got);
    free(want);
}

/* Dense tensors (ld == c) of 1x2x2 pixels, so each one's last channel tail
 * is the last float before the guard page. */
static void test_tails_at_page_end(void) {
    const int64_t cs[] = {1, 2, 3, 5, 6, 7, 9, 17};
    for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ++ci) {
        const int64_t c = cs[ci], px = 4;
        char what[64];
        guarded x = guarded_alloc(px * c, CNNK_FILL_INT, 2000 + ci);
        guarded y = guarded_alloc(px * c, CNNK_FILL_INT, 2100 + ci);
        guarded prm[4];
        for (int i = 0; i < 4; ++i) prm[i] = guarded_alloc(c, CNNK_FILL_INT, 2200 + ci * 4 + i);
        for (int64_t i = 0; i < c; ++i) prm[1].p[i] = fabsf(prm[1].p[i]) + 1.0f;
        cnnk_op_args a = {.src = {x.p, y.p}, .src_ld = {c, c}, .dst_ld = c,
                          .params = {prm[0].p, prm[1].p, prm[2].p, prm[3].p}, .relu = true};

        for (int alg = 0; alg < 2; ++alg) {
            cnnk_layer_desc l = {.kind = CNNK_LAYER_POOL};
            l.u.pool = (cnnk_pool_desc){.mb = 1, .c = c, .ih = 2, .iw = 2, .kh = 2, .kw = 2,
                                        .sh = 1, .sw = 1, .global = true,
                                        .alg = alg ? CNNK_POOL_AVG_EXCLUDE_PAD : CNNK_POOL_MAX};
            CHECK(cnnk_pool_check(&l.u.pool, NULL) == CNNK_OK);
            snprintf(what, sizeof what, "pool alg %d c %lld", alg, (long long)c);
            check_at_page_end(what, g_pool, &cnnk_pool__ref, &l, a, NULL, c);
        }
        cnnk_layer_desc lrn = {.kind = CNNK_LAYER_LRN};
        lrn.u.lrn = (cnnk_lrn_desc){.mb = 1, .c = c, .h = 2, .w = 2, .size = 5, .alpha = 1e-4f,
                                    .beta = 0.75f, .k = 2.0f};
        snprintf(what, sizeof what, "lrn c %lld", (long long)c);
        check_at_page_end(what, g_lrn, &cnnk_lrn__ref, &lrn, a, NULL, px * c);
        cnnk_layer_desc elt = {.kind = CNNK_LAYER_ELTWISE};
        elt.u.eltwise = (cnnk_eltwise_desc){.mb = 1, .c = c, .h = 2, .w = 2,
                                            .alg = CNNK_ELTWISE_ADD_RELU};
        snprintf(what, sizeof what, "eltwise c %lld", (long long)c);
        check_at_page_end(what, g_eltwise, &cnnk_eltwise__ref, &elt, a, NULL, px * c);
        cnnk_layer_desc sm = {.kind = CNNK_LAYER_SOFTMAX};
        sm.u.softmax = (cnnk_softmax_desc){.mb = 1, .c = c, .h = 2, .w = 2};
        snprintf(what, sizeof what, "softmax c %lld", (long long)c);
        check_at_page_end(what, g_softmax, &cnnk_softmax__ref, &sm, a, NULL, px * c);
        cnnk_layer_desc bn = {.kind = CNNK_LAYER_BNORM};
        bn.u.bnorm = (cnnk_bnorm_desc){.mb = 1, .c = c, .h = 2, .w = 2, .eps = 1e-5f};
        snprintf(what, sizeof what, "bnorm c %lld", (long long)c);
        check_at_page_end(what, g_bnorm, &cnnk_bnorm__ref, &bn, a, NULL, px * c);
        cnnk_layer_desc cat = {.kind = CNNK_LAYER_CONCAT};
        cat.u.concat = (cnnk_concat_desc){.mb = 1, .h = 2, .w = 2, .n = 2, .c = {c, c}};
        CHECK(cnnk_concat_check(&cat.u.concat, NULL) == CNNK_OK);
        cnnk_op_args ca = a;
        ca.dst_ld = 2 * c;
        snprintf(what, sizeof what, "concat c %lld", (long long)c);
        check_at_page_end(what, g_concat, &cnnk_concat__ref, &cat, ca, NULL, px * 2 * c);
        cnnk_layer_desc dc = {.kind = CNNK_LAYER_DECONV};
        dc.u.conv = (cnnk_conv_desc){.g = 1, .mb = 1, .ic = c, .ih = 2, .iw = 2, .oc = c,
                                     .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                                     .transposed = true};
        CHECK(cnnk_conv_check(&dc.u.conv, NULL) == CNNK_OK);
        guarded w = guarded_alloc(c * c, CNNK_FILL_INT, 2300 + ci);
        snprintf(what, sizeof what, "deconv c %lld", (long long)c);
        check_at_page_end(what, g_deconv, &cnnk_deconv__ref, &dc, a, w.p, px * c);
        guarded_free(w);
        for (int i = 0; i < 4; ++i) guarded_free(prm[i]);
        guarded_free(x), guarded_free(y);
    }
}

int main(void) {
    CHECK(true);
    for (int isa = 0; isa < CNNK_ISA_COUNT; ++isa) {
        if (!isa_testable("test_kernels_ops", (cnnk_isa)isa, "pool")) continue;
        const cnnk_op_kernel **slots[] = {&g_pool,   &g_lrn,   &g_eltwise, &g_softmax,
                                          &g_concat, &g_bnorm, &g_deconv,  &g_resize};
        const char *names[] = {"pool",   "lrn",   "eltwise", "softmax",
                               "concat", "bnorm", "deconv",  "resampling"};
        bool all = true;
        for (int i = 0; i < 8; ++i) all &= (*slots[i] = isa_op((cnnk_isa)isa, names[i])) != NULL;
        CHECK(all);
        if (!all) continue;
        printf("test_kernels_ops: %s\n", cnnk_isa_name((cnnk_isa)isa));
        test_pool();
        test_pool_overhang_by_hand();
        test_lrn();
        test_softmax();
        test_softmax_exp_sweep();
        test_eltwise();
        test_eltwise_in_place();
        test_concat();
        test_bnorm();
        test_deconv();
        test_resize();
        test_nan_and_signed_zero();
        test_tails_at_page_end();
    }
    return check_finish("test_kernels_ops");
}
