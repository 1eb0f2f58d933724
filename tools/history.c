/* The history database in SQLite (tools/history.h, docs/HISTORY.md). */
#define _DEFAULT_SOURCE /* timegm */
#include "tools/history.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef CNNK_HAVE_SQLITE
#include <sqlite3.h>

/* The schema of docs/HISTORY.md, version CNNK_HISTORY_VERSION. */
static const char k_schema[] =
    "CREATE TABLE IF NOT EXISTS runs (\n"
    "  id         INTEGER PRIMARY KEY,\n"
    "  revision   TEXT NOT NULL,\n"
    "  date       TEXT NOT NULL,\n"
    "  cpu_model  TEXT NOT NULL,\n"
    "  cpu_key    TEXT NOT NULL,\n"
    "  threads    INTEGER NOT NULL,\n"
    "  context    TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS samples (\n"
    "  run_id       INTEGER NOT NULL REFERENCES runs(id),\n"
    "  name         TEXT NOT NULL,\n"
    "  repetition   INTEGER NOT NULL,\n"
    "  real_time_ns REAL,\n"
    "  cpu_time_ns  REAL,\n"
    "  counters     TEXT,\n"
    "  error        TEXT\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS samples_run ON samples(run_id, name);\n"
    "PRAGMA user_version = 1;\n";

struct cnnk_history {
    sqlite3 *db;
    char path[1024];
};

static cnnk_status db_fail(cnnk_history *h, cnnk_error *err, const char *doing) {
    return cnnk_fail(err, CNNK_EIO, "%s: %s: %s", h->path, doing, sqlite3_errmsg(h->db));
}

static cnnk_status exec(cnnk_history *h, const char *sql, const char *doing, cnnk_error *err) {
    return sqlite3_exec(h->db, sql, NULL, NULL, NULL) == SQLITE_OK ? CNNK_OK
                                                                   : db_fail(h, err, doing);
}

static long long single_int(cnnk_history *h, const char *sql, bool *ok) {
    sqlite3_stmt *st = NULL;
    long long v = 0;
    *ok = sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) == SQLITE_OK &&
          sqlite3_step(st) == SQLITE_ROW;
    if (*ok) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A new or empty file gets the schema; a cnnk database of version 1 is
 * used; anything else (another version, another program's tables) is
 * refused rather than written into. */
static cnnk_status check_schema(cnnk_history *h, bool write, cnnk_error *err) {
    bool ok;
    const long long version = single_int(h, "PRAGMA user_version", &ok);
    if (!ok) return cnnk_fail(err, CNNK_EINVAL, "%s: not an SQLite database (%s)", h->path,
                              sqlite3_errmsg(h->db));
    const long long tables = single_int(h, "SELECT count(*) FROM sqlite_master", &ok);
    if (!ok) return db_fail(h, err, "reading the schema");
    if (version == 0 && tables == 0) {
        if (!write)
            return cnnk_fail(err, CNNK_EINVAL, "%s: an empty database: no run recorded "
                             "(cnnk-bench --record=%s records one)", h->path, h->path);
        CNNK_TRY(exec(h, "BEGIN IMMEDIATE", "creating the schema", err));
        if (exec(h, k_schema, "creating the schema", err) != CNNK_OK ||
            exec(h, "COMMIT", "creating the schema", err) != CNNK_OK) {
            sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
            return CNNK_EIO;
        }
        return CNNK_OK;
    }
    if (version != CNNK_HISTORY_VERSION)
        return cnnk_fail(err, CNNK_EINVAL,
                         "%s: schema version %lld (PRAGMA user_version), this build reads version %d%s",
                         h->path, version, CNNK_HISTORY_VERSION,
                         version == 0 ? ": not a cnnk history database" : "");
    const long long ours = single_int(
        h, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'samples')",
        &ok);
    if (!ok || ours != 2)
        return cnnk_fail(err, CNNK_EINVAL, "%s: version %d but without the runs and samples tables",
                         h->path, CNNK_HISTORY_VERSION);
    return CNNK_OK;
}

cnnk_status cnnk_history_open(const char *path, bool write, cnnk_history **out, cnnk_error *err) {
    *out = NULL;
    cnnk_history *h = calloc(1, sizeof *h);
    if (!h) return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", path);
    snprintf(h->path, sizeof h->path, "%s", path);
    const int flags = write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
        cnnk_fail(err, CNNK_EIO, "%s: cannot open the database: %s", path,
                  h->db ? sqlite3_errmsg(h->db) : "out of memory");
        cnnk_history_close(h);
        return CNNK_EIO;
    }
    /* Another writer (a second CI job on the machine) holds the lock for
     * one transaction at most: wait for it rather than fail. */
    sqlite3_busy_timeout(h->db, 10000);
    cnnk_status s = check_schema(h, write, err);
    if (s != CNNK_OK) {
        cnnk_history_close(h);
        return s;
    }
    *out = h;
    return CNNK_OK;
}

