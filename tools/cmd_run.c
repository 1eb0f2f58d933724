/* `cnnk run`: forward passes of one network with one ISA and plan, and a
 * per-layer table of where the time goes.
 *
 * Against the measured single-core FMA peak of the ISA times the thread
 * count (cnnk_peak_gflops): eff%pk, the effective rate (2 x MACs per
 * second, which Winograd can push past 100), and FMA util, the FLOPs the
 * step's kernel executes (cnnk_step_info.flops) per second, which cannot
 * pass 100 but for noise in the peak. A step without multiply-adds shows
 * "-". */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnk/cpu.h"
#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "tools/commands.h"
#include "validate/check.h"

enum { RUN_OK = CNNK_EXIT_OK, RUN_BAD_INPUT = CNNK_EXIT_BAD_INPUT };

typedef struct run_opts {
    const char *net;
    cnnk_net_src src;           /* --net/--onnx, --weights, --input-npy */
    const char *output_npy;     /* --output-npy: the last forward's output */
    const float *input;         /* from --input-npy (NHWC), or NULL: a seeded fill */
    cnnk_isa isa;
    cnnk_plan plan;
    const char *plan_spec;      /* parsed once every option is read (--force may follow) */
    bool force;                 /* --force: a tuned plan of another CPU is used anyway */
    long long batch, h, w, threads, iters;
    int nmodel;                 /* --model: thread counts to predict */
    int model[16];
} run_opts;

static int bad(const char *msg) {
    fprintf(stderr, "cnnk run: %s\n", msg);
    return RUN_BAD_INPUT;
}

static bool parse_ll(const char *s, long long lo, long long *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < lo) return false;
    *v = x;
    return true;
}

static int parse_isa(const char *v, cnnk_isa *isa) {
    if (!cnnk_isa_from_name(v, isa)) {
        fprintf(stderr, "cnnk run: unknown ISA '%s' (valid:", v);
        for (int i = 0; i < CNNK_ISA_COUNT; ++i) fprintf(stderr, " %s", cnnk_isa_name((cnnk_isa)i));
        fprintf(stderr, ")\n");
        return RUN_BAD_INPUT;
    }
    if (!cnnk_isa_available(*isa)) {
        fprintf(stderr, "cnnk run: this CPU does not run ISA %s\n", v);
        return RUN_BAD_INPUT;
    }
    return RUN_OK;
}

/* Bounds that keep every count an int and every buffer sane; the network's
 * own checks bound the batch and the input further. */
#define RUN_MAX_THREADS 1024
#define RUN_MAX_ITERS 100000
#define RUN_MAX_INPUT 65536
#define RUN_MAX_BATCH 65536

/* --model T1,T2,...: up to 16 thread counts, each 1..RUN_MAX_THREADS. */
static int parse_model(run_opts *o, const char *v) {
    char msg[600];
    const char *p = v;
    o->nmodel = 0;
    for (;;) {
        char *end;
        errno = 0;
        long long t = strtoll(p, &end, 10);
        if (errno || end == p || t < 1 || t > RUN_MAX_THREADS || o->nmodel == 16 ||
            (*end && *end != ','))
            return snprintf(msg, sizeof msg,
                            "--model takes up to 16 thread counts 1..%d separated by commas, "
                            "e.g. 1,2,4,8,16, not '%s'", RUN_MAX_THREADS, v), bad(msg);
        o->model[o->nmodel++] = (int)t;
        if (!*end) return RUN_OK;
        p = end + 1;
    }
}

