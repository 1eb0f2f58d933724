/* The reference convolution (the definition) by hand, and every scalar
 * strategy (direct, im2col, 1x1, Winograd F2/F4/F6) against it.
 *
 * Direct, im2col and 1x1 run on integers in [-3, 3]: every product and
 * partial sum is a small integer, exact in float in any order, so they must
 * equal the definition bit for bit. Winograd's transforms are not exact and
 * are held to a relative L2 bound per tile size (see wino_bound). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "cnnk/desc.h"
#include "kernels/ref/ref.h"

/* ---- helpers ------------------------------------------------------------ */

typedef cnnk_rng rng;

static int64_t rng_int(rng *r, int64_t lo, int64_t hi) { /* inclusive */
    return lo + (int64_t)(cnnk_rng_next(r) % (uint64_t)(hi - lo + 1));
}

static float rng_unif(rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)((cnnk_rng_next(r) >> 40) * (1.0 / 16777216.0));
}

/* A gap value between channels of a pitched tensor: a kernel reading it
 * gets NaN into its result; one writing it is caught by dst_gaps_intact. */
#define GAP_VALUE 1234567.0f

typedef struct shape {
    int64_t mb, g, ic, ih, iw, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
} shape;

static cnnk_conv_desc make_desc(const shape *s) {
    cnnk_conv_desc d;
    memset(&d, 0, sizeof d);
    d.mb = s->mb, d.g = s->g, d.ic = s->ic, d.ih = s->ih, d.iw = s->iw, d.oc = s->oc;
    d.kh = s->kh, d.kw = s->kw, d.sh = s->sh, d.sw = s->sw;
    d.pt = s->pt, d.pl = s->pl, d.pb = s->pb, d.pr = s->pr, d.dh = s->dh, d.dw = s->dw;
    return d;
}

static float *alloc_floats(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* Fills a pitched tensor of `pixels` x ld: channels < c from gen, the rest
 * with gap. kind 0: integers in [-3, 3]; kind 1: uniform in [-1, 1]. */
static void fill(rng *r, float *p, int64_t pixels, int64_t c, int64_t ld, int kind, float gap) {
    for (int64_t i = 0; i < pixels; ++i)
        for (int64_t j = 0; j < ld; ++j)
            p[i * ld + j] = j >= c ? gap
                            : kind == 0 ? (float)rng_int(r, -3, 3)
                                        : rng_unif(r, -1.0f, 1.0f);
}

static bool dst_gaps_intact(const float *dst, int64_t pixels, int64_t oc, int64_t ld) {
    for (int64_t i = 0; i < pixels; ++i)
        for (int64_t j = oc; j < ld; ++j)
            if (dst[i * ld + j] != GAP_VALUE)
                return false;
    return true;
}

/* pack + run with packed and workspace buffers of exactly the stated sizes
 * (ASan catches an overrun), both pre-filled with NaN: a packed element
 * pack() forgot, or a workspace element read before written, poisons dst;
 * one never written at all means the stated size is larger than needed
 * (true of these reference kernels, which fill all they ask for). */
static void run_kernel(const cnnk_conv_kernel *k, const cnnk_conv_desc *d, const float *w,
                       cnnk_conv_args a) {
    const size_t np = k->packed_size(d), nw = k->workspace_size(d, 1);
    float *packed = alloc_floats(np);
    float *ws = nw ? alloc_floats(nw) : NULL;
    for (size_t i = 0; i < np; ++i)
        packed[i] = NAN;
    for (size_t i = 0; i < nw; ++i)
        ws[i] = NAN;
    k->pack(d, w, packed);
    bool all_packed = true;
    for (size_t i = 0; i < np; ++i)
        all_packed &= !isnan(packed[i]);
    CHECK(all_packed); /* packed_size is not larger than what pack writes */
    a.packed = packed;
    a.workspace = ws;
    a.nthreads = 1;
    k->run(d, &a);
    bool all_used = true;
    for (size_t i = 0; i < nw; ++i)
        all_used &= !isnan(ws[i]);
    CHECK(all_used); /* workspace_size is not larger than what run uses */
    free(ws);
    free(packed);
}

/* ---- the definition, by hand -------------------------------------------- */

static void conv_by_hand(const shape *s, const float *src, const float *w, float *dst,
                         int64_t n_dst, const float *expected) {
    cnnk_conv_desc d = make_desc(s);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.mb * d.oh * d.ow * d.oc, n_dst);
    if (d.mb * d.oh * d.ow * d.oc != n_dst)
        return;
    cnnk_ref_conv(&d, src, d.ic, w, dst, d.oc, NULL);
    for (int64_t i = 0; i < n_dst; ++i)
        CHECK(dst[i] == expected[i]);
}

