// Galleries over HTTPS: the resource, its rules, listing and long-running operations.

#include <catch2/catch.hpp>
#include <thread>

#include "tests/support/test_server.h"

using namespace acg::test;

namespace {

const std::string kV = "?api-version=2022-03-03";

void make_group(TestEmulator& emu, const std::string& rg, const std::string& location = "westus") {
  REQUIRE(emu.arm("PUT", TestEmulator::group_path(rg) + "?api-version=2021-04-01", R"({"location":")" + location + R"("})")
              .status == 201);
}

}  // namespace

TEST_CASE("gallery create, read, update, list and delete", "[galleries]") {
  TestEmulator emu;
  make_group(emu, "rg");
  auto created = emu.arm("PUT", TestEmulator::gallery_path("rg", "myGallery") + kV,
                         R"({"location":"West US","tags":{"a":"b"},"properties":{"description":"first"}})");
  REQUIRE(created.status == 201);
  CHECK(created.header("Azure-AsyncOperation").empty());  // finished at once: answered synchronously
  auto g = created.json();
  CHECK(g["id"] == TestEmulator::gallery_path("rg", "myGallery"));
  CHECK(g["name"] == "myGallery");
  CHECK(g["type"] == "Microsoft.Compute/galleries");
  CHECK(g["location"] == "westus");
  CHECK(g["tags"]["a"] == "b");
  CHECK(g["properties"]["description"] == "first");
  CHECK(g["properties"]["identifier"]["uniqueName"] == kSub + "-MYGALLERY");
  CHECK(g["properties"]["provisioningState"] == "Succeeded");

  // az's `sig update` PUTs back what it read, with identifier {} and read-only fields stripped.
  auto updated = emu.arm("PUT", TestEmulator::gallery_path("RG", "MYGALLERY") + kV,
                         R"({"location":"westus","tags":{},"properties":{"description":"second","identifier":{}}})");
  REQUIRE(updated.status == 200);
  CHECK(updated.json()["name"] == "myGallery");
  CHECK(updated.json()["properties"]["identifier"]["uniqueName"] == kSub + "-MYGALLERY");
  CHECK(updated.json()["properties"]["description"] == "second");

  auto patched = emu.arm("PATCH", TestEmulator::gallery_path("rg", "myGallery") + kV,
                         R"({"tags":{"x":"y"},"properties":{"description":"third"}})");
  REQUIRE(patched.status == 200);
  CHECK(patched.json()["properties"]["description"] == "third");
  CHECK(patched.json()["tags"]["x"] == "y");

  auto read = emu.arm("GET", "/subscriptions/" + kSub + "/resourcegroups/rg/providers/microsoft.compute/galleries/mygallery" + kV);
  REQUIRE(read.status == 200);
  CHECK(read.json() == patched.json());

  make_group(emu, "rg2", "eastus");
  REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg2", "second") + kV, R"({"location":"eastus"})").status == 201);
  CHECK(emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/galleries" + kV).json()["value"].size() == 1);
  CHECK(emu.arm("GET", "/subscriptions/" + kSub + "/providers/Microsoft.Compute/galleries?api-version=2021-10-01")
            .json()["value"].size() == 2);

  CHECK(emu.arm("DELETE", TestEmulator::gallery_path("rg", "myGallery") + kV).status == 200);
  auto gone = emu.arm("GET", TestEmulator::gallery_path("rg", "myGallery") + kV);
  CHECK(gone.status == 404);
  CHECK(gone.error_code() == "ResourceNotFound");
  CHECK(emu.arm("DELETE", TestEmulator::gallery_path("rg", "myGallery") + kV).status == 204);
}

TEST_CASE("gallery rules and refusals", "[galleries]") {
  TestEmulator emu;
  make_group(emu, "rg");
  const std::string body = R"({"location":"westus"})";
  SECTION("names") {
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "has-dash") + kV, body).error_code() == "InvalidParameter");
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "trailing.") + kV, body).error_code() == "InvalidParameter");
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "_leading") + kV, body).status == 400);
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", std::string(81, 'a')) + kV, body).status == 400);
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", std::string(80, 'a')) + kV, body).status == 201);
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "with_under.score1") + kV, body).status == 201);
    auto bad = emu.arm("PUT", TestEmulator::gallery_path("rg", "has-dash") + kV, body).json()["error"];
    CHECK(bad["target"] == "galleryName");
  }
  SECTION("location") {
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, R"({})").error_code() == "LocationRequired");
    auto unknown = emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, R"({"location":"moonbase"})");
    CHECK(unknown.status == 400);
    CHECK(unknown.error_code() == "LocationNotAvailableForResourceType");
    CHECK(unknown.json()["error"]["message"].get<std::string>().find("Microsoft.Compute/galleries") != std::string::npos);
    // A real region that does not offer galleries (access-restricted).
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, R"({"location":"germanynorth"})").error_code() ==
          "LocationNotAvailableForResourceType");
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, body).status == 201);
    auto moved = emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, R"({"location":"eastus"})");
    CHECK(moved.status == 409);
    CHECK(moved.error_code() == "InvalidResourceLocation");
  }
  SECTION("a name is unique within the subscription") {
    make_group(emu, "other");
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "Shared") + kV, body).status == 201);
    auto clash = emu.arm("PUT", TestEmulator::gallery_path("other", "shared") + kV, body);
    CHECK(clash.status == 409);
    CHECK(clash.json()["error"]["message"].get<std::string>().find("not unique within the subscription") != std::string::npos);
  }
  SECTION("parents must exist") {
    auto r = emu.arm("PUT", TestEmulator::gallery_path("nogroup", "g") + kV, body);
    CHECK(r.status == 404);
    CHECK(r.error_code() == "ResourceGroupNotFound");
    CHECK(emu.arm("GET", TestEmulator::gallery_path("nogroup", "g") + kV).error_code() == "ResourceGroupNotFound");
    CHECK(emu.arm("PATCH", TestEmulator::gallery_path("rg", "absent") + kV, "{}").error_code() == "ResourceNotFound");
  }
  SECTION("body shapes") {
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, R"({"location":"westus","properties":{"description":5}})")
              .error_code() == "InvalidRequestContent");
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, R"({"location":"westus","properties":[]})")
              .error_code() == "InvalidRequestContent");
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV, R"([1,2])").error_code() == "InvalidRequestContent");
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "g") + kV,
                  R"({"location":"westus","properties":{"sharingProfile":{"permissions":"Everyone"}}})")
              .error_code() == "InvalidParameter");
    // Nothing was written by the refused requests.
    CHECK(emu.arm("GET", TestEmulator::gallery_path("rg", "g") + kV).status == 404);
  }
  SECTION("sharing is set at creation and changes only through the share action") {
    auto created = emu.arm("PUT", TestEmulator::gallery_path("rg", "grp") + kV,
                           R"({"location":"westus","properties":{"sharingProfile":{"permissions":"groups"}}})");
    REQUIRE(created.status == 201);
    CHECK(created.json()["properties"]["sharingProfile"]["permissions"] == "Groups");
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "grp") + kV,
                  R"({"location":"westus","properties":{"sharingProfile":{"permissions":"Groups"}}})")
              .status == 200);
    CHECK(emu.arm("PUT", TestEmulator::gallery_path("rg", "grp") + kV,
                  R"({"location":"westus","properties":{"sharingProfile":{"permissions":"Private"}}})")
              .status == 409);
  }
  SECTION("soft-delete policy round-trips") {
    auto r = emu.arm("PUT", TestEmulator::gallery_path("rg", "sd") + "?api-version=2024-03-03",
                     R"({"location":"westus","properties":{"softDeletePolicy":{"isSoftDeleteEnabled":true}}})");
    REQUIRE(r.status == 201);
    CHECK(r.json()["properties"]["softDeletePolicy"]["isSoftDeleteEnabled"] == true);
  }
}

