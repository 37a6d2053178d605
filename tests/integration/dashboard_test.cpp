// The dashboard's routes (/_emulator/ui): the embedded assets and their headers, refused names
// and paths, and the state snapshot the page polls, with a version replicating on a virtual clock.

#include <catch2/catch.hpp>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kV = "?api-version=2022-03-03";

std::string gallery() { return TestEmulator::gallery_path("rg", "gal"); }

}  // namespace

TEST_CASE("dashboard assets are embedded, typed, uncached and locked to this origin") {
  TestEmulator emu;
  struct Expect {
    const char* path;
    const char* type;
    const char* contains;
  };
  for (const Expect& e : {Expect{"/_emulator/ui", "text/html", "<main"}, Expect{"/_emulator/ui/index.html", "text/html", "<main"},
                          Expect{"/_emulator/ui/app.js", "text/javascript", "/_emulator/ui/state"},
                          Expect{"/_emulator/ui/app.css", "text/css", "--ink"}}) {
    INFO(e.path);
    auto r = emu.http().request("GET", e.path);
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type").rfind(e.type, 0) == 0);
    CHECK(r.header("Cache-Control") == "no-store");
    CHECK(r.header("Content-Security-Policy").find("default-src 'self'") != std::string::npos);
    CHECK(r.body.find(e.contains) != std::string::npos);
  }
}

TEST_CASE("dashboard refuses unknown assets and path traversal") {
  TestEmulator emu;
  for (const char* path : {"/_emulator/ui/nope.js", "/_emulator/ui/../health", "/_emulator/ui/%2e%2e/health",
                           "/_emulator/ui/..%2fapp.js", "/_emulator/ui/%2E%2E", "/_emulator/ui/app.js/x",
                           "/_emulator/ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd"}) {
    INFO(path);
    auto r = emu.http().request("GET", path);
    CHECK(r.status == 404);
    CHECK(r.body.find("\"status\":\"ok\"") == std::string::npos);
  }
  CHECK(emu.http().request("POST", "/_emulator/ui/state").status == 405);
}

TEST_CASE("dashboard state shows the tree, replication per region, operations and quotas") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) {
    o.virtual_clock = true;
    o.replication_speed = 1;
  }));
  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
  REQUIRE(emu.arm("PUT", gallery() + kV, R"({"location":"westus"})").status == 201);
  REQUIRE(emu.arm("PUT", gallery() + "/images/linux" + kV,
                  R"({"location":"westus","properties":{"osType":"Linux","osState":"Generalized",
                      "identifier":{"publisher":"p","offer":"o","sku":"s"}}})")
              .status == 201);
  auto snap = emu.arm("PUT", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/snapshots/os?api-version=2022-03-02",
                      R"({"location":"westus","properties":{"creationData":{"createOption":"Empty"},"diskSizeGB":30}})");
  REQUIRE(snap.status == 200);
  json version = {{"location", "westus"},
                  {"properties",
                   {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snap.json()["id"]}}}}}}},
                    {"publishingProfile",
                     {{"targetRegions", json::array({{{"name", "westus"}}, {{"name", "eastus"}, {"regionalReplicaCount", 2}}})}}}}}};
  REQUIRE(emu.arm("PUT", gallery() + "/images/linux/versions/1.0.0" + kV, version.dump()).status == 201);
  REQUIRE(emu.http().request("POST", "/_emulator/clock/advance?seconds=300").status == 200);

  auto r = emu.http().request("GET", "/_emulator/ui/state");
  REQUIRE(r.status == 200);
  CHECK(r.header("Cache-Control") == "no-store");
  json state = r.json();
  CHECK(state["clock"]["mode"] == "virtual");
  CHECK(state["totals"]["versions"] == 1);
  CHECK(state["totals"]["replicating"] == 2);

  json sub;
  for (const json& s : state["subscriptions"])
    if (s["subscriptionId"] == kSub) sub = s;
  REQUIRE(sub["resourceGroups"].size() == 1);
  const json& g = sub["resourceGroups"][0]["galleries"][0];
  CHECK(g["name"] == "gal");
  CHECK(g["sharing"]["permissions"] == "Private");
  const json& d = g["definitions"][0];
  CHECK(d["publisher"] == "p");
  CHECK(d["osState"] == "Generalized");
  const json& v = d["versions"][0];
  CHECK(v["name"] == "1.0.0");
  CHECK(v["provisioningState"] == "Creating");
  REQUIRE(v["regions"].size() == 2);
  CHECK(v["regions"][0]["region"] == "West US");
  CHECK(v["regions"][1]["region"] == "East US");
  CHECK(v["regions"][1]["replicaCount"] == 2);
  for (const json& region : v["regions"]) {
    CHECK(region["state"] == "Replicating");
    CHECK(region["progress"].get<int>() > 0);
    CHECK(region["progress"].get<int>() < 100);
  }
  REQUIRE(!state["operations"].empty());
  CHECK(state["operations"][0]["status"] == "InProgress");
  REQUIRE(state["quotas"].size() == 1);
  CHECK(state["quotas"][0]["region"] == "West US");
  CHECK(state["quotas"][0]["galleries"] == json{{"used", 1}, {"limit", 100}});
  CHECK(state["quotas"][0]["definitions"] == json{{"used", 1}, {"limit", 1000}});
  CHECK(state["quotas"][0]["versions"] == json{{"used", 1}, {"limit", 10000}});
  // The limits shown are the subscription's own: an admin override replaces the default.
  REQUIRE(emu.http().request("PUT", "/_emulator/quotas/" + kSub, R"({"galleries": 5})").status == 200);
  CHECK(emu.http().request("GET", "/_emulator/ui/state").json()["quotas"][0]["galleries"] ==
        json{{"used", 1}, {"limit", 5}});

  // To the end: both regions Completed at 100, the version and its operation Succeeded.
  REQUIRE(emu.http().request("POST", "/_emulator/clock/advance?seconds=7200").status == 200);
  state = emu.http().request("GET", "/_emulator/ui/state").json();
  for (const json& s : state["subscriptions"])
    if (s["subscriptionId"] == kSub) sub = s;
  const json& done = sub["resourceGroups"][0]["galleries"][0]["definitions"][0]["versions"][0];
  CHECK(done["provisioningState"] == "Succeeded");
  for (const json& region : done["regions"]) {
    CHECK(region["state"] == "Completed");
    CHECK(region["progress"] == 100);
  }
  CHECK(state["operations"][0]["status"] == "Succeeded");
  CHECK(state["totals"]["replicating"] == 0);
}
