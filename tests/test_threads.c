/* Threads change who computes a value, never the value (docs/THREADS.md):
 * every kernel splits along output rows, pixels, tiles, channels or
 * transform positions, never along the reduction, so a forward pass at
 * any thread count must give exactly, bit for bit, what one thread gives.
 * Checked for the five networks at a small input, the heuristic plan and
 * plans that force the split-sensitive strategies (Winograd's wide mode
 * over few tiles, the unpacked 1x1 path, im2col), at 3 threads (an odd
 * count: remainders) and 8 (more threads than this 2-core machine has:
 * the team oversubscribes and must still finish). Also the team itself:
 * every part of a job runs exactly once however many threads there are. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/cpu.h"
#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "kernels/common/team.h"
#include "tests/check.h"

typedef struct parts {
    atomic_int hits[64];
    int expect_nt;
    atomic_int bad_nt;
} parts;

static void count_part(void *p, int t, int nt) {
    parts *x = p;
    if (nt != x->expect_nt || t < 0 || t >= 64) {
        atomic_fetch_add(&x->bad_nt, 1);
        return;
    }
    atomic_fetch_add(&x->hits[t], 1);
}

typedef struct team_case {
    int nt;
    int failures;
} team_case;

/* Inside a team: jobs of 1..40 parts, more and fewer than the team. */
static void team_jobs(void *p) {
    team_case *c = p;
    for (int nt = 1; nt <= 40; ++nt) {
        parts x = {.expect_nt = nt};
        cnnk_parallel(nt, count_part, &x);
        for (int t = 0; t < 64; ++t)
            if (atomic_load(&x.hits[t]) != (t < nt ? 1 : 0)) ++c->failures;
        if (atomic_load(&x.bad_nt)) ++c->failures;
    }
}

typedef struct range_sum {
    atomic_llong covered;
    atomic_int calls;
} range_sum;

static void cover(void *p, int64_t lo, int64_t hi, int t) {
    (void)t;
    range_sum *s = p;
    long long sum = 0;
    for (int64_t i = lo; i < hi; ++i) sum += i + 1;
    atomic_fetch_add(&s->covered, sum);
    atomic_fetch_add(&s->calls, 1);
}

static void test_team(void) {
    for (int size = 1; size <= 8; ++size) {
        team_case c = {.nt = size};
        cnnk_team_run(size, NULL, team_jobs, &c);
        CHECK_EQ_I64(c.failures, 0);
        /* And outside a team, each job its own OpenMP region. */
        team_jobs(&c);
        CHECK_EQ_I64(c.failures, 0);
    }
    /* Ranges cover [0, n) exactly once, with remainders (n = 7 items over
     * 3 parts, 2 items over 5 parts: min(nt, n) parts). */
    const int64_t ns[] = {1, 2, 7, 64, 1001};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; ++i)
        for (int nt = 1; nt <= 7; ++nt) {
            range_sum s = {0};
            cnnk_parallel_for(nt, ns[i], cover, &s);
            CHECK_EQ_I64(atomic_load(&s.covered), ns[i] * (ns[i] + 1) / 2);
            CHECK_EQ_I64(atomic_load(&s.calls), ns[i] < nt ? ns[i] : nt);
        }
    int64_t lo, hi, prev = 0;
    for (int t = 0; t < 5; ++t) {
        cnnk_part_range(13, t, 5, &lo, &hi);
        CHECK_EQ_I64(lo, prev);
        CHECK(hi - lo == 2 || hi - lo == 3);
        prev = hi;
    }
    CHECK_EQ_I64(prev, 13);
}

