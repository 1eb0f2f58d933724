/* The scalar reference: the readable definition of every operation.
 * Plain C, no SIMD, no threads; written to be read, not to be fast.
 * All tensors follow include/cnnk/desc.h: NHWC with a pixel pitch `ld`,
 * weights OIHW. Descriptors are checked (cnnk_*_check) before these run. */
#ifndef CNNK_KERNELS_REF_H
#define CNNK_KERNELS_REF_H

#include "cnnk/desc.h"
#include "cnnk/kernel.h"

/* ---- convolution: the definition ------------------------------------- */

/* The naive direct loop: the definition every convolution kernel is
 * checked against. Any groups, strides, paddings and dilations. */
void cnnk_ref_conv(const cnnk_conv_desc *d, const float *src, int64_t src_ld,
                   const float *w_oihw, float *dst, int64_t dst_ld,
                   const cnnk_epilogue *ep);

/* Transposed convolution (the adjoint of cnnk_ref_conv with the same
 * geometry): d->transposed is true; w is OIHW with O = d->oc outputs. */
void cnnk_ref_deconv(const cnnk_conv_desc *d, const float *src, int64_t src_ld,
                     const float *w_oihw, float *dst, int64_t dst_ld,
                     const cnnk_epilogue *ep);

/* Applies the epilogue to one output pixel's oc values in place:
 * bias, then residual, then ReLU (the order of cnnk_epilogue). */
void cnnk_ref_epilogue(const cnnk_epilogue *ep, int64_t oc, int64_t pixel, float *y);

/* Folds inference batch-norm into the preceding convolution's weights
 * (OIHW, oc rows of ic/g*kh*kw) and bias (oc values; may start at zero):
 *   s = gamma / sqrt(var + eps);  w *= s;  b = (b - mean) * s + beta. */
void cnnk_ref_bnorm_fold(const cnnk_conv_desc *d, float *w_oihw, float *bias,
                         const float *mean, const float *var, const float *gamma,
                         const float *beta, float eps);

/* ---- the other layers ------------------------------------------------ */

void cnnk_ref_pool(const cnnk_pool_desc *d, const float *src, int64_t src_ld,
                   float *dst, int64_t dst_ld);

void cnnk_ref_lrn(const cnnk_lrn_desc *d, const float *src, int64_t src_ld,
                  float *dst, int64_t dst_ld);

void cnnk_ref_bnorm(const cnnk_bnorm_desc *d, const float *src, int64_t src_ld,
                    const float *mean, const float *var, const float *gamma,
                    const float *beta, float *dst, int64_t dst_ld);

/* dst[n][o] = bias[o] + sum_{h,w,c} src[n][h][w][c] * w[o][c][h][w];
 * src is contiguous NHWC (mb x ih x iw x ic), dst is mb x oc. bias may be
 * NULL; relu applies kernel.h's activation after the bias (relu_alpha 0:
 * ReLU, else leaky ReLU). */
void cnnk_ref_fc(const cnnk_fc_desc *d, const float *src, const float *w_oihw,
                 const float *bias, float *dst, bool relu, float relu_alpha);

/* kernel.h's activation of one value, as the layer kernels apply it:
 * y > 0 ? y : relu_alpha * y, with ReLU's (relu_alpha 0) +0 for a NaN. */
static inline float cnnk_ref_act(float y, float relu_alpha) {
    if (y > 0.0f) return y;
    return relu_alpha == 0.0f ? 0.0f : relu_alpha * y;
}

/* Softmax over c at every pixel, max-subtracted for range safety. */
void cnnk_ref_softmax(const cnnk_softmax_desc *d, const float *src, int64_t src_ld,
                      float *dst, int64_t dst_ld);

/* RELU / LEAKY_RELU (slope d->alpha) / DROPOUT read a only (b may be NULL);
 * ADD / ADD_RELU compute a + b. */
void cnnk_ref_eltwise(const cnnk_eltwise_desc *d, const float *a, int64_t a_ld,
                      const float *b, int64_t b_ld, float *dst, int64_t dst_ld);

/* The two source taps of output coordinate o of a bilinear resize from
 * `in` to `out` pixels (desc.h's cnnk_resize_desc), and their weights
 * w0 + w1 = 1, in PyTorch's float arithmetic (upsample_bilinear2d on the
 * CPU: scale = in/out, or (in-1)/(out-1) with align_corners; a negative
 * half-pixel coordinate clamps to 0; i1 stays i0 on the last pixel). The
 * one place the rule is written: the reference and every ISA's driver
 * (kernels/common/resize.c) call it. */
static inline void cnnk_ref_resize_tap(int64_t o, int64_t in, int64_t out, bool align_corners,
                                       int64_t *i0, int64_t *i1, float *w0, float *w1) {
    if (in == out) { /* PyTorch copies */
        *i0 = *i1 = o, *w0 = 1.0f, *w1 = 0.0f;
        return;
    }
    float src;
    if (align_corners) {
        const float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
        src = scale * (float)o;
    } else {
        /* float scale times (o + 0.5) in double, as PyTorch's C++ promotes */
        const float scale = (float)in / (float)out;
        const double s = (double)scale * ((double)o + 0.5) - 0.5;
        src = s < 0.0 ? 0.0f : (float)s;
    }
    int64_t i = (int64_t)src; /* src >= 0: truncation is floor */
    if (i > in - 1) i = in - 1;
    *i0 = i;
    *i1 = i + (i < in - 1 ? 1 : 0);
    *w1 = src - (float)i;
    *w0 = 1.0f - *w1;
}

