#!/usr/bin/env bash
# Benchmark acg-emulator over loopback HTTPS.
#
#   scripts/bench.sh [path-to-acg-emulator]        (default: build/acg-emulator)
#
# Environment:
#   BENCH_OUT=FILE           also write the full report as JSON to FILE
#   BENCH_DURATION=10        seconds per wrk run (1..120)
#   BENCH_WARMUP=2           seconds of wrk warm-up before each measured GET run (0..30)
#   BENCH_STARTUP_RUNS=11    start-up samples per mode (1..100)
#   BENCH_TIMEOUT=900        hard limit for the whole run, seconds
#   BENCH_QUIET_WAIT=0       wait up to this many seconds (max 600) for other CPU load to drop first
#
# Needs: wrk (Debian package), python3 (stdlib only), curl not required.
# Only 127.0.0.1 is used.  The binary is copied to a temporary directory first so a rebuild
# during the run does not change what is measured.  Every emulator started is stopped on exit.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="${1:-$repo_root/build/acg-emulator}"

if [[ ! -x "$binary" ]]; then
  echo "bench.sh: no executable emulator at $binary (build it first, or pass its path)" >&2
  exit 2
fi
for tool in wrk python3; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required" >&2; exit 2; }
done

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

timeout --signal=TERM --kill-after=15 "${BENCH_TIMEOUT:-900}" \
  python3 "$repo_root/scripts/bench/bench.py" --binary "$workdir/bench-emulator" --workdir "$workdir" \
    --source-binary "$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")" &
driver_pid=$!
wait "$driver_pid"
