/* The checker engine behind `cnnk validate` and the tests.
 *
 * A convolution case fills src, weights, bias (and residual) once, computes
 * the definition (cnnk_ref_conv / cnnk_ref_deconv), then runs every selected
 * registry kernel through its real contract (pack, then run with its own
 * workspace) and compares; with --against onednn the definition is also
 * compared with oneDNN's primitive. Other layer kinds have their reference
 * compared with oneDNN. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/cpu.h"
#include "cnnk/proposals.h"
#include "core/rng.h"
#include "kernels/ref/ref.h"
#include "validate/check.h"
#include "validate/onednn.h"

void cnnk_validate_opts_init(cnnk_validate_opts *o) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < CNNK_ISA_COUNT; ++i) o->isa[i] = true;
    for (int i = 0; i < CNNK_ALGO_COUNT; ++i) o->algo[i] = true;
    o->kernels = true;
    o->fill = CNNK_FILL_INT;
    o->seed = 1;
    o->out = stdout;
}

void cnnk_fill_tensor(float *p, int64_t n, cnnk_fill fill, int range, uint64_t seed) {
    cnnk_rng s = {seed};
    for (int64_t i = 0; i < n; ++i) {
        uint64_t r = cnnk_rng_next(&s);
        if (fill == CNNK_FILL_INT)
            p[i] = (float)((int64_t)(r % (uint64_t)(2 * range + 1)) - range);
        else
            p[i] = (float)(((double)(r >> 11) * 0x1.0p-53 * 2.0 - 1.0) * range);
    }
}

/* Whether two non-finite-involving values agree: the same NaN-ness, or the
 * same infinity. A NaN never equals itself, so == alone would fail NaN
 * propagation, and |g - w| alone (NaN for any NaN or inf - inf) would
 * compare false against every bound and be silently skipped. */
static bool same_nonfinite(double g, double w) {
    if (isnan(g) || isnan(w)) return isnan(g) && isnan(w);
    return g == w;
}

void cnnk_diff_compute(const float *got, const float *want, int64_t n, cnnk_diff *d) {
    double max_abs = 0, max_rel = 0, num = 0, den = 0;
    int64_t nonfinite = 0;
    bool all_equal = true;
    d->mistrust = CNNK_TRUSTED;
    for (int64_t i = 0; i < n; ++i) {
        double g = got[i], w = want[i];
        if (!isfinite(g) || !isfinite(w)) {
            if (!same_nonfinite(g, w)) {
                d->max_abs = d->max_rel = d->rel_l2 = INFINITY;
                return;
            }
            ++nonfinite;
        } else {
            double e = fabs(g - w);
            double r = fabs(w) > 0 ? e / fabs(w) : e;
            if (e > max_abs) max_abs = e;
            if (r > max_rel) max_rel = r;
            num += e * e;
            den += w * w;
        }
        /* bitwise, so that -0 against 0 and NaN against NaN count as a
         * difference in the reference: a varied output is what we trust */
        if (all_equal && i > 0 && memcmp(&want[i], &want[0], sizeof want[0]) != 0)
            all_equal = false;
    }
    d->max_abs = max_abs;
    d->max_rel = max_rel;
    d->rel_l2 = den > 0 ? sqrt(num / den) : sqrt(num);
    /* As benchdnn: an expected output that is non-finite throughout, or one
     * value repeated, cannot tell a right kernel from a wrong one. */
    if (n > 0 && nonfinite == n) d->mistrust = CNNK_MISTRUST_NONFINITE;
    else if (n >= CNNK_MISTRUST_MIN_VALUES && all_equal) d->mistrust = CNNK_MISTRUST_CONSTANT;
}

void cnnk_diff_max(cnnk_diff *acc, const cnnk_diff *d) {
    /* fmax would drop a NaN; an infinite measure already marks failure. */
    if (!(acc->max_abs >= d->max_abs)) acc->max_abs = d->max_abs;
    if (!(acc->max_rel >= d->max_rel)) acc->max_rel = d->max_rel;
    if (!(acc->rel_l2 >= d->rel_l2)) acc->rel_l2 = d->rel_l2;
    if (acc->mistrust == CNNK_TRUSTED) acc->mistrust = d->mistrust;
}

