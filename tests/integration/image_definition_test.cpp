// Image definitions (galleries/images) over HTTPS: every property round-trips, and every
// documented refusal.

#include <catch2/catch.hpp>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kV = "?api-version=2022-03-03";

std::string image_path(const std::string& image) { return TestEmulator::gallery_path("rg", "gal") + "/images/" + image; }

void make_gallery(TestEmulator& emu) {
  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
  REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kV, R"({"location":"westus"})").status == 201);
}

json definition(const std::string& publisher = "pub", const std::string& offer = "offer", const std::string& sku = "sku") {
  return json{{"location", "westus"},
              {"properties",
               {{"osType", "Linux"},
                {"osState", "Generalized"},
                {"hyperVGeneration", "V2"},
                {"identifier", {{"publisher", publisher}, {"offer", offer}, {"sku", sku}}}}}};
}

}  // namespace

TEST_CASE("an image definition round-trips every property", "[images]") {
  TestEmulator emu;
  make_gallery(emu);
  json body = definition();
  body["tags"] = {{"team", "images"}};
  auto& p = body["properties"];
  p["osState"] = "specialized";  // az sends enum values as typed
  p["hyperVGeneration"] = "v2";
  p["architecture"] = "arm64";
  p["description"] = "Ubuntu golden image";
  p["eula"] = "https://contoso.example/eula";
  p["privacyStatementUri"] = "https://contoso.example/privacy";
  p["releaseNoteUri"] = "https://contoso.example/notes";
  p["endOfLifeDate"] = "2099-01-01T12:59:59.000Z";
  p["recommended"] = {{"vCPUs", {{"min", 2}, {"max", 16}}}, {"memory", {{"min", 4}, {"max", 64}}}};
  p["disallowed"] = {{"diskTypes", {"Standard_LRS"}}};
  p["purchasePlan"] = {{"name", "plan"}, {"publisher", "pp"}, {"product", "prod"}};
  p["features"] = json::array({{{"name", "SecurityType"}, {"value", "TrustedLaunch"}},
                               {{"name", "IsAcceleratedNetworkSupported"}, {"value", "true"}}});
  auto created = emu.arm("PUT", image_path("ubuntu") + kV, body.dump());
  REQUIRE(created.status == 201);
  auto g = created.json();
  CHECK(g["id"] == image_path("ubuntu"));
  CHECK(g["type"] == "Microsoft.Compute/galleries/images");
  CHECK(g["location"] == "westus");
  CHECK(g["tags"]["team"] == "images");
  const json& out = g["properties"];
  CHECK(out["osType"] == "Linux");
  CHECK(out["osState"] == "Specialized");
  CHECK(out["hyperVGeneration"] == "V2");
  CHECK(out["architecture"] == "Arm64");
  CHECK(out["identifier"] == p["identifier"]);
  for (const char* key : {"description", "eula", "privacyStatementUri", "releaseNoteUri", "endOfLifeDate", "recommended",
                          "disallowed", "purchasePlan", "features"})
    CHECK(out[key] == p[key]);
  CHECK(out["provisioningState"] == "Succeeded");
  CHECK(emu.arm("GET", image_path("UBUNTU") + kV).json() == g);

  auto list = emu.arm("GET", TestEmulator::gallery_path("rg", "gal") + "/images" + kV).json();
  REQUIRE(list["value"].size() == 1);
  CHECK(list["value"][0]["name"] == "ubuntu");
}

TEST_CASE("image definition defaults and updates", "[images]") {
  TestEmulator emu;
  make_gallery(emu);
  json body = definition();
  body["properties"].erase("hyperVGeneration");
  auto created = emu.arm("PUT", image_path("d") + kV, body.dump()).json();
  CHECK(created["properties"]["hyperVGeneration"] == "V1");
  CHECK(created["properties"]["architecture"] == "x64");

  auto patched = emu.arm("PATCH", image_path("d") + kV,
                         R"({"properties":{"description":"now described","recommended":{"vCPUs":{"min":1,"max":4}}}})");
  REQUIRE(patched.status == 200);
  CHECK(patched.json()["properties"]["description"] == "now described");
  CHECK(patched.json()["properties"]["osType"] == "Linux");

  // A PUT restating the fixed facts (any casing) and changing updatable ones is fine.
  json update = definition();
  update["properties"]["hyperVGeneration"] = "v1";
  update["properties"]["osType"] = "linux";
  update["properties"]["releaseNoteUri"] = "https://x.example/notes";
  auto put = emu.arm("PUT", image_path("d") + kV, update.dump());
  REQUIRE(put.status == 200);
  CHECK(put.json()["properties"]["releaseNoteUri"] == "https://x.example/notes");
  CHECK_FALSE(put.json()["properties"].contains("description"));  // PUT replaces
}

