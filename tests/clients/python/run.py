#!/usr/bin/python3
"""Real Azure Python SDK (Debian's python3-azure) against acg-emulator.

    tests/clients/python/run.py [path-to-acg-emulator-binary]

Uses azure-identity 1.13.0b2 (ClientSecretCredential against the emulator's own authority),
azure-mgmt-resource 22.0.0 and azure-mgmt-compute 29.0.0 (galleries 2022-03-03, images
2022-08-01, snapshots 2022-07-02). Starts its own emulators on 127.0.0.1 (port 0, throwaway
data dirs, from a fresh copy of the binary), never contacts another host, stops them and
removes the temp dir on exit. Prints one line per step,
    PASS <step>   or   FAIL <step>: <reason>
and finally exactly one line "python: N passed, M failed". Exits non-zero if M > 0.

Emulators:
  main    default settings: auth, resource groups, galleries, the publish flow, error paths
  paging  --page-size 2: galleries listed across several pages
  async   --operation-delay-ms 300: writes are long-running, the SDK must poll

Set ACG_SUITE_TRACEBACK=1 to print Python tracebacks of failing steps.
"""

import datetime
import logging
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's python3-azure, not a pyenv site

from emulator_harness import (  # noqa: E402
    CLIENT_ID, SECRET, SUB, TENANT, Recorder, describe, finish, run_phases,
)

from azure.core.exceptions import (  # noqa: E402
    ClientAuthenticationError, HttpResponseError, ResourceExistsError, ResourceNotFoundError,
)
from azure.identity import ClientSecretCredential  # noqa: E402
from azure.mgmt.compute import ComputeManagementClient  # noqa: E402
from azure.mgmt.compute.v2022_03_03 import models as GM  # noqa: E402  galleries, definitions, versions
from azure.mgmt.compute.v2022_07_02 import models as SM  # noqa: E402  snapshots
from azure.mgmt.compute.v2022_08_01 import models as IM  # noqa: E402  managed images
from azure.mgmt.resource import ResourceManagementClient  # noqa: E402

# azure.identity logs every failed get_token as a warning; the wrong-secret step expects one.
logging.getLogger("azure.identity").setLevel(logging.ERROR)

LRO_TIMEOUT_S = 20


def norm_region(name):
    return (name or "").replace(" ", "").lower()


class Clients:
    """A credential plus both management clients for one emulator, with request recording."""

    def __init__(self, emu, polling_interval, secret=SECRET):
        self.emu = emu
        self.cred = ClientSecretCredential(TENANT, CLIENT_ID, secret, authority=emu.url,
                                           instance_discovery=False, connection_verify=emu.ca)
        self.rec = Recorder()
        self.scope = emu.url + "/.default"
        kw = dict(base_url=emu.url, credential_scopes=[self.scope], connection_verify=emu.ca,
                  polling_interval=polling_interval, retry_total=0, per_retry_policies=[self.rec])
        self.res = ResourceManagementClient(self.cred, SUB, **kw)
        self.cmp = ComputeManagementClient(self.cred, SUB, **kw)


def rg_id(rg):
    return f"/subscriptions/{SUB}/resourceGroups/{rg}"


def gallery(description=None, location="westus", tags=None):
    return GM.Gallery(location=location, description=description, tags=tags)


def definition(publisher, offer, sku, os_state="Generalized", generation="V1", location="westus", **extra):
    return GM.GalleryImage(
        location=location, os_type="Linux", os_state=os_state, hyper_v_generation=generation,
        identifier=GM.GalleryImageIdentifier(publisher=publisher, offer=offer, sku=sku), **extra)


def version_from_source(source_id, regions, location="westus"):
    return GM.GalleryImageVersion(
        location=location,
        publishing_profile=GM.GalleryImageVersionPublishingProfile(target_regions=regions),
        storage_profile=GM.GalleryImageVersionStorageProfile(
            source=GM.GalleryArtifactVersionFullSource(id=source_id)))


def version_from_snapshot(snapshot_id, regions, location="westus"):
    return GM.GalleryImageVersion(
        location=location,
        publishing_profile=GM.GalleryImageVersionPublishingProfile(target_regions=regions),
        storage_profile=GM.GalleryImageVersionStorageProfile(
            os_disk_image=GM.GalleryOSDiskImage(source=GM.GalleryDiskImageSource(id=snapshot_id))))


def managed_image(snapshot_id, location="westus", generation=None):
    """A managed image whose OS disk comes from a snapshot (CRP requires snapshot, managedDisk or blobUri)."""
    return IM.Image(location=location, hyper_v_generation=generation,
                    storage_profile=IM.ImageStorageProfile(
                        os_disk=IM.ImageOSDisk(os_type="Linux", os_state="Generalized",
                                               snapshot=IM.SubResource(id=snapshot_id))))


def snapshot(location="westus", size_gb=30, os_type=None, generation=None):
    return SM.Snapshot(location=location, os_type=os_type, hyper_v_generation=generation,
                       creation_data=SM.CreationData(create_option="Empty"), disk_size_gb=size_gb)


def regions_of(version):
    prof = version.publishing_profile
    return {norm_region(r.name): (r.regional_replica_count, (r.storage_account_type or "")) for r in
            (prof.target_regions or [])} if prof else {}


# ---------------------------------------------------------------------------------------------
# 1. Auth


