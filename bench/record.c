/* cnnk-bench --record=DB: the run's Google Benchmark JSON (every
 * repetition and the context) appended to the history database in one
 * transaction (tools/history.h, docs/HISTORY.md). The JSON is the one
 * --benchmark_out names, or a temporary file when none is given. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/benchjson.h"
#include "tools/history.h"

/* The last value of --name=... in argv (Google Benchmark takes the last). */
static const char *last_flag(int argc, char **argv, const char *prefix) {
    const char *v = NULL;
    for (int i = 1; i < argc; ++i)
        if (strncmp(argv[i], prefix, strlen(prefix)) == 0) v = argv[i] + strlen(prefix);
    return v;
}

bool bench_record_begin(bench_record *r, const bench_opts *o, int *argc, char ***argv) {
    memset(r, 0, sizeof *r);
    if (!o->record[0]) return true;
    const char *fmt = last_flag(*argc, *argv, "--benchmark_out_format=");
    if (fmt && strcmp(fmt, "json") != 0) {
        fprintf(stderr, "cnnk-bench: --record reads the JSON output; --benchmark_out_format=%s "
                        "cannot be recorded\n", fmt);
        return false;
    }
    /* The database is opened (and its schema checked or created) before
     * the benchmarks: minutes of measuring are not lost to a bad path. */
    cnnk_error err;
    cnnk_history *h = NULL;
    if (cnnk_history_open(o->record, true, &h, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk-bench: --record: %s\n", err.msg);
        return false;
    }
    cnnk_history_close(h);
    const char *out = o->main_job ? NULL : last_flag(*argc, *argv, "--benchmark_out=");
    if (o->main_job || out) {
        if (out) snprintf(r->json, sizeof r->json, "%s", out);
        return true; /* --main: its results file, known once written */
    }
    const char *dir = getenv("TMPDIR");
    snprintf(r->json, sizeof r->json, "%s/cnnk-bench-record.XXXXXX", dir && dir[0] ? dir : "/tmp");
    const int fd = mkstemp(r->json);
    if (fd < 0) {
        fprintf(stderr, "cnnk-bench: --record: cannot create a temporary file %s\n", r->json);
        return false;
    }
    close(fd);
    r->temporary = true;
    snprintf(r->out_flag, sizeof r->out_flag, "--benchmark_out=%s", r->json);
    r->argv = calloc((size_t)*argc + 3, sizeof *r->argv);
    if (!r->argv) {
        bench_record_end(r);
        return false;
    }
    for (int i = 0; i < *argc; ++i) r->argv[i] = (*argv)[i];
    r->argv[(*argc)++] = r->out_flag;
    r->argv[(*argc)++] = "--benchmark_out_format=json";
    r->argv[*argc] = NULL;
    *argv = r->argv;
    return true;
}

int bench_record_commit(bench_record *r, const bench_opts *o, const char *json) {
    if (!o->record[0]) return 0;
    if (!json) json = r->json;
    cnnk_error err;
    cnnk_bj_file *f = NULL;
    cnnk_history *h = NULL;
    long long id = 0;
    int rc = 0;
    if (cnnk_bj_read(json, &f, &err) != CNNK_OK ||
        cnnk_history_open(o->record, true, &h, &err) != CNNK_OK ||
        cnnk_history_record(h, f, &id, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk-bench: --record: %s; nothing recorded\n", err.msg);
        rc = 2;
    } else {
        size_t samples = 0;
        for (size_t i = 0; i < f->n; ++i) samples += f->b[i].n;
        fprintf(stderr, "cnnk-bench: recorded run %lld in %s: %zu benchmarks, %zu repetitions\n",
                id, o->record, f->n, samples);
    }
    cnnk_history_close(h);
    cnnk_bj_free(f);
    return rc;
}

void bench_record_end(bench_record *r) {
    if (r->temporary) unlink(r->json);
    free(r->argv);
    memset(r, 0, sizeof *r);
}
