#!/usr/bin/python3
"""Replication engine driven by the real Azure Python SDK (Debian's python3-azure).

    tests/clients/python/replication.py [path-to-acg-emulator-binary]

Uses azure-identity (ClientSecretCredential against the emulator's own authority),
azure-mgmt-resource and azure-mgmt-compute 29 (galleries 2022-03-03, snapshots 2022-07-02),
plus `requests` for the emulator's admin API (/_emulator/clock, /_emulator/replications,
/_emulator/faults). Starts its own emulators on 127.0.0.1 (port 0, throwaway data dirs, from a
fresh copy of the binary), never contacts another host, stops them on exit. Prints one line per
step,
    PASS <step>   or   FAIL <step>: <reason>
and finally exactly one line "python-replication: N passed, M failed". Exits non-zero if M > 0.

Emulators:
  virtual  --virtual-clock --replication-speed 1: nothing replicates until the test advances the
           clock, so progress, the Updating state, faults and retries are observed deterministically
  realtime --replication-speed 200: the SDK's own polling waits for replication in real time

Set ACG_SUITE_TRACEBACK=1 to print Python tracebacks of failing steps.
"""

import logging
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's python3-azure, not a pyenv site

from emulator_harness import (  # noqa: E402
    CLIENT_ID, SECRET, SUB, TENANT, Recorder, StepFailed, describe, finish, run_phases,
)

import requests  # noqa: E402
from azure.core.exceptions import HttpResponseError  # noqa: E402
from azure.identity import ClientSecretCredential  # noqa: E402
from azure.mgmt.compute import ComputeManagementClient  # noqa: E402
from azure.mgmt.compute.v2022_03_03 import models as GM  # noqa: E402  galleries, definitions, versions
from azure.mgmt.compute.v2022_07_02 import models as SM  # noqa: E402  snapshots
from azure.mgmt.resource import ResourceManagementClient  # noqa: E402

logging.getLogger("azure.identity").setLevel(logging.ERROR)

LRO_TIMEOUT_S = 20
ADVANCE_S = 120          # one virtual clock step
MAX_ADVANCES = 60        # 2 virtual hours: far beyond any modelled copy in this file
HOME = "westus"

VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"


def norm_region(name):
    return (name or "").replace(" ", "").lower()


class Clients:
    """A credential, both management clients and an admin session for one emulator."""

    def __init__(self, emu, polling_interval):
        self.emu = emu
        self.cred = ClientSecretCredential(TENANT, CLIENT_ID, SECRET, authority=emu.url,
                                           instance_discovery=False, connection_verify=emu.ca)
        self.rec = Recorder()
        self.scope = emu.url + "/.default"
        kw = dict(base_url=emu.url, credential_scopes=[self.scope], connection_verify=emu.ca,
                  polling_interval=polling_interval, retry_total=0, per_retry_policies=[self.rec])
        self.res = ResourceManagementClient(self.cred, SUB, **kw)
        self.cmp = ComputeManagementClient(self.cred, SUB, **kw)
        # The admin API needs no token; never route loopback through a proxy from the environment.
        self.admin = requests.Session()
        self.admin.trust_env = False
        self.admin.verify = emu.ca

    def _admin(self, method, path, body=None):
        r = self.admin.request(method, self.emu.url + path, json=body, timeout=10)
        if r.status_code != 200:
            raise StepFailed(f"{method} {path} {body!r} -> {r.status_code}: {r.text[:300]}")
        return r.json()

    def advance(self, seconds):
        return self._admin("POST", "/_emulator/clock/advance", {"seconds": seconds})

    def replications(self):
        return self._admin("GET", "/_emulator/replications").get("value", [])

    def add_faults(self, body):
        return self._admin("POST", "/_emulator/faults", body)

    def clear_faults(self):
        return self._admin("DELETE", "/_emulator/faults")


def snapshot(size_gb, location=HOME):
    return SM.Snapshot(location=location, creation_data=SM.CreationData(create_option="Empty"),
                       disk_size_gb=size_gb)


