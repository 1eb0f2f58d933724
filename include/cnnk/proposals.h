/* Region proposals as data: sets of R boxes in the shared box layout, one
 * row of 5 floats per box, (batch index, x1, y1, x2, y2) in pixels of the
 * network input (Caffe's rois blob); a row whose batch index is -1 is
 * padding and its consumers give zeros for it (docs/REGIONS.md). */
#ifndef CNNK_PROPOSALS_H
#define CNNK_PROPOSALS_H

#include <stdint.h>

#include "cnnk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default proposals of an h x w input, deterministic from seed: box k
 * has shape k mod 12 (sides of 0.1, 0.2, 0.35 and 0.6 of the shorter image
 * side, aspect ratios 1:2, 1:1 and 2:1 at equal area), centred at a point
 * drawn uniformly over the image from the seed, clipped to the image; all
 * of batch index 0. A benchmark so gets a fixed set with the spread of
 * sizes selective search gives. */
void cnnk_proposals_default(int64_t r, int64_t h, int64_t w, uint64_t seed, float *out);

/* Boxes to stress a region kernel: corners from [-w/4, 5w/4) (so boxes
 * cross and leave the borders), some reversed (x2 < x1: Caffe's one-cell
 * region), some single cells, and about one row in eight padding (-1). */
void cnnk_proposals_random(int64_t r, int64_t h, int64_t w, uint64_t seed, float *out);

/* Reads a proposals file into out (r rows): one box per line, "x1 y1 x2
 * y2" in input pixels, or "b x1 y1 x2 y2" with batch index b (0, or -1 for
 * padding: the networks here pool one image's set, shared by every image of
 * the batch); blank lines and lines starting with '#' are skipped. A line
 * that is not 4 or 5 numbers, a box with x1 > x2 or y1 > y2 or outside
 * [0, w-1] x [0, h-1], or a count other than r is CNNK_EINVAL naming the
 * file and line. */
cnnk_status cnnk_proposals_load(const char *path, int64_t r, int64_t h, int64_t w, float *out,
                                cnnk_error *err);

/* The number of box lines of a proposals file (what r it needs), or -1
 * with err set when it cannot be read. */
int64_t cnnk_proposals_count(const char *path, cnnk_error *err);

#ifdef __cplusplus
}
#endif
#endif
