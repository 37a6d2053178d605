#!/usr/bin/python3
"""Debian's Packer 1.6.6 (azure-arm builder) building a Linux image into the emulator's gallery.

    tests/clients/packer/run.py [path-to-acg-emulator-binary]

Packer 1.6.6 cannot be pointed at a custom cloud: it always talks to login.microsoftonline.com
and management.azure.com (../shared/reference/clients/packer.md). The emulator runs in
transparent mode (--proxy-port: an HTTPS proxy that terminates CONNECT tunnels for those hosts
itself, with certificates from its own CA) and with its SSH endpoint (--ssh-port), which the
build's public IP (127.0.0.1) and the template's ssh_port lead Packer to.

The template is the example pipelines' scripts/pipelines/golden-image.packer.json, and the
last step deploys their scripts/pipelines/vm-from-gallery.json, so the examples are tested.

The story: the gallery, its image definition and the managed image's resource group exist
(seeded with the Python SDK); `packer build` (a shell provisioner,
managed_image_* and shared_image_gallery_destination to two regions) exits 0; the version
exists, captured from the managed image Packer made, and its replication has completed in both
regions; Packer cleaned up (temporary resource group and everything in it gone); the build VM's
log shows the provisioner's script uploaded over scp and run; a VM deploys from the version.
Also: a host other than the two is refused by the proxy with 403 and nothing is forwarded.
Prints one PASS/FAIL line per step and "packer: N passed, M failed".
"""

import json
import logging
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's python3-azure, not a pyenv site

from emulator_harness import CLIENT_ID, SECRET, SUB, TENANT, finish, run_phases  # noqa: E402

from azure.identity import ClientSecretCredential  # noqa: E402
from azure.mgmt.compute import ComputeManagementClient  # noqa: E402
from azure.mgmt.compute.v2022_03_03 import models as GM  # noqa: E402
from azure.mgmt.resource import ResourceManagementClient  # noqa: E402

logging.getLogger("azure.identity").setLevel(logging.ERROR)

LRO_TIMEOUT_S = 30
PACKER_TIMEOUT_S = 600
LOCATION = "westus2"
REPLICA_REGIONS = ["westus2", "eastus"]
GALLERY_RG, GALLERY, DEFINITION, VERSION = "gallery-rg", "emugallery", "emu-linux", "1.0.0"
IMAGES_RG, MANAGED_IMAGE = "images-rg", "emu-image-1"
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TEMPLATE = os.path.join(REPO, "scripts", "pipelines", "golden-image.packer.json")
VM_TEMPLATE = os.path.join(REPO, "scripts", "pipelines", "vm-from-gallery.json")


def phases(_ws):
    return [("packer", ["--replication-speed", "instant", "--proxy-port", "0", "--ssh-port", "0"], None)]


def admin_get(emu, path):
    ctx = ssl.create_default_context(cafile=emu.ca)
    with urllib.request.urlopen(emu.url + path, context=ctx, timeout=10) as r:
        return json.loads(r.read())


def listener_ports(emu):
    """The proxy and SSH ports the emulator picked (--proxy-port 0, --ssh-port 0)."""
    ports = admin_get(emu, "/_emulator/health")["ports"]
    return int(ports["proxy"]), int(ports["ssh"])


