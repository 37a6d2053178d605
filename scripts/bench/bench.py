#!/usr/bin/env python3
"""acg-emulator benchmark driver (stdlib only).  Normally run through scripts/bench.sh.

Measures, against loopback only:
  1. start-up time to the first 200 from /_emulator/health (--in-memory, fresh --data-dir,
     second start on the same --data-dir), median of N runs, plus the cost of one probe;
  2. RSS (VmRSS/VmHWM from /proc/PID/status) after start, after a few requests, after load;
  3. wrk HTTPS keep-alive: GET /_emulator/health vs GET of one gallery (bearer token);
  4. wrk PUT galleries (changing bodies, rotating names) against a --data-dir emulator,
     then the SQLite database / WAL sizes;
  5. the GET test again with --io-threads 2 --worker-threads 2.
Every loop is bounded in count and time; every emulator started here is stopped here
(and its pid is written to WORKDIR/pids so the shell wrapper's trap can kill it too).
"""

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

TENANT = "11111111-1111-1111-1111-111111111111"
SUB = "22222222-2222-2222-2222-222222222222"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"
CLIENT_SECRET = "acg-emulator-secret"
RG = "bench-rg"
GALLERY = "benchgallery"
PUT_NAMES = 256

LISTEN_RE = re.compile(r"listening on https://127\.0\.0\.1:(\d+)")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def now():
    return time.monotonic()


def insecure_ctx():
    # Loopback only; the in-memory emulator's CA is not on disk, so skip verification here.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


INSECURE = insecure_ctx()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "Threads"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime+stime of the whole process (all threads), seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def sys_cpu_jiffies():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    # user nice system idle iowait irq softirq steal: count only process time (user+nice+system)
    # so that loopback softirq work is not mistaken for other processes.
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:9]]
    return vals[0] + vals[1] + vals[2], sum(vals)


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def background_load(seconds=2.0):
    """CPUs kept busy by everything else on the machine, sampled before the benchmark."""
    b0, _ = sys_cpu_jiffies()
    t = now()
    time.sleep(seconds)
    b1, _ = sys_cpu_jiffies()
    with open("/proc/loadavg") as f:
        la = f.read().split()[:3]
    return {"busy_cpus": round((b1 - b0) / CLK_TCK / (now() - t), 2), "loadavg": la}


