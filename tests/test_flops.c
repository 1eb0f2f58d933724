/* Executed against effective work (kernel.h's flops callback,
 * kernels/common/flops.c): the 1-D transform counts are counted by running
 * wino_1d.h itself on a counting number type; a Winograd kernel executes
 * less than the direct definition's 2 x MACs on every VGG-16 shape (so
 * its FMA utilisation is below its effective FLOP/s over peak, whatever
 * the time); every other kernel executes exactly 2 x MACs; a network's
 * steps add up. No timing: these are counts. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/kernel.h"
#include "cnnk/net.h"
#include "cnnk/runner.h"
#include "kernels/common/flops.h"

/* The template on plain doubles, each operation counted as the hardware
 * counts FLOPs: an FMA 2, an add, subtract or multiply 1. */
static long g_ops;
#define CNNK_WINO_VEC double
#define ADD(a, b) (g_ops += 1, (a) + (b))
#define SUB(a, b) (g_ops += 1, (a) - (b))
#define MUL(a, b) (g_ops += 1, (a) * (b))
#define FMA(a, b, c) (g_ops += 2, (a) * (b) + (c))
#define FNMA(a, b, c) (g_ops += 2, (c) - (a) * (b))
#define K(x) ((double)(x))
#include "kernels/common/wino_1d.h"
#include "kernels/common/wino_tile_end.h" /* the template's names end here */

static void test_1d_counts(void) {
    for (int m = 2; m <= 6; m += 2) {
        double d[8] = {1, 2, 3, 4, 5, 6, 7, 8}, r[8], y[8];
        g_ops = 0;
        input_1d(m, d, r);
        CHECK_NEAR((double)g_ops, cnnk_wino_input_1d_flops(m), 0.0);
        g_ops = 0;
        output_1d(m, d, y);
        CHECK_NEAR((double)g_ops, cnnk_wino_output_1d_flops(m), 0.0);
    }
}

/* One shape by hand: mb1 ic64 56x56 oc64 k3 p1, F(4x4): 14 x 14 tiles of
 * 36 products of 64 x 64 (2 FLOPs each), 12 input 1-D passes of 19 FLOPs
 * per input channel, 6 + 4 output passes of 13 per output channel. */
static void test_hand_count(void) {
    cnnk_conv_desc d;
    memset(&d, 0, sizeof d);
    d.g = 1, d.mb = 1, d.ic = 64, d.ih = d.iw = 56, d.oc = 64, d.kh = d.kw = 3;
    d.sh = d.sw = 1, d.pt = d.pl = d.pb = d.pr = 1, d.dh = d.dw = 1;
    CHECK(cnnk_conv_check(&d, NULL) == CNNK_OK);
    const double per_tile = 2.0 * 36 * 64 * 64 + 64.0 * 12 * 19 + 64.0 * 10 * 13;
    const cnnk_conv_kernel *k = cnnk_conv_kernel_find("ref/winograd_f4x4");
    CHECK(k != NULL);
    if (k) CHECK_NEAR(cnnk_conv_kernel_flops(k, &d), 196.0 * per_tile, 0.0);
    CHECK_NEAR(cnnk_conv_effective_flops(&d), 2.0 * 64 * 64 * 9 * 56 * 56, 0.0);
}

static bool is_winograd(cnnk_algo a) {
    return a == CNNK_ALGO_WINOGRAD_F2 || a == CNNK_ALGO_WINOGRAD_F4 || a == CNNK_ALGO_WINOGRAD_F6;
}

/* Every kernel of the registry (every ISA compiled, run or not: this is
 * arithmetic) on every convolution of VGG-16. */
static void test_vgg16_kernels(void) {
    cnnk_net *n = NULL;
    cnnk_error err;
    CHECK(cnnk_net_build("vgg16", 1, 224, 224, &n, &err) == CNNK_OK);
    if (!n) return;
    int wino = 0;
    for (int i = 0; i < n->n; ++i) {
        if (n->nodes[i].op != CNNK_NODE_CONV) continue;
        const cnnk_conv_desc *d = &n->nodes[i].desc.u.conv;
        const double eff = cnnk_conv_effective_flops(d);
        for (size_t j = 0; j < cnnk_conv_kernel_count(); ++j) {
            const cnnk_conv_kernel *k = cnnk_conv_kernel_at(j);
            if (!k->applies(d)) continue;
            const double exec = cnnk_conv_kernel_flops(k, d);
            if (!is_winograd(k->algo)) {
                CHECK_NEAR(exec, eff, 0.0);
                continue;
            }
            ++wino;
            /* Utilisation over any time t and peak P is exec / (t P),
             * effective over peak eff / (t P): the first is the smaller
             * exactly when exec < eff. */
            const double t = 1e-3, peak = 1e11, util = exec / (t * peak), eff_pct = eff / (t * peak);
            CHECK(util < eff_pct);
            /* and the products alone, a floor the transforms only add to */
            const int m = k->algo == CNNK_ALGO_WINOGRAD_F2 ? 2 : k->algo == CNNK_ALGO_WINOGRAD_F4 ? 4 : 6;
            const double tiles = (double)((d->oh + m - 1) / m) * (double)((d->ow + m - 1) / m);
            CHECK(exec > 2.0 * (m + 2) * (m + 2) * tiles * (double)d->ic * (double)d->oc);
            if (!(util < eff_pct)) fprintf(stderr, "  %s on %s: %g >= %g\n", k->name, n->nodes[i].name, exec, eff);
        }
    }
    CHECK(wino >= 13 * 3); /* VGG-16's 13 3x3 convolutions, each ISA's three sizes */
    cnnk_net_destroy(n);
}

/* A runner's steps carry their kernels' counts: the reference plan
 * executes 2 x MACs, a forced F(6x6) plan less, on ResNet-50 at 64x64
 * (VGG-16's 7x7 pooling needs 224x224 and half a GB of weights). */
static double net_flops(const cnnk_net *n, const char *plan_text) {
    cnnk_plan plan;
    cnnk_error err;
    cnnk_runner *r = NULL;
    CHECK(cnnk_plan_parse(plan_text, &plan, &err) == CNNK_OK);
    CHECK(cnnk_runner_prepare(n, CNNK_ISA_REF, &plan, 1, &r, &err) == CNNK_OK);
    if (!r) return -1.0;
    double f = 0.0;
    for (int i = 0; i < cnnk_runner_step_count(r); ++i) f += cnnk_runner_step(r, i)->flops;
    cnnk_runner_destroy(r);
    return f;
}

static void test_runner_steps(void) {
    cnnk_net *n = NULL;
    cnnk_error err;
    CHECK(cnnk_net_build("resnet50", 1, 64, 64, &n, &err) == CNNK_OK);
    if (!n) fprintf(stderr, "  %s\n", err.msg);
    if (!n) return;
    CHECK(cnnk_net_init_weights(n, 1, &err) == CNNK_OK);
    const double eff = 2.0 * (double)cnnk_net_macs(n);
    CHECK_NEAR(net_flops(n, "ref"), eff, 0.0);
    const double wino = net_flops(n, "fixed:winograd_f6x6");
    CHECK(wino > 0.0 && wino < eff);
    cnnk_net_destroy(n);
}

int main(void) {
    test_1d_counts();
    test_hand_count();
    test_vgg16_kernels();
    test_runner_steps();
    return check_finish("test_flops");
}
