/* The runner: turns a network into steps once (kernel choice, fusion,
 * packing, memory), then runs forward passes that allocate nothing.
 *
 * A step is one group of the fusion rule (core/fuse.c, docs/RUNNER.md),
 * but a concat is no step: its inputs write at their channel offsets (a
 * copy step only where that cannot be done). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnk/runner.h"
#include "core/fuse.h"
#include "core/plan.h"
#include "core/runner_mem.h"
#include "cnnk/cpu.h"
#include "kernels/common/team.h"
#include "kernels/ref/ref.h"

#define NOTE_LEN 160
#define ALIGN 64

/* Where a node's values live: buffer `buf` (-1: the forward's input) at
 * float offset `off`, pixel pitch `ld`. */
typedef struct view {
    int buf;
    int64_t off, ld;
} view;

/* STEP_CROP: a crop no producer could absorb (core/fuse.c), copied row by
 * row; it has no kernel. */
typedef enum step_kind { STEP_CONV, STEP_OP, STEP_CROP } step_kind;

typedef struct step {
    step_kind kind;
    int head, out;    /* first and last node of the step */
    int bn;           /* folded BNORM node, or -1 */
    int residual;     /* CONV: node added in the epilogue, or -1 */
    bool relu;
    float relu_alpha; /* a fused leaky ReLU's slope; 0 for ReLU */
    const cnnk_conv_kernel *ck;
    const cnnk_op_kernel *ok;
    cnnk_layer_desc l; /* CONV: l.u.conv */
    int nsrc;
    int src[CNNK_CONCAT_MAX_INPUTS]; /* nodes read */
    int64_t packed_off, bias_off;    /* floats in the weights arena, -1: none */
    const float *params[4];
    bool patch; /* CONV: run as the 1x1 over its column of patches */
    int64_t reps;      /* images of l per network image: l's mb / the network's */
    char note[NOTE_LEN];
    cnnk_step_info info;
} step;

struct cnnk_runner {
    const cnnk_net *net;
    int nthreads;
    step *steps;
    int nsteps, cap;
    int *owner;   /* node -> step whose output it is part of, -1 */
    int *alias;   /* node -> the node holding its values (dropout) */
    bool *placed; /* node -> has a view */
    view *views;  /* node -> where its values live */
    cnnk_live_buf *bufs;
    int nbufs;
    float *arena, *weights, *workspace;
    int64_t peak, naive, out_elems;
    cnnk_tune_table *tuned; /* a TUNED plan's table; NULL otherwise */
    int *pus;               /* the team's binding (compact), NULL: unbound */
    bool images;            /* batch split across images, not within layers */
    int64_t arena_stride;   /* bytes: each thread's own arena in that split */
    int64_t img_ws;         /* floats of workspace per thread in that split */
    char binding[96];       /* what cnnk_runner_binding says */
    char plan_note[160];    /* what cnnk_runner_plan_note says */
};

/* ---- small helpers ------------------------------------------------------ */

static void *aligned_floats(int64_t n) {
    size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
    bytes = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    return aligned_alloc(ALIGN, bytes);
}

static int64_t align_floats(int64_t n) {
    const int64_t per = ALIGN / (int64_t)sizeof(float);
    return (n + per - 1) / per * per;
}

static int root(const cnnk_runner *r, int node) {
    while (r->alias[node] != node) node = r->alias[node];
    return node;
}

static const cnnk_node *node_at(const cnnk_runner *r, int i) {
    return &r->net->nodes[i];
}

/* Node n's values for mb images of the network: mb * reps of its own. */
static int64_t node_elems(const cnnk_node *n, int64_t mb) {
    return mb * n->reps * n->h * n->w * n->c;
}

static step *new_step(cnnk_runner *r, step_kind kind, int node) {
    if (r->nsteps == r->cap) return NULL; /* cap = node count: never reached */
    step *s = &r->steps[r->nsteps];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->head = s->out = node;
    s->bn = s->residual = -1;
    s->packed_off = s->bias_off = -1;
    s->l = node_at(r, node)->desc;
    s->reps = cnnk_layer_dims_of(&s->l).mb / r->net->mb;
    r->owner[node] = r->nsteps++;
    return s;
}

/* ---- fusion: groups (core/fuse.c) -> steps ---------------------------------- */

static void add_step(cnnk_runner *r, const cnnk_fused *g) {
    const cnnk_node *n = node_at(r, g->head);
    step *s = new_step(r,
                       n->op == CNNK_NODE_CONV   ? STEP_CONV
                       : n->op == CNNK_NODE_CROP ? STEP_CROP
                                                 : STEP_OP,
                       g->head);
    s->l = cnnk_fused_desc(r->net, g);
    s->out = g->out;
    s->bn = g->bn;
    s->residual = g->residual;
    s->nsrc = n->op == CNNK_NODE_CONV ? 1 : n->ninputs;
    for (int k = 0; k < s->nsrc; ++k) s->src[k] = root(r, n->inputs[k]);
    /* The add kernel takes its ReLU as an algorithm, not as a flag. */
    if (n->op == CNNK_NODE_ADD && g->relu)
        s->l.u.eltwise.alg = CNNK_ELTWISE_ADD_RELU;
    else
        s->relu = g->relu;
    s->relu_alpha = g->relu_alpha;
    if (n->op == CNNK_NODE_BNORM)
        for (int k = 0; k < 4; ++k) s->params[k] = n->bn[k];
    if ((n->op == CNNK_NODE_REGION_POOL && n->ninputs == 1) || n->op == CNNK_NODE_WARP)
        s->params[0] = n->weights;
}

/* A step per group but a concat's: concats are placed later (a copy step
 * only where that cannot be done). Every node of a group is owned by its
 * step; the head comes first, so the step exists when its members do. */
