/* Tuning: time every applicable convolution kernel of an ISA on each
 * distinct layer shape of some networks, keep the fastest, and store the
 * choice in a small JSON file keyed by the CPU (docs/TUNING.md). The plan
 * `tuned:<file>` (cnnk/runner.h) reads it back.
 *
 * A layer shape is its checked convolution descriptor written as a
 * benchdnn problem without the name (cnnk_tune_key), e.g.
 * "g1mb1ic64ih56iw56oc64oh56ow56kh3kw3sh1sw1ph1pw1". The fused epilogue
 * (bias, residual, ReLU) is not part of the key: it costs the same per
 * output element whatever the kernel. */
#ifndef CNNK_TUNE_H
#define CNNK_TUNE_H

#include <stdint.h>
#include <stdio.h>

#include "cnnk/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNNK_TUNE_KEY_LEN 160
#define CNNK_TUNE_MAX_CANDIDATES 16

/* The machine a table was measured on; model, ISA and cache sizes must
 * match the running CPU for the table to load (threads is a record only). */
typedef struct cnnk_tune_cpu {
    char model[128];
    cnnk_isa isa;
    int64_t l1d, l2, l3;
    int threads;
} cnnk_tune_cpu;

typedef struct cnnk_tune_entry {
    char shape[CNNK_TUNE_KEY_LEN];
    const cnnk_conv_kernel *kernel; /* the fastest */
    double ms;                      /* its median time */
    int ncand;                      /* every kernel timed, the fastest included */
    const cnnk_conv_kernel *cand[CNNK_TUNE_MAX_CANDIDATES];
    double cand_ms[CNNK_TUNE_MAX_CANDIDATES];
} cnnk_tune_entry;

typedef struct cnnk_tune_table {
    cnnk_tune_cpu cpu;
    int n, cap;
    cnnk_tune_entry *e;
} cnnk_tune_table;

typedef struct cnnk_tune_opts {
    const char *const *nets; /* network names (cnnk_net_build) */
    int nnets;
    cnnk_isa isa;
    int64_t mb, h, w;        /* batch and input size */
    int nthreads;
    int reps;                /* timed runs per kernel after one warm-up; median kept */
    FILE *log;               /* a table row per shape while tuning; NULL: quiet */
} cnnk_tune_opts;

/* The key of a checked descriptor (its name ignored). */
void cnnk_tune_key(const cnnk_conv_desc *d, char *buf, size_t len);

/* This CPU as a table's key for isa with nthreads. */
void cnnk_tune_this_cpu(cnnk_isa isa, int nthreads, cnnk_tune_cpu *cpu);

/* Times every kernel of o->isa that applies to each distinct convolution
 * shape of o->nets (packing outside the timing) and returns the table.
 * Free it with cnnk_tune_free. */
cnnk_status cnnk_tune_run(const cnnk_tune_opts *o, cnnk_tune_table **out, cnnk_error *err);

/* Writes t as JSON to a temporary file beside path, then renames it over
 * path: a reader never sees half a file. A path that is not a results
 * file (cnnk_outfile_target: a directory, a device, a dangling link, a
 * missing directory, too long) is CNNK_EINVAL; a write that fails,
 * CNNK_EIO. A symbolic link is written through to its regular file. */
cnnk_status cnnk_tune_write(const cnnk_tune_table *t, const char *path, cnnk_error *err);

/* Reads and validates a table: unreadable file CNNK_EIO; not JSON
 * CNNK_EPARSE; a missing or mistyped field, an unknown kernel, a kernel of
 * another ISA than the table's, a duplicate shape, or a CPU other than
 * this one CNNK_EINVAL (the message names the field or both CPUs). */
cnnk_status cnnk_tune_read(const char *path, cnnk_tune_table **out, cnnk_error *err);

/* The kernel recorded for d's shape, or NULL when the shape is not in t. */
const cnnk_conv_kernel *cnnk_tune_lookup(const cnnk_tune_table *t, const cnnk_conv_desc *d);

void cnnk_tune_free(cnnk_tune_table *t);

/* "plans/<isa>-<model, lower case, runs of other characters as '-'>.json" */
void cnnk_tune_default_path(const cnnk_tune_cpu *cpu, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
