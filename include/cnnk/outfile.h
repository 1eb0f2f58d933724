/* Results files (tuned plans, the main job's JSON): checked before the work
 * that fills them, written under a temporary name beside the destination
 * and renamed over it when complete, so a failed, interrupted or refused
 * run leaves the previous file as it was (docs/EXIT_CODES.md). */
#ifndef CNNK_OUTFILE_H
#define CNNK_OUTFILE_H

#include <stddef.h>

#include "cnnk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest path accepted, terminator included (Linux's PATH_MAX). A
 * longer one is refused, never cut. */
#define CNNK_OUT_PATH_MAX 4096

/* Resolves where a results file for path goes, into target
 * (CNNK_OUT_PATH_MAX bytes):
 *   - path itself when nothing is there or a regular file is;
 *   - through a symbolic link, the regular file it points to (the link
 *     stays and its target is replaced: "write through");
 * and refuses, with CNNK_EINVAL and a message naming path and what is
 * there: an empty or too long path, a directory, a device (/dev/null,
 * /dev/full), a FIFO or socket, a link to any of these or to nothing, and
 * a directory that does not exist or is not writable (proved by creating
 * and removing a temporary file there). Call it before the work starts;
 * cnnk_outfile_open checks again. */
cnnk_status cnnk_outfile_target(const char *path, char *target, cnnk_error *err);

/* Creates the temporary "<dir>/.<name>.tmp.XXXXXX" (mode 0644) beside the
 * resolved target of path; fills target and tmp (CNNK_OUT_PATH_MAX bytes
 * each) and returns its descriptor in *fd. */
cnnk_status cnnk_outfile_open(const char *path, char *target, char *tmp, int *fd,
                              cnnk_error *err);

/* Writes all of text to fd (EINTR and short writes retried). */
cnnk_status cnnk_outfile_write(int fd, const char *text, size_t len, const char *tmp,
                               cnnk_error *err);

/* fsyncs and closes fd (fd < 0: already closed), then renames tmp over
 * target; on any failure removes tmp and leaves target untouched. */
cnnk_status cnnk_outfile_commit(int fd, const char *tmp, const char *target, cnnk_error *err);

/* Closes fd (when >= 0) and removes tmp: the work failed. */
void cnnk_outfile_abort(int fd, const char *tmp);

#ifdef __cplusplus
}
#endif
#endif
