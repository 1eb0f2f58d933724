/* Shape arithmetic and validation of every layer descriptor.
 *
 * Every check names the field it rejects, so a user reading a batch-file
 * error knows what to fix. Element counts are multiplied with overflow
 * checks before any kernel sees them: a descriptor that passes here has
 * every tensor within CNNK_MAX_ELEMS and its MAC count within int64. */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "cnnk/desc.h"

typedef long long ll;

int64_t cnnk_out_size(int64_t i, int64_t k, int64_t s, int64_t pbegin, int64_t pend, int64_t d,
                      cnnk_round r) {
    int64_t ek = (k - 1) * d + 1;
    int64_t span = i + pbegin + pend - ek;
    if (span < 0 || s < 1) return -1;
    int64_t o = (r == CNNK_ROUND_CEIL ? (span + s - 1) / s : span / s) + 1;
    /* PyTorch's ceil_mode rule: the last window must start inside the input
     * or the left padding, else it is dropped. */
    if (r == CNNK_ROUND_CEIL && o > 1 && (o - 1) * s >= i + pbegin) --o;
    return o;
}

static cnnk_status check_dim(const char *layer, const char *field, int64_t v, int64_t lo,
                             cnnk_error *err) {
    if (v < lo)
        return cnnk_fail(err, CNNK_EINVAL, "%s: %s=%lld must be >= %lld", layer, field, (ll)v,
                         (ll)lo);
    if (v > CNNK_MAX_DIM)
        return cnnk_fail(err, CNNK_EOVERFLOW, "%s: %s=%lld exceeds the limit %lld", layer, field,
                         (ll)v, (ll)CNNK_MAX_DIM);
    return CNNK_OK;
}

/* Product of n factors; fails when it overflows or exceeds limit. */
static cnnk_status checked_product(const char *layer, const char *what, const int64_t *f, int n,
                                   int64_t limit, int64_t *out, cnnk_error *err) {
    int64_t p = 1;
    for (int i = 0; i < n; ++i) {
        if (__builtin_mul_overflow(p, f[i], &p))
            return cnnk_fail(err, CNNK_EOVERFLOW, "%s: %s overflows 64 bits", layer, what);
    }
    if (p > limit)
        return cnnk_fail(err, CNNK_EOVERFLOW, "%s: %s has %lld elements, over the limit %lld",
                         layer, what, (ll)p, (ll)limit);
    *out = p;
    return CNNK_OK;
}

static cnnk_status check_tensor(const char *layer, const char *what, int64_t a, int64_t b,
                                int64_t c, int64_t d, cnnk_error *err) {
    int64_t f[4] = {a, b, c, d}, n;
    return checked_product(layer, what, f, 4, CNNK_MAX_ELEMS, &n, err);
}

/* One spatial dimension of a (transposed) convolution: derives or checks o. */
static cnnk_status conv_spatial(const char *layer, const char dim, int64_t i, int64_t k, int64_t s,
                                int64_t pb, int64_t pe, int64_t dil, bool transposed, int64_t *o,
                                cnnk_error *err) {
    int64_t ek = (k - 1) * dil + 1;
    int64_t want;
    if (transposed) {
        want = (i - 1) * s - pb - pe + ek;
        if (want < 1)
            return cnnk_fail(err, CNNK_EINVAL,
                             "%s: padding p%c=%lld+%lld leaves no output (o%c would be %lld)", layer,
                             dim, (ll)pb, (ll)pe, dim, (ll)want);
    } else {
        if (i + pb + pe < ek)
            return cnnk_fail(err, CNNK_EINVAL,
                             "%s: kernel k%c=%lld (dilated %lld) is larger than the padded input "
                             "%lld",
                             layer, dim, (ll)k, (ll)ek, (ll)(i + pb + pe));
        want = cnnk_out_size(i, k, s, pb, pe, dil, CNNK_ROUND_FLOOR);
    }
    if (*o != 0 && *o != want)
        return cnnk_fail(err, CNNK_EINVAL, "%s: o%c=%lld does not match the computed %lld", layer,
                         dim, (ll)*o, (ll)want);
    *o = want;
    return CNNK_OK;
}

/* What a message calls a layer: its name, else its kind. */
static const char *msg_name(const char *name, cnnk_layer_kind kind) {
    return name[0] ? name : cnnk_layer_kind_name(kind);
}

