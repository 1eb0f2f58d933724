/* Whole networks in the tuner: two plans timed on one network in
 * alternated forwards (the duel), and the pass that uses it to settle
 * tied layers in their network, where the neighbours' cache state and the
 * layout a kernel leaves behind count (docs/TUNING.md). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "cnnk/tune.h"
#include "core/plan.h"
#include "core/rng.h"
#include "core/tune_net.h"

#define WEIGHT_SEED 7

static int conv_steps(const cnnk_runner *a, const cnnk_runner *b, int *differ) {
    int n = 0;
    *differ = 0;
    for (int i = 0; i < cnnk_runner_step_count(a); ++i) {
        const cnnk_step_info *sa = cnnk_runner_step(a, i), *sb = cnnk_runner_step(b, i);
        if (!cnnk_conv_kernel_find(sa->kernel)) continue;
        ++n;
        *differ += strcmp(sa->kernel, sb->kernel) != 0;
    }
    return n;
}

static double forward_ms(cnnk_runner *r, const float *in, float *out) {
    const double t0 = cnnk_tune_now_ms();
    cnnk_runner_forward(r, in, out, false);
    return cnnk_tune_now_ms() - t0;
}

int cnnk_tune_duel_blocks(int reps) {
    return reps >= 16 ? 8 : reps >= 4 ? reps / 2 : 2;
}

/* One block: both plans prepared (first the one `a_first` says), one
 * warm-up forward each, then per ABBA-alternated forwards each (A leads
 * when `a_leads`, else B) into ta[0..per) and tb[0..per); the runners are
 * destroyed after. */
static cnnk_status duel_block(const cnnk_net *net, cnnk_isa isa, int nthreads, const cnnk_plan *a,
                              const cnnk_plan *b, bool a_first, bool a_leads, int per,
                              const float *in, float **out, double *ta, double *tb,
                              int *nconv, int *differ, cnnk_rng *g, cnnk_error *err) {
    cnnk_status s = CNNK_OK;
    cnnk_runner *ra = NULL, *rb = NULL;
    /* a touched gap of random size before each runner: its buffers land at
     * other offsets and on other physical pages in every block */
    void *gap[2] = {NULL, NULL};
    const cnnk_plan *plan[2] = {a_first ? a : b, a_first ? b : a};
    cnnk_runner **run[2] = {a_first ? &ra : &rb, a_first ? &rb : &ra};
    for (int r = 0; r < 2 && s == CNNK_OK; ++r) {
        const size_t bytes = (size_t)(1 + cnnk_rng_next(g) % 512) * 4096 + (cnnk_rng_next(g) % 64) * 64;
        gap[r] = malloc(bytes);
        if (gap[r]) memset(gap[r], 1, bytes);
        s = cnnk_runner_prepare(net, isa, plan[r], nthreads, run[r], err);
    }
    if (s == CNNK_OK && !*out) {
        *out = malloc((size_t)cnnk_runner_output_elems(ra) * sizeof **out);
        if (!*out) s = cnnk_fail(err, CNNK_ENOMEM, "duel: out of memory for %s", net->name);
    }
    if (s == CNNK_OK) {
        /* ABBA (or BAAB): each plan runs first in half of the pairs, so
         * neither is always the one after the other's cache state, and
         * the lead changes between blocks, so neither always holds a
         * block's first and last places. */
        cnnk_runner *lead = a_leads ? ra : rb, *next = a_leads ? rb : ra;
        double *tl = a_leads ? ta : tb, *tn = a_leads ? tb : ta;
        forward_ms(lead, in, *out), forward_ms(next, in, *out); /* warm-up */
        for (int i = 0; i < per; ++i) {
            if (i % 2 == 0) tl[i] = forward_ms(lead, in, *out), tn[i] = forward_ms(next, in, *out);
            else tn[i] = forward_ms(next, in, *out), tl[i] = forward_ms(lead, in, *out);
        }
        *nconv = conv_steps(ra, rb, differ);
    }
    /* freed in the reverse order of preparation, so the block after sees
     * the same free lists whichever plan came first */
    cnnk_runner_destroy(*run[1]), cnnk_runner_destroy(*run[0]);
    free(gap[1]), free(gap[0]);
    return s;
}