const char *cnnk_mistrust_str(cnnk_mistrust m) {
    switch (m) {
    case CNNK_TRUSTED: return "trusted";
    case CNNK_MISTRUST_NONFINITE: return "the expected output is non-finite throughout";
    case CNNK_MISTRUST_CONSTANT: return "the expected output is one value repeated";
    }
    return "?";
}

/* Every buffer a kernel is given (inputs, output, packed weights,
 * workspace) sits between two runs of GUARD canary floats, checked after
 * each run: a write one element outside a buffer fails the case even where
 * ASan cannot see it (JIT code, a Release build, a custom allocator). The
 * canary is a NaN whose bits no kernel computes. */
enum { GUARD = CNNK_GUARD_FLOATS };
static const uint32_t CANARY = 0x7fc0ca1au;

float *cnnk_guarded_alloc(int64_t n) {
    const size_t count = (size_t)(n > 0 ? n : 0) + 2 * GUARD;
    size_t bytes = (count * sizeof(float) + 63) & ~(size_t)63;
    float *base = aligned_alloc(64, bytes);
    if (!base) return NULL;
    memset(base, 0, bytes);
    for (size_t i = 0; i < GUARD; ++i) {
        memcpy(&base[i], &CANARY, sizeof CANARY);
        memcpy(&base[count - GUARD + i], &CANARY, sizeof CANARY);
    }
    return base + GUARD;
}

void cnnk_guarded_free(float *p) {
    if (p) free(p - GUARD);
}

bool cnnk_guarded_intact(const float *p, int64_t n) {
    if (!p) return true;
    const float *after = p + (n > 0 ? n : 0);
    for (int i = 0; i < GUARD; ++i) {
        uint32_t b, a;
        memcpy(&b, &p[i - GUARD], sizeof b);
        memcpy(&a, &after[i], sizeof a);
        if (b != CANARY || a != CANARY) return false;
    }
    return true;
}

/* The first of nb buffers whose guards a kernel overwrote, or NULL. */
typedef struct guarded {
    const char *name;
    const float *p;
    int64_t n;
} guarded;

static const char *clobbered(const guarded *b, int nb) {
    for (int i = 0; i < nb; ++i)
        if (!cnnk_guarded_intact(b[i].p, b[i].n)) return b[i].name;
    return NULL;
}

/* A case whose kernel wrote outside a buffer fails whatever its values. */
static void mark_clobbered(const cnnk_validate_opts *o, const char *what, const char *kernel,
                           const char *buffer, cnnk_diff *d) {
    d->max_abs = d->max_rel = d->rel_l2 = INFINITY;
    if (o->out)
        fprintf(o->out, "      %s: %s wrote outside its %s buffer (a guard was overwritten)\n",
                what, kernel, buffer);
}

static const char *case_name(const cnnk_layer_desc *l, char *buf, size_t len) {
    const char *name = cnnk_layer_name(l);
    if (name[0]) return name;
    if (l->kind == CNNK_LAYER_CONV || l->kind == CNNK_LAYER_DECONV) {
        cnnk_conv_format(&l->u.conv, buf, len);
        return buf;
    }
    return cnnk_layer_kind_name(l->kind);
}

static void report(const cnnk_validate_opts *o, cnnk_validate_counts *c, const char *kind,
                   const char *name, const char *kernel, const cnnk_diff *d,
                   const cnnk_tolerance *t, const char *skip_why) {
    if (skip_why) {
        ++c->skipped;
        if (o->out) fprintf(o->out, "skip  %-7s %-40s %-24s %s\n", kind, name, kernel, skip_why);
        return;
    }
    bool ok = cnnk_tolerance_pass(*t, d);
    ok ? ++c->passed : ++c->failed;
    if (!ok && d->mistrust) ++c->mistrusted;
    if (o->out)
        fprintf(o->out,
                "%s  %-7s %-40s %-24s max_abs=%.3g max_rel=%.3g rel_l2=%.3g (%s<=%.3g)%s%s\n",
                ok ? "pass" : "FAIL", kind, name, kernel, d->max_abs, d->max_rel, d->rel_l2,
                cnnk_tol_measure_name(t->measure), t->bound,
                d->mistrust ? ": not trusted, " : "",
                d->mistrust ? cnnk_mistrust_str(d->mistrust) : "");
}

/* ---- convolution --------------------------------------------------------- */

typedef struct conv_case {
    const cnnk_conv_desc *d;
    float *src, *w, *bias, *res, *want, *got;
    cnnk_epilogue ep;
    int64_t nsrc, ndst;
} conv_case;

