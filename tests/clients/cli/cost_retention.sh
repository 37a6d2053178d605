#!/usr/bin/env bash
# `acg-emulator cost` and `acg-emulator retention` as real processes against a started
# emulator (port 0, a throwaway data directory), checking what they print and what they do.
#
#   tests/clients/cli/cost_retention.sh [path-to-acg-emulator-binary]
#
# One line per step, PASS <step> or FAIL <step>: <reason>, then "cli: N passed, M failed";
# exits non-zero if M > 0.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EMULATOR=${1:-$SCRIPT_DIR/../../../build/acg-emulator}
[[ -x $EMULATOR ]] || { echo "cli suite: emulator binary not found: $EMULATOR" >&2; exit 2; }
EMULATOR=$(cd "$(dirname "$EMULATOR")" && pwd)/$(basename "$EMULATOR")

TENANT=11111111-1111-1111-1111-111111111111
SUB=22222222-2222-2222-2222-222222222222
WORK=$(mktemp -d "${TMPDIR:-/tmp}/acg-cli-suite.XXXXXX")
PASSED=0 FAILED=0 PID=""
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
finish() { echo "cli: $PASSED passed, $FAILED failed"; [[ $FAILED -eq 0 ]]; exit $?; }

# --- An emulator with a gallery of three versions ---------------------------------------------
"$EMULATOR" --port 0 --data-dir "$WORK/acg-data" --replication-speed instant >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
PID=$!
URL=""
for _ in $(seq 150); do
    URL=$(sed -n 's|^acg-emulator .* listening on \(https://[^ ]*\).*$|\1|p' "$WORK/emulator.out" | head -n 1)
    [[ -n $URL ]] && break
    sleep 0.1
done
[[ -n $URL ]] || { fail "start emulator" "$(cat "$WORK/emulator.err")"; finish; }
CA=$WORK/acg-data/tls/ca.pem
TOKEN=$(curl -sS --cacert "$CA" "$URL/$TENANT/oauth2/v2.0/token" \
    -d "grant_type=client_credentials&client_id=33333333-3333-3333-3333-333333333333&client_secret=acg-emulator-secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') || { fail "token" "no token"; finish; }
arm() { # method path [body]: prints the status code
    curl -sS -o "$WORK/last.json" -w '%{http_code}' --cacert "$CA" -X "$1" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' "$URL$2" ${3:+-d "$3"}
}
RG=/subscriptions/$SUB/resourceGroups/rg
GALLERY=$RG/providers/Microsoft.Compute/galleries/gal
DEF=$GALLERY/images/linux
V='api-version=2023-07-03'
setup_ok=1
[[ $(arm PUT "$RG?api-version=2021-04-01" '{"location":"westus"}') == 201 ]] || setup_ok=0
[[ $(arm PUT "$GALLERY?$V" '{"location":"westus"}') == 201 ]] || setup_ok=0
[[ $(arm PUT "$DEF?$V" '{"location":"westus","properties":{"osType":"Linux","osState":"Generalized","identifier":{"publisher":"p","offer":"o","sku":"s"}}}') == 201 ]] || setup_ok=0
[[ $(arm PUT "$RG/providers/Microsoft.Compute/snapshots/os?api-version=2022-03-02" '{"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":100}}') == 200 ]] || setup_ok=0
for v in 1.0.0 1.1.0 2.0.0; do
    [[ $(arm PUT "$DEF/versions/$v?$V" "{\"location\":\"westus\",\"properties\":{\"storageProfile\":{\"osDiskImage\":{\"source\":{\"id\":\"$RG/providers/Microsoft.Compute/snapshots/os\"}}},\"publishingProfile\":{\"targetRegions\":[{\"name\":\"westus\",\"regionalReplicaCount\":2}]}}}") == 201 ]] || setup_ok=0
done
if [[ $setup_ok == 1 ]]; then pass "setup (gallery, definition, three 100 GiB versions)"; else fail "setup" "$(cat "$WORK/last.json")"; finish; fi
versions() { arm GET "$DEF/versions?$V" >/dev/null; python3 -c 'import json,sys; print(" ".join(sorted(v["name"] for v in json.load(open(sys.argv[1]))["value"])))' "$WORK/last.json"; }

# --- cost ---------------------------------------------------------------------------------------
# 100 GiB x 2 replicas x 0.055 USD (West US) = 11.00 a version, 33.00 in all.
out=$("$EMULATOR" cost --endpoint "$URL" --ca "$CA" --scope "$GALLERY" --keep 1 2>&1); rc=$?
if [[ $rc == 0 && $out == *"TOTAL (3 versions)"*"33.00 USD"* && $out == *"would delete 2 of 3 versions, saving 22.00 USD per month"* ]]; then
    pass "cost prints the table and the saving of --keep 1"
else fail "cost" "rc=$rc $out"; fi
# The default CA: ./acg-data/tls/ca.pem, as the emulator keeps it.
out=$(cd "$WORK" && env -u SSL_CERT_FILE "$EMULATOR" cost --endpoint "$URL" --scope "/subscriptions/$SUB" --json 2>&1); rc=$?
if [[ $rc == 0 ]] && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert abs(d["monthlyCost"]-33)<1e-9, d' "$out" 2>/dev/null; then
    pass "cost --json over a subscription, trusting ./acg-data/tls/ca.pem by default"
else fail "cost --json" "rc=$rc $out"; fi

# --- retention ----------------------------------------------------------------------------------
out=$("$EMULATOR" retention --endpoint "$URL" --ca "$CA" --scope "$DEF" --keep 1 --dry-run 2>&1); rc=$?
if [[ $rc == 0 && $out == *"Dry run: would delete 2 of 3 versions, saving 22.00 USD per month"* && $(versions) == "1.0.0 1.1.0 2.0.0" ]]; then
    pass "retention --dry-run plans and deletes nothing"
else fail "retention --dry-run" "rc=$rc $out"; fi
out=$("$EMULATOR" retention --endpoint "$URL" --ca "$CA" --scope "$GALLERY" --keep 1 --poll-interval-ms 20 2>&1); rc=$?
if [[ $rc == 0 && $out == *"Deleted 2 of 3 versions, saving 22.00 USD per month."* && $(versions) == "2.0.0" ]]; then
    pass "retention --keep 1 deletes the two older versions, keeps the latest"
else fail "retention" "rc=$rc $out; left: $(versions)"; fi
out=$("$EMULATOR" retention --endpoint "$URL" --ca "$CA" --scope "$RG/providers/Microsoft.Compute/galleries/none" --keep 1 2>&1); rc=$?
if [[ $rc == 1 && $out == *"error: ResourceNotFound"* ]]; then pass "retention on a missing gallery exits 1 with the ARM error"
else fail "retention missing gallery" "rc=$rc $out"; fi
out=$("$EMULATOR" retention --endpoint "$URL" --ca "$CA" --scope "$GALLERY" 2>&1); rc=$?
if [[ $rc == 2 && $out == *"--keep N is required"* ]]; then pass "retention without --keep exits 2"
else fail "retention usage" "rc=$rc $out"; fi
out=$("$EMULATOR" cost --help 2>&1); rc=$?
if [[ $rc == 0 && $out == *"acg-emulator retention --scope ID --keep N"* ]]; then pass "cost --help"
else fail "cost --help" "rc=$rc $out"; fi
finish
