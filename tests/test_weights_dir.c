/* cnnk_net_load_weights_dir (core/weights.c): a state_dict saved as one
 * .npy per key goes to the right nodes, and every mismatch is an error
 * that leaves the network's parameters as they were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cnnk/net.h"
#include "cnnk/npy.h"
#include "cnnk/runner.h"
#include "tests/data/deconv_weights_fixture.h"

static char dir[128];
static void rm_dir(void);

/* conv(bias) -> bn -> relu -> conv(no bias, grouped) -> fc(bias) */
static cnnk_net *small_net(uint64_t seed) {
    cnnk_net *n = cnnk_net_create("small", 1, 3, 8, 8);
    int x = cnnk_net_conv(n, "features.0", 0, 8, 3, 1, 1, true);
    x = cnnk_net_bnorm(n, "features.1", x, 1e-5f);
    x = cnnk_net_relu(n, "features.2", x);
    x = cnnk_net_conv_ex(n, "features.3", x, 4, 3, 3, 2, 2, 1, 1, 2, 1, false);
    x = cnnk_net_fc(n, "fc", x, 5);
    (void)x;
    CHECK(cnnk_net_status(n, NULL) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, seed, NULL) == CNNK_OK);
    return n;
}

static void save(const char *key, int nd, int64_t a, int64_t b, int64_t c, int64_t d, const float *v) {
    char path[256];
    int64_t shape[4] = {a, b, c, d};
    snprintf(path, sizeof path, "%s/%s.npy", dir, key);
    CHECK(cnnk_npy_write(path, nd, shape, v, NULL) == CNNK_OK);
}

/* n's parameters as torchvision names and shapes them. */
static void save_all(const cnnk_net *n) {
    const cnnk_node *c0 = &n->nodes[1], *bn = &n->nodes[2], *c3 = &n->nodes[4], *fc = &n->nodes[5];
    save("features.0.weight", 4, 8, 3, 3, 3, c0->weights);
    save("features.0.bias", 1, 8, 0, 0, 0, c0->bias);
    save("features.1.running_mean", 1, 8, 0, 0, 0, bn->bn[0]);
    save("features.1.running_var", 1, 8, 0, 0, 0, bn->bn[1]);
    save("features.1.weight", 1, 8, 0, 0, 0, bn->bn[2]);
    save("features.1.bias", 1, 8, 0, 0, 0, bn->bn[3]);
    float zero = 0;
    save("features.1.num_batches_tracked", 0, 0, 0, 0, 0, &zero);
    save("features.3.weight", 4, 4, 4, 3, 3, c3->weights);
    save("fc.weight", 2, 5, 4 * 4 * 4, 0, 0, fc->weights);
    save("fc.bias", 1, 5, 0, 0, 0, fc->bias);
}

static bool same_params(const cnnk_net *a, const cnnk_net *b) {
    bool same = true;
    same &= !memcmp(a->nodes[1].weights, b->nodes[1].weights, 8 * 27 * sizeof(float));
    same &= !memcmp(a->nodes[1].bias, b->nodes[1].bias, 8 * sizeof(float));
    for (int j = 0; j < 4; ++j) same &= !memcmp(a->nodes[2].bn[j], b->nodes[2].bn[j], 8 * sizeof(float));
    same &= !memcmp(a->nodes[4].weights, b->nodes[4].weights, 4 * 4 * 9 * sizeof(float));
    same &= !memcmp(a->nodes[5].weights, b->nodes[5].weights, 5 * 64 * sizeof(float));
    same &= !memcmp(a->nodes[5].bias, b->nodes[5].bias, 5 * sizeof(float));
    return same;
}

static void expect_error(cnnk_net *n, const cnnk_net *before, const char *want) {
    cnnk_error e = {{0}};
    CHECK(cnnk_net_load_weights_dir(n, dir, &e) != CNNK_OK);
    if (!strstr(e.msg, want)) {
        fprintf(stderr, "  message '%s' lacks '%s'\n", e.msg, want);
        CHECK(0);
    }
    CHECK(same_params(n, before)); /* untouched */
}

/* A transposed convolution's weight in torch's layout ([ic][oc/g][kh][kw],
 * ConvTranspose2d's) goes to the node's OIHW: torch's own output for it
 * (tests/data/deconv_weights_fixture.h, integers: exact) is what every
 * plan on every ISA here gives, and the OIHW shape is refused by name. */
static cnnk_net *fixture_net(void) {
    cnnk_net *n = cnnk_net_create("t_deconv_torch", FIX_N, FIX_IC, FIX_IH, FIX_IW);
    const cnnk_conv_desc geom = {.g = FIX_G, .oc = FIX_OC, .kh = FIX_KH, .kw = FIX_KW,
                                 .sh = FIX_SH, .sw = FIX_SW, .pt = FIX_PH, .pb = FIX_PH,
                                 .pl = FIX_PW, .pr = FIX_PW, .dh = FIX_DH, .dw = FIX_DW};
    cnnk_net_deconv_geom(n, "up", 0, &geom, true);
    CHECK(cnnk_net_status(n, NULL) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, 3, NULL) == CNNK_OK);
    return n;
}

