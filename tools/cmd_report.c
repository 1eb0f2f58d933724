/* `cnnk report RESULTS.json [...] [--db DB] [-o report.html]`: one
 * self-contained HTML page of charts (docs/REPORT.md), written under a
 * temporary name and renamed when complete, so bad input never leaves a
 * half-written page. Exit 0 written, 2 bad input (docs/EXIT_CODES.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/outfile.h"
#include "tools/commands.h"
#include "tools/report_data.h"
#include "tools/report_html.h"

enum { MAX_JSON = 64 };

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "cnnk report: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (usage: cnnk report RESULTS.json [...] [--db DB] [-o FILE])\n");
    return CNNK_EXIT_BAD_INPUT;
}

static int fail(const cnnk_error *err) {
    fprintf(stderr, "cnnk %s\n", err->msg);
    return CNNK_EXIT_BAD_INPUT;
}

/* Writes html to path through a temporary file renamed over it. */
static cnnk_status write_atomic(const char *path, const char *html, size_t len,
                                cnnk_error *err) {
    char target[CNNK_OUT_PATH_MAX], tmp[CNNK_OUT_PATH_MAX];
    int fd = -1;
    cnnk_status s = cnnk_outfile_open(path, target, tmp, &fd, err);
    if (s != CNNK_OK) return s;
    s = cnnk_outfile_write(fd, html, len, tmp, err);
    if (s != CNNK_OK) {
        cnnk_outfile_abort(fd, tmp);
        return s;
    }
    return cnnk_outfile_commit(fd, tmp, target, err);
}

int cnnk_cmd_report(int argc, char **argv) {
    const char *json[MAX_JSON], *db = NULL, *out = "report.html";
    int njson = 0;
    for (int i = 0; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: cnnk report RESULTS.json [RESULTS.json...] [--db DB] [-o report.html]\n"
                   "  one self-contained HTML page (docs/REPORT.md): per network, bars of each\n"
                   "  plan and ISA beside oneDNN; per layer, a roofline and the fastest kernel;\n"
                   "  with --db, each network's time across the database's revisions\n");
            return CNNK_EXIT_OK;
        }
        if (strcmp(argv[i], "--db") == 0 || strcmp(argv[i], "-o") == 0 ||
            strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc) return usage_error("%s needs a value", argv[i]);
            if (strcmp(argv[i], "--db") == 0) {
                if (db) return usage_error("--db given twice (%s)", argv[i + 1]);
                db = argv[++i];
            } else {
                out = argv[++i];
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("unknown option '%s'", argv[i]);
        } else {
            if (njson == MAX_JSON) return usage_error("at most 64 results files (%s)", argv[i]);
            json[njson++] = argv[i];
        }
    }
    if (njson == 0 && !db) return usage_error("%s", "give results JSON files, --db DB, or both");
    cnnk_error err;
    char target[CNNK_OUT_PATH_MAX];
    /* Refuse an impossible output before reading anything. */
    if (cnnk_outfile_target(out, target, &err) != CNNK_OK) {
        fprintf(stderr, "cnnk report: -o: %s\n", err.msg);
        return CNNK_EXIT_BAD_INPUT;
    }
    rpt_data d;
    memset(&d, 0, sizeof d);
    int rc = CNNK_EXIT_OK;
    for (int i = 0; i < njson && rc == CNNK_EXIT_OK; ++i)
        if (rpt_load_json(&d, json[i], &err) != CNNK_OK) rc = fail(&err);
    if (rc == CNNK_EXIT_OK && db && rpt_load_db(&d, db, &err) != CNNK_OK) rc = fail(&err);
    char *html = NULL;
    size_t len = 0;
    if (rc == CNNK_EXIT_OK && rpt_write_html(&d, &html, &len, &err) != CNNK_OK) rc = fail(&err);
    if (rc == CNNK_EXIT_OK) {
        if (write_atomic(out, html, len, &err) != CNNK_OK) {
            fprintf(stderr, "cnnk report: %s\n", err.msg);
            rc = CNNK_EXIT_BAD_INPUT;
        } else {
            printf("report: %s\n", out);
        }
    }
    free(html);
    rpt_free(&d);
    return rc;
}
