#!/usr/bin/env python3
# fcn32s (Caffe's, as nets/fcn.c builds it) in torch, He-initialised, its
# state_dict saved under cnnk's node names (OUT/w/<node>.weight.npy, the
# upscore's in ConvTranspose2d's [ic][oc][kh][kw]), an input OUT/x.npy and
# torch's output OUT/y.npy, for the check of docs/NETWORKS.md:
#   mkdir -p OUT/w && /usr/bin/python3 scripts/fcn32s-torch.py OUT 32
#   build/cnnk validate --net fcn32s --isa avx2 --weights OUT/w \
#       --input-npy OUT/x.npy --expect-npy OUT/y.npy
import sys, numpy as np, torch, torch.nn as nn
torch.manual_seed(5)
out = sys.argv[1]; H = W = int(sys.argv[2])
cfg = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
convs = []; ic = 3
for b, blk in enumerate(cfg):
    for j, oc in enumerate(blk):
        convs.append((f"conv{b+1}_{j+1}", nn.Conv2d(ic, oc, 3, padding=100 if (b, j) == (0, 0) else 1))); ic = oc
fc6 = nn.Conv2d(512, 4096, 7); fc7 = nn.Conv2d(4096, 4096, 1); score_fr = nn.Conv2d(4096, 21, 1)
upscore = nn.ConvTranspose2d(21, 21, 64, stride=32, bias=False)
mods = dict(convs); mods.update(fc6=fc6, fc7=fc7, score_fr=score_fr, upscore=upscore)
with torch.no_grad():
    for name, m in mods.items():
        fan = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3] if name != "upscore" else 21 * 4
        m.weight.normal_(0, (2.0 / fan) ** 0.5)
        if m.bias is not None: m.bias.uniform_(-0.05, 0.05)
    x = torch.rand(1, 3, H, W)
    y = x; k = 0
    for b, blk in enumerate(cfg):
        for _ in blk: y = torch.relu(convs[k][1](y)); k += 1
        y = nn.functional.max_pool2d(y, 2, 2, ceil_mode=True)
    y = torch.relu(fc6(y)); y = torch.relu(fc7(y)); y = score_fr(y); y = upscore(y)
    y = y[:, :, 19:19 + H, 19:19 + W].contiguous()
for name, m in mods.items():
    np.save(f"{out}/w/{name}.weight.npy", m.weight.detach().numpy().astype(np.float32))
    if m.bias is not None: np.save(f"{out}/w/{name}.bias.npy", m.bias.detach().numpy().astype(np.float32))
np.save(f"{out}/x.npy", x.numpy()); np.save(f"{out}/y.npy", y.numpy())
print("y", tuple(y.shape), float(y.abs().mean()))
