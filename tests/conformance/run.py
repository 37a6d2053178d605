#!/usr/bin/env python3
"""Data-driven conformance suite: replays the x-ms-examples of the GalleryRP specs against acg-emulator.

Usage: tests/conformance/run.py [path-to-acg-emulator]      (default: build/acg-emulator of this repo)

For every example file of api-versions 2022-03-03 and 2025-12-03 (see EXAMPLE_SETS) the runner
  1. resets one in-memory emulator started for the whole run,
  2. creates what the example needs first (resource group, gallery, image definition compatible
     with the version's source, the source resources the body names, and, for GET / PATCH / DELETE /
     list / POST examples, the resource the example reads, built from the example's own response),
  3. sends the example's request (method and path template from the spec, by operationId or by
     the spec's x-ms-examples reference),
  4. checks the status code against the documented ones and that every field of the documented
     response body appears in ours with an equal value (see compare() for the exceptions),
and prints one line per example (PASS / FAIL / SKIP) and one summary line
`conformance: N passed, M failed, K skipped`. Exit status 1 when M > 0.

Only the Python standard library is used. Environment: ACG_SPECS_DIR overrides where the specs live.
"""

import copy
import glob
import http.client
import json
import os
import re
import select
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SPECS = os.environ.get("ACG_SPECS_DIR") or os.path.abspath(os.path.join(
    REPO, "..", "shared", "reference", "azure-rest-api-specs", "specification", "compute",
    "resource-manager", "Microsoft.Compute"))

# api-version -> (example folders, spec files), relative to SPECS. The 2025-12-03 examples are split
# over two folders (see azure-rest-api-specs/SOURCE.md); GalleryRP.json refers to both as ./examples/...
EXAMPLE_SETS = [
    ("2022-03-03", ["GalleryRP/stable/2022-03-03/examples"],
     ["GalleryRP/stable/2022-03-03/gallery.json", "GalleryRP/stable/2022-03-03/sharedGallery.json",
      "GalleryRP/stable/2022-03-03/communityGallery.json"]),
    ("2025-12-03", ["Compute/stable/2025-12-03/examples", "GalleryRP/stable/2025-12-03/examples"],
     ["Compute/stable/2025-12-03/GalleryRP.json"]),
]

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"
CLIENT_SECRET = "acg-emulator-secret"
SUB = "22222222-2222-2222-2222-222222222222"

# api-versions of the resources the runner creates as prerequisites.
API_RG = "2021-04-01"
API_IMAGE = "2022-08-01"
API_DISK = "2022-03-02"
API_VM = "2022-08-01"
API_STORAGE = "2023-01-01"

DEFAULT_LOCATION = "westus"

# Read-only fields some examples include that depend on features the emulator does not implement.
# Keys are field paths with list indices written as [] (a "value[]." prefix of list responses is
# dropped before matching); the whole subtree is ignored.
UNIMPLEMENTED_READ_ONLY = {
    "properties.safetyProfile.reportedForPolicyViolation":
        "policy-violation reports are set by Azure's content scanning, which is not emulated",
    "properties.safetyProfile.policyViolations":
        "policy-violation reports are set by Azure's content scanning, which is not emulated",
    "properties.validationsProfile":
        "image validations (executedValidations, platformAttributes) are not emulated",
    "properties.artifactTags":
        "artifact tags of shared and community proxies are set by Azure for its own galleries; no API sets them",
    "properties.disclaimer":
        "community gallery disclaimers are set by Azure; no API of the spec sets them",
    "properties.communityMetadata.privacyStatementUri":
        "no field of sharingProfile.communityGalleryInfo sets a community gallery's privacy statement",
}

# Fields of an example response that contradict the example's own request (documentation
# mistakes), ignored for that file only. Key: (api-version, file name) -> {field path: reason}.
EXAMPLE_QUIRKS = {
    ("2025-12-03", "Gallery_Create_WithManagedIdentity.json"): {
        "properties.softDeletePolicy": "the 201/202 bodies show softDeletePolicy enabled although the request "
                                       "does not ask for it (the 200 body does not)",
    },
    ("2022-03-03", "GalleryApplicationVersion_Create.json"): {
        "properties.publishingProfile.settings": "not in the request (the 202 body does not have it either)",
        "properties.publishingProfile.advancedSettings": "not in the request (the 202 body does not have it either)",
    },
    ("2025-12-03", "GalleryApplicationVersion_Create.json"): {
        "properties.publishingProfile.settings": "not in the request (the 202 body does not have it either)",
        "properties.publishingProfile.advancedSettings": "not in the request (the 202 body does not have it either)",
    },
    ("2022-03-03", "SharedGallery_Get.json"): {
        "name": "the name 'myGalleryName' contradicts the example's own identifier.uniqueId and SharedGallery_List "
                "(a shared gallery is named by its unique name)",
    },
}

# Generated values compared by shape only (any value of the same JSON type).
GENERATED_KEYS = {"uniqueName", "publishedDate", "startTime", "endTime", "timeCreated", "creationTime",
                  "executionTime", "softDeletedTime", "principalId", "tenantId", "publicNames"}
SHAPE_SUBTREES = {"replicationStatus"}
PROVISIONING_STATES = {"Succeeded", "Creating", "Updating"}
IGNORED_KEYS = {"nextLink"}

# Operation families the emulator does not implement yet: a 404 InvalidResourceType (route not
# served) on them counts as "not implemented" just like a 501.
UNIMPLEMENTED_FAMILIES = ["/scripts", "/invmaccesscontrolprofiles", "/softdeletedartifacttypes",
                          "/sharedgallerysubscriptions", "/tenantlevelsharedgallerysubscriptions"]

# The consumer views of shared and community galleries: the examples name their gallery, image
# version and location with placeholders the runner maps to what it created.
PUBLIC_COLLECTIONS = {"sharedgalleries": "shared", "communitygalleries": "community"}
EXAMPLE_LOCATION = "myLocation"
PUBLIC_VERSION_NAME = "1.0.0"

# The examples' AADTenants groups name tenants the emulator does not know.
EMULATOR_FLAGS = ["--allow-cross-tenant-sharing"]


class Skip(Exception):
    pass