def version_from_snapshot(snapshot_id, regions, location=HOME):
    return GM.GalleryImageVersion(
        location=location,
        publishing_profile=GM.GalleryImageVersionPublishingProfile(
            target_regions=[GM.TargetRegion(name=r) for r in regions]),
        storage_profile=GM.GalleryImageVersionStorageProfile(
            os_disk_image=GM.GalleryOSDiskImage(source=GM.GalleryDiskImageSource(id=snapshot_id))))


def setup_gallery(c, rg, gal, image, publisher):
    c.res.resource_groups.create_or_update(rg, {"location": HOME})
    finish(c.cmp.galleries.begin_create_or_update(rg, gal, GM.Gallery(location=HOME)), LRO_TIMEOUT_S)
    d = finish(c.cmp.gallery_images.begin_create_or_update(rg, gal, image, GM.GalleryImage(
        location=HOME, os_type="Linux", os_state="Generalized", hyper_v_generation="V1",
        identifier=GM.GalleryImageIdentifier(publisher=publisher, offer="ReplOffer", sku="repl-sku"))),
        LRO_TIMEOUT_S)
    return d


class Observed:
    """One GET ?$expand=ReplicationStatus: provisioning state, aggregate, per-region (state, progress, details)."""

    def __init__(self, v):
        self.provisioning = v.provisioning_state
        rs = v.replication_status
        self.aggregated = rs.aggregated_state if rs else None
        self.regions = {norm_region(x.region): (x.state, x.progress, x.details) for x in
                        ((rs.summary or []) if rs else [])}

    def state(self, region):
        return self.regions.get(region, (None, None, None))[0]

    def progress(self, region):
        return self.regions.get(region, (None, None, None))[1]

    def brief(self):
        regs = ", ".join(f"{r}={s}/{p}" for r, (s, p, _d) in sorted(self.regions.items()))
        return f"provisioning={self.provisioning} aggregated={self.aggregated} [{regs}]"


class Version:
    """The version under test on the virtual-clock emulator."""

    def __init__(self, c, rg, gal, image, name):
        self.c, self.rg, self.gal, self.image, self.name = c, rg, gal, image, name

    def get(self):
        return Observed(self.c.cmp.gallery_image_versions.get(self.rg, self.gal, self.image, self.name,
                                                               expand="ReplicationStatus"))

    def put(self, body):
        return self.c.cmp.gallery_image_versions.begin_create_or_update(self.rg, self.gal, self.image,
                                                                        self.name, body)


def job_key(j):
    return norm_region(j.get("regionName") or j.get("region"))


def advance_until_settled(st, c, ver, watch, history):
    """Advances the virtual clock ADVANCE_S at a time until no replication job is left.

    After every step GETs the version with $expand and checks, for each region in `watch`:
    progress never decreases; progress < 100 while Replicating; 100 once Completed. Appends the
    (state, progress) per region to history[region]. Returns the last observation."""
    obs = None
    for _ in range(MAX_ADVANCES):
        c.advance(ADVANCE_S)
        obs = ver.get()
        for r in watch:
            state, prog = obs.state(r), obs.progress(r)
            prev = history[r][-1] if history[r] else None
            history[r].append((state, prog))
            st.check(prog is not None, f"{r}: no progress in summary ({obs.brief()})")
            if prog is None:
                continue
            st.check(0 <= prog <= 100, f"{r}: progress {prog} outside 0..100")
            if prev is not None and prev[1] is not None:
                st.check(prog >= prev[1], f"{r}: progress went down {prev[1]} -> {prog} ({obs.brief()})")
            if state == "Replicating":
                st.check(prog < 100, f"{r}: progress {prog} while still Replicating")
            elif state == "Completed":
                st.check(prog == 100, f"{r}: progress {prog} while Completed")
        if not c.replications():
            return obs
    raise StepFailed(f"replication jobs still running after {MAX_ADVANCES * ADVANCE_S}s of virtual time: "
                     f"{c.replications()} ({obs.brief() if obs else ''})")


