/* Plans: which kernel runs each layer. Every kernel comes from the registry
 * (cnnk_conv_kernel_at / cnnk_op_kernel_at); only the reference fallback is
 * named, by ISA and algorithm, never by symbol. */
#include <stdio.h>
#include <string.h>

#include "core/plan.h"

/* Below this output width the direct kernel's row tiles (6 pixels) are
 * mostly partial, and im2col's GEMM, tiled over all pixels, wins
 * (docs/PERFORMANCE.md: ResNet-50 layer4.0.conv2 at 7x7, im2col 0.92x
 * oneDNN against direct 1.17x). At 14 wide the lowering on the unpacked
 * GEMM led direct on ResNet-50's layer3.0.conv2 (3x3 stride 2) in five
 * runs, 0.94-0.97x (2026-12-03, Zen 5, AVX2; docs/GEMM_SUP.md "im2col
 * unpacked"); at 28 wide direct led in four of five (layer2.0.conv2). */
#define HEURISTIC_DIRECT_MIN_OW 15

static void list_plans(char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "ref, heuristic");
    for (int a = 0; a < CNNK_ALGO_COUNT && used < len; ++a)
        used += (size_t)snprintf(buf + used, len - used, ", fixed:%s", cnnk_algo_name((cnnk_algo)a));
    if (used < len) snprintf(buf + used, len - used, ", tuned:<file>, tuned-force:<file>");
}

/* Reads the file now so a bad one is refused where the user named it;
 * the runner reads it again at prepare (the plan stays a plain value). */
static cnnk_status parse_tuned(const char *file, bool force, cnnk_plan *p, cnnk_error *err) {
    if (!file[0]) return cnnk_fail(err, CNNK_EINVAL, "plan tuned: needs a file, e.g. tuned:plans/x.json");
    if (strlen(file) >= sizeof p->file)
        return cnnk_fail(err, CNNK_EINVAL, "plan tuned: file name over %d characters",
                         CNNK_PLAN_FILE_LEN - 1);
    cnnk_tune_table *t;
    const cnnk_status s = cnnk_tune_read(file, force, &t, err);
    if (s != CNNK_OK) return s;
    cnnk_tune_free(t);
    *p = (cnnk_plan){.kind = CNNK_PLAN_TUNED, .algo = CNNK_ALGO_DIRECT, .force = force};
    snprintf(p->file, sizeof p->file, "%s", file);
    return CNNK_OK;
}

cnnk_status cnnk_plan_parse(const char *s, cnnk_plan *p, cnnk_error *err) {
    static const char fixed[] = "fixed:", tuned[] = "tuned:", forced[] = "tuned-force:";
    if (s && strcmp(s, "ref") == 0) {
        *p = (cnnk_plan){.kind = CNNK_PLAN_REF, .algo = CNNK_ALGO_DIRECT};
        return CNNK_OK;
    }
    if (s && strcmp(s, "heuristic") == 0) {
        *p = (cnnk_plan){.kind = CNNK_PLAN_HEURISTIC, .algo = CNNK_ALGO_DIRECT};
        return CNNK_OK;
    }
    if (s && strncmp(s, tuned, sizeof tuned - 1) == 0)
        return parse_tuned(s + sizeof tuned - 1, false, p, err);
    if (s && strncmp(s, forced, sizeof forced - 1) == 0)
        return parse_tuned(s + sizeof forced - 1, true, p, err);
    cnnk_algo algo;
    if (s && strncmp(s, fixed, sizeof fixed - 1) == 0 &&
        cnnk_algo_from_name(s + sizeof fixed - 1, &algo)) {
        *p = (cnnk_plan){.kind = CNNK_PLAN_FIXED, .algo = algo};
        return CNNK_OK;
    }
    char valid[320];
    list_plans(valid, sizeof valid);
    return cnnk_fail(err, CNNK_EINVAL, "unknown plan '%s' (valid: %s)", s ? s : "(null)", valid);
}

void cnnk_plan_format(const cnnk_plan *p, char *buf, size_t len) {
    switch (p->kind) {
    case CNNK_PLAN_REF: snprintf(buf, len, "ref"); break;
    case CNNK_PLAN_HEURISTIC: snprintf(buf, len, "heuristic"); break;
    case CNNK_PLAN_TUNED:
        snprintf(buf, len, "%s:%s", p->force ? "tuned-force" : "tuned", p->table ? "(memory)" : p->file);
        break;
    default: snprintf(buf, len, "fixed:%s", cnnk_algo_name(p->algo)); break;
    }
}

/* The strategy tried when `a` does not apply: cheaper transforms first,
 * ending at direct, which applies everywhere. */
