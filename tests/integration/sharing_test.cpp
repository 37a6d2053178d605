// Gallery sharing over HTTPS: the share action (Add, Remove, Reset, EnableCommunity) and its
// refusals, the sharing groups a gallery shows, community galleries, the consumer reads of
// sharedGalleries / communityGalleries from other subscriptions and tenants, and VM
// deployments from shared and community image ids.

#include <unistd.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kV = "?api-version=2022-03-03";
const std::string kVmApi = "?api-version=2022-08-01";

// Beside the default tenant and subscription (the publisher): a second subscription of the
// same tenant and a second tenant with a subscription and a principal of its own.
const std::string kSameTenantSub = "55555555-5555-5555-5555-555555555555";
const std::string kOtherTenant = "66666666-6666-6666-6666-666666666666";
const std::string kOtherTenantSub = "77777777-7777-7777-7777-777777777777";
const std::string kOtherClient = "88888888-8888-8888-8888-888888888888";
const std::string kOtherSecret = "tenant-two-secret";

std::string identities_config() {
  static const std::string path = [] {
    const auto file = std::filesystem::temp_directory_path() / ("acg-sharing-" + std::to_string(::getpid()) + ".json");
    std::ofstream(file) << json{
        {"tenants", {{{"id", kOtherTenant}, {"displayName", "Tenant Two"}}}},
        {"subscriptions",
         {{{"id", kSameTenantSub}, {"tenantId", kTenant}, {"displayName", "Consumer"}},
          {{"id", kOtherTenantSub}, {"tenantId", kOtherTenant}, {"displayName", "Tenant Two Subscription"}}}},
        {"principals",
         {{{"clientId", kOtherClient},
           {"objectId", "99999999-9999-9999-9999-999999999999"},
           {"secret", kOtherSecret},
           {"tenantId", kOtherTenant}}}},
        // Each consumer owns its subscription (RBAC, access_control.h): the default principal
        // the second subscription of its tenant, the other tenant's principal its own.
        {"roleAssignments",
         {{{"clientId", kClientId}, {"role", "Owner"}, {"scope", "/subscriptions/" + kSameTenantSub}},
          {{"clientId", kOtherClient}, {"role", "Owner"}, {"scope", "/subscriptions/" + kOtherTenantSub}}}}}.dump();
    return file.string();
  }();
  return path;
}

std::string group_of(const std::string& sub, const std::string& rg) {
  return "/subscriptions/" + sub + "/resourceGroups/" + rg;
}
std::string gallery_of(const std::string& g) { return TestEmulator::gallery_path("rg", g); }
std::string share_of(const std::string& g) { return gallery_of(g) + "/share" + kV; }
std::string locations(const std::string& sub, const std::string& region) {
  return "/subscriptions/" + sub + "/providers/Microsoft.Compute/locations/" + region;
}

json groups(const std::vector<std::string>& subscriptions, const std::vector<std::string>& tenants = {}) {
  json out = json::array();
  if (!subscriptions.empty()) out.push_back({{"type", "Subscriptions"}, {"ids", subscriptions}});
  if (!tenants.empty()) out.push_back({{"type", "AADTenants"}, {"ids", tenants}});
  return out;
}

json update(const std::string& operation, const json& groups = nullptr) {
  json out = {{"operationType", operation}};
  if (!groups.is_null()) out["groups"] = groups;
  return out;
}

const json kCommunityInfo = {{"publisherUri", "https://contoso.example"},
                             {"publisherContact", "images@contoso.example"},
                             {"eula", "https://contoso.example/eula"},
                             {"publicNamePrefix", "contoso"}};

std::string guid(int n) {
  char text[40];
  std::snprintf(text, sizeof text, "%08d-0000-4000-8000-000000000000", n);
  return text;
}

// A publisher (the default subscription) with a resource group, an OS snapshot of 30 GiB
// and the identities above; replication on the virtual clock at modelled speed when asked.
struct Sharing {
  TestEmulator emu;
  std::string snapshot_id;

