/* The cnnk command line: info, validate, sweep, nets, run, tune, compare, report.
 *
 * Exit status: 0 success, 1 a check failed, 2 bad input (usage, malformed
 * descriptor, impossible shape, unreadable file). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/cpu.h"
#include "cnnk/kernel.h"
#include "cnnk/net.h"
#include "cnnk/npy.h"
#include "cnnk/parse.h"
#include "core/sweep.h"
#include "tools/commands.h"
#include "validate/net_check.h"
#include "validate/check.h"
#include "validate/onednn.h"

enum { EXIT_FAILED = CNNK_EXIT_CHECK_FAILED, EXIT_BAD_INPUT = CNNK_EXIT_BAD_INPUT };

static int bad_input(const char *fmt, const char *arg) {
    fprintf(stderr, "cnnk: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return EXIT_BAD_INPUT;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: cnnk <command> [options]\n"
            "commands:\n"
            "  info                      this CPU, its ISAs and caches, the registered kernels\n"
            "  validate [options]        check kernels against the reference, and the\n"
            "                            reference against oneDNN\n"
            "      --shape TEXT          one benchdnn problem (options such as --pool may lead)\n"
            "      --batch FILE          a batch file of problems (repeatable)\n"
            "      --isa LIST|best|all   ISAs whose kernels are checked (ref,avx2,neon; best: this\n"
            "                            CPU's best)\n"
            "      --algo LIST|all       algorithms (direct,im2col,winograd_f2x2,\n"
            "                            winograd_f4x4,winograd_f6x6,1x1)\n"
            "      --against onednn      also check the reference against oneDNN\n"
            "      --fill int|float      data: small integers (default) or uniform floats\n"
            "      --post none|relu|sum|sum_relu|leaky|sum_leaky  epilogue after the bias\n"
            "                            (default none; leaky: leaky ReLU, slope 0.1)\n"
            "      --seed N              data seed (default 1)\n"
            "      --quiet               print only failures and the closing line\n"
            "      --net NAME            a whole network: the reference plan against every\n"
            "                            other plan of the selected ISAs (repeatable)\n"
                        "      --input HxW           network input size (default: the network's,\n"
            "                            224x224, yolov1 448x448)\n"
            "      --onnx FILE           an ONNX model, checked as --net (docs/ONNX.md)\n"
            "      --weights DIR         --net with a state_dict saved as .npy files\n"
            "      --input-npy FILE      the input, N x C x H x W float32 (sets batch and size)\n"
            "      --expect-npy FILE     a framework's output for it: every plan is also\n"
            "                            compared with it (exit 1 on a mismatch)\n"
            "  sweep --seed N --count N [--for all|winograd|1x1]\n"
            "                            print N valid random convolution problems (--for: all\n"
            "                            drawn for that strategy)\n"
            "  nets [--format table|csv] [--batch N] [--input HxW]\n"
            "                            the networks: layers, parameters, GMACs, activation memory\n"
            "  run --net NAME|--onnx FILE [--isa ISA] [--plan PLAN] [--batch N] [--input HxW]\n"
            "      [--threads N] [--iters N] [--model T1,T2,...] [--force] [--weights DIR]\n"
            "      [--input-npy FILE] [--output-npy FILE]\n"
            "                            forward passes with a per-layer table\n"
            "                            (PLAN: ref, heuristic, fixed:ALGO, tuned:FILE,\n"
            "                            tuned-force:FILE); --force: use another CPU's tuned FILE;\n"
            "                            --model: predicted time at each thread count (docs/THREADS.md)\n"
            "  tune --net NAME[,NAME...]|--all|--onnx FILE [--isa ISA] [--batch N] [--input HxW] [--threads N]\n"
            "       [--reps ROUNDS] [--cold-mib N] [--min-gain PCT] [--net-alts N] [--net-reps N]\n"
            "       [--out FILE] [--compare [--compare-reps N]] | --compare-only FILE\n"
            "                            race the kernels of ISA and the ISAs under it per distinct\n"
            "                            conv shape, settle ties in whole forwards, write FILE\n"
            "                            (default plans/<isa>-<cpu>.json); --compare: the heuristic\n"
            "                            against the tuned plan per network, same run (docs/TUNING.md)\n"
            "  compare BASE.json NEW.json [--alpha A] [--threshold T%%] [--filter REGEX]\n"
            "          [--time real|cpu]\n"
            "  compare --db DB --baseline REV [NEW.json | --run ID] [same options]\n"
            "                            regression gate on Google Benchmark JSON with\n"
            "                            repetitions: Mann-Whitney U per benchmark (alpha 0.05)\n"
            "                            and a minimum slowdown (5%%); exit 1 on a regression\n"
            "                            (docs/COMPARE.md; the database: docs/HISTORY.md)\n"
            "  report RESULTS.json [...] [--db DB] [-o FILE]\n"
            "                            one self-contained HTML page of charts (default\n"
            "                            report.html; docs/REPORT.md)\n");
}

/* Parses "a,b,c" or "all" into flags[0..n) through a name lookup. */
typedef bool (*name_lookup)(const char *s, int *out);

