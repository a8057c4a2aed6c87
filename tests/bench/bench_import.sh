#!/usr/bin/env bash
# Import throughput: a generated event CSV (user, item, unix time, type string,
# value; BENCH_IMPORT_ROWS rows, default 10M) through `upfunnel data import`,
# its parsing stages alone (tokenizer; fast vs reference number parsing), and
# pandas read_csv on the same file in the same run, with the ratio.
# Wall and CPU seconds are both shown: the machine is shared, CPU is steadier.
set -u
ROWS=${BENCH_IMPORT_ROWS:-10000000}
PY=/usr/bin/python3
csv="$BENCH_TMP/events.csv"
out="$BENCH_TMP/events.h5"

"$BENCH_BIN/bench_import" gen "$csv" "$ROWS" || exit 1
printf 'input: %s rows, %s bytes\n\n' "$ROWS" "$(stat -c %s "$csv")"

echo "-- parsing stages (bench_import parse)"
"$BENCH_BIN/bench_import" parse "$csv" || exit 1
echo

echo "-- upfunnel data import (CSV -> builder -> sorted dataset -> HDF5)"
t0=$(date +%s.%N)
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%M' -o "$BENCH_TMP/rss.txt")
"${timer[@]}" "$UPF" data import --csv "$csv" --user user --item item --time time --type type --value value \
  -o "$out" --json >"$BENCH_TMP/import.json" || exit 1
t1=$(date +%s.%N)
rss_kb=$(cat "$BENCH_TMP/rss.txt" 2>/dev/null || echo 0)
"$PY" - "$BENCH_TMP/import.json" "$ROWS" "$t0" "$t1" "$rss_kb" >"$BENCH_TMP/upf.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); rows = int(sys.argv[2])
wall = float(sys.argv[4]) - float(sys.argv[3]); cpu = j['cpu_seconds']
print(f"read CSV -> builder      {j['seconds_read']:6.2f} s  {rows / j['seconds_read'] / 1e6:6.2f}M rows/s")
print(f"sort and check           {j['seconds_finish']:6.2f} s")
print(f"write HDF5               {j['seconds_write']:6.2f} s")
print(f"end to end (process)     {wall:6.2f} s  {rows / wall / 1e6:6.2f}M rows/s wall   cpu {cpu:6.2f} s  {rows / cpu / 1e6:6.2f}M rows/s")
if int(sys.argv[5]): print(f"peak memory              {int(sys.argv[5]) / 1024:6.0f} MB")
PY
cat "$BENCH_TMP/upf.txt"
echo

echo "-- pandas read_csv on the same file (python3-pandas, default options)"
"$PY" - "$csv" "$ROWS" "$BENCH_TMP/import.json" "$t0" "$t1" <<'PY'
import sys, time
try:
    import pandas as pd
except ImportError:
    print("pandas missing: make bench-deps"); sys.exit(0)
rows = int(sys.argv[2])
w0, c0 = time.perf_counter(), time.process_time()
df = pd.read_csv(sys.argv[1])
w1, c1 = time.perf_counter(), time.process_time()
assert len(df) == rows, len(df)
wall, cpu = w1 - w0, c1 - c0
print(f"read_csv                 {wall:6.2f} s  {rows / wall / 1e6:6.2f}M rows/s wall   cpu {cpu:6.2f} s  {rows / cpu / 1e6:6.2f}M rows/s")
import json
j = json.load(open(sys.argv[3]))
uw = float(sys.argv[5]) - float(sys.argv[4]); uc = j['cpu_seconds']
print()
print(f"ratio upfunnel/pandas, CSV read only:       {wall / j['seconds_read']:5.2f}x  (upfunnel also interns ids and builds the event columns)")
print(f"ratio upfunnel/pandas, whole import (wall): {wall / uw:5.2f}x  (upfunnel also sorts, checks and writes HDF5)")
print(f"ratio upfunnel/pandas, whole import (cpu):  {cpu / uc:5.2f}x")
PY
rm -f "$csv" "$out"
