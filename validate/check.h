/* The checker: every selected kernel against the scalar reference, and the
 * reference against oneDNN, on one layer problem at a time. It prints one
 * line per (case, kernel) and keeps the pass / fail / skip counts that
 * `cnnk validate` closes with. */
#ifndef CNNK_VALIDATE_CHECK_H
#define CNNK_VALIDATE_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cnnk/kernel.h"
#include "cnnk/parse.h"

typedef enum cnnk_fill {
    CNNK_FILL_INT = 0, /* small integers: f32 direct / GEMM results are exact */
    CNNK_FILL_FLOAT    /* uniform floats: the realistic rounding case */
} cnnk_fill;

/* Why a comparison proves nothing even where the measures are small (as
 * benchdnn's "mistrusted"): the expected output is non-finite at every
 * value, or at least CNNK_MISTRUST_MIN_VALUES values are all one value
 * (bitwise): a kernel that writes that constant would pass. */
typedef enum cnnk_mistrust {
    CNNK_TRUSTED = 0,
    CNNK_MISTRUST_NONFINITE,
    CNNK_MISTRUST_CONSTANT
} cnnk_mistrust;
enum { CNNK_MISTRUST_MIN_VALUES = 8 };
const char *cnnk_mistrust_str(cnnk_mistrust m);

/* The checker's buffers (validate/check.c): n zeroed floats, 64-byte
 * aligned, between two runs of CNNK_GUARD_FLOATS canary floats (a NaN no
 * kernel computes). cnnk_validate_layer gives kernels only such buffers and
 * fails a case whose kernel overwrote a guard of any of them (inputs,
 * output, packed weights, workspace), even where ASan cannot see it. */
enum { CNNK_GUARD_FLOATS = 16 };
float *cnnk_guarded_alloc(int64_t n);
void cnnk_guarded_free(float *p);
bool cnnk_guarded_intact(const float *p, int64_t n);

/* Error of `got` against `want` over n values:
 *   max_abs = max |got - want|
 *   max_rel = max |got - want| / |want|   (|got - want| where want == 0)
 *   rel_l2  = ||got - want||_2 / ||want||_2   (||got - want||_2 if want == 0)
 * over the finite pairs. A non-finite value on either side must be matched
 * exactly on the other (NaN by NaN, +inf by +inf), or every measure is
 * infinite. mistrust says whether `want` can prove anything at all;
 * cnnk_tolerance_pass fails a mistrusted comparison. */
typedef struct cnnk_diff {
    double max_abs, max_rel, rel_l2;
    cnnk_mistrust mistrust;
} cnnk_diff;

void cnnk_diff_compute(const float *got, const float *want, int64_t n, cnnk_diff *d);
/* acc = the worse of acc and d, measure by measure. */
void cnnk_diff_max(cnnk_diff *acc, const cnnk_diff *d);

/* The tolerance table (validate/tolerance.c; docs/TOLERANCE.md explains
 * each bound). A case passes when its measure is <= bound. */
typedef enum cnnk_tol_measure { CNNK_TOL_MAX_ABS = 0, CNNK_TOL_MAX_REL, CNNK_TOL_REL_L2 } cnnk_tol_measure;

typedef struct cnnk_tolerance {
    cnnk_tol_measure measure;
    double bound;
} cnnk_tolerance;

/* A convolution kernel of this algorithm against the reference. */
cnnk_tolerance cnnk_tolerance_conv(cnnk_algo algo, cnnk_fill fill);
/* An optimized kernel of another layer kind against the reference. */
cnnk_tolerance cnnk_tolerance_op(cnnk_layer_kind kind, cnnk_fill fill);
/* The reference against oneDNN for a layer kind. */
cnnk_tolerance cnnk_tolerance_onednn(cnnk_layer_kind kind, cnnk_fill fill);
bool cnnk_tolerance_pass(cnnk_tolerance t, const cnnk_diff *d);
const char *cnnk_tol_measure_name(cnnk_tol_measure m);

/* Deterministic fills (splitmix64 from seed): integers in [-range, range]
 * for CNNK_FILL_INT, uniform in [-range, range] for CNNK_FILL_FLOAT. */
void cnnk_fill_tensor(float *p, int64_t n, cnnk_fill fill, int range, uint64_t seed);

typedef struct cnnk_validate_opts {
    bool isa[CNNK_ISA_COUNT];   /* kernels of these ISAs are checked */
    bool algo[CNNK_ALGO_COUNT]; /* ... and of these algorithms */
    bool against_onednn;        /* also the reference against oneDNN */
    bool kernels;               /* check registry kernels against the reference */
    cnnk_fill fill;
    uint64_t seed;
    bool relu, residual;        /* epilogue beyond the bias, for convolutions */
    float relu_alpha;           /* relu's slope: 0 ReLU, else leaky ReLU */
    FILE *out;                  /* one line per case and kernel; NULL = quiet */
} cnnk_validate_opts;

typedef struct cnnk_validate_counts {
    int64_t passed, failed, skipped;
    int64_t mistrusted; /* of the failed: the expected output could prove nothing */
} cnnk_validate_counts;

void cnnk_validate_opts_init(cnnk_validate_opts *o);

/* Checks one layer problem, adding to counts. Returns CNNK_OK unless the
 * check itself could not run (memory); a failed comparison is a count, not
 * an error. */
cnnk_status cnnk_validate_layer(const cnnk_validate_opts *o, const cnnk_layer_desc *l,
                                cnnk_validate_counts *counts, cnnk_error *err);

#endif
