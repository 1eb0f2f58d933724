/* Deterministic parameters for a network: a function of (seed, node index)
 * alone, so two builds of one network get the same bytes on any machine.
 *
 * Scale (docs/NETWORKS.md measures it):
 *  - convolution and FC weights ~ U(-a, a), a = sqrt(6 / fan_in): variance
 *    2 / fan_in (He), which keeps the second moment through conv + ReLU;
 *  - biases ~ U(-0.05, 0.05);
 *  - batch-norm: mean ~ U(-0.1, 0.1), var ~ U(0.5, 1.5), beta ~ U(-0.05, 0.05)
 *    and gamma = sqrt(var + eps) * U(0.8, 1.2), so the folded scale
 *    gamma / sqrt(var + eps) is near one: a plain stack neither grows nor
 *    shrinks with depth;
 *  - a batch-norm that ends a residual branch (input 0 of an add) has its
 *    gamma and beta multiplied by 1/sqrt(number of adds): each block then
 *    adds a 1/depth share of variance to the residual stream, whose scale
 *    stays bounded (about e^1) however many blocks there are. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "cnnk/proposals.h"
#include "cnnk/npy.h"
#include "core/rng.h"

typedef cnnk_rng rng;

/* uniform in [lo, hi), 24 random bits: exactly representable floats */
static float rng_uniform(rng *r, float lo, float hi) {
    float u = (float)(cnnk_rng_next(r) >> 40) * (1.0f / 16777216.0f);
    return lo + (hi - lo) * u;
}

static rng node_rng(uint64_t seed, int index) {
    rng r = {seed};
    r.s = cnnk_rng_next(&r) ^ ((uint64_t)(index + 1) * 0xD1B54A32D192ED03ull);
    return r;
}

static float *alloc_floats(int64_t count) {
    return malloc((size_t)(count > 0 ? count : 1) * sizeof(float));
}

static void fill_uniform(rng *r, float *p, int64_t count, float lo, float hi) {
    for (int64_t i = 0; i < count; ++i) p[i] = rng_uniform(r, lo, hi);
}

static cnnk_status init_linear(cnnk_node *x, rng *r, int64_t count, int64_t fan_in, int64_t oc) {
    x->weights = alloc_floats(count);
    x->bias = x->has_bias ? alloc_floats(oc) : NULL;
    if (!x->weights || (x->has_bias && !x->bias)) return CNNK_ENOMEM;
    float a = sqrtf(6.0f / (float)fan_in);
    fill_uniform(r, x->weights, count, -a, a);
    if (x->bias) fill_uniform(r, x->bias, oc, -0.05f, 0.05f);
    return CNNK_OK;
}

static cnnk_status init_bnorm(cnnk_node *x, rng *r, float damp) {
    const cnnk_bnorm_desc *d = &x->desc.u.bnorm;
    for (int j = 0; j < 4; ++j)
        if (!(x->bn[j] = alloc_floats(d->c))) return CNNK_ENOMEM;
    float *mean = x->bn[0], *var = x->bn[1], *gamma = x->bn[2], *beta = x->bn[3];
    for (int64_t c = 0; c < d->c; ++c) {
        mean[c] = rng_uniform(r, -0.1f, 0.1f);
        var[c] = rng_uniform(r, 0.5f, 1.5f);
        gamma[c] = sqrtf(var[c] + d->eps) * rng_uniform(r, 0.8f, 1.2f) * damp;
        beta[c] = rng_uniform(r, -0.05f, 0.05f) * damp;
    }
    return CNNK_OK;
}

static void free_params(cnnk_node *x) {
    free(x->weights);
    free(x->bias);
    x->weights = x->bias = NULL;
    for (int j = 0; j < 4; ++j) free(x->bn[j]), x->bn[j] = NULL;
}

/* 1/sqrt(adds) for batch-norms that end a residual branch, else 1. */
static float branch_damp(const cnnk_net *n, int i) {
    int adds = 0;
    bool ends_branch = false;
    for (int j = 0; j < n->n; ++j) {
        if (n->nodes[j].op != CNNK_NODE_ADD) continue;
        ++adds;
        ends_branch |= n->nodes[j].inputs[0] == i;
    }
    return ends_branch ? 1.0f / sqrtf((float)adds) : 1.0f;
}

