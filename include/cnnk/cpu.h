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
    char model[128];
    bool isa[CNNK_ISA_COUNT];
    int cores;          /* physical cores (hwloc), >= 1 */
    int pus;            /* logical processors (hwloc), >= 1 */
    int64_t l1d, l2, l3;/* data cache sizes in bytes per instance, 0 = unknown */
} cnnk_cpu_info;

/* The description of this machine; never NULL. */
const cnnk_cpu_info *cnnk_cpu(void);

/* The best ISA this CPU runs for which kernels are compiled in. */
cnnk_isa cnnk_best_isa(void);

#ifdef __cplusplus
}
#endif
#endif
