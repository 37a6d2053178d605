#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test through CTest (unit,
# HTTPS integration, the real clients, the crash matrix), then the hardening runs: the unit and
# integration suites under ASan+UBSan and under TSan, and a short run of every fuzz target.
#   ACG_SKIP_HARDENING=1 scripts/test.sh   only the CTest part (a quicker local loop)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh" --test
ACG_BUILD_DIR="$root/build" "$root/scripts/build.sh" -DACG_BUILD_TESTS=ON
(cd "$root/build" && ctest --output-on-failure --timeout 900)
if [[ "${ACG_SKIP_HARDENING:-0}" != 1 ]]; then
  "$root/scripts/sanitize.sh" all
  "$root/scripts/fuzz.sh" "${ACG_FUZZ_SECONDS:-10}"
fi
