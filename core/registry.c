/* The registry: the one list of kernels that validate/, bench/ and the
 * tuner iterate. Add a kernel here and it is validated, benchmarked and
 * tuned with no other edit. */
#include <string.h>

#include "cnnk/kernel.h"
#include "kernels/common/isa.h"
#include "kernels/ref/ref.h"

/* The optimized ISAs come as one table each (kernels/<isa>/table.c).
 * cnnk_isa_tables.h is written by CMake into the build tree and lists the
 * tables this build compiled, as CNNK_ISA_TABLES(X) = X(avx2) ...: no
 * architecture #if here, and a new ISA needs no edit of this file. */
#include "cnnk_isa_tables.h"

#define CNNK_DECLARE_TABLE_(name) extern const cnnk_isa_table cnnk_isa_table__##name;
#define CNNK_TABLE_PTR_(name) &cnnk_isa_table__##name,
CNNK_ISA_TABLES(CNNK_DECLARE_TABLE_)
static const cnnk_isa_table *const g_tables[] = {CNNK_ISA_TABLES(CNNK_TABLE_PTR_) NULL};
#undef CNNK_DECLARE_TABLE_
#undef CNNK_TABLE_PTR_

const cnnk_isa_table *cnnk_isa_table_at(size_t i) {
    static const size_t n = sizeof g_tables / sizeof g_tables[0] - 1;
    return i < n ? g_tables[i] : NULL;
}

const cnnk_isa_table *cnnk_isa_table_find(cnnk_isa isa) {
    for (size_t i = 0; g_tables[i]; ++i)
        if (g_tables[i]->isa == isa) return g_tables[i];
    return NULL;
}

/* The scalar reference entries come first, then each table's in turn. */
static const cnnk_conv_kernel *const g_ref_conv[] = {
    &cnnk_conv_direct__ref,
    &cnnk_conv_im2col__ref,
    &cnnk_conv_winograd_f2x2__ref,
    &cnnk_conv_winograd_f4x4__ref,
    &cnnk_conv_winograd_f6x6__ref,
    &cnnk_conv_1x1__ref,
};

static const cnnk_op_kernel *const g_ref_ops[] = {
    &cnnk_pool__ref, &cnnk_lrn__ref,    &cnnk_softmax__ref, &cnnk_bnorm__ref,
    &cnnk_eltwise__ref, &cnnk_concat__ref, &cnnk_fc__ref,   &cnnk_deconv__ref,
    &cnnk_resize__ref,
    &cnnk_detect__ref,
    &cnnk_region_pool__ref,
    &cnnk_warp__ref,
};

enum {
    N_REF_CONV = sizeof g_ref_conv / sizeof g_ref_conv[0],
    N_REF_OPS = sizeof g_ref_ops / sizeof g_ref_ops[0],
};

size_t cnnk_conv_kernel_count(void) {
    size_t n = N_REF_CONV;
    for (size_t i = 0; g_tables[i]; ++i) n += g_tables[i]->nconv;
    return n;
}

const cnnk_conv_kernel *cnnk_conv_kernel_at(size_t i) {
    if (i < N_REF_CONV) return g_ref_conv[i];
    i -= N_REF_CONV;
    for (size_t t = 0; g_tables[t]; i -= g_tables[t]->nconv, ++t)
        if (i < g_tables[t]->nconv) return g_tables[t]->conv[i];
    return NULL;
}

const cnnk_conv_kernel *cnnk_conv_kernel_find(const char *name) {
    for (size_t i = 0; i < cnnk_conv_kernel_count(); ++i)
        if (strcmp(cnnk_conv_kernel_at(i)->name, name) == 0) return cnnk_conv_kernel_at(i);
    return NULL;
}

double cnnk_conv_effective_flops(const cnnk_conv_desc *d) {
    return 2.0 * (double)cnnk_conv_macs(d);
}

double cnnk_conv_kernel_flops(const cnnk_conv_kernel *k, const cnnk_conv_desc *d) {
    return k->flops ? k->flops(d) : cnnk_conv_effective_flops(d);
}

size_t cnnk_op_kernel_count(void) {
    size_t n = N_REF_OPS;
    for (size_t i = 0; g_tables[i]; ++i) n += g_tables[i]->nops;
    return n;
}

const cnnk_op_kernel *cnnk_op_kernel_at(size_t i) {
    if (i < N_REF_OPS) return g_ref_ops[i];
    i -= N_REF_OPS;
    for (size_t t = 0; g_tables[t]; i -= g_tables[t]->nops, ++t)
        if (i < g_tables[t]->nops) return g_tables[t]->ops[i];
    return NULL;
}

const cnnk_op_kernel *cnnk_op_kernel_find(const char *name) {
    for (size_t i = 0; i < cnnk_op_kernel_count(); ++i)
        if (strcmp(cnnk_op_kernel_at(i)->name, name) == 0) return cnnk_op_kernel_at(i);
    return NULL;
}

static const char *const g_isa_names[CNNK_ISA_COUNT] = {"ref", "avx2", "avx512", "neon"};
static const char *const g_algo_names[CNNK_ALGO_COUNT] = {
    "direct", "im2col", "winograd_f2x2", "winograd_f4x4", "winograd_f6x6", "1x1", "1x1_sup",
    "im2col_sup"};

const char *cnnk_isa_name(cnnk_isa isa) {
    return isa >= 0 && isa < CNNK_ISA_COUNT ? g_isa_names[isa] : "?";
}

const char *cnnk_algo_name(cnnk_algo algo) {
    return algo >= 0 && algo < CNNK_ALGO_COUNT ? g_algo_names[algo] : "?";
}

bool cnnk_isa_from_name(const char *s, cnnk_isa *isa) {
    for (int i = 0; i < CNNK_ISA_COUNT; ++i)
        if (strcmp(s, g_isa_names[i]) == 0) return *isa = (cnnk_isa)i, true;
    return false;
}

bool cnnk_algo_from_name(const char *s, cnnk_algo *algo) {
    for (int i = 0; i < CNNK_ALGO_COUNT; ++i)
        if (strcmp(s, g_algo_names[i]) == 0) return *algo = (cnnk_algo)i, true;
    return false;
}