static void conv_case_free(conv_case *c) {
    cnnk_guarded_free(c->src), cnnk_guarded_free(c->w), cnnk_guarded_free(c->bias), cnnk_guarded_free(c->res);
    cnnk_guarded_free(c->want), cnnk_guarded_free(c->got);
}

static cnnk_status conv_case_init(const cnnk_validate_opts *o, const cnnk_conv_desc *d,
                                  conv_case *c, cnnk_error *err) {
    memset(c, 0, sizeof *c);
    c->d = d;
    c->nsrc = cnnk_conv_src_elems(d);
    c->ndst = cnnk_conv_dst_elems(d);
    int64_t nw = cnnk_conv_weights(d);
    c->src = cnnk_guarded_alloc(c->nsrc);
    c->w = cnnk_guarded_alloc(nw);
    c->bias = cnnk_guarded_alloc(d->oc);
    c->res = cnnk_guarded_alloc(c->ndst);
    c->want = cnnk_guarded_alloc(c->ndst);
    c->got = cnnk_guarded_alloc(c->ndst);
    if (!c->src || !c->w || !c->bias || !c->res || !c->want || !c->got) {
        conv_case_free(c);
        return cnnk_fail(err, CNNK_ENOMEM, "validate: out of memory for a %lld-element case",
                         (long long)(c->nsrc + c->ndst + nw));
    }
    /* Ranges keep every integer partial sum far below 2^24 for K <= 2^16. */
    cnnk_fill_tensor(c->src, c->nsrc, o->fill, 4, o->seed * 4 + 0);
    cnnk_fill_tensor(c->w, nw, o->fill, 3, o->seed * 4 + 1);
    cnnk_fill_tensor(c->bias, d->oc, o->fill, 8, o->seed * 4 + 2);
    cnnk_fill_tensor(c->res, c->ndst, o->fill, 4, o->seed * 4 + 3);
    c->ep.bias = c->bias;
    c->ep.residual = o->residual ? c->res : NULL;
    c->ep.residual_ld = d->oc;
    c->ep.relu = o->relu;
    c->ep.relu_alpha = o->relu_alpha;
    cnnk_ref_conv(d, c->src, d->ic, c->w, c->want, d->oc, &c->ep);
    return CNNK_OK;
}

/* Every kernel gets a workspace sized for more threads than it runs with:
 * kernel.h lets a run use any count up to the workspace's, and a kernel
 * whose need is not monotone in the thread count would overflow here. */
#define CHECK_WS_THREADS 4

/* *bad gets the name of a buffer the kernel wrote outside of, or NULL. */
static cnnk_status run_conv_kernel(const cnnk_conv_kernel *k, conv_case *c, int nthreads,
                                   const char **bad, cnnk_error *err) {
    const cnnk_conv_desc *d = c->d;
    const int64_t npacked = (int64_t)k->packed_size(d);
    const int64_t nws = (int64_t)k->workspace_size(d, CHECK_WS_THREADS);
    float *packed = cnnk_guarded_alloc(npacked);
    float *ws = cnnk_guarded_alloc(nws);
    if (!packed || !ws) {
        cnnk_guarded_free(packed), cnnk_guarded_free(ws);
        return cnnk_fail(err, CNNK_ENOMEM, "validate: out of memory packing for %s", k->name);
    }
    k->pack(d, c->w, packed);
    /* Poison the output so a kernel that skips a value cannot pass. */
    for (int64_t i = 0; i < c->ndst; ++i) c->got[i] = NAN;
    cnnk_conv_args a = {.src = c->src, .src_ld = d->ic, .packed = packed, .dst = c->got,
                        .dst_ld = d->oc, .ep = c->ep, .workspace = ws, .nthreads = nthreads};
    k->run(d, &a);
    const int64_t nw = cnnk_conv_weights(d);
    const guarded b[] = {{"output", c->got, c->ndst}, {"packed weights", packed, npacked},
                         {"workspace", ws, nws},      {"input", c->src, c->nsrc},
                         {"weights", c->w, nw},       {"bias", c->bias, d->oc},
                         {"residual", c->res, c->ndst}};
    *bad = clobbered(b, (int)(sizeof b / sizeof b[0]));
    cnnk_guarded_free(packed), cnnk_guarded_free(ws);
    return CNNK_OK;
}

