/* The network name of a model file, with or without the importer
 * (include/cnnk/onnx.h). */
#include <stdio.h>
#include <string.h>

#include "cnnk/onnx.h"

void cnnk_onnx_stem(const char *path, char *buf, size_t len) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(buf, len, "%.*s", (int)n, base);
}
