#!/usr/bin/env bash
# Benchmark acg-emulator over loopback HTTPS.
#
#   scripts/bench.sh [path-to-acg-emulator]        (default: build/acg-emulator)
#   scripts/bench.sh replication [path]           replication benchmark only (scripts/bench/replication.py)
#   scripts/bench.sh all [path]                   both, one after the other
#
# The replication part (~1 minute): A. 1,000 image versions x 10 target regions (10,000 jobs) created
# at once on a --data-dir emulator with --virtual-clock --replication-speed 1, then driven to
# Completed with POST /_emulator/clock/advance (60 simulated s per step): create time and req/s,
# emulator CPU time and VmRSS/VmHWM, advance wall/CPU time, steps, SQLite DB/WAL sizes.
# B. wrk GET of a 47-region version with and without $expand=ReplicationStatus (req/s, p50, p99).
#
# Environment:
#   BENCH_OUT=FILE           also write the full report as JSON to FILE
#   BENCH_DURATION=10        seconds per wrk run (1..120)
#   BENCH_WARMUP=2           seconds of wrk warm-up before each measured GET run (0..30)
#   BENCH_STARTUP_RUNS=11    start-up samples per mode (1..100)
#   BENCH_TIMEOUT=900        hard limit for the whole run, seconds
#   BENCH_QUIET_WAIT=0       wait up to this many seconds (max 600) for other CPU load to drop first
#   BENCH_REPL_VERSIONS=1000 replication: versions created at once (10 regions each)
#   BENCH_REPL_STEP=60       replication: simulated seconds per clock advance
#   (with `all`, BENCH_OUT=FILE writes FILE for the default part and FILE.replication.json)
#
# Needs: wrk (Debian package), python3 (stdlib only), curl not required; the replication part
# runs /usr/bin/python3 with `requests` (python3-requests) and falls back to a Python load loop,
# saying so, when wrk is missing.
# Only 127.0.0.1 is used.  The binary is copied to a temporary directory first so a rebuild
# during the run does not change what is measured.  Every emulator started is stopped on exit.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=default
case "${1:-}" in
  replication|all) mode="$1"; shift ;;
esac
binary="${1:-$repo_root/build/acg-emulator}"

if [[ ! -x "$binary" ]]; then
  echo "bench.sh: no executable emulator at $binary (build it first, or pass its path)" >&2
  exit 2
fi
if [[ "$mode" != replication ]]; then
  for tool in wrk python3; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required" >&2; exit 2; }
  done
fi
if [[ "$mode" != default ]]; then
  repl_python=/usr/bin/python3
  [[ -x "$repl_python" ]] || repl_python="$(command -v python3 || true)"
  if [[ -z "$repl_python" ]] || ! "$repl_python" -c 'import requests' 2>/dev/null; then
    echo "bench.sh: the replication benchmark needs python3 with requests (apt-get install python3-requests)" >&2
    exit 2
  fi
  command -v wrk >/dev/null || echo "bench.sh: wrk not found; the replication GET test falls back to Python" >&2
fi

workdir="$(mktemp -d "${TMPDIR:-/tmp}/acg-bench.XXXXXX")"
driver_pid=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n "$driver_pid" ]] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # Emulators the driver started (one pid per line); only those pids are signalled.
  if [[ -f "$workdir/pids" ]]; then
    while read -r pid; do
      [[ "$pid" =~ ^[0-9]+$ ]] || continue
      if kill -0 "$pid" 2>/dev/null && grep -qa bench-emulator "/proc/$pid/cmdline" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        sleep 0.5
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      fi
    done < "$workdir/pids"
  fi
  if [[ -n "${BENCH_KEEP_WORKDIR:-}" ]]; then
    echo "bench.sh: work directory kept at $workdir" >&2
  else
    rm -rf "$workdir"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

cp "$binary" "$workdir/bench-emulator"
chmod +x "$workdir/bench-emulator"
echo "bench.sh: emulator $binary (copied to $workdir/bench-emulator)" >&2

source_binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

if [[ "$mode" != replication ]]; then
  timeout --signal=TERM --kill-after=15 "${BENCH_TIMEOUT:-900}" \
    python3 "$repo_root/scripts/bench/bench.py" --binary "$workdir/bench-emulator" --workdir "$workdir" \
      --source-binary "$source_binary" &
  driver_pid=$!
  wait "$driver_pid"
  driver_pid=""
fi

if [[ "$mode" != default ]]; then
  repl_out=()
  if [[ -n "${BENCH_OUT:-}" ]]; then
    if [[ "$mode" == all ]]; then repl_out=(--out "$BENCH_OUT.replication.json"); else repl_out=(--out "$BENCH_OUT"); fi
  fi
  timeout --signal=TERM --kill-after=15 "${BENCH_TIMEOUT:-900}" \
    "$repl_python" "$repo_root/scripts/bench/replication.py" --binary "$workdir/bench-emulator" \
      --workdir "$workdir" --source-binary "$source_binary" "${repl_out[@]}" &
  driver_pid=$!
  wait "$driver_pid"
fi
