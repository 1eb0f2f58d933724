/* The team behind cnnk_parallel(); see team.h and docs/THREADS.md. */
#define _GNU_SOURCE
#include "kernels/common/team.h"

#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct team {
    int size;               /* threads in the team, the caller being thread 0 */
    int spins;              /* pause loops before a waiting thread yields */
    atomic_uint gen;        /* bumped once per job, and once more to end */
    atomic_int pending;     /* threads other than 0 still in the current job */
    cnnk_job_fn fn;         /* the current job: written by thread 0 before */
    void *ctx;              /* gen is bumped, read by the others after */
    int nt;
    bool quit;
} team;

static _Thread_local team *tls_team;  /* set on thread 0 while it holds a team */
static _Thread_local bool tls_in_job; /* inside a part of a job: nested jobs run here */
static _Thread_local int tls_bound = -1; /* the PU this thread was bound to */

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Spinning keeps the next job's start within a microsecond or so while the
 * threads have cores to themselves; past a few tens of microseconds the
 * waiting thread yields, so an oversubscribed team (more threads than
 * cores, or a loaded machine) still progresses. */
static void wait_gen(const team *tm, unsigned seen) {
    for (int i = 0; atomic_load_explicit(&tm->gen, memory_order_acquire) == seen; ++i) {
        if (i < tm->spins)
            relax();
        else
            sched_yield();
    }
}

static void wait_pending(team *tm) {
    for (int i = 0; atomic_load_explicit(&tm->pending, memory_order_acquire) != 0; ++i) {
        if (i < tm->spins)
            relax();
        else
            sched_yield();
    }
}

/* The parts of a job that thread tid of size runs: t = tid, tid + size, ... */
static void run_parts(cnnk_job_fn fn, void *ctx, int nt, int tid, int size) {
    const bool outer = tls_in_job;
    tls_in_job = true;
    for (int t = tid; t < nt; t += size) fn(ctx, t, nt);
    tls_in_job = outer;
}

static void serial(cnnk_job_fn fn, void *ctx, int nt) {
    run_parts(fn, ctx, nt, 0, 1);
}

void cnnk_parallel(int nt, cnnk_job_fn fn, void *ctx) {
    if (nt <= 1) {
        serial(fn, ctx, 1);
        return;
    }
    if (tls_in_job) {
        serial(fn, ctx, nt);
        return;
    }
    team *tm = tls_team;
    if (!tm) {
#pragma omp parallel num_threads(nt)
        run_parts(fn, ctx, nt, omp_get_thread_num(), omp_get_num_threads());
        return;
    }
    tm->fn = fn;
    tm->ctx = ctx;
    tm->nt = nt;
    atomic_store_explicit(&tm->pending, tm->size - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&tm->gen, 1, memory_order_release);
    run_parts(fn, ctx, nt, 0, tm->size);
    wait_pending(tm);
}

typedef struct range_job {
    cnnk_range_fn fn;
    void *ctx;
    int64_t n;
} range_job;

static void range_part(void *p, int t, int nt) {
    const range_job *j = p;
    int64_t lo, hi;
    cnnk_part_range(j->n, t, nt, &lo, &hi);
    if (lo < hi) j->fn(j->ctx, lo, hi, t);
}

void cnnk_parallel_for(int nt, int64_t n, cnnk_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (nt > n) nt = (int)n;
    if (nt <= 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    range_job j = {.fn = fn, .ctx = ctx, .n = n};
    cnnk_parallel(nt, range_part, &j);
}

/* Binds the calling thread to one PU; a failure leaves it unbound (the
 * binding is a placement preference, never a correctness matter). */
static void bind_to(int pu) {
    if (pu < 0 || tls_bound == pu || pu >= CPU_SETSIZE) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0) tls_bound = pu;
}

static void worker(team *tm, int tid) {
    unsigned seen = 0;
    for (;;) {
        wait_gen(tm, seen);
        seen = atomic_load_explicit(&tm->gen, memory_order_acquire);
        if (tm->quit) return;
        run_parts(tm->fn, tm->ctx, tm->nt, tid, tm->size);
        atomic_fetch_sub_explicit(&tm->pending, 1, memory_order_release);
    }
}

int cnnk_team_enabled(void) {
    static atomic_int cached = -1;
    int v = atomic_load(&cached);
    if (v < 0) {
        const char *e = getenv("CNNK_TEAM");
        v = !(e && (strcmp(e, "0") == 0 || strcmp(e, "off") == 0));
        atomic_store(&cached, v);
    }
    return v;
}

void cnnk_team_run(int nt, const int *pus, void (*body)(void *), void *ctx) {
    if (nt <= 1 || tls_team || tls_in_job) {
        if (pus && nt >= 1) bind_to(pus[0]);
        body(ctx);
        return;
    }
    if (!cnnk_team_enabled()) {
        /* Bind the OpenMP threads all the same, so that the A/B comparison
         * differs in the dispatch alone. */
        if (pus) {
#pragma omp parallel num_threads(nt)
            bind_to(pus[omp_get_thread_num()]);
        }
        body(ctx);
        return;
    }
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    team tm = {.spins = cpus > 0 && nt > cpus ? 0 : 20000};
    atomic_init(&tm.gen, 0u);
    atomic_init(&tm.pending, 0);
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num();
        if (pus) bind_to(pus[tid]);
        if (tid == 0) {
            tm.size = omp_get_num_threads();
            tls_team = &tm;
            body(ctx);
            tls_team = NULL;
            tm.quit = true;
            atomic_fetch_add_explicit(&tm.gen, 1, memory_order_release);
        } else {
            worker(&tm, tid);
        }
    }
}
