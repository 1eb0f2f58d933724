/* `cnnk tune`: races every kernel of an ISA and the ISAs under it on each
 * distinct convolution shape of the given networks, settles ties in whole
 * forwards, and writes the choice per shape (and per network) to a plan
 * file for `--plan tuned:<file>`; with --compare, times each network's
 * heuristic plan against the tuned one in the same run (docs/TUNING.md). */
#define _POSIX_C_SOURCE 200809L /* mkdir */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnnk/cpu.h"
#include "cnnk/net.h"
#include "cnnk/onnx.h"
#include "cnnk/outfile.h"
#include "cnnk/runner.h"
#include "cnnk/tune.h"
#include "tools/commands.h"

enum { TUNE_OK = CNNK_EXIT_OK, TUNE_BAD_INPUT = CNNK_EXIT_BAD_INPUT };
#define MAX_NETS 16

typedef struct tune_args {
    char nets_buf[512];
    const char *nets[MAX_NETS];
    int nnets;
    cnnk_isa isa;
    long long batch, h, w, threads, reps, net_alts, net_reps, compare_reps, cold_mib;
    double min_gain;      /* --min-gain, a fraction */
    bool compare;         /* --compare: heuristic against tuned after tuning */
    const char *compare_only; /* --compare-only FILE: no tuning */
    const char *out; /* NULL: the default path */
    bool input_given; /* --input: else an --onnx model's size */
    bool batch_given; /* --batch: else an --onnx model's batch */
} tune_args;

/* --all: the five classifiers of the performance tables. */
static const char *const g_all[] = {"alexnet", "vgg16", "googlenet", "resnet50", "densenet121"};

static int bad(const char *fmt, const char *arg) {
    fprintf(stderr, "cnnk tune: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return TUNE_BAD_INPUT;
}

static bool parse_ll(const char *s, long long lo, long long hi, long long *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi) return false;
    *v = x;
    return true;
}

