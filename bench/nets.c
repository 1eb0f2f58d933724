/* net/<net>/cnnk/<isa>/<plan> and net/<net>/onednn/<max-isa>: a whole
 * forward pass, prepared (plan, fusion, packing, memory) outside the
 * timing, through cnnk's runner and through oneDNN's primitives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/gbench.h"
#include "cnnk/cpu.h"
#include "cnnk/proposals.h"
#include "validate/onednn.h"
#include "validate/onednn_peer.h"

/* Weights are deterministic (docs/NETWORKS.md); their values do not change
 * the work, only keep activations of order one. */
#define BENCH_WEIGHT_SEED 1

typedef struct net_case {
    bench_case base;
    bench_arena *arena;
    bool onednn;
    cnnk_onednn_algo algo; /* oneDNN rows */
    cnnk_onednn_concat_mode concat;
    bool unfused;
    double role_ms[5]; /* oneDNN: input reorder, layout reorders, concats, output reorder,
                        * other (BN, ReLU, add steps) */
    char net[BENCH_NET_LEN];
    int64_t batch, h, w;
    const char *proposals; /* --proposals, or NULL: the default set */
    cnnk_isa isa;
    cnnk_plan plan;
    int threads;
    double peak;
    int64_t macs;
    double exec_flops; /* executed per pass: the steps' kernels; 0: unknown */
    float *input, *output;
    cnnk_runner *runner;
    cnnk_onednn_net *dnn;
    char label[256];
} net_case;

static void net_release(bench_case *b) {
    net_case *c = (net_case *)b;
    cnnk_runner_destroy(c->runner);
    cnnk_onednn_net_destroy(c->dnn);
    free(c->input);
    free(c->output);
    c->runner = NULL;
    c->dnn = NULL;
    c->input = c->output = NULL;
}

static void net_destroy(bench_case *b) {
    net_release(b);
    free(b);
}

/* The arena keeps the last network built with weights, so its cnnk and
 * oneDNN benchmarks (and every plan) share one initialisation. */
static bool arena_net(net_case *c, char *msg, size_t len) {
    bench_arena *a = c->arena;
    if (a->net && strcmp(a->net_name, c->net) == 0) return true;
    cnnk_net_destroy(a->net);
    a->net = NULL;
    a->net_name[0] = '\0';
    cnnk_error err;
    cnnk_net *n = NULL;
    const int64_t rois = c->proposals ? cnnk_proposals_count(c->proposals, &err) : 0;
    if (rois < 0 || cnnk_net_build_rois(c->net, c->batch, c->h, c->w, rois, &n, &err) != CNNK_OK ||
        cnnk_net_init_weights(n, BENCH_WEIGHT_SEED, &err) != CNNK_OK ||
        (c->proposals && cnnk_net_set_proposals(n, c->proposals, &err) != CNNK_OK)) {
        cnnk_net_destroy(n);
        snprintf(msg, len, "%s: %s", c->net, err.msg);
        return false;
    }
    a->net = n;
    snprintf(a->net_name, sizeof a->net_name, "%s", c->net);
    return true;
}

static void runner_label(net_case *c) {
    int n = cnnk_runner_step_count(c->runner), fallbacks = 0;
    for (int i = 0; i < n; ++i)
        if (cnnk_runner_step(c->runner, i)->note[0]) fallbacks++;
    snprintf(c->label, sizeof c->label, "%d steps, %d fallbacks", n, fallbacks);
}

/* How many convolutions ran Winograd, then the distinct implementations
 * oneDNN picked, in order of first use. */
static void onednn_label(net_case *c) {
    char impls[sizeof c->label] = "";
    size_t used = 0;
    for (int i = 0; i < cnnk_onednn_net_prim_count(c->dnn); ++i) {
        const char *impl = cnnk_onednn_net_prim_impl(c->dnn, i);
        if (!impl || !impl[0]) continue;
        char item[96], padded[sizeof impls + 2];
        snprintf(item, sizeof item, ",%s,", impl);
        snprintf(padded, sizeof padded, ",%s,", impls);
        if (strstr(padded, item)) continue;
        int m = snprintf(impls + used, sizeof impls - used, "%s%s", used ? "," : "", impl);
        if (m < 0 || used + (size_t)m >= sizeof impls) break;
        used += (size_t)m;
    }
    int wino = cnnk_onednn_net_conv_count(c->dnn, CNNK_ONEDNN_WINOGRAD);
    int convs = wino + cnnk_onednn_net_conv_count(c->dnn, CNNK_ONEDNN_DIRECT);
    char hosts[128];
    if (cnnk_onednn_net_host_steps(c->dnn, hosts, sizeof hosts) > 0)
        snprintf(c->label, sizeof c->label, "winograd %d/%d conv; host_steps: %.100s; %.100s",
                 wino, convs, hosts, impls);
    else
        snprintf(c->label, sizeof c->label, "winograd %d/%d conv; %.200s", wino, convs, impls);
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* What oneDNN's network spends outside its layer rows, by step role (input
 * reorder, layout reorders, concats, output reorder, BN/ReLU/add steps):
 * medians of five step-by-step passes, untimed, counters beside the row. */
