/* The deconv kernel timing of docs/PERFORMANCE.md ("FCN's transposed
 * convolutions"): one deconv op kernel, by name, against oneDNN's
 * deconvolution on FCN's five upsampling shapes, alternated round by
 * round in one process, thread CPU time, medians. Build it against a cnnk
 * build tree (old and new trees give the before and after):
 *
 *   gcc -O2 -std=c11 -Iinclude -I. -Ibuild/generated -DCNNK_HAVE_ONEDNN=1 \
 *       scripts/deconv_time.c build/libcnnk_validate.a build/libcnnk.a \
 *       -lhwloc -fopenmp -lm -lcjson -lprotobuf-c -ldnnl -lstdc++ -o deconv_time
 *   OMP_NUM_THREADS=1 ./deconv_time avx512/deconv 7
 *   OMP_NUM_THREADS=1 DNNL_MAX_CPU_ISA=AVX2 ./deconv_time avx2/deconv 7 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cnnk/kernel.h"
#include "validate/onednn_peer.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec * 1e3 + t.tv_nsec * 1e-6; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    const char *kname = argc > 1 ? argv[1] : "avx512/deconv";
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    struct { const char *name; int64_t ih, k, s, pt, pb; } S[] = {
        {"fcn32s:upscore+crop", 16, 64, 32, 19, 25},
        {"upscore2 4x4 s2", 16, 4, 2, 0, 0},
        {"fcn16s:upscore16+crop", 34, 32, 16, 27, 33},
        {"fcn8s:upscore_pool4", 34, 4, 2, 0, 0},
        {"fcn8s:upscore8+crop", 70, 16, 8, 31, 37},
    };
    const cnnk_op_kernel *k = NULL;
    for (size_t i = 0; i < cnnk_op_kernel_count(); ++i)
        if (strcmp(cnnk_op_kernel_at(i)->name, kname) == 0) k = cnnk_op_kernel_at(i);
    if (!k) { fprintf(stderr, "no kernel %s\n", kname); return 1; }
    printf("%-24s %10s %10s %8s  (%s, medians of %d, thread CPU ms)\n", "shape", "cnnk", "onednn", "ratio", kname, rounds);
    for (size_t si = 0; si < sizeof S / sizeof S[0]; ++si) {
        cnnk_layer_desc l = {.kind = CNNK_LAYER_DECONV};
        cnnk_conv_desc *d = &l.u.conv;
        *d = (cnnk_conv_desc){.g = 1, .mb = 1, .ic = 21, .ih = S[si].ih, .iw = S[si].ih, .oc = 21,
                              .kh = S[si].k, .kw = S[si].k, .sh = S[si].s, .sw = S[si].s,
                              .pt = S[si].pt, .pl = S[si].pt, .pb = S[si].pb, .pr = S[si].pb,
                              .dh = 1, .dw = 1, .transposed = true};
        cnnk_error err;
        if (cnnk_layer_check(&l, &err) != CNNK_OK) { fprintf(stderr, "%s\n", err.msg); return 1; }
        int64_t ns = cnnk_layer_src_elems(&l), nd = cnnk_layer_dst_elems(&l), nw = cnnk_conv_weights(d);
        float *src = aligned_alloc(64, (ns * 4 + 63) / 64 * 64), *w = malloc(nw * 4);
        float *dst = aligned_alloc(64, (nd * 4 + 63) / 64 * 64);
        size_t np = k->packed_size(&l);
        float *packed = aligned_alloc(64, (np * 4 + 63) / 64 * 64 + 64);
        for (int64_t i = 0; i < ns; ++i) src[i] = (float)((i * 7) % 13) - 6;
        for (int64_t i = 0; i < nw; ++i) w[i] = (float)((i * 5) % 11) - 5;
        k->pack(&l, w, packed);
        cnnk_op_args a = {.src = {src}, .src_ld = {21}, .packed = packed, .dst = dst, .dst_ld = 21, .nthreads = 1};
        cnnk_onednn_layer *h = NULL;
        cnnk_epilogue_spec ep = {0};
        if (cnnk_onednn_layer_create(&l, &ep, CNNK_ONEDNN_DIRECT, &h, &err) != CNNK_OK) { fprintf(stderr, "onednn: %s\n", err.msg); return 1; }
        k->run(&l, &a); cnnk_onednn_layer_execute(h); /* warm */
        double tc[64], to[64];
        for (int r = 0; r < rounds; ++r) {
            double t0 = now(); k->run(&l, &a); double t1 = now();
            cnnk_onednn_layer_execute(h); double t2 = now();
            tc[r] = t1 - t0, to[r] = t2 - t1;
        }
        qsort(tc, rounds, sizeof *tc, cmp); qsort(to, rounds, sizeof *to, cmp);
        printf("%-24s %10.3f %10.3f %8.3f  %s\n", S[si].name, tc[rounds / 2], to[rounds / 2], tc[rounds / 2] / to[rounds / 2], cnnk_onednn_layer_impl(h));
        cnnk_onednn_layer_destroy(h);
        free(src), free(w), free(dst), free(packed);
    }
    return 0;
}
