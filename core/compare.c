/* The regression rule (core/compare.h). */
#include "core/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mannwhitney.h"

static bool median_of(const double *v, size_t n, double *m) {
    double *c = malloc(n * sizeof *c);
    if (!c) return false;
    memcpy(c, v, n * sizeof *c);
    *m = cnnk_median(c, n);
    free(c);
    return true;
}

bool cnnk_cmp_samples(const double *base, size_t n1, const double *new_, size_t n2, double alpha,
                      double threshold, cnnk_cmp_result *r) {
    cnnk_cmp_result out = {.p = NAN};
    if (n1 == 0 || n2 == 0 || !median_of(base, n1, &out.base_median) ||
        !median_of(new_, n2, &out.new_median))
        return false;
    out.change = out.base_median > 0 ? out.new_median / out.base_median - 1
                 : out.new_median > 0 ? INFINITY : 0.0;
    if (cnnk_mwu_min_p(n1, n2) >= alpha) {
        out.verdict = CNNK_CMP_TOO_FEW;
        *r = out;
        return true;
    }
    cnnk_mwu t;
    if (!cnnk_mwu_test(base, n1, new_, n2, &t)) return false;
    out.p = t.p;
    out.exact = t.exact;
    if (!(t.p < alpha) || out.change == 0) out.verdict = CNNK_CMP_SAME;
    else if (out.change < 0) out.verdict = CNNK_CMP_FASTER;
    else out.verdict = out.change > threshold ? CNNK_CMP_REGRESSION : CNNK_CMP_SLOWER;
    *r = out;
    return true;
}

const char *cnnk_cmp_verdict_name(cnnk_cmp_verdict v) {
    switch (v) {
    case CNNK_CMP_SAME: return "same";
    case CNNK_CMP_FASTER: return "faster";
    case CNNK_CMP_SLOWER: return "slower";
    case CNNK_CMP_REGRESSION: return "REGRESSION";
    case CNNK_CMP_TOO_FEW: return "too few";
    }
    return "?";
}