class Fail(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Emulator process and HTTPS client
# --------------------------------------------------------------------------------------------

class Emulator:
    def __init__(self, binary):
        self.tmp = tempfile.mkdtemp(prefix="acg-conformance-")
        self.binary = os.path.join(self.tmp, "acg-emulator")
        shutil.copy2(binary, self.binary)  # the tree's binary is rebuilt by others: run a private copy
        self.proc = subprocess.Popen([self.binary, "--port", "0", "--in-memory"] + EMULATOR_FLAGS, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=self.tmp)
        line = self._first_line(10.0)
        m = re.search(r"listening on https://([\d.]+):(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("acg-emulator did not start: %r" % line)
        self.host, self.port = m.group(1), int(m.group(2))
        unverified = ssl._create_unverified_context()
        conn = http.client.HTTPSConnection(self.host, self.port, context=unverified, timeout=10)
        conn.request("GET", "/_emulator/ca.pem")
        resp = conn.getresponse()
        ca = resp.read().decode()
        conn.close()
        if resp.status != 200 or "BEGIN CERTIFICATE" not in ca:
            raise RuntimeError("GET /_emulator/ca.pem answered %d" % resp.status)
        self.context = ssl.create_default_context(cadata=ca)
        self.conn = None
        self.token = None

    def _first_line(self, timeout):
        deadline = time.time() + timeout
        buf = b""
        while time.time() < deadline and b"\n" not in buf:
            r, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.time()))
            if not r:
                break
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
        if b"\n" not in buf and self.proc.poll() is not None:
            buf += self.proc.stderr.read() or b""
        return buf.decode(errors="replace").strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def raw(self, method, path, body=None, headers=None):
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=15)
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        text = raw.decode(errors="replace")
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = text
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed

    def get_token(self):
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                       "client_secret": CLIENT_SECRET,
                                       "scope": "https://management.azure.com/.default"}).encode()
        status, _, body = self.raw("POST", "/%s/oauth2/v2.0/token" % TENANT, form,
                                   {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise RuntimeError("token request answered %d: %s" % (status, body))
        self.token = body["access_token"]

    def arm(self, method, path, api_version, body=None, query=None):
        """One ARM request. path has no query; returns (status, headers, json body)."""
        q = [("api-version", api_version)] + list((query or {}).items())
        target = path + "?" + "&".join("%s=%s" % (urllib.parse.quote(k, safe="$"), urllib.parse.quote(str(v), safe=",/"))
                                       for k, v in q)
        if self.token is None:
            self.get_token()
        for _ in range(2):
            status, headers, parsed = self.raw(method, target, body, {"Authorization": "Bearer " + self.token})
            if status != 401:
                break
            self.get_token()
        if status in (201, 202) and method in ("PUT", "PATCH", "DELETE", "POST"):
            self._wait(headers)
        return status, headers, parsed

    def _wait(self, headers):
        """Polls an Azure-AsyncOperation URL until the operation ends (only with --operation-delay-ms)."""
        url = headers.get("azure-asyncoperation")
        if not url:
            return
        parsed = urllib.parse.urlsplit(url)
        deadline = time.time() + 10
        while time.time() < deadline:
            status, _, body = self.raw("GET", parsed.path + ("?" + parsed.query if parsed.query else ""), None,
                                       {"Authorization": "Bearer " + self.token})
            if status != 200 or not isinstance(body, dict) or body.get("status") not in ("InProgress", "Running"):
                return
            time.sleep(0.05)

    def reset(self):
        status, _, body = self.raw("POST", "/_emulator/reset")
        if status != 200:
            raise RuntimeError("POST /_emulator/reset answered %d: %s" % (status, body))


# --------------------------------------------------------------------------------------------
# Specs: operationId / example reference -> method, path template, body parameter, codes
# --------------------------------------------------------------------------------------------

class Operation:
    def __init__(self, method, template, operation_id, body_param, codes):
        self.method, self.template, self.operation_id = method, template, operation_id
        self.body_param, self.codes = body_param, codes


def load_operations(spec_files):
    by_id, by_ref = {}, {}
    for rel in spec_files:
        with open(os.path.join(SPECS, rel)) as f:
            spec = json.load(f)
        local_params = spec.get("parameters", {})
        for template, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                if method == "parameters" or not isinstance(op, dict):
                    continue
                body_param = None
                for p in op.get("parameters", []):
                    if "$ref" in p and p["$ref"].startswith("#/parameters/"):
                        p = local_params.get(p["$ref"].split("/")[-1], {})
                    if p.get("in") == "body":
                        body_param = p.get("name")
                codes = sorted(c for c in op.get("responses", {}) if c != "default")
                operation = Operation(method.upper(), template, op.get("operationId"), body_param, codes)
                by_id[operation.operation_id] = operation
                for ex in (op.get("x-ms-examples") or {}).values():
                    ref = ex.get("$ref", "")
                    by_ref[os.path.normpath(ref.replace("./examples/", "", 1))] = operation
    return by_id, by_ref


# --------------------------------------------------------------------------------------------
# Placeholders and ids
# --------------------------------------------------------------------------------------------

SUB_PLACEHOLDERS = ("{subscription-id}", "{subscriptionId}", "{subscriptionid}", "{subscription}")


def sanitize_name(name, collection):
    if collection == "storageaccounts":
        n = re.sub(r"[^a-z0-9]", "", name.lower())
        return (n + "000")[:24] if len(n) < 3 else n[:24]
    n = re.sub(r"[^A-Za-z0-9_.-]", "", name)
    return n or "name"


class Names:
    """Consistent rewriting of the placeholders of one example."""

    def __init__(self, params):
        self.params = params
        self.rg = params.get("resourceGroupName") or "myResourceGroup"
        if "{" in self.rg:
            self.rg = sanitize_name(self.rg, "resourcegroups")

    def segment(self, prev, value):
        if "{" not in value:
            return value
        inner = value.strip("{}")
        if prev == "subscriptions" or value in SUB_PLACEHOLDERS:
            return SUB
        if prev == "resourcegroups":
            return self.rg
        if prev == "galleries" and "galleryName" in self.params and "{" not in self.params["galleryName"]:
            return self.params["galleryName"]
        if prev == "locations":
            return DEFAULT_LOCATION
        if prev == "versions":
            return "1.0.0"  # "{versionName}": version names are Major.Minor.Patch
        return sanitize_name(inner, prev)

    def arm_id(self, s):
        parts = s.split("/")
        out = []
        for i, part in enumerate(parts):
            prev = parts[i - 1].lower() if i > 0 else ""
            out.append(self.segment(prev, part))
        return "/".join(out)

    def value(self, v):
        if isinstance(v, dict):
            return {self.value_key(k): self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, str):
            for p in SUB_PLACEHOLDERS:
                v = v.replace(p, SUB)
            if v.lower().startswith("/subscriptions/") or v.lower().startswith("subscriptions/"):
                v = self.arm_id(v)
            return v
        return v

    def value_key(self, k):
        # keys of userAssignedIdentities are ids
        return self.value(k) if isinstance(k, str) and k.lower().startswith("/subscriptions/") else k

    def path_param(self, name, value):
        if not isinstance(value, str):
            return str(value)
        if value in SUB_PLACEHOLDERS or name == "subscriptionId":
            return SUB if "{" in value else value
        if name == "location" and value == "myLocation":
            return DEFAULT_LOCATION
        if "{" in value:
            if name == "location":
                return DEFAULT_LOCATION
            if name == "resourceGroupName":
                return self.rg
            return sanitize_name(value.strip("{}"), "")
        return value


def id_parts(arm_id):
    """'/subscriptions/s/resourceGroups/rg/providers/NS/t1/n1/t2/n2' -> (sub, rg, 'NS/t1/t2', [n1, n2])."""
    parts = [p for p in arm_id.split("/") if p != ""]
    low = [p.lower() for p in parts]
    sub = parts[1] if len(parts) > 1 and low[0] == "subscriptions" else None
    rg = parts[3] if len(parts) > 3 and low[2] == "resourcegroups" else None
    if "providers" not in low:
        return sub, rg, None, []
    i = len(low) - 1 - low[::-1].index("providers")
    ns = parts[i + 1] if i + 1 < len(parts) else ""
    rest = parts[i + 2:]
    types = rest[0::2]
    names = rest[1::2]
    return sub, rg, "/".join([ns] + types), names


def fix_typos(v):
    """Several examples name disk encryption sets with the type segment 'diskEncryptionSet' (no s);
    the resource type is diskEncryptionSets. Rewritten in requests and expected responses alike."""
    if isinstance(v, dict):
        return {k: fix_typos(x) for k, x in v.items()}
    if isinstance(v, list):
        return [fix_typos(x) for x in v]
    if isinstance(v, str):
        return re.sub(r"/diskEncryptionSet/", "/diskEncryptionSets/", v, flags=re.IGNORECASE)
    return v


def complete_encryption(v):
    """This product requires a disk encryption set in every target region when one region uses one
    (issue 5, LIMITS.md); fifteen examples encrypt only some regions. The regions without one get a
    copy of an encrypted region's encryption, naming disk encryption sets of their own
    ("<set>-<region>", created in that region by ensure_encryption_sets). The comparison of
    responses tolerates the extra members, so every such example still runs."""
    if isinstance(v, list):
        return [complete_encryption(x) for x in v]
    if not isinstance(v, dict):
        return v
    v = {k: complete_encryption(x) for k, x in v.items()}
    regions = (v.get("publishingProfile") or {}).get("targetRegions") if isinstance(v.get("publishingProfile"), dict) else None
    if isinstance(regions, list):
        model = next((r.get("encryption") for r in regions if isinstance(r, dict) and r.get("encryption")), None)
        if model:
            for r in regions:
                if isinstance(r, dict) and not r.get("encryption"):
                    suffix = "-" + norm_location(r.get("name"))
                    r["encryption"] = json.loads(re.sub(r'(diskEncryptionSets/[^"/]+)"', lambda m: m.group(1) + suffix + '"',
                                                        json.dumps(model)))
    return v


def future_dates(v, key=None):
    """endOfLifeDate values recorded in the past (the service wants a future date) moved 10 years past now."""
    if isinstance(v, dict):
        return {k: future_dates(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [future_dates(x, key) for x in v]
    if key == "endOfLifeDate" and isinstance(v, str):
        when = parse_instant(v)
        if when is not None and when.timestamp() < time.time():
            return "%04d%s" % (time.gmtime().tm_year + 10, v[4:])
    return v


def norm_location(s):
    return re.sub(r"\s+", "", s).lower() if isinstance(s, str) else s


ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")


def parse_instant(s):
    if not isinstance(s, str):
        return None
    m = ISO_RE.match(s.strip())
    if not m:
        return None
    import datetime
    y, mo, d, h, mi, sec, frac, tz = m.groups()
    dt = datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0),
                           int((frac or "0")[:6].ljust(6, "0")), tzinfo=datetime.timezone.utc)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        dt -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------

def shape_of(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if v is None:
        return "null"
    if isinstance(v, list):
        return "array"
    return "object"


def compare_shape(exp, act, path):
    if shape_of(exp) != shape_of(act):
        return "%s: expected a %s (shape of %s), got %s" % (path, shape_of(exp), json.dumps(exp)[:80], json.dumps(act)[:80])
    if isinstance(exp, dict):
        for k, v in exp.items():
            if k not in act:
                return "%s.%s: missing (shape compared)" % (path, k)
            d = compare_shape(v, act[k], "%s.%s" % (path, k))
            if d:
                return d
    if isinstance(exp, list) and exp:
        if not act:
            return "%s: expected a non-empty array, got []" % path
        for i, a in enumerate(act):
            d = compare_shape(exp[0], a, "%s[%d]" % (path, i))
            if d:
                return d
    return None


class Comparison:
    def __init__(self, excluded, resource_ids):
        self.excluded = excluded          # field path (with []) -> reason
        self.resource_ids = resource_ids  # "" -> id of the response resource; "value" -> {name: id}

    @staticmethod
    def pattern(path):
        p = re.sub(r"\[\d+\]", "[]", path)
        if p.startswith("value[]."):
            p = p[len("value[]."):]
        return p

    def is_excluded(self, path):
        p = self.pattern(path)
        return any(p == x or p.startswith(x + ".") or p.startswith(x + "[") for x in self.excluded)

    def resource_id_for(self, path, exp_obj):
        if path == "":
            return self.resource_ids.get("")
        if re.fullmatch(r"value\[\d+\]", path):
            return self.resource_ids.get("value", {}).get(str(exp_obj.get("name", "")).lower())
        return None

    @staticmethod
    def counterpart(e, act, i):
        """The element of act that e is meant to be (same name / lun / region / type), else act[i]."""
        if isinstance(e, dict):
            for k in ("name", "lun", "region", "type"):
                if k in e:
                    for j, a in enumerate(act):
                        if isinstance(a, dict) and norm_location(a.get(k)) == norm_location(e[k]):
                            return j
        return i

    def compare(self, exp, act, path=""):
        if self.is_excluded(path):
            return None
        key = re.split(r"[.\[]", path.split(".")[-1])[0] if path else ""
        if key in SHAPE_SUBTREES or key in GENERATED_KEYS:
            return compare_shape(exp, act, path)
        if isinstance(exp, dict):
            if not isinstance(act, dict):
                return "%s: expected an object, got %s" % (path or "body", json.dumps(act)[:120])
            for k, v in exp.items():
                sub = "%s.%s" % (path, k) if path else k
                if k in IGNORED_KEYS or self.is_excluded(sub):
                    continue
                if k not in act:
                    return "%s: missing (expected %s)" % (sub, json.dumps(v)[:160])
                if k == "id" and isinstance(v, str):
                    rid = self.resource_id_for(path, exp)
                    if rid is not None:  # the resource's own id: the example's may be malformed
                        if not isinstance(act[k], str) or act[k].lower() != rid.lower():
                            return "%s: expected %s, got %s" % (sub, rid, json.dumps(act[k]))
                        continue
                if k == "type" and isinstance(v, str) and (path == "" or re.fullmatch(r"value\[\d+\]", path)):
                    rid = self.resource_id_for(path, exp)
                    if rid is not None:
                        want = id_parts(rid)[2]
                        if not isinstance(act[k], str) or act[k].lower() != (want or "").lower():
                            return "%s: expected %s, got %s" % (sub, want, json.dumps(act[k]))
                        continue
                d = self.compare(v, act[k], sub)
                if d:
                    return d
            return None
        if isinstance(exp, list):
            if not isinstance(act, list):
                return "%s: expected an array, got %s" % (path, json.dumps(act)[:120])
            if len(exp) != len(act):
                return "%s: expected %d element(s), got %d: %s" % (path, len(exp), len(act), json.dumps(act)[:200])
            used = set()
            for i, e in enumerate(exp):
                if i not in used and self.compare(e, act[i], "%s[%d]" % (path, i)) is None:
                    used.add(i)
                    continue
                match = next((j for j, a in enumerate(act) if j not in used and
                              self.compare(e, a, "%s[%d]" % (path, j)) is None), None)
                if match is None:
                    j = self.counterpart(e, act, i)
                    return self.compare(e, act[j], "%s[%d]" % (path, j)) or "%s[%d]: no match" % (path, i)
                used.add(match)
            return None
        # scalars
        if key == "provisioningState":
            return None if act in PROVISIONING_STATES else "%s: %s is not one of %s" % (
                path, json.dumps(act), sorted(PROVISIONING_STATES))
        if key in ("location", "region") or (re.search(r"targetRegions\[\d+\]\.name$", path)) or \
                re.search(r"targetExtendedLocations\[\d+\]\.name$", path):
            if norm_location(exp) == norm_location(act):
                return None
            return "%s: expected %s, got %s" % (path, json.dumps(exp), json.dumps(act))
        if isinstance(exp, str) and isinstance(act, str):
            if exp == act:
                return None
            if key == "type" and "/" in exp and exp.lower() == act.lower():
                return None  # resource types are case-insensitive (the examples' casing differs by api-version)
            if exp.lower().startswith("/subscriptions/") and exp.lower() == act.lower():
                return None  # ARM ids are case-insensitive
            te, ta = parse_instant(exp), parse_instant(act)
            if te is not None and ta is not None and te == ta:
                return None
            return "%s: expected %s, got %s" % (path, json.dumps(exp), json.dumps(act))
        if isinstance(exp, bool) or isinstance(act, bool):
            return None if exp is act else "%s: expected %s, got %s" % (path, json.dumps(exp), json.dumps(act))
        if exp == act:
            return None
        return "%s: expected %s, got %s" % (path, json.dumps(exp), json.dumps(act))


# --------------------------------------------------------------------------------------------
# One example
# --------------------------------------------------------------------------------------------

def brief(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        e = body["error"]
        return "%s: %s" % (e.get("code"), (e.get("message") or "")[:300])
    return json.dumps(body)[:300] if body is not None else "(no body)"


def route_not_served(status, body):
    return status == 404 and isinstance(body, dict) and isinstance(body.get("error"), dict) and \
        body["error"].get("code") == "InvalidResourceType"


def in_unimplemented_family(path):
    p = path.lower()
    return any(f in p for f in UNIMPLEMENTED_FAMILIES)


def not_implemented_reason(method, path, status, body, setup=False):
    if status == 501:
        answer = "501 NotImplemented"
    elif route_not_served(status, body) and in_unimplemented_family(path):
        answer = "404 InvalidResourceType (route not served)"
    else:
        return None
    return "not implemented: %s%s %s answered %s" % ("setup " if setup else "", method, short_path(path), answer)


def public_audience(path):
    """'shared' or 'community' for a consumer read (.../locations/{l}/sharedGalleries/...), else None."""
    parts = [p.lower() for p in path.split("/")]
    return next((PUBLIC_COLLECTIONS[p] for i, p in enumerate(parts)
                 if p in PUBLIC_COLLECTIONS and i >= 2 and parts[i - 2] == "locations"), None)


def rename(v, names):
    """Every occurrence of each placeholder in names (longest first) replaced, in every string of v."""
    if isinstance(v, dict):
        return {k: rename(x, names) for k, x in v.items()}
    if isinstance(v, list):
        return [rename(x, names) for x in v]
    if isinstance(v, str):
        for old in sorted(names, key=len, reverse=True):
            v = v.replace(old, names[old])
        return v
    return v


def short_path(path):
    return re.sub(r"^/subscriptions/[^/]+", "/subscriptions/{sub}", path)


def strings_in(v, out=None):
    out = [] if out is None else out
    if isinstance(v, dict):
        for k, x in v.items():
            out.append(k)
            strings_in(x, out)
    elif isinstance(v, list):
        for x in v:
            strings_in(x, out)
    elif isinstance(v, str):
        out.append(v)
    return out


def collection_of(path_type):
    return path_type.split("/")[-1].lower() if path_type else ""


class Example:
    def __init__(self, runner, api_version, rel, data, op):
        self.emu = runner.emu
        self.api_version, self.rel, self.data, self.op = api_version, rel, data, op
        self.file = os.path.basename(rel)
        params = data.get("parameters", {})
        self.names = Names(params)
        self.params = params
        self.created = set()
        self.location = None
        self.restoring = False

    # -- requests -----------------------------------------------------------------------------

    def put(self, path, api_version, body):
        status, _, resp = self.emu.arm("PUT", path, api_version, body)
        if status in (200, 201, 202):
            self.created.add(path.lower())
            return resp
        reason = not_implemented_reason("PUT", path, status, resp, setup=True)
        if reason:
            raise Skip(reason)
        raise Fail("setup: PUT %s answered %d %s" % (short_path(path), status, brief(resp)))

    def post(self, path, api_version, body):
        status, _, resp = self.emu.arm("POST", path, api_version, body)
        if status in (200, 202, 204):
            return resp
        reason = not_implemented_reason("POST", path, status, resp, setup=True)
        if reason:
            raise Skip(reason)
        raise Fail("setup: POST %s answered %d %s" % (short_path(path), status, brief(resp)))

    # -- prerequisites ---------------------------------------------------------------------------

    def ensure_rg(self, sub, rg):
        path = "/subscriptions/%s/resourceGroups/%s" % (sub, rg)
        if path.lower() not in self.created:
            self.put(path, API_RG, {"location": self.location})

    def ensure_encryption_sets(self, body):
        """Creates every disk encryption set a version's target regions name, in that region."""
        profile = (((body or {}).get("properties") or {}).get("publishingProfile") or {}) if isinstance(body, dict) else {}
        for region in profile.get("targetRegions") or []:
            encryption = region.get("encryption") or {}
            ids = [(encryption.get("osDiskImage") or {}).get("diskEncryptionSetId")]
            ids += [d.get("diskEncryptionSetId") for d in encryption.get("dataDiskImages") or []]
            for des in filter(None, ids):
                sub, rg, _, names = id_parts(des)
                if not rg or not names:
                    continue
                self.ensure_rg(sub or SUB, rg)
                path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/diskEncryptionSets/%s" % (
                    sub or SUB, rg, names[0])
                if path.lower() not in self.created:
                    self.put(path, API_DISK, {"location": region.get("name") or self.location,
                                              "identity": {"type": "SystemAssigned"},
                                              "properties": {"activeKey": {"keyUrl": "https://myvault.vault.azure.net/keys/mykey/1"}}})

    def ensure_gallery(self, rg, gallery, body=None):
        self.ensure_rg(SUB, rg)
        path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s" % (SUB, rg, gallery)
        if path.lower() in self.created:
            return path
        self.put(path, self.api_version, body or {"location": self.location, "properties": {}})
        return path

    def definition_body(self, name, facts):
        props = {"osType": facts["osType"], "osState": facts["osState"],
                 "hyperVGeneration": facts.get("hyperVGeneration", "V1"),
                 "identifier": {"publisher": "conformancePublisher", "offer": "conformanceOffer", "sku": name}}
        if facts.get("features"):
            props["features"] = facts["features"]
        return {"location": self.location, "properties": props}

    def ensure_image_definition(self, rg, gallery, image, facts, body=None):
        gpath = self.ensure_gallery(rg, gallery)
        path = gpath + "/images/" + image
        if path.lower() not in self.created:
            self.put(path, self.api_version, body or self.definition_body(image, facts))
        return path

    def version_facts(self, version_body, expected):
        """osType / osState / hyperVGeneration of a definition compatible with a version's source."""
        facts = {"osType": "Windows", "osState": "Generalized", "hyperVGeneration": "V1"}
        bodies = [b for b in (version_body, expected) if isinstance(b, dict)]
        storage = {}
        for b in bodies:
            storage = b.get("properties", {}).get("storageProfile") or storage
            if storage:
                break
        source = storage.get("source") or {}
        os_source = (storage.get("osDiskImage") or {}).get("source") or {}
        sid = source.get("id") or source.get("virtualMachineId") or ""
        if os_source.get("id") and "/microsoft.storage/" not in os_source.get("id", "").lower():
            facts["osState"] = "Specialized"  # a version made of snapshots / disks: Specialized (the disks say nothing)
        elif os_source.get("uri"):
            facts["osState"] = "Generalized"
        elif "/virtualmachines/" in sid.lower():
            facts["osState"] = "Generalized"  # the VM is generalized by the runner
        if "linux" in json.dumps(storage).lower():
            facts["osType"] = "Linux"
        for b in bodies:
            if (b.get("properties", {}).get("securityProfile") or {}).get("uefiSettings"):
                facts["hyperVGeneration"] = "V2"
                facts["features"] = [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
        return facts

    def disk_like(self, arm_id, os_type, size, hyper_v="V1"):
        sub, rg, rtype, names = id_parts(arm_id)
        self.ensure_rg(sub or SUB, rg)
        kind = collection_of(rtype)
        props = {"creationData": {"createOption": "Empty"}, "diskSizeGB": int(size or 10)}
        if os_type:
            props["osType"] = os_type
            props["hyperVGeneration"] = hyper_v
        path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/%s/%s" % (
            sub or SUB, rg, "snapshots" if kind == "snapshots" else "disks", names[0])
        if path.lower() not in self.created:
            self.put(path, API_DISK, {"location": self.location, "sku": {"name": "Standard_LRS"}, "properties": props})
        return path

    def disk_hints(self, expected_storage):
        os_img = (expected_storage or {}).get("osDiskImage") or {}
        data = (expected_storage or {}).get("dataDiskImages") or []
        return ({"size": os_img.get("sizeInGB", 10), "caching": os_img.get("hostCaching")},
                [{"lun": d.get("lun", i), "size": d.get("sizeInGB", 10), "caching": d.get("hostCaching")}
                 for i, d in enumerate(data)])

    def create_source(self, arm_id, facts, expected_storage, os_disk=True, data_lun=None):
        """Creates the resource arm_id (a version's source) compatible with facts and the expected disks."""
        sub, rg, rtype, names = id_parts(arm_id)
        rt = (rtype or "").lower()
        if sub and sub != SUB:
            raise Skip("source %s is in another subscription" % arm_id)
        if not rg or not names:
            raise Skip("source id %s is not a resource-group resource id" % arm_id)
        self.ensure_rg(sub or SUB, rg)
        base = "/subscriptions/%s/resourceGroups/%s/providers/" % (sub or SUB, rg)
        os_hint, data_hints = self.disk_hints(expected_storage)
        if rt in ("microsoft.compute/snapshots", "microsoft.compute/disks"):
            if os_disk:
                return self.disk_like(arm_id, facts["osType"], os_hint["size"], facts.get("hyperVGeneration", "V1"))
            size = next((d["size"] for d in data_hints if d["lun"] == data_lun), 10)
            return self.disk_like(arm_id, None, size)
        if rt == "microsoft.compute/images":
            path = base + "Microsoft.Compute/images/" + names[0]
            if path.lower() in self.created:
                return path
            snap = self.disk_like(base + "Microsoft.Compute/snapshots/%s-osdisk" % names[0], facts["osType"],
                                  os_hint["size"], facts.get("hyperVGeneration", "V1"))
            os_disk_body = {"osType": facts["osType"], "osState": "Generalized", "snapshot": {"id": snap},
                            "diskSizeGB": int(os_hint["size"] or 10)}
            if os_hint["caching"]:
                os_disk_body["caching"] = os_hint["caching"]
            data_disks = []
            for d in data_hints:
                dsnap = self.disk_like(base + "Microsoft.Compute/snapshots/%s-lun%d" % (names[0], d["lun"]), None, d["size"])
                dd = {"lun": d["lun"], "snapshot": {"id": dsnap}, "diskSizeGB": int(d["size"] or 10)}
                if d["caching"]:
                    dd["caching"] = d["caching"]
                data_disks.append(dd)
            self.put(path, API_IMAGE, {"location": self.location, "properties": {
                "hyperVGeneration": facts.get("hyperVGeneration", "V1"),
                "storageProfile": {"osDisk": os_disk_body, "dataDisks": data_disks}}})
            return path
        if rt == "microsoft.compute/virtualmachines":
            path = base + "Microsoft.Compute/virtualMachines/" + names[0]
            if path.lower() in self.created:
                return path
            osd = self.disk_like(base + "Microsoft.Compute/disks/%s-osdisk" % names[0], facts["osType"], os_hint["size"],
                                 facts.get("hyperVGeneration", "V1"))
            os_disk_body = {"createOption": "Attach", "osType": facts["osType"], "managedDisk": {"id": osd}}
            if os_hint["caching"]:
                os_disk_body["caching"] = os_hint["caching"]
            data_disks = []
            for d in data_hints:
                dd_id = self.disk_like(base + "Microsoft.Compute/disks/%s-lun%d" % (names[0], d["lun"]), None, d["size"])
                dd = {"lun": d["lun"], "createOption": "Attach", "managedDisk": {"id": dd_id}}
                if d["caching"]:
                    dd["caching"] = d["caching"]
                data_disks.append(dd)
            self.put(path, API_VM, {"location": self.location, "properties": {
                "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
                "storageProfile": {"osDisk": os_disk_body, "dataDisks": data_disks}}})
            if facts["osState"] == "Generalized":
                self.post(path + "/generalize", API_VM, None)
            return path
        if rt == "microsoft.storage/storageaccounts":
            path = base + "Microsoft.Storage/storageAccounts/" + names[0]
            if path.lower() not in self.created:
                self.put(path, API_STORAGE, {"location": self.location, "sku": {"name": "Standard_LRS"},
                                             "kind": "StorageV2", "properties": {}})
            return path
        if rt == "microsoft.compute/galleries/images/versions":
            gallery, image, version = names[0], names[1], names[2]
            defn = self.ensure_image_definition(rg, gallery, image, facts)
            path = defn + "/versions/" + version
            if path.lower() in self.created:
                return path
            img = self.create_source(base + "Microsoft.Compute/images/%s-%s-source" % (image, version.replace(".", "-")),
                                     dict(facts, osState="Generalized"), expected_storage)
            if facts["osState"] != "Generalized":
                raise Skip("a gallery image version source of a Specialized definition is not set up by the runner")
            self.put(path, self.api_version, {"location": self.location, "properties": {
                "storageProfile": {"source": {"id": img}}}})
            return path
        raise Skip("source type %s is not emulated" % rtype)

    def create_sources_of_version(self, version_body, expected, facts):
        """Creates every source a version body (request or response) names."""
        storage = (version_body or {}).get("properties", {}).get("storageProfile") or {}
        exp_storage = (expected or {}).get("properties", {}).get("storageProfile") or storage
        source = storage.get("source") or {}
        for key in ("id", "virtualMachineId"):  # communityGalleryImageId: see setup_community_source

            if source.get(key):
                self.create_source(source[key], facts, exp_storage)
        os_src = (storage.get("osDiskImage") or {}).get("source") or {}
        for key in ("id", "storageAccountId"):
            if os_src.get(key):
                self.create_source(os_src[key], facts, exp_storage, os_disk=True)
        for d in storage.get("dataDiskImages") or []:
            src = d.get("source") or {}
            for key in ("id", "storageAccountId"):
                if src.get(key):
                    self.create_source(src[key], facts, exp_storage, os_disk=False, data_lun=d.get("lun"))

    # -- the resource an example reads, from the example's response -------------------------------

    @staticmethod
    def put_body_from_response(resp, rtype):
        body = copy.deepcopy(resp) if isinstance(resp, dict) else {}
        for k in ("id", "name", "type", "etag", "systemData"):
            body.pop(k, None)
        props = body.get("properties")
        if isinstance(props, dict):
            for k in ("provisioningState", "replicationStatus", "validationsProfile", "sharingStatus"):
                props.pop(k, None)
            if rtype == "microsoft.compute/galleries":
                ident = props.get("identifier")
                if isinstance(ident, dict):
                    ident.pop("uniqueName", None)
                    if not ident:
                        props.pop("identifier")
                sp = props.get("sharingProfile")
                if isinstance(sp, dict):
                    sp.pop("groups", None)
                    info = sp.get("communityGalleryInfo")
                    if isinstance(info, dict):
                        info.pop("publicNames", None)
                        info.pop("communityGalleryEnabled", None)
                        info.setdefault("publicNamePrefix", "conformance")
            pp = props.get("publishingProfile")
            if isinstance(pp, dict):
                pp.pop("publishedDate", None)
            safety = props.get("safetyProfile")
            if isinstance(safety, dict):
                safety.pop("reportedForPolicyViolation", None)
                safety.pop("policyViolations", None)
            storage = props.get("storageProfile")
            if isinstance(storage, dict):
                src = storage.get("source") or {}
                if src.get("id") or src.get("virtualMachineId") or src.get("communityGalleryImageId"):
                    storage.pop("osDiskImage", None)  # they describe the source's disks
                    storage.pop("dataDiskImages", None)
                else:
                    if isinstance(storage.get("osDiskImage"), dict):
                        storage["osDiskImage"].pop("sizeInGB", None)
                    for d in storage.get("dataDiskImages") or []:
                        if isinstance(d, dict):
                            d.pop("sizeInGB", None)
        ident = body.get("identity")
        if isinstance(ident, dict):
            ident.pop("principalId", None)
            ident.pop("tenantId", None)
        return body

    def minimal_body(self, rtype, name, facts=None):
        loc = self.location
        if rtype == "microsoft.compute/galleries":
            return {"location": loc, "properties": {}}
        if rtype == "microsoft.compute/galleries/images":
            return self.definition_body(name, facts or {"osType": "Windows", "osState": "Generalized"})
        if rtype in ("microsoft.compute/galleries/applications", "microsoft.compute/galleries/scripts"):
            return {"location": loc, "properties": {"supportedOSType": "Windows"}}
        if rtype == "microsoft.compute/galleries/invmaccesscontrolprofiles":
            return {"location": loc, "properties": {"osType": "Windows", "applicableHostEndpoint": "WireServer"}}
        if rtype == "microsoft.compute/galleries/applications/versions":
            return {"location": loc, "properties": {"publishingProfile": {
                "source": {"mediaLink": "https://conformance.blob.core.windows.net/apps/package.zip"},
                "manageActions": {"install": "install.cmd", "remove": "remove.cmd"}}}}
        if rtype == "microsoft.compute/galleries/scripts/versions":
            return {"location": loc, "properties": {"publishingProfile": {
                "source": {"scriptLink": "https://conformance.blob.core.windows.net/scripts/script.ps1"}}}}
        if rtype == "microsoft.compute/galleries/invmaccesscontrolprofiles/versions":
            return {"location": loc, "properties": {"mode": "Audit", "defaultAccess": "Allow"}}
        if rtype == "microsoft.compute/galleries/images/versions":
            return {"location": loc, "properties": {"storageProfile": {"source": {
                "id": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/images/%s-source" % (
                    SUB, self.names.rg, name.replace(".", "-"))}}}}
        raise Skip("no setup known for resource type %s" % rtype)

    def ensure_resource(self, path, body=None, expected=None):
        """Creates the resource at path (and its ancestors); body is the wanted state, if known."""
        sub, rg, rtype, names = id_parts(path)
        rt = (rtype or "").lower()
        if not rt.startswith("microsoft.compute/galleries"):
            raise Skip("no setup known for %s" % path)
        self.ensure_rg(sub or SUB, rg)
        gallery_path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s" % (
            sub or SUB, rg, names[0])
        if rt == "microsoft.compute/galleries":
            self.ensure_gallery(rg, names[0], body)
            self.gallery_actions(gallery_path, expected)
            return path
        self.ensure_gallery(rg, names[0])
        parent_type = "/".join(rtype.split("/")[:3])  # Microsoft.Compute/galleries/<child>
        parent_path = gallery_path + "/" + rtype.split("/")[2] + "/" + names[1]
        version_body = body if rt.endswith("/versions") else None
        facts = None
        if parent_type.lower() == "microsoft.compute/galleries/images":
            if rt.endswith("/versions"):
                wanted = version_body or self.minimal_body(rt, names[2])
                facts = self.version_facts(wanted, expected)
                self.ensure_image_definition(rg, names[0], names[1], facts)
                self.create_sources_of_version(wanted, expected, facts)
                if path.lower() not in self.created:
                    self.put(path, self.api_version, wanted)
                return path
            self.ensure_image_definition(rg, names[0], names[1], None, body or self.minimal_body(rt, names[1]))
            return path
        # applications, scripts, inVMAccessControlProfiles (and their versions): generic
        if parent_path.lower() not in self.created:
            self.put(parent_path, self.api_version,
                     (body if not rt.endswith("/versions") and body else None) or
                     self.minimal_body(parent_type.lower(), names[1]))
        if rt.endswith("/versions") and path.lower() not in self.created:
            self.put(path, self.api_version, body or self.minimal_body(rt, names[2]))
        return path

    def gallery_actions(self, gallery_path, expected):
        """Sharing state a gallery response shows that only the share action sets."""
        sp = ((expected or {}).get("properties") or {}).get("sharingProfile") or {}
        if sp.get("groups"):
            self.post(gallery_path + "/share", self.api_version, {"operationType": "Add", "groups": sp["groups"]})
        if (sp.get("communityGalleryInfo") or {}).get("communityGalleryEnabled"):
            self.post(gallery_path + "/share", self.api_version, {"operationType": "EnableCommunity"})

    # -- run --------------------------------------------------------------------------------------

    def run(self):
        op, p = self.op, self.params
        codes = sorted(set(self.data.get("responses", {}).keys()) | set(op.codes))
        path_names = re.findall(r"\{([^}]+)\}", op.template)
        path = op.template
        for n in path_names:
            if n not in p:
                raise Fail("the example has no value for path parameter %s" % n)
            path = path.replace("{%s}" % n, self.names.path_param(n, p[n]))
        query = {k: v for k, v in p.items()
                 if k not in path_names and k != "api-version" and k != op.body_param and not isinstance(v, (dict, list))}
        body = complete_encryption(fix_typos(future_dates(self.names.value(p.get(op.body_param))))) if op.body_param and op.body_param in p else None
        responses = {c: complete_encryption(fix_typos(future_dates(self.names.value(r.get("body"))))) for c, r in self.data.get("responses", {}).items()
                     if isinstance(r, dict)}
        first_body = next((responses[c] for c in ("200", "201", "202") if isinstance(responses.get(c), dict)), None)
        audience = public_audience(path)
        if audience:
            responses = {c: rename(r, {EXAMPLE_LOCATION: DEFAULT_LOCATION}) for c, r in responses.items()}
            first_body = next((responses[c] for c in ("200", "201", "202") if isinstance(responses.get(c), dict)), None)

        self.location = body.get("location") if isinstance(body, dict) else None
        if not self.location and isinstance(first_body, dict):
            self.location = first_body.get("location")
            items = first_body.get("value")
            if not self.location and isinstance(items, list) and items and isinstance(items[0], dict):
                self.location = items[0].get("location")
        if not isinstance(self.location, str) or not self.location or "{" in self.location:
            self.location = DEFAULT_LOCATION
        for candidate in [body] + list(responses.values()):
            if isinstance(candidate, dict):
                self.ensure_encryption_sets(candidate)
                for item in candidate.get("value") or []:
                    self.ensure_encryption_sets(item)
        if "{resourceGroupName}" in op.template:
            self.ensure_rg(SUB, self.names.rg)

        resource_ids = {}
        method = op.method
        is_list = isinstance(first_body, dict) and isinstance(first_body.get("value"), list) and method == "GET"
        if audience:
            names = self.setup_public(audience, first_body)
            path = rename(path, names)
            responses = {c: rename(r, names) for c, r in responses.items()}
        elif is_list:
            resource_ids["value"] = self.setup_list(path, first_body)
        elif method == "PUT":
            community = (((body or {}).get("properties") or {}).get("storageProfile") or {}).get("source") or {}
            if community.get("communityGalleryImageId"):
                names = self.setup_community_source(community["communityGalleryImageId"], first_body)
                body, responses = rename(body, names), {c: rename(r, names) for c, r in responses.items()}
                first_body = next((responses[c] for c in ("200", "201", "202") if isinstance(responses.get(c), dict)), None)
            self.setup_parent_for_put(path, body, first_body)
            resource_ids[""] = path
        elif method == "POST":
            if path.lower().endswith("/share"):
                # Add / Remove need a gallery created for group sharing, EnableCommunity a community one.
                gallery = path[: -len("/share")]
                self.ensure_resource(gallery, {"location": self.location, "properties": {"sharingProfile": {
                                         "permissions": "Groups"}}}
                                     if (body or {}).get("operationType") != "EnableCommunity" else
                                     {"location": self.location, "properties": {"sharingProfile": {
                                         "permissions": "Community", "communityGalleryInfo": {
                                             "publisherUri": "uri", "publisherContact": "pir@microsoft.com",
                                             "eula": "eula", "publicNamePrefix": "conformance"}}}})
            # other POSTs (invites) need nothing the runner can create
        elif "/providers/microsoft.compute/galleries/" in path.lower():
            setup_body = None
            expected_for_setup = first_body
            if method in ("GET", "PATCH") and isinstance(first_body, dict):
                setup_body = self.put_body_from_response(first_body, (id_parts(path)[2] or "").lower())
                setup_body.setdefault("location", self.location)
            self.ensure_resource(path, setup_body, expected_for_setup)
            if method == "PATCH" and isinstance(body, dict) and (body.get("properties") or {}).get("restore"):
                self.soft_delete(path)
                self.restoring = True
            resource_ids[""] = path

        # The example's request.
        status, headers, resp = self.emu.arm(method, path, p.get("api-version", self.api_version), body, query)
        reason = not_implemented_reason(method, path, status, resp)
        if reason:
            raise Skip(reason)
        if self.restoring and status == 404:
            raise Skip("soft delete is not implemented: the version deleted from a gallery with "
                       "softDeletePolicy.isSoftDeleteEnabled is gone, so %s %s (restore) answered 404 %s" % (
                           method, short_path(path), brief(resp)))
        if str(status) not in codes:
            raise Fail("%s %s answered %d %s; documented: %s" % (method, short_path(path), status, brief(resp),
                                                                 ", ".join(codes)))
        expected = responses.get(str(status))
        if expected is None:
            return
        if resp is None:
            raise Fail("%s %s answered %d with no body; the example documents one" % (method, short_path(path), status))
        excluded = dict(UNIMPLEMENTED_READ_ONLY)
        excluded.update(EXAMPLE_QUIRKS.get((self.api_version, self.file), {}))
        diff = Comparison(excluded, resource_ids).compare(expected, resp)
        if diff:
            raise Fail("%s %s answered %d; %s" % (method, short_path(path), status, diff))

    def setup_public(self, audience, expected):
        """What a shared or community gallery example reads: a gallery of this subscription shared
        with it (Subscriptions group) or made public, holding the image or version the example's
        response shows. Returns the example's placeholder names -> the names the emulator gave."""
        p = self.params
        items = expected.get("value") if isinstance(expected, dict) and "value" in expected else [expected]
        item = items[0] if items and isinstance(items[0], dict) else {}
        level = ("version" if "ImageVersions" in (self.op.operation_id or "") else
                 "image" if "Images" in (self.op.operation_id or "") else "gallery")
        rg, gallery = self.names.rg, "myGalleryName"
        sharing = {"permissions": "Groups"}
        if audience == "community":
            meta = (item.get("properties") or {}).get("communityMetadata") or {} if level == "gallery" else {}
            sharing = {"permissions": "Community", "communityGalleryInfo": {
                "publisherUri": meta.get("publisherUri", "https://conformance.example.com"),
                "publisherContact": meta.get("publisherContact", "conformance@example.com"),
                "eula": meta.get("eula", "https://conformance.example.com/eula"), "publicNamePrefix": "conformance"}}
        gallery_path = self.ensure_gallery(rg, gallery, {"location": self.location,
                                                         "properties": {"sharingProfile": sharing}})
        self.post(gallery_path + "/share", self.api_version,
                  {"operationType": "Add", "groups": [{"type": "Subscriptions", "ids": [SUB]}]}
                  if audience == "shared" else {"operationType": "EnableCommunity"})
        status, _, shown = self.emu.arm("GET", gallery_path, self.api_version)
        if status != 200:
            raise Fail("setup: GET %s answered %d %s" % (short_path(gallery_path), status, brief(shown)))
        props = shown.get("properties") or {}
        actual = (props.get("identifier") or {}).get("uniqueName") if audience == "shared" else \
            ((props.get("sharingProfile") or {}).get("communityGalleryInfo") or {}).get("publicNames", [None])[0]
        placeholder = p.get("galleryUniqueName") or p.get("publicGalleryName") or item.get("name")
        names = {placeholder: actual}
        image = p.get("galleryImageName") or item.get("name")
        if level == "image":
            for it in items:
                defn = {k: v for k, v in (it.get("properties") or {}).items() if k not in ("artifactTags", "disclaimer")}
                self.ensure_image_definition(rg, gallery, it.get("name"), None,
                                             {"location": self.location, "properties": defn})
        elif level == "version":
            for it in items:
                version = p.get("galleryImageVersionName") or it.get("name")
                if not re.fullmatch(r"\d+\.\d+\.\d+", version):
                    names[version] = PUBLIC_VERSION_NAME
                    version = PUBLIC_VERSION_NAME
                props = it.get("properties") or {}
                disks = (props.get("storageProfile") or {})
                wanted_disks = {"osDiskImage": {"sizeInGB": (disks.get("osDiskImage") or {}).get("diskSizeGB", 10),
                                                "hostCaching": (disks.get("osDiskImage") or {}).get("hostCaching")}}
                publishing = {"targetRegions": [{"name": self.location}],
                              "excludeFromLatest": props.get("excludeFromLatest", False)}
                if props.get("endOfLifeDate"):
                    publishing["endOfLifeDate"] = props["endOfLifeDate"]
                source = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/images/%s-source" % (
                    SUB, rg, version.replace(".", "-"))
                self.ensure_resource(gallery_path + "/images/%s/versions/%s" % (image, version),
                                     {"location": self.location, "properties": {
                                         "publishingProfile": publishing, "storageProfile": {"source": {"id": source}}}},
                                     {"properties": {"storageProfile": wanted_disks}})
        return names

    def setup_community_source(self, image_id, expected):
        """A version made from a community image: a public community gallery of this subscription
        holding that image, with a version in the example's region whose disks are those the
        example's response shows. Returns the id's placeholders -> the names the emulator gave."""
        parts = [x for x in image_id.split("/") if x]
        if len(parts) < 4:
            raise Skip("community gallery image id %s has no image" % image_id)
        rg, gallery, image = self.names.rg, "communitySourceGallery", "communitySourceImage"
        gallery_path = self.ensure_gallery(rg, gallery, {"location": self.location, "properties": {"sharingProfile": {
            "permissions": "Community", "communityGalleryInfo": {
                "publisherUri": "https://conformance.example.com", "publisherContact": "conformance@example.com",
                "eula": "https://conformance.example.com/eula", "publicNamePrefix": "conformance"}}}})
        self.post(gallery_path + "/share", self.api_version, {"operationType": "EnableCommunity"})
        status, _, shown = self.emu.arm("GET", gallery_path, self.api_version)
        if status != 200:
            raise Fail("setup: GET %s answered %d %s" % (short_path(gallery_path), status, brief(shown)))
        public = shown["properties"]["sharingProfile"]["communityGalleryInfo"]["publicNames"][0]
        version = parts[5] if len(parts) > 5 else PUBLIC_VERSION_NAME
        source = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/images/%s-source" % (SUB, rg, image)
        self.ensure_resource(gallery_path + "/images/%s/versions/%s" % (image, version),
                             {"location": self.location, "properties": {
                                 "publishingProfile": {"targetRegions": [{"name": self.location}]},
                                 "storageProfile": {"source": {"id": source}}}}, expected)
        return {parts[1]: public, parts[3]: image}

    def soft_delete(self, path):
        """A restore example restores a soft-deleted version: enable soft delete, then delete it."""
        sub, rg, _, names = id_parts(path)
        gallery = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s" % (sub, rg, names[0])
        status, _, resp = self.emu.arm("PATCH", gallery, self.api_version,
                                       {"properties": {"softDeletePolicy": {"isSoftDeleteEnabled": True}}})
        if status not in (200, 202):
            raise Fail("setup: PATCH gallery softDeletePolicy answered %d %s" % (status, brief(resp)))
        status, _, resp = self.emu.arm("DELETE", path, self.api_version)
        if status not in (200, 202, 204):
            raise Fail("setup: DELETE %s (soft delete) answered %d %s" % (short_path(path), status, brief(resp)))

    def setup_parent_for_put(self, path, body, first_body):
        sub, rg, rtype, names = id_parts(path)
        rt = (rtype or "").lower()
        if not rt.startswith("microsoft.compute/galleries"):
            return
        gallery_path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s" % (
            sub, rg, names[0])
        if rt == "microsoft.compute/galleries":
            return
        self.ensure_gallery(rg, names[0])
        if rt == "microsoft.compute/galleries/images/versions":
            facts = self.version_facts(body, first_body)
            self.ensure_image_definition(rg, names[0], names[1], facts)
            self.create_sources_of_version(body, first_body, facts)
        elif rt.endswith("/versions"):
            parent_type = "/".join(rtype.split("/")[:3]).lower()
            parent = gallery_path + "/" + rtype.split("/")[2] + "/" + names[1]
            if parent.lower() not in self.created:
                self.put(parent, self.api_version, self.minimal_body(parent_type, names[1]))

    def setup_list(self, path, first_body):
        """Creates the items of a list example; returns {name: id}."""
        ids = {}
        low = path.lower()
        items = first_body.get("value") or []
        for item in items:
            name = item.get("name")
            if not isinstance(name, str):
                raise Skip("a listed item has no name")
            if re.search(r"/subscriptions/[^/]+/providers/microsoft\.compute/galleries$", low):
                rg = id_parts(item.get("id", ""))[1] or self.names.rg
                item_path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s" % (SUB, rg, name)
            elif "/providers/microsoft.compute/galleries" in low and "/locations/" not in low:
                item_path = path + "/" + name
            else:
                return ids  # shared / community listings: nothing to create, the request says
            rtype = (id_parts(item_path)[2] or "").lower()
            body = self.put_body_from_response(item, rtype)
            body.setdefault("location", item.get("location") or self.location)
            self.ensure_resource(item_path, body, item)
            ids[name.lower()] = item_path
        if not items and "/galleries/" in low:
            self.ensure_resource(path.rsplit("/", 1)[0])  # an empty listing: its parent must exist
        return ids


