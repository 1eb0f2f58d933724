#!/usr/bin/python3
"""PyTorch as the whole-network oracle (issue 15, docs/ORACLE.md).

    /usr/bin/python3 scripts/torch-oracle.py [--seed 1] [--batch 1] [--input 224]
        [--cache DIR] [--ops FILE] [NET ... | all]

For each torchvision classification network named (default: all 14 that cnnk
builds): seeded random weights (nothing is downloaded), a seeded input, eval
mode, no gradients; writes into the cache

    DIR/<net>-b<batch>-<h>x<w>-s<seed>-torch<v>-tv<v>-<script hash>/
        model.onnx     torch.onnx.export, opset 13, constant folding
        input.npy      the input, float32 N x 3 x H x W
        logits.npy     PyTorch's output for it, float32 N x 1000 (N x 21 x H x W,
                       the "out" map, for fcn_resnet50)
        weights/       the state_dict, one float32 <key>.npy per key
                       (num_batches_tracked left out), for
                       `cnnk validate --net NET --weights DIR`
        meta.json      versions, seed, times, logits statistics, ONNX ops

A directory is built under a temporary name and renamed into place, so a
reader sees a complete entry or none, and a second run reuses it. The cache
is $CNNK_ORACLE_CACHE, else build/oracle-cache beside this script's repo.
Progress goes to stderr ("exported" / "cached" and the seconds); stdout gets
one line per network, "NET<TAB>DIR", for scripts (tests/onnx_oracle.sh).

Needs /usr/bin/python3 with Debian's python3-torch 1.13, python3-torchvision
0.14 and python3-onnx 1.12; exit 77 (ctest's skip code) when one is missing.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time

SKIP = 77
try:
    import numpy as np
    import onnx
    import torch
    import torch.nn as nn
    import torchvision
    import torchvision.models as tvm
except ImportError as e:  # the tests skip, users get the reason
    print("torch-oracle: %s (needs /usr/bin/python3 with python3-torch, "
          "python3-torchvision, python3-onnx)" % e, file=sys.stderr)
    sys.exit(SKIP)

NETS = ["alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "googlenet", "resnet18", "resnet34",
        "resnet50", "resnet101", "resnet152", "densenet121", "densenet169", "densenet201",
        "fcn_resnet50"]
# Segmentation networks: the model returns {"out": N x classes x H x W}
# (aux_loss=False: nothing else); "out" is the oracle's output.
SEGMENTATION = {"fcn_resnet50"}
OPSET = 13


def build(name):
    """torchvision's model, eval-mode inference graph, default init skipped
    where torchvision allows (init_weights() below overwrites everything)."""
    if name == "fcn_resnet50":  # torchvision 0.14's segmentation model, 21 classes
        m = tvm.segmentation.fcn_resnet50(weights=None, weights_backbone=None, num_classes=21,
                                          aux_loss=False)
    elif name == "googlenet":  # no aux heads, no input transform: the inference graph
        m = tvm.googlenet(weights=None, aux_logits=False, init_weights=False,
                          transform_input=False)
    elif name.startswith("vgg"):
        m = getattr(tvm, name)(weights=None, init_weights=False)
    else:
        m = getattr(tvm, name)(weights=None)
    return m.eval()


def residual_bns(model):
    """The batch-norms that end a residual branch (BasicBlock.bn2,
    Bottleneck.bn3): scaled down so the residual stream stays of order one
    through 50 blocks, as core/weights.c does for cnnk's own weights."""
    out = []
    for m in model.modules():
        if isinstance(m, tvm.resnet.BasicBlock):
            out.append(m.bn2)
        elif isinstance(m, tvm.resnet.Bottleneck):
            out.append(m.bn3)
    return out


