/* cnnk-bench: every layer and every network of cnnk beside oneDNN, through
 * Google Benchmark (docs/BENCHMARKS.md). */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/gbench.h"
#include "validate/onednn.h"
#include "validate/onednn_peer.h"

static bool wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; ++i)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return true;
    return false;
}

/* Sets the thread count and oneDNN's ISA cap for the whole process, before
 * oneDNN creates anything; then what oneDNN has at that ISA decides the
 * default convolution algorithms. */
static bool setup(bench_opts *o) {
    omp_set_num_threads(o->threads);
    cnnk_onednn_set_threads(o->threads);
    if (!cnnk_onednn_available()) return true;
    cnnk_error err;
    if (cnnk_onednn_set_max_isa(o->onednn_isa, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk-bench: --onednn_max_isa=%s: %s\n", o->onednn_isa, err.msg);
        return false;
    }
    bench_resolve_onednn(o);
    return true;
}

static int run_all(bench_opts *o, int argc, char **argv, bench_arena *a, bench_record *rec) {
    if (bench_register_layers(o, a) < 0 || bench_register_nets(o, a, false) < 0) return 2;
    bench_add_context(o);
    int n = cnnk_gb_main(&argc, argv, NULL);
    if (n < 0) return 2;
    if (n == 0) {
        bench_no_match(o->filter);
        return 2;
    }
    /* A failed benchmark (a bad tuned plan, out of memory, oneDNN refused)
     * is not a measurement: 2, or 3 when nothing at all was measured
     * (docs/EXIT_CODES.md). */
    const int failed = cnnk_gb_failed();
    if (failed > 0)
        fprintf(stderr, "cnnk-bench: %d of %d benchmarks failed (SKIPPED in the output)%s\n",
                failed, n, failed == n ? ": nothing was measured" : "");
    /* A run with nothing measured records nothing; one with some
     * benchmarks failed records them with their errors (and stays 2). */
    const int rc = failed == 0 ? 0 : failed == n ? 3 : 2;
    if (rc == 3) return rc;
    const int rec_rc = bench_record_commit(rec, o, NULL);
    return rc ? rc : rec_rc;
}

int main(int argc, char **argv) {
    if (wants_help(argc, argv)) bench_usage(argv[0]); /* Google Benchmark's --help follows */
    bench_opts o;
    if (!bench_parse_args(&argc, argv, &o)) return 2;
    if (!setup(&o)) return 2;
    bench_record rec;
    if (!bench_record_begin(&rec, &o, &argc, &argv)) return 2;
    bench_arena a = {0};
    int rc = o.main_job ? bench_main_job(&o, argc, argv, &a) : run_all(&o, argc, argv, &a, &rec);
    /* --main's results file exists only when the job succeeded. */
    if (o.main_job && rc == 0) rc = bench_record_commit(&rec, &o, o.out);
    bench_record_end(&rec);
    bench_arena_release(&a);
    cnnk_gb_clear();
    return rc;
}
