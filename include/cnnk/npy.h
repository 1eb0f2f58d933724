/* NumPy .npy files of float32: how tensors come in (--input-npy) and go
 * out (--output-npy) so any framework can check cnnk's answer, and how the
 * PyTorch oracle hands weights to the built-in networks (docs/ONNX.md).
 *
 * Read: format versions 1.0, 2.0 and 3.0; dtype little-endian float32
 * ('<f4'), C order, 0 to 8 dimensions, each 0..CNNK_MAX_DIM and at most
 * CNNK_MAX_ELEMS elements in all; the data must fill the rest of the file
 * exactly. Anything else (another dtype, Fortran order, a malformed or
 * truncated header, a short or long data part) is an error naming the file
 * and what is wrong, never a crash.
 * Write: version 1.0, '<f4', C order, atomically (cnnk/outfile.h: a
 * temporary beside the target, renamed when complete). */
#ifndef CNNK_NPY_H
#define CNNK_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "cnnk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CNNK_NPY_MAX_DIMS 8

typedef struct cnnk_npy {
    int ndim;
    int64_t shape[CNNK_NPY_MAX_DIMS];
    int64_t count; /* product of shape (1 for 0 dimensions) */
    float *data;   /* count values, C order; free with cnnk_npy_free */
} cnnk_npy;

/* Parses a whole .npy image held in memory (len bytes); data is copied. */
cnnk_status cnnk_npy_parse(const void *buf, size_t len, const char *name, cnnk_npy *out,
                           cnnk_error *err);
cnnk_status cnnk_npy_read(const char *path, cnnk_npy *out, cnnk_error *err);
cnnk_status cnnk_npy_write(const char *path, int ndim, const int64_t *shape, const float *data,
                           cnnk_error *err);
void cnnk_npy_free(cnnk_npy *a);

/* Layout changes between a framework's NCHW and cnnk's NHWC activations,
 * for n images of c x h x w (dst and src must not overlap). */
void cnnk_nchw_to_nhwc(float *dst, const float *src, int64_t n, int64_t c, int64_t h, int64_t w);
void cnnk_nhwc_to_nchw(float *dst, const float *src, int64_t n, int64_t c, int64_t h, int64_t w);

#ifdef __cplusplus
}
#endif
#endif