/* "best" names the best ISA this build has and this CPU runs, so that a
 * script (cmake/cli_tests.cmake) need not know the machine it runs on. */
static bool isa_lookup(const char *s, int *out) {
    cnnk_isa v;
    if (strcmp(s, "best") == 0) return *out = (int)cnnk_best_isa(), true;
    return cnnk_isa_from_name(s, &v) ? (*out = (int)v, true) : false;
}

static bool algo_lookup(const char *s, int *out) {
    cnnk_algo v;
    return cnnk_algo_from_name(s, &v) ? (*out = (int)v, true) : false;
}

static bool parse_list(const char *arg, bool *flags, int n, name_lookup lookup,
                       char *bad, size_t badlen) {
    for (int i = 0; i < n; ++i) flags[i] = strcmp(arg, "all") == 0;
    if (strcmp(arg, "all") == 0) return true;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    /* strtok_r would skip empty tokens: ",avx2" or "" must not select less
     * than the user wrote without a word. */
    if (!buf[0] || buf[0] == ',' || buf[strlen(buf) - 1] == ',' || strstr(buf, ",,")) {
        snprintf(bad, badlen, "%s", arg);
        return false;
    }
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int v;
        if (!lookup(tok, &v)) {
            snprintf(bad, badlen, "%s", tok);
            return false;
        }
        flags[v] = true;
    }
    return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') return false;
    *out = v;
    return true;
}

static void list_names(char *buf, size_t len, int n, const char *(*name)(int)) {
    buf[0] = '\0';
    for (int i = 0; i < n; ++i) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? ", " : "", name(i));
    }
}

static const char *isa_name_i(int i) { return cnnk_isa_name((cnnk_isa)i); }
static const char *algo_name_i(int i) { return cnnk_algo_name((cnnk_algo)i); }

static int run_batch(const cnnk_validate_opts *o, const cnnk_batch *b, cnnk_validate_counts *c) {
    for (size_t i = 0; i < b->n; ++i) {
        cnnk_error err;
        const cnnk_status s = cnnk_validate_layer(o, &b->items[i], c, &err);
        if (s != CNNK_OK) {
            fprintf(stderr, "cnnk validate: %s\n", err.msg);
            return cnnk_exit_of(s);
        }
        if (o->out) fflush(o->out);
    }
    return 0;
}

/* --onnx FILE, or --net NAME with --weights, --input-npy, --expect-npy:
 * one network built with its weights, every plan against the reference
 * plan and, with --expect-npy, both against a framework's output. */
static int validate_one_net(const cnnk_net_src *src, const char *expect_npy, int64_t h, int64_t w,
                            const cnnk_validate_opts *o, bool quiet, cnnk_validate_counts *c) {
    cnnk_net *net = NULL;
    float *input = NULL;
    int rc = cnnk_net_src_open(src, "validate", 1, h, w, o->seed, &net, &input);
    if (rc) return rc;
    cnnk_npy want = {0};
    cnnk_error err;
    cnnk_status s = CNNK_OK;
    if (expect_npy) {
        s = cnnk_npy_read(expect_npy, &want, &err);
        const cnnk_node *last = &net->nodes[net->n - 1];
        if (s == CNNK_OK && (want.count != cnnk_net_output_elems(net) || want.ndim < 1 ||
                             want.shape[0] != cnnk_net_node_batch(net, last))) {
            s = cnnk_fail(&err, CNNK_EINVAL,
                          "%s: %lld values (first dimension %lld); the network's output is %lld "
                          "x %lld",
                          expect_npy, (long long)want.count,
                          (long long)(want.ndim ? want.shape[0] : 0),
                          (long long)cnnk_net_node_batch(net, last),
                          (long long)(last->c * last->h * last->w));
        }
    }
    if (s == CNNK_OK)
        s = cnnk_validate_net_built(net, input, expect_npy ? want.data : NULL, o->seed, o->isa,
                                    quiet ? NULL : stdout, c, &err);
    if (s != CNNK_OK) fprintf(stderr, "cnnk validate: %s\n", err.msg);
    cnnk_npy_free(&want);
    free(input);
    cnnk_net_destroy(net);
    return cnnk_exit_of(s);
}

