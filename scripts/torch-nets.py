#!/usr/bin/python3
"""PyTorch's time for the five networks on this CPU: the framework peer of
docs/ONEDNN_PEER.md's fairness table (issue 17).

    /usr/bin/python3 scripts/torch-nets.py [--threads 1] [--reps 11] [NET ...]

Needs Debian's python3-torch and python3-torchvision (1.13 / 0.14; not
installed by scripts/setup.sh: the tests do not need them). Per network,
batch 1, 224x224, random weights, no gradients: the median of --reps
forwards (after 3 warm-ups) in eager mode (every layer its own op, BN not
folded, torch.cat copies) and after torch.jit.freeze +
optimize_for_inference (BN folded, conv+ReLU fused where PyTorch can),
the two ways a PyTorch user runs inference on the CPU. Prints one line per
network and mode; the times are the process's CPU time (what
cnnk-bench's one-thread figures are too: robust on a shared machine).
"""
import argparse
import statistics
import time

import torch
import torchvision

NETS = ["alexnet", "vgg16", "googlenet", "resnet50", "densenet121"]


def build(name):
    kw = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    return getattr(torchvision.models, name)(weights=None, **kw).eval()


def median_ms(fn, x, reps):
    with torch.no_grad():
        for _ in range(3):
            fn(x)
        t = []
        for _ in range(reps):
            t0 = time.process_time()
            fn(x)
            t.append((time.process_time() - t0) * 1e3)
    return statistics.median(t), min(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=11)
    ap.add_argument("nets", nargs="*", default=NETS)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.rand(1, 3, 224, 224)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}, {a.threads} thread(s), "
          f"median of {a.reps}")
    for name in a.nets:
        m = build(name)
        eager = median_ms(m, x, a.reps)
        with torch.no_grad():
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(m, x)))
        opt = median_ms(frozen, x, a.reps)
        print(f"{name:12s} eager {eager[0]:8.2f} ms (min {eager[1]:.2f})   "
              f"frozen+optimized {opt[0]:8.2f} ms (min {opt[1]:.2f})", flush=True)


if __name__ == "__main__":
    main()