static bool profile_roles(net_case *c) {
    enum { PASSES = 5 };
    static const char *const roles[5] = {"input", "reorder", "concat", "output", "other"};
    const int n = cnnk_onednn_net_prim_count(c->dnn);
    double *ms = calloc((size_t)n * PASSES, sizeof *ms);
    bool ok = ms != NULL;
    for (int p = 0; ok && p < PASSES; ++p)
        ok = cnnk_onednn_net_profile(c->dnn, c->input, c->output, ms + (size_t)p * n) == CNNK_OK;
    for (int r = 0; r < 5; ++r) c->role_ms[r] = 0.0;
    for (int i = 0; ok && i < n; ++i) {
        const char *role = cnnk_onednn_net_prim_role(c->dnn, i);
        double t[PASSES];
        for (int p = 0; p < PASSES; ++p) t[p] = ms[(size_t)p * n + i];
        qsort(t, PASSES, sizeof t[0], cmp_double);
        for (int r = 0; r < 5; ++r)
            if (strcmp(role, roles[r]) == 0) c->role_ms[r] += t[PASSES / 2];
    }
    free(ms);
    return ok;
}

static bool net_prepare(bench_case *b, bench_arena *a, char *msg, size_t len) {
    (void)a;
    net_case *c = (net_case *)b;
    if (!arena_net(c, msg, len)) return false;
    const cnnk_net *n = c->arena->net;
    cnnk_error err;
    int64_t in = n->mb * n->h * n->w * n->c, out;
    if (c->onednn) {
        const cnnk_onednn_net_opts opts = {c->algo, c->concat, c->unfused};
        if (cnnk_onednn_net_create_ex(n, c->threads, &opts, &c->dnn, &err) != CNNK_OK) {
            snprintf(msg, len, "oneDNN: %s", err.msg);
            return false;
        }
        out = cnnk_onednn_net_output_elems(c->dnn);
    } else {
        if (cnnk_runner_prepare(n, c->isa, &c->plan, c->threads, &c->runner, &err) != CNNK_OK) {
            snprintf(msg, len, "%s", err.msg);
            return false;
        }
        out = cnnk_runner_output_elems(c->runner);
        c->exec_flops = 0.0;
        for (int i = 0; i < cnnk_runner_step_count(c->runner); ++i)
            c->exec_flops += cnnk_runner_step(c->runner, i)->flops;
    }
    c->input = bench_alloc((size_t)in);
    c->output = bench_alloc((size_t)out);
    if (!c->input || !c->output) {
        snprintf(msg, len, "out of memory");
        return false;
    }
    bench_fill(c->input, (size_t)in, 7, 0.0f, 1.0f);
    /* One untimed pass: JIT, first touch of every buffer. */
    if (c->onednn) {
        if (cnnk_onednn_net_forward(c->dnn, c->input, c->output) != CNNK_OK) {
            snprintf(msg, len, "oneDNN: forward failed");
            return false;
        }
        onednn_label(c);
        if (!profile_roles(c)) {
            snprintf(msg, len, "oneDNN: profile failed");
            return false;
        }
    } else {
        cnnk_runner_forward(c->runner, c->input, c->output, false);
        runner_label(c);
    }
    return true;
}