static cnnk_status fuse(cnnk_runner *r, cnnk_error *err) {
    cnnk_fusion f;
    CNNK_TRY(cnnk_fuse(r->net, &f, err));
    memcpy(r->alias, f.alias, (size_t)r->net->n * sizeof *r->alias);
    for (int i = 1; i < r->net->n; ++i) {
        const int gi = f.group[i];
        if (gi < 0) continue;
        const cnnk_fused *g = &f.groups[gi];
        if (g->head != i)
            r->owner[i] = r->owner[g->head];
        else if (node_at(r, i)->op != CNNK_NODE_CONCAT)
            add_step(r, g);
    }
    cnnk_fusion_free(&f);
    return CNNK_OK;
}

/* ---- concat placement --------------------------------------------------- */

static int new_buf(cnnk_runner *r, int64_t floats) {
    cnnk_live_buf *b = &r->bufs[r->nbufs];
    b->bytes = floats * (int64_t)sizeof(float);
    b->first = b->last = -1;
    b->offset = 0;
    return r->nbufs++;
}

/* A node can be written at a channel offset of a wider buffer when a
 * step writes it as its output (not the forward's input, not a value in
 * the middle of a fused step). */
static bool writable(const cnnk_runner *r, int node) {
    if (node <= 0 || r->owner[node] < 0) return node > 0 && node_at(r, node)->op == CNNK_NODE_CONCAT;
    return r->steps[r->owner[node]].out == node;
}

static bool same_view(view a, view b) {
    return a.buf == b.buf && a.off == b.off && a.ld == b.ld;
}

/* Whether all of concat c's inputs can take their places under view v
 * (already there, or free to be put there); `dup` rejects an input
 * listed twice, which would need two places. */
static bool inputs_fit(const cnnk_runner *r, int c, view v) {
    const cnnk_node *n = node_at(r, c);
    int64_t off = v.off;
    for (int k = 0; k < n->ninputs; ++k) {
        const int x = root(r, n->inputs[k]);
        const view want = {v.buf, off, v.ld};
        for (int j = 0; j < k; ++j)
            if (root(r, n->inputs[j]) == x) return false;
        if (r->placed[x] ? !same_view(r->views[x], want) : !writable(r, x)) return false;
        off += node_at(r, x)->c;
    }
    return true;
}

static void place_inputs(cnnk_runner *r, int c, view v) {
    const cnnk_node *n = node_at(r, c);
    int64_t off = v.off;
    for (int k = 0; k < n->ninputs; ++k) {
        const int x = root(r, n->inputs[k]);
        r->views[x] = (view){v.buf, off, v.ld};
        r->placed[x] = true;
        off += node_at(r, x)->c;
    }
}

/* All inputs already lie side by side in one buffer (DenseNet: an earlier
 * layer's concat is a prefix of the block's last one): c is a view. Only
 * inputs already placed: one placed here could land on channels another
 * value holds. */
static bool inputs_contiguous(const cnnk_runner *r, int c, view *v) {
    const cnnk_node *n = node_at(r, c);
    const int x0 = root(r, n->inputs[0]);
    for (int k = 0; k < n->ninputs; ++k)
        if (!r->placed[root(r, n->inputs[k])]) return false;
    *v = r->views[x0];
    return inputs_fit(r, c, *v);
}

static cnnk_status add_concat_copy(cnnk_runner *r, int c, cnnk_error *err) {
    step *s = new_step(r, STEP_OP, c);
    if (!s) return cnnk_fail(err, CNNK_EINVAL, "runner: too many steps");
    const cnnk_node *n = node_at(r, c);
    s->nsrc = n->ninputs;
    for (int k = 0; k < n->ninputs; ++k) s->src[k] = root(r, n->inputs[k]);
    return CNNK_OK;
}

/* Last concat first: the widest buffer of a DenseNet block is placed
 * before the earlier concats that are its prefixes. */
static cnnk_status place_concats(cnnk_runner *r, int64_t mb, cnnk_error *err) {
    for (int c = r->net->n - 1; c > 0; --c) {
        const cnnk_node *n = node_at(r, c);
        if (n->op != CNNK_NODE_CONCAT) continue;
        view v;
        if (!r->placed[c] && inputs_contiguous(r, c, &v)) {
            r->views[c] = v;
            r->placed[c] = true;
            continue;
        }
        if (!r->placed[c]) {
            r->views[c] = (view){new_buf(r, node_elems(n, mb)), 0, n->c};
            r->placed[c] = true;
        }
        if (inputs_fit(r, c, r->views[c]))
            place_inputs(r, c, r->views[c]);
        else if (add_concat_copy(r, c, err) != CNNK_OK)
            return CNNK_EINVAL;
    }
    return CNNK_OK;
}

/* Every step output without a place gets a buffer of its own. */
static void place_outputs(cnnk_runner *r, int64_t mb) {
    r->views[0] = (view){-1, 0, node_at(r, 0)->c};
    r->placed[0] = true;
    for (int i = 0; i < r->nsteps; ++i) {
        const int o = r->steps[i].out;
        if (r->placed[o]) continue;
        const cnnk_node *n = node_at(r, o);
        r->views[o] = (view){new_buf(r, node_elems(n, mb)), 0, n->c};
        r->placed[o] = true;
    }
}

static int by_out(const void *pa, const void *pb) {
    const step *a = pa, *b = pb;
    return a->out - b->out;
}

/* A step runs when its last node would: all its inputs (the residual
 * included, which torchvision computes after the main path) exist. After
 * this, `owner` indices are stale and no longer read. */
static void order_steps(cnnk_runner *r) {
    qsort(r->steps, (size_t)r->nsteps, sizeof *r->steps, by_out);
}

static void touch(cnnk_runner *r, int node, int stepi) {
    const int b = r->views[root(r, node)].buf;
    if (b < 0) return;
    cnnk_live_buf *lb = &r->bufs[b];
    if (lb->first < 0 || stepi < lb->first) lb->first = stepi;
    if (stepi > lb->last) lb->last = stepi;
}

