/* A random sweep of convolution problems that favours the awkward shapes:
 * 1-pixel images, 3 input channels, channel counts that are not multiples
 * of 8, strides up to 4, asymmetric padding, dilation, groups, batch up to
 * 4, kernels 1..11, and a share of 3x3 stride-1 problems for Winograd.
 * Internal to cnnk (the `cnnk sweep` command and tests); docs/SHAPES.md
 * describes the distribution. */
#ifndef CNNK_CORE_SWEEP_H
#define CNNK_CORE_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "cnnk/status.h"

/* Largest MAC count of one sweep case: keeps the scalar reference over the
 * whole sweep well under a minute. */
#define CNNK_SWEEP_MAX_MACS ((int64_t)20 * 1000 * 1000)

/* Writes a benchdnn batch of `count` convolution descriptors named
 * n"sweep:<i>", each one accepted by cnnk_batch_parse and cnnk_conv_check.
 * Case i depends only on (seed, i), so a longer sweep extends a shorter one.
 * The output starts with a comment naming the command that regenerates it. */
cnnk_status cnnk_sweep_write(uint64_t seed, int count, FILE *out, cnnk_error *err);

/* The same, all drawn for one strategy: CNNK_SWEEP_ALL is the sweep above;
 * WINOGRAD only 3x3 stride-1 problems (every Winograd kernel applies),
 * 1X1 only unpadded, undilated, ungrouped 1x1 problems, strides 1 to 4. A
 * strategy's 10,000 cases (issue 16) take no 50,000-case general sweep. */
typedef enum cnnk_sweep_kind { CNNK_SWEEP_ALL = 0, CNNK_SWEEP_WINOGRAD, CNNK_SWEEP_1X1 } cnnk_sweep_kind;
const char *cnnk_sweep_kind_name(cnnk_sweep_kind k);
cnnk_status cnnk_sweep_write_kind(uint64_t seed, int count, cnnk_sweep_kind kind, FILE *out,
                                  cnnk_error *err);

#endif
