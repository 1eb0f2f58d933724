#!/usr/bin/python3
"""Derives tests/torchvision_nets.txt, the structure of each built-in
network as torchvision defines it, for tests/test_nets_structure.c.

Run once, by hand, when a network is added or torchvision's definition is
the question (docs/TESTING.md); the checked-in file is what the C test reads,
so the test needs no PyTorch:

    apt-get install -y python3-torch python3-torchvision   # Debian 12: 1.13.1, 0.14.1
    /usr/bin/python3 scripts/derive-nets.py > tests/torchvision_nets.txt

Each model (random weights, eval mode) is traced with torch.fx and its
shapes propagated at batch 1, 3x224x224. One line per node:

    ID OP NAME PARAMS C H W : INPUT-IDS

OP is one of input conv bn relu maxpool avgpool gap fc add cat resize; NAME is the
module path for conv, bn and fc (the only modules used once each; '-'
otherwise); PARAMS the layer's fixed parameters (OP-dependent, '-' when
none; its fields joined by commas); C H W the output per image (H = W = 1 for fc). Dropout, flatten and
an adaptive average pool to the size it already has are identities: their
readers read their input. Inputs are in the order the code passes them:
add(a, b) is `a + b` (`out += identity` is add(out, identity)), cat lists
torch.cat's tensors in order.
"""
import operator
import sys

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from torch.fx.passes.shape_prop import ShapeProp

NETS = ["alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "googlenet", "resnet18", "resnet34",
        "resnet50", "resnet101", "resnet152", "densenet121", "densenet169", "densenet201",
        "fcn_resnet50"]


class SegOut(nn.Module):
    """A segmentation model returning its "out" logits (torchvision's return
    a dict); the model is the attribute "m", stripped from module paths."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, x):
        return self.m(x)["out"]


def build(name):
    if name == "googlenet":  # eval-mode inference graph: no aux heads, no input transform
        return tvm.googlenet(weights=None, aux_logits=False, init_weights=False,
                             transform_input=False)
    if name == "fcn_resnet50":
        return SegOut(tvm.segmentation.fcn_resnet50(weights=None, weights_backbone=None,
                                                    num_classes=21, aux_loss=False))
    return getattr(tvm, name)(weights=None)


def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def module_node(m, shape_in, shape_out):
    """(op, named, params) of a module, or None for an identity."""
    if isinstance(m, nn.Conv2d):
        k, s, p, d = pair(m.kernel_size), pair(m.stride), pair(m.padding), pair(m.dilation)
        return ("conv", True, "o%d k%dx%d s%dx%d p%dx%d g%d d%dx%d b%d" % (
            m.out_channels, k[0], k[1], s[0], s[1], p[0], p[1], m.groups, d[0], d[1],
            m.bias is not None))
    if isinstance(m, nn.BatchNorm2d):
        return ("bn", True, "eps%g" % m.eps)
    if isinstance(m, nn.ReLU):
        return ("relu", False, "-")
    if isinstance(m, nn.MaxPool2d):
        k, s, p = pair(m.kernel_size), pair(m.stride), pair(m.padding)
        return ("maxpool", False, "k%dx%d s%dx%d p%dx%d c%d" % (
            k[0], k[1], s[0], s[1], p[0], p[1], m.ceil_mode))
    if isinstance(m, nn.AvgPool2d):
        k, s, p = pair(m.kernel_size), pair(m.stride), pair(m.padding)
        return ("avgpool", False, "k%dx%d s%dx%d p%dx%d c%d i%d" % (
            k[0], k[1], s[0], s[1], p[0], p[1], m.ceil_mode, m.count_include_pad))
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return adaptive(shape_in, shape_out)
    if isinstance(m, nn.Linear):
        return ("fc", True, "o%d b%d" % (m.out_features, m.bias is not None))
    if isinstance(m, (nn.Dropout, nn.Identity, nn.Flatten)):
        return None
    raise SystemExit("unknown module %s" % type(m).__name__)


def adaptive(shape_in, shape_out):
    if tuple(shape_in[2:]) == tuple(shape_out[2:]):
        return None
    if tuple(shape_out[2:]) == (1, 1):
        return ("gap", False, "-")
    kh, kw = shape_in[2] // shape_out[2], shape_in[3] // shape_out[3]
    return ("avgpool", False, "k%dx%d s%dx%d p0x0 c0 i1" % (kh, kw, kh, kw))


def chw(shape):
    s = list(shape)[1:] + [1, 1]
    return s[0], s[1], s[2]


def derive(name, out):
    torch.manual_seed(0)
    model = build(name).eval()
    gm = torch.fx.symbolic_trace(model)
    x = torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        ShapeProp(gm).propagate(x)
    mods = dict(gm.named_modules())
    ids = {}  # fx node -> our id
    lines = []

    def emit(node, op, mname, params, inputs):
        c, h, w = chw(node.meta["tensor_meta"].shape)
        ids[node] = len(lines)
        lines.append("%d %s %s %s %d %d %d : %s" % (len(lines), op, mname, params.replace(" ", ","),
                                                    c, h, w,
                                                    " ".join(str(ids[i]) for i in inputs)))

    def shape(n):
        return n.meta["tensor_meta"].shape

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            emit(node, "input", "-", "-", [])
        elif node.op == "output":
            continue
        elif node.op == "call_module":
            src = node.args[0]
            what = module_node(mods[node.target], shape(src), shape(node))
            if what is None:
                ids[node] = ids[src]
            else:
                op, named, params = what
                mname = node.target[2:] if node.target.startswith("m.") else node.target
                emit(node, op, mname if named else "-", params, [src])
        elif node.op == "call_function" and node.target in (operator.add, operator.iadd,
                                                             torch.add):
            emit(node, "add", "-", "-", list(node.args[:2]))
        elif node.op == "call_function" and node.target is torch.cat:
            dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
            assert dim == 1, (name, node)
            emit(node, "cat", "-", "-", list(node.args[0]))
        elif node.op == "call_function" and node.target in (F.relu, torch.relu):
            emit(node, "relu", "-", "-", [node.args[0]])
        elif node.op == "call_function" and node.target is F.adaptive_avg_pool2d:
            what = adaptive(shape(node.args[0]), shape(node))
            if what is None:
                ids[node] = ids[node.args[0]]
            else:
                emit(node, what[0], "-", what[2], [node.args[0]])
        elif node.op == "call_function" and node.target is torch.flatten:
            ids[node] = ids[node.args[0]]
        elif node.op == "call_function" and node.target is F.interpolate:
            assert node.kwargs["mode"] == "bilinear", (name, node)
            emit(node, "resize", "-", "a%d" % bool(node.kwargs["align_corners"]), [node.args[0]])
        elif node.op == "call_function" and node.target in (getattr, operator.getitem):
            continue  # x.shape[-2:]: sizes, no tensor
        else:
            raise SystemExit("%s: unknown node %s %s" % (name, node.op, node.target))
    out.write("net %s %d\n" % (name, len(lines)))
    out.write("\n".join(lines) + "\n")


def main():
    out = sys.stdout
    out.write("# The built-in networks as torchvision %s (PyTorch %s) defines them, at\n"
              "# 1x3x224x224: written by scripts/derive-nets.py, read by\n"
              "# tests/test_nets_structure.c. Do not edit by hand.\n"
              % (__import__("torchvision").__version__, torch.__version__))
    for name in (sys.argv[1:] or NETS):
        derive(name, out)


if __name__ == "__main__":
    main()