def rises(seq):
    """How many times the progress strictly rose while the region was still Replicating
    (the jump to 100 at completion is not counted)."""
    n = 0
    for (s0, p0), (s1, p1) in zip(seq, seq[1:]):
        if s1 == "Replicating" and p0 is not None and p1 is not None and p1 > p0:
            n += 1
    return n


# ---------------------------------------------------------------------------------------------
# Virtual clock: progress, target-region updates, faults and retries


def test_virtual(s, c):
    rg, gal, image = "rg-py-repl", "pyRepl", "pyReplDef"
    ver = Version(c, rg, gal, image, "1.0.0")
    ctx = {}
    r1, r2, r3, r4 = HOME, "eastus", "northeurope", "eastus2"

    with s.step("replication: setup (group, gallery, Linux Generalized definition, 30 GiB snapshot)") as st:
        d = setup_gallery(c, rg, gal, image, "ReplPub")
        st.eq(d.provisioning_state, "Succeeded", "definition provisioning_state")
        snap = finish(c.cmp.snapshots.begin_create_or_update(rg, "pyReplSnap", snapshot(30)), LRO_TIMEOUT_S)
        st.eq(snap.provisioning_state, "Succeeded", "snapshot provisioning_state")
        st.eq(c.replications(), [], "replication jobs before any version")
        ctx["snap"] = snap.id

    with s.step("replication: version PUT (westus, eastus) is Creating, InProgress, both Replicating at 0") as st:
        st.require("snap" in ctx, "no snapshot")
        mark = c.rec.mark()
        poller = ver.put(version_from_snapshot(ctx["snap"], [r1, r2]))
        ctx["p1"] = poller
        st.check(not poller.done(), "poller done right after begin_create_or_update on a stopped clock")
        first = c.rec.since(mark)[0]
        st.eq(first[2], 201, "initial PUT status")
        hdrs = {k.lower(): v for k, v in first[3].items()}
        st.check("azure-asyncoperation" in hdrs, f"no Azure-AsyncOperation header on the PUT: {sorted(hdrs)}")
        obs = ver.get()
        st.eq(obs.provisioning, "Creating", "provisioning_state")
        st.eq(obs.aggregated, "InProgress", "aggregated_state")
        st.eq(set(obs.regions), {r1, r2}, "summary regions")
        for r in (r1, r2):
            st.eq(obs.regions.get(r, (None, None))[:2], ("Replicating", 0), f"{r} state/progress")
        jobs = c.replications()
        st.eq(sorted(job_key(j) for j in jobs), [r2, r1], "regions of /_emulator/replications")
        st.check(all(j.get("state") == "Replicating" and j.get("progress") == 0 for j in jobs),
                 f"jobs not Replicating at 0: {jobs}")
        time.sleep(1.5)  # the SDK polls (Retry-After: 1) while the clock stands still
        st.check(not poller.done(), "poller finished although the virtual clock never moved")
        st.eq(ver.get().progress(r1), 0, "westus progress after 1.5 s of wall time on a stopped clock")

    with s.step("replication: advancing the clock raises progress monotonically to Completed/100, Succeeded") as st:
        st.require("p1" in ctx, "no version PUT")
        hist = {r1: [], r2: []}
        obs = advance_until_settled(st, c, ver, (r1, r2), hist)
        for r in (r1, r2):
            st.check(rises(hist[r]) >= 2, f"{r}: progress rose only {rises(hist[r])} times while "
                                          f"Replicating: {hist[r]}")
            st.eq(hist[r][-1], ("Completed", 100), f"{r} final state/progress")
        st.eq(obs.aggregated, "Completed", "aggregated_state")
        st.eq(obs.provisioning, "Succeeded", "provisioning_state")
        v = finish(ctx["p1"], LRO_TIMEOUT_S)
        st.eq(v.provisioning_state if v else None, "Succeeded", "poller result provisioning_state")
        st.eq({norm_region(t.name) for t in v.publishing_profile.target_regions} if v else None, {r1, r2},
              "poller result target regions")
        ctx["ok1"] = True

    with s.step("replication: adding northeurope replicates only the new region (Updating)") as st:
        st.require("ok1" in ctx, "version 1.0.0 never completed")
        poller = ver.put(version_from_snapshot(ctx["snap"], [r1, r2, r3]))
        st.check(not poller.done(), "poller done right after adding a region on a stopped clock")
        obs = ver.get()
        st.eq(obs.provisioning, "Updating", "provisioning_state")
        st.eq(obs.aggregated, "InProgress", "aggregated_state")
        for r in (r1, r2):
            st.eq(obs.regions.get(r, (None, None))[:2], ("Completed", 100), f"{r} state/progress")
        st.eq(obs.regions.get(r3, (None, None))[:2], ("Replicating", 0), f"{r3} state/progress")
        jobs = c.replications()
        st.eq([job_key(j) for j in jobs], [r3], "regions of /_emulator/replications")
        hist = {r: [] for r in (r1, r2, r3)}
        obs = advance_until_settled(st, c, ver, (r1, r2, r3), hist)
        for r in (r1, r2):
            st.check(all(x == ("Completed", 100) for x in hist[r]), f"{r} left Completed/100: {hist[r]}")
        st.check(rises(hist[r3]) >= 2, f"{r3}: progress rose only {rises(hist[r3])} times: {hist[r3]}")
        st.eq(obs.regions.get(r3, (None, None))[:2], ("Completed", 100), f"{r3} final state/progress")
        st.eq(obs.aggregated, "Completed", "aggregated_state")
        st.eq(obs.provisioning, "Succeeded", "provisioning_state")
        v = finish(poller, LRO_TIMEOUT_S)
        st.eq(v.provisioning_state if v else None, "Succeeded", "poller result provisioning_state")
        ctx["ok2"] = True

    with s.step("replication: a failing eastus2 fails the operation (GalleryImageVersionReplicationFailed)") as st:
        st.require("ok2" in ctx, "northeurope never completed")
        c.add_faults({"regions": [{"region": r4, "fail": True}]})
        poller = ver.put(version_from_snapshot(ctx["snap"], [r1, r2, r3, r4]))
        st.check(not poller.done(), "poller done right after adding eastus2 on a stopped clock")
        jobs = c.replications()
        st.eq([job_key(j) for j in jobs], [r4], "regions of /_emulator/replications")
        st.check(jobs and jobs[0].get("willFail") is True, f"eastus2 job not marked willFail: {jobs}")
        hist = {r: [] for r in (r1, r2, r3, r4)}
        obs = advance_until_settled(st, c, ver, (r1, r2, r3, r4), hist)
        try:
            result = finish(poller, LRO_TIMEOUT_S)
            st.check(False, f"poller.result() returned {result!r}; expected HttpResponseError")
        except HttpResponseError as e:
            code = e.error.code if e.error is not None else None
            msg = (e.error.message if e.error is not None else None) or e.message or ""
            st.eq(code, "GalleryImageVersionReplicationFailed", f"error code ({describe(e)})")
            st.check("eastus2" in msg.replace(" ", "").lower(), f"message does not name eastus2: {msg!r}")
        for r in (r1, r2, r3):
            st.eq(obs.regions.get(r, (None, None))[:2], ("Completed", 100), f"{r} state/progress")
        state, _prog, details = obs.regions.get(r4, (None, None, None))
        st.eq(state, "Failed", f"{r4} state")
        st.check(bool(details), f"{r4} Failed without details: {details!r}")
        st.eq(obs.aggregated, "Failed", "aggregated_state")
        st.eq(obs.provisioning, "Failed", "provisioning_state")
        st.eq(c.replications(), [], "jobs left after the failure")
        if state == "Failed":
            ctx["failed"] = True

    with s.step("replication: clearing the fault and re-PUTting the profile retries eastus2 to Completed") as st:
        st.require("failed" in ctx, "eastus2 never failed")
        c.clear_faults()
        poller = ver.put(version_from_snapshot(ctx["snap"], [r1, r2, r3, r4]))
        st.check(not poller.done(), "poller done right after the retry PUT on a stopped clock")
        obs = ver.get()
        st.eq(obs.regions.get(r4, (None, None))[:2], ("Replicating", 0), f"{r4} state/progress after retry PUT")
        st.eq(obs.aggregated, "InProgress", "aggregated_state after retry PUT")
        jobs = c.replications()
        st.eq([job_key(j) for j in jobs], [r4], "regions of /_emulator/replications")
        st.check(jobs and jobs[0].get("willFail") is False, f"eastus2 job still willFail after DELETE faults: {jobs}")
        hist = {r: [] for r in (r1, r2, r3, r4)}
        obs = advance_until_settled(st, c, ver, (r1, r2, r3, r4), hist)
        for r in (r1, r2, r3, r4):
            st.eq(obs.regions.get(r, (None, None))[:2], ("Completed", 100), f"{r} final state/progress")
        st.eq(obs.aggregated, "Completed", "aggregated_state")
        st.eq(obs.provisioning, "Succeeded", "provisioning_state")
        v = finish(poller, LRO_TIMEOUT_S)
        st.eq(v.provisioning_state if v else None, "Succeeded", "poller result provisioning_state")
        st.eq({norm_region(t.name) for t in v.publishing_profile.target_regions} if v else None,
              {r1, r2, r3, r4}, "poller result target regions")


