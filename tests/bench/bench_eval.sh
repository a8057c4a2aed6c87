#!/usr/bin/env bash
# Full-catalogue NDCG@10 (issue 6): 100k users x 50k items at dim 64, one and
# two threads, against the sgemm peak measured in the same run; then a numpy
# peer (blocked matmul + argpartition, one thread) on a slice for scale.
# Figures only. BENCH_EVAL_ARGS="USERS ITEMS DIM" shrinks the case.
set -u
BIN=${BENCH_BIN:-build/release/bench}/bench_eval
args=${BENCH_EVAL_ARGS:-"100000 50000 64"}
OPENBLAS_NUM_THREADS=1 "$BIN" $args || exit 1
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  echo
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 - $args <<'PY'
import sys, time
import numpy as np
U, I, D = (int(a) for a in sys.argv[1:4])
n = min(U, 5000)
rng = np.random.default_rng(42)
uv = (0.1 * rng.standard_normal((n, D))).astype(np.float32)
iv = (0.1 * rng.standard_normal((I, D))).astype(np.float32)
b = (0.01 * rng.standard_normal(I)).astype(np.float32)
train = rng.integers(0, I, size=(n, 20))
test = rng.integers(0, I, size=(n, 5))
disc = 1.0 / np.log2(np.arange(2, 12))
t0 = time.perf_counter()
tot = 0.0
for s in range(0, n, 256):
    sc = uv[s:s + 256] @ iv.T + b
    rows = np.arange(sc.shape[0])[:, None]
    sc[rows, train[s:s + 256]] = -np.inf
    top = np.argpartition(-sc, 10, axis=1)[:, :10]
    order = np.argsort(-sc[rows, top], axis=1, kind="stable")
    top = top[rows, order]
    rel = (top[:, :, None] == test[s:s + 256][:, None, :]).any(axis=2)
    tot += float((rel @ disc / disc[:5].sum()).sum())
t = time.perf_counter() - t0
print(f"numpy peer (256-user blocks, matmul + argpartition, 1 thread) on {n} users: "
      f"{1e6 * t / n:.0f} us/user; {U} users would take {t / n * U:.1f} s")
PY
fi
