/* <isa>/direct of every optimized ISA this CPU runs against the
 * definition (cnnk_ref_conv).
 *
 * Integer data in [-4, 4] (weights [-3, 3], bias [-8, 8]): every product
 * and partial sum is an integer far below 2^24, exact in float in any
 * order, so results must equal the reference bit for bit (the table's
 * max_abs 0 for direct on integer data). One float case per shape is held
 * to the table's float bound (relative L2 1e-5).
 *
 * Shapes: 1x1 images, images smaller than the kernel, padding as wide as
 * the kernel (rows and columns wholly in padding), AlexNet's 11x11 s4 and
 * ResNet's 7x7 s2 first layers on 3 channels, odd channel counts (oc tails
 * of 1..15 lanes), strides 2..4, asymmetric padding, dilation, groups
 * (depthwise and 1-channel groups), batch 3; pitches wider than the
 * channels for src, dst and residual (which also turns off the collapsed
 * kw x ic loop, so both tap paths run); every epilogue combination; 1, 2,
 * 3, 5 and 7 threads (check_threads). src and residual are allocated to their exact extent and
 * their channel gaps hold a poison value, so an over-read is caught by
 * AddressSanitizer or shows in the result; dst gaps and a guard zone after
 * dst must stay untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/desc.h"
#include "cnnk/kernel.h"
#include "kernels/ref/ref.h"
#include "validate/check.h"
#include "isa_kernels.h"

/* The entry under test. */
static const cnnk_conv_kernel *g_direct;

enum { GUARD = 64 };
static const float POISON = 1234567.0f;
static const float CANARY = -7654.25f;

typedef struct shape {
    int64_t mb, g, ic, ih, iw, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
    int64_t src_extra, dst_extra, res_extra; /* pitch = channels + extra */
} shape;

static bool make_desc(const shape *s, cnnk_conv_desc *d) {
    memset(d, 0, sizeof *d);
    d->mb = s->mb, d->g = s->g, d->ic = s->ic, d->ih = s->ih, d->iw = s->iw, d->oc = s->oc;
    d->kh = s->kh, d->kw = s->kw, d->sh = s->sh, d->sw = s->sw;
    d->pt = s->pt, d->pl = s->pl, d->pb = s->pb, d->pr = s->pr, d->dh = s->dh, d->dw = s->dw;
    cnnk_error err;
    return cnnk_conv_check(d, &err) == CNNK_OK;
}

/* A pitched tensor of P pixels allocated to its exact extent: (P-1) pitches
 * plus the last pixel's channels; gap channels hold POISON. */
static float *pitched(int64_t P, int64_t c, int64_t ld, cnnk_fill fill, uint64_t seed) {
    const int64_t n = (P - 1) * ld + c;
    float *p = malloc((size_t)n * sizeof *p);
    float *dense = malloc((size_t)(P * c) * sizeof *dense);
    cnnk_fill_tensor(dense, P * c, fill, 4, seed);
    for (int64_t i = 0; i < n; ++i) p[i] = POISON;
    for (int64_t q = 0; q < P; ++q) memcpy(p + q * ld, dense + q * c, (size_t)c * sizeof *p);
    free(dense);
    return p;
}

typedef struct buffers {
    float *src, *w, *bias, *res, *packed, *want, *got;
    int64_t P, ndst;
} buffers;

static void buffers_init(buffers *b, const cnnk_conv_desc *d, const shape *s, cnnk_fill fill,
                         uint64_t seed) {
    const int64_t Pin = d->mb * d->ih * d->iw;
    b->P = d->mb * d->oh * d->ow;
    b->ndst = b->P * (d->oc + s->dst_extra);
    b->src = pitched(Pin, d->ic, d->ic + s->src_extra, fill, seed);
    b->res = pitched(b->P, d->oc, d->oc + s->res_extra, fill, seed + 1);
    const int64_t nw = cnnk_conv_weights(d);
    b->w = malloc((size_t)nw * sizeof *b->w);
    cnnk_fill_tensor(b->w, nw, fill, 3, seed + 2);
    b->bias = malloc((size_t)d->oc * sizeof *b->bias);
    cnnk_fill_tensor(b->bias, d->oc, fill, 8, seed + 3);
    b->packed = malloc(g_direct->packed_size(d) * sizeof *b->packed);
    g_direct->pack(d, b->w, b->packed);
    b->want = malloc((size_t)b->ndst * sizeof *b->want);
    b->got = malloc((size_t)(b->ndst + GUARD) * sizeof *b->got);
}

