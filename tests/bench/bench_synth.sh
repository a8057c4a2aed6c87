#!/usr/bin/env bash
# bench_synth.sh - `upfunnel data synth` end to end: the default shop (20k
# users, 5k items, the acceptance check's command) and a shop of about 10M
# events. Prints wall and CPU time, generation and end-to-end events/s, peak
# memory against the output arrays' size (25 bytes per event), and file sizes.
# Figures, never assertions. SYNTH_BIG_USERS overrides the big shop's users.
set -u
UPF=${UPF:-./upfunnel}
TMP=${BENCH_TMP:-$(mktemp -d)}
BIG_USERS=${SYNTH_BIG_USERS:-170000}

field() { sed -n "s/^ *\"$2\": \([0-9.e+-]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }

run() { # run NAME ARGS...
  local name=$1; shift
  if ! /usr/bin/time -f "%e %U %S %M" -o "$TMP/$name.time" "$UPF" data synth -o "$TMP/$name.h5" --json "$@" \
      >"$TMP/$name.json" 2>"$TMP/$name.err"; then
    echo "$name: failed: $(tail -n 1 "$TMP/$name.err")"
    return 1
  fi
  read -r wall user sys rss <"$TMP/$name.time"
  local events gen write
  events=$(field "$TMP/$name.json" events)
  gen=$(field "$TMP/$name.json" generate_seconds)
  write=$(field "$TMP/$name.json" write_seconds)
  local size tsize
  size=$(stat -c %s "$TMP/$name.h5")
  tsize=$(( $(stat -c %s "$TMP/$name.truth.h5") + $(stat -c %s "$TMP/$name.truth.json") ))
  awk -v n="$name" -v ev="$events" -v gen="$gen" -v wr="$write" -v wall="$wall" -v cpu="$(echo "$user $sys" | awk '{print $1+$2}')" \
      -v rss="$rss" -v size="$size" -v tsize="$tsize" 'BEGIN {
    printf "%-8s %11d %8.2f %8.2f %8.2f %8.2f %9.2f %9.2f %8.0f %6.2f %8.1f %8.1f\n", n, ev, gen, wr, wall, cpu,
      ev / gen / 1e6, ev / wall / 1e6, rss / 1024, rss * 1024 / (ev * 25), size / 1048576, tsize / 1048576 }'
}

echo "upfunnel data synth: generation and HDF5 write (1 thread unless _t2); machine load $(cut -d' ' -f1 /proc/loadavg)"
printf "%-8s %11s %8s %8s %8s %8s %9s %9s %8s %6s %8s %8s\n" shop events gen_s write_s wall_s cpu_s \
  "gen_Mev/s" "e2e_Mev/s" rss_MB rss/arr file_MB truth_MB
run default --users 20000 --items 5000 --seed 7
run big --users "$BIG_USERS" --items 50000 --seed 7
run big_t2 --users "$BIG_USERS" --items 50000 --seed 7 --threads 2
cmp -s "$TMP/big.h5" "$TMP/big_t2.h5" && echo "big and big_t2 (2 threads): byte-identical files" ||
  echo "big and big_t2 differ (a bug: the output must not depend on --threads)"
echo "rss/arr: peak resident memory over the event arrays' size (25 bytes per event)."
echo "reproduce: $UPF data synth -o big.h5 --users $BIG_USERS --items 50000 --seed 7 --json"