def test_auth(s, emu, c):
    with s.step("auth: ClientSecretCredential gets a token from the emulator authority") as st:
        tok = c.cred.get_token(c.scope)
        st.check(tok.token and len(tok.token) > 20, f"short token {tok.token!r}")
        st.check(tok.expires_on > time.time() + 60, f"expires_on {tok.expires_on} is not in the future")
        # The default ARM scope must work too (what clients get when they forget credential_scopes).
        tok2 = c.cred.get_token("https://management.azure.com/.default")
        st.check(bool(tok2.token), "no token for https://management.azure.com/.default")

    with s.step("auth: token is accepted by ARM (list resource groups)") as st:
        list(c.res.resource_groups.list())

    with s.step("auth: wrong secret raises ClientAuthenticationError") as st:
        bad = ClientSecretCredential(TENANT, CLIENT_ID, "not-the-secret", authority=emu.url,
                                     instance_discovery=False, connection_verify=emu.ca)
        try:
            bad.get_token(c.scope)
            st.check(False, "get_token with a wrong secret returned a token")
        except ClientAuthenticationError as e:
            st.check("invalid_client" in str(e) or "AADSTS" in str(e),
                     f"error does not name invalid_client/AADSTS: {str(e)[:300]}")
        # Through a management client too: the auth policy's failure surfaces the same way.
        bad_client = ResourceManagementClient(bad, SUB, base_url=emu.url, credential_scopes=[c.scope],
                                              connection_verify=emu.ca, retry_total=0)
        st.expect_error(lambda: bad_client.resource_groups.get("anything"), ClientAuthenticationError,
                        what="resource_groups.get with a wrong-secret credential")

    with s.step("auth: a garbage bearer token gets 401 ClientAuthenticationError") as st:
        from azure.core.credentials import AccessToken

        class Garbage:
            def get_token(self, *scopes, **kw):
                return AccessToken("not-a-jwt", int(time.time()) + 3600)
        gc = ResourceManagementClient(Garbage(), SUB, base_url=emu.url, credential_scopes=[c.scope],
                                      connection_verify=emu.ca, retry_total=0)
        st.expect_error(lambda: gc.resource_groups.get("anything"), ClientAuthenticationError, status=401,
                        what="resource_groups.get with a garbage token")


# ---------------------------------------------------------------------------------------------
# 2. Resource groups


def test_resource_groups(s, c):
    rgs = c.res.resource_groups
    name = "rg-py-groups"
    with s.step("resource groups: create_or_update (new, then update with tags)") as st:
        g = rgs.create_or_update(name, {"location": "westus", "tags": {"suite": "python"}})
        st.eq(g.name, name, "name")
        st.eq(g.id, rg_id(name), "id")
        st.eq(norm_region(g.location), "westus", "location")
        st.eq(g.properties.provisioning_state if g.properties else None, "Succeeded", "provisioningState")
        g2 = rgs.create_or_update(name, {"location": "westus", "tags": {"suite": "python", "n": "2"}})
        st.eq(g2.tags, {"suite": "python", "n": "2"}, "tags after update")

    with s.step("resource groups: get") as st:
        g = rgs.get(name)
        st.eq(g.name, name, "name")
        st.eq(g.tags, {"suite": "python", "n": "2"}, "tags")
        st.eq(g.type, "Microsoft.Resources/resourceGroups", "type")

    with s.step("resource groups: check_existence True / False") as st:
        st.eq(rgs.check_existence(name), True, "existing group")
        st.eq(rgs.check_existence("rg-py-does-not-exist"), False, "missing group")

    with s.step("resource groups: list") as st:
        names = [g.name for g in rgs.list()]
        st.check(name in names, f"{name} not in list {names}")

    with s.step("resource groups: begin_delete().result()") as st:
        r = finish(rgs.begin_delete(name), LRO_TIMEOUT_S)
        st.eq(r, None, "result")
        st.eq(rgs.check_existence(name), False, "existence after delete")
        st.expect_error(lambda: rgs.get(name), ResourceNotFoundError, status=404, code="ResourceGroupNotFound",
                        what="get after delete")


# ---------------------------------------------------------------------------------------------
# 3. Galleries (main emulator)


def test_galleries(s, c):
    rg, name = "rg-py-galleries", "pyGallery1"
    gals = c.cmp.galleries
    with s.step("galleries: setup resource group") as st:
        c.res.resource_groups.create_or_update(rg, {"location": "westus"})

    with s.step("galleries: begin_create_or_update returns the gallery") as st:
        g = finish(gals.begin_create_or_update(rg, name, gallery("first gallery", tags={"a": "1"})), LRO_TIMEOUT_S)
        st.eq(g.name, name, "name")
        st.eq(g.id, f"{rg_id(rg)}/providers/Microsoft.Compute/galleries/{name}", "id")
        st.eq(g.type, "Microsoft.Compute/galleries", "type")
        st.eq(norm_region(g.location), "westus", "location")
        st.eq(g.description, "first gallery", "description")
        st.eq(g.tags, {"a": "1"}, "tags")
        st.eq(g.provisioning_state, "Succeeded", "provisioning_state")
        st.eq(g.identifier.unique_name if g.identifier else None, f"{SUB}-{name.upper()}", "identifier.unique_name")

    with s.step("galleries: get") as st:
        g = gals.get(rg, name)
        st.eq(g.name, name, "name")
        st.eq(g.description, "first gallery", "description")
        st.eq(g.identifier.unique_name if g.identifier else None, f"{SUB}-{name.upper()}", "identifier.unique_name")

    with s.step("galleries: list_by_resource_group and list (subscription)") as st:
        by_rg = [g.name for g in gals.list_by_resource_group(rg)]
        st.eq(by_rg, [name], "list_by_resource_group names")
        by_sub = [g.name for g in gals.list()]
        st.check(name in by_sub, f"{name} missing from subscription list {by_sub}")

    with s.step("galleries: begin_update (GalleryUpdate description + tags)") as st:
        g = finish(gals.begin_update(rg, name, GM.GalleryUpdate(description="updated", tags={"b": "2"})),
                   LRO_TIMEOUT_S)
        st.eq(g.description, "updated", "description in update result")
        st.eq(g.tags, {"b": "2"}, "tags in update result")
        st.eq(norm_region(g.location), "westus", "location kept")
        st.eq(g.provisioning_state, "Succeeded", "provisioning_state")
        st.eq(gals.get(rg, name).description, "updated", "description on get")

    with s.step("galleries: re-PUT keeps identity (200 update)") as st:
        g = finish(gals.begin_create_or_update(rg, name, gallery("again")), LRO_TIMEOUT_S)
        st.eq(g.description, "again", "description")
        st.eq(g.identifier.unique_name if g.identifier else None, f"{SUB}-{name.upper()}", "unique_name kept")

    with s.step("galleries: begin_delete, then get raises ResourceNotFoundError") as st:
        st.eq(finish(gals.begin_delete(rg, name), LRO_TIMEOUT_S), None, "delete result")
        st.expect_error(lambda: gals.get(rg, name), ResourceNotFoundError, status=404, what="get after delete")
        st.check(name not in [g.name for g in gals.list_by_resource_group(rg)], "still listed after delete")