static int parse_nets(tune_args *a, const char *v) {
    if (strlen(v) >= sizeof a->nets_buf) return bad("--net list too long: %s", v);
    snprintf(a->nets_buf, sizeof a->nets_buf, "%s", v);
    a->nnets = 0;
    for (char *save = NULL, *t = strtok_r(a->nets_buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (a->nnets == MAX_NETS) return bad("at most 16 networks in --net %s", v);
        a->nets[a->nnets++] = t;
    }
    return a->nnets ? TUNE_OK : bad("--net takes NAME[,NAME...], not '%s'", v);
}

/* Without --input and --batch, the size and batch are the model's (the
 * last --onnx given); give them before --onnx to ask for others. */
static int onnx_size(tune_args *a, const char *path) {
    cnnk_net *n = NULL;
    cnnk_error err;
    if (cnnk_onnx_load(path, a->batch_given ? a->batch : 0, &n, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk tune: %s\n", err.msg);
        return TUNE_BAD_INPUT;
    }
    if (!a->input_given) a->h = n->h, a->w = n->w;
    if (!a->batch_given) a->batch = n->mb;
    cnnk_net_destroy(n);
    return TUNE_OK;
}

static int parse_opt(tune_args *a, const char *o, const char *v) {
    if (strcmp(o, "--net") == 0) return parse_nets(a, v);
    if (strcmp(o, "--onnx") == 0) {
        /* a model path is a network name to cnnk_net_build (cnnk/net.h) */
        size_t len = strlen(v);
        if (len < 6 || strcmp(v + len - 5, ".onnx") != 0)
            return bad("--onnx takes a FILE.onnx, not '%s'", v);
        if (a->nnets == MAX_NETS) return bad("at most 16 networks with --onnx %s", v);
        a->nets[a->nnets++] = v;
        return onnx_size(a, v);
    }
    if (strcmp(o, "--isa") == 0) {
        if (!cnnk_isa_from_name(v, &a->isa)) {
            /* the list is the enum's: an ISA added there is named here */
            char valid[128] = "";
            for (int i = 0; i < CNNK_ISA_COUNT; ++i)
                snprintf(valid + strlen(valid), sizeof valid - strlen(valid), "%s%s",
                         i ? ", " : "", cnnk_isa_name((cnnk_isa)i));
            fprintf(stderr, "cnnk tune: unknown ISA '%s' (valid: %s)\n", v, valid);
            return TUNE_BAD_INPUT;
        }
        if (!cnnk_isa_available(a->isa)) return bad("this CPU does not run ISA %s", v);
    } else if (strcmp(o, "--batch") == 0) {
        a->batch_given = true;
        if (!parse_ll(v, 1, 1 << 16, &a->batch)) return bad("--batch takes 1..65536, not '%s'", v);
    } else if (strcmp(o, "--input") == 0) {
        char *x;
        a->input_given = true;
        a->h = strtoll(v, &x, 10);
        if (*x != 'x' || !parse_ll(x + 1, 1, 65536, &a->w) || a->h < 1 || a->h > 65536)
            return bad("--input takes HxW, each 1..65536, e.g. 224x224, not '%s'", v);
    } else if (strcmp(o, "--threads") == 0) {
        if (!parse_ll(v, 1, 4096, &a->threads)) return bad("--threads takes 1..4096, not '%s'", v);
    } else if (strcmp(o, "--reps") == 0) {
        if (!parse_ll(v, CNNK_TUNE_MIN_ROUNDS, 1000, &a->reps))
            return bad("--reps (the most rounds per shape) takes 6 to 1000, not '%s'", v);
    } else if (strcmp(o, "--net-alts") == 0) {
        if (!parse_ll(v, 0, 1000, &a->net_alts)) return bad("--net-alts takes 0 to 1000, not '%s'", v);
    } else if (strcmp(o, "--net-reps") == 0) {
        if (!parse_ll(v, 3, 1000, &a->net_reps)) return bad("--net-reps takes 3 to 1000, not '%s'", v);
    } else if (strcmp(o, "--compare-reps") == 0) {
        if (!parse_ll(v, 3, 1000, &a->compare_reps))
            return bad("--compare-reps takes 3 to 1000, not '%s'", v);
    } else if (strcmp(o, "--cold-mib") == 0) {
        if (!parse_ll(v, 0, 1 << 20, &a->cold_mib))
            return bad("--cold-mib takes 0 (warm weights) to 1048576, not '%s'", v);
    } else if (strcmp(o, "--min-gain") == 0) {
        /* a percentage, "3%" or "3", like cnnk compare's --threshold */
        char *end;
        errno = 0;
        const double pct = strtod(v, &end);
        if (errno || end == v || (*end && strcmp(end, "%") != 0) || !(pct >= 0.0 && pct <= 50.0))
            return bad("--min-gain takes a percentage from 0 to 50 (e.g. 3%%), not '%s'", v);
        a->min_gain = pct / 100.0;
    } else if (strcmp(o, "--compare-only") == 0) {
        a->compare_only = v;
    } else if (strcmp(o, "--out") == 0) {
        a->out = v;
    } else {
        return bad("unknown option '%s' (see cnnk --help)", o);
    }
    return TUNE_OK;
}

static int parse_args(int argc, char **argv, tune_args *a) {
    memset(a, 0, sizeof *a);
    a->isa = cnnk_best_isa();
    a->batch = 1, a->h = a->w = 224, a->threads = cnnk_cpu()->cores, a->reps = 24;
    a->net_alts = 4, a->net_reps = 15, a->compare_reps = 21, a->cold_mib = 0;
    a->min_gain = CNNK_TUNE_MIN_GAIN;
    for (int i = 0; i < argc; i += 2) {
        /* the flags without a value */
        if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "--compare") == 0) {
            if (argv[i][2] == 'a') {
                for (a->nnets = 0; a->nnets < (int)(sizeof g_all / sizeof *g_all); ++a->nnets)
                    a->nets[a->nnets] = g_all[a->nnets];
            } else {
                a->compare = true;
            }
            --i;
            continue;
        }
        if (i + 1 >= argc) return bad("%s needs a value", argv[i]);
        const int rc = parse_opt(a, argv[i], argv[i + 1]);
        if (rc != TUNE_OK) return rc;
    }
    if (!a->nnets) return bad("give --net NAME[,NAME...] or --all%s", "");
    /* Without --input, the built-in networks' own input (224x224, yolov1
     * 448x448): one size per tuning file, so they must agree. */
    const char *first = NULL;
    for (int i = 0; i < a->nnets && !a->input_given; ++i) {
        const int64_t side = cnnk_net_default_side(a->nets[i]);
        if (side == 0) continue; /* an ONNX model: its own size */
        if (first && side != a->h) {
            fprintf(stderr, "cnnk tune: %s (%lldx%lld) and %s (%lldx%lld) have different default inputs: "
                            "tune them separately or give --input HxW\n",
                    first, (long long)a->h, (long long)a->h, a->nets[i], (long long)side, (long long)side);
            return TUNE_BAD_INPUT;
        }
        first = a->nets[i], a->h = a->w = side;
    }
    return TUNE_OK;
}

