/* NumPy .npy files (core/npy.c): byte-identical to what numpy 1.24 writes,
 * every malformed file an error that says what is wrong, and the NCHW/NHWC
 * layout changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cnnk/npy.h"

/* numpy.save of (numpy.arange(6, dtype=numpy.float32).reshape(2, 3) * 0.5 - 1),
 * numpy 1.24.2 (Debian 12). */
static const unsigned char numpy_2x3[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20,
    0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f,
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x3f,
};

static void test_reads_numpy(void) {
    cnnk_npy a;
    cnnk_error e = {{0}};
    CHECK(cnnk_npy_parse(numpy_2x3, sizeof numpy_2x3, "numpy_2x3", &a, &e) == CNNK_OK);
    CHECK(a.ndim == 2);
    CHECK_EQ_I64(a.shape[0], 2);
    CHECK_EQ_I64(a.shape[1], 3);
    CHECK_EQ_I64(a.count, 6);
    for (int i = 0; i < 6 && a.data; i++) CHECK(a.data[i] == (float)i * 0.5f - 1.0f);
    cnnk_npy_free(&a);
}

static char *tmp_path(const char *stem) {
    static char buf[256];
    snprintf(buf, sizeof buf, "/tmp/test_npy_%d_%s.npy", (int)getpid(), stem);
    return buf;
}

static void test_writes_numpy(void) {
    const char *p = tmp_path("w");
    float v[6];
    for (int i = 0; i < 6; i++) v[i] = (float)i * 0.5f - 1.0f;
    int64_t shape[2] = {2, 3};
    cnnk_error e = {{0}};
    CHECK(cnnk_npy_write(p, 2, shape, v, &e) == CNNK_OK);
    FILE *f = fopen(p, "rb");
    CHECK(f != NULL);
    unsigned char buf[512];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    CHECK(n == sizeof numpy_2x3);
    CHECK(n == sizeof numpy_2x3 && memcmp(buf, numpy_2x3, n) == 0);
    /* Round trips: a scalar, a 1-D array (numpy's "(4,)"), an empty one. */
    int64_t s1[1] = {4}, s0[3] = {2, 0, 5};
    float four[4] = {1, -2, 3.5f, 1e-30f};
    cnnk_npy a;
    CHECK(cnnk_npy_write(p, 0, NULL, four, &e) == CNNK_OK);
    CHECK(cnnk_npy_read(p, &a, &e) == CNNK_OK && a.ndim == 0 && a.count == 1 && a.data[0] == 1.0f);
    cnnk_npy_free(&a);
    CHECK(cnnk_npy_write(p, 1, s1, four, &e) == CNNK_OK);
    CHECK(cnnk_npy_read(p, &a, &e) == CNNK_OK && a.ndim == 1 && a.count == 4 &&
          memcmp(a.data, four, sizeof four) == 0);
    cnnk_npy_free(&a);
    CHECK(cnnk_npy_write(p, 3, s0, NULL, &e) == CNNK_OK);
    CHECK(cnnk_npy_read(p, &a, &e) == CNNK_OK && a.ndim == 3 && a.count == 0);
    cnnk_npy_free(&a);
    unlink(p);
    /* A missing file names its reason; a refused destination is an error. */
    CHECK(cnnk_npy_read("/nonexistent/x.npy", &a, &e) == CNNK_EIO && strstr(e.msg, "No such file"));
    CHECK(cnnk_npy_read("/tmp", &a, &e) != CNNK_OK);
    CHECK(cnnk_npy_write("/dev/null", 1, s1, four, &e) != CNNK_OK);
}

/* numpy_2x3 with its header text replaced (padded to the same length). */
static cnnk_status parse_with_header(const char *dict, size_t data_bytes, const char *want) {
    unsigned char buf[256];
    size_t hlen = 118;
    memcpy(buf, numpy_2x3, 10);
    memset(buf + 10, ' ', hlen);
    memcpy(buf + 10, dict, strlen(dict));
    buf[10 + hlen - 1] = '\n';
    memcpy(buf + 10 + hlen, numpy_2x3 + 128, 24);
    cnnk_npy a;
    cnnk_error e = {{0}};
    cnnk_status s = cnnk_npy_parse(buf, 10 + hlen + data_bytes, "h", &a, &e);
    if (s == CNNK_OK) {
        cnnk_npy_free(&a);
    } else if (!strstr(e.msg, want)) {
        fprintf(stderr, "  header %s: message '%s' lacks '%s'\n", dict, e.msg, want);
        CHECK(0);
    }
    return s;
}

