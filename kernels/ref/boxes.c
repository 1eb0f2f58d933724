/* Boxes out: NMS, box decoding, anchors, YOLOv1's and the RPN's decoding
 * (kernels/ref/boxes.h says what each follows). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/boxes.h"

float cnnk_ref_iou(const float *a, const float *b, float offset) {
    const float iw = fminf(a[2], b[2]) - fmaxf(a[0], b[0]) + offset;
    const float ih = fminf(a[3], b[3]) - fmaxf(a[1], b[1]) + offset;
    if (!(iw > 0.0f) || !(ih > 0.0f)) return 0.0f;
    const float inter = iw * ih;
    const float area_a = (a[2] - a[0] + offset) * (a[3] - a[1] + offset);
    const float area_b = (b[2] - b[0] + offset) * (b[3] - b[1] + offset);
    const float uni = area_a + area_b - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

static int by_score_desc(const void *pa, const void *pb) {
    const cnnk_scored *a = pa, *b = pb;
    if (a->score > b->score) return -1;
    if (a->score < b->score) return 1;
    return (a->index > b->index) - (a->index < b->index);
}

void cnnk_ref_score_order(const float *scores, int64_t n, cnnk_scored *order) {
    for (int64_t i = 0; i < n; ++i) order[i] = (cnnk_scored){scores[i], (int32_t)i};
    qsort(order, (size_t)n, sizeof *order, by_score_desc);
}

int64_t cnnk_ref_nms(const float *boxes, int64_t box_ld, const float *scores, int64_t n,
                     float thresh, float offset, int64_t top_n, int64_t max_keep,
                     cnnk_scored *work, int32_t *keep) {
    cnnk_ref_score_order(scores, n, work);
    if (top_n > 0 && top_n < n) n = top_n;
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (work[i].index < 0) continue;
        const float *bi = boxes + (int64_t)work[i].index * box_ld;
        keep[kept++] = work[i].index;
        if (max_keep > 0 && kept == max_keep) break;
        for (int64_t j = i + 1; j < n; ++j)
            if (work[j].index >= 0 &&
                cnnk_ref_iou(bi, boxes + (int64_t)work[j].index * box_ld, offset) > thresh)
                work[j].index = -1;
    }
    return kept;
}

void cnnk_ref_box_decode(const float *anchor, const float *delta, float *out) {
    const float w = anchor[2] - anchor[0] + 1.0f, h = anchor[3] - anchor[1] + 1.0f;
    const float cx = anchor[0] + 0.5f * w, cy = anchor[1] + 0.5f * h;
    const float px = delta[0] * w + cx, py = delta[1] * h + cy;
    const float pw = expf(delta[2]) * w, ph = expf(delta[3]) * h;
    out[0] = px - 0.5f * pw;
    out[1] = py - 0.5f * ph;
    out[2] = px + 0.5f * pw;
    out[3] = py + 0.5f * ph;
}

static float clampf(float v, float lo, float hi) {
    return fmaxf(fminf(v, hi), lo);
}

void cnnk_ref_box_clip(float *box, float img_w, float img_h) {
    box[0] = clampf(box[0], 0.0f, img_w - 1.0f);
    box[1] = clampf(box[1], 0.0f, img_h - 1.0f);
    box[2] = clampf(box[2], 0.0f, img_w - 1.0f);
    box[3] = clampf(box[3], 0.0f, img_h - 1.0f);
}

/* generate_anchors.py's _mkanchors: a box of ws x hs about (cx, cy). */
static void mkanchor(float cx, float cy, float ws, float hs, float *out) {
    out[0] = cx - 0.5f * (ws - 1.0f);
    out[1] = cy - 0.5f * (hs - 1.0f);
    out[2] = cx + 0.5f * (ws - 1.0f);
    out[3] = cy + 0.5f * (hs - 1.0f);
}