static cnnk_status plan_memory(cnnk_runner *r, cnnk_error *err) {
    for (int i = 0; i < r->nsteps; ++i) {
        const step *s = &r->steps[i];
        touch(r, s->out, i);
        for (int k = 0; k < s->nsrc; ++k) touch(r, s->src[k], i);
        if (s->residual >= 0) touch(r, s->residual, i);
    }
    /* The network's output is read by forward() after the last step. */
    touch(r, r->net->n - 1, r->nsteps);
    r->naive = 0;
    for (int b = 0; b < r->nbufs; ++b) {
        if (r->bufs[b].first < 0) r->bufs[b].first = r->bufs[b].last = 0;
        r->naive += r->bufs[b].bytes;
    }
    return cnnk_plan_memory(r->bufs, r->nbufs, &r->peak, err);
}

/* ---- the residual in place ---------------------------------------------- */

/* Whether a step other than `except` (the in-place step's own residual
 * read), at index `from` or later, reads a value of buffer b, or one after
 * `from` writes one; the forward's read of the network's output counts as
 * a read after the last step. Values of b: every placed node viewing it. */
static bool buffer_busy(const cnnk_runner *r, int b, int from, int except) {
    for (int y = 0; y < r->net->n; ++y) {
        if (!r->placed[y] || root(r, y) != y || r->views[y].buf != b) continue;
        if (root(r, r->net->n - 1) == y) return true;
        for (int i = from; i < r->nsteps; ++i) {
            const step *s = &r->steps[i];
            if (i > from && s->out == y) return true;
            for (int k = 0; k < s->nsrc; ++k)
                if (s->src[k] == y) return true;
            if (s->residual >= 0 && root(r, s->residual) == y && !(i == from && y == except))
                return true;
        }
    }
    return false;
}

/* The node's values fill a buffer of the arena, dense, from its start. */
static bool whole_dense(const cnnk_runner *r, int node) {
    const view v = r->views[node];
    return v.buf >= 0 && v.off == 0 && v.ld == node_at(r, node)->c;
}

/* The only node viewing its buffer, dense and whole: no concat shares it. */
static bool sole_dense_view(const cnnk_runner *r, int node) {
    const view v = r->views[node];
    if (!whole_dense(r, node)) return false;
    for (int y = 0; y < r->net->n; ++y)
        if (y != node && r->placed[y] && root(r, y) == y && r->views[y].buf == v.buf) return false;
    return true;
}

/* A convolution adding a residual that dies there writes its output over
 * it (the kernel reads each residual value before writing the output
 * there: residual_in_dst), as oneDNN's sum post-op does: dst is read once
 * instead of the residual read and dst's write-allocate read, and the
 * output's own buffer is not needed. ResNet's every block ends so. Only a
 * dense residual of the output's shape, in a buffer nothing else reads
 * from this step on or writes after it (not the network's input or
 * output, not part of a concat). */
static void residual_in_place(cnnk_runner *r) {
    const char *e = getenv("CNNK_RESIDUAL"); /* "apart": never (for A/B runs) */
    if (e && strcmp(e, "apart") == 0) return;
    for (int i = 0; i < r->nsteps; ++i) {
        step *s = &r->steps[i];
        if (s->kind != STEP_CONV || s->residual < 0 || !s->ck->residual_in_dst) continue;
        const int x = root(r, s->residual);
        const cnnk_node *xn = node_at(r, x), *on = node_at(r, s->out);
        if (xn->c != on->c || xn->h != on->h || xn->w != on->w || xn->reps != on->reps) continue;
        /* x is not in out's buffer: out is the only node there. */
        if (!sole_dense_view(r, s->out) || !whole_dense(r, x) ||
            buffer_busy(r, r->views[x].buf, i, x))
            continue;
        r->bufs[r->views[s->out].buf].bytes = 0; /* no step touches it now */
        r->views[s->out] = r->views[x];
        s->info.residual_in_place = true;
    }
}

/* ---- kernels, packing, workspace ------------------------------------------ */

static void describe(cnnk_runner *r, step *s) {
    const cnnk_node *h = node_at(r, s->head), *o = node_at(r, s->out);
    const cnnk_node *in = node_at(r, s->nsrc > 0 ? s->src[0] : 0);
    int used = 0;
    char *b = s->info.shape;
    const int len = (int)sizeof s->info.shape;
    used += snprintf(b, (size_t)len, "%lldx%lldx%lld -> %lldx%lldx%lld", (long long)in->c,
                     (long long)in->h, (long long)in->w, (long long)o->c, (long long)o->h,
                     (long long)o->w);
    if (s->kind == STEP_CONV && used < len)
        used += snprintf(b + used, (size_t)(len - used), " k%lldx%lld s%lld",
                         (long long)h->desc.u.conv.kh, (long long)h->desc.u.conv.kw,
                         (long long)h->desc.u.conv.sh);
    if (s->bn >= 0 && used < len) used += snprintf(b + used, (size_t)(len - used), " +bn");
    if (s->residual >= 0 && used < len) used += snprintf(b + used, (size_t)(len - used), " +add");
    const bool relu = s->relu || (s->kind == STEP_OP && s->l.kind == CNNK_LAYER_ELTWISE &&
                                  s->l.u.eltwise.alg == CNNK_ELTWISE_ADD_RELU && h->op == CNNK_NODE_ADD);
    if (relu && used < len)
        snprintf(b + used, (size_t)(len - used), s->relu_alpha != 0.0f ? " +leaky" : " +relu");
    s->info.layer = h->name;
    s->info.note = s->note;
    s->info.macs = cnnk_layer_dims_of(&s->l).macs;
    s->info.flops = s->kind == STEP_CONV ? cnnk_conv_kernel_flops(s->ck, &s->l.u.conv)
                                         : 2.0 * (double)s->info.macs;
}

