/* layer/<net>/<layer>/cnnk/<isa>/<algo|kind>, layer/<net>/<layer>/onednn/<max-isa>
 * and pack/<net>/<layer>/cnnk/<isa>/<algo|kind>: every distinct layer of
 * every network (deduplicated by descriptor and fused epilogue, named by
 * the first layer that has it), through every registered kernel that
 * applies and oneDNN's primitive for the same work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/gbench.h"
#include "cnnk/cpu.h"
#include "cnnk/proposals.h"
#include "core/fuse.h"
#include "validate/onednn.h"
#include "validate/onednn_peer.h"

typedef enum layer_mode { RUN_CONV, RUN_OP, RUN_ONEDNN, PACK_CONV, PACK_OP } layer_mode;

typedef struct layer_case {
    bench_case base;
    bench_arena *arena;
    layer_mode mode;
    cnnk_layer_desc desc;      /* checked (it comes from a built network) */
    cnnk_layer_dims dims;      /* of desc; every tensor dense, pitch = channels */
    cnnk_epilogue_spec ep;     /* what the network fuses into this layer */
    const cnnk_conv_kernel *ck;
    const cnnk_op_kernel *ok;
    int threads;
    bool real_time;            /* timed by the wall clock (threads > 1) */
    double peak;               /* GFLOP/s of the ISA that runs it */
    double bytes;              /* compulsory traffic per pass: src, dst, weights */
    int occurrences;           /* layers of the network this row stands for */
    double exec_flops;         /* executed per pass (bench_flop_counters); 0: unknown */
    char shape[256];           /* the label of cnnk rows */
    float *src, *dst, *w, *packed, *ws, *bias, *res;
    /* RoI pooling: the network's held boxes, its default proposals of the
     * img_h x img_w input (cnnk/proposals.h), as the network row runs them */
    float *boxes;
    int64_t img_h, img_w;
    cnnk_onednn_algo algo;     /* oneDNN rows: the convolution algorithm asked for */
    cnnk_onednn_layer *dnn;
    char dnn_label[192];       /* oneDNN rows: implementation and algorithm used */
} layer_case;

/* ---- the case's buffers ---------------------------------------------------- */

static void layer_release(bench_case *b) {
    layer_case *c = (layer_case *)b;
    free(c->src);
    free(c->dst);
    free(c->w);
    free(c->packed);
    free(c->ws);
    free(c->bias);
    free(c->res);
    free(c->boxes);
    c->src = c->dst = c->w = c->packed = c->ws = c->bias = c->res = c->boxes = NULL;
    cnnk_onednn_layer_destroy(c->dnn);
    c->dnn = NULL;
}

static void layer_destroy(bench_case *b) {
    layer_release(b);
    free(b);
}

static size_t packed_size(const layer_case *c) {
    if (c->ck) return c->ck->packed_size(&c->desc.u.conv);
    return c->ok->packed_size ? c->ok->packed_size(&c->desc) : 0;
}

static size_t workspace_size(const layer_case *c) {
    if (c->ck) return c->ck->workspace_size(&c->desc.u.conv, c->threads);
    return c->ok->workspace_size ? c->ok->workspace_size(&c->desc, c->threads) : 0;
}

static void pack(const layer_case *c) {
    if (c->ck) c->ck->pack(&c->desc.u.conv, c->w, c->packed);
    else c->ok->pack(&c->desc, c->w, c->packed);
}

static float *filled(size_t n, uint32_t seed, float lo, float hi) {
    float *p = bench_alloc(n);
    if (p) bench_fill(p, n, seed, lo, hi);
    return p;
}

