/* Status codes and error messages of the cnnk library.
 *
 * The library never exits or aborts: every fallible call returns a
 * cnnk_status and, when the caller passes a cnnk_error, a one-line message
 * that names the offending field or input position. */
#ifndef CNNK_STATUS_H
#define CNNK_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnnk_status {
    CNNK_OK = 0,
    CNNK_EINVAL,      /* a descriptor field is out of range or inconsistent */
    CNNK_EOVERFLOW,   /* a size overflows 64 bits or exceeds a stated limit */
    CNNK_EPARSE,      /* malformed text (descriptor, batch file) */
    CNNK_EUNSUPPORTED,/* valid, but no kernel / feature can do it */
    CNNK_ENOMEM,      /* allocation failed */
    CNNK_EIO,         /* file could not be read or written */
    CNNK_EONEDNN      /* oneDNN refused or failed */
} cnnk_status;

#define CNNK_ERROR_MSG_LEN 512

typedef struct cnnk_error {
    char msg[CNNK_ERROR_MSG_LEN];
} cnnk_error;

const char *cnnk_status_str(cnnk_status s);

/* Records a formatted message in err (when err is not NULL) and returns s.
 * Meant for `return cnnk_fail(err, CNNK_EINVAL, "conv: kh=%lld ...", ...)`. */
cnnk_status cnnk_fail(cnnk_error *err, cnnk_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* CNNK_TRY(call): returns from the enclosing function with call's status
 * when it is not CNNK_OK (the message is already in err). */
#define CNNK_TRY(x)                                                                              \
    do {                                                                                         \
        cnnk_status cnnk_try_s_ = (x);                                                           \
        if (cnnk_try_s_ != CNNK_OK) return cnnk_try_s_;                                          \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
