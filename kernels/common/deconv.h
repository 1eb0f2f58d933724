/* The transposed convolution's driver, written once for every ISA
 * (kernels/common/deconv.c): the weight packing, the rows taken phase by
 * phase, and the walk along a row in register tiles of several output
 * pixels; only the tile (kernels/common/deconv_tile.h, instantiated with
 * each ISA's vectors) belongs to an ISA.
 *
 * Formulation: gathered per output pixel, as the reference is. For each
 * kernel tap (kh, kw) the input pixel that scatters onto (oh, ow) exists
 * only where the offset divides by the stride, and only those taps are
 * visited (deconv_taps.h); the tap's icg input channels are broadcast
 * against a packed row of output-channel weights. Gathering rather than
 * scattering writes each output once, by one thread, with no accumulation
 * buffer, no workspace and no races; output rows are the parallel items.
 * Any stride, padding, dilation and group count.
 *
 * Tiles: output pixels ow, ow + sw, ..., ow + (w - 1) sw of one row take
 * the same kernel columns and read consecutive input columns, so one tile
 * of w such pixels x nv vectors of output channels loads each weight
 * vector once for w FMAs (one pixel at a time, the weights streamed per
 * pixel were the bound). A tile is cut where a tap's input column leaves
 * the row for some of its pixels but not all (the borders), so every
 * pixel of a tile takes exactly pixel 0's taps.
 *
 * Packing: [g][kh][kw][icg][ocp] with ocp = ocg rounded up to the ISA's
 * vector length, zeros in the padding, so every weight row is whole
 * vectors. */
#ifndef CNNK_KERNELS_COMMON_DECONV_H
#define CNNK_KERNELS_COMMON_DECONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnnk/kernel.h"
#include "kernels/common/deconv_taps.h"

/* The tile shapes every ISA instantiates among: up to 4 vectors of output
 * channels, up to 8 pixels. */
enum { CNNK_DECONV_MAX_NV = 4, CNNK_DECONV_MAX_PX = 8 };

/* One tile: its pixels and channels, the taps of pixel 0 (every pixel's:
 * pixel p reads p input columns further) and where its sums go. */
typedef struct cnnk_deconv_tile {
    cnnk_deconv_taps th, tw; /* clipped to the kernel and to the input */
    const float *x;          /* image n at channel g*icg: pixel (ih, iw) at (ih*iw_n + iw)*ld */
    int64_t iw_n, ld;        /* input row length, input pixel pitch */
    const float *w;          /* the group's packing at output channel o0 */
    int64_t kw, icg, ocp;
    float *y;                /* pixel 0's output at channel o0; pixel p at p*y_step */
    int64_t y_step;
    int64_t oc;              /* valid channels from o0 (the last vector may be partial) */
    const float *bias;       /* at o0, or NULL */
    bool relu;
    float relu_alpha;
} cnnk_deconv_tile;

/* Runs tile t of w pixels (1 <= w <= px[nv]) and nv vectors. */
typedef void (*cnnk_deconv_tile_fn)(const cnnk_deconv_tile *t, int w, int nv);

/* What an ISA gives the driver. */
typedef struct cnnk_deconv_isa {
    int vl;                            /* floats per vector */
    int max_nv;                        /* <= CNNK_DECONV_MAX_NV */
    int px[CNNK_DECONV_MAX_NV + 1];    /* widest tile for nv vectors (index 1..max_nv) */
    cnnk_deconv_tile_fn tile;
} cnnk_deconv_isa;

bool cnnk_deconv_applies(const cnnk_layer_desc *l);
size_t cnnk_deconv_packed_size(const cnnk_layer_desc *l, int vl);
void cnnk_deconv_pack(const cnnk_layer_desc *l, const float *w_oihw, float *packed, int vl);
void cnnk_deconv_run(const cnnk_layer_desc *l, const cnnk_op_args *a, const cnnk_deconv_isa *isa);

#endif