static cnnk_status init_node(const cnnk_net *n, int i, uint64_t seed) {
    cnnk_node *x = &n->nodes[i];
    rng r = node_rng(seed, i);
    free_params(x);
    switch (x->op) {
    case CNNK_NODE_CONV: {
        const cnnk_conv_desc *d = &x->desc.u.conv;
        return init_linear(x, &r, cnnk_conv_weights(d), d->ic / d->g * d->kh * d->kw, d->oc);
    }
    case CNNK_NODE_DECONV: {
        /* Each output gathers ic/g * (kh/sh) * (kw/sw) taps, not the whole
         * kernel: that is its fan-in. */
        const cnnk_conv_desc *d = &x->desc.u.conv;
        const int64_t fan =
            d->ic / d->g * ((d->kh + d->sh - 1) / d->sh) * ((d->kw + d->sw - 1) / d->sw);
        return init_linear(x, &r, cnnk_conv_weights(d), fan, d->oc);
    }
    case CNNK_NODE_FC: {
        const cnnk_fc_desc *d = &x->desc.u.fc;
        return init_linear(x, &r, cnnk_fc_weights(d), d->ic * d->ih * d->iw, d->oc);
    }
    case CNNK_NODE_BNORM: return init_bnorm(x, &r, branch_damp(n, i));
    case CNNK_NODE_REGION_POOL: {
        /* Held proposals: the default set of the input's size (cnnk/proposals.h). */
        const cnnk_region_pool_desc *d = &x->desc.u.region;
        if (x->ninputs != 1 || d->rois == 0) return CNNK_OK;
        if (!(x->weights = alloc_floats(d->rois * 5))) return CNNK_ENOMEM;
        cnnk_proposals_default(d->rois, n->h, n->w, seed, x->weights);
        return CNNK_OK;
    }
    case CNNK_NODE_WARP: {
        /* R-CNN's held proposals, the same default set. */
        const cnnk_warp_desc *d = &x->desc.u.warp;
        if (!(x->weights = alloc_floats(d->rois * 5))) return CNNK_ENOMEM;
        cnnk_proposals_default(d->rois, d->ih, d->iw, seed, x->weights);
        return CNNK_OK;
    }
    default: return CNNK_OK;
    }
}

cnnk_status cnnk_net_init_weights(cnnk_net *n, uint64_t seed, cnnk_error *err) {
    if (!n) return cnnk_fail(err, CNNK_EINVAL, "init_weights: no network");
    if (n->status != CNNK_OK)
        return cnnk_fail(err, n->status, "%s: the network failed to build: %s", n->name,
                         n->err.msg);
    if (n->params_given) return CNNK_OK;
    for (int i = 0; i < n->n; ++i) {
        if (init_node(n, i, seed) != CNNK_OK) {
            free_params(&n->nodes[i]);
            return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory for the parameters of %s",
                             n->name, n->nodes[i].name);
        }
    }
    return CNNK_OK;
}

/* ---- parameters from a directory of .npy files (a torchvision state_dict) */

enum { MAX_PARAMS = 4 };

/* The state_dict keys of node x (by its torchvision module path) with the
 * shape each must have, and where each goes. Returns how many. */