/* cnnk's side: data, weights packed once (outside any timing), workspace. */
static bool prepare_cnnk(layer_case *c, char *msg, size_t len) {
    size_t nw = (size_t)c->dims.weights, np = packed_size(c);
    c->src = filled((size_t)cnnk_layer_src_elems(&c->desc), 1, -1.0f, 1.0f);
    c->dst = filled((size_t)cnnk_layer_dst_elems(&c->desc), 2, 0.0f, 1.0f);
    c->w = nw ? filled(nw, 3, -0.1f, 0.1f) : NULL;
    c->packed = np ? bench_alloc(np) : NULL;
    size_t nws = workspace_size(c);
    c->ws = nws ? bench_alloc(nws) : NULL;
    c->bias = c->dims.bias ? filled((size_t)c->dims.bias, 4, -0.1f, 0.1f) : NULL;
    /* A kernel that takes the residual in dst does here what it does in a
     * network where the residual dies at the layer, and what oneDNN's sum
     * post-op does beside it: dst holds the residual, read once. */
    const bool res_in_dst = c->ck && c->ck->residual_in_dst;
    c->res = c->ep.residual && !res_in_dst
                 ? filled((size_t)cnnk_layer_dst_elems(&c->desc), 5, -1.0f, 1.0f)
                 : NULL;
    const int64_t rois = c->desc.kind == CNNK_LAYER_REGION_POOL ? c->desc.u.region.rois : 0;
    if (rois > 0 && (c->boxes = bench_alloc((size_t)rois * 5)))
        cnnk_proposals_default(rois, c->img_h, c->img_w, 1, c->boxes);
    if (!c->src || !c->dst || (nw && !c->w) || (np && !c->packed) || (nws && !c->ws) ||
        (c->dims.bias && !c->bias) || (c->ep.residual && !res_in_dst && !c->res) ||
        (rois > 0 && !c->boxes)) {
        snprintf(msg, len, "out of memory");
        return false;
    }
    if (np && c->mode != PACK_CONV && c->mode != PACK_OP) {
        pack(c);
        free(c->w); /* the packed copy is all a forward pass reads */
        c->w = NULL;
    }
    return true;
}

static bool prepare_onednn(layer_case *c, char *msg, size_t len) {
    cnnk_error err;
    const cnnk_epilogue_spec *ep = c->dims.bias ? &c->ep : NULL;
    if (cnnk_onednn_layer_create(&c->desc, ep, c->algo, &c->dnn, &err) != CNNK_OK) {
        snprintf(msg, len, "oneDNN: %s", err.msg);
        return false;
    }
    /* Which algorithm ran, and a Winograd fallback named as such. */
    if (c->desc.kind == CNNK_LAYER_CONV)
        snprintf(c->dnn_label, sizeof c->dnn_label, "%s %s%s",
                 cnnk_onednn_layer_impl(c->dnn),
                 cnnk_onednn_algo_name(cnnk_onednn_layer_algo(c->dnn)),
                 cnnk_onednn_layer_note(c->dnn)[0] ? " (winograd refused)" : "");
    else
        snprintf(c->dnn_label, sizeof c->dnn_label, "%s", cnnk_onednn_layer_impl(c->dnn));
    /* The first execution JITs and touches the buffers: not timed. */
    if (cnnk_onednn_layer_execute(c->dnn) != CNNK_OK) {
        snprintf(msg, len, "oneDNN: execution failed");
        return false;
    }
    return true;
}

static bool layer_prepare(bench_case *b, bench_arena *a, char *msg, size_t len) {
    (void)a;
    layer_case *c = (layer_case *)b;
    return c->mode == RUN_ONEDNN ? prepare_onednn(c, msg, len) : prepare_cnnk(c, msg, len);
}

/* ---- the benchmarks -------------------------------------------------------- */

static void run_conv(const layer_case *c) {
    cnnk_conv_args a = {
        .src = c->src,
        .src_ld = c->dims.ic,
        .packed = c->packed,
        .dst = c->dst,
        .dst_ld = c->dims.oc,
        .ep = {.bias = c->ep.bias ? c->bias : NULL,
               .residual = c->ep.residual ? (c->res ? c->res : c->dst) : NULL,
               .residual_ld = c->dims.oc,
               .relu = c->ep.relu,
               .relu_alpha = c->ep.relu_alpha},
        .workspace = c->ws,
        .nthreads = c->threads,
    };
    c->ck->run(&c->desc.u.conv, &a);
}

