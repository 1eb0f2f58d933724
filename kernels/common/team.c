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
#include <time.h>
#include <unistd.h>

/* gen (read by every waiting thread) and pending (written by every thread
 * that finishes) sit on cache lines of their own, so the finishing
 * threads' writes do not pull the line the others spin on. */
typedef struct team {
    _Alignas(64) atomic_uint gen; /* bumped once per job, and once more to end */
    int size;               /* threads in the team, the caller being thread 0 */
    int spins;              /* pause loops before a waiting thread yields */
    cnnk_job_fn fn;         /* the current job: written by thread 0 before */
    void *ctx;              /* gen is bumped, read by the others after */
    int nt;
    bool quit;
    _Alignas(64) atomic_int pending; /* threads other than 0 still in the job */
    char pad[60];
} team;

static _Thread_local team *tls_team;  /* set on thread 0 while it holds a team */
static _Thread_local bool tls_in_job; /* inside a part of a job: nested jobs run here */
static _Thread_local int tls_bound = -1; /* the PU this thread was bound to */
static _Thread_local cnnk_team_model *tls_model;

void cnnk_team_model_set(cnnk_team_model *m) {
    tls_model = m;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* The model's job: parts in turn, each timed. */
static void modelled(cnnk_job_fn fn, void *ctx, int nt) {
    tls_in_job = true;
    double longest = 0.0;
    for (int t = 0; t < nt; ++t) {
        const double t0 = now_ms();
        fn(ctx, t, nt);
        const double dt = now_ms() - t0;
        tls_model->work_ms += dt;
        if (dt > longest) longest = dt;
    }
    tls_in_job = false;
    tls_model->critical_ms += longest;
    tls_model->jobs += 1;
}

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
static void backoff(int *spun, int spins) {
    if (*spun < spins) {
        relax();
        ++*spun; /* stops counting once yielding: a long wait cannot overflow it */
    } else {
        sched_yield();
    }
}

static void wait_gen(const team *tm, unsigned seen) {
    int spun = 0;
    while (atomic_load_explicit(&tm->gen, memory_order_acquire) == seen) backoff(&spun, tm->spins);
}

static void wait_pending(team *tm) {
    int spun = 0;
    while (atomic_load_explicit(&tm->pending, memory_order_acquire) != 0) backoff(&spun, tm->spins);
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
    if (tls_model) {
        modelled(fn, ctx, nt);
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

/* The caller's own thread is bound for the call only: its mask is put
 * back after, so the binding does not leak into the caller's other work.
 * The team's other threads are OpenMP's pool threads and stay bound. */
typedef struct caller_mask {
    cpu_set_t set;
    bool saved;
} caller_mask;

static caller_mask bind_caller(const int *pus) {
    caller_mask m = {.saved = false};
    if (!pus || pus[0] < 0 || pus[0] >= CPU_SETSIZE) return m;
    if (pthread_getaffinity_np(pthread_self(), sizeof m.set, &m.set) != 0) return m;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(pus[0], &one);
    m.saved = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
    return m;
}

static void unbind_caller(const caller_mask *m) {
    if (m->saved) pthread_setaffinity_np(pthread_self(), sizeof m->set, &m->set);
}

static void team_body(int nt, const int *pus, void (*body)(void *), void *ctx);

void cnnk_team_run(int nt, const int *pus, void (*body)(void *), void *ctx) {
    if (tls_team || tls_in_job || tls_model) {
        body(ctx);
        return;
    }
    const caller_mask m = bind_caller(pus);
    if (nt <= 1) {
        body(ctx);
    } else if (!cnnk_team_enabled()) {
        /* Bind the OpenMP threads all the same, so that the A/B comparison
         * differs in the dispatch alone. */
        if (pus) {
#pragma omp parallel num_threads(nt)
            if (omp_get_thread_num() > 0) bind_to(pus[omp_get_thread_num()]);
        }
        body(ctx);
    } else {
        team_body(nt, pus, body, ctx);
    }
    unbind_caller(&m);
}

/* Read once: glibc's sysconf reads /sys through stdio, which allocates,
 * and a forward pass allocates nothing (test_runner). */
static long online_cpus(void) {
    static atomic_long cached = 0;
    long v = atomic_load(&cached);
    if (v == 0) {
        v = sysconf(_SC_NPROCESSORS_ONLN);
        if (v < 1) v = 1;
        atomic_store(&cached, v);
    }
    return v;
}

static void team_body(int nt, const int *pus, void (*body)(void *), void *ctx) {
    const long cpus = online_cpus();
    team tm = {.spins = nt > cpus ? 0 : 20000};
    atomic_init(&tm.gen, 0u);
    atomic_init(&tm.pending, 0);
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num();
        if (pus && tid > 0) bind_to(pus[tid]);
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

/* ---- the dispatch cost ---------------------------------------------------- */

enum { DISPATCH_JOBS = 2000, DISPATCH_ROUNDS = 7 };

static void empty_part(void *ctx, int t, int nt) {
    (void)ctx, (void)t, (void)nt;
}

typedef struct dispatch_probe {
    int nt;
    double us[DISPATCH_ROUNDS];
} dispatch_probe;

static void dispatch_rounds(void *p) {
    dispatch_probe *d = p;
    for (int r = 0; r < DISPATCH_ROUNDS; ++r) {
        const double t0 = now_ms();
        for (int j = 0; j < DISPATCH_JOBS; ++j) cnnk_parallel(d->nt, empty_part, NULL);
        d->us[r] = (now_ms() - t0) * 1e3 / DISPATCH_JOBS;
    }
}

double cnnk_team_dispatch_us(int nt) {
    if (nt <= 1) return 0.0;
    dispatch_probe d = {.nt = nt};
    cnnk_team_run(nt, NULL, dispatch_rounds, &d);
    double best = d.us[0];
    for (int r = 1; r < DISPATCH_ROUNDS; ++r)
        if (d.us[r] < best) best = d.us[r];
    return best;
}
