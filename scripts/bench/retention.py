#!/usr/bin/env python3
"""Time a retention plan over one image definition of N versions (default 500).

    python3 scripts/bench/retention.py [path-to-acg-emulator] [N]

Starts the emulator (port 0, throwaway data dir, instant replication), publishes N versions of
one definition over one kept-alive HTTPS connection, then times (median of 5 runs each):
  - `acg-emulator retention --keep 5 --dry-run` end to end (process start, token, listing the
    versions page by page and the VMs, planning, printing)
  - `acg-emulator cost --keep 5 --json` (the same walk plus the cost report)
  - GET /_emulator/cost?scope=<definition>&keep=5 (the planner and cost model inside the server)
"""
import http.client, json, os, ssl, statistics, subprocess, sys, tempfile, time

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/acg-emulator")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 500
SUB = "22222222-2222-2222-2222-222222222222"
work = tempfile.mkdtemp(prefix="acg-bench-retention.")
emu = subprocess.Popen([BIN, "--port", "0", "--data-dir", f"{work}/data", "--replication-speed", "instant"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    line = emu.stdout.readline()
    url = line.split("listening on ")[1].split()[0].rstrip("/")
    port = int(url.rsplit(":", 1)[1])
    ca = f"{work}/data/tls/ca.pem"
    ctx = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)

    def call(method, path, body=None, headers=None):
        conn.request(method, path, body=json.dumps(body) if isinstance(body, dict) else body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()

    status, body = call("POST", "/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token",
                        "grant_type=client_credentials&client_id=33333333-3333-3333-3333-333333333333"
                        "&client_secret=acg-emulator-secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    auth = {"Authorization": "Bearer " + json.loads(body)["access_token"], "Content-Type": "application/json"}
    rg = f"/subscriptions/{SUB}/resourceGroups/rg"
    gallery = rg + "/providers/Microsoft.Compute/galleries/gal"
    definition = gallery + "/images/linux"
    v = "?api-version=2023-07-03"
    for path, body in [(rg + "?api-version=2021-04-01", {"location": "westus"}), (gallery + v, {"location": "westus"}),
                       (definition + v, {"location": "westus", "properties": {"osType": "Linux", "osState": "Generalized",
                        "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}}),
                       (rg + "/providers/Microsoft.Compute/snapshots/os?api-version=2022-03-02",
                        {"location": "westus", "properties": {"osType": "Linux", "creationData": {"createOption": "Empty"}, "diskSizeGB": 30}})]:
        status, text = call("PUT", path, body, auth)
        assert status in (200, 201), (path, status, text)
    started = time.time()
    for i in range(N):
        body = {"location": "westus", "properties": {
            "storageProfile": {"osDiskImage": {"source": {"id": rg + "/providers/Microsoft.Compute/snapshots/os"}}},
            "publishingProfile": {"targetRegions": [{"name": "westus", "regionalReplicaCount": 2}, {"name": "eastus"}]}}}
        status, text = call("PUT", f"{definition}/versions/1.{i // 100}.{i % 100}{v}", body, auth)
        assert status == 201, (status, text)
    print(f"published {N} versions in {time.time() - started:.1f} s")

    def timed(label, fn, runs=5):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        print(f"{label}: median {statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")

    tool = [BIN, "--endpoint", url, "--ca", ca, "--scope", definition, "--keep", "5"]
    def dry_run():
        out = subprocess.run([BIN, "retention", *tool[1:], "--dry-run"], capture_output=True, text=True, check=True).stdout
        assert f"would delete {N - 5} of {N} versions" in out, out[-300:]
    def cost():
        subprocess.run([BIN, "cost", *tool[1:], "--json"], capture_output=True, text=True, check=True)
    def admin():
        status, text = call("GET", "/_emulator/cost?scope=" + definition + "&keep=5")
        assert status == 200 and json.loads(text)["retention"]["deleteCount"] == N - 5, text[:300]
    timed(f"acg-emulator retention --keep 5 --dry-run over {N} versions", dry_run)
    timed(f"acg-emulator cost --keep 5 --json over {N} versions", cost)
    timed(f"GET /_emulator/cost?keep=5 over {N} versions (in the server)", admin)
finally:
    emu.terminate()
    emu.wait()
    subprocess.run(["rm", "-rf", work])
