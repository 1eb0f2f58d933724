/* The built-in networks (nets/) against torchvision's definitions, not
 * against themselves (issue 19, item 1).
 *
 * tests/torchvision_nets.txt is derived once from torchvision by
 * scripts/derive-nets.py (torch.fx trace plus shape propagation at
 * 1x3x224x224; docs/TESTING.md), so this test needs no PyTorch. Each graph
 * is reduced to a canonical form: every node is interned by its operation,
 * its module path (convolutions, batch-norms, linear layers: the modules
 * used once), its parameters, its output shape and the canonical numbers
 * of its inputs in order, with identities (dropout, flatten, adaptive pools
 * to the size they have, a concat of one tensor) resolved and concats of
 * concats flattened (cnnk's DenseNet chains concat(previous, new) where
 * torchvision concatenates the list). Two graphs are the same network exactly when their output nodes
 * get the same number. So a swapped pair of concat branches, a concat with
 * the new features first, a ReLU moved before a residual add, a stride on
 * the wrong convolution or any wrong shape changes the number; the first
 * cnnk node without a torchvision counterpart is reported. */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/net.h"

#define SIG_LEN 8192

/* ---- interning: signature string -> small number ------------------------- */

typedef struct intern {
    char **keys;
    int *vals;
    size_t cap, n;
} intern;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; ++s) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int intern_id(intern *t, const char *key) {
    if (2 * (t->n + 1) > t->cap) {
        intern old = *t;
        t->cap = old.cap ? 2 * old.cap : 4096;
        t->keys = calloc(t->cap, sizeof *t->keys);
        t->vals = calloc(t->cap, sizeof *t->vals);
        t->n = 0;
        for (size_t i = 0; i < old.cap; ++i) {
            if (!old.keys[i]) continue;
            size_t j = hash_str(old.keys[i]) & (t->cap - 1);
            while (t->keys[j]) j = (j + 1) & (t->cap - 1);
            t->keys[j] = old.keys[i], t->vals[j] = old.vals[i], ++t->n;
        }
        free(old.keys), free(old.vals);
    }
    size_t j = hash_str(key) & (t->cap - 1);
    for (; t->keys[j]; j = (j + 1) & (t->cap - 1))
        if (strcmp(t->keys[j], key) == 0) return t->vals[j];
    t->keys[j] = strdup(key);
    t->vals[j] = (int)t->n++;
    return t->vals[j];
}

static void intern_free(intern *t) {
    for (size_t i = 0; i < t->cap; ++i) free(t->keys[i]);
    free(t->keys), free(t->vals);
}

/* ---- one graph in canonical form ----------------------------------------- */

/* Per node: its canonical number, and for a concat its flattened inputs. */
typedef struct canon {
    int *id;
    int **flat;
    int *nflat;
    int n;
} canon;

static void canon_init(canon *c, int n) {
    c->id = calloc((size_t)n, sizeof *c->id);
    c->flat = calloc((size_t)n, sizeof *c->flat);
    c->nflat = calloc((size_t)n, sizeof *c->nflat);
    c->n = n;
}

static void canon_free(canon *c) {
    for (int i = 0; i < c->n; ++i) free(c->flat[i]);
    free(c->id), free(c->flat), free(c->nflat);
}

/* Node i = op(name, params, shape) of inputs in[0..k): interns it. A concat
 * splices in the inputs of input concats. */
static void canon_node(canon *c, intern *t, int i, const char *op, const char *name,
                       const char *params, int64_t ch, int64_t h, int64_t w, const int *in,
                       int k) {
    char sig[SIG_LEN];
    int len = snprintf(sig, sizeof sig, "%s|%s|%s|%lld %lld %lld|", op, name, params,
                       (long long)ch, (long long)h, (long long)w);
    const bool cat = strcmp(op, "cat") == 0;
    int nflat = 0;
    int *flat = NULL;
    for (int j = 0; j < k; ++j) {
        const int x = in[j];
        const bool splice = cat && c->flat[x];
        const int m = splice ? c->nflat[x] : 1;
        flat = realloc(flat, (size_t)(nflat + m) * sizeof *flat);
        for (int q = 0; q < m; ++q) flat[nflat++] = splice ? c->flat[x][q] : c->id[x];
    }
    if (cat && nflat == 1) { /* a concat of one tensor is that tensor (DenseNet's first layer) */
        c->id[i] = flat[0];
        free(flat);
        return;
    }
    for (int j = 0; j < nflat && len < SIG_LEN - 16; ++j)
        len += snprintf(sig + len, sizeof sig - (size_t)len, " %d", flat[j]);
    CHECK(len < SIG_LEN - 16);
    c->id[i] = intern_id(t, sig);
    if (cat) {
        c->flat[i] = flat;
        c->nflat[i] = nflat;
    } else {
        free(flat);
    }
}

/* ---- torchvision's side: the derived description --------------------------- */

