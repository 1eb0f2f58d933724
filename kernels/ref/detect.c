/* The detection step (CNNK_LAYER_DETECT) as a registry entry: YOLOv1's
 * decoding + NMS, or the RPN's proposals, image by image, on the
 * definitions in kernels/ref/boxes.c. One thread: the step is a few
 * thousand boxes (docs/PERFORMANCE.md measures its share of the forward). */
#include "kernels/ref/boxes.h"
#include "kernels/ref/ref.h"

/* RPN: generate_anchors(base 16, ratios 0.5 1 2, scales 8 16 32). */
enum { RPN_ANCHORS = 9 };

static void rpn_anchors(float *out) {
    static const float ratios[3] = {0.5f, 1.0f, 2.0f}, scales[3] = {8.0f, 16.0f, 32.0f};
    cnnk_ref_anchors(16.0f, ratios, 3, scales, 3, out);
}

static cnnk_yolo_params yolo_params(const cnnk_detect_desc *d) {
    return (cnnk_yolo_params){.s = (int)d->s, .b = (int)d->b, .classes = (int)d->classes,
                              .img_w = (float)d->img_w, .img_h = (float)d->img_h,
                              .thresh = d->thresh, .nms = d->nms, .max_det = d->rows};
}

static cnnk_rpn_params rpn_params(const cnnk_detect_desc *d, const float *anchors) {
    return (cnnk_rpn_params){.fh = d->h, .fw = d->w, .anchors = RPN_ANCHORS,
                             .anchor_boxes = anchors, .feat_stride = (float)d->feat_stride,
                             .img_w = (float)d->img_w, .img_h = (float)d->img_h,
                             .min_size = d->min_size, .pre_nms = d->pre_nms,
                             .post_nms = d->rows, .nms = d->nms};
}

/* FRCNN: py-faster-rcnn's test (cfg.TEST: NMS 0.3; test_net: thresh 0.05,
 * max_per_image 100, the desc's rows). */
static cnnk_frcnn_params frcnn_params(const cnnk_detect_desc *d) {
    return (cnnk_frcnn_params){.rois = d->h * d->w, .classes = d->c, .img_w = (float)d->img_w,
                               .img_h = (float)d->img_h, .thresh = d->thresh, .nms = d->nms,
                               .max_det = d->rows};
}

int64_t cnnk_ref_detect_scratch(const cnnk_detect_desc *d) {
    if (d->alg == CNNK_DETECT_YOLOV1) {
        const cnnk_yolo_params p = yolo_params(d);
        return cnnk_ref_yolo_scratch(&p);
    }
    if (d->alg == CNNK_DETECT_FRCNN) {
        const cnnk_frcnn_params p = frcnn_params(d);
        return cnnk_ref_frcnn_scratch(&p);
    }
    const cnnk_rpn_params p = rpn_params(d, NULL);
    return cnnk_ref_rpn_scratch(&p);
}

void cnnk_ref_detect(const cnnk_detect_desc *d, const float *const *src, const int64_t *ld,
                     float *scratch, float *dst, int64_t dst_ld) {
    const int64_t pix = d->h * d->w;
    float anchors[4 * RPN_ANCHORS];
    if (d->alg == CNNK_DETECT_RPN) rpn_anchors(anchors);
    for (int64_t n = 0; n < d->mb; ++n) {
        float *out = dst + n * d->rows * dst_ld;
        if (d->alg == CNNK_DETECT_YOLOV1) {
            const cnnk_yolo_params p = yolo_params(d);
            cnnk_ref_yolo_detect(&p, src[0] + n * ld[0], scratch, out, dst_ld);
        } else if (d->alg == CNNK_DETECT_RPN) {
            const cnnk_rpn_params p = rpn_params(d, anchors);
            cnnk_ref_rpn_proposals(&p, src[0] + n * pix * ld[0], ld[0], src[1] + n * pix * ld[1],
                                   ld[1], (float)n, scratch, out, dst_ld);
        } else {
            const cnnk_frcnn_params p = frcnn_params(d);
            cnnk_ref_frcnn_detect(&p, src[0] + n * pix * ld[0], ld[0], src[1] + n * pix * ld[1],
                                  ld[1], src[2] + n * pix * ld[2], ld[2], scratch, out, dst_ld);
        }
    }
}

static bool always(const cnnk_layer_desc *l) {
    (void)l;
    return true;
}

static size_t detect_workspace(const cnnk_layer_desc *l, int nthreads) {
    (void)nthreads;
    return (size_t)cnnk_ref_detect_scratch(&l->u.detect);
}

static void detect_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_ref_detect(&l->u.detect, a->src, a->src_ld, a->workspace, a->dst, a->dst_ld);
}

const cnnk_op_kernel cnnk_detect__ref = {.name = "ref/detect", .isa = CNNK_ISA_REF,
                                         .kind = CNNK_LAYER_DETECT, .applies = always,
                                         .workspace_size = detect_workspace, .run = detect_run};
