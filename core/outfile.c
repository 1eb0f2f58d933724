/* Results files written whole or not at all (include/cnnk/outfile.h). */
#define _GNU_SOURCE /* realpath, mkstemp, fchmod */

#include "cnnk/outfile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

/* The directory part of target ("." when it has none) into dir. */
static void dir_of(const char *target, char *dir) {
    const char *slash = strrchr(target, '/');
    if (!slash) snprintf(dir, CNNK_OUT_PATH_MAX, ".");
    else if (slash == target) snprintf(dir, CNNK_OUT_PATH_MAX, "/");
    else snprintf(dir, CNNK_OUT_PATH_MAX, "%.*s", (int)(slash - target), target);
}

/* "<dir>/.<name>.tmp.XXXXXX" for mkstemp. */
static cnnk_status temp_name(const char *target, char *tmp, cnnk_error *err) {
    const char *slash = strrchr(target, '/');
    const int dir = slash ? (int)(slash - target + 1) : 0;
    const int n = snprintf(tmp, CNNK_OUT_PATH_MAX, "%.*s.%s.tmp.XXXXXX", dir, target,
                           target + dir);
    if (n < 0 || n >= CNNK_OUT_PATH_MAX)
        return cnnk_fail(err, CNNK_EINVAL, "results file %s: path too long for its temporary",
                         target);
    return CNNK_OK;
}

static cnnk_status resolve(const char *path, char *target, cnnk_error *err) {
    if (!path || !path[0]) return cnnk_fail(err, CNNK_EINVAL, "results file: empty path");
    const size_t len = strlen(path);
    if (len >= CNNK_OUT_PATH_MAX)
        return cnnk_fail(err, CNNK_EINVAL,
                         "results file: path of %zu characters, longer than the %d allowed",
                         len, CNNK_OUT_PATH_MAX - 1);
    if (path[len - 1] == '/')
        return cnnk_fail(err, CNNK_EINVAL, "results file %s: names a directory, not a file", path);
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return cnnk_fail(err, CNNK_EINVAL, "results file %s: %s", path, strerror(errno));
        memcpy(target, path, len + 1); /* nothing there yet */
        return CNNK_OK;
    }
    if (S_ISREG(st.st_mode)) {
        memcpy(target, path, len + 1);
        return CNNK_OK;
    }
    if (!S_ISLNK(st.st_mode))
        return cnnk_fail(err, CNNK_EINVAL, "results file %s: is %s; refusing to replace it", path,
                         kind_of(st.st_mode));
    /* A link: written through to the regular file it resolves to. */
    char real[PATH_MAX];
    if (!realpath(path, real))
        return cnnk_fail(err, CNNK_EINVAL,
                         "results file %s: a symbolic link that does not resolve (%s); refusing "
                         "to replace it",
                         path, strerror(errno));
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return cnnk_fail(err, CNNK_EINVAL,
                         "results file %s: a symbolic link to %s, which is %s; refusing to "
                         "replace it",
                         path, real, kind_of(st.st_mode));
    if (strlen(real) >= CNNK_OUT_PATH_MAX)
        return cnnk_fail(err, CNNK_EINVAL, "results file %s: its target's path is too long", path);
    snprintf(target, CNNK_OUT_PATH_MAX, "%s", real);
    return CNNK_OK;
}

static cnnk_status create_temp(const char *path, const char *target, char *tmp, int *fd,
                               cnnk_error *err) {
    CNNK_TRY(temp_name(target, tmp, err));
    *fd = mkstemp(tmp);
    if (*fd < 0) {
        char dir[CNNK_OUT_PATH_MAX];
        dir_of(target, dir);
        struct stat st;
        if (stat(dir, &st) != 0)
            return cnnk_fail(err, CNNK_EINVAL, "results file %s: directory %s: %s", path, dir,
                             strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return cnnk_fail(err, CNNK_EINVAL, "results file %s: %s is not a directory", path,
                             dir);
        return cnnk_fail(err, CNNK_EINVAL, "results file %s: cannot create a file in %s: %s",
                         path, dir, strerror(errno));
    }
    /* mkstemp makes 0600; results are meant to be shared. */
    if (fchmod(*fd, 0644) != 0) {
        cnnk_status s = cnnk_fail(err, CNNK_EIO, "results file %s: chmod %s: %s", path, tmp,
                                  strerror(errno));
        cnnk_outfile_abort(*fd, tmp);
        *fd = -1;
        return s;
    }
    return CNNK_OK;
}

cnnk_status cnnk_outfile_target(const char *path, char *target, cnnk_error *err) {
    CNNK_TRY(resolve(path, target, err));
    char tmp[CNNK_OUT_PATH_MAX];
    int fd;
    CNNK_TRY(create_temp(path, target, tmp, &fd, err));
    cnnk_outfile_abort(fd, tmp);
    return CNNK_OK;
}

cnnk_status cnnk_outfile_open(const char *path, char *target, char *tmp, int *fd,
                              cnnk_error *err) {
    *fd = -1;
    CNNK_TRY(resolve(path, target, err));
    return create_temp(path, target, tmp, fd, err);
}

cnnk_status cnnk_outfile_write(int fd, const char *text, size_t len, const char *tmp,
                               cnnk_error *err) {
    while (len > 0) {
        const ssize_t w = write(fd, text, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            return cnnk_fail(err, CNNK_EIO, "cannot write %s: %s", tmp,
                             w < 0 ? strerror(errno) : "nothing written");
        text += w, len -= (size_t)w;
    }
    return CNNK_OK;
}

cnnk_status cnnk_outfile_commit(int fd, const char *tmp, const char *target, cnnk_error *err) {
    cnnk_status s = CNNK_OK;
    if (fd >= 0) {
        if (fsync(fd) != 0)
            s = cnnk_fail(err, CNNK_EIO, "cannot write %s: %s", tmp, strerror(errno));
        if (close(fd) != 0 && s == CNNK_OK)
            s = cnnk_fail(err, CNNK_EIO, "cannot write %s: %s", tmp, strerror(errno));
    }
    /* The target may have become something else while the work ran. */
    struct stat st;
    if (s == CNNK_OK && lstat(target, &st) == 0 && !S_ISREG(st.st_mode))
        s = cnnk_fail(err, CNNK_EINVAL, "results file %s: is now %s; refusing to replace it",
                      target, S_ISLNK(st.st_mode) ? "a symbolic link" : kind_of(st.st_mode));
    if (s == CNNK_OK && rename(tmp, target) != 0)
        s = cnnk_fail(err, CNNK_EIO, "cannot rename %s to %s: %s", tmp, target, strerror(errno));
    if (s != CNNK_OK) unlink(tmp);
    return s;
}

void cnnk_outfile_abort(int fd, const char *tmp) {
    if (fd >= 0) close(fd);
    if (tmp && tmp[0]) unlink(tmp);
}