def init_weights(model, seed):
    """Every parameter and running statistic from one seeded generator, the
    recipe of docs/NETWORKS.md (core/weights.c), so activations keep an RMS
    of order one through 150+ layers and batch-norm is not an identity:
    conv/FC weights U(-a, a), a = sqrt(6 / fan_in) (He: a ReLU stack keeps
    its second moment); biases U(-0.05, 0.05); BN running_mean N(0, 0.1),
    running_var U(0.5, 1.5), beta U(-0.05, 0.05), gamma = sqrt(var + eps) x
    U(0.8, 1.2), so the folded scale lies in [0.8, 1.2] whatever the depth.
    Residual-branch BNs get gamma and beta times 1/sqrt(blocks)."""
    g = torch.Generator().manual_seed(seed)

    def uniform(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=g, dtype=torch.float64) * (hi - lo) + lo)

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                a = math.sqrt(6.0 / (m.weight[0].numel()))
                uniform(m.weight, -a, a)
                if m.bias is not None:
                    uniform(m.bias, -0.05, 0.05)
            elif isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                uniform(m.running_var, 0.5, 1.5)
                uniform(m.bias, -0.05, 0.05)
                uniform(m.weight, 0.8, 1.2)
                m.weight.mul_(torch.sqrt(m.running_var + m.eps))
        res = residual_bns(model)
        for bn in res:
            bn.weight.div_(math.sqrt(len(res)))
            bn.bias.div_(math.sqrt(len(res)))


