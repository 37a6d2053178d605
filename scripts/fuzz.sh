#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz) for a fixed time each, from its committed seed
# corpus, and prints executions and coverage per target. A crash, leak, timeout or sanitizer
# report fails the run and leaves the input as build-asan/fuzz/<target>/crash-*; add it to
# the corpus and a regression test.
#
#   scripts/fuzz.sh [SECONDS per target, default 60] [target...]
# Builds build-asan (clang, ASan + UBSan + fuzzer coverage) if needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${ACG_ASAN_DIR:-$root/build-asan}"
seconds="${1:-60}"; shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(http_request resource_body resource_id version_name token template policy_rule)

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DACG_BUILD_TESTS=ON -DACG_SANITIZE=ON -DACG_FUZZ=ON >/dev/null
cmake --build "$build" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
printf '%-14s %10s %8s %8s %8s\n' target execs exec/s cov features
for t in "${targets[@]}"; do
  work="$build/fuzz/$t"
  rm -rf "$work" && mkdir -p "$work/corpus"
  cp "$root/tests/fuzz/corpus/$t"/* "$work/corpus/"
  log="$work/log.txt"
  if ! (cd "$work" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 \
          -max_len=16384 -print_final_stats=1 corpus >"$log" 2>&1); then
    echo "fuzz_$t FAILED: see $log" >&2
    grep -E "ERROR|finding|SUMMARY|Test unit written" "$log" | head -20 >&2
    exit 1
  fi
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  printf '%-14s %10s %8s %8s %8s\n' "$t" "$execs" "$rate" "$cov" "$ft"
done
