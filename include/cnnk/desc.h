/* Layer descriptors and their exact shape arithmetic.
 *
 * Conventions (see docs/DATA.md):
 *  - Activations are NHWC float32. A tensor is passed as a pointer and a
 *    pixel pitch `ld` (>= channels): element (n, h, w, c) lives at
 *    p[((n * H + h) * W + w) * ld + c]. A branch of a concat writes at its
 *    channel offset of a wider buffer by passing that buffer's ld.
 *  - Weights are in framework order OIHW (grouped: [g][oc/g][ic/g][kh][kw]).
 *    Transposed convolution weights are OIHW too, O being the output
 *    channels of the transposed convolution (oneDNN's deconvolution order).
 *  - Dilation is a factor: 1 means none (PyTorch's convention; benchdnn's
 *    `dh0` is converted by the parser).
 *  - Every descriptor goes through its cnnk_*_check() before use: it derives
 *    an output size left at 0, checks a given one, and rejects anything a
 *    kernel could misread. */
#ifndef CNNK_DESC_H
#define CNNK_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnnk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stated limits: any one tensor holds at most CNNK_MAX_ELEMS elements
 * (8 GiB of float32), and any one dimension is at most CNNK_MAX_DIM. */
#define CNNK_MAX_ELEMS ((int64_t)1 << 31)
#define CNNK_MAX_DIM ((int64_t)1 << 24)
#define CNNK_NAME_LEN 96

typedef enum cnnk_round { CNNK_ROUND_FLOOR = 0, CNNK_ROUND_CEIL = 1 } cnnk_round;

/* Convolution and transposed convolution share one descriptor. For a
 * transposed convolution ih/iw is its (small) input and oh/ow its output. */
typedef struct cnnk_conv_desc {
    int64_t g, mb;
    int64_t ic, ih, iw;
    int64_t oc, oh, ow;
    int64_t kh, kw;
    int64_t sh, sw;
    int64_t pt, pl, pb, pr; /* padding top, left, bottom, right */
    int64_t dh, dw;         /* dilation factor, 1 = none */
    bool transposed;
    char name[CNNK_NAME_LEN];
} cnnk_conv_desc;

typedef enum cnnk_pool_alg {
    CNNK_POOL_MAX = 0,
    CNNK_POOL_AVG_INCLUDE_PAD, /* divisor counts padding (PyTorch default) */
    CNNK_POOL_AVG_EXCLUDE_PAD  /* divisor counts only input pixels */
} cnnk_pool_alg;

/* Pooling. With rounding CNNK_ROUND_CEIL the output size is rounded up, as
 * PyTorch's ceil_mode does, and a last window that would start past the
 * input plus left padding is dropped. Window cells beyond the declared
 * padding (the ceil overhang) are never counted, not even by
 * AVG_INCLUDE_PAD. `global` forces kh=ih, kw=iw, stride 1, no padding. */
typedef struct cnnk_pool_desc {
    int64_t mb, c;
    int64_t ih, iw, oh, ow;
    int64_t kh, kw, sh, sw;
    int64_t pt, pl, pb, pr;
    cnnk_pool_alg alg;
    cnnk_round round;
    bool global;
    char name[CNNK_NAME_LEN];
} cnnk_pool_desc;

/* Local response normalisation across channels (PyTorch / oneDNN
 * lrn_across_channels): y = x / (k + alpha/size * sum x^2)^beta, the sum
 * over channels c - (size-1)/2 .. c + (size-1)/2 clipped to the tensor.
 * size must be odd: PyTorch and oneDNN centre an even window differently. */
typedef struct cnnk_lrn_desc {
    int64_t mb, c, h, w;
    int64_t size;
    float alpha, beta, k;
    char name[CNNK_NAME_LEN];
} cnnk_lrn_desc;

/* Inference batch-norm: y = gamma * (x - mean) / sqrt(var + eps) + beta. */
typedef struct cnnk_bnorm_desc {
    int64_t mb, c, h, w;
    float eps;
    char name[CNNK_NAME_LEN];
} cnnk_bnorm_desc;

/* Fully connected (inner product). The input is mb x ih x iw x ic in NHWC,
 * contiguous; the weights are OIHW [oc][ic][ih][iw] as a framework stores
 * them after flattening NCHW, so the kernel sees the framework's result. */
