#!/usr/bin/env python3
"""The peer of bench_serve: numpy top-10 for one user (float32 matvec +
argpartition, the way BENCH.md measured it: p50 1.4 ms, p99 2.1 ms), on the
same float32 model, loaded with the Python reader from model/FORMAT.md.
Run with one BLAS thread. Usage: serve_numpy_peer.py bench_f32.upf [requests]"""
import os
import re
import sys
import time

import numpy as np

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
doc = open(os.path.join(root, "model", "FORMAT.md"), encoding="utf-8").read()
ns = {}
exec(re.findall(r"```python\n(.*?)```", doc[doc.index("## Reading a file in Python"):], re.S)[0], ns)
kind, meta, t = ns["read_upf"](sys.argv[1])
V = np.ascontiguousarray(t["item_factors"], dtype=np.float32)
U = np.ascontiguousarray(t["user_factors"], dtype=np.float32)
b = np.ascontiguousarray(t["item_bias"], dtype=np.float32)
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
rng = np.random.default_rng(7)
users = rng.integers(0, U.shape[0], n + 200)
lat = []
for i, u in enumerate(users):
    t0 = time.perf_counter_ns()
    s = V @ U[u] + b
    top = np.argpartition(-s, 10)[:10]
    top = top[np.argsort(-s[top], kind="stable")]
    if i >= 200:  # the first 200 warm up
        lat.append((time.perf_counter_ns() - t0) / 1e3)
lat.sort()
print("numpy peer (matvec + argpartition, float32, 1 BLAS thread) over %d items, dim %d:" % V.shape)
print("  p50 %.1f us   p99 %.1f us   mean %.1f us   %.0f req/s" % (lat[len(lat) // 2], lat[int(0.99 * (len(lat) - 1))],
      sum(lat) / len(lat), 1e6 * len(lat) / sum(lat)))