static int node_params(cnnk_node *x, char keys[MAX_PARAMS][CNNK_NAME_LEN + 24],
                       int64_t shapes[MAX_PARAMS][4], int ndims[MAX_PARAMS],
                       float **dst[MAX_PARAMS]) {
    int k = 0;
    switch (x->op) {
    case CNNK_NODE_CONV:
    case CNNK_NODE_DECONV: {
        /* ConvTranspose2d's weight is [ic][oc/g][kh][kw] (IOHW per group);
         * the loader turns it into the node's OIHW (deconv_to_oihw). */
        const cnnk_conv_desc *d = &x->desc.u.conv;
        const bool tr = x->op == CNNK_NODE_DECONV;
        snprintf(keys[k], sizeof keys[k], "%s.weight", x->name);
        shapes[k][0] = tr ? d->ic : d->oc;
        shapes[k][1] = tr ? d->oc / d->g : d->ic / d->g;
        shapes[k][2] = d->kh, shapes[k][3] = d->kw;
        ndims[k] = 4, dst[k++] = &x->weights;
        if (x->has_bias) {
            snprintf(keys[k], sizeof keys[k], "%s.bias", x->name);
            shapes[k][0] = d->oc, ndims[k] = 1, dst[k++] = &x->bias;
        }
        break;
    }
    case CNNK_NODE_FC: {
        const cnnk_fc_desc *d = &x->desc.u.fc;
        snprintf(keys[k], sizeof keys[k], "%s.weight", x->name);
        shapes[k][0] = d->oc, shapes[k][1] = d->ic * d->ih * d->iw;
        ndims[k] = 2, dst[k++] = &x->weights;
        if (x->has_bias) {
            snprintf(keys[k], sizeof keys[k], "%s.bias", x->name);
            shapes[k][0] = d->oc, ndims[k] = 1, dst[k++] = &x->bias;
        }
        break;
    }
    case CNNK_NODE_BNORM: {
        static const char *const sfx[4] = {"running_mean", "running_var", "weight", "bias"};
        for (int j = 0; j < 4; ++j) {
            snprintf(keys[k], sizeof keys[k], "%s.%s", x->name, sfx[j]);
            shapes[k][0] = x->desc.u.bnorm.c, ndims[k] = 1, dst[k++] = &x->bn[j];
        }
        break;
    }
    default: break;
    }
    return k;
}

static bool key_used(const cnnk_net *n, const char *key) {
    char keys[MAX_PARAMS][CNNK_NAME_LEN + 24];
    int64_t shapes[MAX_PARAMS][4];
    int ndims[MAX_PARAMS];
    float **dst[MAX_PARAMS];
    for (int i = 0; i < n->n; ++i) {
        int k = node_params(&n->nodes[i], keys, shapes, ndims, dst);
        for (int j = 0; j < k; ++j)
            if (strcmp(keys[j], key) == 0) return true;
    }
    return false;
}

/* Every .npy in dir must be one of the network's parameters (BN's
 * num_batches_tracked, a training counter, excepted): a file left over
 * means the directory is for another network. */
static cnnk_status check_no_extra(const cnnk_net *n, const char *dir, cnnk_error *err) {
    DIR *dp = opendir(dir);
    if (!dp) return cnnk_fail(err, CNNK_EIO, "weights: %s: %s", dir, strerror(errno));
    cnnk_status s = CNNK_OK;
    struct dirent *e;
    while (s == CNNK_OK && (e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".npy") != 0) continue;
        char key[CNNK_NAME_LEN + 32];
        if (len - 4 >= sizeof key) {
            s = cnnk_fail(err, CNNK_EINVAL, "weights: %s/%s is no parameter of %s", dir, e->d_name, n->name);
            break;
        }
        memcpy(key, e->d_name, len - 4);
        key[len - 4] = '\0';
        static const char nbt[] = ".num_batches_tracked";
        size_t kl = len - 4, nl = sizeof nbt - 1;
        if (kl > nl && strcmp(key + kl - nl, nbt) == 0) continue;
        if (!key_used(n, key))
            s = cnnk_fail(err, CNNK_EINVAL, "weights: %s/%s is no parameter of %s (another network's weights?)",
                          dir, e->d_name, n->name);
    }
    closedir(dp);
    return s;
}

/* PyTorch's ConvTranspose2d weight w[g*icg + i][o][kh][kw] as the node's
 * OIHW, t[g*ocg + o][i][kh][kw] (kernel not flipped: both are the
 * adjoint of the convolution with that geometry). NULL when out of memory. */
static float *deconv_to_oihw(const cnnk_conv_desc *d, const float *w) {
    const int64_t icg = d->ic / d->g, ocg = d->oc / d->g, khw = d->kh * d->kw;
    float *t = alloc_floats(cnnk_conv_weights(d));
    if (!t) return NULL;
    for (int64_t g = 0; g < d->g; ++g)
        for (int64_t i = 0; i < icg; ++i)
            for (int64_t o = 0; o < ocg; ++o)
                memcpy(t + ((g * ocg + o) * icg + i) * khw, w + ((g * icg + i) * ocg + o) * khw,
                       (size_t)khw * sizeof(float));
    return t;
}

