/* See core/gbjson.h. */
#include "core/gbjson.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The non-finite token at p (outside a string), its length; 0 if none. */
static size_t nonfinite(const char *p, size_t left) {
    static const char *const tokens[] = {"-Infinity", "Infinity", "NaN"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; ++i) {
        size_t n = strlen(tokens[i]);
        if (n <= left && memcmp(p, tokens[i], n) == 0) return n;
    }
    return 0;
}

double cnnk_gbjson_ms(double t, const char *unit) {
    if (!unit || strcmp(unit, "ns") == 0) return t * 1e-6;
    if (strcmp(unit, "us") == 0) return t * 1e-3;
    if (strcmp(unit, "s") == 0) return t * 1e3;
    return t;
}

double cnnk_gbjson_num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

char *cnnk_gbjson_standard(const char *text, size_t len, size_t *out_len) {
    /* "NaN" (3) becomes "null" (4): at most 4/3 as long */
    char *out = malloc(len / 3 * 4 + 8);
    if (!out) return NULL;
    size_t o = 0;
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        const char c = text[i];
        if (in_string) {
            out[o++] = c;
            if (c == '\\' && i + 1 < len) out[o++] = text[++i];
            else if (c == '"') in_string = false;
            ++i;
            continue;
        }
        size_t n = nonfinite(text + i, len - i);
        if (n > 0) {
            memcpy(out + o, "null", 4);
            o += 4;
            i += n;
            continue;
        }
        in_string = c == '"';
        out[o++] = c;
        ++i;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}
