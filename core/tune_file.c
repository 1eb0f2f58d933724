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

/* The file's layout; a file without it, or another, is refused (tune again). */
#define FORMAT 2

void cnnk_tune_this_cpu(cnnk_isa isa, int nthreads, cnnk_tune_cpu *cpu) {
    const cnnk_cpu_info *c = cnnk_cpu();
    memset(cpu, 0, sizeof *cpu);
    snprintf(cpu->vendor, sizeof cpu->vendor, "%s", c->vendor);
    snprintf(cpu->model, sizeof cpu->model, "%s", c->model);
    for (int i = 0; i < CNNK_ISA_COUNT; ++i) cpu->runs[i] = cnnk_isa_available((cnnk_isa)i);
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
    free(t->over);
    free(t);
}

const cnnk_conv_kernel *cnnk_tune_lookup(const cnnk_tune_table *t, const char *net,
                                         const cnnk_conv_desc *d) {
    char key[CNNK_TUNE_KEY_LEN];
    cnnk_tune_key(d, key, sizeof key);
    for (int i = 0; net && i < t->nover; ++i)
        if (strcmp(t->over[i].net, net) == 0 && strcmp(t->over[i].shape, key) == 0)
            return t->over[i].kernel;
    for (int i = 0; i < t->n; ++i)
        if (strcmp(t->e[i].shape, key) == 0) return t->e[i].kernel;
    return NULL;
}

cnnk_tune_table *cnnk_tune_copy(const cnnk_tune_table *t) {
    cnnk_tune_table *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    *c = *t;
    c->e = malloc((size_t)(t->n > 0 ? t->n : 1) * sizeof *c->e);
    c->over = malloc((size_t)(t->nover > 0 ? t->nover : 1) * sizeof *c->over);
    if (!c->e || !c->over) {
        free(c->e), free(c->over), free(c);
        return NULL;
    }
    if (t->n) memcpy(c->e, t->e, (size_t)t->n * sizeof *c->e);
    if (t->nover) memcpy(c->over, t->over, (size_t)t->nover * sizeof *c->over);
    c->cap = t->n > 0 ? t->n : 1, c->cap_over = t->nover > 0 ? t->nover : 1;
    return c;
}

cnnk_status cnnk_tune_set_override(cnnk_tune_table *t, const char *net, const char *shape,
                                   const cnnk_conv_kernel *k, cnnk_error *err) {
    if (strlen(net) >= sizeof t->over[0].net || strlen(shape) >= sizeof t->over[0].shape)
        return cnnk_fail(err, CNNK_EINVAL, "tune: network '%s' or shape too long", net);
    for (int i = 0; i < t->nover; ++i)
        if (strcmp(t->over[i].net, net) == 0 && strcmp(t->over[i].shape, shape) == 0)
            return t->over[i].kernel = k, CNNK_OK;
    if (t->nover == t->cap_over) {
        const int cap = t->cap_over ? 2 * t->cap_over : 8;
        cnnk_tune_override *v = realloc(t->over, (size_t)cap * sizeof *v);
        if (!v) return cnnk_fail(err, CNNK_ENOMEM, "tune: out of memory");
        t->over = v, t->cap_over = cap;
    }
    cnnk_tune_override *o = &t->over[t->nover++];
    snprintf(o->net, sizeof o->net, "%s", net);
    snprintf(o->shape, sizeof o->shape, "%s", shape);
    o->kernel = k;
    return CNNK_OK;
}

static const char *const g_verdicts[CNNK_TUNE_VERDICT_COUNT] = {"only", "separated", "tie"};

/* ---- write ------------------------------------------------------------- */

/* Tenths of a microsecond: finer digits are noise on a shared machine. */
static double round_ms(double ms) {
    return round(ms * 1e4) / 1e4;
}

static cJSON *cpu_json(const cnnk_tune_cpu *c) {
    cJSON *o = cJSON_CreateObject(), *flags = cJSON_CreateArray();
    if (!o || !flags) {
        cJSON_Delete(o), cJSON_Delete(flags);
        return NULL;
    }
    cJSON_AddStringToObject(o, "vendor", c->vendor);
    cJSON_AddStringToObject(o, "model", c->model);
    cJSON_AddStringToObject(o, "isa", cnnk_isa_name(c->isa));
    for (int i = 0; i < CNNK_ISA_COUNT; ++i)
        if (c->runs[i]) cJSON_AddItemToArray(flags, cJSON_CreateString(cnnk_isa_name((cnnk_isa)i)));
    cJSON_AddItemToObject(o, "flags", flags);
    cJSON_AddNumberToObject(o, "l1d", (double)c->l1d);
    cJSON_AddNumberToObject(o, "l2", (double)c->l2);
    cJSON_AddNumberToObject(o, "l3", (double)c->l3);
    return o;
}

