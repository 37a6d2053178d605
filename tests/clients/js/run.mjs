#!/usr/bin/env node
// Real Azure JavaScript SDK (npm: @azure/arm-compute, @azure/arm-resources,
// @azure/arm-resourcesdeployments, @azure/identity) against acg-emulator.
//
//     node tests/clients/js/run.mjs [path-to-acg-emulator-binary]
//
// Needs `npm ci` in this folder first (scripts/install-deps.sh --test does it). Tokens come from
// the emulator's own authority through ClientSecretCredential (msal-node), not a static fake.
// Starts its own emulators on 127.0.0.1 (port 0, throwaway data dirs, from a fresh copy of the
// binary), never contacts another host, stops them and removes the temp dir on exit. Prints one
// line per step,
//     PASS <step>   or   FAIL <step>: <reason>
// and finally exactly one line "js_sdk: N passed, M failed". Exits non-zero if M > 0.
//
// Emulators (phases):
//   main         --replication-speed instant, a config with a consumer subscription: auth, resource
//                groups, galleries, definitions, sources, versions, sharing, error paths, deletes,
//                ARM template deployments, the api-versions the SDK sent
//   paging       --page-size 2: lists across several pages
//   lro          --operation-delay-ms 1500: gallery and resource-group writes are long-running, the
//                SDK must really poll (Azure-AsyncOperation, Location)
//   replication  --virtual-clock --replication-speed 1: a version replicating while the test moves
//                the clock, and a region failed by fault injection
//
// Set ACG_SUITE_TRACEBACK=1 to print the stack of unexpected errors in failing steps.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientSecretCredential, AuthenticationRequiredError } from "@azure/identity";
import { ComputeManagementClient, isRestError } from "@azure/arm-compute";
import { ResourceManagementClient } from "@azure/arm-resources";
import { DeploymentsClient } from "@azure/arm-resourcesdeployments";
import {
  CLIENT_ID, SECRET, SUB, TENANT, Recorder, StepFailed, apiVersionOf, describe, finish, pathOf, runPhases,
} from "./harness.mjs";

const HOME = "westus";
// Pollers default to 2 s between polls; the emulator answers within milliseconds.
const LRO = { updateIntervalInMs: 10 };

// What @azure/arm-compute 24.1, @azure/arm-resources 7.0 and @azure/arm-resourcesdeployments 2.0
// send (azure-sdks.md table).
const EXPECTED_API_VERSIONS = {
  galleries: "2025-03-03", // galleries, images, versions, sharing, sharedGalleries
  images: "2026-03-01", // Microsoft.Compute/images (managed images)
  snapshots: "2025-01-02",
  resourcegroups: "2025-04-01",
  deployments: "2026-06-01", // deployments, deploymentOperations
};

const CONSUMER_SUB = "55555555-0000-0000-0000-0000000005c0";
const CONSUMER = { clientId: "c0000000-0000-0000-0000-0000000005c1", objectId: "c1000000-0000-0000-0000-0000000005c1",
  secret: "js-consumer-secret" };

// ---------------------------------------------------------------------------------------------
// Clients and bodies

/** A credential and the management clients for one principal, recording every exchange. */
function makeClients(emu, { clientId = CLIENT_ID, secret = SECRET, subscription = SUB, rec = new Recorder() } = {}) {
  const credential = new ClientSecretCredential(TENANT, clientId, secret, {
    authorityHost: emu.url, // the emulator is its own token service
    disableInstanceDiscovery: true, // else msal-node asks login.microsoftonline.com first
    tlsOptions: { ca: emu.ca },
  });
  const scope = `${emu.url}/.default`;
  // maxRetries 0: a refused request must fail its step at once, not after backoff.
  const common = { endpoint: emu.url, tlsOptions: { ca: emu.ca }, retryOptions: { maxRetries: 0 },
    additionalPolicies: [rec.policyConfig()] };
  return {
    emu, rec, credential, scope,
    // The two SDK generations name the scopes option differently (azure-sdks.md, pitfall 13).
    compute: new ComputeManagementClient(credential, subscription, { ...common, credentials: { scopes: [scope] } }),
    resources: new ResourceManagementClient(credential, subscription, { ...common, credentialScopes: [scope] }),
    // Microsoft.Resources/deployments left @azure/arm-resources in 7.0 for this (TypeSpec) package.
    deployments: new DeploymentsClient(credential, subscription, { ...common, credentials: { scopes: [scope] } }),
  };
}

const normRegion = (name) => (name ?? "").replace(/ /g, "").toLowerCase();

function rgId(rg) {
  return `/subscriptions/${SUB}/resourceGroups/${rg}`;
}

function galleryId(rg, gal) {
  return `${rgId(rg)}/providers/Microsoft.Compute/galleries/${gal}`;
}

function uniqueName(gal) {
  return `${SUB}-${gal.toUpperCase()}`;
}

function definition(publisher, offer, sku, extra = {}) {
  return { location: HOME, osType: "Linux", osState: "Generalized", hyperVGeneration: "V2",
    identifier: { publisher, offer, sku }, ...extra };
}

function snapshot(extra = {}) {
  return { location: HOME, creationData: { createOption: "Empty" }, diskSizeGB: 30, ...extra };
}

function versionFromImage(imageId, targetRegions) {
  return { location: HOME, publishingProfile: { targetRegions }, storageProfile: { source: { id: imageId } } };
}

function versionFromSnapshot(snapshotId, targetRegions) {
  return { location: HOME, publishingProfile: { targetRegions },
    storageProfile: { osDiskImage: { source: { id: snapshotId } } } };
}

/** {region: [replicaCount, storageAccountType]} of a version's target regions. */
function regionsOf(version) {
  const out = {};
  for (const r of version?.publishingProfile?.targetRegions ?? []) {
    out[normRegion(r.name)] = [r.regionalReplicaCount, r.storageAccountType];
  }
  return out;
}

/** {region: [state, progress]} of a version read with expand ReplicationStatus. */
function replicationOf(version) {
  const out = {};
  for (const s of version?.replicationStatus?.summary ?? []) out[normRegion(s.region)] = [s.state, s.progress];
  return out;
}

async function collect(iter) {
  const out = [];
  for await (const item of iter) out.push(item);
  return out;
}

async function names(iter) {
  return (await collect(iter)).map((x) => x.name);
}

async function pagesOf(iter) {
  const pages = [];
  for await (const page of iter.byPage()) pages.push(page.map((x) => x.name));
  return pages;
}

function decodeJwt(token) {
  const parts = token.split(".");
  if (parts.length !== 3) throw new StepFailed(`token is not a JWT: ${token.slice(0, 40)}...`);
  return JSON.parse(Buffer.from(parts[1], "base64url").toString());
}

// ---------------------------------------------------------------------------------------------
// main phase: auth

