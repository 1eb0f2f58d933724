#!/usr/bin/env python3
"""Writes tests/data/deconv_weights_fixture.h: one torch ConvTranspose2d
(groups, non-square kernel, strides, paddings and a dilation, all
different along H and W), its weight and bias in torch's layout
([ic][oc/groups][kh][kw]), an input and torch's output, all small
integers so that every float sum is exact. tests/test_weights_dir.c loads
the weight through --weights' loader and checks cnnk's output against
torch's, bit for bit. Run: /usr/bin/python3 scripts/deconv-weights-fixture.py"""
import torch

torch.manual_seed(14)
IC, OC, G, KH, KW, SH, SW, PH, PW, DH, DW, N, IH, IW = 4, 6, 2, 3, 4, 2, 3, 1, 2, 1, 2, 2, 3, 4
m = torch.nn.ConvTranspose2d(IC, OC, (KH, KW), stride=(SH, SW), padding=(PH, PW),
                             dilation=(DH, DW), groups=G, bias=True)
with torch.no_grad():
    m.weight.copy_(torch.randint(-3, 4, m.weight.shape).float())
    m.bias.copy_(torch.randint(-4, 5, m.bias.shape).float())
    x = torch.randint(-3, 4, (N, IC, IH, IW)).float()
    y = m(x)


def arr(name, t):
    v = t.flatten().tolist()
    body = ",\n    ".join(", ".join(f"{a:.1f}f" for a in v[i:i + 16]) for i in range(0, len(v), 16))
    return f"static const float {name}[{len(v)}] = {{\n    {body},\n}};\n"


with open("tests/data/deconv_weights_fixture.h", "w") as f:
    f.write(f"/* Written by scripts/deconv-weights-fixture.py (torch {torch.__version__}): do not edit. */\n")
    f.write(f"enum {{ FIX_IC = {IC}, FIX_OC = {OC}, FIX_G = {G}, FIX_KH = {KH}, FIX_KW = {KW}, "
            f"FIX_SH = {SH}, FIX_SW = {SW}, FIX_PH = {PH}, FIX_PW = {PW}, FIX_DH = {DH}, FIX_DW = {DW}, "
            f"FIX_N = {N}, FIX_IH = {IH}, FIX_IW = {IW}, FIX_OH = {y.shape[2]}, FIX_OW = {y.shape[3]} }};\n")
    f.write("/* weight: [ic][oc/g][kh][kw] (torch's); x, y: NCHW */\n")
    f.write(arr("fix_weight", m.weight))
    f.write(arr("fix_bias", m.bias))
    f.write(arr("fix_x", x))
    f.write(arr("fix_y", y))
print("wrote tests/data/deconv_weights_fixture.h", tuple(y.shape))