static void run_op(const layer_case *c) {
    cnnk_op_args a;
    memset(&a, 0, sizeof a);
    a.src[0] = c->src;
    a.src_ld[0] = c->dims.ic;
    a.packed = c->packed;
    a.params[0] = c->boxes ? c->boxes : c->ep.bias ? c->bias : NULL;
    a.dst = c->dst;
    a.dst_ld = c->dims.oc;
    a.relu = c->ep.relu;
    a.relu_alpha = c->ep.relu_alpha;
    a.workspace = c->ws;
    a.nthreads = c->threads;
    c->ok->run(&c->desc, &a);
}

static void set_counters(cnnk_gb_state *st, const layer_case *c, double seconds) {
    /* a network's time from its layer rows: sum of time x layers_in_net */
    cnnk_gb_counter(st, "layers_in_net", (double)c->occurrences, CNNK_GB_PLAIN);
    if (c->dims.macs > 0) bench_flop_counters(st, c->dims.macs, c->exec_flops, c->peak, seconds);
    /* Per pass, for arithmetic intensity (cnnk report's rooflines). */
    cnnk_gb_counter(st, "bytes", c->bytes, CNNK_GB_PLAIN);
    /* Layers that cannot reach FMA peak (pooling, LRN, batch-1 FC) are
     * judged by the bandwidth their compulsory traffic takes. */
    if (c->dims.macs == 0 || c->desc.kind == CNNK_LAYER_FC) {
        cnnk_gb_counter(st, "bytes_per_second", c->bytes,
                        CNNK_GB_RATE | CNNK_GB_ITERATION_INVARIANT);
        double bw = cnnk_mem_bandwidth_gbs();
        if (bw > 0.0 && seconds > 0.0)
            cnnk_gb_counter(st, "pct_bw",
                            100.0 * c->bytes * (double)cnnk_gb_iterations(st) / seconds /
                                (bw * 1e9),
                            CNNK_GB_PLAIN);
    }
}

static void bm_layer(cnnk_gb_state *st, void *user) {
    layer_case *c = user;
    char msg[CNNK_ERROR_MSG_LEN + 32];
    if (!bench_activate(c->arena, &c->base, msg, sizeof msg)) {
        cnnk_gb_skip(st, msg);
        return;
    }
    double t0 = bench_clock(c->real_time);
    if (c->mode == RUN_ONEDNN) {
        while (cnnk_gb_keep_running(st))
            if (cnnk_onednn_layer_execute(c->dnn) != CNNK_OK) {
                cnnk_gb_skip(st, "oneDNN: execution failed");
                return;
            }
    } else if (c->mode == RUN_CONV) {
        while (cnnk_gb_keep_running(st)) run_conv(c);
    } else {
        while (cnnk_gb_keep_running(st)) run_op(c);
    }
    double seconds = bench_clock(c->real_time) - t0;
    cnnk_gb_label(st, c->mode == RUN_ONEDNN ? c->dnn_label : c->shape);
    set_counters(st, c, seconds);
}

static void bm_pack(cnnk_gb_state *st, void *user) {
    layer_case *c = user;
    char msg[CNNK_ERROR_MSG_LEN + 32];
    if (!bench_activate(c->arena, &c->base, msg, sizeof msg)) {
        cnnk_gb_skip(st, msg);
        return;
    }
    while (cnnk_gb_keep_running(st)) pack(c);
    double bytes = 4.0 * ((double)c->dims.weights + (double)packed_size(c));
    cnnk_gb_counter(st, "bytes_per_second", bytes, CNNK_GB_RATE | CNNK_GB_ITERATION_INVARIANT);
    cnnk_gb_counter(st, "weights", (double)c->dims.weights, CNNK_GB_PLAIN);
    cnnk_gb_counter(st, "packed", (double)packed_size(c), CNNK_GB_PLAIN);
    cnnk_gb_label(st, c->shape);
}

/* ---- which layers, with which fused epilogue -------------------------------- */

/* --input's side, or 0 (the network's default input) without one. */
static int64_t in_side(const bench_opts *o, int64_t side) { return o->input_given ? side : 0; }