def script_hash():
    with open(os.path.abspath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def entry_name(net, a):
    ver = lambda v: v.split("+")[0]  # "1.13.0a0+git..." is still 1.13.0a0
    return "%s-b%d-%dx%d-s%d-torch%s-tv%s-%s" % (
        net, a.batch, a.h, a.w, a.seed, ver(torch.__version__), ver(torchvision.__version__),
        script_hash())


def onnx_ops(proto):
    """{op_type: sorted attribute names} of a model's graph."""
    ops = {}
    for node in proto.graph.node:
        ops.setdefault(node.op_type, set()).update(a.name for a in node.attribute)
    return {k: sorted(v) for k, v in sorted(ops.items())}


def logits_stats(y):
    """Refuses degenerate logits (a network whose activations died or blew
    up gives an oracle that cannot tell a right answer from a wrong one):
    finite, not constant, RMS of order one, distinct top-6 per image."""
    if not np.all(np.isfinite(y)):
        raise SystemExit("torch-oracle: logits not finite")
    stats = []
    for img in y.reshape(y.shape[0], -1):
        rms = float(np.sqrt(np.mean(img.astype(np.float64) ** 2)))
        std = float(np.std(img.astype(np.float64)))
        top = np.sort(img)[::-1][:6].astype(np.float64)
        gaps = np.diff(-top)  # top[i] - top[i+1] >= 0
        if std <= 1e-3 * max(rms, 1e-30) or not 1e-2 <= rms <= 1e2:
            raise SystemExit("torch-oracle: degenerate logits (rms %g, std %g)" % (rms, std))
        if np.min(gaps) <= 0:
            raise SystemExit("torch-oracle: tied logits in the top 6: %s" % top)
        stats.append({"rms": rms, "std": std, "top5": [int(i) for i in np.argsort(-img)[:5]],
                      "min_gap_top6_over_rms": float(np.min(gaps) / rms)})
    return stats


class OutOnly(nn.Module):
    """A segmentation model's "out" tensor: what the ONNX graph returns."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def map_stats(y):
    """A segmentation map's statistics: finite, not constant, RMS of order
    one; per pixel the argmax and the gap to the runner-up (bilinear
    upsampling repeats values, so ties across pixels are expected and
    not refused, but a pixel whose top two classes tie is counted)."""
    if not np.all(np.isfinite(y)):
        raise SystemExit("torch-oracle: output not finite")
    stats = []
    for img in y.astype(np.float64):  # classes x H x W
        rms = float(np.sqrt(np.mean(img ** 2)))
        std = float(np.std(img))
        if std <= 1e-3 * max(rms, 1e-30) or not 1e-2 <= rms <= 1e2:
            raise SystemExit("torch-oracle: degenerate map (rms %g, std %g)" % (rms, std))
        top2 = -np.sort(-img, axis=0)[:2]
        gap = top2[0] - top2[1]
        arg = np.argmax(img, axis=0)
        stats.append({"rms": rms, "std": std, "top5": [int(c) for c in np.argsort(
            -np.bincount(arg.ravel(), minlength=img.shape[0]))[:5]],
            "classes_won": int(len(np.unique(arg))),
            "pixels_top2_tied": int(np.sum(gap == 0)),
            "min_gap_top2_over_rms": float(np.min(gap) / rms)})
    return stats


def export(net, a, final):
    """Builds one cache entry in a temporary directory beside `final`, then
    renames it into place."""
    parent = os.path.dirname(final)
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix=".tmp-" + os.path.basename(final) + "-", dir=parent)
    try:
        torch.manual_seed(a.seed)
        model = build(net)
        init_weights(model, a.seed)
        g = torch.Generator().manual_seed(a.seed + 1)
        x = torch.rand((a.batch, 3, a.h, a.w), generator=g) * 2 - 1  # U(-1, 1)
        seg = net in SEGMENTATION
        run = OutOnly(model).eval() if seg else model
        with torch.no_grad():
            y = run(x)
            # PyTorch's own float32 error: the same network in float64.
            y64 = run.double()(x.double()).numpy()
            run.float()
        stats = map_stats(y.numpy()) if seg else logits_stats(y.numpy())
        f32_err = float(np.linalg.norm(y.numpy() - y64) / np.linalg.norm(y64))
        np.save(os.path.join(tmp, "input.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(tmp, "logits.npy"), y.numpy().astype(np.float32))
        wdir = os.path.join(tmp, "weights")
        os.mkdir(wdir)
        for k, v in model.state_dict().items():
            if k.endswith("num_batches_tracked"):
                continue
            np.save(os.path.join(wdir, k + ".npy"), v.numpy().astype(np.float32))
        path = os.path.join(tmp, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(run, x, path, opset_version=OPSET, do_constant_folding=True,
                              input_names=["input"], output_names=["logits"])
        proto = onnx.load(path)
        onnx.checker.check_model(proto)
        meta = {"net": net, "seed": a.seed, "batch": a.batch, "input": [a.h, a.w],
                "torch": torch.__version__, "torchvision": torchvision.__version__,
                "onnx": onnx.__version__, "opset": OPSET, "script": script_hash(),
                "logits": stats, "torch_f32_rel_l2_vs_f64": f32_err,
                "export_s": round(time.time() - t0, 1), "ops": onnx_ops(proto)}
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
        os.chmod(tmp, 0o755)
        try:
            os.rename(tmp, final)
        except OSError:  # another run finished it first: theirs is as good
            if not os.path.isfile(os.path.join(final, "meta.json")):
                raise
            shutil.rmtree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def size(s):
    h, _, w = s.partition("x")
    return int(h), int(w or h)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--input", default="224", metavar="H[xW]", help="input size (224)")
    ap.add_argument("--cache", default=os.environ.get("CNNK_ORACLE_CACHE") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "oracle-cache"))
    ap.add_argument("--ops", metavar="FILE", help="also write each network's ONNX ops here")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("nets", nargs="*", default=NETS)
    a = ap.parse_args()
    a.h, a.w = size(a.input)
    nets = NETS if a.nets == ["all"] else a.nets
    for n in nets:
        if n not in NETS:
            ap.error("unknown network %s (one of: %s)" % (n, " ".join(NETS)))
    if a.batch < 1 or a.h < 1 or a.w < 1:
        ap.error("batch and input size must be positive")
    if a.threads:
        torch.set_num_threads(a.threads)
    os.makedirs(a.cache, exist_ok=True)
    ops = {}
    for n in nets:
        final = os.path.join(a.cache, entry_name(n, a))
        t0 = time.time()
        done = "cached"
        if not os.path.isfile(os.path.join(final, "meta.json")):
            export(n, a, final)
            done = "exported"
        with open(os.path.join(final, "meta.json")) as f:
            meta = json.load(f)
        ops[n] = meta["ops"]
        print("torch-oracle: %-12s %s in %.1f s (top-5 %s, logits rms %.3g, PyTorch f32 vs "
              "f64 rel_l2 %.2g): %s" % (n, done, time.time() - t0, meta["logits"][0]["top5"],
                                        meta["logits"][0]["rms"],
                                        meta["torch_f32_rel_l2_vs_f64"], final),
              file=sys.stderr, flush=True)
        print("%s\t%s" % (n, final), flush=True)
    if a.ops:
        with open(a.ops, "w") as f:
            for n, o in ops.items():
                f.write("%s: %s\n" % (n, "; ".join(
                    "%s(%s)" % (k, ",".join(v)) for k, v in o.items())))
            allops = {}
            for o in ops.values():
                for k, v in o.items():
                    allops.setdefault(k, set()).update(v)
            f.write("all: %s\n" % "; ".join(
                "%s(%s)" % (k, ",".join(sorted(v))) for k, v in sorted(allops.items())))


if __name__ == "__main__":
    main()
