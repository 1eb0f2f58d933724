/* Google Benchmark JSON reader (core/benchjson.h). */
#include "core/benchjson.h"

#include "core/gbjson.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys of a row that are not user counters. */
static const char *const bj_known[] = {
    "name",       "family_index", "per_family_instance_index", "run_name",       "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
    "time_unit",  "error_occurred", "error_message", "aggregate_name", "aggregate_unit", "label"};

static bool is_known(const char *key) {
    for (size_t i = 0; i < sizeof bj_known / sizeof bj_known[0]; ++i)
        if (strcmp(key, bj_known[i]) == 0) return true;
    return false;
}

static char *dup_str(const char *s) {
    const size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

void cnnk_bj_free(cnnk_bj_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n; ++i) {
        cnnk_bj_bench *b = &f->b[i];
        for (size_t k = 0; k < b->n; ++k) free(b->s[k].counters), free(b->s[k].error);
        free(b->s);
        free(b->name);
    }
    free(f->b);
    free(f->context);
    free(f);
}

const cnnk_bj_bench *cnnk_bj_find(const cnnk_bj_file *f, const char *name) {
    for (size_t i = 0; i < f->n; ++i)
        if (strcmp(f->b[i].name, name) == 0) return &f->b[i];
    return NULL;
}

/* The benchmark named name, appended when new; NULL when out of memory. A
 * linear search: files hold hundreds of benchmarks, not millions. */
static cnnk_bj_bench *bench_of(cnnk_bj_file *f, const char *name) {
    for (size_t i = f->n; i-- > 0;)
        if (strcmp(f->b[i].name, name) == 0) return &f->b[i];
    if (f->n == f->cap) {
        const size_t cap = f->cap ? 2 * f->cap : 16;
        cnnk_bj_bench *b = realloc(f->b, cap * sizeof *b);
        if (!b) return NULL;
        f->b = b, f->cap = cap;
    }
    cnnk_bj_bench *b = &f->b[f->n];
    memset(b, 0, sizeof *b);
    if (!(b->name = dup_str(name))) return NULL;
    ++f->n;
    return b;
}

static bool push_sample(cnnk_bj_bench *b, const cnnk_bj_sample *s) {
    if (b->n == b->cap) {
        const size_t cap = b->cap ? 2 * b->cap : 8;
        cnnk_bj_sample *p = realloc(b->s, cap * sizeof *p);
        if (!p) return false;
        b->s = p, b->cap = cap;
    }
    b->s[b->n++] = *s;
    b->nerr += s->error != NULL;
    return true;
}

cnnk_bj_file *cnnk_bj_new(const char *context) {
    cnnk_bj_file *f = calloc(1, sizeof *f);
    if (f && !(f->context = dup_str(context ? context : "{}"))) {
        free(f);
        return NULL;
    }
    return f;
}

bool cnnk_bj_add(cnnk_bj_file *f, const char *name, cnnk_bj_sample *s) {
    cnnk_bj_bench *b = bench_of(f, name);
    if (!s->counters) s->counters = dup_str("{}");
    if (b && s->counters && push_sample(b, s)) return true;
    free(s->counters), free(s->error);
    return false;
}

static double unit_ns(const char *u) {
    if (strcmp(u, "ns") == 0) return 1.0;
    if (strcmp(u, "us") == 0) return 1e3;
    if (strcmp(u, "ms") == 0) return 1e6;
    if (strcmp(u, "s") == 0) return 1e9;
    return 0.0;
}

/* A field of row i of the wrong type or value. */
#define BJ_BAD(what_, i_, field_, expect_)                                                       \
    cnnk_fail(err, CNNK_EPARSE, "%s: benchmarks[%zu].%s: %s", what_, i_, field_, expect_)

