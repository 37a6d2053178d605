#!/usr/bin/python3
"""RBAC and gallery sharing driven by the real Azure Python SDK (Debian's python3-azure).

    tests/clients/python/access.py [path-to-acg-emulator-binary]

azure-mgmt-authorization (role assignments, 2022-04-01), azure-mgmt-compute 29 (galleries,
sharing profile and shared galleries 2022-03-03, virtual machines 2022-08-01) and
azure-mgmt-resource, each principal with its own ClientSecretCredential against the emulator's
authority. One emulator (instant replication) with a config file: a second subscription of the
same tenant, a principal that will be made Reader, and a consumer that owns the second
subscription. Prints one PASS/FAIL line per step and "python-access: N passed, M failed".

The story: the owner publishes; a Reader may read but is refused a version PUT with ARM's own
message; the consumer sees nothing shared and cannot deploy; the owner shares the gallery with
the consumer's subscription; the consumer reads it through the sharedGalleries API and deploys
a VM from it; a reset of the sharing takes that away again.
"""

import json
import logging
import os
import sys
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's python3-azure, not a pyenv site

from emulator_harness import CLIENT_ID, SECRET, SUB, TENANT, finish, run_phases  # noqa: E402

from azure.core.exceptions import HttpResponseError  # noqa: E402
from azure.identity import ClientSecretCredential  # noqa: E402
from azure.mgmt.authorization import AuthorizationManagementClient  # noqa: E402
from azure.mgmt.authorization.v2022_04_01 import models as AM  # noqa: E402
from azure.mgmt.compute import ComputeManagementClient  # noqa: E402
from azure.mgmt.compute.v2022_03_03 import models as GM  # noqa: E402
from azure.mgmt.compute.v2022_07_02 import models as SM  # noqa: E402
from azure.mgmt.compute.v2022_08_01 import models as VM  # noqa: E402
from azure.mgmt.resource import ResourceManagementClient  # noqa: E402

logging.getLogger("azure.identity").setLevel(logging.ERROR)

LRO_TIMEOUT_S = 20
HOME = "westus"
CONSUMER_SUB = "55555555-0000-0000-0000-00000000c0de"
READER = {"clientId": "a0000000-0000-0000-0000-0000000000a1", "objectId": "a1000000-0000-0000-0000-0000000000a1",
          "secret": "reader-secret-1"}
CONSUMER = {"clientId": "c0000000-0000-0000-0000-0000000000c1", "objectId": "c1000000-0000-0000-0000-0000000000c1",
            "secret": "consumer-secret-1"}
READER_ROLE = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


class Principal:
    """One principal's credential and clients for one subscription."""

    def __init__(self, emu, client_id, secret, subscription):
        cred = ClientSecretCredential(TENANT, client_id, secret, authority=emu.url, instance_discovery=False,
                                      connection_verify=emu.ca)
        kw = dict(base_url=emu.url, credential_scopes=[emu.url + "/.default"], connection_verify=emu.ca,
                  polling_interval=0, retry_total=0)
        self.res = ResourceManagementClient(cred, subscription, **kw)
        self.cmp = ComputeManagementClient(cred, subscription, **kw)
        self.auth = AuthorizationManagementClient(cred, subscription, **kw)


def write_config(path):
    config = {
        "subscriptions": [{"id": CONSUMER_SUB, "tenantId": TENANT, "displayName": "Consumer"}],
        "principals": [dict(p, tenantId=TENANT) for p in (READER, CONSUMER)],
        "roleAssignments": [{"clientId": CONSUMER["clientId"], "role": "Owner", "scope": "/subscriptions/" + CONSUMER_SUB}],
    }
    with open(path, "w") as f:
        json.dump(config, f)


def error_of(exc):
    err = getattr(exc, "error", None)
    return (getattr(err, "code", None), getattr(err, "message", None) or str(exc))


def phases(ws):
    config = os.path.join(ws.root, "identities.json")
    write_config(config)
    return [("access", ["--replication-speed", "instant", "--config", config], None)]