static int parse_opt(run_opts *o, const char *a, const char *v) {
    char msg[600];
    if (strcmp(a, "--net") == 0) o->net = o->src.net = v;
    else if (strcmp(a, "--onnx") == 0) o->src.onnx = v;
    else if (strcmp(a, "--weights") == 0) o->src.weights = v;
    else if (strcmp(a, "--proposals") == 0) o->src.proposals = v;
    else if (strcmp(a, "--input-npy") == 0) o->src.input_npy = v;
    else if (strcmp(a, "--output-npy") == 0) o->output_npy = v;
    else if (strcmp(a, "--isa") == 0) return parse_isa(v, &o->isa);
    else if (strcmp(a, "--plan") == 0) {
        o->plan_spec = v;
    } else if (strcmp(a, "--batch") == 0) {
        o->src.batch_given = true;
        if (!parse_ll(v, 1, &o->batch) || o->batch > RUN_MAX_BATCH)
            return snprintf(msg, sizeof msg, "--batch takes 1..%d, not '%s'", RUN_MAX_BATCH, v),
                   bad(msg);
    } else if (strcmp(a, "--input") == 0) {
        char *x;
        errno = 0;
        o->h = strtoll(v, &x, 10);
        if (!errno && x != v && *x == '\0') o->w = o->h; /* N: N x N */
        else if (errno || x == v || *x != 'x' || !parse_ll(x + 1, 1, &o->w)) o->h = 0;
        if (o->h < 1 ||
            o->h > RUN_MAX_INPUT || o->w > RUN_MAX_INPUT)
            return snprintf(msg, sizeof msg, "--input takes HxW or N (N x N), each 1..%d, e.g. 224x224, not '%s'",
                            RUN_MAX_INPUT, v), bad(msg);
    } else if (strcmp(a, "--threads") == 0) {
        if (!parse_ll(v, 1, &o->threads) || o->threads > RUN_MAX_THREADS)
            return snprintf(msg, sizeof msg, "--threads takes 1..%d, not '%s'", RUN_MAX_THREADS, v),
                   bad(msg);
    } else if (strcmp(a, "--iters") == 0) {
        if (!parse_ll(v, 1, &o->iters) || o->iters > RUN_MAX_ITERS)
            return snprintf(msg, sizeof msg, "--iters takes 1..%d, not '%s'", RUN_MAX_ITERS, v),
                   bad(msg);
    } else if (strcmp(a, "--model") == 0) {
        return parse_model(o, v);
    } else {
        return snprintf(msg, sizeof msg, "unknown option '%s' (see cnnk --help)", a), bad(msg);
    }
    return RUN_OK;
}

static int parse_args(int argc, char **argv, run_opts *o) {
    *o = (run_opts){.isa = cnnk_best_isa(), .plan = {CNNK_PLAN_HEURISTIC, CNNK_ALGO_DIRECT},
                    .batch = 1, .h = 0, .w = 0, .threads = cnnk_cpu()->cores, .iters = 3};
    for (int i = 0; i < argc; i += 2) {
        if (strcmp(argv[i], "--force") == 0) { /* the one flag without a value */
            o->force = true;
            --i;
            continue;
        }
        if (i + 1 >= argc) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s needs a value", argv[i]);
            return bad(msg);
        }
        int rc = parse_opt(o, argv[i], argv[i + 1]);
        if (rc != RUN_OK) return rc;
    }
    if (o->plan_spec) {
        /* --force spells tuned:FILE as tuned-force:FILE (docs/TUNING.md) */
        static const char tuned[] = "tuned:";
        char spec[CNNK_PLAN_FILE_LEN + 16];
        if (o->force && strncmp(o->plan_spec, tuned, sizeof tuned - 1) == 0)
            snprintf(spec, sizeof spec, "tuned-force:%s", o->plan_spec + sizeof tuned - 1);
        else
            snprintf(spec, sizeof spec, "%s", o->plan_spec);
        cnnk_error err;
        if (cnnk_plan_parse(spec, &o->plan, &err) != CNNK_OK) return bad(err.msg);
    }
    return o->src.net || o->src.onnx ? RUN_OK : bad("give --net NAME or --onnx FILE");
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *pa, const void *pb) {
    const double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* Median of v[0], v[stride], ... (n values); sorts a scratch copy. */
static double median(const double *v, int n, int stride, double *scratch) {
    for (int i = 0; i < n; ++i) scratch[i] = v[i * stride];
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_double);
    return n % 2 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2]);
}

