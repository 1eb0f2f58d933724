/* cnnk-bench --main: the five networks, cnnk's best ISA and default plan
 * against oneDNN at its best (uncapped unless --onednn_max_isa says, and
 * the faster of its direct and Winograd networks where it has Winograd),
 * repeated for stable medians; one table on stdout, progress on stderr,
 * the full Google Benchmark JSON in a results file written under a
 * temporary name and renamed when complete. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/gbench.h"
#include "core/gbjson.h"
#include "cnnk/cpu.h"
#include "cnnk/outfile.h"
#include "validate/onednn.h"

#include "cnnk_git_rev.h" /* generated at build time: bench/bench.cmake */

/* Nine repetitions: the fewest for which Google Benchmark's compare.py
 * trusts its U test; at least 0.3 s each keeps the whole job at a couple of
 * minutes on this 2-core machine (docs/BENCHMARKS.md has the measurement). */
static const char *const main_defaults[] = {"--benchmark_repetitions=9",
                                            "--benchmark_min_time=0.3"};

/* The temporary file a signal handler removes: an interrupted run leaves
 * neither a half-written results file nor its temporary. */
static char g_tmp_path[CNNK_OUT_PATH_MAX];

static void on_signal(int sig) {
    if (g_tmp_path[0]) unlink(g_tmp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void default_path(char *buf, size_t len) {
    time_t t = time(NULL);
    struct tm tm;
    char date[32] = "unknown";
    if (localtime_r(&t, &tm)) strftime(date, sizeof date, "%Y%m%d-%H%M%S", &tm);
    snprintf(buf, len, "results/cnnk-bench-%s-%s.json", date, CNNK_GIT_REV);
}

/* The results file as standard JSON (core/gbjson.h: Google Benchmark
 * writes NaN for the cv of a counter that is 0 in every repetition). */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL, *json = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        rewind(f);
        buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
        size_t len = 0;
        if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
            json = cnnk_gbjson_standard(buf, (size_t)n, &len);
        if (json && strlen(json) != len) { /* a NUL byte: not JSON */
            free(json);
            json = NULL;
        }
    }
    free(buf);
    fclose(f);
    return json;
}

static int count_algos(const bench_opts *o) {
    int n = 0;
    for (int a = 0; a < CNNK_ONEDNN_ALGO_COUNT; ++a) n += o->onednn_algo[a];
    return n;
}

typedef struct row_value {
    bool found, failed;
    double ms, gflops, pct, util; /* effective GFLOP/s and % of peak; FMA utilisation */
    char error[128];
} row_value;

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Whether run_name is name, or name with Google Benchmark's /real_time. */
static bool same_run(const char *run_name, const char *name) {
    size_t n = strlen(name);
    return strncmp(run_name, name, n) == 0 &&
           (run_name[n] == '\0' || strcmp(run_name + n, "/real_time") == 0);
}

/* The median over repetitions, or the one run when not repeated; in the
 * time Google Benchmark ran the benchmark by (real_time: the wall clock). */
static row_value find_row(const cJSON *benchmarks, const char *name, bool real_time) {
    row_value v = {0};
    const cJSON *pick = NULL, *b;
    cJSON_ArrayForEach(b, benchmarks) {
        if (!same_run(str(b, "run_name"), name)) continue;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "error_occurred"))) {
            v.found = v.failed = true;
            snprintf(v.error, sizeof v.error, "%s", str(b, "error_message"));
            return v;
        }
        bool median = strcmp(str(b, "run_type"), "aggregate") == 0 &&
                      strcmp(str(b, "aggregate_name"), "median") == 0;
        if (median || (!pick && strcmp(str(b, "run_type"), "iteration") == 0)) pick = b;
    }
    if (!pick) return v;
    v.found = true;
    v.ms = cnnk_gbjson_ms(cnnk_gbjson_num(pick, real_time ? "real_time" : "cpu_time"),
                          str(pick, "time_unit"));
    v.gflops = cnnk_gbjson_num(pick, "FLOPS") * 1e-9;
    v.pct = cnnk_gbjson_num(pick, "eff_pct_peak");
    v.util = cnnk_gbjson_num(pick, "fma_util");
    return v;
}

