/* libFuzzer target: the .npy reader (core/npy.c: --input-npy,
 * --expect-npy, --weights) on any bytes. No crash, no sanitizer report; a
 * refused file leaves nothing behind; an accepted one has 0 to 8
 * dimensions within the stated limits, a count that is their product and
 * exactly the bytes after the header as data. Seeds: fuzz/corpus/npy
 * (files numpy 1.24 wrote). Build and run: docs/FUZZING.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/desc.h"
#include "cnnk/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cnnk_npy a;
    cnnk_error err;
    err.msg[0] = '\0';
    if (cnnk_npy_parse(data, size, "fuzz", &a, &err) != CNNK_OK) {
        if (a.data || a.ndim || !err.msg[0]) abort();
        return 0;
    }
    if (a.ndim < 0 || a.ndim > CNNK_NPY_MAX_DIMS || !a.data) abort();
    int64_t count = 1;
    for (int i = 0; i < a.ndim; ++i) {
        if (a.shape[i] < 0 || a.shape[i] > CNNK_MAX_DIM) abort();
        count *= a.shape[i];
    }
    if (count != a.count || count > CNNK_MAX_ELEMS || (size_t)count * sizeof(float) > size) abort();
    /* the data part is the file's last count * 4 bytes */
    if (count && memcmp(a.data, data + size - (size_t)count * sizeof(float), (size_t)count * sizeof(float)))
        abort();
    cnnk_npy_free(&a);
    return 0;
}
