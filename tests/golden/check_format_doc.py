#!/usr/bin/env python3
"""Checks the Python reader printed in model/FORMAT.md ("Reading a file in
Python"): runs it on every fixture and on f16/int8 exports made by the C
tools, and compares every tensor's min/max/mean and every scalar metadata
value with `upfunnel inspect --json`. Dev-only (python3 + numpy); run by
`make check-format-doc`.
Usage: python3 tests/golden/check_format_doc.py [path/to/upfunnel]
"""
import glob
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
upf = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "upfunnel")
doc = open(os.path.join(root, "model", "FORMAT.md"), encoding="utf-8").read()
section = doc[doc.index("## Reading a file in Python"):]
blocks = re.findall(r"```python\n(.*?)```", section, re.S)
ns = {}
exec(blocks[0], ns)  # the reader
read_upf = ns["read_upf"]

tmp = tempfile.mkdtemp()
files = sorted(glob.glob(os.path.join(root, "tests", "golden", "v1_*.upf")))
for dt in ("f16", "int8"):
    out = os.path.join(tmp, "ranker_%s.upf" % dt)
    subprocess.run([upf, "export", files[[os.path.basename(f) for f in files].index("v1_ranker_tiny.upf")], "-o", out,
                    "--dtype", dt], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    files.append(out)

checked = 0
for path in files:
    kind, meta, tensors = read_upf(path)
    ref = json.loads(subprocess.run([upf, "inspect", "--json", "--full", path], check=True, capture_output=True).stdout)
    assert kind == ref["header"]["kind_id"], path
    assert set(tensors) == {t["name"] for t in ref["tensors"]}, path
    for t in ref["tensors"]:
        a = tensors[t["name"]].astype(np.float64)
        assert list(a.shape) == t["shape"], (path, t["name"])
        if a.size:
            for stat, got in (("min", a.min()), ("max", a.max()), ("mean", a.mean())):
                want = t[stat]
                assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(want))), (path, t["name"], stat, got, want)
        checked += 1
    for key, m in ref["metadata"].items():
        v = meta[key]
        if m["type"] in ("u64", "i64", "bool", "str"):
            assert v == m["value"], (path, key, v, m["value"])
        elif m["type"] == "f64":
            assert v == m["value"] or (m["value"] is None and not math.isfinite(v)), (path, key)
        elif m["type"] == "str[]":
            assert v == m["value"], (path, key)
        elif m["type"] == "f64[]":
            assert [float(x) for x in v] == m["value"], (path, key)
        checked += 1

# the usage example, on the tiny ranker
exec(blocks[1].replace('"model.upf"', repr(files[[os.path.basename(f) for f in files].index("v1_ranker_tiny.upf")]))
     .replace('"user42"', '"u0"'), ns)
assert ns["top10"][0] == "\u00e9t\u00e9", ns["top10"]
print("check-format-doc: ok: the FORMAT.md reader agrees with upfunnel inspect on %d files (%d tensors and keys)"
      % (len(files), checked))
