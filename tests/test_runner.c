/* The runner: fusion, concat placement and memory planning checked on
 * small hand-built graphs against a plain unfused evaluation (ref.h, node
 * by node, written here); every network family at a reduced input through
 * cnnk_validate_net; a ResNet-50 forward that allocates nothing. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cnnk/cpu.h"
#include "cnnk/runner.h"
#include "kernels/ref/ref.h"
#include "tests/check.h"
#include "tests/net_compare.h"
#include "validate/net_check.h"

/* ---- allocation counting ---------------------------------------------------
 * The executable defines the allocator entry points and forwards them to
 * glibc's, counting calls while `g_counting` is set. ASan interposes the
 * same symbols, so under ASan the check is skipped (with a note). */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#else
#define COUNT_ALLOCS 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t a, size_t b);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static volatile int g_counting;
static volatile long g_allocs;

static void count(void) {
    if (g_counting) ++g_allocs;
}

void *malloc(size_t n) {
    count();
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    count();
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    count();
    return __libc_realloc(p, n);
}
void free(void *p) {
    count();
    __libc_free(p);
}
void *aligned_alloc(size_t align, size_t n) {
    count();
    return __libc_memalign(align, n);
}
void *memalign(size_t align, size_t n) {
    count();
    return __libc_memalign(align, n);
}
int posix_memalign(void **p, size_t align, size_t n) {
    count();
    *p = __libc_memalign(align, n);
    return *p ? 0 : ENOMEM;
}
#endif

static int count_kernel(const cnnk_runner *r, const char *suffix) {
    int k = 0;
    for (int i = 0; i < cnnk_runner_step_count(r); ++i) {
        const char *name = cnnk_runner_step(r, i)->kernel;
        const size_t a = strlen(name), b = strlen(suffix);
        k += a >= b && strcmp(name + a - b, suffix) == 0;
    }
    return k;
}

/* compare_plans_seeded (tests/net_compare.h) with the seeds these graphs
 * were written with. */
static cnnk_runner *compare_all_plans(cnnk_net *net, int expect_steps) {
    return compare_plans_seeded(net, 7, 3, expect_steps);
}

/* conv -> bn -> relu folds into one step; a ReLU behind a dropout cannot
 * fuse (dropout aliases) and runs alone; fc -> relu fuses. */
static void test_conv_bn_relu(void) {
    cnnk_net *n = cnnk_net_create("t_cbr", 2, 5, 9, 9);
    int x = cnnk_net_conv(n, "c1", 0, 8, 3, 1, 1, false);
    x = cnnk_net_bnorm(n, "b1", x, 1e-5f);
    x = cnnk_net_relu(n, "r1", x);
    x = cnnk_net_conv(n, "c2", x, 16, 3, 2, 1, true);
    x = cnnk_net_bnorm(n, "b2", x, 1e-3f);
    x = cnnk_net_dropout(n, "d", x);
    x = cnnk_net_relu(n, "r2", x);
    x = cnnk_net_fc(n, "fc1", x, 12);
    x = cnnk_net_relu(n, "r3", x);
    x = cnnk_net_fc(n, "fc2", x, 7);
    /* c1+b1+r1, c2+b2, r2, fc1+r3, fc2 */
    cnnk_runner *r = compare_all_plans(n, 5);
    if (r) {
        CHECK(strcmp(cnnk_runner_step(r, 0)->layer, "c1") == 0);
        CHECK(strstr(cnnk_runner_step(r, 0)->shape, "+bn +relu") != NULL);
        CHECK(strcmp(cnnk_runner_step(r, 0)->kernel, "ref/direct") == 0);
        CHECK(strcmp(cnnk_runner_step(r, 2)->kernel, "ref/eltwise") == 0);
        CHECK_EQ_I64(cnnk_runner_step(r, 0)->macs, 2 * 9 * 9 * 8 * 5 * 9);
        CHECK(cnnk_runner_peak_activation_bytes(r) < cnnk_runner_naive_activation_bytes(r));
    }
    cnnk_runner_destroy(r);
    cnnk_net_destroy(n);
}

/* Two residual blocks: identity shortcut (the add fuses into the branch's
 * last conv, relu too) and projection shortcut (conv + bn). */