static cnnk_status validate_conv(const cnnk_validate_opts *o, const cnnk_layer_desc *l,
                                 const char *name, cnnk_validate_counts *cnt, cnnk_error *err) {
    const cnnk_conv_desc *d = &l->u.conv;
    const char *kind = cnnk_layer_kind_name(l->kind);
    conv_case c;
    cnnk_status s = conv_case_init(o, d, &c, err);
    if (s != CNNK_OK) return s;
    cnnk_diff diff;
    for (size_t i = 0; o->kernels && i < cnnk_conv_kernel_count(); ++i) {
        const cnnk_conv_kernel *k = cnnk_conv_kernel_at(i);
        if (!o->isa[k->isa] || !o->algo[k->algo]) continue;
        if (!cnnk_isa_available(k->isa)) {
            report(o, cnt, kind, name, k->name, NULL, NULL, "not-available: CPU lacks the ISA");
            continue;
        }
        if (!k->applies(d)) {
            report(o, cnt, kind, name, k->name, NULL, NULL, "not-applicable");
            continue;
        }
        const char *bad = NULL;
        if ((s = run_conv_kernel(k, &c, 1, &bad, err)) != CNNK_OK) break;
        cnnk_diff_compute(c.got, c.want, c.ndst, &diff);
        if (bad) mark_clobbered(o, name, k->name, bad, &diff);
        /* Optimized kernels split work across threads: the case holds only
         * if the 2- and 3-thread results are as good (the reference is
         * serial; 3 does not divide most splits, so remainders are run). */
        for (int nt = 2; nt <= 3 && k->isa != CNNK_ISA_REF && s == CNNK_OK; ++nt) {
            cnnk_diff d2;
            if ((s = run_conv_kernel(k, &c, nt, &bad, err)) != CNNK_OK) break;
            cnnk_diff_compute(c.got, c.want, c.ndst, &d2);
            if (bad) mark_clobbered(o, name, k->name, bad, &d2);
            cnnk_diff_max(&diff, &d2);
        }
        if (s != CNNK_OK) break;
        cnnk_tolerance t = cnnk_tolerance_conv(k->algo, o->fill);
        report(o, cnt, kind, name, k->name, &diff, &t, NULL);
    }
    if (s == CNNK_OK && o->against_onednn) {
        cnnk_error e;
        for (int64_t i = 0; i < c.ndst; ++i) c.got[i] = NAN;
        cnnk_status os = cnnk_onednn_conv(d, c.src, d->ic, c.w, &c.ep, c.got, d->oc, &e);
        cnnk_tolerance t = cnnk_tolerance_onednn(l->kind, o->fill);
        if (os == CNNK_OK) {
            cnnk_diff_compute(c.want, c.got, c.ndst, &diff);
            report(o, cnt, kind, name, "ref vs onednn", &diff, &t, NULL);
        } else {
            /* oneDNN refusing a valid shape is a failure of the proof. */
            ++cnt->failed;
            if (o->out) fprintf(o->out, "FAIL  %-7s %-40s %-24s %s\n", kind, name, "ref vs onednn", e.msg);
        }
    }
    conv_case_free(&c);
    return s;
}

/* ---- every other layer: op kernels against the reference, the reference
 * against oneDNN ---------------------------------------------------------- */

typedef struct layer_case {
    const cnnk_layer_desc *l;
    float *a, *b, *want, *got, *p[4];
    int64_t nsrc, ndst, np;
    int64_t nb; /* elements of b: nsrc, or a region pool's boxes */
    cnnk_op_args args; /* src, params and pitches; dst, packed, workspace per run */
} layer_case;

static void layer_case_free(layer_case *c) {
    cnnk_guarded_free(c->a), cnnk_guarded_free(c->b), cnnk_guarded_free(c->want), cnnk_guarded_free(c->got);
    for (int i = 0; i < 4; ++i) cnnk_guarded_free(c->p[i]);
}

/* Element counts of src (each input), dst and the parameter vectors: the
 * weights, the bias (its first oc values) or the batch-norm statistics. */
static void layer_sizes(const cnnk_layer_desc *l, int64_t *nsrc, int64_t *ndst, int64_t *np,
                        int64_t *dst_ld) {
    const cnnk_layer_dims x = cnnk_layer_dims_of(l);
    *nsrc = cnnk_layer_src_elems(l), *ndst = cnnk_layer_dst_elems(l), *dst_ld = x.oc;
    *np = x.weights > x.bias ? x.weights : x.bias;
    if (x.stats > *np) *np = x.stats;
}