static double gflops(int64_t macs, double ms) {
    return ms > 0 ? 2.0 * (double)macs / (ms * 1e6) : 0.0;
}

/* "12.3" (flop per pass at ms against peak GFLOP/s, in %), or "-" when
 * the step does no multiply-adds. */
static const char *pct_of(double flop, double ms, double peak, char *buf, size_t len) {
    if (flop <= 0 || peak <= 0 || ms <= 0) return "-";
    snprintf(buf, len, "%.1f", 100.0 * flop / (ms * 1e6) / peak);
    return buf;
}

static void print_table(const cnnk_net *net, const cnnk_runner *r, const run_opts *o,
                        const double *t, const double *total, double *scratch) {
    const int ns = cnnk_runner_step_count(r), it = (int)o->iters;
    const double peak = cnnk_peak_gflops(o->isa) * (double)o->threads;
    char pct[32], util[32];
    double exec = 0.0;
    printf("%-44s %-44s %-22s %9s %9s %6s %8s  %s\n", "layer", "shape", "kernel", "ms",
           "eff GF/s", "eff%pk", "FMA util", "note");
    for (int i = 0; i < ns; ++i) {
        const cnnk_step_info *s = cnnk_runner_step(r, i);
        const double ms = median(t + i, it, ns, scratch);
        exec += s->flops;
        printf("%-44s %-44s %-22s %9.3f %9.2f %6s %8s  %s%s%s\n", s->layer, s->shape, s->kernel,
               ms, gflops(s->macs, ms), pct_of(2.0 * (double)s->macs, ms, peak, pct, sizeof pct),
               pct_of(s->flops, ms, peak, util, sizeof util), s->note,
               s->residual_in_place && s->note[0] ? "; " : "",
               s->residual_in_place ? "residual added in place" : "");
    }
    const double ms = median(total, it, 1, scratch);
    char plan[64];
    cnnk_plan_format(&o->plan, plan, sizeof plan);
    printf("total %s %lldx%lldx%lldx%lld isa %s plan %s threads %lld: %.3f ms (median of %d), "
           "%.3f GMACs, %.2f effective GFLOP/s, eff%%pk %s, FMA util %s%%\n",
           net->name, o->batch, (long long)net->c, o->h, o->w, cnnk_isa_name(o->isa), plan, o->threads, ms, it,
           (double)cnnk_net_macs(net) / 1e9, gflops(cnnk_net_macs(net), ms),
           pct_of(2.0 * (double)cnnk_net_macs(net), ms, peak, pct, sizeof pct),
           pct_of(exec, ms, peak, util, sizeof util));
    printf("activation memory: peak %.2f MiB (liveness reuse), naive %.2f MiB\n",
           (double)cnnk_runner_peak_activation_bytes(r) / (1 << 20),
           (double)cnnk_runner_naive_activation_bytes(r) / (1 << 20));
}

/* A detection network's boxes after NMS (nodes ending in CNNK_NODE_DETECT):
 * how many per image and the first few rows, so a run shows what the
 * timed forward produced. */
static void print_detections(const cnnk_net *net, const float *out) {
    const cnnk_node *last = &net->nodes[net->n - 1];
    if (last->op != CNNK_NODE_DETECT) return;
    const int64_t rows = last->w, cols = last->c;
    for (int64_t n = 0; n < net->mb; ++n) {
        const float *img = out + n * rows * cols;
        int64_t valid = 0;
        for (int64_t r = 0; r < rows; ++r) valid += img[r * cols + (cols == 6 ? 5 : 0)] >= 0.0f;
        printf("image %lld: %lld %s of %lld rows%s\n", (long long)n, (long long)valid,
               cols == 6 ? "detections (x1 y1 x2 y2 score class)" : "rois (batch x1 y1 x2 y2)",
               (long long)rows, valid > 5 ? ", the first 5:" : "");
        for (int64_t r = 0; r < valid && r < 5; ++r) {
            printf("  ");
            for (int64_t k = 0; k < cols; ++k) printf(" %9.3f", (double)img[r * cols + k]);
            printf("\n");
        }
    }
}