static void test_residual(void) {
    cnnk_net *n = cnnk_net_create("t_res", 2, 8, 10, 10);
    int x = cnnk_net_conv(n, "a1", 0, 8, 3, 1, 1, false);
    x = cnnk_net_bnorm(n, "a1bn", x, 1e-5f);
    x = cnnk_net_relu(n, "a1r", x);
    x = cnnk_net_conv(n, "a2", x, 8, 3, 1, 1, false);
    x = cnnk_net_bnorm(n, "a2bn", x, 1e-5f);
    x = cnnk_net_add(n, "a.add", x, 0);
    int y = cnnk_net_relu(n, "a.relu", x);
    int sc = cnnk_net_conv(n, "b.down", y, 16, 1, 2, 0, false);
    sc = cnnk_net_bnorm(n, "b.downbn", sc, 1e-5f);
    x = cnnk_net_conv(n, "b1", y, 16, 3, 2, 1, false);
    x = cnnk_net_bnorm(n, "b1bn", x, 1e-5f);
    x = cnnk_net_relu(n, "b1r", x);
    x = cnnk_net_conv(n, "b2", x, 16, 3, 1, 1, false);
    x = cnnk_net_bnorm(n, "b2bn", x, 1e-5f);
    x = cnnk_net_add(n, "b.add", x, sc);
    x = cnnk_net_relu(n, "b.relu", x);
    x = cnnk_net_global_avgpool(n, "gap", x);
    x = cnnk_net_fc(n, "fc", x, 10);
    /* a1, a2(+add+relu), b.down, b1, b2(+add+relu), gap, fc */
    cnnk_runner *r = compare_all_plans(n, 7);
    if (r) {
        CHECK_EQ_I64(count_kernel(r, "/eltwise"), 0);
        CHECK(strstr(cnnk_runner_step(r, 1)->shape, "+bn +add +relu") != NULL);
        CHECK(strcmp(cnnk_runner_step(r, 4)->layer, "b2") == 0);
        CHECK(strstr(cnnk_runner_step(r, 4)->shape, "+add +relu") != NULL);
    }
    cnnk_runner_destroy(r);
    cnnk_net_destroy(n);
}

static const cnnk_step_info *step_named(const cnnk_runner *r, const char *layer) {
    for (int i = 0; i < cnnk_runner_step_count(r); ++i)
        if (strcmp(cnnk_runner_step(r, i)->layer, layer) == 0) return cnnk_runner_step(r, i);
    CHECK(!"no step of that layer");
    return NULL;
}

static bool in_place(const cnnk_runner *r, const char *layer) {
    const cnnk_step_info *s = step_named(r, layer);
    return s && s->residual_in_place;
}

static int count_in_place(const cnnk_runner *r) {
    int k = 0;
    for (int i = 0; i < cnnk_runner_step_count(r); ++i)
        k += cnnk_runner_step(r, i)->residual_in_place;
    return k;
}

/* The residual in place (core/runner.c): a shortcut that dies at its add
 * is overwritten by the sum (a2: the stem's buffer; c1: b's), one still
 * read afterwards is not (b1: y feeds c1), and neither is the network's
 * input (d1). Every plan's result against the unfused evaluation, then
 * which steps went in place under a 1x1 kernel (residual_in_dst) and under
 * the reference (none). */
