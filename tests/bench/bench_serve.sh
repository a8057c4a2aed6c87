#!/usr/bin/env bash
# Serving latency: libupfserve top-10 over 100k items at dim 64 (f32, f16,
# int8), then numpy on the same float32 model (matvec + argpartition, one
# BLAS thread), read with the Python reader from model/FORMAT.md.
# Reproduce: make bench BENCH=serve
set -eu
out=${BENCH_TMP:-$(mktemp -d)}
"${BENCH_BIN:-build/release/bench}/bench_serve" --out "$out" "$@"
echo
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    /usr/bin/python3 tests/bench/serve_numpy_peer.py "$out/bench_f32.upf"
else
  echo "numpy peer: skipped (python3-numpy is not installed; make bench-deps)"
fi
