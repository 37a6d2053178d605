#!/usr/bin/env bash
# Real Azure CLI (az 2.45) against acg-emulator.
#
#   tests/clients/az/run.sh [path-to-acg-emulator-binary]
#   AZ_SUITE_PHASES="share" tests/clients/az/run.sh ...   (only these phases; publish needs main)
#
# Starts its own emulators on 127.0.0.1 (port 0, throwaway data dirs), uses a throwaway
# AZURE_CONFIG_DIR per emulator and never contacts any other host. Prints one line per step,
#   PASS <step>   or   FAIL <step>: <reason>
# and finally exactly one line "az: N passed, M failed". Exits non-zero if M > 0.
#
# Phases:
#   main    default emulator: cloud setup (discovery + explicit endpoints), login, resource
#           group and gallery workflow, error paths
#   async   emulator with --operation-delay-ms 1500: az must poll Azure-AsyncOperation / Location
#   publish same emulator as main: image definitions (every flag), snapshots, a managed image
#           (az rest), image versions from a managed image and from snapshots (--no-wait + wait),
#           replication status, version updates that PUT without the source, error paths,
#           delete order (versions, definitions, gallery)
#   paging  emulator with --page-size 2: az must follow nextLink
#   deploy  emulator with --replication-speed instant: ARM template deployments (az deployment
#           group validate/create/show/list/wait/export/delete, deployment operations, errors),
#           then the usages list (gallery quotas, az rest) and vm image terms show/accept/cancel
#   share   emulator with --config (a consumer subscription of the same tenant and a service
#           principal that owns it, logged in beside the default one) and instant replication:
#           az sig share add/remove/reset/enable-community, --sharing-groups, sig update of a
#           shared gallery, the consumer's show-shared/list-shared of galleries, definitions and
#           versions (a region added by an update appears there), community galleries
#           (show-community, delete refused until reset), and the refusals (wrong permissions,
#           malformed id, cross-tenant, no publisher information)
#   policy  emulator with instant replication: az policy definition / assignment (built-in
#           Allowed locations denying a version's forbidden target region; tests/clients/az/policy_phase.sh)
#   imagebuilder  default emulator: az identity and az image builder end to end (a run publishing a
#           gallery image version and a managed image; tests/clients/az/imagebuilder_phase.sh)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../../.." && pwd)
EMULATOR=${1:-$REPO_ROOT/build/acg-emulator}
if [[ $EMULATOR != /* ]]; then EMULATOR=$PWD/$EMULATOR; fi
if [[ ! -x $EMULATOR ]]; then
    echo "az suite: emulator binary not found or not executable: $EMULATOR" >&2
    exit 2
fi
if ! command -v az >/dev/null 2>&1; then
    echo "az suite: the Azure CLI (az) is not installed" >&2
    exit 2
fi

TENANT=11111111-1111-1111-1111-111111111111
SUB=22222222-2222-2222-2222-222222222222
SUB_NAME="Emulator Subscription"
CLIENT_ID=33333333-3333-3333-3333-333333333333
SECRET=acg-emulator-secret
AZ_TIMEOUT=90 # seconds; a hung az command fails its step instead of hanging CI

# Keep az quiet and local.
export AZURE_CORE_COLLECT_TELEMETRY=false
export AZURE_CORE_NO_COLOR=1
export AZURE_CORE_SURVEY_MESSAGE=false
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset ARM_CLOUD_METADATA_URL AZURE_CLI_DISABLE_CONNECTION_VERIFICATION || true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/acg-az-suite.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Reporting

PASSED=0
FAILED=0
STEP=""
REASONS=()

one_line() { # squeeze a text into one short line for a FAIL reason
    local s=${1//$'\r'/}
    s=${s//$'\n'/ | }
    s=${s//$'\t'/ }
    ((${#s} > 400)) && s="${s:0:400}..."
    printf '%s' "$s"
}
pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $(one_line "$2")"; FAILED=$((FAILED + 1)); }

begin() { STEP=$1; REASONS=(); }
end() {
    if ((${#REASONS[@]} == 0)); then
        pass "$STEP"
    else
        local joined
        joined=$(printf '%s; ' "${REASONS[@]}")
        fail "$STEP" "${joined%; }"
    fi
}
why() { REASONS+=("$(one_line "$1")"); }

# ---------------------------------------------------------------------------------------------
# Running az: sets RC, OUT (stdout), ERR (stderr), ELAPSED_MS

RC=0 OUT="" ERR="" ELAPSED_MS=0
now_us() { local t=${EPOCHREALTIME//[.,]/}; echo $((10#$t)); }
az_run() {
    local t0 t1
    t0=$(now_us)
    set +e
    timeout "$AZ_TIMEOUT" az "$@" >"$WORK/az.$LANE.out" 2>"$WORK/az.$LANE.err" </dev/null
    RC=$?
    set -e
    t1=$(now_us)
    ELAPSED_MS=$(((t1 - t0) / 1000))
    OUT=$(<"$WORK/az.$LANE.out")
    ERR=$(<"$WORK/az.$LANE.err")
    if ((RC == 124)); then ERR="timed out after ${AZ_TIMEOUT}s. $ERR"; fi
}

expect_rc() { # expected exit code
    if [[ $RC != "$1" ]]; then
        why "az exited $RC (expected $1); stderr: $ERR; stdout: $OUT"
        return 1
    fi
}
expect_out() { # expected stdout (exact), label
    if [[ $OUT != "$1" ]]; then why "${2:-output}: got '$OUT', expected '$1'"; fi
}
expect_in_output() { # substring expected in stdout+stderr
    if [[ "$OUT$ERR" != *"$1"* ]]; then why "output does not contain '$1': $ERR $OUT"; fi
}

# Azure-AsyncOperation/Location polling evidence from an `az --debug` log in $ERR:
# the URL az got in header $1 on the first response and how many times az GET it.
POLL_URL="" POLL_COUNT=0
poll_evidence() {
    local header=$1
    POLL_URL=$(grep -o "'$header': '[^']*'" <<<"$ERR" | head -n 1 | sed "s/^'$header': '//; s/'\$//") || true
    POLL_COUNT=0
    if [[ -n $POLL_URL ]]; then
        POLL_COUNT=$(grep -cF "Request URL: '$POLL_URL'" <<<"$ERR") || true
    fi
}
# Status of the first response to METHOD on a URL containing SUBSTR, from an `az --debug`
# log in $ERR (empty if there is none).
debug_status() { # METHOD SUBSTR
    awk -v m="'$1'" -v sub_="$2" '
        /Request URL: '\''/ { url = $0; meth = "" }
        /Request method: / { meth = $NF }
        /Response status: / { if (index(url, sub_) && meth == m) { print $NF; exit } }
    ' <<<"$ERR"
}
# Body of the first request to METHOD on a URL containing SUBSTR, from an `az --debug` log.
debug_body() { # METHOD SUBSTR
    awk -v m="'$1'" -v sub_="$2" '
        /Request URL: '\''/ { url = $0; meth = ""; want = 0 }
        /Request method: / { meth = $NF }
        want { sub(/^DEBUG: [^ ]*: /, ""); print; exit }
        /Request body:/ { if (index(url, sub_) && meth == m) want = 1 }
    ' <<<"$ERR"
}

expect_async() { # header name; checks polling happened and timing is 1 s < t < 30 s
    poll_evidence "$1"
    if [[ -z $POLL_URL ]]; then
        why "no $1 header in the initial response (az --debug log shows no long-running operation)"
    elif ((POLL_COUNT < 2)); then
        why "az polled the $1 URL $POLL_COUNT time(s), expected >= 2 (at least one in-progress answer)"
    fi
    if ((ELAPSED_MS <= 1000 || ELAPSED_MS >= 30000)); then
        why "took ${ELAPSED_MS} ms, expected between 1000 and 30000 ms"
    fi
}

# ---------------------------------------------------------------------------------------------
# Emulators

EMU_URL="" EMU_CA=""
start_emulator() { # phase-name, extra emulator args...; sets EMU_URL and EMU_CA, returns 1 on failure
    local name=$1
    shift
    local dir=$WORK/$name
    mkdir -p "$dir"
    "$EMULATOR" --port 0 --data-dir "$dir/data" "$@" >"$dir/emulator.out" 2>"$dir/emulator.err" &
    local pid=$!
    PIDS+=("$pid")
    EMU_URL="" EMU_CA="$dir/data/tls/ca.pem"
    local i
    for ((i = 0; i < 150; i++)); do
        EMU_URL=$(sed -n 's|^acg-emulator .* listening on \(https://[^ ]*\).*$|\1|p' "$dir/emulator.out" | head -n 1)
        [[ -n $EMU_URL ]] && break
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if [[ -z $EMU_URL ]]; then
        fail "start emulator ($name)" "no 'listening on https://...' line; stdout: $(<"$dir/emulator.out") stderr: $(<"$dir/emulator.err")"
        return 1
    fi
    EMU_URL=${EMU_URL%/}
    if [[ $EMU_URL != https://127.0.0.1:* ]]; then
        fail "start emulator ($name)" "unexpected URL '$EMU_URL' (expected https://127.0.0.1:PORT)"
        return 1
    fi
    if [[ ! -s $EMU_CA ]]; then
        fail "start emulator ($name)" "CA certificate $EMU_CA missing"
        return 1
    fi
    export AZURE_CONFIG_DIR REQUESTS_CA_BUNDLE
    AZURE_CONFIG_DIR=$(mktemp -d "$dir/azconfig.XXXXXX")
    REQUESTS_CA_BUNDLE=$EMU_CA
}

# The setup a user runs (README): discovery cloud registration, SP login. Used by the
# async and paging phases; the main phase runs the same commands as individual steps.
setup_cli() { # phase-name
    local p=$1
    begin "$p: cloud register + set + login"
    az_run cloud register -n AcgEmulator --endpoint-resource-manager "$EMU_URL" &&
        expect_rc 0 && az_run cloud set -n AcgEmulator && expect_rc 0 &&
        az_run login --service-principal -u "$CLIENT_ID" -p "$SECRET" --tenant "$TENANT" \
            --query "[].id" -o tsv && expect_rc 0 && expect_out "$SUB" "subscriptions"
    end
}

# ---------------------------------------------------------------------------------------------
# Phase 1: main workflow

MAIN_URL="" # set once the main emulator is up; the publish phase reuses it
phase_main() {
    start_emulator main || return 0
    MAIN_URL=$EMU_URL
    local URL=$EMU_URL
    local RG=az-suite-rg MISSING_RG=az-suite-missing-rg
    local G1=AzSuiteGallery1 G2=AzSuiteGallery2

    # --- setup (README sequence: register (discovery), set, login, account show)
    begin "cloud register (discovery)"
    az_run cloud register -n AcgEmulator --endpoint-resource-manager "$URL"; expect_rc 0 || true
    end

    begin "cloud register (explicit endpoints)"
    az_run cloud register -n AcgEmulatorExplicit \
        --endpoint-resource-manager "$URL/" \
        --endpoint-active-directory "$URL/adfs" \
        --endpoint-active-directory-resource-id https://management.core.windows.net/ \
        --endpoint-active-directory-graph-resource-id https://graph.windows.net/ \
        --endpoint-management https://management.core.windows.net/; expect_rc 0 || true
    end

    begin "login with explicit-endpoints cloud"
    az_run cloud set -n AcgEmulatorExplicit && expect_rc 0 &&
        az_run login --service-principal -u "$CLIENT_ID" -p "$SECRET" --tenant "$TENANT" \
            --query "[].[cloudName, id, tenantId]" -o tsv && expect_rc 0 &&
        expect_out "AcgEmulatorExplicit	$SUB	$TENANT" "login"
    end

    begin "login with wrong secret fails (AADSTS7000215)"
    az_run login --service-principal -u "$CLIENT_ID" -p not-the-secret --tenant "$TENANT" &&
        expect_rc 1 && expect_in_output "AADSTS7000215"
    end

    begin "cloud set"
    az_run cloud set -n AcgEmulator; expect_rc 0 || true
    end

    begin "login (service principal)"
    az_run login --service-principal -u "$CLIENT_ID" -p "$SECRET" --tenant "$TENANT" \
        --query "[].[cloudName, id, name, state, tenantId, user.name, user.type]" -o tsv && expect_rc 0 &&
        expect_out "AcgEmulator	$SUB	$SUB_NAME	Enabled	$TENANT	$CLIENT_ID	servicePrincipal" "login"
    end

    begin "account show"
    az_run account show --query "[environmentName, id, name, state, tenantId, homeTenantId, isDefault, user.name, user.type]" -o tsv &&
        expect_rc 0 &&
        expect_out "AcgEmulator
$SUB
$SUB_NAME
Enabled
$TENANT
$TENANT
true
$CLIENT_ID
servicePrincipal" "account"
    end

    # --- resource groups
    begin "group create"
    az_run group create -n "$RG" -l westus --query "[id, name, location, type, properties.provisioningState]" -o tsv &&
        expect_rc 0 &&
        expect_out "/subscriptions/$SUB/resourceGroups/$RG
$RG
westus
Microsoft.Resources/resourceGroups
Succeeded" "group"
    end

    begin "group show"
    az_run group show -n "$RG" --query "[id, name, location, properties.provisioningState]" -o tsv &&
        expect_rc 0 &&
        expect_out "/subscriptions/$SUB/resourceGroups/$RG
$RG
westus
Succeeded" "group"
    end

    begin "group exists"
    az_run group exists -n "$RG" && expect_rc 0 && expect_out "true"
    end

    begin "group exists (missing group)"
    az_run group exists -n "$MISSING_RG" && expect_rc 0 && expect_out "false"
    end

    begin "group update --tags"
    az_run group update -n "$RG" --tags env=test team=acg --query "[name, location, tags.env, tags.team]" -o tsv &&
        expect_rc 0 && expect_out "$RG
westus
test
acg" "group"
    end

    begin "group list"
    az_run group list --query "[?name=='$RG'].[name, location, tags.env, tags.team]" -o tsv &&
        expect_rc 0 && expect_out "$RG	westus	test	acg" "group in list"
    end

    begin "group create with a bad location fails (LocationNotAvailableForResourceGroup)"
    az_run group create -n az-suite-badloc-rg -l nowhere-land &&
        expect_rc 1 && expect_in_output "LocationNotAvailableForResourceGroup"
    end

    # --- galleries
    begin "sig create"
    az_run sig create -g "$RG" -r "$G1" --description "az suite gallery" --tags purpose=az-suite \
        --query "[name, location, description, tags.purpose, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$G1
westus
az suite gallery
az-suite
Succeeded" "gallery"
    end

    begin "sig show"
    az_run sig show -g "$RG" -r "$G1" \
        --query "[id, name, type, location, description, identifier.uniqueName, provisioningState, resourceGroup, tags.purpose]" -o tsv &&
        expect_rc 0 &&
        expect_out "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/galleries/$G1
$G1
Microsoft.Compute/galleries
westus
az suite gallery
$SUB-${G1^^}
Succeeded
$RG
az-suite" "gallery"
    end

    begin "sig list -g"
    az_run sig list -g "$RG" --query "[].[name, location, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$G1	westus	Succeeded" "galleries"
    end

    begin "sig list (subscription)"
    az_run sig list --query "[].[name, resourceGroup]" -o tsv &&
        expect_rc 0 && expect_out "$G1	$RG" "galleries"
    end

    begin "sig update --set description"
    az_run sig update -g "$RG" -r "$G1" --set "description=updated by az suite" \
        --query "[name, location, description, tags.purpose, identifier.uniqueName, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$G1
westus
updated by az suite
az-suite
$SUB-${G1^^}
Succeeded" "gallery"
    end

    begin "sig create with an invalid name fails (InvalidParameter)"
    az_run sig create -g "$RG" -r bad-name && expect_rc 1 && expect_in_output "InvalidParameter"
    end

    begin "sig create in a missing group fails (ResourceGroupNotFound)"
    az_run sig create -g "$MISSING_RG" -r "$G2" && expect_rc 3 && expect_in_output "ResourceGroupNotFound"
    end

    begin "sig delete"
    az_run sig delete -g "$RG" -r "$G1" && expect_rc 0 && expect_out "" "output"
    end

    begin "sig show after delete fails (ResourceNotFound)"
    az_run sig show -g "$RG" -r "$G1" && expect_rc 3 && expect_in_output "ResourceNotFound"
    end

    # --- group delete cascades to galleries
    begin "sig create (gallery to be removed with its group)"
    az_run sig create -g "$RG" -r "$G2" --query provisioningState -o tsv &&
        expect_rc 0 && expect_out "Succeeded" "provisioningState"
    end

    begin "group delete --yes"
    az_run group delete -n "$RG" --yes; expect_rc 0 || true
    end

    begin "group exists after delete"
    az_run group exists -n "$RG" && expect_rc 0 && expect_out "false"
    end

    begin "galleries of the deleted group are gone"
    az_run sig list --query "length(@)" -o tsv && expect_rc 0 && expect_out "0" "gallery count (subscription)"
    end

    begin "group and gallery created again"
    az_run group create -n "$RG" -l westus --query properties.provisioningState -o tsv &&
        expect_rc 0 && expect_out "Succeeded" "group provisioningState" &&
        az_run sig create -g "$RG" -r "$G2" --query "[name, identifier.uniqueName, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$G2
$SUB-${G2^^}
Succeeded" "gallery"
    end
}

# ---------------------------------------------------------------------------------------------
# Phase 2: publishing images (same emulator and az config as the main phase)

phase_publish() {
    [[ -n $MAIN_URL ]] || return 0
    local RG=az-publish-rg G=AzPublishGallery DG=AzPubGeneralized DS=AzPubSpecialized
    local RGID="/subscriptions/$SUB/resourceGroups/az-publish-rg"
    local CID="$RGID/providers/Microsoft.Compute"
    local GID="$CID/galleries/$G"
    local SNAP=az-pub-snap DSNAP=az-pub-datasnap IMG=az-pub-image
    # "name/count/storageAccountType" per target region, space separated
    local REGIONS="join(' ', publishingProfile.targetRegions[].join('/', [name, to_string(regionalReplicaCount), storageAccountType]))"

    begin "publish: group + gallery create"
    az_run group create -n "$RG" -l westus --query properties.provisioningState -o tsv &&
        expect_rc 0 && expect_out "Succeeded" "group provisioningState" &&
        az_run sig create -g "$RG" -r "$G" --query "[name, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$G
Succeeded" "gallery"
    end

    # --- image definitions
    local DEF_QUERY="[id, type, location, osType, osState, hyperVGeneration, identifier.publisher, identifier.offer, identifier.sku, join(',', features[].join('=', [name, value])), endOfLifeDate, purchasePlan.name, purchasePlan.product, purchasePlan.publisher, provisioningState]"
    local DEF_EXPECTED="$GID/images/$DG
Microsoft.Compute/galleries/images
westus
Linux
Generalized
V2
P
O
S
SecurityType=TrustedLaunch,IsAcceleratedNetworkSupported=true
2030-01-01T12:59:59+00:00
n
p
pp
Succeeded"
    begin "publish: image-definition create (every flag)"
    az_run sig image-definition create -g "$RG" -r "$G" -i "$DG" --os-type Linux --os-state Generalized \
        --hyper-v-generation V2 --features "SecurityType=TrustedLaunch IsAcceleratedNetworkSupported=true" \
        -p P -f O -s S --end-of-life-date 2030-01-01 --plan-name n --plan-product p --plan-publisher pp \
        --query "$DEF_QUERY" -o tsv && expect_rc 0 && expect_out "$DEF_EXPECTED" "definition"
    end

    begin "publish: image-definition show"
    az_run sig image-definition show -g "$RG" -r "$G" -i "$DG" --query "$DEF_QUERY" -o tsv &&
        expect_rc 0 && expect_out "$DEF_EXPECTED" "definition"
    end

    begin "publish: image-definition create --os-state specialized --hyper-v-generation v2 (lowercase, sent raw)"
    az_run sig image-definition create -g "$RG" -r "$G" -i "$DS" --os-type Linux --os-state specialized \
        --hyper-v-generation v2 -p P -f O -s S-specialized --debug \
        --query "[name, osState, hyperVGeneration, identifier.sku, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$DS
Specialized
V2
S-specialized
Succeeded" "definition"
    local body
    body=$(debug_body PUT "/images/$DS?")
    [[ $body == *'"osState": "specialized"'* && $body == *'"hyperVGeneration": "v2"'* ]] ||
        why "az did not send the enums lowercase (the step tests nothing): PUT body $body"
    end

    begin "publish: image-definition list"
    az_run sig image-definition list -g "$RG" -r "$G" --query "sort_by(@, &name)[].[name, osState, hyperVGeneration]" -o tsv &&
        expect_rc 0 && expect_out "$DG	Generalized	V2
$DS	Specialized	V2" "definitions"
    end

    # --- sources: snapshots (Disk RP: PUT must answer 200/202) and a managed image (az rest)
    begin "publish: snapshot create x2 (PUT answered 200/202, az accepted it)"
    az_run snapshot create -g "$RG" -n "$SNAP" --size-gb 30 --hyper-v-generation V2 --debug \
        --query "[id, diskSizeGb, hyperVGeneration, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$CID/snapshots/$SNAP
30
V2
Succeeded" "OS snapshot"
    local st
    st=$(debug_status PUT "/snapshots/$SNAP?")
    [[ $st == 200 || $st == 202 ]] || why "snapshot PUT answered '$st', expected 200 or 202"
    az_run snapshot create -g "$RG" -n "$DSNAP" --size-gb 10 --query "[diskSizeGb, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "10
Succeeded" "data snapshot"
    end

    begin "publish: managed image via az rest PUT (osDisk from the snapshot)"
    az_run rest --method put --url "$CID/images/$IMG?api-version=2022-08-01" --body "{\"location\": \"westus\",
        \"properties\": {\"hyperVGeneration\": \"V2\", \"storageProfile\": {\"osDisk\": {\"osType\": \"Linux\",
        \"osState\": \"Generalized\", \"snapshot\": {\"id\": \"$CID/snapshots/$SNAP\"}}}}}" \
        --query "[id, type, properties.hyperVGeneration, properties.storageProfile.osDisk.osState, properties.storageProfile.osDisk.snapshot.id, properties.provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$CID/images/$IMG
Microsoft.Compute/images
V2
Generalized
$CID/snapshots/$SNAP
Succeeded" "image"
    end

    # --- image versions
    local MI_VERSION_QUERY="[id, provisioningState, publishingProfile.replicaCount, publishingProfile.endOfLifeDate, $REGIONS, storageProfile.source.id, storageProfile.osDiskImage.sizeInGb, replicationStatus]"
    begin "publish: image-version create --managed-image --target-regions westus=2 eastus=1=standard_zrs"
    az_run sig image-version create -g "$RG" -r "$G" -i "$DG" -e 1.0.0 --managed-image "$CID/images/$IMG" \
        --target-regions westus=2 eastus=1=standard_zrs --replica-count 1 --end-of-life-date 2031-01-01 \
        --query "$MI_VERSION_QUERY" -o tsv &&
        expect_rc 0 && expect_out "$GID/images/$DG/versions/1.0.0
Succeeded
1
2031-01-01T12:59:59+00:00
West US/2/Standard_LRS East US/1/Standard_ZRS
$CID/images/$IMG
30
None" "version"
    end

    begin "publish: image-version create --os-snapshot --data-snapshots --no-wait"
    az_run sig image-version create -g "$RG" -r "$G" -i "$DS" -e 1.0.0 --os-snapshot "$SNAP" \
        --data-snapshots "$DSNAP" --data-snapshot-luns 1 --target-regions westus eastus=1 --no-wait &&
        expect_rc 0 && expect_out "" "output"
    end

    begin "publish: image-version wait --created, then Succeeded"
    az_run sig image-version wait --created -g "$RG" -r "$G" -i "$DS" -e 1.0.0 --interval 1 &&
        expect_rc 0 &&
        az_run sig image-version show -g "$RG" -r "$G" -i "$DS" -e 1.0.0 \
            --query "[provisioningState, $REGIONS, storageProfile.osDiskImage.source.id, storageProfile.osDiskImage.sizeInGb, join(',', storageProfile.dataDiskImages[].join('/', [to_string(lun), to_string(sizeInGb), source.id]))]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
West US/1/Standard_LRS East US/1/Standard_LRS
$CID/snapshots/$SNAP
30
1/10/$CID/snapshots/$DSNAP" "version"
    end

    begin "publish: image-version show --expand ReplicationStatus"
    az_run sig image-version show -g "$RG" -r "$G" -i "$DS" -e 1.0.0 --expand ReplicationStatus \
        --query "[replicationStatus.aggregatedState, join(' ', replicationStatus.summary[].join('/', [region, state, to_string(progress)]))]" -o tsv &&
        expect_rc 0 && expect_out "Completed
West US/Completed/100 East US/Completed/100" "replicationStatus"
    end

    begin "publish: image-version list"
    az_run sig image-version list -g "$RG" -r "$G" -i "$DG" --query "[].[name, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "1.0.0	Succeeded" "versions"
    end

    begin "publish: image-version update --add publishingProfile.targetRegions (PUT without source)"
    az_run sig image-version update -g "$RG" -r "$G" -i "$DS" -e 1.0.0 --debug \
        --add publishingProfile.targetRegions name=westeurope regionalReplicaCount=1 \
        --query "[provisioningState, $REGIONS, storageProfile.osDiskImage.source.id, join(',', storageProfile.dataDiskImages[].join('/', [to_string(lun), source.id]))]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
West US/1/Standard_LRS East US/1/Standard_LRS West Europe/1/Standard_LRS
$CID/snapshots/$SNAP
1/$CID/snapshots/$DSNAP" "version"
    body=$(debug_body PUT "/versions/1.0.0?")
    [[ -n $body && $body != *'"source"'* ]] ||
        why "az's update PUT was expected to carry no source (the step tests nothing): PUT body $body"
    end

    begin "publish: image-version update --target-regions westus=1 eastus=2 westus2=1=premium_lrs --replica-count 2"
    az_run sig image-version update -g "$RG" -r "$G" -i "$DG" -e 1.0.0 \
        --target-regions westus=1 eastus=2 westus2=1=premium_lrs --replica-count 2 \
        --query "[provisioningState, publishingProfile.replicaCount, $REGIONS, storageProfile.source.id, publishingProfile.endOfLifeDate]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
2
West US/1/Standard_LRS East US/2/Standard_LRS West US 2/1/Premium_LRS
$CID/images/$IMG
2031-01-01T12:59:59+00:00" "version"
    end

    # --- error paths
    begin "publish: image-version create with a bad name '1.0' fails (InvalidParameter)"
    az_run sig image-version create -g "$RG" -r "$G" -i "$DS" -e 1.0 --os-snapshot "$SNAP" &&
        expect_rc 1 && expect_in_output "(InvalidParameter)" && expect_in_output "Target: galleryImageVersionName"
    end

    begin "publish: image-version create in a missing definition fails (ParentResourceNotFound)"
    az_run sig image-version create -g "$RG" -r "$G" -i AzPubMissing -e 1.0.0 --os-snapshot "$SNAP" &&
        expect_rc 3 && expect_in_output "(ParentResourceNotFound)"
    end

    begin "publish: image-version create changing the source fails (PropertyChangeNotAllowed)"
    az_run sig image-version create -g "$RG" -r "$G" -i "$DG" -e 1.0.0 --os-snapshot "$SNAP" &&
        expect_rc 1 && expect_in_output "(PropertyChangeNotAllowed)"
    end

    begin "publish: image-definition delete with versions fails (CannotDeleteResource)"
    az_run sig image-definition delete -g "$RG" -r "$G" -i "$DG" &&
        expect_rc 1 && expect_in_output "(CannotDeleteResource)"
    end

    begin "publish: sig delete with definitions fails (CannotDeleteResource)"
    az_run sig delete -g "$RG" -r "$G" && expect_rc 1 && expect_in_output "(CannotDeleteResource)"
    end

    # --- teardown in order
    begin "publish: image-version delete x2, show fails (ResourceNotFound)"
    az_run sig image-version delete -g "$RG" -r "$G" -i "$DG" -e 1.0.0 && expect_rc 0 && expect_out "" "output" &&
        az_run sig image-version delete -g "$RG" -r "$G" -i "$DS" -e 1.0.0 && expect_rc 0 && expect_out "" "output" &&
        az_run sig image-version show -g "$RG" -r "$G" -i "$DS" -e 1.0.0 &&
        expect_rc 3 && expect_in_output "(ResourceNotFound)"
    end

    begin "publish: image-definition delete x2, show fails (ResourceNotFound)"
    az_run sig image-definition delete -g "$RG" -r "$G" -i "$DG" && expect_rc 0 && expect_out "" "output" &&
        az_run sig image-definition delete -g "$RG" -r "$G" -i "$DS" && expect_rc 0 && expect_out "" "output" &&
        az_run sig image-definition show -g "$RG" -r "$G" -i "$DG" &&
        expect_rc 3 && expect_in_output "(ResourceNotFound)"
    end

    begin "publish: sig delete, show fails (ResourceNotFound)"
    az_run sig delete -g "$RG" -r "$G" && expect_rc 0 && expect_out "" "output" &&
        az_run sig show -g "$RG" -r "$G" && expect_rc 3 && expect_in_output "(ResourceNotFound)"
    end
}

# ---------------------------------------------------------------------------------------------
# Phase 3: long-running operations (--operation-delay-ms 1500)

phase_async() {
    start_emulator async --operation-delay-ms 1500 || return 0
    local RG=az-async-rg G=AzAsyncGallery
    setup_cli async

    begin "async: group create"
    az_run group create -n "$RG" -l westus --query "[name, properties.provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$RG
Succeeded" "group"
    end

    begin "async: sig create polls Azure-AsyncOperation"
    az_run sig create -g "$RG" -r "$G" --debug --query "[name, identifier.uniqueName, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$G
$SUB-${G^^}
Succeeded" "gallery" && expect_async Azure-AsyncOperation
    end

    begin "async: sig delete polls Azure-AsyncOperation"
    az_run sig delete -g "$RG" -r "$G" --debug && expect_rc 0 && expect_out "" "output" &&
        expect_async Azure-AsyncOperation
    az_run sig list -g "$RG" --query "length(@)" -o tsv &&
        expect_rc 0 && expect_out "0" "galleries left after delete"
    end

    begin "async: group delete polls Location"
    az_run group delete -n "$RG" --yes --debug && expect_rc 0 && expect_async Location
    az_run group exists -n "$RG" && expect_rc 0 && expect_out "false" "group exists after delete"
    end
}

# ---------------------------------------------------------------------------------------------
# Phase 4: paging (--page-size 2)

phase_paging() {
    start_emulator paging --page-size 2 || return 0
    local RG=az-paging-rg i
    setup_cli paging

    begin "paging: group create + 5 sig create"
    az_run group create -n "$RG" -l westus -o none; expect_rc 0 || true
    for i in 1 2 3 4 5; do
        az_run sig create -g "$RG" -r "AzPagingGallery$i" --query provisioningState -o tsv &&
            expect_rc 0 && expect_out "Succeeded" "gallery $i provisioningState"
    done
    end

    begin "paging: sig list -g follows nextLink"
    az_run sig list -g "$RG" --debug --query "sort([].name)" -o tsv &&
        expect_rc 0 && expect_out "AzPagingGallery1
AzPagingGallery2
AzPagingGallery3
AzPagingGallery4
AzPagingGallery5" "galleries"
    local pages
    pages=$(grep -c "Request URL: '.*/galleries?" <<<"$ERR") || true
    ((pages >= 3)) || why "az fetched $pages page(s), expected >= 3 with --page-size 2"
    end

    begin "paging: sig list (subscription) follows nextLink"
    az_run sig list --debug --query "length(@)" -o tsv && expect_rc 0 && expect_out "5" "gallery count"
    pages=$(grep -c "Request URL: '.*/galleries?" <<<"$ERR") || true
    ((pages >= 3)) || why "az fetched $pages page(s), expected >= 3 with --page-size 2"
    end
}

# ---------------------------------------------------------------------------------------------
# Phase 5: sharing (--config: a consumer subscription and its owner; instant replication)

CONSUMER_SUB=44444444-4444-4444-4444-444444444444
CONSUMER_SUB_NAME="Consumer Subscription"
CONSUMER_ID=55555555-5555-5555-5555-555555555555
CONSUMER_SECRET=acg-consumer-secret
OTHER_TENANT=aaaaaaaa-0000-0000-0000-000000000001 # a second tenant: sharing with it is cross-tenant

phase_share() {
    local config=$WORK/share-config.json
    cat >"$config" <<JSON
{"tenants": [{"id": "$OTHER_TENANT", "displayName": "Other Tenant"}],
 "subscriptions": [{"id": "$CONSUMER_SUB", "tenantId": "$TENANT", "displayName": "$CONSUMER_SUB_NAME"}],
 "principals": [{"clientId": "$CONSUMER_ID", "objectId": "66666666-6666-6666-6666-666666666666",
                 "secret": "$CONSUMER_SECRET", "tenantId": "$TENANT"}],
 "roleAssignments": [{"clientId": "$CONSUMER_ID", "role": "Owner", "scope": "/subscriptions/$CONSUMER_SUB"}]}
JSON
    start_emulator share --config "$config" --replication-speed instant || return 0
    local RG=az-share-rg G=AzShareGallery PG=AzSharePrivate CG=AzShareCommunity BG=AzShareBare D=AzShareLinux
    local SNAP=az-share-snap U="$SUB-${G^^}" L=westus
    local CID="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute"
    local AS_CONSUMER=(--subscription "$CONSUMER_SUB")
    local SHARE_GROUPS="join(' ', groups[].join(':', [type, join(',', ids)]))"
    local PROFILE_GROUPS="join(' ', sharingProfile.groups[].join(':', [type, join(',', ids)]))"
    local REGIONS="join(' ', publishingProfile.targetRegions[].name)"
    local body

    # --- two principals in one az config: the owner (default) and the consumer
    setup_cli share

    begin "share: consumer login (second service principal, owns the consumer subscription)"
    az_run login --service-principal -u "$CONSUMER_ID" -p "$CONSUMER_SECRET" --tenant "$TENANT" \
        --query "[].[id, name, user.name]" -o tsv && expect_rc 0 &&
        expect_out "$CONSUMER_SUB	$CONSUMER_SUB_NAME	$CONSUMER_ID" "subscriptions" &&
        az_run account set -s "$SUB" && expect_rc 0 &&
        az_run account list --query "sort_by(@, &id)[].[id, user.name, isDefault]" -o tsv && expect_rc 0 &&
        expect_out "$SUB	$CLIENT_ID	True
$CONSUMER_SUB	$CONSUMER_ID	False" "accounts"
    end

    # --- the owner publishes in a Groups gallery
    begin "share: group + sig create --permissions Groups"
    az_run group create -n "$RG" -l "$L" --query properties.provisioningState -o tsv &&
        expect_rc 0 && expect_out "Succeeded" "group provisioningState" &&
        az_run sig create -g "$RG" -r "$G" --permissions Groups \
            --query "[name, identifier.uniqueName, sharingProfile.permissions, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "$G
$U
Groups
Succeeded" "gallery"
    end

    begin "share: image-definition, snapshot, image-version 1.0.0 (westus, eastus)"
    az_run sig image-definition create -g "$RG" -r "$G" -i "$D" --os-type Linux -p acg -f share -s 22_04 \
        --query provisioningState -o tsv && expect_rc 0 && expect_out "Succeeded" "definition provisioningState" &&
        az_run snapshot create -g "$RG" -n "$SNAP" --size-gb 30 --query provisioningState -o tsv &&
        expect_rc 0 && expect_out "Succeeded" "snapshot provisioningState" &&
        az_run sig image-version create -g "$RG" -r "$G" -i "$D" -e 1.0.0 --os-snapshot "$SNAP" \
            --target-regions westus eastus --query "[provisioningState, $REGIONS]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
West US East US" "version"
    end

    begin "share: before sharing the consumer sees nothing (list-shared empty, show-shared ResourceNotFound)"
    az_run sig list-shared --location "$L" "${AS_CONSUMER[@]}" --query "length(@)" -o tsv &&
        expect_rc 0 && expect_out "0" "shared galleries" &&
        az_run sig show-shared --location "$L" --gallery-unique-name "$U" "${AS_CONSUMER[@]}" &&
        expect_rc 3 && expect_in_output "(ResourceNotFound)"
    end

    # --- share add / show / update
    begin "share: share add --subscription-ids --tenant-ids (POST 2022-03-03) prints the SharingUpdate"
    az_run sig share add -g "$RG" -r "$G" --subscription-ids "$CONSUMER_SUB" --tenant-ids "$TENANT" --debug \
        --query "[operationType, $SHARE_GROUPS]" -o tsv && expect_rc 0 &&
        expect_out "Add
Subscriptions:$CONSUMER_SUB AADTenants:$TENANT" "SharingUpdate"
    grep -qF "Request URL: '$EMU_URL$CID/galleries/$G/share?api-version=2022-03-03'" <<<"$ERR" ||
        why "az did not POST .../galleries/$G/share?api-version=2022-03-03"
    body=$(debug_body POST "/galleries/$G/share?")
    [[ $body == *'"operationType": "Add"'* && $body == *"\"ids\": [\"$CONSUMER_SUB\"]"* ]] ||
        why "unexpected share POST body: $body"
    end

    begin "share: sig show --sharing-groups lists the groups, a plain show does not, --select Permissions does"
    az_run sig show -g "$RG" -r "$G" --sharing-groups \
        --query "[sharingProfile.permissions, $PROFILE_GROUPS, sharingStatus.aggregatedState]" -o tsv &&
        expect_rc 0 && expect_out "Groups
Subscriptions:$CONSUMER_SUB AADTenants:$TENANT
Succeeded" "--sharing-groups" &&
        az_run sig show -g "$RG" -r "$G" --query "[sharingProfile.permissions, sharingProfile.groups]" -o tsv &&
        expect_rc 0 && expect_out "Groups
None" "plain show" &&
        az_run sig show -g "$RG" -r "$G" --select Permissions --query "$PROFILE_GROUPS" -o tsv &&
        expect_rc 0 && expect_out "Subscriptions:$CONSUMER_SUB AADTenants:$TENANT" "--select Permissions"
    end

    begin "share: sig update --set description --set tags of a shared gallery keeps its groups"
    az_run sig update -g "$RG" -r "$G" --set "description=shared by az suite" --set tags.shared=yes \
        --query "[description, tags.shared, sharingProfile.permissions]" -o tsv &&
        expect_rc 0 && expect_out "shared by az suite
yes
Groups" "gallery" &&
        az_run sig show -g "$RG" -r "$G" --sharing-groups --query "[description, tags.shared, $PROFILE_GROUPS]" -o tsv &&
        expect_rc 0 && expect_out "shared by az suite
yes
Subscriptions:$CONSUMER_SUB AADTenants:$TENANT" "gallery after update"
    end

    # --- the consumer reads through sharedGalleries (show-shared 2022-01-03, list-shared 2022-03-03)
    begin "share: consumer sig list-shared, --shared-to tenant, show-shared"
    az_run sig list-shared --location "$L" "${AS_CONSUMER[@]}" --query "[].[name, location, uniqueId]" -o tsv &&
        expect_rc 0 && expect_out "$U	$L	/SharedGalleries/$U" "list-shared" &&
        az_run sig list-shared --location "$L" --shared-to tenant "${AS_CONSUMER[@]}" --query "[].name" -o tsv &&
        expect_rc 0 && expect_out "$U" "list-shared --shared-to tenant" &&
        az_run sig show-shared --location "$L" --gallery-unique-name "$U" "${AS_CONSUMER[@]}" \
            --query "[name, location, uniqueId]" -o tsv &&
        expect_rc 0 && expect_out "$U
$L
/SharedGalleries/$U" "show-shared"
    end

    begin "share: consumer sig image-definition list-shared, show-shared"
    local DEF_Q="name, osType, osState, hyperVGeneration, identifier.publisher, identifier.offer, identifier.sku, uniqueId"
    az_run sig image-definition list-shared --location "$L" --gallery-unique-name "$U" "${AS_CONSUMER[@]}" \
        --query "[].[$DEF_Q]" -o tsv &&
        expect_rc 0 && expect_out "$D	Linux	Generalized	V1	acg	share	22_04	/SharedGalleries/$U/Images/$D" "list-shared" &&
        az_run sig image-definition show-shared --location "$L" --gallery-unique-name "$U" -i "$D" "${AS_CONSUMER[@]}" \
            --query "[$DEF_Q]" -o tsv &&
        expect_rc 0 && expect_out "$D
Linux
Generalized
V1
acg
share
22_04
/SharedGalleries/$U/Images/$D" "show-shared"
    end

    # (az's tsv prints a bool alone on its row as "false", inside a row of several as "False".)
    begin "share: consumer sig image-version list-shared, show-shared (eastus), not in westus2"
    local VER_Q="name, location, storageProfile.osDiskImage.diskSizeGb, excludeFromLatest, uniqueId"
    az_run sig image-version list-shared --location "$L" --gallery-unique-name "$U" -i "$D" "${AS_CONSUMER[@]}" \
        --query "[].[$VER_Q]" -o tsv &&
        expect_rc 0 && expect_out "1.0.0	$L	30	False	/SharedGalleries/$U/Images/$D/Versions/1.0.0" "list-shared" &&
        az_run sig image-version show-shared --location eastus --gallery-unique-name "$U" -i "$D" -e 1.0.0 \
            "${AS_CONSUMER[@]}" --query "[$VER_Q]" -o tsv &&
        expect_rc 0 && expect_out "1.0.0
eastus
30
false
/SharedGalleries/$U/Images/$D/Versions/1.0.0" "show-shared" &&
        az_run sig image-version show-shared --location westus2 --gallery-unique-name "$U" -i "$D" -e 1.0.0 \
            "${AS_CONSUMER[@]}" && expect_rc 3 && expect_in_output "(ResourceNotFound)"
    end

    begin "share: image-version update --add targetRegions westus2, the consumer sees it there"
    az_run sig image-version update -g "$RG" -r "$G" -i "$D" -e 1.0.0 \
        --add publishingProfile.targetRegions name=westus2 regionalReplicaCount=1 \
        --query "[provisioningState, $REGIONS]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
West US East US West US 2" "version" &&
        az_run sig image-version show-shared --location westus2 --gallery-unique-name "$U" -i "$D" -e 1.0.0 \
            "${AS_CONSUMER[@]}" --query "[name, location, uniqueId]" -o tsv &&
        expect_rc 0 && expect_out "1.0.0
westus2
/SharedGalleries/$U/Images/$D/Versions/1.0.0" "show-shared in westus2"
    end

    # --- remove and reset
    begin "share: share remove --tenant-ids, --shared-to tenant no longer lists the gallery"
    az_run sig share remove -g "$RG" -r "$G" --tenant-ids "$TENANT" --query "[operationType, $SHARE_GROUPS]" -o tsv &&
        expect_rc 0 && expect_out "Remove
AADTenants:$TENANT" "SharingUpdate" &&
        az_run sig list-shared --location "$L" --shared-to tenant "${AS_CONSUMER[@]}" --query "length(@)" -o tsv &&
        expect_rc 0 && expect_out "0" "list-shared --shared-to tenant" &&
        az_run sig list-shared --location "$L" "${AS_CONSUMER[@]}" --query "[].name" -o tsv &&
        expect_rc 0 && expect_out "$U" "list-shared (still shared with the subscription)"
    end

    begin "share: share remove --subscription-ids, the consumer loses gallery and versions"
    az_run sig share remove -g "$RG" -r "$G" --subscription-ids "$CONSUMER_SUB" --query "[operationType, $SHARE_GROUPS]" -o tsv &&
        expect_rc 0 && expect_out "Remove
Subscriptions:$CONSUMER_SUB" "SharingUpdate" &&
        az_run sig show -g "$RG" -r "$G" --sharing-groups --query "[sharingProfile.permissions, sharingProfile.groups]" -o tsv &&
        expect_rc 0 && expect_out "Groups
None" "groups" &&
        az_run sig list-shared --location "$L" "${AS_CONSUMER[@]}" --query "length(@)" -o tsv &&
        expect_rc 0 && expect_out "0" "list-shared" &&
        az_run sig image-version show-shared --location "$L" --gallery-unique-name "$U" -i "$D" -e 1.0.0 \
            "${AS_CONSUMER[@]}" && expect_rc 3 && expect_in_output "(ResourceNotFound)"
    end

    begin "share: share reset clears the groups (body {operationType: Reset})"
    az_run sig share add -g "$RG" -r "$G" --subscription-ids "$CONSUMER_SUB" -o none && expect_rc 0 &&
        az_run sig share reset -g "$RG" -r "$G" --debug --query "[operationType, groups]" -o tsv &&
        expect_rc 0 && expect_out "Reset
None" "SharingUpdate"
    body=$(debug_body POST "/galleries/$G/share?")
    [[ $body == '{"operationType": "Reset"}' ]] || why "unexpected reset POST body: $body"
    az_run sig show -g "$RG" -r "$G" --sharing-groups --query "sharingProfile.groups" -o tsv &&
        expect_rc 0 && expect_out "" "groups after reset" &&
        az_run sig list-shared --location "$L" "${AS_CONSUMER[@]}" --query "length(@)" -o tsv &&
        expect_rc 0 && expect_out "0" "list-shared after reset"
    end

    # --- refusals
    begin "share: share add on a Private gallery fails (OperationNotAllowed)"
    az_run sig create -g "$RG" -r "$PG" --query "[name, provisioningState]" -o tsv && expect_rc 0 &&
        expect_out "$PG
Succeeded" "gallery" &&
        az_run sig share add -g "$RG" -r "$PG" --subscription-ids "$CONSUMER_SUB" &&
        expect_rc 1 && expect_in_output "(OperationNotAllowed)" && expect_in_output "permissions is 'Private'"
    end

    begin "share: share add with a malformed subscription id fails (InvalidParameter)"
    az_run sig share add -g "$RG" -r "$G" --subscription-ids not-a-subscription-id &&
        expect_rc 1 && expect_in_output "(InvalidParameter)" && expect_in_output "Target: groups[0].ids"
    end

    begin "share: share add --tenant-ids of another tenant fails (CrossTenantSharingNotSupported)"
    az_run sig share add -g "$RG" -r "$G" --tenant-ids "$OTHER_TENANT" &&
        expect_rc 1 && expect_in_output "(CrossTenantSharingNotSupported)" && expect_in_output "Target: groups"
    end

    begin "share: share enable-community on a Groups gallery fails (OperationNotAllowed)"
    az_run sig share enable-community -g "$RG" -r "$G" &&
        expect_rc 1 && expect_in_output "(OperationNotAllowed)" && expect_in_output "needs 'Community'"
    end

    # --- community galleries
    begin "share: sig create --permissions Community without publisher info is refused by az itself"
    az_run sig create -g "$RG" -r "$BG" --permissions Community &&
        expect_rc 1 && expect_in_output "--publisher-uri, --publisher-email, --eula, --public-name-prefix"
    end

    begin "share: share enable-community without publisher info fails (InvalidParameter); the gallery deletes"
    az_run rest --method put --url "$CID/galleries/$BG?api-version=2022-03-03" \
        --body '{"location": "westus", "properties": {"sharingProfile": {"permissions": "Community"}}}' \
        --query "[properties.sharingProfile.permissions, properties.sharingProfile.communityGalleryInfo]" -o tsv &&
        expect_rc 0 && expect_out "Community
None" "gallery (az rest)" &&
        az_run sig share enable-community -g "$RG" -r "$BG" &&
        expect_rc 1 && expect_in_output "(InvalidParameter)" &&
        expect_in_output "Target: sharingProfile.communityGalleryInfo.publisherUri" &&
        az_run sig delete -g "$RG" -r "$BG" && expect_rc 0 && expect_out "" "delete output"
    end

    begin "share: sig create --permissions Community with publisher info"
    az_run sig create -g "$RG" -r "$CG" --permissions Community --publisher-uri https://acg.example \
        --publisher-email images@acg.example --eula https://acg.example/eula --public-name-prefix acgsuite \
        --query "[sharingProfile.permissions, sharingProfile.communityGalleryInfo.[publisherUri, publisherContact, eula, publicNamePrefix, communityGalleryEnabled]]" -o tsv &&
        expect_rc 0 && expect_out "Community
https://acg.example	images@acg.example	https://acg.example/eula	acgsuite	None" "gallery"
    end

    local PUBLIC=""
    begin "share: share enable-community prints the SharingUpdate; the gallery gets a public name"
    az_run sig share enable-community -g "$RG" -r "$CG" --debug --query "[operationType, length(groups)]" -o tsv &&
        expect_rc 0 && expect_out "EnableCommunity
0" "SharingUpdate"
    body=$(debug_body POST "/galleries/$CG/share?")
    [[ $body == '{"operationType": "EnableCommunity", "groups": []}' ]] ||
        why "unexpected enable-community POST body: $body"
    az_run sig show -g "$RG" -r "$CG" \
        --query "[sharingProfile.communityGalleryInfo.communityGalleryEnabled, length(sharingProfile.communityGalleryInfo.publicNames), sharingProfile.communityGalleryInfo.publicNames[0]]" -o tsv &&
        expect_rc 0 || true
    PUBLIC=$(sed -n 3p <<<"$OUT")
    [[ $(sed -n 1,2p <<<"$OUT") == $'true\n1' && $PUBLIC =~ ^acgsuite-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$ ]] ||
        why "expected communityGalleryEnabled true and one public name acgsuite-<guid>, got '$OUT'"
    end

    begin "share: consumer sig show-community by public name"
    az_run sig show-community --location "$L" --public-gallery-name "$PUBLIC" "${AS_CONSUMER[@]}" \
        --query "[name, location, type, uniqueId, properties.communityMetadata.publisherUri, properties.communityMetadata.publisherContact]" -o tsv &&
        expect_rc 0 && expect_out "$PUBLIC
$L
Microsoft.Compute/locations/communityGallery
/CommunityGalleries/$PUBLIC
https://acg.example
images@acg.example" "community gallery"
    end

    begin "share: sig delete of a public community gallery fails (CannotDeleteResource)"
    az_run sig delete -g "$RG" -r "$CG" && expect_rc 1 && expect_in_output "(CannotDeleteResource)" &&
        expect_in_output "az sig share reset"
    end

    begin "share: share reset makes it private again: not found by public name, deletes"
    az_run sig share reset -g "$RG" -r "$CG" --query operationType -o tsv && expect_rc 0 && expect_out "Reset" "SharingUpdate" &&
        az_run sig show -g "$RG" -r "$CG" \
            --query "[sharingProfile.communityGalleryInfo.communityGalleryEnabled, sharingProfile.communityGalleryInfo.publicNames]" -o tsv &&
        expect_rc 0 && expect_out "false
None" "communityGalleryInfo" &&
        az_run sig show-community --location "$L" --public-gallery-name "$PUBLIC" "${AS_CONSUMER[@]}" &&
        expect_rc 3 && expect_in_output "(ResourceNotFound)" &&
        az_run sig delete -g "$RG" -r "$CG" && expect_rc 0 && expect_out "" "delete output"
    end
}

# ---------------------------------------------------------------------------------------------
# Phase 6: ARM template deployments (az deployment group ...; --replication-speed instant)

TEMPLATES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../templates" && pwd)
# shellcheck source=policy_phase.sh
source "$SCRIPT_DIR/policy_phase.sh"
# shellcheck source=imagebuilder_phase.sh
source "$SCRIPT_DIR/imagebuilder_phase.sh"
phase_deploy() {
    start_emulator deploy --replication-speed instant || return 0
    local RG=az-deploy-rg T=$TEMPLATES/gallery.json P=$TEMPLATES/gallery.parameters.json
    local G=AzDeployGallery GID
    GID="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/galleries/$G"
    setup_cli deploy

    begin "deploy: group create"
    az_run group create -n "$RG" -l westus --query properties.provisioningState -o tsv &&
        expect_rc 0 && expect_out "Succeeded" "group provisioningState"
    end

    begin "deploy: deployment group validate (4 resources, nothing written)"
    az_run deployment group validate -g "$RG" --template-file "$T" --parameters "@$P" \
        --query "[properties.provisioningState, length(properties.validatedResources)]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
4" "validation" &&
        az_run sig show -g "$RG" -r "$G" && expect_rc 3 && expect_in_output "ResourceNotFound"
    end

    begin "deploy: deployment group create (parameters file + override; gallery, definition, replicated version)"
    az_run deployment group create -g "$RG" -n gallery --template-file "$T" --parameters "@$P" --parameters versionName=1.0.0 \
        --query "[properties.provisioningState, properties.outputs.galleryUniqueName.value, properties.outputs.regionCount.value, properties.outputs.replication.value]" \
        -o tsv && expect_rc 0 && expect_out "Succeeded
$SUB-${G^^}
2
Succeeded" "deployment"
    end

    begin "deploy: the deployed version replicated to both regions (sig image-version show --expand ReplicationStatus)"
    az_run sig image-version show -g "$RG" -r "$G" -i ubuntu-lts -e 1.0.0 --expand ReplicationStatus \
        --query "[replicationStatus.aggregatedState, join(',', sort(publishingProfile.targetRegions[].name)), publishingProfile.targetRegions[0].regionalReplicaCount]" \
        -o tsv && expect_rc 0 && expect_out "Completed
East US 2,West US
2" "version"
    end

    begin "deploy: deployment group show / list"
    az_run deployment group show -g "$RG" -n gallery \
        --query "[properties.provisioningState, properties.parameters.galleryName.value, length(properties.outputResources)]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
$G
4" "deployment" &&
        az_run deployment group list -g "$RG" --query "[].name" -o tsv && expect_rc 0 && expect_out "gallery" "deployments"
    end

    begin "deploy: deployment operation group list (one Succeeded operation per resource)"
    az_run deployment operation group list -g "$RG" -n gallery \
        --query "[].[properties.targetResource.resourceType, properties.provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "Microsoft.Compute/snapshots	Succeeded
Microsoft.Compute/galleries	Succeeded
Microsoft.Compute/galleries/images	Succeeded
Microsoft.Compute/galleries/images/versions	Succeeded" "operations"
    end

    begin "deploy: --no-wait, then deployment group wait --created"
    az_run deployment group create -g "$RG" -n second --template-file "$T" --parameters "@$P" --parameters versionName=1.1.0 --no-wait &&
        expect_rc 0 && expect_out "" "output" &&
        az_run deployment group wait -g "$RG" -n second --created && expect_rc 0 &&
        az_run sig image-version list -g "$RG" -r "$G" -i ubuntu-lts --query "sort([].name)" -o tsv &&
        expect_rc 0 && expect_out "1.0.0
1.1.0" "versions"
    end

    begin "deploy: a value outside allowedValues is refused before anything runs (InvalidTemplate)"
    az_run deployment group create -g "$RG" -n bad-param --template-file "$T" --parameters "@$P" --parameters osType=Solaris &&
        expect_rc 1 && expect_in_output "InvalidTemplate" && expect_in_output "allowed value(s): 'Linux,Windows'" &&
        az_run deployment group show -g "$RG" -n bad-param && expect_rc 3 && expect_in_output "DeploymentNotFound"
    end

    begin "deploy: a resource the service refuses fails the deployment with its error (DeploymentFailed > InvalidParameter)"
    az_run deployment group create -g "$RG" -n bad-version --template-file "$T" --parameters "@$P" --parameters versionName=1.0 &&
        expect_rc 1 && expect_in_output "DeploymentFailed" && expect_in_output "InvalidParameter" &&
        az_run deployment group show -g "$RG" -n bad-version --query "[properties.provisioningState, properties.error.details[0].target]" -o tsv &&
        expect_rc 0 && expect_out "Failed
galleryImageVersionName" "failed deployment"
    end

    begin "deploy: deployment group export (the template as deployed)"
    # az prints the exported template whole (it ignores --query here): read it with Python.
    az_run deployment group export -g "$RG" -n gallery && expect_rc 0 &&
        OUT=$(python3 -c 'import json, sys; t = json.loads(sys.stdin.read()); print(t["contentVersion"], len(t["resources"]), t["resources"][1]["resources"][0]["type"])' <<<"$OUT") &&
        expect_out "1.0.0.0 3 images" "template"
    end

    begin "deploy: deployment group delete keeps the resources"
    az_run deployment group delete -g "$RG" -n gallery && expect_rc 0 &&
        az_run deployment group show -g "$RG" -n gallery && expect_rc 3 && expect_in_output "DeploymentNotFound" &&
        az_run sig show -g "$RG" -r "$G" --query id -o tsv && expect_rc 0 && expect_out "$GID" "gallery"
    end

    # Quotas and marketplace terms on the same emulator (README "Quotas", "Marketplace plans").
    # `az vm list-usage` fails inside Debian's az 2.45 before any request (its compute SDK lacks
    # v2022_11_01, like `az vm create`): the same GET through az rest.
    begin "deploy: the usages list reports the gallery quotas of the region (az rest)"
    az_run rest --method get --url "/subscriptions/$SUB/providers/Microsoft.Compute/locations/westus/usages?api-version=2022-11-01" \
        --query "value[?name.value=='galleries'].[currentValue, limit, name.localizedValue]" -o tsv &&
        expect_rc 0 && expect_out "1	100	Galleries" "galleries usage"
    end

    begin "deploy: vm image terms show / accept / cancel"
    az_run vm image terms show --publisher redhat --offer rhel-byos --plan rhel-lvm9 --query accepted -o tsv &&
        expect_rc 0 && expect_out "false" "before accept" &&
        az_run vm image terms accept --publisher redhat --offer rhel-byos --plan rhel-lvm9 --query accepted -o tsv &&
        expect_rc 0 && expect_out "true" "accept" &&
        az_run vm image terms show --publisher redhat --offer rhel-byos --plan rhel-lvm9 --query accepted -o tsv &&
        expect_rc 0 && expect_out "true" "after accept" &&
        az_run vm image terms cancel --publisher redhat --offer rhel-byos --plan rhel-lvm9 --query accepted -o tsv &&
        expect_rc 0 && expect_out "false" "cancel"
    end
}


# The phases run in two lanes at once (each phase has its own emulator and az config; publish
# follows main in the same lane): az is CPU-bound start-up work, so two lanes use both cores.
# AZ_SUITE_PHASES="share paging" runs only those phases, in one lane (publish needs main).
LANE=main
run_lane() { # lane name, phases...
    LANE=$1
    shift
    PIDS=()
    trap 'for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done' EXIT
    local phase
    for phase in "$@"; do
        case $phase in
        main | publish | async | paging | share | deploy | policy | imagebuilder) "phase_$phase" ;;
        *) echo "az suite: unknown phase '$phase' in AZ_SUITE_PHASES" >&2 && exit 2 ;;
        esac
    done
}

