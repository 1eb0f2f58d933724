/* Networks: a small C builder API, the registry of networks (nets/),
 * their counts and deterministic weights.
 *
 * A network is a list of nodes in topological order; node 0 is the input.
 * Each node names its inputs by node index and carries its layer
 * descriptor (shapes derived and checked as it is added). The builder
 * keeps the first error (sticky): later calls return -1 and do nothing, and
 * cnnk_net_status() tells what went wrong, so a network definition reads
 * as a straight list of layers without an error check per line:
 *
 *     int x = cnnk_net_conv(n, "features.0", 0, 64, 11, 4, 2, true);
 *     x = cnnk_net_relu(n, "features.1", x);
 *     x = cnnk_net_maxpool(n, "features.2", x, 3, 2, 0, false);
 *     ...
 *     return cnnk_net_status(n, err);
 */
#ifndef CNNK_NET_H
#define CNNK_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnnk/desc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnnk_node_op {
    CNNK_NODE_INPUT = 0,
    CNNK_NODE_CONV,     /* desc.u.conv; weights OIHW, optional bias */
    CNNK_NODE_BNORM,    /* desc.u.bnorm; mean, var, gamma, beta */
    CNNK_NODE_RELU,     /* desc.u.eltwise (RELU) */
    CNNK_NODE_POOL,     /* desc.u.pool */
    CNNK_NODE_LRN,      /* desc.u.lrn */
    CNNK_NODE_FC,       /* desc.u.fc; flattens its input; weights [oc][ic][ih][iw], bias */
    CNNK_NODE_DROPOUT,  /* identity at inference */
    CNNK_NODE_CONCAT,   /* desc.u.concat; channel concat of the inputs */
    CNNK_NODE_ADD,      /* desc.u.eltwise (ADD); residual add of two inputs */
    CNNK_NODE_SOFTMAX,  /* desc.u.softmax */
    CNNK_NODE_LEAKY_RELU, /* desc.u.eltwise (LEAKY_RELU, its alpha); fuses as RELU does */
    CNNK_NODE_DECONV,   /* desc.u.conv (transposed); weights OIHW, O = its outputs; optional bias */
    CNNK_NODE_CROP,     /* Caffe's Crop: crop_top/crop_left into its input, to c x h x w;
                           desc.u.eltwise (DROPOUT) of the output shape (an identity's shape) */
    CNNK_NODE_RESIZE,   /* desc.u.resize; bilinear, F.interpolate's */
    CNNK_NODE_DETECT,   /* desc.u.detect: boxes out (YOLOv1 decoding + NMS, RPN proposals) */
    CNNK_NODE_REGION_POOL, /* desc.u.region; RoI pooling's boxes are a second input, or held
                            * in weights (rois x 5: the network's proposals, not parameters) */
    CNNK_NODE_WARP,     /* desc.u.warp; R-CNN's crop + warp of each held box (weights, rois x
                           5, as REGION_POOL's): its reps are its input's times rois */
    CNNK_NODE_OP_COUNT
} cnnk_node_op;

const char *cnnk_node_op_name(cnnk_node_op op);

typedef struct cnnk_node {
    char name[CNNK_NAME_LEN]; /* torchvision's module path, e.g. "layer1.0.conv2" */
    cnnk_node_op op;
    int ninputs;
    int inputs[CNNK_CONCAT_MAX_INPUTS]; /* node indices, all < this node's */
    cnnk_layer_desc desc;               /* checked; mb = the network's batch times the
                                           reps of the node's input (its own but for WARP) */
    int64_t c, h, w;                    /* output shape per image (NHWC) */
    /* The per-node batch multiplier: this node's output holds mb * reps
     * images of c x h x w, image b of the network owning rows [b * reps,
     * (b + 1) * reps). 1 for the input; every node inherits its inputs'
     * (which must be equal), and a WARP node multiplies it by its R. */
    int64_t reps;
    bool has_bias;                      /* CONV, DECONV, FC */
    int64_t crop_top, crop_left;        /* CROP: offsets into the input; else 0 */
    /* Parameters, NULL until cnnk_net_init_weights(): */
    float *weights;  /* CONV, DECONV: OIHW; FC: [oc][ic][ih][iw] */
    float *bias;     /* oc values */
    float *bn[4];    /* BNORM: mean, var, gamma, beta (c values each) */
} cnnk_node;

