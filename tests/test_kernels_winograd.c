/* The Winograd kernels F(2x2), F(4x4), F(6x6) of every optimized ISA this
 * CPU runs against the definition
 * (cnnk_ref_conv, double-accumulated) on awkward shapes: 1x1 images, 3 and
 * odd channel counts (vector tails), partial tiles at the right and bottom,
 * asymmetric and zero padding, batch 3, tile blocks that straddle images,
 * pitches wider than the channels for src, dst and residual, every
 * epilogue combination, 1, 2, 3, 5 and 7 threads.
 *
 * Data are uniform in [-1, 1]; the error is judged by the suite's one
 * tolerance table (relative L2). Every buffer is allocated to its exact
 * extent (AddressSanitizer catches an over-read or over-write), the gaps
 * between pitched dst pixels hold a canary that must survive, and 2, 3, 5
 * and 7 threads must reproduce 1 thread bit for bit (each output's arithmetic
 * does not depend on how tiles are blocked). A hand-computed case (ones
 * through ones: 4 at corners, 6 on edges, 9 inside) anchors it all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/desc.h"
#include "cnnk/kernel.h"
#include "kernels/ref/ref.h"
#include "isa_kernels.h"
#include "validate/check.h"

/* The ISA under test and its three entries. */
static cnnk_isa g_isa;
static const cnnk_conv_kernel *kernels[3];
static const char *const g_algos[3] = {"winograd_f2x2", "winograd_f4x4", "winograd_f6x6"};

static const float CANARY = -7777.25f;

static float *falloc(int64_t n) { return malloc((size_t)(n > 0 ? n : 1) * sizeof(float)); }

/* 64-byte aligned, as the contract promises the workspace; exact size. */
static float *walloc(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes ? bytes : 64);
}

typedef struct shape {
    int64_t mb, ic, ih, iw, oc, pt, pl, pb, pr;
    int64_t src_ld, dst_ld, res_ld; /* 0: the channel count */
} shape;

static cnnk_conv_desc make_desc(const shape *s) {
    cnnk_conv_desc d = {
        .g = 1, .mb = s->mb, .ic = s->ic, .ih = s->ih, .iw = s->iw, .oc = s->oc,
        .kh = 3, .kw = 3, .sh = 1, .sw = 1, .pt = s->pt, .pl = s->pl, .pb = s->pb, .pr = s->pr,
        .dh = 1, .dw = 1,
    };
    cnnk_error err;
    CHECK(cnnk_conv_check(&d, &err) == CNNK_OK);
    return d;
}

/* Packs and runs kernel k; dst is pitched, its gaps preset to CANARY. */
static void run_kernel(const cnnk_conv_kernel *k, const cnnk_conv_desc *d, const float *src,
                       int64_t src_ld, const float *w, float *dst, int64_t dst_ld,
                       const cnnk_epilogue *ep, int nthreads) {
    float *packed = walloc(k->packed_size(d));
    float *ws = walloc(k->workspace_size(d, nthreads));
    k->pack(d, w, packed);
    cnnk_conv_args a = {
        .src = src, .src_ld = src_ld, .packed = packed, .dst = dst, .dst_ld = dst_ld,
        .ep = *ep, .workspace = ws, .nthreads = nthreads,
    };
    k->run(d, &a);
    free(packed);
    free(ws);
}

static double worst[3];

/* One shape, one epilogue (bits: 1 bias, 2 residual, 4 relu, 8 leaky ReLU
 * 0.1), one kernel,
 * every thread count of check_threads. */