void cnnk_history_close(cnnk_history *h) {
    if (!h) return;
    sqlite3_close(h->db);
    free(h);
}

/* Google Benchmark's context date ("2026-11-30T21:05:00+01:00", local
 * time with its offset) as ISO 8601 UTC; now when it is absent or
 * unreadable. */
static void utc_date(const cnnk_bj_file *f, char *buf, size_t len) {
    char d[64];
    struct tm tm = {0};
    int y, mo, da, ho, mi, se, n = 0;
    time_t t = time(NULL);
    if (cnnk_bj_context(f, "date", d, sizeof d) &&
        sscanf(d, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &da, &ho, &mi, &se, &n) == 6) {
        tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = da;
        tm.tm_hour = ho, tm.tm_min = mi, tm.tm_sec = se;
        long off = 0;
        int oh, om;
        const char *z = d + n;
        if ((z[0] == '+' || z[0] == '-') && sscanf(z + 1, "%d:%d", &oh, &om) == 2)
            off = (z[0] == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
        t = timegm(&tm) - off;
    }
    struct tm u;
    gmtime_r(&t, &u);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &u);
}

static bool bind_text(sqlite3_stmt *st, int i, const char *v) {
    return (v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i)) ==
           SQLITE_OK;
}

static bool bind_real(sqlite3_stmt *st, int i, double v) {
    return (isfinite(v) ? sqlite3_bind_double(st, i, v) : sqlite3_bind_null(st, i)) == SQLITE_OK;
}

static cnnk_status insert_run(cnnk_history *h, const cnnk_bj_file *f,
                              const cnnk_history_run *id, long long *run_id, cnnk_error *err) {
    char date[32], model[256];
    utc_date(f, date, sizeof date);
    if (!cnnk_bj_context(f, "cnnk_cpu_model", model, sizeof model)) snprintf(model, sizeof model, "unknown");
    sqlite3_stmt *st = NULL;
    const bool ok =
        sqlite3_prepare_v2(h->db,
                           "INSERT INTO runs (revision, date, cpu_model, cpu_key, threads, context) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL) == SQLITE_OK &&
        bind_text(st, 1, id->revision) && bind_text(st, 2, date) && bind_text(st, 3, model) &&
        bind_text(st, 4, id->cpu_key) && sqlite3_bind_int64(st, 5, id->threads) == SQLITE_OK &&
        bind_text(st, 6, f->context) && sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!ok) return db_fail(h, err, "recording the run");
    *run_id = sqlite3_last_insert_rowid(h->db);
    return CNNK_OK;
}

static cnnk_status insert_samples(cnnk_history *h, const cnnk_bj_file *f, long long run_id,
                                  cnnk_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db,
                           "INSERT INTO samples (run_id, name, repetition, real_time_ns, "
                           "cpu_time_ns, counters, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(h, err, "recording the samples");
    bool ok = true;
    for (size_t i = 0; i < f->n && ok; ++i) {
        for (size_t k = 0; k < f->b[i].n && ok; ++k) {
            const cnnk_bj_sample *s = &f->b[i].s[k];
            ok = sqlite3_reset(st) == SQLITE_OK && sqlite3_bind_int64(st, 1, run_id) == SQLITE_OK &&
                 bind_text(st, 2, f->b[i].name) && sqlite3_bind_int(st, 3, s->rep) == SQLITE_OK &&
                 bind_real(st, 4, s->error ? NAN : s->real_ns) &&
                 bind_real(st, 5, s->error ? NAN : s->cpu_ns) && bind_text(st, 6, s->counters) &&
                 bind_text(st, 7, s->error) && sqlite3_step(st) == SQLITE_DONE;
        }
    }
    cnnk_status s = ok ? CNNK_OK : db_fail(h, err, "recording the samples");
    sqlite3_finalize(st);
    return s;
}

cnnk_status cnnk_history_record(cnnk_history *h, const cnnk_bj_file *f, long long *run_id,
                                cnnk_error *err) {
    cnnk_history_run id;
    if (!cnnk_history_identity(f, &id, err)) return CNNK_EINVAL;
    CNNK_TRY(exec(h, "BEGIN IMMEDIATE", "starting the transaction", err));
    cnnk_status s = insert_run(h, f, &id, run_id, err);
    if (s == CNNK_OK) s = insert_samples(h, f, *run_id, err);
    if (s == CNNK_OK) s = exec(h, "COMMIT", "committing the run", err);
    if (s != CNNK_OK) sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    return s;
}

