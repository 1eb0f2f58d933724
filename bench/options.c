/* cnnk-bench's own flags, in Google Benchmark's --name=value style, taken
 * out of argv before Google Benchmark sees the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "cnnk/cpu.h"
#include "cnnk/net.h"
#include "cnnk/onnx.h"
#include "validate/onednn.h"

static const char *const default_nets[] = {"alexnet", "vgg16", "googlenet", "resnet50",
                                           "densenet121"};

void bench_usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [cnnk-bench flags] [Google Benchmark flags]\n"
            "cnnk-bench flags:\n"
            "  --main                 the default comparison: five networks, cnnk's best ISA\n"
            "                         and heuristic plan against oneDNN; prints one table\n"
            "  --set=classic|detseg|all  --main's networks (default classic: the five above;\n"
            "                         detseg: segmentation and detection, in a second table\n"
            "                         at each network's own input; all: both tables)\n"
            "  --out=PATH             --main's JSON results (default results/cnnk-bench-<date>-<rev>.json)\n"
            "  --threads=N            OpenMP threads for cnnk and oneDNN (default 1)\n"
            "  --onednn_max_isa=ISA   oneDNN's ISA cap (default all: the CPU's best); any\n"
            "                         dnnl_cpu_isa_t level: avx2, avx512_core, ...\n"
            "  --onednn_algo=a,b,...  oneDNN's convolution algorithms: direct, winograd, auto\n"
            "                         (default direct; --main: the faster of direct and\n"
            "                         winograd where oneDNN has Winograd)\n"
            "  --onednn_concat=a,b    oneDNN's concats in networks that have them: copy (the\n"
            "                         concat primitive), inplace (branches written into their\n"
            "                         slices where layouts allow); default both, rows\n"
            "                         .../<algo> and .../<algo>/inplace\n"
            "  --onednn_unfused       also oneDNN's eager-mode networks (a primitive per\n"
            "                         node: BN unfolded, ReLU and add not post-ops),\n"
            "                         rows .../<algo>/unfused\n"
            "  --nets=a,b,...         networks (default alexnet,vgg16,googlenet,resnet50,densenet121)\n"
            "  --onnx=FILE            an ONNX model too (rows net/<file stem>/..., at its own\n"
            "                         size; docs/ONNX.md)\n"
            "  --isa=a,b,...          cnnk ISAs (default: every ISA this CPU runs)\n"
            "  --plans=p,q,...        network plans (default: ref, heuristic, every fixed:<algo>)\n"
            "  --layers=l1,l2,...     layer and pack benchmarks of these layers only\n"
            "  --proposals=FILE       fast_rcnn_vgg16's and rcnn_alexnet's boxes (one per line;\n"
            "                         R = their count)\n"
            "  --input=HxW            input size (default: each network's: 224x224, yolov1\n"
            "                         448x448)\n"
            "  --batch=N              batch (default 1)\n"
            "  --pytorch=auto|off     --main's PyTorch column (default auto: measured when\n"
            "                         the interpreter imports torch and torchvision)\n"
            "  --pytorch_python=PATH  its interpreter (default /usr/bin/python3)\n"
            "  --pytorch_timeout=S    the PyTorch helper is killed after S seconds (default 1800)\n"
            "  --record=DB            append the run (every repetition, the context) to the\n"
            "                         SQLite history database DB (docs/HISTORY.md)\n"
            "Google Benchmark's flags (--benchmark_filter, --benchmark_repetitions, ...) follow\n"
            "its --help; see docs/BENCHMARKS.md.\n",
            argv0);
}

/* Value of --name=value in arg, or NULL. */
static const char *flag_value(const char *arg, const char *name) {
    size_t n = strlen(name);
    if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0 || arg[2 + n] != '=')
        return NULL;
    return arg + 3 + n;
}

static bool parse_int(const char *s, int64_t lo, int64_t hi, int64_t *v) {
    char *end;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || x < lo || x > hi) return false;
    *v = x;
    return true;
}

