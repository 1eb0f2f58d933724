/* Whole-network proof against the reference plan (ref/direct, ref ops). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "validate/net_check.h"
#include "validate/det_check.h"

#include "cnnk/npy.h"

#define TOPK 5

/* The bounds on the logits' relative L2 error, against the reference
 * plan (ref/direct accumulates in double). Direct, im2col and 1x1 differ
 * from it only by float summation order; Winograd adds the error of its
 * transforms, which grows with the tile (F6 loses most). Measured maxima
 * (docs/RUNNER.md: ref kernels, all families, 32x32 to 224x224): direct
 * class 1.3e-6, F2 1.0e-6, F4 1.3e-6, F6 4.9e-6; each bound leaves about
 * a 10x margin for other summation orders (SIMD, FMA, threads). */
/* Measured worst (docs/RUNNER.md, AVX2 and reference kernels, the five
 * networks and VGG-11 at 224x224): direct-class 3.4e-6, F2 2.5e-6,
 * F4 3.1e-6, F6 4.9e-6; each bound leaves a 3-4x margin. */
double cnnk_net_tolerance(cnnk_algo worst) {
    switch (worst) {
    case CNNK_ALGO_WINOGRAD_F6: return 2e-5;
    default: return 1e-5;
    }
}

/* How far an algorithm strays from the definition, for picking a run's
 * least accurate one. */
static int inaccuracy(cnnk_algo a) {
    switch (a) {
    case CNNK_ALGO_WINOGRAD_F6: return 3;
    case CNNK_ALGO_WINOGRAD_F4: return 2;
    case CNNK_ALGO_WINOGRAD_F2: return 1;
    default: return 0;
    }
}

static cnnk_algo worst_algo(const cnnk_runner *r, int *fallbacks) {
    cnnk_algo worst = CNNK_ALGO_DIRECT;
    *fallbacks = 0;
    for (int i = 0; i < cnnk_runner_step_count(r); ++i) {
        const cnnk_step_info *s = cnnk_runner_step(r, i);
        if (strncmp(s->note, "fallback", 8) == 0) ++*fallbacks;
        const cnnk_conv_kernel *k = cnnk_conv_kernel_find(s->kernel);
        if (k && inaccuracy(k->algo) > inaccuracy(worst)) worst = k->algo;
    }
    return worst;
}

/* Indices of the k largest of v[0..n) in decreasing order. */
static void top_k(const float *v, int64_t n, int k, int64_t *idx) {
    for (int j = 0; j < k; ++j) {
        int64_t best = -1;
        for (int64_t i = 0; i < n; ++i) {
            bool taken = false;
            for (int t = 0; t < j; ++t) taken |= idx[t] == i;
            if (!taken && (best < 0 || v[i] > v[best])) best = i;
        }
        idx[j] = best;
    }
}

/* Top-5 compared as sets: top-5 accuracy asks membership, and the order
 * inside it can swap between two logits closer than the rounding error.
 * A set difference is a tie, not a failure, only when the reference's
 * 5th and 6th logits are closer than twice the measured largest error of
 * that image's logits: then rounding alone can swap them. */
static bool top5_agree(const float *got, const float *want, int64_t classes) {
    const int k = classes < TOPK ? (int)classes : TOPK;
    int64_t a[TOPK + 1], b[TOPK];
    top_k(want, classes, k < classes ? k + 1 : k, a);
    top_k(got, classes, k, b);
    int common = 0;
    for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j) common += a[i] == b[j];
    if (common == k) return true;
    if (k == classes) return false;
    double err = 0;
    /* A compare, not fmax: GCC 12's AArch64 vectoriser hits an internal
     * compiler error on the fmax reduction of widened floats. */
    for (int64_t i = 0; i < classes; ++i) {
        const double e = fabs((double)got[i] - want[i]);
        if (e > err) err = e;
    }
    return common == k - 1 && (double)want[a[k - 1]] - want[a[k]] <= 2 * err;
}

/* A segmentation map's pixel: the same class wins, or the reference's
 * winner and the plan's are closer in the reference than twice the
 * pixel's largest error (rounding alone can swap them: a tie). */
