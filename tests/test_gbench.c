/* The C wrapper of Google Benchmark (bench/gbench.h): benchmarks registered
 * with user data run under a filter given in argv, and what they report
 * (counters with their flags, labels, skips, context, pause) reaches the
 * JSON output as Google Benchmark defines it. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/gbench.h"
#include "core/gbjson.h"
#include "tests/check.h"

typedef struct probe {
    int calls;        /* callback invocations */
    int64_t iters;    /* iterations run, over all invocations */
    int destroyed;
    double counter_back; /* counter value read back inside the callback */
    bool counter_found;
} probe;

static void destroy_probe(void *user) { ((probe *)user)->destroyed++; }

static volatile double g_sink;

static void bm_alpha(cnnk_gb_state *st, void *user) {
    probe *p = user;
    p->calls++;
    while (cnnk_gb_keep_running(st)) {
        double s = 0.0;
        for (int i = 0; i < 1000; ++i) s += (double)i;
        g_sink = s;
    }
    p->iters += cnnk_gb_iterations(st);
    cnnk_gb_counter(st, "FLOPS", 1000.0, CNNK_GB_RATE | CNNK_GB_ITERATION_INVARIANT);
    cnnk_gb_counter(st, "MACs", 500.0, CNNK_GB_PLAIN);
    cnnk_gb_counter(st, "per_iter", 10.0 * (double)cnnk_gb_iterations(st),
                    CNNK_GB_AVG_ITERATIONS);
    p->counter_found = cnnk_gb_counter_get(st, "MACs", &p->counter_back);
    cnnk_gb_label(st, "hello label");
}

static void bm_beta(cnnk_gb_state *st, void *user) {
    probe *p = user;
    p->calls++;
    cnnk_gb_skip(st, "no such kernel");
    CHECK(cnnk_gb_skipped(st));
    while (cnnk_gb_keep_running(st)) p->iters++;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* 20 ms of paused work per iteration and almost nothing timed. The paused
 * part is long so that a preempted timed part (a loaded CI machine) still
 * stays far below it: the check is "pause excludes time", not a speed. */
static void bm_paused(cnnk_gb_state *st, void *user) {
    probe *p = user;
    p->calls++;
    while (cnnk_gb_keep_running(st)) {
        cnnk_gb_pause(st);
        double t0 = now_s();
        while (now_s() - t0 < 20e-3) {
        }
        cnnk_gb_resume(st);
        p->iters++;
    }
}

static void bm_gamma(cnnk_gb_state *st, void *user) {
    probe *p = user;
    p->calls++;
    while (cnnk_gb_keep_running(st)) {
    }
}

static cJSON *find_bench(cJSON *root, const char *name) {
    cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItem(root, "benchmarks")) {
        cJSON *n = cJSON_GetObjectItem(b, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) return b;
    }
    return NULL;
}

static double num(cJSON *o, const char *key) {
    cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1.0;
}

static const char *str(cJSON *o, const char *key) {
    cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static char *read_all(FILE *f) {
    if (fseek(f, 0, SEEK_END) != 0) return NULL;
    long n = ftell(f);
    rewind(f);
    char *buf = n >= 0 ? calloc((size_t)n + 1, 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) buf[0] = '\0';
    return buf;
}

static void check_json(const char *path, const probe *alpha) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    char *text = read_all(f);
    fclose(f);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(root != NULL);
    if (!root) return;

    cJSON *ctx = cJSON_GetObjectItem(root, "context");
    CHECK(strcmp(str(ctx, "cnnk_test_key"), "cnnk test value") == 0);

    /* Google Benchmark names a real-time benchmark .../real_time and a
     * fixed count .../iterations:N. */
    cJSON *a = find_bench(root, "t/alpha/real_time");
    CHECK(a != NULL);
    if (a) {
        CHECK(strcmp(str(a, "label"), "hello label") == 0);
        CHECK_NEAR(num(a, "MACs"), 500.0, 1e-12);
        /* AVG_ITERATIONS divides by the iteration count. */
        CHECK_NEAR(num(a, "per_iter"), 10.0, 1e-9);
        /* RATE | ITERATION_INVARIANT: 1000 per iteration over the real time
         * (the benchmark uses real time), i.e. 1000 / seconds per iteration. */
        double ns = num(a, "real_time");
        CHECK(strcmp(str(a, "time_unit"), "ns") == 0);
        CHECK(ns > 0.0);
        CHECK_NEAR(num(a, "FLOPS") / (1000.0 / (ns * 1e-9)), 1.0, 1e-6);
        CHECK(num(a, "iterations") >= 1.0);
        CHECK(num(a, "iterations") <= (double)alpha->iters);
    }
    cJSON *b = find_bench(root, "t/beta");
    CHECK(b != NULL);
    if (b) {
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(b, "error_occurred")));
        CHECK(strcmp(str(b, "error_message"), "no such kernel") == 0);
    }
    cJSON *p = find_bench(root, "t/paused/iterations:5/real_time");
    CHECK(p != NULL);
    /* Timed part per iteration far below the 20 ms paused: pause works. */
    if (p) {
        CHECK_NEAR(num(p, "iterations"), 5.0, 0.0);
        CHECK(strcmp(str(p, "time_unit"), "us") == 0);
        CHECK(num(p, "real_time") >= 0.0 && num(p, "real_time") < 10000.0);
    }
    CHECK(find_bench(root, "t/gamma") == NULL);
    cJSON_Delete(root);
}