static int cmd_validate(int argc, char **argv) {
    cnnk_validate_opts o;
    cnnk_validate_opts_init(&o);
    const char *shapes[64], *batches[64], *nets[64];
    int nshapes = 0, nbatches = 0, nnets = 0;
    cnnk_net_src src = {0};
    const char *expect_npy = NULL;
    int64_t in_h = 0, in_w = 0; /* each network's default */
    bool quiet = false;
    char bad[128], names[256];
    for (int i = 0; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = strcmp(a, "--quiet") != 0;
        if (takes_value && !v) return bad_input("validate: %s needs a value", a);
        if (strcmp(a, "--shape") == 0) {
            if (nshapes == 64) return bad_input("validate: at most 64 --shape %s", "options");
            shapes[nshapes++] = v;
        } else if (strcmp(a, "--batch") == 0) {
            if (nbatches == 64) return bad_input("validate: at most 64 --batch %s", "options");
            batches[nbatches++] = v;
        } else if (strcmp(a, "--net") == 0) {
            if (nnets == 64) return bad_input("validate: at most 64 --net %s", "options");
            nets[nnets++] = v;
        } else if (strcmp(a, "--onnx") == 0) {
            if (src.onnx) return bad_input("validate: one --onnx %s", "at a time");
            src.onnx = v;
        } else if (strcmp(a, "--weights") == 0) {
            src.weights = v;
        } else if (strcmp(a, "--input-npy") == 0) {
            src.input_npy = v;
        } else if (strcmp(a, "--proposals") == 0) {
            src.proposals = v;
        } else if (strcmp(a, "--expect-npy") == 0) {
            expect_npy = v;
        } else if (strcmp(a, "--input") == 0) {
            long long h, w;
            char tail;
            const int got = sscanf(v, "%lldx%lld%c", &h, &w, &tail);
            if (got == 1 && !strchr(v, 'x')) w = h; /* N: N x N */
            if ((got != 2 && !(got == 1 && !strchr(v, 'x'))) || h < 1 || w < 1 || h > 65536 ||
                w > 65536)
                return bad_input("validate: --input takes HxW, e.g. 224x224, not '%s'", v);
            in_h = h, in_w = w;
        } else if (strcmp(a, "--isa") == 0) {
            if (!parse_list(v, o.isa, CNNK_ISA_COUNT, isa_lookup, bad, sizeof bad)) {
                list_names(names, sizeof names, CNNK_ISA_COUNT, isa_name_i);
                fprintf(stderr, "cnnk validate: unknown ISA '%s' (valid: %s, best, all)\n", bad, names);
                return EXIT_BAD_INPUT;
            }
            /* "all" means every ISA this CPU runs; one named that it does
             * not is bad input, as in run and tune, not "nothing checked". */
            for (int k = 0; k < CNNK_ISA_COUNT && strcmp(v, "all") != 0; ++k)
                if (o.isa[k] && !cnnk_isa_available((cnnk_isa)k))
                    return bad_input("validate: this CPU does not run ISA %s",
                                     cnnk_isa_name((cnnk_isa)k));
        } else if (strcmp(a, "--algo") == 0) {
            if (!parse_list(v, o.algo, CNNK_ALGO_COUNT, algo_lookup, bad, sizeof bad)) {
                list_names(names, sizeof names, CNNK_ALGO_COUNT, algo_name_i);
                fprintf(stderr, "cnnk validate: unknown algorithm '%s' (valid: %s, all)\n", bad,
                        names);
                return EXIT_BAD_INPUT;
            }
        } else if (strcmp(a, "--against") == 0) {
            if (strcmp(v, "onednn") != 0)
                return bad_input("validate: --against takes 'onednn', not '%s'", v);
            if (!cnnk_onednn_available())
                return bad_input("validate: this build has no oneDNN (%s)", "CNNK_WITH_ONEDNN=OFF");
            o.against_onednn = true;
        } else if (strcmp(a, "--fill") == 0) {
            if (strcmp(v, "int") == 0) o.fill = CNNK_FILL_INT;
            else if (strcmp(v, "float") == 0) o.fill = CNNK_FILL_FLOAT;
            else return bad_input("validate: --fill takes int or float, not '%s'", v);
        } else if (strcmp(a, "--post") == 0) {
            /* leaky: YOLO's leaky ReLU, slope 0.1 */
            const bool leaky = strcmp(v, "leaky") == 0 || strcmp(v, "sum_leaky") == 0;
            o.relu_alpha = leaky ? 0.1f : 0.0f;
            if (strcmp(v, "none") == 0) o.relu = o.residual = false;
            else if (strcmp(v, "relu") == 0 || strcmp(v, "leaky") == 0)
                o.relu = true, o.residual = false;
            else if (strcmp(v, "sum") == 0) o.relu = false, o.residual = true;
            else if (strcmp(v, "sum_relu") == 0 || strcmp(v, "sum_leaky") == 0)
                o.relu = o.residual = true;
            else
                return bad_input("validate: --post takes none, relu, sum, sum_relu, leaky or "
                                 "sum_leaky, not '%s'", v);
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_u64(v, &o.seed)) return bad_input("validate: --seed takes a whole number 0..18446744073709551615, not '%s'", v);
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = true;
            continue;
        } else {
            return bad_input("validate: unknown option '%s' (see cnnk --help)", a);
        }
        ++i;
    }
    if (nshapes + nbatches + nnets == 0 && !src.onnx)
        return bad_input("validate: give --shape, --batch, --net or --onnx%s", "");
    const bool one_net = src.onnx || src.weights || src.input_npy || src.proposals || expect_npy;
    if (one_net && nnets + (src.onnx != NULL) != 1)
        return bad_input("validate: --onnx, --weights, --input-npy, --proposals and --expect-npy take one "
                         "network (one --net or one --onnx)%s", "");
    if (one_net && !src.onnx) src.net = nets[0], nnets = 0;

    /* Parse everything first: a malformed input is exit 2 before any check. */
    cnnk_batch all[128];
    int nall = 0, rc = 0;
    for (int i = 0; i < nshapes + nbatches && rc == 0; ++i) {
        cnnk_error err;
        cnnk_status s = i < nshapes ? cnnk_batch_parse(shapes[i], "--shape", &all[nall], &err)
                                    : cnnk_batch_read(batches[i - nshapes], &all[nall], &err);
        ++nall;
        if (s != CNNK_OK) {
            fprintf(stderr, "cnnk validate: %s\n", err.msg);
            rc = EXIT_BAD_INPUT;
        } else if (all[nall - 1].n == 0) {
            fprintf(stderr, "cnnk validate: %s '%s' holds no problem descriptor\n",
                    i < nshapes ? "--shape" : "--batch",
                    i < nshapes ? shapes[i] : batches[i - nshapes]);
            rc = EXIT_BAD_INPUT;
        }
    }
    cnnk_validate_counts c = {0};
    FILE *out = stdout;
    if (quiet) o.out = NULL;
    for (int i = 0; i < nall && rc == 0; ++i) {
        if (quiet) {
            /* Quiet still shows failures: re-run a failing case loudly. */
            for (size_t k = 0; k < all[i].n && rc == 0; ++k) {
                cnnk_validate_counts one = {0};
                cnnk_error err;
                const cnnk_status s = cnnk_validate_layer(&o, &all[i].items[k], &one, &err);
                if (s != CNNK_OK) {
                    fprintf(stderr, "cnnk validate: %s\n", err.msg);
                    rc = cnnk_exit_of(s);
                    break;
                }
                if (one.failed) {
                    cnnk_validate_opts loud = o;
                    loud.out = out;
                    cnnk_validate_counts ignored = {0};
                    cnnk_validate_layer(&loud, &all[i].items[k], &ignored, &err);
                }
                c.passed += one.passed, c.failed += one.failed, c.skipped += one.skipped;
                c.mistrusted += one.mistrusted;
            }
        } else {
            rc = run_batch(&o, &all[i], &c);
        }
    }
    for (int i = 0; i < nall; ++i) cnnk_batch_free(&all[i]);
    if (rc == EXIT_BAD_INPUT) return rc;
    if (one_net) rc = validate_one_net(&src, expect_npy, in_h, in_w, &o, quiet, &c);
    for (int i = 0; i < nnets && rc == 0; ++i) {
        cnnk_error err;
        cnnk_status s = cnnk_validate_net(nets[i], 1, in_h, in_w, o.seed, o.isa,
                                          quiet ? NULL : stdout, &c, &err);
        if (s != CNNK_OK) {
            fprintf(stderr, "cnnk validate: %s\n", err.msg);
            rc = cnnk_exit_of(s);
        }
    }
    if (rc == EXIT_BAD_INPUT) return rc;
    printf("%lld passed, %lld failed, %lld skipped\n", (long long)c.passed, (long long)c.failed,
           (long long)c.skipped);
    if (c.mistrusted)
        fprintf(stderr, "cnnk validate: %lld of the failures compared against an expected output "
                        "that proves nothing (not trusted): change --seed or the shape\n",
                (long long)c.mistrusted);
    if (!rc && c.passed + c.failed == 0) {
        /* A run that verified nothing must not read as a green check. */
        fprintf(stderr, "cnnk validate: nothing was checked: every case was skipped\n");
        return CNNK_EXIT_NOTHING;
    }
    return rc ? rc : (c.failed ? EXIT_FAILED : 0);
}