static cnnk_status layer_case_init(const cnnk_validate_opts *o, const cnnk_layer_desc *l,
                                   layer_case *c, cnnk_error *err) {
    memset(c, 0, sizeof *c);
    c->l = l;
    int64_t dst_ld;
    layer_sizes(l, &c->nsrc, &c->ndst, &c->np, &dst_ld);
    const bool boxes = l->kind == CNNK_LAYER_REGION_POOL && l->u.region.rois > 0;
    const bool warp = l->kind == CNNK_LAYER_WARP; /* its boxes held: params[0] */
    c->nb = boxes ? l->u.region.mb * l->u.region.rois * 5 : warp ? l->u.warp.rois * 5 : c->nsrc;
    c->a = cnnk_guarded_alloc(c->nsrc), c->b = cnnk_guarded_alloc(c->nb);
    c->want = cnnk_guarded_alloc(c->ndst), c->got = cnnk_guarded_alloc(c->ndst);
    for (int i = 0; i < 4; ++i) c->p[i] = cnnk_guarded_alloc(c->np);
    if (!c->a || !c->b || !c->want || !c->got || !c->p[0] || !c->p[1] || !c->p[2] || !c->p[3])
        return cnnk_fail(err, CNNK_ENOMEM, "validate: out of memory for a %lld-element case",
                         (long long)(2 * c->nsrc + 2 * c->ndst + 4 * c->np));
    const uint64_t seed = o->seed * 8;
    cnnk_fill_tensor(c->a, c->nsrc, o->fill, 4, seed + 0);
    if (boxes) {
        /* Boxes over the image the map came from, crossing its borders. */
        const cnnk_region_pool_desc *d = &l->u.region;
        const float s = d->spatial_scale;
        cnnk_proposals_random(d->mb * d->rois, (int64_t)((float)d->ih / s),
                              (int64_t)((float)d->iw / s), seed + 1, c->b);
    } else if (warp) {
        cnnk_proposals_random(l->u.warp.rois, l->u.warp.ih, l->u.warp.iw, seed + 1, c->b);
    } else {
        cnnk_fill_tensor(c->b, c->nb, o->fill, 4, seed + 1);
    }
    for (int i = 0; i < 4; ++i) cnnk_fill_tensor(c->p[i], c->np, o->fill, 3, seed + 2 + (uint64_t)i);
    cnnk_op_args *a = &c->args;
    a->dst_ld = dst_ld;
    a->relu = o->relu;
    a->relu_alpha = o->relu_alpha;
    a->nthreads = 1;
    if (l->kind == CNNK_LAYER_BNORM) {
        /* A variance must be positive: |v| + 1. */
        for (int64_t i = 0; i < c->np; ++i) c->p[1][i] = fabsf(c->p[1][i]) + 1.0f;
    }
    if (l->kind == CNNK_LAYER_CONCAT) {
        const cnnk_concat_desc *d = &l->u.concat;
        int64_t off = 0;
        for (int i = 0; i < d->n; ++i) {
            a->src[i] = c->a + d->mb * d->h * d->w * off;
            a->src_ld[i] = d->c[i];
            off += d->c[i];
        }
    } else {
        const cnnk_layer_dims x = cnnk_layer_dims_of(l);
        for (int i = 0; i < x.ninputs; ++i) a->src_ld[i] = x.ic;
        a->src[0] = c->a, a->src[1] = c->b;
        if (l->kind == CNNK_LAYER_REGION_POOL) {
            a->src[1] = boxes ? c->b : NULL;
            a->src_ld[1] = 5;
        }
    }
    for (int i = 0; i < 4; ++i) a->params[i] = c->p[i];
    if (warp) a->src[1] = NULL, a->params[0] = c->b;
    if (l->kind == CNNK_LAYER_FC || l->kind == CNNK_LAYER_DECONV) {
        /* Weights in p[0]; the bias is p[1]'s first oc values. */
        a->params[0] = c->p[1];
        a->params[1] = a->params[2] = a->params[3] = NULL;
    }
    return CNNK_OK;
}

