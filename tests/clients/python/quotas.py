#!/usr/bin/python3
"""Subscription quotas and marketplace terms driven by the real Azure Python SDK (Debian's python3-azure).

    tests/clients/python/quotas.py [path-to-acg-emulator-binary]

azure-mgmt-compute 29 (galleries 2022-03-03, usages and virtual machines 2022-08-01) and
azure-mgmt-marketplaceordering (2021-01-01). One emulator with instant replication. Prints one
PASS/FAIL line per step and "python-quotas: N passed, M failed".

The story: 100 galleries in one region are fine, the 101st is refused with Compute's quota
error (409 OperationNotAllowed naming the quota, the region, the limit and the usage), which
the SDK surfaces as HttpResponseError; the usages list reports 100 of 100; another region is
free. Then a gallery image with a marketplace purchase plan: a VM without the plan, and one
whose subscription has not accepted the plan's terms, are refused; accepting the terms through
marketplace_agreements lets the VM through.
"""

import logging
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's python3-azure, not a pyenv site

from emulator_harness import CLIENT_ID, SECRET, SUB, TENANT, finish, run_phases  # noqa: E402

from azure.core.exceptions import HttpResponseError  # noqa: E402
from azure.identity import ClientSecretCredential  # noqa: E402
from azure.mgmt.compute import ComputeManagementClient  # noqa: E402
from azure.mgmt.compute.v2022_03_03 import models as GM  # noqa: E402
from azure.mgmt.compute.v2022_07_02 import models as SM  # noqa: E402
from azure.mgmt.compute.v2022_08_01 import models as VM  # noqa: E402
from azure.mgmt.marketplaceordering import MarketplaceOrderingAgreements  # noqa: E402
from azure.mgmt.resource import ResourceManagementClient  # noqa: E402

logging.getLogger("azure.identity").setLevel(logging.ERROR)

LRO_TIMEOUT_S = 20
HOME = "westus"
PLAN = {"name": "rhel-lvm9", "publisher": "redhat", "product": "rhel-byos"}


def phases(_ws):
    return [("quotas", ["--replication-speed", "instant"], None)]


