// Resource groups over HTTPS: create, read, HEAD, tag, list with paging, delete (sync and as
// a long-running operation) and their refusals.

#include <catch2/catch.hpp>

#include "tests/support/test_server.h"

using namespace acg::test;

namespace {
const std::string kV = "?api-version=2021-04-01";
}

TEST_CASE("resource group lifecycle", "[resource-groups]") {
  TestEmulator emu;
  auto created = emu.arm("PUT", "/subscriptions/" + kSub + "/resourcegroups/MyGroup" + kV, R"({"location":"westus","tags":{"env":"ci"}})");
  REQUIRE(created.status == 201);
  auto body = created.json();
  CHECK(body["id"] == "/subscriptions/" + kSub + "/resourceGroups/MyGroup");
  CHECK(body["type"] == "Microsoft.Resources/resourceGroups");
  CHECK(body["location"] == "westus");
  CHECK(body["tags"]["env"] == "ci");
  CHECK(body["properties"]["provisioningState"] == "Succeeded");

  // Same group, other casing: an update that keeps the created casing.
  auto again = emu.arm("PUT", "/subscriptions/" + kSub + "/resourceGroups/mygroup" + kV, R"({"location":"West US"})");
  CHECK(again.status == 200);
  CHECK(again.json()["name"] == "MyGroup");

  CHECK(emu.arm("HEAD", "/subscriptions/" + kSub + "/resourcegroups/MYGROUP" + kV).status == 204);
  CHECK(emu.arm("HEAD", "/subscriptions/" + kSub + "/resourcegroups/absent" + kV).status == 404);

  auto patched = emu.arm("PATCH", TestEmulator::group_path("MyGroup") + kV, R"({"tags":{"team":"images"}})");
  REQUIRE(patched.status == 200);
  CHECK(patched.json()["tags"] == nlohmann::json{{"team", "images"}});
  CHECK(emu.arm("GET", TestEmulator::group_path("MyGroup") + kV).json()["tags"]["team"] == "images");

  CHECK(emu.arm("DELETE", TestEmulator::group_path("MyGroup") + kV).status == 200);
  auto gone = emu.arm("GET", TestEmulator::group_path("MyGroup") + kV);
  CHECK(gone.status == 404);
  CHECK(gone.error_code() == "ResourceGroupNotFound");
  CHECK(emu.arm("DELETE", TestEmulator::group_path("MyGroup") + kV).status == 404);
}

TEST_CASE("resource group refusals", "[resource-groups]") {
  TestEmulator emu;
  auto bad_location = emu.arm("PUT", TestEmulator::group_path("g") + kV, R"({"location":"atlantis"})");
  CHECK(bad_location.status == 400);
  CHECK(bad_location.error_code() == "LocationNotAvailableForResourceGroup");
  CHECK(bad_location.json()["error"]["message"].get<std::string>().find("westus") != std::string::npos);

  CHECK(emu.arm("PUT", TestEmulator::group_path("g") + kV, R"({})").error_code() == "LocationRequired");
  CHECK(emu.arm("PUT", TestEmulator::group_path("ends.with.dot.") + kV, R"({"location":"westus"})").error_code() ==
        "InvalidResourceGroupName");
  CHECK(emu.arm("PUT", TestEmulator::group_path(std::string(91, 'a')) + kV, R"({"location":"westus"})").status == 400);
  CHECK(emu.arm("PUT", TestEmulator::group_path("g") + kV, R"({"location":"westus","tags":"x"})").error_code() ==
        "InvalidRequestContent");
  CHECK(emu.arm("PUT", TestEmulator::group_path("g") + kV, R"({"location":5})").error_code() == "InvalidRequestContent");

  REQUIRE(emu.arm("PUT", TestEmulator::group_path("g") + kV, R"({"location":"westus"})").status == 201);
  auto moved = emu.arm("PUT", TestEmulator::group_path("g") + kV, R"({"location":"eastus"})");
  CHECK(moved.status == 409);
  CHECK(moved.error_code() == "InvalidResourceGroupLocation");

  auto missing_sub = emu.arm("GET", "/subscriptions/99999999-9999-9999-9999-999999999999/resourcegroups/g" + kV);
  CHECK(missing_sub.status == 404);
  CHECK(missing_sub.error_code() == "SubscriptionNotFound");
}

TEST_CASE("resource groups list in pages with an absolute nextLink", "[resource-groups]") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.page_size = 2; }));
  for (int i = 0; i < 5; ++i)
    REQUIRE(emu.arm("PUT", TestEmulator::group_path("g" + std::to_string(i)) + kV, R"({"location":"westus"})").status == 201);
  std::vector<std::string> names;
  std::string next = "/subscriptions/" + kSub + "/resourcegroups" + kV;
  int pages = 0;
  while (!next.empty() && pages < 10) {
    auto page = emu.arm("GET", next).json();
    REQUIRE(page["value"].is_array());
    for (const auto& g : page["value"]) names.push_back(g["name"]);
    next.clear();
    if (page.contains("nextLink")) {
      std::string link = page["nextLink"];
      CHECK(link.rfind("https://localhost:", 0) == 0);
      CHECK(link.find("api-version=2021-04-01") != std::string::npos);
      next = path_of(link);
    }
    ++pages;
  }
  CHECK(pages == 3);
  CHECK(names == std::vector<std::string>{"g0", "g1", "g2", "g3", "g4"});
  CHECK(emu.arm("GET", "/subscriptions/" + kSub + "/resourcegroups" + kV + "&$skiptoken=abc").error_code() == "InvalidSkipToken");
}

TEST_CASE("deleting a resource group deletes what it holds, as a long-running operation when slow", "[resource-groups][lro]") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.operation_delay_ms = 150; }));
  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + kV, R"({"location":"westus"})").status == 201);
  auto gallery = emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + "?api-version=2022-03-03", R"({"location":"westus"})");
  REQUIRE(gallery.status == 201);
  poll_until_done(emu.http(), gallery.header("Azure-AsyncOperation"), emu.token());

  auto deleting = emu.arm("DELETE", TestEmulator::group_path("rg") + kV);
  REQUIRE(deleting.status == 202);
  CHECK(deleting.header("Retry-After") == "1");
  const std::string location = deleting.header("Location");
  REQUIRE(location.find("/operationresults/") != std::string::npos);
  CHECK(emu.arm("GET", TestEmulator::group_path("rg") + kV).json()["properties"]["provisioningState"] == "Deleting");
  CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "other") + "?api-version=2022-03-03", R"({"location":"westus"})")
            .error_code() == "ResourceGroupBeingDeleted");
  CHECK(emu.arm("GET", path_of(location)).status == 202);

  auto done = poll_until_done(emu.http(), location, emu.token());
  CHECK(done.status == 200);
  CHECK(emu.arm("GET", TestEmulator::group_path("rg") + kV).status == 404);
  CHECK(emu.arm("GET", TestEmulator::gallery_path("rg", "gal") + "?api-version=2022-03-03").status == 404);
  auto all = emu.arm("GET", "/subscriptions/" + kSub + "/providers/Microsoft.Compute/galleries?api-version=2022-03-03");
  CHECK(all.json()["value"].empty());
}
