/* Fusion legality under random graphs (issue 19, item 2).
 *
 * Builds small random graphs through the public builder (cnnk/net.h):
 * convolutions (1x1 and 3x3, with and without bias), batch-norm, ReLU,
 * residual add, channel concat, max and average pooling (both divisors),
 * dropout; inputs are drawn mostly from the newest values, so values get
 * one, two or three readers and the fuser meets every tempting case (a
 * ReLU, batch-norm or add behind a producer that someone else also reads).
 * Every value no node reads joins one final concat, so every node's result
 * reaches the output. Each graph runs with every plan on every ISA this
 * CPU runs, at thread counts 1, 2, 3, 5, 7 in turn, and is compared with
 * the unfused node-by-node evaluation (tests/net_compare.h).
 *
 * Seeded and fixed in size, so a failure reproduces: the failing graph's
 * seed and structure are printed. CNNK_FUSE_GRAPHS and CNNK_FUSE_SEED
 * override the count and the first seed for a longer run, e.g.
 *     CNNK_FUSE_GRAPHS=2000 CNNK_FUSE_SEED=1000 build/test_fuse_random */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "tests/check.h"
#include "tests/net_compare.h"

#define MAX_OPS 14

typedef struct gen {
    cnnk_rng r;
    cnnk_net *n;
    int chain, concat; /* this graph's style: percent of chain steps, of concats */
    int uses[MAX_OPS * 3 + 2]; /* input slots reading each node */
} gen;

/* What a run met: how often a fusable reader sat behind a value with
 * another reader (the cases where fusing would be wrong). */
typedef struct stats {
    long graphs, nodes, two_readers, three_readers;
    long relu_behind_shared, bn_behind_shared, add_behind_shared;
} stats;

static int pick(gen *g, int n) {
    return (int)(cnnk_rng_next(&g->r) % (uint64_t)n);
}

/* Mostly the newest value, often one of the last four, sometimes any. */
static int pick_value(gen *g) {
    const int n = g->n->n, u = pick(g, 10);
    if (u < 5) return n - 1;
    if (u < 8) return n - 1 - pick(g, n < 4 ? n : 4);
    return pick(g, n);
}

static void read_by(gen *g, int v) {
    if (v >= 0) ++g->uses[v];
}

static int conv(gen *g, const char *name, int in, int64_t oc) {
    const int k = pick(g, 2) ? 3 : 1;
    read_by(g, in);
    return cnnk_net_conv(g->n, name, in, oc, k, 1, k / 2, pick(g, 2));
}

/* An add of a and a value of a's channel count: an earlier one when there
 * is one, else a fresh convolution of some value to a's channels. */
static int add(gen *g, const char *name, char *aux_name, int a) {
    const int64_t c = g->n->nodes[a].c;
    int b = -1;
    if (pick(g, 20) == 0) {
        b = a; /* x + x */
    } else {
        for (int tries = 0; tries < 6 && b < 0; ++tries) {
            const int v = pick_value(g);
            if (v != a && g->n->nodes[v].c == c) b = v;
        }
    }
    if (b < 0) b = conv(g, aux_name, pick_value(g), c);
    read_by(g, a), read_by(g, b);
    return pick(g, 2) ? cnnk_net_add(g->n, name, a, b) : cnnk_net_add(g->n, name, b, a);
}

static bool contains(const int *v, int n, int x) {
    for (int i = 0; i < n; ++i)
        if (v[i] == x) return true;
    return false;
}

/* Two or three distinct values (fewer while the graph is that small). */
static int concat(gen *g, const char *name) {
    int in[3], k = 0;
    const int want = 2 + pick(g, 2);
    for (int tries = 0; tries < 12 && k < want; ++tries) {
        const int v = tries < 3 ? pick_value(g) : pick(g, g->n->n);
        if (!contains(in, k, v)) in[k++] = v;
    }
    for (int i = 0; i < k; ++i) read_by(g, in[i]);
    return cnnk_net_concat(g->n, name, k, in);
}

