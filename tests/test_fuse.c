/* The fusion rule (core/fuse.h) is the one the runner and the oneDNN
 * network peer both apply: each fused group is one runner step and one
 * oneDNN primitive with the same epilogue, on a graph built to tempt a
 * wrong fusion (values with a second reader) and on every network. The
 * layer benchmarks read their epilogues from the same groups. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnnk/runner.h"
#include "core/fuse.h"
#include "validate/onednn.h"
#include "validate/onednn_peer.h"

static int node_named(const cnnk_net *n, const char *name) {
    for (int i = 0; i < n->n; ++i)
        if (strcmp(n->nodes[i].name, name) == 0) return i;
    return -1;
}

static bool has(const char *s, const char *part) {
    return strstr(s, part) != NULL;
}

/* Every runner step but a concat's copy is one group, headed by the
 * step's layer, and shows that group's epilogue. */
static void runner_agrees(const cnnk_net *n, const cnnk_fusion *f, const cnnk_runner *r) {
    int groups = 0, steps = 0;
    for (int g = 0; g < f->ngroups; ++g)
        groups += n->nodes[f->groups[g].head].op != CNNK_NODE_CONCAT;
    for (int i = 0; i < cnnk_runner_step_count(r); ++i) {
        const cnnk_step_info *st = cnnk_runner_step(r, i);
        const int head = node_named(n, st->layer);
        CHECK(head > 0);
        if (head <= 0 || n->nodes[head].op == CNNK_NODE_CONCAT) continue;
        ++steps;
        CHECK(f->group[head] >= 0);
        if (f->group[head] < 0) continue;
        const cnnk_fused *g = &f->groups[f->group[head]];
        CHECK_EQ_I64(g->head, head);
        CHECK(has(st->shape, " +bn") == (g->bn >= 0));
        CHECK(has(st->shape, " +add") == (g->residual >= 0));
        const bool leaky = g->relu && g->relu_alpha != 0.0f;
        CHECK(has(st->shape, " +relu") == (g->relu && !leaky));
        CHECK(has(st->shape, " +leaky") == leaky);
    }
    CHECK_EQ_I64(steps, groups);
}

/* Every oneDNN primitive but a reorder is one group, named by its head and
 * what fused into it (validate/onednn_net.c's group_name). */
static void onednn_agrees(const cnnk_net *n, const cnnk_fusion *f, const cnnk_onednn_net *h) {
    int prims = 0;
    for (int i = 0; i < cnnk_onednn_net_prim_count(h); ++i)
        prims += strncmp(cnnk_onednn_net_prim_name(h, i), "reorder:", 8) != 0;
    CHECK_EQ_I64(prims, f->ngroups);
    for (int g = 0; g < f->ngroups; ++g) {
        const cnnk_fused *x = &f->groups[g];
        char want[CNNK_NAME_LEN + 32];
        snprintf(want, sizeof want, "%s%s%s%s", n->nodes[x->head].name, x->bn >= 0 ? "+bn" : "",
                 x->residual >= 0 ? "+sum" : "",
                 !x->relu ? "" : x->relu_alpha != 0.0f ? "+leaky" : "+relu");
        bool found = false;
        for (int i = 0; i < cnnk_onednn_net_prim_count(h) && !found; ++i)
            found = strcmp(cnnk_onednn_net_prim_name(h, i), want) == 0;
        CHECK(found);
        if (!found) fprintf(stderr, "  %s: no oneDNN primitive %s\n", n->name, want);
    }
}

static cnnk_runner *ref_runner(const cnnk_net *n) {
    cnnk_plan plan;
    cnnk_error err;
    cnnk_runner *r = NULL;
    CHECK(cnnk_plan_parse("ref", &plan, &err) == CNNK_OK);
    CHECK(cnnk_runner_prepare(n, CNNK_ISA_REF, &plan, 1, &r, &err) == CNNK_OK);
    return r;
}

