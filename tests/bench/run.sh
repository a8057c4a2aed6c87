#!/usr/bin/env bash
# Runs the benchmark scripts tests/bench/bench_*.sh (or only those named) from
# the project root, each printing its own table. Figures, never assertions.
set -u
cd "$(dirname "$0")/../.."
export UPF=./upfunnel BENCH_BIN=build/release/bench SHARED_DATA=${UPF_SHARED_DATA:-../shared/data}
export BENCH_TMP=${BENCH_TMP:-$(mktemp -d)}
trap 'rm -rf "$BENCH_TMP"' EXIT
status=0
for s in tests/bench/bench_*.sh; do
  [ -e "$s" ] || continue
  name=$(basename "$s" .sh); name=${name#bench_}
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  echo "== bench $name"
  bash "$s" || { echo "bench $name failed"; status=1; }
  echo
done
exit $status