typedef struct cnnk_fc_desc {
    int64_t mb, ic, ih, iw, oc;
    char name[CNNK_NAME_LEN];
} cnnk_fc_desc;

/* Softmax over the channels of each (n, h, w) pixel. */
typedef struct cnnk_softmax_desc {
    int64_t mb, c, h, w;
    char name[CNNK_NAME_LEN];
} cnnk_softmax_desc;

/* Element-wise ops on an NHWC tensor: ReLU, dropout (identity at
 * inference), add of two tensors of the same shape, leaky ReLU
 * (x > 0 ? x : alpha * x, oneDNN's eltwise_relu with alpha). */
typedef enum cnnk_eltwise_alg {
    CNNK_ELTWISE_RELU = 0,
    CNNK_ELTWISE_ADD,
    CNNK_ELTWISE_ADD_RELU,
    CNNK_ELTWISE_DROPOUT,
    CNNK_ELTWISE_LEAKY_RELU
} cnnk_eltwise_alg;

typedef struct cnnk_eltwise_desc {
    int64_t mb, c, h, w;
    cnnk_eltwise_alg alg;
    float alpha; /* LEAKY_RELU's negative slope; 0 for the others */
    char name[CNNK_NAME_LEN];
} cnnk_eltwise_desc;

/* Bilinear resize of each channel, PyTorch's F.interpolate(mode="bilinear")
 * with a given output size (scale = in/out). With align_corners false
 * (torchvision's FCN) the source coordinate of output pixel o is
 * max((o + 0.5) * in/out - 0.5, 0), half-pixel centres as oneDNN's
 * resampling_linear has them; with align_corners true it is
 * o * (in - 1)/(out - 1) (0 when out = 1). Taps past the last pixel clamp
 * to it. */
typedef struct cnnk_resize_desc {
    int64_t mb, c;
    int64_t ih, iw, oh, ow;
    bool align_corners;
    char name[CNNK_NAME_LEN];
} cnnk_resize_desc;

#define CNNK_CONCAT_MAX_INPUTS 64

/* Channel concatenation of n inputs of the same mb x h x w. */
typedef struct cnnk_concat_desc {
    int64_t mb, h, w;
    int n;
    int64_t c[CNNK_CONCAT_MAX_INPUTS];
    char name[CNNK_NAME_LEN];
} cnnk_concat_desc;

/* Boxes out (kernels/ref/boxes.h), the end of a detection network:
 *   YOLOV1  input: the s*s*(5b + classes) outputs (c x 1 x 1), darknet's
 *           order; output 1 x rows x 6 detections (x1, y1, x2, y2, score,
 *           class), by score, padding rows class -1.
 *   RPN     inputs: 2A objectness scores and 4A deltas on one h x w map
 *           (A = 9 anchors of scales 8, 16, 32 x ratios 0.5, 1, 2);
 *           output 1 x rows x 5 rois (batch, x1, y1, x2, y2), padding
 *           rows batch -1.
 *   FRCNN   inputs: R x 1 class probabilities (c, background first), R x 1
 *           deltas (4c), the R rois (1 x R x 5); output detections as
 *           YOLOV1's (per-class decoding + NMS, py-faster-rcnn's test).
 * Boxes are in pixels of the network input (img_h x img_w). */
typedef enum cnnk_detect_alg {
    CNNK_DETECT_YOLOV1 = 0,
    CNNK_DETECT_RPN,
    CNNK_DETECT_FRCNN
} cnnk_detect_alg;

