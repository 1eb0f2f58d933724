/* Parallel work, written once for every kernel (docs/THREADS.md).
 *
 * A kernel never opens an OpenMP region itself: it describes its work as
 * a job, fn(ctx, t, nt) for every t in [0, nt), and hands it to
 * cnnk_parallel(). Outside a team that opens one OpenMP region for the
 * job, as kernels always did. Inside cnnk_team_run() (the runner's whole
 * forward pass) the job goes to the threads the team already holds: they
 * wait between jobs (spinning briefly, then yielding), so a forward pass
 * enters one parallel region however many layers it has, and each layer
 * costs one dispatch and one join instead of a fork and a join.
 *
 * Every t in [0, nt) is run exactly once whatever number of threads is
 * really there: with fewer threads (a team smaller than nt, a job started
 * from inside a job, a runtime that grants fewer) a thread runs several
 * t in turn. A kernel therefore keeps its per-t workspace slices and its
 * split, and its result does not depend on how many threads ran it. */
#ifndef CNNK_KERNELS_COMMON_TEAM_H
#define CNNK_KERNELS_COMMON_TEAM_H

#include <stdint.h>

/* One part of a job: part t of nt. */
typedef void (*cnnk_job_fn)(void *ctx, int t, int nt);

/* Runs fn(ctx, t, nt) for every t in [0, nt) on up to nt threads and
 * returns when all have returned. nt <= 1 runs fn(ctx, 0, 1) here. */
void cnnk_parallel(int nt, cnnk_job_fn fn, void *ctx);

/* [lo, hi) of n items for part t of nt, contiguous, sizes differing by at
 * most one (the remainder spread over the first parts). */
static inline void cnnk_part_range(int64_t n, int t, int nt, int64_t *lo, int64_t *hi) {
    const int64_t q = n / nt, r = n % nt;
    *lo = (int64_t)t * q + (t < r ? t : r);
    *hi = *lo + q + (t < r ? 1 : 0);
}

/* Items [0, n) split by cnnk_part_range over min(nt, n) parts: fn(ctx, lo,
 * hi, t) once per non-empty part. */
typedef void (*cnnk_range_fn)(void *ctx, int64_t lo, int64_t hi, int t);
void cnnk_parallel_for(int nt, int64_t n, cnnk_range_fn fn, void *ctx);

/* Runs body(ctx) on the calling thread while a team of nt threads is held
 * for it: every cnnk_parallel() that body makes on this thread goes to the
 * team. pus, when not NULL, names nt OS processor indices: thread t of the
 * team is bound to pus[t] (the caller's own thread included; the binding
 * stays after the return, as OMP_PROC_BIND's does). nt <= 1, or a call
 * from inside a team or a job, runs body(ctx) alone. */
void cnnk_team_run(int nt, const int *pus, void (*body)(void *), void *ctx);

/* The scaling model (docs/THREADS.md): while a model is set on a thread,
 * cnnk_parallel() there runs the nt parts of each job one after another,
 * timing each, and cnnk_team_run() holds no team. A job's time at nt
 * threads is then its longest part; the rest of the pass is serial. */
typedef struct cnnk_team_model {
    int64_t jobs;       /* dispatches (each one a join at nt threads) */
    double work_ms;     /* all parts of all jobs */
    double critical_ms; /* the longest part of each job, summed */
} cnnk_team_model;
void cnnk_team_model_set(cnnk_team_model *m); /* NULL: back to normal */

/* Measured cost of one dispatch and join of an empty job in a team of nt
 * threads, in microseconds: the best of several rounds of many jobs (on a
 * shared machine other processes' preemptions only add, and they are not
 * the dispatch's cost). */
double cnnk_team_dispatch_us(int nt);

/* Whether cnnk_team_run holds a team (0: each cnnk_parallel opens its own
 * OpenMP region, the behaviour before teams, for A/B measurement). Read
 * once from the environment variable CNNK_TEAM ("0" or "off" disables). */
int cnnk_team_enabled(void);

#endif