static void test_deconv_torch(void) {
    CHECK(mkdir(dir, 0755) == 0);
    save("up.weight", 4, FIX_IC, FIX_OC / FIX_G, FIX_KH, FIX_KW, fix_weight);
    save("up.bias", 1, FIX_OC, 0, 0, 0, fix_bias);
    cnnk_net *n = fixture_net();
    cnnk_error e = {{0}};
    CHECK(cnnk_net_load_weights_dir(n, dir, &e) == CNNK_OK);
    if (e.msg[0]) fprintf(stderr, "  %s\n", e.msg);
    CHECK_EQ_I64(n->nodes[1].h, FIX_OH);
    CHECK_EQ_I64(n->nodes[1].w, FIX_OW);
    enum { NIN = FIX_N * FIX_IC * FIX_IH * FIX_IW, NOUT = FIX_N * FIX_OC * FIX_OH * FIX_OW };
    static float in[NIN], want[NOUT], got[NOUT];
    cnnk_nchw_to_nhwc(in, fix_x, FIX_N, FIX_IC, FIX_IH, FIX_IW);
    cnnk_nchw_to_nhwc(want, fix_y, FIX_N, FIX_OC, FIX_OH, FIX_OW);
    int runs = 0;
    for (int isa = 0; isa < CNNK_ISA_COUNT; ++isa) {
        if (!cnnk_isa_available((cnnk_isa)isa)) continue;
        for (int p = 0; p < 2; ++p) {
            cnnk_plan plan;
            CHECK(cnnk_plan_parse(p ? "heuristic" : "ref", &plan, &e) == CNNK_OK);
            cnnk_runner *r = NULL;
            CHECK(cnnk_runner_prepare(n, (cnnk_isa)isa, &plan, 1, &r, &e) == CNNK_OK);
            if (!r) continue;
            memset(got, 0xff, sizeof got);
            cnnk_runner_forward(r, in, got, false);
            if (memcmp(got, want, sizeof got) != 0) {
                fprintf(stderr, "  %s %s: not torch's output\n", cnnk_isa_name((cnnk_isa)isa),
                        p ? "heuristic" : "ref");
                CHECK(0);
            }
            cnnk_runner_destroy(r);
            ++runs;
        }
    }
    CHECK(runs >= 2);
    /* The node's own OIHW order is not torch's: refused, naming both. */
    cnnk_net *m = fixture_net();
    save("up.weight", 4, FIX_OC, FIX_IC / FIX_G, FIX_KH, FIX_KW, fix_weight);
    CHECK(cnnk_net_load_weights_dir(m, dir, &e) != CNNK_OK);
    CHECK(strstr(e.msg, "has shape 6x2x3x4, deconv up needs 4x3x3x4") != NULL);
    cnnk_net_destroy(m);
    cnnk_net_destroy(n);
    rm_dir();
}

static void rm_dir(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_weights_dir_%d", (int)getpid());
    CHECK(mkdir(dir, 0755) == 0);
    cnnk_net *src = small_net(1), *dst = small_net(2), *dst_orig = small_net(2);
    CHECK(!same_params(src, dst));
    save_all(src);
    cnnk_error e = {{0}};
    CHECK(cnnk_net_load_weights_dir(dst, dir, &e) == CNNK_OK);
    if (e.msg[0]) fprintf(stderr, "  %s\n", e.msg);
    CHECK(same_params(src, dst));

    cnnk_net *n = small_net(2);
    /* A shape that is not the node's: the FC weight as [oc][ic][ih][iw]
     * is fine in memory but is not torch's [oc][ic*ih*iw]. */
    save("fc.weight", 4, 5, 4, 4, 4, src->nodes[5].weights);
    expect_error(n, dst_orig, "fc.weight.npy has shape 5x4x4x4, fc fc needs 5x64");
    save("fc.weight", 2, 5, 64, 0, 0, src->nodes[5].weights);
    /* A bias file for a conv without bias: another network's directory. */
    save("features.3.bias", 1, 4, 0, 0, 0, src->nodes[1].bias);
    expect_error(n, dst_orig, "features.3.bias.npy is no parameter");
    char path[256];
    snprintf(path, sizeof path, "%s/features.3.bias.npy", dir);
    CHECK(unlink(path) == 0);
    /* A missing parameter. */
    snprintf(path, sizeof path, "%s/features.1.running_var.npy", dir);
    CHECK(unlink(path) == 0);
    expect_error(n, dst_orig, "features.1.running_var.npy");
    /* A corrupt file. */
    FILE *f = fopen(path, "wb");
    CHECK(f && fputs("not numpy", f) >= 0);
    if (f) fclose(f);
    expect_error(n, dst_orig, "magic");
    save("features.1.running_var", 1, 8, 0, 0, 0, src->nodes[2].bn[1]);
    CHECK(cnnk_net_load_weights_dir(n, dir, &e) == CNNK_OK);
    CHECK(same_params(src, n));
    /* No directory. */
    rm_dir();
    CHECK(cnnk_net_load_weights_dir(n, dir, &e) == CNNK_EIO && strstr(e.msg, "No such file"));
    cnnk_net_destroy(n);
    cnnk_net_destroy(src);
    cnnk_net_destroy(dst);
    cnnk_net_destroy(dst_orig);
    test_deconv_torch();
    return check_finish("test_weights_dir");
}
