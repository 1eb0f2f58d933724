#!/usr/bin/python3
"""The results table of docs/ORACLE.md from the logs of a run of
tests/onnx_oracle.sh with CNNK_ORACLE_LOG=DIR:

    /usr/bin/python3 scripts/oracle-table.py DIR

One row per network and source (onnx: the exported graph; weights: cnnk's
own definition with torchvision's state_dict): pass/fail, the seconds, and
per plan the worst rel_l2 against PyTorch's logits over the ISAs run (ref:
the reference plan alone), with the ISAs whose plans ran.
"""
import glob
import os
import re
import sys

PLANS = ["ref", "heuristic", "fixed:direct", "fixed:im2col", "fixed:winograd_f2x2",
         "fixed:winograd_f4x4", "fixed:winograd_f6x6", "fixed:1x1", "fixed:1x1_sup",
         "fixed:im2col_sup"]
LINE = re.compile(r"^net\s+(\S+)\s+\S+\s+(\S+)\s+(\S+)\s+vs expected\s+(pass|FAIL)\s+rel_l2=(\S+)")
HEAD = re.compile(r"^# cnnk .*\(exit (\d+), (\d+) s\)")


def row(path):
    worst, isas, fails, head = {}, set(), 0, None
    with open(path) as f:
        for line in f:
            m = HEAD.match(line)
            if m:
                head = m
            m = LINE.match(line)
            if not m:
                continue
            _, isa, plan, verdict, rel = m.groups()
            if plan != "ref":  # the reference plan runs whatever --isa says
                isas.add(isa)
            fails += verdict != "pass"
            worst[plan] = max(worst.get(plan, 0.0), float(rel))
    net, src = os.path.basename(path)[:-4].rsplit(".", 1)
    rc, secs = (int(head.group(1)), int(head.group(2))) if head else (-1, -1)
    ok = "pass" if rc == 0 and fails == 0 and worst else "FAIL (exit %d, %d plans)" % (rc, fails)
    cells = ["%.2g" % worst[p] if p in worst else "-" for p in PLANS]
    return "| %s | %s | %s | %d | %s | %s |" % (net, src, ok, secs, " ".join(sorted(isas)),
                                               " | ".join(cells))


def main():
    logs = sorted(glob.glob(os.path.join(sys.argv[1], "*.txt")))
    if not logs:
        sys.exit("oracle-table: no logs in %s" % sys.argv[1])
    print("| network | source | result | s | ISAs | " + " | ".join(
        p.replace("fixed:", "").replace("winograd_", "") for p in PLANS) + " |")
    print("|" + "---|" * (5 + len(PLANS)))
    for p in logs:
        print(row(p))


if __name__ == "__main__":
    main()
