/* `cnnk report`'s input: cnnk-bench's Google Benchmark JSON (cJSON) and
 * the history database (SQLite, read only; the schema is in
 * docs/REPORT.md and belongs to `cnnk-bench --record`). */
#define _POSIX_C_SOURCE 200809L
#include "tools/report_data.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#ifdef CNNK_HAVE_SQLITE
#include <sqlite3.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gbjson.h"

/* ---- runs and benchmarks ---------------------------------------------------- */

static void run_free(rpt_run *r) {
    for (int i = 0; i < r->nb; ++i) {
        free(r->b[i].ms);
        free(r->b[i].flops);
        free(r->b[i].exec_flops);
    }
    free(r->b);
    memset(r, 0, sizeof *r);
}

void rpt_free(rpt_data *d) {
    run_free(&d->json);
    for (int i = 0; i < d->nhist; ++i) run_free(&d->hist[i]);
    free(d->hist);
    memset(d, 0, sizeof *d);
}

const rpt_run *rpt_current(const rpt_data *d) {
    if (d->have_json) return &d->json;
    return d->nhist > 0 ? &d->hist[d->nhist - 1] : NULL;
}

const rpt_bench *rpt_find(const rpt_run *r, const char *name) {
    for (int i = 0; i < r->nb; ++i)
        if (strcmp(r->b[i].name, name) == 0) return &r->b[i];
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double rpt_median(const double *v, int n) {
    double *s = n > 0 ? malloc((size_t)n * sizeof *s) : NULL;
    int k = 0;
    for (int i = 0; s && i < n; ++i)
        if (!isnan(v[i])) s[k++] = v[i];
    double m = NAN;
    if (k > 0) {
        qsort(s, (size_t)k, sizeof *s, cmp_double);
        m = k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
    }
    free(s);
    return m;
}

/* The benchmark called name, created empty when absent; NULL: no memory. */
static rpt_bench *bench_of(rpt_run *r, const char *name) {
    for (int i = 0; i < r->nb; ++i)
        if (strcmp(r->b[i].name, name) == 0) return &r->b[i];
    if (r->nb == r->capb) {
        int cap = r->capb ? 2 * r->capb : 64;
        rpt_bench *b = realloc(r->b, (size_t)cap * sizeof *b);
        if (!b) return NULL;
        r->b = b;
        r->capb = cap;
    }
    rpt_bench *b = &r->b[r->nb++];
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", name);
    b->bytes = NAN;
    return b;
}

static bool add_sample(rpt_bench *b, double ms, double flops, double exec_flops) {
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 8;
        double *m = realloc(b->ms, (size_t)cap * sizeof *m);
        if (!m) return false;
        b->ms = m;
        double *f = realloc(b->flops, (size_t)cap * sizeof *f);
        if (!f) return false;
        b->flops = f;
        double *e = realloc(b->exec_flops, (size_t)cap * sizeof *e);
        if (!e) return false;
        b->exec_flops = e;
        b->cap = cap;
    }
    b->ms[b->n] = ms;
    b->flops[b->n] = flops;
    b->exec_flops[b->n] = exec_flops;
    b->n++;
    return true;
}

/* Google Benchmark appends /real_time to a benchmark timed by the wall
 * clock; the report names benchmarks as cnnk-bench registers them. The
 * result says which clock to read. */
static bool strip_real_time(char *name) {
    static const char suffix[] = "/real_time";
    size_t n = strlen(name), s = sizeof suffix - 1;
    if (n < s || strcmp(name + n - s, suffix) != 0) return false;
    name[n - s] = '\0';
    return true;
}

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Context values are strings in Google Benchmark's JSON (cnnk-bench adds
 * them with AddCustomContext); a number is taken as well. */
static double ctx_num(const cJSON *ctx, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx, key);
    if (cJSON_IsNumber(v)) return v->valuedouble;
    if (!cJSON_IsString(v)) return NAN;
    char *end;
    double x = strtod(v->valuestring, &end);
    return end != v->valuestring ? x : NAN;
}

static void ctx_str(const cJSON *ctx, const char *key, char *buf, size_t len) {
    const char *s = str(ctx, key);
    if (s && !buf[0]) snprintf(buf, len, "%s", s);
}

/* The machine and the run from a context object; a value already set (an
 * earlier file's) is kept. */
