/* The reader of Google Benchmark's JSON output (what cnnk-bench writes with
 * --benchmark_out=FILE, and --main's results file), for `cnnk compare` and
 * `cnnk-bench --record`. Only per-repetition rows (run_type "iteration")
 * are kept, grouped by run_name; aggregates (mean, median, stddev, cv) are
 * recomputed by whoever needs them. Times are converted to nanoseconds
 * from each row's time_unit. Fuzzed by fuzz/fuzz_compare.c. */
#ifndef CNNK_CORE_BENCHJSON_H
#define CNNK_CORE_BENCHJSON_H

#include <stdbool.h>
#include <stddef.h>

#include "cnnk/status.h"

typedef struct cnnk_bj_sample {
    int rep;          /* repetition_index, >= 0 */
    double real_ns;   /* NAN when the repetition errored */
    double cpu_ns;
    char *counters;   /* JSON object text of the user counters ("{}" when none) */
    char *error;      /* error_message when error_occurred, else NULL */
} cnnk_bj_sample;

typedef struct cnnk_bj_bench {
    char *name;            /* run_name */
    size_t n;              /* samples, in file order */
    cnnk_bj_sample *s;
    size_t nerr;           /* samples with an error */
    size_t cap;
} cnnk_bj_bench;

typedef struct cnnk_bj_file {
    size_t n;              /* benchmarks, in order of first appearance */
    cnnk_bj_bench *b;
    size_t cap;
    char *context;         /* the "context" object as JSON text ("{}" when absent) */
    size_t aggregates;     /* aggregate rows skipped */
} cnnk_bj_file;

/* Parses len bytes of text (not necessarily terminated); what names the
 * input in messages. CNNK_EPARSE with the field (`benchmarks[3].real_time`)
 * on text that is not JSON, has no "benchmarks" array, a field of the
 * wrong type, an unknown time_unit, a negative or non-finite time, or a
 * repetition listed twice. *out is NULL unless CNNK_OK. */
cnnk_status cnnk_bj_parse(const char *text, size_t len, const char *what, cnnk_bj_file **out,
                          cnnk_error *err);
/* The same from a file (CNNK_EIO with the system's reason when unreadable). */
cnnk_status cnnk_bj_read(const char *path, cnnk_bj_file **out, cnnk_error *err);
void cnnk_bj_free(cnnk_bj_file *f);

/* An empty file to fill with cnnk_bj_add (the history database's reader);
 * NULL when out of memory. */
cnnk_bj_file *cnnk_bj_new(const char *context);
/* Appends sample s to the benchmark named name (created when new); f takes
 * s->counters and s->error (malloc'd or NULL) in any case. false when out
 * of memory. */
bool cnnk_bj_add(cnnk_bj_file *f, const char *name, cnnk_bj_sample *s);

/* The benchmark named name, or NULL. */
const cnnk_bj_bench *cnnk_bj_find(const cnnk_bj_file *f, const char *name);

/* A context value as text (numbers printed as integers when whole), or
 * NULL when absent: the context is cnnk-bench's (bench/context.c). */
bool cnnk_bj_context(const cnnk_bj_file *f, const char *key, char *buf, size_t len);

/* The CPU identity baselines are matched on, from the context:
 * "cnnk_cpu_model|cnnk_isa_detected|cnnk_l1d_bytes|cnnk_l2_bytes|cnnk_l3_bytes".
 * false (with the missing key in err) for a file without cnnk's context. */
bool cnnk_bj_cpu_key(const cnnk_bj_file *f, char *buf, size_t len, cnnk_error *err);

#endif