static cnnk_status row_times(const cJSON *row, size_t i, const char *what, cnnk_bj_sample *s,
                             cnnk_error *err) {
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(row, "time_unit");
    if (!cJSON_IsString(unit)) return BJ_BAD(what, i, "time_unit", "expected a string");
    const double scale = unit_ns(unit->valuestring);
    if (scale == 0.0) return BJ_BAD(what, i, "time_unit", "expected ns, us, ms or s");
    static const char *const keys[2] = {"real_time", "cpu_time"};
    double *dst[2] = {&s->real_ns, &s->cpu_ns};
    for (int k = 0; k < 2; ++k) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, keys[k]);
        if (!cJSON_IsNumber(v)) return BJ_BAD(what, i, keys[k], "expected a number");
        /* finite in ns too: 1e300 s would overflow to infinity */
        *dst[k] = v->valuedouble * scale;
        if (!isfinite(*dst[k]) || v->valuedouble < 0)
            return BJ_BAD(what, i, keys[k], "expected a finite time >= 0");
    }
    return CNNK_OK;
}

static char *counters_of(const cJSON *row) {
    cJSON *c = cJSON_CreateObject();
    if (!c) return NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, row) {
        if (!it->string || is_known(it->string) || !cJSON_IsNumber(it)) continue;
        if (!cJSON_AddNumberToObject(c, it->string, it->valuedouble)) {
            cJSON_Delete(c);
            return NULL;
        }
    }
    char *text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    return text;
}

static cnnk_status read_row(cnnk_bj_file *f, const cJSON *row, size_t i, const char *what,
                            cnnk_error *err) {
    if (!cJSON_IsObject(row))
        return cnnk_fail(err, CNNK_EPARSE, "%s: benchmarks[%zu]: expected an object", what, i);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(row, "run_type");
    if (type && !cJSON_IsString(type)) return BJ_BAD(what, i, "run_type", "expected a string");
    if (type && strcmp(type->valuestring, "aggregate") == 0) {
        ++f->aggregates;
        return CNNK_OK;
    }
    if (type && strcmp(type->valuestring, "iteration") != 0)
        return BJ_BAD(what, i, "run_type", "expected \"iteration\" or \"aggregate\"");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(row, "run_name");
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return BJ_BAD(what, i, "run_name", "expected a non-empty string");
    const cJSON *failed = cJSON_GetObjectItemCaseSensitive(row, "error_occurred");
    if (failed && !cJSON_IsBool(failed))
        return BJ_BAD(what, i, "error_occurred", "expected true or false");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(row, "error_message");
    if (msg && !cJSON_IsString(msg)) return BJ_BAD(what, i, "error_message", "expected a string");
    cnnk_bj_bench *b = bench_of(f, name->valuestring);
    if (!b) return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", what);

    cnnk_bj_sample s = {.rep = (int)b->n, .real_ns = NAN, .cpu_ns = NAN};
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(row, "repetition_index");
    if (rep) {
        if (!cJSON_IsNumber(rep) || !(rep->valuedouble >= 0 && rep->valuedouble <= INT_MAX) ||
            rep->valuedouble != floor(rep->valuedouble))
            return BJ_BAD(what, i, "repetition_index", "expected a whole number >= 0");
        s.rep = (int)rep->valuedouble;
    }
    for (size_t k = 0; k < b->n; ++k)
        if (b->s[k].rep == s.rep)
            return cnnk_fail(err, CNNK_EPARSE, "%s: benchmarks[%zu]: repetition %d of %s is listed twice",
                             what, i, s.rep, b->name);
    if (cJSON_IsTrue(failed)) {
        if (!(s.error = dup_str(msg ? msg->valuestring : "error_occurred")))
            return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", what);
    } else {
        CNNK_TRY(row_times(row, i, what, &s, err));
    }
    if (!(s.counters = counters_of(row)) || !push_sample(b, &s)) {
        free(s.counters), free(s.error);
        return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", what);
    }
    return CNNK_OK;
}

