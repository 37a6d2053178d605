#!/usr/bin/env bash
# Cost of the access log: GET of a gallery with wrk (2 threads, 4 connections, 10 s, after a 3 s
# warm-up), once with logging off (metrics are always on) and once with the JSON access log
# written to a file. Prints req/s, p50 and p99 of each, and the log's size.
#
#   scripts/bench/logging.sh [path-to-acg-emulator]      (needs wrk, curl, python3)
set -euo pipefail
BIN=${1:-build/acg-emulator}
PORT=${BENCH_PORT:-18622}
SUB=22222222-2222-2222-2222-222222222222
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

run() { # label, emulator flags...
    local label=$1
    shift
    rm -rf "$WORK/data"
    "$BIN" --port "$PORT" --data-dir "$WORK/data" "$@" >"$WORK/out" 2>"$WORK/err" &
    local pid=$! i
    for ((i = 0; i < 50; i++)); do grep -q "listening" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
    if ! kill -0 "$pid" 2>/dev/null; then echo "logging.sh: the emulator did not start: $(<"$WORK/err")" >&2; exit 1; fi
    local ca=$WORK/data/tls/ca.pem emu=https://127.0.0.1:$PORT token
    token=$(curl -s --cacert "$ca" -X POST "$emu/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token" \
        -d "grant_type=client_credentials&client_id=33333333-3333-3333-3333-333333333333&client_secret=acg-emulator-secret&scope=https://management.azure.com/.default" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
    local auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
    curl -s --cacert "$ca" "${auth[@]}" -X PUT "$emu/subscriptions/$SUB/resourcegroups/rg?api-version=2021-04-01" -d '{"location":"westus"}' >/dev/null
    local gallery="$emu/subscriptions/$SUB/resourcegroups/rg/providers/Microsoft.Compute/galleries/g?api-version=2022-03-03"
    curl -s --cacert "$ca" "${auth[@]}" -X PUT "$gallery" -d '{"location":"westus"}' >/dev/null
    wrk -t2 -c4 -d3s -H "Authorization: Bearer $token" "$gallery" >/dev/null
    echo "== $label"
    wrk -t2 -c4 -d10s --latency -H "Authorization: Bearer $token" "$gallery" | grep -E "Requests/sec|  50%|  99%|Non-2xx"
    if [[ -f $WORK/access.log ]]; then echo "log: $(wc -l <"$WORK/access.log") lines, $(stat -c %s "$WORK/access.log") bytes"; fi
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

run "logging off (metrics always on)"
run "JSON access log to a file" --log-format json --log-file "$WORK/access.log"