  explicit Sharing(const std::function<void(acg::api::AppOptions&)>& customise = {})
      : emu(test_options([&](acg::api::AppOptions& o) {
          o.config_file = identities_config();
          if (customise) customise(o);
        })) {
    REQUIRE(
        emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status ==
        201);
    auto snap = emu.arm(
        "PUT", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/snapshots/os?api-version=2022-03-02",
        R"({"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})");
    REQUIRE(snap.status == 200);
    snapshot_id = snap.json()["id"];
  }

  ClientResponse gallery(const std::string& name, const json& sharing) {
    json body = {{"location", "westus"}, {"properties", {{"sharingProfile", sharing}}}};
    return emu.arm("PUT", gallery_of(name) + kV, body.dump());
  }

  ClientResponse share(const std::string& g, const json& body) { return emu.arm("POST", share_of(g), body.dump()); }

  json shown(const std::string& g, const std::string& query = "") {
    auto r = emu.arm("GET", gallery_of(g) + kV + query);
    REQUIRE(r.status == 200);
    return r.json()["properties"];
  }

  // An image definition and a version of it copied to `regions`.
  void publish(const std::string& g, const std::string& d, const std::string& v, const json& regions) {
    json definition = {{"location", "westus"},
                       {"properties",
                        {{"osType", "Linux"},
                         {"osState", "Generalized"},
                         {"identifier", {{"publisher", "contoso"}, {"offer", "base"}, {"sku", d}}},
                         {"eula", "https://contoso.example/eula"}}}};
    auto defined = emu.arm("PUT", gallery_of(g) + "/images/" + d + kV, definition.dump());
    REQUIRE((defined.status == 201 || defined.status == 200));
    json version = {
        {"location", "westus"},
        {"properties",
         {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snapshot_id}}}, {"hostCaching", "ReadOnly"}}}}},
          {"publishingProfile", {{"targetRegions", regions}, {"endOfLifeDate", "2040-01-01T00:00:00Z"}}}}}};
    auto published = emu.arm("PUT", gallery_of(g) + "/images/" + d + "/versions/" + v + kV, version.dump());
    INFO(published.body);
    REQUIRE(published.status == 201);
  }

  void advance(int seconds) {
    REQUIRE(emu.http()
                .request("POST", "/_emulator/clock/advance", json{{"seconds", seconds}}.dump(),
                         {{"Content-Type", "application/json"}})
                .status == 200);
  }

  std::string unique_name(const std::string& g) { return shown(g)["identifier"]["uniqueName"]; }

  // A request with another principal's token (a consumer in the second tenant).
  ClientResponse as(const std::string& token, const std::string& method, const std::string& target,
                    const std::string& body = {}) {
    return emu.http().request(method, target, body, {{"Authorization", "Bearer " + token}});
  }
  std::string other_tenant_token() { return emu.token(kOtherClient, kOtherSecret, kOtherTenant); }
};

json regions(std::initializer_list<const char*> names) {
  json out = json::array();
  for (const char* n : names) out.push_back({{"name", n}});
  return out;
}

std::vector<std::string> names_in(const json& list) {
  std::vector<std::string> out;
  for (const json& item : list["value"]) out.push_back(item["name"]);
  return out;
}

json vm_body(const std::string& location, const json& image_reference) {
  return {{"location", location},
          {"properties",
           {{"hardwareProfile", {{"vmSize", "Standard_D2s_v3"}}},
            {"storageProfile", {{"imageReference", image_reference}}},
            {"osProfile", {{"computerName", "vm"}, {"adminUsername", "azureuser"}}}}}};
}

}  // namespace

TEST_CASE("share add, remove and reset change a Groups gallery's groups", "[sharing]") {
  Sharing s;
  REQUIRE(s.gallery("grp", {{"permissions", "Groups"}}).status == 201);

  auto added = s.share("grp", update("add", groups({kSameTenantSub}, {kTenant})));
  INFO(added.body);
  REQUIRE(added.status == 200);
  CHECK(added.header("Azure-AsyncOperation").empty());
  CHECK(added.json() == update("Add", groups({kSameTenantSub}, {kTenant})));

  // Groups show only when asked for.
  CHECK_FALSE(s.shown("grp")["sharingProfile"].contains("groups"));
  CHECK(s.shown("grp")["sharingProfile"]["permissions"] == "Groups");
  CHECK(s.shown("grp", "&$expand=sharingProfile%2FGroups")["sharingProfile"]["groups"] ==
        groups({kSameTenantSub}, {kTenant}));
  CHECK(s.shown("grp", "&$select=Permissions")["sharingProfile"]["groups"] == groups({kSameTenantSub}, {kTenant}));
  CHECK(s.shown("grp")["sharingStatus"]["aggregatedState"] == "Succeeded");
  auto listed = s.emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/galleries" + kV).json();
  CHECK_FALSE(listed["value"][0]["properties"]["sharingProfile"].contains("groups"));

  // Adding an id again (in any casing) changes nothing; a new one is appended.
  REQUIRE(s.share("grp", update("Add", groups({kOtherTenantSub, "55555555-5555-5555-5555-555555555555"}))).status ==
          200);
  CHECK(s.shown("grp", "&$expand=SharingProfile/Groups")["sharingProfile"]["groups"] ==
        groups({kSameTenantSub, kOtherTenantSub}, {kTenant}));

  REQUIRE(s.share("grp", update("Remove", groups({kSameTenantSub, kOtherTenantSub}))).status == 200);
  CHECK(s.shown("grp", "&$expand=SharingProfile/Groups")["sharingProfile"]["groups"] == groups({}, {kTenant}));

  auto reset = s.share("grp", update("Reset"));
  REQUIRE(reset.status == 200);
  CHECK(reset.json() == json{{"operationType", "Reset"}});
  CHECK_FALSE(s.shown("grp", "&$expand=SharingProfile/Groups")["sharingProfile"].contains("groups"));
  CHECK(s.shown("grp")["sharingProfile"]["permissions"] == "Groups");

  // A PUT keeps the groups (and cannot set them).
  REQUIRE(s.share("grp", update("Add", groups({kSameTenantSub}))).status == 200);
  json put = {
      {"location", "westus"},
      {"properties",
       {{"description", "d"}, {"sharingProfile", {{"permissions", "Groups"}, {"groups", groups({kOtherTenantSub})}}}}}};
  REQUIRE(s.emu.arm("PUT", gallery_of("grp") + kV, put.dump()).status == 200);
  CHECK(s.shown("grp", "&$expand=SharingProfile/Groups")["sharingProfile"]["groups"] == groups({kSameTenantSub}));
}

