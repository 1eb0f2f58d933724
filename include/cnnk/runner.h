/* The runner: prepares a network once (plan, fusion, packing, memory) and
 * runs forward passes that allocate nothing.
 *
 * prepare:
 *   - validates every layer; picks one kernel per layer through a plan
 *     (ref: the reference direct definition everywhere; heuristic; fixed:<algo>,
 *     which falls back to the next applicable strategy and says so;
 *     tuned:<file>, the kernel `cnnk tune` measured fastest per layer shape);
 *     layers without a kernel in the chosen ISA fall back to the reference
 *     and the step records it;
 *   - folds batch-norm into the preceding convolution, fuses bias, ReLU and
 *     the residual add into the convolution's epilogue;
 *   - makes concat free: each branch writes at its channel offset of the
 *     concat buffer (pitch = the concat's channels);
 *   - packs all weights once;
 *   - plans activation memory by liveness so buffers are reused.
 * forward: runs the steps in order on the planned buffers. */
#ifndef CNNK_RUNNER_H
#define CNNK_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "cnnk/kernel.h"
#include "cnnk/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnnk_plan_kind {
    CNNK_PLAN_REF = 0,    /* "ref": the reference direct convolution and ref ops */
    CNNK_PLAN_HEURISTIC,  /* "heuristic": a rule per layer shape, no tuning */
    CNNK_PLAN_FIXED,      /* "fixed:<algo>": that algorithm wherever it applies */
    CNNK_PLAN_TUNED       /* "tuned:<file>": the table `cnnk tune` wrote (cnnk/tune.h) */
} cnnk_plan_kind;

#define CNNK_PLAN_FILE_LEN 1024

/* A plain value (copy it freely): a tuned plan names its file, which
 * cnnk_runner_prepare reads, checks again and keeps until destroy. */
struct cnnk_tune_table;

typedef struct cnnk_plan {
    cnnk_plan_kind kind;
    cnnk_algo algo;                 /* FIXED */
    char file[CNNK_PLAN_FILE_LEN];  /* TUNED */
    bool force;                     /* TUNED: accept a table of another CPU ("tuned-force:") */
    /* TUNED without a file: a table in memory, borrowed (prepare copies
     * it); the tuner's whole-network pass times tables it has not written. */
    const struct cnnk_tune_table *table;
} cnnk_plan;

/* "ref", "heuristic", "fixed:direct", "fixed:winograd_f4x4", ...,
 * "tuned:<file>", "tuned-force:<file>" (a table of another CPU, used
 * anyway: docs/TUNING.md); an unknown plan is CNNK_EINVAL with a message listing
 * the valid ones. A tuned plan's file is read and validated here too, with
 * cnnk_tune_read's statuses (CNNK_EIO, CNNK_EPARSE, CNNK_EINVAL: a file of
 * another CPU is refused, the message naming both). The plan's ISA check
 * comes at prepare: a table of another ISA than the run's is CNNK_EINVAL. */
cnnk_status cnnk_plan_parse(const char *s, cnnk_plan *p, cnnk_error *err);
void cnnk_plan_format(const cnnk_plan *p, char *buf, size_t len);

/* One executed step (a layer, possibly with fused neighbours). */
typedef struct cnnk_step_info {
    const char *layer;   /* the node name, e.g. "layer1.0.conv2" */
    const char *kernel;  /* registry name, e.g. "ref/winograd_f4x4" */
    const char *note;    /* "" or why: "fallback: fixed:winograd_f4x4 does not apply" */
    char shape[128];     /* human-readable, e.g. "64x56x56 -> 64x56x56 k3 s1" */
    int64_t macs;        /* 0 for layers without multiply-adds */
    bool residual_in_place; /* the output overwrites its dying residual
                             * (docs/RUNNER.md, "The residual in place") */
    double flops;        /* executed by its kernel (cnnk_conv_kernel_flops), else 2 x macs */
    double last_ms;      /* time of this step in the last profiled forward */
    /* The last cnnk_runner_forward_model(): the step's parallel work (all
     * parts, run one after another), and the time it would take at the
     * runner's thread count (its serial part plus each job's longest
     * part), both in ms on this core. */
    double model_work_ms, model_ms;
    int64_t model_jobs;
} cnnk_step_info;

typedef struct cnnk_runner cnnk_runner;

/* The net must have weights (cnnk_net_init_weights) and outlive the runner. */
cnnk_status cnnk_runner_prepare(const cnnk_net *net, cnnk_isa isa, const cnnk_plan *plan,
                                int nthreads, cnnk_runner **out, cnnk_error *err);
void cnnk_runner_destroy(cnnk_runner *r);

/* input: NHWC mb x h x w x c contiguous; output: mb x classes (the last
 * node's values). Allocates nothing. With profile, records per-step times. */
void cnnk_runner_forward(cnnk_runner *r, const float *input, float *output, bool profile);

/* The scaling model (docs/THREADS.md): one forward on the calling thread
 * alone, with the work split the runner's thread count gives, each job's
 * parts run in turn and timed. Fills the steps' model_* fields and returns
 * the predicted time of the pass at that thread count in ms, before any
 * per-job dispatch cost (jobs, the number of dispatches, for adding it). */
double cnnk_runner_forward_model(cnnk_runner *r, const float *input, float *output,
                                 int64_t *jobs);

/* The measured cost of one dispatch and join of an empty job at nt threads
 * in microseconds (kernels/common/team.h), for the model above. */
double cnnk_runner_dispatch_us(int nt);

/* How the forward pass's threads are placed, for reports: "compact: 2
 * threads on 2 of 2 cores", or "none: ..." with the reason. */
const char *cnnk_runner_binding(const cnnk_runner *r);
/* Whether a batch > 1 is split across images (each thread whole layers on
 * its images) rather than within each layer (docs/THREADS.md). */
bool cnnk_runner_splits_images(const cnnk_runner *r);
/* Whether a runner of net at nthreads would split the batch by images
 * (each thread runs every layer on its own images, one thread per
 * kernel call); cnnk tune races such a network's layers that way. */
bool cnnk_runner_would_split_images(const cnnk_net *net, int nthreads);
/* "" or a caveat about the plan as a whole: a tuned table timed at
 * another thread count than the runner's (its choices may not hold). */
const char *cnnk_runner_plan_note(const cnnk_runner *r);
/* The same description for a runner of nthreads not yet prepared. */
void cnnk_runner_binding_for(int nthreads, char *buf, size_t len);

int cnnk_runner_step_count(const cnnk_runner *r);
const cnnk_step_info *cnnk_runner_step(const cnnk_runner *r, int i);
int64_t cnnk_runner_output_elems(const cnnk_runner *r);
/* Peak activation bytes with liveness reuse, and the sum without reuse. */
int64_t cnnk_runner_peak_activation_bytes(const cnnk_runner *r);
int64_t cnnk_runner_naive_activation_bytes(const cnnk_runner *r);
/* Bytes the concats copy per forward (the copies' outputs): 0 when every
 * concat's inputs write in place (docs/RUNNER.md). */
int64_t cnnk_runner_concat_copy_bytes(const cnnk_runner *r);

#ifdef __cplusplus
}
#endif
#endif
