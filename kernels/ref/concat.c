/* Channel concatenation: input i lands at channel offset sum(c[<i]). */
#include "kernels/ref/ref.h"

void cnnk_ref_concat(const cnnk_concat_desc *d, const float *const *src,
                     const int64_t *src_ld, float *dst, int64_t dst_ld) {
    int64_t pixels = d->mb * d->h * d->w;
    int64_t offset = 0;
    for (int i = 0; i < d->n; ++i) {
        for (int64_t p = 0; p < pixels; ++p)
            for (int64_t c = 0; c < d->c[i]; ++c)
                dst[p * dst_ld + offset + c] = src[i][p * src_ld[i] + c];
        offset += d->c[i];
    }
}