static void read_context(rpt_run *r, const cJSON *ctx) {
    if (!cJSON_IsObject(ctx)) return;
    ctx_str(ctx, "git_revision", r->revision, sizeof r->revision);
    ctx_str(ctx, "date", r->date, sizeof r->date);
    ctx_str(ctx, "cnnk_cpu_model", r->cpu_model, sizeof r->cpu_model);
    double t = ctx_num(ctx, "cnnk_threads");
    if (r->threads <= 0) r->threads = isnan(t) || t < 1 ? 1 : (int)t;
    double bw = ctx_num(ctx, "cnnk_mem_bandwidth_gbs");
    if (r->bandwidth_gbs <= 0.0 && !isnan(bw)) r->bandwidth_gbs = bw;
    static const char prefix[] = "cnnk_peak_gflops_";
    const cJSON *item;
    cJSON_ArrayForEach(item, ctx) {
        if (!item->string || strncmp(item->string, prefix, sizeof prefix - 1) != 0) continue;
        const char *isa = item->string + sizeof prefix - 1;
        double v = ctx_num(ctx, item->string);
        bool known = false;
        for (int i = 0; i < r->npeaks; ++i) known |= strcmp(r->peak_isa[i], isa) == 0;
        if (known || isnan(v) || v <= 0.0 || r->npeaks == (int)(sizeof r->peak_gflops / sizeof r->peak_gflops[0]))
            continue;
        snprintf(r->peak_isa[r->npeaks], sizeof r->peak_isa[0], "%s", isa);
        r->peak_gflops[r->npeaks++] = v;
    }
}

/* One repetition's time and counters into run r: a repetition object of
 * Google Benchmark's JSON (counters are its extra numeric members), or a
 * database sample (counters in their own object). */
static cnnk_status add_entry(rpt_run *r, const char *run_name, double real_ms, double cpu_ms,
                             const cJSON *counters, const char *label, const char *error,
                             cnnk_error *err) {
    char name[RPT_NAME_LEN];
    snprintf(name, sizeof name, "%s", run_name);
    bool real = strip_real_time(name);
    rpt_bench *b = bench_of(r, name);
    if (!b) return cnnk_fail(err, CNNK_ENOMEM, "report: out of memory");
    if (label && !b->label[0]) snprintf(b->label, sizeof b->label, "%s", label);
    if (error) {
        if (!b->errors++) snprintf(b->error, sizeof b->error, "%s", error);
        return CNNK_OK;
    }
    double bytes = cnnk_gbjson_num(counters, "bytes");
    if (!isnan(bytes)) b->bytes = bytes;
    if (!add_sample(b, real ? real_ms : cpu_ms, cnnk_gbjson_num(counters, "FLOPS"),
                    cnnk_gbjson_num(counters, "exec_FLOPS")))
        return cnnk_fail(err, CNNK_ENOMEM, "report: out of memory");
    return CNNK_OK;
}

/* ---- JSON ------------------------------------------------------------------- */

