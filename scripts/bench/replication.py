#!/usr/bin/python3
"""acg-emulator replication benchmark (stdlib + requests).  Normally run through
`scripts/bench.sh replication`.

Measures, against loopback only:
  A. many image versions replicating at once on a --data-dir emulator with --virtual-clock and
     --replication-speed 1 (modelled real-world durations): by default 1,000 versions (10 image
     definitions x 100) x 10 target regions = 10,000 replication jobs.  Time to create them (and
     PUT req/s), the emulator's CPU time (utime+stime) and RSS (VmRSS/VmHWM) before creation, after
     creation and after all jobs completed; the wall and CPU time of the POST /_emulator/clock/advance
     calls (fixed simulated step) that drive every job to Completed, the number of steps, the cost of
     the GET /_emulator/replications checks in between; the SQLite DB / WAL sizes.  At the end
     every version is checked through the version list (provisioningState) and a sample through
     GET ...?$expand=ReplicationStatus.
  B. wrk GET of one version replicated to every gallery region of the catalog (47; the API allows
     50 but the AzureCloud catalog has only 47 regions that support galleries) with and without
     $expand=ReplicationStatus, same connections/threads as bench.sh's GET test, while the
     replication is in progress and again after it completed.
Every emulator started here is stopped here (its pid is also written to WORKDIR/pids so the shell
wrapper's trap can kill it).
"""

import argparse
import concurrent.futures
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

import requests
import urllib3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Emulator, wrk helpers, /proc readers)
from bench import (CLIENT_ID, CLIENT_SECRET, SUB, TENANT, cpu_seconds, db_sizes, kb, log,  # noqa: E402
                   measured_wrk, now, read_status, run_wrk, sha256_12, size, background_load)

RG = "repl-rg"
GALLERY = "replgallery"
HOME = "westus"
# AzureCloud regions that support galleries (emulator/data/regions.json, supportsGalleries=true).
GALLERY_REGIONS = [
    "westus", "eastus", "eastus2", "southcentralus", "westus2", "westus3", "centralus", "northcentralus",
    "westcentralus", "canadacentral", "canadaeast", "brazilsouth", "chilecentral", "mexicocentral",
    "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "germanywestcentral",
    "switzerlandnorth", "norwayeast", "swedencentral", "polandcentral", "italynorth", "spaincentral",
    "austriaeast", "belgiumcentral", "uaenorth", "qatarcentral", "israelcentral", "southafricanorth",
    "australiaeast", "australiasoutheast", "australiacentral", "southeastasia", "eastasia", "centralindia",
    "southindia", "westindia", "japaneast", "japanwest", "koreacentral", "koreasouth", "newzealandnorth",
    "indonesiacentral", "malaysiawest",
]
API = "2022-03-03"
SNAPSHOT_API = "2022-03-02"