/* Splits a comma list; calls item(i, token) for each; false when one fails. */
static bool each_item(const char *list, int max, bool (*item)(bench_opts *, const char *),
                      bench_opts *o, const char *flag) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (++n > max) {
            fprintf(stderr, "cnnk-bench: --%s takes at most %d items\n", flag, max);
            return false;
        }
        if (!item(o, t)) return false;
    }
    if (n == 0) {
        fprintf(stderr, "cnnk-bench: --%s needs at least one item\n", flag);
        return false;
    }
    return true;
}

static bool add_net(bench_opts *o, const char *name) {
    for (size_t i = 0; i < cnnk_net_count(); ++i) {
        if (strcmp(cnnk_net_name_at(i), name) == 0) {
            snprintf(o->nets[o->nnets++], sizeof o->nets[0], "%s", name);
            return true;
        }
    }
    fprintf(stderr, "cnnk-bench: unknown network '%s'; networks:", name);
    for (size_t i = 0; i < cnnk_net_count(); ++i) fprintf(stderr, " %s", cnnk_net_name_at(i));
    fprintf(stderr, "\n");
    return false;
}

/* --onnx=FILE: a model joins the networks (rows net/<file stem>/...), at
 * its own size and batch unless --input and --batch, given before it, say
 * otherwise. */
