/* The per-CPU configuration of an ISA's kernels: block sizes derived once
 * from cnnk_cpu()'s cache sizes and the ISA's microkernel shape. */
#include "cnnk/cpu.h"
#include "kernels/common/isa.h"
#include "kernels/common/util.h"

/* The one place block sizes come from (BLIS's analytical model, Low et al.,
 * "Analytical modeling is enough for high-performance BLIS", 2016):
 *  - KC: the microkernel streams an MR x KC A micro-panel and reuses one
 *    KC x NR B micro-panel across the whole MC loop, so both must stay in
 *    L1 with room left for the C tile and the lines in flight: half of L1d.
 *    (MR + NR) * KC * 4 bytes <= L1d / 2; rounded to the k-unroll. An ISA
 *    with a wide NR may ask instead for KC * NR * 4 <= L1d (the B
 *    micro-panel alone in L1, A from L2: cnnk_kc_rule, measured).
 *  - MC: the packed MC x KC A block is reused across every NR panel of the
 *    NC loop, so it lives in L2. Every C tile and B micro-panel of the NC
 *    loop also streams through L2 (MC x NC of C per KC step, several times
 *    the A block), so A gets a quarter of L2 rather than BLIS's usual
 *    half, leaving the streams room that would otherwise evict A (on this
 *    noisy VM the measurements could not separate the two; see
 *    docs/GEMM.md). Rounded to MR.
 *  - NC: the KC x NC B block is reused across every MC block; it lives in
 *    L3 (half of it, shared), capped because B is prepacked (no packing cost
 *    to amortise) and larger NC only delays A reuse. Rounded to NR.
 * Unknown cache sizes (0 from hwloc) fall back to Haswell-class values.
 *
 * The im2col column block and the Winograd block get half of L2 each: both
 * are written by a lowering or transform and read back by the GEMM's A
 * packing while still in L2, next to the packed A block and the B panels
 * streaming past (docs/KERNELS_AVX2_GEMM.md, docs/KERNELS_AVX2_WINOGRAD.md).
 *
 * The unpacked GEMM (gemm_sup.c) keeps its MR x KC A tile, read in place,
 * in L1d across the NC loop (all of it: B's micro-panels stream past from
 * L2, and on Zen 5 K = 512 unsplit led the half-L1 KC of 256 by 5-10%,
 * docs/GEMM_SUP.md), and its KC x NC B block in half of L2 across the M
 * tiles. */
cnnk_kernel_config cnnk_kernel_config_derive(const cnnk_gemm_ukernel *uk) {
    const cnnk_cpu_info *cpu = cnnk_cpu();
    const int64_t l1 = cpu->l1d > 0 ? cpu->l1d : 32 * 1024;
    const int64_t l2 = cpu->l2 > 0 ? cpu->l2 : 256 * 1024;
    const int64_t l3 = cpu->l3 > 0 ? cpu->l3 : 8 * 1024 * 1024;
    const int64_t fsz = (int64_t)sizeof(float), mr = uk->mr, nr = uk->nr;
    cnnk_kernel_config c = {.gemm = {.mr = uk->mr, .nr = uk->nr}};
    cnnk_gemm_blocking *b = &c.gemm;
    const int64_t kc_l1 = uk->kc_rule == CNNK_KC_RULE_B_FILLS_L1 ? l1 / (nr * fsz)
                                                                 : l1 / 2 / ((mr + nr) * fsz);
    b->kc = cnnk_clamp64(cnnk_round_down(kc_l1, uk->k_unroll), 64, 1024);
    b->mc = cnnk_clamp64(cnnk_round_down(l2 / 4 / (b->kc * fsz), mr), 4 * mr, 4096 / mr * mr);
    b->nc = cnnk_clamp64(cnnk_round_down(l3 / 2 / (b->kc * fsz), nr), 16 * nr, 4096 / nr * nr);
    c.col_block_bytes = l2 / 2;
    c.wino_block_bytes = l2 / 2;
    c.sup_a_bytes = l1;
    c.sup_b_bytes = l2 / 2;
    return c;
}
