/* cnnk tune: on each distinct convolution shape of some networks, a race
 * between every kernel that applies, of the ceiling ISA and the ISAs under
 * it; then, per network, whole forwards with tied alternatives.
 *
 * Timing (docs/TUNING.md): weights are packed once, outside the timing;
 * each kernel runs once to warm caches and page in its buffers; then the
 * candidates are sampled round robin, and every few rounds a one-sided
 * Mann-Whitney U test drops those significantly slower than the current
 * best, until one is left (separated) or the budget of rounds is spent
 * (a tie: the cheapest to prepare of those left). Medians and ranks, not
 * means: the machine is shared and a mean follows every interruption. A
 * sample repeats the kernel until it lasts about a millisecond, so small
 * layers are not measured at the clock's resolution. The epilogue is the
 * common one of these networks, bias + ReLU. A network whose runner splits
 * the batch by images has its shapes raced that way (each thread a call
 * on its own images); --cold-mib rotates the weights through copies so
 * they come from memory. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "cnnk/tune.h"
#include "core/rng.h"
#include "core/tune_net.h"
#include "kernels/common/team.h"

#define ALIGN 64
#define MIN_SAMPLE_MS 1.0
#define MAX_INNER 1000

/* One distinct shape and where it was first seen. */
typedef struct shape_use {
    cnnk_conv_desc d;
    char key[CNNK_TUNE_KEY_LEN];
    char net[32];
    char layer[CNNK_NAME_LEN];
    int count;
    bool split;    /* raced as the runner runs it: the batch split by images */
    unsigned nets; /* the networks (bits: indices in the options' list) using it */
} shape_use;

typedef struct shape_list {
    shape_use *v;
    int n, cap;
} shape_list;

double cnnk_tune_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static float *floats(size_t n) {
    size_t bytes = (n > 0 ? n : 1) * sizeof(float);
    bytes = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    return aligned_alloc(ALIGN, bytes);
}

static void fill(float *p, int64_t n, uint64_t seed) {
    cnnk_rng r = {seed};
    for (int64_t i = 0; i < n; ++i)
        p[i] = (float)((double)(cnnk_rng_next(&r) >> 11) * 0x1.0p-52 - 1.0); /* U(-1, 1) */
}

static int cmp_double(const void *pa, const void *pb) {
    const double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* ---- distinct shapes ----------------------------------------------------- */

static cnnk_status add_use(shape_list *l, const cnnk_net *net, int inet, bool split,
                           const cnnk_node *node, cnnk_error *err) {
    cnnk_conv_desc d = node->desc.u.conv;
    if (cnnk_conv_check(&d, err) != CNNK_OK) return CNNK_EINVAL;
    /* The runner runs a column of patches as their 1x1 (core/runner.c):
     * race the kernels on the shape it looks up. */
    if (cnnk_conv_patch_column(&d) && (d.kh > 1 || d.kw > 1)) d = cnnk_conv_patch_1x1(&d);
    char key[CNNK_TUNE_KEY_LEN];
    cnnk_tune_key(&d, key, sizeof key);
    for (int i = 0; i < l->n; ++i)
        if (strcmp(l->v[i].key, key) == 0 && l->v[i].split == split)
            return l->v[i].count++, l->v[i].nets |= 1u << inet, CNNK_OK;
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 64;
        shape_use *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
        l->v = v, l->cap = cap;
    }
    shape_use *u = &l->v[l->n++];
    u->d = d;
    snprintf(u->key, sizeof u->key, "%s", key);
    snprintf(u->net, sizeof u->net, "%s", net->name);
    snprintf(u->layer, sizeof u->layer, "%s", node->name);
    u->count = 1;
    u->split = split;
    u->nets = 1u << inet;
    return CNNK_OK;
}