cnnk_status cnnk_conv_check(cnnk_conv_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, d->transposed ? CNNK_LAYER_DECONV : CNNK_LAYER_CONV);
    CNNK_TRY(check_dim(L, "g", d->g, 1, err));
    CNNK_TRY(check_dim(L, "mb", d->mb, 1, err));
    CNNK_TRY(check_dim(L, "ic", d->ic, 1, err));
    CNNK_TRY(check_dim(L, "ih", d->ih, 1, err));
    CNNK_TRY(check_dim(L, "iw", d->iw, 1, err));
    CNNK_TRY(check_dim(L, "oc", d->oc, 1, err));
    CNNK_TRY(check_dim(L, "kh", d->kh, 1, err));
    CNNK_TRY(check_dim(L, "kw", d->kw, 1, err));
    CNNK_TRY(check_dim(L, "sh", d->sh, 1, err));
    CNNK_TRY(check_dim(L, "sw", d->sw, 1, err));
    CNNK_TRY(check_dim(L, "dh", d->dh, 1, err));
    CNNK_TRY(check_dim(L, "dw", d->dw, 1, err));
    CNNK_TRY(check_dim(L, "pt", d->pt, 0, err));
    CNNK_TRY(check_dim(L, "pl", d->pl, 0, err));
    CNNK_TRY(check_dim(L, "pb", d->pb, 0, err));
    CNNK_TRY(check_dim(L, "pr", d->pr, 0, err));
    if (d->oh < 0 || d->ow < 0)
        return cnnk_fail(err, CNNK_EINVAL, "%s: oh/ow must be >= 1 (or 0 to derive)", L);
    if (d->ic % d->g || d->oc % d->g)
        return cnnk_fail(err, CNNK_EINVAL, "%s: g=%lld must divide ic=%lld and oc=%lld", L,
                         (ll)d->g, (ll)d->ic, (ll)d->oc);
    /* Dilated kernel extents must not overflow before the spatial checks. */
    if (d->kh > CNNK_MAX_DIM / d->dh || d->kw > CNNK_MAX_DIM / d->dw)
        return cnnk_fail(err, CNNK_EOVERFLOW, "%s: dilated kernel exceeds the limit %lld", L,
                         (ll)CNNK_MAX_DIM);
    CNNK_TRY(conv_spatial(L, 'h', d->ih, d->kh, d->sh, d->pt, d->pb, d->dh, d->transposed,
                          &d->oh, err));
    CNNK_TRY(conv_spatial(L, 'w', d->iw, d->kw, d->sw, d->pl, d->pr, d->dw, d->transposed,
                          &d->ow, err));
    CNNK_TRY(check_dim(L, "oh", d->oh, 1, err));
    CNNK_TRY(check_dim(L, "ow", d->ow, 1, err));
    CNNK_TRY(check_tensor(L, "src", d->mb, d->ih, d->iw, d->ic, err));
    CNNK_TRY(check_tensor(L, "dst", d->mb, d->oh, d->ow, d->oc, err));
    CNNK_TRY(check_tensor(L, "weights", d->oc, d->ic / d->g, d->kh, d->kw, err));
    /* MACs: the smaller side times the kernel; must fit int64 for reports. */
    int64_t f[6] = {d->mb, d->transposed ? d->ih : d->oh, d->transposed ? d->iw : d->ow,
                    d->transposed ? d->ic : d->oc, (d->transposed ? d->oc : d->ic) / d->g,
                    d->kh * d->kw};
    int64_t macs;
    return checked_product(L, "MAC count", f, 6, INT64_MAX, &macs, err);
}

cnnk_status cnnk_pool_check(cnnk_pool_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_POOL);
    CNNK_TRY(check_dim(L, "mb", d->mb, 1, err));
    CNNK_TRY(check_dim(L, "c", d->c, 1, err));
    CNNK_TRY(check_dim(L, "ih", d->ih, 1, err));
    CNNK_TRY(check_dim(L, "iw", d->iw, 1, err));
    if (d->alg != CNNK_POOL_MAX && d->alg != CNNK_POOL_AVG_INCLUDE_PAD &&
        d->alg != CNNK_POOL_AVG_EXCLUDE_PAD)
        return cnnk_fail(err, CNNK_EINVAL, "%s: unknown pooling algorithm %d", L, (int)d->alg);
    if (d->round != CNNK_ROUND_FLOOR && d->round != CNNK_ROUND_CEIL)
        return cnnk_fail(err, CNNK_EINVAL, "%s: unknown rounding %d", L, (int)d->round);
    if (d->global) {
        d->kh = d->ih, d->kw = d->iw, d->sh = d->sw = 1;
        d->pt = d->pl = d->pb = d->pr = 0;
    }
    CNNK_TRY(check_dim(L, "kh", d->kh, 1, err));
    CNNK_TRY(check_dim(L, "kw", d->kw, 1, err));
    CNNK_TRY(check_dim(L, "sh", d->sh, 1, err));
    CNNK_TRY(check_dim(L, "sw", d->sw, 1, err));
    CNNK_TRY(check_dim(L, "pt", d->pt, 0, err));
    CNNK_TRY(check_dim(L, "pl", d->pl, 0, err));
    CNNK_TRY(check_dim(L, "pb", d->pb, 0, err));
    CNNK_TRY(check_dim(L, "pr", d->pr, 0, err));
    if (d->pt >= d->kh || d->pb >= d->kh || d->pl >= d->kw || d->pr >= d->kw)
        return cnnk_fail(err, CNNK_EINVAL,
                         "%s: padding (%lld,%lld,%lld,%lld) must be smaller than the kernel "
                         "%lldx%lld: a window would hold only padding",
                         L, (ll)d->pt, (ll)d->pl, (ll)d->pb, (ll)d->pr, (ll)d->kh, (ll)d->kw);
    if (d->ih + d->pt + d->pb < d->kh || d->iw + d->pl + d->pr < d->kw)
        return cnnk_fail(err, CNNK_EINVAL, "%s: kernel %lldx%lld is larger than the padded input",
                         L, (ll)d->kh, (ll)d->kw);
    int64_t oh = cnnk_out_size(d->ih, d->kh, d->sh, d->pt, d->pb, 1, d->round);
    int64_t ow = cnnk_out_size(d->iw, d->kw, d->sw, d->pl, d->pr, 1, d->round);
    if ((d->oh && d->oh != oh) || (d->ow && d->ow != ow))
        return cnnk_fail(err, CNNK_EINVAL, "%s: output %lldx%lld does not match the computed %lldx%lld",
                         L, (ll)d->oh, (ll)d->ow, (ll)oh, (ll)ow);
    d->oh = oh, d->ow = ow;
    CNNK_TRY(check_tensor(L, "src", d->mb, d->ih, d->iw, d->c, err));
    return CNNK_OK;
}