static bool benchmarked_kind(cnnk_layer_kind k) {
    return k == CNNK_LAYER_CONV || k == CNNK_LAYER_FC || k == CNNK_LAYER_POOL ||
           k == CNNK_LAYER_LRN || k == CNNK_LAYER_SOFTMAX || k == CNNK_LAYER_DECONV ||
           k == CNNK_LAYER_RESIZE || k == CNNK_LAYER_REGION_POOL;
}

/* What the runner fuses into layer i (core/fuse.c), a group's head: bias
 * (its own, or a folded batch-norm's shift), the residual add, the ReLU. */
static cnnk_epilogue_spec epilogue_of(const cnnk_net *n, const cnnk_fusion *f, int i) {
    const cnnk_fused *g = &f->groups[f->group[i]];
    return (cnnk_epilogue_spec){.bias = n->nodes[i].has_bias || g->bn >= 0,
                                .residual = g->residual >= 0,
                                .relu = g->relu,
                                .relu_alpha = g->relu_alpha};
}

static void layer_key(const cnnk_layer_desc *l, const cnnk_epilogue_spec *ep, char *buf,
                      size_t len) {
    char s[256];
    const cnnk_pool_desc *p = &l->u.pool;
    switch (l->kind) {
    case CNNK_LAYER_CONV:
    case CNNK_LAYER_DECONV: {
        cnnk_conv_desc d = l->u.conv;
        d.name[0] = '\0';
        cnnk_conv_format(&d, s, sizeof s);
        break;
    }
    case CNNK_LAYER_FC:
        snprintf(s, sizeof s, "mb%lldic%lldih%lldiw%lldoc%lld", (long long)l->u.fc.mb,
                 (long long)l->u.fc.ic, (long long)l->u.fc.ih, (long long)l->u.fc.iw,
                 (long long)l->u.fc.oc);
        break;
    case CNNK_LAYER_POOL:
        snprintf(s, sizeof s, "mb%lldic%lldih%lldiw%lldoh%lldow%lldk%lldx%llds%lldx%lld"
                 "p%lld,%lld,%lld,%lld %s%s%s",
                 (long long)p->mb, (long long)p->c, (long long)p->ih, (long long)p->iw,
                 (long long)p->oh, (long long)p->ow, (long long)p->kh, (long long)p->kw,
                 (long long)p->sh, (long long)p->sw, (long long)p->pt, (long long)p->pl,
                 (long long)p->pb, (long long)p->pr,
                 p->alg == CNNK_POOL_MAX ? "max" : p->alg == CNNK_POOL_AVG_INCLUDE_PAD ? "avg" : "avg_exclude_pad",
                 p->round == CNNK_ROUND_CEIL ? " ceil" : "", p->global ? " global" : "");
        break;
    case CNNK_LAYER_LRN:
        snprintf(s, sizeof s, "mb%lldic%lldih%lldiw%lldls%lld,%g,%g,%g", (long long)l->u.lrn.mb,
                 (long long)l->u.lrn.c, (long long)l->u.lrn.h, (long long)l->u.lrn.w,
                 (long long)l->u.lrn.size, (double)l->u.lrn.alpha, (double)l->u.lrn.beta,
                 (double)l->u.lrn.k);
        break;
    case CNNK_LAYER_SOFTMAX:
        snprintf(s, sizeof s, "mb%lldic%lldih%lldiw%lld", (long long)l->u.softmax.mb,
                 (long long)l->u.softmax.c, (long long)l->u.softmax.h,
                 (long long)l->u.softmax.w);
        break;
    case CNNK_LAYER_RESIZE:
        snprintf(s, sizeof s, "mb%lldic%lldih%lldiw%lldoh%lldow%lld%s", (long long)l->u.resize.mb,
                 (long long)l->u.resize.c, (long long)l->u.resize.ih, (long long)l->u.resize.iw,
                 (long long)l->u.resize.oh, (long long)l->u.resize.ow,
                 l->u.resize.align_corners ? " align_corners" : "");
        break;
    case CNNK_LAYER_REGION_POOL: {
        const cnnk_region_pool_desc *g = &l->u.region;
        int m = snprintf(s, sizeof s, "mb%lldic%lldih%lldiw%lld rois%lld scale%g bins",
                         (long long)g->mb, (long long)g->c, (long long)g->ih, (long long)g->iw,
                         (long long)g->rois, (double)g->spatial_scale);
        for (int k = 0; k < g->nlevels && m > 0 && (size_t)m < sizeof s; ++k)
            m += snprintf(s + m, sizeof s - (size_t)m, "%s%lldx%lld", k ? "," : "",
                          (long long)g->bins_h[k], (long long)g->bins_w[k]);
        break;
    }
    default: s[0] = '\0';
    }
    snprintf(buf, len, "%s:%s:%d%d%d/%g", cnnk_layer_kind_name(l->kind), s, ep->bias,
             ep->residual, ep->relu, (double)ep->relu_alpha);
}