static void check_case(int ki, const shape *s, int ep_bits, uint64_t seed) {
    const cnnk_conv_kernel *k = kernels[ki];
    cnnk_conv_desc d = make_desc(s);
    CHECK(k->applies(&d));
    const int64_t src_ld = s->src_ld ? s->src_ld : s->ic;
    const int64_t dst_ld = s->dst_ld ? s->dst_ld : s->oc;
    const int64_t res_ld = s->res_ld ? s->res_ld : s->oc;
    const int64_t pix_in = d.mb * d.ih * d.iw, pix_out = d.mb * d.oh * d.ow;
    const int64_t nsrc = (pix_in - 1) * src_ld + d.ic;
    const int64_t ndst = (pix_out - 1) * dst_ld + d.oc;
    const int64_t nres = (pix_out - 1) * res_ld + d.oc;
    float *src = falloc(nsrc), *w = falloc(d.oc * d.ic * 9), *bias = falloc(d.oc);
    float *res = falloc(nres), *want = falloc(pix_out * d.oc);
    float *got[2] = {falloc(ndst), falloc(ndst)};
    cnnk_fill_tensor(src, nsrc, CNNK_FILL_FLOAT, 1, seed * 4 + 0);
    cnnk_fill_tensor(w, d.oc * d.ic * 9, CNNK_FILL_FLOAT, 1, seed * 4 + 1);
    cnnk_fill_tensor(bias, d.oc, CNNK_FILL_FLOAT, 1, seed * 4 + 2);
    cnnk_fill_tensor(res, nres, CNNK_FILL_FLOAT, 1, seed * 4 + 3);
    cnnk_epilogue ep = {
        .bias = (ep_bits & 1) ? bias : NULL,
        .residual = (ep_bits & 2) ? res : NULL,
        .residual_ld = res_ld,
        .relu = (ep_bits & 12) != 0,
        .relu_alpha = (ep_bits & 8) ? 0.1f : 0.0f,
    };
    cnnk_ref_conv(&d, src, src_ld, w, want, d.oc, &ep);
    for (int64_t i = 0; i < ndst; ++i) got[0][i] = CANARY;
    run_kernel(k, &d, src, src_ld, w, got[0], dst_ld, &ep, check_threads[0]);
    /* Gather the valid values; the gaps must still hold the canary. */
    float *dense = falloc(pix_out * d.oc);
    int gaps_bad = 0, threads_differ = 0;
    for (int ti = 1; ti < CHECK_NTHREADS; ++ti) {
        for (int64_t i = 0; i < ndst; ++i) got[1][i] = CANARY;
        run_kernel(k, &d, src, src_ld, w, got[1], dst_ld, &ep, check_threads[ti]);
        for (int64_t p = 0; p < pix_out; ++p) {
            for (int64_t c = 0; c < dst_ld && p * dst_ld + c < ndst; ++c) {
                const float a = got[0][p * dst_ld + c], b = got[1][p * dst_ld + c];
                if (c >= d.oc) {
                    gaps_bad += a != CANARY || b != CANARY;
                    continue;
                }
                dense[p * d.oc + c] = a;
                threads_differ += memcmp(&a, &b, sizeof a) != 0;
            }
        }
    }
    cnnk_diff diff;
    cnnk_diff_compute(dense, want, pix_out * d.oc, &diff);
    const cnnk_tolerance tol = cnnk_tolerance_conv(k->algo, CNNK_FILL_FLOAT);
    const bool ok = cnnk_tolerance_pass(tol, &diff);
    CHECK(ok);
    CHECK_EQ_I64(gaps_bad, 0);
    CHECK_EQ_I64(threads_differ, 0);
    if (diff.rel_l2 > worst[ki]) worst[ki] = diff.rel_l2;
    if (!ok || gaps_bad || threads_differ)
        fprintf(stderr,
                "  %s mb%lld ic%lld %lldx%lld oc%lld pad %lld,%lld,%lld,%lld ep%d: rel_l2 %.3g\n",
                k->name, (long long)s->mb, (long long)s->ic, (long long)s->ih, (long long)s->iw,
                (long long)s->oc, (long long)s->pt, (long long)s->pl, (long long)s->pb,
                (long long)s->pr, ep_bits, diff.rel_l2);
    free(src); free(w); free(bias); free(res); free(want); free(dense);
    free(got[0]); free(got[1]);
}

static const shape shapes[] = {
    /* mb ic  ih  iw  oc  pt pl pb pr  src_ld dst_ld res_ld */
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},         /* 1x1 image: one partial tile */
    {1, 3, 5, 7, 8, 1, 1, 1, 1, 0, 0, 0},         /* 3 input channels */
    {2, 5, 7, 9, 13, 1, 1, 1, 1, 11, 21, 17},     /* odd channels, wide pitches */
    {3, 8, 9, 11, 16, 0, 0, 0, 0, 0, 0, 0},       /* batch 3, no padding */
    {1, 9, 10, 13, 7, 0, 2, 1, 0, 12, 9, 0},      /* asymmetric padding */
    {1, 17, 13, 6, 24, 2, 0, 0, 2, 0, 30, 25},    /* padding as wide as the kernel */
    {3, 96, 13, 13, 96, 1, 1, 1, 1, 0, 0, 0},     /* blocks straddle images */
    {3, 5, 34, 34, 9, 1, 1, 1, 1, 0, 0, 0},       /* many tiles, several blocks */
    {1, 128, 14, 14, 96, 1, 1, 1, 1, 0, 0, 0},    /* few tiles, large U: wide mode threaded */
    /* K >= 24: the multiplies unpacked (winograd.c), odd K and pitches,
     * then V rows 4 KiB apart (the unpacked GEMM stages its A tiles). */
    {2, 27, 9, 10, 40, 1, 1, 1, 1, 31, 45, 41},
    {1, 1024, 6, 6, 20, 1, 1, 1, 1, 0, 0, 0},
};

/* Ones through ones with padding 1: each output is the count of taps
 * inside the image, 4 at the corners, 6 on the edges, 9 inside. */