static void cell(const row_value *v, char *buf, size_t len) {
    if (!v->found) snprintf(buf, len, "-");
    else if (v->failed) snprintf(buf, len, "skipped");
    else snprintf(buf, len, "%.2f", v->ms);
}

static bool ran(const row_value *v) { return v->found && !v->failed; }

/* The oneDNN row of net the table compares with: the fastest of the
 * algorithms run (ties: the first), its index in *best (-1: none ran).
 * rows[a] is algorithm a's faster concat strategy (in_place[a]: the
 * in-place one), as a oneDNN user would keep it. */
static row_value fastest_onednn(const bench_opts *o, const cJSON *benchmarks, const char *net,
                                row_value rows[CNNK_ONEDNN_ALGO_COUNT],
                                bool in_place[CNNK_ONEDNN_ALGO_COUNT], int *best) {
    *best = -1;
    row_value none = {0};
    for (int a = 0; a < CNNK_ONEDNN_ALGO_COUNT; ++a) {
        rows[a] = none;
        in_place[a] = false;
        if (!o->onednn_algo[a]) continue;
        for (int m = 0; m < CNNK_ONEDNN_CONCAT_COUNT; ++m) {
            if (!o->onednn_concat[m]) continue;
            char name[256];
            bench_onednn_row_name(name, sizeof name, net, a, m);
            row_value v = find_row(benchmarks, name, o->threads > 1);
            if (!v.found) continue; /* in-place: a network without concats */
            if (!rows[a].found || (ran(&v) && (!ran(&rows[a]) || v.ms < rows[a].ms))) {
                rows[a] = v;
                in_place[a] = m == CNNK_ONEDNN_CONCAT_IN_PLACE;
            }
        }
        if (ran(&rows[a]) && (*best < 0 || rows[a].ms < rows[*best].ms)) *best = a;
    }
    return *best >= 0 ? rows[*best] : none;
}

/* Whether the table has the PyTorch columns: all but --pytorch=off. */
static bool pytorch_columns(const char *pt_status) { return strncmp(pt_status, "off", 3) != 0; }

/* The second table (--set=detseg): wider names, an input column, a wider
 * PyTorch column for "n/a (not in torchvision)". */
typedef struct table_shape {
    bool detseg;
    int name_w, pt_w;
} table_shape;

static table_shape shape_of(bool detseg) {
    return detseg ? (table_shape){true, 18, 24} : (table_shape){false, 12, 13};
}

/* The input a network of the table ran at: --input, else its own. */
static void net_input(const bench_opts *o, const char *net, int64_t *h, int64_t *w) {
    *h = o->input_given ? o->h : cnnk_net_default_side(net);
    *w = o->input_given ? o->w : cnnk_net_default_width(net);
    if (*h <= 0 || *w <= 0) *h = o->h, *w = o->w; /* an ONNX model: its own, in o */
}