cnnk_status cnnk_tune_duel(const cnnk_net *net, cnnk_isa isa, int nthreads, const cnnk_plan *a,
                           const cnnk_plan *b, int reps, cnnk_tune_duel_result *res,
                           cnnk_error *err) {
    memset(res, 0, sizeof *res);
    if (reps < 1) return cnnk_fail(err, CNNK_EINVAL, "duel: reps=%d (want >= 1)", reps);
    const int nb = cnnk_tune_duel_blocks(reps), per = (reps + nb - 1) / nb, n = nb * per;
    const int64_t nin = net->mb * net->h * net->w * net->c;
    float *in = malloc((size_t)nin * sizeof *in), *out = NULL; /* out: sized by the first block */
    double *ta = malloc((size_t)n * sizeof *ta), *tb = malloc((size_t)n * sizeof *tb);
    double *sc = malloc((size_t)per * sizeof *sc); /* a block's times, sorted for its median */
    double ratio[CNNK_TUNE_SIGNED_RANK_MAX];
    cnnk_status s = in && ta && tb && sc
                        ? CNNK_OK
                        : cnnk_fail(err, CNNK_ENOMEM, "duel: out of memory for %s", net->name);
    cnnk_rng g = {WEIGHT_SEED};
    if (s == CNNK_OK) {
        for (int64_t i = 0; i < nin; ++i)
            in[i] = (float)((double)(cnnk_rng_next(&g) >> 11) * 0x1.0p-53);
    }
    /* Which plan is prepared first and which leads the forwards: each of
     * the four combinations once per four blocks, in a random order. */
    int combo[4] = {0, 1, 2, 3};
    for (int k = 0; s == CNNK_OK && k < nb; ++k) {
        if (k % 4 == 0)
            for (int i = 3; i > 0; --i) {
                const int j = (int)(cnnk_rng_next(&g) % (uint64_t)(i + 1)), x = combo[i];
                combo[i] = combo[j], combo[j] = x;
            }
        double *xa = ta + (ptrdiff_t)k * per, *xb = tb + (ptrdiff_t)k * per;
        s = duel_block(net, isa, nthreads, a, b, combo[k % 4] & 1, combo[k % 4] & 2, per, in, &out,
                       xa, xb, &res->nconv, &res->differ, &g, err);
        if (s != CNNK_OK) break;
        memcpy(sc, xa, (size_t)per * sizeof *sc);
        const double ma = cnnk_tune_median_in_place(sc, per);
        memcpy(sc, xb, (size_t)per * sizeof *sc);
        ratio[k] = log(cnnk_tune_median_in_place(sc, per) / ma);
    }
    if (s == CNNK_OK) {
        double neg[CNNK_TUNE_SIGNED_RANK_MAX];
        for (int k = 0; k < nb; ++k) neg[k] = -ratio[k];
        res->p_b_faster = cnnk_tune_signed_rank_less(ratio, nb);
        res->p_a_faster = cnnk_tune_signed_rank_less(neg, nb);
        res->ms_a = cnnk_tune_median_in_place(ta, n), res->ms_b = cnnk_tune_median_in_place(tb, n);
        res->reps = n, res->blocks = nb;
    }
    free(in), free(out), free(ta), free(tb), free(sc);
    return s;
}

/* ---- the whole-network pass ------------------------------------------------- */

const cnnk_conv_kernel *cnnk_tune_heuristic_kernel(const char *net, cnnk_isa isa,
                                                   const cnnk_conv_desc *d) {
    const cnnk_plan heur = {.kind = CNNK_PLAN_HEURISTIC, .algo = CNNK_ALGO_DIRECT};
    char note[256];
    return cnnk_plan_conv_kernel(&heur, NULL, net, isa, d, note, sizeof note);
}

typedef struct trial {
    int entry;      /* index in t->e */
    int uses;       /* convolutions of the network with the shape */
    const cnnk_conv_kernel *alt;
} trial;

