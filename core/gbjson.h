/* Google Benchmark's JSON as standard JSON.
 *
 * Its JSON writer prints a non-finite double as the bare tokens NaN,
 * Infinity and -Infinity, which JSON does not have (cJSON refuses the
 * whole file). It does so routinely: the `cv` aggregate of a counter that
 * is 0 in every repetition (cnnk-bench's concat_copy_bytes, reorder_ms)
 * is 0/0. Every reader of cnnk-bench results (the --main table, `cnnk
 * compare`, `cnnk report`) parses through this. */
#ifndef CNNK_CORE_GBJSON_H
#define CNNK_CORE_GBJSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* A copy of text (len bytes) with NaN, Infinity and -Infinity outside
 * strings replaced by null, NUL-terminated, its length in *out_len (any
 * NUL byte of text kept, for the parser to refuse); NULL when out of
 * memory. Free with free(). */
char *cnnk_gbjson_standard(const char *text, size_t len, size_t *out_len);

/* A benchmark's time t in its time_unit ("ns" when NULL, Google
 * Benchmark's default; "us", "ms", "s") in milliseconds. */
double cnnk_gbjson_ms(double t, const char *unit);
/* o's number key, NAN when absent or not a number (null included). */
double cnnk_gbjson_num(const cJSON *o, const char *key);

#endif
