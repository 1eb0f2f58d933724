/* <isa>/im2col, <isa>/1x1, <isa>/1x1_sup and <isa>/im2col_sup (where the
 * ISA has the unpacked GEMM) and <isa>/fc of every optimized ISA this CPU
 * runs against the scalar reference.
 * Data are small integers, so every product and partial sum is exact in
 * float whatever the summation order: results must match bit for bit (the
 * tolerance table's bound for these algorithms on integer data). Shapes
 * cover 1x1 images, 3 input channels, odd channel counts, groups and
 * depthwise, strides 2-4, dilation, asymmetric padding, batch 3, K above
 * the GEMM's KC, several pixel blocks and the few-pixel (N-split) path;
 * pitches exceed the channel counts for dst and residual, and for src in
 * every other case (the rest are dense, the lowering's contiguous path); every
 * epilogue combination runs at 1, 2, 3, 5 and 7 threads. The gaps of dst between
 * pixels must keep their canary, and every other buffer is allocated to its
 * exact extent so AddressSanitizer catches an over-read. Every case with a
 * residual runs again with the residual in dst (the runner's in place). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "cnnk/desc.h"
#include "cnnk/kernel.h"
#include "isa_kernels.h"
#include "kernels/ref/ref.h"

/* The ISA under test's entries. */
/* g_1x1_sup and g_im2col_sup may be NULL, together. */
static const cnnk_conv_kernel *g_im2col, *g_1x1, *g_1x1_sup, *g_im2col_sup;
static const cnnk_op_kernel *g_fc;

static const float CANARY = -12345.5f;

/* Integers in [-3, 3]. */
static float *alloc_ints(size_t n, uint64_t seed) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    cnnk_rng r = {seed};
    for (size_t i = 0; i < n; ++i) p[i] = (float)((int)(cnnk_rng_next(&r) % 7) - 3);
    return p;
}

static float *alloc_ws(size_t floats) {
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes ? bytes : 64);
}

/* ---- convolutions ------------------------------------------------------- */

typedef struct conv_case {
    int64_t g, mb, ic, ih, iw, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
    bool all_epilogues; /* every combination, or just none and all three */
} conv_case;

typedef struct conv_bufs {
    int64_t src_ld, dst_ld, res_ld, pin, pout;
    float *src, *w, *bias, *res, *want, *got;
} conv_bufs;

static size_t pitched(int64_t pixels, int64_t ld, int64_t c) {
    return (size_t)((pixels - 1) * ld + c);
}

/* The residual in dst (residual_in_dst, as the runner passes it where the
 * residual dies): dst starts as the residual at dst's pitch, canaries in
 * its gaps, and must end as want, computed with the residual apart. */
static void check_in_dst(const cnnk_conv_kernel *k, const cnnk_conv_desc *d, conv_bufs *b,
                         cnnk_conv_args *a, size_t dst_n) {
    CHECK(k->residual_in_dst);
    for (size_t i = 0; i < dst_n; ++i) b->got[i] = CANARY;
    for (int64_t p = 0; p < b->pout; ++p)
        memcpy(b->got + p * b->dst_ld, b->res + p * b->res_ld, (size_t)d->oc * sizeof(float));
    a->ep.residual = b->got;
    a->ep.residual_ld = b->dst_ld;
    k->run(d, a);
    int64_t bad = 0;
    for (size_t i = 0; i < dst_n; ++i) bad += b->got[i] != b->want[i];
    if (bad)
        fprintf(stderr, "%s ic%lld oc%lld k%lldx%lld s%lldx%lld t%d, residual in dst: %lld "
                "mismatches\n", k->name, (long long)d->ic, (long long)d->oc, (long long)d->kh,
                (long long)d->kw, (long long)d->sh, (long long)d->sw, a->nthreads, (long long)bad);
    CHECK_EQ_I64(bad, 0);
}