/* The tied candidate with the smallest median other than the chosen one. */
static const cnnk_conv_kernel *runner_up(const cnnk_tune_entry *e) {
    int best = -1;
    for (int c = 0; c < e->ncand; ++c)
        if (e->cand_tied[c] && e->cand[c] != e->kernel && (best < 0 || e->cand_ms[c] < e->cand_ms[best]))
            best = c;
    return best < 0 ? NULL : e->cand[best];
}

static int entry_of(const cnnk_tune_table *t, const char *key) {
    for (int i = 0; i < t->n; ++i)
        if (strcmp(t->e[i].shape, key) == 0) return i;
    return -1;
}

static bool lighter(const trial *a, const trial *b) {
    return a->uses < b->uses;
}

/* The tied shapes of net, heaviest (median x uses) first. */
static int list_trials(const cnnk_net *net, const cnnk_tune_table *t, trial *v, int cap) {
    int n = 0;
    for (int k = 1; k < net->n; ++k) {
        if (net->nodes[k].op != CNNK_NODE_CONV) continue;
        char key[CNNK_TUNE_KEY_LEN];
        cnnk_tune_key(&net->nodes[k].desc.u.conv, key, sizeof key);
        const int e = entry_of(t, key);
        if (e < 0 || t->e[e].verdict != CNNK_TUNE_TIE || !runner_up(&t->e[e])) continue;
        int j = 0;
        while (j < n && v[j].entry != e) ++j;
        if (j < n) {
            v[j].uses++;
        } else if (n < cap) {
            v[n++] = (trial){.entry = e, .uses = 1, .alt = runner_up(&t->e[e])};
        }
    }
    /* weight = median x uses, kept in .uses scaled to microseconds for the sort */
    for (int i = 0; i < n; ++i) v[i].uses = (int)(t->e[v[i].entry].ms * 1e3 * v[i].uses) + 1;
    for (int i = 1; i < n; ++i) /* insertion sort: tens of entries */
        for (int j = i; j > 0 && lighter(&v[j - 1], &v[j]); --j) {
            const trial x = v[j];
            v[j] = v[j - 1], v[j - 1] = x;
        }
    return n;
}

static cnnk_status one_trial(const cnnk_tune_opts *o, const cnnk_net *net, cnnk_tune_table *t,
                             const trial *tr, cnnk_error *err) {
    cnnk_tune_table *alt = cnnk_tune_copy(t);
    if (!alt) return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
    const cnnk_tune_entry *e = &t->e[tr->entry];
    cnnk_status s = cnnk_tune_set_override(alt, net->name, e->shape, tr->alt, err);
    cnnk_tune_duel_result d = {0};
    if (s == CNNK_OK) {
        const cnnk_plan pa = {.kind = CNNK_PLAN_TUNED, .table = t};
        const cnnk_plan pb = {.kind = CNNK_PLAN_TUNED, .table = alt};
        s = cnnk_tune_duel(net, o->isa, o->nthreads, &pa, &pb, o->net_reps, &d, err);
    }
    const bool keep = s == CNNK_OK && d.p_b_faster < CNNK_TUNE_NET_ALPHA && d.ms_b < d.ms_a;
    if (s == CNNK_OK && o->log) {
        fprintf(o->log, "net %-12s %-48s %s -> %s: %.3f -> %.3f ms (p %.3g) %s\n", net->name,
                e->shape, e->kernel->name, tr->alt->name, d.ms_a, d.ms_b, d.p_b_faster,
                keep ? "kept" : "not kept");
        fflush(o->log);
    }
    if (keep) s = cnnk_tune_set_override(t, net->name, e->shape, tr->alt, err);
    cnnk_tune_free(alt);
    return s;
}

/* Whether k is one of e's tied candidates. */
static bool tied_with(const cnnk_tune_entry *e, const cnnk_conv_kernel *k) {
    for (int c = 0; c < e->ncand; ++c)
        if (e->cand[c] == k) return e->cand_tied[c];
    return false;
}