# ---------------------------------------------------------------------------------------------
# Real time: the SDK's own polling waits for replication


def test_realtime(s, c):
    rg, gal, image = "rg-py-repl-rt", "pyReplRt", "pyReplRtDef"
    ctx = {}
    with s.step("realtime: setup (group, gallery, definition, 1 GiB snapshot)") as st:
        setup_gallery(c, rg, gal, image, "ReplRtPub")
        snap = finish(c.cmp.snapshots.begin_create_or_update(rg, "pyReplRtSnap", snapshot(1)), LRO_TIMEOUT_S)
        ctx["snap"] = snap.id

    with s.step("realtime: version (westus, eastus) at --replication-speed 200 completes by SDK polling") as st:
        st.require("snap" in ctx, "no snapshot")
        mark = c.rec.mark()
        t0 = time.monotonic()
        poller = c.cmp.gallery_image_versions.begin_create_or_update(
            rg, gal, image, "1.0.0", version_from_snapshot(ctx["snap"], [HOME, "eastus"]))
        st.check(not poller.done(), "poller done right after begin_create_or_update")
        obs = Observed(c.cmp.gallery_image_versions.get(rg, gal, image, "1.0.0", expand="ReplicationStatus"))
        st.eq(obs.aggregated, "InProgress", "aggregated_state right after the PUT")
        v = finish(poller, LRO_TIMEOUT_S)
        elapsed = time.monotonic() - t0
        st.check(elapsed > 0.5, f"completed after {elapsed:.2f}s: replication did not take real time")
        exchanges = c.rec.since(mark)
        op_url = {k.lower(): v for k, v in exchanges[0][3].items()}.get("azure-asyncoperation") if exchanges else None
        st.check(op_url, f"no Azure-AsyncOperation header on the PUT ({Recorder.brief(exchanges[:1])})")
        polls = [x for x in exchanges[1:] if x[0] == "GET" and op_url and x[1] == op_url]
        st.check(len(polls) >= 2, f"SDK polled the operation only {len(polls)} times: {Recorder.brief(exchanges)}")
        st.eq(v.provisioning_state if v else None, "Succeeded", "poller result provisioning_state")
        obs = Observed(c.cmp.gallery_image_versions.get(rg, gal, image, "1.0.0", expand="ReplicationStatus"))
        st.eq(obs.aggregated, "Completed", "aggregated_state")
        for r in (HOME, "eastus"):
            st.eq(obs.regions.get(r, (None, None))[:2], ("Completed", 100), f"{r} state/progress")


# ---------------------------------------------------------------------------------------------


def main(argv):
    phases = [
        # Retry-After: 1 from the server paces the polls; polling_interval=0 adds no delay of its own.
        ("virtual", ["--virtual-clock", "--replication-speed", "1"], test_virtual),
        ("realtime", ["--replication-speed", "200"], test_realtime),
    ]
    return run_phases("python-replication", argv, phases,
                      lambda suite, emu, test: test(suite, Clients(emu, polling_interval=0)))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