TEST_CASE("share refuses what the gallery or the limits do not allow", "[sharing]") {
  Sharing s;
  REQUIRE(s.gallery("grp", {{"permissions", "Groups"}}).status == 201);
  REQUIRE(s.emu.arm("PUT", gallery_of("priv") + kV, R"({"location":"westus"})").status == 201);

  SECTION("group sharing needs a Groups gallery, community sharing a Community one") {
    auto on_private = s.share("priv", update("Add", groups({kSameTenantSub})));
    CHECK(on_private.status == 409);
    CHECK(on_private.error_code() == "OperationNotAllowed");
    CHECK(on_private.json()["error"]["message"].get<std::string>().find("'Private'") != std::string::npos);
    CHECK(s.share("grp", update("EnableCommunity", json::array())).status == 409);
    CHECK(s.share("priv", update("Reset")).status == 200);  // nothing to reset is not an error
  }
  SECTION("malformed updates") {
    CHECK(s.share("grp", json::object()).error_code() == "InvalidParameter");
    CHECK(s.share("grp", update("Share")).error_code() == "InvalidParameter");
    CHECK(s.share("grp", update("Add")).error_code() == "InvalidParameter");
    CHECK(s.share("grp", update("Add", json::array())).error_code() == "InvalidParameter");
    CHECK(s.share("grp", update("Add", groups({"not-a-guid"}))).error_code() == "InvalidParameter");
    CHECK(s.share("grp", update("Add", json::array({{{"type", "Users"}, {"ids", {kSameTenantSub}}}}))).error_code() ==
          "InvalidParameter");
    CHECK(s.share("grp", update("Add", "everyone")).error_code() == "InvalidRequestContent");
    CHECK(s.emu.arm("POST", share_of("grp"), "{").error_code() == "InvalidRequestContent");
    CHECK(s.emu.arm("POST", share_of("missing"), update("Reset").dump()).status == 404);
  }
  SECTION("at most 30 subscriptions in the resulting profile") {
    std::vector<std::string> thirty;
    for (int i = 1; i <= 30; ++i) thirty.push_back(guid(i));
    REQUIRE(s.share("grp", update("Add", groups(thirty))).status == 200);
    auto over = s.share("grp", update("Add", groups({guid(31)})));
    CHECK(over.status == 400);
    CHECK(over.json()["error"]["message"].get<std::string>().find("at most 30 subscriptions and 5 tenants") !=
          std::string::npos);
    CHECK(s.shown("grp", "&$expand=SharingProfile/Groups")["sharingProfile"]["groups"][0]["ids"].size() == 30);
    REQUIRE(s.share("grp", update("Add", groups({thirty[0]}))).status == 200);  // already there: still 30
  }
  SECTION("a tenant other than the gallery's own is cross-tenant sharing: refused without the flag") {
    auto foreign = s.share("grp", update("Add", groups({kSameTenantSub}, {kOtherTenant})));
    CHECK(foreign.status == 400);
    CHECK(foreign.error_code() == "CrossTenantSharingNotSupported");
    CHECK(foreign.json()["error"]["message"].get<std::string>().find("--allow-cross-tenant-sharing") !=
          std::string::npos);
    // Nothing was written, not even the valid half.
    CHECK_FALSE(s.shown("grp", "&$expand=SharingProfile/Groups")["sharingProfile"].contains("groups"));
    CHECK(s.share("grp", update("Add", groups({}, {kTenant}))).status == 200);
  }
}