static void test_residual_in_place(void) {
    cnnk_net *n = cnnk_net_create("t_inplace", 2, 16, 6, 5);
    int d = cnnk_net_conv(n, "d1", 0, 16, 1, 1, 0, true);
    d = cnnk_net_add(n, "d.add", d, 0);
    const int s = cnnk_net_conv(n, "stem", d, 16, 1, 1, 0, true);
    int x = cnnk_net_conv(n, "a1", s, 8, 1, 1, 0, false);
    x = cnnk_net_relu(n, "a1r", x);
    x = cnnk_net_conv(n, "a2", x, 16, 1, 1, 0, false);
    x = cnnk_net_bnorm(n, "a2bn", x, 1e-5f);
    x = cnnk_net_add(n, "a.add", x, s);
    const int y = cnnk_net_relu(n, "a.relu", x);
    x = cnnk_net_conv(n, "b1", y, 16, 1, 1, 0, true);
    x = cnnk_net_add(n, "b.add", x, y);
    x = cnnk_net_relu(n, "b.relu", x);
    int z = cnnk_net_conv(n, "c1", y, 16, 1, 1, 0, true);
    z = cnnk_net_add(n, "c.add", z, x);
    cnnk_net_relu(n, "c.relu", z);
    /* d1, stem, a1, a2, b1, c1: every add and ReLU fused */
    cnnk_runner *ref = compare_all_plans(n, 6);
    if (ref) CHECK_EQ_I64(count_in_place(ref), 0);
    cnnk_runner_destroy(ref);
    const cnnk_isa isa = cnnk_best_isa();
    cnnk_plan plan;
    cnnk_error err;
    CHECK(cnnk_plan_parse("fixed:1x1", &plan, &err) == CNNK_OK);
    cnnk_runner *r = NULL;
    if (isa != CNNK_ISA_REF && cnnk_runner_prepare(n, isa, &plan, 1, &r, &err) == CNNK_OK) {
        CHECK(!in_place(r, "d1"));
        CHECK(in_place(r, "a2"));
        CHECK(!in_place(r, "b1"));
        CHECK(in_place(r, "c1"));
        CHECK_EQ_I64(count_in_place(r), 2);
    } else if (isa != CNNK_ISA_REF) {
        fprintf(stderr, "test_residual_in_place: %s\n", err.msg);
        CHECK(!"fixed:1x1 did not prepare");
    }
    cnnk_runner_destroy(r);
    cnnk_net_destroy(n);
}

/* Inception-like branches written at their offsets (no concat step), a
 * DenseNet-like chain of concats sharing one buffer, a BN after a concat
 * (cannot fold), and a concat of the graph input, which must be copied. */
static void test_concat(void) {
    cnnk_net *n = cnnk_net_create("t_cat", 2, 6, 8, 8);
    int a = cnnk_net_conv(n, "br1", 0, 4, 1, 1, 0, true);
    a = cnnk_net_relu(n, "br1r", a);
    int b = cnnk_net_conv(n, "br2", 0, 5, 3, 1, 1, false);
    b = cnnk_net_bnorm(n, "br2bn", b, 1e-5f);
    b = cnnk_net_relu(n, "br2r", b);
    int c = cnnk_net_maxpool(n, "br3", 0, 3, 1, 1, false);
    c = cnnk_net_conv(n, "br3c", c, 3, 1, 1, 0, true);
    int x = cnnk_net_concat(n, "cat", 3, (const int[3]){a, b, c});
    for (int l = 0; l < 3; ++l) { /* the DenseNet chain */
        char nm[32];
        snprintf(nm, sizeof nm, "d%d.bn", l);
        int y = cnnk_net_bnorm(n, nm, x, 1e-5f);
        snprintf(nm, sizeof nm, "d%d.relu", l);
        y = cnnk_net_relu(n, nm, y);
        snprintf(nm, sizeof nm, "d%d.conv", l);
        y = cnnk_net_conv(n, nm, y, 4, 3, 1, 1, false);
        snprintf(nm, sizeof nm, "d%d.cat", l);
        x = cnnk_net_concat(n, nm, 2, (const int[2]){x, y});
    }
    int z = cnnk_net_concat(n, "incat", 2, (const int[2]){0, x});
    z = cnnk_net_fc(n, "fc", z, 9);
    /* br1, br2, br3, br3c, 3 x (bn, conv), incat (copy), fc */
    cnnk_runner *r = compare_all_plans(n, 12);
    if (r) CHECK_EQ_I64(count_kernel(r, "/concat"), 1);
    /* only incat copies: 2 images x (6 + 24) channels x 8 x 8 floats */
    if (r) CHECK_EQ_I64(cnnk_runner_concat_copy_bytes(r), 2 * 30 * 8 * 8 * 4);
    cnnk_runner_destroy(r);
    cnnk_net_destroy(n);
}

