/* Region proposals as data (include/cnnk/proposals.h). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "cnnk/proposals.h"
#include "core/rng.h"

typedef long long ll;

/* Uniform in [0, 1) from the top 24 bits: exact in float. */
static float unit(cnnk_rng *g) {
    return (float)(cnnk_rng_next(g) >> 40) / 16777216.0f;
}

static float clampf(float v, float lo, float hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

void cnnk_proposals_default(int64_t r, int64_t h, int64_t w, uint64_t seed, float *out) {
    static const float sides[4] = {0.1f, 0.2f, 0.35f, 0.6f};
    static const float ratios[3] = {0.5f, 1.0f, 2.0f}; /* height / width */
    cnnk_rng g = {seed ^ 0x70726F706F73616Cull};
    const float base = (float)(h < w ? h : w);
    for (int64_t k = 0; k < r; ++k) {
        const float side = sides[(k % 12) / 3] * base, ratio = ratios[k % 3];
        const float bw = side / sqrtf(ratio), bh = side * sqrtf(ratio);
        const float cx = unit(&g) * (float)w, cy = unit(&g) * (float)h;
        float *b = out + 5 * k;
        b[0] = 0.0f;
        b[1] = floorf(clampf(cx - bw / 2, 0.0f, (float)(w - 1)));
        b[2] = floorf(clampf(cy - bh / 2, 0.0f, (float)(h - 1)));
        b[3] = floorf(clampf(cx + bw / 2, 0.0f, (float)(w - 1)));
        b[4] = floorf(clampf(cy + bh / 2, 0.0f, (float)(h - 1)));
    }
}

void cnnk_proposals_random(int64_t r, int64_t h, int64_t w, uint64_t seed, float *out) {
    cnnk_rng g = {seed ^ 0x72616E64626F78ull};
    for (int64_t k = 0; k < r; ++k) {
        float *b = out + 5 * k;
        const uint64_t kind = cnnk_rng_next(&g) % 8;
        b[0] = kind == 0 ? -1.0f : 0.0f;
        for (int i = 0; i < 4; ++i) {
            const float span = (float)(i % 2 ? h : w);
            b[1 + i] = (unit(&g) * 1.5f - 0.25f) * span;
        }
        if (kind == 1) b[3] = b[1], b[4] = b[2]; /* a single cell */
        if (kind >= 4) {                          /* ordered: the usual box */
            if (b[3] < b[1]) { float t = b[1]; b[1] = b[3]; b[3] = t; }
            if (b[4] < b[2]) { float t = b[2]; b[2] = b[4]; b[4] = t; }
        }
    }
}

/* Whether line is blank or a comment. */
static bool skip_line(const char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') ++s;
    return *s == '\0' || *s == '#';
}

/* Up to 6 numbers of line into v; returns how many, or -1 on a stray token. */
static int numbers(const char *s, double *v) {
    int k = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',') ++s;
        if (*s == '\0' || *s == '\n' || *s == '\r') return k;
        if (k == 6) return -1;
        char *end;
        errno = 0;
        v[k] = strtod(s, &end);
        if (end == s || errno || !isfinite(v[k])) return -1;
        ++k;
        s = end;
    }
}

int64_t cnnk_proposals_count(const char *path, cnnk_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) {
        cnnk_fail(err, CNNK_EIO, "%.300s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int64_t n = 0;
    while (fgets(line, sizeof line, f)) n += !skip_line(line);
    fclose(f);
    return n;
}

cnnk_status cnnk_proposals_load(const char *path, int64_t r, int64_t h, int64_t w, float *out,
                                cnnk_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return cnnk_fail(err, CNNK_EIO, "%.300s: %s", path, strerror(errno));
    char line[512];
    int64_t n = 0, lineno = 0;
    cnnk_status st = CNNK_OK;
    while (st == CNNK_OK && fgets(line, sizeof line, f)) {
        ++lineno;
        if (skip_line(line)) continue;
        double v[6];
        const int k = numbers(line, v);
        if (k != 4 && k != 5) {
            st = cnnk_fail(err, CNNK_EINVAL,
                           "%.300s:%lld: expected \"x1 y1 x2 y2\" or \"b x1 y1 x2 y2\"", path,
                           (ll)lineno);
            break;
        }
        const double *x = v + (k == 5);
        const double b = k == 5 ? v[0] : 0.0;
        if (b != 0.0 && b != -1.0) {
            st = cnnk_fail(err, CNNK_EINVAL,
                           "%.300s:%lld: batch index %g: 0, or -1 for padding (one image's "
                           "proposals)", path, (ll)lineno, b);
        } else if (!(x[0] <= x[2] && x[1] <= x[3])) {
            st = cnnk_fail(err, CNNK_EINVAL, "%.300s:%lld: x1 > x2 or y1 > y2", path, (ll)lineno);
        } else if (!(x[0] >= 0 && x[1] >= 0 && x[2] <= (double)(w - 1) &&
                     x[3] <= (double)(h - 1))) {
            st = cnnk_fail(err, CNNK_EINVAL,
                           "%.300s:%lld: box (%g, %g, %g, %g) outside the %lldx%lld image "
                           "(0..%lld, 0..%lld)",
                           path, (ll)lineno, x[0], x[1], x[2], x[3], (ll)h, (ll)w, (ll)(w - 1),
                           (ll)(h - 1));
        } else if (n >= r) {
            st = cnnk_fail(err, CNNK_EINVAL, "%.300s:%lld: more than the network's %lld boxes",
                           path, (ll)lineno, (ll)r);
        } else {
            float *o = out + 5 * n++;
            o[0] = (float)b;
            for (int i = 0; i < 4; ++i) o[1 + i] = (float)x[i];
        }
    }
    fclose(f);
    if (st == CNNK_OK && n != r)
        st = cnnk_fail(err, CNNK_EINVAL, "%.300s:%lld: %lld boxes, the network takes %lld", path,
                       (ll)lineno, (ll)n, (ll)r);
    return st;
}

cnnk_status cnnk_net_set_proposals(cnnk_net *n, const char *path, cnnk_error *err) {
    int held = 0;
    for (int i = 0; i < n->n; ++i) {
        cnnk_node *x = &n->nodes[i];
        const bool pool = x->op == CNNK_NODE_REGION_POOL && x->ninputs == 1 &&
                          x->desc.u.region.rois > 0;
        if (!pool && x->op != CNNK_NODE_WARP) continue;
        if (!x->weights)
            return cnnk_fail(err, CNNK_EINVAL, "%s: proposals before the parameters", n->name);
        const int64_t rois = pool ? x->desc.u.region.rois : x->desc.u.warp.rois;
        CNNK_TRY(cnnk_proposals_load(path, rois, n->h, n->w, x->weights, err));
        ++held;
    }
    if (!held)
        return cnnk_fail(err, CNNK_EINVAL, "%s: --proposals is for networks that pool proposals "
                                           "(fast_rcnn_vgg16, rcnn_alexnet)", n->name);
    return CNNK_OK;
}
