// The acg-emulator dashboard: polls /_emulator/ui/state every second and updates the page in
// place (keyed by resource id), so focus, scroll and open sections survive each refresh.
// Text is only ever set through textContent: nothing from the state is parsed as HTML.
"use strict";

(() => {
  const POLL_MS = 1000;
  const STATE_URL = "/_emulator/ui/state";

  // --- DOM helpers ----------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v);
    }
    for (const c of children) if (c != null) el.append(c);
    return el;
  }

  function setText(el, text) {
    text = text == null ? "" : String(text);
    if (el.textContent !== text) el.textContent = text;
  }

  function setAttr(el, name, value) {
    value = String(value);
    if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  }

  // Makes container's keyed children match items, in order: reuses, creates, moves, removes.
  function sync(container, items, keyOf, create, update) {
    const existing = new Map();
    for (const el of Array.from(container.children)) existing.set(el.dataset.key, el);
    let previous = null;
    for (const item of items) {
      const key = keyOf(item);
      let el = existing.get(key);
      if (el) existing.delete(key);
      else {
        el = create(item);
        el.dataset.key = key;
      }
      update(el, item);
      const expected = previous ? previous.nextElementSibling : container.firstElementChild;
      if (el !== expected) container.insertBefore(el, expected);
      previous = el;
    }
    for (const el of existing.values()) el.remove();
  }

  let uid = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;

  function stateClass(state) {
    const s = (state || "").toLowerCase();
    if (["succeeded", "completed"].includes(s)) return "ok";
    if (["failed", "canceled"].includes(s)) return "bad";
    if (["creating", "updating", "deleting", "replicating", "inprogress", "accepted", "running", "migrating"].includes(s)) return "busy";
    return "neutral";
  }

  function setBadge(el, state) {
    setText(el, state || "Unknown");
    setAttr(el, "class", `badge badge-${stateClass(state)}`);
  }

  function armTime(text) {
    if (!text) return "";
    const d = new Date(text);
    if (Number.isNaN(d.getTime())) return text;
    return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  // "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d" -> "rg/g/d"
  function shortId(id) {
    const parts = (id || "").split("/");
    if (parts.length < 5) return id || "";
    const names = [parts[4]];
    for (let i = 8; i < parts.length; i += 2) names.push(parts[i]);
    return names.join("/");
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many || one + "s"}`;
  }

  // --- Header and counts ------------------------------------------------------------------------

  const COUNTS = [
    ["subscriptions", "Subscriptions"],
    ["resourceGroups", "Resource groups"],
    ["galleries", "Galleries"],
    ["definitions", "Image definitions"],
    ["versions", "Image versions"],
    ["replicating", "Regions replicating"],
    ["operationsRunning", "Operations running"],
  ];

  function renderHeader(state) {
    setText(document.getElementById("emulator-version"), state.emulatorVersion ? `v${state.emulatorVersion}` : "");
    const clock = state.clock || {};
    const now = document.getElementById("clock-now");
    setText(now, armTime(clock.now));
    setAttr(now, "datetime", clock.now || "");
    setText(document.getElementById("clock-mode"), clock.mode === "virtual" ? "virtual" : "system");
    const totals = Object.assign({}, state.totals, {
      operationsRunning: (state.operations || []).filter((o) => o.status === "InProgress").length,
    });
    sync(document.getElementById("counts"), COUNTS, ([key]) => key,
      ([, label]) => h("li", { class: "count" }, h("span", { class: "count-value" }), h("span", { class: "count-label", text: label })),
      (el, [key]) => {
        setText(el.firstChild, totals[key] ?? 0);
        el.classList.toggle("count-active", key === "replicating" && totals[key] > 0);
      });
  }

  // --- The resource tree ------------------------------------------------------------------------

  function renderTree(state) {
    const tree = document.getElementById("tree");
    const subs = state.subscriptions || [];
    const anything = subs.some((s) => (s.resourceGroups || []).length > 0);
    let empty = document.getElementById("tree-empty");
    if (!anything) {
      if (!empty) {
        empty = h("p", { id: "tree-empty", class: "empty",
          text: "No resource groups yet. Create one through the ARM API (az group create, an SDK or a template) and it appears here." });
        tree.before(empty);
      }
    } else if (empty) empty.remove();
    sync(tree, subs.filter((s) => (s.resourceGroups || []).length > 0), (s) => s.subscriptionId, createSubscription, updateSubscription);
  }

  function createSubscription() {
    const headingId = nextId("sub");
    return h("section", { class: "subscription", "aria-labelledby": headingId },
      h("h3", { id: headingId }, h("span", { class: "sub-name" }), " ", h("code", { class: "sub-id" })),
      h("div", { class: "groups" }));
  }

  function updateSubscription(el, sub) {
    setText(el.querySelector(".sub-name"), sub.displayName || "Subscription");
    setText(el.querySelector(".sub-id"), sub.subscriptionId);
    sync(el.querySelector(".groups"), sub.resourceGroups || [], (g) => g.name.toLowerCase(), createGroup, updateGroup);
  }

  function createGroup() {
    const headingId = nextId("rg");
    return h("details", { class: "group", open: "" },
      h("summary", {},
        h("h4", { id: headingId }, h("span", { class: "kind" , text: "Resource group" }), h("span", { class: "name" })),
        h("span", { class: "meta" })),
      h("div", { class: "galleries" }),
      h("div", { class: "deployments" }));
  }

  function updateGroup(el, group) {
    setText(el.querySelector("h4 .name"), group.name);
    const galleries = group.galleries || [];
    setText(el.querySelector("summary .meta"),
      `${group.location} \u00b7 ${plural(galleries.length, "gallery", "galleries")}`);
    sync(el.querySelector(".galleries"), galleries, (g) => g.id.toLowerCase(), createGallery, updateGallery);
    renderDeployments(el.querySelector(".deployments"), group.deployments || []);
  }

  function renderDeployments(container, deployments) {
    if (!deployments.length) {
      container.replaceChildren();
      return;
    }
    if (!container.firstChild) {
      container.append(h("h5", { class: "deployments-heading", text: "Template deployments" }), h("ul", { class: "deployment-list" }));
    }
    sync(container.querySelector("ul"), deployments, (d) => d.name,
      () => h("li", {}, h("span", { class: "name" }), h("span", { class: "badge" }), h("span", { class: "meta" })),
      (el, d) => {
        setText(el.querySelector(".name"), d.name);
        setBadge(el.querySelector(".badge"), d.provisioningState);
        setText(el.querySelector(".meta"), [armTime(d.timestamp), d.error].filter(Boolean).join(" \u00b7 "));
      });
  }

  function createGallery() {
    const headingId = nextId("gallery");
    return h("section", { class: "gallery", "aria-labelledby": headingId },
      h("div", { class: "gallery-head" },
        h("h5", { id: headingId }, h("span", { class: "kind", text: "Gallery" }), h("span", { class: "name" })),
        h("span", { class: "badge state" })),
      h("dl", { class: "facts" },
        h("div", {}, h("dt", { text: "Region" }), h("dd", { class: "f-location" })),
        h("div", {}, h("dt", { text: "Sharing" }), h("dd", { class: "f-sharing" })),
        h("div", {}, h("dt", { text: "Shared with" }), h("dd", { class: "f-groups" })),
        h("div", {}, h("dt", { text: "Sharing status" }), h("dd", { class: "f-sharing-status" }))),
      h("div", { class: "definitions" }));
  }

  function groupsText(sharing) {
    const parts = [];
    for (const g of sharing.groups || []) parts.push(`${g.type}: ${(g.ids || []).length}`);
    if (sharing.communityGalleryEnabled) parts.push(`public as ${(sharing.publicNames || []).join(", ")}`);
    return parts.length ? parts.join(" \u00b7 ") : "nobody";
  }

  function updateGallery(el, g) {
    setText(el.querySelector("h5 .name"), g.name);
    setBadge(el.querySelector(".gallery-head .badge"), g.provisioningState);
    const sharing = g.sharing || {};
    setText(el.querySelector(".f-location"), g.location);
    setText(el.querySelector(".f-sharing"), sharing.permissions || "Private");
    setText(el.querySelector(".f-groups"), groupsText(sharing));
    setText(el.querySelector(".f-sharing-status"), sharing.sharingStatus || "\u2013");
    sync(el.querySelector(".definitions"), g.definitions || [], (d) => d.id.toLowerCase(), createDefinition, updateDefinition);
  }

  function createDefinition() {
    const headingId = nextId("def");
    return h("section", { class: "definition", "aria-labelledby": headingId },
      h("div", { class: "definition-head" },
        h("h6", { id: headingId }, h("span", { class: "kind", text: "Image definition" }), h("span", { class: "name" })),
        h("span", { class: "badge" })),
      h("p", { class: "identifier" }),
      h("ul", { class: "versions", "aria-label": "Versions" }));
  }

  function updateDefinition(el, d) {
    setText(el.querySelector("h6 .name"), d.name);
    setBadge(el.querySelector(".definition-head .badge"), d.provisioningState);
    setText(el.querySelector(".identifier"),
      `${d.publisher} / ${d.offer} / ${d.sku} \u00b7 ${d.osType} \u00b7 ${d.osState} \u00b7 Hyper-V ${d.hyperVGeneration || "V1"}`);
    const versions = d.versions || [];
    const list = el.querySelector(".versions");
    setAttr(list, "aria-label", `Versions of ${d.name}`);
    sync(list, versions, (v) => v.id.toLowerCase(), createVersion, updateVersion);
  }

  function createVersion() {
    return h("li", { class: "version" },
      h("div", { class: "version-head" },
        h("span", { class: "version-name" }),
        h("span", { class: "badge" }),
        h("span", { class: "meta" })),
      h("ul", { class: "regions" }));
  }

  function versionMeta(v) {
    const parts = [`${plural(v.regions.length, "target region")}`, `${v.storageAccountType || "Standard_LRS"}`,
      `${plural(v.replicaCount, "replica")} by default`];
    if (v.excludeFromLatest) parts.push("excluded from latest");
    if (v.endOfLifeDate) parts.push(`end of life ${armTime(v.endOfLifeDate).slice(0, 10)}`);
    return parts.join(" \u00b7 ");
  }

  function updateVersion(el, v) {
    setText(el.querySelector(".version-name"), v.name);
    const badge = el.querySelector(".version-head .badge");
    setBadge(badge, v.provisioningState);
    badge.dataset.state = v.provisioningState || "";
    setText(el.querySelector(".version-head .meta"), versionMeta(v));
    sync(el.querySelector(".regions"), v.regions || [], (r) => r.region, createRegion, (rel, r) => updateRegion(rel, r, v));
  }

  function createRegion() {
    const labelId = nextId("region");
    return h("li", { class: "region" },
      h("span", { class: "region-label", id: labelId }),
      h("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0",
        "aria-labelledby": labelId }, h("div", { class: "bar-fill" })),
      h("span", { class: "region-meta" }));
  }

  function updateRegion(el, r, v) {
    const progress = Math.max(0, Math.min(100, Math.round(r.progress || 0)));
    setText(el.querySelector(".region-label"), `${r.region} ${progress}%`);
    const bar = el.querySelector(".bar");
    setAttr(bar, "aria-valuenow", progress);
    setAttr(bar, "aria-valuetext", `${r.region} ${progress}% ${r.state}`);
    setAttr(bar, "class", `bar bar-${stateClass(r.state)}`);
    bar.dataset.version = v.name;
    bar.firstChild.style.width = `${progress}%`;
    const parts = [r.state, plural(r.replicaCount, "replica"), r.storageAccountType];
    if (r.excludeFromLatest) parts.push("excluded from latest");
    if (r.details) parts.push(r.details);
    setText(el.querySelector(".region-meta"), parts.filter(Boolean).join(" \u00b7 "));
  }

  // --- Tables -----------------------------------------------------------------------------------

  function renderOperations(state) {
    const ops = state.operations || [];
    const body = document.getElementById("operations-body");
    if (!ops.length) {
      body.replaceChildren(h("tr", {}, h("td", { colspan: "6", class: "empty", text: "No long-running operations yet." })));
      return;
    }
    if (body.firstChild && !body.firstChild.dataset.key) body.replaceChildren();
    sync(body, ops, (o) => o.id,
      () => h("tr", {}, h("td", {}, h("span", { class: "badge" })), h("td", {}), h("td", { class: "wrap" }, h("code")), h("td", { class: "nowrap" }), h("td", { class: "nowrap" }), h("td", { class: "wrap" })),
      (tr, o) => {
        const cells = tr.children;
        setBadge(cells[0].firstChild, o.status);
        setText(cells[1], o.kind);
        setText(cells[2].firstChild, shortId(o.resourceId));
        setAttr(cells[2].firstChild, "title", o.resourceId);
        setText(cells[3], armTime(o.startTime));
        setText(cells[4], armTime(o.endTime) || "\u2013");
        setText(cells[5], o.error ? `${o.error.code}: ${o.error.message}` : "");
      });
  }

  function quotaCell(td, q) {
    const pct = q.limit ? (100 * q.used) / q.limit : 0;
    setText(td.firstChild, `${q.used} / ${q.limit.toLocaleString("en-US")}`);
    td.classList.toggle("quota-high", pct >= 80);
  }

  function renderQuotas(state) {
    const quotas = state.quotas || [];
    const body = document.getElementById("quotas-body");
    if (!quotas.length) {
      body.replaceChildren(h("tr", {}, h("td", { colspan: "5", class: "empty", text: "Nothing in use yet." })));
      return;
    }
    if (body.firstChild && !body.firstChild.dataset.key) body.replaceChildren();
    sync(body, quotas, (q) => `${q.subscriptionId}/${q.region}`,
      () => h("tr", {}, h("td", {}, h("code")), h("td", {}), h("td", {}, h("span")), h("td", {}, h("span")), h("td", {}, h("span"))),
      (tr, q) => {
        const c = tr.children;
        setText(c[0].firstChild, q.subscriptionId);
        setText(c[1], q.region);
        quotaCell(c[2], q.galleries);
        quotaCell(c[3], q.definitions);
        quotaCell(c[4], q.versions);
      });
  }

  // --- Announcements (aria-live): state changes, not every tick ---------------------------------

  let previous = null;

  function snapshot(state) {
    const out = new Map();
    for (const s of state.subscriptions || [])
      for (const g of s.resourceGroups || [])
        for (const gal of g.galleries || [])
          for (const d of gal.definitions || [])
            for (const v of d.versions || []) {
              out.set(v.id, { label: `${d.name} ${v.name}`, state: v.provisioningState });
              for (const r of v.regions || []) out.set(`${v.id}|${r.region}`, { label: `${d.name} ${v.name} in ${r.region}`, state: r.state });
            }
    for (const o of state.operations || []) out.set(`op|${o.id}`, { label: `Operation ${o.kind} on ${shortId(o.resourceId)}`, state: o.status });
    return out;
  }

  function announce(state) {
    const now = snapshot(state);
    if (previous) {
      const changes = [];
      for (const [key, item] of now) {
        const before = previous.get(key);
        if (before ? before.state !== item.state : !key.startsWith("op|") && !key.includes("|"))
          changes.push(`${item.label}: ${item.state}`);
      }
      if (changes.length) setText(document.getElementById("announcer"), changes.slice(0, 5).join(". ") + ".");
    }
    previous = now;
  }

  // --- Polling ----------------------------------------------------------------------------------

  function setConnection(ok, text) {
    setText(document.getElementById("connection"), text);
    setAttr(document.getElementById("connection-dot"), "class", ok ? "dot dot-ok" : "dot dot-bad");
  }

  let failures = 0;

  async function poll() {
    try {
      const response = await fetch(STATE_URL, { cache: "no-store", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const state = await response.json();
      renderHeader(state);
      renderTree(state);
      renderOperations(state);
      renderQuotas(state);
      announce(state);
      if (failures > 0) setText(document.getElementById("announcer"), "Connection to the emulator restored.");
      failures = 0;
      setConnection(true, `Live \u00b7 updated ${new Date().toLocaleTimeString("en-GB")}`);
    } catch (err) {
      failures += 1;
      if (failures === 1) setText(document.getElementById("announcer"), "Lost the connection to the emulator; retrying.");
      setConnection(false, `Disconnected (${err.message}); retrying\u2026`);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  poll();
})();