def test_quotas(s, emu, _):
    cred = ClientSecretCredential(TENANT, CLIENT_ID, SECRET, authority=emu.url, instance_discovery=False,
                                  connection_verify=emu.ca)
    kw = dict(base_url=emu.url, credential_scopes=[emu.url + "/.default"], connection_verify=emu.ca,
              polling_interval=0, retry_total=0)
    res = ResourceManagementClient(cred, SUB, **kw)
    cmp = ComputeManagementClient(cred, SUB, **kw)
    market = MarketplaceOrderingAgreements(cred, SUB, **kw)
    rg = "rg-quotas"

    with s.step("100 galleries in westus are within the documented quota") as st:
        res.resource_groups.create_or_update(rg, {"location": HOME})
        t0 = time.monotonic()
        for i in range(1, 101):
            g = finish(cmp.galleries.begin_create_or_update(rg, f"g{i}", GM.Gallery(location=HOME)), LRO_TIMEOUT_S)
            st.require(g.provisioning_state == "Succeeded", f"gallery g{i}: {g.provisioning_state}")
        print(f"  100 gallery creates through the SDK: {time.monotonic() - t0:.1f}s", flush=True)

    with s.step("the 101st gallery is refused: 409 OperationNotAllowed naming quota, region, limit and usage") as st:
        e = st.expect_error(lambda: cmp.galleries.begin_create_or_update(rg, "g101", GM.Gallery(location=HOME)),
                            HttpResponseError, status=409, code="OperationNotAllowed", what="101st gallery")
        if e is not None:
            message = e.error.message
            for part in ("exceeding approved Galleries quota", "Location: westus", "Current Limit: 100",
                         "Current Usage: 100", "Additional Required: 1"):
                st.check(part in message, f"the message lacks {part!r}: {message}")

    with s.step("usage.list(westus) reports 100 of 100 galleries; eastus is free") as st:
        usages = {u.name.value: u for u in cmp.usage.list(HOME)}
        st.require("galleries" in usages, f"no galleries counter in {sorted(usages)}")
        st.eq((usages["galleries"].current_value, usages["galleries"].limit), (100, 100), "galleries")
        st.eq(usages["galleries"].name.localized_value, "Galleries", "localizedValue")
        st.eq(usages["imageVersions"].limit, 10000, "image versions limit")
        g = finish(cmp.galleries.begin_create_or_update(rg, "east1", GM.Gallery(location="eastus")), LRO_TIMEOUT_S)
        st.eq(g.provisioning_state, "Succeeded", "a gallery in eastus")

    with s.step("a marketplace-based definition: a VM needs its plan and accepted terms") as st:
        gal = "g1"
        snap = finish(cmp.snapshots.begin_create_or_update(rg, "os", SM.Snapshot(
            location=HOME, creation_data=SM.CreationData(create_option="Empty"), disk_size_gb=30, os_type="Linux")),
            LRO_TIMEOUT_S)
        finish(cmp.gallery_images.begin_create_or_update(rg, gal, "rhel", GM.GalleryImage(
            location=HOME, os_type="Linux", os_state="Generalized",
            identifier=GM.GalleryImageIdentifier(publisher="RedHat", offer="rhel-byos", sku="9"),
            purchase_plan=GM.ImagePurchasePlan(**PLAN))), LRO_TIMEOUT_S)
        finish(cmp.gallery_image_versions.begin_create_or_update(rg, gal, "rhel", "1.0.0", GM.GalleryImageVersion(
            location=HOME, storage_profile=GM.GalleryImageVersionStorageProfile(
                os_disk_image=GM.GalleryOSDiskImage(source=GM.GalleryArtifactVersionSource(id=snap.id))))),
            LRO_TIMEOUT_S)
        definition_id = f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gal}/images/rhel"

        def vm(name, plan):
            return VM.VirtualMachine(
                location=HOME, plan=VM.Plan(**plan) if plan else None,
                hardware_profile=VM.HardwareProfile(vm_size="Standard_D2s_v3"),
                storage_profile=VM.StorageProfile(image_reference=VM.ImageReference(id=definition_id)),
                os_profile=VM.OSProfile(computer_name=name, admin_username="azureuser", admin_password="Passw0rd!2345"))

        st.expect_error(lambda: cmp.virtual_machines.begin_create_or_update(rg, "noplan", vm("noplan", None)),
                        HttpResponseError, status=400, code="VMMarketplaceInvalidInput", what="VM without plan")
        e = st.expect_error(lambda: cmp.virtual_machines.begin_create_or_update(rg, "unsigned", vm("unsigned", PLAN)),
                            HttpResponseError, status=400, code="ResourcePurchaseValidationFailed",
                            what="VM before the terms are accepted")
        if e is not None:
            st.check("You have not accepted the legal terms" in e.error.message, e.error.message)

        terms = market.marketplace_agreements.get(offer_type="virtualmachine", publisher_id=PLAN["publisher"],
                                                  offer_id=PLAN["product"], plan_id=PLAN["name"])
        st.eq(terms.accepted, False, "terms before acceptance")
        terms.accepted = True
        accepted = market.marketplace_agreements.create(offer_type="virtualmachine", publisher_id=PLAN["publisher"],
                                                        offer_id=PLAN["product"], plan_id=PLAN["name"],
                                                        parameters=terms)
        st.eq(accepted.accepted, True, "terms after acceptance")
        st.eq(len(market.marketplace_agreements.list()), 1, "agreements listed")
        created = finish(cmp.virtual_machines.begin_create_or_update(rg, "signed", vm("signed", PLAN)), LRO_TIMEOUT_S)
        st.eq(created.plan.name if created.plan else None, PLAN["name"], "the VM's plan")


if __name__ == "__main__":
    sys.exit(run_phases("python-quotas", sys.argv, phases, test_quotas))