static void test_run(void) {
    probe alpha = {0}, beta = {0}, gamma = {0}, paused = {0};
    cnnk_gb_bench *ba = cnnk_gb_register("t/alpha", bm_alpha, &alpha, destroy_probe);
    CHECK(ba != NULL);
    cnnk_gb_use_real_time(ba);
    CHECK(cnnk_gb_register("t/beta", bm_beta, &beta, destroy_probe) != NULL);
    CHECK(cnnk_gb_register("t/gamma", bm_gamma, &gamma, destroy_probe) != NULL);
    cnnk_gb_bench *bp = cnnk_gb_register("t/paused", bm_paused, &paused, destroy_probe);
    CHECK(bp != NULL);
    cnnk_gb_set_iterations(bp, 5);
    cnnk_gb_set_unit(bp, CNNK_GB_US);
    cnnk_gb_use_real_time(bp);

    CHECK_EQ_I64(cnnk_gb_count(), 4);
    CHECK(strcmp(cnnk_gb_name_at(2), "t/gamma") == 0);
    CHECK(cnnk_gb_name_at(4) == NULL);
    cnnk_gb_add_context("cnnk_test_key", "cnnk test value");

    char out[64];
    snprintf(out, sizeof out, "/tmp/cnnk_test_gbench_%ld.json", (long)getpid());
    char out_flag[96];
    snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", out);
    char *argv[] = {"test_gbench",          "--benchmark_filter=^t/(alpha|beta|paused)",
                    "--benchmark_min_time=0.01", out_flag,
                    "--benchmark_out_format=json", NULL};
    int argc = 5;
    FILE *progress = tmpfile();
    CHECK(progress != NULL);
    cnnk_gb_options opt = {.progress = progress};
    CHECK_EQ_I64(cnnk_gb_main(&argc, argv, &opt), 3);
    CHECK_EQ_I64(argc, 1); /* Google Benchmark took its flags */

    CHECK(alpha.calls >= 1 && alpha.iters >= 1);
    CHECK(alpha.counter_found);
    CHECK_NEAR(alpha.counter_back, 500.0, 0.0);
    CHECK(beta.calls >= 1);
    CHECK_EQ_I64(beta.iters, 0); /* a skipped run does not iterate */
    CHECK_EQ_I64(paused.iters, 5);
    CHECK_EQ_I64(gamma.calls, 0); /* the filter excluded it */
    check_json(out, &alpha);
    remove(out);

    if (progress) {
        char *text = read_all(progress);
        CHECK(text && strstr(text, "start t/alpha\n"));
        CHECK(text && strstr(text, "done  t/alpha/real_time: "));
        CHECK(text && strstr(text, "done  t/beta: SKIPPED: no such kernel"));
        CHECK(text && !strstr(text, "t/gamma"));
        free(text);
        fclose(progress);
    }

    /* A filter that matches nothing runs nothing and says so by 0. */
    char *argv2[] = {"test_gbench", "--benchmark_filter=^nothing/matches$", NULL};
    int argc2 = 2;
    CHECK_EQ_I64(cnnk_gb_main(&argc2, argv2, NULL), 0);
    CHECK_EQ_I64(gamma.calls, 0);

    /* Flags Google Benchmark does not know are an error, and nothing runs. */
    int calls = alpha.calls;
    char *argv3[] = {"test_gbench", "--benchmark_filter=^t/alpha$", "--no_such_flag=1", NULL};
    int argc3 = 3;
    CHECK_EQ_I64(cnnk_gb_main(&argc3, argv3, NULL), -1);
    CHECK_EQ_I64(alpha.calls, calls);
    /* Google Benchmark keeps --benchmark_out from the first call, so the
     * later calls reopened (and emptied) the same file: remove it again
     * rather than leave an empty file in /tmp per run. */
    remove(out);

    cnnk_gb_clear();
    CHECK_EQ_I64(cnnk_gb_count(), 0);
    CHECK_EQ_I64(alpha.destroyed, 1);
    CHECK_EQ_I64(beta.destroyed, 1);
    CHECK_EQ_I64(gamma.destroyed, 1); /* never ran, still released */
    CHECK_EQ_I64(paused.destroyed, 1);
}

/* Non-finite tokens outside strings become null; strings keep theirs. */
static void test_gbjson(void) {
    const char *in = "{\"a\": NaN, \"b\": [Infinity, -Infinity, 1.5], "
                     "\"NaN\": \"x NaN \\\" Infinity\", \"c\": -1e3}";
    size_t len = 0;
    char *out = cnnk_gbjson_standard(in, strlen(in), &len);
    CHECK(out != NULL && len == strlen(out));
    if (!out) return;
    CHECK(strcmp(out, "{\"a\": null, \"b\": [null, null, 1.5], "
                      "\"NaN\": \"x NaN \\\" Infinity\", \"c\": -1e3}") == 0);
    cJSON *root = cJSON_Parse(out);
    CHECK(root != NULL && cJSON_IsNull(cJSON_GetObjectItem(root, "a")));
    CHECK(root && strcmp(str(root, "NaN"), "x NaN \" Infinity") == 0);
    cJSON_Delete(root);
    free(out);
    CHECK(cJSON_Parse(in) == NULL); /* why the copy is needed */
}

int main(void) {
    test_gbjson();
    test_run();
    return check_finish("test_gbench");
}