typedef struct cnnk_net {
    char name[32];
    int64_t mb, c, h, w;  /* input */
    /* The output's rank in the framework's layout: 2 ([N, classes]) or 4
     * (NCHW); 0 for the built-in networks, read as 2 when the last node is
     * an FC or softmax over 1x1 and 4 otherwise (cnnk_net_output_rank). */
    int out_rank;
    /* The parameters came with the network (an ONNX model's initializers):
     * cnnk_net_init_weights keeps them. */
    bool params_given;
    /* Boxes a RoI-pooling network is built for (its R); 0 before the build:
     * the network's default. Set by cnnk_net_build_rois. */
    int64_t rois;
    cnnk_node *nodes;
    int n, cap;
    cnnk_status status;   /* first builder error, sticky */
    cnnk_error err;
} cnnk_net;

/* ---- builder ------------------------------------------------------------ */

/* A network with one input node (index 0) of mb x h x w x c. NULL only when
 * out of memory. */
cnnk_net *cnnk_net_create(const char *name, int64_t mb, int64_t c, int64_t h, int64_t w);
void cnnk_net_destroy(cnnk_net *n);
cnnk_status cnnk_net_status(const cnnk_net *n, cnnk_error *err);

/* Each returns the new node's index, or -1 (and records the error) when the
 * layer cannot take its input or the network already failed. */
int cnnk_net_conv(cnnk_net *n, const char *name, int in, int64_t oc, int64_t k, int64_t s,
                  int64_t p, bool bias);
int cnnk_net_conv_ex(cnnk_net *n, const char *name, int in, int64_t oc, int64_t kh, int64_t kw,
                     int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups,
                     int64_t dilation, bool bias);
/* The general forms, for importers (core/onnx.c): the geometry of geom
 * (oc, kernel, strides, padding on each side, dilations, groups; for a
 * pool also alg, round, global) is taken as given, while mb, the input
 * sizes and the outputs come from the network. */
int cnnk_net_conv_geom(cnnk_net *n, const char *name, int in, const cnnk_conv_desc *geom,
                       bool bias);
int cnnk_net_pool_geom(cnnk_net *n, const char *name, int in, const cnnk_pool_desc *geom);
/* Transposed convolution (Caffe's Deconvolution, PyTorch's ConvTranspose2d
 * without output_padding): k x k, stride s, padding p on every side, groups
 * 1, output (i - 1) s - 2p + k. The _geom form takes geom's oc, kernel,
 * strides, four paddings, dilations and groups as given. */
int cnnk_net_deconv(cnnk_net *n, const char *name, int in, int64_t oc, int64_t k, int64_t s,
                    int64_t p, bool bias);
int cnnk_net_deconv_geom(cnnk_net *n, const char *name, int in, const cnnk_conv_desc *geom,
                         bool bias);
/* Caffe's Crop over H and W (axis 2): the h x w window of `in` at (offset,
 * offset), h x w being node ref's size; every channel kept. The _ex form
 * names the size and both offsets. The window must lie inside the input. */
int cnnk_net_crop(cnnk_net *n, const char *name, int in, int ref, int64_t offset);
int cnnk_net_crop_ex(cnnk_net *n, const char *name, int in, int64_t h, int64_t w, int64_t top,
                     int64_t left);
int cnnk_net_bnorm(cnnk_net *n, const char *name, int in, float eps);
int cnnk_net_relu(cnnk_net *n, const char *name, int in);
/* x > 0 ? x : alpha * x (YOLO's alpha 0.1; PyTorch's LeakyReLU). */
int cnnk_net_leaky_relu(cnnk_net *n, const char *name, int in, float alpha);
int cnnk_net_maxpool(cnnk_net *n, const char *name, int in, int64_t k, int64_t s, int64_t p,
                     bool ceil_mode);
int cnnk_net_avgpool(cnnk_net *n, const char *name, int in, int64_t k, int64_t s, int64_t p,
                     bool ceil_mode, bool count_include_pad);
