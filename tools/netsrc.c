/* The network a command runs and its input (tools/commands.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "cnnk/npy.h"
#include "cnnk/onnx.h"
#include "cnnk/proposals.h"
#include "tools/commands.h"
#include "validate/net_check.h"

static int fail(const char *cmd, cnnk_status s, const char *msg) {
    fprintf(stderr, "cnnk %s: %s\n", cmd, msg);
    return cnnk_exit_of(s);
}

int cnnk_net_src_open(const cnnk_net_src *s, const char *cmd, long long mb, long long h,
                      long long w, unsigned long long seed, cnnk_net **net, float **input) {
    *net = NULL;
    *input = NULL;
    cnnk_error err;
    cnnk_npy x = {0};
    if (s->net && s->onnx) return fail(cmd, CNNK_EINVAL, "give --net or --onnx, not both");
    if (!s->net && !s->onnx) return fail(cmd, CNNK_EINVAL, "give --net NAME or --onnx FILE");
    if (s->onnx && s->weights)
        return fail(cmd, CNNK_EINVAL, "--weights is for built-in networks (--net); an ONNX model "
                                      "carries its own");
    if (s->input_npy) {
        if (cnnk_npy_read(s->input_npy, &x, &err) != CNNK_OK) return fail(cmd, CNNK_EINVAL, err.msg);
        if (x.ndim != 4 || x.count == 0) {
            cnnk_npy_free(&x);
            snprintf(err.msg, sizeof err.msg, "%s: --input-npy takes N x C x H x W (4 dimensions, "
                     "NCHW), this has %d", s->input_npy, x.ndim);
            return fail(cmd, CNNK_EINVAL, err.msg);
        }
        mb = x.shape[0], h = x.shape[2], w = x.shape[3];
    } else if (s->onnx) {
        h = w = 0;
    }
    const bool ask = s->input_npy || s->batch_given;
    int64_t rois = 0;
    if (s->proposals && (rois = cnnk_proposals_count(s->proposals, &err)) < 1) {
        cnnk_npy_free(&x);
        if (rois == 0) snprintf(err.msg, sizeof err.msg, "%s: no boxes", s->proposals);
        return fail(cmd, rois < 0 ? CNNK_EIO : CNNK_EINVAL, err.msg);
    }
    cnnk_status st = s->onnx ? cnnk_onnx_load(s->onnx, ask ? mb : 0, net, &err)
                             : cnnk_net_build_rois(s->net, mb, h, w, rois, net, &err);
    if (st == CNNK_OK && s->onnx && s->input_npy && ((*net)->h != h || (*net)->w != w)) {
        snprintf(err.msg, sizeof err.msg, "%s: the input is %lldx%lld, the model takes %lldx%lld",
                 s->input_npy, h, w, (long long)(*net)->h, (long long)(*net)->w);
        st = CNNK_EINVAL;
    }
    if (st == CNNK_OK && s->input_npy && x.shape[1] != (*net)->c) {
        snprintf(err.msg, sizeof err.msg, "%s: the input has %lld channels, the network takes %lld",
                 s->input_npy, (long long)x.shape[1], (long long)(*net)->c);
        st = CNNK_EINVAL;
    }
    if (st == CNNK_OK) st = cnnk_net_init_weights(*net, seed, &err);
    if (st == CNNK_OK && s->weights) st = cnnk_net_load_weights_dir(*net, s->weights, &err);
    if (st == CNNK_OK && s->proposals) st = cnnk_net_set_proposals(*net, s->proposals, &err);
    if (st == CNNK_OK && s->input_npy) {
        if (!(*input = malloc((size_t)x.count * sizeof **input)))
            st = cnnk_fail(&err, CNNK_ENOMEM, "out of memory for the input");
        else
            cnnk_nchw_to_nhwc(*input, x.data, x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    }
    cnnk_npy_free(&x);
    if (st != CNNK_OK) {
        cnnk_net_destroy(*net);
        free(*input);
        *net = NULL, *input = NULL;
        return fail(cmd, st, err.msg);
    }
    return CNNK_EXIT_OK;
}

int cnnk_net_write_output(const cnnk_net *net, const float *out, const char *path,
                          const char *cmd) {
    const cnnk_node *last = &net->nodes[net->n - 1];
    const int64_t elems = cnnk_net_output_elems(net);
    float *f = malloc((size_t)elems * sizeof *f);
    if (!f) return fail(cmd, CNNK_ENOMEM, "out of memory for the output");
    cnnk_net_output_to_framework(net, out, f);
    int64_t shape[4] = {cnnk_net_node_batch(net, last), last->c * last->h * last->w, 0, 0};
    int nd = 2;
    if (cnnk_net_output_rank(net) == 4)
        nd = 4, shape[1] = last->c, shape[2] = last->h, shape[3] = last->w;
    cnnk_error err;
    cnnk_status s = cnnk_npy_write(path, nd, shape, f, &err);
    free(f);
    return s == CNNK_OK ? CNNK_EXIT_OK : fail(cmd, s, err.msg);
}