static void print_header(const bench_opts *o, const char *isa, const char *pt_status,
                         table_shape ts) {
    if (ts.detseg) printf("\nSegmentation and detection (--set=detseg):");
    printf("\ncnnk %s/heuristic against oneDNN %s at %s (max ISA %s), the faster of its\n",
           isa, cnnk_onednn_version(), bench_onednn_isa(), o->onednn_isa);
    for (int a = 0, n = 0; a < CNNK_ONEDNN_ALGO_COUNT; ++a)
        if (o->onednn_algo[a])
            printf("%s%s", n++ ? ", " : "", cnnk_onednn_algo_name((cnnk_onednn_algo)a));
    char size[64];
    if (ts.detseg && !o->input_given) snprintf(size, sizeof size, "each network at its input");
    else snprintf(size, sizeof size, "%lldx%lld", (long long)o->h, (long long)o->w);
    printf(" networks%s; batch %lld, %s, %d thread%s;\nmedian of repetitions, %s\n\n",
           o->onednn_winograd ? "" : " (oneDNN has no Winograd at this ISA)",
           (long long)o->batch, size, o->threads,
           o->threads == 1 ? "" : "s",
           o->threads > 1 ? "wall-clock time"
                          : "the thread's CPU time (Google Benchmark's CPU column)");
    printf("%-*s", ts.name_w, "network");
    if (ts.detseg) printf(" %-9s", "input");
    printf(" %10s", "cnnk ms");
    for (int a = 0; a < CNNK_ONEDNN_ALGO_COUNT; ++a) {
        if (!o->onednn_algo[a]) continue;
        char col[32];
        snprintf(col, sizeof col, "%s ms", cnnk_onednn_algo_name((cnnk_onednn_algo)a));
        printf(" %12s", col);
    }
    printf(" %-9s %7s", "oneDNN", "ratio");
    if (pytorch_columns(pt_status)) printf(" %*s %8s", ts.pt_w, "PyTorch ms", "/PyTorch");
    printf(" %9s %8s %8s\n", "eff GF/s", "eff %pk", "FMA util");
}

/* The PyTorch cell of a row: its median, or why there is none. */
static void pytorch_cell(const char *net, const row_value *v, const char *pt_status, char *buf,
                         size_t len) {
    if (!bench_in_torchvision(net)) snprintf(buf, len, "n/a (not in torchvision)");
    else if (strncmp(pt_status, "not installed", 13) == 0) snprintf(buf, len, "not installed");
    else if (strncmp(pt_status, "failed", 6) == 0) snprintf(buf, len, "failed");
    else if (!v->found) snprintf(buf, len, "-");
    else if (v->failed) snprintf(buf, len, "failed");
    else snprintf(buf, len, "%.2f", v->ms);
}

/* The layout PyTorch ran net in: the label's first field. */
static void pytorch_layout(const cJSON *benchmarks, const char *name, char *buf, size_t len) {
    snprintf(buf, len, "?");
    const cJSON *b;
    cJSON_ArrayForEach(b, benchmarks) {
        if (strcmp(str(b, "run_name"), name) != 0 || !str(b, "label")[0]) continue;
        const char *label = str(b, "label"), *comma = strchr(label, ',');
        snprintf(buf, len, "%.*s", comma ? (int)(comma - label) : (int)strlen(label), label);
        return;
    }
}

/* What the table says under itself about the PyTorch column. */
static void pytorch_note(const bench_opts *o, const cJSON *ctx, const cJSON *benchmarks,
                         const char *pt_status) {
    if (!pytorch_columns(pt_status)) {
        printf("PyTorch: %s (--pytorch=off)\n", pt_status);
        return;
    }
    if (strncmp(pt_status, "n/a", 3) == 0) {
        printf("PyTorch: %s.\n", pt_status);
        return;
    }
    if (strcmp(pt_status, "measured") != 0) {
        printf("PyTorch: %s; the run goes on without it.\n", pt_status);
        return;
    }
    printf("PyTorch %s (torchvision %s): eager, eval(), no_grad(), %d thread%s, random weights,\n"
           "the same input as the cnnk row; timed by %s,\n"
           "after the cnnk and oneDNN benchmarks; /PyTorch = cnnk / PyTorch. Layout (the faster):",
           str(ctx, "pytorch_version"), str(ctx, "torchvision_version"), o->threads,
           o->threads == 1 ? "" : "s",
           o->threads > 1 ? "the wall clock" : "the process's CPU time (as cnnk's CPU column)");
    for (int i = 0, k = 0; i < o->nnets; ++i) {
        if (!bench_in_torchvision(o->nets[i])) continue;
        char name[256], layout[32];
        bench_pytorch_row_name(name, sizeof name, o->nets[i]);
        pytorch_layout(benchmarks, name, layout, sizeof layout);
        printf("%s %s %s", k++ ? "," : "", o->nets[i], layout);
    }
    printf(".\nBLAS PyTorch loaded: %s\n", str(ctx, "pytorch_blas"));
}

