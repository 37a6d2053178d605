#!/usr/bin/env python3
"""Crash matrix (README "Hardening"): kills the real acg-emulator binary with SIGKILL at
many points of five workloads, restarts it on the same data directory each time, and checks
that nothing acknowledged was lost and nothing was half-written.

    tests/crash/crash_matrix.py BINARY [--rounds N] [--seed S]

Workloads (each killed N times at a random instant while it runs):
  gallery-writes    galleries PUT one after another from two threads
  version-burst     image versions PUT concurrently (each a replication with jobs)
  replication       versions replicating to three regions at a non-instant speed
  group-delete      a resource group holding a gallery tree, deleted (long-running)
  deployment        a template deployment of a gallery, definitions and versions

Invariants after every kill (database read directly, then through the restarted API):
  I1 PRAGMA integrity_check is "ok"
  I2 no resource without its parent (a resource group or resource whose row is gone)
  I3 no image version without replication jobs
  I4 every write answered 2xx is there (GET 200), unless a later acknowledged delete removed it
  I5 every delete answered 2xx ends gone (GET 404) once its operation is over
  I6 every long-running operation handed to the client reaches a terminal state
  I7 a deployment accepted before the kill ends Succeeded, Failed or Canceled

Then two storage faults: a full disk (a small tmpfs; skipped when tmpfs cannot be mounted)
and a read-only data directory: writes fail with a clear ARM error (no crash, nothing
half-written), reads keep working, and writes work again once space or write access returns.
Exit status 0 only when every invariant held. Stdlib only.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time

SUB = "22222222-2222-2222-2222-222222222222"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"
SECRET = "acg-emulator-secret"
GALLERY_API = "?api-version=2022-03-03"
GROUP_API = "?api-version=2021-04-01"
DISK_API = "?api-version=2022-03-02"
TERMINAL = {"Succeeded", "Failed", "Canceled"}
LOG_DIR = tempfile.gettempdir()  # main() points it at its work directory
LISTEN = re.compile(r"listening on https://127\.0\.0\.1:(\d+)")


def group(rg):
    return f"/subscriptions/{SUB}/resourceGroups/{rg}"


def gallery(rg, g):
    return f"{group(rg)}/providers/Microsoft.Compute/galleries/{g}"


class StartFailed(Exception):
    def __init__(self, exit_code, last_lines):
        super().__init__(f"exit {exit_code}: {last_lines}")
        self.exit_code, self.message = exit_code, " ".join(last_lines)


class Emulator:
    """The binary on a data directory; start() and kill() as often as needed."""

    def __init__(self, binary, data_dir, extra):
        self.binary, self.data_dir, self.extra = binary, data_dir, extra
        self.proc = None
        self.port = None

    def start(self):
        # Beside the work directory, not in the data dir: that may be full or read-only.
        self.log_path = os.path.join(LOG_DIR, os.path.basename(os.path.dirname(self.data_dir)) + "-" +
                                     os.path.basename(self.data_dir) + ".log")
        out = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "--port", "0", "--data-dir", self.data_dir] + self.extra,
                                     stdout=subprocess.PIPE, stderr=out, text=True)
        line = self.proc.stdout.readline()
        match = LISTEN.search(line)
        if not match:
            self.proc.wait(10)
            raise StartFailed(self.proc.returncode, open(self.log_path).read().strip().splitlines()[-1:])
        self.port = int(match.group(1))
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # drain
        return Client(self.port, os.path.join(self.data_dir, "tls", "ca.pem"))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class Client:
    """ARM calls with a token of the default principal; one connection per thread."""

    def __init__(self, port, ca_file):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=ca_file)
        self.local = threading.local()
        self.token = None
        status, body, _ = self.call("POST", "/adfs/oauth2/token",
                                    f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}",
                                    form=True)
        self.token = body["access_token"]

    def connection(self):
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        return self.local.conn

    def call(self, method, path, body=None, form=False):
        headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.local.conn = None
            raise
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return response.status, parsed, dict(response.getheaders())


class Ledger:
    """What the client was told: writes and deletes acknowledged, operations handed out."""

    def __init__(self):
        self.lock = threading.Lock()
        self.present = {}     # path -> True (acknowledged write) / False (acknowledged delete)
        self.operations = []  # status URLs (path and query) of long-running operations
        self.deployments = []

    def wrote(self, path, headers):
        with self.lock:
            self.present[path] = True
            self._operation(headers)

    def deleted(self, path, headers):
        with self.lock:
            self.present[path] = False
            for p in list(self.present):
                if p.lower().startswith(path.lower() + "/"):
                    self.present[p] = False
            self._operation(headers)

    def _operation(self, headers):
        url = headers.get("Azure-AsyncOperation") or headers.get("azure-asyncoperation")
        if url:
            self.operations.append(re.sub(r"^https://[^/]+", "", url))


def acknowledged(ledger, client, method, path, body=None):
    """One call; the ledger learns of it only when the answer was 2xx."""
    try:
        status, _, headers = client.call(method, path, body)
    except (OSError, http.client.HTTPException):
        return False  # the kill interrupted it: never acknowledged
    if 200 <= status < 300:
        (ledger.deleted if method == "DELETE" else ledger.wrote)(path.split("?")[0], headers)
        return True
    return False


# --- workloads: each runs until `stop` is set (the kill) ------------------------------------

def setup_source(client, rg, location="westus"):
    client.call("PUT", group(rg) + GROUP_API, {"location": location})
    snap = f"{group(rg)}/providers/Microsoft.Compute/snapshots/os"
    client.call("PUT", snap + DISK_API, {"location": location, "properties": {
        "osType": "Linux", "creationData": {"createOption": "Empty"}, "diskSizeGB": 30}})
    return snap


def setup_definition(client, rg, g, image, location="westus"):
    client.call("PUT", gallery(rg, g) + GALLERY_API, {"location": location})
    client.call("PUT", f"{gallery(rg, g)}/images/{image}" + GALLERY_API, {"location": location, "properties": {
        "osType": "Linux", "osState": "Generalized", "identifier": {"publisher": "p", "offer": "o", "sku": image}}})


def version_body(snap, regions):
    return {"location": "westus", "properties": {
        "storageProfile": {"osDiskImage": {"source": {"id": snap}}},
        "publishingProfile": {"targetRegions": [{"name": r, "regionalReplicaCount": 1} for r in regions]}}}


def gallery_writes(client, ledger, stop, round_no):
    client.call("PUT", group("crash") + GROUP_API, {"location": "westus"})

    def writer(tag):
        i = 0
        while not stop.is_set():
            acknowledged(ledger, client, "PUT", gallery("crash", f"g{round_no}x{tag}x{i}") + GALLERY_API,
                         {"location": "westus", "tags": {"round": str(round_no)}})
            i += 1
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(2)]
    return threads


def version_burst(client, ledger, stop, round_no):
    snap = setup_source(client, "crash")
    setup_definition(client, "crash", "vg", f"d{round_no}")

    def writer(tag):
        i = 0
        while not stop.is_set():
            path = f"{gallery('crash', 'vg')}/images/d{round_no}/versions/{tag}.{i}.0"
            acknowledged(ledger, client, "PUT", path + GALLERY_API, version_body(snap, ["westus", "eastus"]))
            i += 1
    return [threading.Thread(target=writer, args=(t,)) for t in range(1, 4)]


def replication(client, ledger, stop, round_no):
    snap = setup_source(client, "crash")
    setup_definition(client, "crash", "rg", f"r{round_no}")

    def writer():
        i = 0
        while not stop.is_set() and i < 6:
            path = f"{gallery('crash', 'rg')}/images/r{round_no}/versions/1.{i}.0"
            acknowledged(ledger, client, "PUT", path + GALLERY_API,
                         version_body(snap, ["westus", "eastus", "westeurope"]))
            i += 1
        stop.wait()
    return [threading.Thread(target=writer)]


def group_delete(client, ledger, stop, round_no):
    rg = f"doomed{round_no}"
    snap = setup_source(client, rg)
    setup_definition(client, rg, "dg", "d")
    for i in range(3):
        client.call("PUT", f"{gallery(rg, 'dg')}/images/d/versions/1.{i}.0" + GALLERY_API,
                    version_body(snap, ["westus"]))

    def deleter():
        acknowledged(ledger, client, "DELETE", group(rg) + GROUP_API)
        stop.wait()
    return [threading.Thread(target=deleter)]


def deployment(client, ledger, stop, round_no):
    snap = setup_source(client, "crash")
    resources = [{"type": "Microsoft.Compute/galleries", "apiVersion": "2022-03-03", "name": f"dep{round_no}",
                  "location": "westus"}]
    for d in range(4):
        resources.append({"type": "Microsoft.Compute/galleries/images", "apiVersion": "2022-03-03",
                          "name": f"dep{round_no}/img{d}", "location": "westus",
                          "dependsOn": [f"[resourceId('Microsoft.Compute/galleries', 'dep{round_no}')]"],
                          "properties": {"osType": "Linux", "osState": "Generalized",
                                         "identifier": {"publisher": "p", "offer": "o", "sku": f"s{d}"}}})
        resources.append({"type": "Microsoft.Compute/galleries/images/versions", "apiVersion": "2022-03-03",
                          "name": f"dep{round_no}/img{d}/1.0.0", "location": "westus",
                          "dependsOn": [f"[resourceId('Microsoft.Compute/galleries/images', 'dep{round_no}', 'img{d}')]"],
                          "properties": version_body(snap, ["westus", "eastus"])["properties"]})
    body = {"properties": {"mode": "Incremental", "template": {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0", "resources": resources}}}
    path = f"{group('crash')}/providers/Microsoft.Resources/deployments/dep{round_no}"

    def deployer():
        if acknowledged(ledger, client, "PUT", path + GROUP_API, body):
            ledger.deployments.append(path)
        stop.wait()
    return [threading.Thread(target=deployer)]


WORKLOADS = {"gallery-writes": gallery_writes, "version-burst": version_burst, "replication": replication,
             "group-delete": group_delete, "deployment": deployment}


# --- invariants ----------------------------------------------------------------------------

class Checks:
    def __init__(self):
        self.counts = {}
        self.failures = []

    def check(self, name, ok, detail=""):
        self.counts[name] = self.counts.get(name, 0) + 1
        if not ok:
            self.failures.append(f"{name}: {detail}")


def check_database(checks, db_path):
    """I1-I3, on the file as the kill left it (SQLite replays the WAL on open)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        checks.check("I1 integrity_check", db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
        orphans = db.execute("""
            SELECT r.id FROM resources r
            WHERE r.parent_key NOT LIKE '/subscriptions/%' ESCAPE '\\'
               OR (r.parent_key LIKE '/subscriptions/%/%' AND NOT EXISTS
                   (SELECT 1 FROM resources p WHERE p.key = r.parent_key))""").fetchall()
        checks.check("I2 no orphans", not orphans, f"{len(orphans)} orphans, e.g. {orphans[:3]}")
        jobless = db.execute("""
            SELECT r.id FROM resources r
            WHERE r.type_key = 'microsoft.compute/galleries/images/versions'
              AND NOT EXISTS (SELECT 1 FROM replication_jobs j WHERE j.artifact_key = r.key)""").fetchall()
        checks.check("I3 versions have replication jobs", not jobless, f"{jobless[:3]}")
    finally:
        db.close()


def wait_terminal(client, url, deadline):
    while time.monotonic() < deadline:
        status, body, _ = client.call("GET", url)
        state = body.get("status") if isinstance(body, dict) else None
        if status == 200 and state in TERMINAL:
            return state
        time.sleep(0.05)
    return None


def check_api(checks, client, ledger):
    """I4-I7 through the restarted emulator."""
    deadline = time.monotonic() + 60
    for url in ledger.operations:
        state = wait_terminal(client, url, deadline)
        checks.check("I6 operations terminal", state is not None, url)
    for path in ledger.deployments:
        state = None
        while time.monotonic() < deadline:
            _, body, _ = client.call("GET", path + GROUP_API)
            state = body.get("properties", {}).get("provisioningState") if isinstance(body, dict) else None
            if state in TERMINAL:
                break
            time.sleep(0.05)
        checks.check("I7 deployments terminal", state in TERMINAL, f"{path}: {state}")
    for path, present in ledger.present.items():
        api = GROUP_API if "/providers/" not in path or "Microsoft.Resources" in path else (
            DISK_API if "/snapshots/" in path else GALLERY_API)
        status, _, _ = client.call("GET", path + api)
        if present:
            checks.check("I4 acknowledged writes present", status == 200, f"{path}: {status}")
            continue
        # A resource-group delete answers 202 with a Location (not Azure-AsyncOperation) URL, so
        # its operation is not in the ledger: the group reads 200 ("Deleting") until it ends.
        while status == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
            status, _, _ = client.call("GET", path + api)
        checks.check("I5 acknowledged deletes gone", status == 404, f"{path}: {status}")


def run_matrix(binary, rounds, rng, workdir):
    checks = Checks()
    kill_points = 0
    for name, workload in WORKLOADS.items():
        data_dir = os.path.join(workdir, name)
        emu = Emulator(binary, data_dir, ["--replication-speed", "400", "--operation-delay-ms", "150"])
        try:
            client = emu.start()
            for round_no in range(rounds):
                ledger, stop = Ledger(), threading.Event()
                threads = workload(client, ledger, stop, round_no)
                for t in threads:
                    t.start()
                time.sleep(rng.uniform(0.05, 0.6))
                emu.kill()
                kill_points += 1
                stop.set()
                for t in threads:
                    t.join(30)
                check_database(checks, os.path.join(data_dir, "acg.db"))
                client = emu.start()
                check_api(checks, client, ledger)
        finally:
            emu.stop()
    return checks, kill_points


# --- storage faults ------------------------------------------------------------------------

def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                          capture_output=True).returncode == 0