/* A convolution over a column of patches (cnnk_conv_patch_column: an
 * R-CNN head's fc6 over the regions stacked along h, 7x7 stride 7) is the
 * 1x1 convolution of its patches as pixels, rows of kh * kw * ic floats
 * that a GEMM reads in place; every plan but the reference runs it so.
 * Only with a dense input: a concat slice's pitch would split the rows. */
static void as_patches(cnnk_runner *r, step *s, const cnnk_plan *p) {
    const cnnk_conv_desc *d = &s->l.u.conv;
    if (p->kind == CNNK_PLAN_REF || !cnnk_conv_patch_column(d) || (d->kh == 1 && d->kw == 1) ||
        r->views[s->src[0]].ld != d->ic)
        return;
    s->l.u.conv = cnnk_conv_patch_1x1(d);
    s->patch = true;
}

static cnnk_status choose(cnnk_runner *r, step *s, cnnk_isa isa, const cnnk_plan *p,
                          cnnk_error *err) {
    const cnnk_node *h = node_at(r, s->head);
    if (s->kind == STEP_CROP) {
        s->info.kernel = "copy";
        snprintf(s->note, sizeof s->note, "crop: a copy (its producer cannot absorb it)");
    } else if (s->kind == STEP_CONV) {
        as_patches(r, s, p);
        s->ck = cnnk_plan_conv_kernel(p, r->tuned, r->net->name, isa, &s->l.u.conv, s->note,
                                      sizeof s->note);
        if (!s->ck) return cnnk_fail(err, CNNK_EUNSUPPORTED, "runner: no kernel for %s", h->name);
        s->info.kernel = s->ck->name;
        if (s->patch) {
            const size_t used = strlen(s->note);
            snprintf(s->note + used, sizeof s->note - used, "%sas 1x1 over %lld patches of %lld",
                     used ? "; " : "", (long long)s->l.u.conv.ih, (long long)s->l.u.conv.ic);
        }
    } else {
        s->ok = cnnk_plan_op_kernel(p, isa, &s->l, s->note, sizeof s->note);
        if (!s->ok)
            return cnnk_fail(err, CNNK_EUNSUPPORTED, "runner: no %s kernel for %s",
                             cnnk_layer_kind_name(s->l.kind), h->name);
        s->info.kernel = s->ok->name;
    }
    describe(r, s);
    return CNNK_OK;
}

static int64_t packed_floats(const step *s) {
    if (s->kind == STEP_CROP) return 0;
    if (s->kind == STEP_CONV) return (int64_t)s->ck->packed_size(&s->l.u.conv);
    return s->ok->packed_size ? (int64_t)s->ok->packed_size(&s->l) : 0;
}

/* The step's workspace on mb images with nthreads: the whole batch with
 * the runner's threads, or one thread's share in the image split. */
static int64_t workspace_floats(const step *s, int64_t mb, int nthreads) {
    cnnk_layer_desc l = s->l;
    cnnk_layer_set_mb(&l, mb * s->reps);
    if (s->kind == STEP_CROP) return 0;
    if (s->kind == STEP_CONV) return (int64_t)s->ck->workspace_size(&l.u.conv, nthreads);
    return s->ok->workspace_size ? (int64_t)s->ok->workspace_size(&l, nthreads) : 0;
}

/* Images per thread in the image split (the largest share that
 * cnnk_part_range gives). */
static int64_t images_per_thread(const cnnk_runner *r) {
    return (r->net->mb + r->nthreads - 1) / r->nthreads;
}

/* The batch is split across images (each thread runs whole layers on its
 * own images, one join per forward instead of one per layer) when there
 * are at least as many images as threads and the fully connected weights
 * are small: split by images, every thread streams all of them from memory
 * for its own few images (a GEMV each) where the layer split streams them
 * once for the batch. Measured at batch 16 on 16 cores (docs/THREADS.md):
 * images won for ResNet-50, DenseNet-121, GoogLeNet (4 to 8 MiB of FC
 * weights), lost for VGG-16 and AlexNet (494 and 235 MiB).
 * CNNK_BATCH_SPLIT=layers or images forces one. */
enum { IMAGE_SPLIT_MAX_FC_BYTES = 64 << 20 };

bool cnnk_runner_would_split_images(const cnnk_net *net, int nthreads) {
    if (nthreads < 2 || net->mb < 2) return false;
    const char *e = getenv("CNNK_BATCH_SPLIT");
    if (e && strcmp(e, "layers") == 0) return false;
    if (e && strcmp(e, "images") == 0) return true;
    int64_t fc = 0;
    for (int i = 0; i < net->n; ++i)
        if (net->nodes[i].op == CNNK_NODE_FC)
            fc += cnnk_layer_dims_of(&net->nodes[i].desc).weights * (int64_t)sizeof(float);
    return net->mb >= nthreads && fc <= IMAGE_SPLIT_MAX_FC_BYTES;
}

/* Folds the BN into copies of the conv's weights and bias, then packs. */
static cnnk_status pack_folded(cnnk_runner *r, step *s, cnnk_error *err) {
    const cnnk_node *c = node_at(r, s->head), *bn = node_at(r, s->bn);
    const cnnk_conv_desc *d = &s->l.u.conv;
    const int64_t nw = cnnk_conv_weights(d);
    float *w = malloc((size_t)nw * sizeof *w);
    if (!w) return cnnk_fail(err, CNNK_ENOMEM, "runner: out of memory folding %s", c->name);
    if (s->patch) /* the fold scales each output channel's run of weights */
        cnnk_conv_patch_weights(&c->desc.u.conv, c->weights, w);
    else
        memcpy(w, c->weights, (size_t)nw * sizeof *w);
    float *bias = r->weights + s->bias_off;
    for (int64_t o = 0; o < d->oc; ++o) bias[o] = c->has_bias ? c->bias[o] : 0.0f;
    cnnk_ref_bnorm_fold(d, w, bias, bn->bn[0], bn->bn[1], bn->bn[2], bn->bn[3],
                        bn->desc.u.bnorm.eps);
    s->ck->pack(d, w, r->weights + s->packed_off);
    free(w);
    return CNNK_OK;
}