/* 1 channel, 3x3 input, 2x2 kernel: padding 1 and stride 2, then
 * asymmetric padding (top 0, left 1, bottom 1, right 0) at stride 1. */
static void test_tiny(void) {
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 2, 3, 4};
    float y[9];
    /* windows start at (-1,-1), (-1,1), (1,-1), (1,1):
     * 4*1; 3*2+4*3; 2*4+4*7; 1*5+2*6+3*8+4*9 */
    const shape strided = {1, 1, 1, 3, 3, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1};
    const float want_strided[4] = {4, 18, 36, 77};
    conv_by_hand(&strided, x, w, y, 4, want_strided);
    /* windows start at (oy, ox - 1); the last row sees only the top taps */
    const shape asym = {1, 1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 1, 1, 0, 1, 1};
    const float want_asym[9] = {18, 37, 47, 36, 67, 77, 14, 23, 26};
    conv_by_hand(&asym, x, w, y, 9, want_asym);
}

/* g = 2 on a 1x1 image: ic 4, oc 4, 1x1 kernel. Group 0 (oc 0, 1) sees
 * channels 0, 1 only; group 1 (oc 2, 3) channels 2, 3 only. */
static void test_grouped(void) {
    const float x[4] = {1, 2, 3, 4};
    const float w[8] = {1, 10, 2, 20, 100, 1000, 3, 30};
    const float want[4] = {1 * 1 + 10 * 2, 2 * 1 + 20 * 2, 100 * 3 + 1000 * 4, 3 * 3 + 30 * 4};
    float y[4];
    const shape s = {1, 2, 4, 1, 1, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1};
    conv_by_hand(&s, x, w, y, 4, want);
}

/* Dilation 2: a 2x2 kernel covers a 3x3 window. With x[h][w] = 10h + w,
 * y(r, c) = 1*x(r,c) + 2*x(r,c+2) + 3*x(r+2,c) + 4*x(r+2,c+2)
 *         = 10 * (10r + c) + 2*2 + 3*20 + 4*22 = 100r + 10c + 152. */
static void test_dilated(void) {
    float x[25], y[9];
    for (int h = 0; h < 5; ++h)
        for (int c = 0; c < 5; ++c)
            x[h * 5 + c] = (float)(10 * h + c);
    const float w[4] = {1, 2, 3, 4};
    const float want[9] = {152, 162, 172, 252, 262, 272, 352, 362, 372};
    const shape s = {1, 1, 1, 5, 5, 1, 2, 2, 1, 1, 0, 0, 0, 0, 2, 2};
    conv_by_hand(&s, x, w, y, 9, want);
}

/* The seed example: a 32x32x3 input and four 5x5x3 filters give 28x28x4.
 * With x(h, w, c) = h + 2c and filter o having one tap, weight 1, at
 * (ky, kx, c) = (o, 4 - o, o % 3), y(r, s, o) = x(r + o, s + 4 - o, o % 3)
 * = r + o + 2 (o % 3): each filter picks its own shifted pixel. */
static void test_seed(void) {
    const shape s = {1, 1, 3, 32, 32, 4, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1};
    cnnk_conv_desc d = make_desc(&s);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    CHECK_EQ_I64(d.oh, 28);
    CHECK_EQ_I64(d.ow, 28);
    float *x = alloc_floats(32 * 32 * 3), *y = alloc_floats(28 * 28 * 4);
    float w[4 * 3 * 5 * 5] = {0};
    for (int h = 0; h < 32; ++h)
        for (int c = 0; c < 32 * 3; ++c)
            x[h * 32 * 3 + c] = (float)(h + 2 * (c % 3));
    for (int o = 0; o < 4; ++o)
        w[((o * 3 + o % 3) * 5 + o) * 5 + 4 - o] = 1.0f;
    cnnk_ref_conv(&d, x, 3, w, y, 4, NULL);
    bool ok = true;
    for (int r = 0; r < 28; ++r)
        for (int c = 0; c < 28; ++c)
            for (int o = 0; o < 4; ++o)
                ok &= y[(r * 28 + c) * 4 + o] == (float)(r + o + 2 * (o % 3));
    CHECK(ok);
    /* All-ones input and filter o filled with o + 1: every output is
     * 75 (o + 1), and a bias of -100 with ReLU clips only filter 0. */
    for (int i = 0; i < 32 * 32 * 3; ++i)
        x[i] = 1.0f;
    for (int i = 0; i < 4 * 75; ++i)
        w[i] = (float)(i / 75 + 1);
    const float bias[4] = {-100, -100, -100, -100};
    const cnnk_epilogue ep = {bias, NULL, 0, true, 0.0f};
    cnnk_ref_conv(&d, x, 3, w, y, 4, &ep);
    const float want[4] = {0, 50, 125, 200};
    ok = true;
    for (int p = 0; p < 28 * 28; ++p)
        for (int o = 0; o < 4; ++o)
            ok &= y[p * 4 + o] == want[o];
    CHECK(ok);
    free(x);
    free(y);
}

