/* oneDNN benchdnn problem descriptors and batch files (include/cnnk/parse.h).
 *
 * The parser follows benchdnn's str2desc rules so that shape lists from
 * that ecosystem mean the same problem here, and it is strict where
 * benchdnn is lax: strtol would silently wrap an overlong number, skip a
 * stray character or accept a key twice; each of those is an error with the
 * column that caused it, because a silently misread shape validates the
 * wrong problem. Every descriptor ends in its cnnk_*_check(). */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/parse.h"

typedef long long ll;

/* ---- errors with a position ------------------------------------------ */

/* A cursor over one descriptor token (not NUL-terminated inside a batch). */
typedef struct pctx {
    const char *s;
    size_t n;
    int col;          /* 1-based column of the error in the token; 0 = none */
    cnnk_error *err;  /* never NULL inside the parser */
} pctx;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static cnnk_status fail_at(pctx *p, size_t pos, cnnk_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    p->col = (int)(pos < (size_t)INT32_MAX ? pos + 1 : INT32_MAX);
    return st;
}

static bool ieq(const char *a, const char *b) {
    for (; *a && *b; ++a, ++b)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

/* ---- options ---------------------------------------------------------- */

void cnnk_parse_opts_init(cnnk_parse_opts *o) {
    o->kind = CNNK_LAYER_CONV;
    o->pool_alg = CNNK_POOL_MAX;
    o->elt_alg = CNNK_ELTWISE_RELU;
    o->mb = 0;
    o->align_corners = false;
}

/* Driver switches reset the algorithm (benchdnn's settings are per driver)
 * but keep --mb, so a batch-wide minibatch survives an `--ip` section. */
static bool parse_driver(const char *name, cnnk_parse_opts *o) {
    static const struct {
        const char *name;
        cnnk_layer_kind kind;
        cnnk_eltwise_alg elt;
    } drivers[] = {
        {"conv", CNNK_LAYER_CONV, CNNK_ELTWISE_RELU},
        {"deconv", CNNK_LAYER_DECONV, CNNK_ELTWISE_RELU},
        {"ip", CNNK_LAYER_FC, CNNK_ELTWISE_RELU},
        {"pool", CNNK_LAYER_POOL, CNNK_ELTWISE_RELU},
        {"lrn", CNNK_LAYER_LRN, CNNK_ELTWISE_RELU},
        {"bnorm", CNNK_LAYER_BNORM, CNNK_ELTWISE_RELU},
        {"softmax", CNNK_LAYER_SOFTMAX, CNNK_ELTWISE_RELU},
        {"eltwise", CNNK_LAYER_ELTWISE, CNNK_ELTWISE_RELU},
        /* binary is the eltwise kind with a two-input algorithm */
        {"binary", CNNK_LAYER_ELTWISE, CNNK_ELTWISE_ADD},
        {"concat", CNNK_LAYER_CONCAT, CNNK_ELTWISE_RELU},
        {"resampling", CNNK_LAYER_RESIZE, CNNK_ELTWISE_RELU},
    };
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; ++i) {
        if (strcmp(name, drivers[i].name) == 0) {
            o->kind = drivers[i].kind;
            o->pool_alg = CNNK_POOL_MAX;
            o->elt_alg = drivers[i].elt;
            o->align_corners = false;
            return true;
        }
    }
    return false;
}

static cnnk_status parse_alg(const char *v, cnnk_parse_opts *o, cnnk_error *err) {
    if (o->kind == CNNK_LAYER_POOL) {
        /* benchdnn's short names and oneDNN's long ones */
        if (ieq(v, "max") || ieq(v, "pooling_max")) o->pool_alg = CNNK_POOL_MAX;
        else if (ieq(v, "avg_np") || ieq(v, "pooling_avg_exclude_padding"))
            o->pool_alg = CNNK_POOL_AVG_EXCLUDE_PAD;
        else if (ieq(v, "avg_p") || ieq(v, "pooling_avg_include_padding"))
            o->pool_alg = CNNK_POOL_AVG_INCLUDE_PAD;
        else
            return cnnk_fail(err, CNNK_EPARSE,
                             "unknown pooling algorithm '--alg=%s' (max, avg_np, avg_p)", v);
        return CNNK_OK;
    }
    if (o->kind == CNNK_LAYER_ELTWISE) {
        if (ieq(v, "relu")) o->elt_alg = CNNK_ELTWISE_RELU;
        else if (ieq(v, "dropout")) o->elt_alg = CNNK_ELTWISE_DROPOUT;
        else if (ieq(v, "add")) o->elt_alg = CNNK_ELTWISE_ADD;
        else if (ieq(v, "add_relu")) o->elt_alg = CNNK_ELTWISE_ADD_RELU;
        else
            return cnnk_fail(err, CNNK_EPARSE,
                             "unknown element-wise algorithm '--alg=%s' (eltwise: relu, dropout; "
                             "binary: add, add_relu)",
                             v);
        return CNNK_OK;
    }
    if (o->kind == CNNK_LAYER_RESIZE) {
        if (ieq(v, "linear") || ieq(v, "resampling_linear")) o->align_corners = false;
        else if (ieq(v, "linear_align_corners")) o->align_corners = true;
        else
            return cnnk_fail(err, CNNK_EPARSE,
                             "unknown resampling algorithm '--alg=%s' (linear, "
                             "linear_align_corners)",
                             v);
        return CNNK_OK;
    }
    return cnnk_fail(err, CNNK_EPARSE, "'--alg=%s': the %s driver takes no --alg", v,
                     cnnk_layer_kind_name(o->kind));
}