class Emulator:
    """One emulator process.  start() blocks until /_emulator/health answers 200."""

    def __init__(self, binary, workdir, args, label):
        self.binary = binary
        self.workdir = workdir
        self.args = list(args)
        self.label = label
        self.proc = None
        self.port = None
        self.banner_at = None
        self.t0 = None
        self.ready_at = None
        self.probes = 0
        self.stderr_path = os.path.join(workdir, f"emulator-{label}.stderr")
        self._stdout_lines = []

    def _register(self, pid):
        with open(os.path.join(self.workdir, "pids"), "a") as f:
            f.write(f"{pid}\n")

    def _reader(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if self.banner_at is None and LISTEN_RE.search(line):
                self.banner_at = now()
            self._stdout_lines.append(line)

    def start(self, timeout=15.0, poll_sleep=0.0005):
        self.port = free_port()
        cmd = [self.binary, "--port", str(self.port)] + self.args
        errf = open(self.stderr_path, "ab")
        self.t0 = now()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        errf.close()
        self._register(self.proc.pid)
        threading.Thread(target=self._reader, daemon=True).start()
        deadline = self.t0 + timeout
        # Tight poll: connect + TLS handshake + GET on a new connection every attempt;
        # connection refused comes back in microseconds, so sleep a little between attempts.
        while True:
            self.probes += 1
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=INSECURE, timeout=2)
                conn.request("GET", "/_emulator/health")
                r = conn.getresponse()
                r.read()
                conn.close()
                if r.status == 200:
                    self.ready_at = now()
                    break
            except (OSError, http.client.HTTPException):
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label}: emulator exited with {self.proc.returncode} during start-up; "
                                   f"stderr: {self.stderr_tail()}")
            if now() > deadline or self.probes > 200000:
                raise RuntimeError(f"{self.label}: no 200 from /_emulator/health within {timeout}s")
            time.sleep(poll_sleep)
        # The banner line is printed before/around the first accept; give the reader a moment.
        end = now() + 1.0
        while self.banner_at is None and now() < end:
            time.sleep(0.001)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def startup_ms(self):
        return (self.ready_at - self.t0) * 1000.0

    def banner_ms(self):
        return None if self.banner_at is None else (self.banner_at - self.t0) * 1000.0

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self, n=2000):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
            return data[-n:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        """SIGTERM, wait (bounded), SIGKILL if needed.  Returns (exit code, shutdown ms)."""
        if self.proc is None:
            return None, None
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t = now()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(timeout=5)
            log(f"  ! {self.label}: did not exit within {timeout}s of SIGTERM, killed")
        return rc, (now() - t) * 1000.0

    # --- HTTP helpers (a fresh connection per call; only used for set-up) ---
    def request(self, method, path, body=None, headers=None, ctx=INSECURE):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def token(self):
        form = (f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
                "&scope=https://management.azure.com/.default")
        st, body = self.request("POST", f"/{TENANT}/oauth2/v2.0/token", form,
                                {"Content-Type": "application/x-www-form-urlencoded"})
        if st != 200:
            raise RuntimeError(f"token request -> {st}: {body[:300]!r}")
        return json.loads(body)["access_token"]

    def arm(self, method, path, token, doc=None):
        headers = {"Authorization": f"Bearer {token}"}
        body = None
        if doc is not None:
            body = json.dumps(doc)
            headers["Content-Type"] = "application/json"
        return self.request(method, path, body, headers)


def rg_path(rg=RG):
    return f"/subscriptions/{SUB}/resourcegroups/{rg}?api-version=2021-04-01"


def gallery_path(name, rg=RG):
    return (f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{name}"
            "?api-version=2022-03-03")


def setup_gallery(emu):
    """Token + resource group + one gallery; returns the token.  Checks the answers."""
    tok = emu.token()
    st, body = emu.arm("PUT", rg_path(), tok, {"location": "westus"})
    if st not in (200, 201):
        raise RuntimeError(f"PUT resource group -> {st}: {body[:300]!r}")
    st, body = emu.arm("PUT", gallery_path(GALLERY), tok,
                       {"location": "westus", "properties": {"description": "benchmark gallery"}})
    if st not in (200, 201):
        raise RuntimeError(f"PUT gallery -> {st}: {body[:300]!r}")
    st, body = emu.arm("GET", gallery_path(GALLERY), tok)
    if st != 200 or json.loads(body).get("name") != GALLERY:
        raise RuntimeError(f"GET gallery -> {st}: {body[:300]!r}")
    return tok


# ---------------------------------------------------------------- wrk

def run_wrk(url, duration, label, workdir, script, headers=(), script_args=(), connections=50, threads=2):
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "5s",
           "--latency", "-s", os.path.join(HERE, script)]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    if script_args:
        cmd += ["--"] + list(script_args)
    log(f"  wrk {label}: {duration}s, {connections} connections, {threads} threads ...")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=duration + 60)
    out = p.stdout.decode(errors="replace")
    with open(os.path.join(workdir, f"wrk-{label}.txt"), "w") as f:
        f.write(out + p.stderr.decode(errors="replace"))
    m = re.search(r"^BENCH_JSON (\{.*\})$", out, re.M)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"wrk {label} failed (rc={p.returncode}): {out[-1500:]} {p.stderr[-500:]!r}")
    res = json.loads(m.group(1))
    res["label"] = label
    return res


