/* The tuning file: a table of (shape -> fastest kernel) keyed by the CPU,
 * as JSON (cJSON). Reading validates everything a plan will trust, so a
 * hand-edited or truncated file is an error with a message, never a crash
 * or a silently different plan (docs/TUNING.md). */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fchmod, fsync */

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnnk/cpu.h"
#include "cnnk/outfile.h"
#include "cnnk/parse.h"
#include "cnnk/tune.h"

/* A table file holds a few hundred shapes; anything far larger is not one. */
#define MAX_FILE_BYTES ((long)16 << 20)

void cnnk_tune_key(const cnnk_conv_desc *d, char *buf, size_t len) {
    cnnk_conv_desc k = *d;
    k.name[0] = '\0';
    cnnk_conv_format(&k, buf, len);
}

void cnnk_tune_this_cpu(cnnk_isa isa, int nthreads, cnnk_tune_cpu *cpu) {
    const cnnk_cpu_info *c = cnnk_cpu();
    memset(cpu, 0, sizeof *cpu);
    snprintf(cpu->model, sizeof cpu->model, "%s", c->model);
    cpu->isa = isa;
    cpu->l1d = c->l1d, cpu->l2 = c->l2, cpu->l3 = c->l3;
    cpu->threads = nthreads;
}

void cnnk_tune_default_path(const cnnk_tune_cpu *cpu, char *buf, size_t len) {
    char model[sizeof cpu->model];
    size_t n = 0;
    for (const char *p = cpu->model; *p && n + 1 < sizeof model; ++p) {
        const unsigned char ch = (unsigned char)*p;
        if (isalnum(ch)) model[n++] = (char)tolower(ch);
        else if (n > 0 && model[n - 1] != '-') model[n++] = '-';
    }
    while (n > 0 && model[n - 1] == '-') --n;
    model[n] = '\0';
    snprintf(buf, len, "plans/%s-%s.json", cnnk_isa_name(cpu->isa), n ? model : "unknown-cpu");
}

void cnnk_tune_free(cnnk_tune_table *t) {
    if (!t) return;
    free(t->e);
    free(t);
}

const cnnk_conv_kernel *cnnk_tune_lookup(const cnnk_tune_table *t, const cnnk_conv_desc *d) {
    char key[CNNK_TUNE_KEY_LEN];
    cnnk_tune_key(d, key, sizeof key);
    for (int i = 0; i < t->n; ++i)
        if (strcmp(t->e[i].shape, key) == 0) return t->e[i].kernel;
    return NULL;
}

/* ---- write ------------------------------------------------------------- */

/* Tenths of a microsecond: finer digits are noise on a shared machine. */
static double round_ms(double ms) {
    return round(ms * 1e4) / 1e4;
}

static cJSON *cpu_json(const cnnk_tune_cpu *c) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "model", c->model);
    cJSON_AddStringToObject(o, "isa", cnnk_isa_name(c->isa));
    cJSON_AddNumberToObject(o, "l1d", (double)c->l1d);
    cJSON_AddNumberToObject(o, "l2", (double)c->l2);
    cJSON_AddNumberToObject(o, "l3", (double)c->l3);
    cJSON_AddNumberToObject(o, "threads", c->threads);
    return o;
}

static cJSON *entry_json(const cnnk_tune_entry *e) {
    cJSON *o = cJSON_CreateObject(), *cand = cJSON_CreateObject();
    if (!o || !cand) {
        cJSON_Delete(o), cJSON_Delete(cand);
        return NULL;
    }
    cJSON_AddStringToObject(o, "shape", e->shape);
    cJSON_AddStringToObject(o, "kernel", e->kernel->name);
    cJSON_AddNumberToObject(o, "ms", round_ms(e->ms));
    for (int i = 0; i < e->ncand; ++i)
        cJSON_AddNumberToObject(cand, e->cand[i]->name, round_ms(e->cand_ms[i]));
    cJSON_AddItemToObject(o, "candidates", cand);
    return o;
}