TEST_CASE("image definition refusals", "[images]") {
  TestEmulator emu;
  make_gallery(emu);
  REQUIRE(emu.arm("PUT", image_path("base") + kV, definition().dump()).status == 201);

  SECTION("fixed facts cannot change") {
    for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"osType", "Windows"}, {"osState", "Specialized"}, {"hyperVGeneration", "V1"}, {"architecture", "Arm64"}}) {
      json body = definition();
      body["properties"][key] = value;
      auto r = emu.arm("PUT", image_path("base") + kV, body.dump());
      CHECK(r.status == 409);
      CHECK(r.json()["error"]["message"] == "Changing property 'galleryImage.properties." + key + "' is not allowed.");
    }
    auto offer = emu.arm("PUT", image_path("base") + kV, definition("pub", "other").dump());
    CHECK(offer.json()["error"]["message"] == "Changing property 'galleryImage.properties.identifier.offer' is not allowed.");
  }
  SECTION("features change only with allowUpdateImage") {
    json body = definition();
    body["properties"]["features"] = json::array({{{"name", "SecurityType"}, {"value", "TrustedLaunch"}}});
    CHECK(emu.arm("PUT", image_path("base") + kV, body.dump()).status == 409);
    body["properties"]["allowUpdateImage"] = true;
    CHECK(emu.arm("PUT", image_path("base") + kV, body.dump()).status == 200);
  }
  SECTION("the identifier triple is unique within the gallery") {
    auto r = emu.arm("PUT", image_path("twin") + kV, definition("PUB", "offer", "sku").dump());
    CHECK(r.status == 409);
    CHECK(r.json()["error"]["message"].get<std::string>().find("identified by (publisher:PUB, offer:offer, sku:sku) already exists") !=
          std::string::npos);
    CHECK(emu.arm("PUT", image_path("twin") + kV, definition("pub", "offer", "sku2").dump()).status == 201);
  }
  SECTION("identifier rules") {
    CHECK(emu.arm("PUT", image_path("x") + kV, definition(std::string(129, 'p')).dump()).error_code() == "InvalidParameter");
    CHECK(emu.arm("PUT", image_path("x") + kV, definition("p", std::string(65, 'o')).dump()).status == 400);
    CHECK(emu.arm("PUT", image_path("x") + kV, definition("p", "o", "ends.").dump()).status == 400);
    CHECK(emu.arm("PUT", image_path("x") + kV, definition("p", "o", "b@d").dump()).status == 400);
    CHECK(emu.arm("PUT", image_path("x") + kV, definition("", "o", "s").dump()).status == 400);
  }
  SECTION("required properties and enum values") {
    json body = definition();
    body["properties"].erase("osState");
    CHECK(emu.arm("PUT", image_path("x") + kV, body.dump()).json()["error"]["target"] == "properties.osState");
    body = definition();
    body["properties"]["osType"] = "Solaris";
    CHECK(emu.arm("PUT", image_path("x") + kV, body.dump()).error_code() == "InvalidParameter");
    CHECK(emu.arm("PUT", image_path("x") + kV, R"({"location":"westus"})").status == 400);
  }
  SECTION("ranges and dates") {
    json body = definition();
    body["properties"]["recommended"] = {{"memory", {{"min", 8}, {"max", 4}}}};
    CHECK(emu.arm("PUT", image_path("x") + kV, body.dump()).json()["error"]["message"] ==
          "The minimum value of memory must not be greater than the maximum value of memory.");
    body = definition();
    body["properties"]["endOfLifeDate"] = "2001-01-01";
    CHECK(emu.arm("PUT", image_path("x") + kV, body.dump()).json()["error"]["message"] ==
          "EndOfLifeDate must be set to a future date.");
    body["properties"]["endOfLifeDate"] = "someday";
    CHECK(emu.arm("PUT", image_path("x") + kV, body.dump()).json()["error"]["message"].get<std::string>().find(
              "Could not convert string to DateTimeOffset") == 0);
  }
  SECTION("names") {
    for (const char* bad : {"-lead", "trail-", "trail.", "sp%20ace"})
      CHECK(emu.arm("PUT", image_path(bad) + kV, definition("p", "o", bad).dump()).json()["error"]["target"] == "galleryImageName");
    CHECK(emu.arm("PUT", image_path("ok-name_1.0") + kV, definition("p", "o", "s1").dump()).status == 201);
  }
  SECTION("parents") {
    auto r = emu.arm("PUT", TestEmulator::gallery_path("rg", "nogallery") + "/images/x" + kV, definition().dump());
    CHECK(r.status == 404);
    CHECK(r.error_code() == "ParentResourceNotFound");
    CHECK(r.json()["error"]["message"] ==
          "Can not perform requested operation on nested resource. Parent resource 'nogallery' not found.");
    CHECK(emu.arm("GET", image_path("absent") + kV).error_code() == "ResourceNotFound");
    CHECK(emu.arm("GET", TestEmulator::gallery_path("rg", "nogallery") + "/images" + kV).error_code() ==
          "ParentResourceNotFound");
  }
  // Nothing refused above was written.
  auto names = emu.arm("GET", TestEmulator::gallery_path("rg", "gal") + "/images" + kV).json()["value"];
  for (const auto& image : names) CHECK(image["name"] != "x");
}

TEST_CASE("a gallery with definitions cannot be deleted; deletion goes in reverse order", "[images]") {
  TestEmulator emu;
  make_gallery(emu);
  REQUIRE(emu.arm("PUT", image_path("d") + kV, definition().dump()).status == 201);
  auto refused = emu.arm("DELETE", TestEmulator::gallery_path("rg", "gal") + kV);
  CHECK(refused.status == 409);
  CHECK(refused.error_code() == "CannotDeleteResource");
  CHECK(emu.arm("DELETE", image_path("d") + kV).status == 200);
  CHECK(emu.arm("DELETE", image_path("d") + kV).status == 204);
  CHECK(emu.arm("DELETE", TestEmulator::gallery_path("rg", "gal") + kV).status == 200);
}