/* The label of run name (its first repetition's), or "". */
static const char *row_label(const cJSON *benchmarks, const char *name) {
    const cJSON *b;
    cJSON_ArrayForEach(b, benchmarks) {
        if (same_run(str(b, "run_name"), name) && str(b, "label")[0]) return str(b, "label");
    }
    return "";
}

/* The steps oneDNN lacks, which cnnk's reference kernel runs on both sides
 * (the oneDNN row's label: "...; host_steps: a,b; ..."), under the row. */
static void host_steps_line(const cJSON *benchmarks, const char *net, int algo, bool in_place) {
    char name[256];
    bench_onednn_row_name(name, sizeof name, net, algo,
                          in_place ? CNNK_ONEDNN_CONCAT_IN_PLACE : CNNK_ONEDNN_CONCAT_COPY);
    const char *h = strstr(row_label(benchmarks, name), "host_steps: ");
    if (!h) return;
    h += strlen("host_steps: ");
    const char *end = strchr(h, ';');
    printf("  host steps (cnnk's reference kernels on both sides): %.*s\n",
           end ? (int)(end - h) : (int)strlen(h), h);
}

/* What the second table adds to the legend. */
static void detseg_legend(const bench_opts *o) {
    printf("input: each network's own (docs/NETWORKS.md) unless --input; fast_rcnn_vgg16\n"
           "pools %s, faster_rcnn_vgg16 its RPN's top 300.\n"
           "host steps: what oneDNN has no primitive for (region pooling, proposals,\n"
           "detection with NMS), run by cnnk's reference kernels inside the timed forward of\n"
           "both sides (the oneDNN row's label says which).\n"
           "PyTorch: torchvision has fcn_resnet50 alone of these (timed at its input); the\n"
           "others say n/a (not in torchvision).\n",
           o->proposals ? "--proposals' boxes" : "the 300 default proposals");
}

/* One line per network: cnnk, each oneDNN algorithm, which was faster and
 * the ratio against it; fastest[i] gets that algorithm's name for the
 * JSON's context ("" when no ratio). */
