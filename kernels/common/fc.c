/* Fully connected layers on the shared GEMM's B layout, for every ISA.
 *
 * pack() reorders the OIHW [oc][ic][ih][iw] weights to the NHWC flatten
 * order k = (h*iw + w)*ic + c once, into the GEMM's B panels
 * ([oc/NR][K][NR], docs/GEMM.md). That one layout serves both cases:
 *  - batch > 1: the GEMM itself (A = the input rows, bias and ReLU fused),
 *    the unpacked one where the ISA has it: the input rows read in place
 *    (docs/GEMM_SUP.md "Fully connected at batch > 1");
 *  - batch 1: the ISA's GEMV over the same panels, which is bandwidth-bound
 *    (each weight is used once); threads split the output channels in
 *    groups of the panels one GEMV step streams together. */
#include "kernels/common/gemm.h"
#include "kernels/common/gemm_sup.h"
#include "kernels/common/lowered.h"
#include "kernels/common/team.h"
#include "kernels/common/util.h"

static int64_t fc_k(const cnnk_fc_desc *d) { return d->ic * d->ih * d->iw; }

bool cnnk_fc_applies(const cnnk_layer_desc *l) { return l->kind == CNNK_LAYER_FC; }

/* The packed panels, then one panel of reordering scratch for pack(). */
size_t cnnk_fc_packed_size(const cnnk_isa_kernels *isa, const cnnk_layer_desc *l) {
    const cnnk_fc_desc *d = &l->u.fc;
    return cnnk_gemm_packed_b_size(isa->gemm->nr, fc_k(d), d->oc) +
           cnnk_pack_b_oihw_scratch(isa, fc_k(d));
}

void cnnk_fc_pack(const cnnk_isa_kernels *isa, const cnnk_layer_desc *l, const float *w_oihw,
                  float *packed) {
    const cnnk_fc_desc *d = &l->u.fc;
    float *scratch = packed + cnnk_gemm_packed_b_size(isa->gemm->nr, fc_k(d), d->oc);
    cnnk_pack_b_oihw(isa, d->oc, d->ic, d->ih, d->iw, w_oihw, packed, scratch);
}

/* The batch's input rows, K floats apart, as the unpacked GEMM's A. */
static cnnk_sup_a fc_rows(const cnnk_fc_desc *d, const float *src) {
    return (cnnk_sup_a){.a = src, .seg = d->mb, .seg_h = 1, .ld_row = fc_k(d)};
}

size_t cnnk_fc_workspace_size(const cnnk_isa_kernels *isa, const cnnk_layer_desc *l,
                              int nthreads) {
    const cnnk_fc_desc *d = &l->u.fc;
    if (d->mb == 1) return 0;
    if (isa->sup) {
        const cnnk_sup_a A = fc_rows(d, NULL);
        return cnnk_gemm_sup_workspace_size(isa, d->mb, d->oc, fc_k(d), &A, nthreads);
    }
    return cnnk_gemm_workspace_size(isa, d->mb, d->oc, fc_k(d), nthreads);
}

/* Thread t's share of the panels, cut at multiples of the GEMV's group. */
typedef struct gemv_job {
    const cnnk_isa_kernels *isa;
    const cnnk_fc_desc *d;
    const cnnk_op_args *a;
} gemv_job;

static void gemv_share(void *job, int t, int nthreads) {
    const gemv_job *j = job;
    const cnnk_isa_kernels *isa = j->isa;
    const cnnk_fc_desc *d = j->d;
    const cnnk_op_args *a = j->a;
    const int64_t nr = isa->gemm->nr, grp = isa->gemv_group;
    const int64_t groups = cnnk_ceil_div(d->oc, grp * nr), panels = cnnk_ceil_div(d->oc, nr);
    int64_t lo = groups * t / nthreads * grp, hi = groups * (t + 1) / nthreads * grp;
    isa->gemv(fc_k(d), d->oc, a->src[0], a->packed, a->params[0], a->relu, a->relu_alpha,
              a->dst, lo, cnnk_min64(hi, panels));
}

static void fc_gemv(const cnnk_isa_kernels *isa, const cnnk_fc_desc *d, const cnnk_op_args *a) {
    const int64_t groups = cnnk_ceil_div(d->oc, (int64_t)isa->gemv_group * isa->gemm->nr);
    int nthreads = a->nthreads < 1 ? 1 : a->nthreads;
    if (nthreads > groups) nthreads = (int)groups;
    gemv_job job = {.isa = isa, .d = d, .a = a};
    cnnk_parallel(nthreads, gemv_share, &job);
}

void cnnk_fc_run(const cnnk_isa_kernels *isa, const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_fc_desc *d = &l->u.fc;
    if (d->mb == 1) {
        fc_gemv(isa, d, a);
        return;
    }
    /* Both GEMMs split N themselves when M (the batch) is too short to
     * split; the unpacked one took 0.39-1.02x the packed one's time at
     * batch 4 and 16 on both x86 ISAs (the one loss within noise), except
     * where the weights' stream from memory decides (docs/GEMM_SUP.md). */
    const cnnk_gemm_epilogue ep = {.bias = a->params[0], .relu = a->relu,
                                   .relu_alpha = a->relu_alpha};
    const int nthreads = a->nthreads < 1 ? 1 : a->nthreads;
    if (isa->sup) {
        const cnnk_sup_a A = fc_rows(d, a->src[0]);
        cnnk_gemm_sup(isa, d->mb, d->oc, fc_k(d), &A, a->packed, a->dst, d->oc, &ep, a->workspace,
                      nthreads);
        return;
    }
    cnnk_gemm(isa, d->mb, d->oc, fc_k(d), a->src[0], fc_k(d), a->packed, a->dst, d->oc, &ep,
              a->workspace, nthreads);
}