/* Runs kernel k on every epilogue and thread count; counts mismatches. */
static void check_kernel(const cnnk_conv_kernel *k, const cnnk_conv_desc *d, const conv_case *c,
                         conv_bufs *b) {
    float *packed = malloc(k->packed_size(d) * sizeof(float));
    k->pack(d, b->w, packed);
    const size_t dst_n = pitched(b->pout, b->dst_ld, d->oc);
    for (int ti = 0; ti < CHECK_NTHREADS; ++ti) {
        const int nthreads = check_threads[ti];
        float *ws = alloc_ws(k->workspace_size(d, nthreads));
        for (int bits = 0; bits < 12; ++bits) {
            if (!c->all_epilogues && bits != 0 && bits != 7 && bits != 11) continue;
            /* bits: 1 bias, 2 residual, 4 relu, 8 leaky ReLU 0.125 (exact on integers) */
            cnnk_epilogue ep = {.bias = (bits & 1) ? b->bias : NULL,
                                .residual = (bits & 2) ? b->res : NULL,
                                .residual_ld = b->res_ld,
                                .relu = (bits & 12) != 0,
                                .relu_alpha = (bits & 8) ? 0.125f : 0.0f};
            for (size_t i = 0; i < dst_n; ++i) b->want[i] = b->got[i] = CANARY;
            cnnk_ref_conv(d, b->src, b->src_ld, b->w, b->want, b->dst_ld, &ep);
            cnnk_conv_args a = {.src = b->src, .src_ld = b->src_ld, .packed = packed,
                                .dst = b->got, .dst_ld = b->dst_ld, .ep = ep,
                                .workspace = ws, .nthreads = nthreads};
            k->run(d, &a);
            int64_t bad = 0;
            for (size_t i = 0; i < dst_n; ++i) bad += b->got[i] != b->want[i];
            if (bad)
                fprintf(stderr, "%s g%lld mb%lld ic%lld ih%lld iw%lld oc%lld k%lldx%lld s%lldx%lld "
                        "ep%d t%d: %lld mismatches\n", k->name, (long long)d->g, (long long)d->mb,
                        (long long)d->ic, (long long)d->ih, (long long)d->iw, (long long)d->oc,
                        (long long)d->kh, (long long)d->kw, (long long)d->sh, (long long)d->sw,
                        bits, nthreads, (long long)bad);
            CHECK_EQ_I64(bad, 0);
            if (bits & 2) check_in_dst(k, d, b, &a, dst_n);
        }
        free(ws);
    }
    free(packed);
}

/* dense: src_ld == ic, so the lowering copies whole kernel rows at once. */
static void run_conv_case(const conv_case *c, bool dense, uint64_t seed) {
    cnnk_conv_desc d = {.g = c->g, .mb = c->mb, .ic = c->ic, .ih = c->ih, .iw = c->iw,
                        .oc = c->oc, .kh = c->kh, .kw = c->kw, .sh = c->sh, .sw = c->sw,
                        .pt = c->pt, .pl = c->pl, .pb = c->pb, .pr = c->pr, .dh = c->dh,
                        .dw = c->dw};
    cnnk_error err;
    CHECK(cnnk_conv_check(&d, &err) == CNNK_OK);
    conv_bufs b = {.src_ld = dense ? d.ic : d.ic + 3, .dst_ld = d.oc + 5, .res_ld = d.oc + 2,
                   .pin = d.mb * d.ih * d.iw, .pout = d.mb * d.oh * d.ow};
    b.src = alloc_ints(pitched(b.pin, b.src_ld, d.ic), seed);
    b.w = alloc_ints((size_t)cnnk_conv_weights(&d), seed + 1);
    b.bias = alloc_ints((size_t)d.oc, seed + 2);
    b.res = alloc_ints(pitched(b.pout, b.res_ld, d.oc), seed + 3);
    b.want = malloc(pitched(b.pout, b.dst_ld, d.oc) * sizeof(float));
    b.got = malloc(pitched(b.pout, b.dst_ld, d.oc) * sizeof(float));
    CHECK(g_im2col->applies(&d));
    check_kernel(g_im2col, &d, c, &b);
    if (g_im2col_sup) {
        CHECK(g_im2col_sup->applies(&d));
        check_kernel(g_im2col_sup, &d, c, &b);
    }
    if (g_1x1->applies(&d)) check_kernel(g_1x1, &d, c, &b);
    CHECK(!g_1x1_sup || g_1x1_sup->applies(&d) == g_1x1->applies(&d));
    if (g_1x1_sup && g_1x1_sup->applies(&d)) check_kernel(g_1x1_sup, &d, c, &b);
    free(b.src), free(b.w), free(b.bias), free(b.res), free(b.want), free(b.got);
}

