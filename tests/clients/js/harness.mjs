// Helpers for the JavaScript SDK client suite (run.mjs): emulator processes, step reporting,
// request recording, the emulator's admin API. Node's standard library only; the SDKs are
// imported by run.mjs.
//
// Mirrors tests/clients/python/emulator_harness.py: a throwaway workspace holding a private copy
// of the binary, one emulator per phase on port 0 with its own data dir, one PASS/FAIL line per
// step and a final "<label>: N passed, M failed" line.

import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, accessSync, constants } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { isRestError } from "@azure/arm-compute";

export const TENANT = "11111111-1111-1111-1111-111111111111";
export const SUB = "22222222-2222-2222-2222-222222222222";
export const CLIENT_ID = "33333333-3333-3333-3333-333333333333";
export const SECRET = "acg-emulator-secret";

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const STEP_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Emulator processes

/** A throwaway folder holding a fresh copy of the binary and every emulator's data dir. */
export class Workspace {
  constructor(binary) {
    this.root = mkdtempSync(join(tmpdir(), "acg-js-suite."));
    this.binary = join(this.root, "acg-emulator");
    copyFileSync(binary, this.binary); // others rebuild build/acg-emulator: run our own copy
    this.emulators = [];
    this.closed = false;
    // An interrupted run must not leave emulators or temp dirs behind.
    for (const sig of ["SIGINT", "SIGTERM"]) {
      process.on(sig, () => {
        this.killAll();
        rmSync(this.root, { recursive: true, force: true });
        process.exit(128 + (sig === "SIGINT" ? 2 : 15));
      });
    }
  }

  async start(name, flags) {
    const emu = new Emulator(this, name, flags);
    this.emulators.push(emu);
    await emu.started();
    return emu;
  }

  killAll() {
    for (const emu of this.emulators) emu.proc.kill("SIGKILL");
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    for (const emu of this.emulators) await emu.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}

export class Emulator {
  constructor(workspace, name, flags) {
    this.name = name;
    this.dir = join(workspace.root, name);
    mkdirSync(this.dir);
    this.logPath = join(this.dir, "stderr.log");
    const logFd = openSync(this.logPath, "w");
    const dataDir = join(this.dir, "data");
    // --log-requests: the stderr log is the evidence when a step fails.
    this.proc = spawn(workspace.binary, ["--port", "0", "--data-dir", dataDir, "--log-requests", ...flags],
      { stdio: ["ignore", "pipe", logFd] });
    closeSync(logFd); // the child has its own copy
    this.exitCode = null;
    this.exited = new Promise((res) => this.proc.on("exit", (code, signal) => {
      this.exitCode = code ?? signal;
      res();
    }));
    this.caPath = join(dataDir, "tls", "ca.pem");
  }