static cnnk_status pack_step(cnnk_runner *r, step *s, cnnk_error *err) {
    const cnnk_node *h = node_at(r, s->head);
    if (s->kind == STEP_CONV) {
        if (s->bn >= 0) return pack_folded(r, s, err);
        if (!s->patch) {
            s->ck->pack(&s->l.u.conv, h->weights, r->weights + s->packed_off);
            return CNNK_OK;
        }
        float *w = malloc((size_t)cnnk_conv_weights(&s->l.u.conv) * sizeof *w);
        if (!w) return cnnk_fail(err, CNNK_ENOMEM, "runner: out of memory packing %s", h->name);
        cnnk_conv_patch_weights(&h->desc.u.conv, h->weights, w);
        s->ck->pack(&s->l.u.conv, w, r->weights + s->packed_off);
        free(w);
        return CNNK_OK;
    }
    if (s->packed_off >= 0) s->ok->pack(&s->l, h->weights, r->weights + s->packed_off);
    if (h->op == CNNK_NODE_FC || h->op == CNNK_NODE_DECONV) s->params[0] = h->has_bias ? h->bias : NULL;
    return CNNK_OK;
}

/* One arena for every step's packed weights (and folded biases). */
static cnnk_status pack_all(cnnk_runner *r, cnnk_error *err) {
    int64_t total = 0, ws = 0;
    for (int i = 0; i < r->nsteps; ++i) {
        step *s = &r->steps[i];
        const int64_t n = packed_floats(s);
        if (n > 0) s->packed_off = total, total += align_floats(n);
        if (s->bn >= 0) s->bias_off = total, total += align_floats(s->l.u.conv.oc);
        const int64_t w = workspace_floats(s, r->net->mb, r->nthreads);
        if (w > ws) ws = w;
        if (r->images) {
            const int64_t wi = align_floats(workspace_floats(s, images_per_thread(r), 1));
            if (wi > r->img_ws) r->img_ws = wi;
        }
    }
    if (r->images && r->img_ws * r->nthreads > ws) ws = r->img_ws * r->nthreads;
    r->weights = aligned_floats(total);
    r->workspace = aligned_floats(ws);
    if (!r->weights || !r->workspace)
        return cnnk_fail(err, CNNK_ENOMEM, "runner: out of memory for %lld packed floats",
                         (long long)total);
    for (int i = 0; i < r->nsteps; ++i)
        if (pack_step(r, &r->steps[i], err) != CNNK_OK) return CNNK_ENOMEM;
    return CNNK_OK;
}

/* ---- validation ------------------------------------------------------------- */

static bool has_params(const cnnk_node *n) {
    switch (n->op) {
    case CNNK_NODE_CONV:
    case CNNK_NODE_DECONV:
    case CNNK_NODE_FC: return n->weights && (!n->has_bias || n->bias);
    case CNNK_NODE_BNORM: return n->bn[0] && n->bn[1] && n->bn[2] && n->bn[3];
    case CNNK_NODE_REGION_POOL: /* held proposals */
        return n->ninputs == 2 || n->desc.u.region.rois == 0 || n->weights;
    case CNNK_NODE_WARP: return n->weights != NULL;
    default: return true;
    }
}

static cnnk_status check_node(const cnnk_node *n, cnnk_error *err) {
    if (!has_params(n))
        return cnnk_fail(err, CNNK_EINVAL,
                         "runner: %s has no weights (call cnnk_net_init_weights)", n->name);
    /* A dropout is no step: nothing reads its descriptor. */
    if (n->op == CNNK_NODE_DROPOUT || n->op == CNNK_NODE_INPUT) return CNNK_OK;
    cnnk_layer_desc l = n->desc;
    return cnnk_layer_check(&l, err);
}

static cnnk_status check_net(const cnnk_net *net, cnnk_isa isa, int nthreads, cnnk_error *err) {
    if (cnnk_net_status(net, err) != CNNK_OK) return CNNK_EINVAL;
    if (net->n < 2) return cnnk_fail(err, CNNK_EINVAL, "runner: %s has no layers", net->name);
    if (isa < 0 || isa >= CNNK_ISA_COUNT || !cnnk_isa_available(isa))
        return cnnk_fail(err, CNNK_EUNSUPPORTED, "runner: this CPU does not run ISA %s",
                         cnnk_isa_name(isa));
    if (nthreads < 1) return cnnk_fail(err, CNNK_EINVAL, "runner: nthreads=%d < 1", nthreads);
    for (int i = 1; i < net->n; ++i) {
        cnnk_error e;
        if (check_node(&net->nodes[i], &e) != CNNK_OK)
            return cnnk_fail(err, CNNK_EINVAL, "%s: %s", net->nodes[i].name, e.msg);
    }
    return CNNK_OK;
}

/* The flattening FC and the caller's output want dense rows. */
static cnnk_status check_dense(const cnnk_runner *r, cnnk_error *err) {
    for (int i = 0; i < r->nsteps; ++i) {
        const step *s = &r->steps[i];
        if (s->l.kind != CNNK_LAYER_FC || s->kind != STEP_OP) continue;
        const view v = r->views[s->src[0]];
        if (v.ld != node_at(r, s->src[0])->c)
            return cnnk_fail(err, CNNK_EUNSUPPORTED, "runner: %s reads a strided input",
                             node_at(r, s->head)->name);
    }
    return CNNK_OK;
}

/* ---- prepare / destroy --------------------------------------------------- */