static bool next_algo(cnnk_algo a, cnnk_algo *next) {
    switch (a) {
    case CNNK_ALGO_1X1_SUP: *next = CNNK_ALGO_1X1; return true;
    case CNNK_ALGO_IM2COL_SUP: *next = CNNK_ALGO_IM2COL; return true;
    case CNNK_ALGO_1X1: *next = CNNK_ALGO_IM2COL; return true;
    case CNNK_ALGO_WINOGRAD_F6: *next = CNNK_ALGO_WINOGRAD_F4; return true;
    case CNNK_ALGO_WINOGRAD_F4: *next = CNNK_ALGO_WINOGRAD_F2; return true;
    case CNNK_ALGO_WINOGRAD_F2: *next = CNNK_ALGO_IM2COL; return true;
    case CNNK_ALGO_IM2COL: *next = CNNK_ALGO_DIRECT; return true;
    default: return false;
    }
}

static const cnnk_conv_kernel *find_conv(cnnk_isa isa, cnnk_algo algo, const cnnk_conv_desc *d) {
    for (size_t i = 0; i < cnnk_conv_kernel_count(); ++i) {
        const cnnk_conv_kernel *k = cnnk_conv_kernel_at(i);
        if (k->isa == isa && k->algo == algo && k->applies(d)) return k;
    }
    return NULL;
}

static const cnnk_conv_kernel *walk_chain(cnnk_isa isa, cnnk_algo first, const cnnk_conv_desc *d) {
    cnnk_algo a = first;
    for (;;) {
        const cnnk_conv_kernel *k = find_conv(isa, a, d);
        if (k) return k;
        if (!next_algo(a, &a)) return NULL;
    }
}

static bool is_1x1_unpadded(const cnnk_conv_desc *d) {
    return d->kh == 1 && d->kw == 1 && d->pt == 0 && d->pl == 0 && d->pb == 0 && d->pr == 0;
}

/* A 3x3 stride-1 dense convolution wide enough for Winograd's GEMMs. */
static bool winograd_shape(const cnnk_conv_desc *d) {
    return d->kh == 3 && d->kw == 3 && d->sh == 1 && d->sw == 1 && d->dh == 1 && d->dw == 1 &&
           d->g == 1 && d->ic >= 16 && d->oc >= 16;
}

/* AVX2 (and any ISA without its own measurements). */
static cnnk_algo heuristic_algo_avx2(cnnk_isa isa, const cnnk_conv_desc *d) {
    /* 1x1: the unpacked GEMM, every unpadded one. With the 6x16 kernels'
     * accumulators kept in registers (2026-12-02, Zen 3) `cnnk tune`'s
     * races over the five networks' 99 distinct 1x1 shapes chose 1x1_sup
     * on 85 (52 separated), and it was within 0-2% of the best per map size
     * (geometric mean), where the packed 1x1 took 7-15% longer and direct
     * 9-32% (docs/GEMM_SUP.md). Before that fix the packed GEMM led at
     * 14x14 and up on Zen 5, by 0-10%. An ISA without the unpacked path
     * (NEON) takes the packed one. */
    if (is_1x1_unpadded(d))
        return find_conv(isa, CNNK_ALGO_1X1_SUP, d) ? CNNK_ALGO_1X1_SUP : CNNK_ALGO_1X1;
    /* Winograd pays off once the GEMMs are wide (channels) and the tiles
     * many (output size); F4 keeps the error near direct's (docs/RUNNER.md). */
    const bool wino = winograd_shape(d);
    if (wino && d->oh >= 8 && d->ow >= 8) return CNNK_ALGO_WINOGRAD_F4;
    /* A 7x7 output is one partial 4x4 tile per 2x2 of F4 (64 computed for
     * 49 used) but 16 nearly full 2x2 tiles: F2 (ResNet-50 layer4, 0.73x
     * oneDNN where F4 is 1.6x). */
    if (wino && d->oh >= 4 && d->ow >= 4) return CNNK_ALGO_WINOGRAD_F2;
    if (d->ow >= HEURISTIC_DIRECT_MIN_OW) return CNNK_ALGO_DIRECT;
    /* The lowering on the unpacked GEMM, which reads the column block in
     * place: on the 12 non-1x1 layers under 14 wide of AlexNet, GoogLeNet,
     * ResNet-50, DenseNet-121 and YOLOv1 it took 0.84-0.99x of the packed
     * im2col's time in two runs (geomean 0.93; ResNet-50 layer4.0.conv2
     * 0.89-0.93x in five), but for YOLOv1's features.46, whose 38 MB of weights
     * stream from memory: 0.96-1.13x over runs that swung by a third, 1.00x
     * in a third run of five repetitions (docs/GEMM_SUP.md). */
    return find_conv(isa, CNNK_ALGO_IM2COL_SUP, d) ? CNNK_ALGO_IM2COL_SUP : CNNK_ALGO_IM2COL;
}