static cJSON *run_json(const cnnk_tune_cpu *c) {
    cJSON *o = cJSON_CreateObject(), *in = cJSON_CreateArray();
    if (!o || !in) {
        cJSON_Delete(o), cJSON_Delete(in);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "threads", c->threads);
    cJSON_AddNumberToObject(o, "batch", (double)c->mb);
    cJSON_AddItemToArray(in, cJSON_CreateNumber((double)c->h));
    cJSON_AddItemToArray(in, cJSON_CreateNumber((double)c->w));
    cJSON_AddItemToObject(o, "input", in);
    return o;
}

static cJSON *networks_json(const cnnk_tune_table *t) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < t->nover; ++i) {
        cJSON *net = cJSON_GetObjectItemCaseSensitive(o, t->over[i].net);
        if (!net) net = cJSON_AddObjectToObject(o, t->over[i].net);
        if (!net || !cJSON_AddStringToObject(net, t->over[i].shape, t->over[i].kernel->name)) {
            cJSON_Delete(o);
            return NULL;
        }
    }
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
    cJSON_AddStringToObject(o, "verdict", g_verdicts[e->verdict]);
    for (int i = 0; i < e->ncand; ++i)
        cJSON_AddNumberToObject(cand, e->cand[i]->name, round_ms(e->cand_ms[i]));
    cJSON_AddItemToObject(o, "candidates", cand);
    if (e->verdict == CNNK_TUNE_TIE) {
        cJSON *tied = cJSON_AddArrayToObject(o, "tied");
        for (int i = 0; tied && i < e->ncand; ++i)
            if (e->cand_tied[i]) cJSON_AddItemToArray(tied, cJSON_CreateString(e->cand[i]->name));
    }
    return o;
}

static char *table_text(const cnnk_tune_table *t) {
    cJSON *root = cJSON_CreateObject(), *layers = cJSON_CreateArray();
    cJSON *cpu = cpu_json(&t->cpu), *run = run_json(&t->cpu), *nets = networks_json(t);
    char *text = NULL;
    if (root && layers && cpu && run && nets) {
        cJSON_AddNumberToObject(root, "format", FORMAT);
        cJSON_AddItemToObject(root, "cpu", cpu);
        cJSON_AddItemToObject(root, "run", run);
        cJSON_AddItemToObject(root, "layers", layers);
        cJSON_AddItemToObject(root, "networks", nets);
        cJSON *lay = layers;
        cpu = layers = run = nets = NULL; /* root owns them now */
        bool ok = true;
        for (int i = 0; i < t->n && ok; ++i) {
            cJSON *e = entry_json(&t->e[i]);
            ok = e && cJSON_AddItemToArray(lay, e);
        }
        if (ok) text = cJSON_Print(root);
    }
    cJSON_Delete(root), cJSON_Delete(layers), cJSON_Delete(cpu), cJSON_Delete(run), cJSON_Delete(nets);
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

static cnnk_status read_string(const cJSON *o, const char *name, const char *path, char *out,
                               size_t len, cnnk_error *err) {
    const cJSON *v = field(o, name);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= len)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: cpu.%s is not a string (under %zu bytes)",
                         path, name, len);
    snprintf(out, len, "%s", v->valuestring);
    return CNNK_OK;
}

static cnnk_status read_flags(const cJSON *o, const char *path, bool *runs, cnnk_error *err) {
    const cJSON *flags = field(o, "flags"), *f;
    if (!cJSON_IsArray(flags))
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: cpu.flags is not an array of ISA names", path);
    memset(runs, 0, CNNK_ISA_COUNT * sizeof *runs);
    cJSON_ArrayForEach(f, flags) {
        cnnk_isa isa;
        if (!cJSON_IsString(f) || !cnnk_isa_from_name(f->valuestring, &isa))
            return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: cpu.flags holds something not an ISA name",
                             path);
        runs[isa] = true;
    }
    return CNNK_OK;
}