static void all_agree(const cnnk_net *n, const cnnk_fusion *f) {
    cnnk_runner *r = ref_runner(n);
    if (r) runner_agrees(n, f, r);
    cnnk_runner_destroy(r);
    if (!cnnk_onednn_available()) return;
    cnnk_onednn_net *h = NULL;
    cnnk_error err;
    CHECK(cnnk_onednn_net_create(n, 1, CNNK_ONEDNN_DIRECT, &h, &err) == CNNK_OK);
    if (h) onednn_agrees(n, f, h);
    cnnk_onednn_net_destroy(h);
}

/* The reference runner and the oneDNN network peer give n's 10 logits
 * alike (relative L2 <= 1e-5) on an 8x8x8 input of ((i * mul) % mod) / mod
 * - 0.5. */
static void same_logits(const cnnk_net *n, int mul, int mod) {
    cnnk_error err = {{0}};
    cnnk_runner *r = ref_runner(n);
    cnnk_onednn_net *h = NULL;
    if (cnnk_onednn_available())
        CHECK(cnnk_onednn_net_create(n, 1, CNNK_ONEDNN_DIRECT, &h, &err) == CNNK_OK);
    float in[8 * 8 * 8], a[10], b[10];
    for (int i = 0; i < 8 * 8 * 8; ++i) in[i] = (float)((i * mul) % mod) / (float)mod - 0.5f;
    if (r && h) {
        cnnk_runner_forward(r, in, a, false);
        CHECK(cnnk_onednn_net_forward(h, in, b) == CNNK_OK);
        double num = 0, den = 0;
        for (int i = 0; i < 10; ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
        CHECK(sqrt(num / den) <= 1e-5);
    }
    cnnk_onednn_net_destroy(h);
    cnnk_runner_destroy(r);
}

/* A value read twice cannot be fused into its producer: c1's second
 * reader c2 must see c1 before the ReLU; c3's second reader a2 must see
 * c3 before its batch-norm. */
static void test_second_reader(void) {
    cnnk_net *n = cnnk_net_create("t_second", 1, 8, 8, 8);
    const int c1 = cnnk_net_conv(n, "c1", 0, 8, 3, 1, 1, true);
    const int r1 = cnnk_net_relu(n, "r1", c1);
    const int c2 = cnnk_net_conv(n, "c2", c1, 8, 3, 1, 1, false);
    int x = cnnk_net_add(n, "a1", c2, r1);
    x = cnnk_net_relu(n, "a1.relu", x);
    const int c3 = cnnk_net_conv(n, "c3", x, 8, 1, 1, 0, false);
    const int bn = cnnk_net_bnorm(n, "c3.bn", c3, 1e-5f);
    x = cnnk_net_add(n, "a2", bn, c3);
    x = cnnk_net_relu(n, "a2.relu", x);
    x = cnnk_net_global_avgpool(n, "gap", x);
    cnnk_net_fc(n, "fc", x, 10);
    cnnk_error err = {{0}};
    CHECK(cnnk_net_status(n, &err) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, 5, &err) == CNNK_OK);
    cnnk_fusion f;
    CHECK(cnnk_fuse(n, &f, &err) == CNNK_OK);
    const cnnk_fused *g1 = &f.groups[f.group[c1]];
    CHECK(g1->head == c1 && g1->out == c1 && !g1->relu);
    CHECK_EQ_I64(f.groups[f.group[r1]].head, r1);
    const cnnk_fused *g2 = &f.groups[f.group[c2]];
    CHECK(g2->residual == r1 && g2->relu);
    const cnnk_fused *g3 = &f.groups[f.group[c3]];
    CHECK(g3->out == c3 && g3->bn < 0);
    CHECK_EQ_I64(f.groups[f.group[bn]].head, bn);
    /* a2 reads c3 beside c3.bn: no conv of its own, so an add step, ReLU fused */
    const int a2 = node_named(n, "a2");
    CHECK(f.groups[f.group[a2]].head == a2 && f.groups[f.group[a2]].relu);
    all_agree(n, &f);
    /* Both compute the same work: the same logits. */
    same_logits(n, 7, 11);
    cnnk_fusion_free(&f);
    cnnk_net_destroy(n);
}

/* Leaky ReLU fuses where ReLU does, with its slope: into a convolution
 * (its folded batch-norm's too), a convolution's residual add and an FC;
 * not behind a value with a second reader, and not into an add that runs
 * as its own step (the add kernel knows ReLU only). The runner and the
 * oneDNN peer (post-op eltwise_relu with alpha) compute the same logits. */