def fill_disk(path):
    with open(os.path.join(path, "filler"), "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 16))
                f.flush()
        except OSError:
            pass


def start_with_a_gallery(checks, emu, label, rg, name):
    """Starts the emulator and writes a resource group and a gallery, checked; returns the client."""
    client = emu.start()
    client.call("PUT", group(rg) + GROUP_API, {"location": "westus"})
    status, _, _ = client.call("PUT", gallery(rg, name) + GALLERY_API, {"location": "westus"})
    checks.check(f"{label}: write before the fault", status in (200, 201), str(status))
    return client


def storage_fault(checks, binary, mount_dir, label, fault, heal):
    """Writes while the fault lasts fail with an ARM error; reads work; after heal(), writes work."""
    data_dir = os.path.join(mount_dir, "data")
    emu = Emulator(binary, data_dir, [])
    try:
        client = start_with_a_gallery(checks, emu, label, "fault", "before")
        fault()
        refused = 0
        for i in range(20):  # enough writes to need new pages
            status, body, _ = client.call("PUT", gallery("fault", f"during{i}") + GALLERY_API,
                                          {"location": "westus", "tags": {f"pad{t}": "x" * 250 for t in range(15)}})
            if status >= 400:
                if not refused:
                    print(f"  {label}: first refusal: {status} {json.dumps(body)[:300]}")
                refused += 1
                checks.check(f"{label}: refusal is an ARM error", isinstance(body, dict) and "error" in body
                             and "code" in body["error"] and "message" in body["error"], f"{status} {body}")
        checks.check(f"{label}: writes refused while it lasts", refused > 0, "every write succeeded")
        status, _, _ = client.call("GET", gallery("fault", "before") + GALLERY_API)
        checks.check(f"{label}: reads keep working", status == 200, str(status))
        heal()
        status, _, _ = client.call("PUT", gallery("fault", "after") + GALLERY_API, {"location": "westus"})
        checks.check(f"{label}: writes work once healed", status in (200, 201), str(status))
        emu.kill()
        check_database(checks, os.path.join(data_dir, "acg.db"))
        client = emu.start()
        status, _, _ = client.call("GET", gallery("fault", "after") + GALLERY_API)
        checks.check(f"{label}: healed write survives a kill", status == 200, str(status))
    finally:
        emu.stop()


def read_only_start(checks, binary, mount_dir, remount):
    """A data directory that became read-only while the emulator was down: it either serves
    reads and refuses writes with an ARM error, or refuses to start with one clear line; with
    write access back it starts and writes again, its data intact."""
    label = "read-only data dir"
    data_dir = os.path.join(mount_dir, "data")
    emu = Emulator(binary, data_dir, [])
    try:
        start_with_a_gallery(checks, emu, label, "ro", "kept")
        emu.stop()
        remount("ro")
        try:
            client = emu.start()
            status, body, _ = client.call("PUT", gallery("ro", "refused") + GALLERY_API, {"location": "westus"})
            checks.check(f"{label}: write refused with an ARM error", status >= 400 and isinstance(body, dict)
                         and "error" in body, f"{status} {body}")
            status, _, _ = client.call("GET", gallery("ro", "kept") + GALLERY_API)
            checks.check(f"{label}: reads keep working", status == 200, str(status))
            emu.stop()
        except StartFailed as failed:
            checks.check(f"{label}: refuses to start with one clear line",
                         failed.exit_code != 0 and ("read-only" in failed.message.lower()
                                                    or "readonly" in failed.message.lower()
                                                    or "permission" in failed.message.lower()), failed.message)
            print(f"  read-only start: exit {failed.exit_code}: {failed.message}")
        remount("rw")
        client = emu.start()
        status, _, _ = client.call("GET", gallery("ro", "kept") + GALLERY_API)
        checks.check(f"{label}: data intact once writable", status == 200, str(status))
        status, _, _ = client.call("PUT", gallery("ro", "after") + GALLERY_API, {"location": "westus"})
        checks.check(f"{label}: writes work once writable", status in (200, 201), str(status))
    finally:
        emu.stop()


def storage_faults(checks, binary, workdir):
    disk = os.path.join(workdir, "small-disk")
    if not mount_tmpfs(disk, "8m"):
        print("storage faults: skipped (cannot mount a tmpfs here: needs root / CAP_SYS_ADMIN)")
        return False
    try:
        storage_fault(checks, binary, disk, "full disk", lambda: fill_disk(disk),
                      lambda: os.remove(os.path.join(disk, "filler")))
        shutil.rmtree(os.path.join(disk, "data"))
        remount = lambda mode: subprocess.run(["mount", "-o", f"remount,{mode}", disk], check=True)
        read_only_start(checks, binary, disk, remount)
    finally:
        subprocess.run(["umount", "-l", disk])
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--rounds", type=int, default=6, help="kill points per workload")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    workdir = tempfile.mkdtemp(prefix="acg-crash-")
    global LOG_DIR
    LOG_DIR = workdir
    started = time.monotonic()
    try:
        checks, kill_points = run_matrix(os.path.abspath(args.binary), args.rounds, rng, workdir)
        faults = storage_faults(checks, os.path.abspath(args.binary), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"crash matrix (seed {seed}): {kill_points} kill points, storage faults "
          f"{'run' if faults else 'skipped'}, {time.monotonic() - started:.1f} s")
    for name, count in sorted(checks.counts.items()):
        print(f"  {name}: {count} checks")
    for failure in checks.failures[:50]:
        print("FAIL", failure)
    sys.exit(1 if checks.failures else 0)


if __name__ == "__main__":
    main()