TEST_CASE("cross-tenant sharing with --allow-cross-tenant-sharing, within 5 tenants", "[sharing]") {
  Sharing s([](acg::api::AppOptions& o) { o.allow_cross_tenant_sharing = true; });
  REQUIRE(s.gallery("grp", {{"permissions", "Groups"}}).status == 201);
  REQUIRE(s.share("grp", update("Add", groups({}, {kOtherTenant, guid(1), guid(2), guid(3)}))).status == 200);
  REQUIRE(s.share("grp", update("Add", groups({}, {kTenant}))).status == 200);
  auto sixth = s.share("grp", update("Add", groups({}, {guid(4)})));
  CHECK(sixth.status == 400);
  CHECK(sixth.json()["error"]["message"].get<std::string>().find("6 tenants") != std::string::npos);

  // The second tenant's subscription sees the gallery, also when asking for tenant sharing only.
  const std::string token = s.other_tenant_token();
  const std::string unique = s.unique_name("grp");
  for (const std::string query : {"", "&sharedTo=tenant"}) {
    auto list = s.as(token, "GET", locations(kOtherTenantSub, "westus") + "/sharedGalleries" + kV + query);
    INFO(list.body);
    REQUIRE(list.status == 200);
    CHECK(names_in(list.json()) == std::vector<std::string>{unique});
  }
}

TEST_CASE("community galleries: enable once, a public name, no delete until reset", "[sharing][community]") {
  Sharing s;
  SECTION("EnableCommunity needs the public information") {
    REQUIRE(s.gallery("bare", {{"permissions", "Community"}}).status == 201);
    auto refused = s.share("bare", update("EnableCommunity"));
    CHECK(refused.status == 400);
    CHECK(refused.json()["error"]["target"] == "sharingProfile.communityGalleryInfo.publisherUri");
  }
  SECTION("enable, show, refuse delete, reset, delete") {
    // What only the share action sets is not taken from a create.
    json info = kCommunityInfo;
    info["communityGalleryEnabled"] = true;
    info["publicNames"] = {"stolen-name"};
    REQUIRE(s.gallery("pub", {{"permissions", "community"}, {"communityGalleryInfo", info}}).status == 201);
    CHECK(s.shown("pub")["sharingProfile"]["communityGalleryInfo"] == kCommunityInfo);

    auto enabled = s.share("pub", update("EnableCommunity", json::array()));
    REQUIRE(enabled.status == 200);
    CHECK(enabled.json() == update("EnableCommunity", json::array()));
    json shown = s.shown("pub")["sharingProfile"]["communityGalleryInfo"];
    CHECK(shown["communityGalleryEnabled"] == true);
    REQUIRE(shown["publicNames"].size() == 1);
    const std::string name = shown["publicNames"][0];
    CHECK(name.rfind("contoso-", 0) == 0);
    CHECK(name.size() == std::string("contoso-").size() + 36);
    REQUIRE(s.share("pub", update("EnableCommunity")).status == 200);  // again: same name
    CHECK(s.shown("pub")["sharingProfile"]["communityGalleryInfo"]["publicNames"][0] == name);
    CHECK(s.share("pub", update("Add", groups({kSameTenantSub}))).status == 409);

    auto refused = s.emu.arm("DELETE", gallery_of("pub") + kV);
    CHECK(refused.status == 409);
    CHECK(refused.error_code() == "CannotDeleteResource");
    CHECK(refused.json()["error"]["message"].get<std::string>().find("Reset") != std::string::npos);

    REQUIRE(s.share("pub", update("Reset")).status == 200);
    shown = s.shown("pub")["sharingProfile"]["communityGalleryInfo"];
    CHECK(shown["communityGalleryEnabled"] == false);
    CHECK_FALSE(shown.contains("publicNames"));
    CHECK(s.emu.arm("DELETE", gallery_of("pub") + kV).status == 200);
  }
}