def test_gallery_paging(s, c):
    rg = "rg-py-paging"
    names = [f"pyPage{i}" for i in range(1, 6)]
    gals = c.cmp.galleries
    with s.step("paging: create 5 galleries (page size 2)") as st:
        c.res.resource_groups.create_or_update(rg, {"location": "westus"})
        for n in names:
            finish(gals.begin_create_or_update(rg, n, gallery(n)), LRO_TIMEOUT_S)

    with s.step("paging: list_by_resource_group by_page() yields >= 3 pages with all 5") as st:
        pages = [[g.name for g in page] for page in gals.list_by_resource_group(rg).by_page()]
        st.check(len(pages) >= 3, f"{len(pages)} pages: {pages}")
        st.check(all(len(p) <= 2 for p in pages), f"a page has more than 2 items: {pages}")
        flat = [n for p in pages for n in p]
        st.eq(sorted(flat), sorted(names), "names across pages")

    with s.step("paging: list (subscription) by_page() yields >= 3 pages with all 5") as st:
        pages = [[g.name for g in page] for page in gals.list().by_page()]
        st.check(len(pages) >= 3, f"{len(pages)} pages: {pages}")
        flat = [n for p in pages for n in p]
        st.eq(sorted(flat), sorted(names), "names across pages")
        st.eq(len(flat), len(set(flat)), "no duplicates across pages")

    with s.step("paging: nextLink followed with the api-version rewritten by the multi-API client") as st:
        # azure-mgmt-compute 29 rebuilds each next-page request with the client-wide api-version,
        # which changes when another operation group (images: 2022-08-01) is touched mid-iteration.
        mark = c.rec.mark()
        flat = []
        for page in gals.list_by_resource_group(rg).by_page():
            flat.extend(g.name for g in page)
            _ = c.cmp.images  # switches the client-wide api-version to 2022-08-01
        st.eq(sorted(flat), sorted(names), "names across pages")
        api_versions = [url.split("api-version=")[-1].split("&")[0] for m, url, _st, _h in c.rec.since(mark)]
        st.check(len(api_versions) >= 3, f"only {len(api_versions)} requests: {api_versions}")

    with s.step("paging: resource groups list follows nextLink") as st:
        for i in range(3):
            c.res.resource_groups.create_or_update(f"rg-py-page{i}", {"location": "eastus"})
        pages = [[g.name for g in p] for p in c.res.resource_groups.list().by_page()]
        flat = [n for p in pages for n in p]
        st.check(len(pages) >= 2, f"{len(pages)} pages: {pages}")
        for n in [rg] + [f"rg-py-page{i}" for i in range(3)]:
            st.check(n in flat, f"{n} missing from {flat}")


# ---------------------------------------------------------------------------------------------
# 4. Publish flow


