#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and starts the emulator with its defaults
# (HTTPS on https://127.0.0.1:8443, state in ./acg-data). Arguments go to acg-emulator.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
ACG_BUILD_DIR="$root/build" "$root/scripts/build.sh" -DACG_BUILD_TESTS=OFF
exec "$root/build/acg-emulator" "$@"