// A Community gallery created without communityGalleryInfo (EnableCommunity refuses it) has no
// public name; it once made every community lookup and its own delete answer 500.
TEST_CASE("a Community gallery without communityGalleryInfo breaks neither community reads nor its delete",
          "[sharing][community]") {
  Sharing s;
  REQUIRE(s.gallery("bare", {{"permissions", "Community"}}).status == 201);
  REQUIRE(s.gallery("pub", {{"permissions", "Community"}, {"communityGalleryInfo", kCommunityInfo}}).status == 201);
  REQUIRE(s.share("pub", update("EnableCommunity")).status == 200);
  const std::string name = s.shown("pub")["sharingProfile"]["communityGalleryInfo"]["publicNames"][0];
  const std::string west = locations(kSameTenantSub, "westus");

  auto found = s.emu.arm("GET", west + "/communityGalleries/" + name + kV);
  INFO(found.body);
  CHECK(found.status == 200);
  auto missing = s.emu.arm("GET", west + "/communityGalleries/nobody-" + guid(1) + kV);
  INFO(missing.body);
  CHECK(missing.status == 404);
  CHECK(missing.error_code() == "ResourceNotFound");

  REQUIRE(s.share("pub", update("Reset")).status == 200);
  CHECK(s.emu.arm("GET", west + "/communityGalleries/" + name + kV).status == 404);
  auto deleted = s.emu.arm("DELETE", gallery_of("bare") + kV);
  INFO(deleted.body);
  CHECK(deleted.status == 200);
}

TEST_CASE("a slow share is a long-running operation whose Location answers the update", "[sharing][lro]") {
  Sharing s([](acg::api::AppOptions& o) { o.operation_delay_ms = 150; });
  REQUIRE(s.gallery("grp", {{"permissions", "Groups"}}).status == 201);
  const json body = update("Add", groups({kSameTenantSub}));
  auto accepted = s.share("grp", body);
  INFO(accepted.body);
  REQUIRE(accepted.status == 202);
  CHECK(accepted.json() == body);
  CHECK(accepted.header("Retry-After") == "1");
  const std::string status_url = accepted.header("Azure-AsyncOperation");
  const std::string location = accepted.header("Location");
  REQUIRE(status_url.find("/capsOperations/") != std::string::npos);
  REQUIRE(location.find("monitor=true") != std::string::npos);
  // The sharing applies at once; its status says it is still spreading.
  CHECK(s.shown("grp", "&$expand=SharingProfile/Groups")["sharingProfile"]["groups"] == groups({kSameTenantSub}));
  CHECK(s.shown("grp")["sharingStatus"]["aggregatedState"] == "InProgress");

  auto done = poll_until_done(s.emu.http(), status_url, s.emu.token());
  CHECK(done.json()["status"] == "Succeeded");
  // az's final GET of Location prints the SharingUpdate.
  auto result = s.emu.arm("GET", path_of(location));
  CHECK(result.status == 200);
  CHECK(result.json() == body);
  CHECK(s.shown("grp")["sharingStatus"]["aggregatedState"] == "Succeeded");
  CHECK(s.shown("grp")["sharingStatus"]["summary"][0]["region"] == "westus");
}

