/* What `cnnk report` draws, read from Google Benchmark JSON (cnnk-bench's
 * results) or from the history database (docs/REPORT.md): every
 * benchmark's repetitions, the machine's ceilings, and for a database the
 * runs in date order. Loaders return CNNK_OK or a status with a message
 * (unreadable, malformed, no benchmarks, another schema). */
#ifndef CNNK_TOOLS_REPORT_DATA_H
#define CNNK_TOOLS_REPORT_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "cnnk/status.h"

#define RPT_NAME_LEN 256

/* One benchmark of one run: the repetitions' times and counters. */
typedef struct rpt_bench {
    char name[RPT_NAME_LEN];   /* run_name without Google Benchmark's /real_time */
    char label[RPT_NAME_LEN];  /* the first repetition's label (layer shape, oneDNN impl) */
    int n, cap;                /* repetitions that ran (errored ones are not kept) */
    double *ms;                /* per pass, in the clock the benchmark was timed by */
    double *flops, *exec_flops;/* rates (FLOP/s): effective, executed; NAN when absent */
    double bytes;              /* compulsory traffic per pass (layer/ rows), NAN when absent */
    int errors;                /* repetitions that errored */
    char error[128];           /* the first error message */
} rpt_bench;

/* One run: its context and benchmarks. */
typedef struct rpt_run {
    char revision[64], date[40], cpu_model[128];
    int threads;
    double peak_gflops[8];     /* cnnk_peak_gflops_<isa> per single core, by ISA name below */
    char peak_isa[8][16];
    int npeaks;
    double bandwidth_gbs;      /* cnnk_mem_bandwidth_gbs, 0 when absent */
    rpt_bench *b;
    int nb, capb;
} rpt_run;

/* Everything a report shows. json: the benchmarks of the JSON files
 * given, merged into one run (a later file's benchmark of the same name
 * replaces an earlier one's); hist: a database's runs in date order. The
 * bar, roofline and winner sections draw rpt_current(): json when files
 * were given, else the database's latest run; the history charts draw
 * hist. */
typedef struct rpt_data {
    rpt_run json;
    bool have_json;
    rpt_run *hist;
    int nhist;
} rpt_data;

/* Merges one cnnk-bench JSON file into d->json. */
cnnk_status rpt_load_json(rpt_data *d, const char *path, cnnk_error *err);
/* Reads every run of a history database (schema user_version 1) into
 * d->hist, in date order. */
cnnk_status rpt_load_db(rpt_data *d, const char *path, cnnk_error *err);
void rpt_free(rpt_data *d);
const rpt_run *rpt_current(const rpt_data *d); /* NULL: nothing loaded */

double rpt_median(const double *v, int n); /* NAN when n == 0; v is not changed */
/* The benchmark called name in run r, or NULL. */
const rpt_bench *rpt_find(const rpt_run *r, const char *name);

#endif
