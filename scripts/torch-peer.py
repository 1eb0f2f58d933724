#!/usr/bin/python3
"""PyTorch's eager inference, timed as a user runs it: the PyTorch column of
`cnnk-bench --main` (docs/BENCHMARKS.md, "The PyTorch column").

    /usr/bin/python3 scripts/torch-peer.py [--nets alexnet,vgg16,...]
        [--batch 1] [--input 224x224] [--threads 1] [--reps 9]
        [--min-time 0.3] [--clock cpu|wall]

Per network: torchvision's model with random weights (weights=None: nothing
is downloaded), model.eval() and torch.no_grad(), torch.set_num_threads
(--threads), a seeded torch.rand input of the shape cnnk runs (N, 3, H, W).
The layout is the faster for this network: both the contiguous (NCHW) and
the channels_last (NHWC) model and input run a few warm forwards,
alternating, and the lower median wins. Then two warm-ups, and --reps
repetitions, each the mean of as many forwards as fill --min-time (at
least one), as a Google Benchmark repetition is.

Each forward is timed by three clocks: the process's CPU time (every
thread of the process, so work PyTorch hands to another thread is counted),
the calling thread's CPU time (Google Benchmark's cpu_time, which cnnk's
one-thread figures are) and the wall clock. --clock picks the one the
layout choice and "median_ms" use: cpu (process CPU time) for one thread,
wall for more, as cnnk-bench does.

Prints one JSON object on stdout, progress on stderr. Exit status 0 when
the object was printed (a network that failed has "error" instead of
times), 3 when torch or torchvision cannot be imported (the object then
says "not installed"), 2 on bad arguments.
"""
import argparse
import json
import statistics
import sys
import time

NOT_INSTALLED = 3
PROBES = 3  # warm forwards per layout when choosing


def log(msg):
    print(f"torch-peer: {msg}", file=sys.stderr, flush=True)


def parse_input(text):
    h, sep, w = text.partition("x")
    if not sep or not h.isdigit() or not w.isdigit() or int(h) < 1 or int(w) < 1:
        raise argparse.ArgumentTypeError(f"want HxW, e.g. 224x224, not '{text}'")
    return int(h), int(w)


# cnnk's networks that torchvision keeps outside torchvision.models, with the
# arguments that make them cnnk's definition (docs/NETWORKS.md): fcn_resnet50
# without its auxiliary head and with no ImageNet backbone to download.
SEGMENTATION = {"fcn_resnet50": {"aux_loss": False, "num_classes": 21, "weights_backbone": None}}


def build(torchvision, name):
    if name in SEGMENTATION:
        ctor = getattr(torchvision.models.segmentation, name)
        return ctor(weights=None, **SEGMENTATION[name]).eval()
    ctor = getattr(torchvision.models, name, None)
    if ctor is None or not callable(ctor):
        raise ValueError(f"torchvision {torchvision.__version__} has no model '{name}'")
    # GoogLeNet and Inception: no auxiliary classifiers at inference, and
    # PyTorch's default initialisation (their own calls scipy, slowly).
    kw = {"aux_logits": False, "init_weights": False} if name in ("googlenet", "inception_v3") else {}
    return ctor(weights=None, **kw).eval()


class Clocks:
    """The three clocks of one timed span, in ms."""

    def __init__(self):
        self.p, self.t, self.w = time.process_time_ns(), time.thread_time_ns(), time.perf_counter_ns()

    def stop(self):
        return ((time.process_time_ns() - self.p) * 1e-6, (time.thread_time_ns() - self.t) * 1e-6,
                (time.perf_counter_ns() - self.w) * 1e-6)


def pick(times, clock):
    return times[0] if clock == "cpu" else times[2]


def repetition(model, x, min_time_ms, clock):
    """One repetition: forwards until min_time_ms has passed on the clock;
    their mean per forward on each clock, and how many ran."""
    n, c = 0, Clocks()
    while True:
        model(x)
        n += 1
        spent = c.stop()
        if pick(spent, clock) >= min_time_ms:
            return tuple(s / n for s in spent) + (n,)