async function testAuth(s, c) {
  await s.step("auth: ClientSecretCredential gets a JWT from the emulator authority", async (st) => {
    const tok = await c.credential.getToken(c.scope);
    const claims = decodeJwt(tok.token);
    st.eq(claims.tid, TENANT, "tid claim");
    st.eq(claims.appid, CLIENT_ID, "appid claim");
    st.check(tok.expiresOnTimestamp > Date.now() + 60_000, `expiresOnTimestamp ${tok.expiresOnTimestamp} not in the future`);
    // arm-compute's default scope, for callers who leave credentials.scopes out.
    const arm = await c.credential.getToken("https://management.azure.com/.default");
    st.eq(decodeJwt(arm.token).tid, TENANT, "tid of the management.azure.com token");
  });

  await s.step("auth: a wrong secret fails with AuthenticationRequiredError invalid_client (getToken and through a client)", async (st) => {
    const bad = makeClients(c.emu, { secret: "not-the-secret" });
    // @azure/identity 4.13 wraps msal-node's ServerError for a 401 invalid_client in AuthenticationRequiredError
    // (msal/utils.js handleMsalError), as it does against Entra ID.
    const expectAuthError = (e, what) => {
      st.check(e instanceof AuthenticationRequiredError, `${what}: ${describe(e)}, expected AuthenticationRequiredError`);
      st.check(/invalid_client/.test(e.message) && /AADSTS7000215/.test(e.message),
        `${what}: message does not name invalid_client / AADSTS7000215: ${e.message.slice(0, 300)}`);
    };
    const e = await st.expectRejection(() => bad.credential.getToken(c.scope), "getToken with a wrong secret");
    if (e) expectAuthError(e, "getToken");
    // The bearer policy surfaces the credential's error unchanged; no ARM request goes out.
    const e2 = await st.expectRejection(() => bad.resources.resourceGroups.get("anything"), "resourceGroups.get");
    if (e2) expectAuthError(e2, "resourceGroups.get");
    st.eq(bad.rec.entries.length, 0, "ARM requests sent with a credential that has no token");
  });

  await s.step("auth: a static non-JWT bearer token gets RestError 401", async (st) => {
    const garbage = { getToken: async () => ({ token: "not-a-jwt", expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const rc = new ResourceManagementClient(garbage, SUB, { endpoint: c.emu.url, tlsOptions: { ca: c.emu.ca },
      credentialScopes: [c.scope], retryOptions: { maxRetries: 0 } });
    await st.expectRestError(() => rc.resourceGroups.get("anything"), 401, "InvalidAuthenticationToken",
      "resourceGroups.get with a garbage token");
  });
}

// ---------------------------------------------------------------------------------------------
// main phase: resource groups

async function testResourceGroups(s, c) {
  const rgs = c.resources.resourceGroups;
  const rg = "rg-js-groups";
  await s.step("resource groups: createOrUpdate (new, then tags)", async (st) => {
    const g = await rgs.createOrUpdate(rg, { location: HOME, tags: { suite: "js" } });
    st.eq(g.name, rg, "name");
    st.eq(g.id, rgId(rg), "id");
    st.eq(normRegion(g.location), HOME, "location");
    st.eq(g.properties?.provisioningState, "Succeeded", "provisioningState");
    const g2 = await rgs.createOrUpdate(rg, { location: HOME, tags: { suite: "js", n: "2" } });
    st.eq(g2.tags, { suite: "js", n: "2" }, "tags after update");
  });

  await s.step("resource groups: get", async (st) => {
    const g = await rgs.get(rg);
    st.eq([g.name, g.type], [rg, "Microsoft.Resources/resourceGroups"], "name, type");
    st.eq(g.tags, { suite: "js", n: "2" }, "tags");
  });

  await s.step("resource groups: checkExistence (HEAD 204 / 404)", async (st) => {
    const mark = c.rec.mark();
    st.eq((await rgs.checkExistence(rg)).body, true, "existing group");
    st.eq((await rgs.checkExistence("rg-js-does-not-exist")).body, false, "missing group");
    st.eq(c.rec.since(mark).map((e) => [e.method, e.status]), [["HEAD", 204], ["HEAD", 404]], "exchanges");
  });

  await s.step("resource groups: list", async (st) => {
    const listed = await names(rgs.list());
    st.check(listed.includes(rg), `${rg} not in ${JSON.stringify(listed)}`);
  });
}

// ---------------------------------------------------------------------------------------------
// main phase: galleries, definitions, sources, versions

async function testGalleries(s, c, rg, gal) {
  const gals = c.compute.galleries;
  await s.step("galleries: createOrUpdate (poller) returns the gallery", async (st) => {
    await c.resources.resourceGroups.createOrUpdate(rg, { location: HOME });
    const g = await gals.createOrUpdate(rg, gal, { location: HOME, description: "js gallery", tags: { a: "1" } }, LRO);
    st.eq(g.name, gal, "name");
    st.eq(g.id, galleryId(rg, gal), "id");
    st.eq(g.type, "Microsoft.Compute/galleries", "type");
    st.eq(normRegion(g.location), HOME, "location");
    st.eq(g.description, "js gallery", "description");
    st.eq(g.tags, { a: "1" }, "tags");
    st.eq(g.provisioningState, "Succeeded", "provisioningState");
    st.eq(g.identifier?.uniqueName, uniqueName(gal), "identifier.uniqueName");
  });

  await s.step("galleries: get", async (st) => {
    const g = await gals.get(rg, gal);
    st.eq([g.name, g.description, g.identifier?.uniqueName], [gal, "js gallery", uniqueName(gal)],
      "name, description, uniqueName");
  });

  await s.step("galleries: listByResourceGroup and list (subscription)", async (st) => {
    st.eq(await names(gals.listByResourceGroup(rg)), [gal], "listByResourceGroup");
    const bySub = await names(gals.list());
    st.check(bySub.includes(gal), `${gal} missing from subscription list ${JSON.stringify(bySub)}`);
  });

  await s.step("galleries: update (PATCH description and tags)", async (st) => {
    const mark = c.rec.mark();
    const g = await gals.update(rg, gal, { description: "updated", tags: { b: "2" } }, LRO);
    st.eq(c.rec.since(mark)[0]?.method, "PATCH", "method of the first request");
    st.eq([g.description, g.tags, g.provisioningState], ["updated", { b: "2" }, "Succeeded"],
      "description, tags, provisioningState of the result");
    st.eq(normRegion(g.location), HOME, "location kept");
    st.eq((await gals.get(rg, gal)).description, "updated", "description on get");
  });
}

const EOL = new Date("2030-12-31T00:00:00Z");

async function testDefinitions(s, c, rg, gal) {
  const defs = c.compute.galleryImages;
  await s.step("definitions: Linux Generalized V2 with features, purchasePlan, endOfLifeDate, recommended", async (st) => {
    const body = definition("JsPublisher", "JsOffer", "js-sku-1", {
      description: "linux gen2",
      features: [{ name: "SecurityType", value: "TrustedLaunch" }, { name: "IsAcceleratedNetworkSupported", value: "true" }],
      purchasePlan: { name: "js-plan", publisher: "JsPublisher", product: "js-product" },
      endOfLifeDate: EOL,
      recommended: { vCPUs: { min: 2, max: 16 }, memory: { min: 4, max: 64 } },
    });
    const d = await defs.createOrUpdate(rg, gal, "jsLinux", body, LRO);
    st.eq(d.id, `${galleryId(rg, gal)}/images/jsLinux`, "id");
    st.eq(d.type, "Microsoft.Compute/galleries/images", "type");
    st.eq(d.provisioningState, "Succeeded", "provisioningState");
    st.eq([d.osType, d.osState, d.hyperVGeneration], ["Linux", "Generalized", "V2"], "osType, osState, hyperVGeneration");
    st.eq(d.identifier, { publisher: "JsPublisher", offer: "JsOffer", sku: "js-sku-1" }, "identifier");
    st.eq((d.features ?? []).map((f) => [f.name, f.value]),
      [["SecurityType", "TrustedLaunch"], ["IsAcceleratedNetworkSupported", "true"]], "features");
    st.eq(d.purchasePlan, { name: "js-plan", publisher: "JsPublisher", product: "js-product" }, "purchasePlan");
    st.check(d.endOfLifeDate instanceof Date && d.endOfLifeDate.getTime() === EOL.getTime(),
      `endOfLifeDate ${d.endOfLifeDate}, expected the Date ${EOL.toISOString()}`);
    st.eq([d.recommended?.vCPUs, d.recommended?.memory], [{ min: 2, max: 16 }, { min: 4, max: 64 }], "recommended");
  });

  await s.step("definitions: Windows Specialized V2", async (st) => {
    const d = await defs.createOrUpdate(rg, gal, "jsWindows", definition("JsPublisher", "JsWinOffer", "2022-dc",
      { osType: "Windows", osState: "Specialized" }), LRO);
    st.eq([d.osType, d.osState, d.hyperVGeneration, d.provisioningState], ["Windows", "Specialized", "V2", "Succeeded"],
      "osType, osState, hyperVGeneration, provisioningState");
  });

  await s.step("definitions: get and listByGallery", async (st) => {
    const d = await defs.get(rg, gal, "jsLinux");
    st.eq(d.identifier?.sku, "js-sku-1", "sku on get");
    st.eq(d.purchasePlan?.product, "js-product", "purchasePlan.product on get");
    st.eq((await names(defs.listByGallery(rg, gal))).sort(), ["jsLinux", "jsWindows"], "listByGallery");
  });
}

async function testSources(s, c, rg, ctx) {
  await s.step("sources: snapshots (createOption Empty, 30 GB; Linux V2 and Windows V2)", async (st) => {
    const snap = await c.compute.snapshots.createOrUpdate(rg, "jsLinuxSnap",
      snapshot({ osType: "Linux", hyperVGeneration: "V2" }), LRO);
    st.eq(snap.id, `${rgId(rg)}/providers/Microsoft.Compute/snapshots/jsLinuxSnap`, "id");
    st.eq([snap.type, snap.provisioningState], ["Microsoft.Compute/snapshots", "Succeeded"], "type, provisioningState");
    st.eq([snap.diskSizeGB, snap.creationData?.createOption, snap.osType, snap.hyperVGeneration], [30, "Empty", "Linux", "V2"],
      "diskSizeGB, createOption, osType, hyperVGeneration");
    ctx.linuxSnapshot = snap.id;
    const win = await c.compute.snapshots.createOrUpdate(rg, "jsWinSnap", snapshot({ osType: "Windows", hyperVGeneration: "V2" }), LRO);
    st.eq(win.osType, "Windows", "Windows snapshot osType");
    ctx.windowsSnapshot = win.id;
  });

  await s.step("sources: managed image from the snapshot (Linux Generalized V2)", async (st) => {
    st.require(ctx.linuxSnapshot, "no snapshot");
    const img = await c.compute.images.createOrUpdate(rg, "jsImage", { location: HOME, hyperVGeneration: "V2",
      storageProfile: { osDisk: { osType: "Linux", osState: "Generalized", snapshot: { id: ctx.linuxSnapshot } } } }, LRO);
    st.eq(img.id, `${rgId(rg)}/providers/Microsoft.Compute/images/jsImage`, "id");
    st.eq([img.type, img.provisioningState, img.hyperVGeneration], ["Microsoft.Compute/images", "Succeeded", "V2"],
      "type, provisioningState, hyperVGeneration");
    const os = img.storageProfile?.osDisk;
    st.eq([os?.osType, os?.osState, os?.snapshot?.id?.toLowerCase()], ["Linux", "Generalized", ctx.linuxSnapshot.toLowerCase()],
      "osDisk");
    ctx.image = img.id;
  });
}

async function testVersions(s, c, rg, gal, ctx) {
  const vers = c.compute.galleryImageVersions;
  await s.step("versions: 1.0.0 from the managed image (westus x2 Standard_LRS, eastus x1 Standard_ZRS)", async (st) => {
    st.require(ctx.image, "no managed image");
    const v = await vers.createOrUpdate(rg, gal, "jsLinux", "1.0.0", versionFromImage(ctx.image, [
      { name: "westus", regionalReplicaCount: 2, storageAccountType: "Standard_LRS" },
      { name: "eastus", regionalReplicaCount: 1, storageAccountType: "Standard_ZRS" },
    ]), LRO);
    st.eq(v.id, `${galleryId(rg, gal)}/images/jsLinux/versions/1.0.0`, "id");
    st.eq([v.type, v.provisioningState], ["Microsoft.Compute/galleries/images/versions", "Succeeded"], "type, provisioningState");
    st.eq(regionsOf(v), { westus: [2, "Standard_LRS"], eastus: [1, "Standard_ZRS"] }, "targetRegions");
    st.eq(v.storageProfile?.source?.id?.toLowerCase(), ctx.image.toLowerCase(), "storageProfile.source.id");
    const published = v.publishingProfile?.publishedDate;
    st.check(published instanceof Date && Math.abs(published.getTime() - Date.now()) < 600_000,
      `publishedDate ${published} is not a recent Date`);
  });

  await s.step("versions: get with expand ReplicationStatus: Completed, progress 100 per region", async (st) => {
    const v = await vers.get(rg, gal, "jsLinux", "1.0.0", { expand: "ReplicationStatus" });
    st.eq(v.replicationStatus?.aggregatedState, "Completed", "aggregatedState");
    st.eq(replicationOf(v), { westus: ["Completed", 100], eastus: ["Completed", 100] }, "summary");
    const plain = await vers.get(rg, gal, "jsLinux", "1.0.0");
    st.eq(plain.replicationStatus, undefined, "replicationStatus without expand");
  });

  await s.step("versions: update (PATCH) adds westus3; every region Completed", async (st) => {
    const v = await vers.update(rg, gal, "jsLinux", "1.0.0", { publishingProfile: { targetRegions: [
      { name: "westus", regionalReplicaCount: 2, storageAccountType: "Standard_LRS" },
      { name: "eastus", regionalReplicaCount: 1, storageAccountType: "Standard_ZRS" },
      { name: "westus3", regionalReplicaCount: 1 },
    ] } }, LRO);
    st.eq(v.provisioningState, "Succeeded", "provisioningState of the result");
    st.eq(Object.keys(regionsOf(v)).sort(), ["eastus", "westus", "westus3"], "targetRegions of the result");
    st.eq(v.storageProfile?.source?.id?.toLowerCase(), ctx.image?.toLowerCase(), "source kept");
    const got = await vers.get(rg, gal, "jsLinux", "1.0.0", { expand: "ReplicationStatus" });
    st.eq(got.replicationStatus?.aggregatedState, "Completed", "aggregatedState");
    st.eq(replicationOf(got).westus3, ["Completed", 100], "westus3 summary");
  });

  await s.step("versions: Windows specialized 1.0.0 from a snapshot (osDiskImage)", async (st) => {
    st.require(ctx.windowsSnapshot, "no Windows snapshot");
    const v = await vers.createOrUpdate(rg, gal, "jsWindows", "1.0.0",
      versionFromSnapshot(ctx.windowsSnapshot, [{ name: HOME }]), LRO);
    st.eq(v.provisioningState, "Succeeded", "provisioningState");
    st.eq(v.storageProfile?.osDiskImage?.source?.id?.toLowerCase(), ctx.windowsSnapshot.toLowerCase(),
      "storageProfile.osDiskImage.source.id");
  });

  await s.step("versions: second version and listByGalleryImage", async (st) => {
    await vers.createOrUpdate(rg, gal, "jsLinux", "1.1.0", versionFromImage(ctx.image, [{ name: HOME }]), LRO);
    st.eq((await names(vers.listByGalleryImage(rg, gal, "jsLinux"))).sort(), ["1.0.0", "1.1.0"], "versions of jsLinux");
  });
}

// ---------------------------------------------------------------------------------------------
// main phase: sharing with another subscription

async function testSharing(s, c, rg) {
  const gal = "jsShared";
  const consumer = makeClients(c.emu, { clientId: CONSUMER.clientId, secret: CONSUMER.secret, subscription: CONSUMER_SUB,
    rec: c.rec });
  const shared = consumer.compute.sharedGalleries;
  await s.step("sharing: a Groups gallery with version 1.0.0; the consumer sees nothing yet", async (st) => {
    const g = await c.compute.galleries.createOrUpdate(rg, gal, { location: HOME, sharingProfile: { permissions: "Groups" } }, LRO);
    st.eq(g.sharingProfile?.permissions, "Groups", "sharingProfile.permissions");
    await c.compute.galleryImages.createOrUpdate(rg, gal, "jsSharedImg", definition("JsShare", "JsShareOffer", "s1"), LRO);
    const snap = await c.compute.snapshots.createOrUpdate(rg, "jsShareSnap", snapshot({ osType: "Linux", hyperVGeneration: "V2" }), LRO);
    const v = await c.compute.galleryImageVersions.createOrUpdate(rg, gal, "jsSharedImg", "1.0.0",
      versionFromSnapshot(snap.id, [{ name: HOME }]), LRO);
    st.eq(v.provisioningState, "Succeeded", "version provisioningState");
    st.eq(await names(shared.list(HOME)), [], "consumer's shared galleries before sharing");
  });

  await s.step("sharing: gallerySharingProfile.update Add subscription; get select Permissions shows it", async (st) => {
    const u = await c.compute.gallerySharingProfile.update(rg, gal,
      { operationType: "Add", groups: [{ type: "Subscriptions", ids: [CONSUMER_SUB] }] }, LRO);
    st.eq(u.operationType, "Add", "operationType of the result");
    st.eq(u.groups, [{ type: "Subscriptions", ids: [CONSUMER_SUB] }], "groups of the result");
    const g = await c.compute.galleries.get(rg, gal, { select: "Permissions" });
    st.eq(g.sharingProfile?.groups, [{ type: "Subscriptions", ids: [CONSUMER_SUB] }], "sharingProfile.groups");
    const plain = await c.compute.galleries.get(rg, gal);
    st.eq(plain.sharingProfile?.groups, undefined, "sharingProfile.groups without select");
  });

  await s.step("sharing: the consumer lists and gets the gallery, image and version (sharedGalleries)", async (st) => {
    const unique = uniqueName(gal);
    st.eq(await names(shared.list(HOME)), [unique], "sharedGalleries.list");
    const sg = await shared.get(HOME, unique);
    st.eq([sg.name, normRegion(sg.location), sg.uniqueId], [unique, HOME, `/SharedGalleries/${unique}`], "sharedGalleries.get");
    st.eq(await names(consumer.compute.sharedGalleryImages.list(HOME, unique)), ["jsSharedImg"], "sharedGalleryImages.list");
    const sv = await consumer.compute.sharedGalleryImageVersions.get(HOME, unique, "jsSharedImg", "1.0.0");
    st.eq(sv.uniqueId, `/SharedGalleries/${unique}/Images/jsSharedImg/Versions/1.0.0`, "version uniqueId");
  });

  await s.step("sharing: Reset clears the groups and hides the gallery from the consumer", async (st) => {
    const u = await c.compute.gallerySharingProfile.update(rg, gal, { operationType: "Reset" }, LRO);
    st.eq(u.operationType, "Reset", "operationType of the result");
    const g = await c.compute.galleries.get(rg, gal, { select: "Permissions" });
    st.eq(g.sharingProfile?.groups ?? [], [], "sharingProfile.groups after Reset");
    st.eq(await names(shared.list(HOME)), [], "consumer's shared galleries after Reset");
    await st.expectRestError(() => shared.get(HOME, uniqueName(gal)), 404, "ResourceNotFound", "sharedGalleries.get after Reset");
  });
}

// ---------------------------------------------------------------------------------------------
// main phase: error paths

async function testErrors(s, c, rg, gal, ctx) {
  const cmp = c.compute;
  await s.step("errors: get of a missing gallery is RestError 404 ResourceNotFound with the ARM envelope", async (st) => {
    const e = await st.expectRestError(() => cmp.galleries.get(rg, "jsNoSuchGallery"), 404, "ResourceNotFound",
      "get missing gallery");
    if (isRestError(e)) {
      st.check(/jsNoSuchGallery/.test(e.message), `message does not name the gallery: ${e.message}`);
      st.eq(e.details?.error?.code, "ResourceNotFound", "details.error.code");
    }
  });

  await s.step("errors: invalid version names are RestError 400 InvalidParameter", async (st) => {
    for (const bad of ["1.0", "a.b.c", "1.0.0.0", "1.0.-1"]) {
      const mark = c.rec.mark();
      const e = await st.expectRestError(() => cmp.galleryImageVersions.createOrUpdate(rg, gal, "jsLinux", bad,
        versionFromImage(ctx.image ?? "x", [{ name: HOME }]), LRO), 400, "InvalidParameter", `version name ${bad}`);
      if (isRestError(e)) st.check(/Major\(int\)\.Minor\(int\)\.Patch\(int\)/.test(e.message), `message ${e.message}`);
      // A RestError from an LRO's initial request carries no details: read the target off the wire.
      st.eq(c.rec.since(mark)[0]?.error?.target, "galleryImageVersionName", `error.target for ${bad}`);
    }
  });

  await s.step("errors: a version under a missing definition is RestError 404 ParentResourceNotFound", async (st) => {
    await st.expectRestError(() => cmp.galleryImageVersions.createOrUpdate(rg, gal, "jsNoSuchDef", "1.0.0",
      versionFromImage(ctx.image ?? "x", [{ name: HOME }]), LRO), 404, "ParentResourceNotFound", "version PUT");
  });

  await s.step("errors: a gallery in a missing resource group is RestError 404 ResourceGroupNotFound", async (st) => {
    await st.expectRestError(() => cmp.galleries.createOrUpdate("rg-js-missing", "jsOrphan", { location: HOME }, LRO),
      404, "ResourceGroupNotFound", "gallery PUT");
  });

  await s.step("errors: deleting a gallery with definitions is RestError 409 CannotDeleteResource", async (st) => {
    await st.expectRestError(() => cmp.galleries.delete(rg, gal, LRO), 409, "CannotDeleteResource", "gallery DELETE");
    st.eq((await cmp.galleries.get(rg, gal)).name, gal, "gallery still there");
  });

  await s.step("errors: a duplicate publisher/offer/sku is RestError 409", async (st) => {
    await st.expectRestError(() => cmp.galleryImages.createOrUpdate(rg, gal, "jsDup",
      definition("jspublisher", "jsoffer", "JS-SKU-1"), LRO), 409, undefined, "definition with jsLinux's identifier");
    await st.expectRestError(() => cmp.galleryImages.get(rg, gal, "jsDup"), 404, "ResourceNotFound",
      "get of the refused definition");
  });
}

// ---------------------------------------------------------------------------------------------
// main phase: deletes in order

async function testDeletes(s, c, rg, gal) {
  const cmp = c.compute;
  await s.step("deletes: versions, definitions, gallery in order; each gone (404)", async (st) => {
    for (const [d, v] of [["jsLinux", "1.0.0"], ["jsLinux", "1.1.0"], ["jsWindows", "1.0.0"]]) {
      await cmp.galleryImageVersions.delete(rg, gal, d, v, LRO);
      await st.expectRestError(() => cmp.galleryImageVersions.get(rg, gal, d, v), 404, "ResourceNotFound", `get ${d}/${v}`);
    }
    st.eq(await names(cmp.galleryImageVersions.listByGalleryImage(rg, gal, "jsLinux")), [], "versions left");
    for (const d of ["jsLinux", "jsWindows"]) {
      await cmp.galleryImages.delete(rg, gal, d, LRO);
      await st.expectRestError(() => cmp.galleryImages.get(rg, gal, d), 404, "ResourceNotFound", `get ${d}`);
    }
    await cmp.galleries.delete(rg, gal, LRO);
    await st.expectRestError(() => cmp.galleries.get(rg, gal), 404, "ResourceNotFound", "get gallery");
  });

  await s.step("deletes: a missing gallery's delete succeeds (204)", async (st) => {
    const mark = c.rec.mark();
    await cmp.galleries.delete(rg, "jsNeverExisted", LRO);
    st.eq(c.rec.since(mark).map((e) => [e.method, e.status]), [["DELETE", 204]], "exchanges");
  });

  await s.step("deletes: resource groups (beginDeleteAndWait), then gone", async (st) => {
    for (const group of [rg, "rg-js-groups"]) {
      await c.resources.resourceGroups.beginDeleteAndWait(group, LRO);
      st.eq((await c.resources.resourceGroups.checkExistence(group)).body, false, `${group} exists after delete`);
      await st.expectRestError(() => c.resources.resourceGroups.get(group), 404, "ResourceGroupNotFound", `get ${group}`);
    }
    await st.expectRestError(() => cmp.images.get(rg, "jsImage"), 404, undefined, "managed image of the deleted group");
  });
}

// ---------------------------------------------------------------------------------------------
// main phase: ARM template deployments (Microsoft.Resources/deployments)

const GALLERY_TEMPLATE = JSON.parse(readFileSync(new URL("../templates/gallery.json", import.meta.url), "utf8"));

function deploymentBody(parameters) {
  return { properties: { mode: "Incremental", template: GALLERY_TEMPLATE, parameters } };
}

async function testDeployments(s, c) {
  const rg = "rg-js-deploy";
  const gal = "jsDeployGallery";
  const dep = c.deployments.deployments;
  const params = { galleryName: { value: gal }, replicaCount: { value: 2 } };

  await s.step("deployments: beginValidateAndWait lists the 4 resources and writes nothing", async (st) => {
    await c.resources.resourceGroups.createOrUpdate(rg, { location: HOME });
    const result = await dep.beginValidateAndWait(rg, "js", deploymentBody(params), LRO);
    st.eq(result.error, undefined, "validation error");
    const validated = result.properties?.validatedResources ?? [];
    st.eq(validated.length, 4, `validatedResources (${JSON.stringify(validated.map((r) => r.id))})`);
    await st.expectRestError(() => c.compute.galleries.get(rg, gal), 404, "ResourceNotFound", "gallery before the deployment");
    st.eq((await dep.checkExistence(rg, "js")).body, false, "deployment exists after validate");
  });

  await s.step("deployments: beginCreateOrUpdateAndWait polls to Succeeded with outputs; the version replicated", async (st) => {
    const mark = c.rec.mark();
    const d = await dep.beginCreateOrUpdateAndWait(rg, "js", deploymentBody(params), LRO);
    const first = c.rec.since(mark)[0];
    st.eq([first?.method, first?.status], ["PUT", 201], "initial response");
    st.check(/\/deployments\/js\/operationStatuses\//i.test(first?.asyncOperation ?? ""),
      `Azure-AsyncOperation ${first?.asyncOperation}`);
    const p = d.properties;
    st.eq([d.name, d.id], ["js", `${rgId(rg)}/providers/Microsoft.Resources/deployments/js`], "name, id");
    st.check(p?.provisioningState === "Succeeded", `provisioningState ${p?.provisioningState} error ${JSON.stringify(p?.error)}`);
    st.eq(p?.outputs?.regionCount?.value, 2, "outputs.regionCount.value");
    st.eq(p?.outputs?.galleryUniqueName?.value, uniqueName(gal), "outputs.galleryUniqueName.value");
    const v = await c.compute.galleryImageVersions.get(rg, gal, "ubuntu-22.04", "1.0.0", { expand: "ReplicationStatus" });
    st.eq(v.replicationStatus?.aggregatedState, "Completed", "version replication aggregatedState");
    st.eq(regionsOf(v), { westus: [2, "Standard_LRS"], eastus: [1, "Standard_ZRS"] }, "version targetRegions");
    st.eq((await c.compute.galleries.get(rg, gal)).tags, { deployedBy: "js" }, "gallery tags (deployment().name)");
  });

  await s.step("deployments: get, listByResourceGroup, checkExistence (true / false)", async (st) => {
    const d = await dep.get(rg, "js");
    st.eq([d.name, d.properties?.provisioningState, d.properties?.mode], ["js", "Succeeded", "Incremental"],
      "name, provisioningState, mode");
    st.eq(await names(dep.listByResourceGroup(rg)), ["js"], "listByResourceGroup");
    const mark = c.rec.mark();
    st.eq((await dep.checkExistence(rg, "js")).body, true, "existing deployment");
    st.eq((await dep.checkExistence(rg, "nope")).body, false, "missing deployment");
    st.eq(c.rec.since(mark).map((e) => [e.method, e.status]), [["HEAD", 204], ["HEAD", 404]], "exchanges");
  });

  await s.step("deployments: deploymentOperations.list has 4 Succeeded operations, the version last", async (st) => {
    const ops = await collect(c.deployments.deploymentOperations.list(rg, "js"));
    const types = ops.map((o) => o.properties?.targetResource?.resourceType);
    st.eq(ops.length, 4, `operations (${JSON.stringify(types)})`);
    st.eq(types.at(-1), "Microsoft.Compute/galleries/images/versions", "type of the last operation");
    st.eq(ops.map((o) => o.properties?.provisioningState), ["Succeeded", "Succeeded", "Succeeded", "Succeeded"],
      "operation states");
  });

  await s.step("deployments: a refused parameter (allowedValues) is RestError 400 InvalidTemplate", async (st) => {
    const e = await st.expectRestError(() => dep.beginCreateOrUpdateAndWait(rg, "js-bad",
      deploymentBody({ ...params, osType: { value: "Solaris" } }), LRO), 400, "InvalidTemplate", "osType Solaris");
    if (isRestError(e)) st.check(/Solaris/.test(e.message), `message does not name the value: ${e.message}`);
    st.eq((await dep.checkExistence(rg, "js-bad")).body, false, "refused deployment exists");
  });

  await s.step("deployments: a failing resource fails the poller with a plain Error naming DeploymentFailed", async (st) => {
    const e = await st.expectRejection(() => dep.beginCreateOrUpdateAndWait(rg, "js-fail",
      deploymentBody({ ...params, versionName: { value: "1.0" } }), LRO), "versionName 1.0");
    if (e) {
      // core-lro reports a Failed operation as a plain Error, not a RestError (azure-sdks.md pitfall 20).
      st.check(!isRestError(e) && !(e instanceof StepFailed), `error ${describe(e)}, expected a plain Error`);
      st.check(/DeploymentFailed/.test(e.message), `message ${JSON.stringify(e.message)}`);
    }
    const d = await dep.get(rg, "js-fail");
    st.eq(d.properties?.provisioningState, "Failed", "provisioningState of the failed deployment");
    st.eq(d.properties?.error?.code, "DeploymentFailed", "error.code");
    st.eq(d.properties?.error?.details?.[0]?.code, "InvalidParameter", "error.details[0].code (the version's own error)");
  });

  await s.step("deployments: beginDeleteAndWait removes the deployment, the resources stay; resource group delete", async (st) => {
    await dep.beginDeleteAndWait(rg, "js", LRO);
    st.eq((await dep.checkExistence(rg, "js")).body, false, "deployment exists after delete");
    st.eq((await c.compute.galleries.get(rg, gal)).name, gal, "gallery after the deployment's delete");
    await c.resources.resourceGroups.beginDeleteAndWait(rg, LRO);
    st.eq((await c.resources.resourceGroups.checkExistence(rg)).body, false, `${rg} exists after delete`);
  });
}

/** Which api-version family a request path belongs to, for EXPECTED_API_VERSIONS. */
function familyOf(path) {
  const p = path.toLowerCase();
  // deploymentOperations.list leaves /providers/Microsoft.Resources out of its path, as the REST spec does.
  if (/\/resourcegroups\/[^/]+\/(providers\/microsoft\.resources\/)?deployments\//.test(p)) return "deployments";
  if (p.includes("/microsoft.compute/galleries") || p.includes("/sharedgalleries")) return "galleries";
  if (p.includes("/microsoft.compute/images")) return "images";
  if (p.includes("/microsoft.compute/snapshots")) return "snapshots";
  if (/^\/subscriptions\/[^/]+\/resourcegroups(\/[^/]+)?$/.test(p)) return "resourcegroups";
  return undefined;
}

async function testApiVersions(s, c) {
  await s.step(`api-versions: compute ${EXPECTED_API_VERSIONS.galleries}, images ${EXPECTED_API_VERSIONS.images}, ` +
    `snapshots ${EXPECTED_API_VERSIONS.snapshots}, resources ${EXPECTED_API_VERSIONS.resourcegroups}, ` +
    `deployments ${EXPECTED_API_VERSIONS.deployments} sent and accepted`, async (st) => {
    const seen = {};
    for (const e of c.rec.entries) {
      const family = familyOf(new URL(e.url).pathname);
      if (!family) continue;
      (seen[family] ??= new Set()).add(apiVersionOf(e.url).join(","));
    }
    for (const [family, want] of Object.entries(EXPECTED_API_VERSIONS)) {
      st.eq([...(seen[family] ?? [])], [want], `api-versions sent for ${family}`);
    }
    const refused = c.rec.entries.filter((e) => /ApiVersion|NoRegisteredProviderFound/i.test(e.error?.code ?? ""));
    st.eq(Recorder.brief(refused), "", "requests refused for their api-version");
    console.log(`  api-versions seen: ${Object.entries(seen).map(([f, v]) => `${f}=${[...v].join("|")}`).join(" ")}`);
  });
}

async function runMain(s, emu) {
  const c = makeClients(emu);
  const rg = "rg-js-main";
  const gal = "jsGallery";
  const ctx = {};
  await testAuth(s, c);
  await testResourceGroups(s, c);
  await testGalleries(s, c, rg, gal);
  await testDefinitions(s, c, rg, gal);
  await testSources(s, c, rg, ctx);
  await testVersions(s, c, rg, gal, ctx);
  await testSharing(s, c, rg);
  await testErrors(s, c, rg, gal, ctx);
  await testDeletes(s, c, rg, gal);
  await testDeployments(s, c);
  await testApiVersions(s, c);
}

// ---------------------------------------------------------------------------------------------
// paging phase (--page-size 2)

async function runPaging(s, emu) {
  const c = makeClients(emu);
  const gals = c.compute.galleries;
  const rg = "rg-js-paging";
  const want = ["jsPage1", "jsPage2", "jsPage3", "jsPage4", "jsPage5"];
  await s.step("paging: create 5 galleries", async (st) => {
    await c.resources.resourceGroups.createOrUpdate(rg, { location: HOME });
    for (const n of want) await gals.createOrUpdate(rg, n, { location: HOME, description: n }, LRO);
    st.eq((await gals.get(rg, "jsPage5")).description, "jsPage5", "last gallery");
  });

  await s.step("paging: for await over listByResourceGroup returns all 5 (3 requests)", async (st) => {
    const mark = c.rec.mark();
    st.eq((await names(gals.listByResourceGroup(rg))).sort(), want, "names");
    const exchanges = c.rec.since(mark);
    st.eq(exchanges.length, 3, `requests (${Recorder.brief(exchanges)})`);
    // arm-compute follows nextLink verbatim and appends api-version only when missing.
    st.eq(exchanges.map((e) => apiVersionOf(e.url)), exchanges.map(() => [EXPECTED_API_VERSIONS.galleries]),
      "api-version of every page request");
  });

  await s.step("paging: listByResourceGroup().byPage() yields pages of 2, 2, 1", async (st) => {
    const pages = await pagesOf(gals.listByResourceGroup(rg));
    st.eq(pages.map((p) => p.length), [2, 2, 1], `page sizes (${JSON.stringify(pages)})`);
    st.eq(pages.flat().sort(), want, "names across pages");
  });

  await s.step("paging: list (subscription) byPage() has >1 page, all 5, no duplicates", async (st) => {
    const pages = await pagesOf(gals.list());
    const flat = pages.flat();
    st.check(pages.length > 1, `${pages.length} pages: ${JSON.stringify(pages)}`);
    st.eq([...new Set(flat)].sort(), want, "names across pages");
    st.eq(flat.length, want.length, "items across pages");
  });

  await s.step("paging: resourceGroups.list (arm-resources) follows nextLink", async (st) => {
    for (const i of [1, 2, 3]) await c.resources.resourceGroups.createOrUpdate(`rg-js-page${i}`, { location: "eastus" });
    const pages = await pagesOf(c.resources.resourceGroups.list());
    st.check(pages.length >= 2, `${pages.length} pages: ${JSON.stringify(pages)}`);
    st.eq(pages.flat().sort(), [rg, "rg-js-page1", "rg-js-page2", "rg-js-page3"].sort(), "names across pages");
  });
}

// ---------------------------------------------------------------------------------------------
// lro phase (--operation-delay-ms 1500)

const LRO_DELAY_MS = 1500;

/**
 * Sends an LRO's initial request. arm-compute returns a core-lro 3 PollerLike (thenable: awaiting
 * it would wait for the end, so wait for submitted() only); arm-resources' begin* returns a
 * promise of a core-lro 2 SimplePollerLike that has sent the initial request.
 */
async function submit(start) {
  const p = start();
  if (typeof p.submitted === "function") {
    await p.submitted();
    return { poller: p }; // wrapped: an async function returning the thenable would await its end
  }
  return { poller: await p };
}

function isDone(poller) {
  return typeof poller.isDone === "function" ? poller.isDone() : poller.isDone;
}

/**
 * Starts an LRO, checks the SDK had to poll (not done once submitted, polls recorded, took about
 * the operation's delay), returns its result and the exchanges.
 */
async function polled(st, c, start, what) {
  const mark = c.rec.mark();
  const t0 = performance.now();
  const { poller } = await submit(start);
  st.check(!isDone(poller), `${what}: done as soon as the initial response arrived`);
  const result = await finish(poller);
  const elapsed = performance.now() - t0;
  const exchanges = c.rec.since(mark);
  st.check(exchanges.length >= 2, `${what}: no polling (${Recorder.brief(exchanges)})`);
  // Emulator time is wall time here: the operation cannot finish before its delay.
  st.check(elapsed >= LRO_DELAY_MS - 100, `${what}: finished after ${elapsed.toFixed(0)} ms, before the ${LRO_DELAY_MS} ms delay`);
  return { result, exchanges };
}

async function runLro(s, emu) {
  const c = makeClients(emu);
  const rg = "rg-js-lro";
  const gal = "jsLro";
  await s.step("lro: gallery createOrUpdate: 201 Creating + Azure-AsyncOperation, polled to Succeeded", async (st) => {
    const g = await c.resources.resourceGroups.createOrUpdate(rg, { location: HOME });
    st.eq(g.properties?.provisioningState, "Succeeded", "resource group PUT is synchronous");
    const { result, exchanges } = await polled(st, c, () => c.compute.galleries.createOrUpdate(rg, gal,
      { location: HOME, description: "lro", sharingProfile: { permissions: "Groups" } }, LRO), "gallery PUT");
    st.eq([exchanges[0].method, exchanges[0].status], ["PUT", 201], "initial response");
    st.check(/\/capsOperations\//i.test(exchanges[0].asyncOperation ?? ""), `Azure-AsyncOperation ${exchanges[0].asyncOperation}`);
    const last = exchanges.at(-1);
    st.eq([last.method, pathOf(last.url).split("?")[0]], ["GET", galleryId(rg, gal)], "final GET on the gallery");
    st.eq([result.provisioningState, result.description], ["Succeeded", "lro"], "result");
  });

  await s.step("lro: gallery update (PATCH): 200 Updating + Azure-AsyncOperation, polled to Succeeded", async (st) => {
    const { result, exchanges } = await polled(st, c, () => c.compute.galleries.update(rg, gal, { description: "lro2" }, LRO),
      "gallery PATCH");
    // No Location on a PATCH: the JS SDK would make its final GET there (azure-sdks.md pitfall 3).
    st.eq([exchanges[0].method, exchanges[0].status, Boolean(exchanges[0].asyncOperation), Boolean(exchanges[0].location)],
      ["PATCH", 200, true, false], "initial response (method, status, Azure-AsyncOperation, Location)");
    st.eq([result.provisioningState, result.description], ["Succeeded", "lro2"], "result");
  });

  await s.step("lro: share (POST): 202 + Location, the result is the SharingUpdate", async (st) => {
    const { result, exchanges } = await polled(st, c, () => c.compute.gallerySharingProfile.update(rg, gal,
      { operationType: "Add", groups: [{ type: "Subscriptions", ids: [CONSUMER_SUB] }] }, LRO), "share POST");
    st.eq([exchanges[0].method, exchanges[0].status, Boolean(exchanges[0].location)], ["POST", 202, true], "initial response");
    // The result comes from a final GET on Location (without it the SDK returns an empty SharingUpdate).
    const final = exchanges.at(-1);
    st.eq([final.method, new URL(final.url).pathname], ["GET", new URL(exchanges[0].location ?? "x:/none").pathname],
      "final GET on Location");
    st.eq([result.operationType, result.groups], ["Add", [{ type: "Subscriptions", ids: [CONSUMER_SUB] }]], "result");
  });

  await s.step("lro: gallery delete: 202, polled to completion, then 404", async (st) => {
    const { exchanges } = await polled(st, c, () => c.compute.galleries.delete(rg, gal, LRO), "gallery DELETE");
    st.eq([exchanges[0].method, exchanges[0].status], ["DELETE", 202], "initial response");
    await st.expectRestError(() => c.compute.galleries.get(rg, gal), 404, "ResourceNotFound", "get after delete");
  });

  await s.step("lro: resource group delete: 202 + Location polled until done, then gone", async (st) => {
    const { exchanges } = await polled(st, c, () => c.resources.resourceGroups.beginDelete(rg, LRO), "resource group DELETE");
    st.eq([exchanges[0].method, exchanges[0].status, Boolean(exchanges[0].location)], ["DELETE", 202, true], "initial response");
    st.check(exchanges.slice(1).every((e) => e.method === "GET" && /\/operationresults\//i.test(e.url)),
      `polls ${Recorder.brief(exchanges.slice(1))}`);
    st.eq((await c.resources.resourceGroups.checkExistence(rg)).body, false, "exists after delete");
  });
}

// ---------------------------------------------------------------------------------------------
// replication phase (--virtual-clock --replication-speed 1)

async function runReplication(s, emu) {
  const c = makeClients(emu);
  const vers = c.compute.galleryImageVersions;
  const rg = "rg-js-repl";
  const gal = "jsRepl";
  const ctx = {};
  const advance = (seconds) => emu.admin("POST", "/_emulator/clock/advance", { seconds });
  const observe = (v) => vers.get(rg, gal, "jsRepl", v, { expand: "ReplicationStatus" });

  await s.step("replication: setup (gallery, definition, 30 GB snapshot)", async (st) => {
    await c.resources.resourceGroups.createOrUpdate(rg, { location: HOME });
    await c.compute.galleries.createOrUpdate(rg, gal, { location: HOME }, LRO);
    await c.compute.galleryImages.createOrUpdate(rg, gal, "jsRepl", definition("JsRepl", "JsReplOffer", "r1"), LRO);
    const snap = await c.compute.snapshots.createOrUpdate(rg, "jsReplSnap", snapshot({ osType: "Linux", hyperVGeneration: "V2" }), LRO);
    st.eq(snap.diskSizeGB, 30, "snapshot size");
    ctx.snapshot = snap.id;
  });

  await s.step("replication: version PUT on a stopped clock: Creating, poller not done, progress 0", async (st) => {
    st.require(ctx.snapshot, "no snapshot");
    ctx.poller = (await submit(() => vers.createOrUpdate(rg, gal, "jsRepl", "1.0.0",
      versionFromSnapshot(ctx.snapshot, [{ name: HOME }, { name: "eastus" }]), LRO))).poller;
    st.check(!isDone(ctx.poller), "poller done right after the initial response on a stopped clock");
    const v = await observe("1.0.0");
    st.eq(v.provisioningState, "Creating", "provisioningState");
    st.eq(v.replicationStatus?.aggregatedState, "InProgress", "aggregatedState");
    st.eq(replicationOf(v), { westus: ["Replicating", 0], eastus: ["Replicating", 0] }, "summary");
  });

  await s.step("replication: 300 s later progress has risen but not finished", async (st) => {
    await advance(300);
    const r = replicationOf(await observe("1.0.0"));
    for (const region of [HOME, "eastus"]) {
      const [state, progress] = r[region] ?? [];
      st.check(state === "Replicating" && progress > 0 && progress < 100, `${region}: ${state} ${progress}`);
    }
    // eastus is farther from the source than westus: its copy is slower (distance model).
    st.check((r.westus?.[1] ?? 0) > (r.eastus?.[1] ?? 0), `progress westus ${r.westus?.[1]} <= eastus ${r.eastus?.[1]}`);
  });

  await s.step("replication: after 2 h the poller resolves Succeeded, Completed 100 everywhere", async (st) => {
    st.require(ctx.poller, "no poller");
    await advance(7200);
    const v = await finish(ctx.poller);
    st.eq(v.provisioningState, "Succeeded", "provisioningState of the result");
    const got = await observe("1.0.0");
    st.eq(got.replicationStatus?.aggregatedState, "Completed", "aggregatedState");
    st.eq(replicationOf(got), { westus: ["Completed", 100], eastus: ["Completed", 100] }, "summary");
  });

  await s.step("replication: a failed region fails the LRO with a plain Error naming GalleryImageVersionReplicationFailed", async (st) => {
    st.require(ctx.snapshot, "no snapshot");
    await emu.admin("POST", "/_emulator/faults", { regions: [{ region: "eastus2", fail: true }] });
    const { poller } = await submit(() => vers.createOrUpdate(rg, gal, "jsRepl", "2.0.0",
      versionFromSnapshot(ctx.snapshot, [{ name: HOME }, { name: "eastus2" }]), LRO));
    await advance(7200);
    const e = await st.expectRejection(() => finish(poller), "awaiting the version PUT");
    if (e) {
      // core-lro reports a Failed operation as a plain Error, not a RestError (azure-sdks.md pitfall 20).
      st.check(!isRestError(e) && !(e instanceof StepFailed), `error ${describe(e)}, expected a plain Error`);
      st.check(/GalleryImageVersionReplicationFailed/.test(e.message), `message ${JSON.stringify(e.message)}`);
      st.check(/eastus ?2|East US 2/i.test(e.message), `message does not name eastus2: ${JSON.stringify(e.message)}`);
    }
    const v = await observe("2.0.0");
    st.eq([v.provisioningState, v.replicationStatus?.aggregatedState], ["Failed", "Failed"], "provisioningState, aggregatedState");
    st.eq(replicationOf(v).eastus2?.[0], "Failed", "eastus2 state");
    st.eq(replicationOf(v).westus, ["Completed", 100], "westus summary");
  });

  await s.step("replication: after clearing faults a re-PUT retries eastus2 and succeeds", async (st) => {
    await emu.admin("DELETE", "/_emulator/faults");
    const { poller } = await submit(() => vers.createOrUpdate(rg, gal, "jsRepl", "2.0.0",
      versionFromSnapshot(ctx.snapshot, [{ name: HOME }, { name: "eastus2" }]), LRO));
    st.check(!isDone(poller), "poller done right after the retry PUT on a stopped clock");
    await advance(7200);
    const v = await finish(poller);
    st.eq(v.provisioningState, "Succeeded", "provisioningState of the result");
    st.eq(replicationOf(await observe("2.0.0")), { westus: ["Completed", 100], eastus2: ["Completed", 100] }, "summary");
  });
}

// ---------------------------------------------------------------------------------------------

function writeConfig(path) {
  writeFileSync(path, JSON.stringify({
    subscriptions: [{ id: CONSUMER_SUB, tenantId: TENANT, displayName: "JS consumer" }],
    principals: [{ ...CONSUMER, tenantId: TENANT }],
    roleAssignments: [{ clientId: CONSUMER.clientId, role: "Owner", scope: `/subscriptions/${CONSUMER_SUB}` }],
  }));
}

function phases(ws) {
  const config = join(ws.root, "identities.json");
  writeConfig(config);
  return [
    { name: "main", flags: ["--replication-speed", "instant", "--config", config], run: runMain },
    { name: "paging", flags: ["--replication-speed", "instant", "--page-size", "2"], run: runPaging },
    { name: "lro", flags: ["--operation-delay-ms", String(LRO_DELAY_MS)], run: runLro },
    { name: "replication", flags: ["--virtual-clock", "--replication-speed", "1"], run: runReplication },
  ];
}

// exit() rather than exitCode: a poller left behind by a timed-out step must not keep Node alive.
process.exit(await runPhases("js_sdk", process.argv, phases));