typedef struct cnnk_detect_desc {
    int64_t mb, c, h, w;   /* input 0, per image */
    int64_t c1;            /* RPN, FRCNN: input 1's channels (4A, 4c); else 0 */
    int64_t rows, cols;    /* the output per image: 1 x rows x cols */
    cnnk_detect_alg alg;
    int64_t img_h, img_w;
    int64_t s, b, classes; /* YOLOV1's grid */
    int64_t feat_stride, pre_nms; /* RPN */
    float thresh;          /* YOLOV1, FRCNN: a class score is kept if > thresh */
    float nms;             /* IoU above which NMS suppresses */
    float min_size;        /* RPN: smallest side kept, pixels */
    char name[CNNK_NAME_LEN];
} cnnk_detect_desc;
/* Region max pooling (docs/REGIONS.md): for each region and each of
 * bins_h x bins_w bins, the max over the feature-map pixels of the bin;
 * an empty bin is 0. Two users:
 *  - RoI pooling (rois = R > 0; Fast R-CNN's ROIPooling): region r of image
 *    n is the box of row r of that image's boxes (1 x R x 5: batch index,
 *    x1, y1, x2, y2 in input pixels), scaled by spatial_scale and rounded,
 *    its bins floor/ceil of the box split as Caffe's roi_pooling_layer.cpp.
 *    A row whose batch index is negative is padding: its output is 0.
 *  - adaptive pooling (rois = 0; SPP-net's pyramid, PyTorch's
 *    AdaptiveMaxPool2d): the region is the whole map, bin i of n spans
 *    [floor(i*H/n), ceil((i+1)*H/n)).
 * The output of one level is NHWC with the regions stacked along h:
 * (rois ? R : 1) * bins_h x bins_w x c per image, so a fully connected
 * head over each region is a convolution of bins_h x bins_w, stride
 * bins_h x bins_w (the batch of regions becomes the GEMM's rows). With
 * `flatten` (SPP's pyramid: several levels), each region's levels are
 * flattened C x H x W, level after level, into one row of
 * sum(c * bins_h * bins_w) channels: 1 x (rois ? R : 1) x that, the order
 * a framework's flatten + concat gives the following FC. */
#define CNNK_REGION_MAX_LEVELS 4

typedef struct cnnk_region_pool_desc {
    int64_t mb, c, ih, iw; /* the feature map */
    int64_t rois;          /* R boxes per image; 0: the whole map */
    float spatial_scale;   /* box pixels -> map cells (1/16 after VGG16's conv5_3) */
    int nlevels;           /* 1..CNNK_REGION_MAX_LEVELS; more than 1 needs flatten */
    int64_t bins_h[CNNK_REGION_MAX_LEVELS], bins_w[CNNK_REGION_MAX_LEVELS];
    bool flatten;
    int64_t oc, oh, ow;    /* derived by the check */
    char name[CNNK_NAME_LEN];
} cnnk_region_pool_desc;

/* R-CNN's region warp (Girshick et al. 2014, rcnn_im_crop.m's "warp" with
 * context padding; docs/REGIONS.md states the arithmetic): for each of
 * image n's R boxes (params[0], R x 5 per image: batch index, x1, y1, x2,
 * y2 in input pixels, x2 and y2 inclusive), the box is dilated about its
 * centre so that `pad` pixels of context surround it at the warped scale
 * (scale oh / (oh - 2 pad)), rounded, clipped to the image; the clipped
 * crop is resized bilinearly (half-pixel centres, edge taps clamped:
 * cnnk_ref_resize_tap without align_corners) into its place in the oh x ow
 * output, and the output pixels the crop does not cover (the dilated box
 * outside the image) are 0: the image mean of a mean-subtracted input. A
 * row with a negative batch index (padding) or x2 < x1 or y2 < y1 gives an
 * all-zero region. The output is NHWC with the regions stacked along h,
 * R * oh x ow x c per image (R images of oh x ow: a network reads it as a
 * batch of mb * R). */
typedef struct cnnk_warp_desc {
    int64_t mb, c, ih, iw; /* the images */
    int64_t rois;          /* R boxes per image */
    int64_t oh, ow;        /* each region's output (227 x 227 in R-CNN) */
    int64_t pad;           /* context pixels at the output scale (16), 0 <= 2 pad < min(oh, ow) */
    char name[CNNK_NAME_LEN];
} cnnk_warp_desc;

typedef enum cnnk_layer_kind {
    CNNK_LAYER_CONV = 0,
    CNNK_LAYER_DECONV,
    CNNK_LAYER_FC,
    CNNK_LAYER_POOL,
    CNNK_LAYER_LRN,
    CNNK_LAYER_BNORM,
    CNNK_LAYER_SOFTMAX,
    CNNK_LAYER_ELTWISE,
    CNNK_LAYER_CONCAT,
    CNNK_LAYER_RESIZE,
    CNNK_LAYER_DETECT,
    CNNK_LAYER_REGION_POOL,
    CNNK_LAYER_WARP,
    CNNK_LAYER_KIND_COUNT
} cnnk_layer_kind;


