/* Shared by the runner tests (test_runner.c, test_fuse_random.c): the
 * unfused node-by-node evaluation of a graph, and the comparison of every
 * plan on every ISA this CPU runs against it. Static functions in a header
 * because each tests/test_*.c is one executable. */
#ifndef CNNK_TESTS_NET_COMPARE_H
#define CNNK_TESTS_NET_COMPARE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/cpu.h"
#include "cnnk/runner.h"
#include "kernels/ref/ref.h"
#include "tests/check.h"
#include "validate/check.h"

/* Every node on its own, contiguous (pitch = its channels), with the
 * scalar reference: no folding, no fusion, no shared buffers. Returns one
 * malloc'd array per node (free_values). */
static float **eval_unfused(const cnnk_net *net, const float *input) {
    float **v = calloc((size_t)net->n, sizeof *v);
    for (int i = 0; i < net->n; ++i) {
        const cnnk_node *n = &net->nodes[i];
        const int64_t elems = net->mb * n->h * n->w * n->c;
        v[i] = malloc((size_t)elems * sizeof(float));
        const float *a = n->ninputs > 0 ? v[n->inputs[0]] : NULL;
        const int64_t lda = n->ninputs > 0 ? net->nodes[n->inputs[0]].c : 0;
        const cnnk_layer_desc *l = &n->desc;
        switch (n->op) {
        case CNNK_NODE_INPUT: memcpy(v[i], input, (size_t)elems * sizeof(float)); break;
        case CNNK_NODE_CONV: {
            const cnnk_epilogue ep = {.bias = n->has_bias ? n->bias : NULL};
            cnnk_ref_conv(&l->u.conv, a, lda, n->weights, v[i], n->c, &ep);
            break;
        }
        case CNNK_NODE_BNORM:
            cnnk_ref_bnorm(&l->u.bnorm, a, lda, n->bn[0], n->bn[1], n->bn[2], n->bn[3], v[i], n->c);
            break;
        case CNNK_NODE_RELU:
        case CNNK_NODE_LEAKY_RELU:
            cnnk_ref_eltwise(&l->u.eltwise, a, lda, NULL, 0, v[i], n->c);
            break;
        case CNNK_NODE_ADD:
            cnnk_ref_eltwise(&l->u.eltwise, a, lda, v[n->inputs[1]], lda, v[i], n->c);
            break;
        case CNNK_NODE_POOL: cnnk_ref_pool(&l->u.pool, a, lda, v[i], n->c); break;
        case CNNK_NODE_LRN: cnnk_ref_lrn(&l->u.lrn, a, lda, v[i], n->c); break;
        case CNNK_NODE_SOFTMAX: cnnk_ref_softmax(&l->u.softmax, a, lda, v[i], n->c); break;
        case CNNK_NODE_RESIZE: cnnk_ref_resize(&l->u.resize, a, lda, v[i], n->c); break;
        case CNNK_NODE_FC:
            cnnk_ref_fc(&l->u.fc, a, n->weights, n->has_bias ? n->bias : NULL, v[i], false, 0.0f);
            break;
        case CNNK_NODE_DROPOUT: memcpy(v[i], a, (size_t)elems * sizeof(float)); break;
        case CNNK_NODE_DECONV: {
            const cnnk_epilogue ep = {.bias = n->has_bias ? n->bias : NULL};
            cnnk_ref_deconv(&l->u.conv, a, lda, n->weights, v[i], n->c, &ep);
            break;
        }
        case CNNK_NODE_CROP: {
            const cnnk_node *s = &net->nodes[n->inputs[0]];
            for (int64_t b = 0; b < net->mb; ++b)
                for (int64_t h = 0; h < n->h; ++h)
                    memcpy(v[i] + (b * n->h + h) * n->w * n->c,
                           a + ((b * s->h + h + n->crop_top) * s->w + n->crop_left) * s->c,
                           (size_t)(n->w * n->c) * sizeof(float));
            break;
        }
        case CNNK_NODE_CONCAT: {
            const float *src[CNNK_CONCAT_MAX_INPUTS];
            int64_t ld[CNNK_CONCAT_MAX_INPUTS];
            for (int k = 0; k < n->ninputs; ++k) {
                src[k] = v[n->inputs[k]];
                ld[k] = net->nodes[n->inputs[k]].c;
            }
            cnnk_ref_concat(&l->u.concat, src, ld, v[i], n->c);
            break;
        }
        default: CHECK(!"node kind the test does not know"); break;
        }
    }
    return v;
}