T_START=$(now_us)
if [[ -n ${AZ_SUITE_PHASES:-} ]]; then
    # shellcheck disable=SC2086
    (run_lane one $AZ_SUITE_PHASES) | tee "$WORK/lane-one.log"
else
    (run_lane a main publish async imagebuilder) >"$WORK/lane-a.log" 2>"$WORK/lane-a.err" &
    lane_a=$!
    (run_lane b share deploy paging policy) >"$WORK/lane-b.log" 2>"$WORK/lane-b.err" &
    lane_b=$!
    wait "$lane_a" || echo "FAIL lane a (main publish async imagebuilder) exited $?" >>"$WORK/lane-a.log"
    wait "$lane_b" || echo "FAIL lane b (share deploy paging policy) exited $?" >>"$WORK/lane-b.log"
    cat "$WORK/lane-a.log" "$WORK/lane-b.log"
    cat "$WORK/lane-a.err" "$WORK/lane-b.err" >&2
fi
PASSED=$(cat "$WORK"/lane-*.log | grep -c '^PASS ' || true)
FAILED=$(cat "$WORK"/lane-*.log | grep -c '^FAIL ' || true)
T_END=$(now_us)
echo "(az suite ran $(((T_END - T_START) / 1000000)) s)" >&2
echo "az: $PASSED passed, $FAILED failed"
((FAILED == 0))