  /** Waits for "acg-emulator <version> listening on https://..." and reads the generated CA. */
  started() {
    return new Promise((res, rej) => {
      let buf = "";
      const timer = setTimeout(() => fail(`no start line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      const fail = (why) => {
        clearTimeout(timer);
        this.proc.kill("SIGKILL");
        rej(new Error(`emulator ${this.name}: ${why}; stderr: ${this.stderrTail()}`));
      };
      const onData = (chunk) => {
        buf += chunk.toString();
        const nl = buf.indexOf("\n");
        if (nl < 0) return;
        this.proc.stdout.off("data", onData);
        this.proc.stdout.resume(); // keep draining so the emulator never blocks on a full pipe
        this.proc.off("exit", onExit);
        clearTimeout(timer);
        const m = /^acg-emulator \S+ listening on (https:\/\/\S+)\s*$/.exec(buf.slice(0, nl));
        if (!m) return fail(`unexpected first line ${JSON.stringify(buf.slice(0, nl))}`);
        this.url = m[1].replace(/\/$/, "");
        this.ca = readFileSync(this.caPath);
        res();
      };
      const onExit = (code) => fail(`exited with ${code} before listening`);
      this.proc.stdout.on("data", onData);
      this.proc.on("exit", onExit);
    });
  }

  get running() {
    return this.exitCode === null;
  }

  stderrTail(n = 20) {
    try {
      return readFileSync(this.logPath, "utf8").trim().split("\n").slice(-n).join(" | ");
    } catch {
      return "";
    }
  }

  /** The --log-requests lines ("METHOD /path STATUS ...") that report a 5xx status. */
  serverErrors() {
    return readFileSync(this.logPath, "utf8").split("\n").filter((l) => /^[A-Z]+ \S+ 5\d\d\b/.test(l));
  }

  async stop() {
    if (!this.running) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** The emulator's admin API (/_emulator/..., no token). Resolves to the parsed JSON body. */
  admin(method, path, body) {
    const url = new URL(path, this.url + "/");
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((res, rej) => {
      const req = httpsRequest(url, {
        method, ca: this.ca,
        headers: payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {},
      }, (resp) => {
        let text = "";
        resp.on("data", (c) => (text += c));
        resp.on("end", () => {
          if (resp.statusCode >= 300) return rej(new Error(`${method} ${path}: ${resp.statusCode} ${text}`));
          res(text ? JSON.parse(text) : null);
        });
      });
      req.on("error", rej);
      req.end(payload);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Recording what the SDK sends and receives (LRO and api-version assertions, failure evidence)

/** A per-retry pipeline policy: one entry per HTTP exchange. Add it with additionalPolicies. */
export class Recorder {
  constructor() {
    this.entries = [];
    this.name = "acgSuiteRecorder";
  }

  async sendRequest(request, next) {
    const response = await next(request);
    this.entries.push({
      method: request.method, url: request.url, status: response.status,
      asyncOperation: response.headers.get("azure-asyncoperation"),
      location: response.headers.get("location"),
      retryAfter: response.headers.get("retry-after"),
      error: response.status >= 400 ? armErrorOf(response.bodyAsText) : undefined,
    });
    return response;
  }

  policyConfig() {
    return { policy: this, position: "perRetry" };
  }

  mark() {
    return this.entries.length;
  }

  since(mark) {
    return this.entries.slice(mark);
  }

  static brief(entries) {
    return entries.map((e) => `${e.method} ${pathOf(e.url)} -> ${e.status}`).join("; ");
  }
}

/** The ARM error of an error body ({"error":{"code","message","target"}}), if it has one. */
function armErrorOf(text) {
  try {
    return JSON.parse(text ?? "").error;
  } catch {
    return undefined;
  }
}

export function pathOf(url) {
  const u = new URL(url);
  return u.pathname + u.search;
}

export function apiVersionOf(url) {
  return new URL(url).searchParams.getAll("api-version");
}

// ---------------------------------------------------------------------------------------------
// Reporting

function oneLine(text, limit = 600) {
  const t = String(text).replace(/\s+/g, " ").trim();
  return t.length <= limit ? t : t.slice(0, limit) + "...";
}

/** One line describing an error, with the HTTP exchange when there is one. */
export function describe(err) {
  if (err instanceof StepFailed) return err.message;
  if (isRestError(err)) {
    const req = err.request ? ` [${err.request.method} ${pathOf(err.request.url)}]` : "";
    return `RestError status=${err.statusCode} code=${err.code} message=${JSON.stringify(err.message)}${req}`;
  }
  return `${err?.name ?? typeof err}: ${err?.message ?? err}`;
}

export class StepFailed extends Error {}

/** JSON with object keys sorted: ARM does not promise the order of tags or other maps. */
function canonical(value) {
  return JSON.stringify(value, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

export class Step {
  constructor(name) {
    this.name = name;
    this.reasons = [];
  }

  /** Soft check: records a reason and lets the step go on. */
  check(cond, msg) {
    if (!cond) this.reasons.push(msg);
    return Boolean(cond);
  }

  eq(got, want, what) {
    const g = canonical(got);
    const w = canonical(want);
    return this.check(g === w, `${what}: got ${g}, expected ${w}`);
  }

  /** Hard check: ends the step. */
  require(cond, msg) {
    if (!cond) throw new StepFailed(msg);
  }

  /** fn() must reject with a RestError of this status and error code. Returns the error. */
  async expectRestError(fn, status, code, what) {
    let result;
    try {
      result = await fn();
    } catch (e) {
      if (!isRestError(e)) {
        this.reasons.push(`${what}: rejected with ${describe(e)}, expected RestError ${status} ${code}`);
        return e;
      }
      this.check(e.statusCode === status, `${what}: status ${e.statusCode}, expected ${status} (${describe(e)})`);
      if (code !== undefined) {
        this.check(e.code === code, `${what}: code ${e.code}, expected ${code} (${describe(e)})`);
      }
      return e;
    }
    this.reasons.push(`${what}: resolved (${oneLine(JSON.stringify(result) ?? "undefined", 200)}), ` +
      `expected RestError ${status} ${code}`);
    return undefined;
  }

  /** fn() must reject with some error; returns it (undefined, and a reason, if it resolved). */
  async expectRejection(fn, what) {
    try {
      const result = await fn();
      this.reasons.push(`${what}: resolved (${oneLine(JSON.stringify(result) ?? "undefined", 200)}), expected an error`);
      return undefined;
    } catch (e) {
      return e;
    }
  }
}

export class Suite {
  constructor(label) {
    this.label = label;
    this.passed = 0;
    this.failed = 0;
  }

  /**
   * Runs one named step; every failure is reported and the suite goes on. A step that hangs (an
   * operation the emulator never finishes, polled by a poller without a ceiling) fails after
   * STEP_TIMEOUT_MS instead of holding up the run until CTest kills it.
   */
  async step(name, fn) {
    const st = new Step(name);
    let timer;
    const ceiling = new Promise((_, rej) => {
      timer = setTimeout(() => rej(new StepFailed(`step still running after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
    });
    try {
      await Promise.race([fn(st), ceiling]);
    } catch (e) {
      st.reasons.push(describe(e));
      if (process.env.ACG_SUITE_TRACEBACK && !(e instanceof StepFailed)) console.error(e);
    }
    clearTimeout(timer);
    this.report(name, st.reasons);
  }

  report(name, reasons) {
    if (reasons.length) {
      this.failed += 1;
      console.log(`FAIL ${name}: ${oneLine(reasons.join("; "))}`);
    } else {
      this.passed += 1;
      console.log(`PASS ${name}`);
    }
  }

  summary() {
    console.log(`${this.label}: ${this.passed} passed, ${this.failed} failed`);
    return this.failed ? 1 : 0;
  }
}

/** Awaits an LRO poller with a ceiling: a never-ending operation fails the step instead of hanging. */
export async function finish(poller, timeoutMs = 20_000) {
  // core-lro 3 pollers expose operationState, core-lro 2 ones getOperationState().
  const status = () => (poller.operationState ?? poller.getOperationState?.())?.status;
  let timer;
  const ceiling = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new StepFailed(`long-running operation still ${status()} after ${timeoutMs} ms`)),
      timeoutMs);
  });
  try {
    return await Promise.race([poller.pollUntilDone(), ceiling]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The suite's driver. argv[2] (default build/acg-emulator) is the binary; for each phase
 * {name, flags, run} an emulator is started with flags and `run(suite, emu)` drives it; an
 * emulator that died meanwhile fails the phase. Prints the run time and the summary line;
 * returns the exit code.
 */
export async function runPhases(label, argv, phases) {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
  const binary = resolve(argv[2] ?? join(repoRoot, "build", "acg-emulator"));
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    console.error(`${label}: emulator binary not found or not executable: ${binary}`);
    return 2;
  }
  const t0 = performance.now();
  const suite = new Suite(label);
  const ws = new Workspace(binary);
  try {
    for (const phase of typeof phases === "function" ? phases(ws) : phases) {
      let emu;
      try {
        emu = await ws.start(phase.name, phase.flags);
      } catch (e) {
        suite.report(`${phase.name}: start emulator ${phase.flags.join(" ")}`, [describe(e)]);
        continue;
      }
      await phase.run(suite, emu);
      const reasons = emu.running ? [] : [`exited with ${emu.exitCode}: ${emu.stderrTail()}`];
      // No step expects a 5xx: one means the emulator failed a request it should have answered.
      const serverErrors = emu.serverErrors();
      if (serverErrors.length) reasons.push(`5xx answers in its log: ${serverErrors.join(" | ")}`);
      suite.report(`${phase.name}: emulator still running, no 5xx answers`, reasons);
      await emu.stop();
    }
  } finally {
    await ws.close();
  }
  console.log(`${label} suite: run time ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  return suite.summary();
}