typedef struct tv_net {
    char name[32];
    canon c;
    char (*what)[320]; /* each node's line, for messages */
} tv_net;

/* Reads the section of `name` from f (positioned anywhere): 0 when found. */
static int tv_read(FILE *f, const char *name, intern *t, tv_net *out) {
    char line[4096];
    rewind(f);
    int count = -1;
    while (fgets(line, sizeof line, f)) {
        char nm[32];
        if (sscanf(line, "net %31s %d", nm, &count) == 2 && strcmp(nm, name) == 0) break;
        count = -1;
    }
    if (count <= 0) return -1;
    snprintf(out->name, sizeof out->name, "%s", name);
    canon_init(&out->c, count);
    out->what = calloc((size_t)count, sizeof *out->what);
    for (int i = 0; i < count; ++i) {
        if (!fgets(line, sizeof line, f)) return -1;
        int id, pos = 0;
        char op[16], mname[96], params[96];
        long long ch, h, w;
        if (sscanf(line, "%d %15s %95s %95s %lld %lld %lld : %n", &id, op, mname, params, &ch,
                   &h, &w, &pos) != 7 || id != i)
            return -1;
        int in[256], k = 0;
        for (char *p = line + pos, *e; k < 256; p = e) {
            long v = strtol(p, &e, 10);
            if (e == p) break;
            if (v < 0 || v >= i) return -1;
            in[k++] = (int)v;
        }
        snprintf(out->what[i], sizeof out->what[i], "%s %s %s %lldx%lldx%lld", op, mname, params,
                 ch, h, w);
        canon_node(&out->c, t, i, op, mname, params, ch, h, w, in, k);
    }
    return 0;
}

/* ---- cnnk's side ------------------------------------------------------------- */

/* op, name and params of a cnnk node in the description's terms; false
 * for an identity (dropout). */
static bool describe(const cnnk_node *n, char *op, char *name, char *params, size_t len) {
    snprintf(name, len, "-");
    snprintf(params, len, "-");
    const cnnk_layer_desc *l = &n->desc;
    switch (n->op) {
    case CNNK_NODE_INPUT: snprintf(op, len, "input"); return true;
    case CNNK_NODE_CONV: {
        const cnnk_conv_desc *d = &l->u.conv;
        snprintf(op, len, "conv");
        snprintf(name, len, "%s", n->name);
        snprintf(params, len, "o%lld,k%lldx%lld,s%lldx%lld,p%lldx%lld,g%lld,d%lldx%lld,b%d%s",
                 (long long)d->oc, (long long)d->kh, (long long)d->kw, (long long)d->sh,
                 (long long)d->sw, (long long)d->pt, (long long)d->pl, (long long)d->g,
                 (long long)d->dh, (long long)d->dw, n->has_bias,
                 d->pb != d->pt || d->pr != d->pl ? ",asymmetric" : "");
        return true;
    }
    case CNNK_NODE_BNORM:
        snprintf(op, len, "bn");
        snprintf(name, len, "%s", n->name);
        snprintf(params, len, "eps%g", (double)l->u.bnorm.eps);
        return true;
    case CNNK_NODE_RELU: snprintf(op, len, "relu"); return true;
    case CNNK_NODE_POOL: {
        const cnnk_pool_desc *d = &l->u.pool;
        if (d->alg == CNNK_POOL_MAX) {
            snprintf(op, len, "maxpool");
            snprintf(params, len, "k%lldx%lld,s%lldx%lld,p%lldx%lld,c%d", (long long)d->kh,
                     (long long)d->kw, (long long)d->sh, (long long)d->sw, (long long)d->pt,
                     (long long)d->pl, d->round == CNNK_ROUND_CEIL);
        } else if (d->global || (d->oh == 1 && d->ow == 1 && d->kh == d->ih && d->kw == d->iw &&
                                 d->pt == 0 && d->pl == 0)) {
            snprintf(op, len, "gap");
        } else {
            snprintf(op, len, "avgpool");
            snprintf(params, len, "k%lldx%lld,s%lldx%lld,p%lldx%lld,c%d,i%d", (long long)d->kh,
                     (long long)d->kw, (long long)d->sh, (long long)d->sw, (long long)d->pt,
                     (long long)d->pl, d->round == CNNK_ROUND_CEIL,
                     d->alg == CNNK_POOL_AVG_INCLUDE_PAD);
        }
        return true;
    }
    case CNNK_NODE_FC:
        snprintf(op, len, "fc");
        snprintf(name, len, "%s", n->name);
        snprintf(params, len, "o%lld,b%d", (long long)l->u.fc.oc, n->has_bias);
        return true;
    case CNNK_NODE_ADD: snprintf(op, len, "add"); return true;
    case CNNK_NODE_CONCAT: snprintf(op, len, "cat"); return true;
    case CNNK_NODE_DROPOUT: return false;
    case CNNK_NODE_RESIZE:
        snprintf(op, len, "resize");
        snprintf(params, len, "a%d", l->u.resize.align_corners);
        return true;
    default: snprintf(op, len, "%s", cnnk_node_op_name(n->op)); return true;
    }
}