def test_publish(s, c):
    cmp = c.cmp
    rg, gal = "rg-py-publish", "pyPublish"
    ctx = {}
    with s.step("publish: resource group and gallery") as st:
        c.res.resource_groups.create_or_update(rg, {"location": "westus"})
        g = finish(cmp.galleries.begin_create_or_update(rg, gal, gallery("publish")), LRO_TIMEOUT_S)
        st.eq(g.provisioning_state, "Succeeded", "gallery provisioning_state")

    eol = datetime.datetime(2030, 12, 31, tzinfo=datetime.timezone.utc)
    with s.step("publish: image definition (generalized, features, end of life, recommended)") as st:
        body = definition("PyPublisher", "PyOffer", "py-sku-1", os_state="Generalized", generation="V1",
                          description="generalized linux",
                          features=[GM.GalleryImageFeature(name="IsAcceleratedNetworkSupported", value="true")],
                          end_of_life_date=eol,
                          recommended=GM.RecommendedMachineConfiguration(
                              v_cp_us=GM.ResourceRange(min=1, max=16), memory=GM.ResourceRange(min=2, max=64)))
        d = finish(cmp.gallery_images.begin_create_or_update(rg, gal, "pyGen", body), LRO_TIMEOUT_S)
        st.eq(d.name, "pyGen", "name")
        st.eq(d.type, "Microsoft.Compute/galleries/images", "type")
        st.eq(d.id, f"{rg_id(rg)}/providers/Microsoft.Compute/galleries/{gal}/images/pyGen", "id")
        st.eq(d.provisioning_state, "Succeeded", "provisioning_state")
        st.eq(d.os_type, "Linux", "os_type")
        st.eq(d.os_state, "Generalized", "os_state")
        st.eq(d.hyper_v_generation, "V1", "hyper_v_generation")
        ident = d.identifier
        st.eq((ident.publisher, ident.offer, ident.sku) if ident else None, ("PyPublisher", "PyOffer", "py-sku-1"),
              "identifier")
        st.eq([(f.name, f.value) for f in (d.features or [])], [("IsAcceleratedNetworkSupported", "true")],
              "features")
        st.eq(d.end_of_life_date, eol, "end_of_life_date")
        rec = d.recommended
        st.eq((rec.v_cp_us.min, rec.v_cp_us.max, rec.memory.min, rec.memory.max)
              if rec and rec.v_cp_us and rec.memory else None, (1, 16, 2, 64), "recommended")
        st.eq(cmp.gallery_images.get(rg, gal, "pyGen").identifier.sku, "py-sku-1", "sku on get")

    with s.step("publish: snapshot (snapshots.begin_create_or_update, creation_data Empty, 30 GB)") as st:
        snap = finish(cmp.snapshots.begin_create_or_update(rg, "pySnap", snapshot(size_gb=30)), LRO_TIMEOUT_S)
        st.eq(snap.provisioning_state, "Succeeded", "snapshot provisioning_state")
        st.eq(snap.type, "Microsoft.Compute/snapshots", "type")
        st.eq(snap.disk_size_gb, 30, "snapshot disk_size_gb")
        st.eq(snap.creation_data.create_option if snap.creation_data else None, "Empty", "snapshot create_option")
        st.eq(snap.id, f"{rg_id(rg)}/providers/Microsoft.Compute/snapshots/pySnap", "id")
        ctx["snapshot_id"] = snap.id

    with s.step("publish: managed image source (images.begin_create_or_update, Linux Generalized)") as st:
        st.require("snapshot_id" in ctx, "no snapshot")
        img = finish(cmp.images.begin_create_or_update(rg, "pyImage", managed_image(ctx["snapshot_id"])),
                     LRO_TIMEOUT_S)
        st.eq(img.provisioning_state, "Succeeded", "provisioning_state")
        st.eq(img.type, "Microsoft.Compute/images", "type")
        os_disk = img.storage_profile.os_disk if img.storage_profile else None
        st.eq((os_disk.os_type, os_disk.os_state) if os_disk else None, ("Linux", "Generalized"), "os disk")
        ctx["image_id"] = img.id
        st.eq(img.id, f"{rg_id(rg)}/providers/Microsoft.Compute/images/pyImage", "id")

    regions = [GM.TargetRegion(name="westus", regional_replica_count=2),
               GM.TargetRegion(name="eastus", regional_replica_count=1, storage_account_type="Standard_ZRS")]
    with s.step("publish: version 1.0.0 from the managed image (westus x2, eastus Standard_ZRS)") as st:
        st.require("image_id" in ctx, "no managed image")
        v = finish(cmp.gallery_image_versions.begin_create_or_update(
            rg, gal, "pyGen", "1.0.0", version_from_source(ctx["image_id"], regions)), LRO_TIMEOUT_S)
        st.eq(v.name, "1.0.0", "name")
        st.eq(v.type, "Microsoft.Compute/galleries/images/versions", "type")
        st.eq(v.provisioning_state, "Succeeded", "provisioning_state")
        got = regions_of(v)
        st.eq(set(got), {"westus", "eastus"}, "target regions")
        st.eq(got.get("westus", (None,))[0], 2, "westus regional_replica_count")
        st.eq(got.get("eastus", (None, ""))[0], 1, "eastus regional_replica_count")
        st.eq(got.get("eastus", (None, ""))[1].lower(), "standard_zrs", "eastus storage_account_type")
        st.check(v.publishing_profile and v.publishing_profile.published_date is not None, "no published_date")
        src = v.storage_profile.source.id if v.storage_profile and v.storage_profile.source else None
        st.check(src is not None and src.lower() == ctx["image_id"].lower(), f"storage_profile.source.id {src!r}")
        osd = v.storage_profile.os_disk_image if v.storage_profile else None
        st.check(osd is not None and osd.size_in_gb, f"os_disk_image.size_in_gb missing ({osd!r})")
        ctx["v1"] = v

    with s.step("publish: get version") as st:
        v = cmp.gallery_image_versions.get(rg, gal, "pyGen", "1.0.0")
        st.eq(v.name, "1.0.0", "name")
        st.eq(v.provisioning_state, "Succeeded", "provisioning_state")
        st.eq(set(regions_of(v)), {"westus", "eastus"}, "target regions")
        st.eq(v.replication_status, None, "replication_status without $expand")

    with s.step("publish: get version with $expand=ReplicationStatus") as st:
        v = cmp.gallery_image_versions.get(rg, gal, "pyGen", "1.0.0", expand="ReplicationStatus")
        rs = v.replication_status
        st.check(rs is not None and rs.aggregated_state, f"replication_status missing: {rs!r}")
        if rs is not None:
            st.eq(rs.aggregated_state, "Completed", "aggregated_state")
            st.eq({norm_region(x.region) for x in (rs.summary or [])}, {"westus", "eastus"}, "summary regions")

    with s.step("publish: specialized definition and version 1.0.0 from the snapshot") as st:
        st.require("snapshot_id" in ctx, "no snapshot")
        d = finish(cmp.gallery_images.begin_create_or_update(
            rg, gal, "pySpec", definition("PyPublisher", "PyOffer", "py-sku-spec", os_state="Specialized")),
            LRO_TIMEOUT_S)
        st.eq(d.os_state, "Specialized", "definition os_state")
        v = finish(cmp.gallery_image_versions.begin_create_or_update(
            rg, gal, "pySpec", "1.0.0", version_from_snapshot(ctx["snapshot_id"], [GM.TargetRegion(name="westus")])),
            LRO_TIMEOUT_S)
        st.eq(v.provisioning_state, "Succeeded", "version provisioning_state")
        osd = v.storage_profile.os_disk_image if v.storage_profile else None
        sid = osd.source.id if osd and osd.source else None
        st.check(sid is not None and sid.lower() == ctx["snapshot_id"].lower(), f"os_disk_image.source.id {sid!r}")
        st.eq(osd.size_in_gb if osd else None, 30, "os_disk_image.size_in_gb")

    with s.step("publish: a Generalized managed image into the Specialized definition is refused (400)") as st:
        st.require("image_id" in ctx, "no managed image")
        st.expect_error(lambda: finish(cmp.gallery_image_versions.begin_create_or_update(
            rg, gal, "pySpec", "9.9.9", version_from_source(ctx["image_id"], [GM.TargetRegion(name="westus")]))),
            HttpResponseError, status=400, code="InvalidParameter", what="generalized image into specialized definition")
        st.expect_error(lambda: cmp.gallery_image_versions.get(rg, gal, "pySpec", "9.9.9"), ResourceNotFoundError,
                        status=404, what="refused version must not exist")

    with s.step("publish: update replica counts with begin_create_or_update") as st:
        st.require("image_id" in ctx, "no managed image")
        new_regions = [GM.TargetRegion(name="westus", regional_replica_count=3),
                       GM.TargetRegion(name="eastus", regional_replica_count=2, storage_account_type="Standard_ZRS")]
        v = finish(cmp.gallery_image_versions.begin_create_or_update(
            rg, gal, "pyGen", "1.0.0", version_from_source(ctx["image_id"], new_regions)), LRO_TIMEOUT_S)
        got = regions_of(v)
        st.eq(got.get("westus", (None,))[0], 3, "westus regional_replica_count")
        st.eq(got.get("eastus", (None,))[0], 2, "eastus regional_replica_count")
        st.eq(v.provisioning_state, "Succeeded", "provisioning_state")

    with s.step("publish: update replica counts with begin_update (GalleryImageVersionUpdate)") as st:
        upd = GM.GalleryImageVersionUpdate(
            publishing_profile=GM.GalleryImageVersionPublishingProfile(target_regions=[
                GM.TargetRegion(name="westus", regional_replica_count=1),
                GM.TargetRegion(name="eastus", regional_replica_count=4, storage_account_type="Standard_ZRS"),
                GM.TargetRegion(name="centralus", regional_replica_count=1)]),
            tags={"updated": "yes"})
        v = finish(cmp.gallery_image_versions.begin_update(rg, gal, "pyGen", "1.0.0", upd), LRO_TIMEOUT_S)
        got = regions_of(v)
        st.eq(set(got), {"westus", "eastus", "centralus"}, "target regions")
        st.eq(got.get("westus", (None,))[0], 1, "westus regional_replica_count")
        st.eq(got.get("eastus", (None,))[0], 4, "eastus regional_replica_count")
        st.eq(v.tags, {"updated": "yes"}, "tags")
        st.eq(v.provisioning_state, "Succeeded", "provisioning_state")
        src = v.storage_profile.source.id if v.storage_profile and v.storage_profile.source else None
        st.check(src is not None and src.lower() == ctx.get("image_id", "").lower(),
                 f"source changed by PATCH: {src!r}")
        got2 = regions_of(cmp.gallery_image_versions.get(rg, gal, "pyGen", "1.0.0"))
        st.eq(got2.get("eastus", (None,))[0], 4, "eastus count on get")

    with s.step("publish: changing the source of a version is refused (409 PropertyChangeNotAllowed)") as st:
        img2 = finish(cmp.images.begin_create_or_update(rg, "pyImage2", managed_image(ctx.get("snapshot_id", ""))),
                      LRO_TIMEOUT_S)
        st.expect_error(lambda: finish(cmp.gallery_image_versions.begin_create_or_update(
            rg, gal, "pyGen", "1.0.0", version_from_source(img2.id, regions))),
            ResourceExistsError, status=409, code="PropertyChangeNotAllowed", what="re-PUT with another source")
        v = cmp.gallery_image_versions.get(rg, gal, "pyGen", "1.0.0")
        src = v.storage_profile.source.id if v.storage_profile and v.storage_profile.source else ""
        st.check(src.lower() == ctx.get("image_id", "").lower(), f"source after refused change: {src!r}")

    with s.step("publish: bad version names are refused (400 InvalidParameter)") as st:
        for bad in ("1.0", "a.b.c", "1.0.0.0"):
            st.expect_error(lambda: finish(cmp.gallery_image_versions.begin_create_or_update(
                rg, gal, "pyGen", bad, version_from_source(ctx.get("image_id", "x"), regions))),
                HttpResponseError, status=400, code="InvalidParameter", what=f"version name {bad!r}")

    with s.step("publish: second version, list_by_gallery_image, get") as st:
        finish(cmp.gallery_image_versions.begin_create_or_update(
            rg, gal, "pyGen", "1.1.0", version_from_source(ctx.get("image_id", "x"),
                                                           [GM.TargetRegion(name="westus")])), LRO_TIMEOUT_S)
        names = sorted(v.name for v in cmp.gallery_image_versions.list_by_gallery_image(rg, gal, "pyGen"))
        st.eq(names, ["1.0.0", "1.1.0"], "versions of pyGen")
        defs = sorted(d.name for d in cmp.gallery_images.list_by_gallery(rg, gal))
        st.eq(defs, ["pyGen", "pySpec"], "definitions of the gallery")
        v = cmp.gallery_image_versions.get(rg, gal, "pyGen", "1.1.0")
        st.eq(v.name, "1.1.0", "get name")
        st.eq(v.provisioning_state, "Succeeded", "get provisioning_state")

    with s.step("publish: deleting a definition with versions raises ResourceExistsError 409") as st:
        st.expect_error(lambda: finish(cmp.gallery_images.begin_delete(rg, gal, "pyGen")), ResourceExistsError,
                        status=409, code="CannotDeleteResource", what="delete definition with versions")
        st.eq(cmp.gallery_images.get(rg, gal, "pyGen").name, "pyGen", "definition still there")

    with s.step("publish: deleting a gallery with definitions raises ResourceExistsError 409") as st:
        st.expect_error(lambda: finish(cmp.galleries.begin_delete(rg, gal)), ResourceExistsError,
                        status=409, code="CannotDeleteResource", what="delete gallery with definitions")

    with s.step("publish: delete versions, definitions, gallery (in order)") as st:
        for d, v in (("pyGen", "1.0.0"), ("pyGen", "1.1.0"), ("pySpec", "1.0.0")):
            finish(cmp.gallery_image_versions.begin_delete(rg, gal, d, v), LRO_TIMEOUT_S)
        st.eq(list(cmp.gallery_image_versions.list_by_gallery_image(rg, gal, "pyGen")), [], "versions left")
        st.expect_error(lambda: cmp.gallery_image_versions.get(rg, gal, "pyGen", "1.0.0"), ResourceNotFoundError,
                        status=404, what="get deleted version")
        for d in ("pyGen", "pySpec"):
            finish(cmp.gallery_images.begin_delete(rg, gal, d), LRO_TIMEOUT_S)
        st.expect_error(lambda: cmp.gallery_images.get(rg, gal, "pyGen"), ResourceNotFoundError, status=404,
                        what="get deleted definition")
        finish(cmp.galleries.begin_delete(rg, gal), LRO_TIMEOUT_S)
        st.expect_error(lambda: cmp.galleries.get(rg, gal), ResourceNotFoundError, status=404,
                        what="get deleted gallery")

    with s.step("publish: delete sources and resource group") as st:
        finish(cmp.images.begin_delete(rg, "pyImage"), LRO_TIMEOUT_S)
        finish(cmp.images.begin_delete(rg, "pyImage2"), LRO_TIMEOUT_S)
        finish(cmp.snapshots.begin_delete(rg, "pySnap"), LRO_TIMEOUT_S)
        st.expect_error(lambda: cmp.images.get(rg, "pyImage"), ResourceNotFoundError, status=404,
                        what="get deleted image")
        finish(c.res.resource_groups.begin_delete(rg), LRO_TIMEOUT_S)
        st.eq(c.res.resource_groups.check_existence(rg), False, "group exists after delete")