/* bias, then residual, then ReLU: relu first would give {4, 1, -6, 1}. */
static void test_epilogue_order(void) {
    const float bias[4] = {2, -4, 1, 0};
    float residual[12] = {0};
    const float res_px1[4] = {4, 1, -10, -1};
    memcpy(residual + 6, res_px1, sizeof res_px1); /* pixel 1 at pitch 6 */
    float y[4] = {-5, 1, 3, 2};
    cnnk_epilogue ep = {bias, residual, 6, true, 0.0f};
    cnnk_ref_epilogue(&ep, 4, 1, y);
    CHECK(y[0] == 1 && y[1] == 0 && y[2] == 0 && y[3] == 1);
    float z[4] = {-5, 1, 3, 2};
    ep.relu = false;
    cnnk_ref_epilogue(&ep, 4, 1, z);
    CHECK(z[0] == 1 && z[1] == -2 && z[2] == -6 && z[3] == 1);
    /* leaky ReLU 0.25, last as ReLU: the negatives scaled, not clipped */
    float v[4] = {-5, 1, 3, 2};
    ep.relu = true;
    ep.relu_alpha = 0.25f;
    cnnk_ref_epilogue(&ep, 4, 1, v);
    CHECK(v[0] == 1 && v[1] == -0.5f && v[2] == -1.5f && v[3] == 1);
    float u[2] = {-1, 2};
    const cnnk_epilogue none = {NULL, NULL, 0, false, 0.0f};
    cnnk_ref_epilogue(&none, 2, 0, u);
    cnnk_ref_epilogue(NULL, 2, 0, u);
    CHECK(u[0] == -1 && u[1] == 2);
}

/* ---- batch-norm folding ---------------------------------------------------- */

/* Hand case: w 2, b 1, mean 3, var 3, eps 1, gamma 4, beta 0.5:
 * s = 4 / sqrt(4) = 2, w' = 4, b' = (1 - 3) * 2 + 0.5 = -3.5. */
static void test_bnorm_fold_hand(void) {
    const shape s = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1};
    cnnk_conv_desc d = make_desc(&s);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    float w = 2, b = 1;
    const float mean = 3, var = 3, gamma = 4, beta = 0.5f;
    cnnk_ref_bnorm_fold(&d, &w, &b, &mean, &var, &gamma, &beta, 1.0f);
    CHECK(w == 4.0f);
    CHECK(b == -3.5f);
}

/* conv(x, folded w) + folded b against bn(conv(x, w) + b), computed in
 * double from the unfolded result. The only difference is float rounding
 * of the scaled weights (half an ulp each) and of the sums, ~1e-7
 * relative; 1e-6 in relative L2 leaves room for that and nothing else. */
