/* The checker's comparison (validate/check.c: cnnk_diff_compute,
 * cnnk_tolerance_pass): non-finite values must match exactly on both
 * sides, and an expected output that cannot tell a right kernel from a
 * wrong one (non-finite throughout, one value repeated) never passes
 * (issue 16, finding 7; docs/TOLERANCE.md). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "validate/check.h"

static const cnnk_tolerance exact = {CNNK_TOL_MAX_ABS, 0.0};
static const cnnk_tolerance loose = {CNNK_TOL_REL_L2, 1e-3};

static bool passes(const float *got, const float *want, int64_t n, cnnk_tolerance t) {
    cnnk_diff d;
    cnnk_diff_compute(got, want, n, &d);
    return cnnk_tolerance_pass(t, &d);
}

/* A varied reference with one value replaced. */
static void base(float *v, int64_t n) {
    for (int64_t i = 0; i < n; ++i) v[i] = (float)(i % 7) - 3.0f + 0.25f * (float)(i % 3);
}

static void test_nonfinite_must_match(void) {
    enum { N = 16 };
    float want[N], got[N];
    base(want, N);
    memcpy(got, want, sizeof got);
    CHECK(passes(got, want, N, exact));
    CHECK(passes(got, want, N, loose));

    /* The reference NaN, the kernel finite: under the exact bound this
     * used to pass (|g - w| is NaN, never > max_abs). */
    want[5] = NAN;
    CHECK(!passes(got, want, N, exact));
    CHECK(!passes(got, want, N, loose));
    /* ... and the other way round. */
    base(want, N);
    got[5] = NAN;
    CHECK(!passes(got, want, N, exact));
    /* NaN against NaN is agreement (NaN propagation). */
    want[5] = NAN;
    CHECK(passes(got, want, N, exact));
    /* An infinity must be the same infinity. */
    base(want, N);
    memcpy(got, want, sizeof got);
    want[3] = got[3] = INFINITY;
    CHECK(passes(got, want, N, exact));
    got[3] = -INFINITY;
    CHECK(!passes(got, want, N, exact));
    got[3] = 1e30f;
    CHECK(!passes(got, want, N, exact));
    got[3] = INFINITY, want[3] = 1e30f;
    CHECK(!passes(got, want, N, exact));
}

static void test_degenerate_reference(void) {
    enum { N = 16 };
    float want[N], got[N];
    /* Infinite everywhere on both sides: used to pass with rel_l2 = nan
     * under a max_abs bound. */
    for (int i = 0; i < N; ++i) want[i] = got[i] = INFINITY;
    cnnk_diff d;
    cnnk_diff_compute(got, want, N, &d);
    CHECK(d.mistrust == CNNK_MISTRUST_NONFINITE);
    CHECK(!cnnk_tolerance_pass(exact, &d));
    for (int i = 0; i < N; ++i) want[i] = got[i] = NAN;
    CHECK(!passes(got, want, N, exact));

    /* All zero (or any one value) from CNNK_MISTRUST_MIN_VALUES values on:
     * a kernel writing zeros would pass. */
    for (int i = 0; i < N; ++i) want[i] = got[i] = 0.0f;
    cnnk_diff_compute(got, want, CNNK_MISTRUST_MIN_VALUES, &d);
    CHECK(d.mistrust == CNNK_MISTRUST_CONSTANT);
    CHECK(!cnnk_tolerance_pass(exact, &d));
    for (int i = 0; i < N; ++i) want[i] = got[i] = 2.5f;
    CHECK(!passes(got, want, N, loose));
    /* Fewer values than that: a 1x1 output may well be one value. */
    CHECK(passes(got, want, CNNK_MISTRUST_MIN_VALUES - 1, exact));
    /* One value different is enough to trust it, -0 against 0 included. */
    for (int i = 0; i < N; ++i) want[i] = got[i] = 0.0f;
    want[N - 1] = got[N - 1] = -0.0f;
    CHECK(passes(got, want, N, exact));
    /* Non-finite at some values, finite elsewhere: judged on the rest. */
    base(want, N);
    memcpy(got, want, sizeof got);
    want[0] = got[0] = NAN;
    CHECK(passes(got, want, N, exact));
}

static void test_max_keeps_mistrust(void) {
    cnnk_diff acc = {0.0, 0.0, 0.0, CNNK_TRUSTED};
    cnnk_diff d = {0.0, 0.0, 0.0, CNNK_MISTRUST_CONSTANT};
    cnnk_diff_max(&acc, &d);
    CHECK(acc.mistrust == CNNK_MISTRUST_CONSTANT);
    CHECK(!cnnk_tolerance_pass(exact, &acc));
    CHECK(strstr(cnnk_mistrust_str(CNNK_MISTRUST_CONSTANT), "repeated") != NULL);
}

/* A write one float outside a guarded buffer, on either side, shows. */
static void test_guards(void) {
    for (int64_t n = 0; n < 40; n += 13) {
        float *p = cnnk_guarded_alloc(n);
        CHECK(p != NULL);
        if (!p) continue;
        CHECK(((uintptr_t)p & 63) == 0);
        CHECK(cnnk_guarded_intact(p, n));
        for (int64_t i = 0; i < n; ++i) p[i] = -1.0f; /* inside: fine */
        CHECK(cnnk_guarded_intact(p, n));
        const float keep_after = p[n];
        p[n] = 0.0f;
        CHECK(!cnnk_guarded_intact(p, n));
        p[n] = keep_after;
        CHECK(cnnk_guarded_intact(p, n));
        const float keep_before = p[-1];
        p[-1] = NAN; /* even a NaN: the canary is one bit pattern */
        CHECK(!cnnk_guarded_intact(p, n));
        p[-1] = keep_before;
        p[n + CNNK_GUARD_FLOATS - 1] = 1.0f; /* the far end of the guard */
        CHECK(!cnnk_guarded_intact(p, n));
        cnnk_guarded_free(p);
    }
}

int main(void) {
    test_guards();
    test_nonfinite_must_match();
    test_degenerate_reference();
    test_max_keeps_mistrust();
    return check_finish("test_check");
}
