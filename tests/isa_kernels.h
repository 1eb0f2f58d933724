/* Finding an optimized ISA's entries in the registry, so that the kernel
 * tests run every ISA this build has and this CPU runs, with no test file
 * per ISA: a new ISA's "<isa>/<algo>" entries are tested as they appear. */
#ifndef CNNK_TESTS_ISA_KERNELS_H
#define CNNK_TESTS_ISA_KERNELS_H

#include <stdio.h>

#include "cnnk/kernel.h"

/* "<isa>/<what>", or NULL when the registry has no such entry. */
static inline const cnnk_conv_kernel *isa_conv(cnnk_isa isa, const char *what) {
    char name[64];
    snprintf(name, sizeof name, "%s/%s", cnnk_isa_name(isa), what);
    return cnnk_conv_kernel_find(name);
}

static inline const cnnk_op_kernel *isa_op(cnnk_isa isa, const char *what) {
    char name[64];
    snprintf(name, sizeof name, "%s/%s", cnnk_isa_name(isa), what);
    return cnnk_op_kernel_find(name);
}

/* Whether isa is an optimized ISA to test here: the CPU runs it and the
 * registry has an entry named "<isa>/<probe>". Says why when it skips. */
static inline bool isa_testable(const char *test, cnnk_isa isa, const char *probe) {
    if (isa == CNNK_ISA_REF) return false;
    if (!isa_conv(isa, probe) && !isa_op(isa, probe)) return false;
    if (!cnnk_isa_available(isa)) {
        printf("%s: %s not available on this CPU, skipped\n", test, cnnk_isa_name(isa));
        return false;
    }
    return true;
}

#endif