static cnnk_status parse_root(cnnk_bj_file *f, const cJSON *root, const char *what,
                              cnnk_error *err) {
    if (!cJSON_IsObject(root))
        return cnnk_fail(err, CNNK_EPARSE, "%s: expected a JSON object (Google Benchmark's output)", what);
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(root, "context");
    if (ctx && !cJSON_IsObject(ctx))
        return cnnk_fail(err, CNNK_EPARSE, "%s: context: expected an object", what);
    f->context = ctx ? cJSON_PrintUnformatted(ctx) : dup_str("{}");
    if (!f->context) return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", what);
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "benchmarks");
    if (!cJSON_IsArray(rows))
        return cnnk_fail(err, CNNK_EPARSE, "%s: no \"benchmarks\" array (not Google Benchmark's JSON output)", what);
    size_t i = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) CNNK_TRY(read_row(f, row, i++, what, err));
    return CNNK_OK;
}

cnnk_status cnnk_bj_parse(const char *text, size_t len, const char *what, cnnk_bj_file **out,
                          cnnk_error *err) {
    *out = NULL;
    /* Google Benchmark writes NaN for the cv of a counter that is 0 in
     * every repetition: standard JSON first (core/gbjson.h) */
    size_t slen = 0;
    char *std = cnnk_gbjson_standard(text, len, &slen);
    if (!std) return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", what);
    cJSON *root = cJSON_ParseWithLength(std, slen);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        const size_t off = at && at >= std && at <= std + slen ? (size_t)(at - std) : 0;
        free(std);
        return cnnk_fail(err, CNNK_EPARSE, "%s: not JSON (error near byte %zu)", what, off);
    }
    free(std);
    cnnk_bj_file *f = calloc(1, sizeof *f);
    cnnk_status s = f ? parse_root(f, root, what, err)
                      : cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", what);
    cJSON_Delete(root);
    if (s != CNNK_OK) {
        cnnk_bj_free(f);
        return s;
    }
    *out = f;
    return CNNK_OK;
}

cnnk_status cnnk_bj_read(const char *path, cnnk_bj_file **out, cnnk_error *err) {
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return cnnk_fail(err, CNNK_EIO, "%s: cannot read: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            char *b = realloc(buf, cap = cap ? 2 * cap : 1 << 17);
            if (!b) {
                free(buf), fclose(fp);
                return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory", path);
            }
            buf = b;
        }
        const size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    const bool bad = ferror(fp);
    const int e = errno;
    fclose(fp);
    if (bad) {
        free(buf);
        return cnnk_fail(err, CNNK_EIO, "%s: cannot read: %s", path, strerror(e));
    }
    cnnk_status s = cnnk_bj_parse(buf, len, path, out, err);
    free(buf);
    return s;
}

bool cnnk_bj_context(const cnnk_bj_file *f, const char *key, char *buf, size_t len) {
    cJSON *ctx = cJSON_Parse(f->context);
    const cJSON *v = ctx ? cJSON_GetObjectItemCaseSensitive(ctx, key) : NULL;
    bool ok = true;
    if (cJSON_IsString(v)) snprintf(buf, len, "%s", v->valuestring);
    else if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e18)
        snprintf(buf, len, "%lld", (long long)v->valuedouble);
    else if (cJSON_IsNumber(v)) snprintf(buf, len, "%.17g", v->valuedouble);
    else ok = false;
    cJSON_Delete(ctx);
    return ok;
}

bool cnnk_bj_cpu_key(const cnnk_bj_file *f, char *buf, size_t len, cnnk_error *err) {
    static const char *const keys[] = {"cnnk_cpu_model", "cnnk_isa_detected", "cnnk_l1d_bytes",
                                       "cnnk_l2_bytes", "cnnk_l3_bytes"};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i) {
        char v[256];
        if (!cnnk_bj_context(f, keys[i], v, sizeof v)) {
            cnnk_fail(err, CNNK_EPARSE, "the context has no %s (not a cnnk-bench run)", keys[i]);
            return false;
        }
        const int m = snprintf(buf + used, len - used, "%s%s", i ? "|" : "", v);
        if (m < 0 || used + (size_t)m >= len) {
            cnnk_fail(err, CNNK_EOVERFLOW, "the CPU key is longer than %zu characters", len - 1);
            return false;
        }
        used += (size_t)m;
    }
    return true;
}
