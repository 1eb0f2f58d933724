/* `cnnk tune`: times every kernel of an ISA on each distinct convolution
 * shape of the given networks and writes the fastest per shape to a plan
 * file for `--plan tuned:<file>` (docs/TUNING.md). */
#define _POSIX_C_SOURCE 200809L /* mkdir */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnnk/cpu.h"
#include "cnnk/outfile.h"
#include "cnnk/tune.h"
#include "tools/commands.h"

enum { TUNE_OK = CNNK_EXIT_OK, TUNE_BAD_INPUT = CNNK_EXIT_BAD_INPUT };
#define MAX_NETS 16

typedef struct tune_args {
    char nets_buf[512];
    const char *nets[MAX_NETS];
    int nnets;
    cnnk_isa isa;
    long long batch, h, w, threads, reps;
    const char *out; /* NULL: the default path */
} tune_args;

static int bad(const char *fmt, const char *arg) {
    fprintf(stderr, "cnnk tune: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return TUNE_BAD_INPUT;
}

static bool parse_ll(const char *s, long long lo, long long hi, long long *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi) return false;
    *v = x;
    return true;
}

static int parse_nets(tune_args *a, const char *v) {
    if (strlen(v) >= sizeof a->nets_buf) return bad("--net list too long: %s", v);
    snprintf(a->nets_buf, sizeof a->nets_buf, "%s", v);
    a->nnets = 0;
    for (char *save = NULL, *t = strtok_r(a->nets_buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (a->nnets == MAX_NETS) return bad("at most 16 networks in --net %s", v);
        a->nets[a->nnets++] = t;
    }
    return a->nnets ? TUNE_OK : bad("--net takes NAME[,NAME...], not '%s'", v);
}

static int parse_opt(tune_args *a, const char *o, const char *v) {
    if (strcmp(o, "--net") == 0) return parse_nets(a, v);
    if (strcmp(o, "--isa") == 0) {
        if (!cnnk_isa_from_name(v, &a->isa)) {
            /* the list is the enum's: an ISA added there is named here */
            char valid[128] = "";
            for (int i = 0; i < CNNK_ISA_COUNT; ++i)
                snprintf(valid + strlen(valid), sizeof valid - strlen(valid), "%s%s",
                         i ? ", " : "", cnnk_isa_name((cnnk_isa)i));
            fprintf(stderr, "cnnk tune: unknown ISA '%s' (valid: %s)\n", v, valid);
            return TUNE_BAD_INPUT;
        }
        if (!cnnk_isa_available(a->isa)) return bad("this CPU does not run ISA %s", v);
    } else if (strcmp(o, "--batch") == 0) {
        if (!parse_ll(v, 1, 1 << 16, &a->batch)) return bad("--batch takes 1..65536, not '%s'", v);
    } else if (strcmp(o, "--input") == 0) {
        char *x;
        a->h = strtoll(v, &x, 10);
        if (*x != 'x' || !parse_ll(x + 1, 1, 65536, &a->w) || a->h < 1 || a->h > 65536)
            return bad("--input takes HxW, each 1..65536, e.g. 224x224, not '%s'", v);
    } else if (strcmp(o, "--threads") == 0) {
        if (!parse_ll(v, 1, 4096, &a->threads)) return bad("--threads takes 1..4096, not '%s'", v);
    } else if (strcmp(o, "--reps") == 0) {
        if (!parse_ll(v, 1, 1000, &a->reps)) return bad("--reps takes 1 to 1000, not '%s'", v);
    } else if (strcmp(o, "--out") == 0) {
        a->out = v;
    } else {
        return bad("unknown option '%s' (see cnnk --help)", o);
    }
    return TUNE_OK;
}

static int parse_args(int argc, char **argv, tune_args *a) {
    memset(a, 0, sizeof *a);
    a->isa = cnnk_best_isa();
    a->batch = 1, a->h = a->w = 224, a->threads = cnnk_cpu()->cores, a->reps = 5;
    for (int i = 0; i < argc; i += 2) {
        if (i + 1 >= argc) return bad("%s needs a value", argv[i]);
        const int rc = parse_opt(a, argv[i], argv[i + 1]);
        if (rc != TUNE_OK) return rc;
    }
    return a->nnets ? TUNE_OK : bad("give --net NAME[,NAME...]%s", "");
}

/* The default path lives under plans/: create that one folder if needed
 * (a path the user gave is taken as is). */
static int ensure_plans_dir(void) {
    if (mkdir("plans", 0755) == 0 || errno == EEXIST) return TUNE_OK;
    fprintf(stderr, "cnnk tune: cannot create plans/: %s\n", strerror(errno));
    return TUNE_BAD_INPUT;
}

int cnnk_cmd_tune(int argc, char **argv) {
    tune_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != TUNE_OK) return rc;
    const cnnk_tune_opts o = {
        .nets = a.nets, .nnets = a.nnets, .isa = a.isa, .mb = a.batch, .h = a.h, .w = a.w,
        .nthreads = (int)a.threads, .reps = (int)a.reps, .log = stdout,
    };
    char path[CNNK_OUT_PATH_MAX], target[CNNK_OUT_PATH_MAX];
    if (a.out) {
        if (strlen(a.out) >= sizeof path) {
            fprintf(stderr, "cnnk tune: --out: a path of %zu characters, longer than the %d allowed\n",
                    strlen(a.out), CNNK_OUT_PATH_MAX - 1);
            return TUNE_BAD_INPUT;
        }
        snprintf(path, sizeof path, "%s", a.out);
    } else {
        cnnk_tune_cpu cpu;
        cnnk_tune_this_cpu(a.isa, (int)a.threads, &cpu);
        cnnk_tune_default_path(&cpu, path, sizeof path);
        if (ensure_plans_dir() != TUNE_OK) return TUNE_BAD_INPUT;
    }
    /* Before minutes of tuning: the plan must be writable there. */
    cnnk_error err;
    if (cnnk_outfile_target(path, target, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk tune: %s\n", err.msg);
        return TUNE_BAD_INPUT;
    }
    printf("tuning %d network(s) at %lldx3x%lldx%lld, isa %s, %lld thread(s), median of %lld\n",
           a.nnets, a.batch, a.h, a.w, cnnk_isa_name(a.isa), a.threads, a.reps);
    cnnk_tune_table *t = NULL;
    cnnk_status s = cnnk_tune_run(&o, &t, &err);
    if (s == CNNK_OK) s = cnnk_tune_write(t, path, &err);
    if (s == CNNK_OK && strcmp(path, target) != 0)
        printf("wrote %s (through the link %s): %d shapes (use --plan tuned:%s)\n", target, path,
               t->n, path);
    else if (s == CNNK_OK)
        printf("wrote %s: %d shapes (use --plan tuned:%s)\n", path, t->n, path);
    else
        fprintf(stderr, "cnnk tune: %s\n", err.msg);
    cnnk_tune_free(t);
    return cnnk_exit_of(s);
}
