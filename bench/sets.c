/* --main's network sets (--set=classic|detseg|all): which networks the
 * main job runs by default and which of its two tables a network's row is
 * printed in. A set is a list of names: a network another branch adds is
 * one line here, and a name this build does not have is skipped with a
 * note rather than failing the job. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cnnk/net.h"

/* The five classifiers of the first table (docs/BENCHMARKS.md). */
static const char *const classic[] = {"alexnet", "vgg16", "googlenet", "resnet50", "densenet121"};

/* Segmentation and detection (issue 14), in the order the second table
 * prints them; torchvision: whether torchvision 0.14 has the model, which
 * the PyTorch column then times (scripts/torch-peer.py builds it). */
static const struct {
    const char *net;
    bool torchvision;
} detseg[] = {
    {"fcn32s", false},
    {"fcn16s", false},
    {"fcn8s", false},
    {"fcn_resnet50", true},
    {"spp_zf5", false},
    {"rcnn_alexnet", false},
    {"fast_rcnn_vgg16", false},
    {"faster_rcnn_vgg16", false},
    {"yolov1_det", false},
};

#define NCLASSIC (sizeof classic / sizeof classic[0])
#define NDETSEG (sizeof detseg / sizeof detseg[0])

static const char *const set_names[BENCH_SET_COUNT] = {"classic", "detseg", "all"};

const char *bench_set_name(bench_set s) {
    return s >= 0 && s < BENCH_SET_COUNT ? set_names[s] : "?";
}

bool bench_set_parse(const char *name, bench_set *s) {
    for (int i = 0; i < BENCH_SET_COUNT; ++i)
        if (strcmp(name, set_names[i]) == 0) return *s = (bench_set)i, true;
    return false;
}

bool bench_net_is_detseg(const char *net) {
    for (size_t i = 0; i < NDETSEG; ++i)
        if (strcmp(net, detseg[i].net) == 0) return true;
    return false;
}

bool bench_set_has(bench_set s, const char *net) {
    bool in_classic = false;
    for (size_t i = 0; i < NCLASSIC; ++i) in_classic |= strcmp(net, classic[i]) == 0;
    switch (s) {
    case BENCH_SET_CLASSIC: return in_classic;
    case BENCH_SET_DETSEG: return bench_net_is_detseg(net);
    default: return in_classic || bench_net_is_detseg(net);
    }
}

bool bench_in_torchvision(const char *net) {
    for (size_t i = 0; i < NDETSEG; ++i)
        if (strcmp(net, detseg[i].net) == 0) return detseg[i].torchvision;
    return true; /* the classifiers (and --nets' others): torchvision's spelling is cnnk's */
}

static bool built_here(const char *net) {
    for (size_t i = 0; i < cnnk_net_count(); ++i)
        if (strcmp(cnnk_net_name_at(i), net) == 0) return true;
    return false;
}

int bench_set_nets(bench_set s, const char **out, int max) {
    int n = 0;
    const bool cl = s != BENCH_SET_DETSEG, ds = s != BENCH_SET_CLASSIC;
    for (size_t i = 0; cl && i < NCLASSIC && n < max; ++i) out[n++] = classic[i];
    for (size_t i = 0; ds && i < NDETSEG && n < max; ++i) {
        if (built_here(detseg[i].net)) out[n++] = detseg[i].net;
        else
            fprintf(stderr, "cnnk-bench: --set=%s: %s is not a network of this build; skipped\n",
                    set_names[s], detseg[i].net);
    }
    return n;
}