static cnnk_status check_nchw(const char *L, int64_t mb, int64_t c, int64_t h, int64_t w,
                              cnnk_error *err) {
    CNNK_TRY(check_dim(L, "mb", mb, 1, err));
    CNNK_TRY(check_dim(L, "c", c, 1, err));
    CNNK_TRY(check_dim(L, "h", h, 1, err));
    CNNK_TRY(check_dim(L, "w", w, 1, err));
    return check_tensor(L, "tensor", mb, h, w, c, err);
}

cnnk_status cnnk_lrn_check(const cnnk_lrn_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_LRN);
    CNNK_TRY(check_nchw(L, d->mb, d->c, d->h, d->w, err));
    CNNK_TRY(check_dim(L, "size", d->size, 1, err));
    if (d->size % 2 == 0)
        return cnnk_fail(err, CNNK_EINVAL,
                         "%s: size=%lld must be odd (PyTorch and oneDNN centre even windows "
                         "differently)",
                         L, (ll)d->size);
    if (!(d->alpha >= 0.0f) || !(d->beta >= 0.0f) || !(d->k > 0.0f) || d->alpha > 1e30f ||
        d->beta > 1e30f || d->k > 1e30f)
        return cnnk_fail(err, CNNK_EINVAL,
                         "%s: alpha=%g, beta=%g must be finite and >= 0, k=%g finite and > 0", L,
                         (double)d->alpha, (double)d->beta, (double)d->k);
    return CNNK_OK;
}

cnnk_status cnnk_bnorm_check(const cnnk_bnorm_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_BNORM);
    CNNK_TRY(check_nchw(L, d->mb, d->c, d->h, d->w, err));
    if (!(d->eps > 0.0f) || d->eps > 1.0f)
        return cnnk_fail(err, CNNK_EINVAL, "%s: eps=%g must be in (0, 1]", L, (double)d->eps);
    return CNNK_OK;
}

cnnk_status cnnk_fc_check(const cnnk_fc_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_FC);
    CNNK_TRY(check_dim(L, "mb", d->mb, 1, err));
    CNNK_TRY(check_dim(L, "ic", d->ic, 1, err));
    CNNK_TRY(check_dim(L, "ih", d->ih, 1, err));
    CNNK_TRY(check_dim(L, "iw", d->iw, 1, err));
    CNNK_TRY(check_dim(L, "oc", d->oc, 1, err));
    CNNK_TRY(check_tensor(L, "src", d->mb, d->ih, d->iw, d->ic, err));
    CNNK_TRY(check_tensor(L, "weights", d->oc, d->ic, d->ih, d->iw, err));
    CNNK_TRY(check_tensor(L, "dst", d->mb, d->oc, 1, 1, err));
    int64_t f[5] = {d->mb, d->oc, d->ic, d->ih, d->iw}, macs;
    return checked_product(L, "MAC count", f, 5, INT64_MAX, &macs, err);
}

cnnk_status cnnk_softmax_check(const cnnk_softmax_desc *d, cnnk_error *err) {
    return check_nchw(msg_name(d->name, CNNK_LAYER_SOFTMAX), d->mb, d->c, d->h, d->w, err);
}

cnnk_status cnnk_eltwise_check(const cnnk_eltwise_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_ELTWISE);
    if (d->alg != CNNK_ELTWISE_RELU && d->alg != CNNK_ELTWISE_ADD &&
        d->alg != CNNK_ELTWISE_ADD_RELU && d->alg != CNNK_ELTWISE_DROPOUT &&
        d->alg != CNNK_ELTWISE_LEAKY_RELU)
        return cnnk_fail(err, CNNK_EINVAL, "%s: unknown element-wise algorithm %d", L, (int)d->alg);
    /* Any finite slope is a leaky ReLU (oneDNN takes any alpha); the other
     * algorithms carry none, so a stray one cannot change them unseen. */
    if (!isfinite(d->alpha) || (d->alg != CNNK_ELTWISE_LEAKY_RELU && d->alpha != 0.0f))
        return cnnk_fail(err, CNNK_EINVAL, "%s: alpha=%g: a finite slope, and only for leaky_relu",
                         L, (double)d->alpha);
    return check_nchw(L, d->mb, d->c, d->h, d->w, err);
}