void cnnk_ref_anchors(float base, const float *ratios, int nratios, const float *scales,
                      int nscales, float *out) {
    const float cx = 0.5f * (base - 1.0f), cy = cx;
    const double size = (double)base * base;
    for (int r = 0; r < nratios; ++r) {
        /* numpy's round is half to even: nearbyint in the default mode. */
        const double ws = nearbyint(sqrt(size / ratios[r]));
        const double hs = nearbyint(ws * ratios[r]);
        for (int s = 0; s < nscales; ++s)
            mkanchor(cx, cy, (float)(ws * scales[s]), (float)(hs * scales[s]),
                     out + 4 * (r * nscales + s));
    }
}

/* ---- YOLOv1 ----------------------------------------------------------------- */

/* Scratch layout, in floats, of nb = s*s*b boxes. */
typedef struct yolo_scratch {
    float *boxes;   /* nb x 4, pixels */
    float *probs;   /* nb x classes: class-specific scores, 0 below threshold */
    float *cand;    /* nb x 4: one class's candidates' boxes */
    float *cscore;  /* nb */
    int32_t *cidx;  /* nb: their box indices */
    cnnk_scored *work; /* nb */
    int32_t *keep;  /* nb */
} yolo_scratch;

int64_t cnnk_ref_yolo_scratch(const cnnk_yolo_params *p) {
    const int64_t nb = (int64_t)p->s * p->s * p->b;
    return nb * (4 + p->classes + 4 + 1 + 1 + 2 + 1);
}

static yolo_scratch yolo_carve(const cnnk_yolo_params *p, float *f) {
    const int64_t nb = (int64_t)p->s * p->s * p->b;
    yolo_scratch s;
    s.boxes = f, f += 4 * nb;
    s.probs = f, f += nb * p->classes;
    s.cand = f, f += 4 * nb;
    s.cscore = f, f += nb;
    s.cidx = (int32_t *)f, f += nb;
    s.work = (cnnk_scored *)f, f += 2 * nb;
    s.keep = (int32_t *)f;
    return s;
}

/* darknet's get_detection_boxes (sqrt = 1, only_objectness = 0). */
static void yolo_boxes(const cnnk_yolo_params *p, const float *pred, const yolo_scratch *s) {
    const int cells = p->s * p->s;
    const float *conf = pred + (int64_t)cells * p->classes;
    const float *box = conf + (int64_t)cells * p->b;
    for (int i = 0; i < cells; ++i) {
        const int row = i / p->s, col = i % p->s;
        for (int k = 0; k < p->b; ++k) {
            const int64_t idx = (int64_t)i * p->b + k;
            const float *q = box + 4 * idx;
            const float x = (q[0] + (float)col) / (float)p->s;
            const float y = (q[1] + (float)row) / (float)p->s;
            const float w = q[2] * q[2], h = q[3] * q[3];
            float *o = s->boxes + 4 * idx;
            o[0] = (x - 0.5f * w) * p->img_w;
            o[1] = (y - 0.5f * h) * p->img_h;
            o[2] = (x + 0.5f * w) * p->img_w;
            o[3] = (y + 0.5f * h) * p->img_h;
            for (int c = 0; c < p->classes; ++c) {
                const float prob = conf[idx] * pred[(int64_t)i * p->classes + c];
                s->probs[idx * p->classes + c] = prob > p->thresh ? prob : 0.0f;
            }
        }
    }
}

/* darknet's do_nms_sort: per class, greedy NMS among the boxes scoring
 * above the threshold; a suppressed box's score for that class is 0. */
static void yolo_nms(const cnnk_yolo_params *p, const yolo_scratch *s) {
    const int64_t nb = (int64_t)p->s * p->s * p->b;
    for (int c = 0; c < p->classes; ++c) {
        int64_t m = 0;
        for (int64_t i = 0; i < nb; ++i) {
            const float prob = s->probs[i * p->classes + c];
            if (prob == 0.0f) continue;
            memcpy(s->cand + 4 * m, s->boxes + 4 * i, 4 * sizeof(float));
            s->cscore[m] = prob;
            s->cidx[m++] = (int32_t)i;
        }
        const int64_t kept = cnnk_ref_nms(s->cand, 4, s->cscore, m, p->nms, 0.0f, 0, 0, s->work,
                                          s->keep);
        /* keep[] is in score order; mark survivors by a negative score. */
        for (int64_t k = 0; k < kept; ++k) s->cscore[s->keep[k]] = -s->cscore[s->keep[k]];
        for (int64_t j = 0; j < m; ++j)
            if (s->cscore[j] > 0.0f) s->probs[(int64_t)s->cidx[j] * p->classes + c] = 0.0f;
    }
}