/* Bilinear resize of every channel (cnnk_resize_desc), each output the
 * PyTorch order h0 * (w0 * x00 + w1 * x01) + h1 * (w0 * x10 + w1 * x11). */
void cnnk_ref_resize(const cnnk_resize_desc *d, const float *src, int64_t src_ld, float *dst,
                     int64_t dst_ld);

/* Copies input i (pitch src_ld[i]) to channels [sum c[<i], +c[i]) of dst. */
void cnnk_ref_concat(const cnnk_concat_desc *d, const float *const *src,
                     const int64_t *src_ld, float *dst, int64_t dst_ld);

/* CNNK_LAYER_DETECT (kernels/ref/detect.c, on kernels/ref/boxes.h): image
 * by image; src[i] / ld[i] are the inputs (1, 2 or 3 by the algorithm);
 * scratch holds cnnk_ref_detect_scratch(d) floats, reused per image. */
int64_t cnnk_ref_detect_scratch(const cnnk_detect_desc *d);
void cnnk_ref_detect(const cnnk_detect_desc *d, const float *const *src, const int64_t *ld,
                     float *scratch, float *dst, int64_t dst_ld);
/* Region max pooling (cnnk_region_pool_desc). For RoI pooling, image n's
 * R boxes are rows of boxes + n * boxes_stride, boxes_ld apart (stride 0:
 * every image the same boxes), each (batch index, x1, y1, x2, y2); boxes
 * is unread for whole-map pooling. */
void cnnk_ref_region_pool(const cnnk_region_pool_desc *d, const float *src, int64_t src_ld,
                          const float *boxes, int64_t boxes_ld, int64_t boxes_stride,
                          float *dst, int64_t dst_ld);

/* R-CNN's warp of one box row (batch index, x1, y1, x2, y2) of a
 * cnnk_warp_desc: the clipped crop (sy, sx, sh x sw pixels of the image)
 * and where it goes in the output (ty, tx, th x tw; th = 0: the region is
 * all zero). The one place the geometry is written: the reference and
 * every ISA's driver (kernels/common/warp.c) call it. */
typedef struct cnnk_warp_box {
    int64_t sy, sx, sh, sw;
    int64_t ty, tx, th, tw;
} cnnk_warp_box;
void cnnk_ref_warp_box(const cnnk_warp_desc *d, const float *box, cnnk_warp_box *g);
/* The warp (cnnk_warp_desc): every image uses the same R boxes (R x 5,
 * the network's held proposals). */
void cnnk_ref_warp(const cnnk_warp_desc *d, const float *src, int64_t src_ld, const float *boxes,
                   float *dst, int64_t dst_ld);

/* C (m x n, pitch ldc) = A (m x k, pitch lda) * B (k x n, pitch ldb): the
 * plain triple loop the reference strategies share. Float accumulation, as
 * an optimized GEMM's is, so the strategies differ from the double-
 * accumulated definition the way real kernels do. */
void cnnk_ref_gemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                   int64_t ldb, float *c, int64_t ldc);

/* ---- 1-D Winograd transforms F(m, 3), m in {2, 4, 6}, alpha = m + 2 ---
 * The 2-D transforms are composed from these: rows, then columns. */
void cnnk_ref_wino_input_1d(int m, const float *in, int64_t in_stride, float *out,
                            int64_t out_stride);  /* alpha -> alpha: B^T d */
void cnnk_ref_wino_kernel_1d(int m, const float *in, int64_t in_stride, float *out,
                             int64_t out_stride); /* 3 -> alpha:     G g  */
void cnnk_ref_wino_output_1d(int m, const float *in, int64_t in_stride, float *out,
                             int64_t out_stride); /* alpha -> m:     A^T y */

/* ---- registry entries (kernels/ref/conv_*.c) ------------------------- */
extern const cnnk_conv_kernel cnnk_conv_direct__ref;
extern const cnnk_conv_kernel cnnk_conv_im2col__ref;
extern const cnnk_conv_kernel cnnk_conv_winograd_f2x2__ref;
extern const cnnk_conv_kernel cnnk_conv_winograd_f4x4__ref;
extern const cnnk_conv_kernel cnnk_conv_winograd_f6x6__ref;
extern const cnnk_conv_kernel cnnk_conv_1x1__ref;

/* kernels/ref/ops.c: every other layer's reference as a registry entry. */
extern const cnnk_op_kernel cnnk_pool__ref;
extern const cnnk_op_kernel cnnk_lrn__ref;
extern const cnnk_op_kernel cnnk_softmax__ref;
extern const cnnk_op_kernel cnnk_bnorm__ref;
extern const cnnk_op_kernel cnnk_eltwise__ref;
extern const cnnk_op_kernel cnnk_concat__ref;
extern const cnnk_op_kernel cnnk_fc__ref;
extern const cnnk_op_kernel cnnk_deconv__ref;
extern const cnnk_op_kernel cnnk_resize__ref;
extern const cnnk_op_kernel cnnk_detect__ref;
extern const cnnk_op_kernel cnnk_region_pool__ref;
extern const cnnk_op_kernel cnnk_warp__ref;

#endif