static void shape_label(const cnnk_layer_desc *l, const cnnk_epilogue_spec *ep, char *buf,
                        size_t len) {
    char s[200];
    if (l->kind == CNNK_LAYER_CONV || l->kind == CNNK_LAYER_DECONV) {
        cnnk_conv_desc d = l->u.conv;
        d.name[0] = '\0';
        cnnk_conv_format(&d, s, sizeof s);
    } else {
        layer_key(l, ep, s, sizeof s);
        char *colon = strchr(s, ':');
        if (colon) memmove(s, colon + 1, strlen(colon));
        char *last = strrchr(s, ':');
        if (last) *last = '\0';
    }
    snprintf(buf, len, "%s%s%s%s", s, ep->bias && cnnk_layer_dims_of(l).bias ? " +bias" : "",
             ep->residual ? " +add" : "",
             !ep->relu ? "" : ep->relu_alpha != 0.0f ? " +leaky" : " +relu");
}

/* ---- registration ------------------------------------------------------------ */

typedef struct reg_ctx {
    const bench_opts *o;
    bench_arena *arena;
    const cnnk_net *net;
    int node;
    cnnk_layer_desc desc; /* the node's layer as its step runs it (cnnk_fused_desc) */
    cnnk_epilogue_spec ep;
    int occurrences; /* of the layer being registered, in its network */
    int count;
    bool failed;
} reg_ctx;

static layer_case *new_case(reg_ctx *r, layer_mode mode) {
    layer_case *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->base.prepare = layer_prepare;
    c->base.release = layer_release;
    c->base.destroy = layer_destroy;
    c->arena = r->arena;
    c->mode = mode;
    c->desc = r->desc;
    c->ep = r->ep;
    c->occurrences = r->occurrences;
    c->img_h = r->net->h;
    c->img_w = r->net->w;
    c->threads = r->o->threads;
    c->real_time = r->o->threads > 1;
    c->dims = cnnk_layer_dims_of(&c->desc);
    c->bytes = 4.0 * (double)(cnnk_layer_src_elems(&c->desc) + cnnk_layer_dst_elems(&c->desc) +
                              c->dims.weights);
    shape_label(&c->desc, &c->ep, c->shape, sizeof c->shape);
    return c;
}

static void add(reg_ctx *r, layer_case *c, const char *family, const char *tail, cnnk_gb_fn fn) {
    if (!c) {
        r->failed = true;
        return;
    }
    char name[512];
    snprintf(name, sizeof name, "%s/%s/%s/%s", family, r->net->name, r->net->nodes[r->node].name,
             tail);
    cnnk_gb_bench *b = cnnk_gb_register(name, fn, c, bench_case_destroy);
    if (!b) {
        r->failed = true;
        return;
    }
    cnnk_gb_set_unit(b, CNNK_GB_US);
    /* With several threads the main thread's CPU time is not the run's. */
    if (r->o->threads > 1) cnnk_gb_use_real_time(b);
    r->count++;
}

