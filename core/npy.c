/* NumPy .npy files of float32 (include/cnnk/npy.h). */
#include "cnnk/npy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/desc.h"
#include "cnnk/outfile.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* The header dictionary, a Python literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
 * Keys in any order, each exactly once, nothing else. */
typedef struct hdr_parser {
    const char *p, *end, *name;
    cnnk_error *err;
} hdr_parser;

static void skip_ws(hdr_parser *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static cnnk_status bad(hdr_parser *h, const char *what) {
    return cnnk_fail(h->err, CNNK_EPARSE, "%s: not a valid .npy header: %s", h->name, what);
}

static int accept(hdr_parser *h, char c) {
    skip_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return 1;
    }
    return 0;
}

/* A quoted string (no escapes: none of the keys or dtypes need them). */
static cnnk_status quoted(hdr_parser *h, char *buf, size_t len) {
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return bad(h, "a quoted key or value expected");
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (n + 1 >= len) return bad(h, "a string too long");
        buf[n++] = *h->p++;
    }
    if (h->p >= h->end) return bad(h, "an unterminated string");
    h->p++;
    buf[n] = '\0';
    return CNNK_OK;
}

static cnnk_status shape_tuple(hdr_parser *h, cnnk_npy *a) {
    if (!accept(h, '(')) return bad(h, "'shape' is not a tuple");
    a->ndim = 0;
    a->count = 1;
    for (;;) {
        if (accept(h, ')')) break;
        skip_ws(h);
        if (h->p >= h->end || *h->p < '0' || *h->p > '9') return bad(h, "a shape entry is not a non-negative integer");
        int64_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            if (v > CNNK_MAX_DIM) break;
            v = v * 10 + (*h->p++ - '0');
        }
        if (h->p < h->end && *h->p >= '0' && *h->p <= '9') v = CNNK_MAX_DIM + 1;
        if (h->p < h->end && (*h->p == 'L')) h->p++; /* Python 2 writers */
        if (v > CNNK_MAX_DIM)
            return cnnk_fail(h->err, CNNK_EOVERFLOW, "%s: dimension %d exceeds the limit %lld", h->name,
                             a->ndim, (long long)CNNK_MAX_DIM);
        if (a->ndim == CNNK_NPY_MAX_DIMS)
            return cnnk_fail(h->err, CNNK_EUNSUPPORTED, "%s: more than %d dimensions", h->name,
                             CNNK_NPY_MAX_DIMS);
        a->shape[a->ndim++] = v;
        if (v && a->count > CNNK_MAX_ELEMS / v)
            return cnnk_fail(h->err, CNNK_EOVERFLOW, "%s: more than %lld elements", h->name,
                             (long long)CNNK_MAX_ELEMS);
        a->count *= v;
        if (accept(h, ',')) continue;
        if (accept(h, ')')) break;
        return bad(h, "',' or ')' expected in 'shape'");
    }
    return CNNK_OK;
}

static cnnk_status parse_dict(hdr_parser *h, cnnk_npy *a) {
    int seen_descr = 0, seen_order = 0, seen_shape = 0;
    if (!accept(h, '{')) return bad(h, "it does not start with '{'");
    for (;;) {
        if (accept(h, '}')) break;
        char key[32], val[32];
        CNNK_TRY(quoted(h, key, sizeof key));
        if (!accept(h, ':')) return bad(h, "':' expected after a key");
        if (strcmp(key, "descr") == 0 && !seen_descr) {
            seen_descr = 1;
            CNNK_TRY(quoted(h, val, sizeof val));
            if (strcmp(val, "<f4") != 0)
                return cnnk_fail(h->err, CNNK_EUNSUPPORTED,
                                 "%s: dtype '%s': only little-endian float32 ('<f4') is read; "
                                 "convert with x.astype(numpy.float32)",
                                 h->name, val);
        } else if (strcmp(key, "fortran_order") == 0 && !seen_order) {
            seen_order = 1;
            skip_ws(h);
            if (h->end - h->p >= 5 && memcmp(h->p, "False", 5) == 0) {
                h->p += 5;
            } else if (h->end - h->p >= 4 && memcmp(h->p, "True", 4) == 0) {
                return cnnk_fail(h->err, CNNK_EUNSUPPORTED,
                                 "%s: Fortran order is not read; save numpy.ascontiguousarray(x)", h->name);
            } else {
                return bad(h, "'fortran_order' is neither True nor False");
            }
        } else if (strcmp(key, "shape") == 0 && !seen_shape) {
            seen_shape = 1;
            CNNK_TRY(shape_tuple(h, a));
        } else {
            return bad(h, "an unknown or repeated key");
        }
        if (accept(h, ',')) continue;
        if (accept(h, '}')) break;
        return bad(h, "',' or '}' expected");
    }
    if (!seen_descr || !seen_order || !seen_shape) return bad(h, "'descr', 'fortran_order' or 'shape' missing");
    skip_ws(h);
    if (h->p != h->end) return bad(h, "text after the dictionary");
    return CNNK_OK;
}