class Client:
    """requests.Session per thread (keep-alive), bearer token, checked answers."""

    def __init__(self, port, verify, token=None):
        self.base = f"https://127.0.0.1:{port}"
        self.verify = verify
        self.token = token
        self._local = threading.local()

    def session(self):
        s = getattr(self._local, "s", None)
        if s is None:
            s = requests.Session()
            s.trust_env = False
            s.verify = self.verify
            if self.token:
                s.headers["Authorization"] = f"Bearer {self.token}"
            self._local.s = s
        return s

    def get_token(self):
        r = self.session().post(f"{self.base}/{TENANT}/oauth2/v2.0/token", timeout=30, data={
            "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "scope": "https://management.azure.com/.default"})
        if r.status_code != 200:
            raise RuntimeError(f"token -> {r.status_code}: {r.text[:300]}")
        self.token = r.json()["access_token"]
        self.session().headers["Authorization"] = f"Bearer {self.token}"
        return self.token

    def call(self, method, path, doc=None, ok=(200, 201), timeout=120):
        r = self.session().request(method, self.base + path, json=doc, timeout=timeout)
        if r.status_code not in ok:
            raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text[:500]}")
        return r


def prov(rest=""):
    return f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute{rest}"


def definition_path(d):
    return prov(f"/galleries/{GALLERY}/images/def{d:02d}")


def version_path(d, v):
    return f"{definition_path(d)}/versions/1.0.{v}"


def setup(c, definitions):
    """Resource group, gallery, image definitions and one source snapshot; returns the snapshot id."""
    c.call("PUT", f"/subscriptions/{SUB}/resourcegroups/{RG}?api-version=2021-04-01", {"location": HOME})
    c.call("PUT", prov(f"/galleries/{GALLERY}?api-version={API}"), {"location": HOME})
    for d in range(definitions):
        c.call("PUT", f"{definition_path(d)}?api-version={API}", {"location": HOME, "properties": {
            "osType": "Linux", "osState": "Generalized",
            "identifier": {"publisher": "bench", "offer": "replication", "sku": f"sku{d:02d}"}}})
    r = c.call("PUT", prov(f"/snapshots/replsrc?api-version={SNAPSHOT_API}"), {"location": HOME, "properties": {
        "creationData": {"createOption": "Empty"}, "diskSizeGB": 30, "osType": "Linux"}})
    return r.json()["id"]


def version_body(snapshot_id, regions):
    return {"location": HOME, "properties": {
        "storageProfile": {"osDiskImage": {"source": {"id": snapshot_id}}},
        "publishingProfile": {"targetRegions": [{"name": r} for r in regions]}}}


def regions_for(d, n):
    """HOME plus n-1 others, rotating through the catalog per image definition."""
    others = [r for r in GALLERY_REGIONS if r != HOME]
    start = (d * 7) % len(others)
    return [HOME] + [others[(start + i) % len(others)] for i in range(n - 1)]


def snapshot(pid, data_dir=None):
    st = read_status(pid)
    out = {"cpu_s": cpu_seconds(pid), "VmRSS_kb": st.get("VmRSS"), "VmHWM_kb": st.get("VmHWM"),
           "threads": st.get("Threads"), "t": now()}
    if data_dir:
        out["db"] = db_sizes(data_dir)
    return out


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))]


def replications(c, top=0):
    """(jobs listed, jobs in flight, ms, bytes). top=0 asks only for the count."""
    t = now()
    r = c.call("GET", f"/_emulator/replications?$top={top}", ok=(200,))
    doc = r.json()
    return doc.get("value", []), doc.get("count", 0), (now() - t) * 1000.0, len(r.content)


# ---------------------------------------------------------------- A. many versions at once

