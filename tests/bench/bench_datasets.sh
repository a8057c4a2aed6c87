#!/usr/bin/env bash
# bench_datasets.sh - the dataset layer on a generated 10M-event shop: build
# and write rates, file size, then loading the file with upf_dataset_read and
# with h5py (python3-h5py, the same event datasets, same run), in rows/s, and
# peak RSS against the arrays' own size. Two layouts: the default (shuffle +
# deflate 1) and uncompressed event columns. Figures only, never asserted.
#   UPF_BENCH_EVENTS=N  events to generate (default 10,000,000)
set -u
B=${BENCH_BIN:-build/release/bench}/bench_datasets
N=${UPF_BENCH_EVENTS:-10000000}
PY=/usr/bin/python3
TMPD=${BENCH_TMP:-$(mktemp -d)}
[ -x "$B" ] || { echo "bench_datasets: $B is not built (make bench-build)"; exit 1; }

kv() { # kv LINE KEY: the value after KEY in a "key value ..." line
  awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit }}' <<<"$1"
}

# h5py reads the five event columns into numpy arrays: the first read in a
# fresh process, then the best of three (numpy reuses freed memory then).
h5py_read() {
  "$PY" - "$1" <<'PY'
import resource, sys, time
import h5py
p = sys.argv[1]
def once():
    t, c = time.perf_counter(), time.process_time()
    with h5py.File(p, "r") as f:
        g = f["events"]
        cols = [g[k][:] for k in ("user", "item", "time", "type", "value")]
    return time.perf_counter() - t, time.process_time() - c, len(cols[0])
first, first_cpu, n = once()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
best, best_cpu = first, first_cpu
for _ in range(2):
    w, c, _ = once()
    best, best_cpu = min(best, w), min(best_cpu, c)
print(f"h5py events {n} first_s {first:.3f} first_cpu_s {first_cpu:.3f} best_s {best:.3f} best_cpu_s {best_cpu:.3f} "
      f"rows_per_s {n / best:.0f} peak_rss_mb {rss:.1f}")
PY
}

"$PY" -c "import h5py" 2>/dev/null || { echo "bench_datasets: python3-h5py is missing (make bench-deps); h5py figures skipped"; PY=; }

printf "%-22s %9s %9s %9s %10s %10s %9s %9s\n" layout file_MB write_s load_s "Mrows/s" "h5py Mr/s" ratio "cpu ratio"
for layout in "deflate1:1" "raw-events:0"; do
  name=${layout%%:*}; ev=${layout##*:}
  f="$TMPD/bench_$name.h5"
  g=$("$B" gen "$f" "$N" "$ev" 1 262144) || { echo "gen failed"; exit 1; }
  r=$("$B" read "$f" 3) || { echo "read failed"; exit 1; }
  it=$("$B" iter "$f")
  rl=$(grep '^read events' <<<"$r"); rf=$(grep '^read_first' <<<"$r")
  ours_best=$(kv "$rl" best_s); ours_cpu=$(kv "$rl" best_cpu_s)
  if [ -n "$PY" ]; then
    h=$(h5py_read "$f"); hb=$(kv "$h" best_s); hc=$(kv "$h" best_cpu_s)
    ratio=$(awk -v a="$hb" -v b="$ours_best" 'BEGIN{printf "%.2f", a / b}')
    cratio=$(awk -v a="$hc" -v b="$ours_cpu" 'BEGIN{printf "%.2f", a / b}')
    hr=$(awk -v n="$N" -v t="$hb" 'BEGIN{printf "%.2f", n / t / 1e6}')
  else h=""; ratio="-"; cratio="-"; hr="-"; fi
  printf "%-22s %9s %9s %9s %10.2f %10s %9s %9s\n" "$name" "$(kv "$g" file_mb)" "$(kv "$g" write_s)" "$ours_best" \
    "$(awk -v n="$N" -v t="$ours_best" 'BEGIN{print n / t / 1e6}')" "$hr" "$ratio" "$cratio"
  echo "  build: $(kv "$g" build_rows_per_s) rows/s through the builder (add $(kv "$g" add_s) s + finish $(kv "$g" finish_s) s)," \
       "write $(kv "$g" write_rows_per_s) rows/s, $(kv "$g" bytes_per_event) bytes/event on disk"
  echo "  upf_dataset_read: first load $(kv "$rl" first_s) s ($(kv "$rl" first_cpu_s) s CPU), best $ours_best s ($ours_cpu s CPU);" \
       "peak RSS $(kv "$rf" peak_rss_mb) MB for $(kv "$rf" arrays_mb) MB of arrays (process base $(kv "$rf" base_rss_mb) MB)"
  echo "  block iterator (events only): $(kv "$it" s) s ($(kv "$it" cpu_s) s CPU), $(kv "$it" rows_per_s) rows/s, peak RSS $(kv "$it" peak_rss_mb) MB"
  [ -n "$h" ] && echo "  h5py (5 event columns): first $(kv "$h" first_s) s ($(kv "$h" first_cpu_s) s CPU), best $hb s ($hc s CPU), peak RSS $(kv "$h" peak_rss_mb) MB"
  rm -f "$f"
done
echo "ratio = h5py best time / upf_dataset_read best time (> 1: upfunnel loads faster; it also reads ids,"
echo "attributes and user_ptr and validates everything); cpu ratio: the same in CPU seconds (less noisy on a shared machine)"