static void test_leaky(void) {
    cnnk_net *n = cnnk_net_create("t_leaky", 1, 8, 8, 8);
    const int c1 = cnnk_net_conv(n, "c1", 0, 8, 3, 1, 1, true);
    const int l1 = cnnk_net_leaky_relu(n, "l1", c1, 0.1f);
    const int c2 = cnnk_net_conv(n, "c2", l1, 8, 3, 1, 1, false);
    const int bn2 = cnnk_net_bnorm(n, "c2.bn", c2, 1e-5f);
    const int l2 = cnnk_net_leaky_relu(n, "l2", bn2, 0.2f);
    const int c3 = cnnk_net_conv(n, "c3", l2, 8, 1, 1, 0, true);
    const int a3 = cnnk_net_add(n, "a3", c3, l2);
    const int l3 = cnnk_net_leaky_relu(n, "l3", a3, 0.1f);
    const int c4 = cnnk_net_conv(n, "c4", l3, 8, 1, 1, 0, true);
    const int a4 = cnnk_net_add(n, "a4", c4, c4); /* c4 read twice: a4 is an add step */
    const int l4 = cnnk_net_leaky_relu(n, "l4", a4, 0.1f);
    const int f5 = cnnk_net_fc(n, "f5", l4, 16);
    const int l5 = cnnk_net_leaky_relu(n, "l5", f5, 0.1f);
    cnnk_net_fc(n, "f6", l5, 10);
    cnnk_error err = {{0}};
    CHECK(cnnk_net_status(n, &err) == CNNK_OK);
    CHECK(cnnk_net_init_weights(n, 7, &err) == CNNK_OK);
    cnnk_fusion f;
    CHECK(cnnk_fuse(n, &f, &err) == CNNK_OK);
    const cnnk_fused *g1 = &f.groups[f.group[c1]];
    CHECK(g1->out == l1 && g1->relu && g1->relu_alpha == 0.1f);
    const cnnk_fused *g2 = &f.groups[f.group[c2]];
    CHECK(g2->bn == bn2 && g2->out == l2 && g2->relu && g2->relu_alpha == 0.2f);
    const cnnk_fused *g3 = &f.groups[f.group[c3]];
    CHECK(g3->residual == l2 && g3->out == l3 && g3->relu && g3->relu_alpha == 0.1f);
    const cnnk_fused *g4 = &f.groups[f.group[a4]];
    CHECK(g4->head == a4 && g4->out == a4 && !g4->relu);
    CHECK_EQ_I64(f.groups[f.group[l4]].head, l4);
    const cnnk_fused *g5 = &f.groups[f.group[f5]];
    CHECK(g5->out == l5 && g5->relu && g5->relu_alpha == 0.1f);
    all_agree(n, &f);
    same_logits(n, 5, 13);
    cnnk_fusion_free(&f);
    cnnk_net_destroy(n);
}

/* One network of each family, at the smallest input it takes: VGG is
 * made of AlexNet's blocks, the deeper ResNets and DenseNets repeat
 * their first one's. */
static void test_networks(void) {
    static const struct {
        const char *name;
        int64_t hw;
    } nets[] = {{"alexnet", 224}, {"googlenet", 64}, {"resnet18", 64},
                {"resnet50", 64}, {"densenet121", 64}, {"yolov1", 64}};
    for (size_t k = 0; k < sizeof nets / sizeof nets[0]; ++k) {
        cnnk_net *n = NULL;
        cnnk_error err;
        CHECK(cnnk_net_build(nets[k].name, 1, nets[k].hw, nets[k].hw, &n, &err) == CNNK_OK);
        if (!n) continue;
        CHECK(cnnk_net_init_weights(n, 1, &err) == CNNK_OK);
        cnnk_fusion f;
        CHECK(cnnk_fuse(n, &f, &err) == CNNK_OK);
        all_agree(n, &f);
        cnnk_fusion_free(&f);
        cnnk_net_destroy(n);
    }
}

int main(void) {
    test_second_reader();
    test_leaky();
    test_networks();
    return check_finish("test_fuse");
}