static bool argmax_agrees(const float *got, const float *want, int64_t classes) {
    int64_t g = 0, w = 0;
    double err = 0;
    for (int64_t i = 0; i < classes; ++i) {
        if (got[i] > got[g]) g = i;
        if (want[i] > want[w]) w = i;
        const double e = fabs((double)got[i] - want[i]);
        if (e > err) err = e;
    }
    return g == w || (double)want[w] - want[g] <= 2 * err;
}

typedef struct net_run {
    const cnnk_net *net;
    bool map;            /* a segmentation map: classes per pixel, argmax compared */
    const float *input;
    const float *want;
    const float *expect; /* the framework's output in cnnk's layout, or NULL */
    float *got;
    int64_t classes, elems;
    FILE *out;           /* every line; NULL: failures only, to stderr */
} net_run;

static cnnk_status run_plan(const net_run *nr, cnnk_isa isa, const cnnk_plan *p,
                            cnnk_runner **out, cnnk_error *err) {
    cnnk_status s = cnnk_runner_prepare(nr->net, isa, p, 1, out, err);
    if (s == CNNK_OK) cnnk_runner_forward(*out, nr->input, nr->got, false);
    return s;
}

/* got against one expected output: rel_l2 within bound and top-5 alike. */
static bool agree(const net_run *nr, const float *want, double bound, cnnk_diff *d, bool *top5) {
    cnnk_diff_compute(nr->got, want, nr->elems, d);
    *top5 = true;
    for (int64_t i = 0; i < nr->elems / nr->classes; ++i)
        *top5 &= nr->map ? argmax_agrees(nr->got + i * nr->classes, want + i * nr->classes,
                                         nr->classes)
                         : top5_agree(nr->got + i * nr->classes, want + i * nr->classes,
                                      nr->classes);
    return *top5 && !d->mistrust && d->rel_l2 <= bound;
}

static void report(const net_run *nr, cnnk_isa isa, const char *plan, const char *against,
                   bool pass, const cnnk_diff *d, double bound, bool top5, int fallbacks) {
    FILE *f = nr->out ? nr->out : pass ? NULL : stderr;
    if (!f) return;
    fprintf(f, "net %-12s %lldx%lldx%lldx%lld %-5s %-21s %s%s rel_l2=%.3g (bound %.0e) %s %s "
               "fallbacks=%d%s%s\n",
            nr->net->name, (long long)nr->net->mb, (long long)nr->net->c, (long long)nr->net->h,
            (long long)nr->net->w, cnnk_isa_name(isa), plan, against, pass ? "pass" : "FAIL",
            d->rel_l2, bound, nr->map ? "argmax" : "top5", top5 ? "agree" : "DIFFER", fallbacks,
            d->mistrust ? ": not trusted, " : "", d->mistrust ? cnnk_mistrust_str(d->mistrust) : "");
}

/* A detection network's output: its boxes after NMS, compared as
 * detections (validate/det_check.h), not as logits. */
static const cnnk_detect_desc *det_out(const cnnk_net *net) {
    const cnnk_node *last = &net->nodes[net->n - 1];
    return last->op == CNNK_NODE_DETECT ? &last->desc.u.detect : NULL;
}

static bool det_agree(const net_run *nr, cnnk_isa isa, const char *plan, double bound,
                      int fallbacks) {
    const cnnk_detect_desc *d = det_out(nr->net);
    const cnnk_det_tol t = cnnk_det_tolerance(d, bound);
    cnnk_det_diff x;
    cnnk_det_compare(d, nr->got, nr->want, t, &x);
    const bool pass = x.unexplained == 0;
    FILE *f = nr->out ? nr->out : pass ? NULL : stderr;
    if (f)
        fprintf(f, "net %-12s %lldx%lldx%lldx%lld %-5s %-21s %s detections %lld of %lld matched "
                   "(got %lld) flips=%lld unexplained=%lld max_box=%.3g px (tol %.3g) "
                   "max_score=%.3g (tol %.3g) fallbacks=%d\n",
                nr->net->name, (long long)nr->net->mb, (long long)nr->net->c,
                (long long)nr->net->h, (long long)nr->net->w, cnnk_isa_name(isa), plan,
                pass ? "pass" : "FAIL", (long long)x.matched, (long long)x.want,
                (long long)x.got, (long long)x.flips, (long long)x.unexplained, x.max_box, t.box,
                x.max_score, t.score, fallbacks);
    return pass;
}

