/* cnnk tune and the tuned:<file> plan: a real tuning of ResNet-18 at 32x32
 * written, read back and run against the reference plan; tables that
 * leave shapes out or name a kernel that does not apply fall back with
 * notes; every malformed file is refused with the right status and a
 * message naming the file. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnnk/cpu.h"
#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "cnnk/tune.h"
#include "tests/check.h"
#include "validate/check.h"
#include "validate/net_check.h"

#define NET "resnet18"
#define SIZE 32

typedef struct tmpdir {
    char dir[64];
    char paths[32][128];
    int n;
} tmpdir;

static const char *tmp_path(tmpdir *t, const char *name) {
    char *p = t->paths[t->n++], dir[sizeof t->dir];
    memcpy(dir, t->dir, sizeof dir); /* gcc cannot tell dir from paths in one struct */
    snprintf(p, sizeof t->paths[0], "%s/%s", dir, name);
    return p;
}

static void tmp_cleanup(tmpdir *t) {
    for (int i = 0; i < t->n; ++i) unlink(t->paths[i]);
    rmdir(t->dir);
}

static bool write_text(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    const bool ok = fwrite(text, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static cnnk_isa tune_isa(void) {
    return cnnk_best_isa();
}

/* ---- tuning, writing, reading back ---------------------------------------- */

static cnnk_tune_table *tune_resnet18(void) {
    const char *nets[] = {NET};
    const cnnk_tune_opts o = {.nets = nets, .nnets = 1, .isa = tune_isa(), .mb = 1, .h = SIZE,
                              .w = SIZE, .nthreads = 1, .reps = 1, .log = NULL};
    cnnk_tune_table *t = NULL;
    cnnk_error err;
    const cnnk_status s = cnnk_tune_run(&o, &t, &err);
    CHECK(s == CNNK_OK);
    if (s != CNNK_OK) fprintf(stderr, "tune: %s\n", err.msg);
    return t;
}

/* Each entry keeps its fastest candidate, of the tuned ISA, applicable. */
static void check_table(const cnnk_tune_table *t) {
    CHECK(t->n >= 8); /* ResNet-18 has 11 distinct conv shapes at 32x32 */
    CHECK(t->cpu.isa == tune_isa());
    CHECK(strcmp(t->cpu.model, cnnk_cpu()->model) == 0);
    for (int i = 0; i < t->n; ++i) {
        const cnnk_tune_entry *e = &t->e[i];
        CHECK(e->kernel && e->kernel->isa == tune_isa());
        CHECK(e->ncand >= 1);
        bool listed = false;
        for (int c = 0; c < e->ncand; ++c) {
            CHECK(e->ms <= e->cand_ms[c]);
            CHECK(e->cand[c]->isa == tune_isa());
            listed |= e->cand[c] == e->kernel;
        }
        CHECK(listed);
        for (int j = 0; j < i; ++j) CHECK(strcmp(t->e[j].shape, e->shape) != 0);
    }
}

static void check_round_trip(const cnnk_tune_table *t, const char *path) {
    cnnk_error err;
    CHECK(cnnk_tune_write(t, path, &err) == CNNK_OK);
    cnnk_tune_table *back = NULL;
    const cnnk_status s = cnnk_tune_read(path, &back, &err);
    CHECK(s == CNNK_OK);
    if (s != CNNK_OK) {
        fprintf(stderr, "read back: %s\n", err.msg);
        return;
    }
    CHECK_EQ_I64(back->n, t->n);
    for (int i = 0; i < t->n && i < back->n; ++i) {
        CHECK(strcmp(back->e[i].shape, t->e[i].shape) == 0);
        CHECK(back->e[i].kernel == t->e[i].kernel);
        CHECK_EQ_I64(back->e[i].ncand, t->e[i].ncand);
        CHECK_NEAR(back->e[i].ms, t->e[i].ms, 1e-3);
    }
    cnnk_tune_free(back);
}

/* ---- running the plan ---------------------------------------------------------- */

typedef struct net_case {
    cnnk_net *net;
    float *in, *want, *got;
    int64_t nout;
} net_case;

static bool net_case_init(net_case *c) {
    cnnk_error err;
    memset(c, 0, sizeof *c);
    if (cnnk_net_build(NET, 1, SIZE, SIZE, &c->net, &err) != CNNK_OK ||
        cnnk_net_init_weights(c->net, 7, &err) != CNNK_OK) {
        fprintf(stderr, "net: %s\n", err.msg);
        return false;
    }
    const int64_t nin = SIZE * SIZE * 3;
    c->in = malloc((size_t)nin * sizeof *c->in);
    cnnk_fill_tensor(c->in, nin, CNNK_FILL_FLOAT, 1, 7);
    const cnnk_plan ref = {.kind = CNNK_PLAN_REF};
    cnnk_runner *r;
    if (cnnk_runner_prepare(c->net, CNNK_ISA_REF, &ref, 1, &r, &err) != CNNK_OK) return false;
    c->nout = cnnk_runner_output_elems(r);
    c->want = malloc((size_t)c->nout * sizeof *c->want);
    c->got = malloc((size_t)c->nout * sizeof *c->got);
    cnnk_runner_forward(r, c->in, c->want, false);
    cnnk_runner_destroy(r);
    return true;
}

static void net_case_free(net_case *c) {
    free(c->in), free(c->want), free(c->got);
    cnnk_net_destroy(c->net);
}

static double rel_l2(const float *a, const float *b, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; ++i) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static int inaccuracy(cnnk_algo a) {
    return a == CNNK_ALGO_WINOGRAD_F6 ? 3 : a == CNNK_ALGO_WINOGRAD_F4 ? 2 : a == CNNK_ALGO_WINOGRAD_F2;
}

/* The step of conv node `name`. */
static const cnnk_step_info *step_of(const cnnk_runner *r, const char *name) {
    for (int i = 0; i < cnnk_runner_step_count(r); ++i)
        if (strcmp(cnnk_runner_step(r, i)->layer, name) == 0) return cnnk_runner_step(r, i);
    return NULL;
}

/* Runs plan `spec`; every conv layer whose shape is in `t` must run the
 * table's kernel with no note, every other one must say why; the logits
 * must match the reference within the bound of the least accurate
 * algorithm used. Returns the number of conv layers with a note. */
static int run_tuned(net_case *c, const char *spec, const cnnk_tune_table *t) {
    cnnk_plan plan;
    cnnk_error err;
    cnnk_status s = cnnk_plan_parse(spec, &plan, &err);
    CHECK(s == CNNK_OK);
    if (s != CNNK_OK) return fprintf(stderr, "%s: %s\n", spec, err.msg), -1;
    CHECK(plan.kind == CNNK_PLAN_TUNED);
    char back[1100];
    cnnk_plan_format(&plan, back, sizeof back);
    CHECK(strcmp(back, spec) == 0);
    cnnk_runner *r;
    s = cnnk_runner_prepare(c->net, tune_isa(), &plan, 1, &r, &err);
    CHECK(s == CNNK_OK);
    if (s != CNNK_OK) return fprintf(stderr, "%s: %s\n", spec, err.msg), -1;
    int noted = 0;
    cnnk_algo worst = CNNK_ALGO_DIRECT;
    for (int i = 1; i < c->net->n; ++i) {
        const cnnk_node *n = &c->net->nodes[i];
        if (n->op != CNNK_NODE_CONV) continue;
        const cnnk_step_info *st = step_of(r, n->name);
        CHECK(st != NULL);
        if (!st) continue;
        const cnnk_conv_kernel *want = cnnk_tune_lookup(t, &n->desc.u.conv);
        const cnnk_conv_kernel *ran = cnnk_conv_kernel_find(st->kernel);
        CHECK(ran != NULL);
        if (ran && inaccuracy(ran->algo) > inaccuracy(worst)) worst = ran->algo;
        if (want && want->applies(&n->desc.u.conv)) {
            CHECK(ran == want);
            CHECK(st->note[0] == '\0');
        } else {
            ++noted;
            CHECK(strncmp(st->note, want ? "fallback: tuned " : "not tuned: heuristic", 16) == 0);
        }
    }
    cnnk_runner_forward(r, c->in, c->got, false);
    const double e = rel_l2(c->got, c->want, c->nout);
    CHECK(e <= cnnk_net_tolerance(worst));
    if (!(e <= cnnk_net_tolerance(worst))) fprintf(stderr, "%s: rel_l2 %g\n", spec, e);
    cnnk_runner_destroy(r);
    return noted;
}

/* A table with its last entries dropped: those layers fall back to the
 * heuristic and say so. One entry pointed at a kernel that does not apply
 * to its shape (a stride-2 3x3 given Winograd) is a file cnnk tune never
 * writes: refused when read (issue 16), not silently replaced. */
static void check_partial_tables(net_case *c, cnnk_tune_table *t, tmpdir *td) {
    const int n = t->n;
    int strided = -1;
    for (int i = 0; i < t->n && strided < 0; ++i)
        if (strstr(t->e[i].shape, "kh3kw3sh2sw2")) strided = i;
    const cnnk_conv_kernel *wino = NULL;
    for (size_t i = 0; i < cnnk_conv_kernel_count(); ++i) {
        const cnnk_conv_kernel *k = cnnk_conv_kernel_at(i);
        if (k->isa == tune_isa() && k->algo == CNNK_ALGO_WINOGRAD_F4) wino = k;
    }
    CHECK(strided >= 0 && strided < n - 2 && wino);
    if (strided < 0 || strided >= n - 2 || !wino) return;
    t->n = n - 2;
    const char *path = tmp_path(td, "partial.json");
    cnnk_error err;
    CHECK(cnnk_tune_write(t, path, &err) == CNNK_OK);
    char spec[200];
    snprintf(spec, sizeof spec, "tuned:%s", path);
    CHECK(run_tuned(c, spec, t) >= 1); /* >= 1 untuned layer */
    const cnnk_conv_kernel *saved = t->e[strided].kernel;
    t->e[strided].kernel = wino;
    path = tmp_path(td, "not_applying.json");
    CHECK(cnnk_tune_write(t, path, &err) == CNNK_OK);
    cnnk_tune_table *back = NULL;
    CHECK(cnnk_tune_read(path, &back, &err) == CNNK_EINVAL);
    CHECK(back == NULL && strstr(err.msg, "does not apply") != NULL);
    cnnk_tune_free(back);
    t->e[strided].kernel = saved;
    t->n = n;
}

/* ---- malformed files ------------------------------------------------------------ */

/* The "cpu" member of a table for this machine, with one field replaced
 * where model / isa / l1d is not NULL. */
static void cpu_json(char *buf, size_t len, const char *model, const char *isa, const char *l1d) {
    const cnnk_cpu_info *cpu = cnnk_cpu();
    char here[32];
    snprintf(here, sizeof here, "%lld", (long long)cpu->l1d);
    snprintf(buf, len,
             "\"cpu\": {\"model\": \"%s\", \"isa\": \"%s\", \"l1d\": %s, \"l2\": %lld, "
             "\"l3\": %lld, \"threads\": 1}",
             model ? model : cpu->model, isa ? isa : cnnk_isa_name(tune_isa()), l1d ? l1d : here,
             (long long)cpu->l2, (long long)cpu->l3);
}

static void expect_refused(tmpdir *td, const char *name, const char *text, size_t len,
                           cnnk_status want, const char *needle) {
    const char *path = tmp_path(td, name);
    CHECK(write_text(path, text, len));
    cnnk_tune_table *t = (cnnk_tune_table *)1;
    cnnk_error err = {{0}};
    const cnnk_status s = cnnk_tune_read(path, &t, &err);
    CHECK(s == want);
    CHECK(t == NULL);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK(strstr(err.msg, needle) != NULL);
    if (s != want || !strstr(err.msg, needle))
        fprintf(stderr, "%s: status %s, message '%s'\n", name, cnnk_status_str(s), err.msg);
    /* The plan refuses it the same way, and leaves no table behind. */
    char spec[200];
    cnnk_plan p;
    snprintf(spec, sizeof spec, "tuned:%s", path);
    CHECK(cnnk_plan_parse(spec, &p, &err) == want);
}

static const char *other_isa_kernel(void) {
    for (size_t i = 0; i < cnnk_conv_kernel_count(); ++i)
        if (cnnk_conv_kernel_at(i)->isa != tune_isa()) return cnnk_conv_kernel_at(i)->name;
    return NULL;
}

/* A shape as cnnk tune writes it; the malformed files below differ from a
 * good one in one place. */
#define GOOD_SHAPE "g1mb1ic3ih8iw8oc4oh8ow8kh3kw3sh1sw1ph1pw1"

static void check_malformed(tmpdir *td, const char *good_path) {
    char cpu[512], text[2048], kernel[64];
    cnnk_error err;
    cnnk_tune_table *t = NULL;
    CHECK(cnnk_tune_read(tmp_path(td, "absent.json"), &t, &err) == CNNK_EIO);
    CHECK(strstr(err.msg, "absent.json") != NULL);

    const char garbage[] = "\x7f" "ELF\x02\x01\x01\x00\xff\xfe garbage";
    expect_refused(td, "garbage.json", garbage, sizeof garbage - 1, CNNK_EPARSE, "not valid JSON");
    expect_refused(td, "empty.json", "", 0, CNNK_EPARSE, "not valid JSON");
    /* The good file cut in half. */
    FILE *f = fopen(good_path, "rb");
    char whole[8192];
    const size_t n = f ? fread(whole, 1, sizeof whole, f) : 0;
    if (f) fclose(f);
    CHECK(n > 100);
    expect_refused(td, "truncated.json", whole, n / 2, CNNK_EPARSE, "not valid JSON");
    expect_refused(td, "nul.json", "{}\0{}", 5, CNNK_EPARSE, "NUL");

    snprintf(kernel, sizeof kernel, "%s/direct", cnnk_isa_name(tune_isa()));
    const char *layer = "{\"shape\": \"" GOOD_SHAPE "\", \"kernel\": \"%s\"}";
    char one[256];
    snprintf(one, sizeof one, layer, kernel);

    cpu_json(cpu, sizeof cpu, NULL, NULL, NULL);
    snprintf(text, sizeof text, "{%s, \"layers\": [%s]}", cpu, one);
    expect_refused(td, "nocpu.json", "{\"layers\": []}", 14, CNNK_EINVAL, "\"cpu\"");
    expect_refused(td, "array.json", "[1, 2]", 6, CNNK_EINVAL, "not a JSON object");
    {   /* The well-formed minimal table is accepted: the cases below differ from it in one place. */
        const char *p = tmp_path(td, "minimal.json");
        CHECK(write_text(p, text, strlen(text)));
        CHECK(cnnk_tune_read(p, &t, &err) == CNNK_OK);
        if (t) CHECK_EQ_I64(t->n, 1);
        cnnk_tune_free(t);
    }
    snprintf(text, sizeof text, "{%s, \"layers\": {}}", cpu);
    expect_refused(td, "layers_type.json", text, strlen(text), CNNK_EINVAL, "\"layers\" array");
    snprintf(text, sizeof text, "{%s}", cpu);
    expect_refused(td, "nolayers.json", text, strlen(text), CNNK_EINVAL, "\"layers\" array");
    snprintf(text, sizeof text, "{%s, \"layers\": [{\"shape\": \"" GOOD_SHAPE "\", \"kernel\": 5}]}", cpu);
    expect_refused(td, "kernel_type.json", text, strlen(text), CNNK_EINVAL, "layers[0].kernel");
    snprintf(text, sizeof text, "{%s, \"layers\": [{\"kernel\": \"%s\"}]}", cpu, kernel);
    expect_refused(td, "noshape.json", text, strlen(text), CNNK_EINVAL, "layers[0].shape");
    snprintf(text, sizeof text, "{%s, \"layers\": [%s, %s]}", cpu, one, one);
    expect_refused(td, "dup.json", text, strlen(text), CNNK_EINVAL, "listed twice");
    snprintf(text, sizeof text, "{%s, \"layers\": [{\"shape\": \"" GOOD_SHAPE "\", \"kernel\": \"%s\", \"ms\": \"fast\"}]}",
             cpu, kernel);
    expect_refused(td, "ms_type.json", text, strlen(text), CNNK_EINVAL, "layers[0].ms");
    snprintf(text, sizeof text, "{%s, \"layers\": [{\"shape\": \"" GOOD_SHAPE "\", \"kernel\": \"avx2/fft\"}]}", cpu);
    expect_refused(td, "unknown.json", text, strlen(text), CNNK_EINVAL, "unknown kernel 'avx2/fft'");
    snprintf(text, sizeof text,
             "{%s, \"layers\": [{\"shape\": \"" GOOD_SHAPE "\", \"kernel\": \"%s\", \"candidates\": {\"nope/x\": 1}}]}",
             cpu, kernel);
    expect_refused(td, "cand.json", text, strlen(text), CNNK_EINVAL, "unknown kernel 'nope/x'");
    const char *other = other_isa_kernel();
    if (other) {
        snprintf(text, sizeof text, "{%s, \"layers\": [{\"shape\": \"" GOOD_SHAPE "\", \"kernel\": \"%s\"}]}", cpu, other);
        expect_refused(td, "other_isa.json", text, strlen(text), CNNK_EINVAL, "is not an");
    }
    /* Shapes that a lookup would never match, and times that are not
     * times: refused, not silently unused (docs/TUNING.md). */
    static const struct { const char *file, *shape, *needle; } shapes[] = {
        {"shape_garbage.json", "garbage", "layers[0].shape 'garbage'"},
        {"shape_named.json", GOOD_SHAPE "n\\\"conv1\\\"", "not as cnnk tune writes it"},
        {"shape_spelling.json", "mb1ic3ih8oc4kh3ph1", "('" GOOD_SHAPE "')"},
        {"shape_impossible.json", "g1mb1ic0ih8iw8oc4oh8ow8kh3kw3sh1sw1ph1pw1", "layers[0].shape"},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i) {
        snprintf(text, sizeof text, "{%s, \"layers\": [{\"shape\": \"%s\", \"kernel\": \"%s\"}]}",
                 cpu, shapes[i].shape, kernel);
        expect_refused(td, shapes[i].file, text, strlen(text), CNNK_EINVAL, shapes[i].needle);
    }
    snprintf(text, sizeof text,
             "{%s, \"layers\": [{\"shape\": \"" GOOD_SHAPE "\", \"kernel\": \"%s\", \"ms\": -1}]}", cpu,
             kernel);
    expect_refused(td, "ms_negative.json", text, strlen(text), CNNK_EINVAL, "layers[0].ms is not a time");
    snprintf(text, sizeof text,
             "{%s, \"layers\": [{\"shape\": \"" GOOD_SHAPE "\", \"kernel\": \"%s\", "
             "\"candidates\": {\"%s\": -0.5}}]}",
             cpu, kernel, kernel);
    expect_refused(td, "cand_negative.json", text, strlen(text), CNNK_EINVAL, "is not a time");
    {   /* A kernel that does not apply to its shape (Winograd on a 5x5). */
        char wino[64];
        snprintf(wino, sizeof wino, "%s/winograd_f2x2", cnnk_isa_name(tune_isa()));
        snprintf(text, sizeof text,
                 "{%s, \"layers\": [{\"shape\": \"g1mb1ic3ih8iw8oc4oh8ow8kh5kw5sh1sw1ph2pw2\", "
                 "\"kernel\": \"%s\"}]}",
                 cpu, wino);
        if (cnnk_conv_kernel_find(wino))
            expect_refused(td, "not_applicable.json", text, strlen(text), CNNK_EINVAL, "does not apply");
    }
    cpu_json(cpu, sizeof cpu, NULL, NULL, "\"big\"");
    snprintf(text, sizeof text, "{%s, \"layers\": [%s]}", cpu, one);
    expect_refused(td, "l1d_type.json", text, strlen(text), CNNK_EINVAL, "cpu.l1d");
    cpu_json(cpu, sizeof cpu, NULL, "sse9", NULL);
    snprintf(text, sizeof text, "{%s, \"layers\": [%s]}", cpu, one);
    expect_refused(td, "isa_name.json", text, strlen(text), CNNK_EINVAL, "cpu.isa");
    cpu_json(cpu, sizeof cpu, "Imaginary CPU 9000", NULL, NULL);
    snprintf(text, sizeof text, "{%s, \"layers\": [%s]}", cpu, one);
    expect_refused(td, "other_cpu.json", text, strlen(text), CNNK_EINVAL, "Imaginary CPU 9000");
    expect_refused(td, "other_cpu2.json", text, strlen(text), CNNK_EINVAL, cnnk_cpu()->model);
    cpu_json(cpu, sizeof cpu, NULL, NULL, "12345");
    snprintf(text, sizeof text, "{%s, \"layers\": [%s]}", cpu, one);
    expect_refused(td, "other_cache.json", text, strlen(text), CNNK_EINVAL, "this CPU is");

    cnnk_plan p;
    CHECK(cnnk_plan_parse("tuned:", &p, &err) == CNNK_EINVAL);
    CHECK(strstr(err.msg, "needs a file") != NULL);
}

/* A table of one ISA used for a run on another is refused at prepare. */
static void check_isa_mismatch(net_case *c, const char *path) {
    if (tune_isa() == CNNK_ISA_REF) return;
    char spec[200];
    snprintf(spec, sizeof spec, "tuned:%s", path);
    cnnk_plan plan;
    cnnk_error err;
    CHECK(cnnk_plan_parse(spec, &plan, &err) == CNNK_OK);
    cnnk_runner *r = NULL;
    CHECK(cnnk_runner_prepare(c->net, CNNK_ISA_REF, &plan, 1, &r, &err) == CNNK_EINVAL);
    CHECK(r == NULL);
    CHECK(strstr(err.msg, "the run asks for ISA ref") != NULL);
}

int main(void) {
    tmpdir td = {.dir = "/tmp/cnnk_test_tune_XXXXXX"};
    CHECK(mkdtemp(td.dir) != NULL);
    char key[CNNK_TUNE_KEY_LEN];
    cnnk_conv_desc d = {.g = 1, .mb = 1, .ic = 64, .ih = 56, .iw = 56, .oc = 64, .kh = 3, .kw = 3,
                        .sh = 1, .sw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .dh = 1, .dw = 1,
                        .name = "resnet50:res2a_branch2b"};
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    cnnk_tune_key(&d, key, sizeof key);
    CHECK(strcmp(key, "g1mb1ic64ih56iw56oc64oh56ow56kh3kw3sh1sw1ph1pw1") == 0);
    cnnk_tune_cpu cpu = {.model = "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", .isa = CNNK_ISA_AVX2};
    char path[256];
    cnnk_tune_default_path(&cpu, path, sizeof path);
    CHECK(strcmp(path, "plans/avx2-intel-r-xeon-r-cpu-e5-2680-v4-2-40ghz.json") == 0);

    cnnk_tune_table *t = tune_resnet18();
    net_case c;
    const bool net_ok = net_case_init(&c);
    CHECK(net_ok);
    if (t && net_ok) {
        check_table(t);
        const char *good = tmp_path(&td, "tuned.json");
        check_round_trip(t, good);
        char spec[200];
        snprintf(spec, sizeof spec, "tuned:%s", good);
        CHECK_EQ_I64(run_tuned(&c, spec, t), 0);
        check_partial_tables(&c, t, &td);
        check_isa_mismatch(&c, good);
        check_malformed(&td, good);
    }
    if (net_ok) net_case_free(&c);
    cnnk_tune_free(t);
    tmp_cleanup(&td);
    return check_finish("test_tune");
}
