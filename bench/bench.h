/* cnnk-bench internals: options, the benchmark families (layer/, pack/,
 * net/), the context entries and the --main job. See docs/BENCHMARKS.md. */
#ifndef CNNK_BENCH_BENCH_H
#define CNNK_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnnk/kernel.h"
#include "cnnk/net.h"
#include "cnnk/outfile.h"
#include "cnnk/runner.h"
#include "bench/gbench.h"
#include "validate/onednn_peer.h"

#define BENCH_MAX_NETS 16
#define BENCH_MAX_PLANS 16
#define BENCH_MAX_LAYERS 64

/* --main's network sets (bench/sets.c): classic, the five classifiers;
 * detseg, the segmentation and detection networks (issue 14), printed in
 * a second table; all, both tables. */
typedef enum { BENCH_SET_CLASSIC, BENCH_SET_DETSEG, BENCH_SET_ALL, BENCH_SET_COUNT } bench_set;

/* A network's name, or the path of an --onnx model (cnnk_net_build takes both). */
#define BENCH_NET_LEN 1024

typedef struct bench_opts {
    int threads;                       /* --threads, >= 1 */
    char onednn_isa[32];               /* --onednn_max_isa (default "all": no cap) */
    bool onednn_algo[CNNK_ONEDNN_ALGO_COUNT]; /* --onednn_algo, resolved by bench_resolve_onednn */
    bool onednn_algo_given;
    /* --onednn_concat: the network rows' concat strategies (default both:
     * a oneDNN user keeps the faster; docs/ONEDNN_PEER.md, "Concats") */
    bool onednn_concat[CNNK_ONEDNN_CONCAT_COUNT];
    bool onednn_concat_given;
    bool onednn_unfused; /* --onednn_unfused: also the eager-mode networks */
    bool onednn_winograd;              /* oneDNN has Winograd at its effective ISA */
    int nnets;                         /* --nets */
    char nets[BENCH_MAX_NETS][BENCH_NET_LEN]; /* names, or --onnx model paths */
    bool isa[CNNK_ISA_COUNT];          /* --isa (available ones only) */
    int nplans;                        /* --plans; 0 = every plan */
    cnnk_plan plans[BENCH_MAX_PLANS];
    int nlayers;                       /* --layers; 0 = every layer */
    char layers[BENCH_MAX_LAYERS][CNNK_NAME_LEN];
    int64_t h, w, batch;               /* --input=HxW, --batch */
    bool input_given;                  /* --input: else an --onnx model's size */
    bool batch_given;                  /* --batch: else an --onnx model's batch */
    const char *proposals;             /* --proposals=FILE: a RoI network's boxes (argv's) */
    bool main_job;                     /* --main */
    bench_set set;                     /* --set (default classic) */
    bool set_given;
    bool nets_given;                   /* --nets (else --main's set) */
    char out[CNNK_OUT_PATH_MAX];       /* --out (for --main) */
    char filter[1024];                 /* Google Benchmark's filter, read not removed */
    char record[CNNK_OUT_PATH_MAX];    /* --record=DB: the history database ("" none) */
    /* --main's PyTorch column (bench/torchpeer.c): --pytorch=auto|off,
     * the interpreter (--pytorch_python), the helper's deadline in s */
    bool pytorch;
    char pytorch_python[CNNK_OUT_PATH_MAX];
    int pytorch_timeout;
} bench_opts;

/* The sets: name and parse; whether net is one of set s; whether net's
 * row goes to --main's second table (a detseg network); whether
 * torchvision has net, by cnnk's name, for the PyTorch column; the
 * networks of s that this build has (a missing one is skipped with a
 * note on stderr), at most max, their count. */
const char *bench_set_name(bench_set s);
bool bench_set_parse(const char *name, bench_set *s);
bool bench_set_has(bench_set s, const char *net);
bool bench_net_is_detseg(const char *net);
bool bench_in_torchvision(const char *net);
int bench_set_nets(bench_set s, const char **out, int max);

/* Parses and removes cnnk-bench's own --name=value flags from argv, leaving
 * Google Benchmark's. false on bad input (message on stderr: what exists). */
bool bench_parse_args(int *argc, char **argv, bench_opts *o);
/* Once oneDNN's ISA cap is set: whether oneDNN has Winograd there, and the
 * algorithms to time when --onednn_algo was not given (direct; with
 * --main, direct and Winograd where it exists). */
void bench_resolve_onednn(bench_opts *o);
/* The ISA oneDNN runs at (its effective ISA), as benchmark names say it. */
const char *bench_onednn_isa(void);
/* The network row of oneDNN algorithm k with concat strategy m
 * (net/<net>/onednn/<isa>/<algo>[/inplace]; bench/nets.c). */
void bench_onednn_row_name(char *buf, size_t len, const char *net, int k, int m);
void bench_usage(const char *argv0);