static float *forward(const cnnk_net *net, cnnk_isa isa, const char *plan_s, int threads,
                      const float *in, int64_t *elems) {
    cnnk_error err;
    cnnk_plan plan;
    CHECK(cnnk_plan_parse(plan_s, &plan, &err) == CNNK_OK);
    cnnk_runner *r = NULL;
    if (cnnk_runner_prepare(net, isa, &plan, threads, &r, &err) != CNNK_OK) {
        fprintf(stderr, "prepare %s %s %d threads: %s\n", net->name, plan_s, threads, err.msg);
        CHECK(false);
        return NULL;
    }
    *elems = cnnk_runner_output_elems(r);
    float *out = malloc((size_t)*elems * sizeof *out);
    if (out) cnnk_runner_forward(r, in, out, false);
    cnnk_runner_destroy(r);
    return out;
}

static void same_at_threads(const char *name, int64_t mb, int64_t hw, cnnk_isa isa,
                            const char *plan, int t1, int t2) {
    cnnk_net *net = NULL;
    cnnk_error err;
    CHECK(cnnk_net_build(name, mb, hw, hw, &net, &err) == CNNK_OK);
    if (!net) return;
    CHECK(cnnk_net_init_weights(net, 7, &err) == CNNK_OK);
    const int64_t nin = net->mb * net->h * net->w * net->c;
    float *in = malloc((size_t)nin * sizeof *in);
    for (int64_t i = 0; i < nin; ++i) in[i] = (float)((i * 7919) % 257) / 128.0f - 1.0f;
    int64_t elems = 0, elems_many = 0;
    float *one = forward(net, isa, plan, 1, in, &elems);
    const int threads[] = {t1, t2};
    for (int k = 0; k < 2 && one; ++k) {
        float *many = forward(net, isa, plan, threads[k], in, &elems_many);
        if (!many) continue;
        CHECK_EQ_I64(elems_many, elems);
        int64_t n = 0, first = -1;
        for (int64_t i = 0; i < elems; ++i)
            if (memcmp(&one[i], &many[i], sizeof *one) != 0 && n++ == 0) first = i;
        if (n) {
            fprintf(stderr, "%s %s %s (split %s): %d threads differ from 1 in %lld values (first [%lld] %a vs %a)\n",
                    name, cnnk_isa_name(isa), plan, getenv("CNNK_BATCH_SPLIT") ? getenv("CNNK_BATCH_SPLIT") : "auto", threads[k], (long long)n, (long long)first,
                    (double)many[first], (double)one[first]);
        }
        CHECK_EQ_I64(n, 0);
        free(many);
    }
    free(one), free(in);
    cnnk_net_destroy(net);
}

int main(void) {
    test_team();
    const cnnk_isa isa = cnnk_best_isa();
    static const struct {
        const char *net;
        int64_t hw;
    } nets[] = {{"resnet50", 32}, {"googlenet", 32}, {"densenet121", 32},
                {"alexnet", 224}}; /* its adaptive pooling wants 224 */
    static const char *const plans[] = {"heuristic", "fixed:winograd_f4x4", "fixed:1x1_sup",
                                        "fixed:im2col", "fixed:im2col_sup"};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; ++i)
        for (size_t p = 0; p < sizeof plans / sizeof plans[0]; ++p) {
            /* The heuristic for every network; the forced strategies on
             * ResNet-50, which has the most of each (1x1 and 3x3 on 7x7 to
             * 56x56 maps, strided 1x1, residual epilogues). */
            if (p > 0 && i > 0) continue;
            same_at_threads(nets[i].net, 1, nets[i].hw, isa, plans[p], 3, 8);
        }
    /* A batch of 6 split within layers, then across images (3 + 3 at 2
     * threads, 2 + 2 + 2 at 3): the same values either way. No part of one
     * image: it would run the fully connected layer as a GEMV, whose sums
     * go in another order than the batch's GEMM. */
    static const char *const splits[] = {"layers", "images"};
    for (int k = 0; k < 2; ++k) {
        setenv("CNNK_BATCH_SPLIT", splits[k], 1);
        same_at_threads("resnet50", 6, 32, isa, "heuristic", 2, 3);
        same_at_threads("googlenet", 6, 32, isa, "heuristic", 2, 3);
    }
    unsetenv("CNNK_BATCH_SPLIT");
    return check_finish("test_threads");
}
