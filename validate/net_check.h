/* Whole-network proof: a network run with every available (ISA, plan)
 * agrees with the reference plan on the same top-5 classes and within a
 * relative L2 bound on the logits that depends on the algorithms the plan
 * ran (docs/RUNNER.md states and measures the bounds). */
#ifndef CNNK_VALIDATE_NET_CHECK_H
#define CNNK_VALIDATE_NET_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cnnk/kernel.h"
#include "cnnk/runner.h"
#include "validate/check.h"

/* The relative L2 bound on whole-network logits for a run whose
 * convolutions used `worst` as their least accurate algorithm. */
double cnnk_net_tolerance(cnnk_algo worst);

/* Builds `name` (mb x 3 x h x w), weights and input U(-1, 1) from seed,
 * runs the reference plan (ISA ref, plan ref), then plans heuristic and
 * fixed:<algo> for every algorithm on every ISA selected in isa[] that
 * this CPU runs. One line per (net, ISA, plan) to out (may be NULL); each
 * adds to counts (an unavailable selected ISA counts as skipped). Returns
 * CNNK_OK unless the check could not run (unknown net: CNNK_EINVAL). */
cnnk_status cnnk_validate_net(const char *name, int64_t mb, int64_t h, int64_t w, uint64_t seed,
                              const bool isa[CNNK_ISA_COUNT], FILE *out,
                              cnnk_validate_counts *counts, cnnk_error *err);

/* The same for a network already built with its weights (an ONNX model,
 * or a built-in one given a framework's weights): input is NHWC
 * mb x h x w x c (NULL: U(-1, 1) from seed); expect, when not NULL, is a
 * framework's output for that input in the framework's layout
 * (cnnk_net_output_rank: [N, classes] or NCHW), against which the
 * reference plan and every plan are compared too: rel_l2 within the
 * plan's bound plus the direct-class bound, top-5 alike as above. out
 * NULL prints only the failing lines, to stderr. */
cnnk_status cnnk_validate_net_built(const cnnk_net *net, const float *input, const float *expect,
                                    uint64_t seed, const bool isa[CNNK_ISA_COUNT], FILE *out,
                                    cnnk_validate_counts *counts, cnnk_error *err);

/* Values of the network's output (mb x h x w x c of its last node), and
 * that output in the framework's layout (NHWC to NCHW for rank 4). */
int64_t cnnk_net_output_elems(const cnnk_net *net);
void cnnk_net_output_to_framework(const cnnk_net *net, const float *src, float *dst);

#endif
