// Browser test of the live dashboard (/_emulator/ui): Debian's chromium, driven headless by
// playwright-core (no browser download), against the real binary.
//
//   node tests/ui/dashboard.mjs build/acg-emulator
//
// The emulator runs on a virtual clock with realistic replication times (--replication-speed 1:
// a 30 GiB image takes ~15 simulated minutes per region), and the test moves the clock forward
// in steps through /_emulator/clock/advance, so the page shows partial progress and then 100%
// deterministically, whatever the machine's load. It creates a resource group, a gallery, a
// definition, a snapshot and a version with two target regions through the ARM API, then checks
// what the page shows, its headers, its accessibility basics and its layout at 375 px.
// Prints PASS/FAIL lines and "ui: N passed, M failed"; exits 1 on any failure. The screenshot
// goes to $CTEST_ARTIFACTS_DIR (or the binary's folder)/dashboard.png.

import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, existsSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { chromium } from "playwright-core";

const TENANT = "11111111-1111-1111-1111-111111111111";
const SUB = "22222222-2222-2222-2222-222222222222";
const CLIENT_ID = "33333333-3333-3333-3333-333333333333";
const SECRET = "acg-emulator-secret";
const CHROMIUM = "/usr/bin/chromium";
const HOME = "westus2";
const REGIONS = ["westus2", "eastus"];
const REGION_NAMES = ["West US 2", "East US"];

let passed = 0;
let failed = 0;
function check(ok, what, detail = "") {
  if (ok) passed += 1;
  else failed += 1;
  console.log(`${ok ? "PASS" : "FAIL"} ${what}${!ok && detail ? ` -- ${detail}` : ""}`);
  return ok;
}

// --- The emulator -----------------------------------------------------------------------------

const binaryArg = process.argv[2];
if (!binaryArg || !existsSync(binaryArg)) {
  console.error("usage: node dashboard.mjs <path to acg-emulator>");
  process.exit(2);
}
const artifactsDir = process.env.CTEST_ARTIFACTS_DIR || dirname(resolve(binaryArg));
const work = mkdtempSync(join(tmpdir(), "acg-ui-test."));
const binary = join(work, "acg-emulator");
copyFileSync(binaryArg, binary); // others rebuild build/acg-emulator: run a private copy
const dataDir = join(work, "data");
mkdirSync(dataDir);
const logPath = join(work, "stderr.log");
const logFd = openSync(logPath, "w");
const emulator = spawn(binary, ["--port", "0", "--data-dir", dataDir, "--virtual-clock",
  "--replication-speed", "1", "--log-requests"], { stdio: ["ignore", "pipe", logFd] });
closeSync(logFd);
let browser = null;

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  emulator.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { emulator.kill("SIGKILL"); rmSync(work, { recursive: true, force: true }); process.exit(130); });

function started() {
  return new Promise((res, rej) => {
    let buf = "";
    const timer = setTimeout(() => rej(new Error("no start line within 15 s")), 15000);
    emulator.on("exit", (code) => rej(new Error(`emulator exited with ${code}: ${readFileSync(logPath, "utf8").slice(-500)}`)));
    emulator.stdout.on("data", (chunk) => {
      buf += chunk.toString();
      const m = /^acg-emulator \S+ listening on (https:\/\/\S+)\s*\n/.exec(buf);
      if (m) {
        clearTimeout(timer);
        emulator.stdout.resume();
        res(m[1].replace(/\/$/, ""));
      }
    });
  });
}

let base = "";
let ca = null;
let token = "";

