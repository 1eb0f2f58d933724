/* Detections compared across plans (validate/det_check.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/boxes.h"
#include "validate/det_check.h"

cnnk_det_tol cnnk_det_tolerance(const cnnk_detect_desc *d, double bound) {
    /* rel_l2 is an RMS relative error: a raw output of the order of the
     * RMS is off by about bound * RMS, and the largest of a few thousand
     * by a few times that: 16 * bound for values of order one. A score
     * (conf * prob) doubles it; a coordinate scales it by the cell
     * (img / s) or, through w = q^2, by 2|q| img: 4 img per unit. */
    const double e = 16.0 * bound;
    const double side = (double)(d->img_w > d->img_h ? d->img_w : d->img_h);
    return (cnnk_det_tol){.box = 4.0 * side * e, .score = 2.0 * e};
}

static bool valid_row(const cnnk_detect_desc *d, const float *r) {
    return d->cols == 6 ? r[5] >= 0.0f : r[0] >= 0.0f;
}

/* The box of a row: detections start with it, rois after the batch. */
static const float *box_of(const cnnk_detect_desc *d, const float *r) {
    return d->cols == 6 ? r : r + 1;
}

static double box_diff(const cnnk_detect_desc *d, const float *a, const float *b) {
    const float *x = box_of(d, a), *y = box_of(d, b);
    double m = 0.0;
    for (int k = 0; k < 4; ++k) m = fmax(m, fabs((double)x[k] - y[k]));
    return m;
}

/* A score is a product of two raw outputs, whose relative errors add: the
 * band is t.score for scores up to 1 and relative beyond. */
static double score_band(cnnk_det_tol t, double score) {
    return t.score * fmax(1.0, fabs(score));
}

static bool matches(const cnnk_detect_desc *d, const float *a, const float *b, cnnk_det_tol t) {
    if (a[d->cols == 6 ? 5 : 0] != b[d->cols == 6 ? 5 : 0]) return false; /* class, batch */
    if (box_diff(d, a, b) > t.box) return false;
    return d->cols != 6 || fabs((double)a[4] - b[4]) <= score_band(t, b[4]);
}

/* Whether the IoU of a and b lies within rounding of the NMS threshold:
 * moving every coordinate by up to t.box moves the intersection and the
 * union each by at most t.box times their perimeters, which are at most
 * the two boxes' perimeters P, so the IoU moves by at most
 * 2 t.box P / union. */
static bool near_nms(const cnnk_detect_desc *d, const float *a, const float *b, float offset,
                     cnnk_det_tol t) {
    const double iou = cnnk_ref_iou(a, b, offset);
    const double pa = 2.0 * ((a[2] - a[0] + offset) + (a[3] - a[1] + offset));
    const double pb = 2.0 * ((b[2] - b[0] + offset) + (b[3] - b[1] + offset));
    const double area_a = (a[2] - a[0] + offset) * (a[3] - a[1] + offset);
    const double area_b = (b[2] - b[0] + offset) * (b[3] - b[1] + offset);
    const double uni = fmax(area_a, area_b);
    if (!(uni > 0.0)) return false;
    return fabs(iou - d->nms) <= 2.0 * t.box * (pa + pb) / uni;
}

/* Why row r of list `own` may be missing from the other list: its score
 * within the band of the score threshold or of the other list's lowest
 * when that list is full, its box near the NMS threshold with a box of
 * either list, or a twin in the other list with its box and score but
 * another class (two classes' scores within the band). */
static bool explained(const cnnk_detect_desc *d, const float *r, const float *own,
                      const float *other, const bool *other_matched, cnnk_det_tol t) {
    if (d->cols == 6) {
        if (fabs((double)r[4] - d->thresh) <= score_band(t, d->thresh)) return true;
        const float *last = other + (d->rows - 1) * d->cols;
        if (valid_row(d, last) && fabs((double)r[4] - last[4]) <= score_band(t, last[4])) return true;
    }
    const float offset = d->alg == CNNK_DETECT_RPN ? 1.0f : 0.0f;
    for (int l = 0; l < 2; ++l) {
        const float *list = l ? other : own;
        for (int64_t j = 0; j < d->rows; ++j) {
            const float *q = list + j * d->cols;
            if (q == r || !valid_row(d, q)) continue;
            if (near_nms(d, box_of(d, r), box_of(d, q), offset, t)) return true;
            if (l && d->cols == 6 && !other_matched[j] && box_diff(d, r, q) <= t.box &&
                fabs((double)r[4] - q[4]) <= score_band(t, q[4]))
                return true;
        }
    }
    return false;
}

static void compare_image(const cnnk_detect_desc *d, const float *got, const float *want,
                          cnnk_det_tol t, bool *gm, bool *wm, cnnk_det_diff *o) {
    for (int64_t i = 0; i < d->rows; ++i) gm[i] = wm[i] = false;
    for (int64_t i = 0; i < d->rows; ++i) {
        o->want += valid_row(d, want + i * d->cols);
        o->got += valid_row(d, got + i * d->cols);
    }
    for (int64_t i = 0; i < d->rows; ++i) {
        const float *w = want + i * d->cols;
        if (!valid_row(d, w)) continue;
        /* The nearest unmatched row first: order swaps only among scores
         * within the band. */
        for (int64_t k = 0; k < 2 * d->rows; ++k) {
            const int64_t j = i + (k & 1 ? -(k + 1) / 2 : k / 2);
            if (j < 0 || j >= d->rows || gm[j] || !valid_row(d, got + j * d->cols)) continue;
            if (!matches(d, got + j * d->cols, w, t)) continue;
            gm[j] = wm[i] = true;
            ++o->matched;
            o->max_box = fmax(o->max_box, box_diff(d, got + j * d->cols, w));
            if (d->cols == 6) o->max_score = fmax(o->max_score, fabs((double)got[j * 6 + 4] - w[4]));
            break;
        }
    }
    for (int64_t i = 0; i < d->rows; ++i) {
        const float *w = want + i * d->cols, *g = got + i * d->cols;
        if (valid_row(d, w) && !wm[i]) explained(d, w, want, got, gm, t) ? ++o->flips : ++o->unexplained;
        if (valid_row(d, g) && !gm[i]) explained(d, g, got, want, wm, t) ? ++o->flips : ++o->unexplained;
    }
}

void cnnk_det_compare(const cnnk_detect_desc *d, const float *got, const float *want,
                      cnnk_det_tol tol, cnnk_det_diff *out) {
    memset(out, 0, sizeof *out);
    bool *gm = malloc((size_t)d->rows * sizeof *gm), *wm = malloc((size_t)d->rows * sizeof *wm);
    if (!gm || !wm) {
        out->unexplained = 1; /* cannot compare: never a silent pass */
    } else {
        const int64_t per = d->rows * d->cols;
        for (int64_t n = 0; n < d->mb; ++n)
            compare_image(d, got + n * per, want + n * per, tol, gm, wm, out);
    }
    free(gm), free(wm);
}
