#!/usr/bin/env bash
# bench_lifetime.sh - the lifetime models' figures:
#  1. AFT on generated data, LIFETIME_N rows (default 1,000,000) x 30 features,
#     80/20 split: upfunnel's mini-batch Adam and exact Newton against
#     XGBoost survival:aft (python3-xgboost, 1 and 2 threads) on the same
#     files; every C-index comes from the same C code (bench_lifetime cindex).
#  2. BG/NBD, Pareto/NBD and Gamma-Gamma on the CDNOW master file through
#     `upfunnel train` (fit seconds from metrics.json), when ../shared/data is here.
#  3. The synthetic shop's planted intervals and dropout beside the estimates.
# Figures only, never assertions. One thread for upfunnel (OPENBLAS_NUM_THREADS=1).
set -u
UPF=${UPF:-./upfunnel}
BIN=${BENCH_BIN:-build/release/bench}/bench_lifetime
DATA=${SHARED_DATA:-../shared/data}
TMP=${BENCH_TMP:-$(mktemp -d)}
mkdir -p "$TMP"
N=${LIFETIME_N:-1000000}
D=30
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1

jfield() { "$PY" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

echo "machine load $(cut -d' ' -f1 /proc/loadavg); $(nproc) CPUs"
echo
echo "## AFT on $N rows x $D features (Weibull truth, ~40% censored), 80/20 split"
"$BIN" gen "$TMP" "$N" "$D" 7 || exit 1
printf "| %-44s | %9s | %12s | %8s |\n" system "fit s" "samples/s" C-index
printf "|%s|%s|%s|%s|\n" "----------------------------------------------" "-----------" "--------------" "----------"
adam=$("$BIN" fit "$TMP" adam 5) || exit 1
newton=$("$BIN" fit "$TMP" newton) || exit 1
printf "| %-44s | %9.2f | %12.0f | %8.4f |\n" "upfunnel AFT, Adam, 5 epochs, batch 4096" "$(jfield "$adam" seconds)" \
  "$(jfield "$adam" samples_per_s)" "$(jfield "$adam" c_index)"
printf "| %-44s | %9.2f | %12.0f | %8.4f |\n" "upfunnel AFT, Newton (exact MLE, $(jfield "$newton" iterations) it.)" \
  "$(jfield "$newton" seconds)" "$(jfield "$newton" samples_per_s)" "$(jfield "$newton" c_index)"
for threads in 1 2; do
  out=$("$PY" - "$TMP" "$threads" <<'PYEOF'
import sys, time
import numpy as np
import xgboost as xgb
d, threads = sys.argv[1], int(sys.argv[2])
ntr, nte, D = map(int, open(f"{d}/shape.txt").read().split())
X = np.fromfile(f"{d}/train.x", dtype=np.float32).reshape(ntr, D)
t = np.fromfile(f"{d}/train.t", dtype=np.float64)
e = np.fromfile(f"{d}/train.e", dtype=np.uint8)
Xt = np.fromfile(f"{d}/test.x", dtype=np.float32).reshape(nte, D)
t0 = time.perf_counter()
m = xgb.DMatrix(X)
m.set_float_info("label_lower_bound", t)
m.set_float_info("label_upper_bound", np.where(e == 1, t, np.inf))
params = {"objective": "survival:aft", "eval_metric": "aft-nloglik", "aft_loss_distribution": "extreme",
          "aft_loss_distribution_scale": 1.0, "tree_method": "hist", "learning_rate": 0.1, "max_depth": 6,
          "nthread": threads}
bst = xgb.train(params, m, num_boost_round=100)
secs = time.perf_counter() - t0
bst.predict(xgb.DMatrix(Xt)).astype(np.float64).tofile(f"{d}/xgb_pred.f64")
print(f"{secs:.3f} {ntr * 100 / secs:.0f}")
PYEOF
) || { echo "| XGBoost survival:aft: failed (python3-xgboost missing? make bench-deps) |"; break; }
  set -- $out
  ci=$("$BIN" cindex "$TMP" "$TMP/xgb_pred.f64")
  printf "| %-44s | %9.2f | %12.0f | %8.4f |\n" "XGBoost survival:aft, 100 rounds, $threads thread(s)" "$1" "$2" "$ci"
done
echo "(samples/s: rows x epochs, Newton iterations or boosting rounds, per second of fit)"

echo
echo "## BG/NBD on CDNOW master (23,570 customers)"
if [ -f "$DATA/cdnow/CDNOW_master.txt" ]; then
  mkdir -p data
  [ -f data/cdnow_master.h5 ] || "$UPF" data import --preset cdnow "$DATA/cdnow/CDNOW_master.txt" -o data/cdnow_master.h5 -q
  /usr/bin/time -f "%e" -o "$TMP/cdnow.time" "$UPF" train configs/cdnow_master_bgnbd.yaml --out "$TMP/cdnow" \
    --quiet --no-progress >/dev/null 2>&1
  "$PY" - "$TMP/cdnow/metrics.json" "$(cat "$TMP/cdnow.time")" <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1]))
print("| model | fit s | log-likelihood |\n|---|---|---|")
print(f"| BG/NBD | {m['fit']['seconds']:.3f} | {m['log_likelihood']:.2f} |")
print(f"| Pareto/NBD | {m['pareto_nbd']['fit']['seconds']:.3f} | {m['pareto_nbd']['log_likelihood']:.2f} |")
print(f"whole `upfunnel train` run (read, summary, three fits, holdout table, export): {float(sys.argv[2]):.2f} s")
PYEOF
else
  echo "skipped: $DATA/cdnow is absent"
fi

echo
echo "## Synthetic shop: planted lifetime vs estimates"
"$UPF" data synth --users 20000 --items 500 --seed 7 --rebuy 0 --arms 0 --impressions 0 -o "$TMP/synth_lifetime.h5" -q &&
  "$UPF" train configs/synth_aft.yaml --set "data.path=$TMP/synth_lifetime.h5" --out "$TMP/synth_aft" --quiet \
    --no-progress >/dev/null 2>&1 &&
  "$PY" tests/bench/lifetime_recovery.py aft "$TMP/synth_lifetime.truth.json" "$TMP/synth_aft"
echo
"$UPF" data synth --users 20000 --items 500 --seed 11 --bgnbd-r 0.5 --bgnbd-alpha 20 --new-users 1 --stockout-rate 0 \
    --rebuy 0 --arms 0 --impressions 0 -o "$TMP/synth_bgnbd.h5" -q &&
  "$UPF" train configs/synth_bgnbd.yaml --set "data.path=$TMP/synth_bgnbd.h5" --out "$TMP/synth_bgnbd" --quiet \
    --no-progress >/dev/null 2>&1 &&
  "$PY" tests/bench/lifetime_recovery.py bgnbd "$TMP/synth_bgnbd.truth.json" "$TMP/synth_bgnbd"