static const conv_case conv_cases[] = {
    /* g mb ic ih iw oc kh kw sh sw pt pl pb pr dh dw all */
    {1, 1, 3, 1, 1, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},       /* 1x1 image, padded 3x3 */
    {1, 1, 3, 9, 11, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},     /* 3 input channels */
    {1, 3, 5, 7, 6, 7, 3, 3, 2, 2, 1, 0, 2, 1, 1, 1, true},       /* batch 3, odd, asym pad */
    {1, 1, 3, 23, 21, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, true},    /* ResNet conv1 style */
    {1, 1, 3, 35, 35, 19, 11, 11, 4, 4, 2, 2, 2, 2, 1, 1, false}, /* AlexNet conv1 style */
    {1, 2, 6, 10, 9, 33, 3, 3, 3, 3, 0, 1, 1, 0, 1, 1, true},     /* stride 3 */
    {1, 1, 7, 11, 12, 9, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, true},     /* dilation 2 */
    {1, 1, 4, 9, 8, 5, 2, 3, 1, 2, 0, 1, 0, 1, 3, 1, true},       /* dilation 3x1, stride 1x2 */
    {2, 1, 6, 8, 8, 10, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, true},      /* groups (AlexNet conv2) */
    {3, 2, 9, 6, 7, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, true},       /* 3 groups */
    {8, 1, 8, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},       /* depthwise */
    {2, 1, 8, 5, 6, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true},       /* grouped 1x1: identity */
    {1, 1, 64, 24, 24, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false},  /* K > KC, several blocks */
    {1, 1, 160, 5, 5, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false},   /* few pixels, big K */
    {1, 1, 19, 4, 3, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},     /* few pixels: N split */
    /* 1x1 kernel cases (im2col runs them too) */
    {1, 1, 3, 1, 1, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true},       /* 1x1 image */
    {1, 1, 13, 9, 7, 37, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true},     /* stride 1: no copy */
    {1, 3, 11, 9, 10, 21, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, true},    /* stride 2, batch 3 */
    {1, 1, 5, 13, 11, 3, 1, 1, 3, 4, 0, 0, 0, 0, 1, 1, true},     /* strides 3x4 */
    {1, 2, 300, 14, 14, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, false}, /* K > KC, M > MC */
    {1, 1, 40, 20, 20, 33, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, false},  /* strided, 2 threads split */
    /* the unpacked GEMM's cases: 7x7 maps (49-row and 7-row tiles), odd
     * heights at stride 2, a 4 KiB src pitch (staged tiles), K blocks */
    {1, 1, 29, 7, 7, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true},     /* M = 49 */
    {1, 2, 17, 13, 13, 45, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, true},   /* stride 2, ih odd, batch 2 */
    {1, 1, 1024, 6, 5, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, false},  /* src_ld 1024 when dense */
    {1, 1, 1000, 7, 9, 19, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, false},  /* K > KC, strided */
    /* im2col_sup's: column rows 4 KiB apart (K = 1024, staged tiles), and
     * K = 2048 on few pixels (the N split) */
    {1, 1, 256, 6, 5, 21, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, false},   /* K = 1024 */
    {1, 1, 512, 4, 4, 19, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1, false},   /* K = 2048, 16 pixels */
    /* whole-row patches (kernel = stride = iw: the R-CNN heads), which
     * im2col_sup reads in place when src is dense (odd index) and lowers
     * otherwise; a row left over below the last window (ih 13 = 4 x 3 + 1)
     * shifts the second image; K = 1024 stages the tiles */
    {1, 2, 5, 13, 3, 7, 3, 3, 3, 3, 0, 0, 0, 0, 1, 1, true},      /* dense */
    {1, 2, 5, 13, 3, 7, 3, 3, 3, 3, 0, 0, 0, 0, 1, 1, true},      /* pitched */
    {1, 1, 128, 8, 2, 9, 4, 2, 4, 2, 0, 0, 0, 0, 1, 1, false},    /* K = 1024, dense */
    {1, 3, 6, 61, 2, 20, 3, 2, 3, 2, 0, 0, 0, 0, 1, 1, false},    /* 60 rows, pitched */
    {1, 3, 6, 61, 2, 20, 3, 2, 3, 2, 0, 0, 0, 0, 1, 1, false},    /* 60 rows, dense */
    /* im2col_sup in one column block: 49 x 3600 lowered (705 KB) fits a
     * 1 MiB L2 whole (ResNet-50 layer4.0.conv2's case) */
    {1, 1, 400, 14, 14, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false},
};