static bool has_id(const canon *c, int id) {
    for (int i = 0; i < c->n; ++i)
        if (c->id[i] == id) return true;
    return false;
}

static void check_net(FILE *f, const char *name) {
    intern t = {0};
    tv_net tv;
    memset(&tv, 0, sizeof tv);
    const int found = tv_read(f, name, &t, &tv);
    if (found != 0) fprintf(stderr, "%s: no (readable) section in tests/torchvision_nets.txt\n", name);
    CHECK(found == 0);
    cnnk_net *net = NULL;
    cnnk_error err;
    CHECK(cnnk_net_build(name, 1, 224, 224, &net, &err) == CNNK_OK);
    if (found != 0 || !net) {
        cnnk_net_destroy(net);
        intern_free(&t);
        return;
    }
    canon c;
    canon_init(&c, net->n);
    int *alias = malloc((size_t)net->n * sizeof *alias);
    int reported = 0;
    for (int i = 0; i < net->n; ++i) {
        const cnnk_node *n = &net->nodes[i];
        char op[32], mname[CNNK_NAME_LEN], params[160];
        int in[CNNK_CONCAT_MAX_INPUTS];
        for (int k = 0; k < n->ninputs; ++k) in[k] = alias[n->inputs[k]];
        alias[i] = i;
        if (!describe(n, op, mname, params, sizeof params)) {
            alias[i] = in[0];
            c.id[i] = c.id[in[0]];
            continue;
        }
        const int64_t h = n->op == CNNK_NODE_INPUT ? net->h : n->h;
        const int64_t w = n->op == CNNK_NODE_INPUT ? net->w : n->w;
        const int64_t ch = n->op == CNNK_NODE_INPUT ? net->c : n->c;
        canon_node(&c, &t, i, op, mname, params, ch, h, w, in, n->ninputs);
        if (!has_id(&tv.c, c.id[i]) && reported++ < 3) {
            fprintf(stderr, "%s: node %d '%s' (%s %s %lldx%lldx%lld, inputs", name, i, n->name,
                    op, params, (long long)ch, (long long)h, (long long)w);
            for (int k = 0; k < n->ninputs; ++k)
                fprintf(stderr, " '%s'", net->nodes[n->inputs[k]].name);
            fprintf(stderr, ") has no counterpart in torchvision's %s\n", name);
        }
    }
    const int last = c.id[net->n - 1], tv_last = tv.c.id[tv.c.n - 1];
    if (last != tv_last) fprintf(stderr, "%s: the output differs from torchvision's\n", name);
    CHECK(last == tv_last);
    CHECK_EQ_I64(reported, 0);
    /* and nothing of torchvision's is missing */
    int missing = 0;
    for (int i = 0; i < tv.c.n; ++i)
        if (!has_id(&c, tv.c.id[i]) && missing++ < 3)
            fprintf(stderr, "%s: torchvision's node %d (%s) has no counterpart in cnnk's\n", name,
                    i, tv.what[i]);
    CHECK_EQ_I64(missing, 0);
    printf("test_nets_structure: %-12s %4d cnnk nodes, %4d torchvision nodes: %s\n", name, net->n,
           tv.c.n, last == tv_last && !reported && !missing ? "same" : "DIFFERENT");
    free(alias);
    canon_free(&c);
    canon_free(&tv.c);
    free(tv.what);
    cnnk_net_destroy(net);
    intern_free(&t);
}

int main(void) {
    FILE *f = fopen("tests/torchvision_nets.txt", "r");
    CHECK(f != NULL);
    if (!f) return check_finish("test_nets_structure");
    for (size_t i = 0; i < cnnk_net_count(); ++i) {
        /* Not a torchvision network: tests/test_nets.c derives YOLOv1 from
         * the paper's layer list instead. */
        if (strcmp(cnnk_net_name_at(i), "yolov1") == 0) continue;
        /* Caffe's, not torchvision's: tests/test_fcn.c derives them. */
        if (strncmp(cnnk_net_name_at(i), "fcn", 3) == 0) continue;
        if (strncmp(cnnk_net_name_at(i), "yolov1", 6) == 0) continue;
        /* Caffe models: tests/test_regions_nets.c derives them. */
        if (strcmp(cnnk_net_name_at(i), "spp_zf5") == 0 ||
            strcmp(cnnk_net_name_at(i), "fast_rcnn_vgg16") == 0 ||
            strncmp(cnnk_net_name_at(i), "faster_rcnn", 11) == 0 ||
            strcmp(cnnk_net_name_at(i), "rcnn_alexnet") == 0) /* tests/test_rcnn.c */
            continue;
        check_net(f, cnnk_net_name_at(i));
    }
    fclose(f);
    return check_finish("test_nets_structure");
}
