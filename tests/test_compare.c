/* cnnk compare's statistics (core/mannwhitney.c, core/compare.c): the
 * Mann-Whitney p-values against known values (scipy 1.10's mannwhitneyu,
 * computed once, and a brute-force enumeration of every rank arrangement),
 * the repetitions the test needs, and the regression rule's power and
 * false-alarm rate on synthetic benchmark times with a fixed seed and the
 * noise this machine shows (docs/COMPARE.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compare.h"
#include "core/mannwhitney.h"
#include "core/rng.h"
#include "tests/check.h"

/* p-values of scipy.stats.mannwhitneyu(x, y, alternative="two-sided")
 * (scipy 1.10.1, Debian's python3-scipy): method="exact" where the data
 * have no ties, method="asymptotic" (tie and continuity corrected) where
 * they do, the same choice cnnk_mwu_test makes. */
typedef struct known_case {
    double x[10], y[10];
    size_t n1, n2;
    double u1, p;
    bool exact;
} known_case;

static const known_case k_known[] = {
    {{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, 5, 5, 0.0, 0.007936507936507936, true},
    {{1.1, 2.3, 3.2, 4.8}, {2.0, 5.5, 6.1, 7.7, 8.2}, 4, 5, 3.0, 0.1111111111111111, true},
    {{10.2, 10.5, 9.8, 10.1, 10.3, 10.0, 10.4, 9.9, 10.6, 10.7},
     {11.0, 10.9, 11.3, 10.8, 11.5, 11.1, 10.95, 11.2, 12.0, 10.65}, 10, 10, 1.0,
     2.165017644893806e-05, true},
    {{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}, {5, 8, 9, 7, 9, 3, 2, 3, 8, 4}, 10, 10, 31.0,
     0.1584864424178698, false},
    {{1, 2, 2, 3, 3, 3}, {3, 4, 4, 5}, 6, 4, 1.5, 0.026826219079541514, false},
    {{7, 7, 7}, {7, 7, 7, 7}, 3, 4, 6.0, 1.0, false},
    {{1, 2, 3}, {4, 5, 6}, 3, 3, 0.0, 0.1, true}, /* by hand: 2 / C(6, 3) */
};

static void test_known(void) {
    for (size_t i = 0; i < sizeof k_known / sizeof k_known[0]; ++i) {
        const known_case *c = &k_known[i];
        cnnk_mwu r;
        CHECK(cnnk_mwu_test(c->x, c->n1, c->y, c->n2, &r));
        CHECK(r.exact == c->exact);
        CHECK_NEAR(r.u1, c->u1, 1e-12);
        CHECK_NEAR(r.p, c->p, 1e-12 + 1e-9 * c->p);
        /* swapping the samples changes U into n1 n2 - U, not p */
        cnnk_mwu s;
        CHECK(cnnk_mwu_test(c->y, c->n2, c->x, c->n1, &s));
        CHECK_NEAR(s.u1, (double)(c->n1 * c->n2) - c->u1, 1e-12);
        CHECK_NEAR(s.p, r.p, 1e-12);
    }
}

/* The exact p by enumerating every subset of ranks the first sample can
 * hold (C(n, n1) of them), independent of the recurrence. */
static double brute_p(size_t n1, size_t n2, double u_obs) {
    const size_t n = n1 + n2;
    double below = 0, above = 0, total = 0;
    for (unsigned m = 0; m < 1u << n; ++m) {
        if ((size_t)__builtin_popcount(m) != n1) continue;
        double r1 = 0;
        for (size_t k = 0; k < n; ++k)
            if (m >> k & 1) r1 += (double)k + 1;
        const double u = r1 - (double)n1 * ((double)n1 + 1) / 2;
        below += u <= u_obs, above += u >= u_obs, total += 1;
    }
    return fmin(1.0, 2 * fmin(below, above) / total);
}

static void test_exact_against_enumeration(void) {
    cnnk_rng g = {.s = 42};
    for (int t = 0; t < 200; ++t) {
        const size_t n1 = 1 + cnnk_rng_next(&g) % 8, n2 = 1 + cnnk_rng_next(&g) % 8;
        double x[8], y[8];
        for (size_t i = 0; i < n1; ++i) x[i] = (double)(cnnk_rng_next(&g) >> 11);
        for (size_t i = 0; i < n2; ++i) y[i] = (double)(cnnk_rng_next(&g) >> 11) + (t % 3) * 1e15;
        cnnk_mwu r;
        CHECK(cnnk_mwu_test(x, n1, y, n2, &r));
        CHECK(r.exact && !r.ties);
        CHECK_NEAR(r.p, brute_p(n1, n2, r.u1), 1e-12);
    }
}

static void test_min_reps(void) {
    CHECK_NEAR(cnnk_mwu_min_p(3, 3), 0.1, 1e-15);          /* 2 / 20 */
    CHECK_NEAR(cnnk_mwu_min_p(4, 4), 2.0 / 70, 1e-15);
    CHECK_NEAR(cnnk_mwu_min_p(10, 10), 2.0 / 184756, 1e-18);
    CHECK_NEAR(cnnk_mwu_min_p(1, 1), 1.0, 0);
    CHECK(cnnk_mwu_min_reps(0.05) == 4);  /* 3 + 3 reach 0.1 at best */
    CHECK(cnnk_mwu_min_reps(0.01) == 5);  /* 2 / 70 = 0.029; 2 / 252 = 0.0079 */
    CHECK(cnnk_mwu_min_reps(0.1) == 4);   /* 0.1 is not below 0.1 */
    CHECK(cnnk_mwu_min_reps(0.0) == 0 && cnnk_mwu_min_reps(1.0) == 0);
    /* the rule refuses to judge where the test cannot reject */
    const double a[3] = {1, 2, 3}, b[3] = {10, 20, 30};
    cnnk_cmp_result r;
    CHECK(cnnk_cmp_samples(a, 3, b, 3, 0.05, 0.05, &r));
    CHECK(r.verdict == CNNK_CMP_TOO_FEW && isnan(r.p));
    const double c[4] = {1, 2, 3, 4}, d[4] = {10, 20, 30, 40};
    CHECK(cnnk_cmp_samples(c, 4, d, 4, 0.05, 0.05, &r));
    CHECK(r.verdict == CNNK_CMP_REGRESSION);
    CHECK_NEAR(r.change, 25.0 / 2.5 - 1, 1e-12);
    CHECK(cnnk_cmp_samples(d, 4, c, 4, 0.05, 0.05, &r));
    CHECK(r.verdict == CNNK_CMP_FASTER);
    /* significant but within the threshold: slower, not a regression */
    const double e[4] = {100, 101, 102, 103}, f[4] = {104, 105, 106, 107};
    CHECK(cnnk_cmp_samples(e, 4, f, 4, 0.05, 0.05, &r));
    CHECK(r.verdict == CNNK_CMP_SLOWER);
    CHECK(cnnk_cmp_samples(e, 4, f, 4, 0.05, 0.03, &r));
    CHECK(r.verdict == CNNK_CMP_REGRESSION);
}

/* ---- synthetic benchmark times ------------------------------------------
 * The noise model, from 20 interleaved repetitions of three avx512 layer
 * benchmarks on this machine (docs/COMPARE.md has the command and the
 * figures): lognormal around the true time with sigma NOISE_SIGMA (a CV
 * of about 2.5%), and in OUTLIER_RATE of the repetitions a slow outlier
 * (another job took the core) of +10% to +40%. */
#define NOISE_SIGMA 0.025
#define OUTLIER_RATE 0.05
#define LOADED_SIGMA 0.06
#define LOADED_OUTLIERS 0.25
#define TRIALS 2000
#define REPS 10

static double uniform(cnnk_rng *g) { return ((double)(cnnk_rng_next(g) >> 11) + 0.5) / 9007199254740992.0; }

static double normal(cnnk_rng *g) {
    return sqrt(-2 * log(uniform(g))) * cos(6.283185307179586 * uniform(g));
}

typedef struct noise {
    double sigma, outliers;
    int reps;
} noise;

static double sample_time(cnnk_rng *g, const noise *m, double t) {
    double v = t * exp(m->sigma * normal(g));
    if (uniform(g) < m->outliers) v *= 1.10 + 0.30 * uniform(g);
    return v;
}

/* Fraction of TRIALS where the rule says REGRESSION (and where p < alpha at
 * all) when NEW is slowed by the factor slow. */
static void rates(cnnk_rng *g, const noise *m, double slow, double *regression, double *significant) {
    int reg = 0, sig = 0;
    for (int t = 0; t < TRIALS; ++t) {
        double b[64], n[64];
        for (int i = 0; i < m->reps; ++i) b[i] = sample_time(g, m, 1e6);
        for (int i = 0; i < m->reps; ++i) n[i] = sample_time(g, m, 1e6 * slow);
        cnnk_cmp_result r;
        if (!cnnk_cmp_samples(b, (size_t)m->reps, n, (size_t)m->reps, 0.05, 0.05, &r)) {
            CHECK(!"out of memory");
            return;
        }
        reg += r.verdict == CNNK_CMP_REGRESSION;
        sig += r.p < 0.05;
    }
    *regression = (double)reg / TRIALS;
    *significant = (double)sig / TRIALS;
}

static const double k_slow[] = {1.00, 1.02, 1.05, 1.075, 1.10, 1.15};

static void print_rates(cnnk_rng *g, const noise *m) {
    printf("%d trials of %d + %d repetitions, sigma %.3f, outliers %.0f%%, alpha 0.05, "
           "threshold 5%%\n", TRIALS, m->reps, m->reps, m->sigma, 100 * m->outliers);
    printf("slowdown  REGRESSION  p<alpha\n");
    for (size_t i = 0; i < sizeof k_slow / sizeof k_slow[0]; ++i) {
        double reg = 0, sig = 1;
        rates(g, m, k_slow[i], &reg, &sig);
        printf("%+7.1f%%  %9.2f%%  %6.2f%%\n", 100 * (k_slow[i] - 1), 100 * reg, 100 * sig);
    }
}

static void test_power_and_false_alarms(bool loaded30) {
    cnnk_rng g = {.s = 2026};
    const noise quiet = {NOISE_SIGMA, OUTLIER_RATE, REPS};
    printf("%d trials of %d + %d repetitions, sigma %.3f, outliers %.0f%%, alpha 0.05, "
           "threshold 5%%\n", TRIALS, REPS, REPS, NOISE_SIGMA, 100 * OUTLIER_RATE);
    printf("slowdown  REGRESSION  p<alpha\n");
    for (size_t i = 0; i < sizeof k_slow / sizeof k_slow[0]; ++i) {
        const double *slow = k_slow;
        double reg = 0, sig = 1;
        rates(&g, &quiet, slow[i], &reg, &sig);
        printf("%+7.1f%%  %9.2f%%  %6.2f%%\n", 100 * (slow[i] - 1), 100 * reg, 100 * sig);
        if (slow[i] == 1.00) {
            CHECK(sig <= 0.05); /* the test's own size: identical distributions */
            CHECK(reg <= 0.05);
        }
        if (slow[i] == 1.10) CHECK(reg >= 0.95); /* issue 13: caught in >= 95% */
    }
    /* For docs/COMPARE.md, not asserted: the noise of this 2-vCPU machine
     * under load 6-8 (the CPU time's spread there), at 10 repetitions and,
     * with the argument --loaded30 (12 s of exact distributions at n = 30,
     * too slow for ctest), at 30. */
    const noise loaded = {LOADED_SIGMA, LOADED_OUTLIERS, loaded30 ? 30 : 10};
    print_rates(&g, &loaded);
}

int main(int argc, char **argv) {
    test_known();
    test_exact_against_enumeration();
    test_min_reps();
    test_power_and_false_alarms(argc > 1 && strcmp(argv[1], "--loaded30") == 0);
    return check_finish("test_compare");
}