static bool print_table(const bench_opts *o, const cJSON *root, const cJSON *benchmarks,
                        const char *pt_status, char fastest[][24], table_shape ts) {
    const char *isa = cnnk_isa_name(cnnk_best_isa());
    print_header(o, isa, pt_status, ts);
    double log_sum = 0.0, pt_log_sum = 0.0;
    int nratio = 0, pt_nratio = 0;
    for (int i = 0; i < o->nnets; ++i) {
        fastest[i][0] = '\0';
        char name[BENCH_NET_LEN + 64]; /* a network may be an ONNX model's path */
        snprintf(name, sizeof name, "net/%s/cnnk/%s/heuristic", o->nets[i], isa);
        row_value c = find_row(benchmarks, name, o->threads > 1);
        row_value rows[CNNK_ONEDNN_ALGO_COUNT];
        int best;
        bool in_place[CNNK_ONEDNN_ALGO_COUNT];
        row_value d = fastest_onednn(o, benchmarks, o->nets[i], rows, in_place, &best);
        char cs[32], ratio[32] = "-", gf[32] = "-", pct[32] = "-", util[32] = "-";
        char pt_error[128] = "";
        cell(&c, cs, sizeof cs);
        printf("%-*s", ts.name_w, o->nets[i]);
        if (ts.detseg) {
            int64_t h, w;
            char in[48];
            net_input(o, o->nets[i], &h, &w);
            snprintf(in, sizeof in, "%lldx%lld", (long long)h, (long long)w);
            printf(" %-9s", in);
        }
        printf(" %10s", cs);
        for (int a = 0; a < CNNK_ONEDNN_ALGO_COUNT; ++a) {
            if (!o->onednn_algo[a]) continue;
            char ds[32];
            cell(&rows[a], ds, sizeof ds);
            printf(" %12s", ds);
        }
        if (c.found && !c.failed && best >= 0 && d.ms > 0.0) {
            snprintf(ratio, sizeof ratio, "%.2f", c.ms / d.ms);
            log_sum += log(c.ms / d.ms);
            nratio++;
            snprintf(fastest[i], 24, "%s%s", cnnk_onednn_algo_name((cnnk_onednn_algo)best),
                     in_place[best] ? "/inplace" : "");
        }
        if (c.found && !c.failed) {
            snprintf(gf, sizeof gf, "%.1f", c.gflops);
            if (!isnan(c.pct)) snprintf(pct, sizeof pct, "%.1f", c.pct);
            if (!isnan(c.util)) snprintf(util, sizeof util, "%.1f%%", c.util);
        }
        char which[24] = "-";
        if (best >= 0)
            snprintf(which, sizeof which, "%s%s", cnnk_onednn_algo_name((cnnk_onednn_algo)best),
                     in_place[best] ? "*" : "");
        printf(" %-9s %7s", which, ratio);
        if (pytorch_columns(pt_status)) {
            char pname[256], ps[32], pr[32] = "-";
            bench_pytorch_row_name(pname, sizeof pname, o->nets[i]);
            row_value p = find_row(benchmarks, pname, o->threads > 1);
            pytorch_cell(o->nets[i], &p, pt_status, ps, sizeof ps);
            if (ran(&c) && ran(&p) && p.ms > 0.0) {
                snprintf(pr, sizeof pr, "%.3f", c.ms / p.ms);
                pt_log_sum += log(c.ms / p.ms);
                pt_nratio++;
            }
            printf(" %*s %8s", ts.pt_w, ps, pr);
            if (p.failed) snprintf(pt_error, sizeof pt_error, "%s", p.error);
        }
        printf(" %9s %8s %8s\n", gf, pct, util);
        if (pt_error[0]) printf("  PyTorch failed: %s\n", pt_error);
        if (c.failed) printf("  cnnk skipped: %s\n", c.error);
        if (ts.detseg && best >= 0) host_steps_line(benchmarks, o->nets[i], best, in_place[best]);
        for (int a = 0; a < CNNK_ONEDNN_ALGO_COUNT; ++a)
            if (rows[a].failed)
                printf("  oneDNN %s skipped: %s\n", cnnk_onednn_algo_name((cnnk_onednn_algo)a),
                       rows[a].error);
    }
    if (nratio > 1 || pt_nratio > 1) {
        printf("%-*s %*s ", ts.name_w, "geomean",
               10 + 10 + 13 * (int)count_algos(o) + (ts.detseg ? 10 : 0), "");
        if (nratio > 1) printf("%7.2f", exp(log_sum / nratio));
        else printf("%7s", "");
        if (pt_nratio > 1) printf(" %*s %8.3f", ts.pt_w, "", exp(pt_log_sum / pt_nratio));
        printf("\n");
    }
    printf("\nratio = cnnk / the faster oneDNN network (column oneDNN; below 1: cnnk faster).\n"
           "The last three columns are cnnk's, against the measured %s FMA peak of one core\n"
           "(%.1f GFLOP/s) x %d thread%s:\n"
           "  eff GF/s, eff %%pk  effective: the direct definition's 2 x MACs per second;\n"
           "                     Winograd does less arithmetic, so this can pass the peak\n"
           "  FMA util           utilisation: the FLOPs the kernels execute (Winograd's\n"
           "                     transform-domain products and transforms) over the peak,\n"
           "                     never above 100%% but for noise in the peak's measurement\n"
           "The net/.../onednn/ labels in the JSON say how many convolutions ran Winograd\n"
           "(oneDNN refuses it on 1x1 and strided layers). * after the algorithm: oneDNN's\n"
           "faster network there writes its concats in place (each algorithm column shows\n"
           "the faster of its copy and in-place networks).\n",
           isa, cnnk_peak_gflops(cnnk_best_isa()), o->threads, o->threads == 1 ? "" : "s");
    if (ts.detseg) detseg_legend(o);
    pytorch_note(o, cJSON_GetObjectItemCaseSensitive(root, "context"), benchmarks, pt_status);
    return true;
}

