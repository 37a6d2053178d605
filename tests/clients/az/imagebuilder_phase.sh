# The az suite's "imagebuilder" phase (sourced by run.sh): az 2.45's `az identity` and
# `az image builder` against the emulator, end to end:
#   az identity create, a Contributor role assignment for its principal (az rest: see below),
#   gallery + definition, az image builder create --identity --defer, customizer add (shell),
#   output add (a gallery output and a managed image output), update (the PUT of the deferred
#   template), run, show-runs, show (lastRunStatus Succeeded), the version replicated to every
#   target region, a VM from the version, the customization log through the admin API, a
#   template without identity refused, delete (the version stays).
# What az 2.45 (Debian) does that surprised: `az role assignment create --assignee <principalId>`
# needs a Microsoft Graph endpoint the registered cloud does not have, and
# --assignee-object-id crashes inside az ('RoleAssignmentsOperations' object has no attribute
# 'config'), so the assignment is made with az rest; `az image builder create` lists the
# subscription's locations (GET /subscriptions/{sub}/locations); `az image builder update`
# prints the polymorphic "type" of the source and distributors as null although the response
# has it (show prints it); `az vm create` fails in the client ('virtual_networks' is not available in API version
# 2022-01-01) before sending anything, so the VM is created with az rest; `az image show` needs
# azure.mgmt.compute.v2022_11_01, which Debian's package lacks, so the managed image is read with az rest.
phase_imagebuilder() {
    start_emulator imagebuilder || return 0
    local RG=az-aib-rg G=AibGallery D=ubuntu ID=aib-identity T=aib-template
    local RGID="/subscriptions/$SUB/resourceGroups/$RG"
    local CONTRIBUTOR=b24988ac-6180-42a0-ab88-20f7382dd24c
    local URN=Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest
    local IDENTITY_ID PRINCIPAL VERSION_ID
    setup_cli imagebuilder

    begin "imagebuilder: group create + identity create (principalId, clientId, tenantId)"
    az_run group create -n "$RG" -l westus -o none && expect_rc 0 &&
        az_run identity create -g "$RG" -n "$ID" --query "[id, tenantId, length(principalId), length(clientId)]" -o tsv &&
        expect_rc 0 && expect_out "$RGID/providers/Microsoft.ManagedIdentity/userAssignedIdentities/$ID
$TENANT
36
36" "identity"
    IDENTITY_ID="$RGID/providers/Microsoft.ManagedIdentity/userAssignedIdentities/$ID"
    PRINCIPAL=$(az identity show -g "$RG" -n "$ID" --query principalId -o tsv 2>/dev/null || true)
    end

    begin "imagebuilder: identity list (group and subscription)"
    az_run identity list -g "$RG" --query "[].name" -o tsv && expect_rc 0 && expect_out "$ID" "group list" &&
        az_run identity list --query "[?name=='$ID'].name" -o tsv && expect_rc 0 && expect_out "$ID" "subscription list"
    end

    begin "imagebuilder: Contributor on the group for the identity's principal (az rest PUT roleAssignments)"
    az_run rest --method put \
        --url "$RGID/providers/Microsoft.Authorization/roleAssignments/7c3e5a1b-2d4f-4a6b-8c9d-0e1f2a3b4c5d?api-version=2022-04-01" \
        --body "{\"properties\": {\"roleDefinitionId\": \"/subscriptions/$SUB/providers/Microsoft.Authorization/roleDefinitions/$CONTRIBUTOR\", \"principalId\": \"$PRINCIPAL\", \"principalType\": \"ServicePrincipal\"}}" \
        --query "properties.principalId" -o tsv && expect_rc 0 && expect_out "$PRINCIPAL" "principal"
    end

    begin "imagebuilder: gallery + Linux V2 definition"
    az_run sig create -g "$RG" -r "$G" -o none && expect_rc 0 &&
        az_run sig image-definition create -g "$RG" -r "$G" -i "$D" --os-type Linux --hyper-v-generation V2 -p P -f O -s S -o none &&
        expect_rc 0
    end

    begin "imagebuilder: create --defer --identity, customizer add (shell), output add (gallery + managed image)"
    az_run image builder create -g "$RG" -n "$T" --image-source "$URN" --identity "$IDENTITY_ID" --defer -o none && expect_rc 0 &&
        az_run image builder customizer add -g "$RG" -n "$T" --customizer-name install-nginx --type shell \
            --inline-script "sudo apt-get update" "sudo apt-get install -y nginx" --defer -o none && expect_rc 0 &&
        az_run image builder output add -g "$RG" -n "$T" --gallery-name "$G" --gallery-image-definition "$D" \
            --gallery-replication-regions westus eastus --defer -o none && expect_rc 0 &&
        az_run image builder output add -g "$RG" -n "$T" --managed-image aib-managed --managed-image-location westus \
            --defer -o none && expect_rc 0
    end

    begin "imagebuilder: update sends the deferred template (PUT): Succeeded, staging group IT_<rg>_<template>_<guid>"
    az_run image builder update -g "$RG" -n "$T" \
        --query "[provisioningState, length(customize), length(distribute), starts_with(exactStagingResourceGroup, '/subscriptions/$SUB/resourceGroups/IT_${RG}_${T}_')]" \
        -o tsv && expect_rc 0 && expect_out "Succeeded
1
2
true" "template"
    end

    begin "imagebuilder: a template without an identity is refused (InvalidParameter, target identity)"
    az_run image builder create -g "$RG" -n no-identity --image-source "$URN" --managed-image-destinations img2=westus \
        --scripts "https://example.com/setup.sh" -o none &&
        expect_rc 1 && expect_in_output "InvalidParameter" && expect_in_output "user-assigned managed identity"
    end

    begin "imagebuilder: run (long-running POST, polled to the end)"
    az_run image builder run -g "$RG" -n "$T" -o none && expect_rc 0
    end

    begin "imagebuilder: show: lastRunStatus Succeeded"
    az_run image builder show -g "$RG" -n "$T" --query "[lastRunStatus.runState, lastRunStatus.runSubState, lastRunStatus.startTime < lastRunStatus.endTime]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
Distributing
true" "lastRunStatus"
    end

    begin "imagebuilder: show-runs: both outputs Succeeded, the version named 0.<yyddd>.<seconds>"
    az_run image builder show-runs -g "$RG" -n "$T" --query "sort_by([], &name)[].[name, provisioningState]" -o tsv &&
        expect_rc 0 && expect_out "aib-managed	Succeeded
$D	Succeeded" "outputs" &&
        az_run image builder show-runs -g "$RG" -n "$T" --output-name "$D" --query artifactId -o tsv && expect_rc 0 &&
        VERSION_ID=$OUT && [[ $VERSION_ID == "$RGID/providers/Microsoft.Compute/galleries/$G/images/$D/versions/0."* ]] ||
        why "artifactId '$OUT'"
    end

    begin "imagebuilder: the version exists and is Completed in every target region; the managed image exists"
    az_run sig image-version show -g "$RG" -r "$G" -i "$D" -e "${VERSION_ID##*/}" --expand ReplicationStatus \
        --query "[provisioningState, join(',', sort(replicationStatus.summary[].state)), join(',', sort(publishingProfile.targetRegions[].name))]" \
        -o tsv && expect_rc 0 && expect_out "Succeeded
Completed,Completed
East US,West US" "version" &&
        az_run rest --url "$RGID/providers/Microsoft.Compute/images/aib-managed?api-version=2022-08-01" \
            --query "[properties.provisioningState, properties.storageProfile.osDisk.osType]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
Linux" "managed image"
    end

    begin "imagebuilder: a VM from the version (az rest PUT virtualMachines)"
    az_run rest --method put --url "$RGID/providers/Microsoft.Compute/virtualMachines/aib-vm?api-version=2022-11-01" \
        --body "{\"location\": \"westus\", \"properties\": {\"hardwareProfile\": {\"vmSize\": \"Standard_D2s_v3\"}, \"storageProfile\": {\"imageReference\": {\"id\": \"$VERSION_ID\"}, \"osDisk\": {\"createOption\": \"FromImage\"}}, \"osProfile\": {\"computerName\": \"aibvm\", \"adminUsername\": \"azureuser\", \"adminPassword\": \"P@ssw0rd-1234\"}}}" \
        --query "properties.storageProfile.imageReference.id" -o tsv && expect_rc 0 && expect_out "$VERSION_ID" "imageReference"
    end

    begin "imagebuilder: the customization log (GET /_emulator/buildlogs) lists the customizer"
    local log
    log=$(curl -sf --cacert "$EMU_CA" "$EMU_URL/_emulator/buildlogs?resourceId=$RGID/providers/Microsoft.VirtualMachineImages/imageTemplates/$T" || true)
    [[ $log == *"install-nginx"* && $log == *"Provisioning with shell script"* && $log == *"+ sudo apt-get install -y nginx"* &&
        $log == *"finished successfully"* ]] || why "log: ${log:0:300}"
    end

    begin "imagebuilder: delete: the template goes, the version stays"
    az_run image builder delete -g "$RG" -n "$T" && expect_rc 0 &&
        az_run image builder show -g "$RG" -n "$T" && expect_rc 3 && expect_in_output "ResourceNotFound" &&
        az_run sig image-version show -g "$RG" -r "$G" -i "$D" -e "${VERSION_ID##*/}" --query provisioningState -o tsv &&
        expect_rc 0 && expect_out "Succeeded" "version"
    end
}
