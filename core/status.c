#include <stdarg.h>
#include <stdio.h>

#include "cnnk/status.h"

const char *cnnk_status_str(cnnk_status s) {
    switch (s) {
    case CNNK_OK: return "ok";
    case CNNK_EINVAL: return "invalid argument";
    case CNNK_EOVERFLOW: return "size overflow";
    case CNNK_EPARSE: return "parse error";
    case CNNK_EUNSUPPORTED: return "unsupported";
    case CNNK_ENOMEM: return "out of memory";
    case CNNK_EIO: return "i/o error";
    case CNNK_EONEDNN: return "oneDNN error";
    }
    return "unknown status";
}

cnnk_status cnnk_fail(cnnk_error *err, cnnk_status s, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return s;
}