/* The table's verdicts into the JSON's context, which Google Benchmark
 * wrote before the runs: onednn_fastest_<net> = direct | winograd | auto
 * (with /inplace when its concats were in place),
 * and the ISA of each side. */
static bool add_verdicts(const bench_opts *tabs, int ntabs, cJSON *root,
                         char fastest[][BENCH_MAX_NETS][24], const char *path) {
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(root, "context");
    if (!cJSON_IsObject(ctx)) return false;
    for (int t = 0; t < ntabs; ++t)
        for (int i = 0; i < tabs[t].nnets; ++i) {
            char key[BENCH_NET_LEN + 32];
            snprintf(key, sizeof key, "onednn_fastest_%s", tabs[t].nets[i]);
            cJSON_AddStringToObject(ctx, key, fastest[t][i][0] ? fastest[t][i] : "none");
        }
    cJSON_AddStringToObject(ctx, "cnnk_main_isa", cnnk_isa_name(cnnk_best_isa()));
    cJSON_AddStringToObject(ctx, "onednn_main_isa", bench_onednn_isa());
    char *text = cJSON_Print(root);
    FILE *f = text ? fopen(path, "w") : NULL;
    bool ok = f && fputs(text, f) >= 0;
    if (f) ok = fclose(f) == 0 && ok;
    free(text);
    return ok;
}

/* The networks whose cnnk row ran, as a comma list: PyTorch runs those. */
static void ran_nets(const bench_opts *o, const cJSON *benchmarks, char *buf, size_t len) {
    const char *isa = cnnk_isa_name(cnnk_best_isa());
    buf[0] = '\0';
    for (int i = 0; i < o->nnets; ++i) {
        char name[BENCH_NET_LEN + 64]; /* a network may be an ONNX model's path */
        snprintf(name, sizeof name, "net/%s/cnnk/%s/heuristic", o->nets[i], isa);
        row_value c = find_row(benchmarks, name, o->threads > 1);
        size_t l = strlen(buf);
        if (ran(&c)) snprintf(buf + l, len - l, "%s%s", l ? "," : "", o->nets[i]);
    }
}

/* The second table's PyTorch column: each of its networks that torchvision
 * has and whose cnnk row ran, at that network's input (a helper run each);
 * the status of the column is the first that was not "measured". */
static void detseg_pytorch(const bench_opts *o, const char *reps, const char *min_time,
                           cJSON *root, char *status, size_t slen) {
    snprintf(status, slen, "%s", o->pytorch ? "n/a: none of these networks is in torchvision" : "off");
    char nets[BENCH_MAX_NETS * 33];
    ran_nets(o, cJSON_GetObjectItemCaseSensitive(root, "benchmarks"), nets, sizeof nets);
    bench_opts *one = o->pytorch ? malloc(sizeof *one) : NULL;
    bool any = false;
    for (int i = 0; one && i < o->nnets; ++i) {
        char padded[sizeof nets + 2], item[BENCH_NET_LEN + 2];
        snprintf(padded, sizeof padded, ",%s,", nets);
        snprintf(item, sizeof item, ",%s,", o->nets[i]);
        if (!bench_in_torchvision(o->nets[i]) || !strstr(padded, item)) continue;
        *one = *o;
        net_input(o, o->nets[i], &one->h, &one->w);
        char st[512];
        bench_pytorch(one, reps, min_time, root, o->nets[i], st, sizeof st);
        if (!any || strcmp(status, "measured") == 0) snprintf(status, slen, "%s", st);
        any = true;
    }
    free(one);
}