static cnnk_status alloc_tables(cnnk_runner *r, int n) {
    /* A step per node at most, plus a copy per concat (also a node). */
    r->cap = n;
    r->steps = calloc((size_t)n, sizeof *r->steps);
    r->owner = malloc((size_t)n * sizeof *r->owner);
    r->alias = malloc((size_t)n * sizeof *r->alias);
    r->placed = calloc((size_t)n, sizeof *r->placed);
    r->views = calloc((size_t)n, sizeof *r->views);
    r->bufs = calloc((size_t)n, sizeof *r->bufs);
    if (!r->steps || !r->owner || !r->alias || !r->placed || !r->views || !r->bufs)
        return CNNK_ENOMEM;
    for (int i = 0; i < n; ++i) {
        r->owner[i] = -1;
        r->alias[i] = i;
    }
    return CNNK_OK;
}

static cnnk_status build(cnnk_runner *r, cnnk_isa isa, const cnnk_plan *plan, cnnk_error *err) {
    /* The image split: threads run the steps unsynchronised on their own
     * images, so a buffer the liveness plan reuses for a later step could
     * still be read by another thread's earlier step. Each thread gets its
     * own arena, planned for its share of images. */
    const int64_t mb = r->images ? images_per_thread(r) : r->net->mb;
    if (alloc_tables(r, r->net->n) != CNNK_OK)
        return cnnk_fail(err, CNNK_ENOMEM, "runner: out of memory");
    CNNK_TRY(fuse(r, err));
    if (place_concats(r, mb, err) != CNNK_OK) return CNNK_EINVAL;
    order_steps(r);
    place_outputs(r, mb);
    /* The network's output may be an alias or a concat view: give the
     * forward a place to read it from. */
    if (!r->placed[root(r, r->net->n - 1)])
        return cnnk_fail(err, CNNK_EUNSUPPORTED, "runner: the last node has no value");
    const cnnk_status ts = cnnk_plan_load_table(plan, isa, &r->tuned, err);
    if (ts != CNNK_OK) return ts;
    if (r->tuned && r->tuned->cpu.threads != r->nthreads)
        snprintf(r->plan_note, sizeof r->plan_note,
                 "tuned at %d thread(s), run at %d: a layer's best kernel can depend on the "
                 "thread count (docs/TUNING.md); tune with --threads %d",
                 r->tuned->cpu.threads, r->nthreads, r->nthreads);
    for (int i = 0; i < r->nsteps; ++i)
        if (choose(r, &r->steps[i], isa, plan, err) != CNNK_OK) return CNNK_EUNSUPPORTED;
    if (check_dense(r, err) != CNNK_OK) return CNNK_EUNSUPPORTED;
    residual_in_place(r);
    if (plan_memory(r, err) != CNNK_OK) return CNNK_ENOMEM;
    r->arena_stride = align_floats(r->peak / (int64_t)sizeof(float)) * (int64_t)sizeof(float);
    if (r->images) {
        r->peak = r->arena_stride * r->nthreads;
        r->naive *= r->nthreads;
    }
    r->arena = aligned_floats(r->peak / (int64_t)sizeof(float));
    if (!r->arena)
        return cnnk_fail(err, CNNK_ENOMEM, "runner: out of memory for %lld activation bytes",
                         (long long)r->peak);
    const cnnk_node *last = node_at(r, r->net->n - 1);
    r->out_elems = node_elems(last, r->net->mb);
    return pack_all(r, err);
}

/* Threads are bound compactly (one per core first) unless CNNK_BIND=none,
 * or there are more threads than processors: then nothing is bound, and
 * the description says so (docs/THREADS.md). pus (n entries) gets the
 * processors when bound; the return says whether. */
static bool binding_for(int n, int *pus, char *buf, size_t len) {
    const cnnk_cpu_info *c = cnnk_cpu();
    const char *env = getenv("CNNK_BIND");
    if (env && strcmp(env, "none") == 0) {
        snprintf(buf, len, "none (CNNK_BIND=none): %d threads, %d cores", n, c->cores);
        return false;
    }
    if (n > c->pus) {
        snprintf(buf, len, "none: %d threads oversubscribe %d processors (%d cores)", n, c->pus,
                 c->cores);
        return false;
    }
    if (pus && !cnnk_cpu_compact_pus(n, pus)) {
        snprintf(buf, len, "none: the topology gave no processors for %d threads", n);
        return false;
    }
    const bool smt = n > c->cores;
    snprintf(buf, len, "compact: %d thread%s on %d of %d cores%s", n, n == 1 ? "" : "s",
             smt ? c->cores : n, c->cores, smt ? ", SMT siblings shared" : "");
    return true;
}

void cnnk_runner_binding_for(int nthreads, char *buf, size_t len) {
    binding_for(nthreads, NULL, buf, len);
}

static cnnk_status bind(cnnk_runner *r, cnnk_error *err) {
    r->pus = malloc((size_t)r->nthreads * sizeof *r->pus);
    if (!r->pus) return cnnk_fail(err, CNNK_ENOMEM, "runner: out of memory");
    if (!binding_for(r->nthreads, r->pus, r->binding, sizeof r->binding)) {
        free(r->pus);
        r->pus = NULL;
    }
    return CNNK_OK;
}

cnnk_status cnnk_runner_prepare(const cnnk_net *net, cnnk_isa isa, const cnnk_plan *plan,
                                int nthreads, cnnk_runner **out, cnnk_error *err) {
    *out = NULL;
    if (!net || !plan) return cnnk_fail(err, CNNK_EINVAL, "runner: no network or plan");
    cnnk_status s = check_net(net, isa, nthreads, err);
    if (s != CNNK_OK) return s;
    cnnk_runner *r = calloc(1, sizeof *r);
    if (!r) return cnnk_fail(err, CNNK_ENOMEM, "runner: out of memory");
    r->net = net;
    r->nthreads = nthreads;
    r->images = cnnk_runner_would_split_images(net, nthreads);
    s = bind(r, err);
    if (s == CNNK_OK) s = build(r, isa, plan, err);
    if (s != CNNK_OK) {
        cnnk_runner_destroy(r);
        return s;
    }
    /* OpenMP's runtime allocates lazily in the first parallel regions of a
     * thread team (an empty region here was not enough: test_runner). One
     * forward on zeros makes every such first use happen in prepare, so the
     * first timed forward allocates nothing either. */
    if (nthreads > 1) {
        const cnnk_net *n = r->net;
        float *in = calloc((size_t)(n->mb * n->h * n->w * n->c), sizeof *in);
        float *res = calloc((size_t)r->out_elems, sizeof *res);
        if (!in || !res) {
            free(in), free(res);
            cnnk_runner_destroy(r);
            return cnnk_fail(err, CNNK_ENOMEM, "runner: out of memory for the warm-up pass");
        }
        cnnk_runner_forward(r, in, res, false);
        free(in), free(res);
    }
    *out = r;
    return CNNK_OK;
}

