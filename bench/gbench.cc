// The one C++ file of cnnk: Google Benchmark behind bench/gbench.h.
// Everything here is a thin translation; no benchmark logic lives here.
#include "bench/gbench.h"

#include <benchmark/benchmark.h>

#include <climits>
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <vector>

// cnnk_gb_state and cnnk_gb_bench stay incomplete: their pointers are
// benchmark::State and benchmark::internal::Benchmark pointers.

namespace {

struct Entry {
    std::string name;
    cnnk_gb_fn fn;
    void *user;
    void (*destroy)(void *);
    bool started = false;
    bool failed = false; // skipped with an error in the last cnnk_gb_main
};

// Google Benchmark's registry is process-wide, so is the list of user
// data that outlives registration; both are emptied by cnnk_gb_clear().
struct Registry {
    std::vector<std::unique_ptr<Entry>> entries;
    FILE *progress = nullptr;
    int started = 0;
};

Registry &registry() {
    static Registry r;
    return r;
}

benchmark::State &S(cnnk_gb_state *st) { return *reinterpret_cast<benchmark::State *>(st); }
const benchmark::State &S(const cnnk_gb_state *st) {
    return *reinterpret_cast<const benchmark::State *>(st);
}
benchmark::internal::Benchmark *B(cnnk_gb_bench *b) {
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

void trampoline(benchmark::State &st, Entry *e) {
    Registry &r = registry();
    if (r.progress && !e->started) {
        e->started = true;
        std::fprintf(r.progress, "[%d] start %s\n", ++r.started, e->name.c_str());
        std::fflush(r.progress);
    }
    e->fn(reinterpret_cast<cnnk_gb_state *>(&st), e->user);
    if (st.error_occurred()) e->failed = true;
}

const char *unit_name(benchmark::TimeUnit u) {
    switch (u) {
    case benchmark::kNanosecond: return "ns";
    case benchmark::kMicrosecond: return "us";
    case benchmark::kMillisecond: return "ms";
    case benchmark::kSecond: return "s";
    }
    return "?";
}

// One line per finished benchmark (its median when repeated), instead of
// the console table: the --main job prints its own table at the end.
class ProgressReporter : public benchmark::BenchmarkReporter {
  public:
    explicit ProgressReporter(FILE *out) : out_(out) {}
    bool ReportContext(const Context &) override { return true; }
    void ReportRuns(const std::vector<Run> &runs) override {
        // Repeated benchmarks are reported twice: their runs, then their
        // aggregates; one line, at the median, says it is done.
        const Run *pick = nullptr;
        for (const Run &run : runs) {
            if (run.error_occurred) {
                std::fprintf(out_, "    done  %s: SKIPPED: %s\n", run.run_name.str().c_str(),
                             run.error_message.c_str());
                std::fflush(out_);
                return;
            }
            bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
            bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
            if (median || (single && !pick)) pick = &run;
        }
        if (!pick) return;
        std::fprintf(out_, "    done  %s: %.3f %s real, %.3f %s cpu (%s)\n",
                     pick->run_name.str().c_str(), pick->GetAdjustedRealTime(),
                     unit_name(pick->time_unit), pick->GetAdjustedCPUTime(),
                     unit_name(pick->time_unit),
                     pick->run_type == Run::RT_Aggregate ? "median of repetitions" : "1 run");
        std::fflush(out_);
    }

  private:
    FILE *out_;
};

}  // namespace

extern "C" {

cnnk_gb_bench *cnnk_gb_register(const char *name, cnnk_gb_fn fn, void *user,
                                void (*destroy)(void *)) {
    Entry *e = new (std::nothrow) Entry{name, fn, user, destroy};
    if (!e) {
        if (destroy) destroy(user);
        return nullptr;
    }
    registry().entries.emplace_back(e);
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
        e->name.c_str(), [e](benchmark::State &st) { trampoline(st, e); });
    return reinterpret_cast<cnnk_gb_bench *>(b);
}

void cnnk_gb_set_unit(cnnk_gb_bench *b, cnnk_gb_unit unit) {
    static const benchmark::TimeUnit units[] = {benchmark::kNanosecond, benchmark::kMicrosecond,
                                                benchmark::kMillisecond, benchmark::kSecond};
    if (unit >= CNNK_GB_NS && unit <= CNNK_GB_S) B(b)->Unit(units[unit]);
}

void cnnk_gb_set_min_time(cnnk_gb_bench *b, double seconds) { B(b)->MinTime(seconds); }
void cnnk_gb_set_repetitions(cnnk_gb_bench *b, int n) { B(b)->Repetitions(n); }
void cnnk_gb_set_iterations(cnnk_gb_bench *b, int64_t n) { B(b)->Iterations(n); }
void cnnk_gb_use_real_time(cnnk_gb_bench *b) { B(b)->UseRealTime(); }

bool cnnk_gb_keep_running(cnnk_gb_state *st) { return S(st).KeepRunning(); }
void cnnk_gb_pause(cnnk_gb_state *st) { S(st).PauseTiming(); }
void cnnk_gb_resume(cnnk_gb_state *st) { S(st).ResumeTiming(); }
int64_t cnnk_gb_iterations(const cnnk_gb_state *st) { return S(st).iterations(); }

void cnnk_gb_counter(cnnk_gb_state *st, const char *name, double value, unsigned flags) {
    unsigned f = 0;
    if (flags & CNNK_GB_RATE) f |= benchmark::Counter::kIsRate;
    if (flags & CNNK_GB_AVG_THREADS) f |= benchmark::Counter::kAvgThreads;
    if (flags & CNNK_GB_ITERATION_INVARIANT) f |= benchmark::Counter::kIsIterationInvariant;
    if (flags & CNNK_GB_AVG_ITERATIONS) f |= benchmark::Counter::kAvgIterations;
    S(st).counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f));
}