cnnk_status cnnk_npy_parse(const void *buf, size_t len, const char *name, cnnk_npy *out,
                           cnnk_error *err) {
    const unsigned char *b = buf;
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(b, npy_magic, sizeof npy_magic) != 0)
        return cnnk_fail(err, CNNK_EPARSE, "%s: not a .npy file (no \\x93NUMPY magic)", name);
    unsigned major = b[6];
    size_t pre, hlen;
    if (major == 1) {
        pre = 10;
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
    } else if (major == 2 || major == 3) {
        if (len < 12) return cnnk_fail(err, CNNK_EPARSE, "%s: truncated .npy header", name);
        pre = 12;
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    } else {
        return cnnk_fail(err, CNNK_EUNSUPPORTED, "%s: .npy format version %u.%u is not read (1.0-3.0 are)",
                         name, major, b[7]);
    }
    if (hlen > len - pre) return cnnk_fail(err, CNNK_EPARSE, "%s: truncated .npy header", name);
    cnnk_npy a = {0};
    hdr_parser h = {(const char *)b + pre, (const char *)b + pre + hlen, name, err};
    CNNK_TRY(parse_dict(&h, &a));
    size_t have = len - pre - hlen, want = (size_t)a.count * sizeof(float);
    if (have != want)
        return cnnk_fail(err, CNNK_EPARSE,
                         "%s: the data part holds %zu bytes, the shape needs %zu (truncated or "
                         "trailing bytes)",
                         name, have, want);
    a.data = malloc(want ? want : 1);
    if (!a.data) return cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory for %zu bytes", name, want);
    memcpy(a.data, b + pre + hlen, want);
    *out = a;
    return CNNK_OK;
}

cnnk_status cnnk_npy_read(const char *path, cnnk_npy *out, cnnk_error *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return cnnk_fail(err, CNNK_EIO, "%s: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    cnnk_status s = CNNK_OK;
    long n = -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        s = cnnk_fail(err, CNNK_EIO, "%s: %s", path, errno ? strerror(errno) : "cannot seek");
    } else if ((unsigned long)n > (unsigned long)CNNK_MAX_ELEMS * sizeof(float) + (1u << 20)) {
        s = cnnk_fail(err, CNNK_EOVERFLOW, "%s: %ld bytes, more than a tensor of %lld floats", path, n,
                      (long long)CNNK_MAX_ELEMS);
    } else if (!(buf = malloc((size_t)n + 1))) {
        s = cnnk_fail(err, CNNK_ENOMEM, "%s: out of memory for %ld bytes", path, n);
    } else if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        s = cnnk_fail(err, CNNK_EIO, "%s: read error: %s", path, ferror(f) ? strerror(errno) : "short read");
    } else {
        s = cnnk_npy_parse(buf, (size_t)n, path, out, err);
    }
    free(buf);
    fclose(f);
    return s;
}

cnnk_status cnnk_npy_write(const char *path, int ndim, const int64_t *shape, const float *data,
                           cnnk_error *err) {
    if (ndim < 0 || ndim > CNNK_NPY_MAX_DIMS)
        return cnnk_fail(err, CNNK_EINVAL, "%s: %d dimensions (0 to %d are written)", path, ndim,
                         CNNK_NPY_MAX_DIMS);
    char dict[256];
    int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || shape[i] > CNNK_MAX_DIM || (shape[i] && count > CNNK_MAX_ELEMS / shape[i]))
            return cnnk_fail(err, CNNK_EOVERFLOW, "%s: dimension %d (%lld) out of range", path, i,
                             (long long)shape[i]);
        count *= shape[i];
        k += snprintf(dict + k, sizeof dict - (size_t)k, "%lld%s", (long long)shape[i],
                      ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
    }
    k += snprintf(dict + k, sizeof dict - (size_t)k, "), }");
    /* Pad with spaces so that magic + version + length + header is a
     * multiple of 64 bytes, the header ending in '\n' (the format's rule). */
    size_t hlen = (size_t)k + 1, total = 10 + hlen;
    hlen += (64 - total % 64) % 64;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    char hdr[320];
    memset(hdr, ' ', hlen);
    memcpy(hdr, dict, (size_t)k);
    hdr[hlen - 1] = '\n';

    char target[CNNK_OUT_PATH_MAX], tmp[CNNK_OUT_PATH_MAX];
    int fd = -1;
    CNNK_TRY(cnnk_outfile_open(path, target, tmp, &fd, err));
    cnnk_status s = cnnk_outfile_write(fd, (const char *)pre, sizeof pre, tmp, err);
    if (s == CNNK_OK) s = cnnk_outfile_write(fd, hdr, hlen, tmp, err);
    if (s == CNNK_OK && count)
        s = cnnk_outfile_write(fd, (const char *)data, (size_t)count * sizeof(float), tmp, err);
    if (s != CNNK_OK) {
        cnnk_outfile_abort(fd, tmp);
        return s;
    }
    return cnnk_outfile_commit(fd, tmp, target, err);
}

void cnnk_npy_free(cnnk_npy *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

void cnnk_nchw_to_nhwc(float *dst, const float *src, int64_t n, int64_t c, int64_t h, int64_t w) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t p = 0; p < h * w; p++) dst[(i * h * w + p) * c + ch] = src[(i * c + ch) * h * w + p];
}

void cnnk_nhwc_to_nchw(float *dst, const float *src, int64_t n, int64_t c, int64_t h, int64_t w) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t p = 0; p < h * w; p++) dst[(i * c + ch) * h * w + p] = src[(i * h * w + p) * c + ch];
}
