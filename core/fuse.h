/* The fusion rule: which nodes of a network one step computes.
 *
 * Written once because three parties must agree on it: the runner
 * (core/runner.c) runs the groups, the oneDNN network peer
 * (validate/onednn_net.c) builds the same groups from post-ops, and the
 * layer benchmarks (bench/layers.c) time each layer with the epilogue the
 * runner gives it. Were the copies to drift, the peer would silently time
 * other work than cnnk does. docs/RUNNER.md states the rule in words. */
#ifndef CNNK_CORE_FUSE_H
#define CNNK_CORE_FUSE_H

#include <stdbool.h>

#include "cnnk/net.h"

/* One group: its head node's layer with the nodes fused into its epilogue. */
typedef struct cnnk_fused {
    int head;     /* the node whose layer runs */
    int out;      /* the group's last node: the group's value is this node's */
    int bn;       /* a BNORM folded into a CONV head, or -1 */
    int residual; /* CONV head: the node (dropouts resolved) added in the epilogue, or -1 */
    bool relu;    /* a RELU or LEAKY_RELU applied last (an unfused ADD's: RELU only) */
    float relu_alpha; /* a LEAKY_RELU's slope; 0 for RELU */
    int crop;     /* DECONV head: a CROP of its output folded into its padding, or -1 */
} cnnk_fused;

/* The descriptor of group g's head as its step runs it: a DECONV head with a
 * folded crop has its padding grown by the crop's offsets and the margins
 * the crop drops, so its output is the crop's window and no cropped-away
 * pixel is computed. Any other head's is its node's. */
cnnk_layer_desc cnnk_fused_desc(const cnnk_net *net, const cnnk_fused *g);

typedef struct cnnk_fusion {
    int *alias;         /* node -> the node holding its values (a dropout's input) */
    int *group;         /* node -> its group in groups; -1 for the input and dropouts */
    cnnk_fused *groups; /* in the order of their heads; a concat is a group of its own */
    int ngroups;
} cnnk_fusion;

/* Groups the nodes of a built network. Only ENOMEM can fail; *f is then
 * empty, and cnnk_fusion_free is safe on it either way. */
cnnk_status cnnk_fuse(const cnnk_net *net, cnnk_fusion *f, cnnk_error *err);
void cnnk_fusion_free(cnnk_fusion *f);

#endif