/* AVX-512, from per-layer runs of every kernel against oneDNN's
 * avx512_core on this repository's five networks (docs/KERNELS_AVX512.md,
 * Zen 5): the wider FMA shifts work away from Winograd's transforms and
 * the 14x32 GEMM tile wastes more on short M, so
 *  - 1x1: the unpacked GEMM (1x1_sup, src read in place; docs/GEMM_SUP.md),
 *    every unpadded one. With its 6x64 tile (Ice Lake, 2026-12-01) it led
 *    direct on all 11 shapes the 14x32 tile had left to direct (64 input
 *    channels, maps under 8x8: ResNet's 64->64 1.32x oneDNN against
 *    direct's 1.58x, its 2048->512 at 7x7 1.16x against 1.22x, DenseNet's
 *    and GoogLeNet's 7x7 layers 0.89-1.03x against 1.03-1.16x), and it led
 *    the packed 1x1 on 13 of ResNet-50's 15 1x1 shapes (the other two
 *    within 2%);
 *  - Winograd F4 from 8x8 up, F2 on 4x4 to 7x7 maps, as on AVX2. Since
 *    the transform-domain multiplies run on the unpacked GEMM (2026-12-03,
 *    docs/GEMM_SUP.md "Winograd's multiplies unpacked"), whose tiles of
 *    equal height do not waste the 14-row tile's rows on 16 or 4 tiles:
 *    F4 led F2 on every 14x14 layer (ResNet-50's 256->256 425 against 526
 *    us, F6 495), tied on VGG's 512->512; F4 led F6 on every VGG-16 layer
 *    (the 512-channel ones 0.83-0.99x of F6's time, which the rule took
 *    before); at 7x7 F2 led direct on all four shapes measured (ResNet's
 *    512->512 721 against 978 us; F4, faster on the smaller GoogLeNet and
 *    DenseNet layers in a warm layer run, took 989 there);
 *  - a convolution of non-overlapping patches (kernel = stride, no padding,
 *    as Fast and Faster R-CNN's fc6 runs over stacked regions: 7x7 stride 7
 *    to one 4096-vector per region) im2col, whose lowering is then a plain
 *    reshuffle and whose GEMM has a row per region: fast_rcnn_vgg16's fc6
 *    at 64 regions took 1108 ms against direct's 5893 ms (`cnnk run`,
 *    docs/REGIONS.md); on the unpacked GEMM (im2col_sup), which reads
 *    whole-row patches in place, at 300 regions 0.87-0.91x of the packed
 *    im2col's time in three runs (docs/GEMM_SUP.md);
 *  - everything else direct, which led im2col on every such layer. */
static cnnk_algo heuristic_algo_avx512(const cnnk_conv_desc *d) {
    const bool small_map = d->oh < 8 || d->ow < 8;
    const bool patches = d->kh > 1 && d->kh == d->sh && d->kw == d->sw && d->dh == 1 &&
                         d->dw == 1 && !(d->pt | d->pl | d->pb | d->pr);
    if (patches) return CNNK_ALGO_IM2COL_SUP;
    if (is_1x1_unpadded(d)) return CNNK_ALGO_1X1_SUP;
    if (winograd_shape(d) && !small_map) return CNNK_ALGO_WINOGRAD_F4;
    if (winograd_shape(d) && d->oh >= 4 && d->ow >= 4) return CNNK_ALGO_WINOGRAD_F2;
    return CNNK_ALGO_DIRECT;
}

/* Where each strategy wins depends on the ISA's tiles and FMA width, so
 * each measured ISA has its own rule; core/ names ISAs, never
 * architectures. */
static cnnk_algo heuristic_algo(cnnk_isa isa, const cnnk_conv_desc *d) {
    return isa == CNNK_ISA_AVX512 ? heuristic_algo_avx512(d) : heuristic_algo_avx2(isa, d);
}

/* The first kernel of the chain from `want` on isa, else on ref. */
static const cnnk_conv_kernel *chosen(cnnk_isa isa, const cnnk_conv_desc *d, cnnk_algo want,
                                      char *note, size_t len) {
    note[0] = '\0';
    const cnnk_conv_kernel *k = walk_chain(isa, want, d);
    if (k && k->algo != want) {
        snprintf(note, len, "fallback: %s/%s does not apply", cnnk_isa_name(isa),
                 cnnk_algo_name(want));
    } else if (!k && isa != CNNK_ISA_REF) {
        k = walk_chain(CNNK_ISA_REF, want, d);
        if (k)
            snprintf(note, len, "fallback: no %s kernel applies for %s", cnnk_isa_name(isa),
                     cnnk_algo_name(want));
    }
    return k;
}