/* One duel for the whole network: layers switched at once to the
 * heuristic's kernel where it differs from the table's: every such layer
 * (all_layers), or the tied ones whose heuristic kernel tied too. A
 * network of fifty 1x1 layers each within 2% can lose several percent in
 * total, to the tie rule or to kernels that win alone with the layer's
 * data hot in cache but not between their neighbours; no single-layer
 * trial can see that through the noise of a whole forward, the group can.
 * *kept says whether the switch was kept. */
static cnnk_status group_trial(const cnnk_tune_opts *o, const cnnk_net *net, bool all_layers,
                               cnnk_tune_table *t, bool *kept, cnnk_error *err) {
    *kept = false;
    cnnk_tune_table *alt = cnnk_tune_copy(t);
    if (!alt) return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
    int switched = 0;
    cnnk_status s = CNNK_OK;
    for (int k = 1; s == CNNK_OK && k < net->n; ++k) {
        if (net->nodes[k].op != CNNK_NODE_CONV) continue;
        const cnnk_conv_desc *d = &net->nodes[k].desc.u.conv;
        char key[CNNK_TUNE_KEY_LEN];
        cnnk_tune_key(d, key, sizeof key);
        const int e = entry_of(t, key);
        const cnnk_conv_kernel *h = cnnk_tune_heuristic_kernel(net->name, o->isa, d);
        if (e < 0 || !h || cnnk_tune_lookup(alt, net->name, d) == h || !h->applies(d) ||
            !cnnk_tune_isa_under(o->isa, h->isa))
            continue;
        if (!all_layers && (t->e[e].verdict != CNNK_TUNE_TIE || !tied_with(&t->e[e], h))) continue;
        s = cnnk_tune_set_override(alt, net->name, key, h, err);
        ++switched;
    }
    cnnk_tune_duel_result d = {0};
    if (s == CNNK_OK && switched > 0) {
        const cnnk_plan pa = {.kind = CNNK_PLAN_TUNED, .table = t};
        const cnnk_plan pb = {.kind = CNNK_PLAN_TUNED, .table = alt};
        s = cnnk_tune_duel(net, o->isa, o->nthreads, &pa, &pb, o->net_reps, &d, err);
    }
    const bool keep = s == CNNK_OK && switched > 0 && d.p_b_faster < CNNK_TUNE_NET_ALPHA && d.ms_b < d.ms_a;
    if (s == CNNK_OK && switched > 0 && o->log) {
        fprintf(o->log, "net %-12s %d %s conv layer(s) to the heuristic's kernel: %.3f -> %.3f ms (p %.3g) %s\n",
                net->name, switched, all_layers ? "differing" : "tied", d.ms_a, d.ms_b, d.p_b_faster,
                keep ? "kept" : "not kept");
        fflush(o->log);
    }
    for (int i = 0; keep && s == CNNK_OK && i < alt->nover; ++i)
        if (strcmp(alt->over[i].net, net->name) == 0)
            s = cnnk_tune_set_override(t, net->name, alt->over[i].shape, alt->over[i].kernel, err);
    cnnk_tune_free(alt);
    *kept = keep;
    return s;
}

cnnk_status cnnk_tune_net_pass(const cnnk_tune_opts *o, const char *name, cnnk_tune_table *t,
                               cnnk_error *err) {
    cnnk_net *net = NULL;
    cnnk_status s = cnnk_net_build(name, o->mb, o->h, o->w, &net, err);
    if (s == CNNK_OK) s = cnnk_net_init_weights(net, WEIGHT_SEED, err);
    trial *v = s == CNNK_OK ? calloc((size_t)net->n, sizeof *v) : NULL;
    if (s == CNNK_OK && !v) s = cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
    bool all = false, tied = false;
    if (s == CNNK_OK) s = group_trial(o, net, true, t, &all, err);
    if (s == CNNK_OK && !all) s = group_trial(o, net, false, t, &tied, err);
    const int n = s == CNNK_OK ? list_trials(net, t, v, net->n) : 0;
    for (int i = 0; s == CNNK_OK && i < n && i < o->net_alts; ++i) s = one_trial(o, net, t, &v[i], err);
    free(v);
    cnnk_net_destroy(net);
    return s;
}