static void buffers_free(buffers *b) {
    free(b->src), free(b->w), free(b->bias), free(b->res);
    free(b->packed), free(b->want), free(b->got);
}

/* Runs one epilogue combination (bits: 1 bias, 2 residual, 4 relu, 8 leaky
 * ReLU 0.125, exact on integers) and
 * compares against the reference; returns the error measures. */
static bool run_case(const cnnk_conv_desc *d, const shape *s, buffers *b, int bits, int nthreads,
                     cnnk_diff *diff) {
    const int64_t dst_ld = d->oc + s->dst_extra;
    cnnk_epilogue ep = {
        .bias = (bits & 1) ? b->bias : NULL,
        .residual = (bits & 2) ? b->res : NULL,
        .residual_ld = d->oc + s->res_extra,
        .relu = (bits & 12) != 0,
        .relu_alpha = (bits & 8) ? 0.125f : 0.0f,
    };
    for (int64_t i = 0; i < b->ndst; ++i) b->want[i] = CANARY;
    for (int64_t i = 0; i < b->ndst + GUARD; ++i) b->got[i] = CANARY;
    cnnk_ref_conv(d, b->src, d->ic + s->src_extra, b->w, b->want, dst_ld, &ep);
    cnnk_conv_args a = {
        .src = b->src,
        .src_ld = d->ic + s->src_extra,
        .packed = b->packed,
        .dst = b->got,
        .dst_ld = dst_ld,
        .ep = ep,
        .workspace = NULL,
        .nthreads = nthreads,
    };
    const size_t ws = g_direct->workspace_size(d, nthreads);
    a.workspace = ws ? aligned_alloc(64, ws * sizeof(float)) : NULL;
    g_direct->run(d, &a);
    free(a.workspace);
    bool untouched = true; /* gaps compare equal (both CANARY); the guard is checked here */
    for (int64_t i = b->ndst; i < b->ndst + GUARD; ++i) untouched &= b->got[i] == CANARY;
    cnnk_diff_compute(b->got, b->want, b->ndst, diff);
    return untouched;
}

static void check_shape(const shape *s, uint64_t seed) {
    cnnk_conv_desc d;
    CHECK(make_desc(s, &d));
    if (!make_desc(s, &d)) return;
    CHECK(g_direct->applies(&d));
    CHECK(g_direct->workspace_size(&d, 2) == 0);
    buffers b;
    buffers_init(&b, &d, s, CNNK_FILL_INT, seed);
    const cnnk_tolerance exact = cnnk_tolerance_conv(CNNK_ALGO_DIRECT, CNNK_FILL_INT);
    CHECK(exact.measure == CNNK_TOL_MAX_ABS && exact.bound == 0.0);
    for (int bits = 0; bits < 12; ++bits) {
        for (int ti = 0; ti < CHECK_NTHREADS; ++ti) {
            const int nt = check_threads[ti];
            cnnk_diff diff;
            const bool guard_ok = run_case(&d, s, &b, bits, nt, &diff);
            CHECK(guard_ok);
            const bool ok = cnnk_tolerance_pass(exact, &diff);
            CHECK(ok);
            if (!ok || !guard_ok) {
                char buf[256];
                cnnk_conv_format(&d, buf, sizeof buf);
                fprintf(stderr, "  %s ld+%lld/%lld/%lld ep=%d nt=%d max_abs=%g\n", buf,
                        (long long)s->src_extra, (long long)s->dst_extra,
                        (long long)s->res_extra, bits, nt, diff.max_abs);
            }
        }
    }
    buffers_free(&b);

    buffers_init(&b, &d, s, CNNK_FILL_FLOAT, seed + 17);
    cnnk_diff diff;
    CHECK(run_case(&d, s, &b, 7, 2, &diff));
    CHECK(cnnk_tolerance_pass(cnnk_tolerance_conv(CNNK_ALGO_DIRECT, CNNK_FILL_FLOAT), &diff));
    buffers_free(&b);
}