// One HTTPS request with the emulator's CA trusted. `path` is sent as is (no URL normalisation,
// so "/_emulator/ui/../x" reaches the server verbatim).
function send(method, path, { body, form, headers = {} } = {}) {
  const url = new URL(base);
  let payload;
  const h = { ...headers };
  if (form) {
    payload = new URLSearchParams(form).toString();
    h["content-type"] = "application/x-www-form-urlencoded";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["content-type"] = "application/json";
  }
  if (payload) h["content-length"] = Buffer.byteLength(payload);
  if (token && !path.startsWith("/_emulator")) h.authorization = `Bearer ${token}`;
  return new Promise((res, rej) => {
    const req = httpsRequest({ host: url.hostname, port: url.port, method, path, ca, headers: h }, (resp) => {
      let text = "";
      resp.on("data", (c) => (text += c));
      resp.on("end", () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        res({ status: resp.statusCode, headers: resp.headers, text, json });
      });
    });
    req.on("error", rej);
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${path}: timeout`)));
    if (payload) req.write(payload);
    req.end();
  });
}

const rgPath = `/subscriptions/${SUB}/resourceGroups/dashboard-rg`;
const galleryPath = `${rgPath}/providers/Microsoft.Compute/galleries/DashboardGallery`;
const imagePath = `${galleryPath}/images/ubuntu-server`;
const versionPath = `${imagePath}/versions/1.0.0`;
const snapshotPath = `${rgPath}/providers/Microsoft.Compute/snapshots/dashboard-snap`;

async function arm(method, path, apiVersion, body) {
  const r = await send(method, `${path}?api-version=${apiVersion}`, { body });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

async function advance(seconds) {
  const r = await send("POST", "/_emulator/clock/advance", { body: { seconds } });
  if (r.status !== 200) throw new Error(`clock advance: ${r.status} ${r.text}`);
}

// --- The test ---------------------------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  base = await started();
  ca = readFileSync(join(dataDir, "tls", "ca.pem"));
  check(existsSync(CHROMIUM), `chromium at ${CHROMIUM}`);

  const tok = await send("POST", `/${TENANT}/oauth2/v2.0/token`, {
    form: { grant_type: "client_credentials", client_id: CLIENT_ID, client_secret: SECRET,
      scope: "https://management.azure.com/.default" },
  });
  check(tok.status === 200 && tok.json?.access_token, "token from the emulator's token endpoint", tok.text.slice(0, 200));
  token = tok.json.access_token;

  // The dashboard's own answers: headers, assets, refusals.
  const page0 = await send("GET", "/_emulator/ui");
  check(page0.status === 200 && /^text\/html/.test(page0.headers["content-type"] || ""), "GET /_emulator/ui is HTML",
    `${page0.status} ${page0.headers["content-type"]}`);
  check(/default-src 'self'/.test(page0.headers["content-security-policy"] || ""), "strict Content-Security-Policy",
    page0.headers["content-security-policy"]);
  check(page0.headers["cache-control"] === "no-store", "Cache-Control: no-store", page0.headers["cache-control"]);
  const js = await send("GET", "/_emulator/ui/app.js");
  const css = await send("GET", "/_emulator/ui/app.css");
  check(js.status === 200 && /^text\/javascript/.test(js.headers["content-type"]) && js.text.includes("/_emulator/ui/state"),
    "app.js served as text/javascript", `${js.status} ${js.headers["content-type"]}`);
  check(css.status === 200 && /^text\/css/.test(css.headers["content-type"]), "app.css served as text/css",
    `${css.status} ${css.headers["content-type"]}`);
  for (const bad of ["/_emulator/ui/nope.js", "/_emulator/ui/../health", "/_emulator/ui/%2e%2e/health",
    "/_emulator/ui/..%2fapp.js", "/_emulator/ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/_emulator/ui/app.js/x"]) {
    const r = await send("GET", bad);
    check(r.status === 404 && !r.text.includes("\"status\":\"ok\""), `refused ${bad}`, `${r.status} ${r.text.slice(0, 120)}`);
  }
  const empty = await send("GET", "/_emulator/ui/state");
  check(empty.status === 200 && Array.isArray(empty.json?.subscriptions) && empty.json.clock?.mode === "virtual",
    "GET /_emulator/ui/state answers JSON with the clock", empty.text.slice(0, 200));

  // Resources through the ARM API.
  await arm("PUT", rgPath, "2022-09-01", { location: HOME });
  await arm("PUT", galleryPath, "2022-03-03", { location: HOME, properties: { description: "Dashboard test gallery" } });
  await arm("PUT", imagePath, "2022-03-03", {
    location: HOME,
    properties: { osType: "Linux", osState: "Generalized", hyperVGeneration: "V2",
      identifier: { publisher: "Contoso", offer: "UbuntuServer", sku: "22_04-lts" } },
  });
  await arm("PUT", snapshotPath, "2022-07-02", { location: HOME, properties: { creationData: { createOption: "Empty" }, diskSizeGB: 30 } });
  const snapshot = await arm("GET", snapshotPath, "2022-07-02");
  const created = await arm("PUT", versionPath, "2022-03-03", {
    location: HOME,
    properties: {
      publishingProfile: {
        targetRegions: [{ name: REGIONS[0], regionalReplicaCount: 1 }, { name: REGIONS[1], regionalReplicaCount: 2 }],
        storageAccountType: "Standard_LRS",
      },
      storageProfile: { osDiskImage: { source: { id: snapshot.json.id } } },
    },
  });
  check(created.json?.properties?.provisioningState === "Creating", "the version starts Creating (replication runs on the virtual clock)",
    created.json?.properties?.provisioningState);

  // The page.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  await page.goto(`${base}/_emulator/ui`);

  const version = page.locator(".version", { has: page.locator(".version-name", { hasText: "1.0.0" }) });
  await version.waitFor({ timeout: 10000 }).catch(() => {});
  check(await version.count() === 1, "the version appears in the tree");
  const bars = version.locator("[role=progressbar]");
  check(await bars.count() === 2, "one progress bar per target region", `found ${await bars.count()}`);
  for (const name of REGION_NAMES) {
    const bar = page.getByRole("progressbar", { name: new RegExp(`^${name} \\d+%$`) });
    check(await bar.count() === 1, `progress bar named "${name} N%"`);
  }

  // Part of the way: the bars show progress strictly between 0 and 100.
  await advance(300);
  const partial = await page.waitForFunction(() => {
    const values = [...document.querySelectorAll(".version [role=progressbar]")].map((b) => Number(b.getAttribute("aria-valuenow")));
    return values.length === 2 && values.every((v) => v > 0 && v < 100) ? values : null;
  }, null, { timeout: 10000 }).then((h) => h.jsonValue()).catch(() => null);
  check(partial !== null, "after 300 simulated seconds both regions show partial progress", String(partial));
  if (partial) console.log(`  progress after 300 s: ${REGION_NAMES.map((n, i) => `${n} ${partial[i]}%`).join(", ")}`);
  const busyBadge = await version.locator(".version-head .badge").textContent();
  check(busyBadge === "Creating", "the version shows Creating while it replicates", busyBadge);
  // The screenshot shows the bars mid-way (the README's picture of the dashboard).
  await page.waitForTimeout(700); // let the bars' width transition settle
  const shot = join(artifactsDir, "dashboard.png");
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`  screenshot: ${shot}`);

  // To the end, a simulated minute at a time as a trainer would step it.
  for (let i = 0; i < 40; i += 1) {
    const r = await send("GET", `${versionPath}?api-version=2022-03-03`);
    if (r.json?.properties?.provisioningState !== "Creating") break;
    await advance(60);
  }
  const done = await page.waitForFunction(() => {
    const bars = [...document.querySelectorAll(".version [role=progressbar]")];
    const badge = document.querySelector(".version .version-head .badge");
    return bars.length === 2 && bars.every((b) => b.getAttribute("aria-valuenow") === "100") && badge?.textContent === "Succeeded";
  }, null, { timeout: 10000 }).then(() => true).catch(() => false);
  check(done, "both regions reach 100% (aria-valuenow=100) and the version shows Succeeded");
  const labels = await version.locator(".region-label").allTextContents();
  check(labels.join("|") === REGION_NAMES.map((n) => `${n} 100%`).join("|"), "region labels read \"<region> 100%\"", labels.join("|"));

  // The rest of the page.
  const ops = await page.locator("#operations-body tr").allTextContents();
  check(ops.some((t) => /Succeeded/.test(t) && /1\.0\.0/.test(t)), "the version's operation is listed as Succeeded", ops.slice(0, 3).join(" / "));
  const quotas = await page.locator("#quotas-body tr").allTextContents();
  check(quotas.some((t) => /West US 2/.test(t) && t.includes("1 / 100") && t.includes("1 / 1,000") && t.includes("1 / 10,000")),
    "quota table shows in use / limit for West US 2", quotas.join(" / "));
  const clockText = await page.locator("#clock-now").textContent();
  check(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.test(clockText || ""), "the header shows the emulator clock", clockText);
  const counts = await page.locator("#counts").textContent();
  check(/1\s*Galleries/.test(counts) && /1\s*Image versions/.test(counts), "the header counts galleries and versions", counts);
  const announced = await page.locator("[aria-live=polite]").textContent();
  check(/Succeeded|Completed/.test(announced || ""), "the aria-live region announced the change", announced);

  // Accessibility basics.
  const a11y = await page.evaluate(() => {
    const named = (el) => {
      if (el.getAttribute("aria-label")) return true;
      const ids = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
      return ids.length > 0 && ids.every((id) => (document.getElementById(id)?.textContent || "").trim().length > 0);
    };
    return {
      landmarks: ["header", "nav", "main"].every((t) => document.querySelector(t)),
      h1: document.querySelectorAll("h1").length,
      unnamedBars: [...document.querySelectorAll("[role=progressbar], progress")].filter((b) => !named(b)).length,
      barsWithRange: [...document.querySelectorAll("[role=progressbar]")].every((b) =>
        b.getAttribute("aria-valuemin") === "0" && b.getAttribute("aria-valuemax") === "100" && b.hasAttribute("aria-valuenow")),
      lang: document.documentElement.lang,
    };
  });
  check(a11y.landmarks && a11y.h1 === 1 && a11y.lang === "en", "landmarks header/nav/main, one h1, lang", JSON.stringify(a11y));
  check(a11y.unnamedBars === 0 && a11y.barsWithRange, "every progress bar has an accessible name and a 0-100 range", JSON.stringify(a11y));
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement?.textContent);
  check(first === "Skip to content", "the first Tab reaches the skip link", first);

  // A phone-sized window: no horizontal scrolling of the page.
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  check(overflow.scroll <= overflow.inner, "no horizontal overflow at 375 px", JSON.stringify(overflow));
  await page.evaluate(() => document.activeElement?.blur());
  const narrow = join(artifactsDir, "dashboard-375.png");
  await page.screenshot({ path: narrow, fullPage: true });
  console.log(`  screenshot: ${narrow}`);

  check(problems.length === 0, "no script errors or CSP violations in the page", problems.join(" | "));
  const errors = readFileSync(logPath, "utf8").split("\n").filter((l) => /^[A-Z]+ \S+ 5\d\d\b/.test(l));
  check(errors.length === 0, "no 5xx in the emulator's log", errors.slice(0, 3).join(" | "));
  console.log(`  elapsed: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

try {
  await main();
} catch (e) {
  check(false, "test ran to the end", e?.stack || String(e));
  console.log(`  emulator log tail: ${readFileSync(logPath, "utf8").trim().split("\n").slice(-10).join(" | ")}`);
} finally {
  await cleanup();
}
console.log(`ui: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