static void free_values(const cnnk_net *net, float **v) {
    for (int i = 0; i < net->n; ++i) free(v[i]);
    free(v);
}

static double rel_l2(const float *got, const float *want, int64_t n) {
    cnnk_diff d;
    cnnk_diff_compute(got, want, n, &d);
    return d.rel_l2;
}

/* Runs `net` (weights from wseed, input from iseed) with every plan on
 * every available ISA and compares its output with the unfused
 * evaluation; returns the reference plan's runner for structural checks
 * (caller destroys). expect_steps < 0 checks no step count. The runs take
 * the thread counts of check_threads in turn (1, 2, 3, 5, 7: most of the work divides by none
 * of the last three), so each graph runs at each count on some plan. */
static cnnk_runner *compare_plans_seeded(cnnk_net *net, uint64_t wseed, uint64_t iseed,
                                         int expect_steps) {
    cnnk_error err;
    CHECK(cnnk_net_status(net, &err) == CNNK_OK);
    CHECK(cnnk_net_init_weights(net, wseed, &err) == CNNK_OK);
    const int64_t nin = net->mb * net->h * net->w * net->c;
    float *in = malloc((size_t)nin * sizeof *in);
    cnnk_fill_tensor(in, nin, CNNK_FILL_FLOAT, 1, iseed);
    float **want = eval_unfused(net, in);
    const cnnk_node *last = &net->nodes[net->n - 1];
    const int64_t nout = net->mb * last->h * last->w * last->c;
    float *got = malloc((size_t)nout * sizeof *got);
    cnnk_runner *keep = NULL;
    const char *plans[] = {"ref", "heuristic", "fixed:direct", "fixed:im2col", "fixed:winograd_f2x2",
                           "fixed:winograd_f4x4", "fixed:winograd_f6x6", "fixed:1x1"};
    int run = 0;
    for (int isa = 0; isa < CNNK_ISA_COUNT; ++isa) {
        if (!cnnk_isa_available((cnnk_isa)isa)) continue;
        for (size_t p = 0; p < sizeof plans / sizeof plans[0]; ++p) {
            cnnk_plan plan;
            CHECK(cnnk_plan_parse(plans[p], &plan, &err) == CNNK_OK);
            cnnk_runner *r = NULL;
            const int nthreads = check_threads[run++ % CHECK_NTHREADS];
            const cnnk_status s =
                cnnk_runner_prepare(net, (cnnk_isa)isa, &plan, nthreads, &r, &err);
            CHECK(s == CNNK_OK);
            if (s != CNNK_OK) {
                fprintf(stderr, "%s: %s\n", net->name, err.msg);
                continue;
            }
            CHECK_EQ_I64(cnnk_runner_output_elems(r), nout);
            if (expect_steps >= 0) CHECK_EQ_I64(cnnk_runner_step_count(r), expect_steps);
            memset(got, 0xff, (size_t)nout * sizeof *got); /* NaN: unwritten shows */
            cnnk_runner_forward(r, in, got, true);
            /* Folding and fusion only reorder roundings: float-level error,
             * and Winograd F6's own (validate/tolerance.c) on top. */
            const double e = rel_l2(got, want[net->n - 1], nout);
            const double bound = plan.kind == CNNK_PLAN_FIXED && plan.algo == CNNK_ALGO_WINOGRAD_F6
                                     ? 1e-4
                                     : 1e-5;
            if (!(e <= bound))
                fprintf(stderr, "%s %s %s, %d threads: rel_l2 %.3g > %.0e\n", net->name,
                        cnnk_isa_name((cnnk_isa)isa), plans[p], nthreads, e, bound);
            CHECK(e <= bound);
            if (isa == CNNK_ISA_REF && plan.kind == CNNK_PLAN_REF)
                keep = r;
            else
                cnnk_runner_destroy(r);
        }
    }
    free_values(net, want);
    free(in), free(got);
    return keep;
}

#endif
