#!/usr/bin/env bash
# Installs the Debian 12 packages acg-emulator needs. Only what is missing is installed.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also the real clients the test suite drives (az, Python SDK)
set -euo pipefail

packages=(cmake ninja-build g++ libboost1.81-dev nlohmann-json3-dev libsqlite3-dev libssl-dev curl)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(catch2 azure-cli python3-azure)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ "$(id -u)" -ne 0 ]] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