static char *table_text(const cnnk_tune_table *t) {
    cJSON *root = cJSON_CreateObject(), *layers = cJSON_CreateArray();
    cJSON *cpu = cpu_json(&t->cpu);
    char *text = NULL;
    if (root && layers && cpu) {
        cJSON_AddItemToObject(root, "cpu", cpu);
        cJSON_AddItemToObject(root, "layers", layers);
        cJSON *lay = layers;
        cpu = layers = NULL; /* root owns them now */
        bool ok = true;
        for (int i = 0; i < t->n && ok; ++i) {
            cJSON *e = entry_json(&t->e[i]);
            ok = e && cJSON_AddItemToArray(lay, e);
        }
        if (ok) text = cJSON_Print(root);
    }
    cJSON_Delete(root), cJSON_Delete(layers), cJSON_Delete(cpu);
    return text;
}

cnnk_status cnnk_tune_write(const cnnk_tune_table *t, const char *path, cnnk_error *err) {
    char target[CNNK_OUT_PATH_MAX], tmp[CNNK_OUT_PATH_MAX];
    int fd;
    cnnk_error why;
    if (cnnk_outfile_open(path, target, tmp, &fd, &why) != CNNK_OK)
        return cnnk_fail(err, CNNK_EINVAL, "tune: %s", why.msg);
    char *text = table_text(t);
    if (!text) {
        cnnk_outfile_abort(fd, tmp);
        return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory writing %s", path);
    }
    cnnk_status s = cnnk_outfile_write(fd, text, strlen(text), tmp, &why);
    if (s == CNNK_OK) s = cnnk_outfile_write(fd, "\n", 1, tmp, &why);
    free(text);
    if (s != CNNK_OK) {
        cnnk_outfile_abort(fd, tmp);
        return cnnk_fail(err, s, "tune: %s", why.msg);
    }
    s = cnnk_outfile_commit(fd, tmp, target, &why);
    return s == CNNK_OK ? CNNK_OK : cnnk_fail(err, s, "tune: %s", why.msg);
}

/* ---- read --------------------------------------------------------------- */

static cnnk_status slurp(const char *path, char **text, size_t *len, cnnk_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return cnnk_fail(err, CNNK_EIO, "tuned plan %s: cannot open: %s", path, strerror(errno));
    /* Grown as the file is read, up to one byte past the limit: a plan is
     * a few KiB, and 16 MiB allocated (and, under ASan, poisoned) for each
     * read made the plan fuzzer run 30 inputs a second. */
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf && n < (size_t)MAX_FILE_BYTES + 1) {
        if (n == cap) {
            cap = cap * 2 > (size_t)MAX_FILE_BYTES + 1 ? (size_t)MAX_FILE_BYTES + 1 : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        const size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    const bool bad = ferror(f);
    const int why = errno;
    fclose(f);
    if (!buf) return cnnk_fail(err, CNNK_ENOMEM, "tuned plan %s: out of memory", path);
    if (bad || n > (size_t)MAX_FILE_BYTES) {
        free(buf);
        return bad ? cnnk_fail(err, CNNK_EIO, "tuned plan %s: cannot read: %s", path, strerror(why))
                   : cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: over %ld bytes, not a plan", path,
                               MAX_FILE_BYTES);
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        free(buf);
        return cnnk_fail(err, CNNK_EPARSE, "tuned plan %s: not valid JSON (a NUL byte)", path);
    }
    *text = buf, *len = n;
    return CNNK_OK;
}

static const cJSON *field(const cJSON *o, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* A non-negative whole number that fits int64. */
static bool whole(const cJSON *v, int64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    const double x = v->valuedouble;
    if (!(x >= 0 && x <= 9e15) || x != floor(x)) return false;
    *out = (int64_t)x;
    return true;
}

static cnnk_status read_cpu(const cJSON *root, const char *path, cnnk_tune_cpu *c,
                            cnnk_error *err) {
    const cJSON *o = field(root, "cpu");
    if (!cJSON_IsObject(o)) return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: no \"cpu\" object", path);
    const cJSON *model = field(o, "model"), *isa = field(o, "isa");
    if (!cJSON_IsString(model) || strlen(model->valuestring) >= sizeof c->model)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: cpu.model is not a string", path);
    snprintf(c->model, sizeof c->model, "%s", model->valuestring);
    if (!cJSON_IsString(isa) || !cnnk_isa_from_name(isa->valuestring, &c->isa))
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: cpu.isa is not an ISA name", path);
    static const char *const sizes[] = {"l1d", "l2", "l3", "threads"};
    int64_t v[4];
    for (int i = 0; i < 4; ++i)
        if (!whole(field(o, sizes[i]), &v[i]))
            return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: cpu.%s is not a whole number >= 0",
                             path, sizes[i]);
    if (v[3] < 1 || v[3] > 1 << 20)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: cpu.threads=%lld", path, (long long)v[3]);
    c->l1d = v[0], c->l2 = v[1], c->l3 = v[2], c->threads = (int)v[3];
    return CNNK_OK;
}

