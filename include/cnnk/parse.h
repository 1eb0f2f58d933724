/* oneDNN benchdnn problem descriptors and batch files.
 *
 * A batch file is read as benchdnn reads one: whitespace-separated tokens,
 * `#` to the end of a line is a comment, a token starting with `--` is an
 * option that applies to the descriptors after it, anything else is one
 * problem descriptor. Options:
 *   --conv --deconv --ip --pool --lrn --bnorm --softmax --eltwise --binary
 *   --concat --resampling
 *                     choose the driver (default --conv)
 *   --alg=NAME        pool: max | avg_np | avg_p; eltwise: relu | dropout;
 *                     binary: add | add_relu; resampling: linear (half-pixel,
 *                     PyTorch's align_corners=False) | linear_align_corners
 *   --mb=N            overrides the minibatch of following descriptors
 *                     (0 = as written)
 *   --axis=1          softmax / concat: only the channel axis is supported
 * Descriptor syntax per driver (benchdnn's):
 *   conv/deconv  g1mb1ic64ih56iw56oc64oh56ow56kh3kw3sh1sw1ph1pw1dh0dw0n"name"
 *   ip           mb1ic256ih6iw6oc4096n"name"
 *   pool         mb1ic64ih112iw112oh56ow56kh3kw3sh2sw2ph1pw1n"name"
 *   lrn          mb1ic96ih55iw55ls5alpha0.0001beta0.75k2n"name"
 *   bnorm        mb1ic64ih56iw56eps1e-5n"name"
 *   softmax      1x1000 (NCHW dims; softmax over dim 1)
 *   eltwise      1x64x56x56
 *   binary       1x64x56x56:1x64x56x56
 *   concat       1x64x28x28:1x128x28x28
 *   resampling   mb1ic21ih65iw65oh520ow520n"name" (ow from oh, iw from ih)
 * with benchdnn's defaults and rules: a missing w is taken from h (h from w
 * for a 1-D problem, h = 1), mb defaults to 2, dilation 0 means none,
 * stride 1, padding 0; an oh that is given is checked against (and for
 * padding, derives the bottom/right pad like benchdnn does). */
#ifndef CNNK_PARSE_H
#define CNNK_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "cnnk/desc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parser state carried from option to descriptor within a batch. */
typedef struct cnnk_parse_opts {
    cnnk_layer_kind kind;       /* default CNNK_LAYER_CONV */
    cnnk_pool_alg pool_alg;     /* default CNNK_POOL_MAX */
    cnnk_eltwise_alg elt_alg;   /* default RELU; binary default ADD */
    bool align_corners;         /* resampling: --alg=linear_align_corners */
    int64_t mb;                 /* 0 = as written */
} cnnk_parse_opts;

void cnnk_parse_opts_init(cnnk_parse_opts *o);

/* Applies one `--option` token to o. */
cnnk_status cnnk_parse_option(const char *tok, cnnk_parse_opts *o, cnnk_error *err);

/* Parses one descriptor and checks it (cnnk_*_check). On failure err says
 * what and where: "column 12: unknown key 'xx'", "ih=0 must be >= 1". */
cnnk_status cnnk_parse_desc(const char *text, const cnnk_parse_opts *o,
                            cnnk_layer_desc *out, cnnk_error *err);

typedef struct cnnk_batch {
    cnnk_layer_desc *items;
    int *line;       /* source line of each item */
    size_t n, cap;
} cnnk_batch;

/* Parses a whole batch text; origin names it in messages ("file.txt").
 * Stops at the first malformed token and reports "origin:LINE:COL: why";
 * nothing is silently dropped. *b is valid (possibly partial) either way
 * and must be freed. */
cnnk_status cnnk_batch_parse(const char *text, const char *origin, cnnk_batch *b,
                             cnnk_error *err);
cnnk_status cnnk_batch_read(const char *path, cnnk_batch *b, cnnk_error *err);
void cnnk_batch_free(cnnk_batch *b);

#ifdef __cplusplus
}
#endif
#endif
