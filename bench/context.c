/* The benchmark context: what a number needs beside it to mean anything
 * (machine, measured ceilings, versions, threads and pinning). Google
 * Benchmark adds its own (host, CPU count and MHz, caches, load). */
#define _GNU_SOURCE
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/gbench.h"
#include "cnnk/cpu.h"
#include "cnnk/runner.h"
#include "validate/onednn_peer.h"
#include "validate/onednn.h"

#include "cnnk_git_rev.h" /* generated at build time: bench/bench.cmake */

static void ctx_i64(const char *key, long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    cnnk_gb_add_context(key, buf);
}

static void ctx_f(const char *key, double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.2f", v);
    cnnk_gb_add_context(key, buf);
}

/* The CPUs this process may run on, as ranges: "0-1", "0,2-3". */
static void affinity(char *buf, size_t len) {
    cpu_set_t set;
    buf[0] = '\0';
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        snprintf(buf, len, "unknown");
        return;
    }
    size_t used = 0;
    for (int i = 0; i < CPU_SETSIZE; ++i) {
        if (!CPU_ISSET(i, &set) || (i > 0 && CPU_ISSET(i - 1, &set))) continue;
        int j = i;
        while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &set)) ++j;
        int m = j > i ? snprintf(buf + used, len - used, "%s%d-%d", used ? "," : "", i, j)
                      : snprintf(buf + used, len - used, "%s%d", used ? "," : "", i);
        if (m < 0 || used + (size_t)m >= len) break;
        used += (size_t)m;
    }
}

static void machine(void) {
    const cnnk_cpu_info *c = cnnk_cpu();
    cnnk_gb_add_context("cnnk_cpu_model", c->model);
    char isas[64] = "";
    for (int i = 0; i < CNNK_ISA_COUNT; ++i) {
        if (!c->isa[i]) continue;
        if (isas[0]) strncat(isas, ",", sizeof isas - strlen(isas) - 1);
        strncat(isas, cnnk_isa_name((cnnk_isa)i), sizeof isas - strlen(isas) - 1);
    }
    cnnk_gb_add_context("cnnk_isa_detected", isas);
    cnnk_gb_add_context("cnnk_best_isa", cnnk_isa_name(cnnk_best_isa()));
    ctx_i64("cnnk_cores", c->cores);
    ctx_i64("cnnk_pus", c->pus);
    ctx_i64("cnnk_l1d_bytes", (long long)c->l1d);
    ctx_i64("cnnk_l2_bytes", (long long)c->l2);
    ctx_i64("cnnk_l3_bytes", (long long)c->l3);
}

static void ceilings(void) {
    for (int i = 0; i < CNNK_ISA_COUNT; ++i) {
        if (!cnnk_isa_available((cnnk_isa)i)) continue;
        char key[64];
        snprintf(key, sizeof key, "cnnk_peak_gflops_%s", cnnk_isa_name((cnnk_isa)i));
        ctx_f(key, cnnk_peak_gflops((cnnk_isa)i));
    }
    ctx_f("cnnk_mem_bandwidth_gbs", cnnk_mem_bandwidth_gbs());
}

static void threads(const bench_opts *o) {
    ctx_i64("cnnk_threads", o->threads);
    ctx_i64("omp_max_threads", omp_get_max_threads());
    char cpus[256];
    affinity(cpus, sizeof cpus);
    cnnk_gb_add_context("cnnk_affinity", cpus);
    const char *bind = getenv("OMP_PROC_BIND"), *places = getenv("OMP_PLACES");
    cnnk_gb_add_context("OMP_PROC_BIND", bind ? bind : "unset");
    cnnk_gb_add_context("OMP_PLACES", places ? places : "unset");
    char binding[128];
    cnnk_runner_binding_for(o->threads, binding, sizeof binding);
    cnnk_gb_add_context("cnnk_binding", binding);
    const char *team = getenv("CNNK_TEAM");
    cnnk_gb_add_context("cnnk_team", team ? team : "on (one team per forward pass)");
}

void bench_add_context(const bench_opts *o) {
    machine();
    ceilings();
    threads(o);
    cnnk_gb_add_context("onednn_version", cnnk_onednn_version());
    cnnk_gb_add_context("onednn_max_isa", o->onednn_isa);
    cnnk_gb_add_context("onednn_effective_isa", cnnk_onednn_max_isa_name());
    char algos[64] = "";
    for (int a = 0; a < CNNK_ONEDNN_ALGO_COUNT; ++a) {
        if (!o->onednn_algo[a]) continue;
        if (algos[0]) strncat(algos, ",", sizeof algos - strlen(algos) - 1);
        strncat(algos, cnnk_onednn_algo_name((cnnk_onednn_algo)a),
                sizeof algos - strlen(algos) - 1);
    }
    cnnk_gb_add_context("onednn_algo", algos);
    cnnk_gb_add_context("onednn_winograd", o->onednn_winograd ? "yes" : "no");
#if defined(__clang__)
    cnnk_gb_add_context("compiler", "clang " __VERSION__);
#else
    cnnk_gb_add_context("compiler", "gcc " __VERSION__);
#endif
    cnnk_gb_add_context("git_revision", CNNK_GIT_REV);
    char buf[64];
    if (o->input_given)
        snprintf(buf, sizeof buf, "%lldx%lld, batch %lld", (long long)o->h, (long long)o->w,
                 (long long)o->batch);
    else /* cnnk_net_default_side: yolov1's 448x448, the others' 224x224 */
        snprintf(buf, sizeof buf, "each network's default, batch %lld", (long long)o->batch);
    cnnk_gb_add_context("cnnk_input", buf);
}