def measured_wrk(emu, url, duration, label, workdir, script, **kw):
    """run_wrk + the emulator's CPU use and RSS around the run, and a liveness check."""
    c0 = cpu_seconds(emu.pid)
    w0 = children_cpu_s()
    s0, _ = sys_cpu_jiffies()
    t0 = now()
    res = run_wrk(url, duration, label, workdir, script, **kw)
    wall = now() - t0
    s1, _ = sys_cpu_jiffies()
    w1 = children_cpu_s()
    c1 = cpu_seconds(emu.pid)
    if c0 is not None and c1 is not None:
        emu_s = c1 - c0
        wrk_s = w1 - w0
        res["emulator_cpu_s"] = round(emu_s, 2)
        res["emulator_cpu_pct"] = round(100.0 * emu_s / res["duration_s"], 1)
        res["emulator_cpu_us_per_req"] = round(1e6 * emu_s / max(res["requests"], 1), 1)
        res["wrk_cpu_pct"] = round(100.0 * wrk_s / wall, 1)
        # Whatever else ran on the machine meanwhile (other builds/tests), in CPUs.
        res["other_busy_cpus"] = round(max(0.0, (s1 - s0) / CLK_TCK - emu_s - wrk_s) / wall, 2)
    res["rss_after_kb"] = read_status(emu.pid).get("VmRSS")
    res["emulator_alive"] = emu.alive()
    if not emu.alive():
        raise RuntimeError(f"emulator died during {label}: rc={emu.proc.returncode}; stderr: {emu.stderr_tail()}")
    return res


def get_suite(binary, workdir, duration, warmup, extra_args, label):
    """Health ceiling vs GET gallery on one in-memory emulator."""
    log(f"[GET {label}] emulator args: --in-memory {' '.join(extra_args)}")
    emu = Emulator(binary, workdir, ["--in-memory"] + list(extra_args), f"get-{label}").start()
    try:
        rss = {"after_start": read_status(emu.pid)}
        tok = setup_gallery(emu)
        for _ in range(20):
            emu.arm("GET", gallery_path(GALLERY), tok)
            emu.request("GET", "/_emulator/health")
        rss["after_few_requests"] = read_status(emu.pid)
        base = f"https://127.0.0.1:{emu.port}"
        auth = [f"Authorization: Bearer {tok}"]
        if warmup:
            run_wrk(base + "/_emulator/health", warmup, f"{label}-health-warmup", workdir, "get.lua")
        health = measured_wrk(emu, base + "/_emulator/health", duration, f"{label}-health", workdir, "get.lua")
        if warmup:
            run_wrk(base + gallery_path(GALLERY), warmup, f"{label}-gallery-warmup", workdir, "get.lua", headers=auth)
        gallery = measured_wrk(emu, base + gallery_path(GALLERY), duration, f"{label}-get-gallery", workdir,
                               "get.lua", headers=auth)
        rss["after_load"] = read_status(emu.pid)
        time.sleep(2)
        rss["after_load_idle_2s"] = read_status(emu.pid)
        rc, stop_ms = emu.stop()
        return {
            "args": ["--in-memory"] + list(extra_args),
            "health": health,
            "get_gallery": gallery,
            "ratio_get_gallery_to_health": round(gallery["rps"] / health["rps"], 3) if health["rps"] else None,
            "ratio_cpu_cost_health_to_gallery": (
                round(health["emulator_cpu_us_per_req"] / gallery["emulator_cpu_us_per_req"], 3)
                if health.get("emulator_cpu_us_per_req") and gallery.get("emulator_cpu_us_per_req") else None),
            "rss": rss,
            "exit_code": rc,
            "shutdown_ms": round(stop_ms, 1),
            "stderr_tail": emu.stderr_tail(500),
        }
    finally:
        emu.stop()


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def db_sizes(data_dir):
    out = {}
    for name in ("acg.db", "acg.db-wal", "acg.db-shm"):
        out[name] = file_size(os.path.join(data_dir, name))
    return out