def choose_layout(torch, model, x, clock):
    """The faster of contiguous and channels_last on warm forwards,
    alternating so that a slow spell of the machine falls on both."""
    cl_model = model.to(memory_format=torch.channels_last)  # in place: the same module
    variants = {"contiguous": x.contiguous(), "channels_last": x.to(memory_format=torch.channels_last)}
    probes = {k: [] for k in variants}
    for i in range(PROBES + 1):
        for layout, xin in variants.items():
            mfmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
            cl_model.to(memory_format=mfmt)
            c = Clocks()
            cl_model(xin)
            if i > 0:  # the first of each is a warm-up
                probes[layout].append(pick(c.stop(), clock))
    med = {k: statistics.median(v) for k, v in probes.items()}
    best = min(med, key=med.get)
    mfmt = torch.channels_last if best == "channels_last" else torch.contiguous_format
    return cl_model.to(memory_format=mfmt), variants[best], best, med


def measure(torch, torchvision, name, a):
    model = build(torchvision, name)
    torch.manual_seed(0)
    x = torch.rand(a.batch, 3, a.input[0], a.input[1])
    with torch.no_grad():
        model, x, layout, probe = choose_layout(torch, model, x, a.clock)
        for _ in range(2):
            model(x)
        reps = [repetition(model, x, a.min_time * 1e3, a.clock) for _ in range(a.reps)]
    cpu = [r[0] for r in reps]
    thread = [r[1] for r in reps]
    wall = [r[2] for r in reps]
    iters = [r[3] for r in reps]
    ms = cpu if a.clock == "cpu" else wall
    return {
        "layout": layout,
        "probe_median_ms": probe,
        "cpu_ms": cpu,
        "thread_cpu_ms": thread,
        "wall_ms": wall,
        "iterations": iters,
        "median_ms": statistics.median(ms),
        "median_cpu_ms": statistics.median(cpu),
        "median_thread_cpu_ms": statistics.median(thread),
        "median_wall_ms": statistics.median(wall),
    }


def blas_libraries():
    """The BLAS libraries loaded (Debian's torch calls libblas.so.3, which
    is the reference BLAS unless an optimised one is installed; PyTorch's
    convolutions that do not go to oneDNN run on it)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return []
    return sorted(libs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nets", default="alexnet,vgg16,googlenet,resnet50,densenet121")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--input", type=parse_input, default=(224, 224))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds per repetition")
    ap.add_argument("--clock", choices=("cpu", "wall"), default=None,
                    help="default: cpu for one thread, wall for more")
    a = ap.parse_args()
    if a.batch < 1 or a.threads < 1 or a.reps < 1 or not a.min_time >= 0:
        ap.error("--batch, --threads and --reps want a positive integer, --min-time a number >= 0")
    a.clock = a.clock or ("cpu" if a.threads == 1 else "wall")
    out = {"batch": a.batch, "input": list(a.input), "threads": a.threads, "reps": a.reps,
           "min_time_s": a.min_time, "clock": a.clock, "mode": "eager, eval(), no_grad()"}
    try:
        import torch
        import torchvision
    except Exception as e:  # ImportError, or a broken installation
        out.update(status="not installed", error=f"{type(e).__name__}: {e}")
        print(json.dumps(out))
        return NOT_INSTALLED
    torch.set_num_threads(a.threads)
    out.update(status="measured", torch=torch.__version__, torchvision=torchvision.__version__,
               torch_threads=torch.get_num_threads(), python=sys.executable, nets={})
    for name in filter(None, a.nets.split(",")):
        log(f"{name} ({a.batch}x3x{a.input[0]}x{a.input[1]}, {a.threads} thread(s), {a.reps} reps)")
        try:
            r = measure(torch, torchvision, name, a)
            log(f"{name}: median {r['median_ms']:.2f} ms ({a.clock}), {r['layout']}")
        except Exception as e:
            r = {"error": f"{type(e).__name__}: {e}"}
            log(f"{name}: failed: {r['error']}")
        out["nets"][name] = r
    out["blas"] = blas_libraries()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
