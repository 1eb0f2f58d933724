/* The reference of every non-convolution layer as registry entries, so the
 * runner, the checker and the benchmarks reach them the way they reach any
 * optimized kernel. Each run() is the plain definition in ref.h. */
#include <string.h>

#include "kernels/ref/ref.h"

static bool always(const cnnk_layer_desc *l) {
    (void)l;
    return true;
}

static void relu_rows(float *dst, int64_t ld, int64_t rows, int64_t c, float alpha) {
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < c; ++i) dst[r * ld + i] = cnnk_ref_act(dst[r * ld + i], alpha);
}

static void pool_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_ref_pool(&l->u.pool, a->src[0], a->src_ld[0], a->dst, a->dst_ld);
}

static void lrn_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_ref_lrn(&l->u.lrn, a->src[0], a->src_ld[0], a->dst, a->dst_ld);
}

static void softmax_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_ref_softmax(&l->u.softmax, a->src[0], a->src_ld[0], a->dst, a->dst_ld);
}

static void bnorm_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_bnorm_desc *d = &l->u.bnorm;
    cnnk_ref_bnorm(d, a->src[0], a->src_ld[0], a->params[0], a->params[1], a->params[2],
                   a->params[3], a->dst, a->dst_ld);
    if (a->relu) relu_rows(a->dst, a->dst_ld, d->mb * d->h * d->w, d->c, a->relu_alpha);
}

static void eltwise_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_ref_eltwise(&l->u.eltwise, a->src[0], a->src_ld[0], a->src[1], a->src_ld[1], a->dst,
                     a->dst_ld);
}

static void resize_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_ref_resize(&l->u.resize, a->src[0], a->src_ld[0], a->dst, a->dst_ld);
}

static void concat_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_ref_concat(&l->u.concat, a->src, a->src_ld, a->dst, a->dst_ld);
}

/* FC and deconvolution keep the framework's OIHW weights as their packing. */
static size_t fc_packed_size(const cnnk_layer_desc *l) {
    return (size_t)cnnk_fc_weights(&l->u.fc);
}

static size_t deconv_packed_size(const cnnk_layer_desc *l) {
    return (size_t)cnnk_conv_weights(&l->u.conv);
}

static void fc_pack(const cnnk_layer_desc *l, const float *w, float *packed) {
    memcpy(packed, w, fc_packed_size(l) * sizeof(float));
}

static void deconv_pack(const cnnk_layer_desc *l, const float *w, float *packed) {
    memcpy(packed, w, deconv_packed_size(l) * sizeof(float));
}

static void fc_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_ref_fc(&l->u.fc, a->src[0], a->packed, a->params[0], a->dst, a->relu, a->relu_alpha);
}

static bool deconv_applies(const cnnk_layer_desc *l) {
    return l->u.conv.transposed;
}

static void deconv_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_epilogue ep = {.bias = a->params[0], .relu = a->relu, .relu_alpha = a->relu_alpha};
    cnnk_ref_deconv(&l->u.conv, a->src[0], a->src_ld[0], a->packed, a->dst, a->dst_ld, &ep);
}

#define REF_OP(sym, nm, k, run_fn)                                                               \
    const cnnk_op_kernel sym = {.name = nm, .isa = CNNK_ISA_REF, .kind = k, .applies = always,  \
                                .run = run_fn}

REF_OP(cnnk_pool__ref, "ref/pool", CNNK_LAYER_POOL, pool_run);
REF_OP(cnnk_lrn__ref, "ref/lrn", CNNK_LAYER_LRN, lrn_run);
REF_OP(cnnk_softmax__ref, "ref/softmax", CNNK_LAYER_SOFTMAX, softmax_run);
REF_OP(cnnk_bnorm__ref, "ref/bnorm", CNNK_LAYER_BNORM, bnorm_run);
REF_OP(cnnk_eltwise__ref, "ref/eltwise", CNNK_LAYER_ELTWISE, eltwise_run);
REF_OP(cnnk_concat__ref, "ref/concat", CNNK_LAYER_CONCAT, concat_run);
REF_OP(cnnk_resize__ref, "ref/resampling", CNNK_LAYER_RESIZE, resize_run);

const cnnk_op_kernel cnnk_fc__ref = {.name = "ref/fc", .isa = CNNK_ISA_REF,
                                     .kind = CNNK_LAYER_FC, .applies = always,
                                     .packed_size = fc_packed_size, .pack = fc_pack,
                                     .run = fc_run};

const cnnk_op_kernel cnnk_deconv__ref = {.name = "ref/deconv", .isa = CNNK_ISA_REF,
                                         .kind = CNNK_LAYER_DECONV, .applies = deconv_applies,
                                         .packed_size = deconv_packed_size, .pack = deconv_pack,
                                         .run = deconv_run};

static void region_pool_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    const cnnk_region_pool_desc *d = &l->u.region;
    const bool node = a->src[1] != NULL;
    cnnk_ref_region_pool(d, a->src[0], a->src_ld[0], node ? a->src[1] : a->params[0],
                         node ? a->src_ld[1] : 5, node ? d->rois * a->src_ld[1] : 0, a->dst,
                         a->dst_ld);
}

REF_OP(cnnk_region_pool__ref, "ref/region_pool", CNNK_LAYER_REGION_POOL, region_pool_run);

static void warp_run(const cnnk_layer_desc *l, const cnnk_op_args *a) {
    cnnk_ref_warp(&l->u.warp, a->src[0], a->src_ld[0], a->params[0], a->dst, a->dst_ld);
}

REF_OP(cnnk_warp__ref, "ref/warp", CNNK_LAYER_WARP, warp_run);