static void test_bnorm_fold_random(int64_t g) {
    const shape s = {2, g, 4 * g, 6, 5, 3 * g, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
    cnnk_conv_desc d = make_desc(&s);
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    rng r = {77u + (uint64_t)g};
    const int64_t nsrc = d.mb * d.ih * d.iw * d.ic, ndst = d.mb * d.oh * d.ow * d.oc;
    const int64_t nw = cnnk_conv_weights(&d), oc = d.oc;
    float *x = alloc_floats((size_t)nsrc), *w = alloc_floats((size_t)nw);
    float *y = alloc_floats((size_t)ndst), *yf = alloc_floats((size_t)ndst);
    float b[12], bf[12], mean[12], var[12], gamma[12], beta[12];
    fill(&r, x, nsrc, 1, 1, 1, 0);
    fill(&r, w, nw, 1, 1, 1, 0);
    for (int64_t o = 0; o < oc; ++o) {
        b[o] = bf[o] = rng_unif(&r, -1, 1);
        mean[o] = rng_unif(&r, -1, 1);
        var[o] = rng_unif(&r, 0.1f, 2);
        gamma[o] = rng_unif(&r, 0.5f, 2);
        beta[o] = rng_unif(&r, -1, 1);
    }
    const float eps = 1e-5f;
    cnnk_ref_conv(&d, x, d.ic, w, y, oc, NULL);
    cnnk_ref_bnorm_fold(&d, w, bf, mean, var, gamma, beta, eps);
    const cnnk_epilogue ep = {bf, NULL, 0, false, 0.0f};
    cnnk_ref_conv(&d, x, d.ic, w, yf, oc, &ep);
    double num = 0, den = 0;
    for (int64_t i = 0; i < ndst; ++i) {
        const int64_t o = i % oc;
        const double want = (double)gamma[o] * ((double)y[i] + b[o] - mean[o]) /
                                sqrt((double)var[o] + eps) + beta[o];
        num += (yf[i] - want) * (yf[i] - want);
        den += want * want;
    }
    CHECK(sqrt(num / den) <= 1e-6);
    free(x), free(w), free(y), free(yf);
}

/* ---- every strategy against the definition --------------------------------- */

typedef struct strategy {
    const cnnk_conv_kernel *k;
    int wino_m; /* 0: exact strategy */
} strategy;

static const strategy strategies[] = {
    {&cnnk_conv_direct__ref, 0},        {&cnnk_conv_im2col__ref, 0},
    {&cnnk_conv_1x1__ref, 0},           {&cnnk_conv_winograd_f2x2__ref, 2},
    {&cnnk_conv_winograd_f4x4__ref, 4}, {&cnnk_conv_winograd_f6x6__ref, 6},
};
#define N_STRATEGIES (sizeof strategies / sizeof strategies[0])

/* What each strategy must accept, written from the contract, independently
 * of the kernels' own applies(). */
static bool should_apply(const strategy *st, const cnnk_conv_desc *d) {
    if (d->transposed)
        return false;
    const bool plain = d->g == 1 && d->dh == 1 && d->dw == 1;
    switch (st->k->algo) {
    case CNNK_ALGO_DIRECT:
    case CNNK_ALGO_IM2COL:
        return true;
    case CNNK_ALGO_1X1:
        return plain && d->kh == 1 && d->kw == 1 && !(d->pt | d->pl | d->pb | d->pr);
    default:
        return plain && d->kh == 3 && d->kw == 3 && d->sh == 1 && d->sw == 1;
    }
}

/* Relative L2 error bounds of Winograd against the definition (which sums
 * in double), on data uniform in [-1, 1]: zero-mean, so outputs partly
 * cancel, a harder test than NNPACK's U(-0.1, 1). The error comes from the
 * float transforms, whose coefficients grow with the tile (F2: 1/2; F4: 5,
 * 1/24; F6: 32, 21/4, 1/90), and a deeper channel sum does not change it
 * (ic 17..128 measure alike). Worst case of this sweep over 9 seeds:
 * F2 4.9e-7 (a few float ulps, u = 6e-8), F4 2.6e-6, F6 5.9e-6. Each bound
 * is ~1.6x that worst case: any seed passes, while a wrong coefficient,
 * tile offset or border (errors of 1e-3 and up) cannot. */
static const double wino_bound[7] = {0, 0, 8e-7, 0, 4e-6, 0, 1e-5};

typedef struct sweep_stats {
    int runs[N_STRATEGIES];
    double wino_worst[7];
} sweep_stats;

typedef struct conv_case {
    shape s;
    int64_t src_extra, dst_extra; /* ld = channels + extra */
    bool bias, residual, relu;
} conv_case;

/* Buffers of one case: src, weights, epilogue operands, reference output. */
typedef struct case_data {
    cnnk_conv_desc d;
    int64_t src_ld, dst_ld, res_ld, n_in, n_out;
    float *src, *w, *bias, *res, *want, *got;
} case_data;

static void case_fill(case_data *cd, const conv_case *cc, rng *r, int kind) {
    const cnnk_conv_desc *d = &cd->d;
    fill(r, cd->src, cd->n_in, d->ic, cd->src_ld, kind, NAN);
    fill(r, cd->w, cnnk_conv_weights(d), 1, 1, kind, 0);
    fill(r, cd->bias, 1, d->oc, d->oc, kind, 0);
    fill(r, cd->res, cd->n_out, d->oc, cd->res_ld, kind, NAN);
    const cnnk_epilogue ep = {cc->bias ? cd->bias : NULL, cc->residual ? cd->res : NULL,
                              cd->res_ld, cc->relu, 0.0f};
    fill(r, cd->want, cd->n_out, 0, cd->dst_ld, 0, GAP_VALUE);
    cnnk_ref_conv(d, cd->src, cd->src_ld, cd->w, cd->want, cd->dst_ld, &ep);
    CHECK(dst_gaps_intact(cd->want, cd->n_out, d->oc, cd->dst_ld));
}

static bool outputs_equal(const case_data *cd) {
    for (int64_t i = 0; i < cd->n_out; ++i)
        for (int64_t c = 0; c < cd->d.oc; ++c)
            if (cd->got[i * cd->dst_ld + c] != cd->want[i * cd->dst_ld + c])
                return false;
    return true;
}

static double rel_l2(const case_data *cd) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < cd->n_out; ++i)
        for (int64_t c = 0; c < cd->d.oc; ++c) {
            const double a = cd->got[i * cd->dst_ld + c], b = cd->want[i * cd->dst_ld + c];
            num += (a - b) * (a - b);
            den += b * b;
        }
    return den > 0 ? sqrt(num / den) : sqrt(num); /* NaN stays NaN: fails the bound */
}