void cnnk_runner_destroy(cnnk_runner *r) {
    if (!r) return;
    free(r->steps), free(r->owner), free(r->alias);
    free(r->placed), free(r->views), free(r->bufs);
    free(r->arena), free(r->weights), free(r->workspace);
    free(r->pus);
    cnnk_tune_free(r->tuned);
    free(r);
}

/* ---- forward ---------------------------------------------------------------- */

static float *at(const cnnk_runner *r, const float *input, int node) {
    const view v = r->views[root(r, node)];
    float *base = v.buf < 0 ? (float *)input : (float *)((char *)r->arena + r->bufs[v.buf].offset);
    return base + v.off;
}

static int64_t pitch(const cnnk_runner *r, int node) {
    return r->views[root(r, node)].ld;
}

/* What a step runs on: the whole batch with the runner's threads, or (the
 * image split) images [b0, b0 + mb) on one thread with its own workspace.
 * Image b of the network owns rows [b * k, (b + 1) * k) of a node of
 * reps k, so a slice's rows of every node start at its arena's start. */
typedef struct slice {
    int64_t b0, mb; /* mb 0: the whole batch */
    char *arena;    /* the activations of these images */
    float *ws;
    int nthreads;
} slice;

/* Node values of the slice's first image: the network's input at image
 * b0 (images h*w pixels of pitch ld apart), everything else in the
 * slice's own arena, which starts at its first image. */
static float *at_image(const cnnk_runner *r, const float *input, int node, const slice *sl) {
    const view v = r->views[root(r, node)];
    if (v.buf >= 0) return (float *)(sl->arena + r->bufs[v.buf].offset) + v.off;
    const cnnk_node *n = node_at(r, node);
    return (float *)input + sl->b0 * n->reps * n->h * n->w * v.ld + v.off;
}

static void run_conv(const cnnk_runner *r, const step *s, const float *input, const slice *sl) {
    cnnk_conv_args a = {
        .src = at_image(r, input, s->src[0], sl),
        .src_ld = s->patch ? s->l.u.conv.ic : pitch(r, s->src[0]),
        .packed = r->weights + s->packed_off,
        .dst = at_image(r, input, s->out, sl),
        .dst_ld = pitch(r, s->out),
        .workspace = sl->ws,
        .nthreads = sl->nthreads,
    };
    const cnnk_node *h = node_at(r, s->head);
    a.ep.bias = s->bias_off >= 0 ? r->weights + s->bias_off : h->has_bias ? h->bias : NULL;
    a.ep.relu = s->relu;
    a.ep.relu_alpha = s->relu_alpha;
    if (s->residual >= 0) {
        a.ep.residual = at_image(r, input, s->residual, sl);
        a.ep.residual_ld = pitch(r, s->residual);
    }
    cnnk_conv_desc d = s->l.u.conv;
    if (sl->mb) d.mb = sl->mb * s->reps;
    s->ck->run(&d, &a);
}

static void run_op(const cnnk_runner *r, const step *s, const float *input, const slice *sl) {
    cnnk_op_args a = {
        .packed = s->packed_off >= 0 ? r->weights + s->packed_off : NULL,
        .dst = at_image(r, input, s->out, sl),
        .dst_ld = pitch(r, s->out),
        .relu = s->relu,
        .relu_alpha = s->relu_alpha,
        .workspace = sl->ws,
        .nthreads = sl->nthreads,
    };
    for (int k = 0; k < s->nsrc; ++k) {
        a.src[k] = at_image(r, input, s->src[k], sl);
        a.src_ld[k] = pitch(r, s->src[k]);
    }
    for (int k = 0; k < 4; ++k) a.params[k] = s->params[k];
    cnnk_layer_desc l = s->l;
    if (sl->mb) cnnk_layer_set_mb(&l, sl->mb * s->reps);
    s->ok->run(&l, &a);
}

/* The crop window of the step's input, row by row into its output. */
static void run_crop(const cnnk_runner *r, const step *s, const float *input, const slice *sl) {
    const cnnk_node *c = node_at(r, s->head), *in = node_at(r, s->src[0]);
    const float *x = at_image(r, input, s->src[0], sl);
    float *y = at_image(r, input, s->out, sl);
    const int64_t xld = pitch(r, s->src[0]), yld = pitch(r, s->out);
    const int64_t mb = (sl->mb ? sl->mb : r->net->mb) * s->reps;
    for (int64_t n = 0; n < mb; ++n)
        for (int64_t h = 0; h < c->h; ++h)
            for (int64_t w = 0; w < c->w; ++w) {
                const int64_t src = (n * in->h + h + c->crop_top) * in->w + w + c->crop_left;
                const int64_t dst = (n * c->h + h) * c->w + w;
                memcpy(y + dst * yld, x + src * xld, (size_t)c->c * sizeof *y);
            }
}

static void run_step(const cnnk_runner *r, const step *s, const float *input, const slice *sl) {
    if (s->kind == STEP_CONV)
        run_conv(r, s, input, sl);
    else if (s->kind == STEP_CROP)
        run_crop(r, s, input, sl);
    else
        run_op(r, s, input, sl);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* The last node's values of images [lo, hi), from src (image lo's), into
 * the dense output. */
