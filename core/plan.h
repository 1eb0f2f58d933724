/* Internal to core/: the kernel a plan picks for one layer (core/plan.c),
 * used by the runner (core/runner.c). */
#ifndef CNNK_CORE_PLAN_H
#define CNNK_CORE_PLAN_H

#include <stddef.h>

#include "cnnk/runner.h"
#include "cnnk/tune.h"

/* The convolution kernel plan p picks for d on isa in network net (a tuned
 * table may hold per-network choices; net may be NULL); tuned is the table
 * of a TUNED plan (loaded by the runner), NULL otherwise. A table's kernel
 * may be of an ISA under isa (cnnk_tune_isa_under). note receives "" or
 * the reason for a fallback (starting "fallback: "; a tuned plan's shape
 * missing from its table starts "not tuned: heuristic"). NULL only when no
 * kernel at all applies (the reference direct kernel applies to every
 * forward convolution). */
const cnnk_conv_kernel *cnnk_plan_conv_kernel(const cnnk_plan *p, const cnnk_tune_table *tuned,
                                              const char *net, cnnk_isa isa,
                                              const cnnk_conv_desc *d, char *note, size_t len);

/* Loads a TUNED plan's table for a run on isa (NULL for other plans): its
 * file (cnnk_tune_read's errors, forced if the plan says so) or a copy of
 * its in-memory table; CNNK_EINVAL for a table whose ceiling is not isa. */
cnnk_status cnnk_plan_load_table(const cnnk_plan *p, cnnk_isa isa, cnnk_tune_table **out,
                                 cnnk_error *err);

/* The kernel of a non-convolution layer: isa's own when one applies, else
 * the reference (with a "fallback: " note). Plan ref always takes the
 * reference. */
const cnnk_op_kernel *cnnk_plan_op_kernel(const cnnk_plan *p, cnnk_isa isa,
                                          const cnnk_layer_desc *l, char *note, size_t len);

#endif