static char *slurp(const char *path, cnnk_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        cnnk_fail(err, CNNK_EIO, "report: cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 65536;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                cnnk_fail(err, CNNK_ENOMEM, "report: out of memory reading %s", path);
                return NULL;
            }
            buf = p;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    bool bad = ferror(f);
    const int e = errno;
    fclose(f);
    if (bad) {
        free(buf);
        cnnk_fail(err, CNNK_EIO, "report: cannot read %s: %s", path, strerror(e));
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* Repetitions (run_type "iteration") are kept; an aggregate is used only
 * for a benchmark that has no repetition in the file (a run with
 * --benchmark_report_aggregates_only), and then its median alone. */
static bool has_iteration(const cJSON *benchmarks, const char *run_name) {
    const cJSON *b;
    cJSON_ArrayForEach(b, benchmarks) {
        const char *rn = str(b, "run_name"), *rt = str(b, "run_type");
        if (rn && rt && strcmp(rn, run_name) == 0 && strcmp(rt, "iteration") == 0) return true;
    }
    return false;
}

cnnk_status rpt_load_json(rpt_data *d, const char *path, cnnk_error *err) {
    char *raw = slurp(path, err);
    if (!raw) return CNNK_EIO; /* the message says which */
    /* Google Benchmark's NaN (the cv of a counter 0 in every repetition)
     * as null: core/gbjson.h */
    size_t len = 0;
    char *text = cnnk_gbjson_standard(raw, strlen(raw), &len);
    free(raw);
    if (!text) return cnnk_fail(err, CNNK_ENOMEM, "report: out of memory reading %s", path);
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root) return cnnk_fail(err, CNNK_EPARSE, "report: %s is not valid JSON", path);
    const cJSON *benchmarks = cJSON_GetObjectItemCaseSensitive(root, "benchmarks");
    if (!cJSON_IsArray(benchmarks) || cJSON_GetArraySize(benchmarks) == 0) {
        cJSON_Delete(root);
        return cnnk_fail(err, CNNK_EPARSE,
                         "report: %s has no benchmarks (not Google Benchmark JSON from cnnk-bench "
                         "--benchmark_format=json or --benchmark_out?)",
                         path);
    }
    /* A benchmark of this file replaces an earlier file's of that name. */
    rpt_run fresh;
    memset(&fresh, 0, sizeof fresh);
    read_context(&fresh, cJSON_GetObjectItemCaseSensitive(root, "context"));
    cnnk_status s = CNNK_OK;
    const cJSON *b;
    cJSON_ArrayForEach(b, benchmarks) {
        const char *rn = str(b, "run_name"), *rt = str(b, "run_type");
        if (!rn || !rt) {
            s = cnnk_fail(err, CNNK_EPARSE, "report: %s: a benchmark without run_name or run_type",
                          path);
            break;
        }
        bool median = strcmp(rt, "aggregate") == 0 && str(b, "aggregate_name") &&
                      strcmp(str(b, "aggregate_name"), "median") == 0;
        if (strcmp(rt, "iteration") != 0 && !(median && !has_iteration(benchmarks, rn))) continue;
        const char *error = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "error_occurred"))
                                ? (str(b, "error_message") ? str(b, "error_message") : "error")
                                : NULL;
        const char *unit = str(b, "time_unit");
        s = add_entry(&fresh, rn, cnnk_gbjson_ms(cnnk_gbjson_num(b, "real_time"), unit),
                      cnnk_gbjson_ms(cnnk_gbjson_num(b, "cpu_time"), unit), b, str(b, "label"),
                      error, err);
        if (s != CNNK_OK) break;
    }
    cJSON_Delete(root);
    if (s == CNNK_OK && fresh.nb == 0)
        s = cnnk_fail(err, CNNK_EPARSE, "report: %s has no benchmark repetitions", path);
    if (s != CNNK_OK) {
        run_free(&fresh);
        return s;
    }
    if (!d->have_json) {
        d->json = fresh;
        d->have_json = true;
        return CNNK_OK;
    }
    rpt_run *r = &d->json;
    if (fresh.cpu_model[0] && r->cpu_model[0] && strcmp(fresh.cpu_model, r->cpu_model) != 0)
        fprintf(stderr, "cnnk report: warning: %s ran on %s, an earlier file on %s\n", path,
                fresh.cpu_model, r->cpu_model);
    for (int i = 0; i < fresh.nb; ++i) {
        rpt_bench *old = NULL;
        for (int j = 0; j < r->nb && !old; ++j)
            if (strcmp(r->b[j].name, fresh.b[i].name) == 0) old = &r->b[j];
        if (!old) {
            old = bench_of(r, fresh.b[i].name);
            if (!old) {
                run_free(&fresh);
                return cnnk_fail(err, CNNK_ENOMEM, "report: out of memory");
            }
        } else {
            free(old->ms);
            free(old->flops);
            free(old->exec_flops);
        }
        *old = fresh.b[i];
        fresh.b[i].ms = fresh.b[i].flops = fresh.b[i].exec_flops = NULL;
    }
    run_free(&fresh);
    return CNNK_OK;
}

/* ---- the history database -------------------------------------------------- */

#ifndef CNNK_HAVE_SQLITE
cnnk_status rpt_load_db(rpt_data *d, const char *path, cnnk_error *err) {
    (void)d;
    return cnnk_fail(err, CNNK_EUNSUPPORTED, "report: %s: this cnnk was built without SQLite "
                     "(libsqlite3-dev), so --db is not available", path);
}
#else

/* The one schema version this reader knows (PRAGMA user_version). */
enum { RPT_DB_VERSION = 1 };