int cnnk_net_global_avgpool(cnnk_net *n, const char *name, int in);
int cnnk_net_lrn(cnnk_net *n, const char *name, int in, int64_t size, float alpha, float beta,
                 float k);
int cnnk_net_fc(cnnk_net *n, const char *name, int in, int64_t oc);
int cnnk_net_dropout(cnnk_net *n, const char *name, int in);
int cnnk_net_concat(cnnk_net *n, const char *name, int count, const int *in);
int cnnk_net_add(cnnk_net *n, const char *name, int a, int b);
int cnnk_net_softmax(cnnk_net *n, const char *name, int in);
/* Bilinear resize to oh x ow, PyTorch's F.interpolate(size=(oh, ow),
 * mode="bilinear", align_corners=...) (desc.h's cnnk_resize_desc). */
int cnnk_net_resize(cnnk_net *n, const char *name, int in, int64_t oh, int64_t ow,
                    bool align_corners);
/* Boxes out (desc.h's cnnk_detect_desc, kernels/ref/boxes.h). YOLOv1's
 * decoding and per-class NMS of in's s*s*(5b + classes) values (darknet's
 * detection layer at test time) into max_det rows of (x1, y1, x2, y2,
 * score, class); boxes in pixels of the network input. */
int cnnk_net_yolo_detect(cnnk_net *n, const char *name, int in, int64_t s, int64_t b,
                         int64_t classes, float thresh, float nms, int64_t max_det);
/* The RPN's proposal step (py-faster-rcnn's proposal_layer at test time)
 * from 18 objectness scores (cls) and 36 deltas (bbox) per pixel of one
 * map: post_nms rows of (batch, x1, y1, x2, y2), padding rows batch -1. */
int cnnk_net_rpn_proposals(cnnk_net *n, const char *name, int cls, int bbox,
                           int64_t feat_stride, int64_t pre_nms, int64_t post_nms, float nms,
                           float min_size);
/* Faster R-CNN's detections (py-faster-rcnn's test: per class j >= 1 the
 * rois scoring > thresh, decoded by class j's deltas, clipped, NMS at nms
 * with +1 IoU; the max_det best): prob R x 1 x classes, deltas R x 1 x
 * 4 classes, rois 1 x R x 5. */
int cnnk_net_frcnn_detect(cnnk_net *n, const char *name, int prob, int deltas, int rois,
                          float thresh, float nms, int64_t max_det);
/* RoI max pooling (Fast R-CNN's ROIPooling; cnnk_region_pool_desc): bins x
 * bins over each of `rois` boxes scaled by spatial_scale. boxes is the node
 * of a box tensor (1 x rois x 5 per image), or -1: the node holds the boxes
 * (the network's proposals: cnnk_net_init_weights gives the default set,
 * cnnk_net_set_proposals a file's). The output stacks the regions along
 * h: rois * bins x bins x c per image. */
int cnnk_net_roi_pool(cnnk_net *n, const char *name, int in, int boxes, int64_t rois,
                      int64_t bins, float spatial_scale);
/* R-CNN's region warp (cnnk_warp_desc, docs/REGIONS.md): each of `rois`
 * held boxes (the network's proposals, as cnnk_net_roi_pool's with boxes
 * -1) dilated by `pad` context pixels at the warped scale, cropped with
 * out-of-image pixels 0 and warped bilinearly to oh x ow. The node's reps
 * are its input's times rois: one image in, rois images out. */
int cnnk_net_warp(cnnk_net *n, const char *name, int in, int64_t rois, int64_t oh, int64_t ow,
                  int64_t pad);
/* Spatial pyramid pooling (SPP-net): adaptive max pooling of the whole map
 * to bins[i] x bins[i] for each of nlevels levels, each flattened C x H x
 * W, levels concatenated: 1 x 1 x sum(c * bins^2) per image. */
int cnnk_net_spp(cnnk_net *n, const char *name, int in, int nlevels, const int64_t *bins);

/* The images node x holds: the network's mb times x's reps. */
int64_t cnnk_net_node_batch(const cnnk_net *n, const cnnk_node *x);

