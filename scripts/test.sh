#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test through CTest
# (unit, HTTPS integration, and the real az CLI suite).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh" --test
ACG_BUILD_DIR="$root/build" "$root/scripts/build.sh" -DACG_BUILD_TESTS=ON
cd "$root/build"
ctest --output-on-failure --timeout 900