def suite_many(binary, workdir, versions, definitions, regions, step_s, client_threads, sample_n, wall_limit_s):
    data_dir = os.path.join(workdir, "repl-data")
    shutil.rmtree(data_dir, ignore_errors=True)
    args = ["--data-dir", data_dir, "--virtual-clock", "--replication-speed", "1",
            "--max-versions-per-definition", str(max(1000, versions))]
    log(f"[A] emulator args: {' '.join(args)}")
    emu = bench.Emulator(binary, workdir, args, "repl-many").start()
    try:
        c = Client(emu.port, os.path.join(data_dir, "tls", "ca.pem"))
        c.get_token()
        snap_id = setup(c, definitions)
        per_def = -(-versions // definitions)
        work = [(i % definitions, i // definitions) for i in range(versions)]  # interleave definitions
        assert max(v for _, v in work) < per_def
        bodies = {d: version_body(snap_id, regions_for(d, regions)) for d in range(definitions)}
        time.sleep(0.5)
        before = snapshot(emu.pid, data_dir)

        # --- create every version (client_threads keep-alive connections) ---
        lat = []
        statuses = {}
        lock = threading.Lock()

        def put(item):
            d, v = item
            t = now()
            r = c.session().put(f"{c.base}{version_path(d, v)}?api-version={API}", json=bodies[d], timeout=120)
            ms = (now() - t) * 1000.0
            with lock:
                lat.append(ms)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code not in (200, 201):
                raise RuntimeError(f"PUT version {d}/{v} -> {r.status_code}: {r.text[:400]}")
            return r.json()["properties"]["provisioningState"]

        log(f"[A] creating {versions} versions x {regions} regions over {definitions} definitions, "
            f"{client_threads} client threads ...")
        c0 = bench.children_cpu_s()
        r0 = os.times()
        t0 = now()
        with concurrent.futures.ThreadPoolExecutor(client_threads) as ex:
            states = list(ex.map(put, work))
        create_wall = now() - t0
        r1 = os.times()
        client_cpu = (r1.user - r0.user) + (r1.system - r0.system)
        after_create = snapshot(emu.pid, data_dir)
        jobs, _, list_ms, list_bytes = replications(c, top=versions * regions)
        jobs_listed = len(jobs)
        job_states = {}
        for j in jobs:
            job_states[j.get("state")] = job_states.get(j.get("state"), 0) + 1
        expected_jobs = versions * regions
        after_list = snapshot(emu.pid, data_dir)
        log(f"[A] created in {create_wall:.2f}s; /_emulator/replications lists {len(jobs)} jobs "
            f"(expected {expected_jobs}) in {list_ms:.0f} ms")
        longest = max((j.get("remainingSeconds") or 0) for j in jobs) if jobs else 0

        # --- drive the clock until nothing replicates ---
        steps = []
        adv_wall = adv_cpu = chk_wall = chk_cpu = 0.0
        drive_t0 = now()
        drive_c0 = cpu_seconds(emu.pid)
        remaining = len(jobs)
        max_steps = int(48 * 3600 / step_s)
        while remaining and len(steps) < max_steps and now() - drive_t0 < wall_limit_s:
            ca = cpu_seconds(emu.pid)
            t = now()
            c.call("POST", "/_emulator/clock/advance", {"seconds": step_s}, ok=(200,))
            a_ms = (now() - t) * 1000.0
            cb = cpu_seconds(emu.pid)
            _, remaining, l_ms, _ = replications(c)
            cc = cpu_seconds(emu.pid)
            adv_wall += a_ms / 1000.0
            adv_cpu += cb - ca
            chk_wall += l_ms / 1000.0
            chk_cpu += cc - cb
            steps.append({"advance_ms": round(a_ms, 1), "advance_cpu_s": round(cb - ca, 3),
                          "list_ms": round(l_ms, 1), "remaining": remaining})
        drive_wall = now() - drive_t0
        drive_cpu = cpu_seconds(emu.pid) - drive_c0
        after_done = snapshot(emu.pid, data_dir)
        log(f"[A] {len(steps)} advance steps of {step_s}s in {drive_wall:.2f}s wall; {remaining} jobs left")

        # --- verify: every version via the version lists, a sample via $expand=ReplicationStatus ---
        prov_states = {}
        listed = 0
        for d in range(definitions):
            path = f"{definition_path(d)}/versions?api-version={API}"
            for _ in range(200):
                r = c.call("GET", path, ok=(200,))
                doc = r.json()
                for it in doc.get("value", []):
                    listed += 1
                    s = it.get("properties", {}).get("provisioningState")
                    prov_states[s] = prov_states.get(s, 0) + 1
                nl = doc.get("nextLink")
                if not nl:
                    break
                path = nl.split(f"127.0.0.1:{emu.port}", 1)[-1]
        rnd = random.Random(1)
        sample = rnd.sample(work, min(sample_n, len(work)))
        sample_bad = []
        agg = {}
        for d, v in sample:
            doc = c.call("GET", f"{version_path(d, v)}?api-version={API}&$expand=ReplicationStatus", ok=(200,)).json()
            p = doc.get("properties", {})
            rs = p.get("replicationStatus", {})
            a = rs.get("aggregatedState")
            agg[a] = agg.get(a, 0) + 1
            summ = rs.get("summary", [])
            if (p.get("provisioningState") != "Succeeded" or a != "Completed" or len(summ) != regions
                    or any(x.get("state") != "Completed" or x.get("progress") != 100 for x in summ)):
                sample_bad.append(f"def{d:02d}/1.0.{v}: {p.get('provisioningState')} {a} {len(summ)} regions")
        rc, stop_ms = emu.stop()
        after_stop_db = db_sizes(data_dir)
        adv_ms = [s["advance_ms"] for s in steps]
        list_ms_all = [s["list_ms"] for s in steps]
        return {
            "args": args, "versions": versions, "definitions": definitions, "regions_per_version": regions,
            "client_threads": client_threads, "step_s": step_s,
            "create": {"wall_s": round(create_wall, 3), "rps": round(versions / create_wall, 1),
                       "lat_p50_ms": round(statistics.median(lat), 2), "lat_p99_ms": round(pct(lat, 99), 2),
                       "lat_max_ms": round(max(lat), 2), "statuses": statuses,
                       "initial_provisioning_states": {s: states.count(s) for s in set(states)},
                       "emulator_cpu_s": round(after_create["cpu_s"] - before["cpu_s"], 2),
                       "emulator_cpu_ms_per_version": round(1000 * (after_create["cpu_s"] - before["cpu_s"]) / versions, 2),
                       "client_cpu_s": round(client_cpu, 2)},
            "jobs_listed": jobs_listed, "job_states_after_create": job_states,
            "jobs_expected": expected_jobs,
            "first_list": {"ms": round(list_ms, 1), "bytes": list_bytes},
            "longest_remaining_s": longest,
            "drive": {"steps": len(steps), "simulated_s": len(steps) * step_s, "wall_s": round(drive_wall, 3),
                      "emulator_cpu_s": round(drive_cpu, 2),
                      "advance_wall_s": round(adv_wall, 3), "advance_cpu_s": round(adv_cpu, 2),
                      "advance_ms_median": round(statistics.median(adv_ms), 1) if adv_ms else None,
                      "advance_ms_max": round(max(adv_ms), 1) if adv_ms else None,
                      "list_wall_s": round(chk_wall, 3), "list_cpu_s": round(chk_cpu, 2),
                      "list_ms_first": list_ms_all[0] if list_ms_all else None,
                      "list_ms_median": round(statistics.median(list_ms_all), 1) if list_ms_all else None,
                      "remaining_at_end": remaining, "trajectory": steps},
            "verify": {"versions_listed": listed, "provisioning_states": prov_states,
                       "sample": len(sample), "sample_aggregated_states": agg, "sample_bad": sample_bad[:10]},
            "proc": {"before_create": before, "after_create": after_create, "after_first_list": after_list,
                     "after_done": after_done},
            "db_after_shutdown": after_stop_db,
            "exit_code": rc, "shutdown_ms": round(stop_ms, 1),
            "stderr_tail": emu.stderr_tail(500),
        }
    finally:
        emu.stop()


# ---------------------------------------------------------------- B. GET with/without $expand

def python_load(url, duration, label, token, connections=8):
    """Fallback when wrk is missing: `connections` threads, one keep-alive requests.Session each."""
    log(f"  python load {label}: {duration}s, {connections} threads (wrk not found) ...")
    lat, statuses, errors, nbytes = [], {}, [0], [0]
    lock = threading.Lock()
    stop_at = now() + duration

    def worker():
        s = requests.Session()
        s.trust_env = False
        s.verify = False
        s.headers["Authorization"] = f"Bearer {token}"
        mine, st, b = [], {}, 0
        while now() < stop_at:
            t = now()
            try:
                r = s.get(url, timeout=5)
                b += len(r.content)
                st[r.status_code] = st.get(r.status_code, 0) + 1
                mine.append((now() - t) * 1000.0)
            except requests.RequestException:
                with lock:
                    errors[0] += 1
        with lock:
            lat.extend(mine)
            nbytes[0] += b
            for k, v in st.items():
                statuses[k] = statuses.get(k, 0) + v

    t0 = now()
    ths = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(duration + 30)
    secs = now() - t0
    n = len(lat)
    return {"duration_s": secs, "requests": n, "bytes": nbytes[0], "rps": n / secs,
            "lat_p50_ms": statistics.median(lat) if lat else 0, "lat_p99_ms": pct(lat, 99) or 0,
            "err_connect": 0, "err_read": errors[0], "err_write": 0, "err_timeout": 0,
            "non2xx": sum(v for k, v in statuses.items() if not 200 <= k <= 299),
            "statuses": {str(k): v for k, v in statuses.items()}, "label": label, "tool": "python"}


def measured_load(emu, url, duration, label, workdir, token, auth):
    if shutil.which("wrk"):
        r = measured_wrk(emu, url, duration, label, workdir, "get.lua", headers=auth)
        r["tool"] = "wrk"
        return r
    c0 = cpu_seconds(emu.pid)
    r = python_load(url, duration, label, token)
    c1 = cpu_seconds(emu.pid)
    r["emulator_cpu_s"] = round(c1 - c0, 2)
    r["emulator_cpu_pct"] = round(100.0 * (c1 - c0) / r["duration_s"], 1)
    r["emulator_cpu_us_per_req"] = round(1e6 * (c1 - c0) / max(r["requests"], 1), 1)
    return r


def suite_expand(binary, workdir, duration, warmup, regions_n):
    args = ["--in-memory", "--virtual-clock", "--replication-speed", "1"]
    log(f"[B] emulator args: {' '.join(args)}")
    emu = bench.Emulator(binary, workdir, args, "repl-expand").start()
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    try:
        c = Client(emu.port, False)  # --in-memory: the CA is not on disk (bench.py does the same)
        tok = c.get_token()
        snap_id = setup(c, 1)
        regions = GALLERY_REGIONS[:regions_n]
        c.call("PUT", f"{version_path(0, 0)}?api-version={API}", version_body(snap_id, regions))
        base = f"https://127.0.0.1:{emu.port}"
        plain_path = f"{version_path(0, 0)}?api-version={API}"
        expand_path = f"{plain_path}&$expand=ReplicationStatus"
        auth = [f"Authorization: Bearer {tok}"]
        out = {"args": args, "regions": len(regions), "phases": {}}
        # Half-way through: some regions done, most still Replicating (time stands still meanwhile).
        c.call("POST", "/_emulator/clock/advance", {"seconds": 900}, ok=(200,))
        for phase in ("in_progress", "completed"):
            if phase == "completed":
                for _ in range(1000):
                    if not replications(c)[1]:
                        break
                    c.call("POST", "/_emulator/clock/advance", {"seconds": 600}, ok=(200,))
            doc = c.call("GET", expand_path, ok=(200,)).json()
            rs = doc["properties"].get("replicationStatus", {})
            states = {}
            for x in rs.get("summary", []):
                states[x.get("state")] = states.get(x.get("state"), 0) + 1
            plain_doc = c.call("GET", plain_path, ok=(200,)).json()
            res = {"aggregatedState": rs.get("aggregatedState"), "summary_states": states,
                   "plain_has_replicationStatus": "replicationStatus" in plain_doc.get("properties", {}),
                   "provisioningState": doc["properties"].get("provisioningState")}
            for label, path in (("plain", plain_path), ("expand", expand_path)):
                if warmup and shutil.which("wrk"):
                    run_wrk(base + path, warmup, f"repl-{phase}-{label}-warmup", workdir, "get.lua", headers=auth)
                r = measured_load(emu, base + path, duration, f"repl-{phase}-{label}", workdir, tok, auth)
                r["bytes_per_response"] = round(r["bytes"] / max(r["requests"], 1))
                res[label] = r
            res["rps_ratio_expand_to_plain"] = round(res["expand"]["rps"] / res["plain"]["rps"], 3)
            res["p50_ratio_expand_to_plain"] = round(res["expand"]["lat_p50_ms"] / res["plain"]["lat_p50_ms"], 3)
            res["p99_ratio_expand_to_plain"] = round(res["expand"]["lat_p99_ms"] / res["plain"]["lat_p99_ms"], 3)
            if res["plain"].get("emulator_cpu_us_per_req") and res["expand"].get("emulator_cpu_us_per_req"):
                res["cpu_per_req_ratio_expand_to_plain"] = round(
                    res["expand"]["emulator_cpu_us_per_req"] / res["plain"]["emulator_cpu_us_per_req"], 3)
            out["phases"][phase] = res
        rc, stop_ms = emu.stop()
        out.update({"exit_code": rc, "stderr_tail": emu.stderr_tail(500)})
        return out
    finally:
        emu.stop()


# ---------------------------------------------------------------- report

def mib(kb_):
    return "-" if kb_ is None else f"{kb_ / 1024:.1f} MiB"


def print_report(rep):
    p = print
    e = rep["environment"]
    p("")
    p("=" * 100)
    p(f"acg-emulator replication benchmark  —  {rep['emulator_version']}  ({e['binary']}, built {e['binary_mtime']}, "
      f"sha256 {e['binary_sha256']})")
    p(f"host: nproc {e['cpus']}, {e['platform']}; client (python/wrk) and emulator share these CPUs")
    bl = rep["background_before"]
    p(f"background load before the run: {bl['busy_cpus']} CPUs busy, loadavg {' '.join(bl['loadavg'])}"
      + ("   ! other work is running: numbers are depressed and noisy" if bl["busy_cpus"] > 0.3 else ""))
    p("=" * 100)

    a = rep["many"]
    cr, dr, pr = a["create"], a["drive"], a["proc"]
    p(f"\nA. {a['versions']} versions x {a['regions_per_version']} regions = {a['jobs_expected']} replication jobs at once")
    p(f"   emulator: {' '.join(a['args']).replace(os.path.dirname(a['args'][1]), '<tmp>')}")
    p(f"   layout: {a['definitions']} image definitions x {a['versions'] // a['definitions']} versions, "
      f"one 30 GiB snapshot source, {a['client_threads']} client threads (requests, keep-alive)")
    p(f"   create: {cr['wall_s']:.2f} s for {a['versions']} PUTs = {cr['rps']:.0f} req/s   "
      f"(p50 {cr['lat_p50_ms']:.1f} ms, p99 {cr['lat_p99_ms']:.1f} ms, max {cr['lat_max_ms']:.1f} ms; "
      f"statuses {cr['statuses']}; provisioningState {cr['initial_provisioning_states']})")
    p(f"           emulator CPU {cr['emulator_cpu_s']:.2f} s = {cr['emulator_cpu_ms_per_version']:.2f} ms per version "
      f"(python client CPU {cr['client_cpu_s']:.2f} s)")
    p(f"   GET /_emulator/replications right after: {a['jobs_listed']} jobs (expected {a['jobs_expected']}), "
      f"{a['first_list']['ms']:.0f} ms, {a['first_list']['bytes'] / 1048576:.1f} MiB; longest remainingSeconds "
      f"{a['longest_remaining_s']:.0f} s")
    p(f"   drive: {dr['steps']} POST /_emulator/clock/advance steps of {a['step_s']} s "
      f"(= {dr['simulated_s'] / 60:.0f} simulated min), each followed by GET /_emulator/replications?$top=0 (the count)")
    p(f"          advance calls: wall {dr['advance_wall_s']:.3f} s total, median {dr['advance_ms_median']} ms, "
      f"max {dr['advance_ms_max']} ms; emulator CPU {dr['advance_cpu_s']:.2f} s")
    p(f"          replications checks: wall {dr['list_wall_s']:.2f} s total (first {dr['list_ms_first']} ms, "
      f"median {dr['list_ms_median']} ms); emulator CPU {dr['list_cpu_s']:.2f} s")
    p(f"          whole drive loop: wall {dr['wall_s']:.2f} s, emulator CPU {dr['emulator_cpu_s']:.2f} s; "
      f"jobs left at the end: {dr['remaining_at_end']}")
    traj = dr["trajectory"]
    if traj:
        marks = [i for i in range(len(traj)) if i % max(1, len(traj) // 12) == 0 or i == len(traj) - 1]
        p("          remaining after step: " + ", ".join(f"#{i + 1}:{traj[i]['remaining']}" for i in marks))
        heavy = sorted(traj, key=lambda s: -s["advance_ms"])[:3]
        p("          slowest advances: " + ", ".join(
            f"{s['advance_ms']} ms ({s['advance_cpu_s']} s CPU, {s['remaining']} left)" for s in heavy))
    v = a["verify"]
    p(f"   verify: {v['versions_listed']} versions listed, provisioningState {v['provisioning_states']}; "
      f"sample of {v['sample']} via $expand=ReplicationStatus: aggregatedState {v['sample_aggregated_states']}"
      + (f"; BAD: {v['sample_bad']}" if v["sample_bad"] else " (all regions Completed, progress 100)"))
    p(f"   {'emulator process':<24} {'CPU s (cum.)':>12} {'VmRSS':>11} {'VmHWM':>11} {'threads':>8} "
      f"{'acg.db':>11} {'acg.db-wal':>11}")
    for k, title in (("before_create", "before creation"), ("after_create", "after creation"),
                     ("after_first_list", "+ 1st replications GET"), ("after_done", "after all completed")):
        s = pr[k]
        p(f"   {title:<24} {s['cpu_s']:>12.2f} {mib(s['VmRSS_kb']):>11} {mib(s['VmHWM_kb']):>11} "
          f"{s['threads'] or 0:>8} {size(s['db']['acg.db']):>11} {size(s['db']['acg.db-wal']):>11}")
    d = a["db_after_shutdown"]
    p(f"   {'after clean shutdown':<24} {'':>12} {'':>11} {'':>11} {'':>8} {size(d['acg.db']):>11} "
      f"{size(d['acg.db-wal']):>11}   (exit code {a['exit_code']}, {a['shutdown_ms']} ms)")

    b = rep["expand"]
    p(f"\nB. GET one version with {b['regions']} target regions (all gallery regions of the AzureCloud catalog; "
      f"the API limit is 50), --in-memory --virtual-clock")
    if b["phases"]["completed"]["plain"].get("tool") == "wrk":
        p(f"   wrk {rep['config']['duration_s']} s (+{rep['config']['warmup_s']} s warm-up) x 50 connections x 2 threads, "
          "as bench.sh's GET test")
    else:
        p(f"   ! wrk not found: FALLBACK python load, 8 threads (requests, keep-alive) x {rep['config']['duration_s']} s;"
          " the client is the bottleneck, compare only the ratio")
    hdr = (f"   {'test':<38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'bytes':>6} {'non2xx':>6} {'sockerr':>7} "
           f"{'emu CPU':>7} {'us/req':>7} {'other':>6}")
    p("   (bytes = per response incl. headers; emu CPU = emulator utime+stime / wall, 100% = one CPU; us/req = emulator\n"
      "    CPU per request, the figure least sensitive to other load; other = CPUs busy with unrelated processes)")
    for phase, title in (("in_progress", "replication in progress"), ("completed", "replication completed")):
        ph = b["phases"][phase]
        p(f"   [{title}: provisioningState {ph['provisioningState']}, aggregatedState {ph['aggregatedState']}, "
          f"regions {ph['summary_states']}]")
        p(hdr)
        for label, name in (("plain", "GET version"), ("expand", "GET version $expand=ReplicationStatus")):
            r = ph[label]
            errs = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
            p(f"   {name:<38} {r['rps']:>9.0f} {r['lat_p50_ms']:>8.2f} {r['lat_p99_ms']:>8.2f} "
              f"{r['bytes_per_response']:>6} {r['non2xx']:>6} {errs:>7} "
              f"{bench.fmt(r.get('emulator_cpu_pct'), '{:.0f}%'):>7} {bench.fmt(r.get('emulator_cpu_us_per_req'), '{:.0f}'):>7} "
              f"{bench.fmt(r.get('other_busy_cpus'), '{:.2f}'):>6}")
        ratio = ph["rps_ratio_expand_to_plain"]
        p(f"   expand / plain: req/s {ratio * 100:.1f}%, p50 x{ph['p50_ratio_expand_to_plain']:.2f}, "
          f"p99 x{ph['p99_ratio_expand_to_plain']:.2f}"
          + (f", emulator CPU per request x{ph['cpu_per_req_ratio_expand_to_plain']:.2f}"
             if ph.get("cpu_per_req_ratio_expand_to_plain") else "")
          + f"  -> {'meets' if ratio >= 0.8 else 'MISSES'} the 'expand within 20% of plain' target")
        if ph["plain_has_replicationStatus"]:
            p("   ! the plain GET returned replicationStatus too")

    if rep["anomalies"]:
        p("\nAnomalies")
        for x in rep["anomalies"]:
            p(f"  ! {x}")
    else:
        p("\nAnomalies: none (all jobs completed, all versions Succeeded, no non-2xx, no socket errors, exit 0)")
    p(f"\nTotal benchmark time {rep['elapsed_s']} s")
    p("=" * 100)


def anomalies(rep):
    out = []
    a = rep["many"]
    if a["jobs_listed"] != a["jobs_expected"]:
        out.append(f"A: /_emulator/replications listed {a['jobs_listed']} jobs after creation, expected {a['jobs_expected']}")
    if a["drive"]["remaining_at_end"]:
        out.append(f"A: {a['drive']['remaining_at_end']} jobs still Replicating when the drive loop stopped")
    v = a["verify"]
    if v["versions_listed"] != a["versions"] or set(v["provisioning_states"]) != {"Succeeded"}:
        out.append(f"A: version list shows {v['versions_listed']} versions, states {v['provisioning_states']}")
    if v["sample_bad"]:
        out.append(f"A: sampled versions not fully replicated: {v['sample_bad']}")
    if a["exit_code"] != 0:
        out.append(f"A: exit code {a['exit_code']} on SIGTERM")
    if a["drive"]["advance_ms_max"] and a["drive"]["advance_ms_max"] > 1000:
        out.append(f"A: an advance call took {a['drive']['advance_ms_max']} ms")
    for phase, ph in rep["expand"]["phases"].items():
        for label in ("plain", "expand"):
            r = ph[label]
            errs = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
            if r["non2xx"] or errs:
                out.append(f"B {phase} {label}: non2xx {r['non2xx']} {r['statuses']}, socket errors {errs}")
            if (r.get("other_busy_cpus") or 0) > 0.3:
                out.append(f"B {phase} {label}: unrelated processes kept {r['other_busy_cpus']} CPUs busy")
        if ph["rps_ratio_expand_to_plain"] < 0.8:
            out.append(f"B {phase}: expand reaches only {ph['rps_ratio_expand_to_plain'] * 100:.1f}% of plain req/s")
    if rep["expand"]["exit_code"] != 0:
        out.append(f"B: exit code {rep['expand']['exit_code']} on SIGTERM")
    return out


def main():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--source-binary", default=None)
    ap.add_argument("--versions", type=int, default=int(os.environ.get("BENCH_REPL_VERSIONS", "1000")))
    ap.add_argument("--definitions", type=int, default=10)
    ap.add_argument("--regions", type=int, default=10)
    ap.add_argument("--step", type=int, default=int(os.environ.get("BENCH_REPL_STEP", "60")),
                    help="simulated seconds per clock advance")
    ap.add_argument("--client-threads", type=int, default=4)
    ap.add_argument("--sample", type=int, default=50)
    ap.add_argument("--expand-regions", type=int, default=len(GALLERY_REGIONS))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "10")))
    ap.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", "2")))
    ap.add_argument("--out", default=os.environ.get("BENCH_OUT"))
    a = ap.parse_args()
    if not (1 <= a.duration <= 120 and 0 <= a.warmup <= 30 and 1 <= a.versions <= 100000
            and 1 <= a.definitions <= a.versions and 1 <= a.regions <= len(GALLERY_REGIONS)
            and 1 <= a.expand_regions <= len(GALLERY_REGIONS) and 1 <= a.step <= 86400):
        sys.exit("replication.py: argument out of range")

    emu = bench.Emulator(a.binary, a.workdir, ["--in-memory"], "repl-version").start()
    try:
        _, body = emu.request("GET", "/_emulator/health")
        version = "acg-emulator " + json.loads(body).get("version", "?")
    finally:
        emu.stop()
    src = a.source_binary or a.binary
    rep = {
        "emulator_version": version,
        "environment": {"binary": src, "binary_sha256": sha256_12(a.binary),
                        "binary_mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(src))),
                        "cpus": os.cpu_count(), "platform": platform.platform(),
                        "python": platform.python_version(), "requests": requests.__version__},
        "config": {"duration_s": a.duration, "warmup_s": a.warmup, "connections": 50, "wrk_threads": 2},
    }
    t_all = now()
    rep["background_before"] = background_load()
    log(f"background load: {rep['background_before']}")
    rep["many"] = suite_many(a.binary, a.workdir, a.versions, a.definitions, a.regions, a.step,
                             a.client_threads, a.sample, wall_limit_s=120)
    rep["expand"] = suite_expand(a.binary, a.workdir, a.duration, a.warmup, a.expand_regions)
    rep["anomalies"] = anomalies(rep)
    rep["elapsed_s"] = round(now() - t_all, 1)
    print_report(rep)
    bench.write_json(rep, a.out)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