/* 2 ([N, C]) or 4 (NCHW): how a framework lays out this network's output. */
int cnnk_net_output_rank(const cnnk_net *n);

/* ---- the registry of networks (nets/) -------------------------------- */

size_t cnnk_net_count(void);
const char *cnnk_net_name_at(size_t i); /* "alexnet", "vgg16", ..., torchvision's spelling */

/* The side of the square input network `name` is defined at (224 for the
 * classifiers, 448 for yolov1); 0 for an unknown name. */
int64_t cnnk_net_default_side(const char *name);
/* The width of its default input: the side, but for a network defined at
 * a rectangle (fast_rcnn_vgg16: 600 x 1000, h x w). */
int64_t cnnk_net_default_width(const char *name);

/* Builds network `name` for batch mb and input h x w (3 channels); h = w = 0
 * is its default input (cnnk_net_default_side). An unknown name is
 * CNNK_EINVAL with a message listing the valid ones; a size the network
 * cannot take is the builder's error. A name ending in ".onnx" is a model
 * file (cnnk/onnx.h), built with its own weights and named by its stem; h
 * and w are then 0 (the model's size) or must be the model's. */
cnnk_status cnnk_net_build(const char *name, int64_t mb, int64_t h, int64_t w, cnnk_net **out,
                           cnnk_error *err);

/* cnnk_net_build for a RoI-pooling network of `rois` boxes (0: its
 * default; networks without RoI pooling ignore it). */
cnnk_status cnnk_net_build_rois(const char *name, int64_t mb, int64_t h, int64_t w, int64_t rois,
                                cnnk_net **out, cnnk_error *err);

/* Loads a proposals file (cnnk/proposals.h's format) into every node that
 * holds its boxes; after cnnk_net_init_weights. Its count must be the
 * network's R; errors name the file and line. */
cnnk_status cnnk_net_set_proposals(cnnk_net *n, const char *path, cnnk_error *err);

/* ---- counts --------------------------------------------------------------- */

/* Parameters as torchvision counts them: weights, biases, batch-norm gamma
 * and beta (not the running statistics). */
int64_t cnnk_net_params(const cnnk_net *n);
/* Multiply-adds of convolutions and fully connected layers (the published
 * GMAC figures count these); a transposed convolution counts
 * ic * oc/g * kh * kw per input pixel (every tap it scatters). */
int64_t cnnk_net_macs(const cnnk_net *n);
/* Convolution, transposed convolution and fully connected layers. */
int cnnk_net_weight_layers(const cnnk_net *n);
/* Peak activation bytes by liveness, independent of any kernel plan: a
 * node's output lives from its creation to its last consumer, a concat's
 * inputs are written into the concat's buffer, the network input counts.
 * The runner's figure (cnnk_runner_peak_activation_bytes) reflects its
 * fusion and buffer plan and may differ. 0 for a failed network. */
int64_t cnnk_net_peak_activation_bytes(const cnnk_net *n);

/* ---- weights ------------------------------------------------------------ */

/* Deterministic parameters from seed (docs/NETWORKS.md says how they keep
 * activations of order one through 150+ layers). Allocates every node's
 * parameter arrays; cnnk_net_destroy frees them. */
cnnk_status cnnk_net_init_weights(cnnk_net *n, uint64_t seed, cnnk_error *err);

/* Parameters from a directory holding a framework's state_dict as one
 * float32 .npy per key, "<key>.npy", keys by torchvision's module paths
 * (cnnk's node names): "<conv>.weight" (OIHW), "<conv>.bias",
 * "<fc>.weight" ([oc][ic*ih*iw], the flattened NCHW order), "<fc>.bias",
 * "<bn>.running_mean", "<bn>.running_var", "<bn>.weight" (gamma),
 * "<bn>.bias" (beta). A missing file, a shape that is not the node's, or
 * a .npy in dir that is no parameter of the network (BN's
 * num_batches_tracked excepted) is an error naming it, and the network
 * keeps the parameters it had. scripts/torch-oracle.py writes such
 * directories (docs/ORACLE.md). */
cnnk_status cnnk_net_load_weights_dir(cnnk_net *n, const char *dir, cnnk_error *err);

#ifdef __cplusplus
}
#endif
#endif