static void describe_cpu(const cnnk_tune_cpu *c, char *buf, size_t len) {
    snprintf(buf, len, "'%s' (L1d %lld KiB, L2 %lld KiB, L3 %lld KiB)", c->model,
             (long long)c->l1d / 1024, (long long)c->l2 / 1024, (long long)c->l3 / 1024);
}

/* One file per CPU: a table measured elsewhere would pick kernels for
 * caches this machine does not have, so it is refused, not used. */
static cnnk_status check_cpu(const cnnk_tune_cpu *c, const char *path, cnnk_error *err) {
    cnnk_tune_cpu here;
    cnnk_tune_this_cpu(c->isa, c->threads, &here);
    if (strcmp(here.model, c->model) != 0 || here.l1d != c->l1d || here.l2 != c->l2 ||
        here.l3 != c->l3) {
        char a[320], b[320];
        describe_cpu(c, a, sizeof a);
        describe_cpu(&here, b, sizeof b);
        return cnnk_fail(err, CNNK_EINVAL,
                         "tuned plan %s was measured on %s, but this CPU is %s: tune here "
                         "(cnnk tune) or pick this CPU's file", path, a, b);
    }
    if (!cnnk_isa_available(c->isa))
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: this CPU does not run ISA %s", path,
                         cnnk_isa_name(c->isa));
    return CNNK_OK;
}

/* A kernel name from the registry, of the table's ISA. */
static cnnk_status known_kernel(const cJSON *v, cnnk_isa isa, const char *path, const char *what,
                                const cnnk_conv_kernel **k, cnnk_error *err) {
    if (!cJSON_IsString(v)) return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s is not a string", path, what);
    *k = cnnk_conv_kernel_find(v->valuestring);
    if (!*k)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s: unknown kernel '%s' (cnnk info lists them)",
                         path, what, v->valuestring);
    if ((*k)->isa != isa)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s: kernel %s is not an %s kernel", path,
                         what, (*k)->name, cnnk_isa_name(isa));
    return CNNK_OK;
}

static cnnk_status read_candidates(const cJSON *o, cnnk_isa isa, const char *path, const char *what,
                                   cnnk_tune_entry *e, cnnk_error *err) {
    if (!o) return CNNK_OK;
    if (!cJSON_IsObject(o))
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s.candidates is not an object", path, what);
    const cJSON *c;
    cJSON_ArrayForEach(c, o) {
        if (e->ncand == CNNK_TUNE_MAX_CANDIDATES)
            return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s: over %d candidates", path, what,
                             CNNK_TUNE_MAX_CANDIDATES);
        if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble) || c->valuedouble < 0)
            return cnnk_fail(err, CNNK_EINVAL,
                             "tuned plan %s: %s.candidates.%s is not a time in ms (a number >= 0)",
                             path, what, c->string);
        const cJSON name = {.type = cJSON_String, .valuestring = c->string};
        if (known_kernel(&name, isa, path, what, &e->cand[e->ncand], err) != CNNK_OK)
            return CNNK_EINVAL;
        e->cand_ms[e->ncand++] = c->valuedouble;
    }
    return CNNK_OK;
}

/* A shape the tuner wrote: a convolution descriptor in exactly the form
 * cnnk_tune_key gives it (no name, every field spelled out), since lookups
 * compare the strings: any other spelling would be silently never used. */
