/* cnnk tune: every kernel of an ISA that applies, timed on each distinct
 * convolution shape of some networks; the fastest is kept per shape.
 *
 * Timing (docs/TUNING.md): weights are packed once, outside the timing;
 * each kernel runs once to warm caches and page in its buffers, then
 * `reps` samples are taken and the median kept, because the machine is
 * shared and a mean would follow every interruption. A sample repeats the
 * kernel until it lasts about a millisecond, so small layers are not
 * measured at the clock's resolution. The epilogue is the common one of
 * these networks, bias + ReLU. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnk/net.h"
#include "cnnk/tune.h"
#include "core/rng.h"

#define ALIGN 64
#define MIN_SAMPLE_MS 1.0
#define MAX_INNER 1000

/* One distinct shape and where it was first seen. */
typedef struct shape_use {
    cnnk_conv_desc d;
    char key[CNNK_TUNE_KEY_LEN];
    char net[32];
    char layer[CNNK_NAME_LEN];
    int count;
} shape_use;

typedef struct shape_list {
    shape_use *v;
    int n, cap;
} shape_list;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static float *floats(size_t n) {
    size_t bytes = (n > 0 ? n : 1) * sizeof(float);
    bytes = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    return aligned_alloc(ALIGN, bytes);
}

static void fill(float *p, int64_t n, uint64_t seed) {
    cnnk_rng r = {seed};
    for (int64_t i = 0; i < n; ++i)
        p[i] = (float)((double)(cnnk_rng_next(&r) >> 11) * 0x1.0p-52 - 1.0); /* U(-1, 1) */
}

static int cmp_double(const void *pa, const void *pb) {
    const double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* ---- distinct shapes ----------------------------------------------------- */

static cnnk_status add_use(shape_list *l, const cnnk_net *net, const cnnk_node *node,
                           cnnk_error *err) {
    cnnk_conv_desc d = node->desc.u.conv;
    if (cnnk_conv_check(&d, err) != CNNK_OK) return CNNK_EINVAL;
    char key[CNNK_TUNE_KEY_LEN];
    cnnk_tune_key(&d, key, sizeof key);
    for (int i = 0; i < l->n; ++i)
        if (strcmp(l->v[i].key, key) == 0) return l->v[i].count++, CNNK_OK;
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 64;
        shape_use *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
        l->v = v, l->cap = cap;
    }
    shape_use *u = &l->v[l->n++];
    u->d = d;
    snprintf(u->key, sizeof u->key, "%s", key);
    snprintf(u->net, sizeof u->net, "%s", net->name);
    snprintf(u->layer, sizeof u->layer, "%s", node->name);
    u->count = 1;
    return CNNK_OK;
}

static cnnk_status collect(const cnnk_tune_opts *o, shape_list *l, cnnk_error *err) {
    for (int i = 0; i < o->nnets; ++i) {
        cnnk_net *net = NULL;
        cnnk_status s = cnnk_net_build(o->nets[i], o->mb, o->h, o->w, &net, err);
        for (int k = 1; s == CNNK_OK && k < net->n; ++k)
            if (net->nodes[k].op == CNNK_NODE_CONV) s = add_use(l, net, &net->nodes[k], err);
        cnnk_net_destroy(net);
        if (s != CNNK_OK) return s;
    }
    return CNNK_OK;
}

/* ---- timing one kernel ------------------------------------------------------ */

typedef struct layer_data {
    float *src, *dst, *w, *bias;
} layer_data;

static void free_data(layer_data *b) {
    free(b->src), free(b->dst), free(b->w), free(b->bias);
}

static cnnk_status alloc_data(const cnnk_conv_desc *d, layer_data *b, cnnk_error *err) {
    const int64_t ns = cnnk_conv_src_elems(d), nw = cnnk_conv_weights(d);
    b->src = floats((size_t)ns);
    b->dst = floats((size_t)cnnk_conv_dst_elems(d));
    b->w = floats((size_t)nw);
    b->bias = floats((size_t)d->oc);
    if (!b->src || !b->dst || !b->w || !b->bias)
        return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory for %s", d->name);
    fill(b->src, ns, 1), fill(b->w, nw, 2), fill(b->bias, d->oc, 3);
    return CNNK_OK;
}

/* How many calls make a sample of about MIN_SAMPLE_MS, from one call's time. */
static int inner_calls(double one_ms) {
    if (one_ms >= MIN_SAMPLE_MS) return 1;
    const double n = MIN_SAMPLE_MS / (one_ms > 1e-4 ? one_ms : 1e-4);
    return n > MAX_INNER ? MAX_INNER : (int)n + 1;
}

static double median_ms(const cnnk_conv_kernel *k, const cnnk_conv_desc *d, const cnnk_conv_args *a,
                        int reps, double *samples) {
    double t0 = now_ms();
    k->run(d, a); /* warm-up */
    const int inner = inner_calls(now_ms() - t0);
    for (int r = 0; r < reps; ++r) {
        t0 = now_ms();
        for (int i = 0; i < inner; ++i) k->run(d, a);
        samples[r] = (now_ms() - t0) / inner;
    }
    qsort(samples, (size_t)reps, sizeof *samples, cmp_double);
    return reps % 2 ? samples[reps / 2] : 0.5 * (samples[reps / 2 - 1] + samples[reps / 2]);
}