TEST_CASE("slow gallery writes are long-running operations", "[galleries][lro]") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.operation_delay_ms = 120; }));
  make_group(emu, "rg");
  auto created = emu.arm("PUT", TestEmulator::gallery_path("rg", "slow") + kV, R"({"location":"eastus"})");
  REQUIRE(created.status == 201);
  CHECK(created.json()["properties"]["provisioningState"] == "Creating");
  CHECK(created.header("Retry-After") == "1");
  const std::string status_url = created.header("Azure-AsyncOperation");
  REQUIRE(status_url.find("/providers/Microsoft.Compute/locations/eastus/capsOperations/") != std::string::npos);
  CHECK(status_url.find("api-version=2022-03-03") != std::string::npos);

  auto first = emu.arm("GET", path_of(status_url)).json();
  CHECK(first["status"] == "InProgress");
  CHECK(first.contains("startTime"));
  auto done = poll_until_done(emu.http(), status_url, emu.token()).json();
  CHECK(done["status"] == "Succeeded");
  CHECK(done.contains("endTime"));
  CHECK(emu.arm("GET", TestEmulator::gallery_path("rg", "slow") + kV).json()["properties"]["provisioningState"] == "Succeeded");

  // Nobody polls (az --no-wait): the emulator still finishes the work on its own clock.
  auto update = emu.arm("PUT", TestEmulator::gallery_path("rg", "slow") + kV, R"({"location":"eastus","properties":{"description":"x"}})");
  REQUIRE(update.status == 200);
  CHECK(update.json()["properties"]["provisioningState"] == "Updating");
  std::string state;
  for (int i = 0; i < 100 && state != "Succeeded"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    state = emu.arm("GET", TestEmulator::gallery_path("rg", "slow") + kV).json()["properties"]["provisioningState"];
  }
  CHECK(state == "Succeeded");

  auto deleting = emu.arm("DELETE", TestEmulator::gallery_path("rg", "slow") + kV);
  REQUIRE(deleting.status == 202);
  CHECK(!deleting.header("Azure-AsyncOperation").empty());
  const std::string monitor = deleting.header("Location");
  CHECK(monitor.find("monitor=true") != std::string::npos);
  CHECK(emu.arm("GET", TestEmulator::gallery_path("rg", "slow") + kV).json()["properties"]["provisioningState"] == "Deleting");
  CHECK(poll_until_done(emu.http(), monitor, emu.token()).status == 200);
  CHECK(emu.arm("GET", TestEmulator::gallery_path("rg", "slow") + kV).status == 404);

  auto unknown_op = emu.arm("GET", "/subscriptions/" + kSub + "/providers/Microsoft.Compute/locations/eastus/capsOperations/nope" + kV);
  CHECK(unknown_op.status == 404);
}

TEST_CASE("galleries list in pages", "[galleries]") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.page_size = 2; }));
  make_group(emu, "rg");
  for (int i = 0; i < 5; ++i)
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "g" + std::to_string(i)) + kV, R"({"location":"westus"})").status == 201);
  size_t total = 0;
  std::string next = "/subscriptions/" + kSub + "/providers/Microsoft.Compute/galleries" + kV;
  for (int pages = 0; !next.empty() && pages < 10; ++pages) {
    auto page = emu.arm("GET", next).json();
    total += page["value"].size();
    next = page.contains("nextLink") ? path_of(page["nextLink"]) : "";
  }
  CHECK(total == 5);
}