static cnnk_status collect(const cnnk_tune_opts *o, shape_list *l, cnnk_error *err) {
    for (int i = 0; i < o->nnets; ++i) {
        cnnk_net *net = NULL;
        cnnk_status s = cnnk_net_build(o->nets[i], o->mb, o->h, o->w, &net, err);
        const bool split = s == CNNK_OK && cnnk_runner_would_split_images(net, o->nthreads);
        if (split && o->log)
            fprintf(o->log, "%s: its runner splits the batch by images at %d threads; its shapes are "
                    "raced so, each thread a kernel call on its own images\n", net->name, o->nthreads);
        for (int k = 1; s == CNNK_OK && k < net->n; ++k)
            if (net->nodes[k].op == CNNK_NODE_CONV) s = add_use(l, net, i, split, &net->nodes[k], err);
        cnnk_net_destroy(net);
        if (s != CNNK_OK) return s;
    }
    return CNNK_OK;
}

/* ---- timing one kernel ------------------------------------------------------ */

typedef struct layer_data {
    float *src, *dst, *w, *bias;
} layer_data;

static void free_data(layer_data *b) {
    free(b->src), free(b->dst), free(b->w), free(b->bias);
}

static cnnk_status alloc_data(const cnnk_conv_desc *d, layer_data *b, cnnk_error *err) {
    const int64_t ns = cnnk_conv_src_elems(d), nw = cnnk_conv_weights(d);
    b->src = floats((size_t)ns);
    b->dst = floats((size_t)cnnk_conv_dst_elems(d));
    b->w = floats((size_t)nw);
    b->bias = floats((size_t)d->oc);
    if (!b->src || !b->dst || !b->w || !b->bias)
        return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory for %s", d->name);
    fill(b->src, ns, 1), fill(b->w, nw, 2), fill(b->bias, d->oc, 3);
    return CNNK_OK;
}

/* Copies of a kernel's packed weights (`bytes` each) that together hold
 * at least `cold` bytes: 1 when warm (`cold` 0), at most
 * CNNK_TUNE_MAX_COPIES (weights so small need little time to stream). */
static int copies(size_t bytes, int64_t cold) {
    if (cold <= 0 || bytes == 0) return 1;
    const int64_t n = ((int64_t)cold + (int64_t)bytes - 1) / (int64_t)bytes;
    return n > CNNK_TUNE_MAX_COPIES ? CNNK_TUNE_MAX_COPIES : (int)n;
}

/* How many calls make a sample of about MIN_SAMPLE_MS, from one call's time. */
static int inner_calls(double one_ms) {
    if (one_ms >= MIN_SAMPLE_MS) return 1;
    const double n = MIN_SAMPLE_MS / (one_ms > 1e-4 ? one_ms : 1e-4);
    return n > MAX_INNER ? MAX_INNER : (int)n + 1;
}

bool cnnk_tune_isa_under(cnnk_isa ceiling, cnnk_isa isa) {
    return isa == ceiling || (ceiling == CNNK_ISA_AVX512 && isa == CNNK_ISA_AVX2);
}

/* ---- the race --------------------------------------------------------------- */

