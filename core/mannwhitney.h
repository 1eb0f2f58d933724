/* The two-sided Mann-Whitney U test (Wilcoxon rank-sum) of `cnnk compare`:
 * is one sample of benchmark times shifted against the other? It assumes
 * no distribution (benchmark times are skewed, with slow outliers), only
 * independent repetitions. docs/COMPARE.md says which p-value is used when.
 *
 *   - no ties and n1, n2 <= CNNK_MWU_EXACT_MAX: the exact null
 *     distribution of U (every arrangement of the ranks equally likely),
 *     p = 2 min(P(U <= u), P(U >= u)), capped at 1;
 *   - otherwise the normal approximation with the tie correction of the
 *     variance and a continuity correction of 0.5 (as scipy's
 *     mannwhitneyu(method="asymptotic", use_continuity=True)). */
#ifndef CNNK_CORE_MANNWHITNEY_H
#define CNNK_CORE_MANNWHITNEY_H

#include <stdbool.h>
#include <stddef.h>

#define CNNK_MWU_EXACT_MAX 50

typedef struct cnnk_mwu {
    double u1;    /* U of the first sample: pairs (x, y) with x > y, ties count 1/2 */
    double p;     /* two-sided p-value */
    bool exact;   /* the exact distribution (else the normal approximation) */
    bool ties;    /* some values were equal */
} cnnk_mwu;

/* The test of x[0..n1) against y[0..n2); n1, n2 >= 1, values finite.
 * false when out of memory or a size is 0 (r untouched). */
bool cnnk_mwu_test(const double *x, size_t n1, const double *y, size_t n2, cnnk_mwu *r);

/* The smallest two-sided p-value any data can give with n1 and n2 values:
 * 2 / C(n1 + n2, n1), complete separation under the exact distribution
 * (ties only make it larger). When it is not below alpha, the test can
 * never reject. */
double cnnk_mwu_min_p(size_t n1, size_t n2);

/* The fewest repetitions per side (n1 = n2 = n) whose cnnk_mwu_min_p is
 * below alpha; 0 when alpha is not in (0, 1). */
size_t cnnk_mwu_min_reps(double alpha);

/* The median of v[0..n) (sorted in place); NAN when n is 0. */
double cnnk_median(double *v, size_t n);

#endif
