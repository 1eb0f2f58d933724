/* Detections of two plans compared: the boxes after NMS of an optimized
 * plan against the reference plan's (docs/TOLERANCE.md). Float rounding
 * moves scores and coordinates a little, which is a match; it can also
 * move a score or an IoU across a threshold, which adds or removes a box:
 * such a flip is counted and reported as a flip, and only a difference no
 * threshold explains is a failure. */
#ifndef CNNK_VALIDATE_DET_CHECK_H
#define CNNK_VALIDATE_DET_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "cnnk/desc.h"

typedef struct cnnk_det_tol {
    double box;   /* pixels: |coordinate difference| of a match */
    double score; /* |score difference| of a match; the band around a score threshold */
} cnnk_det_tol;

/* The tolerance for a network whose raw outputs agree within rel_l2
 * `bound` (cnnk_net_tolerance): docs/TOLERANCE.md derives it. */
cnnk_det_tol cnnk_det_tolerance(const cnnk_detect_desc *d, double bound);

typedef struct cnnk_det_diff {
    int64_t want, got;       /* valid rows (class >= 0, or batch >= 0 for rois) */
    int64_t matched;         /* same class, box and score within tolerance */
    int64_t flips;           /* unmatched rows a threshold explains */
    int64_t unexplained;     /* unmatched rows nothing explains: a failure */
    double max_box, max_score; /* largest differences among the matches */
} cnnk_det_diff;

/* Compares mb images of d's output (1 x rows x cols each, dense). */
void cnnk_det_compare(const cnnk_detect_desc *d, const float *got, const float *want,
                      cnnk_det_tol tol, cnnk_det_diff *out);

#endif
