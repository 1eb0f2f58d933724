/* The sub-commands of `cnnk`, one file each in tools/. Each returns the
 * process exit status of the one policy of docs/EXIT_CODES.md (shared
 * with cnnk-bench). */
#ifndef CNNK_TOOLS_COMMANDS_H
#define CNNK_TOOLS_COMMANDS_H

#include <stdbool.h>

#include "cnnk/status.h"

enum {
    CNNK_EXIT_OK = 0,           /* every check passed, or the run measured */
    CNNK_EXIT_CHECK_FAILED = 1, /* a check failed (validate: a kernel disagrees) */
    CNNK_EXIT_BAD_INPUT = 2,    /* bad input, or an environment that cannot run it */
    CNNK_EXIT_NOTHING = 3       /* a run that checked or measured nothing */
};

/* A library call that failed could not run what was asked: a malformed or
 * impossible input, an ISA this CPU lacks, no memory, a file that cannot be
 * written. None of these is a check that failed. */
static inline int cnnk_exit_of(cnnk_status s) {
    return s == CNNK_OK ? CNNK_EXIT_OK : CNNK_EXIT_BAD_INPUT;
}

/* The network a command runs (tools/netsrc.c): a built-in one (--net NAME,
 * its seeded weights, or a state_dict's with --weights DIR) or an ONNX
 * model (--onnx FILE, its own weights), and its input: --input-npy FILE
 * (N x C x H x W float32, NCHW as frameworks export it; its shape sets
 * batch and size and must match the model) or none (the caller fills
 * one). */
struct cnnk_net;
typedef struct cnnk_net_src {
    const char *net, *onnx, *weights, *input_npy;
    const char *proposals; /* --proposals FILE: R = its boxes, held by the RoI pooling */
    bool batch_given; /* --batch: asked of a model with a dynamic batch (else its own) */
} cnnk_net_src;

/* Builds *net (h, w 0 for an ONNX model: its own size) and, with
 * input_npy, *input (NHWC, malloc'ed; NULL otherwise). Messages go to
 * stderr prefixed by cmd; returns the exit status. */
int cnnk_net_src_open(const cnnk_net_src *s, const char *cmd, long long mb, long long h,
                      long long w, unsigned long long seed, struct cnnk_net **net,
                      float **input);
/* Writes the network's output (cnnk's layout, as the runner gives it) to
 * path in the framework's layout, atomically; returns the exit status. */
int cnnk_net_write_output(const struct cnnk_net *net, const float *out, const char *path,
                          const char *cmd);

int cnnk_cmd_nets(int argc, char **argv); /* tools/cmd_nets.c */
int cnnk_cmd_run(int argc, char **argv);  /* tools/cmd_run.c */
int cnnk_cmd_tune(int argc, char **argv); /* tools/cmd_tune.c */
int cnnk_cmd_compare(int argc, char **argv); /* tools/cmd_compare.c */
int cnnk_cmd_report(int argc, char **argv); /* tools/cmd_report.c */

#endif