static void write_det_row(float *row, const float *box, float score, float cls) {
    memcpy(row, box, 4 * sizeof(float));
    row[4] = score;
    row[5] = cls;
}

int64_t cnnk_ref_yolo_detect(const cnnk_yolo_params *p, const float *pred, float *scratch,
                             float *dst, int64_t dst_ld) {
    const int64_t nb = (int64_t)p->s * p->s * p->b;
    const yolo_scratch s = yolo_carve(p, scratch);
    yolo_boxes(p, pred, &s);
    yolo_nms(p, &s);
    /* darknet's draw_detections: each box once, as its best class (the
     * first of equal ones) if that survived. */
    float *best = s.cscore;
    int32_t *best_cls = s.cidx;
    for (int64_t i = 0; i < nb; ++i) {
        int c = 0;
        for (int j = 1; j < p->classes; ++j)
            if (s.probs[i * p->classes + j] > s.probs[i * p->classes + c]) c = j;
        best[i] = s.probs[i * p->classes + c];
        best_cls[i] = c;
    }
    cnnk_ref_score_order(best, nb, s.work);
    int64_t found = 0;
    for (int64_t k = 0; k < nb && s.work[k].score > 0.0f; ++k, ++found) {
        if (found >= p->max_det) continue;
        const int64_t i = s.work[k].index;
        float box[4];
        memcpy(box, s.boxes + 4 * i, sizeof box);
        cnnk_ref_box_clip(box, p->img_w, p->img_h);
        write_det_row(dst + found * dst_ld, box, best[i], (float)best_cls[i]);
    }
    static const float none[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t r = found < p->max_det ? found : p->max_det; r < p->max_det; ++r)
        write_det_row(dst + r * dst_ld, none, 0.0f, -1.0f);
    return found;
}

/* ---- the RPN's proposals ----------------------------------------------------- */

int64_t cnnk_ref_rpn_scratch(const cnnk_rpn_params *p) {
    const int64_t n = p->fh * p->fw * p->anchors;
    return n * (4 + 1 + 2) + p->post_nms;
}

/* Rows of 5: (batch, x1, y1, x2, y2). */
static void write_roi_row(float *row, float batch, const float *box) {
    row[0] = batch;
    for (int k = 0; k < 4; ++k) row[1 + k] = box ? box[k] : 0.0f;
}

int64_t cnnk_ref_rpn_proposals(const cnnk_rpn_params *p, const float *cls, int64_t cls_ld,
                               const float *bbox, int64_t bbox_ld, float batch, float *scratch,
                               float *dst, int64_t dst_ld) {
    const int64_t A = p->anchors, n = p->fh * p->fw * A;
    float *boxes = scratch, *scores = boxes + 4 * n;
    cnnk_scored *work = (cnnk_scored *)(scores + n);
    int32_t *keep = (int32_t *)(scores + 3 * n);
    int64_t m = 0;
    for (int64_t y = 0; y < p->fh; ++y)
        for (int64_t x = 0; x < p->fw; ++x) {
            const float *c = cls + (y * p->fw + x) * cls_ld;
            const float *d = bbox + (y * p->fw + x) * bbox_ld;
            for (int64_t a = 0; a < A; ++a) {
                const float *base = p->anchor_boxes + 4 * a;
                const float sx = (float)x * p->feat_stride, sy = (float)y * p->feat_stride;
                const float anchor[4] = {base[0] + sx, base[1] + sy, base[2] + sx, base[3] + sy};
                float *b = boxes + 4 * m;
                cnnk_ref_box_decode(anchor, d + 4 * a, b);
                cnnk_ref_box_clip(b, p->img_w, p->img_h);
                /* _filter_boxes: both sides at least min_size (+1 widths). */
                if (b[2] - b[0] + 1.0f < p->min_size || b[3] - b[1] + 1.0f < p->min_size)
                    continue;
                /* rpn_cls_prob: Caffe's softmax over (background, object). */
                const float bg = c[a], fg = c[A + a], mx = fmaxf(bg, fg);
                const float ebg = expf(bg - mx), efg = expf(fg - mx);
                scores[m++] = efg / (ebg + efg);
            }
        }
    const int64_t kept =
        cnnk_ref_nms(boxes, 4, scores, m, p->nms, 1.0f, p->pre_nms, p->post_nms, work, keep);
    for (int64_t r = 0; r < p->post_nms; ++r)
        write_roi_row(dst + r * dst_ld, r < kept ? batch : -1.0f,
                      r < kept ? boxes + 4 * (int64_t)keep[r] : NULL);
    return kept;
}