static cnnk_status db_fail(cnnk_error *err, sqlite3 *db, const char *path, const char *what) {
    cnnk_status s = cnnk_fail(err, CNNK_EPARSE, "report: %s: %s (%s)", path, what,
                              db ? sqlite3_errmsg(db) : "no database");
    sqlite3_close(db);
    return s;
}

static const char *col_text(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static cnnk_status read_samples(sqlite3 *db, sqlite3_stmt *st, rpt_run *r, sqlite3_int64 id,
                                cnnk_error *err) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *counters = NULL;
        if (sqlite3_column_type(st, 3) == SQLITE_TEXT) {
            counters = cJSON_Parse(col_text(st, 3));
            if (!cJSON_IsObject(counters)) {
                cJSON_Delete(counters);
                return cnnk_fail(err, CNNK_EPARSE, "report: run %lld: sample %s: counters are not "
                                 "a JSON object", (long long)id, col_text(st, 0));
            }
        }
        const char *error = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : col_text(st, 4);
        double real = sqlite3_column_type(st, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 1);
        double cpu = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2);
        if (!error && isnan(real) && isnan(cpu)) error = "no time";
        cnnk_status s = add_entry(r, col_text(st, 0), real * 1e-6, cpu * 1e-6, counters, NULL,
                                  error, err);
        cJSON_Delete(counters);
        if (s != CNNK_OK) return s;
    }
    if (rc != SQLITE_DONE)
        return cnnk_fail(err, CNNK_EIO, "report: reading samples: %s", sqlite3_errmsg(db));
    return CNNK_OK;
}

cnnk_status rpt_load_db(rpt_data *d, const char *path, cnnk_error *err) {
    sqlite3 *db = NULL;
    /* Read only, and never created: a mistyped path is an error, not an
     * empty database. */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return db_fail(err, db, path, "cannot open the database");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return db_fail(err, db, path, "not an SQLite database");
    }
    int version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version != RPT_DB_VERSION) {
        sqlite3_close(db);
        return cnnk_fail(err, CNNK_EPARSE,
                         "report: %s has schema version %d (PRAGMA user_version); this cnnk reads "
                         "version %d (docs/REPORT.md)",
                         path, version, RPT_DB_VERSION);
    }
    sqlite3_stmt *runs = NULL, *samples = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, revision, date, cpu_model, threads, context FROM runs "
                           "ORDER BY date, id",
                           -1, &runs, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT name, real_time_ns, cpu_time_ns, counters, error FROM samples "
                           "WHERE run_id = ? ORDER BY name, repetition",
                           -1, &samples, NULL) != SQLITE_OK) {
        sqlite3_finalize(runs);
        return db_fail(err, db, path, "not the history schema (tables runs and samples)");
    }
    cnnk_status s = CNNK_OK;
    int rc = SQLITE_DONE;
    while (s == CNNK_OK && (rc = sqlite3_step(runs)) == SQLITE_ROW) {
        rpt_run *h = realloc(d->hist, (size_t)(d->nhist + 1) * sizeof *h);
        if (!h) {
            s = cnnk_fail(err, CNNK_ENOMEM, "report: out of memory");
            break;
        }
        d->hist = h;
        rpt_run *r = &d->hist[d->nhist++];
        memset(r, 0, sizeof *r);
        snprintf(r->revision, sizeof r->revision, "%s", col_text(runs, 1));
        snprintf(r->date, sizeof r->date, "%s", col_text(runs, 2));
        snprintf(r->cpu_model, sizeof r->cpu_model, "%s", col_text(runs, 3));
        r->threads = sqlite3_column_int(runs, 4);
        cJSON *ctx = cJSON_Parse(col_text(runs, 5));
        read_context(r, ctx);
        cJSON_Delete(ctx);
        s = read_samples(db, samples, r, sqlite3_column_int64(runs, 0), err);
    }
    if (s == CNNK_OK && rc != SQLITE_DONE)
        s = cnnk_fail(err, CNNK_EIO, "report: %s: reading runs: %s", path, sqlite3_errmsg(db));
    sqlite3_finalize(runs);
    sqlite3_finalize(samples);
    sqlite3_close(db);
    if (s == CNNK_OK && d->nhist == 0)
        s = cnnk_fail(err, CNNK_EPARSE, "report: %s holds no runs", path);
    return s;
}
#endif