/* Any one layer problem (what a batch-file line parses to). `name` of the inner descriptor holds
 * the n"..." name (empty when none). */
typedef struct cnnk_layer_desc {
    cnnk_layer_kind kind;
    union {
        cnnk_conv_desc conv; /* CONV and DECONV (conv.transposed) */
        cnnk_fc_desc fc;
        cnnk_pool_desc pool;
        cnnk_lrn_desc lrn;
        cnnk_bnorm_desc bnorm;
        cnnk_softmax_desc softmax;
        cnnk_eltwise_desc eltwise;
        cnnk_concat_desc concat;
        cnnk_resize_desc resize;
        cnnk_detect_desc detect;
        cnnk_region_pool_desc region;
        cnnk_warp_desc warp;
    } u;
} cnnk_layer_desc;

/* ---- per-kind facts ------------------------------------------------- */

/* The one place that knows which union member each kind uses: callers ask
 * here instead of switching on the kind themselves. */

const char *cnnk_layer_kind_name(cnnk_layer_kind k); /* "conv", "deconv", "ip", ... */
const char *cnnk_layer_name(const cnnk_layer_desc *l); /* its n"..." name, "" when none */

/* Validates l in place with its kind's cnnk_*_check(). */
cnnk_status cnnk_layer_check(cnnk_layer_desc *l, cnnk_error *err);

/* A checked layer's tensors, in the same terms for every kind. Every
 * tensor it reads and writes is dense NHWC: its pixel pitch is its
 * channel count. */
typedef struct cnnk_layer_dims {
    int64_t mb;
    int64_t ic, ih, iw; /* each input; a concat's inputs taken together */
    int64_t oc, oh, ow;
    int ninputs;        /* tensors read: 2 for an add, a concat's n, else 1 */
    int64_t weights;    /* conv, deconv, fc; else 0 */
    int64_t bias;       /* oc for conv, deconv, fc; else 0 */
    int64_t stats;      /* length of each of a batch-norm's four vectors; else 0 */
    int64_t macs;       /* multiply-adds of conv, deconv, fc; else 0 */
} cnnk_layer_dims;

cnnk_layer_dims cnnk_layer_dims_of(const cnnk_layer_desc *l);
/* Sets a checked layer's batch (the runner's image split runs each layer
 * on a range of images; every other field stays valid). */
void cnnk_layer_set_mb(cnnk_layer_desc *l, int64_t mb);
int64_t cnnk_layer_src_elems(const cnnk_layer_desc *l); /* mb * ih * iw * ic */
int64_t cnnk_layer_dst_elems(const cnnk_layer_desc *l); /* mb * oh * ow * oc */

/* ---- shape arithmetic and validation -------------------------------- */

/* Output size of one spatial dimension:
 *   O = floor_or_ceil((I + pbegin + pend - ((K - 1) * D + 1)) / S) + 1.
 * Returns -1 when the padded input is smaller than the dilated kernel. */
int64_t cnnk_out_size(int64_t i, int64_t k, int64_t s, int64_t pbegin, int64_t pend,
                      int64_t d, cnnk_round r);

/* The bottom and right padding at which plain floor rounding yields the
 * checked pool descriptor's output size: the declared padding, or more
 * where ceil rounding overhangs it (how oneDNN expresses ceil mode). */
void cnnk_pool_end_padding(const cnnk_pool_desc *d, int64_t *pb, int64_t *pr);

/* Validates d in place. An oh/ow of 0 is derived; a given one must match.
 * For a transposed convolution, oh = (ih - 1) * sh - pt - pb + (kh-1)*dh + 1. */
