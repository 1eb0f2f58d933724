/* The fusion rule (core/fuse.h; docs/RUNNER.md):
 *   CONV -> BNORM               folded into the conv's weights and bias
 *   CONV/FC/BNORM/ADD -> RELU   the group's relu
 *   CONV/FC/BNORM -> LEAKY_RELU the group's relu with its slope (an unfused
 *                               ADD has no leaky form: it stays apart)
 *   CONV -> ADD                 the add's other input is the conv's residual
 *   DROPOUT                     no group: aliases its input
 *   DECONV -> CROP              the crop's window becomes the deconvolution's
 *                               output (more padding, a smaller output)
 * A node is fused into its producer's group only when it is that value's
 * sole reader: a value with a second reader must stay as it was computed. */
#include <stdlib.h>

#include "core/fuse.h"

typedef struct fuser {
    const cnnk_net *net;
    cnnk_fusion *f;
    int *uses; /* node -> number of input slots that read it */
} fuser;

static cnnk_node_op op_of(const fuser *x, int node) {
    return x->net->nodes[node].op;
}

static void new_group(fuser *x, int i) {
    cnnk_fusion *f = x->f;
    f->groups[f->ngroups] =
        (cnnk_fused){.head = i, .out = i, .bn = -1, .residual = -1, .crop = -1};
    f->group[i] = f->ngroups++;
}

/* The group whose value is node n, when n feeds only one input slot (so
 * fusing into that group hides n from no other reader). */
static cnnk_fused *sole_output_group(const fuser *x, int n) {
    if (n <= 0 || x->uses[n] != 1 || x->f->group[n] < 0) return NULL;
    cnnk_fused *g = &x->f->groups[x->f->group[n]];
    return g->out == n ? g : NULL;
}

static void absorb(fuser *x, cnnk_fused *g, int i) {
    g->out = i;
    x->f->group[i] = (int)(g - x->f->groups);
}

/* A convolution whose epilogue still ends at its own output (or its
 * folded BN's): what follows may yet join it in order. */
static bool open_conv(const fuser *x, const cnnk_fused *g) {
    return g && op_of(x, g->head) == CNNK_NODE_CONV && !g->relu && g->residual < 0;
}

static void on_bnorm(fuser *x, int i) {
    cnnk_fused *g = sole_output_group(x, x->net->nodes[i].inputs[0]);
    if (open_conv(x, g) && g->bn < 0) {
        g->bn = i;
        absorb(x, g, i);
    } else {
        new_group(x, i);
    }
}

static void on_relu(fuser *x, int i) {
    const cnnk_node *n = &x->net->nodes[i];
    const bool leaky = n->op == CNNK_NODE_LEAKY_RELU;
    cnnk_fused *g = sole_output_group(x, n->inputs[0]);
    const cnnk_node_op op = g ? op_of(x, g->head) : CNNK_NODE_INPUT;
    if (g && !g->relu &&
        (op == CNNK_NODE_CONV || op == CNNK_NODE_FC || op == CNNK_NODE_BNORM ||
         (op == CNNK_NODE_ADD && !leaky))) {
        g->relu = true;
        g->relu_alpha = leaky ? n->desc.u.eltwise.alpha : 0.0f;
        absorb(x, g, i);
    } else {
        new_group(x, i);
    }
}

static void on_add(fuser *x, int i) {
    const cnnk_node *n = &x->net->nodes[i];
    /* The first input first: nets/ writes add(branch, shortcut), and the
     * branch's last conv is the conventional home of the add (a projection
     * shortcut's conv would do as well; an identity shortcut never). */
    for (int k = 0; k < 2; ++k) {
        const int in = n->inputs[k], other = n->inputs[1 - k];
        cnnk_fused *g = sole_output_group(x, in);
        if (open_conv(x, g) && in != other) {
            g->residual = x->f->alias[other];
            absorb(x, g, i);
            return;
        }
    }
    new_group(x, i);
}

/* A cropped transposed convolution is a transposed convolution with more
 * padding: only a deconvolution whose output nothing else has joined. */
static void on_crop(fuser *x, int i) {
    cnnk_fused *g = sole_output_group(x, x->net->nodes[i].inputs[0]);
    if (g && op_of(x, g->head) == CNNK_NODE_DECONV && g->out == g->head) {
        g->crop = i;
        absorb(x, g, i);
    } else {
        new_group(x, i);
    }
}

cnnk_layer_desc cnnk_fused_desc(const cnnk_net *net, const cnnk_fused *g) {
    cnnk_layer_desc l = net->nodes[g->head].desc;
    if (g->crop < 0) return l;
    const cnnk_node *c = &net->nodes[g->crop], *full = &net->nodes[g->head];
    cnnk_conv_desc *d = &l.u.conv;
    d->pt += c->crop_top;
    d->pl += c->crop_left;
    d->pb += full->h - c->crop_top - c->h;
    d->pr += full->w - c->crop_left - c->w;
    d->oh = c->h, d->ow = c->w;
    return l;
}

static void group_nodes(fuser *x) {
    const cnnk_net *net = x->net;
    for (int i = 1; i < net->n; ++i) {
        switch (net->nodes[i].op) {
        case CNNK_NODE_BNORM: on_bnorm(x, i); break;
        case CNNK_NODE_RELU:
        case CNNK_NODE_LEAKY_RELU: on_relu(x, i); break;
        case CNNK_NODE_ADD: on_add(x, i); break;
        case CNNK_NODE_CROP: on_crop(x, i); break;
        case CNNK_NODE_DROPOUT: x->f->alias[i] = x->f->alias[net->nodes[i].inputs[0]]; break;
        default: new_group(x, i); break;
        }
    }
}

cnnk_status cnnk_fuse(const cnnk_net *net, cnnk_fusion *f, cnnk_error *err) {
    *f = (cnnk_fusion){0};
    const size_t n = net->n > 0 ? (size_t)net->n : 1;
    fuser x = {net, f, calloc(n, sizeof(int))};
    f->alias = malloc(n * sizeof *f->alias);
    f->group = malloc(n * sizeof *f->group);
    f->groups = malloc(n * sizeof *f->groups);
    if (!x.uses || !f->alias || !f->group || !f->groups) {
        free(x.uses);
        cnnk_fusion_free(f);
        return cnnk_fail(err, CNNK_ENOMEM, "fusion of %s: out of memory", net->name);
    }
    for (int i = 0; i < net->n; ++i) {
        f->alias[i] = i;
        f->group[i] = -1;
        for (int k = 0; k < net->nodes[i].ninputs; ++k) x.uses[net->nodes[i].inputs[k]]++;
    }
    group_nodes(&x);
    free(x.uses);
    return CNNK_OK;
}

void cnnk_fusion_free(cnnk_fusion *f) {
    free(f->alias), free(f->group), free(f->groups);
    *f = (cnnk_fusion){0};
}