TEST_CASE("consumers see a shared gallery only when shared, its versions only where replicated",
          "[sharing][consumer]") {
  Sharing s([](acg::api::AppOptions& o) {
    o.virtual_clock = true;
    o.replication_speed = 1;
    o.page_size = 1;
  });
  REQUIRE(s.gallery("pub", {{"permissions", "Groups"}}).status == 201);
  s.publish("pub", "linux", "1.0.0", regions({"westus", "eastus"}));
  s.publish("pub", "other", "1.0.0", regions({"westus"}));
  const std::string unique = s.unique_name("pub");
  const std::string west = locations(kSameTenantSub, "westus");
  const std::string shared = west + "/sharedGalleries/" + unique;

  // Not shared yet: nothing for the consumer.
  auto none = s.emu.arm("GET", west + "/sharedGalleries" + kV);
  REQUIRE(none.status == 200);
  CHECK(none.json()["value"].empty());
  auto hidden = s.emu.arm("GET", shared + kV);
  CHECK(hidden.status == 404);
  CHECK(hidden.error_code() == "ResourceNotFound");
  CHECK(s.emu.arm("GET", shared + "/images" + kV).status == 404);

  REQUIRE(s.share("pub", update("Add", groups({kSameTenantSub}))).status == 200);
  auto list = s.emu.arm("GET", west + "/sharedGalleries" + kV).json();
  REQUIRE(list["value"].size() == 1);
  CHECK(list["value"][0] == json{{"name", unique},
                                 {"location", "westus"},
                                 {"identifier", {{"uniqueId", "/SharedGalleries/" + unique}}},
                                 {"properties", json::object()}});
  CHECK(s.emu.arm("GET", shared + kV).json()["name"] == unique);
  CHECK(s.emu.arm("GET", west + "/sharedGalleries/" + unique + "?api-version=2022-01-03").status == 200);
  // Shared with the subscription, not the tenant.
  CHECK(s.emu.arm("GET", west + "/sharedGalleries" + kV + "&sharedTo=tenant").json()["value"].empty());
  CHECK(s.emu.arm("GET", west + "/sharedGalleries" + kV + "&sharedTo=world").error_code() == "InvalidParameter");
  CHECK(s.emu.arm("GET", locations(kSameTenantSub, "atlantis") + "/sharedGalleries" + kV).status == 400);

  // Images, paged like every list (page size 1 here).
  auto first = s.emu.arm("GET", shared + "/images" + kV).json();
  REQUIRE(first["value"].size() == 1);
  REQUIRE(first.contains("nextLink"));
  auto second = s.emu.arm("GET", path_of(first["nextLink"])).json();
  REQUIRE(second["value"].size() == 1);
  CHECK_FALSE(second.contains("nextLink"));
  CHECK(first["value"][0]["name"] == "linux");
  CHECK(second["value"][0]["name"] == "other");
  auto image = s.emu.arm("GET", shared + "/images/LINUX" + kV).json();
  CHECK(image["identifier"]["uniqueId"] == "/SharedGalleries/" + unique + "/Images/linux");
  CHECK(image["location"] == "westus");
  CHECK(image["properties"]["osType"] == "Linux");
  CHECK(image["properties"]["osState"] == "Generalized");
  CHECK(image["properties"]["identifier"] == json{{"publisher", "contoso"}, {"offer", "base"}, {"sku", "linux"}});
  CHECK(image["properties"]["eula"] == "https://contoso.example/eula");

  // Versions appear where their copy has completed: West US after 900 s, East US later.
  const std::string versions = shared + "/images/linux/versions";
  CHECK(s.emu.arm("GET", versions + kV).json()["value"].empty());
  CHECK(s.emu.arm("GET", versions + "/1.0.0" + kV).status == 404);
  s.advance(1000);
  auto version = s.emu.arm("GET", versions + "/1.0.0" + kV);
  INFO(version.body);
  REQUIRE(version.status == 200);
  const json v = version.json();
  CHECK(v["name"] == "1.0.0");
  CHECK(v["location"] == "westus");
  CHECK(v["identifier"]["uniqueId"] == "/SharedGalleries/" + unique + "/Images/linux/Versions/1.0.0");
  CHECK(v["properties"]["excludeFromLatest"] == false);
  CHECK(v["properties"]["endOfLifeDate"] == "2040-01-01T00:00:00Z");
  CHECK(v["properties"].contains("publishedDate"));
  CHECK(v["properties"]["storageProfile"]["osDiskImage"] == json{{"diskSizeGB", 30}, {"hostCaching", "ReadOnly"}});
  CHECK(names_in(s.emu.arm("GET", versions + kV).json()) == std::vector<std::string>{"1.0.0"});

  // East US: the gallery and the image appear there only once the copy there completed.
  const std::string east = locations(kSameTenantSub, "eastus");
  CHECK(s.emu.arm("GET", east + "/sharedGalleries" + kV).json()["value"].empty());
  CHECK(s.emu.arm("GET", east + "/sharedGalleries/" + unique + "/images/linux/versions/1.0.0" + kV).status == 404);
  s.advance(1000);
  CHECK(names_in(s.emu.arm("GET", east + "/sharedGalleries" + kV).json()) == std::vector<std::string>{unique});
  CHECK(names_in(s.emu.arm("GET", east + "/sharedGalleries/" + unique + "/images" + kV).json()) ==
        std::vector<std::string>{"linux"});
  CHECK(
      s.emu.arm("GET", east + "/sharedGalleries/" + unique + "/images/linux/versions/1.0.0" + kV).json()["location"] ==
      "eastus");
  CHECK(s.emu.arm("GET", east + "/sharedGalleries/" + unique + "/images/other" + kV).status == 404);

  // The second tenant's subscription was never given the gallery.
  const std::string token = s.other_tenant_token();
  const std::string other = locations(kOtherTenantSub, "westus");
  CHECK(s.as(token, "GET", other + "/sharedGalleries" + kV).json()["value"].empty());
  CHECK(s.as(token, "GET", other + "/sharedGalleries/" + unique + kV).status == 404);

  // Shared with the whole tenant: sharedTo=tenant lists it; removing the subscription keeps it.
  REQUIRE(s.share("pub", update("Add", groups({}, {kTenant}))).status == 200);
  REQUIRE(s.share("pub", update("Remove", groups({kSameTenantSub}))).status == 200);
  CHECK(names_in(s.emu.arm("GET", west + "/sharedGalleries" + kV + "&sharedTo=tenant").json()) ==
        std::vector<std::string>{unique});
  REQUIRE(s.share("pub", update("Reset")).status == 200);
  CHECK(s.emu.arm("GET", shared + kV).status == 404);
}