static void bm_net(cnnk_gb_state *st, void *user) {
    net_case *c = user;
    char msg[CNNK_ERROR_MSG_LEN + 64];
    if (!bench_activate(c->arena, &c->base, msg, sizeof msg)) {
        cnnk_gb_skip(st, msg);
        return;
    }
    double t0 = bench_clock(c->threads > 1);
    if (c->onednn) {
        while (cnnk_gb_keep_running(st))
            if (cnnk_onednn_net_forward(c->dnn, c->input, c->output) != CNNK_OK) {
                cnnk_gb_skip(st, "oneDNN: forward failed");
                return;
            }
    } else {
        while (cnnk_gb_keep_running(st)) cnnk_runner_forward(c->runner, c->input, c->output, false);
    }
    bench_flop_counters(st, c->macs, c->exec_flops, c->peak, bench_clock(c->threads > 1) - t0);
    /* what the concats copy per forward, cnnk's and oneDNN's alike */
    cnnk_gb_counter(st, "concat_copy_bytes",
                    (double)(c->onednn ? cnnk_onednn_net_concat_copy_bytes(c->dnn)
                                       : cnnk_runner_concat_copy_bytes(c->runner)),
                    CNNK_GB_PLAIN);
    if (c->onednn) {
        static const char *const names[5] = {"input_reorder_ms", "reorder_ms", "concat_ms",
                                             "output_reorder_ms", "other_ms"};
        for (int r = 0; r < 5; ++r) cnnk_gb_counter(st, names[r], c->role_ms[r], CNNK_GB_PLAIN);
    }
    cnnk_gb_label(st, c->label);
}

static net_case *new_case(const bench_opts *o, bench_arena *a, const char *net, int64_t macs) {
    net_case *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->base.prepare = net_prepare;
    c->base.release = net_release;
    c->base.destroy = net_destroy;
    c->arena = a;
    snprintf(c->net, sizeof c->net, "%s", net);
    c->batch = o->batch;
    c->h = o->input_given ? o->h : 0; /* 0: the network's default input */
    c->w = o->input_given ? o->w : 0;
    c->proposals = o->proposals;
    c->threads = o->threads;
    c->macs = macs;
    return c;
}

static bool add(const bench_opts *o, net_case *c, const char *name) {
    if (!c) return false;
    cnnk_gb_bench *b = cnnk_gb_register(name, bm_net, c, bench_case_destroy);
    if (!b) return false;
    cnnk_gb_set_unit(b, CNNK_GB_MS);
    if (o->threads > 1) cnnk_gb_use_real_time(b);
    return true;
}

/* The plans of isa: the reference plan belongs to the ref ISA alone (it
 * runs reference kernels whatever the ISA). */
static int plans_of(const bench_opts *o, cnnk_isa isa, bool main_only, cnnk_plan *p) {
    int n = 0;
    if (main_only) {
        p[n++] = (cnnk_plan){.kind = CNNK_PLAN_HEURISTIC};
        return n;
    }
    if (o->nplans > 0) {
        for (int i = 0; i < o->nplans; ++i)
            if (o->plans[i].kind != CNNK_PLAN_REF || isa == CNNK_ISA_REF) p[n++] = o->plans[i];
        return n;
    }
    if (isa == CNNK_ISA_REF) p[n++] = (cnnk_plan){.kind = CNNK_PLAN_REF};
    p[n++] = (cnnk_plan){.kind = CNNK_PLAN_HEURISTIC};
    for (int a = 0; a < CNNK_ALGO_COUNT; ++a)
        p[n++] = (cnnk_plan){.kind = CNNK_PLAN_FIXED, .algo = (cnnk_algo)a};
    return n;
}

/* The oneDNN row of net for algorithm k and concat strategy m: the copy
 * strategy keeps the plain name; in-place is registered only for networks
 * that have concats (elsewhere it is the same network). */
void bench_onednn_row_name(char *buf, size_t len, const char *net, int k, int m) {
    snprintf(buf, len, "net/%s/onednn/%s/%s%s", net, bench_onednn_isa(),
             cnnk_onednn_algo_name((cnnk_onednn_algo)k),
             m == CNNK_ONEDNN_CONCAT_IN_PLACE ? "/inplace" : "");
}

/* --onednn_unfused: the network a framework's eager mode runs (a primitive
 * per node), .../<algo>/unfused, concats copied as torch.cat does. */