/* 1 warm-up pass, then o->iters profiled ones. */
static int time_runs(const cnnk_net *net, cnnk_runner *r, const run_opts *o) {
    const int ns = cnnk_runner_step_count(r), it = (int)o->iters;
    const int64_t nin = o->batch * o->h * o->w * net->c;
    float *in = malloc((size_t)nin * sizeof *in);
    float *out = malloc((size_t)cnnk_runner_output_elems(r) * sizeof *out);
    double *t = malloc((size_t)ns * (size_t)it * sizeof *t);
    double *total = malloc((size_t)it * sizeof *total);
    double *scratch = malloc((size_t)it * sizeof *scratch);
    int rc = RUN_OK;
    if (!in || !out || !t || !total || !scratch) {
        fprintf(stderr, "cnnk run: out of memory\n");
        rc = cnnk_exit_of(CNNK_ENOMEM);
    } else {
        if (o->input) memcpy(in, o->input, (size_t)nin * sizeof *in);
        else cnnk_fill_tensor(in, nin, CNNK_FILL_FLOAT, 1, 1);
        cnnk_runner_forward(r, in, out, false);
        for (int k = 0; k < it; ++k) {
            const double t0 = now_ms();
            cnnk_runner_forward(r, in, out, true);
            total[k] = now_ms() - t0;
            for (int i = 0; i < ns; ++i) t[k * ns + i] = cnnk_runner_step(r, i)->last_ms;
        }
        print_table(net, r, o, t, total, scratch);
        print_detections(net, out);
        if (o->output_npy) rc = cnnk_net_write_output(net, out, o->output_npy, "run");
    }
    free(in), free(out), free(t), free(total), free(scratch);
    return rc;
}

/* The steps that lose most at a thread count: their time there minus
 * their parallel work divided by the threads (the ideal), five of them;
 * ms and work are each step's best over the model forwards. */
static void print_losses(const cnnk_runner *r, int threads, const double *ms, const double *work) {
    const int ns = cnnk_runner_step_count(r);
    int shown[5];
    for (int k = 0; k < 5; ++k) {
        int worst = -1;
        double loss = 0.0;
        for (int i = 0; i < ns; ++i) {
            bool seen = false;
            for (int j = 0; j < k; ++j) seen |= shown[j] == i;
            const double l = ms[i] - work[i] / threads;
            if (!seen && l > loss) loss = l, worst = i;
        }
        if (worst < 0) return;
        shown[k] = worst;
        const cnnk_step_info *si = cnnk_runner_step(r, worst);
        printf("  loses %7.3f ms: %-40s %-22s work %8.3f ms, at %d threads %8.3f ms, %lld jobs\n",
               loss, si->layer, si->kernel, work[worst], threads, ms[worst],
               (long long)si->model_jobs);
    }
}

/* The scaling model at one thread count, in *ms: each step's best time
 * over o->iters model forwards (a part preempted by another process only
 * adds time, so the least is the estimate; on a loaded machine the median
 * of a sum of longest parts collects every preemption), summed, plus the
 * measured dispatch cost per job. */