static void copy_rows(const cnnk_runner *r, const float *src, float *output, int64_t lo,
                      int64_t hi) {
    const int last = r->net->n - 1;
    const cnnk_node *n = node_at(r, last);
    const int64_t ld = pitch(r, last), per = n->reps * n->h * n->w;
    output += lo * per * n->c;
    for (int64_t i = 0; i < (hi - lo) * per; ++i)
        memcpy(output + i * n->c, src + i * ld, (size_t)n->c * sizeof *output);
}

static void copy_output(const cnnk_runner *r, const float *input, float *output) {
    copy_rows(r, at(r, input, r->net->n - 1), output, 0, r->net->mb);
}

typedef struct forward_args {
    cnnk_runner *r;
    const float *input;
    float *output;
    bool profile;
    cnnk_team_model *model; /* the model forward's totals, or NULL */
} forward_args;

static void forward_body(void *p) {
    const forward_args *f = p;
    cnnk_runner *r = f->r;
    const float *input = f->input;
    const bool profile = f->profile;
    const slice whole = {.arena = (char *)r->arena, .ws = r->workspace, .nthreads = r->nthreads};
    const slice *sl = &whole;
    for (int i = 0; i < r->nsteps; ++i) {
        step *s = &r->steps[i];
        const double t0 = profile ? now_ms() : 0.0;
        const cnnk_team_model before = f->model ? *f->model : (cnnk_team_model){0};
        run_step(r, s, input, sl);
        if (profile) s->info.last_ms = now_ms() - t0;
        if (f->model) {
            const cnnk_team_model *m = f->model;
            s->info.model_work_ms = m->work_ms - before.work_ms;
            s->info.model_jobs = m->jobs - before.jobs;
            s->info.model_ms = s->info.last_ms - s->info.model_work_ms +
                               (m->critical_ms - before.critical_ms);
        }
    }
    copy_output(r, input, f->output);
}

/* The image split: part t runs every step on its images, one thread, its
 * own workspace slice; per-step times are part 0's. */
static void image_part(void *p, int t, int nt) {
    const forward_args *f = p;
    cnnk_runner *r = f->r;
    int64_t lo, hi;
    cnnk_part_range(r->net->mb, t, nt, &lo, &hi);
    if (lo == hi) return;
    const slice sl = {.b0 = lo, .mb = hi - lo,
                      .arena = (char *)r->arena + (size_t)t * (size_t)r->arena_stride,
                      .ws = r->workspace + (size_t)t * (size_t)r->img_ws, .nthreads = 1};
    const bool timed = f->profile && t == 0;
    for (int i = 0; i < r->nsteps; ++i) {
        step *s = &r->steps[i];
        const double t0 = timed ? now_ms() : 0.0;
        run_step(r, s, f->input, &sl);
        if (timed) s->info.last_ms = now_ms() - t0;
    }
    copy_rows(r, at_image(r, f->input, r->net->n - 1, &sl), f->output, lo, hi);
}

static void images_body(void *p) {
    forward_args *f = p;
    cnnk_parallel(f->r->nthreads, image_part, f);
}

/* The whole pass runs inside one team (kernels/common/team.h): the layers'
 * parallel work is dispatched to threads held for the pass, not forked per
 * layer. Each layer's dispatch ends when all its parts are done, which is
 * the one barrier a layer's consumers need; split by images, the pass is
 * one job. */
void cnnk_runner_forward(cnnk_runner *r, const float *input, float *output, bool profile) {
    forward_args f = {.r = r, .input = input, .output = output, .profile = profile};
    cnnk_team_run(r->nthreads, r->pus, r->images ? images_body : forward_body, &f);
}

double cnnk_runner_forward_model(cnnk_runner *r, const float *input, float *output,
                                 int64_t *jobs) {
    cnnk_team_model m = {0};
    forward_args f = {.r = r, .input = input, .output = output, .profile = true, .model = &m};
    cnnk_team_model_set(&m);
    const double t0 = now_ms();
    if (r->images)
        images_body(&f);
    else
        forward_body(&f);
    const double total = now_ms() - t0;
    cnnk_team_model_set(NULL);
    if (jobs) *jobs = m.jobs;
    return total - m.work_ms + m.critical_ms;
}

double cnnk_runner_dispatch_us(int nt) {
    return cnnk_team_dispatch_us(nt);
}

bool cnnk_runner_splits_images(const cnnk_runner *r) {
    return r->images;
}

const char *cnnk_runner_binding(const cnnk_runner *r) {
    return r->binding;
}

const char *cnnk_runner_plan_note(const cnnk_runner *r) {
    return r->plan_note;
}

/* ---- queries ------------------------------------------------------------------ */

int cnnk_runner_step_count(const cnnk_runner *r) {
    return r->nsteps;
}

const cnnk_step_info *cnnk_runner_step(const cnnk_runner *r, int i) {
    return i >= 0 && i < r->nsteps ? &r->steps[i].info : NULL;
}

int64_t cnnk_runner_output_elems(const cnnk_runner *r) {
    return r->out_elems;
}

int64_t cnnk_runner_peak_activation_bytes(const cnnk_runner *r) {
    return r->peak;
}

int64_t cnnk_runner_naive_activation_bytes(const cnnk_runner *r) {
    return r->naive;
}

int64_t cnnk_runner_concat_copy_bytes(const cnnk_runner *r) {
    int64_t bytes = 0;
    for (int i = 0; i < r->nsteps; ++i) {
        const step *s = &r->steps[i];
        const cnnk_node *n = node_at(r, s->head);
        if (s->kind == STEP_OP && n->op == CNNK_NODE_CONCAT)
            bytes += node_elems(n, r->net->mb) * (int64_t)sizeof(float);
    }
    return bytes;
}