def test_source_enums(s, c):
    """Enum properties of snapshots and managed images (SDK enums: osType Linux/Windows, hyperVGeneration V1/V2)."""
    cmp, rg = c.cmp, "rg-py-sources"
    with s.step("sources: setup") as st:
        c.res.resource_groups.create_or_update(rg, {"location": "westus"})
        base = finish(cmp.snapshots.begin_create_or_update(rg, "plainSnap", snapshot()), LRO_TIMEOUT_S)

    with s.step("sources: snapshot with os_type Linux") as st:
        snap = finish(cmp.snapshots.begin_create_or_update(rg, "linuxSnap", snapshot(os_type="Linux")), LRO_TIMEOUT_S)
        st.eq(snap.os_type, "Linux", "snapshot os_type")

    with s.step("sources: snapshot with hyper_v_generation V2") as st:
        snap = finish(cmp.snapshots.begin_create_or_update(rg, "gen2Snap", snapshot(generation="V2")), LRO_TIMEOUT_S)
        st.eq(snap.hyper_v_generation, "V2", "snapshot hyper_v_generation")

    with s.step("sources: managed image with hyper_v_generation V2") as st:
        img = finish(cmp.images.begin_create_or_update(rg, "gen2Image", managed_image(base.id, generation="V2")),
                     LRO_TIMEOUT_S)
        st.eq(img.hyper_v_generation, "V2", "image hyper_v_generation")

    with s.step("sources: cleanup") as st:
        finish(c.res.resource_groups.begin_delete(rg), LRO_TIMEOUT_S)


