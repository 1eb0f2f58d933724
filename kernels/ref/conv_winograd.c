/* "ref/winograd_f{2,4,6}x{2,4,6}": Winograd F(m x m, 3 x 3), alpha = m + 2.
 *
 * The output is cut into m x m tiles (the last row and column of tiles may
 * be partial); each reads an alpha x alpha input tile at stride m, zero
 * outside the image (that zero is the padding, any amount on any side).
 * 2-D transforms are the 1-D ones of winograd_1d.c applied to rows, then to
 * columns: V = B^T d B, U = G g G^T, Y = A^T M A. The elementwise product
 * summed over input channels is, for each of the alpha^2 positions, one GEMM
 * [tiles x ic] x [ic x oc] -- the batched GEMM an optimized kernel blocks. */
#include "kernels/common/flops.h"
#include "kernels/ref/ref.h"

#define WINO_MAX_ALPHA 8

static int64_t div_up(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static int64_t tiles(const cnnk_conv_desc *d, int m) {
    return div_up(d->oh, m) * div_up(d->ow, m);
}

static bool wino_applies(const cnnk_conv_desc *d) {
    return !d->transposed && d->g == 1 && d->kh == 3 && d->kw == 3 && d->sh == 1 &&
           d->sw == 1 && d->dh == 1 && d->dw == 1;
}

/* U[alpha^2][ic][oc]: one GEMM B operand per position. */
static size_t wino_packed_size(const cnnk_conv_desc *d, int m) {
    const int64_t alpha = m + 2;
    return (size_t)(alpha * alpha * d->ic * d->oc);
}

/* V[alpha^2][tiles][ic] and M[alpha^2][tiles][oc] for one image. */
static size_t wino_workspace_size(const cnnk_conv_desc *d, int m) {
    const int64_t alpha = m + 2;
    return (size_t)(alpha * alpha * tiles(d, m) * (d->ic + d->oc));
}

static void wino_pack(const cnnk_conv_desc *d, int m, const float *w_oihw, float *packed) {
    const int64_t alpha = m + 2, plane = d->ic * d->oc;
    float t[3 * WINO_MAX_ALPHA], u[WINO_MAX_ALPHA * WINO_MAX_ALPHA];
    for (int64_t o = 0; o < d->oc; ++o) {
        for (int64_t c = 0; c < d->ic; ++c) {
            const float *g = w_oihw + (o * d->ic + c) * 9;
            for (int r = 0; r < 3; ++r)
                cnnk_ref_wino_kernel_1d(m, g + r * 3, 1, t + r * alpha, 1);
            for (int64_t j = 0; j < alpha; ++j)
                cnnk_ref_wino_kernel_1d(m, t + j, alpha, u + j, alpha);
            for (int64_t p = 0; p < alpha * alpha; ++p)
                packed[p * plane + c * d->oc + o] = u[p];
        }
    }
}

/* V for every tile and channel of one image. */
static void input_transform(const cnnk_conv_desc *d, int m, const float *src_img,
                            int64_t src_ld, float *v) {
    const int64_t alpha = m + 2, tw = div_up(d->ow, m), nt = tiles(d, m);
    float t[WINO_MAX_ALPHA * WINO_MAX_ALPHA], b[WINO_MAX_ALPHA * WINO_MAX_ALPHA];
    for (int64_t tile = 0; tile < nt; ++tile) {
        const int64_t y0 = tile / tw * m - d->pt, x0 = tile % tw * m - d->pl;
        for (int64_t c = 0; c < d->ic; ++c) {
            for (int64_t i = 0; i < alpha; ++i)
                for (int64_t j = 0; j < alpha; ++j) {
                    const int64_t y = y0 + i, x = x0 + j;
                    const bool inside = y >= 0 && y < d->ih && x >= 0 && x < d->iw;
                    t[i * alpha + j] = inside ? src_img[(y * d->iw + x) * src_ld + c] : 0.0f;
                }
            for (int64_t i = 0; i < alpha; ++i)
                cnnk_ref_wino_input_1d(m, t + i * alpha, 1, b + i * alpha, 1);
            for (int64_t j = 0; j < alpha; ++j)
                cnnk_ref_wino_input_1d(m, b + j, alpha, t + j, alpha);
            for (int64_t p = 0; p < alpha * alpha; ++p)
                v[(p * nt + tile) * d->ic + c] = t[p];
        }
    }
}

/* Y = A^T M A for every tile and output channel; only the pixels of a
 * partial tile that lie inside the output are written. */
static void output_transform(const cnnk_conv_desc *d, int m, const float *mm, float *dst_img,
                             int64_t dst_ld) {
    const int64_t alpha = m + 2, tw = div_up(d->ow, m), nt = tiles(d, m);
    float t[WINO_MAX_ALPHA * WINO_MAX_ALPHA], r[WINO_MAX_ALPHA * WINO_MAX_ALPHA];
    for (int64_t tile = 0; tile < nt; ++tile) {
        const int64_t y0 = tile / tw * m, x0 = tile % tw * m;
        for (int64_t o = 0; o < d->oc; ++o) {
            for (int64_t p = 0; p < alpha * alpha; ++p)
                t[p] = mm[(p * nt + tile) * d->oc + o];
            for (int64_t i = 0; i < alpha; ++i)
                cnnk_ref_wino_output_1d(m, t + i * alpha, 1, r + i * m, 1);
            for (int64_t j = 0; j < m; ++j)
                cnnk_ref_wino_output_1d(m, r + j, m, t + j, m);
            for (int64_t i = 0; i < m && y0 + i < d->oh; ++i)
                for (int64_t j = 0; j < m && x0 + j < d->ow; ++j)
                    dst_img[((y0 + i) * d->ow + x0 + j) * dst_ld + o] = t[i * m + j];
        }
    }
}

static void wino_run(const cnnk_conv_desc *d, int m, const cnnk_conv_args *a) {
    const int64_t alpha = m + 2, nt = tiles(d, m), pixels = d->oh * d->ow;
    float *v = a->workspace;
    float *mm = v + alpha * alpha * nt * d->ic;
    for (int64_t n = 0; n < d->mb; ++n) {
        const float *src_img = a->src + n * d->ih * d->iw * a->src_ld;
        float *dst_img = a->dst + n * pixels * a->dst_ld;
        input_transform(d, m, src_img, a->src_ld, v);
        for (int64_t p = 0; p < alpha * alpha; ++p)
            cnnk_ref_gemm(nt, d->oc, d->ic, v + p * nt * d->ic, d->ic, a->packed + p * d->ic * d->oc,
                 d->oc, mm + p * nt * d->oc, d->oc);
        output_transform(d, m, mm, dst_img, a->dst_ld);
        for (int64_t p = 0; p < pixels; ++p)
            cnnk_ref_epilogue(&a->ep, d->oc, n * pixels + p, dst_img + p * a->dst_ld);
    }
}

/* ---- the three registry entries: F(2x2), F(4x4), F(6x6) --------------- */

#define WINO_ENTRY(M, ALGO)                                                          \
    static size_t wino##M##_packed_size(const cnnk_conv_desc *d) {                   \
        return wino_packed_size(d, M);                                               \
    }                                                                                \
    static size_t wino##M##_workspace_size(const cnnk_conv_desc *d, int nthreads) {  \
        (void)nthreads; /* the reference is single-threaded */                       \
        return wino_workspace_size(d, M);                                            \
    }                                                                                \
    static void wino##M##_pack(const cnnk_conv_desc *d, const float *w, float *p) {  \
        wino_pack(d, M, w, p);                                                       \
    }                                                                                \
    static void wino##M##_run(const cnnk_conv_desc *d, const cnnk_conv_args *a) {    \
        wino_run(d, M, a);                                                           \
    }                                                                                \
    static double wino##M##_flops(const cnnk_conv_desc *d) {                         \
        return cnnk_wino_flops(d, M);                                                \
    }                                                                                \
    const cnnk_conv_kernel cnnk_conv_winograd_f##M##x##M##__ref = {                  \
        .name = "ref/winograd_f" #M "x" #M,                                          \
        .isa = CNNK_ISA_REF,                                                         \
        .algo = ALGO,                                                                \
        .applies = wino_applies,                                                     \
        .packed_size = wino##M##_packed_size,                                        \
        .workspace_size = wino##M##_workspace_size,                                  \
        .pack = wino##M##_pack,                                                      \
        .run = wino##M##_run,                                                        \
        .flops = wino##M##_flops,                                                    \
    };

WINO_ENTRY(2, CNNK_ALGO_WINOGRAD_F2)
WINO_ENTRY(4, CNNK_ALGO_WINOGRAD_F4)
WINO_ENTRY(6, CNNK_ALGO_WINOGRAD_F6)