static int register_unfused(const bench_opts *o, bench_arena *a, const char *net,
                            const char *label, int64_t macs) {
    int count = 0;
    for (int k = 0; o->onednn_unfused && cnnk_onednn_available() && k < CNNK_ONEDNN_ALGO_COUNT;
         ++k) {
        if (!o->onednn_algo[k]) continue;
        net_case *c = new_case(o, a, net, macs);
        if (c) {
            c->onednn = c->unfused = true;
            c->algo = (cnnk_onednn_algo)k;
            c->exec_flops = k == CNNK_ONEDNN_DIRECT ? 2.0 * (double)macs : 0.0;
            c->concat = CNNK_ONEDNN_CONCAT_COPY;
            c->peak = bench_onednn_peak() * o->threads;
        }
        char name[256];
        snprintf(name, sizeof name, "net/%s/onednn/%s/%s/unfused", label, bench_onednn_isa(),
                 cnnk_onednn_algo_name((cnnk_onednn_algo)k));
        if (!add(o, c, name)) return -1;
        count++;
    }
    return count;
}

/* net builds the network (a name or an ONNX path); label names its rows
 * (the name, or the model's file stem). */
static int register_net(const bench_opts *o, bench_arena *a, const char *net, const char *label,
                        int64_t macs, bool has_concat, bool main_only) {
    int count = 0;
    char name[256], plan_name[64];
    for (int i = 0; i < CNNK_ISA_COUNT; ++i) {
        cnnk_isa isa = (cnnk_isa)i;
        if (main_only ? isa != cnnk_best_isa() : !o->isa[isa]) continue;
        cnnk_plan plans[BENCH_MAX_PLANS + CNNK_ALGO_COUNT + 2];
        int np = plans_of(o, isa, main_only, plans);
        for (int p = 0; p < np; ++p) {
            net_case *c = new_case(o, a, net, macs);
            if (c) {
                c->isa = isa;
                c->plan = plans[p];
                c->peak = cnnk_peak_gflops(isa) * o->threads;
            }
            cnnk_plan_format(&plans[p], plan_name, sizeof plan_name);
            snprintf(name, sizeof name, "net/%s/cnnk/%s/%s", label, cnnk_isa_name(isa), plan_name);
            if (!add(o, c, name)) return -1;
            count++;
        }
    }
    for (int k = 0; cnnk_onednn_available() && k < CNNK_ONEDNN_ALGO_COUNT; ++k)
        for (int m = 0; m < CNNK_ONEDNN_CONCAT_COUNT; ++m) {
            if (!o->onednn_algo[k] || !o->onednn_concat[m]) continue;
            /* without concats both strategies are one network: the copy row */
            if (!has_concat && m != CNNK_ONEDNN_CONCAT_COPY) continue;
            net_case *c = new_case(o, a, net, macs);
            if (c) {
                c->onednn = true;
                c->algo = (cnnk_onednn_algo)k;
                c->concat = (cnnk_onednn_concat_mode)m;
                /* Direct everywhere executes the definition; oneDNN's Winograd
                 * work is its own: unknown, not guessed. */
                c->exec_flops = k == CNNK_ONEDNN_DIRECT ? 2.0 * (double)macs : 0.0;
                c->peak = bench_onednn_peak() * o->threads;
            }
            bench_onednn_row_name(name, sizeof name, label, k, m);
            if (!add(o, c, name)) return -1;
            count++;
        }
    int u = main_only ? 0 : register_unfused(o, a, net, label, macs);
    return u < 0 ? -1 : count + u;
}

int bench_register_nets(const bench_opts *o, bench_arena *a, bool main_only) {
    int count = 0;
    for (int i = 0; i < o->nnets; ++i) {
        cnnk_net *n = NULL;
        cnnk_error err;
        const int64_t h = o->input_given ? o->h : 0, w = o->input_given ? o->w : 0;
        const int64_t rois = o->proposals ? cnnk_proposals_count(o->proposals, &err) : 0;
        if (rois < 0 || cnnk_net_build_rois(o->nets[i], o->batch, h, w, rois, &n, &err) != CNNK_OK) {
            fprintf(stderr, "cnnk-bench: %s at batch %lld, %lldx%lld: %s\n", o->nets[i],
                    (long long)o->batch, (long long)o->h, (long long)o->w, err.msg);
            return -1;
        }
        int64_t macs = cnnk_net_macs(n);
        bool has_concat = false;
        for (int k = 0; k < n->n; ++k) has_concat |= n->nodes[k].op == CNNK_NODE_CONCAT;
        char label[sizeof n->name];
        snprintf(label, sizeof label, "%s", n->name);
        cnnk_net_destroy(n);
        int r = register_net(o, a, o->nets[i], label, macs, has_concat, main_only);
        if (r < 0) {
            fprintf(stderr, "cnnk-bench: out of memory registering network benchmarks\n");
            return -1;
        }
        count += r;
    }
    return count;
}