static void register_conv_kernels(reg_ctx *r) {
    const cnnk_conv_desc *d = &r->desc.u.conv;
    for (size_t i = 0; i < cnnk_conv_kernel_count(); ++i) {
        const cnnk_conv_kernel *k = cnnk_conv_kernel_at(i);
        if (!r->o->isa[k->isa] || !cnnk_isa_available(k->isa) || !k->applies(d)) continue;
        char tail[128];
        snprintf(tail, sizeof tail, "cnnk/%s", k->name);
        layer_case *c = new_case(r, RUN_CONV);
        if (c) {
            c->ck = k;
            c->peak = cnnk_peak_gflops(k->isa) * r->o->threads;
            c->exec_flops = cnnk_conv_kernel_flops(k, d);
        }
        add(r, c, "layer", tail, bm_layer);
        if (k->packed_size(d) == 0) continue;
        c = new_case(r, PACK_CONV);
        if (c) c->ck = k;
        add(r, c, "pack", tail, bm_pack);
    }
}

static void register_op_kernels(reg_ctx *r) {
    const cnnk_layer_desc *l = &r->desc;
    for (size_t i = 0; i < cnnk_op_kernel_count(); ++i) {
        const cnnk_op_kernel *k = cnnk_op_kernel_at(i);
        if (k->kind != l->kind || !r->o->isa[k->isa] || !cnnk_isa_available(k->isa) ||
            !k->applies(l))
            continue;
        char tail[128];
        snprintf(tail, sizeof tail, "cnnk/%s", k->name);
        layer_case *c = new_case(r, RUN_OP);
        if (c) {
            c->ok = k;
            c->peak = cnnk_peak_gflops(k->isa) * r->o->threads;
            c->exec_flops = 2.0 * (double)c->dims.macs; /* FC, deconv: a GEMM of the MACs */
        }
        add(r, c, "layer", tail, bm_layer);
        if (!k->packed_size || !k->pack || k->packed_size(l) == 0) continue;
        c = new_case(r, PACK_OP);
        if (c) c->ok = k;
        add(r, c, "pack", tail, bm_pack);
    }
}

/* onednn/<isa> for a layer, onednn/<isa>/<algo> for a convolution, once
 * per algorithm asked for. */
static void register_onednn(reg_ctx *r) {
    if (!cnnk_onednn_available()) return;
    /* oneDNN pools a region only when it is one uniform whole-map level
     * (validate/onednn_peer.c); RoI pooling and SPP's pyramid it lacks. */
    cnnk_pool_desc as_pool;
    if (r->desc.kind == CNNK_LAYER_REGION_POOL && !cnnk_region_pool_as_pool(&r->desc.u.region, &as_pool))
        return;
    bool conv = r->desc.kind == CNNK_LAYER_CONV;
    for (int a = 0; a < CNNK_ONEDNN_ALGO_COUNT; ++a) {
        if (conv ? !r->o->onednn_algo[a] : a != CNNK_ONEDNN_DIRECT) continue;
        char tail[96];
        if (conv)
            snprintf(tail, sizeof tail, "onednn/%s/%s", bench_onednn_isa(),
                     cnnk_onednn_algo_name((cnnk_onednn_algo)a));
        else
            snprintf(tail, sizeof tail, "onednn/%s", bench_onednn_isa());
        layer_case *c = new_case(r, RUN_ONEDNN);
        if (c) {
            c->peak = bench_onednn_peak() * r->o->threads;
            c->algo = (cnnk_onednn_algo)a;
            /* oneDNN's direct primitives execute the definition; what its
             * Winograd executes is its own: unknown, not guessed. */
            c->exec_flops = a == CNNK_ONEDNN_DIRECT ? 2.0 * (double)c->dims.macs : 0.0;
        }
        add(r, c, "layer", tail, bm_layer);
    }
}

static bool layer_selected(const bench_opts *o, const char *name, bool *seen) {
    if (o->nlayers == 0) return true;
    for (int i = 0; i < o->nlayers; ++i)
        if (strcmp(o->layers[i], name) == 0) return seen[i] = true;
    return false;
}