/* Two concats reading one value (found by test_fuse_random): the later
 * concat places the value in its buffer, and the earlier one, whose other
 * input had no place yet, was taken for a view of that buffer running past
 * its channels (a) or onto channels another value held (b). Each must get
 * its own buffer or a copy instead. */
static void test_concat_shared_input(void) {
    cnnk_net *n = cnnk_net_create("t_cat2a", 1, 4, 6, 5);
    const int c0 = cnnk_net_conv(n, "c0", 0, 4, 1, 1, 0, true);
    const int p = cnnk_net_maxpool(n, "p", 0, 3, 1, 1, false);
    int x = cnnk_net_concat(n, "cat1", 2, (const int[2]){p, c0});
    x = cnnk_net_conv(n, "c1", x, 12, 1, 1, 0, true);
    cnnk_net_concat(n, "cat2", 2, (const int[2]){x, p});
    cnnk_runner_destroy(compare_all_plans(n, -1));
    cnnk_net_destroy(n);

    n = cnnk_net_create("t_cat2b", 1, 8, 4, 7);
    const int in = cnnk_net_concat(n, "in", 1, (const int[1]){0});
    const int b = cnnk_net_conv(n, "b", in, 8, 1, 1, 0, true);
    const int a = cnnk_net_add(n, "a", in, b);
    x = cnnk_net_concat(n, "cat1", 2, (const int[2]){a, b});
    x = cnnk_net_conv(n, "c1", x, 10, 3, 1, 1, true);
    const int y = cnnk_net_concat(n, "cat2", 2, (const int[2]){a, in});
    cnnk_net_concat(n, "out", 2, (const int[2]){x, y});
    cnnk_runner_destroy(compare_all_plans(n, -1));
    cnnk_net_destroy(n);
}

/* ---- networks ------------------------------------------------------------------- */

/* Liveness reuse must beat one buffer per value. */
static void check_peak(cnnk_net *net) {
    cnnk_error err;
    cnnk_plan plan = {.kind = CNNK_PLAN_REF, .algo = CNNK_ALGO_DIRECT};
    cnnk_runner *r = NULL;
    CHECK(cnnk_net_init_weights(net, 1, &err) == CNNK_OK);
    CHECK(cnnk_runner_prepare(net, CNNK_ISA_REF, &plan, 1, &r, &err) == CNNK_OK);
    if (!r) return;
    printf("test_runner: %s activation bytes: peak %lld, naive %lld\n", net->name,
           (long long)cnnk_runner_peak_activation_bytes(r),
           (long long)cnnk_runner_naive_activation_bytes(r));
    CHECK(cnnk_runner_peak_activation_bytes(r) < cnnk_runner_naive_activation_bytes(r));
    cnnk_runner_destroy(r);
}

/* Each family at the smallest input it takes. AlexNet's and VGG's adaptive
 * average pools (6x6, 7x7) need that feature map, so 224 input: AlexNet
 * runs here in Release (under the sanitizers its scalar reference plans
 * take minutes, and Release covers the same code); VGG's whole-network
 * check is the ctest `validate_net_vgg11` (cmake/cli_tests.cmake). */
static void test_networks(void) {
    const struct {
        const char *name;
        int64_t hw;
    } nets[] = {{"alexnet", 224}, {"googlenet", 32}, {"resnet18", 32}, {"densenet121", 32}};
    bool isa[CNNK_ISA_COUNT];
    for (int i = 0; i < CNNK_ISA_COUNT; ++i) isa[i] = cnnk_isa_available((cnnk_isa)i);
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; ++i) {
#if defined(__SANITIZE_ADDRESS__)
        if (nets[i].hw > 64) {
            printf("test_runner: %s at %lld runs in the Release build only\n", nets[i].name,
                   (long long)nets[i].hw);
            continue;
        }
#endif
        cnnk_validate_counts c = {0};
        cnnk_error err;
        cnnk_net *probe = NULL;
        const cnnk_status built = cnnk_net_build(nets[i].name, 1, nets[i].hw, nets[i].hw, &probe, &err);
        CHECK(built == CNNK_OK);
        if (built == CNNK_OK) check_peak(probe);
        if (built == CNNK_OK) { /* every concat of these networks is in place */
            cnnk_plan plan = {.kind = CNNK_PLAN_HEURISTIC};
            cnnk_runner *r = NULL;
            CHECK(cnnk_runner_prepare(probe, cnnk_best_isa(), &plan, 1, &r, &err) == CNNK_OK);
            if (r) CHECK_EQ_I64(cnnk_runner_concat_copy_bytes(r), 0);
            cnnk_runner_destroy(r);
        }
        cnnk_net_destroy(probe);
        const cnnk_status s =
            cnnk_validate_net(nets[i].name, 1, nets[i].hw, nets[i].hw, 1, isa, stdout, &c, &err);
        if (s != CNNK_OK) fprintf(stderr, "%s: %s\n", nets[i].name, err.msg);
        CHECK(s == CNNK_OK);
        CHECK(c.passed >= 7);
        CHECK_EQ_I64(c.failed, 0);
    }
}