static int cmd_info(void) {
    const cnnk_cpu_info *cpu = cnnk_cpu();
    printf("cpu:      %s\n", cpu->model);
    printf("cores:    %d (%d logical)\n", cpu->cores, cpu->pus);
    printf("caches:   L1d %lld KiB, L2 %lld KiB, L3 %lld KiB\n", (long long)cpu->l1d / 1024,
           (long long)cpu->l2 / 1024, (long long)cpu->l3 / 1024);
    printf("isa:     ");
    for (int i = 0; i < CNNK_ISA_COUNT; ++i)
        printf(" %s%s", cnnk_isa_name((cnnk_isa)i), cpu->isa[i] ? "" : "(absent)");
    printf("\nbest isa: %s\n", cnnk_isa_name(cnnk_best_isa()));
    printf("onednn:   %s\n", cnnk_onednn_version());
    printf("kernels:\n");
    for (size_t i = 0; i < cnnk_conv_kernel_count(); ++i) {
        const cnnk_conv_kernel *k = cnnk_conv_kernel_at(i);
        printf("  %-24s %s\n", k->name, cnnk_isa_available(k->isa) ? "" : "(ISA absent)");
    }
    return 0;
}

static int cmd_sweep(int argc, char **argv) {
    uint64_t seed = 1, count = 1000;
    cnnk_sweep_kind kind = CNNK_SWEEP_ALL;
    for (int i = 0; i < argc; i += 2) {
        if (i + 1 >= argc) return bad_input("sweep: %s needs a value", argv[i]);
        if (strcmp(argv[i], "--for") == 0) {
            const char *v = argv[i + 1];
            if (strcmp(v, "all") == 0) kind = CNNK_SWEEP_ALL;
            else if (strcmp(v, "winograd") == 0) kind = CNNK_SWEEP_WINOGRAD;
            else if (strcmp(v, "1x1") == 0) kind = CNNK_SWEEP_1X1;
            else return bad_input("sweep: --for takes all, winograd or 1x1, not '%s'", v);
            continue;
        }
        uint64_t *dst = strcmp(argv[i], "--seed") == 0    ? &seed
                        : strcmp(argv[i], "--count") == 0 ? &count
                                                          : NULL;
        if (!dst) return bad_input("sweep: unknown option '%s'", argv[i]);
        if (!parse_u64(argv[i + 1], dst))
            return dst == &count
                       ? bad_input("sweep: --count takes 1..1000000, not '%s'", argv[i + 1])
                       : bad_input("sweep: --seed takes a whole number 0..18446744073709551615, "
                                   "not '%s'", argv[i + 1]);
        if (dst == &count && (count < 1 || count > 1000000))
            return bad_input("sweep: --count takes 1..1000000, not '%s'", argv[i + 1]);
    }
    cnnk_error err;
    if (cnnk_sweep_write_kind(seed, (int)count, kind, stdout, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk sweep: %s\n", err.msg);
        return cnnk_exit_of(CNNK_EIO);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BAD_INPUT : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "info") == 0) return cmd_info();
    if (strcmp(cmd, "validate") == 0) return cmd_validate(argc - 2, argv + 2);
    if (strcmp(cmd, "sweep") == 0) return cmd_sweep(argc - 2, argv + 2);
    if (strcmp(cmd, "nets") == 0) return cnnk_cmd_nets(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0) return cnnk_cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "tune") == 0) return cnnk_cmd_tune(argc - 2, argv + 2);
    if (strcmp(cmd, "compare") == 0) return cnnk_cmd_compare(argc - 2, argv + 2);
    if (strcmp(cmd, "report") == 0) return cnnk_cmd_report(argc - 2, argv + 2);
    fprintf(stderr, "cnnk: unknown command '%s' (valid: info, validate, sweep, nets, run, tune, compare, report)\n", cmd);
    return EXIT_BAD_INPUT;
}
