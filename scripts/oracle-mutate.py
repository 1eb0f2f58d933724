#!/usr/bin/python3
"""Proves the PyTorch oracle has teeth (docs/ORACLE.md): wiring mistakes
that parameter and MAC counts cannot see, made in the exported ONNX graph,
must make `cnnk validate --onnx ... --expect-npy` exit 1.

    /usr/bin/python3 scripts/oracle-mutate.py [--cnnk build/cnnk] [--isa all] [--net googlenet]

Takes the network's cache entry from scripts/torch-oracle.py (exporting it
if needed), checks that the file as exported passes (exit 0), then writes
each mutant (onnx.checker-clean, every tensor shape unchanged) and runs it:

  concat   the first 4-way Concat with branches 3 and 4 swapped (GoogLeNet's
           inception3a: both 32 channels, so every shape is unchanged)
  padding  a 3x3 stride-1 Conv's pads [1,1,1,1] made [0,0,2,2]: the same
           output size, the image shifted by one pixel
  poolpad  the first MaxPool with ceil_mode 1 and no padding (GoogLeNet's
           maxpool1, 112 -> 56) given pads [1,1,1,1] and ceil_mode 0: the
           same output size, every window one pixel up and left
  relu     a Relu in the middle of the graph removed, its readers reading
           its input

Exit 0 when the control passes and every mutant exits 1; 1 otherwise.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import onnx
from onnx import helper


def first(graph, pred, what):
    for n in graph.node:
        if pred(n):
            return n
    raise SystemExit("oracle-mutate: no %s in this graph" % what)


def attr(node, name):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return None


def swap_concat(m):
    n = first(m.graph, lambda n: n.op_type == "Concat" and len(n.input) == 4, "4-way Concat")
    n.input[2], n.input[3] = n.input[3], n.input[2]
    return "Concat %s: inputs 3 and 4 swapped" % n.name


def shift_padding(m):
    convs = [n for n in m.graph.node if n.op_type == "Conv" and attr(n, "kernel_shape") == [3, 3]
             and attr(n, "strides") in (None, [1, 1]) and attr(n, "pads") == [1, 1, 1, 1]]
    if not convs:
        raise SystemExit("oracle-mutate: no 3x3 stride-1 pad-1 Conv in this graph")
    n = convs[len(convs) // 2]
    for a in n.attribute:
        if a.name == "pads":
            del a.ints[:]
            a.ints.extend([0, 0, 2, 2])
    return "Conv %s: pads [1,1,1,1] -> [0,0,2,2]" % n.name


def shift_pool(m):
    n = first(m.graph, lambda n: n.op_type == "MaxPool" and attr(n, "ceil_mode") == 1
              and attr(n, "pads") in (None, [0, 0, 0, 0]), "MaxPool with ceil_mode 1, pads 0")
    for a in list(n.attribute):
        if a.name in ("pads", "ceil_mode"):
            n.attribute.remove(a)
    n.attribute.extend([helper.make_attribute("pads", [1, 1, 1, 1]),
                        helper.make_attribute("ceil_mode", 0)])
    return "MaxPool %s: pads 0 ceil_mode 1 -> pads 1 ceil_mode 0" % n.name


def drop_relu(m):
    relus = [n for n in m.graph.node if n.op_type == "Relu"]
    if not relus:
        raise SystemExit("oracle-mutate: no Relu in this graph")
    n = relus[len(relus) // 2]
    src, dst = n.input[0], n.output[0]
    m.graph.node.remove(n)
    for other in m.graph.node:
        for i, name in enumerate(other.input):
            if name == dst:
                other.input[i] = src
    return "Relu %s removed" % n.name


MUTANTS = {"concat": swap_concat, "padding": shift_padding, "poolpad": shift_pool,
           "relu": drop_relu}


def validate(a, model, entry):
    cmd = [a.cnnk, "validate", "--onnx", model, "--input-npy", os.path.join(entry, "input.npy"),
           "--expect-npy", os.path.join(entry, "logits.npy"), "--isa", a.isa, "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--cnnk", default=os.path.join(root, "build", "cnnk"))
    ap.add_argument("--isa", default="all")
    ap.add_argument("--net", default="googlenet")
    ap.add_argument("mutants", nargs="*", default=list(MUTANTS))
    a = ap.parse_args()
    out = subprocess.run([sys.executable, os.path.join(root, "scripts", "torch-oracle.py"), a.net],
                         capture_output=True, text=True, check=True).stdout
    entry = out.split("\t")[1].strip()
    ok = True
    rc, text = validate(a, os.path.join(entry, "model.onnx"), entry)
    print("control  exit %d (want 0): %s" % (rc, text.splitlines()[-1] if text else ""))
    ok &= rc == 0
    with tempfile.TemporaryDirectory(prefix="oracle-mutate.") as tmp:
        for name in a.mutants:
            m = onnx.load(os.path.join(entry, "model.onnx"))
            what = MUTANTS[name](m)
            onnx.checker.check_model(m)
            path = os.path.join(tmp, name + ".onnx")
            onnx.save(m, path)
            rc, text = validate(a, path, entry)
            print("%-8s exit %d (want 1): %s\n  %s" % (name, rc, what, "\n  ".join(
                line for line in text.splitlines() if "FAIL" in line or "DIFFER" in line
                or "passed" in line or "error" in line.lower())))
            ok &= rc == 1
    print("oracle-mutate: %s" % ("every mutant caught" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