static int pool(gen *g, const char *name, int in) {
    read_by(g, in);
    switch (pick(g, 3)) {
    case 0: return cnnk_net_maxpool(g->n, name, in, 3, 1, 1, false);
    case 1: return cnnk_net_avgpool(g->n, name, in, 3, 1, 1, false, true);
    default: return cnnk_net_avgpool(g->n, name, in, 3, 1, 1, false, false);
    }
}

static int unary(gen *g, cnnk_node_op op, const char *name, int in) {
    read_by(g, in);
    switch (op) {
    case CNNK_NODE_RELU: return cnnk_net_relu(g->n, name, in);
    case CNNK_NODE_BNORM: return cnnk_net_bnorm(g->n, name, in, 1e-3f);
    default: return cnnk_net_dropout(g->n, name, in);
    }
}

/* One random node; returns its index (or -1 with the builder's error). */
static int random_node(gen *g, int i) {
    char name[16], aux[16];
    snprintf(name, sizeof name, "n%d", i);
    snprintf(aux, sizeof aux, "n%d.b", i);
    /* Some of the time (g->chain), extend the newest value along the chains
     * the fuser merges (conv -> bn -> relu -> add and their orders), so
     * that each legal and each illegal merge comes up often. */
    const int last = g->n->n - 1;
    const cnnk_node_op lop = g->n->nodes[last].op;
    if (pick(g, 100) < g->chain && (lop == CNNK_NODE_CONV || lop == CNNK_NODE_BNORM ||
                            lop == CNNK_NODE_RELU || lop == CNNK_NODE_ADD)) {
        switch (pick(g, 3)) {
        case 0: return unary(g, CNNK_NODE_RELU, name, last);
        case 1: return unary(g, CNNK_NODE_BNORM, name, last);
        default: return add(g, name, aux, last);
        }
    }
    /* the rest: concats at this graph's rate, the other kinds shared out */
    if (pick(g, 100) < g->concat) return concat(g, name);
    const int u = pick(g, 100);
    if (u < 32) return conv(g, name, pick_value(g), 1 + pick(g, 12));
    if (u < 50) return unary(g, CNNK_NODE_RELU, name, pick_value(g));
    if (u < 64) return unary(g, CNNK_NODE_BNORM, name, pick_value(g));
    if (u < 82) return add(g, name, aux, pick_value(g));
    if (u < 95) return pool(g, name, pick_value(g));
    return unary(g, CNNK_NODE_DROPOUT, name, pick_value(g));
}

static bool fusable_head(cnnk_node_op op) {
    return op == CNNK_NODE_CONV || op == CNNK_NODE_BNORM || op == CNNK_NODE_ADD ||
           op == CNNK_NODE_FC;
}

static void count(const gen *g, stats *s) {
    const cnnk_net *n = g->n;
    ++s->graphs;
    s->nodes += n->n;
    for (int i = 1; i < n->n; ++i) {
        s->two_readers += g->uses[i] == 2;
        s->three_readers += g->uses[i] >= 3;
        const cnnk_node *x = &n->nodes[i];
        for (int k = 0; k < x->ninputs; ++k) {
            const int in = x->inputs[k];
            if (in <= 0 || g->uses[in] < 2) continue;
            const cnnk_node_op op = n->nodes[in].op;
            s->relu_behind_shared += x->op == CNNK_NODE_RELU && fusable_head(op);
            s->bn_behind_shared += x->op == CNNK_NODE_BNORM && op == CNNK_NODE_CONV;
            s->add_behind_shared += x->op == CNNK_NODE_ADD && op == CNNK_NODE_CONV;
        }
    }
}

static void dump(const cnnk_net *n) {
    fprintf(stderr, "  %s: input %lldx%lldx%lld, mb %lld\n", n->name, (long long)n->c,
            (long long)n->h, (long long)n->w, (long long)n->mb);
    for (int i = 1; i < n->n; ++i) {
        const cnnk_node *x = &n->nodes[i];
        fprintf(stderr, "  %-6s %-7s c=%-3lld <-", x->name, cnnk_node_op_name(x->op),
                (long long)x->c);
        for (int k = 0; k < x->ninputs; ++k) fprintf(stderr, " %s", n->nodes[x->inputs[k]].name);
        fprintf(stderr, "\n");
    }
}