def put_suite(binary, workdir, duration, warmup_unused, label="put"):
    data_dir = os.path.join(workdir, "put-data")
    shutil.rmtree(data_dir, ignore_errors=True)
    log(f"[PUT] emulator args: --data-dir {data_dir}")
    emu = Emulator(binary, workdir, ["--data-dir", data_dir], "put").start()
    try:
        tok = setup_gallery(emu)
        # The data-dir CA must verify the server certificate for 127.0.0.1.
        try:
            ctx = ssl.create_default_context(cafile=os.path.join(data_dir, "tls", "ca.pem"))
            st, _ = emu.request("GET", "/_emulator/health", ctx=ctx)
            tls_verify = "ok" if st == 200 else f"status {st}"
        except (OSError, ssl.SSLError) as e:
            tls_verify = f"failed: {e}"
        rss_before = read_status(emu.pid)
        sizes_before = db_sizes(data_dir)
        base = f"https://127.0.0.1:{emu.port}"
        put = measured_wrk(emu, base, duration, "put-gallery", workdir, "put_gallery.lua",
                           script_args=[tok, SUB, RG, str(PUT_NAMES)])
        sizes_after = db_sizes(data_dir)
        rss_after = read_status(emu.pid)
        # A GET gallery run on the durable (file-backed) database as well, after the writes.
        auth = [f"Authorization: Bearer {tok}"]
        get_disk = measured_wrk(emu, base + gallery_path("benchput0001"), duration, "datadir-get-gallery",
                                workdir, "get.lua", headers=auth)
        # Sanity: a PUT gallery carries the latest description.
        st, body = emu.arm("GET", gallery_path("benchput0001"), tok)
        sample = json.loads(body) if st == 200 else {"status": st}
        st, body = emu.arm("GET", f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries"
                           "?api-version=2022-03-03", tok)
        listed = None
        if st == 200:
            # Bounded walk over nextLink pages (page size 100 by default).
            doc = json.loads(body)
            listed = len(doc.get("value", []))
            for _ in range(20):
                nl = doc.get("nextLink")
                if not nl:
                    break
                path = nl.split("127.0.0.1:%d" % emu.port, 1)[-1]
                st, body = emu.arm("GET", path, tok)
                if st != 200:
                    break
                doc = json.loads(body)
                listed += len(doc.get("value", []))
        rc, stop_ms = emu.stop()
        sizes_after_stop = db_sizes(data_dir)
        return {
            "args": ["--data-dir", "<tmp>"],
            "put": put,
            "get_gallery_datadir": get_disk,
            "db_before": sizes_before,
            "db_after_put": sizes_after,
            "db_after_get_and_shutdown": sizes_after_stop,
            "rss_before_kb": rss_before.get("VmRSS"),
            "rss_after": rss_after,
            "galleries_listed": listed,
            "galleries_expected": PUT_NAMES + 1,
            "sample_gallery_description": sample.get("properties", {}).get("description"),
            "tls_verify_with_datadir_ca": tls_verify,
            "exit_code": rc,
            "shutdown_ms": round(stop_ms, 1),
            "stderr_tail": emu.stderr_tail(500),
        }
    finally:
        emu.stop()


# ---------------------------------------------------------------- start-up

def probe_cost(binary, workdir, n=30):
    """Cost of one poll attempt that succeeds: new TCP connection + TLS handshake + GET health."""
    emu = Emulator(binary, workdir, ["--in-memory"], "probe").start()
    try:
        times = []
        for _ in range(n):
            t = now()
            st, _ = emu.request("GET", "/_emulator/health")
            times.append((now() - t) * 1000.0)
            assert st == 200
        refused = []
        port = free_port()
        for _ in range(n):
            t = now()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                pass
            refused.append((now() - t) * 1000.0)
        return {"probe_success_ms_median": round(statistics.median(times), 3),
                "probe_success_ms_min": round(min(times), 3),
                "probe_refused_ms_median": round(statistics.median(refused), 3)}
    finally:
        emu.stop()