/* Runs an op kernel through its whole contract into out. */
static cnnk_status run_op_kernel(const cnnk_op_kernel *k, layer_case *c, float *out,
                                 int nthreads, const char **bad, cnnk_error *err) {
    const cnnk_layer_desc *l = c->l;
    int64_t npacked = k->packed_size ? (int64_t)k->packed_size(l) : 0;
    int64_t nws = k->workspace_size ? (int64_t)k->workspace_size(l, CHECK_WS_THREADS) : 0;
    float *packed = cnnk_guarded_alloc(npacked), *ws = cnnk_guarded_alloc(nws);
    if (!packed || !ws) {
        cnnk_guarded_free(packed), cnnk_guarded_free(ws);
        return cnnk_fail(err, CNNK_ENOMEM, "validate: out of memory packing for %s", k->name);
    }
    if (k->pack) k->pack(l, c->p[0], packed);
    for (int64_t i = 0; i < c->ndst; ++i) out[i] = NAN;
    cnnk_op_args a = c->args;
    a.packed = packed, a.workspace = ws, a.dst = out, a.nthreads = nthreads;
    k->run(l, &a);
    const guarded b[] = {{"output", out, c->ndst},       {"packed weights", packed, npacked},
                         {"workspace", ws, nws},         {"input", c->a, c->nsrc},
                         {"second input", c->b, c->nb}, {"parameters", c->p[0], c->np},
                         {"parameters", c->p[1], c->np}, {"parameters", c->p[2], c->np},
                         {"parameters", c->p[3], c->np}};
    if (bad) *bad = clobbered(b, (int)(sizeof b / sizeof b[0]));
    cnnk_guarded_free(packed), cnnk_guarded_free(ws);
    return CNNK_OK;
}

static const cnnk_op_kernel *ref_op_kernel(cnnk_layer_kind kind) {
    for (size_t i = 0; i < cnnk_op_kernel_count(); ++i) {
        const cnnk_op_kernel *k = cnnk_op_kernel_at(i);
        if (k->kind == kind && k->isa == CNNK_ISA_REF) return k;
    }
    return NULL;
}

/* oneDNN on the same buffers, into c->got. */
static cnnk_status run_onednn(const cnnk_validate_opts *o, layer_case *c, cnnk_error *e) {
    const cnnk_layer_desc *l = c->l;
    const cnnk_op_args *a = &c->args;
    float *got = c->got;
    for (int64_t i = 0; i < c->ndst; ++i) got[i] = NAN;
    switch (l->kind) {
    case CNNK_LAYER_FC:
        return cnnk_onednn_fc(&l->u.fc, c->a, c->p[0], a->params[0], got, o->relu,
                              o->relu_alpha, e);
    case CNNK_LAYER_DECONV: {
        cnnk_epilogue ep = {.bias = a->params[0], .relu = o->relu, .relu_alpha = o->relu_alpha};
        return cnnk_onednn_conv(&l->u.conv, c->a, a->src_ld[0], c->p[0], &ep, got, a->dst_ld, e);
    }
    case CNNK_LAYER_POOL:
        return cnnk_onednn_pool(&l->u.pool, c->a, a->src_ld[0], got, a->dst_ld, e);
    case CNNK_LAYER_LRN:
        return cnnk_onednn_lrn(&l->u.lrn, c->a, a->src_ld[0], got, a->dst_ld, e);
    case CNNK_LAYER_BNORM:
        if (o->relu)
            return cnnk_fail(e, CNNK_EUNSUPPORTED, "the oneDNN check of batch-norm has no fused ReLU");
        return cnnk_onednn_bnorm(&l->u.bnorm, c->a, a->src_ld[0], c->p[0], c->p[1], c->p[2],
                                 c->p[3], got, a->dst_ld, e);
    case CNNK_LAYER_SOFTMAX:
        return cnnk_onednn_softmax(&l->u.softmax, c->a, a->src_ld[0], got, a->dst_ld, e);
    case CNNK_LAYER_ELTWISE:
        return cnnk_onednn_eltwise(&l->u.eltwise, c->a, a->src_ld[0], c->b, a->src_ld[1], got,
                                   a->dst_ld, e);
    case CNNK_LAYER_CONCAT:
        return cnnk_onednn_concat(&l->u.concat, a->src, a->src_ld, got, a->dst_ld, e);
    case CNNK_LAYER_RESIZE:
        return cnnk_onednn_resize(&l->u.resize, c->a, a->src_ld[0], got, a->dst_ld, e);
    case CNNK_LAYER_REGION_POOL: {
        cnnk_pool_desc p;
        if (!cnnk_region_pool_as_pool(&l->u.region, &p))
            return cnnk_fail(e, CNNK_EUNSUPPORTED,
                             "oneDNN has no RoI pooling and no uneven adaptive bins");
        return cnnk_onednn_pool(&p, c->a, a->src_ld[0], got, a->dst_ld, e);
    }
    default:
        return cnnk_fail(e, CNNK_EUNSUPPORTED, "no oneDNN check for this layer kind");
    }
}