/* Reads the results, runs PyTorch, prints the tables (the classifiers',
 * then --set=detseg's), writes the verdicts and PyTorch's rows back. */
static bool report(const bench_opts *tabs, const char *reps, const char *min_time,
                   const char *json_path) {
    char *text = read_file(json_path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *benchmarks = root ? cJSON_GetObjectItemCaseSensitive(root, "benchmarks") : NULL;
    if (!cJSON_IsArray(benchmarks)) {
        fprintf(stderr, "cnnk-bench: cannot read the results JSON %s\n", json_path);
        cJSON_Delete(root);
        return false;
    }
    char fastest[2][BENCH_MAX_NETS][24];
    bool ok = true;
    for (int t = 0; t < 2; ++t) {
        const bench_opts *o = &tabs[t];
        if (o->nnets == 0) continue;
        char nets[BENCH_MAX_NETS * 33], pt_status[512];
        if (t == 0) {
            ran_nets(o, benchmarks, nets, sizeof nets);
            bench_pytorch(o, reps, min_time, root, nets, pt_status, sizeof pt_status);
        } else {
            detseg_pytorch(o, reps, min_time, root, pt_status, sizeof pt_status);
        }
        ok = ok && print_table(o, root, benchmarks, pt_status, fastest[t], shape_of(t == 1));
    }
    if (ok && !add_verdicts(tabs, 2, root, fastest, json_path)) {
        fprintf(stderr, "cnnk-bench: cannot write the verdicts into %s\n", json_path);
        ok = false;
    }
    cJSON_Delete(root);
    return ok;
}

/* The value of the last --name=value in our defaults and then argv (the
 * user's flags win, as Google Benchmark reads them). */
static const char *last_value(int argc, char **argv, const char *name) {
    const size_t n = strlen(name);
    const char *v = NULL;
    for (size_t i = 0; i < sizeof main_defaults / sizeof main_defaults[0]; ++i)
        if (strncmp(main_defaults[i], name, n) == 0 && main_defaults[i][n] == '=')
            v = main_defaults[i] + n + 1;
    for (int i = 1; i < argc; ++i)
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') v = argv[i] + n + 1;
    return v;
}

static bool has_flag(int argc, char **argv, const char *prefix) {
    for (int i = 1; i < argc; ++i)
        if (strncmp(argv[i], prefix, strlen(prefix)) == 0) return true;
    return false;
}

/* The directory of path exists, or (the default results/) is created. */
static bool ensure_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return true;
    char dir[1024];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) return true;
    fprintf(stderr, "cnnk-bench: cannot create %s: %s\n", dir, strerror(errno));
    return false;
}

static void split_tables(const bench_opts *o, bench_opts tabs[2]);
static int run_job(bench_opts *o, const bench_opts tabs[2], int argc, char **argv,
                   bench_arena *a);

int bench_main_job(bench_opts *o, int argc, char **argv, bench_arena *a) {
    if (has_flag(argc, argv, "--benchmark_out=")) {
        fprintf(stderr, "cnnk-bench: --main writes its own results file; choose it with --out=PATH\n");
        return 2;
    }
    /* Two tables: the classifiers (and --nets' others), and the networks of
     * --set=detseg (docs/BENCHMARKS.md, "--set"). */
    bench_opts *tabs = calloc(2, sizeof *tabs);
    if (!tabs) return 1;
    split_tables(o, tabs);
    int rc = run_job(o, tabs, argc, argv, a);
    free(tabs);
    return rc;
}