static void run_strategy(const strategy *st, case_data *cd, const conv_case *cc,
                         sweep_stats *stats, size_t si) {
    const cnnk_conv_args a = {
        .src = cd->src, .src_ld = cd->src_ld, .dst = cd->got, .dst_ld = cd->dst_ld,
        .ep = {cc->bias ? cd->bias : NULL, cc->residual ? cd->res : NULL, cd->res_ld, cc->relu},
    };
    fill(NULL, cd->got, cd->n_out, 0, cd->dst_ld, 0, GAP_VALUE);
    run_kernel(st->k, &cd->d, cd->w, a);
    CHECK(dst_gaps_intact(cd->got, cd->n_out, cd->d.oc, cd->dst_ld));
    ++stats->runs[si];
    char desc[256];
    cnnk_conv_format(&cd->d, desc, sizeof desc);
    if (!st->wino_m) {
        const bool ok = outputs_equal(cd);
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  %s differs from the definition on %s\n", st->k->name, desc);
        return;
    }
    const double e = rel_l2(cd);
    if (!(e <= stats->wino_worst[st->wino_m]))
        stats->wino_worst[st->wino_m] = e;
    CHECK(e <= wino_bound[st->wino_m]);
    if (!(e <= wino_bound[st->wino_m]))
        fprintf(stderr, "  %s: rel L2 %.3g on %s\n", st->k->name, e, desc);
}

