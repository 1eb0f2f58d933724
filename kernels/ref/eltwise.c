/* Element-wise layers: ReLU, add, add+ReLU, dropout (the identity at
 * inference) and leaky ReLU. dst may alias a or b: each element is read
 * before written. */
#include "kernels/ref/ref.h"

static float relu(float x) { return x > 0.0f ? x : 0.0f; }

static float eltwise_one(cnnk_eltwise_alg alg, float alpha, float a, const float *b) {
    switch (alg) {
    case CNNK_ELTWISE_LEAKY_RELU: return a > 0.0f ? a : alpha * a;
    case CNNK_ELTWISE_RELU: return relu(a);
    case CNNK_ELTWISE_ADD: return a + *b;
    case CNNK_ELTWISE_ADD_RELU: return relu(a + *b);
    case CNNK_ELTWISE_DROPOUT: return a;
    }
    return a;
}

void cnnk_ref_eltwise(const cnnk_eltwise_desc *d, const float *a, int64_t a_ld,
                      const float *b, int64_t b_ld, float *dst, int64_t dst_ld) {
    bool binary = d->alg == CNNK_ELTWISE_ADD || d->alg == CNNK_ELTWISE_ADD_RELU;
    int64_t pixels = d->mb * d->h * d->w;
    for (int64_t p = 0; p < pixels; ++p) {
        for (int64_t c = 0; c < d->c; ++c) {
            const float *bp = binary ? &b[p * b_ld + c] : NULL;
            dst[p * dst_ld + c] = eltwise_one(d->alg, d->alpha, a[p * a_ld + c], bp);
        }
    }
}
