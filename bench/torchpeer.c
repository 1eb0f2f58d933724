/* --main's PyTorch column: scripts/torch-peer.py run as a child process
 * right after the cnnk and oneDNN benchmarks, under a deadline, its JSON
 * turned into Google Benchmark-shaped rows net/<net>/pytorch/eager (one per
 * repetition and a median aggregate) and context entries pytorch_*, so the
 * table, cnnk compare, cnnk report and --record read them like any other
 * row. docs/BENCHMARKS.md, "The PyTorch column". */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

#ifndef CNNK_SOURCE_DIR
#define CNNK_SOURCE_DIR ""
#endif

extern char **environ;

/* The helper's exit status when torch or torchvision cannot be imported. */
enum { TP_NOT_INSTALLED = 3 };
/* More output than any helper run writes (a few KiB per network). */
enum { TP_MAX_OUTPUT = 16 << 20 };

void bench_pytorch_row_name(char *buf, size_t len, const char *net) {
    snprintf(buf, len, "net/%s/pytorch/eager", net);
}

static bool readable(const char *path) { return path[0] && access(path, R_OK) == 0; }

/* scripts/torch-peer.py of the source tree this binary was built from
 * (CMake's CNNK_SOURCE_DIR), else beside the binary's build directory
 * (<tree>/build/cnnk-bench -> <tree>/scripts/), so that it is found from
 * any working directory. */
