"""Helpers for the Python SDK client suite: emulator processes, step reporting, request recording.

Used by run.py in this folder. Standard library plus Debian's python3-azure only.
"""

import atexit
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager

sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's python3-azure

from azure.core.exceptions import HttpResponseError  # noqa: E402
from azure.core.pipeline.policies import SansIOHTTPPolicy  # noqa: E402

TENANT = "11111111-1111-1111-1111-111111111111"
SUB = "22222222-2222-2222-2222-222222222222"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"
SECRET = "acg-emulator-secret"

START_TIMEOUT_S = 15


# ---------------------------------------------------------------------------------------------
# Emulator processes


class Workspace:
    """A throwaway folder holding a fresh copy of the binary and every emulator's data dir.

    Everything started from it is stopped, and the folder removed, at exit (normal exit,
    SIGINT, SIGTERM)."""

    def __init__(self, binary):
        self.root = tempfile.mkdtemp(prefix="acg-python-suite.")
        self.binary = os.path.join(self.root, "acg-emulator")
        shutil.copy2(binary, self.binary)  # others rebuild build/acg-emulator: run our own copy
        self.emulators = []
        self._closed = False
        atexit.register(self.close)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame):
        self.close()
        os._exit(128 + signum)

    def start(self, name, *flags):
        emu = Emulator(self, name, flags)
        self.emulators.append(emu)
        return emu

    def close(self):
        if self._closed:
            return
        self._closed = True
        for emu in self.emulators:
            emu.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Emulator:
    def __init__(self, workspace, name, flags):
        self.name = name
        self.dir = os.path.join(workspace.root, name)
        os.makedirs(self.dir)
        self.log_path = os.path.join(self.dir, "stderr.log")
        self._log = open(self.log_path, "wb")
        cmd = [workspace.binary, "--port", "0", "--data-dir", os.path.join(self.dir, "data"),
               "--log-requests", *flags]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._log)
        line = self._first_line()
        m = re.match(r"acg-emulator \S+ listening on (https://\S+)\s*$", line)
        if not m:
            self.stop()
            raise RuntimeError(f"emulator {name}: unexpected first line {line!r}; stderr: {self.stderr_tail()}")
        self.url = m.group(1).rstrip("/")
        self.ca = os.path.join(self.dir, "data", "tls", "ca.pem")
        # Keep draining stdout so the emulator never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _first_line(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"emulator {self.name}: no start line within {START_TIMEOUT_S}s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError(f"emulator {self.name} exited with {self.proc.wait()}: "
                                       f"{self.stderr_tail()}")
                buf += chunk
        return buf.split(b"\n", 1)[0].decode(errors="replace")

    def _drain(self):
        try:
            while self.proc.stdout.read(4096):
                pass
        except (OSError, ValueError):
            pass

    def stderr_tail(self, n=20):
        try:
            with open(self.log_path, "rb") as f:
                return " | ".join(f.read().decode(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# ---------------------------------------------------------------------------------------------
# Recording what the SDK sends and receives (evidence for failures, LRO assertions)


class Recorder(SansIOHTTPPolicy):
    """Per-retry policy: one entry per HTTP exchange, (method, url, status, headers)."""

    def __init__(self):
        self.entries = []
        self._lock = threading.Lock()

    def on_response(self, request, response):
        http = response.http_response
        entry = (request.http_request.method, request.http_request.url, http.status_code,
                 dict(http.headers))
        with self._lock:
            self.entries.append(entry)

    def mark(self):
        with self._lock:
            return len(self.entries)

    def since(self, mark):
        with self._lock:
            return list(self.entries[mark:])

    @staticmethod
    def brief(entries):
        out = []
        for method, url, status, _headers in entries:
            path = re.sub(r"^https://[^/]+", "", url)
            out.append(f"{method} {path} -> {status}")
        return "; ".join(out)


# ---------------------------------------------------------------------------------------------
# Reporting


def one_line(text, limit=600):
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[:limit] + "..."


def describe(exc):
    """A one-line description of an exception, with the HTTP exchange when there is one."""
    if isinstance(exc, HttpResponseError):
        code = exc.error.code if exc.error is not None else None
        msg = exc.error.message if exc.error is not None else exc.message
        req = ""
        if exc.response is not None and exc.response.request is not None:
            r = exc.response.request
            req = f" [{r.method} {re.sub(r'^https://[^/]+', '', r.url)}]"
        return f"{type(exc).__name__} status={exc.status_code} code={code} message={msg!r}{req}"
    if isinstance(exc, AssertionError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class StepFailed(Exception):
    pass


class Step:
    def __init__(self, name):
        self.name = name
        self.reasons = []

    def check(self, cond, msg):
        """Soft check: records a reason and lets the step go on."""
        if not cond:
            self.reasons.append(msg)
        return bool(cond)

    def eq(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, expected {want!r}")

    def require(self, cond, msg):
        """Hard check: ends the step."""
        if not cond:
            raise StepFailed(msg)

    def expect_error(self, fn, exc_type, status=None, code=None, what="call"):
        """fn() must raise exc_type (with this status / error code). Returns the exception."""
        try:
            result = fn()
        except HttpResponseError as e:
            got_code = e.error.code if e.error is not None else None
            self.check(isinstance(e, exc_type),
                       f"{what}: raised {type(e).__name__}, expected {exc_type.__name__} ({describe(e)})")
            if status is not None:
                self.check(e.status_code == status, f"{what}: status {e.status_code}, expected {status} ({describe(e)})")
            if code is not None:
                self.check(got_code is not None and got_code.lower() == code.lower(),
                           f"{what}: error.code {got_code!r}, expected {code!r} ({describe(e)})")
            return e
        self.reasons.append(f"{what}: no error raised, expected {exc_type.__name__}"
                            f"{' ' + str(status) if status else ''}{' ' + code if code else ''}; returned {result!r}")
        return None


class Suite:
    def __init__(self, label):
        self.label = label
        self.passed = 0
        self.failed = 0
        self.failures = []

    @contextmanager
    def step(self, name):
        st = Step(name)
        try:
            yield st
        except StepFailed as e:
            st.reasons.append(str(e))
        except Exception as e:  # noqa: BLE001 - every failure is reported, the suite goes on
            st.reasons.append(describe(e))
            if os.environ.get("ACG_SUITE_TRACEBACK"):
                traceback.print_exc()
        if st.reasons:
            self.failed += 1
            line = f"FAIL {name}: {one_line('; '.join(st.reasons))}"
            self.failures.append(line)
        else:
            self.passed += 1
            line = f"PASS {name}"
        print(line, flush=True)

    def skip_fail(self, name, reason):
        self.failed += 1
        print(f"FAIL {name}: {one_line(reason)}", flush=True)

    def summary(self):
        print(f"{self.label}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def finish(poller, timeout=30):
    """poller.result() with a ceiling: a never-ending operation fails the step instead of hanging."""
    poller.wait(timeout=timeout)
    if not poller.done():
        raise StepFailed(f"long-running operation still {poller.status()!r} after {timeout}s")
    return poller.result()


def run_phases(label, argv, phases, run):
    """The suites' common driver. argv[1] (default build/acg-emulator) is the binary; for each
    phase (name, flags, payload) an emulator is started with flags and `run(suite, emu, payload)`
    drives it; an emulator that died meanwhile fails the phase. Prints the run time and the
    summary line "<label>: N passed, M failed"; returns the exit code."""
    repo_root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
    binary = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(repo_root, "build", "acg-emulator"))
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"{label}: emulator binary not found or not executable: {binary}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    suite = Suite(label)
    ws = Workspace(binary)
    try:
        for name, flags, payload in phases(ws) if callable(phases) else phases:
            try:
                emu = ws.start(name, *flags)
            except Exception as e:  # noqa: BLE001
                suite.skip_fail(f"{name}: start emulator {' '.join(flags)}", describe(e))
                continue
            run(suite, emu, payload)
            if emu.proc.poll() is not None:
                suite.skip_fail(f"{name}: emulator still running", f"exited with {emu.proc.returncode}: "
                                f"{emu.stderr_tail()}")
    finally:
        ws.close()
    print(f"{label} suite: run time {time.monotonic() - t0:.1f}s", flush=True)
    return suite.summary()