cnnk_status cnnk_net_load_weights_dir(cnnk_net *n, const char *dir, cnnk_error *err) {
    if (!n) return cnnk_fail(err, CNNK_EINVAL, "weights: no network");
    if (n->status != CNNK_OK)
        return cnnk_fail(err, n->status, "%s: the network failed to build: %s", n->name, n->err.msg);
    CNNK_TRY(check_no_extra(n, dir, err));
    /* Everything is read before anything is replaced: on any error the
     * network keeps the parameters it had. */
    int total = 0;
    for (int i = 0; i < n->n; ++i) {
        char keys[MAX_PARAMS][CNNK_NAME_LEN + 24];
        int64_t shapes[MAX_PARAMS][4];
        int ndims[MAX_PARAMS];
        float **dst[MAX_PARAMS];
        total += node_params(&n->nodes[i], keys, shapes, ndims, dst);
    }
    float **loaded = calloc((size_t)(total ? total : 1), sizeof *loaded);
    if (!loaded) return cnnk_fail(err, CNNK_ENOMEM, "weights: out of memory");
    cnnk_status s = CNNK_OK;
    int at = 0;
    for (int i = 0; i < n->n && s == CNNK_OK; ++i) {
        char keys[MAX_PARAMS][CNNK_NAME_LEN + 24];
        int64_t shapes[MAX_PARAMS][4];
        int ndims[MAX_PARAMS];
        float **dst[MAX_PARAMS];
        int k = node_params(&n->nodes[i], keys, shapes, ndims, dst);
        for (int j = 0; j < k && s == CNNK_OK; ++j) {
            char path[4096];
            if (snprintf(path, sizeof path, "%s/%s.npy", dir, keys[j]) >= (int)sizeof path) {
                s = cnnk_fail(err, CNNK_EINVAL, "weights: path too long under %s", dir);
                break;
            }
            cnnk_npy a;
            if ((s = cnnk_npy_read(path, &a, err)) != CNNK_OK) break;
            bool same = a.ndim == ndims[j];
            for (int d = 0; same && d < ndims[j]; ++d) same = a.shape[d] == shapes[j][d];
            if (!same) {
                char want[96] = "", got[96] = "";
                for (int d = 0; d < ndims[j]; ++d)
                    snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? "x" : "",
                             (long long)shapes[j][d]);
                for (int d = 0; d < a.ndim; ++d)
                    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "x" : "",
                             (long long)a.shape[d]);
                s = cnnk_fail(err, CNNK_EINVAL, "weights: %s has shape %s, %s %s needs %s", path,
                              a.ndim ? got : "()", cnnk_node_op_name(n->nodes[i].op), n->nodes[i].name, want);
                cnnk_npy_free(&a);
                break;
            }
            if (n->nodes[i].op == CNNK_NODE_DECONV && dst[j] == &n->nodes[i].weights) {
                float *t = deconv_to_oihw(&n->nodes[i].desc.u.conv, a.data);
                cnnk_npy_free(&a);
                if (!t) {
                    s = cnnk_fail(err, CNNK_ENOMEM, "weights: out of memory for %s", path);
                    break;
                }
                a.data = t;
            }
            loaded[at++] = a.data; /* ownership moves */
        }
    }
    if (s == CNNK_OK) {
        at = 0;
        for (int i = 0; i < n->n; ++i) {
            char keys[MAX_PARAMS][CNNK_NAME_LEN + 24];
            int64_t shapes[MAX_PARAMS][4];
            int ndims[MAX_PARAMS];
            float **dst[MAX_PARAMS];
            int k = node_params(&n->nodes[i], keys, shapes, ndims, dst);
            if (k) free_params(&n->nodes[i]);
            for (int j = 0; j < k; ++j) *dst[j] = loaded[at++];
        }
        n->params_given = true; /* cnnk_net_init_weights keeps them */
    } else {
        for (int j = 0; j < at; ++j) free(loaded[j]);
    }
    free(loaded);
    return s;
}