/* Memory of one benchmark at a time: a benchmark's buffers are built when
 * it first runs and released when another one starts, so registering
 * hundreds of layers costs nothing and a run holds one layer's (or one
 * network's) buffers at a time. */
typedef struct bench_case bench_case;
typedef struct bench_arena {
    bench_case *active;
    /* The network last built with weights, shared by its net/ benchmarks. */
    cnnk_net *net;
    char net_name[BENCH_NET_LEN];
} bench_arena;

struct bench_case {
    bool (*prepare)(bench_case *c, bench_arena *a, char *msg, size_t len);
    void (*release)(bench_case *c);
    void (*destroy)(bench_case *c);
};

/* Makes c the active case (releasing the previous one); false with msg when
 * c cannot be prepared. */
bool bench_activate(bench_arena *a, bench_case *c, char *msg, size_t len);
void bench_arena_release(bench_arena *a);
/* gbench destroy callback for any bench_case. */
void bench_case_destroy(void *user);

/* Registration; each returns the number registered, or -1 with a message
 * on stderr. */
int bench_register_layers(const bench_opts *o, bench_arena *a);
int bench_register_nets(const bench_opts *o, bench_arena *a, bool main_only);

/* The peak (GFLOP/s) that a oneDNN row is compared with: cnnk's best ISA's,
 * the side it is set against (oneDNN itself may run a higher ISA). */
double bench_onednn_peak(void);

/* Context entries: machine, measured peaks, versions, threads, pinning. */
void bench_add_context(const bench_opts *o);

/* The message for a --benchmark_filter that matched nothing, with a few
 * of the registered names. */
void bench_no_match(const char *filter);

/* --record=DB (bench/record.c). begin: opens the database (creating its
 * schema) before any work, and makes argv write the JSON to a temporary
 * file when no --benchmark_out is given; false (message on stderr) when
 * it cannot record. commit: appends the run's JSON (json, or the one begin
 * chose when NULL) in one transaction; 0, or 2 with a message. end: removes
 * the temporary. Only a run with something measured is committed. */
typedef struct bench_record {
    char json[CNNK_OUT_PATH_MAX];
    char out_flag[CNNK_OUT_PATH_MAX + 32];
    bool temporary;
    char **argv;
} bench_record;
bool bench_record_begin(bench_record *r, const bench_opts *o, int *argc, char ***argv);
int bench_record_commit(bench_record *r, const bench_opts *o, const char *json);
void bench_record_end(bench_record *r);

/* The --main job; returns the exit status. On success o->out holds the
 * results file written. */
int bench_main_job(bench_opts *o, int argc, char **argv, bench_arena *a);

/* --main's PyTorch column: runs scripts/torch-peer.py (under
 * o->pytorch_python, killed after o->pytorch_timeout s) for nets (a comma
 * list) with the run's batch, input, threads, repetitions and minimum time
 * per repetition; appends its rows net/<net>/pytorch/eager (one per
 * repetition, process CPU time as cpu_time and the wall clock as
 * real_time, and a median aggregate) to root's benchmarks, and pytorch_*
 * entries to its context. status gets the column's state: "measured",
 * "off", "not installed: <why>" or "failed: <why>"; the run goes on in
 * every case. */
struct cJSON;
void bench_pytorch(const bench_opts *o, const char *reps, const char *min_time, struct cJSON *root,
                   const char *nets, char *status, size_t slen);
void bench_pytorch_row_name(char *buf, size_t len, const char *net);

/* The clock Google Benchmark times a benchmark by: the wall clock with
 * several threads (cnnk_gb_use_real_time), else the thread's CPU time. In
 * seconds; differences only. */
double bench_clock(bool real_time);

/* The counters of work after a timed loop (docs/BENCHMARKS.md), from the
 * seconds it took by bench_clock:
 *   FLOPS         effective: 2 x MACs of the direct definition, a rate;
 *   MACs          those multiply-adds, plain;
 *   eff_pct_peak  effective FLOP/s over the peak, in %: Winograd, which
 *                 executes less than 2 x MACs, can pass 100;
 *   exec_FLOPS    the FLOPs the kernel executes (exec_flops per pass, from
 *                 the kernel: cnnk_conv_kernel_flops), a rate;
 *   fma_util      executed FLOP/s over the peak, in %: at most the
 *                 hardware's 100, up to the peak measurement's noise.
 * exec_flops <= 0 (unknown: oneDNN's Winograd) leaves out the last two. */
void bench_flop_counters(cnnk_gb_state *st, int64_t macs, double exec_flops, double peak_gflops,
                         double seconds);

/* Helpers shared by the families. */
float *bench_alloc(size_t floats);     /* 64-byte aligned, filled by bench_fill */
void bench_fill(float *p, size_t n, uint32_t seed, float lo, float hi);

#endif