static cnnk_status read_cpu(const cJSON *root, const char *path, cnnk_tune_cpu *c,
                            cnnk_error *err) {
    const cJSON *format = field(root, "format");
    if (!cJSON_IsNumber(format) || format->valuedouble != FORMAT)
        return cnnk_fail(err, CNNK_EINVAL,
                         "tuned plan %s: \"format\" is not %d (a file of an older cnnk tune: tune again)",
                         path, FORMAT);
    const cJSON *o = field(root, "cpu");
    if (!cJSON_IsObject(o)) return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: no \"cpu\" object", path);
    CNNK_TRY(read_string(o, "vendor", path, c->vendor, sizeof c->vendor, err));
    CNNK_TRY(read_string(o, "model", path, c->model, sizeof c->model, err));
    const cJSON *isa = field(o, "isa");
    if (!cJSON_IsString(isa) || !cnnk_isa_from_name(isa->valuestring, &c->isa))
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: cpu.isa is not an ISA name", path);
    CNNK_TRY(read_flags(o, path, c->runs, err));
    static const char *const sizes[] = {"l1d", "l2", "l3"};
    int64_t v[3];
    for (int i = 0; i < 3; ++i)
        if (!whole(field(o, sizes[i]), &v[i]))
            return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: cpu.%s is not a whole number >= 0",
                             path, sizes[i]);
    c->l1d = v[0], c->l2 = v[1], c->l3 = v[2];
    return CNNK_OK;
}

/* threads, batch and input size: a record of the tuning run. */
static cnnk_status read_run(const cJSON *root, const char *path, cnnk_tune_cpu *c,
                            cnnk_error *err) {
    const cJSON *o = field(root, "run");
    if (!cJSON_IsObject(o)) return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: no \"run\" object", path);
    int64_t threads, mb, h, w;
    if (!whole(field(o, "threads"), &threads) || threads < 1 || threads > 1 << 20)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: run.threads is not 1..%d", path, 1 << 20);
    if (!whole(field(o, "batch"), &mb) || mb < 1 || mb > 1 << 20)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: run.batch is not 1..%d", path, 1 << 20);
    const cJSON *in = field(o, "input");
    if (!cJSON_IsArray(in) || cJSON_GetArraySize(in) != 2 || !whole(cJSON_GetArrayItem(in, 0), &h) ||
        !whole(cJSON_GetArrayItem(in, 1), &w) || h < 1 || w < 1 || h > 1 << 20 || w > 1 << 20)
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: run.input is not [H, W], each 1..%d", path,
                         1 << 20);
    c->threads = (int)threads, c->mb = mb, c->h = h, c->w = w;
    return CNNK_OK;
}

static size_t append(char *buf, size_t len, size_t used, const char *what, const char *file,
                     const char *here) {
    if (used >= len) return used;
    const int n = snprintf(buf + used, len - used, "%s%s '%s' here '%s'", used ? "; " : "", what, file,
                           here);
    return n > 0 ? used + (size_t)n : used;
}

static void flags_text(const bool *runs, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < CNNK_ISA_COUNT && used < len; ++i)
        if (runs[i]) {
            const int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", cnnk_isa_name((cnnk_isa)i));
            used += n > 0 ? (size_t)n : 0;
        }
}

void cnnk_tune_cpu_diff(const cnnk_tune_cpu *c, char *buf, size_t len) {
    cnnk_tune_cpu here;
    cnnk_tune_this_cpu(c->isa, c->threads, &here);
    size_t used = 0;
    buf[0] = '\0';
    if (strcmp(here.vendor, c->vendor) != 0) used = append(buf, len, used, "vendor", c->vendor, here.vendor);
    if (strcmp(here.model, c->model) != 0) used = append(buf, len, used, "model", c->model, here.model);
    if (memcmp(here.runs, c->runs, sizeof here.runs) != 0) {
        char a[64], b[64];
        flags_text(c->runs, a, sizeof a), flags_text(here.runs, b, sizeof b);
        used = append(buf, len, used, "ISA flags", a, b);
    }
    const int64_t fs[3] = {c->l1d, c->l2, c->l3}, hs[3] = {here.l1d, here.l2, here.l3};
    static const char *const names[3] = {"L1d bytes", "L2 bytes", "L3 bytes"};
    for (int i = 0; i < 3; ++i)
        if (fs[i] != hs[i]) {
            char a[32], b[32];
            snprintf(a, sizeof a, "%lld", (long long)fs[i]), snprintf(b, sizeof b, "%lld", (long long)hs[i]);
            used = append(buf, len, used, names[i], a, b);
        }
}

/* One file per CPU: a table measured elsewhere would pick kernels for
 * caches this machine does not have, so it is refused unless forced; even
 * forced, its ISA must be one this CPU runs. */
