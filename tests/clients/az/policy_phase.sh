# The az suite's "policy" phase (sourced by run.sh): az 2.45's `az policy` against the emulator.
#   the built-in Allowed locations by name (az tries the subscription, then the built-ins),
#   az policy assignment create with --params, show, list (the subscription's and a group's),
#   a version replicating to a forbidden region refused with RequestDisallowedByPolicy (nothing
#   written) and listed by az policy state list, one in the allowed regions created, a custom definition (Require a tag) with a
#   group-scope assignment, DoNotEnforce via assignment update, delete.
phase_policy() {
    start_emulator policy --replication-speed instant || return 0
    local RG=az-policy-rg G=AzPolicyGallery D=ubuntu SNAP=os-snap
    local ALLOWED=e56962a6-4747-49cd-b67b-bf8b01975c4c
    local CID="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute"
    setup_cli policy

    begin "policy: definition show --name <built-in Allowed locations>"
    az_run policy definition show --name "$ALLOWED" --query "[id, displayName, policyType, mode]" -o tsv &&
        expect_rc 0 && expect_out "/providers/Microsoft.Authorization/policyDefinitions/$ALLOWED
Allowed locations
BuiltIn
Indexed" "definition"
    end

    begin "policy: group, gallery, image definition and snapshot before any assignment"
    az_run group create -n "$RG" -l westus -o none && expect_rc 0 &&
        az_run sig create -g "$RG" -r "$G" -o none && expect_rc 0 &&
        az_run sig image-definition create -g "$RG" -r "$G" -i "$D" --os-type Linux -p P -f O -s S -o none && expect_rc 0 &&
        az_run snapshot create -g "$RG" -n "$SNAP" --size-gb 30 -o none && expect_rc 0
    end

    begin "policy: assignment create --policy <built-in> --params listOfAllowedLocations"
    az_run policy assignment create -n west-only --display-name "West only" --policy "$ALLOWED" \
        --scope "/subscriptions/$SUB" --params '{"listOfAllowedLocations": {"value": ["westus", "westus2"]}}' \
        --query "[name, scope, policyDefinitionId, enforcementMode, join(',', parameters.listOfAllowedLocations.value)]" -o tsv &&
        expect_rc 0 && expect_out "west-only
/subscriptions/$SUB
/providers/Microsoft.Authorization/policyDefinitions/$ALLOWED
Default
westus,westus2" "assignment"
    end

    begin "policy: assignment show and list"
    az_run policy assignment show -n west-only --query "[displayName, type]" -o tsv &&
        expect_rc 0 && expect_out "West only
Microsoft.Authorization/policyAssignments" "assignment" &&
        az_run policy assignment list --query "[].name" -o tsv && expect_rc 0 && expect_out "west-only" "assignments"
    end

    begin "policy: image-version create --target-regions <forbidden> is RequestDisallowedByPolicy, nothing written"
    az_run sig image-version create -g "$RG" -r "$G" -i "$D" -e 1.0.0 --os-snapshot "$SNAP" --target-regions westus eastus2 &&
        expect_rc 1 && expect_in_output "RequestDisallowedByPolicy" && expect_in_output "west-only" &&
        az_run sig image-version show -g "$RG" -r "$G" -i "$D" -e 1.0.0 && expect_rc 3 && expect_in_output "ResourceNotFound"
    end

    begin "policy: policy state list shows the denial (Microsoft.PolicyInsights queryResults)"
    az_run policy state list --query "[?policyAssignmentName=='west-only'].[policyDefinitionAction, complianceState, resourceType]" -o tsv &&
        expect_rc 0 && expect_out "deny	NonCompliant	Microsoft.Compute/galleries/images/versions" "states"
    end

    begin "policy: image-version create --target-regions <allowed> succeeds"
    az_run sig image-version create -g "$RG" -r "$G" -i "$D" -e 1.0.0 --os-snapshot "$SNAP" --target-regions westus westus2 \
        --query "[provisioningState, join(',', sort(publishingProfile.targetRegions[].name))]" -o tsv &&
        expect_rc 0 && expect_out "Succeeded
West US,West US 2" "version"
    end

    begin "policy: a custom definition (az policy definition create) assigned to the group (--resource-group)"
    az_run policy definition create -n require-owner --mode Indexed \
        --rules '{"if": {"field": "tags[owner]", "exists": "false"}, "then": {"effect": "deny"}}' \
        --query "[policyType, mode]" -o tsv && expect_rc 0 && expect_out "Custom
Indexed" "definition" &&
        az_run policy assignment create -n owner-tag -g "$RG" --policy require-owner --query scope -o tsv &&
        expect_rc 0 && expect_out "/subscriptions/$SUB/resourceGroups/$RG" "scope" &&
        az_run sig create -g "$RG" -r AzPolicyUntagged && expect_rc 1 && expect_in_output "RequestDisallowedByPolicy" &&
        az_run sig create -g "$RG" -r AzPolicyTagged --tags owner=platform --query "tags.owner" -o tsv &&
        expect_rc 0 && expect_out "platform" "tag" &&
        az_run policy assignment list -g "$RG" --query "[].name" -o tsv && expect_rc 0 && expect_out "owner-tag" "group assignments"
    end

    begin "policy: assignment update --enforcement-mode DoNotEnforce lets the write through"
    az_run policy assignment update -n owner-tag -g "$RG" --enforcement-mode DoNotEnforce --query enforcementMode -o tsv &&
        expect_rc 0 && expect_out "DoNotEnforce" "mode" &&
        az_run sig create -g "$RG" -r AzPolicyUntagged -o none && expect_rc 0
    end

    begin "policy: assignment delete, definition delete"
    az_run policy assignment delete -n owner-tag -g "$RG" && expect_rc 0 &&
        az_run policy assignment delete -n west-only && expect_rc 0 &&
        az_run policy assignment list --query "length(@)" -o tsv && expect_rc 0 && expect_out "0" "assignments" &&
        az_run policy definition delete -n require-owner && expect_rc 0 &&
        az_run policy definition show -n require-owner && expect_rc 3 && expect_in_output "PolicyDefinitionNotFound"
    end
}