TEST_CASE("community galleries are visible to any subscription by public name once enabled", "[sharing][community]") {
  Sharing s;
  REQUIRE(s.gallery("pub", {{"permissions", "Community"}, {"communityGalleryInfo", kCommunityInfo}}).status == 201);
  s.publish("pub", "linux", "1.0.0", regions({"westus"}));
  const std::string token = s.other_tenant_token();
  const std::string west = locations(kOtherTenantSub, "westus");
  CHECK(s.as(token, "GET", west + "/communityGalleries/contoso" + kV).status == 404);

  REQUIRE(s.share("pub", update("EnableCommunity")).status == 200);
  const std::string name = s.shown("pub")["sharingProfile"]["communityGalleryInfo"]["publicNames"][0];
  auto gallery = s.as(token, "GET", west + "/communityGalleries/" + name + kV);
  INFO(gallery.body);
  REQUIRE(gallery.status == 200);
  json expected_metadata = kCommunityInfo;
  expected_metadata.erase("publicNamePrefix");
  expected_metadata["publicNames"] = {name};
  CHECK(gallery.json() == json{{"name", name},
                               {"location", "westus"},
                               {"type", "Microsoft.Compute/locations/communityGallery"},
                               {"identifier", {{"uniqueId", "/CommunityGalleries/" + name}}},
                               {"properties", {{"communityMetadata", expected_metadata}}}});
  auto images = s.as(token, "GET", west + "/communityGalleries/" + name + "/images" + kV).json();
  REQUIRE(images["value"].size() == 1);
  CHECK(images["value"][0]["type"] == "Microsoft.Compute/locations/communityGalleryImage");
  CHECK(images["value"][0]["identifier"]["uniqueId"] == "/CommunityGalleries/" + name + "/Images/linux");
  auto version = s.as(token, "GET", west + "/communityGalleries/" + name + "/images/linux/versions/1.0.0" + kV).json();
  CHECK(version["type"] == "Microsoft.Compute/locations/communityGalleryImageVersion");
  CHECK(version["properties"]["storageProfile"]["osDiskImage"]["diskSizeGB"] == 30);
  CHECK(names_in(s.as(token, "GET", west + "/communityGalleries/" + name + "/images/linux/versions" + kV).json()) ==
        std::vector<std::string>{"1.0.0"});
  // Not in a region it has nothing in; not a shared gallery either.
  CHECK(s.as(token, "GET", locations(kOtherTenantSub, "eastus") + "/communityGalleries/" + name + kV).status == 404);
  CHECK(s.as(token, "GET", west + "/sharedGalleries" + kV).json()["value"].empty());

  REQUIRE(s.share("pub", update("Reset")).status == 200);
  CHECK(s.as(token, "GET", west + "/communityGalleries/" + name + kV).status == 404);
}

