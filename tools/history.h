/* The history database (docs/HISTORY.md): every recorded cnnk-bench run,
 * its context and every benchmark's repetitions, in SQLite. Written by
 * `cnnk-bench --record DB` (bench/record.c), read by `cnnk compare --db`
 * and `cnnk report --db`. The schema is fixed and versioned by
 * PRAGMA user_version (CNNK_HISTORY_VERSION); a database of another
 * version is refused. A build without SQLite (the AArch64 cross build
 * when libsqlite3-dev:arm64 is absent) fails every call with a message. */
#ifndef CNNK_TOOLS_HISTORY_H
#define CNNK_TOOLS_HISTORY_H

#include <stdbool.h>

#include "cnnk/status.h"
#include "core/benchjson.h"

#define CNNK_HISTORY_VERSION 1

typedef struct cnnk_history cnnk_history;

/* Opens the database at path: for writing (created with the schema when
 * the file is new or empty), or read-only (it must exist). CNNK_EINVAL for
 * a file that is not a cnnk history database or of another schema
 * version, CNNK_EIO when it cannot be opened. */
cnnk_status cnnk_history_open(const char *path, bool write, cnnk_history **h, cnnk_error *err);
void cnnk_history_close(cnnk_history *h);

/* Appends the run f (context and every per-repetition row) in one
 * transaction: all of it or nothing. *run_id is the new runs.id. */
cnnk_status cnnk_history_record(cnnk_history *h, const cnnk_bj_file *f, long long *run_id,
                                cnnk_error *err);

/* The newest run of revision rev (or a revision it is a prefix of, or
 * that is a prefix of it) on the CPU cpu_key at threads threads, other
 * than the run exclude (the one compared; 0: none). When
 * there is none, CNNK_EINVAL with a message listing the CPUs, threads and
 * revisions the database holds. */
cnnk_status cnnk_history_baseline(cnnk_history *h, const char *rev, const char *cpu_key,
                                  long long threads, long long exclude, long long *run_id,
                                  cnnk_error *err);

/* The newest run (highest id); CNNK_EINVAL when the database is empty. */
cnnk_status cnnk_history_latest(cnnk_history *h, long long *run_id, cnnk_error *err);

/* A stored run as a benchmark file (its samples in recorded order), with
 * its revision, cpu_key and threads. */
typedef struct cnnk_history_run {
    char revision[128];
    char cpu_key[512];
    long long threads;
    char date[32];
} cnnk_history_run;
cnnk_status cnnk_history_load(cnnk_history *h, long long run_id, cnnk_bj_file **out,
                              cnnk_history_run *info, cnnk_error *err);

/* Revision, cpu_key and threads as recorded for a benchmark file: the
 * context's git_revision ("unknown" when absent), cnnk_bj_cpu_key and
 * cnnk_threads. false (with err) for a file without cnnk's context. */
bool cnnk_history_identity(const cnnk_bj_file *f, cnnk_history_run *info, cnnk_error *err);

#endif
