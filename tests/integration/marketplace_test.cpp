// Marketplace terms (Microsoft.MarketplaceOrdering agreements) and the licences a VM deployed
// from a gallery image must carry: the image's purchase plan, accepted terms, a licenseType
// that suits its OS.

#include <catch2/catch.hpp>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kV = "?api-version=2022-03-03";
const std::string kVmApi = "?api-version=2022-08-01";
const std::string kTermsApi = "?api-version=2021-01-01";

std::string provider() { return "/subscriptions/" + kSub + "/providers/Microsoft.MarketplaceOrdering"; }
std::string current_terms(const std::string& publisher, const std::string& offer, const std::string& plan) {
  return provider() + "/offerTypes/virtualmachine/publishers/" + publisher + "/offers/" + offer + "/plans/" + plan +
         "/agreements/current" + kTermsApi;
}
std::string agreement(const std::string& publisher, const std::string& offer, const std::string& plan) {
  return provider() + "/agreements/" + publisher + "/offers/" + offer + "/plans/" + plan;
}
std::string definition_path(const std::string& d) { return TestEmulator::gallery_path("rg", "gal") + "/images/" + d; }
std::string vm_path(const std::string& name) {
  return TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/virtualMachines/" + name + kVmApi;
}

const json kPlan = {{"name", "rhel-lvm9"}, {"publisher", "redhat"}, {"product", "rhel-byos"}};

// A gallery with published definitions (instant replication): "market" carries kPlan, "rhel",
// "sles", "ubuntu" and "windows" none.
struct Licensing {
  TestEmulator emu{test_options([](acg::api::AppOptions& o) { o.replication_speed = 0; })};

  Licensing() {
    REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kV, R"({"location":"westus"})").status == 201);
    auto snapshot = emu.arm("PUT", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/snapshots/linux?api-version=2022-03-02",
                            R"({"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})");
    auto windows = emu.arm("PUT", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/snapshots/windows?api-version=2022-03-02",
                           R"({"location":"westus","properties":{"osType":"Windows","creationData":{"createOption":"Empty"},"diskSizeGB":127}})");
    REQUIRE(snapshot.status / 100 == 2);
    REQUIRE(windows.status / 100 == 2);
    publish("market", "Linux", {"RedHat", "rhel-byos", "9"}, kPlan, snapshot.json()["id"]);
    publish("rhel", "Linux", {"RedHat", "RHEL", "9-lvm"}, nullptr, snapshot.json()["id"]);
    publish("sles", "Linux", {"SUSE", "sles-15-sp5", "gen1"}, nullptr, snapshot.json()["id"]);
    publish("ubuntu", "Linux", {"Canonical", "ubuntu-24_04-lts", "server"}, nullptr, snapshot.json()["id"]);
    publish("windows", "Windows", {"MicrosoftWindowsServer", "WindowsServer", "2022"}, nullptr, windows.json()["id"]);
  }

  void publish(const std::string& name, const std::string& os, const std::vector<std::string>& identifier,
               const json& plan, const std::string& snapshot_id) {
    json body = {{"location", "westus"},
                 {"properties",
                  {{"osType", os}, {"osState", "Generalized"},
                   {"identifier", {{"publisher", identifier[0]}, {"offer", identifier[1]}, {"sku", identifier[2]}}}}}};
    if (!plan.is_null()) body["properties"]["purchasePlan"] = plan;
    auto d = emu.arm("PUT", definition_path(name) + kV, body.dump());
    INFO(d.body);
    REQUIRE(d.status == 201);
    json version = {{"location", "westus"},
                    {"properties", {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snapshot_id}}}}}}}}}};
    auto v = emu.arm("PUT", definition_path(name) + "/versions/1.0.0" + kV, version.dump());
    INFO(v.body);
    REQUIRE(v.status == 201);
  }

  // A VM from the definition's latest version (or a given version), with an OS profile.
  ClientResponse vm(const std::string& name, const std::string& definition, const json& plan = nullptr,
                    const std::string& license = {}, const std::string& version = {}) {
    json body = {{"location", "westus"},
                 {"properties",
                  {{"hardwareProfile", {{"vmSize", "Standard_D2s_v3"}}},
                   {"storageProfile",
                    {{"imageReference",
                      {{"id", definition_path(definition) + (version.empty() ? "" : "/versions/" + version)}}}}},
                   {"osProfile", {{"computerName", name}, {"adminUsername", "azureuser"}}}}}};
    if (!plan.is_null()) body["plan"] = plan;
    if (!license.empty()) body["properties"]["licenseType"] = license;
    return emu.arm("PUT", vm_path(name), body.dump());
  }
};