# ---------------------------------------------------------------------------------------------
# 5. Errors


def test_errors(s, c):
    cmp, rg, gal = c.cmp, "rg-py-errors", "pyErrors"
    with s.step("errors: get of a missing gallery raises ResourceNotFoundError") as st:
        c.res.resource_groups.create_or_update(rg, {"location": "westus"})
        e = st.expect_error(lambda: cmp.galleries.get(rg, "pyNoSuchGallery"), ResourceNotFoundError, status=404,
                            what="get missing gallery")
        if e is not None:
            st.check(e.error is not None and e.error.code and e.error.message,
                     f"no error envelope (code/message): {describe(e)}")

    with s.step("errors: create in a missing resource group raises ResourceNotFoundError ResourceGroupNotFound") as st:
        st.expect_error(lambda: finish(cmp.galleries.begin_create_or_update("rg-py-missing", gal, gallery())),
                        ResourceNotFoundError, status=404, code="ResourceGroupNotFound",
                        what="gallery PUT in a missing group")

    with s.step("errors: delete of a missing gallery succeeds (204)") as st:
        mark = c.rec.mark()
        finish(cmp.galleries.begin_delete(rg, "pyNeverExisted"), LRO_TIMEOUT_S)
        statuses = [x[2] for x in c.rec.since(mark)]
        st.check(statuses and statuses[0] == 204, f"statuses {statuses}")

    with s.step("errors: duplicate identifier triple raises ResourceExistsError 409") as st:
        finish(cmp.galleries.begin_create_or_update(rg, gal, gallery()), LRO_TIMEOUT_S)
        finish(cmp.gallery_images.begin_create_or_update(rg, gal, "dupA", definition("P", "O", "S")), LRO_TIMEOUT_S)
        e = st.expect_error(lambda: finish(cmp.gallery_images.begin_create_or_update(
            rg, gal, "dupB", definition("p", "o", "s"))), ResourceExistsError, status=409,
            what="second definition with the same (publisher, offer, sku), other casing")
        if e is not None:
            st.check(e.error is not None and "dupA" in (e.error.message or ""),
                     f"message does not name the existing definition: {describe(e)}")
        st.expect_error(lambda: cmp.gallery_images.get(rg, gal, "dupB"), ResourceNotFoundError, status=404,
                        what="refused definition must not exist")

    with s.step("errors: invalid gallery name and location are 400") as st:
        st.expect_error(lambda: finish(cmp.galleries.begin_create_or_update(rg, "bad-name", gallery())),
                        HttpResponseError, status=400, what="gallery name with a dash")
        st.expect_error(lambda: finish(cmp.galleries.begin_create_or_update(rg, "pyNowhere",
                                                                           gallery(location="nowhere"))),
                        HttpResponseError, status=400, code="LocationNotAvailableForResourceType",
                        what="unknown location")