static cnnk_status canonical_shape(const char *shape, const char *path, const char *what,
                                   cnnk_conv_desc *conv, cnnk_error *err) {
    cnnk_parse_opts po;
    cnnk_parse_opts_init(&po);
    cnnk_layer_desc l;
    cnnk_error why;
    if (cnnk_parse_desc(shape, &po, &l, &why) != CNNK_OK)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s.shape '%s': %s", path, what, shape,
                         why.msg);
    char key[CNNK_TUNE_KEY_LEN];
    cnnk_tune_key(&l.u.conv, key, sizeof key);
    if (strcmp(key, shape) != 0)
        return cnnk_fail(err, CNNK_EINVAL,
                         "tuned plan %s: %s.shape '%s' is not as cnnk tune writes it ('%s')", path,
                         what, shape, key);
    *conv = l.u.conv;
    return CNNK_OK;
}

static cnnk_status read_entry(const cJSON *o, int i, const cnnk_tune_table *t, const char *path,
                              cnnk_tune_entry *e, cnnk_error *err) {
    char what[32];
    snprintf(what, sizeof what, "layers[%d]", i);
    memset(e, 0, sizeof *e);
    if (!cJSON_IsObject(o)) return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s is not an object", path, what);
    const cJSON *shape = field(o, "shape"), *ms = field(o, "ms");
    if (!cJSON_IsString(shape) || !shape->valuestring[0] ||
        strlen(shape->valuestring) >= sizeof e->shape)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s.shape is not a shape string", path, what);
    snprintf(e->shape, sizeof e->shape, "%s", shape->valuestring);
    cnnk_conv_desc conv;
    CNNK_TRY(canonical_shape(e->shape, path, what, &conv, err));
    for (int j = 0; j < i; ++j)
        if (strcmp(t->e[j].shape, e->shape) == 0)
            return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s: shape %s is listed twice", path,
                             what, e->shape);
    char kwhat[48];
    snprintf(kwhat, sizeof kwhat, "%s.kernel", what);
    if (known_kernel(field(o, "kernel"), t->cpu.isa, path, kwhat, &e->kernel, err) != CNNK_OK)
        return CNNK_EINVAL;
    if (!e->kernel->applies(&conv))
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s: kernel %s does not apply to shape %s",
                         path, what, e->kernel->name, e->shape);
    if (ms && !(cJSON_IsNumber(ms) && isfinite(ms->valuedouble) && ms->valuedouble >= 0))
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s.ms is not a time in ms (a number >= 0)",
                         path, what);
    e->ms = ms ? ms->valuedouble : 0.0;
    return read_candidates(field(o, "candidates"), t->cpu.isa, path, what, e, err);
}

static cnnk_status read_table(const cJSON *root, const char *path, cnnk_tune_table *t,
                              cnnk_error *err) {
    if (!cJSON_IsObject(root)) return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: not a JSON object", path);
    cnnk_status s = read_cpu(root, path, &t->cpu, err);
    if (s == CNNK_OK) s = check_cpu(&t->cpu, path, err);
    if (s != CNNK_OK) return s;
    const cJSON *layers = field(root, "layers");
    if (!cJSON_IsArray(layers)) return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: no \"layers\" array", path);
    const int n = cJSON_GetArraySize(layers);
    t->e = calloc((size_t)(n > 0 ? n : 1), sizeof *t->e);
    if (!t->e) return cnnk_fail(err, CNNK_ENOMEM, "tuned plan %s: out of memory", path);
    t->cap = n;
    const cJSON *o;
    cJSON_ArrayForEach(o, layers) {
        if (read_entry(o, t->n, t, path, &t->e[t->n], err) != CNNK_OK) return CNNK_EINVAL;
        t->n++;
    }
    return CNNK_OK;
}

cnnk_status cnnk_tune_read(const char *path, cnnk_tune_table **out, cnnk_error *err) {
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    cnnk_status s = slurp(path, &text, &len, err);
    if (s != CNNK_OK) return s;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, true); /* + its NUL */
    if (!root) {
        const long at = end ? (long)(end - text) : -1;
        free(text);
        return cnnk_fail(err, CNNK_EPARSE, "tuned plan %s: not valid JSON (at byte %ld)", path, at);
    }
    free(text);
    cnnk_tune_table *t = calloc(1, sizeof *t);
    s = t ? read_table(root, path, t, err) : cnnk_fail(err, CNNK_ENOMEM, "tuned plan: out of memory");
    cJSON_Delete(root);
    if (s != CNNK_OK) {
        cnnk_tune_free(t);
        return s;
    }
    *out = t;
    return CNNK_OK;
}
