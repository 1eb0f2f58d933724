/* Activation memory by liveness: buffers whose live ranges are disjoint
 * share arena bytes. First-fit by decreasing size is the classic offline
 * heuristic (as in TFLite's arena planner): large buffers placed first
 * leave the small ones to fill the gaps. */
#include <stdbool.h>
#include <stdlib.h>

#include "core/runner_mem.h"

#define ALIGN 64

static int64_t align_up(int64_t x) {
    return (x + ALIGN - 1) / ALIGN * ALIGN;
}

static bool lives_meet(const cnnk_live_buf *a, const cnnk_live_buf *b) {
    return a->first <= b->last && b->first <= a->last;
}

/* qsort has no context argument: sort indices paired with their sizes. */
typedef struct order_item {
    int64_t bytes;
    int index;
} order_item;

static int by_size_desc(const void *pa, const void *pb) {
    const order_item *a = pa, *b = pb;
    if (a->bytes != b->bytes) return a->bytes < b->bytes ? 1 : -1;
    return a->index - b->index; /* stable: same input, same plan */
}

static int by_offset(const void *pa, const void *pb) {
    const cnnk_live_buf *const *a = pa, *const *b = pb;
    return (*a)->offset < (*b)->offset ? -1 : (*a)->offset > (*b)->offset;
}

/* The lowest offset where `b` fits between the placed buffers that live
 * with it (sorted by offset in `meet`). */
static int64_t lowest_fit(const cnnk_live_buf *b, const cnnk_live_buf **meet, int nmeet) {
    int64_t at = 0;
    const int64_t size = align_up(b->bytes);
    for (int i = 0; i < nmeet; ++i) {
        if (meet[i]->offset >= at + size) break;
        const int64_t end = meet[i]->offset + align_up(meet[i]->bytes);
        if (end > at) at = end;
    }
    return at;
}

cnnk_status cnnk_plan_memory(cnnk_live_buf *bufs, int n, int64_t *arena_bytes, cnnk_error *err) {
    *arena_bytes = 0;
    if (n <= 0) return CNNK_OK;
    order_item *order = malloc((size_t)n * sizeof *order);
    const cnnk_live_buf **placed = malloc((size_t)n * sizeof *placed);
    const cnnk_live_buf **meet = malloc((size_t)n * sizeof *meet);
    if (!order || !placed || !meet) {
        free(order), free(placed), free(meet);
        return cnnk_fail(err, CNNK_ENOMEM, "runner: out of memory planning %d buffers", n);
    }
    for (int i = 0; i < n; ++i) order[i] = (order_item){bufs[i].bytes, i};
    qsort(order, (size_t)n, sizeof *order, by_size_desc);
    int nplaced = 0;
    for (int k = 0; k < n; ++k) {
        cnnk_live_buf *b = &bufs[order[k].index];
        int nmeet = 0;
        for (int i = 0; i < nplaced; ++i)
            if (lives_meet(placed[i], b)) meet[nmeet++] = placed[i];
        qsort(meet, (size_t)nmeet, sizeof *meet, by_offset);
        b->offset = lowest_fit(b, meet, nmeet);
        placed[nplaced++] = b;
        const int64_t end = b->offset + align_up(b->bytes);
        if (end > *arena_bytes) *arena_bytes = end;
    }
    free(order), free(placed), free(meet);
    return CNNK_OK;
}
