/* Google Benchmark (Debian's libbenchmark-dev 1.7) behind a C header, so
 * every benchmark of cnnk is written in C. bench/gbench.cc is the one C++
 * file of the project.
 *
 * A benchmark is a name, a callback and user data:
 *
 *     static void bm_conv(cnnk_gb_state *st, void *user) {
 *         struct conv_case *c = user;
 *         while (cnnk_gb_keep_running(st)) c->kernel->run(&c->desc, &c->args);
 *         cnnk_gb_counter(st, "FLOPS", 2.0 * c->macs, CNNK_GB_RATE | CNNK_GB_PER_ITERATION_SUM);
 *     }
 *     cnnk_gb_register("layer/resnet50/conv1/cnnk/avx2/direct", bm_conv, c, free_case);
 *     ...
 *     int run = cnnk_gb_main(&argc, argv, NULL);
 *
 * Google Benchmark's own flags (--benchmark_filter, _repetitions,
 * _min_time, _enable_random_interleaving, _out, _out_format, _format, ...)
 * reach it unchanged through cnnk_gb_main. The list of registered
 * benchmarks and their user data is process-wide (Google Benchmark's own
 * registry is); cnnk_gb_clear() releases both. Not thread-safe: register
 * and run from one thread. */
#ifndef CNNK_BENCH_GBENCH_H
#define CNNK_BENCH_GBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnnk_gb_state cnnk_gb_state;     /* benchmark::State */
typedef struct cnnk_gb_bench cnnk_gb_bench;     /* benchmark::internal::Benchmark */

typedef void (*cnnk_gb_fn)(cnnk_gb_state *st, void *user);

/* Registers a benchmark; the name is copied. destroy (may be NULL) is
 * called on user by cnnk_gb_clear(), once, even if the benchmark never
 * ran. Returns a handle for the per-benchmark settings below, or NULL when
 * out of memory (destroy(user) has then been called already). */
cnnk_gb_bench *cnnk_gb_register(const char *name, cnnk_gb_fn fn, void *user,
                                void (*destroy)(void *user));

/* ---- per-benchmark settings (the command line's flags override the
 * defaults, not these) ------------------------------------------------- */

typedef enum cnnk_gb_unit {
    CNNK_GB_NS = 0,
    CNNK_GB_US,
    CNNK_GB_MS,
    CNNK_GB_S
} cnnk_gb_unit;

void cnnk_gb_set_unit(cnnk_gb_bench *b, cnnk_gb_unit unit);
void cnnk_gb_set_min_time(cnnk_gb_bench *b, double seconds);
void cnnk_gb_set_repetitions(cnnk_gb_bench *b, int n);
/* A fixed iteration count instead of growing it to the minimum time: for a
 * benchmark that pauses most of each iteration, whose timed part would
 * otherwise grow the count without bound. */
void cnnk_gb_set_iterations(cnnk_gb_bench *b, int64_t n);
/* Time by the wall clock rather than the process's CPU time: needed when
 * the work runs on other threads (OpenMP), whose CPU time the main
 * thread's clock would otherwise add up. */
void cnnk_gb_use_real_time(cnnk_gb_bench *b);

/* ---- inside the callback ------------------------------------------------ */

/* The timed loop: while (cnnk_gb_keep_running(st)) { ... }. */
bool cnnk_gb_keep_running(cnnk_gb_state *st);
void cnnk_gb_pause(cnnk_gb_state *st);
void cnnk_gb_resume(cnnk_gb_state *st);
int64_t cnnk_gb_iterations(const cnnk_gb_state *st);

/* Counter flags, Google Benchmark's Counter::Flags:
 *   RATE                value / elapsed seconds (FLOPS, bytes/s)
 *   AVG_THREADS         value / threads
 *   ITERATION_INVARIANT value * iterations (a per-iteration amount)
 *   AVG_ITERATIONS      value / iterations
 * A per-iteration amount shown as a rate (e.g. FLOP per forward pass as
 * FLOP/s) is RATE | ITERATION_INVARIANT. */
enum {
    CNNK_GB_PLAIN = 0,
    CNNK_GB_RATE = 1 << 0,
    CNNK_GB_AVG_THREADS = 1 << 1,
    CNNK_GB_ITERATION_INVARIANT = 1 << 2,
    CNNK_GB_AVG_ITERATIONS = 1 << 3
};
void cnnk_gb_counter(cnnk_gb_state *st, const char *name, double value, unsigned flags);
/* Reads back a counter's raw value (before the flags apply); false when
 * no counter has that name. */
bool cnnk_gb_counter_get(const cnnk_gb_state *st, const char *name, double *value);
void cnnk_gb_label(cnnk_gb_state *st, const char *label);
/* Marks the run as failed with msg (reported in place of its times); the
 * callback should return without entering (or leave) its timed loop:
 * cnnk_gb_keep_running returns false from then on. */
void cnnk_gb_skip(cnnk_gb_state *st, const char *msg);
bool cnnk_gb_skipped(const cnnk_gb_state *st);

/* ---- process-wide -------------------------------------------------------- */

/* A key/value of the run's context (the "context" object of the JSON
 * output, the header of the console output). */
void cnnk_gb_add_context(const char *key, const char *value);

size_t cnnk_gb_count(void);
const char *cnnk_gb_name_at(size_t i); /* NULL past the end */

typedef struct cnnk_gb_options {
    /* Instead of the console table on stdout, one line per benchmark on this
     * stream as it starts and as it ends (NULL: the console table). The
     * --benchmark_out file is written either way. */
    FILE *progress;
} cnnk_gb_options;

/* Passes argv to benchmark::Initialize (which removes the flags it knows),
 * rejects what is left beyond argv[0], runs the benchmarks the filter
 * selects and returns how many ran (0: the filter matched nothing), or -1
 * for unrecognized arguments (reported on stderr). opt may be NULL. Does
 * not clear the registry. */
int cnnk_gb_main(int *argc, char **argv, const cnnk_gb_options *opt);

/* How many of the benchmarks the last cnnk_gb_main ran failed
 * (cnnk_gb_skip in any repetition). */
int cnnk_gb_failed(void);
/* Unregisters everything and calls each destroy(user). */
void cnnk_gb_clear(void);

#ifdef __cplusplus
}
#endif
#endif