def test_access(s, emu, _):
    owner = Principal(emu, CLIENT_ID, SECRET, SUB)
    reader = Principal(emu, READER["clientId"], READER["secret"], SUB)
    consumer = Principal(emu, CONSUMER["clientId"], CONSUMER["secret"], CONSUMER_SUB)
    rg, gal, image = "rg-access", "sharedGal", "ubuntu"
    state = {}

    with s.step("owner publishes a Groups gallery, a definition and version 1.0.0") as st:
        owner.res.resource_groups.create_or_update(rg, {"location": HOME})
        g = finish(owner.cmp.galleries.begin_create_or_update(rg, gal, GM.Gallery(
            location=HOME, sharing_profile=GM.SharingProfile(permissions="Groups"))), LRO_TIMEOUT_S)
        state["unique"] = g.identifier.unique_name
        st.check(state["unique"], "the gallery has no identifier.uniqueName")
        finish(owner.cmp.gallery_images.begin_create_or_update(rg, gal, image, GM.GalleryImage(
            location=HOME, os_type="Linux", os_state="Generalized", hyper_v_generation="V1",
            identifier=GM.GalleryImageIdentifier(publisher="acg", offer="access", sku="22_04"))), LRO_TIMEOUT_S)
        snap = finish(owner.cmp.snapshots.begin_create_or_update(rg, "os", SM.Snapshot(
            location=HOME, creation_data=SM.CreationData(create_option="Empty"), disk_size_gb=30, os_type="Linux")),
            LRO_TIMEOUT_S)
        v = finish(owner.cmp.gallery_image_versions.begin_create_or_update(rg, gal, image, "1.0.0", GM.GalleryImageVersion(
            location=HOME, storage_profile=GM.GalleryImageVersionStorageProfile(
                os_disk_image=GM.GalleryOSDiskImage(source=GM.GalleryDiskImageSource(id=snap.id))))), LRO_TIMEOUT_S)
        st.eq(v.provisioning_state, "Succeeded", "version provisioningState")

    with s.step("owner makes the reader a Reader of the subscription (role assignment 2022-04-01)") as st:
        scope = "/subscriptions/" + SUB
        ra = owner.auth.role_assignments.create(scope, str(uuid.uuid4()), AM.RoleAssignmentCreateParameters(
            role_definition_id=f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE}",
            principal_id=READER["objectId"], principal_type="ServicePrincipal"))
        st.eq(ra.principal_id, READER["objectId"], "principalId")
        st.check(ra.role_definition_id.endswith(READER_ROLE), f"roleDefinitionId {ra.role_definition_id}")
        listed = [a for a in owner.auth.role_assignments.list_for_scope(scope, filter="atScope()")
                  if a.principal_id == READER["objectId"]]
        st.eq(len(listed), 1, "the reader's assignments listed at the subscription")

    with s.step("the Reader reads the gallery, its definition and version") as st:
        st.eq(reader.cmp.galleries.get(rg, gal).name, gal, "gallery name")
        st.eq(reader.cmp.gallery_image_versions.get(rg, gal, image, "1.0.0").name, "1.0.0", "version name")
        st.check(any(g.name == gal for g in reader.cmp.galleries.list()), "the gallery is not in the reader's list")

    with s.step("the Reader is refused a version PUT with ARM's AuthorizationFailed message") as st:
        version_id = (f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gal}"
                      f"/images/{image}/versions/2.0.0")
        try:
            reader.cmp.gallery_image_versions.begin_create_or_update(rg, gal, image, "2.0.0", GM.GalleryImageVersion(
                location=HOME, storage_profile=GM.GalleryImageVersionStorageProfile(
                    os_disk_image=GM.GalleryOSDiskImage(source=GM.GalleryDiskImageSource(id="x"))))).result()
            st.check(False, "the PUT was accepted")
        except HttpResponseError as e:
            code, message = error_of(e)
            st.eq(e.status_code, 403, "status")
            st.eq(code, "AuthorizationFailed", "error code")
            want = (f"The client '{READER['clientId']}' with object id '{READER['objectId']}' does not have "
                    f"authorization to perform action 'Microsoft.Compute/galleries/images/versions/write' over scope "
                    f"'{version_id}' or the scope is invalid. If access was recently granted, please refresh your "
                    f"credentials.")
            st.eq(message, want, "message")

    vm_body = VM.VirtualMachine(
        location=HOME,
        hardware_profile=VM.HardwareProfile(vm_size="Standard_D2s_v3"),
        storage_profile=VM.StorageProfile(image_reference=VM.ImageReference(
            shared_gallery_image_id=f"/SharedGalleries/{state.get('unique')}/Images/{image}/Versions/1.0.0")),
        os_profile=VM.OSProfile(computer_name="consumer", admin_username="azureuser", admin_password="P@ssw0rd-1234"))

    with s.step("before sharing, the consumer sees nothing and cannot deploy the image") as st:
        consumer.res.resource_groups.create_or_update("rg-consumer", {"location": HOME})
        shared = list(consumer.cmp.shared_galleries.list(location=HOME))
        st.eq([g.name for g in shared], [], "shared galleries")
        try:
            finish(consumer.cmp.virtual_machines.begin_create_or_update("rg-consumer", "vm0", vm_body), LRO_TIMEOUT_S)
            st.check(False, "the VM was created from an unshared gallery")
        except HttpResponseError as e:
            st.eq(error_of(e)[0], "GalleryImageNotFound", "error code")

    with s.step("the owner shares the gallery with the consumer's subscription") as st:
        update = finish(owner.cmp.gallery_sharing_profile.begin_update(rg, gal, GM.SharingUpdate(
            operation_type="Add", groups=[GM.SharingProfileGroup(type="Subscriptions", ids=[CONSUMER_SUB])])),
            LRO_TIMEOUT_S)
        st.eq(update.operation_type, "Add", "operationType")
        g = owner.cmp.galleries.get(rg, gal, select="Permissions", expand="SharingProfile/Groups")
        ids = [i for grp in (g.sharing_profile.groups or []) for i in (grp.ids or [])]
        st.check(CONSUMER_SUB in ids, f"sharingProfile.groups {g.sharing_profile.groups!r}")

    with s.step("the consumer reads the gallery, image and version through sharedGalleries") as st:
        shared = list(consumer.cmp.shared_galleries.list(location=HOME))
        st.eq([g.name for g in shared], [state["unique"]], "shared galleries")
        images = list(consumer.cmp.shared_gallery_images.list(location=HOME, gallery_unique_name=state["unique"]))
        st.eq([i.name for i in images], [image], "shared images")
        v = consumer.cmp.shared_gallery_image_versions.get(HOME, state["unique"], image, "1.0.0")
        st.eq(v.name, "1.0.0", "shared version")
        st.eq(v.unique_id, f"/SharedGalleries/{state['unique']}/Images/{image}/Versions/1.0.0", "uniqueId")

    with s.step("the consumer deploys a VM from the shared image id") as st:
        vm = finish(consumer.cmp.virtual_machines.begin_create_or_update("rg-consumer", "vm1", vm_body), LRO_TIMEOUT_S)
        st.eq(vm.provisioning_state, "Succeeded", "VM provisioningState")
        st.eq(vm.storage_profile.image_reference.shared_gallery_image_id, vm_body.storage_profile.image_reference.shared_gallery_image_id,
              "imageReference.sharedGalleryImageId")

    with s.step("the consumer may not touch the owner's gallery itself") as st:
        try:
            Principal(emu, CONSUMER["clientId"], CONSUMER["secret"], SUB).cmp.galleries.get(rg, gal)
            st.check(False, "the consumer read the owner's gallery through ARM")
        except HttpResponseError as e:
            st.eq(e.status_code, 403, "status")

    with s.step("a Reset of the sharing hides the gallery again") as st:
        finish(owner.cmp.gallery_sharing_profile.begin_update(rg, gal, GM.SharingUpdate(operation_type="Reset")),
               LRO_TIMEOUT_S)
        st.eq([g.name for g in consumer.cmp.shared_galleries.list(location=HOME)], [], "shared galleries after reset")


if __name__ == "__main__":
    sys.exit(run_phases("python-access", sys.argv, phases, test_access))
