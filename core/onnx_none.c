/* A build with CNNK_WITH_ONNX=OFF (or a cross build without the target's
 * libprotobuf-c): the ONNX calls exist and say so. */

#include "cnnk/onnx.h"

bool cnnk_onnx_available(void) { return false; }

cnnk_status cnnk_onnx_load_mem(const void *buf, size_t len, const char *name, int64_t mb,
                               cnnk_net **out, cnnk_error *err) {
    (void)buf, (void)len, (void)mb;
    *out = NULL;
    return cnnk_fail(err, CNNK_EUNSUPPORTED, "%s: built without ONNX support (CNNK_WITH_ONNX=OFF)",
                     name);
}

cnnk_status cnnk_onnx_load_mem_budget(const void *buf, size_t len, const char *name, int64_t mb,
                                      size_t budget, cnnk_net **out, cnnk_error *err) {
    (void)budget;
    return cnnk_onnx_load_mem(buf, len, name, mb, out, err);
}

cnnk_status cnnk_onnx_load(const char *path, int64_t mb, cnnk_net **out, cnnk_error *err) {
    return cnnk_onnx_load_mem(NULL, 0, path, mb, out, err);
}
