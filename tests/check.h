/* A tiny test harness: each tests/test_*.c is one executable and one ctest
 * test. CHECK records a failure with its line and goes on, so one run shows
 * every broken case; main returns check_finish(). */
#ifndef CNNK_TESTS_CHECK_H
#define CNNK_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                              \
    do {                                                                         \
        ++check_count;                                                           \
        if (!(cond)) {                                                           \
            ++check_failures;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                       \
    do {                                                                         \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);          \
        ++check_count;                                                           \
        if (check_a_ != check_b_) {                                              \
            ++check_failures;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld vs %lld)\n",    \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);             \
        }                                                                        \
    } while (0)

/* |a - b| <= tol * max(1, |b|): tol is relative for large b, absolute near 0. */
#define CHECK_NEAR(a, b, tol)                                                    \
    do {                                                                         \
        double check_a_ = (double)(a), check_b_ = (double)(b);                   \
        double check_s_ = fabs(check_b_) > 1.0 ? fabs(check_b_) : 1.0;           \
        ++check_count;                                                           \
        if (!(fabs(check_a_ - check_b_) <= (tol) * check_s_)) {                  \
            ++check_failures;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s ~ %s (%.9g vs %.9g)\n",     \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);             \
        }                                                                        \
    } while (0)

/* The thread counts kernel tests run: 1 and 2, and 3, 5, 7, which divide
 * none of the tests' work evenly, so a split that drops (or doubles) the
 * remainder of a division by the thread count shows (issue 19). */
static const int check_threads[] = {1, 2, 3, 5, 7};
#define CHECK_NTHREADS ((int)(sizeof check_threads / sizeof check_threads[0]))

static inline int check_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    if (check_count == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    return check_failures ? 1 : 0;
}

#endif