void check_error(const ClientResponse& r, int status, const std::string& code, const std::string& fragment) {
  INFO(r.body);
  CHECK(r.status == status);
  CHECK(r.error_code() == code);
  CHECK(r.json()["error"]["message"].get<std::string>().find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("marketplace terms: read, accept, cancel, sign, list", "[marketplace]") {
  TestEmulator emu;
  auto terms = emu.arm("GET", current_terms("RedHat", "rhel-byos", "rhel-lvm9"));
  INFO(terms.body);
  REQUIRE(terms.status == 200);
  json t = terms.json();
  CHECK(t["type"] == "Microsoft.MarketplaceOrdering/offertypes");
  CHECK(t["name"] == "rhel-lvm9");
  CHECK(t["id"] == provider() + "/offerTypes/VirtualMachine/publishers/RedHat/offers/rhel-byos/plans/rhel-lvm9/agreements/current");
  CHECK(t["properties"]["publisher"] == "RedHat");
  CHECK(t["properties"]["product"] == "rhel-byos");
  CHECK(t["properties"]["plan"] == "rhel-lvm9");
  CHECK(t["properties"]["accepted"] == false);
  CHECK(!t["properties"]["signature"].get<std::string>().empty());
  CHECK(!t["properties"]["licenseTextLink"].get<std::string>().empty());

  // az vm image terms accept: GET, then PUT what it read with accepted true.
  t["properties"]["accepted"] = true;
  auto accepted = emu.arm("PUT", current_terms("redhat", "RHEL-BYOS", "rhel-lvm9"), t.dump());
  INFO(accepted.body);
  REQUIRE(accepted.status == 200);
  CHECK(accepted.json()["properties"]["accepted"] == true);
  CHECK(emu.arm("GET", current_terms("RedHat", "rhel-byos", "rhel-lvm9")).json()["properties"]["accepted"] == true);
  auto signed_view = emu.arm("GET", agreement("RedHat", "rhel-byos", "rhel-lvm9") + kTermsApi);
  CHECK(signed_view.json()["type"] == "Microsoft.MarketplaceOrdering/agreements");
  CHECK(signed_view.json()["properties"]["state"] == "Active");
  CHECK(signed_view.json()["properties"].contains("signDate"));

  auto canceled = emu.arm("POST", agreement("RedHat", "rhel-byos", "rhel-lvm9") + "/cancel" + kTermsApi);
  REQUIRE(canceled.status == 200);
  CHECK(canceled.json()["properties"]["accepted"] == false);
  CHECK(canceled.json()["properties"]["state"] == "Canceled");
  CHECK(emu.arm("POST", agreement("bitnami", "rabbitmq", "rabbitmq") + "/sign" + kTermsApi).json()["properties"]["accepted"] == true);
  auto listed = emu.arm("GET", provider() + "/agreements" + kTermsApi);
  REQUIRE(listed.status == 200);
  REQUIRE(listed.json().is_array());
  CHECK(listed.json().size() == 2);

  // Refused: another offer type, a body without properties.accepted, an unknown api-version.
  auto other_type = emu.arm("GET", provider() + "/offerTypes/saas/publishers/p/offers/o/plans/n/agreements/current" + kTermsApi);
  CHECK(other_type.status == 400);
  CHECK(other_type.error_code() == "InvalidParameter");
  auto no_flag = emu.arm("PUT", current_terms("p", "o", "n"), R"({"properties":{}})");
  CHECK(no_flag.status == 400);
  CHECK(no_flag.error_code() == "InvalidRequestContent");
  auto bad_version = emu.arm("GET", provider() + "/agreements?api-version=2020-01-01");
  CHECK(bad_version.status == 400);
  CHECK(bad_version.error_code() == "InvalidApiVersionParameter");

  // A reset forgets accepted terms.
  REQUIRE(emu.http().request("POST", "/_emulator/reset").status == 200);
  CHECK(emu.arm("GET", provider() + "/agreements" + kTermsApi).json().empty());
}

TEST_CASE("a VM from an image with a purchase plan needs that plan and accepted terms", "[marketplace][vm]") {
  Licensing l;
  check_error(l.vm("noplan", "market"), 400, "VMMarketplaceInvalidInput", "requires Plan information in the request");
  json other = kPlan;
  other["name"] = "rhel-lvm8";
  check_error(l.vm("other", "market", other), 400, "VMMarketplaceInvalidInput", "does not match the purchase plan");
  check_error(l.vm("unsigned", "market", kPlan, {}, "1.0.0"), 400, "ResourcePurchaseValidationFailed",
              "You have not accepted the legal terms on this subscription: '" + kSub + "' for this plan");

  json terms = l.emu.arm("GET", current_terms("redhat", "rhel-byos", "rhel-lvm9")).json();
  terms["properties"]["accepted"] = true;
  REQUIRE(l.emu.arm("PUT", current_terms("redhat", "rhel-byos", "rhel-lvm9"), terms.dump()).status == 200);
  auto vm = l.vm("signed", "market", kPlan);
  INFO(vm.body);
  REQUIRE(vm.status == 201);
  CHECK(vm.json()["plan"] == kPlan);
  CHECK(l.emu.arm("GET", vm_path("signed")).json()["plan"] == kPlan);
  // The plan is fixed once the VM exists.
  json update = l.emu.arm("GET", vm_path("signed")).json();
  update["plan"] = other;
  check_error(l.emu.arm("PUT", vm_path("signed"), update.dump()), 409, "PropertyChangeNotAllowed", "'plan'");

  // Canceled terms refuse the next VM; an image without a plan needs none.
  REQUIRE(l.emu.arm("POST", agreement("redhat", "rhel-byos", "rhel-lvm9") + "/cancel" + kTermsApi).status == 200);
  check_error(l.vm("after", "market", kPlan), 400, "ResourcePurchaseValidationFailed", "legal terms");
  CHECK(l.vm("plain", "ubuntu").status == 201);
}

TEST_CASE("licenseType suits the image's OS and distribution (Azure Hybrid Benefit)", "[marketplace][vm][license]") {
  Licensing l;
  CHECK(l.vm("w1", "windows", nullptr, "Windows_Server").status == 201);
  CHECK(l.vm("w2", "windows", nullptr, "Windows_Client").status == 201);
  check_error(l.vm("w3", "windows", nullptr, "RHEL_BYOS"), 400, "InvalidParameter", "not allowed for a Windows image");
  CHECK(l.vm("r1", "rhel", nullptr, "RHEL_BYOS").status == 201);
  check_error(l.vm("r2", "rhel", nullptr, "SLES_BYOS"), 400, "InvalidParameter", "Red Hat Enterprise Linux image");
  check_error(l.vm("r3", "rhel", nullptr, "Windows_Server"), 400, "InvalidParameter", "not allowed for a Linux image");
  CHECK(l.vm("s1", "sles", nullptr, "SLES_BYOS").status == 201);
  check_error(l.vm("s2", "sles", nullptr, "RHEL_BYOS"), 400, "InvalidParameter", "SUSE Linux Enterprise image");
  CHECK(l.vm("u1", "ubuntu", nullptr, "None").status == 201);
  auto unknown = l.vm("u2", "ubuntu", nullptr, "Windows_Datacenter");
  check_error(unknown, 400, "InvalidParameter", "is not valid");
  CHECK(unknown.json()["error"]["target"] == "licenseType");

  // An update may switch the benefit on, within the same rules.
  json update = l.emu.arm("GET", vm_path("u1")).json();
  update["properties"]["licenseType"] = "Windows_Server";
  check_error(l.emu.arm("PUT", vm_path("u1"), update.dump()), 400, "InvalidParameter", "Linux image");
  update["properties"]["licenseType"] = "RHEL_BYOS";
  CHECK(l.emu.arm("PUT", vm_path("u1"), update.dump()).status == 200);
}
