/* Internal to core/: activation memory planning for the runner. */
#ifndef CNNK_CORE_RUNNER_MEM_H
#define CNNK_CORE_RUNNER_MEM_H

#include <stdint.h>

#include "cnnk/status.h"

/* One activation buffer: `bytes` long, live from step `first` to step
 * `last` inclusive (a step's inputs and its output are live together, so
 * a kernel never writes over what it reads). */
typedef struct cnnk_live_buf {
    int64_t bytes;
    int first, last;
    int64_t offset; /* out: byte offset in the arena, 64-byte aligned */
} cnnk_live_buf;

/* Greedy first-fit by decreasing size: each buffer takes the lowest offset
 * that overlaps no placed buffer whose live range meets its own. Sets
 * *arena_bytes to the arena size (the peak). */
cnnk_status cnnk_plan_memory(cnnk_live_buf *bufs, int n, int64_t *arena_bytes, cnnk_error *err);

#endif
