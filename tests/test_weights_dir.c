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

static char dir[128];

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
    return check_finish("test_weights_dir");
}
