#!/usr/bin/env bash
# Sanitizer builds (README "Hardening"): the unit and integration suites under
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (clang; the same build holds the
#         libFuzzer targets, so scripts/fuzz.sh reuses it)   -> build-asan/
#   tsan  ThreadSanitizer (gcc)                                 -> build-tsan/
# Any sanitizer report fails the run (halt_on_error, -fno-sanitize-recover).
#
#   scripts/sanitize.sh [asan|tsan|all]     (default: all)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
which="${1:-all}"

configure_and_build() {  # <build dir> <cmake args...>
  local dir="$1"; shift
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACG_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$dir" --target unit_tests integration_tests acg-emulator
}

run_suites() {  # <build dir>
  (cd "$1" && ctest --output-on-failure --timeout 900 -R '^(unit_tests|integration_tests)$')
}

if [[ "$which" == asan || "$which" == all ]]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer (clang)"
  CC=clang CXX=clang++ configure_and_build "${ACG_ASAN_DIR:-$root/build-asan}" -DACG_SANITIZE=ON -DACG_FUZZ=ON
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suites "${ACG_ASAN_DIR:-$root/build-asan}"
fi
if [[ "$which" == tsan || "$which" == all ]]; then
  echo "== ThreadSanitizer (gcc)"
  configure_and_build "${ACG_TSAN_DIR:-$root/build-tsan}" -DACG_TSAN=ON
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_suites "${ACG_TSAN_DIR:-$root/build-tsan}"
fi