/* How many layers of n have the descriptor and epilogue of key. */
static int count_same(const cnnk_net *n, const cnnk_fusion *f, const char *key) {
    int count = 0;
    for (int i = 1; i < n->n; ++i) {
        if (!benchmarked_kind(n->nodes[i].desc.kind) || n->nodes[i].op == CNNK_NODE_INPUT) continue;
        cnnk_epilogue_spec ep = epilogue_of(n, f, i);
        const cnnk_layer_desc l = cnnk_fused_desc(n, &f->groups[f->group[i]]);
        char k[384];
        layer_key(&l, &ep, k, sizeof k);
        count += strcmp(k, key) == 0;
    }
    return count;
}

/* Registers the net's distinct (selected) layers, each shape once. */
static void register_net_layers(reg_ctx *r, bool *seen) {
    const cnnk_net *n = r->net;
    cnnk_fusion f;
    cnnk_error err;
    if (cnnk_fuse(n, &f, &err) != CNNK_OK) {
        r->failed = true;
        return;
    }
    char(*keys)[384] = calloc((size_t)n->n, sizeof *keys);
    if (!keys) {
        cnnk_fusion_free(&f);
        r->failed = true;
        return;
    }
    int nkeys = 0;
    for (int i = 0; i < n->n && !r->failed; ++i) {
        const cnnk_node *x = &n->nodes[i];
        if (!benchmarked_kind(x->desc.kind) || x->op == CNNK_NODE_INPUT) continue;
        if (!layer_selected(r->o, x->name, seen)) continue;
        r->node = i;
        r->desc = cnnk_fused_desc(n, &f.groups[f.group[i]]);
        r->ep = epilogue_of(n, &f, i);
        char key[384];
        layer_key(&r->desc, &r->ep, key, sizeof key);
        bool dup = false;
        for (int k = 0; k < nkeys && !dup; ++k) dup = strcmp(keys[k], key) == 0;
        if (dup) continue;
        snprintf(keys[nkeys++], sizeof keys[0], "%s", key);
        r->occurrences = count_same(n, &f, key);
        if (x->desc.kind == CNNK_LAYER_CONV) register_conv_kernels(r);
        else register_op_kernels(r);
        register_onednn(r);
    }
    free(keys);
    cnnk_fusion_free(&f);
}

static void list_layers(const bench_opts *o) {
    for (int i = 0; i < o->nnets; ++i) {
        cnnk_net *n = NULL;
        cnnk_error err;
        if (cnnk_net_build(o->nets[i], o->batch, in_side(o, o->h), in_side(o, o->w), &n, &err) !=
            CNNK_OK)
            continue;
        fprintf(stderr, "  %s:", n->name);
        for (int j = 1; j < n->n; ++j)
            if (benchmarked_kind(n->nodes[j].desc.kind)) fprintf(stderr, " %s", n->nodes[j].name);
        fprintf(stderr, "\n");
        cnnk_net_destroy(n);
    }
}

int bench_register_layers(const bench_opts *o, bench_arena *a) {
    bool seen[BENCH_MAX_LAYERS] = {false};
    reg_ctx r = {.o = o, .arena = a};
    for (int i = 0; i < o->nnets && !r.failed; ++i) {
        cnnk_net *n = NULL;
        cnnk_error err;
        if (cnnk_net_build(o->nets[i], o->batch, in_side(o, o->h), in_side(o, o->w), &n, &err) !=
            CNNK_OK) {
            fprintf(stderr, "cnnk-bench: %s at batch %lld, %lldx%lld: %s\n", o->nets[i],
                    (long long)o->batch, (long long)o->h, (long long)o->w, err.msg);
            return -1;
        }
        r.net = n;
        register_net_layers(&r, seen);
        cnnk_net_destroy(n);
    }
    if (r.failed) {
        fprintf(stderr, "cnnk-bench: out of memory registering layer benchmarks\n");
        return -1;
    }
    for (int i = 0; i < o->nlayers; ++i) {
        if (seen[i]) continue;
        fprintf(stderr,
                "cnnk-bench: unknown layer '%s' in the selected networks; their "
                "layers:\n",
                o->layers[i]);
        list_layers(o);
        return -1;
    }
    return r.count;
}
