/* The warp timing of docs/PERFORMANCE.md ("rcnn_alexnet against oneDNN"):
 * R-CNN's warp at rcnn_alexnet's defaults (a 375x500 RGB image, the
 * default 64 proposals, 227x227 with 16 pixels of context), each named
 * kernel on one thread, alternated round by round in one process, thread
 * CPU time, medians. ref/warp is what the oneDNN peer runs as its host
 * step; <isa>/warp what cnnk's plan runs. Build it against a cnnk build
 * tree:
 *
 *   gcc -O2 -std=c11 -Iinclude -I. scripts/warp_time.c build/libcnnk.a \
 *       -lhwloc -fopenmp -lm -lcjson -o warp_time
 *   ./warp_time 7 ref/warp avx512/warp avx2/warp */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cnnk/kernel.h"
#include "cnnk/proposals.h"

enum { H = 375, W = 500, R = 64, S = 227, MAXK = 8, MAXN = 101 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 7, nk = argc - 2;
    if (rounds < 1 || rounds > MAXN || nk < 1 || nk > MAXK) {
        fprintf(stderr, "usage: warp_time ROUNDS(1..%d) KERNEL... (1..%d)\n", MAXN, MAXK);
        return 2;
    }
    cnnk_layer_desc l = {.kind = CNNK_LAYER_WARP};
    l.u.warp = (cnnk_warp_desc){.mb = 1, .c = 3, .ih = H, .iw = W, .rois = R, .oh = S, .ow = S,
                                .pad = 16};
    float *src = malloc((size_t)H * W * 3 * sizeof *src);
    float *dst = malloc((size_t)R * S * S * 3 * sizeof *dst), boxes[R * 5];
    for (int i = 0; i < H * W * 3; ++i) src[i] = (float)(i % 97) * 0.01f;
    cnnk_proposals_default(R, H, W, 1, boxes);
    const cnnk_op_kernel *k[MAXK];
    float *ws[MAXK];
    static double t[MAXK][MAXN];
    for (int i = 0; i < nk; ++i) {
        k[i] = cnnk_op_kernel_find(argv[i + 2]);
        if (!k[i] || k[i]->kind != CNNK_LAYER_WARP) {
            fprintf(stderr, "%s: no such warp kernel\n", argv[i + 2]);
            return 2;
        }
        const size_t n = k[i]->workspace_size ? k[i]->workspace_size(&l, 1) : 0;
        ws[i] = malloc((n + 16) * sizeof(float));
    }
    for (int r = 0; r < rounds; ++r)
        for (int i = 0; i < nk; ++i) {
            cnnk_op_args a = {.dst = dst, .dst_ld = 3, .workspace = ws[i], .nthreads = 1};
            a.src[0] = src, a.src_ld[0] = 3, a.params[0] = boxes;
            const double t0 = now();
            k[i]->run(&l, &a);
            t[i][r] = now() - t0;
        }
    for (int i = 0; i < nk; ++i) {
        qsort(t[i], (size_t)rounds, sizeof t[i][0], cmp);
        printf("%-14s median of %d: %.2f ms CPU\n", k[i]->name, rounds, t[i][rounds / 2]);
        free(ws[i]);
    }
    free(src), free(dst);
    return 0;
}