/* ---- fully connected ---------------------------------------------------- */

typedef struct fc_case {
    int64_t mb, ic, ih, iw, oc;
} fc_case;

static void run_fc_case(const fc_case *c, uint64_t seed) {
    cnnk_layer_desc l = {.kind = CNNK_LAYER_FC,
                         .u.fc = {.mb = c->mb, .ic = c->ic, .ih = c->ih, .iw = c->iw, .oc = c->oc}};
    const cnnk_fc_desc *d = &l.u.fc;
    cnnk_error err;
    CHECK(cnnk_fc_check(d, &err) == CNNK_OK);
    const cnnk_op_kernel *k = g_fc;
    CHECK(k->applies(&l));
    const int64_t in = d->ic * d->ih * d->iw;
    float *src = alloc_ints((size_t)(d->mb * in), seed);
    float *w = alloc_ints((size_t)cnnk_fc_weights(d), seed + 1);
    float *bias = alloc_ints((size_t)d->oc, seed + 2);
    float *want = malloc((size_t)(d->mb * d->oc) * sizeof(float));
    float *got = malloc((size_t)(d->mb * d->oc) * sizeof(float));
    float *packed = malloc(k->packed_size(&l) * sizeof(float));
    k->pack(&l, w, packed);
    for (int ti = 0; ti < CHECK_NTHREADS; ++ti) {
        const int nthreads = check_threads[ti];
        float *ws = alloc_ws(k->workspace_size(&l, nthreads));
        /* bits 1: bias; 2, 3: ReLU; 4, 5: leaky ReLU 0.125 (exact on integers) */
        for (int bits = 0; bits < 6; ++bits) {
            const float *b = (bits & 1) ? bias : NULL;
            const bool relu = bits >= 2;
            const float alpha = bits >= 4 ? 0.125f : 0.0f;
            cnnk_ref_fc(d, src, w, b, want, relu, alpha);
            for (int64_t i = 0; i < d->mb * d->oc; ++i) got[i] = CANARY;
            cnnk_op_args a = {.src = {src}, .src_ld = {d->ic}, .packed = packed,
                              .params = {b}, .dst = got, .dst_ld = d->oc, .relu = relu,
                              .relu_alpha = alpha, .workspace = ws, .nthreads = nthreads};
            k->run(&l, &a);
            int64_t bad = 0;
            for (int64_t i = 0; i < d->mb * d->oc; ++i) bad += got[i] != want[i];
            if (bad)
                fprintf(stderr, "%s mb%lld ic%lld ih%lld iw%lld oc%lld ep%d t%d: %lld bad\n",
                        k->name, (long long)d->mb, (long long)d->ic, (long long)d->ih, (long long)d->iw,
                        (long long)d->oc, bits, nthreads, (long long)bad);
            CHECK_EQ_I64(bad, 0);
        }
        free(ws);
    }
    free(src), free(w), free(bias), free(want), free(got), free(packed);
}