cnnk_status cnnk_concat_check(const cnnk_concat_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_CONCAT);
    if (d->n < 1 || d->n > CNNK_CONCAT_MAX_INPUTS)
        return cnnk_fail(err, CNNK_EINVAL, "%s: %d inputs, must be 1..%d", L, d->n,
                         CNNK_CONCAT_MAX_INPUTS);
    int64_t total = 0;
    for (int i = 0; i < d->n; ++i) {
        char field[32];
        snprintf(field, sizeof field, "c[%d]", i);
        CNNK_TRY(check_dim(L, field, d->c[i], 1, err));
        total += d->c[i]; /* each <= 2^24, at most 64 of them: no overflow */
    }
    CNNK_TRY(check_dim(L, "total channels", total, 1, err));
    return check_nchw(L, d->mb, total, d->h, d->w, err);
}

cnnk_status cnnk_resize_check(const cnnk_resize_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_RESIZE);
    CNNK_TRY(check_nchw(L, d->mb, d->c, d->ih, d->iw, err));
    CNNK_TRY(check_dim(L, "oh", d->oh, 1, err));
    CNNK_TRY(check_dim(L, "ow", d->ow, 1, err));
    return check_tensor(L, "dst", d->mb, d->c, d->oh, d->ow, err);
}

cnnk_status cnnk_detect_check(const cnnk_detect_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_DETECT);
    CNNK_TRY(check_nchw(L, d->mb, d->c, d->h, d->w, err));
    CNNK_TRY(check_dim(L, "rows", d->rows, 1, err));
    CNNK_TRY(check_dim(L, "img_h", d->img_h, 1, err));
    CNNK_TRY(check_dim(L, "img_w", d->img_w, 1, err));
    if (!(d->nms >= 0.0f && d->nms <= 1.0f) || !(d->thresh >= 0.0f && d->thresh <= 1.0f) ||
        !(d->min_size >= 0.0f && d->min_size <= (float)CNNK_MAX_DIM))
        return cnnk_fail(err, CNNK_EINVAL, "%s: nms=%g thresh=%g must be in [0, 1], min_size=%g "
                         ">= 0", L, (double)d->nms, (double)d->thresh, (double)d->min_size);
    if (d->alg == CNNK_DETECT_YOLOV1) {
        CNNK_TRY(check_dim(L, "s", d->s, 1, err));
        CNNK_TRY(check_dim(L, "b", d->b, 1, err));
        CNNK_TRY(check_dim(L, "classes", d->classes, 1, err));
        if (d->c != d->s * d->s * (5 * d->b + d->classes) || d->h != 1 || d->w != 1 ||
            d->cols != 6 || d->c1 != 0)
            return cnnk_fail(err, CNNK_EINVAL,
                             "%s: yolov1 decoding takes s*s*(5b + classes) = %lld values as "
                             "c x 1 x 1 and writes rows of 6; got %lldx%lldx%lld, %lld columns",
                             L, (ll)(d->s * d->s * (5 * d->b + d->classes)), (ll)d->c, (ll)d->h,
                             (ll)d->w, (ll)d->cols);
        return CNNK_OK;
    }
    if (d->alg == CNNK_DETECT_RPN) {
        CNNK_TRY(check_dim(L, "feat_stride", d->feat_stride, 1, err));
        CNNK_TRY(check_dim(L, "pre_nms", d->pre_nms, 1, err));
        if (d->c != 2 * 9 || d->c1 != 4 * 9 || d->cols != 5)
            return cnnk_fail(err, CNNK_EINVAL,
                             "%s: the proposal step takes 18 scores and 36 deltas per pixel "
                             "(9 anchors) and writes rows of 5; got %lld and %lld, %lld columns",
                             L, (ll)d->c, (ll)d->c1, (ll)d->cols);
        return CNNK_OK;
    }
    if (d->alg == CNNK_DETECT_FRCNN) {
        if (d->c < 2 || d->c1 != 4 * d->c || d->cols != 6)
            return cnnk_fail(err, CNNK_EINVAL,
                             "%s: Faster R-CNN's detections take c >= 2 class scores and 4c "
                             "deltas per roi and write rows of 6; got %lld and %lld, %lld columns",
                             L, (ll)d->c, (ll)d->c1, (ll)d->cols);
        return CNNK_OK;
    }
    return cnnk_fail(err, CNNK_EINVAL, "%s: unknown detection algorithm %d", L, (int)d->alg);
}

