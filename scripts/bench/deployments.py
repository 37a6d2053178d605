#!/usr/bin/env python3
"""Template deployment throughput: one deployment of a copy loop of N galleries plus one image
definition each (2N resource writes through the pipeline), on an --in-memory emulator with
--replication-speed instant. Prints the wall time from PUT to Succeeded (status polled every
0.25 s, as a client would), resources per second and the emulator's peak RSS.

    python3 scripts/bench/deployments.py [path-to-acg-emulator] [N ...]     (default N: 50 400)
"""

import json
import re
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

SUB = "22222222-2222-2222-2222-222222222222"
TOKEN_FORM = ("grant_type=client_credentials&client_id=33333333-3333-3333-3333-333333333333"
              "&client_secret=acg-emulator-secret&scope=https://management.azure.com/.default")


class Emulator:
    def __init__(self, binary):
        self.dir = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen([binary, "--port", "0", "--data-dir", self.dir.name, "--replication-speed", "instant"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        self.url = re.search(r"https://\S+", line).group(0)
        self.ctx = ssl.create_default_context(cafile=self.dir.name + "/tls/ca.pem")
        self.token = self.call("POST", "/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token", form=TOKEN_FORM)["access_token"]

    def call(self, method, path, body=None, form=None):
        data = form.encode() if form else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/x-www-form-urlencoded" if form else "application/json")
        if getattr(self, "token", None):
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, context=self.ctx) as r:
            return json.loads(r.read() or b"{}")

    def peak_rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(next(l for l in f if l.startswith("VmHWM")).split()[1]) // 1024

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        self.dir.cleanup()


def template(n):
    gallery = {"type": "Microsoft.Compute/galleries", "apiVersion": "2022-03-03", "name": "[concat('g', copyIndex())]",
               "location": "westus", "copy": {"name": "galleries", "count": n}}
    image = {"type": "Microsoft.Compute/galleries/images", "apiVersion": "2022-03-03",
             "name": "[concat('g', copyIndex(), '/def')]", "location": "westus", "copy": {"name": "images", "count": n},
             "dependsOn": ["[resourceId('Microsoft.Compute/galleries', concat('g', copyIndex()))]"],
             "properties": {"osType": "Linux", "osState": "Generalized",
                            "identifier": {"publisher": "p", "offer": "o", "sku": "[concat('s', copyIndex())]"}}}
    return {"resources": [gallery, image]}


def run(binary, n):
    emu = Emulator(binary)
    try:
        emu.call("PUT", f"/subscriptions/{SUB}/resourcegroups/rg?api-version=2021-04-01", {"location": "westus"})
        path = f"/subscriptions/{SUB}/resourcegroups/rg/providers/Microsoft.Resources/deployments/bench?api-version=2021-04-01"
        started = time.time()
        emu.call("PUT", path, {"properties": {"mode": "Incremental", "template": template(n)}})
        while (state := emu.call("GET", path)["properties"]["provisioningState"]) not in ("Succeeded", "Failed", "Canceled"):
            time.sleep(0.25)
        seconds = time.time() - started
        print(f"{2 * n} resources ({n} galleries + {n} definitions): {state} in {seconds:.2f} s, "
              f"{2 * n / seconds:.0f} resources/s, peak RSS {emu.peak_rss_mib()} MiB")
    finally:
        emu.close()


if __name__ == "__main__":
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/acg-emulator"
    for n in [int(a) for a in sys.argv[2:]] or [50, 400]:
        run(binary, n)