# ---------------------------------------------------------------------------------------------
# 6. Long-running operations (emulator with --operation-delay-ms 300)


def lro_step(st, c, start, what, expect_async_header=True):
    """Starts an LRO, checks it is not done right away, that it polled, and returns its result."""
    mark = c.rec.mark()
    t0 = time.monotonic()
    poller = start()
    done_at_once = poller.done()
    result = finish(poller, LRO_TIMEOUT_S)
    elapsed = time.monotonic() - t0
    exchanges = c.rec.since(mark)
    st.check(not done_at_once, f"{what}: poller was already done when begin_* returned "
                               f"({Recorder.brief(exchanges)})")
    if expect_async_header and exchanges:
        first = exchanges[0]
        hdrs = {k.lower(): v for k, v in first[3].items()}
        st.check("azure-asyncoperation" in hdrs or "location" in hdrs,
                 f"{what}: initial {first[0]} {first[2]} has no Azure-AsyncOperation/Location")
    st.check(len(exchanges) >= 2, f"{what}: no polling requests ({Recorder.brief(exchanges)})")
    return result, exchanges, elapsed


def test_async(s, c):
    cmp, rg, gal = c.cmp, "rg-py-async", "pyAsync"
    ctx = {}
    with s.step("async: resource group create_or_update") as st:
        g = c.res.resource_groups.create_or_update(rg, {"location": "westus"})
        st.eq(g.name, rg, "name")
        # The SDK does not poll a resource group PUT: it must be usable right away.
        st.eq(c.res.resource_groups.check_existence(rg), True, "exists right after PUT")

    with s.step("async: gallery begin_create_or_update polls to Succeeded") as st:
        g, ex, _ = lro_step(st, c, lambda: cmp.galleries.begin_create_or_update(rg, gal, gallery("async")),
                            "gallery PUT")
        st.eq(ex[0][2], 201, "initial status")
        st.check(any("/capsOperations/" in x[1] or "operations" in x[1].lower() for x in ex[1:]),
                 f"no operation-status poll: {Recorder.brief(ex)}")
        st.eq(g.provisioning_state if g else None, "Succeeded", "provisioning_state of result")
        st.eq(g.identifier.unique_name if g and g.identifier else None, f"{SUB}-{gal.upper()}", "unique_name")

    with s.step("async: gallery begin_update polls to Succeeded") as st:
        g, ex, _ = lro_step(st, c, lambda: cmp.galleries.begin_update(rg, gal, GM.GalleryUpdate(description="u2")),
                            "gallery PATCH")
        st.eq(ex[0][2], 200, "initial PATCH status (azure-mgmt-compute 2022-03-03 accepts only 200)")
        st.eq(g.description if g else None, "u2", "description")
        st.eq(g.provisioning_state if g else None, "Succeeded", "provisioning_state")

    with s.step("async: image definition begin_create_or_update polls to Succeeded") as st:
        d, _, _ = lro_step(st, c, lambda: cmp.gallery_images.begin_create_or_update(
            rg, gal, "pyAsyncDef", definition("AsyncPub", "AsyncOffer", "async-sku")), "definition PUT")
        st.eq(d.provisioning_state if d else None, "Succeeded", "provisioning_state")

    with s.step("async: snapshot and managed image sources") as st:
        snap = finish(cmp.snapshots.begin_create_or_update(rg, "pyAsyncSnap", snapshot()), LRO_TIMEOUT_S)
        img = finish(cmp.images.begin_create_or_update(rg, "pyAsyncImage", managed_image(snap.id)), LRO_TIMEOUT_S)
        st.eq(img.provisioning_state, "Succeeded", "provisioning_state")
        ctx["image_id"] = img.id

    with s.step("async: version begin_create_or_update polls to Succeeded") as st:
        st.require("image_id" in ctx, "no managed image")
        v, _, _ = lro_step(st, c, lambda: cmp.gallery_image_versions.begin_create_or_update(
            rg, gal, "pyAsyncDef", "1.0.0", version_from_source(
                ctx["image_id"], [GM.TargetRegion(name="westus", regional_replica_count=2)])), "version PUT")
        st.eq(v.provisioning_state if v else None, "Succeeded", "provisioning_state")
        st.eq(regions_of(v).get("westus", (None,))[0] if v else None, 2, "westus regional_replica_count")
        st.eq(cmp.gallery_image_versions.get(rg, gal, "pyAsyncDef", "1.0.0").provisioning_state, "Succeeded",
              "provisioning_state on get")

    with s.step("async: version begin_delete polls to completion") as st:
        r, ex, _ = lro_step(st, c, lambda: cmp.gallery_image_versions.begin_delete(rg, gal, "pyAsyncDef", "1.0.0"),
                            "version DELETE")
        st.eq(r, None, "result")
        st.eq(ex[0][2], 202, "initial DELETE status")
        st.expect_error(lambda: cmp.gallery_image_versions.get(rg, gal, "pyAsyncDef", "1.0.0"),
                        ResourceNotFoundError, status=404, what="get after delete finished")

    with s.step("async: definition and gallery begin_delete poll to completion") as st:
        lro_step(st, c, lambda: cmp.gallery_images.begin_delete(rg, gal, "pyAsyncDef"), "definition DELETE")
        st.expect_error(lambda: cmp.gallery_images.get(rg, gal, "pyAsyncDef"), ResourceNotFoundError, status=404,
                        what="get definition after delete finished")
        lro_step(st, c, lambda: cmp.galleries.begin_delete(rg, gal), "gallery DELETE")
        st.expect_error(lambda: cmp.galleries.get(rg, gal), ResourceNotFoundError, status=404,
                        what="get gallery after delete finished")

    with s.step("async: resource group begin_delete polls to completion") as st:
        lro_step(st, c, lambda: c.res.resource_groups.begin_delete(rg), "resource group DELETE")
        st.eq(c.res.resource_groups.check_existence(rg), False, "exists after delete finished")