static cnnk_status time_kernel(const cnnk_conv_kernel *k, const cnnk_conv_desc *d,
                               const layer_data *b, const cnnk_tune_opts *o, double *samples,
                               double *ms, cnnk_error *err) {
    float *packed = floats(k->packed_size(d));
    float *ws = floats(k->workspace_size(d, o->nthreads));
    cnnk_status s = CNNK_OK;
    if (!packed || !ws) {
        s = cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory for %s on %s", k->name, d->name);
    } else {
        k->pack(d, b->w, packed);
        const cnnk_conv_args a = {
            .src = b->src, .src_ld = d->ic, .packed = packed, .dst = b->dst, .dst_ld = d->oc,
            .ep = {.bias = b->bias, .relu = true}, .workspace = ws, .nthreads = o->nthreads,
        };
        *ms = median_ms(k, d, &a, o->reps, samples);
    }
    free(packed), free(ws);
    return s;
}

/* ---- one shape: every kernel, the fastest kept ------------------------------ */

static void log_header(FILE *f) {
    if (!f) return;
    fprintf(f, "%-12s %-40s %4s %-36s %-20s %9s  %s\n", "net", "layer", "uses", "shape", "kernel",
            "ms", "others (ms)");
}

static void log_row(FILE *f, const shape_use *u, const cnnk_tune_entry *e) {
    if (!f) return;
    const cnnk_conv_desc *d = &u->d;
    char shape[64];
    snprintf(shape, sizeof shape, "%lldx%lldx%lld->%lldx%lldx%lld k%lld s%lld", (long long)d->ic,
             (long long)d->ih, (long long)d->iw, (long long)d->oc, (long long)d->oh,
             (long long)d->ow, (long long)d->kh, (long long)d->sh);
    fprintf(f, "%-12s %-40s %4d %-36s %-20s %9.4f ", u->net, u->layer, u->count, shape,
            e->ncand ? e->kernel->name : "-", e->ms);
    if (!e->ncand) fprintf(f, " no kernel applies");
    for (int i = 0; i < e->ncand; ++i)
        if (e->cand[i] != e->kernel) fprintf(f, " %s %.4f", e->cand[i]->name, e->cand_ms[i]);
    fputc('\n', f);
    fflush(f);
}

static cnnk_status tune_shape(const shape_use *u, const cnnk_tune_opts *o, double *samples,
                              cnnk_tune_entry *e, cnnk_error *err) {
    memset(e, 0, sizeof *e);
    snprintf(e->shape, sizeof e->shape, "%s", u->key);
    layer_data b = {0};
    cnnk_status s = alloc_data(&u->d, &b, err);
    for (size_t i = 0; s == CNNK_OK && i < cnnk_conv_kernel_count(); ++i) {
        const cnnk_conv_kernel *k = cnnk_conv_kernel_at(i);
        if (k->isa != o->isa || !k->applies(&u->d)) continue;
        if (e->ncand == CNNK_TUNE_MAX_CANDIDATES) {
            s = cnnk_fail(err, CNNK_EUNSUPPORTED, "tune: over %d %s kernels apply to %s",
                          CNNK_TUNE_MAX_CANDIDATES, cnnk_isa_name(o->isa), u->key);
            break;
        }
        double ms = 0.0;
        s = time_kernel(k, &u->d, &b, o, samples, &ms, err);
        if (s != CNNK_OK) break;
        e->cand[e->ncand] = k, e->cand_ms[e->ncand++] = ms;
        if (!e->kernel || ms < e->ms) e->kernel = k, e->ms = ms;
    }
    free_data(&b);
    return s;
}

static cnnk_status check_opts(const cnnk_tune_opts *o, cnnk_error *err) {
    if (!o || !o->nets || o->nnets < 1) return cnnk_fail(err, CNNK_EINVAL, "tune: no networks");
    if (o->isa < 0 || o->isa >= CNNK_ISA_COUNT || !cnnk_isa_available(o->isa))
        return cnnk_fail(err, CNNK_EUNSUPPORTED, "tune: this CPU does not run ISA %s",
                         cnnk_isa_name(o->isa));
    if (o->nthreads < 1 || o->reps < 1 || o->reps > 1000 || o->mb < 1)
        return cnnk_fail(err, CNNK_EINVAL, "tune: threads=%d reps=%d batch=%lld (want >= 1, reps <= 1000)",
                         o->nthreads, o->reps, (long long)o->mb);
    return CNNK_OK;
}

static cnnk_status tune_all(const cnnk_tune_opts *o, const shape_list *l, cnnk_tune_table *t,
                            cnnk_error *err) {
    double *samples = malloc((size_t)o->reps * sizeof *samples);
    t->e = calloc((size_t)(l->n > 0 ? l->n : 1), sizeof *t->e);
    if (!samples || !t->e) {
        free(samples);
        return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
    }
    t->cap = l->n;
    log_header(o->log);
    cnnk_status s = CNNK_OK;
    for (int i = 0; i < l->n && s == CNNK_OK; ++i) {
        cnnk_tune_entry *e = &t->e[t->n];
        s = tune_shape(&l->v[i], o, samples, e, err);
        if (s != CNNK_OK) break;
        log_row(o->log, &l->v[i], e);
        if (e->ncand) t->n++; /* a shape no kernel of the ISA takes stays heuristic */
    }
    free(samples);
    return s;
}

cnnk_status cnnk_tune_run(const cnnk_tune_opts *o, cnnk_tune_table **out, cnnk_error *err) {
    *out = NULL;
    cnnk_status s = check_opts(o, err);
    if (s != CNNK_OK) return s;
    shape_list l = {0};
    cnnk_tune_table *t = calloc(1, sizeof *t);
    s = t ? collect(o, &l, err) : cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
    if (s == CNNK_OK) {
        cnnk_tune_this_cpu(o->isa, o->nthreads, &t->cpu);
        s = tune_all(o, &l, t, err);
    }
    free(l.v);
    if (s != CNNK_OK) {
        cnnk_tune_free(t);
        return s;
    }
    *out = t;
    return CNNK_OK;
}