/* Against the expected output (a float32 framework's), a plan's bound is
 * its own plus the direct-class one: the framework is itself a float32
 * direct/GEMM computation whose distance to the reference plan the
 * direct-class bound covers, and rel_l2 obeys the triangle inequality
 * (docs/TOLERANCE.md). */
static double expect_bound(cnnk_algo worst) {
    return cnnk_net_tolerance(worst) + cnnk_net_tolerance(CNNK_ALGO_DIRECT);
}

static cnnk_status check_plan(const net_run *nr, cnnk_isa isa, const cnnk_plan *p,
                              cnnk_validate_counts *counts, cnnk_error *err) {
    cnnk_runner *r;
    if (run_plan(nr, isa, p, &r, err) != CNNK_OK) return CNNK_EUNSUPPORTED;
    int fallbacks;
    const cnnk_algo worst = worst_algo(r, &fallbacks);
    cnnk_runner_destroy(r);
    char plan[64];
    cnnk_plan_format(p, plan, sizeof plan);
    cnnk_diff d;
    bool top5;
    const double bound = cnnk_net_tolerance(worst);
    if (det_out(nr->net)) {
        det_agree(nr, isa, plan, bound, fallbacks) ? ++counts->passed : ++counts->failed;
        return CNNK_OK;
    }
    const bool pass = agree(nr, nr->want, bound, &d, &top5);
    pass ? ++counts->passed : ++counts->failed;
    report(nr, isa, plan, "", pass, &d, bound, top5, fallbacks);
    if (nr->expect) {
        const bool ok = agree(nr, nr->expect, expect_bound(worst), &d, &top5);
        ok ? ++counts->passed : ++counts->failed;
        report(nr, isa, plan, "vs expected ", ok, &d, expect_bound(worst), top5, fallbacks);
    }
    return CNNK_OK;
}

static cnnk_status check_isa(const net_run *nr, cnnk_isa isa, cnnk_validate_counts *counts,
                             cnnk_error *err) {
    cnnk_plan p = {.kind = CNNK_PLAN_HEURISTIC, .algo = CNNK_ALGO_DIRECT};
    if (check_plan(nr, isa, &p, counts, err) != CNNK_OK) return CNNK_EUNSUPPORTED;
    p.kind = CNNK_PLAN_FIXED;
    for (int a = 0; a < CNNK_ALGO_COUNT; ++a) {
        p.algo = (cnnk_algo)a;
        if (check_plan(nr, isa, &p, counts, err) != CNNK_OK) return CNNK_EUNSUPPORTED;
    }
    return CNNK_OK;
}

static cnnk_status check_all(net_run *nr, const bool isa[CNNK_ISA_COUNT],
                             cnnk_validate_counts *counts, cnnk_error *err) {
    const cnnk_plan ref = {.kind = CNNK_PLAN_REF, .algo = CNNK_ALGO_DIRECT};
    cnnk_runner *r;
    if (run_plan(nr, CNNK_ISA_REF, &ref, &r, err) != CNNK_OK) return CNNK_EUNSUPPORTED;
    cnnk_runner_destroy(r);
    memcpy((float *)nr->want, nr->got, (size_t)nr->elems * sizeof(float));
    if (nr->expect) {
        /* the reference plan itself against the framework */
        cnnk_diff d;
        bool top5;
        const double bound = cnnk_net_tolerance(CNNK_ALGO_DIRECT);
        const bool ok = agree(nr, nr->expect, bound, &d, &top5);
        ok ? ++counts->passed : ++counts->failed;
        report(nr, CNNK_ISA_REF, "ref", "vs expected ", ok, &d, bound, top5, 0);
    }
    for (int i = 0; i < CNNK_ISA_COUNT; ++i) {
        if (!isa[i]) continue;
        if (!cnnk_isa_available((cnnk_isa)i)) {
            ++counts->skipped;
            if (nr->out)
                fprintf(nr->out, "net %-12s %-5s skip: this CPU does not run %s\n", nr->net->name,
                        cnnk_isa_name((cnnk_isa)i), cnnk_isa_name((cnnk_isa)i));
            continue;
        }
        if (check_isa(nr, (cnnk_isa)i, counts, err) != CNNK_OK) return CNNK_EUNSUPPORTED;
    }
    return CNNK_OK;
}

