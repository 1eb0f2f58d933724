#define _GNU_SOURCE
#include <hwloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#endif

#include "cnnk/cpu.h"

static cnnk_cpu_info g_cpu;
static pthread_once_t g_cpu_once = PTHREAD_ONCE_INIT;

static void copy_value(const char *line, char *out, size_t len) {
    const char *v = strchr(line, ':');
    if (!v) return;
    v += 1 + (v[1] == ' ');
    snprintf(out, len, "%s", v);
    out[strcspn(out, "\n")] = '\0';
}

static void read_model(char *model, size_t mlen, char *vendor, size_t vlen) {
    snprintf(model, mlen, "unknown");
    snprintf(vendor, vlen, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    bool have_model = false, have_vendor = false;
    while ((!have_model || !have_vendor) && fgets(line, sizeof line, f)) {
        /* x86 says "model name", Arm kernels say "CPU part"/"Hardware";
         * the vendor is x86's "vendor_id", Arm's "CPU implementer". */
        if (!have_model && (strncmp(line, "model name", 10) == 0 || strncmp(line, "Hardware", 8) == 0))
            copy_value(line, model, mlen), have_model = true;
        else if (!have_vendor &&
                 (strncmp(line, "vendor_id", 9) == 0 || strncmp(line, "CPU implementer", 15) == 0))
            copy_value(line, vendor, vlen), have_vendor = true;
    }
    fclose(f);
}

#if defined(__x86_64__)
/* AVX-512 needs the CPU's instructions and the OS's consent to save the
 * ZMM state on a context switch: CPUID.1:ECX.OSXSAVE, then XCR0 with
 * SSE (bit 1), AVX (2), opmask (5), ZMM0-15 upper halves (6) and ZMM16-31
 * (7) all enabled. cnnk's avx512 is oneDNN's avx512_core: F, CD, BW, DQ
 * and VL (CPUID.7.0:EBX bits 16, 28, 30, 17, 31). */
static bool avx512_usable(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return false;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0xe6u) != 0xe6u) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const unsigned need = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
    return (b & need) == need;
}
#endif

static void detect_isa(bool *isa) {
    isa[CNNK_ISA_REF] = true;
#if defined(__x86_64__)
    __builtin_cpu_init();
    isa[CNNK_ISA_AVX2] = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    isa[CNNK_ISA_AVX512] = isa[CNNK_ISA_AVX2] && avx512_usable();
#elif defined(__aarch64__)
    isa[CNNK_ISA_NEON] = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#endif
}

static int64_t cache_size(hwloc_topology_t t, hwloc_obj_type_t type) {
    hwloc_obj_t o = hwloc_get_next_obj_by_type(t, type, NULL);
    return o && o->attr ? (int64_t)o->attr->cache.size : 0;
}

/* The PUs in the order a compact binding takes them: the first PU of every
 * core in topology order, then the second PU of every core, and so on, so
 * threads share a core (SMT) only once every core has one. */
enum { MAX_PUS = 1024 };
static int g_pu_order[MAX_PUS];
static int g_pu_count;

static void order_pus(hwloc_topology_t t) {
    const int cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
    for (unsigned s = 0; g_pu_count < MAX_PUS; ++s) {
        int added = 0;
        for (int i = 0; i < cores && g_pu_count < MAX_PUS; ++i) {
            hwloc_obj_t core = hwloc_get_obj_by_type(t, HWLOC_OBJ_CORE, (unsigned)i);
            hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(t, core->cpuset, HWLOC_OBJ_PU, s);
            if (!pu) continue;
            g_pu_order[g_pu_count++] = (int)pu->os_index;
            ++added;
        }
        if (!added) break;
    }
}

bool cnnk_cpu_compact_pus(int n, int *pus) {
    cnnk_cpu();
    if (n < 1 || n > g_pu_count) return false;
    for (int i = 0; i < n; ++i) pus[i] = g_pu_order[i];
    return true;
}

static void detect_topology(cnnk_cpu_info *c) {
    c->cores = c->pus = 1;
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0) return;
    if (hwloc_topology_load(t) == 0) {
        order_pus(t);
        int cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
        int pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
        c->cores = cores > 0 ? cores : 1;
        c->pus = pus > 0 ? pus : c->cores;
        c->l1d = cache_size(t, HWLOC_OBJ_L1CACHE);
        c->l2 = cache_size(t, HWLOC_OBJ_L2CACHE);
        c->l3 = cache_size(t, HWLOC_OBJ_L3CACHE);
    }
    hwloc_topology_destroy(t);
}

static void build(void) {
    read_model(g_cpu.model, sizeof g_cpu.model, g_cpu.vendor, sizeof g_cpu.vendor);
    detect_isa(g_cpu.isa);
    detect_topology(&g_cpu);
}

const cnnk_cpu_info *cnnk_cpu(void) {
    pthread_once(&g_cpu_once, build);
    return &g_cpu;
}

bool cnnk_isa_available(cnnk_isa isa) {
    return isa >= 0 && isa < CNNK_ISA_COUNT && cnnk_cpu()->isa[isa];
}

cnnk_isa cnnk_best_isa(void) {
    /* Prefer an ISA only when it has kernels registered and the CPU runs it. */
    for (int i = CNNK_ISA_COUNT - 1; i > CNNK_ISA_REF; --i) {
        if (!cnnk_isa_available((cnnk_isa)i)) continue;
        for (size_t k = 0; k < cnnk_conv_kernel_count(); ++k)
            if (cnnk_conv_kernel_at(k)->isa == (cnnk_isa)i) return (cnnk_isa)i;
    }
    return CNNK_ISA_REF;
}
