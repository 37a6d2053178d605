#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) from the ARM
reference examples and the repository's own test material. The output is committed, so CI
needs neither the specs nor this script; run it again when the examples change:

    tests/fuzz/make_corpus.py [SPECS_DIR]

SPECS_DIR defaults to ../shared/reference/.../Microsoft.Compute beside the repository
(ACG_SPECS_DIR overrides it, as for tests/conformance)."""

import glob
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_SPECS = os.path.join(ROOT, "..", "shared", "reference", "azure-rest-api-specs", "specification",
                             "compute", "resource-manager", "Microsoft.Compute")

# resource_body_fuzz.cpp's writes, by index: which example parameter feeds which write.
BODY_WRITES = {
    ("gallery", "Create"): 2, ("gallery", "Update"): 3,
    ("galleryImage", "Create"): 4, ("galleryImage", "Update"): 5,
    ("galleryImageVersion", "Create"): 6, ("galleryImageVersion", "Update"): 7,
    ("galleryApplication", "Create"): 8, ("galleryApplicationVersion", "Create"): 9,
    ("sharingUpdate", "Create"): 10, ("sharingUpdate", "Update"): 10,
}
SUB = "22222222-2222-2222-2222-222222222222"
GROUP = f"/subscriptions/{SUB}/resourceGroups/fuzz"
PATHS = {
    "gallery": "/providers/Microsoft.Compute/galleries/{galleryName}",
    "galleryImage": "/providers/Microsoft.Compute/galleries/fixed/images/{galleryImageName}",
    "galleryImageVersion": "/providers/Microsoft.Compute/galleries/fixed/images/fixedimg/versions/{galleryImageVersionName}",
    "galleryApplication": "/providers/Microsoft.Compute/galleries/fixed/applications/{galleryApplicationName}",
    "galleryApplicationVersion": "/providers/Microsoft.Compute/galleries/fixed/applications/fixedapp/versions/{galleryApplicationVersionName}",
    "sharingUpdate": "/providers/Microsoft.Compute/galleries/fixed/share",
}


def write_seed(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def example_files(specs):
    return sorted(glob.glob(os.path.join(specs, "GalleryRP", "stable", "*", "examples", "**", "*.json"), recursive=True))


def string_values(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from string_values(v)
    elif isinstance(node, list):
        for v in node:
            yield from string_values(v)
    elif isinstance(node, str):
        yield node


def seed_from_example(path):
    with open(path) as f:
        example = json.load(f)
    params = example.get("parameters", {})
    kind = "Update" if "_Update" in os.path.basename(path) else "Create"
    for key, body in params.items():
        if (key, kind) in BODY_WRITES and isinstance(body, dict):
            text = json.dumps(body)
            write_seed("resource_body", bytes([BODY_WRITES[(key, kind)]]) + text.encode())
            method = "POST" if key == "sharingUpdate" else ("PATCH" if kind == "Update" else "PUT")
            target = GROUP + PATHS[key].format(**params) + "?api-version=" + params.get("api-version", "2022-03-03")
            write_seed("http_request", f"{method} {target}\nContent-Type: application/json\n\n{text}")
    for value in string_values(example):
        if value.startswith("/subscriptions/"):
            write_seed("resource_id", value)
    for name in ("galleryImageVersionName", "galleryApplicationVersionName"):
        if isinstance(params.get(name), str):
            write_seed("version_name", params[name])


def repository_seeds():
    for name in ("1.0.0", "0.0.1", "2147483647.2147483647.2147483647", "2147483648.0.0", "1.0", "1.0.0.0",
                 "01.2.3", "-1.0.0", "1..0", " 1.0.0", "1.0.0 ", "latest", "1.0.0-beta"):
        write_seed("version_name", name)
    for target in (f"GET /subscriptions/{SUB}/resourceGroups?api-version=2021-04-01\n\n",
                   f"GET {GROUP}/providers/Microsoft.Compute/galleries?api-version=2022-03-03&$skiptoken=5\n\n",
                   f"DELETE {GROUP}/providers/Microsoft.Compute/galleries/fixed?api-version=2022-03-03\n\n",
                   "GET /_emulator/health\n\n", "GET /_emulator/ui/../../etc/passwd\n\n",
                   "POST /11111111-1111-1111-1111-111111111111/oauth2/v2.0/token\n"
                   "Content-Type: application/x-www-form-urlencoded\n\n"
                   "grant_type=client_credentials&client_id=33333333-3333-3333-3333-333333333333"
                   "&client_secret=acg-emulator-secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"):
        write_seed("http_request", target)
    for token in ("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.",
                  "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyJ9.AAAA",
                  "a.b.c", "...", "Bearer", ""):
        write_seed("token", token)
    for expression in ("[concat('a', 'b')]", "[parameters('p')]", "[range(0, 3)]", "[if(true(), 1, 2)]",
                       "[resourceId('Microsoft.Compute/galleries', 'g')]", "[[escaped]", "[utcNow()]",
                       "[json('{\"a\":[1,2]}').a[1]]", "[split('a,b', ',')[0]]", "[copyIndex()]"):
        write_seed("template", expression)
    for path in glob.glob(os.path.join(ROOT, "tests", "clients", "templates", "*.json")):
        with open(path) as f:
            doc = json.load(f)
        if "resources" in doc:
            write_seed("template", json.dumps(doc))
            write_seed("resource_body", bytes([18]) + json.dumps({"properties": {"template": doc, "mode": "Incremental",
                                                                                   "parameters": {}}}).encode())


def policy_seeds():
    """The built-in definitions and the governance seed's, each against a gallery resource."""
    resource = {"type": "Microsoft.Compute/galleries/images/versions", "name": "g/d/1.0.0", "location": "westus2",
                "tags": {"owner": "team"}, "properties": {"publishingProfile": {"targetRegions": [
                    {"name": "westus2"}, {"name": "eastus"}]}}}
    definitions = []
    with open(os.path.join(ROOT, "emulator", "data", "policy_definitions.json")) as f:
        definitions += json.load(f)
    with open(os.path.join(ROOT, "scripts", "seeds", "governance.json")) as f:
        seed = json.load(f)
    definitions += [r for r in seed.get("resources", []) if "policyRule" in r.get("properties", {})]
    for d in definitions:
        props = d.get("properties", d)
        values = {k: {"value": v["defaultValue"]} for k, v in props.get("parameters", {}).items() if "defaultValue" in v}
        for k, v in props.get("parameters", {}).items():
            if k not in values:
                values[k] = {"value": ["westus2"] if v.get("type", "").lower() == "array" else "owner"}
        write_seed("policy_rule", json.dumps({"rule": props.get("policyRule"), "parameters": props.get("parameters", {}),
                                              "values": values, "mode": props.get("mode", "All"),
                                              "resource": resource}))


def main():
    specs = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ACG_SPECS_DIR", DEFAULT_SPECS)
    examples = example_files(specs)
    if not examples:
        sys.exit(f"no gallery examples under {specs}")
    for path in examples:
        seed_from_example(path)
    repository_seeds()
    policy_seeds()
    for target in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        print(target, len(os.listdir(os.path.join(HERE, "corpus", target))))


if __name__ == "__main__":
    main()
