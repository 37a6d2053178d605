// Image versions over HTTPS: names, every kind of source, the publishing profile, what may
// change once published, and deletion rules.

#include <catch2/catch.hpp>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kV = "?api-version=2022-03-03";

std::string rg_resource(const std::string& type, const std::string& name) {
  return TestEmulator::group_path("rg") + "/providers/" + type + "/" + name;
}
std::string definition_path(const std::string& d) { return TestEmulator::gallery_path("rg", "gal") + "/images/" + d; }
std::string version_path(const std::string& d, const std::string& v) { return definition_path(d) + "/versions/" + v; }

struct Publishing {
  TestEmulator emu;
  std::string image_id, snapshot_id, data_snapshot_id, account_id, vm_id;

  Publishing() {
    REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kV, R"({"location":"westus"})").status == 201);
    define("linux", "Linux", "Generalized", "V1");
    define("special", "Linux", "Specialized", "V1");
    define("windows", "Windows", "Generalized", "V1");
    define("gen2", "Linux", "Generalized", "V2");
    snapshot_id = create(rg_resource("Microsoft.Compute/snapshots", "os") + "?api-version=2022-03-02",
                         R"({"location":"westus","sku":{"name":"Standard_LRS"},"properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})");
    json image = {{"location", "westus"},
                  {"properties",
                   {{"storageProfile",
                     {{"osDisk", {{"osType", "Linux"}, {"osState", "Generalized"}, {"diskSizeGB", 30},
                                  {"caching", "ReadWrite"}, {"snapshot", {{"id", snapshot_id}}}}}}}}}};
    image_id = create(rg_resource("Microsoft.Compute/images", "golden") + "?api-version=2022-08-01", image.dump());
    data_snapshot_id = create(rg_resource("Microsoft.Compute/snapshots", "data") + "?api-version=2022-03-02",
                              R"({"location":"westus","properties":{"creationData":{"createOption":"Empty"},"diskSizeGB":10}})");
    account_id = create(rg_resource("Microsoft.Storage/storageAccounts", "vhds") + "?api-version=2023-01-01",
                        R"({"location":"westus","kind":"StorageV2","sku":{"name":"Standard_LRS"}})");
    vm_id = create(rg_resource("Microsoft.Compute/virtualMachines", "builder") + "?api-version=2022-08-01",
                   R"({"location":"westus","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"0001-com-ubuntu-server-jammy","sku":"22_04-lts","version":"latest"},"osDisk":{"osType":"Linux","createOption":"FromImage"}}}})");
  }

  void define(const std::string& name, const std::string& os, const std::string& state, const std::string& gen) {
    json body = {{"location", "westus"},
                 {"properties",
                  {{"osType", os}, {"osState", state}, {"hyperVGeneration", gen},
                   {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", name}}}}}};
    REQUIRE(emu.arm("PUT", definition_path(name) + kV, body.dump()).status == 201);
  }

  std::string create(const std::string& target, const std::string& body) {
    auto r = emu.arm("PUT", target, body);
    INFO(r.body);
    REQUIRE((r.status == 200 || r.status == 201));
    return r.json()["id"];
  }

  ClientResponse publish(const std::string& d, const std::string& v, json storage, json profile = json::object()) {
    json body = {{"location", "westus"}, {"properties", {{"storageProfile", storage}}}};
    if (!profile.empty()) body["properties"]["publishingProfile"] = profile;
    return emu.arm("PUT", version_path(d, v) + kV, body.dump());
  }

  json from_image() const { return {{"source", {{"id", image_id}}}}; }
};

}  // namespace

TEST_CASE("version names must be Major.Minor.Patch within int32", "[versions]") {
  Publishing p;
  for (const char* bad : {"1.0", "1.0.0.0", "v1.0.0", "2147483648.0.0", "7.9.2201041542"}) {
    auto r = p.publish("linux", bad, p.from_image());
    CHECK(r.status == 400);
    CHECK(r.error_code() == "InvalidParameter");
    CHECK(r.json()["error"]["target"] == "galleryImageVersionName");
    CHECK(r.json()["error"]["message"].get<std::string>().find("Major(int).Minor(int).Patch(int)") != std::string::npos);
  }
  CHECK(p.publish("linux", "2147483647.0.1", p.from_image()).status == 201);
}

TEST_CASE("a version from a managed image, with its publishing profile", "[versions]") {
  Publishing p;
  json profile = {{"targetRegions", json::array({{{"name", "westus"}, {"regionalReplicaCount", 2}},
                                                 {{"name", "eastus"}, {"storageAccountType", "standard_zrs"}}})},
                  {"replicaCount", 1},
                  {"endOfLifeDate", "2099-01-01T12:59:59.000Z"}};
  auto created = p.publish("linux", "1.0.0", p.from_image(), profile);
  INFO(created.body);
  REQUIRE(created.status == 201);
  auto v = created.json();
  CHECK(v["type"] == "Microsoft.Compute/galleries/images/versions");
  CHECK(v["id"] == version_path("linux", "1.0.0"));
  CHECK(v["properties"]["provisioningState"] == "Succeeded");
  CHECK(v["properties"]["storageProfile"]["source"]["id"] == p.image_id);
  const json& pp = v["properties"]["publishingProfile"];
  REQUIRE(pp["targetRegions"].size() == 2);
  CHECK(pp["targetRegions"][0]["name"] == "West US");
  CHECK(pp["targetRegions"][0]["regionalReplicaCount"] == 2);
  CHECK(pp["targetRegions"][0]["storageAccountType"] == "Standard_LRS");
  CHECK(pp["targetRegions"][1]["regionalReplicaCount"] == 1);
  CHECK(pp["targetRegions"][1]["storageAccountType"] == "Standard_ZRS");
  CHECK(pp["excludeFromLatest"] == false);
  CHECK(pp.contains("publishedDate"));
  CHECK(pp["endOfLifeDate"] == "2099-01-01T12:59:59.000Z");
  CHECK(p.emu.arm("GET", version_path("linux", "1.0.0") + kV).json() == v);
  CHECK(p.emu.arm("GET", definition_path("linux") + "/versions" + kV).json()["value"].size() == 1);

  // Without targetRegions the version is published to its own region.
  auto home_only = p.publish("linux", "1.0.1", p.from_image()).json();
  REQUIRE(home_only["properties"]["publishingProfile"]["targetRegions"].size() == 1);
  CHECK(home_only["properties"]["publishingProfile"]["targetRegions"][0]["name"] == "West US");
}

TEST_CASE("versions from snapshots, a VHD, a VM and another version", "[versions]") {
  Publishing p;
  json snapshots = {{"osDiskImage", {{"source", {{"id", p.snapshot_id}}}}},
                    {"dataDiskImages", json::array({{{"lun", 1}, {"source", {{"id", p.data_snapshot_id}}}}})}};
  auto from_snapshots = p.publish("special", "1.0.0", snapshots);
  INFO(from_snapshots.body);
  REQUIRE(from_snapshots.status == 201);
  CHECK(from_snapshots.json()["properties"]["storageProfile"]["osDiskImage"]["sizeInGB"] == 30);

  json vhd = {{"osDiskImage",
               {{"source", {{"uri", "https://vhds.blob.core.windows.net/vhds/os.vhd"}, {"storageAccountId", p.account_id}}}}}};
  CHECK(p.publish("special", "1.0.1", vhd).status == 201);

  // A VM is Specialized until generalized.
  CHECK(p.publish("special", "1.0.2", {{"source", {{"id", p.vm_id}}}}).status == 201);
  CHECK(p.publish("linux", "3.0.0", {{"source", {{"id", p.vm_id}}}}).status == 400);
  REQUIRE(p.emu.arm("POST", rg_resource("Microsoft.Compute/virtualMachines", "builder") + "/generalize?api-version=2022-08-01")
              .status == 200);
  CHECK(p.publish("linux", "3.0.0", {{"source", {{"id", p.vm_id}}}}).status == 201);

  REQUIRE(p.publish("linux", "1.0.0", p.from_image()).status == 201);
  CHECK(p.publish("linux", "2.0.0", {{"source", {{"id", version_path("linux", "1.0.0")}}}}).status == 201);
}

TEST_CASE("sources are checked", "[versions]") {
  Publishing p;
  auto message = [](const ClientResponse& r) { return r.json()["error"]["message"].get<std::string>(); };

  auto missing = p.publish("linux", "1.0.0", {{"source", {{"id", rg_resource("Microsoft.Compute/images", "nope")}}}});
  CHECK(missing.status == 400);
  CHECK(message(missing).find("Source was not found") == 0);

  CHECK(message(p.publish("linux", "1.0.0", json::object())).find("is missing") != std::string::npos);
  CHECK(message(p.publish("linux", "1.0.0", {{"source", {{"id", "images/relative"}}}})).find("Expect fully qualified") !=
        std::string::npos);
  CHECK(message(p.publish("linux", "1.0.0", {{"source", {{"id", p.snapshot_id}}}}))
            .find("must either be a managed image, virtual machine or another gallery image version") != std::string::npos);
  CHECK(message(p.publish("special", "1.0.0", {{"osDiskImage", {{"source", {{"id", p.image_id}}}}}}))
            .find("must be a managed disk or snapshot") != std::string::npos);
  CHECK(message(p.publish("linux", "1.0.0", {{"source", {{"id", p.image_id}}}, {"osDiskImage", {{"source", {{"id", p.snapshot_id}}}}}}))
            .find("One and only one source type") != std::string::npos);

  // The source must describe the definition's kind of image.
  CHECK(message(p.publish("windows", "1.0.0", p.from_image())).find("different OS type") != std::string::npos);
  CHECK(message(p.publish("special", "1.0.0", p.from_image())).find("OS State in the parent gallery image") != std::string::npos);
  CHECK(message(p.publish("gen2", "1.0.0", p.from_image())).find("Hypervisor generation") != std::string::npos);

  json duplicate_luns = {{"osDiskImage", {{"source", {{"id", p.snapshot_id}}}}},
                         {"dataDiskImages", json::array({{{"lun", 1}, {"source", {{"id", p.data_snapshot_id}}}},
                                                         {{"lun", 1}}})}};
  CHECK(message(p.publish("special", "1.0.0", duplicate_luns)).find("Duplicated lun numbers") == 0);
  json same_disk = {{"osDiskImage", {{"source", {{"id", p.snapshot_id}}}}},
                    {"dataDiskImages", json::array({{{"lun", 0}, {"source", {{"id", p.snapshot_id}}}}})}};
  CHECK(message(p.publish("special", "1.0.0", same_disk)).find("cannot point to same blob") != std::string::npos);
  json no_account = {{"osDiskImage", {{"source", {{"uri", "https://x.blob.core.windows.net/v/os.vhd"}}}}}};
  CHECK(p.publish("special", "1.0.0", no_account).status == 400);

  // Nothing refused was written.
  CHECK(p.emu.arm("GET", definition_path("linux") + "/versions" + kV).json()["value"].empty());
}

TEST_CASE("the publishing profile is checked", "[versions]") {
  Publishing p;
  auto message = [](const ClientResponse& r) { return r.json()["error"]["message"].get<std::string>(); };
  json elsewhere = {{"targetRegions", json::array({{{"name", "eastus"}}})}};
  CHECK(message(p.publish("linux", "1.0.0", p.from_image(), elsewhere)).find("must contain the location of image version") !=
        std::string::npos);
  json twice = {{"targetRegions", json::array({{{"name", "westus"}}, {{"name", "West US"}}})}};
  CHECK(message(p.publish("linux", "1.0.0", p.from_image(), twice)) == "Duplicate regions are not allowed in target publishing regions.");
  json unknown = {{"targetRegions", json::array({{{"name", "westus"}}, {{"name", "atlantis"}}})}};
  CHECK(p.publish("linux", "1.0.0", p.from_image(), unknown).error_code() == "LocationNotAvailableForResourceType");
  json too_many = {{"targetRegions", json::array({{{"name", "westus"}, {"regionalReplicaCount", 101}}})}};
  CHECK(message(p.publish("linux", "1.0.0", p.from_image(), too_many)).find("is out of range") != std::string::npos);
  CHECK(p.publish("linux", "1.0.0", p.from_image(), {{"storageAccountType", "Floppy_LRS"}}).status == 400);
  CHECK(p.publish("linux", "1.0.0", p.from_image(), {{"replicationMode", "Partial"}}).status == 400);
  CHECK(message(p.publish("linux", "1.0.0", p.from_image(), {{"endOfLifeDate", "2000-01-01"}})) ==
        "EndOfLifeDate must be set to a future date.");
}

TEST_CASE("a published version changes only where the service allows", "[versions]") {
  Publishing p;
  REQUIRE(p.publish("linux", "1.0.0", p.from_image(), {{"replicationMode", "Full"}}).status == 201);

  // az's `sig image-version update` PUTs back what it read, without the source.
  auto read = p.emu.arm("GET", version_path("linux", "1.0.0") + kV).json();
  json body = {{"location", read["location"]}, {"tags", {{"stage", "prod"}}}, {"properties", read["properties"]}};
  body["properties"]["storageProfile"] = {{"osDiskImage", {{"hostCaching", "ReadWrite"}}}};
  body["properties"]["publishingProfile"]["targetRegions"].push_back({{"name", "eastus2"}, {"regionalReplicaCount", 3}});
  body["properties"]["publishingProfile"]["excludeFromLatest"] = true;
  body["properties"].erase("provisioningState");
  auto updated = p.emu.arm("PUT", version_path("linux", "1.0.0") + kV, body.dump());
  INFO(updated.body);
  REQUIRE(updated.status == 200);
  CHECK(updated.json()["properties"]["storageProfile"]["source"]["id"] == p.image_id);
  CHECK(updated.json()["properties"]["publishingProfile"]["targetRegions"].size() == 2);
  CHECK(updated.json()["properties"]["publishingProfile"]["excludeFromLatest"] == true);
  CHECK(updated.json()["tags"]["stage"] == "prod");

  auto other_source = p.publish("linux", "1.0.0", {{"source", {{"id", p.vm_id}}}});
  CHECK(other_source.status == 409);
  CHECK(other_source.json()["error"]["message"] ==
        "Changing property 'galleryImageVersion.properties.storageProfile.source.id' is not allowed.");
  auto mode = p.emu.arm("PATCH", version_path("linux", "1.0.0") + kV, R"({"properties":{"publishingProfile":{"replicationMode":"Shallow"}}})");
  CHECK(mode.status == 409);
  auto patched = p.emu.arm("PATCH", version_path("linux", "1.0.0") + kV, R"({"properties":{"publishingProfile":{"replicaCount":2}}})");
  REQUIRE(patched.status == 200);
  CHECK(patched.json()["properties"]["publishingProfile"]["replicaCount"] == 2);

  // Protect replicated regions, then try to remove one.
  REQUIRE(p.emu.arm("PATCH", version_path("linux", "1.0.0") + kV,
                    R"({"properties":{"safetyProfile":{"allowDeletionOfReplicatedLocations":false}}})").status == 200);
  auto shrink = p.emu.arm("PATCH", version_path("linux", "1.0.0") + kV,
                          R"({"properties":{"publishingProfile":{"targetRegions":[{"name":"westus"}]}}})");
  CHECK(shrink.status == 409);
}

TEST_CASE("deletion: reverse order, and blocked before end of life when asked", "[versions]") {
  Publishing p;
  json blocked = {{"endOfLifeDate", "2099-01-01"}};
  json body = {{"location", "westus"},
               {"properties", {{"storageProfile", p.from_image()}, {"publishingProfile", blocked},
                               {"safetyProfile", {{"blockDeletionBeforeEndOfLife", true}}}}}};
  REQUIRE(p.emu.arm("PUT", version_path("linux", "1.0.0") + kV, body.dump()).status == 201);
  auto refused = p.emu.arm("DELETE", version_path("linux", "1.0.0") + kV);
  CHECK(refused.status == 409);
  CHECK(refused.error_code() == "DeleteGalleryImageVersionBlockedBeforeEndOfLife");
  CHECK(p.emu.arm("DELETE", definition_path("linux") + kV).error_code() == "CannotDeleteResource");

  REQUIRE(p.emu.arm("PATCH", version_path("linux", "1.0.0") + kV,
                    R"({"properties":{"safetyProfile":{"blockDeletionBeforeEndOfLife":false}}})").status == 200);
  CHECK(p.emu.arm("DELETE", version_path("linux", "1.0.0") + kV).status == 200);
  CHECK(p.emu.arm("DELETE", version_path("linux", "1.0.0") + kV).status == 204);
  CHECK(p.emu.arm("DELETE", definition_path("linux") + kV).status == 200);
}

TEST_CASE("a VHD's SAS must be valid and readable, and is never stored or returned", "[versions][sas]") {
  Publishing p;
  auto vhd = [&](const std::string& query) {
    return json{{"osDiskImage",
                 {{"source", {{"uri", "https://vhds.blob.core.windows.net/vhds/os.vhd?" + query}, {"storageAccountId", p.account_id}}}}}};
  };
  const std::string secret = "sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D";
  auto expired = p.publish("linux", "1.0.0", vhd("sv=2021-08-06&sp=r&se=2020-01-01T00%3A00%3A00Z&" + secret));
  CHECK(expired.status == 400);
  CHECK(expired.error_code() == "InvalidParameter");
  CHECK(expired.json()["error"]["message"].get<std::string>().find("expired") != std::string::npos);
  CHECK(expired.body.find("c2VjcmV0") == std::string::npos);
  auto write_only = p.publish("linux", "1.0.0", vhd("sv=2021-08-06&sp=w&se=2099-01-01T00%3A00%3A00Z&" + secret));
  CHECK(write_only.status == 400);
  CHECK(write_only.json()["error"]["message"].get<std::string>().find("read permission") != std::string::npos);

  auto created = p.publish("linux", "1.0.0", vhd("sv=2021-08-06&sp=rl&se=2099-01-01T00%3A00%3A00Z&" + secret));
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.body.find("c2VjcmV0") == std::string::npos);
  CHECK(created.json()["properties"]["storageProfile"]["osDiskImage"]["source"]["uri"] ==
        "https://vhds.blob.core.windows.net/vhds/os.vhd");
  CHECK(p.emu.arm("GET", version_path("linux", "1.0.0") + kV).body.find("sig=") == std::string::npos);
  // Restating the same blob with a fresh SAS is not a change of source.
  CHECK(p.publish("linux", "1.0.0", vhd("sv=2021-08-06&sp=r&se=2098-01-01T00%3A00%3A00Z&sig=b3RoZXI%3D")).status == 200);
}

TEST_CASE("customer-managed keys: a DES of that region and subscription, in every region if in one", "[versions][des]") {
  Publishing p;
  auto des = [&](const std::string& name, const std::string& region) {
    return p.create(rg_resource("Microsoft.Compute/diskEncryptionSets", name) + "?api-version=2022-07-02",
                    json{{"location", region},
                         {"identity", {{"type", "SystemAssigned"}}},
                         {"properties", {{"activeKey", {{"keyUrl", "https://vault.vault.azure.net/keys/k/1"}}}}}}.dump());
  };
  const std::string west = des("deswest", "westus"), east = des("deseast", "eastus");
  auto region = [](const char* name, const std::string& set) {
    json r = {{"name", name}};
    if (!set.empty()) r["encryption"] = {{"osDiskImage", {{"diskEncryptionSetId", set}}}};
    return r;
  };
  auto partial = p.publish("linux", "1.0.0", p.from_image(), {{"targetRegions", {region("westus", west), region("eastus", "")}}});
  CHECK(partial.status == 400);
  CHECK(partial.json()["error"]["message"].get<std::string>().find("every target region") != std::string::npos);
  auto crossed = p.publish("linux", "1.0.0", p.from_image(), {{"targetRegions", {region("westus", east), region("eastus", west)}}});
  CHECK(crossed.status == 400);
  CHECK(crossed.json()["error"]["message"].get<std::string>().find("not in target region") != std::string::npos);
  auto missing = p.publish("linux", "1.0.0", p.from_image(),
                           {{"targetRegions", {region("westus", rg_resource("Microsoft.Compute/diskEncryptionSets", "nope"))}}});
  CHECK(missing.status == 400);
  CHECK(p.publish("linux", "1.0.0", p.from_image(), {{"targetRegions", {region("westus", west), region("eastus", east)}}}).status ==
        201);
}