static const fc_case fc_cases[] = {
    {1, 1, 1, 1, 1},     /* one weight */
    {1, 3, 1, 1, 17},    /* partial second panel */
    {1, 5, 3, 3, 37},    /* spatial input: the OIHW -> NHWC reorder */
    {1, 7, 2, 3, 16},    /* exactly one panel, K not a multiple of 4 */
    {1, 3, 1, 1, 64},    /* exactly one group of four panels */
    {1, 5, 3, 3, 70},    /* four panels at once, then a partial one */
    {1, 9, 2, 2, 200},   /* 2 threads: three groups of four, then partial */
    {3, 7, 2, 3, 33},    /* batch 3: the GEMM path */
    {7, 16, 3, 3, 50},   /* batch > MR */
    {1, 256, 6, 6, 20},  /* K = 9216, AlexNet fc6's */
    {2, 600, 1, 1, 40},  /* K > KC on the GEMM path */
    {3, 1024, 1, 1, 30}, /* rows 4 KiB apart: the unpacked GEMM stages them */
    {5, 256, 6, 6, 20},  /* K = 9216 at batch 5: K blocks of the unpacked GEMM */
};

/* Hand-computed: x = [1, 2] (ic = 2, 1x1), W rows [1, 0], [-3, 1], [2, 2]
 * give y = [1, -1, 6]; bias [0.5, 0, -10] and ReLU give [1.5, 0, 0]. */
static void fc_hand_case(void) {
    cnnk_layer_desc l = {.kind = CNNK_LAYER_FC,
                         .u.fc = {.mb = 1, .ic = 2, .ih = 1, .iw = 1, .oc = 3}};
    const float x[2] = {1, 2}, w[6] = {1, 0, -3, 1, 2, 2}, bias[3] = {0.5f, 0, -10};
    float *packed = malloc(g_fc->packed_size(&l) * sizeof(float));
    g_fc->pack(&l, w, packed);
    float y[3];
    cnnk_op_args a = {.src = {x}, .packed = packed, .dst = y, .dst_ld = 3, .nthreads = 1};
    g_fc->run(&l, &a);
    CHECK(y[0] == 1.0f && y[1] == -1.0f && y[2] == 6.0f);
    a.params[0] = bias;
    a.relu = true;
    g_fc->run(&l, &a);
    CHECK(y[0] == 1.5f && y[1] == 0.0f && y[2] == 0.0f);
    free(packed);
}

static void run_isa(void) {
    CHECK(!g_1x1->applies(&(cnnk_conv_desc){.g = 1, .mb = 1, .ic = 1, .ih = 3, .iw = 3, .oc = 1,
                                            .kh = 1, .kw = 1, .sh = 1, .sw = 1, .pt = 1, .dh = 1,
                                            .dw = 1}));
    uint64_t seed = 1;
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; ++i)
        run_conv_case(&conv_cases[i], i % 2 == 1, seed += 10);
    for (size_t i = 0; i < sizeof fc_cases / sizeof fc_cases[0]; ++i)
        run_fc_case(&fc_cases[i], seed += 10);
    fc_hand_case();
}

int main(void) {
    CHECK(true);
    for (int isa = 0; isa < CNNK_ISA_COUNT; ++isa) {
        if (!isa_testable("test_kernels_gemm_convs", (cnnk_isa)isa, "im2col")) continue;
        g_im2col = isa_conv((cnnk_isa)isa, "im2col");
        g_1x1 = isa_conv((cnnk_isa)isa, "1x1");
        g_1x1_sup = isa_conv((cnnk_isa)isa, "1x1_sup");
        g_im2col_sup = isa_conv((cnnk_isa)isa, "im2col_sup");
        CHECK((g_1x1_sup == NULL) == (g_im2col_sup == NULL));
        g_fc = isa_op((cnnk_isa)isa, "fc");
        CHECK(g_1x1 != NULL && g_fc != NULL);
        if (!g_1x1 || !g_fc) continue;
        printf("test_kernels_gemm_convs: %s\n", cnnk_isa_name((cnnk_isa)isa));
        run_isa();
    }
    return check_finish("test_kernels_gemm_convs");
}