static cnnk_status check_cpu(const cnnk_tune_cpu *c, const char *path, bool force, cnnk_error *err) {
    char diff[768];
    cnnk_tune_cpu_diff(c, diff, sizeof diff);
    if (diff[0] && !force)
        return cnnk_fail(err, CNNK_EINVAL,
                         "tuned plan %s was measured on another CPU (%s): tune here (cnnk tune), pick "
                         "this CPU's file, or force it (--force, or the plan tuned-force:FILE)",
                         path, diff);
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
    if (!cnnk_tune_isa_under(isa, (*k)->isa) || !cnnk_isa_available((*k)->isa))
        return cnnk_fail(err, CNNK_EINVAL,
                         "tuned plan %s: %s: kernel %s is not of ISA %s or one under it that this CPU runs",
                         path, what, (*k)->name, cnnk_isa_name(isa));
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

static cnnk_status read_verdict(const cJSON *v, const char *path, const char *what,
                               cnnk_tune_entry *e, cnnk_error *err) {
    e->verdict = CNNK_TUNE_SEPARATED;
    if (!v) return CNNK_OK;
    for (int i = 0; cJSON_IsString(v) && i < CNNK_TUNE_VERDICT_COUNT; ++i)
        if (strcmp(v->valuestring, g_verdicts[i]) == 0) return e->verdict = (cnnk_tune_verdict)i, CNNK_OK;
    return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s.verdict is not one of only, separated, tie",
                     path, what);
}

/* The candidates still tied at the end: each one of candidates. */
static cnnk_status read_tied(const cJSON *v, const char *path, const char *what, cnnk_tune_entry *e,
                             cnnk_error *err) {
    if (!v) return CNNK_OK;
    if (!cJSON_IsArray(v))
        return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s.tied is not an array", path, what);
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        int c = 0;
        while (c < e->ncand && !(cJSON_IsString(x) && strcmp(e->cand[c]->name, x->valuestring) == 0)) ++c;
        if (c == e->ncand)
            return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s.tied names a kernel not in candidates",
                             path, what);
        e->cand_tied[c] = true;
    }
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
    CNNK_TRY(read_verdict(field(o, "verdict"), path, what, e, err));
    CNNK_TRY(read_candidates(field(o, "candidates"), t->cpu.isa, path, what, e, err));
    return read_tied(field(o, "tied"), path, what, e, err);
}

/* "networks": {"<net>": {"<shape>": "<kernel>", ...}, ...} */
static cnnk_status read_networks(const cJSON *o, const char *path, cnnk_tune_table *t,
                                 cnnk_error *err) {
    if (!o) return CNNK_OK;
    if (!cJSON_IsObject(o)) return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: networks is not an object", path);
    const cJSON *net, *x;
    cJSON_ArrayForEach(net, o) {
        if (!net->string[0] || strlen(net->string) >= sizeof t->over[0].net || !cJSON_IsObject(net))
            return cnnk_fail(err, CNNK_EINVAL,
                             "tuned plan %s: networks.%.40s is not a network name (under %zu bytes) "
                             "with an object of shape: kernel", path, net->string, sizeof t->over[0].net);
        cJSON_ArrayForEach(x, net) {
            char what[96];
            snprintf(what, sizeof what, "networks.%s", net->string);
            cnnk_conv_desc conv;
            const cnnk_conv_kernel *k;
            if (strlen(x->string) >= CNNK_TUNE_KEY_LEN)
                return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s: a shape over %d bytes", path,
                                 what, CNNK_TUNE_KEY_LEN - 1);
            CNNK_TRY(canonical_shape(x->string, path, what, &conv, err));
            CNNK_TRY(known_kernel(x, t->cpu.isa, path, what, &k, err));
            if (!k->applies(&conv))
                return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s: kernel %s does not apply to shape %s",
                                 path, what, k->name, x->string);
            for (int i = 0; i < t->nover; ++i)
                if (strcmp(t->over[i].net, net->string) == 0 && strcmp(t->over[i].shape, x->string) == 0)
                    return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: %s: shape %s is listed twice",
                                     path, what, x->string);
            CNNK_TRY(cnnk_tune_set_override(t, net->string, x->string, k, err));
        }
    }
    return CNNK_OK;
}

static cnnk_status read_table(const cJSON *root, const char *path, bool force, cnnk_tune_table *t,
                              cnnk_error *err) {
    if (!cJSON_IsObject(root)) return cnnk_fail(err, CNNK_EINVAL, "tuned plan %s: not a JSON object", path);
    cnnk_status s = read_cpu(root, path, &t->cpu, err);
    if (s == CNNK_OK) s = read_run(root, path, &t->cpu, err);
    if (s == CNNK_OK) s = check_cpu(&t->cpu, path, force, err);
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
    return read_networks(field(root, "networks"), path, t, err);
}

cnnk_status cnnk_tune_read(const char *path, bool force, cnnk_tune_table **out, cnnk_error *err) {
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
    s = t ? read_table(root, path, force, t, err) : cnnk_fail(err, CNNK_ENOMEM, "tuned plan: out of memory");
    cJSON_Delete(root);
    if (s != CNNK_OK) {
        cnnk_tune_free(t);
        return s;
    }
    *out = t;
    return CNNK_OK;
}