double cnnk_tune_median_in_place(double *x, int n) {
    if (n < 1) return 0.0;
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static double median_of(const double *x, int n, double *scratch) {
    if (n > 0) memcpy(scratch, x, (size_t)n * sizeof *x);
    return cnnk_tune_median_in_place(scratch, n);
}

/* Ranks with ties averaged, the tie correction's sum of (t^3 - t), and U
 * of x. Sample sizes are at most a few hundred: quadratic is fine and
 * needs no allocation. */
double cnnk_tune_mwu_less(const double *x, int nx, const double *y, int ny) {
    if (nx < 1 || ny < 1) return 1.0;
    /* U counts pairs (x_i, y_j) with x_i < y_j, ties as one half: large U
     * says x is smaller. */
    double u = 0.0;
    for (int i = 0; i < nx; ++i)
        for (int j = 0; j < ny; ++j) u += x[i] < y[j] ? 1.0 : x[i] == y[j] ? 0.5 : 0.0;
    const double n = (double)nx + ny;
    double ties = 0.0; /* sum over groups of equal values of t^3 - t */
    for (int a = 0; a < nx + ny; ++a) {
        const double v = a < nx ? x[a] : y[a - nx];
        int t = 0;
        bool first = true;
        for (int b = 0; b < nx + ny; ++b) {
            const double w = b < nx ? x[b] : y[b - nx];
            if (w == v) {
                if (b < a) first = false;
                ++t;
            }
        }
        if (first) ties += (double)t * t * t - t;
    }
    const double mean = (double)nx * ny / 2.0;
    const double var = (double)nx * ny / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if (var <= 0.0) return 1.0; /* every value equal: no evidence */
    const double z = (u - mean - 0.5) / sqrt(var); /* continuity correction */
    return 0.5 * erfc(z / sqrt(2.0));
}

/* Exact: the ranks of |d| are doubled so that averaged ties stay
 * integers, and the null distribution of the sum of the negative
 * differences' doubled ranks is counted over every sign pattern (2^n, by
 * a subset-sum table of n(n+1) + 1 entries). */
double cnnk_tune_signed_rank_less(const double *d, int n) {
    double a[CNNK_TUNE_SIGNED_RANK_MAX];
    bool neg[CNNK_TUNE_SIGNED_RANK_MAX];
    int r2[CNNK_TUNE_SIGNED_RANK_MAX], m = 0;
    if (n > CNNK_TUNE_SIGNED_RANK_MAX) n = CNNK_TUNE_SIGNED_RANK_MAX;
    for (int i = 0; i < n; ++i)
        if (d[i] != 0.0 && isfinite(d[i])) a[m] = fabs(d[i]), neg[m] = d[i] < 0.0, ++m;
    if (m == 0) return 1.0;
    int t = 0, total = 0;
    for (int i = 0; i < m; ++i) {
        int below = 0, equal = 0;
        for (int j = 0; j < m; ++j) below += a[j] < a[i], equal += a[j] == a[i];
        r2[i] = 2 * below + equal + 1; /* twice the average of ranks below+1 .. below+equal */
        total += r2[i];
        if (neg[i]) t += r2[i];
    }
    double count[CNNK_TUNE_SIGNED_RANK_MAX * (CNNK_TUNE_SIGNED_RANK_MAX + 1) + 1] = {1.0};
    int reach = 0;
    for (int i = 0; i < m; ++i) {
        for (int v = reach; v >= 0; --v) count[v + r2[i]] += count[v];
        reach += r2[i];
    }
    double tail = 0.0;
    for (int v = t; v <= total; ++v) tail += count[v];
    return fmin(1.0, tail / ldexp(1.0, m));
}

static int best_alive(int ncand, const bool *alive, const double *median) {
    int b = -1;
    for (int c = 0; c < ncand; ++c)
        if (alive[c] && (b < 0 || median[c] < median[b])) b = c;
    return b;
}

/* Drops every candidate significantly slower than the current best;
 * returns how many remain. */
static int look(int ncand, double *const *s, const int *n, bool *alive, double *median,
                double alpha, double *scratch) {
    for (int c = 0; c < ncand; ++c) median[c] = median_of(s[c], n[c], scratch);
    const int b = best_alive(ncand, alive, median);
    int left = 0;
    for (int c = 0; c < ncand; ++c) {
        if (alive[c] && c != b && cnnk_tune_mwu_less(s[b], n[b], s[c], n[c]) < alpha)
            alive[c] = false;
        left += alive[c];
    }
    return left;
}

int cnnk_tune_race(int ncand, const double *cost, int rounds, double alpha,
                   cnnk_tune_sampler sample, void *ctx, cnnk_tune_verdict *verdict, bool *tied,
                   double *median) {
    if (ncand < 1) return -1;
    if (rounds < CNNK_TUNE_MIN_ROUNDS) rounds = CNNK_TUNE_MIN_ROUNDS;
    if (!(alpha > 0.0)) alpha = CNNK_TUNE_ALPHA;
    double *buf = malloc((size_t)(ncand + 1) * (size_t)rounds * sizeof *buf);
    double *s[CNNK_TUNE_MAX_CANDIDATES];
    int n[CNNK_TUNE_MAX_CANDIDATES] = {0};
    if (!buf || ncand > CNNK_TUNE_MAX_CANDIDATES) {
        free(buf);
        return -1;
    }
    double *scratch = buf + (size_t)ncand * (size_t)rounds;
    for (int c = 0; c < ncand; ++c) s[c] = buf + (size_t)c * (size_t)rounds, tied[c] = true;
    int left = ncand;
    for (int r = 0; r < rounds && left > 1; ++r) {
        /* Round robin, each round starting one further along: drift in
         * the machine's speed (another job starting) falls on every
         * candidate alike, and none is always first after a slow one. */
        for (int j = 0; j < ncand; ++j) {
            const int c = (j + r) % ncand;
            if (tied[c]) s[c][n[c]++] = sample(c, r, ctx);
        }
        const int done = r + 1;
        if (done >= CNNK_TUNE_MIN_ROUNDS && (done % 2 == 0 || done == rounds))
            left = look(ncand, s, n, tied, median, alpha, scratch);
    }
    if (ncand == 1) s[0][n[0]++] = sample(0, 0, ctx); /* one sample for its time */
    for (int c = 0; c < ncand; ++c) median[c] = median_of(s[c], n[c], scratch);
    free(buf);
    const int best = best_alive(ncand, tied, median);
    *verdict = ncand == 1 ? CNNK_TUNE_ONLY : left == 1 ? CNNK_TUNE_SEPARATED : CNNK_TUNE_TIE;
    if (*verdict != CNNK_TUNE_TIE) return best;
    /* Not separated: a tie among those whose median is within the margin
     * of the best's, won by the cheapest to prepare. One further out is
     * not dropped (its samples overlap too much for the test) but is not
     * tied either: on a loaded machine a 25% slower kernel could stay
     * unseparated for the whole budget (docs/TUNING.md). */
    int pick = best;
    for (int c = 0; c < ncand; ++c) {
        tied[c] = tied[c] && median[c] <= median[best] * (1.0 + CNNK_TUNE_TIE_MARGIN);
        if (tied[c] && (cost[c] < cost[pick] || (cost[c] == cost[pick] && median[c] < median[pick])))
            pick = c;
    }
    return pick;
}

int cnnk_tune_hold(int ncand, int pick, int h, double min_gain, const double *median,
                   cnnk_tune_verdict *verdict, bool *tied) {
    if (h < 0 || h >= ncand || pick == h || !(min_gain > 0.0) ||
        median[pick] <= median[h] * (1.0 - min_gain))
        return pick;
    *verdict = CNNK_TUNE_TIE;
    tied[pick] = tied[h] = true;
    return h;
}

static const char *const g_verdict[] = {"only", "separated", "tie"};

static void log_header(FILE *f) {
    if (!f) return;
    fprintf(f, "%-9s %-12s %-36s %4s %-36s %-22s %-9s %9s  %s\n", "shape", "net", "layer", "uses",
            "shape", "kernel", "verdict", "ms", "others (ms; * still tied)");
}

static void log_row(FILE *f, int i, int n, const shape_use *u, const cnnk_tune_entry *e) {
    if (!f) return;
    const cnnk_conv_desc *d = &u->d;
    char shape[64], at[32];
    snprintf(shape, sizeof shape, "%lldx%lldx%lld->%lldx%lldx%lld k%lld s%lld", (long long)d->ic,
             (long long)d->ih, (long long)d->iw, (long long)d->oc, (long long)d->oh,
             (long long)d->ow, (long long)d->kh, (long long)d->sh);
    snprintf(at, sizeof at, "[%d/%d]", i + 1, n);
    fprintf(f, "%-9s %-12s %-36s %4d %-36s %-22s %-9s %9.4f ", at, u->net, u->layer, u->count, shape,
            e->ncand ? e->kernel->name : "-",
            !e->ncand ? "-" : e->held ? "held" : g_verdict[e->verdict], e->ms);
    if (!e->ncand) fprintf(f, " no kernel applies");
    for (int c = 0; c < e->ncand; ++c)
        if (e->cand[c] != e->kernel)
            fprintf(f, " %s %.4f%s", e->cand[c]->name, e->cand_ms[c], e->cand_tied[c] ? "*" : "");
    fputc('\n', f);
    fflush(f);
}

/* ---- one shape: the race over every kernel that applies ------------------- */

/* A candidate: its packed weights in `ncopy` identical copies, which
 * successive calls take in turn (the cold mode: together they are larger
 * than the caches, so each call streams its weights from memory as it
 * does inside a network; docs/TUNING.md "Warm or cold weights"). */
typedef struct racer {
    const cnnk_conv_kernel *k;
    float *copy[CNNK_TUNE_MAX_COPIES];
    int ncopy, next;
    cnnk_conv_args a;
    int inner;
} racer;

typedef struct race_ctx {
    const cnnk_conv_desc *d;
    racer *r;
    int split;        /* threads each running its own images on one thread; 0: none */
    size_t ws_stride; /* floats of workspace per such thread */
} race_ctx;

typedef struct part_ctx {
    const race_ctx *x;
    const racer *r;
} part_ctx;

/* Part t of a split call: the images cnnk_part_range gives thread t, as
 * the runner's image split hands them out (core/runner.c). */
static void run_part(void *p, int t, int nt) {
    const part_ctx *c = p;
    const cnnk_conv_desc *d = c->x->d;
    int64_t lo, hi;
    cnnk_part_range(d->mb, t, nt, &lo, &hi);
    if (lo == hi) return;
    cnnk_conv_desc dp = *d;
    dp.mb = hi - lo;
    cnnk_conv_args a = c->r->a;
    a.src += lo * d->ih * d->iw * a.src_ld;
    a.dst += lo * d->oh * d->ow * a.dst_ld;
    a.workspace += (size_t)t * c->x->ws_stride;
    a.nthreads = 1;
    c->r->k->run(&dp, &a);
}

/* One call of r's kernel, the way the runner would make it. */
static void call(const race_ctx *x, const racer *r) {
    if (!x->split) {
        r->k->run(x->d, &r->a);
        return;
    }
    part_ctx c = {.x = x, .r = r};
    cnnk_parallel(x->split, run_part, &c);
}

static double run_sample(int c, int round, void *vctx) {
    (void)round;
    const race_ctx *x = vctx;
    racer *r = &x->r[c];
    const double t0 = cnnk_tune_now_ms();
    for (int i = 0; i < r->inner; ++i) {
        r->a.packed = r->copy[r->next];
        r->next = (r->next + 1) % r->ncopy;
        call(x, r);
    }
    return (cnnk_tune_now_ms() - t0) / r->inner;
}

/* Kernels the tuner races for a ceiling: of it and of the ISAs under it
 * that this CPU runs; the reference only when it is the ceiling. */
static bool candidate(const cnnk_conv_kernel *k, cnnk_isa ceiling, const cnnk_conv_desc *d) {
    return cnnk_tune_isa_under(ceiling, k->isa) && cnnk_isa_available(k->isa) && k->applies(d);
}

static cnnk_status prepare_racers(const shape_use *u, const cnnk_tune_opts *o, const layer_data *b,
                                  race_ctx *x, int *nr, float **ws, cnnk_error *err) {
    const cnnk_conv_desc *d = &u->d;
    racer *r = x->r;
    size_t wsz = 1;
    *nr = 0;
    /* split: every thread its share of the images (the largest share
     * sizes the workspace), one thread each, a workspace slice each */
    cnnk_conv_desc dp = *d;
    x->split = u->split ? o->nthreads : 0;
    if (x->split) dp.mb = (d->mb + x->split - 1) / x->split;
    for (size_t i = 0; i < cnnk_conv_kernel_count(); ++i) {
        const cnnk_conv_kernel *k = cnnk_conv_kernel_at(i);
        if (!candidate(k, o->isa, d)) continue;
        if (*nr == CNNK_TUNE_MAX_CANDIDATES)
            return cnnk_fail(err, CNNK_EUNSUPPORTED, "tune: over %d kernels apply to %s",
                             CNNK_TUNE_MAX_CANDIDATES, u->key);
        const size_t w = x->split ? k->workspace_size(&dp, 1) : k->workspace_size(d, o->nthreads);
        if (w > wsz) wsz = w;
        racer *c = &r[(*nr)++];
        const size_t bytes = (size_t)k->packed_size(d) * sizeof(float);
        c->k = k;
        c->ncopy = copies(bytes, o->cold_bytes);
        for (int i = 0; i < c->ncopy; ++i) {
            if (!(c->copy[i] = floats(k->packed_size(d))))
                return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory for %s on %s (%d copies of "
                                 "%zu bytes; a smaller --cold-mib needs fewer)", k->name, u->key,
                                 c->ncopy, bytes);
            if (i == 0) k->pack(d, b->w, c->copy[0]);
            else memcpy(c->copy[i], c->copy[0], bytes);
        }
    }
    /* The kernels run one at a time: one workspace, the largest (a slice
     * per thread when split, each a whole number of cache lines). */
    const size_t line = ALIGN / sizeof(float);
    x->ws_stride = x->split ? (wsz + line - 1) / line * line : 0;
    if (!(*ws = floats(x->split ? x->ws_stride * (size_t)x->split : wsz)))
        return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory for %s", u->key);
    for (int c = 0; c < *nr; ++c) {
        r[c].a = (cnnk_conv_args){
            .src = b->src, .src_ld = d->ic, .packed = r[c].copy[0], .dst = b->dst, .dst_ld = d->oc,
            .ep = {.bias = b->bias, .relu = true}, .workspace = *ws, .nthreads = o->nthreads,
        };
        const double t0 = cnnk_tune_now_ms();
        call(x, &r[c]); /* warm-up: caches, pages, the team's threads */
        r[c].inner = inner_calls(cnnk_tune_now_ms() - t0);
    }
    return CNNK_OK;
}

/* Which racer runs the kernel the heuristic gives the shape in its
 * network (-1: none of them). */
static int heuristic_index(const shape_use *u, const cnnk_tune_opts *o, const racer *r, int nr) {
    const cnnk_conv_kernel *h = cnnk_tune_heuristic_kernel(u->net, o->isa, &u->d);
    for (int c = 0; h && c < nr; ++c)
        if (r[c].k == h) return c;
    return -1;
}

static cnnk_status tune_shape(const shape_use *u, const cnnk_tune_opts *o, cnnk_tune_entry *e,
                              cnnk_error *err) {
    memset(e, 0, sizeof *e);
    snprintf(e->shape, sizeof e->shape, "%s", u->key);
    layer_data b = {0};
    racer r[CNNK_TUNE_MAX_CANDIDATES] = {0};
    int nr = 0;
    float *ws = NULL;
    race_ctx x = {.d = &u->d, .r = r};
    cnnk_status s = alloc_data(&u->d, &b, err);
    if (s == CNNK_OK) s = prepare_racers(u, o, &b, &x, &nr, &ws, err);
    if (s == CNNK_OK && nr > 0) {
        /* "Cheaper to prepare": fewer packed floats, the memory a network
         * holds for the layer and that pack writes. */
        double cost[CNNK_TUNE_MAX_CANDIDATES];
        for (int c = 0; c < nr; ++c) cost[c] = (double)r[c].k->packed_size(&u->d);
        int pick = cnnk_tune_race(nr, cost, o->reps, o->alpha, run_sample, &x, &e->verdict,
                                  e->cand_tied, e->cand_ms);
        if (pick < 0) {
            s = cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory racing %s", u->key);
        } else {
            const int raced = pick;
            pick = cnnk_tune_hold(nr, pick, heuristic_index(u, o, r, nr), o->min_gain, e->cand_ms,
                                  &e->verdict, e->cand_tied);
            e->held = pick != raced;
            e->ncand = nr;
            for (int c = 0; c < nr; ++c) e->cand[c] = r[c].k;
            e->kernel = r[pick].k, e->ms = e->cand_ms[pick];
        }
    }
    for (int c = 0; c < nr; ++c)
        for (int i = 0; i < r[c].ncopy; ++i) free(r[c].copy[i]);
    free(ws);
    free_data(&b);
    return s;
}

static cnnk_status check_opts(const cnnk_tune_opts *o, cnnk_error *err) {
    if (!o || !o->nets || o->nnets < 1) return cnnk_fail(err, CNNK_EINVAL, "tune: no networks");
    if (o->nnets > 32) return cnnk_fail(err, CNNK_EINVAL, "tune: %d networks, at most 32", o->nnets);
    if (o->isa < 0 || o->isa >= CNNK_ISA_COUNT || !cnnk_isa_available(o->isa))
        return cnnk_fail(err, CNNK_EUNSUPPORTED, "tune: this CPU does not run ISA %s",
                         cnnk_isa_name(o->isa));
    if (o->nthreads < 1 || o->reps < CNNK_TUNE_MIN_ROUNDS || o->reps > 1000 || o->mb < 1 ||
        o->net_alts < 0 || o->net_reps < (o->net_alts > 0) || !(o->alpha >= 0.0 && o->alpha < 0.5))
        return cnnk_fail(err, CNNK_EINVAL,
                         "tune: threads=%d reps=%d batch=%lld alpha=%g net_alts=%d net_reps=%d (want "
                         "threads, batch >= 1, reps %d..1000, alpha in [0, 0.5), net_reps >= 1 with net_alts)",
                         o->nthreads, o->reps, (long long)o->mb, o->alpha, o->net_alts, o->net_reps,
                         CNNK_TUNE_MIN_ROUNDS);
    return CNNK_OK;
}

static cnnk_status tune_all(const cnnk_tune_opts *o, const shape_list *l, cnnk_tune_table *t,
                            cnnk_error *err) {
    t->e = calloc((size_t)(l->n > 0 ? l->n : 1), sizeof *t->e);
    if (!t->e) return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
    t->cap = l->n;
    log_header(o->log);
    cnnk_status s = CNNK_OK;
    for (int i = 0; i < l->n && s == CNNK_OK; ++i) {
        cnnk_tune_entry *e = &t->e[t->n];
        s = tune_shape(&l->v[i], o, e, err);
        if (s != CNNK_OK) break;
        log_row(o->log, i, l->n, &l->v[i], e);
        if (!e->ncand) continue; /* a shape no kernel of the ISA takes stays heuristic */
        /* The shape again, in networks whose runner splits the batch the
         * other way: its winner there is their per-network choice. */
        int first = 0;
        while (first < t->n && strcmp(t->e[first].shape, e->shape) != 0) ++first;
        if (first == t->n) {
            t->n++;
            continue;
        }
        for (int k = 0; k < o->nnets && s == CNNK_OK; ++k)
            if (l->v[i].nets >> k & 1u) s = cnnk_tune_set_override(t, o->nets[k], e->shape, e->kernel, err);
    }
    return s;
}

cnnk_status cnnk_tune_run(const cnnk_tune_opts *o, cnnk_tune_table **out, cnnk_error *err) {
    *out = NULL;
    cnnk_status s = check_opts(o, err);
    if (s != CNNK_OK) return s;
    shape_list l = {0};
    cnnk_tune_table *t = calloc(1, sizeof *t);
    s = t ? collect(o, &l, err) : cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
    if (s == CNNK_OK) {
        cnnk_tune_this_cpu(o->isa, o->nthreads, &t->cpu);
        t->cpu.mb = o->mb, t->cpu.h = o->h, t->cpu.w = o->w;
        s = tune_all(o, &l, t, err);
    }
    for (int i = 0; s == CNNK_OK && o->net_alts > 0 && i < o->nnets; ++i)
        s = cnnk_tune_net_pass(o, o->nets[i], t, err);
    free(l.v);
    if (s != CNNK_OK) {
        cnnk_tune_free(t);
        return s;
    }
    *out = t;
    return CNNK_OK;
}