cnnk_status cnnk_region_pool_check(cnnk_region_pool_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_REGION_POOL);
    CNNK_TRY(check_nchw(L, d->mb, d->c, d->ih, d->iw, err));
    CNNK_TRY(check_dim(L, "rois", d->rois, 0, err));
    if (d->nlevels < 1 || d->nlevels > CNNK_REGION_MAX_LEVELS || (d->nlevels > 1 && !d->flatten))
        return cnnk_fail(err, CNNK_EINVAL, "%s: %d levels, must be 1..%d (more than 1 flattened)",
                         L, d->nlevels, CNNK_REGION_MAX_LEVELS);
    if (d->rois > 0 && !(d->spatial_scale > 0.0f && d->spatial_scale <= 1.0f))
        return cnnk_fail(err, CNNK_EINVAL, "%s: spatial_scale=%g must be in (0, 1]", L,
                         (double)d->spatial_scale);
    const int64_t regions = d->rois > 0 ? d->rois : 1;
    int64_t features = 0;
    for (int i = 0; i < d->nlevels; ++i) {
        CNNK_TRY(check_dim(L, "bins_h", d->bins_h[i], 1, err));
        CNNK_TRY(check_dim(L, "bins_w", d->bins_w[i], 1, err));
        int64_t f[3] = {d->c, d->bins_h[i], d->bins_w[i]}, level = 0;
        CNNK_TRY(checked_product(L, "level features", f, 3, CNNK_MAX_DIM, &level, err));
        features += level; /* at most 4 levels of <= 2^24 each */
    }
    if (d->flatten) {
        d->oc = features, d->oh = 1, d->ow = regions;
    } else {
        d->oc = d->c, d->oh = regions * d->bins_h[0], d->ow = d->bins_w[0];
    }
    CNNK_TRY(check_dim(L, "output rows", d->oh, 1, err));
    CNNK_TRY(check_tensor(L, "dst", d->mb, d->oh, d->ow, d->oc, err));
    return check_tensor(L, "boxes", d->mb, 1, regions, 5, err);
}

cnnk_status cnnk_warp_check(const cnnk_warp_desc *d, cnnk_error *err) {
    const char *L = msg_name(d->name, CNNK_LAYER_WARP);
    CNNK_TRY(check_nchw(L, d->mb, d->c, d->ih, d->iw, err));
    CNNK_TRY(check_dim(L, "rois", d->rois, 1, err));
    CNNK_TRY(check_dim(L, "oh", d->oh, 1, err));
    CNNK_TRY(check_dim(L, "ow", d->ow, 1, err));
    if (d->pad < 0 || 2 * d->pad >= d->oh || 2 * d->pad >= d->ow)
        return cnnk_fail(err, CNNK_EINVAL, "%s: pad=%lld must be >= 0 and leave the box inside "
                         "%lldx%lld (2 pad < each side)", L, (ll)d->pad, (ll)d->oh, (ll)d->ow);
    int64_t f[2] = {d->rois, d->oh}, rows = 0;
    CNNK_TRY(checked_product(L, "output rows", f, 2, CNNK_MAX_DIM, &rows, err));
    CNNK_TRY(check_tensor(L, "dst", d->mb, rows, d->ow, d->c, err));
    return check_tensor(L, "boxes", d->mb, 1, d->rois, 5, err);
}

bool cnnk_region_pool_as_pool(const cnnk_region_pool_desc *d, cnnk_pool_desc *p) {
    if (d->rois > 0 || d->flatten || d->nlevels != 1 || d->ih % d->bins_h[0] ||
        d->iw % d->bins_w[0])
        return false;
    const int64_t kh = d->ih / d->bins_h[0], kw = d->iw / d->bins_w[0];
    *p = (cnnk_pool_desc){.mb = d->mb, .c = d->c, .ih = d->ih, .iw = d->iw, .kh = kh, .kw = kw,
                          .sh = kh, .sw = kw, .alg = CNNK_POOL_MAX, .round = CNNK_ROUND_FLOOR};
    snprintf(p->name, sizeof p->name, "%s", d->name);
    return cnnk_pool_check(p, NULL) == CNNK_OK;
}

void cnnk_region_bin(bool roi, int64_t i, int64_t bins, int64_t start, int64_t len, int64_t size,
                     int64_t *lo, int64_t *hi) {
    int64_t a, b;
    if (roi) {
        const float bin = (float)len / (float)bins;
        a = (int64_t)floorf((float)i * bin);
        b = (int64_t)ceilf((float)(i + 1) * bin);
    } else {
        a = i * len / bins;
        b = ((i + 1) * len + bins - 1) / bins;
    }
    a += start, b += start;
    *lo = a < 0 ? 0 : a > size ? size : a;
    *hi = b < 0 ? 0 : b > size ? size : b;
}

/* Caffe rounds with C's round(): halves away from zero. A box coordinate
 * beyond int64 after scaling is clamped first: it lies outside any map. */
static int64_t round_cell(float v, float scale) {
    float x = roundf(v * scale);
    if (!(x > -1e15f)) return (int64_t)-1e15; /* also NaN: an empty region */
    if (x > 1e15f) return (int64_t)1e15;
    return (int64_t)x;
}

