/* The random convolution sweep (core/sweep.h).
 *
 * Each case is drawn from its own splitmix64 stream seeded by (seed, i), so
 * the sweep is reproducible on every platform (no rand(), no floating-point
 * state) and a case never changes when the count does. A drawn case is
 * written in benchdnn syntax and parsed back with the real parser; one that
 * the parser or cnnk_conv_check refuses, or that is too big, is redrawn, so
 * every written line is valid by construction, not by hope. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cnnk/parse.h"
#include "core/rng.h"
#include "core/sweep.h"

typedef long long ll;

typedef cnnk_rng rng;

/* Uniform in [lo, hi]; the modulo bias is below 2^-50 for these ranges. */
static int64_t uni(rng *r, int64_t lo, int64_t hi) {
    return lo + (int64_t)(cnnk_rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* True with probability pct / 100. */
static bool chance(rng *r, int pct) { return uni(r, 0, 99) < pct; }

/* Channel counts: mostly small and not multiples of 8 (the SIMD tails),
 * some round ones (the fast paths), a few wider ones. */
static int64_t channels(rng *r) {
    int64_t u = uni(r, 0, 99);
    if (u < 15) return uni(r, 1, 4);
    if (u < 35) return 8 * uni(r, 1, 8);
    if (u < 92) return uni(r, 5, 48);
    return uni(r, 49, 130);
}

static int64_t kernel(rng *r) {
    int64_t u = uni(r, 0, 99);
    if (u < 30) return 1;
    if (u < 55) return 3;
    if (u < 65) return 5;
    if (u < 70) return 7;
    return uni(r, 1, 11);
}

static int64_t image(rng *r) {
    int64_t u = uni(r, 0, 99);
    if (u < 12) return 1;
    if (u < 30) return uni(r, 2, 6);
    return uni(r, 7, 40);
}

/* Begin padding: none, "same"-like, or anything below the dilated kernel. */
static int64_t pad(rng *r, int64_t keff) {
    int64_t u = uni(r, 0, 99);
    if (u < 35) return 0;
    if (u < 75) return (keff - 1) / 2;
    return uni(r, 0, keff - 1);
}

/* One spatial dimension; asymmetric end padding for about a quarter. */
static void dim(rng *r, int64_t k, int64_t d, int64_t *i, int64_t *pb, int64_t *pe) {
    int64_t keff = (k - 1) * d + 1;
    *i = image(r);
    *pb = pad(r, keff);
    *pe = chance(r, 25) ? uni(r, 0, keff - 1) : *pb;
}

/* A 3x3 stride-1 problem of the shape Winograd kernels take. */
static void draw_winograd(rng *r, cnnk_conv_desc *d) {
    d->kh = d->kw = 3;
    d->sh = d->sw = 1;
    d->dh = d->dw = 1;
    d->pt = d->pb = d->pl = d->pr = chance(r, 75) ? 1 : 0;
    d->ih = uni(r, 1, 34);
    d->iw = chance(r, 70) ? d->ih : uni(r, 1, 34);
    d->g = 1;
    d->ic = channels(r);
    d->oc = channels(r);
}

static void draw_general(rng *r, cnnk_conv_desc *d) {
    d->kh = kernel(r);
    d->kw = chance(r, 75) ? d->kh : kernel(r);
    d->sh = chance(r, 50) ? 1 : uni(r, 2, 4);
    d->sw = chance(r, 80) ? d->sh : uni(r, 1, 4);
    d->dh = d->kh > 1 && chance(r, 15) ? uni(r, 2, 3) : 1;
    d->dw = d->kw > 1 && chance(r, 15) ? uni(r, 2, 3) : 1;
    dim(r, d->kh, d->dh, &d->ih, &d->pt, &d->pb);
    dim(r, d->kw, d->dw, &d->iw, &d->pl, &d->pr);
    if (chance(r, 70)) { /* square images are the common case */
        d->iw = d->ih;
    }
    d->g = 1;
    if (chance(r, 15)) {
        int64_t u = uni(r, 0, 3);
        d->g = u < 3 ? u + 2 : uni(r, 2, 48); /* the last: depthwise */
        d->ic = d->g * (u < 3 ? uni(r, 1, 12) : 1);
        d->oc = d->g * (u < 3 ? uni(r, 1, 12) : uni(r, 1, 2));
    } else {
        d->ic = chance(r, 25) ? 3 : channels(r);
        d->oc = channels(r);
    }
}

/* A 1-D problem (benchdnn's form without h keys). */
static void make_1d(cnnk_conv_desc *d) {
    d->ih = d->kh = d->sh = d->dh = 1;
    d->pt = d->pb = 0;
}

/* A 1x1 problem of the shape the 1x1 kernels take: no padding, no
 * dilation, one group; strides 1 to 4. */
static void draw_1x1(rng *r, cnnk_conv_desc *d) {
    d->kh = d->kw = 1;
    d->sh = chance(r, 60) ? 1 : uni(r, 2, 4);
    d->sw = chance(r, 80) ? d->sh : uni(r, 1, 4);
    d->dh = d->dw = 1;
    d->ih = image(r);
    d->iw = chance(r, 70) ? d->ih : image(r);
    d->g = 1;
    d->ic = chance(r, 10) ? 3 : channels(r);
    d->oc = channels(r);
}

static void draw(rng *r, cnnk_sweep_kind kind, cnnk_conv_desc *d, bool *one_d) {
    memset(d, 0, sizeof *d);
    d->mb = chance(r, 60) ? 1 : uni(r, 2, 4);
    if (kind == CNNK_SWEEP_WINOGRAD) draw_winograd(r, d);
    else if (kind == CNNK_SWEEP_1X1) draw_1x1(r, d);
    else if (chance(r, 20)) draw_winograd(r, d);
    else draw_general(r, d);
    *one_d = kind != CNNK_SWEEP_WINOGRAD && chance(r, 5); /* Winograd is 2-D only */
    if (*one_d) make_1d(d);
}

/* Appends one spatial dimension ("ih..oh..kh..sh..ph..[dh..]") to buf. */
static void put_dim(char *buf, size_t len, char c, int64_t i, int64_t o, int64_t k, int64_t s,
                    int64_t p, int64_t d) {
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "i%c%lldo%c%lldk%c%llds%c%lldp%c%lld", c, (ll)i, c, (ll)o, c, (ll)k,
             c, (ll)s, c, (ll)p);
    /* benchdnn's dilation counts the holes: 0 = none */
    n = strlen(buf);
    if (d > 1) snprintf(buf + n, len - n, "d%c%lld", c, (ll)(d - 1));
}

/* benchdnn syntax: ph/pw are the begin pads and the given oh/ow make the
 * parser derive the end pads, as benchdnn does. */
static int format_case(const cnnk_conv_desc *d, bool one_d, int idx, char *buf, size_t len) {
    int64_t oh = cnnk_out_size(d->ih, d->kh, d->sh, d->pt, d->pb, d->dh, CNNK_ROUND_FLOOR);
    int64_t ow = cnnk_out_size(d->iw, d->kw, d->sw, d->pl, d->pr, d->dw, CNNK_ROUND_FLOOR);
    if (oh < 1 || ow < 1) return -1;
    char sp[160] = "";
    if (!one_d) put_dim(sp, sizeof sp, 'h', d->ih, oh, d->kh, d->sh, d->pt, d->dh);
    put_dim(sp, sizeof sp, 'w', d->iw, ow, d->kw, d->sw, d->pl, d->dw);
    return snprintf(buf, len, "g%lldmb%lldic%lldoc%lld%sn\"sweep:%d\"", (ll)d->g, (ll)d->mb,
                    (ll)d->ic, (ll)d->oc, sp, idx);
}

/* Most cases stay far below the cap so the whole sweep is cheap. */
static bool small_enough(rng *r, const cnnk_conv_desc *d) {
    int64_t macs = cnnk_conv_macs(d);
    if (macs > CNNK_SWEEP_MAX_MACS) return false;
    if (macs > 4 * 1000 * 1000) return chance(r, 25);
    return true;
}

static cnnk_status one_case(uint64_t seed, cnnk_sweep_kind kind, int idx, char *line, size_t len,
                            cnnk_error *err) {
    /* The general sweep's streams are those of shapes/sweep.txt; the
     * targeted ones are other streams of the same seed. */
    rng r = {seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(idx + 1)) ^
             (0x9E3779B97F4A7C15ull * (uint64_t)kind)};
    cnnk_rng_next(&r);
    cnnk_parse_opts o;
    cnnk_parse_opts_init(&o);
    for (int attempt = 0; attempt < 10000; ++attempt) {
        cnnk_conv_desc d;
        bool one_d;
        draw(&r, kind, &d, &one_d);
        int n = format_case(&d, one_d, idx, line, len);
        if (n < 0 || (size_t)n >= len) continue;
        cnnk_layer_desc back;
        if (cnnk_parse_desc(line, &o, &back, NULL) != CNNK_OK) continue;
        if (!small_enough(&r, &back.u.conv)) continue;
        return CNNK_OK;
    }
    return cnnk_fail(err, CNNK_EINVAL, "sweep: no valid case %d for seed %llu after 10000 draws",
                     idx, (unsigned long long)seed);
}

