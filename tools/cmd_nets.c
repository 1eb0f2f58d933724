/* `cnnk nets`: one row per network -- weight layers, parameters, GMACs and
 * the peak activation memory the runner plans for it (reference plan, so
 * the figure does not depend on this CPU's kernels).
 *
 *   cnnk nets [--format table|csv] [--batch N] [--input HxW] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "tools/commands.h"

enum { EXIT_BAD_INPUT = CNNK_EXIT_BAD_INPUT };

typedef struct nets_opts {
    bool csv;
    int64_t mb, h, w;
} nets_opts;

typedef struct nets_row {
    const char *name;
    int layers;
    int64_t params, macs, act_bytes;
} nets_row;

/* One line: what is wrong, with the argument, then where the usage is. */
static int usage_error(const char *what, const char *arg, const char *valid) {
    fprintf(stderr, "cnnk nets: %s '%s'%s (usage: cnnk nets [--format table|csv] [--batch N] "
                    "[--input HxW])\n",
            what, arg ? arg : "", valid);
    return EXIT_BAD_INPUT;
}

/* A positive decimal integer up to CNNK_MAX_DIM, the whole string. */
static bool parse_dim(const char *s, int64_t *v) {
    char *end;
    if (!s || *s < '0' || *s > '9') return false;
    long long x = strtoll(s, &end, 10);
    if (*end != '\0' || x < 1 || x > CNNK_MAX_DIM) return false;
    *v = x;
    return true;
}

static bool parse_hw(const char *s, int64_t *h, int64_t *w) {
    const char *x = s ? strchr(s, 'x') : NULL;
    if (!x || x == s) return false;
    char hs[32];
    size_t len = (size_t)(x - s);
    if (len >= sizeof hs) return false;
    memcpy(hs, s, len);
    hs[len] = '\0';
    return parse_dim(hs, h) && parse_dim(x + 1, w);
}

static int parse_opts(int argc, char **argv, nets_opts *o) {
    *o = (nets_opts){.csv = false, .mb = 1, .h = 0, .w = 0}; /* 0: each network's default */
    for (int i = 0; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--format") == 0 && v) {
            if (strcmp(v, "csv") == 0) o->csv = true;
            else if (strcmp(v, "table") == 0) o->csv = false;
            else return usage_error("unknown format", v, ", valid: table, csv;");
        } else if (strcmp(a, "--batch") == 0 && v) {
            if (!parse_dim(v, &o->mb)) return usage_error("--batch takes 1..16777216, not", v, "");
        } else if (strcmp(a, "--input") == 0 && v) {
            if (!parse_hw(v, &o->h, &o->w)) return usage_error("--input takes HxW, each 1..16777216, not", v, "");
        } else if (strcmp(a, "--format") == 0 || strcmp(a, "--batch") == 0 ||
                   strcmp(a, "--input") == 0) {
            return usage_error("missing value after", a, "");
        } else {
            return usage_error("unknown option", a, "");
        }
        ++i;
    }
    return 0;
}

/* The runner's peak: it needs weights to prepare, so they are made (any
 * seed: the memory plan does not depend on the values). */
static cnnk_status activation_bytes(cnnk_net *n, int64_t *bytes, cnnk_error *err) {
    cnnk_status s = cnnk_net_init_weights(n, 1, err);
    if (s != CNNK_OK) return s;
    cnnk_plan plan = {.kind = CNNK_PLAN_REF, .algo = CNNK_ALGO_DIRECT};
    cnnk_runner *r = NULL;
    s = cnnk_runner_prepare(n, CNNK_ISA_REF, &plan, 1, &r, err);
    if (s != CNNK_OK) return s;
    *bytes = cnnk_runner_peak_activation_bytes(r);
    cnnk_runner_destroy(r);
    return CNNK_OK;
}

static int measure(const char *name, const nets_opts *o, nets_row *row) {
    cnnk_net *n = NULL;
    cnnk_error err;
    cnnk_status s = cnnk_net_build(name, o->mb, o->h, o->w, &n, &err);
    if (s != CNNK_OK) {
        fprintf(stderr, "cnnk nets: %s at %lldx%lld: %s\n", name, (long long)o->h,
                (long long)o->w, err.msg);
        return cnnk_exit_of(s);
    }
    *row = (nets_row){.name = name, .layers = cnnk_net_weight_layers(n),
                      .params = cnnk_net_params(n), .macs = cnnk_net_macs(n)};
    s = activation_bytes(n, &row->act_bytes, &err);
    cnnk_net_destroy(n);
    if (s != CNNK_OK) {
        fprintf(stderr, "cnnk nets: %s: %s\n", name, err.msg);
        return cnnk_exit_of(s);
    }
    return 0;
}

static void print_row(const nets_row *r, bool csv) {
    if (csv)
        printf("%s,%d,%" PRId64 ",%.3f,%" PRId64 "\n", r->name, r->layers, r->params,
               (double)r->macs / 1e9, r->act_bytes);
    else
        printf("%-12s %6d %12" PRId64 " %9.3f %16" PRId64 "\n", r->name, r->layers, r->params,
               (double)r->macs / 1e9, r->act_bytes);
}

int cnnk_cmd_nets(int argc, char **argv) {
    nets_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc) return rc;
    /* Every row is measured before anything is printed: a network that
     * cannot take the input must not leave a header-only CSV behind. */
    const size_t n = cnnk_net_count();
    nets_row *rows = calloc(n, sizeof *rows);
    if (!rows) return fprintf(stderr, "cnnk nets: out of memory\n"), cnnk_exit_of(CNNK_ENOMEM);
    for (size_t i = 0; i < n; ++i) {
        rc = measure(cnnk_net_name_at(i), &o, &rows[i]);
        if (rc) return free(rows), rc;
    }
    if (o.csv) printf("name,layers,params,gmacs,activation_bytes\n");
    else
        printf("%-12s %6s %12s %9s %16s\n", "name", "layers", "params", "gmacs",
               "activation_bytes");
    for (size_t i = 0; i < n; ++i) print_row(&rows[i], o.csv);
    free(rows);
    return 0;
}