# ---------------------------------------------------------------------------------------------
# 7. ARM template deployments (azure-mgmt-resource deployments, api-version 2022-09-01)

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "templates")


def gallery_template():
    with open(os.path.join(TEMPLATES, "gallery.json")) as f:
        return json.load(f)


def test_deployments(s, c):
    rg, dep = "rg-py-deploy", c.res.deployments
    params = {"galleryName": {"value": "pyDeployGallery"}, "replicaCount": {"value": 2}}

    with s.step("deployments: begin_validate lists the 4 resources and writes nothing") as st:
        c.res.resource_groups.create_or_update(rg, {"location": "westus"})
        result = finish(dep.begin_validate(rg, "py", {"properties": {"mode": "Incremental", "template": gallery_template(),
                                                                       "parameters": params}}), LRO_TIMEOUT_S)
        st.check(result.error is None, f"validation error {result.error}")
        st.check(len(result.properties.validated_resources) == 4, f"validated {result.properties.validated_resources}")
        st.expect_error(lambda: c.cmp.galleries.get(rg, "pyDeployGallery"), ResourceNotFoundError, status=404,
                        what="gallery before the deployment")

    with s.step("deployments: begin_create_or_update polls to Succeeded with outputs") as st:
        result = finish(dep.begin_create_or_update(rg, "py", {"properties": {"mode": "Incremental",
                                                                             "template": gallery_template(),
                                                                             "parameters": params}}), LRO_TIMEOUT_S)
        p = result.properties
        st.check(p.provisioning_state == "Succeeded", f"state {p.provisioning_state} error {p.error}")
        st.check(p.outputs["regionCount"]["value"] == 2, f"outputs {p.outputs}")
        st.check(p.outputs["galleryUniqueName"]["value"] == f"{SUB}-PYDEPLOYGALLERY", f"outputs {p.outputs}")
        version = c.cmp.gallery_image_versions.get(rg, "pyDeployGallery", "ubuntu-22.04", "1.0.0",
                                                   expand="ReplicationStatus")
        st.check(version.replication_status.aggregated_state == "Completed",
                 f"replication {version.replication_status}")

    with s.step("deployments: get, list_by_resource_group, check_existence, operations list") as st:
        st.check(dep.get(rg, "py").properties.provisioning_state == "Succeeded", "get")
        st.check([d.name for d in dep.list_by_resource_group(rg)] == ["py"], "list")
        st.check(dep.check_existence(rg, "py") is True and dep.check_existence(rg, "nope") is False, "check_existence")
        ops = list(c.res.deployment_operations.list(rg, "py"))
        types = [o.properties.target_resource.resource_type for o in ops]
        st.check(types[-1] == "Microsoft.Compute/galleries/images/versions" and len(ops) == 4, f"operations {types}")
        st.check(all(o.properties.provisioning_state == "Succeeded" for o in ops), "operation states")

    with s.step("deployments: a refused parameter raises HttpResponseError InvalidTemplate (400)") as st:
        bad = dict(params, osType={"value": "Solaris"})
        st.expect_error(lambda: finish(dep.begin_create_or_update(rg, "py-bad", {"properties": {
            "mode": "Incremental", "template": gallery_template(), "parameters": bad}}), LRO_TIMEOUT_S),
            HttpResponseError, status=400, code="InvalidTemplate", what="allowedValues violation")

    with s.step("deployments: a failing resource raises HttpResponseError DeploymentFailed from the poller") as st:
        bad = dict(params, versionName={"value": "1.0"})
        e = st.expect_error(lambda: finish(dep.begin_create_or_update(rg, "py-fail", {"properties": {
            "mode": "Incremental", "template": gallery_template(), "parameters": bad}}), LRO_TIMEOUT_S),
            HttpResponseError, code="DeploymentFailed", what="bad version name")
        if e is not None:
            st.check(e.error.details and e.error.details[0].code == "InvalidParameter", f"details {describe(e)}")

    with s.step("deployments: begin_delete, resources stay; resource group delete") as st:
        finish(dep.begin_delete(rg, "py"), LRO_TIMEOUT_S)
        st.check(dep.check_existence(rg, "py") is False, "deployment still exists")
        st.check(c.cmp.galleries.get(rg, "pyDeployGallery").name == "pyDeployGallery", "gallery gone")
        finish(c.res.resource_groups.begin_delete(rg), LRO_TIMEOUT_S)


# ---------------------------------------------------------------------------------------------


def run_tests(suite, emu, payload):
    interval, tests = payload
    c = Clients(emu, polling_interval=interval)
    for test in tests:
        if test is test_auth:
            test(suite, emu, c)
        else:
            test(suite, c)


def main(argv):
    phases = [
        # Writes are synchronous here: nothing should poll; a small interval guards against hot loops.
        ("main", [], (0.1, [test_auth, test_resource_groups, test_galleries, test_publish, test_source_enums,
                            test_errors, test_deployments])),
        ("paging", ["--page-size", "2"], (0.1, [test_gallery_paging])),
        # Retry-After: 1 from the server paces the polls; polling_interval=0 adds no delay of its own.
        ("async", ["--operation-delay-ms", "300"], (0, [test_async])),
    ]
    return run_phases("python", argv, phases, run_tests)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