static void split_tables(const bench_opts *o, bench_opts tabs[2]) {
    tabs[0] = tabs[1] = *o;
    tabs[0].nnets = tabs[1].nnets = 0;
    for (int i = 0; i < o->nnets; ++i) {
        bench_opts *t = &tabs[bench_net_is_detseg(o->nets[i]) ? 1 : 0];
        snprintf(t->nets[t->nnets++], sizeof t->nets[0], "%s", o->nets[i]);
    }
}

static int run_job(bench_opts *o, const bench_opts tabs[2], int argc, char **argv,
                   bench_arena *a) {
    for (int t = 0; t < 2; ++t)
        if (tabs[t].nnets > 0 && bench_register_nets(&tabs[t], a, true) < 0) return 2;
    bench_add_context(o);
    cnnk_gb_add_context("cnnk_job", "main");
    cnnk_gb_add_context("cnnk_main_set", bench_set_name(o->set));

    char path[CNNK_OUT_PATH_MAX], target[CNNK_OUT_PATH_MAX];
    if (o->out[0]) snprintf(path, sizeof path, "%s", o->out);
    else default_path(path, sizeof path);
    if (!o->out[0] && !ensure_dir(path)) return 2;
    /* Find out now, before minutes of benchmarks, that the results cannot
     * be written there: a directory, a device, a missing directory. */
    cnnk_error err;
    if (cnnk_outfile_target(path, target, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk-bench: --out: %s\n", err.msg);
        return 2;
    }
    int fd;
    if (cnnk_outfile_open(path, target, g_tmp_path, &fd, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk-bench: --out: %s\n", err.msg);
        g_tmp_path[0] = '\0';
        return 2;
    }
    close(fd); /* Google Benchmark writes it by name */
    char out_flag[CNNK_OUT_PATH_MAX + 32];
    snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", g_tmp_path);

    /* Our defaults first: the user's own Google Benchmark flags come later
     * and win. */
    enum { NDEF = sizeof main_defaults / sizeof main_defaults[0] };
    char **args = calloc((size_t)argc + NDEF + 3, sizeof *args);
    if (!args) return 1;
    int n = 0;
    args[n++] = argv[0];
    for (int i = 0; i < NDEF; ++i) args[n++] = (char *)main_defaults[i];
    args[n++] = out_flag;
    args[n++] = "--benchmark_out_format=json";
    for (int i = 1; i < argc; ++i) args[n++] = argv[i];
    args[n] = NULL;

    /* PyTorch's helper repeats as the benchmarks do; read before Google
     * Benchmark takes its flags out of args. */
    const char *reps = last_value(argc, argv, "--benchmark_repetitions");
    const char *min_time = last_value(argc, argv, "--benchmark_min_time");

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    cnnk_gb_options opt = {.progress = stderr};
    int ran = cnnk_gb_main(&n, args, &opt);
    free(args);
    const int failed = cnnk_gb_failed();
    int rc = 0;
    if (ran <= 0) {
        if (ran == 0) bench_no_match(o->filter);
        rc = 2;
    } else if (!report(tabs, reps ? reps : "1", min_time ? min_time : "0.5", g_tmp_path)) {
        rc = 1;
    } else if (failed > 0) {
        /* Results with failed benchmarks are not the main job's results:
         * the previous file stays (docs/EXIT_CODES.md). */
        fprintf(stderr, "cnnk-bench: %d of %d benchmarks failed (SKIPPED above); %s not %s\n",
                failed, ran, path, failed == ran ? "written: nothing was measured" : "written");
        rc = failed == ran ? 3 : 2;
    } else if (cnnk_outfile_commit(-1, g_tmp_path, target, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk-bench: %s\n", err.msg);
        rc = 1;
    } else if (strcmp(path, target) != 0) {
        printf("\nresults: %s (through the link %s)\n", target, path);
    } else {
        printf("\nresults: %s\n", path);
    }
    if (rc != 0) unlink(g_tmp_path);
    else snprintf(o->out, sizeof o->out, "%s", target); /* for --record */
    g_tmp_path[0] = '\0';
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return rc;
}