void cnnk_region_box(const float *box4, float scale, int64_t *y0, int64_t *hlen, int64_t *x0,
                     int64_t *wlen) {
    const int64_t xs = round_cell(box4[0], scale), ys = round_cell(box4[1], scale);
    const int64_t xe = round_cell(box4[2], scale), ye = round_cell(box4[3], scale);
    *x0 = xs, *y0 = ys;
    *wlen = xe - xs + 1 > 1 ? xe - xs + 1 : 1;
    *hlen = ye - ys + 1 > 1 ? ye - ys + 1 : 1;
}

void cnnk_pool_end_padding(const cnnk_pool_desc *d, int64_t *pb, int64_t *pr) {
    /* Where the last window ends past the input. */
    int64_t need_b = (d->oh - 1) * d->sh + d->kh - d->ih - d->pt;
    int64_t need_r = (d->ow - 1) * d->sw + d->kw - d->iw - d->pl;
    *pb = need_b > d->pb ? need_b : d->pb;
    *pr = need_r > d->pr ? need_r : d->pr;
}

bool cnnk_conv_patch_column(const cnnk_conv_desc *d) {
    return !d->transposed && d->g == 1 && d->kh == d->sh && d->kw == d->sw && d->dh == 1 &&
           d->dw == 1 && d->pt == 0 && d->pl == 0 && d->pb == 0 && d->pr == 0 &&
           d->iw == d->kw && d->kh > 0 && d->ih % d->kh == 0;
}

cnnk_conv_desc cnnk_conv_patch_1x1(const cnnk_conv_desc *d) {
    cnnk_conv_desc x = *d;
    x.ic = d->ic * d->kh * d->kw;
    x.ih = d->ih / d->kh;
    x.iw = 1;
    x.kh = x.kw = x.sh = x.sw = 1;
    return x;
}

void cnnk_conv_patch_weights(const cnnk_conv_desc *d, const float *oihw, float *out) {
    const int64_t taps = d->kh * d->kw;
    for (int64_t o = 0; o < d->oc; ++o)
        for (int64_t c = 0; c < d->ic; ++c)
            for (int64_t t = 0; t < taps; ++t)
                out[(o * taps + t) * d->ic + c] = oihw[(o * d->ic + c) * taps + t];
}

int64_t cnnk_conv_weights(const cnnk_conv_desc *d) {
    return d->oc * (d->ic / d->g) * d->kh * d->kw;
}

int64_t cnnk_conv_biases(const cnnk_conv_desc *d) { return d->oc; }

int64_t cnnk_conv_macs(const cnnk_conv_desc *d) {
    /* A transposed convolution scatters each input pixel through the kernel. */
    if (d->transposed) return d->mb * d->ih * d->iw * d->ic * (d->oc / d->g) * d->kh * d->kw;
    return d->mb * d->oh * d->ow * d->oc * (d->ic / d->g) * d->kh * d->kw;
}

int64_t cnnk_conv_src_elems(const cnnk_conv_desc *d) { return d->mb * d->ih * d->iw * d->ic; }
int64_t cnnk_conv_dst_elems(const cnnk_conv_desc *d) { return d->mb * d->oh * d->ow * d->oc; }
int64_t cnnk_fc_weights(const cnnk_fc_desc *d) { return d->oc * d->ic * d->ih * d->iw; }
int64_t cnnk_fc_macs(const cnnk_fc_desc *d) { return d->mb * cnnk_fc_weights(d); }
int64_t cnnk_bnorm_params(const cnnk_bnorm_desc *d) { return 2 * d->c; }

void cnnk_conv_format(const cnnk_conv_desc *d, char *buf, size_t len) {
    /* benchdnn derives the bottom/right padding from oh/ow, so writing
     * ph = top, pw = left and the output size reproduces asymmetric pads. */
    int n = snprintf(buf, len,
                     "g%lldmb%lldic%lldih%lldiw%lldoc%lldoh%lldow%lldkh%lldkw%lldsh%lldsw%lld"
                     "ph%lldpw%lld",
                     (ll)d->g, (ll)d->mb, (ll)d->ic, (ll)d->ih, (ll)d->iw, (ll)d->oc, (ll)d->oh,
                     (ll)d->ow, (ll)d->kh, (ll)d->kw, (ll)d->sh, (ll)d->sw, (ll)d->pt, (ll)d->pl);
    if (n < 0 || (size_t)n >= len) return;
    if (d->dh != 1 || d->dw != 1) {
        int m = snprintf(buf + n, len - (size_t)n, "dh%llddw%lld", (ll)(d->dh - 1), (ll)(d->dw - 1));
        if (m < 0 || (size_t)(n + m) >= len) return;
        n += m;
    }
    if (d->name[0]) snprintf(buf + n, len - (size_t)n, "n\"%s\"", d->name);
}

/* ---- per-kind facts ------------------------------------------------------- */

