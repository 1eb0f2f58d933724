#!/usr/bin/python3
"""Writes tests/data/boxes_fixture.h: random boxes and what torchvision.ops.nms
(continuous IoU) and py-faster-rcnn's py_cpu_nms (+1 IoU, written out below
as that file has it) keep, and bbox_transform_inv's decoded boxes.
tests/test_boxes.c checks cnnk's reference against them. Scores are distinct
and no pair's IoU lies within 1e-3 of a threshold, so float rounding cannot
flip a decision between the two implementations.

    /usr/bin/python3 scripts/boxes-fixture.py > tests/data/boxes_fixture.h
"""
import numpy as np
import torch
import torchvision

SETS, N = 4, 48
THRESH = [0.3, 0.5, 0.7, 0.45]


def py_cpu_nms(dets, thresh):
    x1, y1, x2, y2, scores = dets[:, 0], dets[:, 1], dets[:, 2], dets[:, 3], dets[:, 4]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort(kind="stable")[::-1]
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(int(i))
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])
        w = np.maximum(0.0, xx2 - xx1 + 1)
        h = np.maximum(0.0, yy2 - yy1 + 1)
        inter = w * h
        ovr = inter / (areas[i] + areas[order[1:]] - inter)
        inds = np.where(ovr <= thresh)[0]
        order = order[inds + 1]
    return keep


def ious(b, off):
    x1 = np.maximum(b[:, None, 0], b[None, :, 0]); y1 = np.maximum(b[:, None, 1], b[None, :, 1])
    x2 = np.minimum(b[:, None, 2], b[None, :, 2]); y2 = np.minimum(b[:, None, 3], b[None, :, 3])
    inter = np.maximum(0, x2 - x1 + off) * np.maximum(0, y2 - y1 + off)
    a = (b[:, 2] - b[:, 0] + off) * (b[:, 3] - b[:, 1] + off)
    return inter / (a[:, None] + a[None, :] - inter)


def make(rng, thresh):
    while True:
        c = rng.uniform(0, 100, (N, 2)); s = rng.uniform(8, 40, (N, 2))
        b = np.concatenate([c - s / 2, c + s / 2], 1).astype(np.float32).astype(np.float64)
        sc = rng.permutation(N).astype(np.float64) / N + rng.uniform(0, 1e-3, N)
        sc = sc.astype(np.float32)
        if len(set(sc.tolist())) != N:
            continue
        if all(np.min(np.abs(ious(b, off) - thresh)) > 1e-3 for off in (0.0, 1.0)):
            return b.astype(np.float32), sc


def arr(name, ctype, vals, per=8):
    out = [f"static const {ctype} {name}[{len(vals)}] = {{"]
    for i in range(0, len(vals), per):
        out.append("    " + ", ".join(repr(float(v)) + "f" if ctype == "float" else str(int(v))
                                      for v in vals[i:i + per]) + ",")
    out.append("};")
    return "\n".join(out)


def main():
    rng = np.random.default_rng(14)
    print("/* Written by scripts/boxes-fixture.py (torch %s, torchvision %s): do not edit. */"
          % (torch.__version__, torchvision.__version__))
    print(f"enum {{ FIX_SETS = {SETS}, FIX_N = {N} }};")
    print("static const float fix_thresh[FIX_SETS] = {%s};" % ", ".join(f"{t}f" for t in THRESH))
    for k in range(SETS):
        b, sc = make(rng, THRESH[k])
        tv = torchvision.ops.nms(torch.from_numpy(b), torch.from_numpy(sc), THRESH[k]).tolist()
        caffe = py_cpu_nms(np.concatenate([b, sc[:, None]], 1).astype(np.float32), THRESH[k])
        print(arr(f"fix_boxes{k}", "float", b.reshape(-1)))
        print(arr(f"fix_scores{k}", "float", sc))
        print(arr(f"fix_tv_keep{k}", "int", tv + [-1] * (N - len(tv)), 16))
        print(arr(f"fix_caffe_keep{k}", "int", caffe + [-1] * (N - len(caffe)), 16))
    # bbox_transform_inv (py-faster-rcnn lib/fast_rcnn/bbox_transform.py) in float64
    anchors = rng.uniform(0, 200, (16, 2)); anchors = np.concatenate(
        [anchors, anchors + rng.uniform(4, 120, (16, 2))], 1).astype(np.float32)
    deltas = rng.uniform(-1, 1, (16, 4)).astype(np.float32)
    a = anchors.astype(np.float64); d = deltas.astype(np.float64)
    w = a[:, 2] - a[:, 0] + 1.0; h = a[:, 3] - a[:, 1] + 1.0
    cx = a[:, 0] + 0.5 * w; cy = a[:, 1] + 0.5 * h
    px = d[:, 0] * w + cx; py = d[:, 1] * h + cy
    pw = np.exp(d[:, 2]) * w; ph = np.exp(d[:, 3]) * h
    pred = np.stack([px - 0.5 * pw, py - 0.5 * ph, px + 0.5 * pw, py + 0.5 * ph], 1)
    print("enum { FIX_DEC = 16 };")
    print(arr("fix_anchors", "float", anchors.reshape(-1)))
    print(arr("fix_deltas", "float", deltas.reshape(-1)))
    print(arr("fix_decoded", "float", pred.astype(np.float32).reshape(-1)))


main()
