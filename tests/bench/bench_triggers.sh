#!/usr/bin/env bash
# bench_triggers.sh - planning one day of lifecycle messages, per trigger:
# TRIGGERS_SIZES (default "100000:10000 1000000:100000" users:items) with
# TRIGGERS_EVENTS events per user (default 8), rules only and the model plan
# (random models; training is timed by the synth back-test below). Then the
# back-test of configs/synth_triggers.yaml (31 days, 3000 users) with its
# training and planning seconds. One thread. Figures only, never assertions.
set -u
UPF=${UPF:-./upfunnel}
BIN=${BENCH_BIN:-build/release/bench}/bench_triggers
SIZES=${TRIGGERS_SIZES:-"100000:10000 1000000:100000"}
E=${TRIGGERS_EVENTS:-8}
export OPENBLAS_NUM_THREADS=1
echo "machine load $(cut -d' ' -f1 /proc/loadavg); $(nproc) CPUs"
for s in $SIZES; do
    echo
    echo "## plan one day: ${s%%:*} users, ${s##*:} items, ~$E events per user"
    /usr/bin/time -f "peak RSS %M KB, wall %e s" "$BIN" "${s%%:*}" "${s##*:}" "$E" 1 || exit 1
done
echo
echo "## back-test: configs/synth_triggers.yaml, 2024-03-01 .. 2024-03-31"
/usr/bin/time -f "wall %e s" "$UPF" triggers backtest configs/synth_triggers.yaml --from 2024-03-01 --to 2024-03-31 2>/dev/null |
    grep -E "^models:|^  (model|rules_only|random|no_message) " 
