/* The regression rule of `cnnk compare` (docs/COMPARE.md), apart from the
 * command so that tests/test_compare.c measures its power and false-alarm
 * rate on exactly what CI runs: a benchmark regressed when the two-sided
 * Mann-Whitney U test rejects "same distribution" at alpha AND its median
 * slowed by more than the threshold. The test alone would flag a 0.5%
 * shift given enough repetitions; the threshold alone would flag noise. */
#ifndef CNNK_CORE_COMPARE_H
#define CNNK_CORE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum cnnk_cmp_verdict {
    CNNK_CMP_SAME,        /* no significant difference */
    CNNK_CMP_FASTER,      /* significantly faster */
    CNNK_CMP_SLOWER,      /* significantly slower, by no more than the threshold */
    CNNK_CMP_REGRESSION,  /* significantly slower by more than the threshold */
    CNNK_CMP_TOO_FEW      /* so few repetitions that p can never be below alpha */
} cnnk_cmp_verdict;

typedef struct cnnk_cmp_result {
    double base_median, new_median;  /* same unit as the input */
    double change;                   /* new / base - 1 of the medians */
    double p;                        /* two-sided p-value (NAN when TOO_FEW) */
    bool exact;                      /* exact distribution, else normal approximation */
    cnnk_cmp_verdict verdict;
} cnnk_cmp_result;

/* Compares times base[0..n1) with new_[0..n2) (n1, n2 >= 1, finite);
 * threshold is a fraction (0.05 for 5%). false when out of memory. */
bool cnnk_cmp_samples(const double *base, size_t n1, const double *new_, size_t n2, double alpha,
                      double threshold, cnnk_cmp_result *r);

const char *cnnk_cmp_verdict_name(cnnk_cmp_verdict v);

#endif