int64_t cnnk_net_output_elems(const cnnk_net *net) {
    const cnnk_node *last = &net->nodes[net->n - 1];
    return cnnk_net_node_batch(net, last) * last->h * last->w * last->c;
}

void cnnk_net_output_to_framework(const cnnk_net *net, const float *src, float *dst) {
    const cnnk_node *last = &net->nodes[net->n - 1];
    /* NCHW, or NCHW flattened to [N, C*H*W] (a Flatten at the end): the
     * same transposition; for N x C x 1 x 1 it is a copy. */
    cnnk_nhwc_to_nchw(dst, src, cnnk_net_node_batch(net, last), last->c, last->h, last->w);
}

cnnk_status cnnk_validate_net_built(const cnnk_net *net, const float *input, const float *expect,
                                    uint64_t seed, const bool isa[CNNK_ISA_COUNT], FILE *out,
                                    cnnk_validate_counts *counts, cnnk_error *err) {
    const cnnk_node *last = &net->nodes[net->n - 1];
    /* A map of class scores per pixel (FCN's): each pixel's argmax is the
     * answer; otherwise the whole output is one image's classes (each
     * region's, R rows per image, for a network of reps R: R-CNN's). */
    const bool map = last->op != CNNK_NODE_FC && last->h * last->w > 1;
    net_run nr = {.net = net, .map = map, .classes = map ? last->c : last->h * last->w * last->c,
                  .out = out};
    nr.elems = cnnk_net_output_elems(net);
    const int64_t nin = net->mb * net->h * net->w * net->c;
    float *in = input ? NULL : malloc((size_t)nin * sizeof *in);
    float *want = malloc((size_t)nr.elems * sizeof *want);
    float *exp = expect ? malloc((size_t)nr.elems * sizeof *exp) : NULL;
    nr.got = malloc((size_t)nr.elems * sizeof *nr.got);
    cnnk_status s = CNNK_OK;
    if ((!input && !in) || !want || !nr.got || (expect && !exp)) {
        s = cnnk_fail(err, CNNK_ENOMEM, "validate: out of memory for %s", net->name);
    } else {
        if (!input) cnnk_fill_tensor(in, nin, CNNK_FILL_FLOAT, 1, seed);
        if (expect) {
            /* the framework's NCHW, flattened or not (see above) */
            cnnk_nchw_to_nhwc(exp, expect, cnnk_net_node_batch(net, last), last->c, last->h,
                              last->w);
        }
        nr.input = input ? input : in;
        nr.want = want;
        nr.expect = exp;
        s = check_all(&nr, isa, counts, err);
    }
    free(in), free(want), free(exp), free(nr.got);
    return s;
}

cnnk_status cnnk_validate_net(const char *name, int64_t mb, int64_t h, int64_t w, uint64_t seed,
                              const bool isa[CNNK_ISA_COUNT], FILE *out,
                              cnnk_validate_counts *counts, cnnk_error *err) {
    cnnk_net *net = NULL;
    cnnk_status s = cnnk_net_build(name, mb, h, w, &net, err);
    if (s != CNNK_OK) return s;
    s = cnnk_net_init_weights(net, seed, err);
    cnnk_node *last = &net->nodes[net->n - 1];
    if (s == CNNK_OK && last->op == CNNK_NODE_DETECT &&
        last->desc.u.detect.alg != CNNK_DETECT_RPN) {
        /* At 0 every box with a positive score goes through NMS: the same
         * code with more decisions than at 0.2, and never two empty lists
         * (random weights at 64x64 score every box below 0.2: yolov1's
         * outputs have RMS 0.08 there, docs/TOLERANCE.md). */
        const double defined = last->desc.u.detect.thresh;
        last->desc.u.detect.thresh = 0.0f;
        if (out)
            fprintf(out, "net %s: detections compared at score threshold 0, not %g, so that "
                         "every box goes through NMS\n", net->name, defined);
    }
    if (s == CNNK_OK) s = cnnk_validate_net_built(net, NULL, NULL, seed, isa, out, counts, err);
    cnnk_net_destroy(net);
    return s;
}
