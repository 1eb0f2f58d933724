#!/usr/bin/python3
"""Checks for `cnnk report` pages (tests/report_chromium.sh), with nothing
beyond Python's standard library:

  expect JSON...       the charts a page of these cnnk-bench results must
                       have, from the JSON itself: one line per chart,
                       "bars NET N", "roofline NET LAYER N", "winners N"
  dom FILE             the same lines counted in Chromium's --dump-dom
                       output, plus "history NET N" for the history charts
  standalone FILE      fails if the HTML fetches anything (script, link,
                       src, url(), @import, a http(s) URL outside xmlns)
  png FILE W H         fails unless FILE is a PNG of W x H whose pixels
                       are not all white and hold several colours
"""
import json
import re
import struct
import sys
import zlib
from html.parser import HTMLParser


def strip_real_time(name):
    return name[: -len("/real_time")] if name.endswith("/real_time") else name


def parse_name(name):
    """(family, net, layer, side) of a cnnk-bench name, or None."""
    parts = name.split("/")
    if len(parts) < 4 or parts[0] not in ("net", "layer"):
        return None
    sides = [i for i, p in enumerate(parts) if p in ("cnnk", "onednn", "pytorch") and i >= 2]
    if not sides:
        return None
    s = sides[-1]
    if parts[0] == "net":
        return ("net", parts[1], "", parts[s]) if s == 2 else None
    if s < 3 or parts[s] == "pytorch":
        return None
    return ("layer", parts[1], "/".join(parts[2:s]), parts[s])


def expect(paths):
    ran = {}  # name -> (has_flops_and_bytes)
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        iters = {strip_real_time(b["run_name"]) for b in doc["benchmarks"] if b.get("run_type") == "iteration"}
        for b in doc["benchmarks"]:
            name = strip_real_time(b["run_name"])
            is_iter = b.get("run_type") == "iteration"
            is_median = b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median"
            if not (is_iter or (is_median and name not in iters)) or b.get("error_occurred"):
                continue
            rate = b.get("exec_FLOPS") or b.get("FLOPS") or 0
            point = rate > 0 and b.get("bytes", 0) > 0
            ran[name] = ran.get(name, False) or point
    bars, points, layers = {}, {}, {}
    for name, point in ran.items():
        p = parse_name(name)
        if not p:
            continue
        family, net, layer, side = p
        if family == "net":
            bars[net] = bars.get(net, 0) + 1
        else:
            if point:
                points[(net, layer)] = points.get((net, layer), 0) + 1
            if side == "cnnk":
                layers[(net, layer)] = True
    out = [f"bars {n} {c}" for n, c in bars.items()]
    out += [f"roofline {n} {l} {c}" for (n, l), c in points.items()]
    out.append(f"winners {len(layers)}")
    return sorted(out)


class Charts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts = []  # [kind, key, count]
        self.current = None
        self.winners = 0
        self.in_winners = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "svg" and "chart" in cls:
            kind = next(k for k in ("bars", "roofline", "history") if k in cls)
            key = a.get("data-net", "")
            if kind == "roofline":
                key += " " + a.get("data-layer", "")
            self.current = [kind, key, 0]
            self.charts.append(self.current)
        elif self.current and self.current[0] == "bars" and tag == "rect" and "bar" in cls:
            self.current[2] += 1
        elif self.current and self.current[0] != "bars" and tag == "circle" and "point" in cls:
            self.current[2] += 1
        elif tag == "table" and "winners" in cls:
            self.in_winners = True
        elif tag == "tr" and self.in_winners and "winner" in cls:
            self.winners += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current = None
        elif tag == "table":
            self.in_winners = False


def dom(path):
    p = Charts()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    out = [f"{k} {key} {n}" for k, key, n in p.charts]
    out.append(f"winners {p.winners}")
    return sorted(out)


def standalone(path):
    text = open(path, encoding="utf-8").read()
    bad = []
    for pat in (r"<script", r"<link", r"<img", r"<iframe", r"\bsrc\s*=", r"url\(", r"@import"):
        if re.search(pat, text, re.I):
            bad.append(pat)
    for m in re.finditer(r"https?://[^\"' )]+", text):
        if m.group(0) != "http://www.w3.org/2000/svg":
            bad.append(m.group(0))
    return bad


def png(path, want_w, want_h):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos + 12 <= len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            return f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + n
    if not ihdr:
        return "no IHDR"
    w, h, depth, ctype, _, _, interlace = ihdr
    if (w, h) != (want_w, want_h):
        return f"{w}x{h}, not {want_w}x{want_h}"
    if depth != 8 or ctype not in (2, 6) or interlace:
        return f"unexpected format depth {depth} colour type {ctype} interlace {interlace}"
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev, i, colours, inked = bytearray(stride), 0, set(), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        if f == 2:
            line = bytearray((x + y) & 255 for x, y in zip(line, prev))
        elif f != 0:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if f == 1:
                    line[x] = (line[x] + a) & 255
                elif f == 3:
                    line[x] = (line[x] + ((a + b) >> 1)) & 255
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            px = bytes(line[x : x + 3])
            colours.add(px)
            inked += px != b"\xff\xff\xff"
        prev = line
    frac = inked / (w * h)
    print(f"png: {w}x{h}, {len(colours)} colours, {100 * frac:.1f}% not white")
    # Text alone antialiases to many greys; the charts' bars and points add
    # hues. A blank or failed page is one colour.
    if len(colours) < 16 or frac < 0.01:
        return "blank or nearly blank"
    return None


def main(argv):
    cmd = argv[1]
    if cmd == "expect":
        print("\n".join(expect(argv[2:])))
    elif cmd == "dom":
        print("\n".join(dom(argv[2])))
    elif cmd == "standalone":
        bad = standalone(argv[2])
        if bad:
            print("fetches or scripts: " + ", ".join(bad))
            return 1
    elif cmd == "png":
        err = png(argv[2], int(argv[3]), int(argv[4]))
        if err:
            print(f"{argv[2]}: {err}")
            return 1
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
