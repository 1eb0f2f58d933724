/* libFuzzer target: random valid convolutions (and transposed ones) from
 * the input bytes, every kernel of every ISA this CPU runs against the
 * reference, at 1 and 2 threads, with the integer fill whose bounds are
 * exact, and the epilogue the bytes choose. A shape the descriptor check
 * refuses is skipped; a kernel that disagrees aborts, after printing the
 * case. Build and run: docs/FUZZING.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/desc.h"
#include "validate/check.h"

/* Byte i of the input, 0 past its end. */
static int64_t byte(const uint8_t *d, size_t n, size_t i) { return i < n ? d[i] : 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    cnnk_layer_desc l;
    memset(&l, 0, sizeof l);
    const bool deconv = byte(data, size, 0) & 1;
    l.kind = deconv ? CNNK_LAYER_DECONV : CNNK_LAYER_CONV;
    cnnk_conv_desc *d = &l.u.conv;
    size_t i = 1;
#define NEXT(mod, base) (byte(data, size, i++) % (mod) + (base))
    d->g = NEXT(3, 1);
    d->mb = NEXT(3, 1);
    d->ic = d->g * NEXT(24, 1);
    d->oc = d->g * NEXT(40, 1);
    d->ih = NEXT(20, 1);
    d->iw = NEXT(20, 1);
    d->kh = NEXT(7, 1);
    d->kw = NEXT(7, 1);
    d->sh = NEXT(4, 1);
    d->sw = NEXT(4, 1);
    d->pt = NEXT(4, 0);
    d->pl = NEXT(4, 0);
    d->pb = NEXT(4, 0);
    d->pr = NEXT(4, 0);
    d->dh = NEXT(2, 1);
    d->dw = NEXT(2, 1);
    const int64_t post = NEXT(4, 0);
#undef NEXT
    d->transposed = deconv;
    if (cnnk_layer_check(&l, NULL) != CNNK_OK) return 0;
    /* Each input runs the reference and every kernel twice, instrumented:
     * small problems keep the fuzzer at inputs per second, not seconds per
     * input (a 2M-MAC case outlived a 30 s timeout on a loaded machine). */
    if (cnnk_conv_macs(d) > 500 * 1000) return 0;
    cnnk_validate_opts o;
    cnnk_validate_opts_init(&o);
    for (int k = 0; k < CNNK_ISA_COUNT; ++k) o.isa[k] = cnnk_isa_available((cnnk_isa)k);
    for (int k = 0; k < CNNK_ALGO_COUNT; ++k) o.algo[k] = true;
    o.kernels = true;
    o.fill = CNNK_FILL_INT;
    o.relu = post & 1;
    o.residual = post & 2;
    o.out = NULL;
    /* A case whose expected output is one value repeated (a 1-element
     * input drawn as 0) proves nothing for any kernel: the checker fails it
     * as mistrusted, which is not a kernel's fault, so it is retried with
     * other data; only a failure on trusted data is a finding. */
    for (uint64_t attempt = 0; attempt < 4; ++attempt) {
        o.seed = (uint64_t)byte(data, size, 2) * 977 + 1 + attempt * 7919;
        cnnk_validate_counts c = {0};
        cnnk_error err;
        if (cnnk_validate_layer(&o, &l, &c, &err) != CNNK_OK) return 0; /* no memory */
        if (c.failed == 0) return 0;
        if (c.failed > c.mistrusted) {
            o.out = stderr;
            cnnk_validate_counts again = {0};
            cnnk_validate_layer(&o, &l, &again, &err);
            abort();
        }
    }
    return 0;
}