/* The default path lives under plans/: create that one folder if needed
 * (a path the user gave is taken as is). */
static int ensure_plans_dir(void) {
    if (mkdir("plans", 0755) == 0 || errno == EEXIST) return TUNE_OK;
    fprintf(stderr, "cnnk tune: cannot create plans/: %s\n", strerror(errno));
    return TUNE_BAD_INPUT;
}

static void print_load(const char *when) {
    FILE *f = fopen("/proc/loadavg", "r");
    char line[128] = "unknown\n";
    if (f) {
        if (!fgets(line, sizeof line, f)) snprintf(line, sizeof line, "unknown\n");
        fclose(f);
    }
    printf("load average %s: %s", when, line);
}

/* Each network: heuristic (A) against the tuned table (B), in the same
 * process, alternated forwards; a markdown table on stdout. */
static cnnk_status compare(const tune_args *a, const cnnk_plan *tuned, cnnk_error *err) {
    const cnnk_plan heur = {.kind = CNNK_PLAN_HEURISTIC, .algo = CNNK_ALGO_DIRECT};
    print_load("before the comparison");
    printf("\n| network | heuristic (ms) | tuned (ms) | tuned / heuristic | p tuned faster | "
           "p heuristic faster | verdict | conv layers that differ |\n|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    cnnk_status s = CNNK_OK;
    for (int i = 0; i < a->nnets && s == CNNK_OK; ++i) {
        cnnk_net *net = NULL;
        cnnk_tune_duel_result d;
        s = cnnk_net_build(a->nets[i], a->batch, a->h, a->w, &net, err);
        if (s == CNNK_OK) s = cnnk_net_init_weights(net, 7, err);
        if (s == CNNK_OK) {
            fprintf(stderr, "compare: %s, %lld forwards per plan\n", a->nets[i], a->compare_reps);
            s = cnnk_tune_duel(net, a->isa, (int)a->threads, &heur, tuned, (int)a->compare_reps, &d, err);
        }
        if (s == CNNK_OK) {
            const char *verdict = d.p_b_faster < CNNK_TUNE_NET_ALPHA   ? "tuned faster"
                                  : d.p_a_faster < CNNK_TUNE_NET_ALPHA ? "heuristic faster"
                                                                       : "within noise";
            printf("| %s | %.2f | %.2f | %.3f | %.3g | %.3g | %s | %d of %d |\n", a->nets[i], d.ms_a,
                   d.ms_b, d.ms_b / d.ms_a, d.p_b_faster, d.p_a_faster, verdict, d.differ, d.nconv);
            fflush(stdout);
        }
        cnnk_net_destroy(net);
    }
    print_load("after the comparison");
    return s;
}

static int compare_only(const tune_args *a) {
    cnnk_plan plan;
    cnnk_error err;
    char spec[CNNK_PLAN_FILE_LEN + 8];
    if (strlen(a->compare_only) >= CNNK_PLAN_FILE_LEN) return bad("--compare-only: path too long: %s", a->compare_only);
    snprintf(spec, sizeof spec, "tuned:%s", a->compare_only);
    if (cnnk_plan_parse(spec, &plan, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk tune: %s\n", err.msg);
        return TUNE_BAD_INPUT;
    }
    const cnnk_status s = compare(a, &plan, &err);
    if (s != CNNK_OK) fprintf(stderr, "cnnk tune: %s\n", err.msg);
    return cnnk_exit_of(s);
}

int cnnk_cmd_tune(int argc, char **argv) {
    tune_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != TUNE_OK) return rc;
    if (a.compare_only) return compare_only(&a);
    const cnnk_tune_opts o = {
        .nets = a.nets, .nnets = a.nnets, .isa = a.isa, .mb = a.batch, .h = a.h, .w = a.w,
        .nthreads = (int)a.threads, .reps = (int)a.reps, .alpha = CNNK_TUNE_ALPHA,
        .net_alts = (int)a.net_alts, .net_reps = (int)a.net_reps, .log = stderr,
        .cold_bytes = (int64_t)a.cold_mib << 20, .min_gain = a.min_gain,
    };
    char path[CNNK_OUT_PATH_MAX], target[CNNK_OUT_PATH_MAX];
    if (a.out) {
        if (strlen(a.out) >= sizeof path) {
            fprintf(stderr, "cnnk tune: --out: a path of %zu characters, longer than the %d allowed\n",
                    strlen(a.out), CNNK_OUT_PATH_MAX - 1);
            return TUNE_BAD_INPUT;
        }
        snprintf(path, sizeof path, "%s", a.out);
    } else {
        cnnk_tune_cpu cpu;
        cnnk_tune_this_cpu(a.isa, (int)a.threads, &cpu);
        cnnk_tune_default_path(&cpu, path, sizeof path);
        if (ensure_plans_dir() != TUNE_OK) return TUNE_BAD_INPUT;
    }
    /* Before minutes of tuning: the plan must be writable there. */
    cnnk_error err;
    if (cnnk_outfile_target(path, target, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk tune: %s\n", err.msg);
        return TUNE_BAD_INPUT;
    }
    printf("tuning %d network(s) at %lldx3x%lldx%lld, isa %s and under, %lld thread(s), race of at most "
           "%lld rounds (alpha %g, weights %s, the heuristic's kernel held unless another is %g%% "
           "faster), %lld tied alternative(s) per network in %lld forwards\n",
           a.nnets, a.batch, a.h, a.w, cnnk_isa_name(a.isa), a.threads, a.reps, CNNK_TUNE_ALPHA,
           a.cold_mib ? "cold" : "warm", a.min_gain * 100.0, a.net_alts, a.net_reps);
    print_load("before tuning");
    fflush(stdout);
    cnnk_tune_table *t = NULL;
    cnnk_status s = cnnk_tune_run(&o, &t, &err);
    if (s == CNNK_OK) s = cnnk_tune_write(t, path, &err);
    if (s == CNNK_OK) {
        int tie = 0, sep = 0, held = 0;
        for (int i = 0; i < t->n; ++i)
            tie += t->e[i].verdict == CNNK_TUNE_TIE, sep += t->e[i].verdict == CNNK_TUNE_SEPARATED,
                held += t->e[i].held;
        char via[CNNK_OUT_PATH_MAX + 32] = "";
        if (strcmp(path, target) != 0) snprintf(via, sizeof via, " (through the link %s)", path);
        printf("wrote %s%s: %d shapes (%d separated, %d ties, of which %d held on the heuristic's kernel), "
               "%d per-network choice(s) (use --plan tuned:%s)\n",
               target, via, t->n, sep, tie, held, t->nover, path);
    }
    if (s == CNNK_OK && a.compare) {
        const cnnk_plan tuned = {.kind = CNNK_PLAN_TUNED, .algo = CNNK_ALGO_DIRECT, .table = t};
        s = compare(&a, &tuned, &err);
    }
    if (s != CNNK_OK) fprintf(stderr, "cnnk tune: %s\n", err.msg);
    cnnk_tune_free(t);
    return cnnk_exit_of(s);
}