def sha256_12(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


def exec_baseline(binary, runs):
    xs = []
    for _ in range(runs):
        t = now()
        subprocess.run([binary, "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        xs.append((now() - t) * 1000.0)
    return summarize(xs)


def summarize(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": round(statistics.median(xs), 2), "min": round(min(xs), 2), "max": round(max(xs), 2),
            "n": len(xs)}


def startup_suite(binary, workdir, runs):
    log(f"[start-up] {runs} runs each: --in-memory, fresh --data-dir, second start on the same --data-dir")
    res = {"in_memory": [], "datadir_fresh": [], "datadir_second": []}
    banner = {"in_memory": [], "datadir_fresh": [], "datadir_second": []}
    probes = {"in_memory": [], "datadir_fresh": [], "datadir_second": []}
    shutdown = {"in_memory": [], "datadir_fresh": [], "datadir_second": []}
    rc_bad = []
    for i in range(runs):
        # in-memory
        emu = Emulator(binary, workdir, ["--in-memory"], "startup-mem").start()
        res["in_memory"].append(emu.startup_ms()); banner["in_memory"].append(emu.banner_ms())
        probes["in_memory"].append(emu.probes)
        rc, ms = emu.stop(); shutdown["in_memory"].append(ms)
        if rc != 0:
            rc_bad.append(("in_memory", i, rc))
        # fresh data dir, then a second start on it
        d = os.path.join(workdir, f"startup-data-{i}")
        shutil.rmtree(d, ignore_errors=True)
        for kind in ("datadir_fresh", "datadir_second"):
            emu = Emulator(binary, workdir, ["--data-dir", d], f"startup-{kind}").start()
            res[kind].append(emu.startup_ms()); banner[kind].append(emu.banner_ms())
            probes[kind].append(emu.probes)
            rc, ms = emu.stop(); shutdown[kind].append(ms)
            if rc != 0:
                rc_bad.append((kind, i, rc))
        shutil.rmtree(d, ignore_errors=True)
    out = {}
    for k in res:
        out[k] = {"ready_ms": summarize(res[k]), "banner_ms": summarize(banner[k]),
                  "probes_median": statistics.median(probes[k]), "shutdown_ms": summarize(shutdown[k]),
                  "raw_ready_ms": [round(x, 2) for x in res[k]]}
    out["nonzero_exit_codes"] = rc_bad
    return out


# ---------------------------------------------------------------- report

def fmt(x, spec="{:.1f}"):
    return "-" if x is None else spec.format(x)


def kb(x):
    return "-" if x is None else f"{x / 1024:.1f} MiB"


def size(x):
    if x is None:
        return "absent"
    if x < 1024 * 1024:
        return f"{x / 1024:.1f} KiB"
    return f"{x / 1048576:.2f} MiB"


def wrk_row(name, r):
    errs = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
    return (f"  {name:<34} {r['rps']:>10.0f} {r['lat_p50_ms']:>9.2f} {r['lat_p99_ms']:>9.2f} "
            f"{r['requests']:>9d} {r['non2xx']:>7d} {errs:>6d} {fmt(r.get('emulator_cpu_pct'), '{:.0f}%'):>7} "
            f"{fmt(r.get('emulator_cpu_us_per_req'), '{:.0f}'):>7} {fmt(r.get('wrk_cpu_pct'), '{:.0f}%'):>7} "
            f"{fmt(r.get('other_busy_cpus'), '{:.2f}'):>6}")


def print_report(rep):
    p = print
    e = rep["environment"]
    p("")
    p("=" * 100)
    p(f"acg-emulator benchmark  —  {rep['emulator_version']}  ({e['binary']}, built {e['binary_mtime']}, "
      f"sha256 {e['binary_sha256']})")
    p(f"host: {e['cpus']} CPUs, {e['platform']}; wrk and the emulator share these CPUs; "
      f"wrk {rep['config']['duration_s']}s x 50 conns x 2 threads")
    bl = rep["background_before"]
    p(f"background load before the run: {bl['busy_cpus']} CPUs busy, loadavg {' '.join(bl['loadavg'])}"
      + ("   ! other work is running: throughput numbers are depressed and noisy" if bl["busy_cpus"] > 0.3 else ""))
    p("=" * 100)
    s = rep["startup"]
    pc = rep["probe_cost"]
    p("\n1. Start-up (process spawn -> first 200 from GET /_emulator/health), ms")
    p(f"   poll: new TCP+TLS connection per attempt, {rep['config']['poll_sleep_ms']} ms sleep between attempts;"
      f" one successful probe costs ~{pc['probe_success_ms_median']:.2f} ms (median),"
      f" a refused connect ~{pc['probe_refused_ms_median']:.3f} ms")
    p(f"   baseline: spawning `acg-emulator --help` (exec + dynamic linking, exits at once) takes "
      f"{rep['exec_baseline_ms']['median']:.2f} ms median (min {rep['exec_baseline_ms']['min']:.2f})")
    p(f"   {'mode':<34} {'median':>8} {'min':>8} {'max':>8} {'banner':>8} {'probes':>7} {'stop(ms)':>9}")
    for k, name in (("in_memory", "--in-memory"), ("datadir_fresh", "--data-dir (fresh: new TLS keys)"),
                    ("datadir_second", "--data-dir (second start)")):
        r = s[k]
        p(f"   {name:<34} {r['ready_ms']['median']:>8.2f} {r['ready_ms']['min']:>8.2f} {r['ready_ms']['max']:>8.2f} "
          f"{fmt(r['banner_ms'] and r['banner_ms']['median'], '{:.2f}'):>8} {r['probes_median']:>7.0f} "
          f"{r['shutdown_ms']['median']:>9.1f}")
    p("   (banner = when the 'listening on' line reached our pipe; stop = SIGTERM -> exit)")
    if s["nonzero_exit_codes"]:
        p(f"   ! non-zero exit codes on SIGTERM: {s['nonzero_exit_codes']}")

    g = rep["get"]["defaults"]
    p("\n2. RSS (VmRSS), in-memory emulator with default threads")
    r = g["rss"]
    p(f"   after start {kb(r['after_start'].get('VmRSS'))}, after ~45 requests {kb(r['after_few_requests'].get('VmRSS'))}, "
      f"after wrk load {kb(r['after_load'].get('VmRSS'))}, 2 s later {kb(r['after_load_idle_2s'].get('VmRSS'))} "
      f"(peak VmHWM {kb(r['after_load_idle_2s'].get('VmHWM'))}, threads {r['after_start'].get('Threads')})")
    pu = rep["put"]
    p(f"   --data-dir emulator: before PUT load {kb(pu['rss_before_kb'])}, after {kb(pu['rss_after'].get('VmRSS'))} "
      f"(peak {kb(pu['rss_after'].get('VmHWM'))})")

    p("\n3/5. wrk over HTTPS keep-alive (50 connections, 2 threads)")
    hdr = (f"  {'test':<34} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'requests':>9} {'non2xx':>7} "
           f"{'sockerr':>6} {'emu CPU':>7} {'us/req':>7} {'wrk CPU':>7} {'other':>6}")
    p(hdr)
    for key, title in (("defaults", "defaults (--io-threads 1 --worker-threads 2)"),
                       ("io2_w2", "--io-threads 2 --worker-threads 2")):
        g = rep["get"].get(key)
        if not g:
            continue
        p(f"  [{title}, --in-memory]")
        p(wrk_row("GET /_emulator/health", g["health"]))
        p(wrk_row("GET gallery (bearer token)", g["get_gallery"]))
        ratio = g["ratio_get_gallery_to_health"]
        p(f"  {'':<34} GET gallery / health = {ratio * 100:.1f}%  "
          f"({'meets' if ratio >= 0.5 else 'BELOW'} the >= 50% target)")
        cr = g.get("ratio_cpu_cost_health_to_gallery")
        if cr:
            p(f"  {'':<34} by emulator CPU per request (less sensitive to other load): {cr * 100:.1f}%")
    p("  (emu CPU / wrk CPU = utime+stime over the run / wall time, 100% = one CPU; us/req = emulator CPU per\n"
      "   request; other = CPUs kept busy by unrelated processes during the run, from /proc/stat)")

    p("\n4. Gallery PUT (changing descriptions, 256 rotating names) on --data-dir (SQLite WAL)")
    p(hdr)
    p(wrk_row("PUT gallery", pu["put"]))
    p(wrk_row("GET gallery (data-dir, after PUTs)", pu["get_gallery_datadir"]))
    st = pu["put"]["statuses"]
    p(f"   statuses: {st}; galleries listed afterwards: {pu['galleries_listed']} (expected {pu['galleries_expected']})")
    p(f"   p90 {pu['put']['lat_p90_ms']:.2f} ms, p99.9 {pu['put']['lat_p999_ms']:.2f} ms, max {pu['put']['lat_max_ms']:.2f} ms")
    for k, title in (("db_before", "before PUTs"), ("db_after_put", "after PUTs"),
                     ("db_after_get_and_shutdown", "after clean shutdown")):
        d = pu[k]
        p(f"   {title:<22} acg.db {size(d['acg.db']):>11}   acg.db-wal {size(d['acg.db-wal']):>11}   "
          f"acg.db-shm {size(d['acg.db-shm']):>11}")
    p(f"   TLS verification of 127.0.0.1 with DIR/tls/ca.pem: {pu['tls_verify_with_datadir_ca']}")

    p("\nSummary")
    p(f"  {'metric':<52} {'value':>14}")
    rows = [
        ("start-up --in-memory, median ms", s["in_memory"]["ready_ms"]["median"]),
        ("start-up --data-dir fresh, median ms", s["datadir_fresh"]["ready_ms"]["median"]),
        ("start-up --data-dir second start, median ms", s["datadir_second"]["ready_ms"]["median"]),
        ("idle RSS after start + few requests, MiB", rep["get"]["defaults"]["rss"]["after_few_requests"].get("VmRSS", 0) / 1024),
    ]
    for key, title in (("defaults", "defaults"), ("io2_w2", "io2/w2")):
        g = rep["get"].get(key)
        if g:
            rows += [(f"health req/s ({title})", g["health"]["rps"]),
                     (f"GET gallery req/s ({title})", g["get_gallery"]["rps"]),
                     (f"GET gallery p99 ms ({title})", g["get_gallery"]["lat_p99_ms"]),
                     (f"GET gallery / health ({title}), %", 100 * g["ratio_get_gallery_to_health"])]
    rows += [("PUT gallery req/s (data-dir)", pu["put"]["rps"]),
             ("PUT gallery p99 ms", pu["put"]["lat_p99_ms"]),
             ("acg.db after PUTs, KiB", (pu["db_after_put"]["acg.db"] or 0) / 1024),
             ("acg.db-wal after PUTs, KiB", (pu["db_after_put"]["acg.db-wal"] or 0) / 1024)]
    for name, v in rows:
        p(f"  {name:<52} {v:>14.2f}")
    if rep["anomalies"]:
        p("\nAnomalies")
        for a in rep["anomalies"]:
            p(f"  ! {a}")
    else:
        p("\nAnomalies: none (no socket errors, no non-2xx, no crashes, exit code 0 on SIGTERM)")
    p("=" * 100)


def anomalies(rep):
    out = []
    def chk(name, r):
        errs = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
        if r["non2xx"]:
            out.append(f"{name}: {r['non2xx']} non-2xx responses {r['statuses']}")
        if errs:
            out.append(f"{name}: socket errors connect={r['err_connect']} read={r['err_read']} "
                       f"write={r['err_write']} timeout={r['err_timeout']}")
    for key, g in rep["get"].items():
        chk(f"{key} health", g["health"]); chk(f"{key} GET gallery", g["get_gallery"])
        if g["exit_code"] != 0:
            out.append(f"{key}: exit code {g['exit_code']} on SIGTERM")
        r = g["rss"]
        a, b = r["after_few_requests"].get("VmRSS"), r["after_load_idle_2s"].get("VmRSS")
        if a and b and b > 2 * a and b - a > 8192:
            out.append(f"{key}: RSS grew from {a} kB to {b} kB under load and stayed there")
        if g["stderr_tail"].strip():
            out.append(f"{key}: stderr: {g['stderr_tail'].strip()[:200]}")
    busy = [(f"{k} {t}", g[t].get("other_busy_cpus") or 0) for k, g in rep["get"].items()
            for t in ("health", "get_gallery")]
    busy += [("PUT", rep["put"]["put"].get("other_busy_cpus") or 0)]
    noisy = [f"{n} ({b:.2f})" for n, b in busy if b > 0.3]
    if noisy:
        out.append("unrelated processes kept > 0.3 CPU busy during: " + ", ".join(noisy) +
                   " -> those req/s are understated; rerun on a quiet machine to compare")
    pu = rep["put"]
    chk("PUT gallery", pu["put"]); chk("data-dir GET gallery", pu["get_gallery_datadir"])
    if pu["exit_code"] != 0:
        out.append(f"PUT emulator: exit code {pu['exit_code']} on SIGTERM")
    if pu["galleries_listed"] != pu["galleries_expected"]:
        out.append(f"PUT: listed {pu['galleries_listed']} galleries, expected {pu['galleries_expected']}")
    if pu["tls_verify_with_datadir_ca"] != "ok":
        out.append(f"TLS verify with data-dir CA: {pu['tls_verify_with_datadir_ca']}")
    stderr = pu["stderr_tail"].strip()
    if stderr and "data directory:" not in stderr.splitlines()[-1]:
        out.append(f"PUT emulator stderr: {stderr[:200]}")
    if rep["startup"]["nonzero_exit_codes"]:
        out.append(f"start-up runs with non-zero exit codes: {rep['startup']['nonzero_exit_codes']}")
    return out


def main():
    # SIGTERM/SIGHUP (e.g. from the wrapper's timeout) unwind through the finally blocks,
    # which stop the emulator that is running at that moment.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "10")))
    ap.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", "2")))
    ap.add_argument("--startup-runs", type=int, default=int(os.environ.get("BENCH_STARTUP_RUNS", "11")))
    ap.add_argument("--out", default=os.environ.get("BENCH_OUT"))
    ap.add_argument("--source-binary", default=None, help="path the binary was copied from (for the report)")
    a = ap.parse_args()
    if not (1 <= a.duration <= 120 and 0 <= a.warmup <= 30 and 1 <= a.startup_runs <= 100):
        sys.exit("duration 1..120 s, warmup 0..30 s, startup runs 1..100")

    version = subprocess.run([a.binary, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=10).stdout.decode(errors="replace").splitlines()[0]
    # Version string from the health endpoint of a throwaway instance (also checks the binary runs).
    emu = Emulator(a.binary, a.workdir, ["--in-memory"], "version").start()
    try:
        _, body = emu.request("GET", "/_emulator/health")
        version = "acg-emulator " + json.loads(body).get("version", "?")
    finally:
        emu.stop()

    rep = {
        "emulator_version": version,
        "environment": {"binary": a.source_binary or a.binary, "binary_sha256": sha256_12(a.binary),
                        "binary_mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(
                            os.path.getmtime(a.source_binary or a.binary))), "cpus": os.cpu_count(), "platform": platform.platform(),
                        "wrk": subprocess.run(["wrk", "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                        .stdout.decode(errors="replace").splitlines()[0]},
        "config": {"duration_s": a.duration, "warmup_s": a.warmup, "startup_runs": a.startup_runs,
                   "connections": 50, "wrk_threads": 2, "poll_sleep_ms": 0.5, "put_names": PUT_NAMES},
    }
    t_all = now()
    quiet_wait = min(max(int(os.environ.get("BENCH_QUIET_WAIT", "0")), 0), 600)
    waited = 0
    while quiet_wait and waited < quiet_wait:
        bl = background_load(2.0)
        if bl["busy_cpus"] < 0.3:
            break
        log(f"waiting for a quiet machine ({bl['busy_cpus']} CPUs busy; {waited}/{quiet_wait}s)")
        time.sleep(3)
        waited += 5
    rep["quiet_wait_s"] = waited
    rep["background_before"] = background_load()
    log(f"background load: {rep['background_before']}")
    rep["probe_cost"] = probe_cost(a.binary, a.workdir)
    rep["exec_baseline_ms"] = exec_baseline(a.binary, a.startup_runs)
    rep["startup"] = startup_suite(a.binary, a.workdir, a.startup_runs)
    rep["get"] = {"defaults": get_suite(a.binary, a.workdir, a.duration, a.warmup, [], "defaults")}
    rep["put"] = put_suite(a.binary, a.workdir, a.duration, a.warmup)
    rep["get"]["io2_w2"] = get_suite(a.binary, a.workdir, a.duration, a.warmup,
                                     ["--io-threads", "2", "--worker-threads", "2"], "io2_w2")
    rep["background_after"] = background_load(1.0)
    rep["anomalies"] = anomalies(rep)
    rep["elapsed_s"] = round(now() - t_all, 1)
    print_report(rep)
    write_json(rep, a.out)


def write_json(rep, path):
    """Keeps the figures as JSON (BENCH_OUT / --out), when a path is given."""
    if not path:
        return
    with open(path, "w") as f:
        json.dump(rep, f, indent=2)
    print(f"JSON report written to {path}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
