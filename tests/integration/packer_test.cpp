// Packer 1.6.6's azure-arm builder, replayed over HTTPS: the ARM call sequence of
// ../shared/reference/clients/packer.md (managed image + shared_image_gallery_destination)
// with its exact api-versions and path casing, the deployment body it submits
// (tests/clients/packer/deployment.json), and what each later call needs from what that
// deployment materialised. Plus the Microsoft.Network types' own rules and errors.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "emulator/text.h"
#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kRes = "?api-version=2018-02-01";       // Packer's resources SDK
const std::string kCompute = "?api-version=2018-04-01";   // images, VMs
const std::string kGallery = "?api-version=2019-03-01";   // gallery images and versions
const std::string kNet = "?api-version=2018-01-01";       // Packer's network GETs
const std::string kNetNew = "?api-version=2022-01-01";    // az 2.45
const std::string kSubPath = "/subscriptions/" + kSub;
const std::string kTmpGroup = "pkr-Resource-Group-q1w2e3r4t5";
const std::string kSuffix = "q1w2e3r4t5";

json packer_deployment() {
  std::ifstream in(std::string(ACG_PACKER_DIR) + "/deployment.json");
  std::stringstream text;
  text << in.rdbuf();
  json body = json::parse(text.str(), nullptr, false);
  REQUIRE(body.is_object());
  return body;
}

// resources SDK casing ("resourcegroups"), as Packer sends it.
std::string lower_group(const std::string& rg) { return kSubPath + "/resourcegroups/" + rg; }
std::string group(const std::string& rg) { return kSubPath + "/resourceGroups/" + rg; }
std::string in_group(const std::string& rg, const std::string& type, const std::string& name) {
  return group(rg) + "/providers/" + type + "/" + name;
}

// Polls a long-running answer the way go-autorest does: Azure-AsyncOperation first, else
// Location; checks Retry-After is an integer (a non-numeric one panics Packer).
void await(TestEmulator& emu, const ClientResponse& r) {
  if (r.status != 201 && r.status != 202) return;
  const std::string retry = r.header("Retry-After");
  if (!retry.empty()) CHECK(std::all_of(retry.begin(), retry.end(), [](char c) { return std::isdigit(c); }));
  std::string url = r.header("Azure-AsyncOperation");
  if (url.empty()) url = r.header("Location");
  if (r.status == 202) REQUIRE(!url.empty());  // "didn't get any suitable polling URLs"
  if (url.empty()) return;
  auto done = poll_until_done(emu.http(), url, emu.token());
  INFO(done.body);
  CHECK(done.status < 300);
  if (!r.header("Azure-AsyncOperation").empty()) CHECK(done.json().value("status", "") == "Succeeded");
}

ClientResponse head(TestEmulator& emu, const std::string& path) { return emu.arm("HEAD", path); }

struct Seeded {
  TestEmulator emu;
  Seeded() {
    REQUIRE(emu.arm("PUT", lower_group("images-rg") + kRes, R"({"location":"westeurope"})").status == 201);
    REQUIRE(emu.arm("PUT", lower_group("gallery-rg") + kRes, R"({"location":"westeurope"})").status == 201);
    REQUIRE(emu.arm("PUT", in_group("gallery-rg", "Microsoft.Compute/galleries", "emugallery") + kGallery,
                    R"({"location":"westeurope"})")
                .status == 201);
    json definition = {{"location", "westeurope"},
                       {"properties",
                        {{"osType", "Linux"}, {"osState", "Generalized"},
                         {"identifier", {{"publisher", "emu"}, {"offer", "linux"}, {"sku", "1"}}}}}};
    REQUIRE(emu.arm("PUT", definition_path() + kGallery, definition.dump()).status == 201);
  }
  static std::string definition_path() {
    return in_group("gallery-rg", "Microsoft.Compute/galleries", "emugallery") + "/images/emu-linux";
  }
};

}  // namespace