static void check_ones(int ki) {
    shape s = {1, 2, 5, 7, 3, 1, 1, 1, 1, 0, 0, 0};
    cnnk_conv_desc d = make_desc(&s);
    float src[5 * 7 * 2], w[3 * 2 * 9], dst[5 * 7 * 3];
    for (size_t i = 0; i < sizeof src / sizeof *src; ++i) src[i] = 1.0f;
    for (size_t i = 0; i < sizeof w / sizeof *w; ++i) w[i] = 1.0f;
    cnnk_epilogue ep = {0};
    run_kernel(kernels[ki], &d, src, 2, w, dst, 3, &ep, 1);
    for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 7; ++x) {
            const int rows = 3 - (y == 0) - (y == 4), cols = 3 - (x == 0) - (x == 6);
            for (int o = 0; o < 3; ++o)
                CHECK_NEAR(dst[(y * 7 + x) * 3 + o], 2.0 * rows * cols, 1e-5);
        }
}

static void check_applies(void) {
    shape s = {1, 4, 8, 8, 4, 1, 1, 1, 1, 0, 0, 0};
    cnnk_error err;
    for (int ki = 0; ki < 3; ++ki) {
        const cnnk_conv_kernel *k = kernels[ki];
        cnnk_conv_desc d = make_desc(&s);
        CHECK(k->applies(&d));
        cnnk_conv_desc e = d;
        e.sh = e.sw = 2, e.oh = e.ow = 0;
        CHECK(cnnk_conv_check(&e, &err) == CNNK_OK && !k->applies(&e));
        e = d, e.dh = e.dw = 2, e.oh = e.ow = 0;
        CHECK(cnnk_conv_check(&e, &err) == CNNK_OK && !k->applies(&e));
        e = d, e.g = 2, e.oh = e.ow = 0;
        CHECK(cnnk_conv_check(&e, &err) == CNNK_OK && !k->applies(&e));
        e = d, e.kh = e.kw = 5, e.pt = e.pl = e.pb = e.pr = 2, e.oh = e.ow = 0;
        CHECK(cnnk_conv_check(&e, &err) == CNNK_OK && !k->applies(&e));
        e = d, e.transposed = true, e.oh = e.ow = 0;
        CHECK(cnnk_conv_check(&e, &err) == CNNK_OK && !k->applies(&e));
        CHECK(k->isa == g_isa);
        CHECK(cnnk_conv_kernel_find(k->name) == k);
    }
}

static void run_isa(void) {
    for (int ki = 0; ki < 3; ++ki) worst[ki] = 0.0;
    check_applies();
    uint64_t seed = 1;
    for (int ki = 0; ki < 3; ++ki) {
        check_ones(ki);
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; ++i)
            for (int ep_bits = 0; ep_bits < 8; ++ep_bits) {
                /* The large shapes once per kernel with the full epilogue. */
                if (shapes[i].ic * shapes[i].oc * shapes[i].ih > 10000 && ep_bits != 7) continue;
                check_case(ki, &shapes[i], ep_bits, seed++);
            }
    }
    /* The leaky ReLU epilogues (bits 8-11) on every shape, with seeds of
     * their own, so the cases above keep theirs. */
    uint64_t leaky_seed = 3000;
    for (int ki = 0; ki < 3; ++ki)
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; ++i)
            for (int ep_bits = 8; ep_bits < 12; ++ep_bits) {
                if (shapes[i].ic * shapes[i].oc * shapes[i].ih > 10000 && ep_bits != 11) continue;
                check_case(ki, &shapes[i], ep_bits, leaky_seed++);
            }
    /* Interior tiles (the transforms' fast path) beside channel tails (the
     * general path) in one tile, pitched, every epilogue. Its own seeds,
     * so the cases above keep theirs. */
    const shape tails = {2, 19, 14, 14, 21, 1, 1, 1, 1, 23, 25, 22};
    for (int ki = 0; ki < 3; ++ki)
        for (int ep_bits = 0; ep_bits < 12; ++ep_bits)
            check_case(ki, &tails, ep_bits,
                       (ep_bits < 8 ? 1000 : 2000) + (uint64_t)(ki * 8 + ep_bits));
    for (int ki = 0; ki < 3; ++ki)
        printf("%s: max rel_l2 %.3g (bound %.3g)\n", kernels[ki]->name, worst[ki],
               cnnk_tolerance_conv(kernels[ki]->algo, CNNK_FILL_FLOAT).bound);
}

int main(void) {
    CHECK(true);
    for (int isa = 0; isa < CNNK_ISA_COUNT; ++isa) {
        if (!isa_testable("test_kernels_winograd", (cnnk_isa)isa, g_algos[0])) continue;
        g_isa = (cnnk_isa)isa;
        bool all = true;
        for (int ki = 0; ki < 3; ++ki) all &= (kernels[ki] = isa_conv(g_isa, g_algos[ki])) != NULL;
        CHECK(all);
        if (all) run_isa();
    }
    return check_finish("test_kernels_winograd");
}
