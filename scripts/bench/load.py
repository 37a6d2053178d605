#!/usr/bin/env python3
"""Load and soak test (README "Hardening"): 50 connections of a mixed ARM workload over HTTPS
(reads, lists, writes, long-running-operation polls, image versions replicating at a
non-instant speed, deletes) against an emulator on a data directory, with wrk.

    scripts/bench/load.py [BINARY] [--duration 60] [--connections 50] [--json FILE]
    scripts/bench/load.py --soak            (the same for 600 s)

Reports throughput, p50/p99 latency, status codes, 5xx and connection errors (target: zero of
each), RSS at start, during and at the end (target: flat), and the SQLite file and WAL sizes.
Exit status 1 when a target is missed. Reuses scripts/bench/bench.py's emulator and wrk helpers.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same folder)

DEFINITIONS = 20
RG, GALLERY = "load-rg", "loadgallery"


def group_path():
    return f"/subscriptions/{bench.SUB}/resourceGroups/{RG}"


def setup(emu):
    """Resource group, gallery, definitions, a snapshot source; returns (token, snapshot id)."""
    token = emu.token()
    checks = [("PUT", group_path() + "?api-version=2021-04-01", {"location": "westus"})]
    snapshot = f"{group_path()}/providers/Microsoft.Compute/snapshots/os"
    checks.append(("PUT", snapshot + "?api-version=2022-03-02", {"location": "westus", "properties": {
        "osType": "Linux", "creationData": {"createOption": "Empty"}, "diskSizeGB": 30}}))
    gallery = f"{group_path()}/providers/Microsoft.Compute/galleries/{GALLERY}"
    checks.append(("PUT", gallery + "?api-version=2022-03-03", {"location": "westus"}))
    for d in range(DEFINITIONS):
        checks.append(("PUT", f"{gallery}/images/def{d}?api-version=2022-03-03", {"location": "westus", "properties": {
            "osType": "Linux", "osState": "Generalized",
            "identifier": {"publisher": "load", "offer": "o", "sku": f"s{d}"}}}))
    for method, path, body in checks:
        status, answer = emu.arm(method, path, token, body)
        if status not in (200, 201, 202):
            raise RuntimeError(f"{method} {path} -> {status}: {answer[:300]!r}")
    time.sleep(1.0)  # the set-up's own long-running writes end (operation delay)
    return token, snapshot


def sample_rss(pid, stop, samples, every_s):
    while not stop.wait(every_s):
        rss = bench.read_status(pid).get("VmRSS")
        if rss is not None:
            samples.append(rss)


def run(binary, duration, connections, workdir):
    data_dir = os.path.join(workdir, "data")
    emu = bench.Emulator(binary, workdir, ["--data-dir", data_dir, "--replication-speed", "100",
                                           "--operation-delay-ms", "200"], "load")
    emu.start()
    try:
        token, snapshot = setup(emu)
        rss_start = bench.read_status(emu.pid).get("VmRSS")
        samples, stop = [], threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(emu.pid, stop, samples, max(duration / 12, 1)))
        sampler.start()
        result = bench.measured_wrk(emu, f"https://127.0.0.1:{emu.port}", duration, "load", workdir, "load.lua",
                                    script_args=[token, bench.SUB, RG, GALLERY, str(DEFINITIONS), snapshot],
                                    connections=connections, threads=2)
        stop.set()
        sampler.join()
        result.update(rss_start_kb=rss_start, rss_samples_kb=samples, rss_end_kb=bench.read_status(emu.pid).get("VmRSS"),
                      db=bench.db_sizes(data_dir), connections=connections)
        return result
    finally:
        emu.stop()


def verdicts(r):
    statuses = {int(k): v for k, v in r["statuses"].items()}
    server_errors = sum(v for k, v in statuses.items() if k >= 500)
    connection_errors = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
    half = r["rss_samples_kb"][len(r["rss_samples_kb"]) // 2:] or [r["rss_end_kb"]]
    # Flat: the second half of the run grows by less than 10% (the first half warms caches).
    growth = (max(half) - min(half)) / max(min(half), 1)
    return [("zero 5xx", server_errors == 0, f"{server_errors}"),
            ("zero connection errors", connection_errors == 0, f"{connection_errors}"),
            ("RSS flat over the second half (<10% growth)", growth < 0.10, f"{100 * growth:.1f}%")]


def report(r):
    mb = lambda kb: f"{kb / 1024:.1f} MiB" if kb is not None else "?"
    size = lambda b: f"{b / 1048576:.1f} MiB" if b is not None else "absent"
    print(f"load: {r['connections']} connections for {r['duration_s']:.0f} s: {r['requests']} requests, "
          f"{r['rps']:.0f} req/s")
    print(f"  latency p50 {r['lat_p50_ms']:.2f} ms, p99 {r['lat_p99_ms']:.2f} ms, max {r['lat_max_ms']:.1f} ms")
    print(f"  statuses {json.dumps(r['statuses'])}")
    print(f"  connection errors: connect {r['err_connect']}, read {r['err_read']}, write {r['err_write']}, "
          f"timeout {r['err_timeout']}")
    print(f"  RSS start {mb(r['rss_start_kb'])}, samples {', '.join(mb(s) for s in r['rss_samples_kb'])}, "
          f"end {mb(r['rss_end_kb'])}")
    print(f"  SQLite acg.db {size(r['db'].get('acg.db'))}, WAL {size(r['db'].get('acg.db-wal'))}")
    print(f"  emulator CPU {r.get('emulator_cpu_pct', '?')}% of one core, wrk {r.get('wrk_cpu_pct', '?')}%")
    ok = True
    for name, passed, value in verdicts(r):
        print(f"  {'PASS' if passed else 'MISS'} {name}: {value}")
        ok = ok and passed
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("binary", nargs="?", default=os.path.join(root, "build", "acg-emulator"))
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--soak", action="store_true", help="run for 600 s")
    parser.add_argument("--json", help="also write the result as JSON here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    duration = 600 if args.soak else args.duration
    workdir = tempfile.mkdtemp(prefix="acg-load-")
    try:
        binary = shutil.copy(args.binary, os.path.join(workdir, "acg-emulator"))  # a rebuild cannot change it
        result = run(binary, duration, args.connections, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    sys.exit(0 if report(result) else 1)


if __name__ == "__main__":
    main()
