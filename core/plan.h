/* Internal to core/: the kernel a plan picks for one layer (core/plan.c),
 * used by the runner (core/runner.c). */
#ifndef CNNK_CORE_PLAN_H
#define CNNK_CORE_PLAN_H

#include <stddef.h>

#include "cnnk/runner.h"

/* The convolution kernel plan p picks for d on isa. note receives "" or the
 * reason for a fallback (always starting "fallback: "). NULL only when no
 * kernel at all applies (the reference direct kernel applies to every
 * forward convolution). */
const cnnk_conv_kernel *cnnk_plan_conv_kernel(const cnnk_plan *p, cnnk_isa isa,
                                              const cnnk_conv_desc *d, char *note, size_t len);

/* The kernel of a non-convolution layer: isa's own when one applies, else
 * the reference (with a "fallback: " note). Plan ref always takes the
 * reference. */
const cnnk_op_kernel *cnnk_plan_op_kernel(const cnnk_plan *p, cnnk_isa isa,
                                          const cnnk_layer_desc *l, char *note, size_t len);

#endif
