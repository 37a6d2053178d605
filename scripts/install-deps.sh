#!/usr/bin/env bash
# Installs the Debian 12 packages acg-emulator needs. Only what is missing is installed.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also the real clients the test suite drives (az, Python SDK,
#                                    Node.js and the JavaScript SDK's npm packages) and the
#                                    dashboard test's browser (Debian's chromium, playwright-core),
#                                    clang for the sanitizer and fuzz builds, wrk for load tests
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
test_deps=false
[[ "${1:-}" == "--test" ]] && test_deps=true

packages=(cmake ninja-build g++ libboost1.81-dev nlohmann-json3-dev libsqlite3-dev libssl-dev libssh-dev pkg-config curl)
if $test_deps; then
  # clang + its runtimes: the sanitizer and libFuzzer builds (scripts/sanitize.sh, fuzz.sh);
  # wrk: the load test (scripts/bench/load.py).
  # packer: the image-pipeline test (tests/clients/packer).
  packages+=(catch2 azure-cli python3-azure chromium clang libclang-rt-14-dev wrk packer)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js is looked for by command, not package: a newer Node from elsewhere (NodeSource, which
# bundles npm) is kept. Debian 12's own nodejs is 18; the Azure JS SDK declares Node >= 20.
if $test_deps; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi

if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=""
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm packages of the JavaScript SDK suite and of the dashboard's browser test, exactly as
# locked, when absent or older than the lock file (npm writes node_modules/.package-lock.json on
# every install).
if $test_deps; then
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  for dir in tests/clients/js tests/ui; do
    js="$root/$dir"
    if [[ ! -f "$js/node_modules/.package-lock.json" || "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]]; then
      [[ "$dir" != tests/clients/js || "$node_major" -ge 20 ]] ||
        echo "warning: Node $(node --version) is older than the Azure JS SDK's minimum (20)" >&2
      echo "installing npm packages (npm ci in $dir)" >&2
      (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  done
fi