/* Builds graph `seed`, compares every plan with the unfused evaluation. */
static void one_graph(uint64_t seed, stats *s) {
    gen g = {.r = {seed * 0x9E3779B97F4A7C15ull + 19}};
    char name[32];
    snprintf(name, sizeof name, "rand%llu", (unsigned long long)seed);
    g.n = cnnk_net_create(name, 1 + pick(&g, 2), 1 + pick(&g, 8), 4 + pick(&g, 6),
                          4 + pick(&g, 6));
    CHECK(g.n != NULL);
    if (!g.n) return;
    /* graphs differ in style too: chain-heavy, concat-heavy, neither */
    g.chain = (int)pick(&g, 3) * 30;
    g.concat = 5 + (int)pick(&g, 3) * 12;
    const int ops = 4 + pick(&g, MAX_OPS - 3);
    for (int i = 0; i < ops; ++i) random_node(&g, i);
    /* every value nobody reads (but the input) into the output */
    int leaves[MAX_OPS * 3 + 2], nleaves = 0;
    for (int i = 1; i < g.n->n; ++i)
        if (g.uses[i] == 0) leaves[nleaves++] = i;
    if (nleaves > 1) {
        for (int i = 0; i < nleaves; ++i) read_by(&g, leaves[i]);
        cnnk_net_concat(g.n, "out", nleaves, leaves);
    }
    cnnk_error err;
    const cnnk_status st = cnnk_net_status(g.n, &err);
    if (st != CNNK_OK) fprintf(stderr, "%s: %s\n", name, err.msg);
    CHECK(st == CNNK_OK);
    if (st == CNNK_OK) {
        count(&g, s);
        const int before = check_failures;
        cnnk_runner_destroy(compare_plans_seeded(g.n, seed, seed + 1, -1));
        if (check_failures != before) dump(g.n);
    }
    cnnk_net_destroy(g.n);
}

static long env_or(const char *name, long dflt) {
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

int main(int argc, char **argv) {
    (void)argc;
    /* Thread counts up to 7 on a 2-core machine: libgomp's default active
     * wait spins each idle thread for ~0.3 s per region, which made this
     * test 13x slower (6.8 s against 0.5 s for 20 graphs, both under load
     * 5-7) with the same results. libgomp reads the variable when it is
     * loaded, so set it and start again. */
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        execv("/proc/self/exe", argv);
        perror("test_fuse_random: re-exec with OMP_WAIT_POLICY=passive"); /* run on, slower */
    }
    /* Sized to a few seconds in Release on a loaded 2-core machine; the
     * sanitizer build runs fewer (same code, ~10x slower). */
#if defined(__SANITIZE_ADDRESS__)
    const long dflt = 60;
#else
    const long dflt = 200;
#endif
    const long graphs = env_or("CNNK_FUSE_GRAPHS", dflt);
    const long first = env_or("CNNK_FUSE_SEED", 1);
    stats s = {0};
    for (long i = 0; i < graphs; ++i) one_graph((uint64_t)(first + i), &s);
    printf("test_fuse_random: %ld graphs (seeds %ld..%ld), %ld nodes; values read twice %ld, "
           "3+ times %ld; behind a shared value: relu %ld, bn %ld, add %ld\n",
           s.graphs, first, first + graphs - 1, s.nodes, s.two_readers, s.three_readers,
           s.relu_behind_shared, s.bn_behind_shared, s.add_behind_shared);
    /* The generator must keep producing the cases it exists for. */
    if (graphs >= dflt) {
        CHECK(s.three_readers > 0);
        CHECK(s.relu_behind_shared > 0 && s.bn_behind_shared > 0 && s.add_behind_shared > 0);
    }
    return check_finish("test_fuse_random");
}