def run_packer(emu, workdir, proxy_port, ssh_port):
    """`packer build` of the example pipelines' template, with only the proxy and the emulator's
    CA between Packer and 'Azure'."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir,
        "HTTPS_PROXY": f"http://127.0.0.1:{proxy_port}", "NO_PROXY": "",
        "SSL_CERT_FILE": emu.ca,  # replaces Go's system trust store: only the emulator's CA
        "CHECKPOINT_DISABLE": "1", "PACKER_CACHE_DIR": os.path.join(workdir, "cache"),
        "PACKER_LOG": "1", "PACKER_LOG_PATH": os.path.join(workdir, "packer.log"),
    }
    # tenant_id empty: Packer discovers the tenant from the 401 an unauthenticated subscription
    # GET answers (WWW-Authenticate authorization_uri), the path a template without it takes.
    variables = {"tenant_id": "", "location": LOCATION, "second_region": REPLICA_REGIONS[1], "gallery_resource_group": GALLERY_RG,
                 "gallery_name": GALLERY, "image_definition": DEFINITION, "image_version": VERSION,
                 "managed_image_resource_group": IMAGES_RG, "managed_image_name": MANAGED_IMAGE,
                 "ssh_port": str(ssh_port)}
    cmd = ["packer", "build", "-color=false"]
    for name, value in variables.items():
        cmd += ["-var", f"{name}={value}"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd + [TEMPLATE], cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=PACKER_TIMEOUT_S)
    return proc, time.monotonic() - t0


def tail(text, n=25):
    return " | ".join(text.splitlines()[-n:])


def test_packer(s, emu, _):
    cred = ClientSecretCredential(TENANT, CLIENT_ID, SECRET, authority=emu.url, instance_discovery=False,
                                  connection_verify=emu.ca)
    kw = dict(base_url=emu.url, credential_scopes=[emu.url + "/.default"], connection_verify=emu.ca,
              polling_interval=0, retry_total=0)
    res = ResourceManagementClient(cred, SUB, **kw)
    cmp = ComputeManagementClient(cred, SUB, **kw)
    workdir = os.path.join(emu.dir, "packer")
    os.makedirs(workdir)
    ports = None

    with s.step("the emulator reports its proxy and SSH ports") as st:
        ports = listener_ports(emu)
        st.require(all(p > 0 for p in ports), f"ports {ports}")

    with s.step("seed: resource groups, gallery and image definition (Python SDK)") as st:
        for rg in (GALLERY_RG, IMAGES_RG):
            res.resource_groups.create_or_update(rg, {"location": LOCATION})
        finish(cmp.galleries.begin_create_or_update(GALLERY_RG, GALLERY, GM.Gallery(location=LOCATION)), LRO_TIMEOUT_S)
        d = finish(cmp.gallery_images.begin_create_or_update(GALLERY_RG, GALLERY, DEFINITION, GM.GalleryImage(
            location=LOCATION, os_type="Linux", os_state="Generalized",
            identifier=GM.GalleryImageIdentifier(publisher="Contoso", offer="golden", sku="ubuntu"))), LRO_TIMEOUT_S)
        st.eq(d.provisioning_state, "Succeeded", "definition")

    if ports is None:
        s.skip_fail("packer build", "no proxy/SSH ports")
        return
    proxy_port, ssh_port = ports

    with s.step("the proxy refuses a host it does not serve, forwarding nothing") as st:
        proc = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--proxy",
                               f"http://127.0.0.1:{proxy_port}", "--cacert", emu.ca, "https://example.com/"],
                              capture_output=True, text=True, timeout=30)
        # curl reports the refused CONNECT on stderr ("CONNECT tunnel failed, response 403").
        st.check(proc.returncode != 0 and "response 403" in proc.stderr,
                 f"CONNECT example.com: rc {proc.returncode}, {proc.stdout!r} {proc.stderr.strip()!r}")

    with s.step("packer build (shell provisioner, managed image + shared_image_gallery_destination)") as st:
        proc, seconds = run_packer(emu, workdir, proxy_port, ssh_port)
        print(f"  packer build: exit {proc.returncode} in {seconds:.1f}s", flush=True)
        if proc.returncode != 0:  # Packer's own log says which call went wrong
            with open(os.path.join(workdir, "packer.log"), errors="replace") as f:
                print("  packer.log: " + tail(f.read(), 40), flush=True)
        st.require(proc.returncode == 0, f"exit {proc.returncode}: {tail(proc.stdout + proc.stderr)}")
        st.check("Build 'azure-arm' finished" in proc.stdout, f"no 'finished' line: {tail(proc.stdout)}")
        st.check(f"ManagedImageSharedImageGalleryImageVersion: {VERSION}" in proc.stdout or VERSION in proc.stdout,
                 f"the artifact does not name the version: {tail(proc.stdout, 12)}")

    with s.step("the version exists, from Packer's managed image, replicated to both regions") as st:
        v = cmp.gallery_image_versions.get(GALLERY_RG, GALLERY, DEFINITION, VERSION, expand="ReplicationStatus")
        st.eq(v.provisioning_state, "Succeeded", "version provisioningState")
        image_id = cmp.images.get(IMAGES_RG, MANAGED_IMAGE).id
        source = v.storage_profile.source.id if v.storage_profile.source else None
        st.check(source is not None and source.lower() == image_id.lower(), f"version source {source!r}, image {image_id!r}")
        regions = {r.region.replace(" ", "").lower(): r.state for r in v.replication_status.summary}
        st.eq(sorted(regions), sorted(REPLICA_REGIONS), "replicated regions")
        st.check(all(state == "Completed" for state in regions.values()), f"replication {regions}")

    with s.step("packer cleaned up: its temporary resource group is gone") as st:
        left = [g.name for g in res.resource_groups.list() if g.name.lower().startswith("pkr-resource-group-")]
        st.eq(left, [], "temporary resource groups")

    with s.step("the build VM's log: the provisioner's script uploaded over scp and run") as st:
        logs = admin_get(emu, "/_emulator/buildlogs")["value"]
        vms = [l["resourceId"] for l in logs if "/virtualmachines/pkrvm" in l["resourceId"].lower()]
        st.require(len(vms) == 1, f"build logs of Packer VMs: {vms} (all: {[l['resourceId'] for l in logs]})")
        lines = admin_get(emu, "/_emulator/buildlogs?resourceId=" + urllib.request.quote(vms[0], safe=""))["lines"]
        texts = [l["text"] for l in lines]
        uploads = [t for t in texts if t.startswith("upload: /tmp/script_")]
        runs = [t for t in texts if t.startswith("exec: ") and "/tmp/script_" in t]
        st.check(len(uploads) == 1, f"script uploads {uploads} in {texts}")
        st.check(runs, f"no exec of the script in {texts}")

    with s.step("a VM deploys from the version (the pipelines' vm-from-gallery.json)") as st:
        version_id = (f"/subscriptions/{SUB}/resourceGroups/{GALLERY_RG}/providers/Microsoft.Compute/galleries/"
                      f"{GALLERY}/images/{DEFINITION}/versions/{VERSION}")
        res.resource_groups.create_or_update("app-rg", {"location": "eastus"})
        with open(VM_TEMPLATE) as f:
            template = json.load(f)
        parameters = {"imageVersionId": {"value": version_id}, "vmName": {"value": "vm-golden"},
                      "sshPublicKey": {"value": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 ci@example"}}
        deployment = finish(res.deployments.begin_create_or_update("app-rg", "vm-from-gallery", {
            "properties": {"mode": "Incremental", "template": template, "parameters": parameters}}), LRO_TIMEOUT_S)
        st.eq(deployment.properties.provisioning_state, "Succeeded", "deployment")
        vm = cmp.virtual_machines.get("app-rg", "vm-golden")
        st.eq(vm.provisioning_state, "Succeeded", "VM")
        st.check(vm.storage_profile.image_reference.id.lower() == version_id.lower(),
                 f"VM image {vm.storage_profile.image_reference.id!r}")


def main():
    if shutil.which("packer") is None:
        print("packer: the packer binary is not installed (apt-get install packer)", file=sys.stderr)
        return 2
    return run_phases("packer", sys.argv, phases, test_packer)


if __name__ == "__main__":
    sys.exit(main())