static const struct kind_row {
    const char *name;
    size_t name_at; /* offset of the descriptor's name in cnnk_layer_desc */
} kinds[CNNK_LAYER_KIND_COUNT] = {
    [CNNK_LAYER_CONV] = {"conv", offsetof(cnnk_layer_desc, u.conv.name)},
    [CNNK_LAYER_DECONV] = {"deconv", offsetof(cnnk_layer_desc, u.conv.name)},
    [CNNK_LAYER_FC] = {"ip", offsetof(cnnk_layer_desc, u.fc.name)},
    [CNNK_LAYER_POOL] = {"pool", offsetof(cnnk_layer_desc, u.pool.name)},
    [CNNK_LAYER_LRN] = {"lrn", offsetof(cnnk_layer_desc, u.lrn.name)},
    [CNNK_LAYER_BNORM] = {"bnorm", offsetof(cnnk_layer_desc, u.bnorm.name)},
    [CNNK_LAYER_SOFTMAX] = {"softmax", offsetof(cnnk_layer_desc, u.softmax.name)},
    [CNNK_LAYER_ELTWISE] = {"eltwise", offsetof(cnnk_layer_desc, u.eltwise.name)},
    [CNNK_LAYER_CONCAT] = {"concat", offsetof(cnnk_layer_desc, u.concat.name)},
    [CNNK_LAYER_RESIZE] = {"resampling", offsetof(cnnk_layer_desc, u.resize.name)},
    [CNNK_LAYER_DETECT] = {"detect", offsetof(cnnk_layer_desc, u.detect.name)},
    [CNNK_LAYER_REGION_POOL] = {"region_pool", offsetof(cnnk_layer_desc, u.region.name)},
    [CNNK_LAYER_WARP] = {"warp", offsetof(cnnk_layer_desc, u.warp.name)},
};

const char *cnnk_layer_kind_name(cnnk_layer_kind k) {
    return (unsigned)k < CNNK_LAYER_KIND_COUNT ? kinds[k].name : "unknown";
}

const char *cnnk_layer_name(const cnnk_layer_desc *l) {
    if ((unsigned)l->kind >= CNNK_LAYER_KIND_COUNT) return "";
    return (const char *)l + kinds[l->kind].name_at;
}

cnnk_status cnnk_layer_check(cnnk_layer_desc *l, cnnk_error *err) {
    switch (l->kind) {
    case CNNK_LAYER_CONV:
    case CNNK_LAYER_DECONV: return cnnk_conv_check(&l->u.conv, err);
    case CNNK_LAYER_FC: return cnnk_fc_check(&l->u.fc, err);
    case CNNK_LAYER_POOL: return cnnk_pool_check(&l->u.pool, err);
    case CNNK_LAYER_LRN: return cnnk_lrn_check(&l->u.lrn, err);
    case CNNK_LAYER_BNORM: return cnnk_bnorm_check(&l->u.bnorm, err);
    case CNNK_LAYER_SOFTMAX: return cnnk_softmax_check(&l->u.softmax, err);
    case CNNK_LAYER_ELTWISE: return cnnk_eltwise_check(&l->u.eltwise, err);
    case CNNK_LAYER_CONCAT: return cnnk_concat_check(&l->u.concat, err);
    case CNNK_LAYER_RESIZE: return cnnk_resize_check(&l->u.resize, err);
    case CNNK_LAYER_DETECT: return cnnk_detect_check(&l->u.detect, err);
    case CNNK_LAYER_REGION_POOL: return cnnk_region_pool_check(&l->u.region, err);
    case CNNK_LAYER_WARP: return cnnk_warp_check(&l->u.warp, err);
    case CNNK_LAYER_KIND_COUNT: break;
    }
    return cnnk_fail(err, CNNK_EINVAL, "unknown layer kind %d", (int)l->kind);
}

/* A layer that keeps its input's shape (LRN, batch-norm, softmax, ...). */
static cnnk_layer_dims same_shape(int64_t mb, int64_t c, int64_t h, int64_t w) {
    return (cnnk_layer_dims){.mb = mb, .ic = c, .ih = h, .iw = w, .oc = c, .oh = h, .ow = w,
                             .ninputs = 1};
}