const char *cnnk_sweep_kind_name(cnnk_sweep_kind k) {
    return k == CNNK_SWEEP_WINOGRAD ? "winograd" : k == CNNK_SWEEP_1X1 ? "1x1" : "all";
}

cnnk_status cnnk_sweep_write(uint64_t seed, int count, FILE *out, cnnk_error *err) {
    return cnnk_sweep_write_kind(seed, count, CNNK_SWEEP_ALL, out, err);
}

cnnk_status cnnk_sweep_write_kind(uint64_t seed, int count, cnnk_sweep_kind kind, FILE *out,
                                  cnnk_error *err) {
    if (count < 0) return cnnk_fail(err, CNNK_EINVAL, "sweep: count=%d must be >= 0", count);
    if (kind == CNNK_SWEEP_ALL)
        fprintf(out,
                "# cnnk random convolution sweep: seed %llu, %d cases (core/sweep.c, docs/SHAPES.md).\n"
                "# Regenerate with: cnnk sweep --seed %llu --count %d > shapes/sweep.txt\n"
                "--conv\n",
                (unsigned long long)seed, count, (unsigned long long)seed, count);
    else
        fprintf(out,
                "# cnnk random convolution sweep for %s kernels: seed %llu, %d cases (core/sweep.c).\n"
                "# Regenerate with: cnnk sweep --seed %llu --count %d --for %s\n"
                "--conv\n",
                cnnk_sweep_kind_name(kind), (unsigned long long)seed, count,
                (unsigned long long)seed, count, cnnk_sweep_kind_name(kind));
    for (int i = 0; i < count; ++i) {
        char line[256];
        cnnk_status st = one_case(seed, kind, i, line, sizeof line, err);
        if (st != CNNK_OK) return st;
        fprintf(out, "%s\n", line);
    }
    if (fflush(out) != 0 || ferror(out))
        return cnnk_fail(err, CNNK_EIO, "sweep: write error");
    return CNNK_OK;
}