cnnk_status cnnk_conv_check(cnnk_conv_desc *d, cnnk_error *err);
cnnk_status cnnk_pool_check(cnnk_pool_desc *d, cnnk_error *err);
cnnk_status cnnk_lrn_check(const cnnk_lrn_desc *d, cnnk_error *err);
cnnk_status cnnk_bnorm_check(const cnnk_bnorm_desc *d, cnnk_error *err);
cnnk_status cnnk_fc_check(const cnnk_fc_desc *d, cnnk_error *err);
cnnk_status cnnk_softmax_check(const cnnk_softmax_desc *d, cnnk_error *err);
cnnk_status cnnk_eltwise_check(const cnnk_eltwise_desc *d, cnnk_error *err);
cnnk_status cnnk_concat_check(const cnnk_concat_desc *d, cnnk_error *err);
cnnk_status cnnk_resize_check(const cnnk_resize_desc *d, cnnk_error *err);
cnnk_status cnnk_detect_check(const cnnk_detect_desc *d, cnnk_error *err);
/* Derives oc, oh, ow (see cnnk_region_pool_desc). */
cnnk_status cnnk_region_pool_check(cnnk_region_pool_desc *d, cnnk_error *err);
cnnk_status cnnk_warp_check(const cnnk_warp_desc *d, cnnk_error *err);
/* Whole-map pooling of one unflattened level whose bins are uniform (the
 * map divisible by the bins) is plain max pooling, kernel = stride = map /
 * bins: true and that pool descriptor (checked); else false (RoI pooling
 * and uneven bins are nothing oneDNN has). */
bool cnnk_region_pool_as_pool(const cnnk_region_pool_desc *d, cnnk_pool_desc *p);
/* Bin [lo, hi) i of `bins` over `len` map cells from `start`, clipped to
 * [0, size]. RoI pooling (roi true) follows Caffe's ROIPooling in float:
 * lo = floor(i * (len / bins)), hi = ceil((i + 1) * (len / bins)); the
 * whole map (roi false) PyTorch's exact integers: lo = floor(i * len /
 * bins), hi = ceil((i + 1) * len / bins). */
void cnnk_region_bin(bool roi, int64_t i, int64_t bins, int64_t start, int64_t len, int64_t size,
                     int64_t *lo, int64_t *hi);
/* A box row (x1, y1, x2, y2) scaled and rounded into map cells as Caffe's
 * ROIPooling does: start = round(x1 * scale), extent max(round(x2 *
 * scale) - start + 1, 1). */
void cnnk_region_box(const float *box4, float scale, int64_t *y0, int64_t *hlen, int64_t *x0,
                     int64_t *wlen);

/* A convolution whose windows tile one column of patches: kernel =
 * stride, no padding or dilation, one group, iw = kw and ih a multiple of
 * kh. It is a fully connected layer over ih / kh patches per image (an
 * R-CNN head's fc6 over the regions stacked along h, docs/REGIONS.md):
 * in NHWC each patch is kh * kw * ic contiguous floats, so the layer is a
 * 1x1 convolution over an (ih / kh) x 1 image of kh * kw * ic channels
 * (cnnk_conv_patch_1x1) with the weights in O(HWI) order
 * (cnnk_conv_patch_weights: out[o][(y * kw + x) * ic + c] = OIHW [o][c][y][x]). */
bool cnnk_conv_patch_column(const cnnk_conv_desc *d);
cnnk_conv_desc cnnk_conv_patch_1x1(const cnnk_conv_desc *d);
void cnnk_conv_patch_weights(const cnnk_conv_desc *d, const float *oihw, float *out);

/* Counts of a checked descriptor. Weights and biases are counted apart
 * (torchvision counts both as parameters); MACs are multiply-adds. */
int64_t cnnk_conv_weights(const cnnk_conv_desc *d); /* oc * ic/g * kh * kw */
int64_t cnnk_conv_biases(const cnnk_conv_desc *d);  /* oc */
int64_t cnnk_conv_macs(const cnnk_conv_desc *d);
int64_t cnnk_conv_src_elems(const cnnk_conv_desc *d);
int64_t cnnk_conv_dst_elems(const cnnk_conv_desc *d);
int64_t cnnk_fc_weights(const cnnk_fc_desc *d);     /* oc * ic * ih * iw */
int64_t cnnk_fc_macs(const cnnk_fc_desc *d);
int64_t cnnk_bnorm_params(const cnnk_bnorm_desc *d); /* gamma + beta: 2c */

/* Formats d as a benchdnn problem descriptor (canonical, every field). */
void cnnk_conv_format(const cnnk_conv_desc *d, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