/* ---- Faster R-CNN's detections -------------------------------------------------- */

int64_t cnnk_ref_frcnn_scratch(const cnnk_frcnn_params *p) {
    const int64_t r = p->rois, all = p->rois * p->classes;
    /* one class: boxes 4R, scores R, roi index R, work 2R, keep R; all
     * kept: boxes 4 and class 1 per detection, scores, work 2 */
    return r * (4 + 1 + 1 + 2 + 1) + all * (4 + 1 + 1 + 2);
}

int64_t cnnk_ref_frcnn_detect(const cnnk_frcnn_params *p, const float *prob, int64_t prob_ld,
                              const float *deltas, int64_t delta_ld, const float *rois,
                              int64_t rois_ld, float *scratch, float *dst, int64_t dst_ld) {
    const int64_t R = p->rois, all = R * p->classes;
    float *boxes = scratch, *scores = boxes + 4 * R;
    int32_t *ridx = (int32_t *)(scores + R);
    cnnk_scored *work = (cnnk_scored *)(scores + 2 * R);
    int32_t *keep = (int32_t *)(scores + 4 * R);
    float *det_box = scores + 5 * R, *det_score = det_box + 4 * all;
    float *det_cls = det_score + all;
    cnnk_scored *order = (cnnk_scored *)(det_cls + all);
    int64_t found = 0;
    for (int64_t j = 1; j < p->classes; ++j) {
        int64_t m = 0;
        for (int64_t i = 0; i < R; ++i) {
            const float *roi = rois + i * rois_ld;
            const float s = prob[i * prob_ld + j];
            if (roi[0] < 0.0f || !(s > p->thresh)) continue;
            cnnk_ref_box_decode(roi + 1, deltas + i * delta_ld + 4 * j, boxes + 4 * m);
            cnnk_ref_box_clip(boxes + 4 * m, p->img_w, p->img_h);
            scores[m] = s;
            ridx[m++] = (int32_t)i;
        }
        const int64_t kept = cnnk_ref_nms(boxes, 4, scores, m, p->nms, 1.0f, 0, 0, work, keep);
        for (int64_t k = 0; k < kept; ++k, ++found) {
            memcpy(det_box + 4 * found, boxes + 4 * (int64_t)keep[k], 4 * sizeof(float));
            det_score[found] = scores[keep[k]];
            det_cls[found] = (float)j;
        }
    }
    /* Detections are appended class by class, each class by score: the
     * stable order breaks ties by class, then by the class's own order. */
    cnnk_ref_score_order(det_score, found, order);
    for (int64_t r = 0; r < p->max_det; ++r) {
        static const float none[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        const int64_t k = r < found ? order[r].index : -1;
        write_det_row(dst + r * dst_ld, k >= 0 ? det_box + 4 * k : none,
                      k >= 0 ? det_score[k] : 0.0f, k >= 0 ? det_cls[k] : -1.0f);
    }
    return found;
}