/* What the database holds, for a "no baseline" message: one line per CPU
 * and thread count with its revisions. */
static void list_runs(cnnk_history *h, char *buf, size_t len) {
    sqlite3_stmt *st = NULL;
    size_t used = 0;
    buf[0] = '\0';
    if (sqlite3_prepare_v2(h->db,
                           "SELECT cpu_key, threads, group_concat(DISTINCT revision) FROM runs "
                           "GROUP BY cpu_key, threads ORDER BY cpu_key, threads", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW && used + 1 < len) {
        const int m = snprintf(buf + used, len - used, "; CPU '%s' at %lld threads: revisions %s",
                               (const char *)sqlite3_column_text(st, 0),
                               (long long)sqlite3_column_int64(st, 1),
                               (const char *)sqlite3_column_text(st, 2));
        if (m < 0) break;
        used += (size_t)m < len - used ? (size_t)m : len - used - 1;
    }
    sqlite3_finalize(st);
    if (!buf[0]) snprintf(buf, len, "; the database holds no run");
}

cnnk_status cnnk_history_baseline(cnnk_history *h, const char *rev, const char *cpu_key,
                                  long long threads, long long exclude, long long *run_id,
                                  cnnk_error *err) {
    /* A short revision names its full one and the other way round, as git
     * abbreviates (cnnk-bench records `git rev-parse --short`). */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db,
                           "SELECT id, revision FROM runs WHERE cpu_key = ?2 AND threads = ?3 AND id != ?4 AND "
                           "(revision = ?1 OR (length(?1) >= 4 AND substr(revision, 1, length(?1)) = ?1) "
                           "OR (length(revision) >= 7 AND substr(?1, 1, length(revision)) = revision)) "
                           "ORDER BY id DESC", -1, &st, NULL) != SQLITE_OK ||
        !bind_text(st, 1, rev) || !bind_text(st, 2, cpu_key) ||
        sqlite3_bind_int64(st, 3, threads) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, exclude) != SQLITE_OK) {
        sqlite3_finalize(st);
        return db_fail(h, err, "finding the baseline");
    }
    char first[128] = "";
    int rc;
    bool ambiguous = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 1);
        if (!first[0]) {
            *run_id = sqlite3_column_int64(st, 0);
            snprintf(first, sizeof first, "%s", r);
        } else if (strcmp(first, r) != 0) {
            ambiguous = true;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_fail(h, err, "finding the baseline");
    if (ambiguous)
        return cnnk_fail(err, CNNK_EINVAL, "%s: revision '%s' names more than one recorded "
                         "revision on this CPU; give more of it", h->path, rev);
    if (!first[0]) {
        char have[CNNK_ERROR_MSG_LEN];
        list_runs(h, have, sizeof have);
        return cnnk_fail(err, CNNK_EINVAL, "%s: no baseline run of revision '%s' on CPU '%s' at "
                         "%lld threads%s", h->path, rev, cpu_key, threads, have);
    }
    return CNNK_OK;
}

cnnk_status cnnk_history_latest(cnnk_history *h, long long *run_id, cnnk_error *err) {
    bool ok;
    const long long n = single_int(h, "SELECT count(*) FROM runs", &ok);
    if (!ok) return db_fail(h, err, "reading the runs");
    if (n == 0) return cnnk_fail(err, CNNK_EINVAL, "%s: the database holds no run", h->path);
    *run_id = single_int(h, "SELECT max(id) FROM runs", &ok);
    return ok ? CNNK_OK : db_fail(h, err, "reading the runs");
}

static char *col_dup(sqlite3_stmt *st, int i) {
    if (sqlite3_column_type(st, i) == SQLITE_NULL) return NULL;
    const char *t = (const char *)sqlite3_column_text(st, i);
    const size_t n = t ? strlen(t) + 1 : 0;
    char *d = n ? malloc(n) : NULL;
    return d ? memcpy(d, t, n) : NULL;
}