TEST_CASE("VMs deploy shared and community images only for subscriptions that may see them", "[sharing][vm]") {
  Sharing s;
  REQUIRE(s.gallery("grp", {{"permissions", "Groups"}}).status == 201);
  REQUIRE(s.gallery("pub", {{"permissions", "Community"}, {"communityGalleryInfo", kCommunityInfo}}).status == 201);
  s.publish("grp", "linux", "1.0.0", regions({"westus"}));
  s.publish("pub", "linux", "1.0.0", regions({"westus"}));
  const std::string shared_id = "/SharedGalleries/" + s.unique_name("grp") + "/Images/linux/Versions/1.0.0";
  const std::string token = s.other_tenant_token();
  REQUIRE(s.emu.arm("PUT", group_of(kSameTenantSub, "consumer") + "?api-version=2021-04-01", R"({"location":"westus"})")
              .status == 201);
  REQUIRE(
      s.as(token, "PUT", group_of(kOtherTenantSub, "outsider") + "?api-version=2021-04-01", R"({"location":"westus"})")
          .status == 201);
  auto vm = [](const std::string& sub, const std::string& rg, const std::string& name) {
    return group_of(sub, rg) + "/providers/Microsoft.Compute/virtualMachines/" + name + kVmApi;
  };
  const json by_shared = {{"sharedGalleryImageId", shared_id}};

  // The gallery's own subscription needs no sharing.
  CHECK(s.emu.arm("PUT", vm(kSub, "rg", "own"), vm_body("westus", by_shared).dump()).status == 201);
  // A consumer only once the gallery is shared with it.
  auto early = s.emu.arm("PUT", vm(kSameTenantSub, "consumer", "a"), vm_body("westus", by_shared).dump());
  CHECK(early.status == 404);
  CHECK(early.error_code() == "GalleryImageNotFound");
  REQUIRE(s.share("grp", update("Add", groups({kSameTenantSub}))).status == 200);
  auto shared = s.emu.arm("PUT", vm(kSameTenantSub, "consumer", "b"), vm_body("westus", by_shared).dump());
  INFO(shared.body);
  CHECK(shared.status == 201);
  CHECK(shared.json()["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0");
  // ...and "latest" through the shared definition id.
  CHECK(s.emu
            .arm("PUT", vm(kSameTenantSub, "consumer", "c"),
                 vm_body("westus",
                         {{"sharedGalleryImageId", "/SharedGalleries/" + s.unique_name("grp") + "/Images/linux"}})
                     .dump())
            .status == 201);
  // Another tenant's subscription it was not shared with: as if it did not exist.
  auto outsider = s.as(token, "PUT", vm(kOtherTenantSub, "outsider", "x"), vm_body("westus", by_shared).dump());
  CHECK(outsider.status == 404);
  CHECK(outsider.error_code() == "GalleryImageNotFound");

  // Community images: anyone, once the gallery is public.
  const json by_community_name = {
      {"communityGalleryImageId", "/CommunityGalleries/contoso-x/Images/linux/Versions/1.0.0"}};
  CHECK(s.as(token, "PUT", vm(kOtherTenantSub, "outsider", "y"), vm_body("westus", by_community_name).dump()).status ==
        404);
  REQUIRE(s.share("pub", update("EnableCommunity")).status == 200);
  const std::string name = s.shown("pub")["sharingProfile"]["communityGalleryInfo"]["publicNames"][0];
  const json by_community = {
      {"communityGalleryImageId", "/CommunityGalleries/" + name + "/Images/linux/Versions/1.0.0"}};
  auto community = s.as(token, "PUT", vm(kOtherTenantSub, "outsider", "z"), vm_body("westus", by_community).dump());
  INFO(community.body);
  CHECK(community.status == 201);
}

TEST_CASE("a version made from a community image needs it public and replicated there", "[sharing][community]") {
  Sharing s;
  REQUIRE(s.gallery("pub", {{"permissions", "Community"}, {"communityGalleryInfo", kCommunityInfo}}).status == 201);
  s.publish("pub", "linux", "1.0.0", regions({"westus"}));
  // The consumer: a gallery and a Linux definition in the second subscription of the tenant.
  const std::string rg = group_of(kSameTenantSub, "consumer");
  const std::string gallery = rg + "/providers/Microsoft.Compute/galleries/mine";
  REQUIRE(s.emu.arm("PUT", rg + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
  REQUIRE(s.emu.arm("PUT", gallery + kV, R"({"location":"westus"})").status == 201);
  for (const char* os : {"Linux", "Windows"}) {
    json definition = {{"location", "westus"},
                       {"properties",
                        {{"osType", os},
                         {"osState", "Generalized"},
                         {"identifier", {{"publisher", "me"}, {"offer", "o"}, {"sku", os}}}}}};
    REQUIRE(s.emu.arm("PUT", gallery + "/images/" + os + kV, definition.dump()).status == 201);
  }
  auto from = [&](const std::string& definition, const std::string& id, const std::string& region = "westus") {
    json body = {{"location", region},
                 {"properties",
                  {{"storageProfile", {{"source", {{"communityGalleryImageId", id}}}}},
                   {"publishingProfile", {{"targetRegions", regions({"westus"})}}}}}};
    if (region != "westus") body["properties"]["publishingProfile"]["targetRegions"] = regions({region.c_str()});
    return s.emu.arm("PUT", gallery + "/images/" + definition + "/versions/1.0.0" + kV, body.dump());
  };

  auto hidden = from("Linux", "/CommunityGalleries/contoso-x/Images/linux");
  CHECK(hidden.status == 400);
  CHECK(hidden.json()["error"]["target"] == "properties.storageProfile.source.communityGalleryImageId");
  REQUIRE(s.share("pub", update("EnableCommunity")).status == 200);
  const std::string name = s.shown("pub")["sharingProfile"]["communityGalleryInfo"]["publicNames"][0];
  CHECK(from("Linux", "/CommunityGalleries/" + name + "/Images/linux", "eastus").status == 400);  // not copied there
  CHECK(from("Windows", "/CommunityGalleries/" + name + "/Images/linux").status == 400);          // another OS type
  auto made = from("Linux", "/CommunityGalleries/" + name + "/Images/linux");
  INFO(made.body);
  REQUIRE(made.status == 201);
  const json storage = made.json()["properties"]["storageProfile"];
  CHECK(storage["source"]["communityGalleryImageId"] == "/CommunityGalleries/" + name + "/Images/linux");
  CHECK(storage["osDiskImage"]["sizeInGB"] == 30);
  CHECK(storage["osDiskImage"]["hostCaching"] == "ReadOnly");
}