/* The table's kernel where it applies; otherwise the heuristic, with a
 * note saying why (a table is data: it may name a kernel that a later
 * build made stricter). */
static const cnnk_conv_kernel *tuned_kernel(const cnnk_tune_table *t, const char *net,
                                            cnnk_isa isa, const cnnk_conv_desc *d, char *note,
                                            size_t len) {
    const cnnk_conv_kernel *k = t ? cnnk_tune_lookup(t, net, d) : NULL;
    if (k && cnnk_tune_isa_under(isa, k->isa) && cnnk_isa_available(k->isa) && k->applies(d))
        return k;
    char why[96];
    if (k) snprintf(why, sizeof why, "fallback: tuned %s does not apply, heuristic", k->name);
    else snprintf(why, sizeof why, "not tuned: heuristic");
    char rest[128];
    const cnnk_conv_kernel *h = chosen(isa, d, heuristic_algo(isa, d), rest, sizeof rest);
    snprintf(note, len, "%s%s%s", why, rest[0] ? "; " : "", rest);
    return h;
}

cnnk_status cnnk_plan_load_table(const cnnk_plan *p, cnnk_isa isa, cnnk_tune_table **out,
                                 cnnk_error *err) {
    *out = NULL;
    if (p->kind != CNNK_PLAN_TUNED) return CNNK_OK;
    cnnk_tune_table *t;
    if (p->table) {
        if (!(t = cnnk_tune_copy(p->table))) return cnnk_fail(err, CNNK_ENOMEM, "tuned plan: out of memory");
    } else {
        const cnnk_status s = cnnk_tune_read(p->file, p->force, &t, err);
        if (s != CNNK_OK) return s;
    }
    if (t->cpu.isa != isa) {
        cnnk_fail(err, CNNK_EINVAL,
                  "tuned plan %s was tuned up to ISA %s, but the run asks for ISA %s (the run's ISA "
                  "must be the table's ceiling: tune with --isa %s)",
                  p->table ? "(memory)" : p->file, cnnk_isa_name(t->cpu.isa), cnnk_isa_name(isa),
                  cnnk_isa_name(isa));
        cnnk_tune_free(t);
        return CNNK_EINVAL;
    }
    *out = t;
    return CNNK_OK;
}

const cnnk_conv_kernel *cnnk_plan_conv_kernel(const cnnk_plan *p, const cnnk_tune_table *tuned,
                                              const char *net, cnnk_isa isa,
                                              const cnnk_conv_desc *d, char *note, size_t len) {
    note[0] = '\0';
    if (p->kind == CNNK_PLAN_REF) return find_conv(CNNK_ISA_REF, CNNK_ALGO_DIRECT, d);
    if (p->kind == CNNK_PLAN_TUNED) return tuned_kernel(tuned, net, isa, d, note, len);
    return chosen(isa, d, p->kind == CNNK_PLAN_FIXED ? p->algo : heuristic_algo(isa, d), note, len);
}

static const cnnk_op_kernel *find_op(cnnk_isa isa, const cnnk_layer_desc *l) {
    for (size_t i = 0; i < cnnk_op_kernel_count(); ++i) {
        const cnnk_op_kernel *k = cnnk_op_kernel_at(i);
        if (k->isa == isa && k->kind == l->kind && k->applies(l)) return k;
    }
    return NULL;
}

const cnnk_op_kernel *cnnk_plan_op_kernel(const cnnk_plan *p, cnnk_isa isa,
                                          const cnnk_layer_desc *l, char *note, size_t len) {
    note[0] = '\0';
    if (p->kind == CNNK_PLAN_REF || isa == CNNK_ISA_REF) return find_op(CNNK_ISA_REF, l);
    const cnnk_op_kernel *k = find_op(isa, l);
    if (k) return k;
    /* The next ISA down that the CPU runs and that has the kernel (an
     * AVX-512 machine runs AVX2's pooling), the reference last: an ISA
     * whose op kernels are not written yet must not drop to scalar code. */
    for (int i = (int)isa - 1; i > CNNK_ISA_REF; --i) {
        if (!cnnk_isa_available((cnnk_isa)i) || !(k = find_op((cnnk_isa)i, l))) continue;
        snprintf(note, len, "fallback: no %s kernel, %s's", cnnk_isa_name(isa),
                 cnnk_isa_name((cnnk_isa)i));
        return k;
    }
    snprintf(note, len, "fallback: no %s kernel", cnnk_isa_name(isa));
    return find_op(CNNK_ISA_REF, l);
}