static void test_rejects(void) {
    const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    CHECK(parse_with_header(ok, 24, "") == CNNK_OK);
    CHECK(parse_with_header("{'shape': (3, 2), 'fortran_order': False, 'descr': '<f4'}", 24, "") == CNNK_OK);
    CHECK(parse_with_header(ok, 20, "truncated") == CNNK_EPARSE);
    CHECK(parse_with_header(ok, 28, "trailing") == CNNK_EPARSE);
    CHECK(parse_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 24, "float32") ==
          CNNK_EUNSUPPORTED);
    CHECK(parse_with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24, "float32") ==
          CNNK_EUNSUPPORTED);
    CHECK(parse_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24, "Fortran") ==
          CNNK_EUNSUPPORTED);
    CHECK(parse_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 24, "integer") ==
          CNNK_EPARSE);
    CHECK(parse_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 3), }", 24,
                            "limit") == CNNK_EOVERFLOW);
    CHECK(parse_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536, 4), }", 24,
                            "elements") == CNNK_EOVERFLOW);
    CHECK(parse_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,2,3), }", 24,
                            "dimensions") == CNNK_EUNSUPPORTED);
    CHECK(parse_with_header("{'descr': '<f4', 'shape': (2, 3), }", 24, "missing") == CNNK_EPARSE);
    CHECK(parse_with_header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 24,
                            "repeated") == CNNK_EPARSE);
    CHECK(parse_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x", 24, "after") ==
          CNNK_EPARSE);
    CHECK(parse_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", 24, "expected") ==
          CNNK_EPARSE);
    CHECK(parse_with_header("{'descr: '<f4'", 24, "") == CNNK_EPARSE);
    /* The preamble: magic, version, a header longer than the file. */
    unsigned char b[sizeof numpy_2x3];
    cnnk_npy a;
    cnnk_error e = {{0}};
    memcpy(b, numpy_2x3, sizeof b);
    b[1] = 'X';
    CHECK(cnnk_npy_parse(b, sizeof b, "m", &a, &e) == CNNK_EPARSE && strstr(e.msg, "magic"));
    memcpy(b, numpy_2x3, sizeof b);
    b[6] = 4;
    CHECK(cnnk_npy_parse(b, sizeof b, "v", &a, &e) == CNNK_EUNSUPPORTED && strstr(e.msg, "version"));
    memcpy(b, numpy_2x3, sizeof b);
    b[9] = 0x10;
    CHECK(cnnk_npy_parse(b, sizeof b, "l", &a, &e) == CNNK_EPARSE && strstr(e.msg, "truncated"));
    for (size_t cut = 0; cut < sizeof numpy_2x3; cut++)
        CHECK(cnnk_npy_parse(numpy_2x3, cut, "cut", &a, &e) != CNNK_OK);
}

static void test_layouts(void) {
    enum { N = 2, C = 3, H = 4, W = 5, E = N * C * H * W };
    float nchw[E], nhwc[E], back[E];
    for (int i = 0; i < E; i++) nchw[i] = (float)i;
    cnnk_nchw_to_nhwc(nhwc, nchw, N, C, H, W);
    /* (n=1, c=2, h=3, w=4) */
    CHECK(nhwc[((1 * H + 3) * W + 4) * C + 2] == nchw[((1 * C + 2) * H + 3) * W + 4]);
    CHECK(nhwc[1] == nchw[H * W]);
    cnnk_nhwc_to_nchw(back, nhwc, N, C, H, W);
    CHECK(memcmp(back, nchw, sizeof nchw) == 0);
}

int main(void) {
    test_reads_numpy();
    test_writes_numpy();
    test_rejects();
    test_layouts();
    return check_finish("test_npy");
}
