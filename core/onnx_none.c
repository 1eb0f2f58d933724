/* A build with CNNK_WITH_ONNX=OFF (or a cross build without the target's
 * libprotobuf-c): the ONNX calls exist and say so. */
#include <stdio.h>
#include <string.h>

#include "cnnk/onnx.h"

bool cnnk_onnx_available(void) { return false; }

void cnnk_onnx_stem(const char *path, char *buf, size_t len) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(buf, len, "%.*s", (int)n, base);
}

cnnk_status cnnk_onnx_load_mem(const void *buf, size_t len, const char *name, int64_t mb,
                               cnnk_net **out, cnnk_error *err) {
    (void)buf, (void)len, (void)mb;
    *out = NULL;
    return cnnk_fail(err, CNNK_EUNSUPPORTED, "%s: built without ONNX support (CNNK_WITH_ONNX=OFF)",
                     name);
}

cnnk_status cnnk_onnx_load(const char *path, int64_t mb, cnnk_net **out, cnnk_error *err) {
    return cnnk_onnx_load_mem(NULL, 0, path, mb, out, err);
}