static bool add_onnx(bench_opts *o, const char *path) {
    size_t len = strlen(path);
    if (len < 6 || strcmp(path + len - 5, ".onnx") != 0 || len >= sizeof o->nets[0]) {
        fprintf(stderr, "cnnk-bench: --onnx=%s: want a FILE.onnx\n", path);
        return false;
    }
    if (o->nnets == BENCH_MAX_NETS) {
        fprintf(stderr, "cnnk-bench: at most %d networks\n", BENCH_MAX_NETS);
        return false;
    }
    cnnk_net *n = NULL;
    cnnk_error err;
    if (cnnk_onnx_load(path, o->batch_given ? o->batch : 0, &n, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk-bench: --onnx: %s\n", err.msg);
        return false;
    }
    if (!o->input_given) o->h = n->h, o->w = n->w;
    if (!o->batch_given) o->batch = n->mb;
    cnnk_net_destroy(n);
    snprintf(o->nets[o->nnets++], sizeof o->nets[0], "%s", path);
    return true;
}

/* --main's set: its networks when --nets is not given (an --onnx model
 * alone stays alone, as before sets, unless --set asks for one too); with
 * --nets, each of them must belong to the set asked for. */
static bool set_nets(bench_opts *o) {
    if (!o->main_job) return true;
    if (o->nets_given || (o->nnets > 0 && !o->set_given)) {
        for (int i = 0; o->set_given && i < o->nnets; ++i)
            if (!bench_set_has(o->set, o->nets[i])) {
                fprintf(stderr, "cnnk-bench: --nets: %s is not in --set=%s\n", o->nets[i],
                        bench_set_name(o->set));
                return false;
            }
        return true;
    }
    const char *names[BENCH_MAX_NETS];
    const int n = bench_set_nets(o->set, names, BENCH_MAX_NETS);
    for (int i = 0; i < n; ++i) {
        if (o->nnets == BENCH_MAX_NETS) {
            fprintf(stderr, "cnnk-bench: at most %d networks\n", BENCH_MAX_NETS);
            return false;
        }
        snprintf(o->nets[o->nnets++], sizeof o->nets[0], "%s", names[i]);
    }
    return true;
}

static void list_isas(FILE *f) {
    for (int i = 0; i < CNNK_ISA_COUNT; ++i)
        fprintf(f, " %s%s", cnnk_isa_name((cnnk_isa)i),
                cnnk_isa_available((cnnk_isa)i) ? "" : " (not on this CPU)");
    fprintf(f, "\n");
}

static bool add_isa(bench_opts *o, const char *name) {
    cnnk_isa isa;
    if (!cnnk_isa_from_name(name, &isa)) {
        fprintf(stderr, "cnnk-bench: unknown ISA '%s'; ISAs:", name);
        list_isas(stderr);
        return false;
    }
    if (!cnnk_isa_available(isa)) {
        fprintf(stderr, "cnnk-bench: this CPU does not run ISA '%s'; ISAs:", name);
        list_isas(stderr);
        return false;
    }
    o->isa[isa] = true;
    return true;
}

static bool add_plan(bench_opts *o, const char *name) {
    cnnk_error err;
    if (cnnk_plan_parse(name, &o->plans[o->nplans], &err) != CNNK_OK) {
        fprintf(stderr, "cnnk-bench: --plans: %s\n", err.msg);
        return false;
    }
    o->nplans++;
    return true;
}

static bool add_layer(bench_opts *o, const char *name) {
    snprintf(o->layers[o->nlayers++], sizeof o->layers[0], "%s", name);
    return true; /* checked against the networks when registering */
}

static bool parse_input(const char *v, bench_opts *o) {
    const char *x = strchr(v, 'x');
    char h[32];
    if (!x || (size_t)(x - v) >= sizeof h) return false;
    memcpy(h, v, (size_t)(x - v));
    h[x - v] = '\0';
    return parse_int(h, 1, 1 << 16, &o->h) && parse_int(x + 1, 1, 1 << 16, &o->w);
}

static void set_defaults(bench_opts *o) {
    memset(o, 0, sizeof *o);
    o->threads = 1;
    o->h = o->w = 224;
    o->batch = 1;
    /* oneDNN at its best, uncapped: a user picking a kernel for this CPU
     * compares against what oneDNN does on it, not against oneDNN held to
     * cnnk's ISA (--onednn_max_isa=avx2 still asks for that). */
    snprintf(o->onednn_isa, sizeof o->onednn_isa, "all");
    /* Debian's interpreter, the one python3-torch installs into; python3
     * on PATH may be another (a virtual environment, pyenv). */
    o->pytorch = true;
    snprintf(o->pytorch_python, sizeof o->pytorch_python, "/usr/bin/python3");
    o->pytorch_timeout = 1800;
}

static bool add_onednn_algo(bench_opts *o, const char *name) {
    cnnk_onednn_algo a;
    cnnk_error err;
    if (cnnk_onednn_algo_parse(name, &a, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk-bench: --onednn_algo: %s\n", err.msg);
        return false;
    }
    o->onednn_algo[a] = o->onednn_algo_given = true;
    return true;
}

static bool add_onednn_concat(bench_opts *o, const char *name) {
    for (int c = 0; c < CNNK_ONEDNN_CONCAT_COUNT; ++c)
        if (strcmp(name, cnnk_onednn_concat_name((cnnk_onednn_concat_mode)c)) == 0)
            return o->onednn_concat[c] = o->onednn_concat_given = true;
    fprintf(stderr, "cnnk-bench: --onednn_concat: unknown strategy '%.64s' (valid: copy, inplace)\n",
            name);
    return false;
}

void bench_resolve_onednn(bench_opts *o) {
    if (!o->onednn_concat_given)
        for (int c = 0; c < CNNK_ONEDNN_CONCAT_COUNT; ++c) o->onednn_concat[c] = true;
    o->onednn_winograd = cnnk_onednn_available() && cnnk_onednn_winograd_exists();
    if (o->onednn_algo_given) return;
    o->onednn_algo[CNNK_ONEDNN_DIRECT] = true;
    if (o->main_job && o->onednn_winograd) o->onednn_algo[CNNK_ONEDNN_WINOGRAD] = true;
}

const char *bench_onednn_isa(void) { return cnnk_onednn_max_isa_name(); }

/* One of our flags in argv[i]; 1 taken, 0 not ours, -1 bad value. */
static int take(const char *a, bench_opts *o) {
    const char *v;
    int64_t n;
    if (strcmp(a, "--main") == 0) return o->main_job = true, 1;
    if ((v = flag_value(a, "set"))) {
        if (!bench_set_parse(v, &o->set)) {
            fprintf(stderr, "cnnk-bench: --set=%.40s: unknown network set (valid: classic, detseg, all)\n",
                    v);
            return -1;
        }
        return o->set_given = true, 1;
    }
    if ((v = flag_value(a, "threads"))) {
        if (!parse_int(v, 1, 1024, &n)) {
            fprintf(stderr, "cnnk-bench: --threads=%s: want an integer from 1 to 1024\n", v);
            return -1;
        }
        return o->threads = (int)n, 1;
    }
    if ((v = flag_value(a, "batch"))) {
        o->batch_given = true;
        if (!parse_int(v, 1, 1 << 16, &o->batch)) {
            fprintf(stderr, "cnnk-bench: --batch=%s: want a positive integer\n", v);
            return -1;
        }
        return 1;
    }
    if ((v = flag_value(a, "onnx"))) return add_onnx(o, v) ? 1 : -1;
    if ((v = flag_value(a, "proposals"))) return o->proposals = v, 1;
    if ((v = flag_value(a, "input"))) {
        o->input_given = true;
        if (!parse_input(v, o)) {
            fprintf(stderr, "cnnk-bench: --input=%s: want HxW, e.g. 224x224\n", v);
            return -1;
        }
        return 1;
    }
    if ((v = flag_value(a, "onednn_max_isa"))) {
        if (strlen(v) >= sizeof o->onednn_isa) {
            fprintf(stderr, "cnnk-bench: unknown --onednn_max_isa '%.40s...' (valid: %s)\n", v,
                    cnnk_onednn_isa_names());
            return -1;
        }
        return snprintf(o->onednn_isa, sizeof o->onednn_isa, "%s", v), 1;
    }
    if ((v = flag_value(a, "onednn_algo")))
        return each_item(v, CNNK_ONEDNN_ALGO_COUNT, add_onednn_algo, o, "onednn_algo") ? 1 : -1;
    if (strcmp(a, "--onednn_unfused") == 0) return o->onednn_unfused = true, 1;
    if ((v = flag_value(a, "onednn_concat")))
        return each_item(v, CNNK_ONEDNN_CONCAT_COUNT, add_onednn_concat, o, "onednn_concat") ? 1
                                                                                             : -1;
    if ((v = flag_value(a, "out"))) {
        if (!v[0]) {
            fprintf(stderr, "cnnk-bench: --out= needs a path (leave it out for the default)\n");
            return -1;
        }
        if (strlen(v) >= sizeof o->out) {
            fprintf(stderr, "cnnk-bench: --out: a path of %zu characters, longer than the %zu allowed\n",
                    strlen(v), sizeof o->out - 1);
            return -1;
        }
        return snprintf(o->out, sizeof o->out, "%s", v), 1;
    }
    if ((v = flag_value(a, "pytorch"))) {
        if (strcmp(v, "auto") != 0 && strcmp(v, "off") != 0) {
            fprintf(stderr, "cnnk-bench: --pytorch=%.40s: want auto or off\n", v);
            return -1;
        }
        return o->pytorch = strcmp(v, "auto") == 0, 1;
    }
    if ((v = flag_value(a, "pytorch_python"))) {
        if (!v[0] || strlen(v) >= sizeof o->pytorch_python) {
            fprintf(stderr, "cnnk-bench: --pytorch_python= needs an interpreter path of fewer than %zu characters\n",
                    sizeof o->pytorch_python);
            return -1;
        }
        return snprintf(o->pytorch_python, sizeof o->pytorch_python, "%s", v), 1;
    }
    if ((v = flag_value(a, "pytorch_timeout"))) {
        if (!parse_int(v, 1, 86400, &n)) {
            fprintf(stderr, "cnnk-bench: --pytorch_timeout=%s: want seconds from 1 to 86400\n", v);
            return -1;
        }
        return o->pytorch_timeout = (int)n, 1;
    }
    if ((v = flag_value(a, "record"))) {
        if (!v[0] || strlen(v) >= sizeof o->record) {
            fprintf(stderr, "cnnk-bench: --record= needs a database path of fewer than %zu characters\n",
                    sizeof o->record);
            return -1;
        }
        return snprintf(o->record, sizeof o->record, "%s", v), 1;
    }
    if ((v = flag_value(a, "nets"))) {
        o->nets_given = true;
        return each_item(v, BENCH_MAX_NETS, add_net, o, "nets") ? 1 : -1;
    }
    if ((v = flag_value(a, "isa"))) return each_item(v, CNNK_ISA_COUNT, add_isa, o, "isa") ? 1 : -1;
    if ((v = flag_value(a, "plans")))
        return each_item(v, BENCH_MAX_PLANS, add_plan, o, "plans") ? 1 : -1;
    if ((v = flag_value(a, "layers")))
        return each_item(v, BENCH_MAX_LAYERS, add_layer, o, "layers") ? 1 : -1;
    return 0;
}

bool bench_parse_args(int *argc, char **argv, bench_opts *o) {
    set_defaults(o);
    bool any_isa = false;
    int kept = 1;
    for (int i = 1; i < *argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--record") == 0) {
            /* also "--record DB", as the documentation writes it */
            if (i + 1 >= *argc || argv[i + 1][0] == '-') {
                fprintf(stderr, "cnnk-bench: --record needs a database path\n");
                return false;
            }
            char flag[CNNK_OUT_PATH_MAX + 16];
            snprintf(flag, sizeof flag, "--record=%s", argv[++i]);
            if (take(flag, o) < 0) return false;
            continue;
        }
        int r = take(a, o);
        if (r < 0) return false;
        if (r > 0) {
            if (flag_value(a, "isa")) any_isa = true;
            continue;
        }
        /* Google Benchmark 1.7's CSV writer aborts (a failed CHECK) as soon
         * as one row lacks a counter an earlier row had; layer, op and
         * network rows carry different counters, so CSV is refused here
         * with a reason rather than crashing half-way through a run. */
        static const char *const fmt_flags[2] = {"benchmark_format", "benchmark_out_format"};
        for (int k = 0; k < 2; ++k) {
            const char *fmt = flag_value(a, fmt_flags[k]);
            if (fmt && strcmp(fmt, "csv") == 0) {
                fprintf(stderr,
                        "cnnk-bench: --%s=csv is not supported: its rows carry different "
                        "counters, which Google Benchmark's CSV writer cannot hold; use json\n",
                        fmt_flags[k]);
                return false;
            }
        }
        const char *f = flag_value(a, "benchmark_filter");
        if (f) snprintf(o->filter, sizeof o->filter, "%s", f);
        argv[kept++] = argv[i];
    }
    *argc = kept;
    argv[kept] = NULL;
    if (o->out[0] && !o->main_job) {
        /* Without --main the JSON goes where --benchmark_out says. */
        fprintf(stderr, "cnnk-bench: --out=PATH goes with --main; use --benchmark_out=PATH\n");
        return false;
    }
    if (o->set_given && !o->main_job) {
        fprintf(stderr, "cnnk-bench: --set=%s goes with --main; without it use --nets=a,b,...\n",
                bench_set_name(o->set));
        return false;
    }
    if (!set_nets(o)) return false;
    if (o->nnets == 0)
        for (size_t i = 0; i < sizeof default_nets / sizeof default_nets[0]; ++i)
            if (!add_net(o, default_nets[i])) return false;
    if (!any_isa)
        for (int i = 0; i < CNNK_ISA_COUNT; ++i) o->isa[i] = cnnk_isa_available((cnnk_isa)i);
    return true;
}