/* mb g ic ih iw oc kh kw sh sw pt pl pb pr dh dw  src+ dst+ res+ */
static const shape SHAPES[] = {
    /* 1x1 images, 1x1 and 3x3 kernels */
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0},
    {1, 1, 5, 1, 1, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
    {3, 1, 3, 1, 1, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 3, 1},
    /* AlexNet conv1 (11x11 s4 p2, 3 channels) and ResNet conv1 (7x7 s2 p3),
     * on small images; dense and pitched sources */
    {1, 1, 3, 35, 31, 64, 11, 11, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0},
    {1, 1, 3, 27, 27, 20, 11, 11, 4, 4, 2, 2, 2, 2, 1, 1, 1, 5, 2},
    {2, 1, 3, 23, 19, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 0, 0, 0},
    {1, 1, 3, 17, 20, 33, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 4, 1, 3},
    /* 3x3 stride 1 and 2; odd channel counts, every tail width */
    {1, 1, 16, 9, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
    {3, 1, 7, 8, 13, 21, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0},
    {1, 1, 9, 11, 11, 15, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 2, 1},
    {1, 1, 13, 7, 23, 47, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0},
    {1, 1, 2, 5, 40, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
    /* strides 3 and 4, asymmetric and kernel-wide padding, 1x1 strided */
    {1, 1, 4, 13, 17, 19, 5, 4, 3, 4, 0, 3, 2, 1, 1, 1, 0, 0, 0},
    {2, 1, 6, 2, 3, 18, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1, 1, 0, 2},
    {1, 1, 5, 3, 4, 16, 5, 5, 2, 3, 5, 5, 4, 5, 1, 1, 0, 0, 0},
    {1, 1, 24, 14, 14, 40, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 0, 0, 0},
    {1, 1, 11, 4, 4, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 5, 7, 2},
    /* inner loops longer than the zero block (ZCHUNK): non-dense and dense */
    {1, 1, 600, 3, 5, 18, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
    {1, 1, 200, 4, 8, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
    /* dilation */
    {1, 1, 5, 15, 16, 17, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 0},
    {1, 1, 3, 12, 19, 16, 3, 5, 2, 1, 3, 4, 1, 2, 3, 2, 0, 0, 0},
    /* groups: AlexNet-style 2 groups, depthwise, 1-channel groups */
    {1, 2, 10, 9, 9, 22, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
    {2, 8, 8, 7, 9, 8, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 3, 2, 1},
    {1, 3, 3, 6, 11, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
    {1, 4, 64, 8, 8, 36, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
};

/* Hand-computed: a 3x3 all-ones image, one channel, a 3x3 all-ones filter,
 * padding 1: each output counts its in-bounds taps (corners 4, edges 6,
 * centre 9); bias 1 is added. */
static void check_by_hand(void) {
    cnnk_conv_desc d;
    const shape s = {1, 1, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
    CHECK(make_desc(&s, &d));
    float src[9], w[9], dst[9], bias = 1.0f;
    for (int i = 0; i < 9; ++i) src[i] = w[i] = 1.0f;
    /* AVX2 packs 16 output channels per block, the tail zero-filled. */
    if (g_direct->isa == CNNK_ISA_AVX2) CHECK(g_direct->packed_size(&d) == 16 * 9);
    float *packed = malloc(g_direct->packed_size(&d) * sizeof *packed);
    g_direct->pack(&d, w, packed);
    cnnk_conv_args a = {.src = src, .src_ld = 1, .packed = packed, .dst = dst, .dst_ld = 1,
                        .ep = {.bias = &bias}, .nthreads = 1};
    g_direct->run(&d, &a);
    const float want[9] = {5, 7, 5, 7, 10, 7, 5, 7, 5};
    for (int i = 0; i < 9; ++i) CHECK(dst[i] == want[i]);
    free(packed);
}

int main(void) {
    CHECK(true);
    for (int isa = 0; isa < CNNK_ISA_COUNT; ++isa) {
        if (!isa_testable("test_kernels_direct", (cnnk_isa)isa, "direct")) continue;
        g_direct = isa_conv((cnnk_isa)isa, "direct");
        printf("test_kernels_direct: %s\n", g_direct->name);
        check_by_hand();
        for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; ++i)
            check_shape(&SHAPES[i], 100 + 7 * i);
    }
    return check_finish("test_kernels_direct");
}
