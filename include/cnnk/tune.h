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

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cnnk/kernel.h"
#include "cnnk/net.h"
#include "cnnk/runner.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNNK_TUNE_KEY_LEN 160
#define CNNK_TUNE_MAX_CANDIDATES 16

/* The machine a table was measured on, and how. Vendor, model, the ISAs
 * the CPU runs and the cache sizes must match the running CPU for the table
 * to load (unless forced); threads, batch and input size are a record of
 * the tuning run (the batch is also in every shape key). isa is the
 * ceiling: the table's kernels are of that ISA or one below it that the
 * CPU also runs (cnnk_tune_isa_under), e.g. avx2 kernels in an avx512
 * table where they measured faster. */
typedef struct cnnk_tune_cpu {
    char vendor[64];
    char model[128];
    cnnk_isa isa;
    bool runs[CNNK_ISA_COUNT]; /* the ISA flags: which ISAs the CPU runs */
    int64_t l1d, l2, l3;
    int threads;
    int64_t mb, h, w;          /* batch and input size tuned at; 0 = not recorded */
} cnnk_tune_cpu;

/* How a shape's kernel was chosen (docs/TUNING.md, "the rule"). */
typedef enum cnnk_tune_verdict {
    CNNK_TUNE_ONLY = 0,   /* one kernel applies */
    CNNK_TUNE_SEPARATED,  /* faster than every other candidate with confidence */
    CNNK_TUNE_TIE,        /* not separated within the budget: the cheapest to prepare of the
                           * tied; or the heuristic's kernel held against one under the
                           * minimum gain faster (cnnk_tune_hold) */
    CNNK_TUNE_VERDICT_COUNT
} cnnk_tune_verdict;

typedef struct cnnk_tune_entry {
    char shape[CNNK_TUNE_KEY_LEN];
    const cnnk_conv_kernel *kernel; /* the chosen one */
    double ms;                      /* its median time */
    cnnk_tune_verdict verdict;
    int ncand;                      /* every kernel timed, the chosen one included */
    const cnnk_conv_kernel *cand[CNNK_TUNE_MAX_CANDIDATES];
    double cand_ms[CNNK_TUNE_MAX_CANDIDATES];
    bool cand_tied[CNNK_TUNE_MAX_CANDIDATES]; /* still in the race at the end (TIE) */
    bool held; /* the heuristic's kernel, held by the minimum gain (the run's, not in the file) */
} cnnk_tune_entry;

/* A per-network choice that overrides the per-shape one: the whole-network
 * pass measured it faster in that network (its neighbours' cache state and
 * layout), docs/TUNING.md. */
typedef struct cnnk_tune_override {
    char net[32];
    char shape[CNNK_TUNE_KEY_LEN];
    const cnnk_conv_kernel *kernel;
} cnnk_tune_override;

typedef struct cnnk_tune_table {
    cnnk_tune_cpu cpu;
    int n, cap;
    cnnk_tune_entry *e;
    int nover, cap_over;
    cnnk_tune_override *over;
} cnnk_tune_table;

typedef struct cnnk_tune_opts {
    const char *const *nets; /* network names (cnnk_net_build) */
    int nnets;
    cnnk_isa isa;            /* the ceiling: kernels of it and the ISAs below it the CPU runs */
    int64_t mb, h, w;        /* batch and input size */
    int nthreads;
    int reps;                /* the most rounds per shape (the race's budget), >= 3 */
    double alpha;            /* the race's per-look significance; 0: CNNK_TUNE_ALPHA */
    int net_alts;            /* whole-network pass: alternatives tried per network; 0: none */
    int net_reps;            /* forwards per plan in each whole-network comparison */
    FILE *log;               /* progress (a row per shape, a line per network trial); NULL: quiet */
    int64_t cold_bytes;      /* the race's weights rotate through copies of at least this many
                              * bytes in all, so they come from memory as in a network; 0: one
                              * copy, warm in cache (docs/TUNING.md "Warm or cold weights") */
    double min_gain;         /* the heuristic's kernel is held unless the race's pick is at least
                              * this fraction faster than it (cnnk_tune_hold); 0: no minimum */
} cnnk_tune_opts;

/* The race (docs/TUNING.md): one-sided Mann-Whitney U per look. */
#define CNNK_TUNE_ALPHA 0.001
#define CNNK_TUNE_MIN_ROUNDS 6
/* A race not separated in its budget ties the candidates whose median is
 * within this fraction of the best median; the rest lose to the best. */
#define CNNK_TUNE_TIE_MARGIN 0.02
/* The most copies of one candidate's packed weights in the cold race. */
#define CNNK_TUNE_MAX_COPIES 64

/* Whether kernels of isa may be in a table whose ceiling is `ceiling`:
 * the ceiling itself, and AVX2 under AVX-512 (a CPU that runs AVX-512
 * runs AVX2). */
bool cnnk_tune_isa_under(cnnk_isa ceiling, cnnk_isa isa);

/* The one-sided Mann-Whitney U test that x is stochastically smaller than
 * y (normal approximation with the tie correction): its p-value. */
double cnnk_tune_mwu_less(const double *x, int nx, const double *y, int ny);

/* The race over synthetic samples: sample(c, round, ctx) gives candidate
 * c's next time. Returns the index chosen and fills verdict, tied[] (the
 * candidates never dropped and, for a tie, within CNNK_TUNE_TIE_MARGIN of
 * the best median) and median[]; cost[c] breaks a tie (smallest wins,
 * then the smaller median). For the tests of the rule, and the tuner's
 * own core. rounds is the budget (>= CNNK_TUNE_MIN_ROUNDS). */