bool cnnk_gb_counter_get(const cnnk_gb_state *st, const char *name, double *value) {
    const auto &c = S(st).counters;
    auto it = c.find(name);
    if (it == c.end()) return false;
    *value = it->second.value;
    return true;
}

void cnnk_gb_label(cnnk_gb_state *st, const char *label) { S(st).SetLabel(label); }
void cnnk_gb_skip(cnnk_gb_state *st, const char *msg) { S(st).SkipWithError(msg); }
bool cnnk_gb_skipped(const cnnk_gb_state *st) { return S(st).error_occurred(); }

void cnnk_gb_add_context(const char *key, const char *value) {
    benchmark::AddCustomContext(key, value);
}

size_t cnnk_gb_count(void) { return registry().entries.size(); }

int cnnk_gb_failed(void) {
    int n = 0;
    for (const auto &e : registry().entries) n += e->failed ? 1 : 0;
    return n;
}

const char *cnnk_gb_name_at(size_t i) {
    const auto &v = registry().entries;
    return i < v.size() ? v[i]->name.c_str() : nullptr;
}

int cnnk_gb_main(int *argc, char **argv, const cnnk_gb_options *opt) {
    benchmark::Initialize(argc, argv);
    if (benchmark::ReportUnrecognizedArguments(*argc, argv)) return -1;
    Registry &r = registry();
    r.progress = opt ? opt->progress : nullptr;
    r.started = 0;
    for (auto &e : r.entries) e->started = e->failed = false;
    size_t n;
    if (r.progress) {
        ProgressReporter rep(r.progress);
        n = benchmark::RunSpecifiedBenchmarks(&rep);
    } else {
        n = benchmark::RunSpecifiedBenchmarks();
    }
    r.progress = nullptr;
    return n > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
}

void cnnk_gb_clear(void) {
    benchmark::ClearRegisteredBenchmarks();
    Registry &r = registry();
    for (auto &e : r.entries)
        if (e->destroy) e->destroy(e->user);
    r.entries.clear();
}

}  // extern "C"
