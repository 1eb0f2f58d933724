/* The Mann-Whitney U test (core/mannwhitney.h). */
#include "core/mannwhitney.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mwu_item {
    double v;
    int side; /* 0: x, 1: y */
} mwu_item;

static int cmp_item(const void *a, const void *b) {
    const double x = ((const mwu_item *)a)->v, y = ((const mwu_item *)b)->v;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double cnnk_median(double *v, size_t n) {
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * v[n / 2 - 1] + 0.5 * v[n / 2]; /* no overflow near DBL_MAX */
}

/* P(U <= u) under the null for sizes n1, n2 with no ties: the number of
 * rank arrangements with U = k follows the recurrence
 *   f(n1, n2, k) = f(n1 - 1, n2, k - n2) + f(n1, n2 - 1, k)
 * (the largest value belongs to x, and beats all n2 y's, or to y). Counted
 * in doubles: C(100, 50) ~ 1e29 is far inside their range and the ratio
 * keeps 15 digits. */
static bool exact_cdf(size_t n1, size_t n2, size_t u, double *cdf) {
    const size_t umax = n1 * n2;
    /* f[j][k] for the current i, j = 0..n2, k = 0..umax */
    double *f = calloc((n2 + 1) * (umax + 1), sizeof *f);
    double *g = calloc((n2 + 1) * (umax + 1), sizeof *g);
    if (!f || !g) {
        free(f), free(g);
        return false;
    }
#define MWU_AT(a, j, k) (a)[(j) * (umax + 1) + (k)]
    for (size_t j = 0; j <= n2; ++j) MWU_AT(f, j, 0) = 1.0; /* i = 0: U = 0 only */
    for (size_t i = 1; i <= n1; ++i) {
        for (size_t j = 0; j <= n2; ++j) {
            for (size_t k = 0; k <= umax; ++k) {
                double c = k >= j ? MWU_AT(f, j, k - j) : 0.0; /* largest is an x */
                if (j > 0) c += MWU_AT(g, j - 1, k);          /* largest is a y */
                MWU_AT(g, j, k) = c;
            }
        }
        double *t = f;
        f = g, g = t;
    }
    double below = 0.0, total = 0.0;
    for (size_t k = 0; k <= umax; ++k) {
        total += MWU_AT(f, n2, k);
        if (k <= u) below += MWU_AT(f, n2, k);
    }
#undef MWU_AT
    free(f), free(g);
    *cdf = below / total;
    return true;
}

bool cnnk_mwu_test(const double *x, size_t n1, const double *y, size_t n2, cnnk_mwu *r) {
    if (n1 == 0 || n2 == 0) return false;
    const size_t n = n1 + n2;
    mwu_item *it = malloc(n * sizeof *it);
    if (!it) return false;
    for (size_t i = 0; i < n1; ++i) it[i] = (mwu_item){x[i], 0};
    for (size_t i = 0; i < n2; ++i) it[n1 + i] = (mwu_item){y[i], 1};
    qsort(it, n, sizeof *it, cmp_item);
    /* Mid-ranks (1-based) for tied groups; sum of t^3 - t for the variance. */
    double r1 = 0.0, tie_sum = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && it[j].v == it[i].v) ++j;
        const double t = (double)(j - i), rank = 0.5 * ((double)i + 1 + (double)j);
        if (j - i > 1) tie_sum += t * t * t - t;
        for (size_t k = i; k < j; ++k)
            if (it[k].side == 0) r1 += rank;
        i = j;
    }
    free(it);
    const double dn1 = (double)n1, dn2 = (double)n2, dn = (double)n;
    const double u1 = r1 - dn1 * (dn1 + 1) / 2, u2 = dn1 * dn2 - u1;
    cnnk_mwu out = {.u1 = u1, .ties = tie_sum > 0};
    if (!out.ties && n1 <= CNNK_MWU_EXACT_MAX && n2 <= CNNK_MWU_EXACT_MAX) {
        /* Without ties U is a whole number; the smaller of U1, U2 is the
         * lower tail, by the symmetry of the null distribution. */
        double cdf;
        if (!exact_cdf(n1, n2, (size_t)llround(fmin(u1, u2)), &cdf)) return false;
        out.exact = true;
        out.p = fmin(1.0, 2.0 * cdf);
    } else {
        const double mu = dn1 * dn2 / 2;
        const double var = dn1 * dn2 / 12 * ((dn + 1) - tie_sum / (dn * (dn - 1)));
        if (var <= 0) {
            out.p = 1.0; /* every value equal: no evidence of a shift */
        } else {
            const double z = (fmax(u1, u2) - mu - 0.5) / sqrt(var);
            out.p = fmin(1.0, erfc(z / sqrt(2.0))); /* 2 * P(Z > z) */
        }
    }
    *r = out;
    return true;
}

double cnnk_mwu_min_p(size_t n1, size_t n2) {
    /* 2 / C(n1 + n2, n1), as a product that stays in range */
    double c = 1.0;
    const size_t k = n1 < n2 ? n1 : n2;
    for (size_t i = 1; i <= k; ++i) c = c * (double)(n1 + n2 - k + i) / (double)i;
    return fmin(1.0, 2.0 / c);
}

size_t cnnk_mwu_min_reps(double alpha) {
    if (!(alpha > 0 && alpha < 1)) return 0;
    size_t n = 1;
    while (cnnk_mwu_min_p(n, n) >= alpha) ++n;
    return n;
}