typedef double (*cnnk_tune_sampler)(int cand, int round, void *ctx);
int cnnk_tune_race(int ncand, const double *cost, int rounds, double alpha,
                   cnnk_tune_sampler sample, void *ctx, cnnk_tune_verdict *verdict, bool *tied,
                   double *median);

/* The minimum gain (docs/TUNING.md "The minimum gain"): the heuristic's
 * kernel is candidate h (-1: not a candidate) and the race picked `pick`.
 * A pick other than h stands only when its median is at least min_gain
 * (a fraction) below h's; else h is held: the verdict becomes a tie, with
 * h and the race's pick both tied (the pick stays the whole-network
 * pass's alternative). Returns the kernel chosen (pick or h). */
int cnnk_tune_hold(int ncand, int pick, int h, double min_gain, const double *median,
                   cnnk_tune_verdict *verdict, bool *tied);
/* The command's default minimum gain (cnnk tune --min-gain). */
#define CNNK_TUNE_MIN_GAIN 0.03

/* The key of a checked descriptor (its name ignored). */
void cnnk_tune_key(const cnnk_conv_desc *d, char *buf, size_t len);

/* This CPU as a table's key for isa with nthreads (batch and input 0). */
void cnnk_tune_this_cpu(cnnk_isa isa, int nthreads, cnnk_tune_cpu *cpu);

/* Races every kernel of o->isa and the ISAs under it that applies to each
 * distinct convolution shape of o->nets (packing outside the timing), then,
 * with o->net_alts, tries tied alternatives in whole forwards of each
 * network; returns the table. Free it with cnnk_tune_free. */
cnnk_status cnnk_tune_run(const cnnk_tune_opts *o, cnnk_tune_table **out, cnnk_error *err);

/* Writes t as JSON to a temporary file beside path, then renames it over
 * path: a reader never sees half a file. A path that is not a results
 * file (cnnk_outfile_target: a directory, a device, a dangling link, a
 * missing directory, too long) is CNNK_EINVAL; a write that fails,
 * CNNK_EIO. A symbolic link is written through to its regular file. */
cnnk_status cnnk_tune_write(const cnnk_tune_table *t, const char *path, cnnk_error *err);

/* Reads and validates a table: unreadable file CNNK_EIO; not JSON
 * CNNK_EPARSE; a missing or mistyped field, an unknown kernel, a kernel of
 * an ISA not under the table's, a duplicate shape, or a CPU other than
 * this one CNNK_EINVAL (the message names the field, or what differs
 * between the CPUs). With force, another CPU's table is read (its kernels
 * must still be ones this CPU runs). */
cnnk_status cnnk_tune_read(const char *path, bool force, cnnk_tune_table **out, cnnk_error *err);

/* What differs between a table's CPU and this one ("" when nothing). */
void cnnk_tune_cpu_diff(const cnnk_tune_cpu *c, char *buf, size_t len);

/* The kernel recorded for d's shape in network net (its override, else
 * the per-shape choice; net may be NULL), or NULL when the shape is not in t. */
const cnnk_conv_kernel *cnnk_tune_lookup(const cnnk_tune_table *t, const char *net,
                                         const cnnk_conv_desc *d);

/* A deep copy (NULL when out of memory). */
cnnk_tune_table *cnnk_tune_copy(const cnnk_tune_table *t);

/* Adds or replaces net's override for shape. */
cnnk_status cnnk_tune_set_override(cnnk_tune_table *t, const char *net, const char *shape,
                                   const cnnk_conv_kernel *k, cnnk_error *err);

void cnnk_tune_free(cnnk_tune_table *t);

/* The one-sided Wilcoxon signed-rank test that the paired differences
 * d[0..n) are shifted below 0: its exact p-value under the null (each
 * sign equally likely, ranks of |d| with ties averaged; zeros dropped).
 * n up to CNNK_TUNE_SIGNED_RANK_MAX; 1.0 when no nonzero d is left. */
#define CNNK_TUNE_SIGNED_RANK_MAX 64
double cnnk_tune_signed_rank_less(const double *d, int n);

/* Two plans on one network, timed in blocks (docs/TUNING.md "The duel"):
 * each block prepares both plans afresh after a touched gap of random
 * size, warms each with one forward and times ABBA-alternated forwards
 * (which plan is prepared first and which leads: each combination once per
 * four blocks, in random order); the plans are
 * compared on the blocks' paired log ratios of medians with the signed-rank
 * test, so that where a plan's buffers happened to land (page colours,
 * relative offsets: a fixed effect per preparation, measured at up to 6%
 * between two preparations of the same kernels) is part of the noise, not
 * a difference. The network's weights and input are the tuner's. Result:
 * the medians of every forward, the one-sided p-values that each plan is
 * faster, and how many convolution steps run another kernel. */
typedef struct cnnk_tune_duel_result {
    double ms_a, ms_b;
    double p_a_faster, p_b_faster;
    int nconv, differ, reps; /* reps: forwards per plan in all */
    int blocks;
} cnnk_tune_duel_result;

/* reps forwards per plan are taken in cnnk_tune_duel_blocks(reps) blocks
 * (8 from 16 forwards up: the signed-rank test's smallest one-sided p is
 * then 1/256) of ceil(reps / blocks) forwards. */
int cnnk_tune_duel_blocks(int reps);

#define CNNK_TUNE_NET_ALPHA 0.05

/* net must have weights (cnnk_net_init_weights). */
cnnk_status cnnk_tune_duel(const cnnk_net *net, cnnk_isa isa, int nthreads, const cnnk_plan *a,
                           const cnnk_plan *b, int reps, cnnk_tune_duel_result *res,
                           cnnk_error *err);

/* "plans/<isa>-<model, lower case, runs of other characters as '-'>.json" */
void cnnk_tune_default_path(const cnnk_tune_cpu *cpu, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