# --------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------

class Runner:
    def __init__(self, binary):
        self.emu = Emulator(binary)

    def examples(self):
        for api_version, folders, specs in EXAMPLE_SETS:
            by_id, by_ref = load_operations(specs)
            seen = set()
            for folder in folders:
                root = os.path.join(SPECS, folder)
                for f in sorted(glob.glob(os.path.join(root, "**", "*.json"), recursive=True)):
                    rel_in_examples = os.path.normpath(os.path.relpath(f, root))
                    if rel_in_examples in seen:
                        continue
                    seen.add(rel_in_examples)
                    yield api_version, os.path.relpath(f, SPECS), f, by_ref.get(rel_in_examples), by_id

    def run(self):
        counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        for api_version, rel, full, op, by_id in self.examples():
            try:
                with open(full) as fh:
                    data = json.load(fh)
                example_version = data.get("parameters", {}).get("api-version", api_version)
                op = by_id.get(data.get("operationId")) or op
                if op is None:
                    raise Skip("no operation of the spec names this example (operationId %s)" % data.get("operationId"))
                self.emu.reset()
                Example(self, example_version, rel, data, op).run()
                result, detail = "PASS", ""
            except Skip as e:
                result, detail = "SKIP", str(e)
            except Fail as e:
                result, detail = "FAIL", str(e)
            except Exception as e:  # a runner or transport error is a failure of this example
                result, detail = "FAIL", "runner error: %s: %s" % (type(e).__name__, e)
            counts[result] += 1
            line = "%s %s %s" % (result, api_version, rel)
            print(line + (": " + detail if detail else ""), flush=True)
        print("conformance: %d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]),
              flush=True)
        return counts["FAIL"]


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip().splitlines()[2])
        return 0 if len(argv) == 2 else 2
    binary = argv[1] if len(argv) == 2 else os.path.join(REPO, "build", "acg-emulator")
    if not os.path.isfile(binary):
        print("conformance: no emulator binary at %s" % binary, file=sys.stderr)
        return 2
    if not os.path.isdir(SPECS):
        print("conformance: no specs at %s (set ACG_SPECS_DIR)" % SPECS, file=sys.stderr)
        return 2
    runner = Runner(binary)
    try:
        failures = runner.run()
    finally:
        runner.emu.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
