/* libFuzzer target: the descriptor and batch-file parser (core/parse.c).
 * Any text: no crash, no sanitizer report, and what it accepts is a valid
 * problem that formats back to a descriptor the parser reads as the same
 * convolution (the tuner's keys and `cnnk sweep`'s files rely on that).
 * Build and run: docs/FUZZING.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/desc.h"
#include "cnnk/parse.h"

enum { MAX_TEXT = 1 << 16 };

static void round_trip(const cnnk_conv_desc *d) {
    char text[512];
    cnnk_conv_format(d, text, sizeof text);
    cnnk_parse_opts o;
    cnnk_parse_opts_init(&o);
    cnnk_layer_desc back;
    cnnk_error err;
    if (cnnk_parse_desc(text, &o, &back, &err) != CNNK_OK) abort(); /* it wrote what it refuses */
    const cnnk_conv_desc *b = &back.u.conv;
    if (b->g != d->g || b->mb != d->mb || b->ic != d->ic || b->ih != d->ih || b->iw != d->iw ||
        b->oc != d->oc || b->oh != d->oh || b->ow != d->ow || b->kh != d->kh || b->kw != d->kw ||
        b->sh != d->sh || b->sw != d->sw || b->pt != d->pt || b->pl != d->pl || b->pb != d->pb ||
        b->pr != d->pr || b->dh != d->dh || b->dw != d->dw || strcmp(b->name, d->name) != 0)
        abort(); /* formatted and parsed back, it is another convolution */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_TEXT) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    cnnk_batch b = {0};
    cnnk_error err;
    if (cnnk_batch_parse(text, "fuzz", &b, &err) == CNNK_OK) {
        for (size_t i = 0; i < b.n; ++i) {
            cnnk_layer_desc l = b.items[i];
            if (cnnk_layer_check(&l, NULL) != CNNK_OK) abort(); /* accepted, yet invalid */
            if (l.kind == CNNK_LAYER_CONV && !strchr(l.u.conv.name, '"')) round_trip(&l.u.conv);
        }
    }
    cnnk_batch_free(&b);
    free(text);
    return 0;
}