TEST_CASE("Packer 1.6.6 azure-arm: the whole call sequence, managed image and gallery version", "[packer]") {
  Seeded s;
  TestEmulator& emu = s.emu;
  const std::string tmp = lower_group(kTmpGroup);
  const std::string deployment = tmp + "/providers/Microsoft.Resources/deployments/pkrdp" + kSuffix;
  const std::string image = in_group("images-rg", "Microsoft.Compute/images", "emu-image-1");

  // 3-5: the managed image's group exists, the image does not, the gallery image does.
  auto images_rg = emu.arm("GET", lower_group("images-rg") + kRes);
  REQUIRE(images_rg.status == 200);
  CHECK(images_rg.json()["location"] == "westeurope");
  CHECK(emu.arm("GET", image + kCompute).status == 404);
  CHECK(emu.arm("GET", Seeded::definition_path() + kGallery).status == 200);

  // 6-7: the temporary group.
  CHECK(head(emu, tmp + kRes).status == 404);
  REQUIRE(emu.arm("PUT", tmp + kRes, R"({"location":"westeurope","tags":{"build":"emu"}})").status == 201);

  // 8-9: validate, then the deployment, polled on its Azure-AsyncOperation.
  const json body = packer_deployment();
  auto validated = emu.arm("POST", deployment + "/validate" + kRes, body.dump());
  INFO(validated.body);
  CHECK(validated.status == 200);
  auto put = emu.arm("PUT", deployment + kRes, body.dump());
  INFO(put.body);
  REQUIRE(put.status == 201);
  REQUIRE(!put.header("Azure-AsyncOperation").empty());
  auto finished = poll_until_done(emu.http(), put.header("Azure-AsyncOperation"), emu.token());
  INFO(finished.body);
  REQUIRE(finished.json().value("status", "") == "Succeeded");

  // 10: the public IP has an address (the SSH target): loopback, where the build SSH listens.
  auto ip = emu.arm("GET", in_group(kTmpGroup, "Microsoft.Network/publicIPAddresses", "pkrip" + kSuffix) + kNet);
  REQUIRE(ip.status == 200);
  CHECK(ip.json()["properties"]["ipAddress"] == "127.0.0.1");
  CHECK(ip.json()["properties"]["publicIPAllocationMethod"] == "Dynamic");
  CHECK(ip.json()["properties"]["dnsSettings"]["fqdn"] == "pkrvm" + kSuffix + ".westeurope.cloudapp.azure.com");

  // What else the deployment materialised: the NIC (with its private address), the VNet.
  const std::string vm_path = in_group(kTmpGroup, "Microsoft.Compute/virtualMachines", "pkrvm" + kSuffix);
  auto nic = emu.arm("GET", in_group(kTmpGroup, "Microsoft.Network/networkInterfaces", "pkrni" + kSuffix) + kNet);
  REQUIRE(nic.status == 200);
  const json config = nic.json()["properties"]["ipConfigurations"][0];
  CHECK(config["properties"]["privateIPAddress"] == "10.0.0.4");
  CHECK(acg::iequals(config["properties"]["publicIPAddress"]["id"].get<std::string>(), ip.json()["id"].get<std::string>()));
  CHECK(acg::iequals(nic.json()["properties"]["virtualMachine"]["id"].get<std::string>(), vm_path));
  auto subnet = emu.arm("GET", in_group(kTmpGroup, "Microsoft.Network/virtualNetworks", "pkrvn" + kSuffix) +
                                   "/subnets/pkrsn" + kSuffix + kNet);
  REQUIRE(subnet.status == 200);
  CHECK(subnet.json()["properties"]["addressPrefix"] == "10.0.0.0/24");

  // 11-12: the VM, twice: its OS disk is a managed disk that exists.
  for (int i = 0; i < 2; ++i) {
    auto vm = emu.arm("GET", vm_path + kCompute);
    REQUIRE(vm.status == 200);
    const json os = vm.json()["properties"]["storageProfile"]["osDisk"];
    CHECK(os["name"] == "pkros" + kSuffix);
    CHECK(os["osType"] == "Linux");
    CHECK(acg::is_guid(vm.json()["properties"]["vmId"].get<std::string>()));
    const json keys = vm.json()["properties"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"];
    REQUIRE(keys.size() == 1);
    CHECK(acg::istarts_with(keys[0]["keyData"].get<std::string>(), "ssh-rsa "));
    auto disk = emu.arm("GET", os["managedDisk"]["id"].get<std::string>() + kCompute);
    INFO(disk.body);
    REQUIRE(disk.status == 200);
    CHECK(disk.json()["properties"]["diskState"] == "Attached");
    CHECK(acg::iequals(disk.json()["managedBy"].get<std::string>(), vm.json()["id"].get<std::string>()));
  }

  // 13: deallocate, a 202 with both status URLs.
  auto deallocate = emu.arm("POST", vm_path + "/deallocate" + kCompute);
  REQUIRE(deallocate.status == 202);
  CHECK(!deallocate.header("Azure-AsyncOperation").empty());
  CHECK(!deallocate.header("Location").empty());
  CHECK(deallocate.header("Retry-After") == "1");
  await(emu, deallocate);
  auto location = emu.arm("GET", path_of(deallocate.header("Location")));
  CHECK(location.status == 200);
  bool deallocated = false;
  const json after = emu.arm("GET", vm_path + kCompute).json();  // kept alive: the loop reads into it
  for (const json& st : after["properties"]["instanceView"]["statuses"])
    deallocated = deallocated || st["code"] == "PowerState/deallocated";
  CHECK(deallocated);

  // 14: generalize answers 200 at once.
  CHECK(emu.arm("POST", vm_path + "/generalize" + kCompute).status == 200);

  // 15: the managed image from the VM.
  json image_body = {{"location", "westeurope"},
                     {"properties", {{"sourceVirtualMachine", {{"id", vm_path}}}, {"storageProfile", {{"zoneResilient", false}}}}},
                     {"tags", {{"build", "emu"}}}};
  auto captured = emu.arm("PUT", image + kCompute, image_body.dump());
  INFO(captured.body);
  REQUIRE((captured.status == 201 || captured.status == 200));
  await(emu, captured);
  auto image_now = emu.arm("GET", image + kCompute);
  REQUIRE(image_now.status == 200);
  CHECK(image_now.json()["properties"]["provisioningState"] == "Succeeded");

  // 16-17: the gallery version from the managed image, then the final GET with its id.
  const std::string version = Seeded::definition_path() + "/versions/1.0.0";
  json version_body = {{"location", "westeurope"},
                       {"tags", {{"build", "emu"}}},
                       {"properties",
                        {{"publishingProfile",
                          {{"source", {{"managedImage", {{"id", image_now.json()["id"]}}}}},
                           {"targetRegions", {{{"name", "westeurope"}}, {{"name", "northeurope"}}}},
                           {"replicaCount", 1},
                           {"excludeFromLatest", false}}}}}};
  auto published = emu.arm("PUT", version + kGallery, version_body.dump());
  INFO(published.body);
  REQUIRE((published.status == 201 || published.status == 200));
  await(emu, published);
  auto final_get = emu.arm("GET", version + kGallery);
  REQUIRE(final_get.status == 200);
  CHECK(acg::iequals(final_get.json()["id"].get<std::string>(), version));

  // The deployment's operations name each resource it wrote (build_resource_group_name cleanup).
  auto operations = emu.arm("GET", deployment + "/operations" + kRes + "&$top=50");
  REQUIRE(operations.status == 200);
  std::set<std::string> targets;
  const json listed = operations.json();
  for (const json& op : listed["value"]) targets.insert(op["properties"]["targetResource"]["resourceType"]);
  CHECK(targets == std::set<std::string>{"Microsoft.Network/publicIPAddresses", "Microsoft.Network/virtualNetworks",
                                         "Microsoft.Network/networkInterfaces", "Microsoft.Compute/virtualMachines"});

  // 18-20: clean-up: the deployment, then the temporary group with everything in it.
  auto deleted = emu.arm("DELETE", deployment + kRes);
  CHECK((deleted.status == 200 || deleted.status == 202 || deleted.status == 204));
  await(emu, deleted);
  CHECK(head(emu, tmp + kRes).status == 204);
  auto dropped = emu.arm("DELETE", tmp + kRes);
  REQUIRE((dropped.status == 200 || dropped.status == 202));
  await(emu, dropped);
  CHECK(head(emu, tmp + kRes).status == 404);
  CHECK(emu.arm("GET", vm_path + kCompute).status == 404);
  CHECK(emu.arm("GET", in_group(kTmpGroup, "Microsoft.Compute/disks", "pkros" + kSuffix) + kCompute).status == 404);
  CHECK(emu.arm("GET", in_group(kTmpGroup, "Microsoft.Network/publicIPAddresses", "pkrip" + kSuffix) + kNet).status == 404);

  // The artifacts outlive the build: the version replicated, and a VM deploys from it.
  CHECK(emu.arm("GET", image + kCompute).status == 200);
  auto status = emu.arm("GET", version + kGallery + "&$expand=ReplicationStatus");
  REQUIRE(status.status == 200);
  CHECK(status.json()["properties"]["replicationStatus"]["aggregatedState"] == "Completed");
  REQUIRE(emu.arm("PUT", lower_group("app-rg") + kRes, R"({"location":"northeurope"})").status == 201);
  json vm_body = json::parse(R"({"location": "northeurope", "properties": {
      "hardwareProfile": {"vmSize": "Standard_B2s"},
      "osProfile": {"computerName": "app", "adminUsername": "azureuser",
                    "linuxConfiguration": {"disablePasswordAuthentication": true, "ssh": {"publicKeys": [
                      {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAA app"}]}}}}})");
  vm_body["properties"]["storageProfile"] = {{"imageReference", {{"id", version}}}};
  auto app = emu.arm("PUT", in_group("app-rg", "Microsoft.Compute/virtualMachines", "app") + "?api-version=2022-11-01",
                     vm_body.dump());
  INFO(app.body);
  REQUIRE(app.status == 201);
  CHECK(app.json()["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0");
}

TEST_CASE("Packer's deployment with communicator none: an empty keyData is accepted", "[packer]") {
  Seeded s;
  REQUIRE(s.emu.arm("PUT", lower_group(kTmpGroup) + kRes, R"({"location":"westeurope"})").status == 201);
  json body = packer_deployment();
  json& vm = body["properties"]["template"]["resources"][3];
  vm["properties"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0]["keyData"] = "";
  auto put = s.emu.arm("PUT", lower_group(kTmpGroup) + "/providers/Microsoft.Resources/deployments/pkrdp1" + kRes, body.dump());
  REQUIRE(put.status == 201);
  auto done = poll_until_done(s.emu.http(), put.header("Azure-AsyncOperation"), s.emu.token());
  INFO(done.body);
  CHECK(done.json().value("status", "") == "Succeeded");
  auto got = s.emu.arm("GET", in_group(kTmpGroup, "Microsoft.Compute/virtualMachines", "pkrvm" + kSuffix) + kCompute);
  REQUIRE(got.status == 200);
  CHECK(got.json()["properties"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0]["keyData"] == "");
}

TEST_CASE("Packer's cleanup with build_resource_group_name: each targetResource deleted at its api-version", "[packer]") {
  Seeded s;
  TestEmulator& emu = s.emu;
  REQUIRE(emu.arm("PUT", lower_group("build-rg") + kRes, R"({"location":"westeurope"})").status == 201);
  const std::string deployment = lower_group("build-rg") + "/providers/Microsoft.Resources/deployments/pkrdp" + kSuffix;
  auto put = emu.arm("PUT", deployment + kRes, packer_deployment().dump());
  REQUIRE(put.status == 201);
  REQUIRE(poll_until_done(emu.http(), put.header("Azure-AsyncOperation"), emu.token()).json().value("status", "") == "Succeeded");
  const json operations = emu.arm("GET", deployment + "/operations" + kRes + "&$top=50").json();
  const std::string vm = in_group("build-rg", "Microsoft.Compute/virtualMachines", "pkrvm" + kSuffix);
  const std::string disk = emu.arm("GET", vm + kCompute).json()["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"];
  // The VM first, then its OS disk, then the network resources (last written first).
  REQUIRE(emu.arm("DELETE", vm + kCompute).status < 300);
  REQUIRE(emu.arm("DELETE", disk + kCompute).status < 300);
  std::vector<json> targets;
  for (const json& op : operations["value"]) targets.push_back(op["properties"]["targetResource"]);
  REQUIRE(targets.size() == 4);
  for (auto it = targets.rbegin(); it != targets.rend(); ++it) {
    const std::string type = (*it)["resourceType"];
    if (type == "Microsoft.Compute/virtualMachines") continue;
    auto deleted = emu.arm("DELETE", (*it)["id"].get<std::string>() + kNet);
    INFO(type << " " << deleted.body);
    CHECK(deleted.status < 300);
    await(emu, deleted);
    CHECK(emu.arm("GET", (*it)["id"].get<std::string>() + kNet).status == 404);
  }
  REQUIRE(emu.arm("DELETE", deployment + kRes).status < 300);
}

TEST_CASE("what Packer's deployment materialised survives a restart, references included", "[packer][persistence]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("acg-packer-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto on_disk = test_options([&](acg::api::AppOptions& o) {
    o.in_memory = false;
    o.data_dir = dir.string();
  });
  const std::string nic = in_group(kTmpGroup, "Microsoft.Network/networkInterfaces", "pkrni" + kSuffix) + kNet;
  {
    TestEmulator emu(on_disk);
    REQUIRE(emu.arm("PUT", lower_group(kTmpGroup) + kRes, R"({"location":"westeurope"})").status == 201);
    auto put = emu.arm("PUT", lower_group(kTmpGroup) + "/providers/Microsoft.Resources/deployments/pkrdp" + kSuffix + kRes,
                       packer_deployment().dump());
    REQUIRE(put.status == 201);
    REQUIRE(poll_until_done(emu.http(), put.header("Azure-AsyncOperation"), emu.token()).json().value("status", "") == "Succeeded");
  }
  {
    TestEmulator emu(on_disk);
    CHECK(emu.arm("GET", in_group(kTmpGroup, "Microsoft.Network/publicIPAddresses", "pkrip" + kSuffix) + kNet)
              .json()["properties"]["ipAddress"] == "127.0.0.1");
    CHECK(emu.arm("GET", in_group(kTmpGroup, "Microsoft.Compute/disks", "pkros" + kSuffix) + kCompute).status == 200);
    CHECK(emu.arm("DELETE", nic).error_code() == "NicInUse");
    auto dropped = emu.arm("DELETE", lower_group(kTmpGroup) + kRes);
    REQUIRE(dropped.status < 300);
    await(emu, dropped);
    CHECK(emu.arm("GET", nic).status == 404);
  }
  fs::remove_all(dir);
}

// --- Microsoft.Network: each type's rules -----------------------------------------------------

namespace {

struct Networking {
  TestEmulator emu;
  Networking() { REQUIRE(emu.arm("PUT", group("net") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201); }
  std::string path(const std::string& type, const std::string& name) const { return in_group("net", "Microsoft.Network/" + type, name); }
  ClientResponse put(const std::string& type, const std::string& name, const json& body) {
    return emu.arm("PUT", path(type, name) + kNetNew, body.dump());
  }
  json vnet(const json& prefixes, const json& subnets) {
    return {{"location", "westus"}, {"properties", {{"addressSpace", {{"addressPrefixes", prefixes}}}, {"subnets", subnets}}}};
  }
  json nic(const std::string& subnet_id, const std::string& ip_id = {}) {
    json p = {{"subnet", {{"id", subnet_id}}}};
    if (!ip_id.empty()) p["publicIPAddress"] = {{"id", ip_id}};
    return {{"location", "westus"}, {"properties", {{"ipConfigurations", {{{"name", "ipconfig1"}, {"properties", p}}}}}}};
  }
  std::string subnet_id(const std::string& vnet, const std::string& subnet) const {
    return path("virtualNetworks", vnet) + "/subnets/" + subnet;
  }
};

json subnet(const std::string& name, const std::string& prefix) {
  return {{"name", name}, {"properties", {{"addressPrefix", prefix}}}};
}

}  // namespace

TEST_CASE("virtual networks: CIDR shape, subnets inside and apart, subnets read as children", "[network][packer]") {
  Networking n;
  CHECK(n.put("virtualNetworks", "v", n.vnet(json::array({"10.0.0.0/33"}), json::array())).error_code() == "InvalidAddressPrefixFormat");
  CHECK(n.put("virtualNetworks", "v", n.vnet(json::array({"10.0.0"}), json::array())).error_code() == "InvalidAddressPrefixFormat");
  auto host_bits = n.put("virtualNetworks", "v", n.vnet(json::array({"10.0.0.1/16"}), json::array()));
  CHECK(host_bits.error_code() == "InvalidCIDRNotation");
  CHECK(host_bits.json()["error"]["message"].get<std::string>().find("should be 10.0.0.0/16") != std::string::npos);
  CHECK(n.put("virtualNetworks", "v", n.vnet(json::array({"10.0.0.0/16"}), json::array({subnet("a", "10.1.0.0/24")}))).error_code() ==
        "NetcfgSubnetRangeOutsideVnet");
  CHECK(n.put("virtualNetworks", "v", n.vnet(json::array({"10.0.0.0/16"}), {subnet("a", "10.0.0.0/24"), subnet("b", "10.0.0.128/25")}))
            .error_code() == "NetcfgSubnetRangesOverlap");
  CHECK(n.put("virtualNetworks", "-bad", n.vnet(json::array({"10.0.0.0/16"}), json::array())).error_code() == "InvalidResourceName");
  CHECK(n.emu.arm("GET", n.path("virtualNetworks", "v") + kNet).status == 404);  // nothing refused was written

  auto created = n.put("virtualNetworks", "v", n.vnet(json::array({"10.0.0.0/16"}), {subnet("a", "10.0.0.0/24"), subnet("b", "10.0.1.0/24")}));
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.json()["properties"]["subnets"][1]["id"] == n.subnet_id("v", "b"));
  CHECK(!created.json().value("etag", "").empty());
  auto list = n.emu.arm("GET", n.path("virtualNetworks", "v") + "/subnets" + kNet);
  REQUIRE(list.status == 200);
  CHECK(list.json()["value"].size() == 2);
  CHECK(n.emu.arm("GET", n.path("virtualNetworks", "v") + "/subnets/B" + kNet).json()["name"] == "b");
  CHECK(n.emu.arm("GET", n.path("virtualNetworks", "v") + "/subnets/zz" + kNet).status == 404);
  CHECK(n.emu.arm("GET", n.path("virtualNetworks", "v") + "?api-version=2010-01-01").error_code() == "NoRegisteredProviderFound");
}

TEST_CASE("public IPs: ipAddress, fqdn, label and SKU rules", "[network][packer]") {
  Networking n;
  auto ip = n.put("publicIPAddresses", "ip", {{"location", "westus"}, {"properties", {{"dnsSettings", {{"domainNameLabel", "build1"}}}}}});
  INFO(ip.body);
  REQUIRE(ip.status == 201);
  CHECK(ip.json()["properties"]["ipAddress"] == "127.0.0.1");
  CHECK(ip.json()["properties"]["publicIPAllocationMethod"] == "Dynamic");
  CHECK(ip.json()["sku"]["name"] == "Basic");
  CHECK(ip.json()["properties"]["dnsSettings"]["fqdn"] == "build1.westus.cloudapp.azure.com");
  CHECK(n.put("publicIPAddresses", "ip2", {{"location", "westus"}, {"properties", {{"dnsSettings", {{"domainNameLabel", "build1"}}}}}})
            .error_code() == "DnsRecordInUse");
  CHECK(n.put("publicIPAddresses", "ip3", {{"location", "westus"}, {"properties", {{"dnsSettings", {{"domainNameLabel", "-Bad"}}}}}})
            .error_code() == "InvalidDomainNameLabel");
  CHECK(n.put("publicIPAddresses", "ip4",
              {{"location", "westus"}, {"sku", {{"name", "Standard"}}}, {"properties", {{"publicIPAllocationMethod", "Dynamic"}}}})
            .error_code() == "StandardSkuPublicIPAddressesMustBeStatic");
  auto standard = n.put("publicIPAddresses", "ip5", {{"location", "westus"}, {"sku", {{"name", "standard"}}}});
  REQUIRE(standard.status == 201);
  CHECK(standard.json()["properties"]["publicIPAllocationMethod"] == "Static");
  CHECK(n.put("publicIPAddresses", "ip6", {{"location", "westus"}, {"properties", {{"publicIPAllocationMethod", "Sometimes"}}}})
            .error_code() == "InvalidParameter");
}

TEST_CASE("NICs: references must exist, private addresses from the subnet, nothing in use is deleted", "[network][packer]") {
  Networking n;
  REQUIRE(n.put("virtualNetworks", "v", n.vnet(json::array({"10.1.0.0/16"}), json::array({subnet("s", "10.1.2.0/24")}))).status == 201);
  auto ip = n.put("publicIPAddresses", "ip", {{"location", "westus"}});
  REQUIRE(ip.status == 201);
  const std::string ip_id = ip.json()["id"];

  auto dangling = n.put("networkInterfaces", "nic", n.nic(n.subnet_id("v", "missing")));
  CHECK(dangling.status == 400);
  CHECK(dangling.error_code() == "InvalidResourceReference");
  CHECK(dangling.json()["error"]["message"].get<std::string>().find("referenced by resource") != std::string::npos);
  CHECK(n.put("networkInterfaces", "nic", n.nic(n.subnet_id("v", "s"), n.path("publicIPAddresses", "nope"))).error_code() ==
        "InvalidResourceReference");
  CHECK(n.put("networkInterfaces", "nic", {{"location", "westus"}, {"properties", json::object()}}).status == 400);
  CHECK(n.emu.arm("GET", n.path("networkInterfaces", "nic") + kNet).status == 404);

  auto first = n.put("networkInterfaces", "nic", n.nic(n.subnet_id("v", "s"), ip_id));
  INFO(first.body);
  REQUIRE(first.status == 201);
  CHECK(first.json()["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] == "10.1.2.4");
  CHECK(first.json()["properties"]["ipConfigurations"][0]["properties"]["primary"] == true);
  auto second = n.put("networkInterfaces", "nic2", n.nic(n.subnet_id("v", "s")));
  REQUIRE(second.status == 201);
  CHECK(second.json()["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] == "10.1.2.5");
  CHECK(n.put("networkInterfaces", "nic3", n.nic(n.subnet_id("v", "s"), ip_id)).error_code() == "PublicIPAddressInUse");
  // A re-PUT keeps the address it had.
  CHECK(n.put("networkInterfaces", "nic", n.nic(n.subnet_id("v", "s"), ip_id))
            .json()["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] == "10.1.2.4");

  // A VM attaches the NIC; NICs that do not exist are refused.
  json vm = {{"location", "westus"},
             {"properties",
              {{"hardwareProfile", {{"vmSize", "Standard_B2s"}}},
               {"storageProfile", {{"imageReference", {{"publisher", "Canonical"}, {"offer", "UbuntuServer"}, {"sku", "18.04-LTS"}, {"version", "latest"}}},
                                   {"osDisk", {{"createOption", "FromImage"}, {"osType", "Linux"}}}}},
               {"osProfile", {{"computerName", "vm"}, {"adminUsername", "u"}}},
               {"networkProfile", {{"networkInterfaces", {{{"id", n.path("networkInterfaces", "ghost")}}}}}}}}};
  const std::string vm_path = in_group("net", "Microsoft.Compute/virtualMachines", "vm") + kCompute;
  CHECK(n.emu.arm("PUT", vm_path, vm.dump()).error_code() == "NotFound");
  vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"] = n.path("networkInterfaces", "nic");
  auto created = n.emu.arm("PUT", vm_path, vm.dump());
  INFO(created.body);
  REQUIRE(created.status == 201);

  CHECK(n.emu.arm("DELETE", n.path("networkInterfaces", "nic") + kNet).error_code() == "NicInUse");
  CHECK(n.emu.arm("DELETE", n.path("publicIPAddresses", "ip") + kNet).error_code() == "PublicIPAddressCannotBeDeleted");
  CHECK(n.emu.arm("DELETE", n.path("virtualNetworks", "v") + kNet).error_code() == "InUseSubnetCannotBeDeleted");
  CHECK(n.put("virtualNetworks", "v", n.vnet(json::array({"10.1.0.0/16"}), json::array())).error_code() == "InUseSubnetCannotBeDeleted");
  CHECK(n.emu.arm("GET", n.path("networkInterfaces", "nic") + kNet).status == 200);

  // The VM's OS disk was created with it, attached.
  const std::string disk = created.json()["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"];
  CHECK(n.emu.arm("GET", disk + kCompute).json()["properties"]["diskState"] == "Attached");
  CHECK(n.emu.arm("DELETE", disk + kCompute).error_code() == "OperationNotAllowed");
  // Same disk name again: only Attach is allowed.
  json again = vm;
  again["properties"]["storageProfile"]["osDisk"]["name"] = created.json()["properties"]["storageProfile"]["osDisk"]["name"];
  again["properties"].erase("networkProfile");
  CHECK(n.emu.arm("PUT", in_group("net", "Microsoft.Compute/virtualMachines", "vm2") + kCompute, again.dump()).error_code() ==
        "ConflictingUserInput");

  // Once the VM is gone the NIC and the disk are free; once the NICs are gone, the IP and the VNet.
  REQUIRE(n.emu.arm("DELETE", vm_path).status < 300);
  // Detached, as Compute does: the NIC no longer names the VM, the disk is Unattached.
  CHECK_FALSE(n.emu.arm("GET", n.path("networkInterfaces", "nic") + kNet).json()["properties"].contains("virtualMachine"));
  auto detached = n.emu.arm("GET", disk + kCompute).json();
  CHECK(detached["properties"]["diskState"] == "Unattached");
  CHECK_FALSE(detached.contains("managedBy"));
  CHECK(n.emu.arm("DELETE", disk + kCompute).status < 300);
  // Created again under the same name, with an unnamed OS disk: a new disk, not a conflict.
  json unnamed = vm;
  unnamed["properties"].erase("networkProfile");
  for (int i = 0; i < 2; ++i) {
    auto recreated = n.emu.arm("PUT", vm_path, unnamed.dump());
    INFO(recreated.body);
    REQUIRE(recreated.status == 201);
    REQUIRE(n.emu.arm("DELETE", vm_path).status < 300);
  }
  CHECK(n.emu.arm("DELETE", n.path("networkInterfaces", "nic") + kNet).status < 300);
  CHECK(n.emu.arm("DELETE", n.path("publicIPAddresses", "ip") + kNet).status < 300);
  CHECK(n.emu.arm("DELETE", n.path("networkInterfaces", "nic2") + kNet).status < 300);
  CHECK(n.emu.arm("DELETE", n.path("virtualNetworks", "v") + kNet).status < 300);
}

TEST_CASE("network security groups: rule priorities and the default rules", "[network][packer]") {
  Networking n;
  auto rule = [](const std::string& name, int priority, const std::string& direction = "Inbound") {
    return json{{"name", name},
                {"properties",
                 {{"protocol", "Tcp"}, {"access", "Allow"}, {"direction", direction}, {"priority", priority},
                  {"sourceAddressPrefix", "*"}, {"sourcePortRange", "*"}, {"destinationAddressPrefix", "*"},
                  {"destinationPortRange", "22"}}}};
  };
  auto nsg = [](const json& rules) { return json{{"location", "westus"}, {"properties", {{"securityRules", rules}}}}; };
  CHECK(n.put("networkSecurityGroups", "g", nsg(json::array({rule("ssh", 50)}))).error_code() == "SecurityRuleInvalidPriority");
  CHECK(n.put("networkSecurityGroups", "g", nsg({rule("ssh", 100), rule("ssh2", 100)})).error_code() == "SecurityRuleConflict");
  json bad = rule("ssh", 100);
  bad["properties"]["access"] = "Maybe";
  CHECK(n.put("networkSecurityGroups", "g", nsg(json::array({bad}))).status == 400);
  auto created = n.put("networkSecurityGroups", "g", nsg({rule("ssh", 100), rule("out", 100, "Outbound")}));
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.json()["properties"]["securityRules"].size() == 2);
  CHECK(created.json()["properties"]["defaultSecurityRules"].size() == 6);
  CHECK(created.json()["properties"]["defaultSecurityRules"][2]["name"] == "DenyAllInBound");
}
