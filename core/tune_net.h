/* Internal to core/ (and tests/test_tune.c): the tuner's whole-network pass (core/tune_net.c),
 * called by cnnk_tune_run (core/tune.c). */
#ifndef CNNK_CORE_TUNE_NET_H
#define CNNK_CORE_TUNE_NET_H

#include "cnnk/tune.h"

/* CLOCK_MONOTONIC in ms, and the median of x (sorted in place): the
 * tuner's clock and statistic, shared by its two files (core/tune.c). */
double cnnk_tune_now_ms(void);
double cnnk_tune_median_in_place(double *x, int n);

/* The kernel the heuristic plan runs d on in network `net` at ceiling isa
 * (NULL when none applies): the incumbent of the minimum gain (core/tune.c)
 * and of the whole-network pass's group trials (core/tune_net.c). */
const cnnk_conv_kernel *cnnk_tune_heuristic_kernel(const char *net, cnnk_isa isa,
                                                   const cnnk_conv_desc *d);

/* For network `net` of o: first one trial of every layer switched to the
 * heuristic's kernel where it differs; if that is not kept, one of the
 * tied shapes whose heuristic kernel was tied too; then the shapes
 * whose race ended in a tie, the heaviest first (median x uses), up to
 * o->net_alts, each tied runner-up alone. Each trial is timed in whole
 * forwards against the current choice (cnnk_tune_duel) and kept in t as
 * per-network overrides when the duel says it is faster (one-sided
 * signed-rank test over blocks, p < CNNK_TUNE_NET_ALPHA). */
cnnk_status cnnk_tune_net_pass(const cnnk_tune_opts *o, const char *net, cnnk_tune_table *t,
                               cnnk_error *err);

#endif