static cnnk_status load_info(cnnk_history *h, long long run_id, cnnk_history_run *info,
                             char **context, cnnk_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db, "SELECT revision, cpu_key, threads, date, context FROM runs "
                                  "WHERE id = ?1", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
        sqlite3_finalize(st);
        return db_fail(h, err, "reading the run");
    }
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return cnnk_fail(err, CNNK_EINVAL, "%s: no run with id %lld", h->path, run_id);
    }
    snprintf(info->revision, sizeof info->revision, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(info->cpu_key, sizeof info->cpu_key, "%s", (const char *)sqlite3_column_text(st, 1));
    info->threads = sqlite3_column_int64(st, 2);
    snprintf(info->date, sizeof info->date, "%s", (const char *)sqlite3_column_text(st, 3));
    *context = col_dup(st, 4);
    sqlite3_finalize(st);
    return CNNK_OK;
}

cnnk_status cnnk_history_load(cnnk_history *h, long long run_id, cnnk_bj_file **out,
                              cnnk_history_run *info, cnnk_error *err) {
    *out = NULL;
    char *context = NULL;
    CNNK_TRY(load_info(h, run_id, info, &context, err));
    cnnk_bj_file *f = cnnk_bj_new(context);
    free(context);
    if (!f) return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", h->path);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db, "SELECT name, repetition, real_time_ns, cpu_time_ns, counters, "
                                  "error FROM samples WHERE run_id = ?1 ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
        sqlite3_finalize(st);
        cnnk_bj_free(f);
        return db_fail(h, err, "reading the samples");
    }
    int rc;
    bool ok = true;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        cnnk_bj_sample s = {
            .rep = sqlite3_column_int(st, 1),
            .real_ns = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2),
            .cpu_ns = sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3),
            .counters = col_dup(st, 4),
            .error = col_dup(st, 5)};
        /* A row without a time and without an error cannot be compared:
         * it stays an error, never a zero. */
        if (!s.error && (!isfinite(s.real_ns) || !isfinite(s.cpu_ns))) {
            const char msg[] = "no time recorded";
            s.error = malloc(sizeof msg);
            if (s.error) memcpy(s.error, msg, sizeof msg);
        }
        ok = name && cnnk_bj_add(f, name, &s);
    }
    sqlite3_finalize(st);
    if (!ok || rc != SQLITE_DONE) {
        cnnk_bj_free(f);
        return ok ? db_fail(h, err, "reading the samples")
                  : cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", h->path);
    }
    *out = f;
    return CNNK_OK;
}

#else /* no SQLite in this build */

struct cnnk_history {
    int unused;
};

static cnnk_status no_sqlite(cnnk_error *err) {
    return cnnk_fail(err, CNNK_EUNSUPPORTED,
                     "this build has no SQLite (libsqlite3-dev): the history database is unavailable");
}

cnnk_status cnnk_history_open(const char *path, bool write, cnnk_history **h, cnnk_error *err) {
    (void)path, (void)write;
    *h = NULL;
    return no_sqlite(err);
}
void cnnk_history_close(cnnk_history *h) { (void)h; }
cnnk_status cnnk_history_record(cnnk_history *h, const cnnk_bj_file *f, long long *run_id,
                                cnnk_error *err) {
    (void)h, (void)f, (void)run_id;
    return no_sqlite(err);
}
cnnk_status cnnk_history_baseline(cnnk_history *h, const char *rev, const char *cpu_key,
                                  long long threads, long long exclude, long long *run_id,
                                  cnnk_error *err) {
    (void)h, (void)rev, (void)cpu_key, (void)threads, (void)exclude, (void)run_id;
    return no_sqlite(err);
}
cnnk_status cnnk_history_latest(cnnk_history *h, long long *run_id, cnnk_error *err) {
    (void)h, (void)run_id;
    return no_sqlite(err);
}
cnnk_status cnnk_history_load(cnnk_history *h, long long run_id, cnnk_bj_file **out,
                              cnnk_history_run *info, cnnk_error *err) {
    (void)h, (void)run_id, (void)info;
    *out = NULL;
    return no_sqlite(err);
}
#endif

bool cnnk_history_identity(const cnnk_bj_file *f, cnnk_history_run *info, cnnk_error *err) {
    memset(info, 0, sizeof *info);
    if (!cnnk_bj_context(f, "git_revision", info->revision, sizeof info->revision) ||
        !info->revision[0])
        snprintf(info->revision, sizeof info->revision, "unknown");
    if (!cnnk_bj_cpu_key(f, info->cpu_key, sizeof info->cpu_key, err)) return false;
    char t[32];
    char *end = NULL;
    if (!cnnk_bj_context(f, "cnnk_threads", t, sizeof t) ||
        (info->threads = strtoll(t, &end, 10)) < 1 || *end) {
        cnnk_fail(err, CNNK_EPARSE, "the context has no cnnk_threads (not a cnnk-bench run)");
        return false;
    }
    return true;
}
