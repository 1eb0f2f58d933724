/* What the running CPU is: ISA support (cpuid / getauxval), and its
 * topology from hwloc. Built lazily once, then read-only. */
#ifndef CNNK_CPU_H
#define CNNK_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "cnnk/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnnk_cpu_info {
    char vendor[64];    /* "AuthenticAMD", "GenuineIntel", Arm's implementer code */
    char model[128];
    bool isa[CNNK_ISA_COUNT];
    int cores;          /* physical cores (hwloc), >= 1 */
    int pus;            /* logical processors (hwloc), >= 1 */
    int64_t l1d, l2, l3;/* data cache sizes in bytes per instance, 0 = unknown */
} cnnk_cpu_info;

/* The description of this machine; never NULL. */
const cnnk_cpu_info *cnnk_cpu(void);

/* Fills pus[0..n) with the OS indices of the processors that a compact
 * binding of n threads uses (one thread per core in topology order; SMT
 * siblings only once every core has a thread; see docs/THREADS.md).
 * false, pus untouched, when n exceeds this machine's processors. */
bool cnnk_cpu_compact_pus(int n, int *pus);

/* The best ISA this CPU runs for which kernels are compiled in. */
cnnk_isa cnnk_best_isa(void);

/* Measured single-core peak of isa in GFLOP/s: independent FMA chains
 * (ref: scalar multiply-add chains, as portable C compiles them), best of
 * several short runs, measured once on first use and cached. 0 when the
 * CPU lacks isa or no loop exists for it. The figure that `pct_peak`
 * counters divide by (core/peak.c, kernels/<isa>/peak.c). */
double cnnk_peak_gflops(cnnk_isa isa);

/* Measured single-core memory bandwidth in GB/s (1e9 bytes/s): a STREAM
 * triad a = b + s*c over three 64 MiB arrays, best of a few runs, counted
 * as STREAM counts (3 arrays per pass, no write-allocate); measured once
 * and cached. 0 when the arrays cannot be allocated. The ceiling of
 * bandwidth-bound layers (batch-1 fully connected). */
double cnnk_mem_bandwidth_gbs(void);

#ifdef __cplusplus
}
#endif
#endif