static cnnk_status validate_other(const cnnk_validate_opts *o, const cnnk_layer_desc *l,
                                  const char *name, cnnk_validate_counts *cnt, cnnk_error *err) {
    const char *kind = cnnk_layer_kind_name(l->kind);
    const cnnk_op_kernel *ref = ref_op_kernel(l->kind);
    if (!ref) return cnnk_fail(err, CNNK_EUNSUPPORTED, "validate: no reference for %s", kind);
    layer_case c;
    cnnk_status s = layer_case_init(o, l, &c, err);
    if (s == CNNK_OK) s = run_op_kernel(ref, &c, c.want, 1, NULL, err);
    cnnk_diff diff;
    bool checked = false;
    /* The reference entries are the definition itself: comparing one with
     * itself could not fail, so only optimized kernels are compared. */
    for (size_t i = 0; s == CNNK_OK && o->kernels && i < cnnk_op_kernel_count(); ++i) {
        const cnnk_op_kernel *k = cnnk_op_kernel_at(i);
        if (k->kind != l->kind || k->isa == CNNK_ISA_REF || !o->isa[k->isa]) continue;
        checked = true;
        if (!cnnk_isa_available(k->isa)) {
            report(o, cnt, kind, name, k->name, NULL, NULL, "not-available: CPU lacks the ISA");
            continue;
        }
        if (!k->applies(l)) {
            report(o, cnt, kind, name, k->name, NULL, NULL, "not-applicable");
            continue;
        }
        const char *bad = NULL;
        if ((s = run_op_kernel(k, &c, c.got, 1, &bad, err)) != CNNK_OK) break;
        cnnk_diff_compute(c.got, c.want, c.ndst, &diff);
        if (bad) mark_clobbered(o, name, k->name, bad, &diff);
        cnnk_diff d2;
        if ((s = run_op_kernel(k, &c, c.got, 2, &bad, err)) != CNNK_OK) break;
        cnnk_diff_compute(c.got, c.want, c.ndst, &d2);
        if (bad) mark_clobbered(o, name, k->name, bad, &d2);
        cnnk_diff_max(&diff, &d2);
        cnnk_tolerance t = cnnk_tolerance_op(l->kind, o->fill);
        report(o, cnt, kind, name, k->name, &diff, &t, NULL);
    }
    if (s == CNNK_OK && o->against_onednn) {
        checked = true;
        cnnk_error e;
        e.msg[0] = '\0';
        cnnk_status os = run_onednn(o, &c, &e);
        if (os == CNNK_ENOMEM) {
            s = cnnk_fail(err, os, "%s", e.msg);
        } else if (os == CNNK_EUNSUPPORTED) {
            report(o, cnt, kind, name, "ref vs onednn", NULL, NULL, e.msg);
        } else if (os != CNNK_OK) {
            /* oneDNN refusing a valid problem is a failure of the proof. */
            ++cnt->failed;
            if (o->out) fprintf(o->out, "FAIL  %-7s %-40s %-24s %s\n", kind, name, "ref vs onednn", e.msg);
        } else {
            cnnk_diff_compute(c.want, c.got, c.ndst, &diff);
            cnnk_tolerance t = cnnk_tolerance_onednn(l->kind, o->fill);
            report(o, cnt, kind, name, "ref vs onednn", &diff, &t, NULL);
        }
    }
    if (s == CNNK_OK && !checked)
        report(o, cnt, kind, name, "ref", NULL, NULL,
               "not-applicable: no optimized kernel selected; add --against onednn");
    layer_case_free(&c);
    return s;
}

cnnk_status cnnk_validate_layer(const cnnk_validate_opts *o, const cnnk_layer_desc *l,
                                cnnk_validate_counts *counts, cnnk_error *err) {
    char buf[256];
    const char *name = case_name(l, buf, sizeof buf);
    if (l->kind == CNNK_LAYER_CONV)
        return validate_conv(o, l, name, counts, err);
    return validate_other(o, l, name, counts, err);
}