static void run_case(const conv_case *cc, rng *r, sweep_stats *stats) {
    case_data cd = {.d = make_desc(&cc->s)};
    cnnk_error err;
    if (cnnk_conv_check(&cd.d, &err) != CNNK_OK) {
        CHECK(!"every case is a valid convolution");
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    const cnnk_conv_desc *d = &cd.d;
    cd.src_ld = d->ic + cc->src_extra;
    cd.dst_ld = d->oc + cc->dst_extra;
    cd.res_ld = d->oc + 1;
    cd.n_in = d->mb * d->ih * d->iw;
    cd.n_out = d->mb * d->oh * d->ow;
    cd.src = alloc_floats((size_t)(cd.n_in * cd.src_ld));
    cd.w = alloc_floats((size_t)cnnk_conv_weights(d));
    cd.bias = alloc_floats((size_t)d->oc);
    cd.res = alloc_floats((size_t)(cd.n_out * cd.res_ld));
    cd.want = alloc_floats((size_t)(cd.n_out * cd.dst_ld));
    cd.got = alloc_floats((size_t)(cd.n_out * cd.dst_ld));
    for (int kind = 0; kind < 2; ++kind) {
        bool filled = false;
        for (size_t si = 0; si < N_STRATEGIES; ++si) {
            const strategy *st = &strategies[si];
            const bool applies = st->k->applies(d);
            CHECK(applies == should_apply(st, d));
            if (!applies || (st->wino_m != 0) != (kind == 1))
                continue;
            if (!filled)
                case_fill(&cd, cc, r, kind);
            filled = true;
            run_strategy(st, &cd, cc, stats, si);
        }
    }
    free(cd.src), free(cd.w), free(cd.bias), free(cd.res), free(cd.want), free(cd.got);
}

/*                      mb  g  ic  ih  iw  oc kh kw sh sw pt pl pb pr dh dw */
#define S(...) {__VA_ARGS__}
static const conv_case awkward[] = {
    /* 1x1 images */
    {S(1, 1, 3, 1, 1, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1), 0, 0, true, false, false},
    {S(1, 1, 3, 1, 1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 2, 1, true, true, true},
    {S(2, 1, 5, 1, 1, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), 1, 0, false, true, false},
    {S(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1), 0, 0, false, false, false},
    /* Winograd partial tiles: 7 = 3*2+1 = 4+3 = 6+1; 5x9; 2x3; 13x11 */
    {S(1, 1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 0, 0, true, false, true},
    {S(1, 1, 5, 5, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 3, 2, true, true, false},
    {S(1, 1, 4, 7, 7, 6, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1), 0, 3, false, false, false},
    {S(2, 1, 2, 4, 5, 3, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1), 1, 1, true, false, true},
    {S(1, 1, 6, 13, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 0, 0, true, true, true},
    {S(1, 1, 8, 12, 12, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 0, 0, false, false, false},
    /* asymmetric padding, and padding as large as the checker allows
     * (kernel extent - 1: border outputs see a single input row/column) */
    {S(1, 1, 3, 6, 8, 4, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1), 1, 1, true, true, true},
    {S(1, 1, 2, 4, 3, 3, 3, 3, 1, 1, 2, 0, 2, 2, 1, 1), 0, 1, true, false, false},
    {S(3, 1, 3, 5, 6, 2, 3, 3, 1, 1, 2, 1, 0, 2, 1, 1), 2, 0, true, true, false},
    {S(1, 1, 3, 9, 7, 5, 5, 5, 1, 1, 2, 1, 0, 3, 1, 1), 0, 0, true, false, true},
    /* strides 2, 3, 4; unequal strides; AlexNet conv1 in miniature */
    {S(1, 1, 3, 9, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), 1, 1, true, true, true},
    {S(2, 1, 5, 10, 8, 3, 3, 3, 3, 3, 0, 1, 2, 0, 1, 1), 0, 0, true, false, false},
    {S(1, 1, 3, 23, 23, 5, 11, 11, 4, 4, 2, 2, 2, 2, 1, 1), 0, 2, true, false, true},
    {S(1, 1, 4, 7, 9, 3, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1), 0, 0, false, true, false},
    {S(1, 1, 4, 9, 7, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1), 0, 0, false, false, true},
    /* 1x1 kernels: stride 1, 2 (odd size), 3, 4, unequal; batch 3 */
    {S(3, 1, 7, 5, 3, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1), 2, 3, true, true, true},
    {S(1, 1, 5, 7, 7, 6, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1), 1, 1, true, true, false},
    {S(2, 1, 3, 10, 11, 4, 1, 1, 3, 3, 0, 0, 0, 0, 1, 1), 0, 0, true, false, true},
    {S(1, 1, 17, 9, 9, 2, 1, 1, 4, 4, 0, 0, 0, 0, 1, 1), 3, 0, false, false, false},
    {S(1, 1, 4, 6, 7, 5, 1, 1, 1, 2, 0, 0, 0, 0, 1, 1), 0, 1, true, true, true},
    /* groups: 2, 3, depthwise (g = ic = oc), channel multiplier 2 */
    {S(1, 2, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 1, 1, true, true, true},
    {S(2, 3, 9, 6, 4, 3, 3, 3, 2, 1, 1, 0, 1, 0, 1, 1), 0, 0, true, false, false},
    {S(1, 5, 5, 7, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 3, 1, true, true, true},
    {S(1, 4, 4, 6, 6, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), 0, 0, false, false, true},
    {S(1, 2, 6, 4, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1), 0, 2, true, false, false},
    /* dilation: 2 with 3x3 (pad 2), unequal (2, 3), with stride */
    {S(1, 1, 3, 9, 9, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2), 0, 0, true, true, true},
    {S(2, 1, 2, 10, 11, 3, 3, 2, 1, 1, 1, 0, 3, 2, 2, 3), 1, 0, true, false, false},
    {S(1, 2, 4, 11, 9, 2, 3, 3, 2, 2, 0, 1, 1, 0, 3, 2), 0, 1, false, true, true},
    /* rectangular kernels */
    {S(1, 1, 3, 6, 9, 4, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1), 0, 0, true, false, false},
    {S(1, 1, 3, 9, 6, 4, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1), 0, 0, true, false, true},
    {S(1, 1, 2, 5, 12, 3, 1, 7, 1, 2, 0, 3, 0, 3, 1, 1), 1, 1, false, true, false},
    /* deeper channels, as in real 3x3 layers: Winograd's error must not
     * grow past its bound as the channel sum lengthens */
    {S(1, 1, 64, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 0, 0, true, false, false},
    {S(1, 1, 32, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 0, 0, true, true, true},
    {S(1, 1, 128, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 0, 0, false, false, false},
    /* batch 3 through every strategy: 3x3 stride 1 */
    {S(3, 1, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 1, 2, true, true, true},
};

/* Odd channel counts 1..17 on a 3x3 (every strategy but 1x1) and on a
 * 1x1 (direct, im2col, 1x1), with pitches above the channel count. */
static void sweep_channels(rng *r, sweep_stats *stats) {
    for (int64_t ic = 1; ic <= 17; ++ic) {
        const int64_t oc = 18 - ic;
        const conv_case c3 = {S(1, 1, ic, 7, 5, oc, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), ic % 3, oc % 2,
                              true, ic % 2 == 0, ic % 3 == 0};
        const conv_case c1 = {S(1, 1, ic, 3, 4, oc, 1, 1, 1 + ic % 2, 1, 0, 0, 0, 0, 1, 1), oc % 3,
                              ic % 2, true, ic % 2 == 1, true};
        run_case(&c3, r, stats);
        run_case(&c1, r, stats);
    }
}

/* A seeded random shape, valid by construction. One in three is 3x3 at
 * stride 1 and one in five 1x1 so every strategy sees many of them. */
static conv_case random_case(rng *r) {
    conv_case c;
    shape *s = &c.s;
    const int64_t kind = rng_int(r, 0, 14);
    s->mb = rng_int(r, 1, 3);
    s->g = rng_int(r, 0, 3) == 0 ? rng_int(r, 2, 3) : 1;
    s->ic = s->g * rng_int(r, 1, 6);
    s->oc = s->g * rng_int(r, 1, 6);
    s->kh = kind < 5 ? 3 : kind < 8 ? 1 : rng_int(r, 1, 5);
    s->kw = kind < 5 ? 3 : kind < 8 ? 1 : rng_int(r, 1, 5);
    s->sh = kind < 5 ? 1 : rng_int(r, 1, 4);
    s->sw = kind < 5 ? 1 : rng_int(r, 1, 4);
    s->dh = kind < 8 || rng_int(r, 0, 2) ? 1 : rng_int(r, 2, 3);
    s->dw = kind < 8 || rng_int(r, 0, 2) ? 1 : rng_int(r, 2, 3);
    const bool nopad = kind >= 5 && kind < 8 && rng_int(r, 0, 1);
    const int64_t eh = (s->kh - 1) * s->dh + 1, ew = (s->kw - 1) * s->dw + 1;
    s->pt = nopad ? 0 : rng_int(r, 0, eh - 1);
    s->pb = nopad ? 0 : rng_int(r, 0, eh - 1);
    s->pl = nopad ? 0 : rng_int(r, 0, ew - 1);
    s->pr = nopad ? 0 : rng_int(r, 0, ew - 1);
    /* the padded input must hold one dilated kernel */
    const int64_t min_h = eh - s->pt - s->pb, min_w = ew - s->pl - s->pr;
    s->ih = rng_int(r, min_h > 1 ? min_h : 1, 13);
    s->iw = rng_int(r, min_w > 1 ? min_w : 1, 13);
    c.src_extra = rng_int(r, 0, 3);
    c.dst_extra = rng_int(r, 0, 3);
    c.bias = rng_int(r, 0, 1);
    c.residual = rng_int(r, 0, 1);
    c.relu = rng_int(r, 0, 1);
    return c;
}

static void test_strategies(void) {
    sweep_stats stats;
    memset(&stats, 0, sizeof stats);
    rng r = {20240601u};
    for (size_t i = 0; i < sizeof awkward / sizeof awkward[0]; ++i)
        run_case(&awkward[i], &r, &stats);
    sweep_channels(&r, &stats);
    for (int i = 0; i < 400; ++i) {
        const conv_case c = random_case(&r);
        run_case(&c, &r, &stats);
    }
    for (size_t si = 0; si < N_STRATEGIES; ++si) {
        const strategy *st = &strategies[si];
        printf("%-20s %4d cases", st->k->name, stats.runs[si]);
        if (st->wino_m)
            printf(", max rel L2 %.3g (bound %.0e)", stats.wino_worst[st->wino_m],
                   wino_bound[st->wino_m]);
        printf("\n");
        CHECK(stats.runs[si] >= 50); /* the sweep really exercises each one */
    }
}

/* ---- applies(): false where a strategy cannot do the shape ----------------- */

static void test_applies(void) {
    const shape base = {1, 1, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
    cnnk_conv_desc d3 = make_desc(&base);
    CHECK(cnnk_conv_check(&d3, NULL) == CNNK_OK);
    const cnnk_conv_kernel *wino[3] = {&cnnk_conv_winograd_f2x2__ref,
                                       &cnnk_conv_winograd_f4x4__ref,
                                       &cnnk_conv_winograd_f6x6__ref};
    shape s5 = base, st2 = base, dil = base, grp = base, asym = base;
    s5.kh = s5.kw = 5;
    st2.sh = 2;
    dil.dw = 2;
    grp.g = 2;
    asym.pt = 0, asym.pl = 2, asym.pr = 0;
    cnnk_conv_desc d5 = make_desc(&s5), ds = make_desc(&st2), dd = make_desc(&dil),
                   dg = make_desc(&grp), da = make_desc(&asym), dt = d3;
    CHECK(cnnk_conv_check(&d5, NULL) == CNNK_OK && cnnk_conv_check(&ds, NULL) == CNNK_OK);
    CHECK(cnnk_conv_check(&dd, NULL) == CNNK_OK && cnnk_conv_check(&dg, NULL) == CNNK_OK);
    CHECK(cnnk_conv_check(&da, NULL) == CNNK_OK);
    dt.transposed = true;
    for (int i = 0; i < 3; ++i) {
        CHECK(wino[i]->applies(&d3));
        CHECK(wino[i]->applies(&da));
        CHECK(!wino[i]->applies(&d5));
        CHECK(!wino[i]->applies(&ds));
        CHECK(!wino[i]->applies(&dd));
        CHECK(!wino[i]->applies(&dg));
        CHECK(!wino[i]->applies(&dt));
    }
    const cnnk_conv_kernel *k1 = &cnnk_conv_1x1__ref;
    shape s1 = base, p1 = base, g1 = base;
    s1.kh = s1.kw = 1, s1.pt = s1.pl = s1.pb = s1.pr = 0, s1.sh = s1.sw = 2;
    p1.kh = p1.kw = 1, p1.pt = p1.pl = 0; /* padding only at the bottom/right */
    g1 = s1, g1.g = 2;
    cnnk_conv_desc d1 = make_desc(&s1), dp = make_desc(&p1), dg1 = make_desc(&g1);
    CHECK(cnnk_conv_check(&d1, NULL) == CNNK_OK);
    /* A padded 1x1 is a valid convolution (its border is the bias alone),
     * but not the 1x1 strategy's business. */
    CHECK(cnnk_conv_check(&dp, NULL) == CNNK_OK);
    CHECK(cnnk_conv_check(&dg1, NULL) == CNNK_OK);
    CHECK(k1->applies(&d1));
    CHECK(!k1->applies(&dp));
    CHECK(!k1->applies(&dg1));
    CHECK(!k1->applies(&d3));
    cnnk_conv_desc dt1 = d1;
    dt1.transposed = true;
    CHECK(!k1->applies(&dt1));
    CHECK(!cnnk_conv_direct__ref.applies(&dt) && !cnnk_conv_im2col__ref.applies(&dt));
    CHECK(cnnk_conv_direct__ref.applies(&dg) && cnnk_conv_im2col__ref.applies(&dd));
}

/* Names, algorithms and ISA of the entries, which the registry and the
 * command line look kernels up by. */
static void test_entries(void) {
    for (size_t si = 0; si < N_STRATEGIES; ++si)
        CHECK(strategies[si].k->isa == CNNK_ISA_REF);
    CHECK(!strcmp(cnnk_conv_direct__ref.name, "ref/direct"));
    CHECK(!strcmp(cnnk_conv_im2col__ref.name, "ref/im2col"));
    CHECK(!strcmp(cnnk_conv_1x1__ref.name, "ref/1x1"));
    CHECK(!strcmp(cnnk_conv_winograd_f2x2__ref.name, "ref/winograd_f2x2"));
    CHECK(!strcmp(cnnk_conv_winograd_f4x4__ref.name, "ref/winograd_f4x4"));
    CHECK(!strcmp(cnnk_conv_winograd_f6x6__ref.name, "ref/winograd_f6x6"));
    CHECK(cnnk_conv_winograd_f2x2__ref.algo == CNNK_ALGO_WINOGRAD_F2);
    CHECK(cnnk_conv_winograd_f4x4__ref.algo == CNNK_ALGO_WINOGRAD_F4);
    CHECK(cnnk_conv_winograd_f6x6__ref.algo == CNNK_ALGO_WINOGRAD_F6);
    CHECK(cnnk_conv_1x1__ref.algo == CNNK_ALGO_1X1);
    CHECK(cnnk_conv_im2col__ref.algo == CNNK_ALGO_IM2COL);
    CHECK(cnnk_conv_direct__ref.algo == CNNK_ALGO_DIRECT);
}

int main(void) {
    test_tiny();
    test_grouped();
    test_dilated();
    test_seed();
    test_epilogue_order();
    test_bnorm_fold_hand();
    test_bnorm_fold_random(1);
    test_bnorm_fold_random(3);
    test_applies();
    test_entries();
    test_strategies();
    return check_finish("test_ref_conv");
}
