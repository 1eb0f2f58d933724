/* The one tolerance table. Every bound here is explained, with the
 * measurement behind it, in docs/TOLERANCE.md; change both together.
 *
 * On integer data (CNNK_FILL_INT) every product and partial sum of a
 * direct, im2col or 1x1 convolution is an integer below 2^24, so f32 is
 * exact whatever the summation order: those kernels must match bit for bit.
 * Winograd transforms multiply by fractions (1/4, 1/6, 1/12, ...), so it
 * is judged by the relative L2 norm, which grows with the tile size. */
#include "validate/check.h"

cnnk_tolerance cnnk_tolerance_conv(cnnk_algo algo, cnnk_fill fill) {
    switch (algo) {
    case CNNK_ALGO_WINOGRAD_F2:
        return (cnnk_tolerance){CNNK_TOL_REL_L2, 1e-6};
    case CNNK_ALGO_WINOGRAD_F4:
        return (cnnk_tolerance){CNNK_TOL_REL_L2, 6e-6};
    case CNNK_ALGO_WINOGRAD_F6:
        return (cnnk_tolerance){CNNK_TOL_REL_L2, 2.5e-5};
    default:
        break;
    }
    /* Direct, im2col, 1x1 on float data: only the summation order differs
     * from the double-accumulated reference; the relative L2 error of a
     * float dot product of length K grows like eps * sqrt(K), under 1e-5
     * for every K up to 2^16. */
    if (fill == CNNK_FILL_INT) return (cnnk_tolerance){CNNK_TOL_MAX_ABS, 0.0};
    return (cnnk_tolerance){CNNK_TOL_REL_L2, 1e-5};
}

/* Per layer kind: the bound on integer data, then on float data. */
static const struct {
    cnnk_tolerance on_int, on_float;
} by_kind[CNNK_LAYER_KIND_COUNT] = {
    /* As a direct convolution (cnnk_tolerance_conv). */
    [CNNK_LAYER_CONV] = {{CNNK_TOL_MAX_ABS, 0.0}, {CNNK_TOL_REL_L2, 1e-5}},
    [CNNK_LAYER_DECONV] = {{CNNK_TOL_MAX_ABS, 0.0}, {CNNK_TOL_REL_L2, 1e-5}},
    [CNNK_LAYER_FC] = {{CNNK_TOL_MAX_ABS, 0.0}, {CNNK_TOL_REL_L2, 1e-5}},
    /* Max pooling copies values. On integer data an average's sum is
     * exact and only its division rounds: at most 2 ulps apart. On float
     * data the sum's order matters and mixed signs cancel, so the norm. */
    [CNNK_LAYER_POOL] = {{CNNK_TOL_MAX_REL, 2.4e-7}, {CNNK_TOL_REL_L2, 1e-6}},
    [CNNK_LAYER_ELTWISE] = {{CNNK_TOL_MAX_ABS, 0.0}, {CNNK_TOL_MAX_ABS, 0.0}},
    [CNNK_LAYER_CONCAT] = {{CNNK_TOL_MAX_ABS, 0.0}, {CNNK_TOL_MAX_ABS, 0.0}},
    /* One reference implementation only: compared with itself, exactly.
     * Plans are compared by validate/det_check.c (docs/TOLERANCE.md). */
    [CNNK_LAYER_DETECT] = {{CNNK_TOL_MAX_ABS, 0.0}, {CNNK_TOL_MAX_ABS, 0.0}},
    /* A max copies values: exact. */
    [CNNK_LAYER_REGION_POOL] = {{CNNK_TOL_MAX_ABS, 0.0}, {CNNK_TOL_MAX_ABS, 0.0}},
    /* pow / exp in float: a few ulps from the double reference per value
     * (measured worst 1.3e-7 against oneDNN). */
    [CNNK_LAYER_LRN] = {{CNNK_TOL_MAX_REL, 1e-6}, {CNNK_TOL_MAX_REL, 1e-6}},
    [CNNK_LAYER_SOFTMAX] = {{CNNK_TOL_MAX_REL, 1e-6}, {CNNK_TOL_MAX_REL, 1e-6}},
    /* (x - mean) * s + beta cancels to near zero where beta ~ -(...), so
     * an element's relative error is unbounded; the norm is not
     * (measured worst 5.9e-8 against oneDNN: about one ulp). */
    [CNNK_LAYER_BNORM] = {{CNNK_TOL_REL_L2, 1e-6}, {CNNK_TOL_REL_L2, 1e-6}},
    /* Bilinear resize against oneDNN: the same half-pixel rule, but oneDNN
     * computes the source coordinate as (o + 0.5f) * in / out - 0.5f in
     * float where the reference takes PyTorch's float scale in/out times
     * (o + 0.5) in double: the two coordinates differ by up to ~in * 2^-23,
     * and so do the tap weights, so an output differs by that times the
     * difference of its taps (measured 1.45e-6 rel_l2 at 17 -> 130 on
     * integer data, where taps differ by up to 8). 1e-5 covers inputs up
     * to ~100 pixels; the kernels, which share the reference's taps, are
     * held to 1e-6 (cnnk_tolerance_op). */
    [CNNK_LAYER_RESIZE] = {{CNNK_TOL_REL_L2, 1e-5}, {CNNK_TOL_REL_L2, 1e-5}},
    /* oneDNN has no warp; its kernels take the reference's geometry and
     * taps (kernels/common/warp.c) and differ by their FMAs, as a resize. */
    [CNNK_LAYER_WARP] = {{CNNK_TOL_REL_L2, 1e-6}, {CNNK_TOL_REL_L2, 1e-6}},
};

cnnk_tolerance cnnk_tolerance_onednn(cnnk_layer_kind kind, cnnk_fill fill) {
    if ((unsigned)kind >= CNNK_LAYER_KIND_COUNT) return (cnnk_tolerance){CNNK_TOL_MAX_ABS, 0.0};
    return fill == CNNK_FILL_INT ? by_kind[kind].on_int : by_kind[kind].on_float;
}

cnnk_tolerance cnnk_tolerance_op(cnnk_layer_kind kind, cnnk_fill fill) {
    /* Optimized kernels are held to the same bounds as oneDNN: both are
     * float implementations of the same double-accumulated definition.
     * A resize kernel takes the reference's own taps (kernels/common/
     * resize.c), so only its FMAs differ: one rounding each of four blends,
     * a few ulps of the taps, and the norm stays within 1e-6 (measured
     * 3e-8 on shapes/resize.txt). */
    if (kind == CNNK_LAYER_RESIZE || kind == CNNK_LAYER_WARP)
        return (cnnk_tolerance){CNNK_TOL_REL_L2, 1e-6};
    return cnnk_tolerance_onednn(kind, fill);
}

bool cnnk_tolerance_pass(cnnk_tolerance t, const cnnk_diff *d) {
    double v = t.measure == CNNK_TOL_MAX_ABS   ? d->max_abs
               : t.measure == CNNK_TOL_MAX_REL ? d->max_rel
                                               : d->rel_l2;
    return !d->mistrust && v <= t.bound; /* false for NaN */
}

const char *cnnk_tol_measure_name(cnnk_tol_measure m) {
    switch (m) {
    case CNNK_TOL_MAX_ABS: return "max_abs";
    case CNNK_TOL_MAX_REL: return "max_rel";
    case CNNK_TOL_REL_L2: return "rel_l2";
    }
    return "?";
}