static int model_at(const cnnk_net *net, const run_opts *o, int threads, const float *in,
                    double dispatch_us, double base_ms, double *ms) {
    cnnk_error err;
    cnnk_runner *r = NULL;
    cnnk_status s = cnnk_runner_prepare(net, o->isa, &o->plan, threads, &r, &err);
    if (s != CNNK_OK) {
        fprintf(stderr, "cnnk run: %s\n", err.msg);
        return cnnk_exit_of(s);
    }
    const int ns = cnnk_runner_step_count(r);
    float *out = malloc((size_t)cnnk_runner_output_elems(r) * sizeof *out);
    double *best = malloc((size_t)ns * sizeof *best), *work = malloc((size_t)ns * sizeof *work);
    if (!out || !best || !work) {
        free(out), free(best), free(work);
        cnnk_runner_destroy(r);
        fprintf(stderr, "cnnk run: out of memory\n");
        return cnnk_exit_of(CNNK_ENOMEM);
    }
    int64_t jobs = 0;
    cnnk_runner_forward_model(r, in, out, &jobs); /* warm-up */
    for (int k = 0; k < (int)o->iters; ++k) {
        cnnk_runner_forward_model(r, in, out, &jobs);
        for (int i = 0; i < ns; ++i) {
            const cnnk_step_info *si = cnnk_runner_step(r, i);
            if (k == 0 || si->model_ms < best[i]) best[i] = si->model_ms;
            if (k == 0 || si->model_work_ms < work[i]) work[i] = si->model_work_ms;
        }
    }
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < ns; ++i) sum += best[i], wsum += work[i];
    *ms = sum + (double)jobs * dispatch_us * 1e-3;
    printf("model %s threads %d: %.3f ms predicted (best of %lld per step), %.2fx over 1 "
           "thread; %lld jobs x %.2f us dispatch; parallel work %.3f ms\n",
           net->name, threads, *ms, o->iters, base_ms > 0 ? base_ms / *ms : 1.0,
           (long long)jobs, dispatch_us, wsum);
    if (threads > 1) print_losses(r, threads, best, work);
    free(out), free(best), free(work);
    cnnk_runner_destroy(r);
    return RUN_OK;
}

/* --model: the 1-thread time, then each requested count's prediction. The
 * dispatch cost is measured here at min(T, cores) threads. */
static int run_model(const cnnk_net *net, const run_opts *o) {
    const int64_t nin = o->batch * o->h * o->w * net->c;
    float *in = malloc((size_t)nin * sizeof *in);
    if (!in) {
        fprintf(stderr, "cnnk run: out of memory\n");
        return cnnk_exit_of(CNNK_ENOMEM);
    }
    cnnk_fill_tensor(in, nin, CNNK_FILL_FLOAT, 1, 1);
    const int cores = cnnk_cpu()->cores;
    double base = 0.0, ms = 0.0;
    int rc = model_at(net, o, 1, in, 0.0, 0.0, &base);
    for (int k = 0; k < o->nmodel && rc == RUN_OK; ++k) {
        const int t = o->model[k];
        if (t == 1) continue;
        if (t > cores)
            printf("model: %d threads: the dispatch cost is measured at %d (this machine's "
                   "cores)\n", t, cores);
        const double us = cnnk_runner_dispatch_us(t < cores ? t : cores);
        rc = model_at(net, o, t, in, us, base, &ms);
    }
    free(in);
    return rc;
}

int cnnk_cmd_run(int argc, char **argv) {
    run_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != RUN_OK) return rc;
    cnnk_error err;
    cnnk_net *net = NULL;
    float *input = NULL;
    if (o.nmodel && o.output_npy) return bad("--output-npy does not go with --model");
    rc = cnnk_net_src_open(&o.src, "run", o.batch, o.h, o.w, 1, &net, &input);
    if (rc != RUN_OK) return rc;
    o.batch = net->mb, o.h = net->h, o.w = net->w; /* an ONNX model or --input-npy sets them */
    o.input = input;
    cnnk_runner *r = NULL;
    cnnk_status s = cnnk_runner_prepare(net, o.isa, &o.plan, (int)o.threads, &r, &err);
    if (s != CNNK_OK) {
        fprintf(stderr, "cnnk run: %s\n", err.msg);
        rc = cnnk_exit_of(s);
    } else {
        printf("threads: %s%s\n", cnnk_runner_binding(r),
               cnnk_runner_splits_images(r) ? "; the batch is split across images" : "");
        if (cnnk_runner_plan_note(r)[0]) fprintf(stderr, "cnnk run: note: %s\n", cnnk_runner_plan_note(r));
        rc = o.nmodel ? run_model(net, &o) : time_runs(net, r, &o);
    }
    cnnk_runner_destroy(r);
    cnnk_net_destroy(net);
    free(input);
    return rc;
}