static void test_unknown_plan(void) {
    cnnk_plan p;
    cnnk_error err;
    CHECK(cnnk_plan_parse("fixed:fft", &p, &err) == CNNK_EINVAL);
    CHECK(strstr(err.msg, "fixed:winograd_f6x6") != NULL);
    CHECK(cnnk_plan_parse("fixed:winograd_f6x6", &p, &err) == CNNK_OK);
    char buf[64];
    cnnk_plan_format(&p, buf, sizeof buf);
    CHECK(strcmp(buf, "fixed:winograd_f6x6") == 0);
}

/* ResNet-50: forward allocates nothing (the reference kernels on one
 * thread, and the best ISA's kernels on two, from the very first pass),
 * and liveness beats the naive sum. */
static void resnet50_no_alloc(cnnk_isa isa, int nthreads) {
    cnnk_net *net = NULL;
    cnnk_error err;
    CHECK(cnnk_net_build("resnet50", 1, 32, 32, &net, &err) == CNNK_OK);
    CHECK(cnnk_net_init_weights(net, 1, &err) == CNNK_OK);
    cnnk_plan plan;
    cnnk_plan_parse("heuristic", &plan, &err);
    cnnk_runner *r = NULL;
    CHECK(cnnk_runner_prepare(net, isa, &plan, nthreads, &r, &err) == CNNK_OK);
    float *in = calloc((size_t)(32 * 32 * 3), sizeof *in);
    float *out = calloc((size_t)cnnk_runner_output_elems(r), sizeof *out);
    CHECK(cnnk_runner_peak_activation_bytes(r) < cnnk_runner_naive_activation_bytes(r));
    /* Every bottleneck's last 1x1 adds its shortcut in place (not the
     * reference's kernels: they lack residual_in_dst). */
    CHECK_EQ_I64(count_in_place(r), isa == CNNK_ISA_REF ? 0 : 16);
#if COUNT_ALLOCS
    g_allocs = 0;
    g_counting = 1;
    cnnk_runner_forward(r, in, out, false);
    cnnk_runner_forward(r, in, out, true);
    g_counting = 0;
    if (g_allocs) fprintf(stderr, "  %s, %d threads\n", cnnk_isa_name(isa), nthreads);
    CHECK_EQ_I64(g_allocs, 0);
    /* The hook must see allocations, or the check above proves nothing. */
    g_counting = 1;
    free(malloc(16));
    g_counting = 0;
    CHECK_EQ_I64(g_allocs, 2);
#else
    printf("test_runner: ASan build: the forward-allocates-nothing check runs in Release only\n");
    cnnk_runner_forward(r, in, out, false);
#endif
    free(in), free(out);
    cnnk_runner_destroy(r);
    cnnk_net_destroy(net);
}

static void test_resnet50_no_alloc(void) {
    resnet50_no_alloc(CNNK_ISA_REF, 1);
    if (cnnk_best_isa() != CNNK_ISA_REF) resnet50_no_alloc(cnnk_best_isa(), 2);
}

int main(void) {
    /* First: a thread team opened by an earlier test would hide a first
     * forward that opens one. */
    test_resnet50_no_alloc();
    test_unknown_plan();
    test_conv_bn_relu();
    test_residual();
    test_residual_in_place();
    test_concat();
    test_concat_shared_input();
    test_networks();
    return check_finish("test_runner");
}