cnnk_layer_dims cnnk_layer_dims_of(const cnnk_layer_desc *l) {
    cnnk_layer_dims x = {0};
    switch (l->kind) {
    case CNNK_LAYER_CONV:
    case CNNK_LAYER_DECONV: {
        const cnnk_conv_desc *d = &l->u.conv;
        x = (cnnk_layer_dims){.mb = d->mb, .ic = d->ic, .ih = d->ih, .iw = d->iw, .oc = d->oc,
                              .oh = d->oh, .ow = d->ow, .ninputs = 1};
        x.weights = cnnk_conv_weights(d), x.bias = d->oc, x.macs = cnnk_conv_macs(d);
        break;
    }
    case CNNK_LAYER_FC: {
        const cnnk_fc_desc *d = &l->u.fc;
        x = (cnnk_layer_dims){.mb = d->mb, .ic = d->ic, .ih = d->ih, .iw = d->iw, .oc = d->oc,
                              .oh = 1, .ow = 1, .ninputs = 1};
        x.weights = cnnk_fc_weights(d), x.bias = d->oc, x.macs = cnnk_fc_macs(d);
        break;
    }
    case CNNK_LAYER_POOL: {
        const cnnk_pool_desc *d = &l->u.pool;
        x = same_shape(d->mb, d->c, d->ih, d->iw);
        x.oh = d->oh, x.ow = d->ow;
        break;
    }
    case CNNK_LAYER_LRN: x = same_shape(l->u.lrn.mb, l->u.lrn.c, l->u.lrn.h, l->u.lrn.w); break;
    case CNNK_LAYER_BNORM: {
        const cnnk_bnorm_desc *d = &l->u.bnorm;
        x = same_shape(d->mb, d->c, d->h, d->w);
        x.stats = d->c;
        break;
    }
    case CNNK_LAYER_SOFTMAX: {
        const cnnk_softmax_desc *d = &l->u.softmax;
        x = same_shape(d->mb, d->c, d->h, d->w);
        break;
    }
    case CNNK_LAYER_ELTWISE: {
        const cnnk_eltwise_desc *d = &l->u.eltwise;
        x = same_shape(d->mb, d->c, d->h, d->w);
        if (d->alg == CNNK_ELTWISE_ADD || d->alg == CNNK_ELTWISE_ADD_RELU) x.ninputs = 2;
        break;
    }
    case CNNK_LAYER_CONCAT: {
        const cnnk_concat_desc *d = &l->u.concat;
        int64_t c = 0;
        for (int i = 0; i < d->n; ++i) c += d->c[i];
        x = same_shape(d->mb, c, d->h, d->w);
        x.ninputs = d->n;
        break;
    }
    case CNNK_LAYER_RESIZE: {
        const cnnk_resize_desc *d = &l->u.resize;
        x = same_shape(d->mb, d->c, d->ih, d->iw);
        x.oh = d->oh, x.ow = d->ow;
        break;
    }
    case CNNK_LAYER_DETECT: {
        const cnnk_detect_desc *d = &l->u.detect;
        x = (cnnk_layer_dims){.mb = d->mb, .ic = d->c, .ih = d->h, .iw = d->w, .oc = d->cols,
                              .oh = 1, .ow = d->rows,
                              .ninputs = d->alg == CNNK_DETECT_YOLOV1 ? 1
                                         : d->alg == CNNK_DETECT_RPN  ? 2
                                                                      : 3};
        break;
    }
    case CNNK_LAYER_REGION_POOL: {
        /* The boxes are a second, small input (or held parameters). */
        const cnnk_region_pool_desc *d = &l->u.region;
        x = same_shape(d->mb, d->c, d->ih, d->iw);
        x.oc = d->oc, x.oh = d->oh, x.ow = d->ow;
        break;
    }
    case CNNK_LAYER_WARP: {
        /* The regions stacked along h; the boxes are held parameters. */
        const cnnk_warp_desc *d = &l->u.warp;
        x = same_shape(d->mb, d->c, d->ih, d->iw);
        x.oh = d->rois * d->oh, x.ow = d->ow;
        break;
    }
    case CNNK_LAYER_KIND_COUNT: break;
    }
    return x;
}

void cnnk_layer_set_mb(cnnk_layer_desc *l, int64_t mb) {
    switch (l->kind) {
    case CNNK_LAYER_CONV:
    case CNNK_LAYER_DECONV: l->u.conv.mb = mb; break;
    case CNNK_LAYER_FC: l->u.fc.mb = mb; break;
    case CNNK_LAYER_POOL: l->u.pool.mb = mb; break;
    case CNNK_LAYER_LRN: l->u.lrn.mb = mb; break;
    case CNNK_LAYER_BNORM: l->u.bnorm.mb = mb; break;
    case CNNK_LAYER_SOFTMAX: l->u.softmax.mb = mb; break;
    case CNNK_LAYER_ELTWISE: l->u.eltwise.mb = mb; break;
    case CNNK_LAYER_CONCAT: l->u.concat.mb = mb; break;
    case CNNK_LAYER_RESIZE: l->u.resize.mb = mb; break;
    case CNNK_LAYER_DETECT: l->u.detect.mb = mb; break;
    case CNNK_LAYER_REGION_POOL: l->u.region.mb = mb; break;
    case CNNK_LAYER_WARP: l->u.warp.mb = mb; break;
    case CNNK_LAYER_KIND_COUNT: break;
    }
}

int64_t cnnk_layer_src_elems(const cnnk_layer_desc *l) {
    const cnnk_layer_dims x = cnnk_layer_dims_of(l);
    return x.mb * x.ih * x.iw * x.ic;
}

int64_t cnnk_layer_dst_elems(const cnnk_layer_desc *l) {
    const cnnk_layer_dims x = cnnk_layer_dims_of(l);
    return x.mb * x.oh * x.ow * x.oc;
}
