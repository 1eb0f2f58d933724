/* cnnk compare: a regression gate on two Google Benchmark JSON files with
 * repetitions, or on runs of the history database (docs/COMPARE.md,
 * docs/HISTORY.md). Exit 0 nothing regressed, 1 a regression, 2 unusable
 * input (docs/EXIT_CODES.md). */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/benchjson.h"
#include "core/compare.h"
#include "core/mannwhitney.h"
#include "tools/commands.h"
#include "tools/history.h"

typedef struct cmp_opts {
    double alpha, threshold;
    bool has_filter;
    regex_t filter;
    const char *files[2];
    int nfiles;
    const char *db, *baseline;
    long long run_id; /* 0: not given */
    bool cpu_time;    /* --time cpu: the thread's CPU time instead of the wall clock */
} cmp_opts;

static int cmp_bad(const char *fmt, const char *arg) {
    fprintf(stderr, "cnnk compare: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return CNNK_EXIT_BAD_INPUT;
}

/* "5%", "5" (both five percent) or "0.5%". */
static bool parse_threshold(const char *s, double *out) {
    char *end;
    errno = 0;
    const double v = strtod(s, &end);
    if (end == s || errno || (*end && strcmp(end, "%") != 0) || !(v >= 0 && v <= 1000)) return false;
    *out = v / 100;
    return true;
}

static bool parse_alpha(const char *s, double *out) {
    char *end;
    errno = 0;
    const double v = strtod(s, &end);
    if (end == s || *end || errno || !(v > 0 && v < 1)) return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, cmp_opts *o) {
    for (int i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            if (o->nfiles == 2) return cmp_bad("more than two files ('%s'): give BASE.json NEW.json", a);
            o->files[o->nfiles++] = a;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return cmp_bad("%s needs a value", a);
        ++i;
        if (strcmp(a, "--alpha") == 0) {
            if (!parse_alpha(v, &o->alpha)) return cmp_bad("--alpha takes a number in (0, 1), not '%s'", v);
        } else if (strcmp(a, "--threshold") == 0) {
            if (!parse_threshold(v, &o->threshold))
                return cmp_bad("--threshold takes a percentage 0%%..1000%%, e.g. 5%%, not '%s'", v);
        } else if (strcmp(a, "--filter") == 0) {
            if (o->has_filter) regfree(&o->filter);
            if (regcomp(&o->filter, v, REG_EXTENDED | REG_NOSUB) != 0)
                return o->has_filter = false, cmp_bad("--filter: not an extended regular expression: '%s'", v);
            o->has_filter = true;
        } else if (strcmp(a, "--time") == 0) {
            if (strcmp(v, "real") != 0 && strcmp(v, "cpu") != 0)
                return cmp_bad("--time takes real or cpu, not '%s'", v);
            o->cpu_time = strcmp(v, "cpu") == 0;
        } else if (strcmp(a, "--db") == 0) {
            o->db = v;
        } else if (strcmp(a, "--baseline") == 0) {
            o->baseline = v;
        } else if (strcmp(a, "--run") == 0) {
            char *end;
            errno = 0;
            o->run_id = strtoll(v, &end, 10);
            if (end == v || *end || errno || o->run_id < 1)
                return cmp_bad("--run takes a run id (a whole number >= 1), not '%s'", v);
        } else {
            return cmp_bad("unknown option '%s' (see cnnk --help)", a);
        }
    }
    if (o->db || o->baseline) {
        if (!o->db || !o->baseline) return cmp_bad("--db and --baseline go together%s", "");
        if (o->nfiles > 1 || (o->nfiles == 1 && o->run_id))
            return cmp_bad("with --db give one NEW.json or --run ID%s", "");
    } else if (o->nfiles != 2 || o->run_id) {
        return cmp_bad("give BASE.json NEW.json, or --db DB --baseline REV [NEW.json | --run ID]%s", "");
    }
    return 0;
}

/* A time in ns with a unit that suits it. */
static void fmt_time(double ns, char *buf, size_t len) {
    if (!isfinite(ns)) snprintf(buf, len, "-");
    else if (ns >= 1e9) snprintf(buf, len, "%.3f s", ns / 1e9);
    else if (ns >= 1e6) snprintf(buf, len, "%.3f ms", ns / 1e6);
    else if (ns >= 1e3) snprintf(buf, len, "%.3f us", ns / 1e3);
    else snprintf(buf, len, "%.1f ns", ns);
}

static bool selected(const cmp_opts *o, const char *name) {
    return !o->has_filter || regexec(&o->filter, name, 0, NULL, 0) == 0;
}

/* The times (real or CPU) of a benchmark without errors, in a new array. */
static double *times_of(const cmp_opts *o, const cnnk_bj_bench *b) {
    double *t = malloc((b->n ? b->n : 1) * sizeof *t);
    for (size_t i = 0; t && i < b->n; ++i) t[i] = o->cpu_time ? b->s[i].cpu_ns : b->s[i].real_ns;
    return t;
}

typedef struct cmp_counts {
    int compared, verdict[CNNK_CMP_TOO_FEW + 1], errored, added, removed;
    size_t few_n1, few_n2;
    const char *few_name;
} cmp_counts;

static int name_width(const cnnk_bj_file *base, const cnnk_bj_file *new_, const cmp_opts *o) {
    size_t w = 9;
    const cnnk_bj_file *f[2] = {base, new_};
    for (int k = 0; k < 2; ++k)
        for (size_t i = 0; i < f[k]->n; ++i)
            if (selected(o, f[k]->b[i].name) && strlen(f[k]->b[i].name) > w) w = strlen(f[k]->b[i].name);
    return w > 100 ? 100 : (int)w;
}

/* One row of the table; false when out of memory. */
static bool compare_one(const cmp_opts *o, const cnnk_bj_bench *b, const cnnk_bj_bench *n,
                        int w, cmp_counts *c) {
    ++c->compared;
    if (b->nerr || n->nerr) {
        const cnnk_bj_bench *e = b->nerr ? b : n;
        const char *msg = "";
        for (size_t i = 0; i < e->n && !msg[0]; ++i)
            if (e->s[i].error) msg = e->s[i].error;
        printf("%-*s %12s %12s %8s %9s  errored\n", w, b->name, "-", "-", "-", "-");
        fprintf(stderr, "cnnk compare: %s errored in %s (%zu of %zu repetitions: %s): not compared\n",
                b->name, b->nerr ? "BASE" : "NEW", e->nerr, e->n, msg);
        ++c->errored;
        return true;
    }
    double *tb = times_of(o, b), *tn = times_of(o, n);
    cnnk_cmp_result r;
    const bool ok = tb && tn && cnnk_cmp_samples(tb, b->n, tn, n->n, o->alpha, o->threshold, &r);
    free(tb), free(tn);
    if (!ok) return false;
    char bm[32], nm[32], ch[32], p[32];
    fmt_time(r.base_median, bm, sizeof bm);
    fmt_time(r.new_median, nm, sizeof nm);
    snprintf(ch, sizeof ch, "%+.1f%%", 100 * r.change);
    if (isnan(r.p)) snprintf(p, sizeof p, "-");
    else snprintf(p, sizeof p, r.p < 1e-4 ? "%.1e" : "%.4f", r.p);
    printf("%-*s %12s %12s %8s %9s%s %s\n", w, b->name, bm, nm, ch, p,
           isnan(r.p) || r.exact ? " " : "~", cnnk_cmp_verdict_name(r.verdict));
    ++c->verdict[r.verdict];
    if (r.verdict == CNNK_CMP_REGRESSION)
        fprintf(stderr, "cnnk compare: REGRESSION %s: median %s -> %s (%s, p = %s)\n", b->name, bm,
                nm, ch, p);
    if (r.verdict == CNNK_CMP_TOO_FEW && !c->few_name)
        c->few_name = b->name, c->few_n1 = b->n, c->few_n2 = n->n;
    return true;
}

static void list_missing(const cmp_opts *o, const cnnk_bj_file *have, const cnnk_bj_file *other,
                         const char *title, int *count) {
    for (size_t i = 0; i < have->n; ++i) {
        const char *name = have->b[i].name;
        if (!selected(o, name) || cnnk_bj_find(other, name)) continue;
        if (!*count) printf("\n%s:\n", title);
        printf("  %s\n", name);
        ++*count;
    }
}

static int report_too_few(const cmp_opts *o, const cmp_counts *c) {
    const size_t need = cnnk_mwu_min_reps(o->alpha);
    fprintf(stderr,
            "cnnk compare: %d benchmark(s) have too few repetitions for the test (e.g. %s: %zu in "
            "BASE, %zu in NEW): the smallest two-sided p-value they can give is %.4g, never below "
            "alpha %g; run with --benchmark_repetitions=%zu or more\n",
            c->verdict[CNNK_CMP_TOO_FEW], c->few_name, c->few_n1, c->few_n2,
            cnnk_mwu_min_p(c->few_n1, c->few_n2), o->alpha, need);
    return CNNK_EXIT_BAD_INPUT;
}

static int compare_files(const cmp_opts *o, const cnnk_bj_file *base, const char *base_name,
                         const cnnk_bj_file *new_, const char *new_name) {
    const cnnk_bj_file *f[2] = {base, new_};
    const char *fname[2] = {base_name, new_name};
    for (int k = 0; k < 2; ++k) {
        if (f[k]->n > 0) continue;
        fprintf(stderr, "cnnk compare: %s holds no per-repetition result%s\n", fname[k],
                f[k]->aggregates ? " (only aggregates: run without "
                                   "--benchmark_report_aggregates_only)" : "");
        return CNNK_EXIT_BAD_INPUT;
    }
    int common = 0;
    for (size_t i = 0; i < base->n; ++i)
        common += selected(o, base->b[i].name) && cnnk_bj_find(new_, base->b[i].name);
    if (common == 0) {
        fprintf(stderr, "cnnk compare: no benchmark in common between %s (%zu) and %s (%zu)%s\n",
                base_name, base->n, new_name, new_->n, o->has_filter ? " that --filter selects" : "");
        return CNNK_EXIT_BAD_INPUT;
    }
    const int w = name_width(base, new_, o);
    printf("base: %s\nnew:  %s\n", base_name, new_name);
    printf("two-sided Mann-Whitney U on the %s time of each repetition; alpha %g; a regression "
           "is p < alpha and the median slower by more than %g%% (~: normal approximation)\n\n",
           o->cpu_time ? "CPU" : "real", o->alpha, 100 * o->threshold);
    printf("%-*s %12s %12s %8s %9s  %s\n", w, "benchmark", "base median", "new median", "change",
           "p-value", "verdict");
    cmp_counts c = {0};
    for (size_t i = 0; i < base->n; ++i) {
        const cnnk_bj_bench *n = cnnk_bj_find(new_, base->b[i].name);
        if (!n || !selected(o, base->b[i].name)) continue;
        if (!compare_one(o, &base->b[i], n, w, &c)) {
            fprintf(stderr, "cnnk compare: out of memory\n");
            return CNNK_EXIT_BAD_INPUT;
        }
    }
    list_missing(o, new_, base, "added (in NEW only)", &c.added);
    list_missing(o, base, new_, "removed (in BASE only)", &c.removed);
    printf("\n%d compared: %d REGRESSION, %d slower, %d faster, %d same, %d errored, %d too few; "
           "%d added, %d removed\n", c.compared, c.verdict[CNNK_CMP_REGRESSION],
           c.verdict[CNNK_CMP_SLOWER], c.verdict[CNNK_CMP_FASTER], c.verdict[CNNK_CMP_SAME],
           c.errored, c.verdict[CNNK_CMP_TOO_FEW], c.added, c.removed);
    /* Unusable input outranks a regression: a gate that could not look at
     * every benchmark must not pass; the regressions are named above. */
    if (c.verdict[CNNK_CMP_TOO_FEW]) return report_too_few(o, &c);
    if (c.errored) {
        fprintf(stderr, "cnnk compare: %d benchmark(s) errored: not compared\n", c.errored);
        return CNNK_EXIT_BAD_INPUT;
    }
    return c.verdict[CNNK_CMP_REGRESSION] ? CNNK_EXIT_CHECK_FAILED : CNNK_EXIT_OK;
}

static int compare_db(const cmp_opts *o) {
    cnnk_error err;
    cnnk_history *h = NULL;
    cnnk_bj_file *base = NULL, *new_ = NULL;
    cnnk_history_run bi, ni;
    char base_name[1400], new_name[1400];
    long long base_id = 0, new_id = o->run_id;
    int rc = CNNK_EXIT_BAD_INPUT;
    if (cnnk_history_open(o->db, false, &h, &err) != CNNK_OK) goto fail;
    if (o->nfiles == 1) {
        if (cnnk_bj_read(o->files[0], &new_, &err) != CNNK_OK ||
            !cnnk_history_identity(new_, &ni, &err))
            goto fail;
        snprintf(new_name, sizeof new_name, "%s", o->files[0]);
    } else {
        if (!new_id && cnnk_history_latest(h, &new_id, &err) != CNNK_OK) goto fail;
        if (cnnk_history_load(h, new_id, &new_, &ni, &err) != CNNK_OK) goto fail;
        snprintf(new_name, sizeof new_name, "%s run %lld (revision %s, %s)", o->db, new_id,
                 ni.revision, ni.date);
    }
    if (cnnk_history_baseline(h, o->baseline, ni.cpu_key, ni.threads, new_id, &base_id, &err) != CNNK_OK ||
        cnnk_history_load(h, base_id, &base, &bi, &err) != CNNK_OK)
        goto fail;
    snprintf(base_name, sizeof base_name, "%s run %lld (revision %s, %s)", o->db, base_id,
             bi.revision, bi.date);
    rc = compare_files(o, base, base_name, new_, new_name);
    goto done;
fail:
    fprintf(stderr, "cnnk compare: %s\n", err.msg);
done:
    cnnk_bj_free(base);
    cnnk_bj_free(new_);
    cnnk_history_close(h);
    return rc;
}

/* Two files from different machines or thread counts compare, but the
 * user should know: their differences are not the code's alone. */
static void warn_identity(const cnnk_bj_file *base, const cnnk_bj_file *new_) {
    char kb[512], kn[512], tb[32] = "", tn[32] = "";
    cnnk_error err;
    if (!cnnk_bj_cpu_key(base, kb, sizeof kb, &err) || !cnnk_bj_cpu_key(new_, kn, sizeof kn, &err))
        return; /* not cnnk-bench files: nothing to say */
    cnnk_bj_context(base, "cnnk_threads", tb, sizeof tb);
    cnnk_bj_context(new_, "cnnk_threads", tn, sizeof tn);
    if (strcmp(kb, kn) != 0)
        fprintf(stderr, "cnnk compare: warning: BASE ran on '%s', NEW on '%s'\n", kb, kn);
    if (strcmp(tb, tn) != 0)
        fprintf(stderr, "cnnk compare: warning: BASE ran at %s threads, NEW at %s\n", tb, tn);
}

static int compare_two_files(const cmp_opts *o) {
    cnnk_bj_file *f[2] = {NULL, NULL};
    cnnk_error err;
    int rc = CNNK_EXIT_BAD_INPUT;
    for (int k = 0; k < 2; ++k) {
        if (cnnk_bj_read(o->files[k], &f[k], &err) != CNNK_OK) {
            fprintf(stderr, "cnnk compare: %s\n", err.msg);
            goto done;
        }
    }
    warn_identity(f[0], f[1]);
    rc = compare_files(o, f[0], o->files[0], f[1], o->files[1]);
done:
    cnnk_bj_free(f[0]);
    cnnk_bj_free(f[1]);
    return rc;
}

int cnnk_cmd_compare(int argc, char **argv) {
    cmp_opts o = {.alpha = 0.05, .threshold = 0.05};
    int rc = parse_args(argc, argv, &o);
    if (rc == 0) rc = o.db ? compare_db(&o) : compare_two_files(&o);
    if (o.has_filter) regfree(&o.filter);
    return rc;
}