/* Parses a whole non-negative decimal int64 (the full string). */
static bool parse_i64_str(const char *s, int64_t *out) {
    if (!isdigit((unsigned char)*s)) return false;
    int64_t v = 0;
    for (; *s; ++s) {
        if (!isdigit((unsigned char)*s)) return false;
        if (__builtin_mul_overflow(v, (int64_t)10, &v) ||
            __builtin_add_overflow(v, (int64_t)(*s - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

cnnk_status cnnk_parse_option(const char *tok, cnnk_parse_opts *o, cnnk_error *err) {
    if (strncmp(tok, "--", 2) != 0)
        return cnnk_fail(err, CNNK_EPARSE, "'%s' is not an option (options start with --)", tok);
    const char *name = tok + 2;
    const char *eq = strchr(name, '=');
    if (!eq) {
        if (parse_driver(name, o)) return CNNK_OK;
        return cnnk_fail(err, CNNK_EPARSE, "unknown option '%s'", tok);
    }
    size_t klen = (size_t)(eq - name);
    const char *v = eq + 1;
    if (klen == 3 && strncmp(name, "alg", 3) == 0) return parse_alg(v, o, err);
    if (klen == 2 && strncmp(name, "mb", 2) == 0) {
        int64_t mb;
        if (!parse_i64_str(v, &mb))
            return cnnk_fail(err, CNNK_EPARSE,
                             "'%s': --mb takes a non-negative integer that fits int64", tok);
        if (mb > CNNK_MAX_DIM)
            return cnnk_fail(err, CNNK_EOVERFLOW, "'%s': mb exceeds the limit %lld", tok,
                             (ll)CNNK_MAX_DIM);
        o->mb = mb;
        return CNNK_OK;
    }
    if (klen == 4 && strncmp(name, "axis", 4) == 0) {
        if (strcmp(v, "1") != 0)
            return cnnk_fail(err, CNNK_EUNSUPPORTED,
                             "'%s': only the channel axis (--axis=1) is supported", tok);
        return CNNK_OK;
    }
    return cnnk_fail(err, CNNK_EPARSE, "unknown option '%s'", tok);
}

/* ---- key=value fields of the letter-keyed descriptors ---------------- */

enum { MAXKEYS = 24 };

typedef enum vkind { V_INT, V_FLT } vkind;

typedef struct keyspec {
    const char *key;
    vkind kind;
} keyspec;

typedef struct fields {
    const keyspec *spec;
    int nspec;
    bool given[MAXKEYS];
    int64_t iv[MAXKEYS];
    double fv[MAXKEYS];
    size_t pos[MAXKEYS]; /* where each key starts, for later messages */
    char name[CNNK_NAME_LEN];
} fields;

static int field_index(const fields *f, const char *key) {
    for (int i = 0; i < f->nspec; ++i)
        if (strcmp(f->spec[i].key, key) == 0) return i;
    return -1;
}

static bool has(const fields *f, const char *key) {
    int i = field_index(f, key);
    return i >= 0 && f->given[i];
}

static int64_t ival(const fields *f, const char *key, int64_t def) {
    int i = field_index(f, key);
    return i >= 0 && f->given[i] ? f->iv[i] : def;
}

static double fval(const fields *f, const char *key, double def) {
    int i = field_index(f, key);
    return i >= 0 && f->given[i] ? f->fv[i] : def;
}

static size_t fpos(const fields *f, const char *key) {
    int i = field_index(f, key);
    return i >= 0 && f->given[i] ? f->pos[i] : 0;
}

static const char *show_char(char c, char buf[8]) {
    if (isprint((unsigned char)c)) snprintf(buf, 8, "'%c'", c);
    else snprintf(buf, 8, "\\x%02x", (unsigned)(unsigned char)c);
    return buf;
}

/* n"quoted name" or benchdnn's bare n<rest of token>; the name ends the
 * descriptor. */
static cnnk_status parse_name(pctx *p, size_t *i, char name[CNNK_NAME_LEN]) {
    size_t at = *i;
    size_t b = at + 1, e;
    if (b < p->n && p->s[b] == '"') {
        ++b;
        e = b;
        while (e < p->n && p->s[e] != '"') ++e;
        if (e >= p->n) return fail_at(p, b - 1, CNNK_EPARSE, "unterminated quote in the name");
        if (e + 1 < p->n) {
            char cb[8];
            return fail_at(p, e + 1, CNNK_EPARSE, "unexpected %s after the quoted name",
                           show_char(p->s[e + 1], cb));
        }
    } else {
        e = b;
        while (e < p->n && p->s[e] != '"' && !isspace((unsigned char)p->s[e])) ++e;
        if (e < p->n) {
            char cb[8];
            return fail_at(p, e, CNNK_EPARSE, "unexpected %s in an unquoted name",
                           show_char(p->s[e], cb));
        }
        if (e == b) return fail_at(p, at, CNNK_EPARSE, "missing name after 'n'");
    }
    if (e - b >= CNNK_NAME_LEN)
        return fail_at(p, at, CNNK_EPARSE, "name has %zu characters, the limit is %d", e - b,
                       CNNK_NAME_LEN - 1);
    memcpy(name, p->s + b, e - b);
    name[e - b] = '\0';
    *i = p->n;
    return CNNK_OK;
}

/* A non-negative decimal integer; overflow is an error, never a wrap. */
static cnnk_status parse_int(pctx *p, size_t *i, const char *what, int64_t *out) {
    size_t at = *i;
    if (at < p->n && p->s[at] == '-')
        return fail_at(p, at, CNNK_EPARSE, "negative number for '%s'", what);
    if (at >= p->n || !isdigit((unsigned char)p->s[at]))
        return fail_at(p, at, CNNK_EPARSE, "missing number after '%s'", what);
    int64_t v = 0;
    for (; at < p->n && isdigit((unsigned char)p->s[at]); ++at) {
        if (__builtin_mul_overflow(v, (int64_t)10, &v) ||
            __builtin_add_overflow(v, (int64_t)(p->s[at] - '0'), &v))
            return fail_at(p, *i, CNNK_EOVERFLOW, "number for '%s' overflows int64", what);
    }
    if (v > CNNK_MAX_DIM)
        return fail_at(p, *i, CNNK_EOVERFLOW, "%s=%lld exceeds the limit %lld", what, (ll)v,
                       (ll)CNNK_MAX_DIM);
    *out = v;
    *i = at;
    return CNNK_OK;
}

/* digits [. digits] [e [+-] digits]: scanned here, converted by strtod on a
 * bounded copy, so no "nan", "inf" or hex float slips in and strtod never
 * reads past the token. */
static cnnk_status parse_float(pctx *p, size_t *i, const char *what, double *out) {
    size_t at = *i, e = at;
    const char *s = p->s;
    if (at < p->n && s[at] == '-')
        return fail_at(p, at, CNNK_EPARSE, "negative number for '%s'", what);
    while (e < p->n && isdigit((unsigned char)s[e])) ++e;
    size_t int_digits = e - at;
    size_t frac_digits = 0;
    if (e < p->n && s[e] == '.') {
        size_t f = ++e;
        while (e < p->n && isdigit((unsigned char)s[e])) ++e;
        frac_digits = e - f;
    }
    if (int_digits + frac_digits == 0)
        return fail_at(p, at, CNNK_EPARSE, "missing number after '%s'", what);
    if (int_digits == 1 && frac_digits == 0 && s[at] == '0' && e < p->n &&
        (s[e] == 'x' || s[e] == 'X'))
        return fail_at(p, at, CNNK_EPARSE,
                       "hexadecimal number for '%s': write it in decimal (e.g. 0.125)", what);
    if (e < p->n && (s[e] == 'e' || s[e] == 'E')) {
        size_t x = e + 1;
        if (x < p->n && (s[x] == '+' || s[x] == '-')) ++x;
        if (x < p->n && isdigit((unsigned char)s[x])) {
            while (x < p->n && isdigit((unsigned char)s[x])) ++x;
            e = x;
        }
    }
    char buf[64];
    if (e - at >= sizeof buf)
        return fail_at(p, at, CNNK_EPARSE, "number for '%s' is too long", what);
    memcpy(buf, s + at, e - at);
    buf[e - at] = '\0';
    errno = 0;
    double v = strtod(buf, NULL);
    if (errno == ERANGE || !isfinite(v) || v > FLT_MAX || (v != 0.0 && v < FLT_MIN))
        return fail_at(p, at, CNNK_EOVERFLOW, "number %s for '%s' is out of float range", buf,
                       what);
    *out = v;
    *i = e;
    return CNNK_OK;
}

/* Longest key of the spec that starts at i (keys share prefixes: "k"). */
static int match_key(const pctx *p, size_t i, const fields *f) {
    int best = -1;
    size_t best_len = 0;
    for (int k = 0; k < f->nspec; ++k) {
        size_t len = strlen(f->spec[k].key);
        if (len > best_len && i + len <= p->n && memcmp(p->s + i, f->spec[k].key, len) == 0) {
            best = k;
            best_len = len;
        }
    }
    return best;
}

static cnnk_status parse_fields(pctx *p, fields *f) {
    size_t i = 0;
    while (i < p->n) {
        char c = p->s[i];
        if (c == '_') { /* benchdnn's visual separator */
            ++i;
            continue;
        }
        int k = match_key(p, i, f);
        if (k < 0 && c == 'n') return parse_name(p, &i, f->name);
        if (k < 0) {
            if (isalpha((unsigned char)c)) {
                size_t e = i;
                while (e < p->n && isalpha((unsigned char)p->s[e])) ++e;
                return fail_at(p, i, CNNK_EPARSE, "unknown key '%.*s'", (int)(e - i), p->s + i);
            }
            char cb[8];
            return fail_at(p, i, CNNK_EPARSE, "unexpected %s", show_char(c, cb));
        }
        const char *key = f->spec[k].key;
        if (f->given[k]) return fail_at(p, i, CNNK_EPARSE, "duplicate key '%s'", key);
        f->pos[k] = i;
        i += strlen(key);
        cnnk_status st = f->spec[k].kind == V_INT ? parse_int(p, &i, key, &f->iv[k])
                                                  : parse_float(p, &i, key, &f->fv[k]);
        if (st != CNNK_OK) return st;
        f->given[k] = true;
    }
    return CNNK_OK;
}

static cnnk_status require(pctx *p, const fields *f, const char *key) {
    if (!has(f, key)) return fail_at(p, 0, CNNK_EPARSE, "missing '%s'", key);
    return CNNK_OK;
}

/* Depth keys exist in benchdnn's grammar; only the trivial 2-D values are
 * accepted so a 3-D problem is refused, not flattened. */
static cnnk_status reject_3d(pctx *p, const fields *f) {
    static const struct {
        const char *key;
        int64_t trivial;
    } depth[] = {{"id", 1}, {"od", 1}, {"kd", 1}, {"sd", 1}, {"pd", 0}, {"dd", 0}};
    for (size_t i = 0; i < sizeof depth / sizeof depth[0]; ++i) {
        if (has(f, depth[i].key) && ival(f, depth[i].key, 0) != depth[i].trivial)
            return fail_at(p, fpos(f, depth[i].key), CNNK_EUNSUPPORTED,
                           "3-D problems are not supported (%s=%lld)", depth[i].key,
                           (ll)ival(f, depth[i].key, 0));
    }
    return CNNK_OK;
}

/* ---- spatial dimensions of conv / deconv / pool ----------------------- */

/* One spatial dimension as written: input, kernel, output, stride, padding,
 * benchdnn dilation (0 = none), each with whether it was given. */
typedef struct dim1 {
    int64_t i, k, o, s, p, d;
    bool gi, gk, go, gs, gp, gd;
} dim1;

static dim1 read_dim(const fields *f, char c) {
    char ki[3] = {'i', c, 0}, kk[3] = {'k', c, 0}, ko[3] = {'o', c, 0}, ks[3] = {'s', c, 0},
         kp[3] = {'p', c, 0}, kd[3] = {'d', c, 0};
    dim1 x = {ival(f, ki, 0), ival(f, kk, 0), ival(f, ko, 0), ival(f, ks, 1), ival(f, kp, 0),
              ival(f, kd, 0), has(f, ki),     has(f, kk),     has(f, ko),     has(f, ks),
              has(f, kp),     has(f, kd)};
    return x;
}

static bool dim_any(const dim1 *x) { return x->gi || x->gk || x->go || x->gs || x->gp || x->gd; }

/* Sizes, kernels and strides >= 1 and every field within CNNK_MAX_DIM,
 * before any padding or output arithmetic divides by a stride or multiplies
 * two fields (a zero stride with a given output once divided by zero). */
static cnnk_status dim_in_range(pctx *p, const fields *f, const dim1 *x, char c) {
    const struct {
        char key;
        int64_t v, lo;
    } v[] = {{'i', x->i, 1}, {'k', x->k, 1}, {'s', x->s, 1},
             {'o', x->o, 0}, {'p', x->p, 0}, {'d', x->d, 0}};
    for (size_t j = 0; j < sizeof v / sizeof v[0]; ++j) {
        char key[3] = {v[j].key, c, 0};
        if (v[j].v < v[j].lo)
            return fail_at(p, fpos(f, key), CNNK_EINVAL, "%s=%lld must be >= %lld", key,
                           (ll)v[j].v, (ll)v[j].lo);
        if (v[j].v > CNNK_MAX_DIM)
            return fail_at(p, fpos(f, key), CNNK_EOVERFLOW, "%s=%lld exceeds the limit %lld", key,
                           (ll)v[j].v, (ll)CNNK_MAX_DIM);
    }
    return CNNK_OK;
}

/* benchdnn's sanitize_desc: a missing w copies h (square); a missing h is
 * benchdnn's 1-D default {i,k,o,s = 1, p,d = 0}. */
static cnnk_status resolve_hw(pctx *p, const fields *f, dim1 *h, dim1 *w) {
    *h = read_dim(f, 'h');
    *w = read_dim(f, 'w');
    bool ha = dim_any(h), wa = dim_any(w);
    if (!ha && !wa)
        return fail_at(p, 0, CNNK_EPARSE, "no spatial size: give at least ih and kh (or iw and kw)");
    if (!wa) *w = *h;
    if (!ha) *h = (dim1){1, 1, 1, 1, 0, 0, true, true, true, true, true, true};
    if (!h->gi) return fail_at(p, 0, CNNK_EPARSE, "missing 'ih'");
    if (!h->gk) return fail_at(p, 0, CNNK_EPARSE, "missing 'kh'");
    if (!w->gi) return fail_at(p, 0, CNNK_EPARSE, "missing 'iw'");
    if (!w->gk) return fail_at(p, 0, CNNK_EPARSE, "missing 'kw'");
    CNNK_TRY(dim_in_range(p, f, h, 'h'));
    return dim_in_range(p, f, w, 'w');
}

/* Padding of one (transposed) convolution dimension. Without an output
 * size the padding is symmetric and cnnk_conv_check derives the output.
 * With one, a missing padding is benchdnn's compute_pad, and the end pad
 * stays symmetric when that gives the written output (PyTorch's form);
 * otherwise it is benchdnn's opposite pad, (o-1)s - i + keff - p, which
 * makes the output exact. All values are <= 2^24, so nothing overflows. */
static void conv_pads(const dim1 *x, bool transposed, int64_t *pbeg, int64_t *pend, int64_t *o) {
    int64_t dil = x->d + 1, keff = (x->k - 1) * dil + 1;
    if (!x->go || x->o == 0) {
        *pbeg = *pend = x->p;
        *o = 0;
        return;
    }
    int64_t p = x->p;
    if (!x->gp)
        p = transposed ? ((x->i - 1) * x->s - x->o + keff) / 2 : ((x->o - 1) * x->s - x->i + keff) / 2;
    int64_t span = x->i + 2 * p - keff;
    int64_t sym = transposed ? (x->i - 1) * x->s + keff - 2 * p : span >= 0 ? span / x->s + 1 : -1;
    *pbeg = p;
    *pend = sym == x->o ? p
                        : transposed ? (x->i - 1) * x->s - x->o + keff - p
                                     : (x->o - 1) * x->s - x->i + keff - p;
    *o = x->o;
}

static void copy_name(char *dst, const char *src) {
    snprintf(dst, CNNK_NAME_LEN, "%s", src);
}

static int64_t pick_mb(const cnnk_parse_opts *o, const fields *f) {
    return o->mb > 0 ? o->mb : ival(f, "mb", 2);
}

static cnnk_status parse_conv(pctx *p, const cnnk_parse_opts *o, bool transposed,
                              cnnk_layer_desc *out) {
    static const keyspec spec[] = {
        {"g", V_INT},  {"mb", V_INT}, {"ic", V_INT}, {"id", V_INT}, {"ih", V_INT}, {"iw", V_INT},
        {"oc", V_INT}, {"od", V_INT}, {"oh", V_INT}, {"ow", V_INT}, {"kd", V_INT}, {"kh", V_INT},
        {"kw", V_INT}, {"sd", V_INT}, {"sh", V_INT}, {"sw", V_INT}, {"pd", V_INT}, {"ph", V_INT},
        {"pw", V_INT}, {"dd", V_INT}, {"dh", V_INT}, {"dw", V_INT}};
    fields f = {.spec = spec, .nspec = (int)(sizeof spec / sizeof spec[0])};
    CNNK_TRY(parse_fields(p, &f));
    CNNK_TRY(reject_3d(p, &f));
    CNNK_TRY(require(p, &f, "ic"));
    CNNK_TRY(require(p, &f, "oc"));
    dim1 h, w;
    CNNK_TRY(resolve_hw(p, &f, &h, &w));
    cnnk_conv_desc *d = &out->u.conv;
    memset(d, 0, sizeof *d);
    d->g = ival(&f, "g", 1);
    d->mb = pick_mb(o, &f);
    d->ic = ival(&f, "ic", 0);
    d->oc = ival(&f, "oc", 0);
    d->ih = h.i, d->iw = w.i;
    d->kh = h.k, d->kw = w.k;
    d->sh = h.s, d->sw = w.s;
    d->dh = h.d + 1, d->dw = w.d + 1;
    d->transposed = transposed;
    conv_pads(&h, transposed, &d->pt, &d->pb, &d->oh);
    conv_pads(&w, transposed, &d->pl, &d->pr, &d->ow);
    if (d->pb < 0 || d->pr < 0)
        return fail_at(p, 0, CNNK_EINVAL,
                       "output oh=%lld ow=%lld cannot be reached: it needs bottom/right padding "
                       "%lld/%lld",
                       (long long)d->oh, (long long)d->ow, (long long)d->pb, (long long)d->pr);
    copy_name(d->name, f.name);
    out->kind = transposed ? CNNK_LAYER_DECONV : CNNK_LAYER_CONV;
    return cnnk_conv_check(d, p->err);
}

/* One pooling dimension: its pads and which rounding modes reproduce the
 * written output size. */
typedef struct pool_dim {
    int64_t pbeg, pend, o;
    bool floor_ok, ceil_ok;
} pool_dim;

static pool_dim pool_pads(const dim1 *x) {
    pool_dim r = {x->p, x->p, 0, true, false};
    int64_t fl = cnnk_out_size(x->i, x->k, x->s, x->p, x->p, 1, CNNK_ROUND_FLOOR);
    int64_t ce = cnnk_out_size(x->i, x->k, x->s, x->p, x->p, 1, CNNK_ROUND_CEIL);
    if (!x->go || x->o == 0) {
        r.ceil_ok = ce == fl;
        return r;
    }
    r.o = x->o;
    if (x->gp) {
        r.floor_ok = x->o == fl;
        r.ceil_ok = x->o == ce;
        return r;
    }
    /* benchdnn: compute_pad, then the opposite pad that makes floor exact */
    r.pbeg = ((x->o - 1) * x->s - x->i + x->k) / 2;
    r.pend = (x->o - 1) * x->s - x->i + x->k - r.pbeg;
    r.ceil_ok = cnnk_out_size(x->i, x->k, x->s, r.pbeg, r.pend, 1, CNNK_ROUND_CEIL) == x->o;
    return r;
}

static cnnk_status pool_mismatch(pctx *p, const fields *f, const dim1 *x, char c) {
    return fail_at(p, fpos(f, c == 'h' ? "oh" : "ow"), CNNK_EINVAL,
                   "o%c=%lld matches neither the floor (%lld) nor the ceil (%lld) output size "
                   "with p%c=%lld",
                   c, (ll)x->o, (ll)cnnk_out_size(x->i, x->k, x->s, x->p, x->p, 1, CNNK_ROUND_FLOOR),
                   (ll)cnnk_out_size(x->i, x->k, x->s, x->p, x->p, 1, CNNK_ROUND_CEIL), c, (ll)x->p);
}

static cnnk_status parse_pool(pctx *p, const cnnk_parse_opts *o, cnnk_layer_desc *out) {
    static const keyspec spec[] = {
        {"mb", V_INT}, {"ic", V_INT}, {"id", V_INT}, {"ih", V_INT}, {"iw", V_INT},
        {"od", V_INT}, {"oh", V_INT}, {"ow", V_INT}, {"kd", V_INT}, {"kh", V_INT},
        {"kw", V_INT}, {"sd", V_INT}, {"sh", V_INT}, {"sw", V_INT}, {"pd", V_INT},
        {"ph", V_INT}, {"pw", V_INT}, {"dd", V_INT}, {"dh", V_INT}, {"dw", V_INT}};
    fields f = {.spec = spec, .nspec = (int)(sizeof spec / sizeof spec[0])};
    CNNK_TRY(parse_fields(p, &f));
    CNNK_TRY(reject_3d(p, &f));
    CNNK_TRY(require(p, &f, "ic"));
    if (ival(&f, "dh", 0) != 0 || ival(&f, "dw", 0) != 0)
        return fail_at(p, fpos(&f, ival(&f, "dh", 0) ? "dh" : "dw"), CNNK_EUNSUPPORTED,
                       "dilated pooling is not supported");
    dim1 h, w;
    CNNK_TRY(resolve_hw(p, &f, &h, &w));
    pool_dim ph = pool_pads(&h), pw = pool_pads(&w);
    cnnk_pool_desc *d = &out->u.pool;
    memset(d, 0, sizeof *d);
    if (ph.floor_ok && pw.floor_ok) d->round = CNNK_ROUND_FLOOR;
    else if (ph.ceil_ok && pw.ceil_ok) d->round = CNNK_ROUND_CEIL;
    else if (!ph.floor_ok && !ph.ceil_ok) return pool_mismatch(p, &f, &h, 'h');
    else if (!pw.floor_ok && !pw.ceil_ok) return pool_mismatch(p, &f, &w, 'w');
    else return fail_at(p, 0, CNNK_EINVAL, "oh and ow need different rounding (one floor, one ceil)");
    d->mb = pick_mb(o, &f);
    d->c = ival(&f, "ic", 0);
    d->ih = h.i, d->iw = w.i;
    d->kh = h.k, d->kw = w.k;
    d->sh = h.s, d->sw = w.s;
    d->pt = ph.pbeg, d->pb = ph.pend, d->oh = ph.o;
    d->pl = pw.pbeg, d->pr = pw.pend, d->ow = pw.o;
    d->alg = o->pool_alg;
    d->global = false;
    copy_name(d->name, f.name);
    out->kind = CNNK_LAYER_POOL;
    return cnnk_pool_check(d, p->err);
}

/* ih/iw of the unstrided drivers (ip, lrn, bnorm): a missing iw copies ih,
 * a missing ih is 1 (benchdnn's 1-D and 0-D forms). */
static void plain_hw(const fields *f, int64_t *h, int64_t *w) {
    *h = has(f, "ih") ? ival(f, "ih", 1) : 1;
    *w = has(f, "iw") ? ival(f, "iw", 1) : *h;
    if (!has(f, "ih") && has(f, "iw")) *h = 1;
}

static cnnk_status parse_ip(pctx *p, const cnnk_parse_opts *o, cnnk_layer_desc *out) {
    static const keyspec spec[] = {{"mb", V_INT}, {"ic", V_INT}, {"id", V_INT},
                                   {"ih", V_INT}, {"iw", V_INT}, {"oc", V_INT}};
    fields f = {.spec = spec, .nspec = (int)(sizeof spec / sizeof spec[0])};
    CNNK_TRY(parse_fields(p, &f));
    CNNK_TRY(reject_3d(p, &f));
    CNNK_TRY(require(p, &f, "ic"));
    CNNK_TRY(require(p, &f, "oc"));
    cnnk_fc_desc *d = &out->u.fc;
    memset(d, 0, sizeof *d);
    d->mb = pick_mb(o, &f);
    d->ic = ival(&f, "ic", 0);
    d->oc = ival(&f, "oc", 0);
    plain_hw(&f, &d->ih, &d->iw);
    copy_name(d->name, f.name);
    out->kind = CNNK_LAYER_FC;
    return cnnk_fc_check(d, p->err);
}

static cnnk_status parse_lrn(pctx *p, const cnnk_parse_opts *o, cnnk_layer_desc *out) {
    static const keyspec spec[] = {{"mb", V_INT},    {"ic", V_INT},   {"id", V_INT},
                                   {"ih", V_INT},    {"iw", V_INT},   {"ls", V_INT},
                                   {"alpha", V_FLT}, {"beta", V_FLT}, {"k", V_FLT}};
    fields f = {.spec = spec, .nspec = (int)(sizeof spec / sizeof spec[0])};
    CNNK_TRY(parse_fields(p, &f));
    CNNK_TRY(reject_3d(p, &f));
    CNNK_TRY(require(p, &f, "ic"));
    cnnk_lrn_desc *d = &out->u.lrn;
    memset(d, 0, sizeof *d);
    d->mb = pick_mb(o, &f);
    d->c = ival(&f, "ic", 0);
    plain_hw(&f, &d->h, &d->w);
    /* benchdnn's defaults; its alpha is 1/8192, exact in binary */
    d->size = ival(&f, "ls", 5);
    d->alpha = (float)fval(&f, "alpha", 1.0 / 8192);
    d->beta = (float)fval(&f, "beta", 0.75);
    d->k = (float)fval(&f, "k", 1.0);
    copy_name(d->name, f.name);
    out->kind = CNNK_LAYER_LRN;
    return cnnk_lrn_check(d, p->err);
}

static cnnk_status parse_bnorm(pctx *p, const cnnk_parse_opts *o, cnnk_layer_desc *out) {
    static const keyspec spec[] = {{"mb", V_INT}, {"ic", V_INT}, {"id", V_INT},
                                   {"ih", V_INT}, {"iw", V_INT}, {"eps", V_FLT}};
    fields f = {.spec = spec, .nspec = (int)(sizeof spec / sizeof spec[0])};
    CNNK_TRY(parse_fields(p, &f));
    CNNK_TRY(reject_3d(p, &f));
    CNNK_TRY(require(p, &f, "ic"));
    cnnk_bnorm_desc *d = &out->u.bnorm;
    memset(d, 0, sizeof *d);
    d->mb = pick_mb(o, &f);
    d->c = ival(&f, "ic", 0);
    plain_hw(&f, &d->h, &d->w);
    d->eps = (float)fval(&f, "eps", 1.0 / 16); /* benchdnn's default */
    copy_name(d->name, f.name);
    out->kind = CNNK_LAYER_BNORM;
    return cnnk_bnorm_check(d, p->err);
}

static cnnk_status parse_resampling(pctx *p, const cnnk_parse_opts *o, cnnk_layer_desc *out) {
    static const keyspec spec[] = {{"mb", V_INT}, {"ic", V_INT}, {"id", V_INT}, {"ih", V_INT},
                                   {"iw", V_INT}, {"od", V_INT}, {"oh", V_INT}, {"ow", V_INT}};
    fields f = {.spec = spec, .nspec = (int)(sizeof spec / sizeof spec[0])};
    CNNK_TRY(parse_fields(p, &f));
    CNNK_TRY(reject_3d(p, &f));
    CNNK_TRY(require(p, &f, "ic"));
    CNNK_TRY(require(p, &f, "oh"));
    cnnk_resize_desc *d = &out->u.resize;
    memset(d, 0, sizeof *d);
    d->mb = pick_mb(o, &f);
    d->c = ival(&f, "ic", 0);
    plain_hw(&f, &d->ih, &d->iw);
    d->oh = ival(&f, "oh", 0);
    d->ow = ival(&f, "ow", d->oh);
    d->align_corners = o->align_corners;
    copy_name(d->name, f.name);
    out->kind = CNNK_LAYER_RESIZE;
    return cnnk_resize_check(d, p->err);
}

/* ---- NxCxHxW[:NxCxHxW...] descriptors -------------------------------- */

enum { MAXDIMS = 4 };

typedef struct dims_list {
    int n;                                     /* number of tensors */
    int nd[CNNK_CONCAT_MAX_INPUTS];            /* dims of each */
    int64_t v[CNNK_CONCAT_MAX_INPUTS][MAXDIMS];
    char name[CNNK_NAME_LEN];
} dims_list;

static cnnk_status parse_dims(pctx *p, dims_list *L) {
    size_t i = 0;
    memset(L, 0, sizeof *L);
    for (;;) {
        if (L->n == CNNK_CONCAT_MAX_INPUTS)
            return fail_at(p, i, CNNK_EUNSUPPORTED, "more than %d tensors",
                           CNNK_CONCAT_MAX_INPUTS);
        int t = L->n++;
        for (;;) {
            int64_t v;
            CNNK_TRY(parse_int(p, &i, "dims", &v));
            if (L->nd[t] == MAXDIMS)
                return fail_at(p, i, CNNK_EUNSUPPORTED,
                               "more than %d dimensions (only N, C, H, W) are not supported",
                               MAXDIMS);
            L->v[t][L->nd[t]++] = v;
            if (i < p->n && p->s[i] == 'x') {
                ++i;
                continue;
            }
            break;
        }
        if (i < p->n && p->s[i] == ':') {
            ++i;
            continue;
        }
        break;
    }
    if (i < p->n && p->s[i] == '_') ++i; /* benchdnn allows 1x1000_n"name" */
    if (i < p->n && p->s[i] == 'n') return parse_name(p, &i, L->name);
    if (i < p->n) {
        char cb[8];
        return fail_at(p, i, CNNK_EPARSE, "unexpected %s in the dimensions",
                       show_char(p->s[i], cb));
    }
    return CNNK_OK;
}

/* N and C required, H and W default to 1; the minibatch override applies. */
static cnnk_status nchw_of(pctx *p, const cnnk_parse_opts *o, const dims_list *L, int t,
                           int64_t out[4]) {
    if (L->nd[t] < 2)
        return fail_at(p, 0, CNNK_EPARSE, "tensor %d has %d dimension(s); give at least NxC", t + 1,
                       L->nd[t]);
    for (int k = 0; k < 4; ++k) out[k] = k < L->nd[t] ? L->v[t][k] : 1;
    if (o->mb > 0) out[0] = o->mb;
    return CNNK_OK;
}

static cnnk_status parse_softmax(pctx *p, const cnnk_parse_opts *o, cnnk_layer_desc *out) {
    dims_list L;
    CNNK_TRY(parse_dims(p, &L));
    if (L.n != 1) return fail_at(p, 0, CNNK_EPARSE, "softmax takes one tensor, got %d", L.n);
    int64_t t[4] = {0};
    CNNK_TRY(nchw_of(p, o, &L, 0, t));
    cnnk_softmax_desc *d = &out->u.softmax;
    memset(d, 0, sizeof *d);
    d->mb = t[0], d->c = t[1], d->h = t[2], d->w = t[3];
    copy_name(d->name, L.name);
    out->kind = CNNK_LAYER_SOFTMAX;
    return cnnk_softmax_check(d, p->err);
}

static cnnk_status parse_eltwise(pctx *p, const cnnk_parse_opts *o, cnnk_layer_desc *out) {
    dims_list L;
    CNNK_TRY(parse_dims(p, &L));
    bool binary = o->elt_alg == CNNK_ELTWISE_ADD || o->elt_alg == CNNK_ELTWISE_ADD_RELU;
    int want = binary ? 2 : 1;
    if (L.n != want)
        return fail_at(p, 0, CNNK_EPARSE, "%s takes %d tensor(s) (%s), got %d",
                       binary ? "binary" : "eltwise", want, binary ? "AxB:AxB" : "NxCxHxW", L.n);
    int64_t a[4] = {0}, b[4] = {0};
    CNNK_TRY(nchw_of(p, o, &L, 0, a));
    if (binary) {
        CNNK_TRY(nchw_of(p, o, &L, 1, b));
        if (memcmp(a, b, sizeof a) != 0 || L.nd[0] != L.nd[1])
            return fail_at(p, 0, CNNK_EUNSUPPORTED,
                           "binary inputs must have the same shape (no broadcast)");
    }
    cnnk_eltwise_desc *d = &out->u.eltwise;
    memset(d, 0, sizeof *d);
    d->mb = a[0], d->c = a[1], d->h = a[2], d->w = a[3];
    d->alg = o->elt_alg;
    copy_name(d->name, L.name);
    out->kind = CNNK_LAYER_ELTWISE;
    return cnnk_eltwise_check(d, p->err);
}

static cnnk_status parse_concat(pctx *p, const cnnk_parse_opts *o, cnnk_layer_desc *out) {
    dims_list L;
    CNNK_TRY(parse_dims(p, &L));
    cnnk_concat_desc *d = &out->u.concat;
    memset(d, 0, sizeof *d);
    int64_t first[4] = {0};
    CNNK_TRY(nchw_of(p, o, &L, 0, first));
    for (int t = 0; t < L.n; ++t) {
        int64_t x[4] = {0};
        CNNK_TRY(nchw_of(p, o, &L, t, x));
        if (L.nd[t] != L.nd[0] || x[0] != first[0] || x[2] != first[2] || x[3] != first[3])
            return fail_at(p, 0, CNNK_EINVAL,
                           "concat input %d differs from input 1 outside the channel axis", t + 1);
        d->c[t] = x[1];
    }
    d->n = L.n;
    d->mb = first[0], d->h = first[2], d->w = first[3];
    copy_name(d->name, L.name);
    out->kind = CNNK_LAYER_CONCAT;
    return cnnk_concat_check(d, p->err);
}

static cnnk_status parse_token(pctx *p, const cnnk_parse_opts *o, cnnk_layer_desc *out) {
    if (p->n == 0) return fail_at(p, 0, CNNK_EPARSE, "empty descriptor");
    switch (o->kind) {
    case CNNK_LAYER_CONV: return parse_conv(p, o, false, out);
    case CNNK_LAYER_DECONV: return parse_conv(p, o, true, out);
    case CNNK_LAYER_FC: return parse_ip(p, o, out);
    case CNNK_LAYER_POOL: return parse_pool(p, o, out);
    case CNNK_LAYER_LRN: return parse_lrn(p, o, out);
    case CNNK_LAYER_BNORM: return parse_bnorm(p, o, out);
    case CNNK_LAYER_SOFTMAX: return parse_softmax(p, o, out);
    case CNNK_LAYER_ELTWISE: return parse_eltwise(p, o, out);
    case CNNK_LAYER_CONCAT: return parse_concat(p, o, out);
    case CNNK_LAYER_RESIZE: return parse_resampling(p, o, out);
    case CNNK_LAYER_REGION_POOL:
        /* Its boxes are data, not shape: no batch-file line describes them
         * (docs/REGIONS.md: the sweep is tests/test_region_pool.c). */
        return fail_at(p, 0, CNNK_EUNSUPPORTED, "region pooling has no descriptor syntax");
    case CNNK_LAYER_WARP: /* the same: its boxes are data (tests/test_warp.c sweeps it) */
        return fail_at(p, 0, CNNK_EUNSUPPORTED, "the region warp has no descriptor syntax");
    case CNNK_LAYER_DETECT: /* no benchdnn descriptor: built by networks only */
    case CNNK_LAYER_KIND_COUNT: break;
    }
    return fail_at(p, 0, CNNK_EINVAL, "unknown layer kind %d", (int)o->kind);
}

cnnk_status cnnk_parse_desc(const char *text, const cnnk_parse_opts *o, cnnk_layer_desc *out,
                            cnnk_error *err) {
    cnnk_parse_opts def;
    if (!o) {
        cnnk_parse_opts_init(&def);
        o = &def;
    }
    cnnk_error local;
    pctx p = {text, strlen(text), 0, &local};
    local.msg[0] = '\0';
    cnnk_status st = parse_token(&p, o, out);
    if (st == CNNK_OK) return st;
    if (p.col > 0) return cnnk_fail(err, st, "column %d: %s", p.col, local.msg);
    return cnnk_fail(err, st, "%s", local.msg);
}

/* ---- batches ---------------------------------------------------------- */

static cnnk_status batch_push(cnnk_batch *b, const cnnk_layer_desc *d, int line,
                              cnnk_error *err) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap : 16, bytes_d, bytes_l;
        if (b->cap && __builtin_mul_overflow(b->cap, (size_t)2, &cap))
            return cnnk_fail(err, CNNK_EOVERFLOW, "batch: too many descriptors");
        if (__builtin_mul_overflow(cap, sizeof *b->items, &bytes_d) ||
            __builtin_mul_overflow(cap, sizeof *b->line, &bytes_l))
            return cnnk_fail(err, CNNK_EOVERFLOW, "batch: too many descriptors");
        cnnk_layer_desc *items = realloc(b->items, bytes_d);
        if (!items) return cnnk_fail(err, CNNK_ENOMEM, "batch: out of memory");
        b->items = items;
        int *lines = realloc(b->line, bytes_l);
        if (!lines) return cnnk_fail(err, CNNK_ENOMEM, "batch: out of memory");
        b->line = lines;
        b->cap = cap;
    }
    b->items[b->n] = *d;
    b->line[b->n] = line;
    ++b->n;
    return CNNK_OK;
}

/* Where the scanner is in the batch text, for "origin:LINE:COL". */
typedef struct bpos {
    const char *origin;
    int line;
    size_t line_start;
} bpos;

static int col_of(const bpos *bp, size_t at) {
    size_t c = at - bp->line_start + 1;
    return c < (size_t)INT32_MAX ? (int)c : INT32_MAX;
}

/* One token: whitespace and `#` end it, except inside double quotes. */
static cnnk_status scan_token(const char *t, size_t i, const bpos *bp, size_t *end,
                              cnnk_error *err) {
    size_t quote = 0;
    bool inq = false;
    for (; t[i]; ++i) {
        char c = t[i];
        if (inq) {
            if (c == '\n') break;
            if (c == '"') inq = false;
            continue;
        }
        if (isspace((unsigned char)c) || c == '#') break;
        if (c == '"') {
            inq = true;
            quote = i;
        }
    }
    if (inq)
        return cnnk_fail(err, CNNK_EPARSE, "%s:%d:%d: unterminated quote", bp->origin, bp->line,
                         col_of(bp, quote));
    *end = i;
    return CNNK_OK;
}

static cnnk_status batch_option(const char *t, size_t b, size_t e, const bpos *bp,
                                cnnk_parse_opts *o, cnnk_error *err) {
    char buf[256];
    cnnk_error local;
    if (e - b >= sizeof buf)
        return cnnk_fail(err, CNNK_EPARSE, "%s:%d:%d: option longer than %zu characters",
                         bp->origin, bp->line, col_of(bp, b), sizeof buf - 1);
    memcpy(buf, t + b, e - b);
    buf[e - b] = '\0';
    cnnk_status st = cnnk_parse_option(buf, o, &local);
    if (st != CNNK_OK)
        return cnnk_fail(err, st, "%s:%d:%d: %s", bp->origin, bp->line, col_of(bp, b), local.msg);
    return CNNK_OK;
}

static cnnk_status batch_desc(const char *t, size_t b, size_t e, const bpos *bp,
                              const cnnk_parse_opts *o, cnnk_batch *out, cnnk_error *err) {
    cnnk_error local;
    local.msg[0] = '\0';
    pctx p = {t + b, e - b, 0, &local};
    cnnk_layer_desc d;
    cnnk_status st = parse_token(&p, o, &d);
    if (st != CNNK_OK) {
        int col = col_of(bp, b) + (p.col > 0 ? p.col - 1 : 0);
        return cnnk_fail(err, st, "%s:%d:%d: %s", bp->origin, bp->line, col, local.msg);
    }
    return batch_push(out, &d, bp->line, err);
}

cnnk_status cnnk_batch_parse(const char *text, const char *origin, cnnk_batch *b,
                             cnnk_error *err) {
    memset(b, 0, sizeof *b);
    cnnk_parse_opts o;
    cnnk_parse_opts_init(&o);
    bpos bp = {origin ? origin : "<batch>", 1, 0};
    size_t i = 0;
    while (text[i]) {
        char c = text[i];
        if (c == '\n') {
            ++bp.line;
            bp.line_start = ++i;
            continue;
        }
        if (isspace((unsigned char)c)) {
            ++i;
            continue;
        }
        if (c == '#') {
            while (text[i] && text[i] != '\n') ++i;
            continue;
        }
        size_t e = i;
        CNNK_TRY(scan_token(text, i, &bp, &e, err));
        cnnk_status st = e - i >= 2 && text[i] == '-' && text[i + 1] == '-'
                             ? batch_option(text, i, e, &bp, &o, err)
                             : batch_desc(text, i, e, &bp, &o, b, err);
        if (st != CNNK_OK) return st;
        i = e;
    }
    return CNNK_OK;
}

enum { BATCH_MAX_BYTES = 64 << 20 };

cnnk_status cnnk_batch_read(const char *path, cnnk_batch *b, cnnk_error *err) {
    memset(b, 0, sizeof *b);
    FILE *f = fopen(path, "rb");
    if (!f) return cnnk_fail(err, CNNK_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    cnnk_status st = buf ? CNNK_OK : cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", path);
    while (st == CNNK_OK) {
        if (n + 1 >= cap) {
            char *nb = cap >= BATCH_MAX_BYTES ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                st = cap >= BATCH_MAX_BYTES
                         ? cnnk_fail(err, CNNK_EOVERFLOW, "%s: larger than %d bytes", path,
                                     BATCH_MAX_BYTES)
                         : cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) st = cnnk_fail(err, CNNK_EIO, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (st == CNNK_OK) {
        buf[n] = '\0';
        if (strlen(buf) != n) st = cnnk_fail(err, CNNK_EPARSE, "%s: contains a NUL byte", path);
        else st = cnnk_batch_parse(buf, path, b, err);
    }
    free(buf);
    return st;
}

void cnnk_batch_free(cnnk_batch *b) {
    if (!b) return;
    free(b->items);
    free(b->line);
    memset(b, 0, sizeof *b);
}