static bool helper_path(char *buf, size_t len) {
    snprintf(buf, len, "%s/scripts/torch-peer.py", CNNK_SOURCE_DIR);
    if (CNNK_SOURCE_DIR[0] && readable(buf)) return true;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return false;
    *slash = '\0';
    snprintf(buf, len, "%s/../scripts/torch-peer.py", exe);
    return readable(buf);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Reads fd to its end into *out (NUL-terminated) before the deadline.
 * 1 at the end, 0 on the deadline, -1 on an error (msg). */
static int read_until(int fd, double deadline, char **out, size_t *len, char *msg, size_t mlen) {
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    if (!buf) return snprintf(msg, mlen, "out of memory"), -1;
    size_t n = 0;
    for (;;) {
        double left = deadline - now_s();
        if (left <= 0) {
            free(buf);
            return 0;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left > 1e6 ? 1000000000 : (int)(left * 1e3) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(msg, mlen, "poll: %s", strerror(errno));
            free(buf);
            return -1;
        }
        if (r == 0) continue;
        if (n + 4096 + 1 > cap) {
            char *b = cap < TP_MAX_OUTPUT ? realloc(buf, cap *= 2) : NULL;
            if (!b) {
                snprintf(msg, mlen, "more than %d MiB of output", TP_MAX_OUTPUT >> 20);
                free(buf);
                return -1;
            }
            buf = b;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            snprintf(msg, mlen, "read: %s", strerror(errno));
            free(buf);
            return -1;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 1;
}

/* Waits for pid until the deadline, then kills it; its exit status, or -1
 * when it was killed for the deadline. */
static int reap(pid_t pid, double deadline) {
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return -2;
        if (now_s() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
            return -1;
        }
        struct timespec ms10 = {0, 10000000};
        nanosleep(&ms10, NULL);
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The helper's JSON for nets (a comma list), or NULL with the column's
 * status ("not installed: ...", "failed: ...") in status. */
static cJSON *run_helper(const bench_opts *o, const char *nets, const char *reps,
                         const char *min_time, char *status, size_t slen) {
    char script[PATH_MAX + 64];
    if (!helper_path(script, sizeof script)) {
        snprintf(status, slen, "failed: scripts/torch-peer.py not found (source tree %s)",
                 CNNK_SOURCE_DIR[0] ? CNNK_SOURCE_DIR : "unknown");
        return NULL;
    }
    char batch[32], input[64], threads[32], min_s[64];
    snprintf(batch, sizeof batch, "%lld", (long long)o->batch);
    snprintf(input, sizeof input, "%lldx%lld", (long long)o->h, (long long)o->w);
    snprintf(threads, sizeof threads, "%d", o->threads);
    /* Google Benchmark 1.7 takes "0.3"; later ones also "0.3s" */
    snprintf(min_s, sizeof min_s, "%s", min_time);
    size_t ml = strlen(min_s);
    if (ml && min_s[ml - 1] == 's') min_s[ml - 1] = '\0';
    char *args[] = {(char *)o->pytorch_python, script, "--nets", (char *)nets,
                    "--batch", batch, "--input", input, "--threads", threads,
                    "--reps", (char *)reps, "--min-time", min_s, NULL};

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(status, slen, "failed: pipe: %s", strerror(errno));
        return NULL;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    pid_t pid;
    fflush(stdout);
    fflush(stderr);
    int e = posix_spawnp(&pid, o->pytorch_python, &fa, NULL, args, environ); /* a bare name: PATH */
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (e != 0) {
        close(pipefd[0]);
        snprintf(status, slen, "not installed: %.100s: %s", o->pytorch_python, strerror(e));
        return NULL;
    }
    fprintf(stderr, "[pytorch] %s %s --nets %s ... (timeout %d s)\n", o->pytorch_python, script,
            nets, o->pytorch_timeout);
    const double start = now_s(), deadline = start + o->pytorch_timeout;
    char *text = NULL, msg[128] = "";
    size_t len = 0;
    int r = read_until(pipefd[0], deadline, &text, &len, msg, sizeof msg);
    close(pipefd[0]);
    if (r <= 0) kill(pid, SIGKILL);
    int rc = reap(pid, deadline);
    fprintf(stderr, "[pytorch] ended after %.0f s\n", now_s() - start);
    if (r == 0 || rc == -1) {
        free(text);
        snprintf(status, slen, "failed: timed out after %d s (--pytorch_timeout)", o->pytorch_timeout);
        return NULL;
    }
    if (r < 0) {
        snprintf(status, slen, "failed: %s", msg);
        return NULL;
    }
    cJSON *j = strlen(text) == len ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *st = j ? cJSON_GetObjectItemCaseSensitive(j, "status") : NULL;
    if (rc == TP_NOT_INSTALLED && cJSON_IsString(st) && strcmp(st->valuestring, "not installed") == 0) {
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(j, "error");
        snprintf(status, slen, "not installed: %.100s: %.200s", o->pytorch_python,
                 cJSON_IsString(why) ? why->valuestring : "torch or torchvision missing");
        cJSON_Delete(j);
        return NULL;
    }
    if (rc != 0 || !cJSON_IsObject(j) || !cJSON_IsString(st) || strcmp(st->valuestring, "measured") != 0) {
        if (rc != 0) snprintf(status, slen, "failed: the helper exited with status %d", rc);
        else snprintf(status, slen, "failed: the helper's output is not its JSON");
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int max_family(const cJSON *benchmarks) {
    int m = -1;
    const cJSON *b;
    cJSON_ArrayForEach(b, benchmarks) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(b, "family_index");
        if (cJSON_IsNumber(f) && f->valueint > m) m = f->valueint;
    }
    return m;
}

static double num_at(const cJSON *arr, int i) {
    const cJSON *v = cJSON_GetArrayItem(arr, i);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static double median_of(const cJSON *arr) {
    int n = cJSON_GetArraySize(arr);
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) return NAN;
    for (int i = 0; i < n; ++i) v[i] = num_at(arr, i);
    for (int i = 1; i < n; ++i) /* insertion sort: a handful of repetitions */
        for (int k = i; k > 0 && v[k] < v[k - 1]; --k) {
            double t = v[k];
            v[k] = v[k - 1], v[k - 1] = t;
        }
    double m = n == 0 ? NAN : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    free(v);
    return m;
}

/* One Google Benchmark-shaped row of net's PyTorch benchmark. */
static cJSON *row(const char *name, int family, int reps, int threads, const char *label) {
    cJSON *r = cJSON_CreateObject();
    if (!r) return NULL;
    cJSON_AddStringToObject(r, "name", name);
    cJSON_AddNumberToObject(r, "family_index", family);
    cJSON_AddNumberToObject(r, "per_family_instance_index", 0);
    cJSON_AddStringToObject(r, "run_name", name);
    cJSON_AddNumberToObject(r, "repetitions", reps);
    cJSON_AddNumberToObject(r, "threads", threads);
    if (label) cJSON_AddStringToObject(r, "label", label);
    return r;
}

/* A positive, finite time in every repetition of both clocks. */
static bool good_times(const cJSON *cpu, const cJSON *wall, const cJSON *iters) {
    int n = cJSON_GetArraySize(cpu);
    if (n < 1 || cJSON_GetArraySize(wall) != n || cJSON_GetArraySize(iters) != n) return false;
    for (int i = 0; i < n; ++i)
        if (!(num_at(cpu, i) > 0 && isfinite(num_at(cpu, i)) && num_at(wall, i) > 0 &&
              isfinite(num_at(wall, i)) && num_at(iters, i) >= 1))
            return false;
    return true;
}

/* net's rows from the helper's entry r into benchmarks. */
static void add_rows(cJSON *benchmarks, const char *net, const cJSON *r, int family, int threads,
                     const char *version) {
    char name[160];
    bench_pytorch_row_name(name, sizeof name, net);
    const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(r, "cpu_ms");
    const cJSON *wall = cJSON_GetObjectItemCaseSensitive(r, "wall_ms");
    const cJSON *iters = cJSON_GetObjectItemCaseSensitive(r, "iterations");
    const cJSON *thread = cJSON_GetObjectItemCaseSensitive(r, "thread_cpu_ms");
    const cJSON *layout = cJSON_GetObjectItemCaseSensitive(r, "layout");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");
    if (!good_times(cpu, wall, iters) || !cJSON_IsString(layout)) {
        cJSON *e = row(name, family, 1, threads, NULL);
        if (!e) return;
        cJSON_AddStringToObject(e, "run_type", "iteration");
        cJSON_AddNumberToObject(e, "repetition_index", 0);
        cJSON_AddNumberToObject(e, "iterations", 0);
        cJSON_AddBoolToObject(e, "error_occurred", true);
        cJSON_AddStringToObject(e, "error_message", cJSON_IsString(err) ? err->valuestring
                                                                         : "no times from the helper");
        cJSON_AddItemToArray(benchmarks, e);
        return;
    }
    char label[96];
    snprintf(label, sizeof label, "%s, torch %s", layout->valuestring, version);
    const int n = cJSON_GetArraySize(cpu);
    for (int i = 0; i < n; ++i) {
        cJSON *e = row(name, family, n, threads, label);
        if (!e) return;
        cJSON_AddStringToObject(e, "run_type", "iteration");
        cJSON_AddNumberToObject(e, "repetition_index", i);
        cJSON_AddNumberToObject(e, "iterations", num_at(iters, i));
        cJSON_AddNumberToObject(e, "real_time", num_at(wall, i));
        cJSON_AddNumberToObject(e, "cpu_time", num_at(cpu, i));
        cJSON_AddStringToObject(e, "time_unit", "ms");
        /* the calling thread's CPU time too, Google Benchmark's cpu_time
         * clock, to show it agrees with the process's (a counter, ms) */
        if (cJSON_GetArraySize(thread) == n && num_at(thread, i) > 0)
            cJSON_AddNumberToObject(e, "thread_cpu_ms", num_at(thread, i));
        cJSON_AddItemToArray(benchmarks, e);
    }
    char agg[200];
    snprintf(agg, sizeof agg, "%s_median", name);
    cJSON *m = row(agg, family, n, threads, label);
    if (!m) return;
    cJSON_ReplaceItemInObjectCaseSensitive(m, "run_name", cJSON_CreateString(name));
    cJSON_AddStringToObject(m, "run_type", "aggregate");
    cJSON_AddStringToObject(m, "aggregate_name", "median");
    cJSON_AddStringToObject(m, "aggregate_unit", "time");
    cJSON_AddNumberToObject(m, "iterations", n);
    cJSON_AddNumberToObject(m, "real_time", median_of(wall));
    cJSON_AddNumberToObject(m, "cpu_time", median_of(cpu));
    cJSON_AddStringToObject(m, "time_unit", "ms");
    cJSON_AddItemToArray(benchmarks, m);
}

static void ctx_str(cJSON *ctx, const char *key, const char *value) {
    cJSON_DeleteItemFromObjectCaseSensitive(ctx, key);
    cJSON_AddStringToObject(ctx, key, value);
}

static const char *jstr(const cJSON *o, const char *key, const char *dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

void bench_pytorch(const bench_opts *o, const char *reps, const char *min_time, cJSON *root,
                   const char *nets, char *status, size_t slen) {
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(root, "context");
    cJSON *benchmarks = cJSON_GetObjectItemCaseSensitive(root, "benchmarks");
    if (!o->pytorch) {
        snprintf(status, slen, "off");
    } else if (!nets[0]) {
        snprintf(status, slen, "off: no network ran");
    } else {
        cJSON *j = run_helper(o, nets, reps, min_time, status, slen);
        const cJSON *res = j ? cJSON_GetObjectItemCaseSensitive(j, "nets") : NULL;
        if (j && (!cJSON_IsObject(res) || !cJSON_IsArray(benchmarks) || !cJSON_IsObject(ctx)))
            snprintf(status, slen, "failed: no \"nets\" in the helper's JSON, or no results to add them to");
        else if (j) {
            snprintf(status, slen, "measured");
            const char *version = jstr(j, "torch", "?");
            ctx_str(ctx, "pytorch_version", version);
            ctx_str(ctx, "torchvision_version", jstr(j, "torchvision", "?"));
            ctx_str(ctx, "pytorch_clock", strcmp(jstr(j, "clock", ""), "cpu") == 0
                                              ? "cpu_time: the process's CPU time"
                                              : "real_time: the wall clock");
            ctx_str(ctx, "pytorch_mode", jstr(j, "mode", "?"));
            ctx_str(ctx, "pytorch_order", "after the cnnk and oneDNN benchmarks");
            const cJSON *blas = cJSON_GetObjectItemCaseSensitive(j, "blas"), *b;
            char libs[512] = "";
            cJSON_ArrayForEach(b, blas) if (cJSON_IsString(b)) {
                size_t l = strlen(libs);
                snprintf(libs + l, sizeof libs - l, "%s%s", l ? " " : "", b->valuestring);
            }
            ctx_str(ctx, "pytorch_blas", libs[0] ? libs : "none loaded");
            int family = max_family(benchmarks);
            const cJSON *r;
            cJSON_ArrayForEach(r, res) {
                char key[96];
                snprintf(key, sizeof key, "pytorch_layout_%s", r->string);
                ctx_str(ctx, key, jstr(r, "layout", "none"));
                add_rows(benchmarks, r->string, r, ++family, o->threads, version);
            }
        }
        cJSON_Delete(j);
    }
    if (cJSON_IsObject(ctx)) ctx_str(ctx, "pytorch", status);
}
