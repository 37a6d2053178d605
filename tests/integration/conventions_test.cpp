// ARM conventions every route shares: api-version, error envelopes, routing, headers, limits.

#include <catch2/catch.hpp>

#include "tests/support/test_server.h"

using namespace acg::test;

TEST_CASE("api-version is required and checked per provider", "[conventions]") {
  TestEmulator emu;
  const std::string galleries = "/subscriptions/" + kSub + "/providers/Microsoft.Compute/galleries";
  auto missing = emu.arm("GET", galleries);
  CHECK(missing.status == 400);
  CHECK(missing.error_code() == "MissingApiVersionParameter");

  auto unknown = emu.arm("GET", galleries + "?api-version=2099-01-01");
  CHECK(unknown.status == 400);
  CHECK(unknown.error_code() == "NoRegisteredProviderFound");
  CHECK(unknown.json()["error"]["message"].get<std::string>().find("2022-03-03") != std::string::npos);

  for (const char* v : {"2021-10-01", "2022-01-03", "2022-03-03", "2022-08-03", "2023-07-03", "2024-03-03", "2025-03-03", "2025-12-03"})
    CHECK(emu.arm("GET", galleries + "?api-version=" + v).status == 200);
  for (const char* v : {"2021-04-01", "2022-09-01", "2025-04-01"})
    CHECK(emu.arm("GET", "/subscriptions/" + kSub + "/resourcegroups?api-version=" + std::string(v)).status == 200);
  CHECK(emu.arm("GET", "/subscriptions/" + kSub + "/resourcegroups?api-version=2022-03-03").error_code() ==
        "InvalidApiVersionParameter");
}

TEST_CASE("routing answers unknown paths and methods with ARM errors", "[conventions]") {
  TestEmulator emu;
  auto unknown = emu.arm("GET", "/nothing/here?api-version=2022-03-03");
  CHECK(unknown.status == 404);
  CHECK(unknown.json()["error"].contains("message"));

  auto bad_type = emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/gizmos/x?api-version=2022-03-03");
  CHECK(bad_type.status == 404);
  CHECK(bad_type.error_code() == "InvalidResourceType");

  auto bad_ns = emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Contoso.Widgets/things/x?api-version=2022-03-03");
  CHECK(bad_ns.error_code() == "InvalidResourceNamespace");

  auto wrong_method = emu.arm("POST", TestEmulator::gallery_path("rg", "g") + "?api-version=2022-03-03", "{}");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.error_code() == "MethodNotAllowed");

  // A real operation this build does not serve yet says so instead of pretending.
  auto later = emu.arm("GET", TestEmulator::gallery_path("rg", "g") + "/scripts/s?api-version=2025-03-03");
  CHECK(later.status == 501);
  CHECK(later.error_code() == "NotImplemented");
}

TEST_CASE("malformed and oversized bodies are refused with ARM errors", "[conventions]") {
  TestEmulator emu;
  const std::string group = TestEmulator::group_path("rg") + "?api-version=2021-04-01";
  auto malformed = emu.arm("PUT", group, R"({"location": "westus",)");
  CHECK(malformed.status == 400);
  CHECK(malformed.error_code() == "InvalidRequestContent");
  CHECK(emu.arm("PUT", group, "").error_code() == "InvalidRequestContent");

  auto huge = emu.arm("PUT", group, R"({"location":"westus","tags":{"a":")" + std::string(5 * 1024 * 1024, 'x') + R"("}})");
  CHECK(huge.status == 413);
  CHECK(huge.json()["error"].contains("code"));
  // The server survived and nothing was written.
  CHECK(emu.arm("GET", group).status == 404);

  auto garbage = emu.http().raw("THIS IS NOT HTTP\r\n\r\n");
  CHECK(garbage.find("400") != std::string::npos);
  CHECK(emu.http().request("GET", "/_emulator/health").status == 200);
}

TEST_CASE("responses carry ARM's headers and JSON content type", "[conventions]") {
  TestEmulator emu;
  auto r = emu.arm("GET", "/subscriptions?api-version=2019-11-01", "",
                   {{"x-ms-correlation-request-id", "corr-123"}, {"x-ms-client-request-id", "client-9"}});
  CHECK(r.status == 200);
  CHECK(r.header("x-ms-correlation-request-id") == "corr-123");
  CHECK(r.header("x-ms-client-request-id") == "client-9");
  CHECK(r.header("x-ms-request-id").size() == 36);
  CHECK(r.header("Content-Type").find("application/json") == 0);
  auto other = emu.arm("GET", "/subscriptions?api-version=2019-11-01");
  CHECK(other.header("x-ms-request-id") != r.header("x-ms-request-id"));
}

TEST_CASE("subscriptions, tenants and providers", "[conventions]") {
  TestEmulator emu;
  auto sub = emu.arm("GET", "/subscriptions/" + kSub + "?api-version=2022-12-01").json();
  CHECK(sub["displayName"] == "Emulator Subscription");
  CHECK(sub["tenantId"] == kTenant);
  CHECK(sub["state"] == "Enabled");
  CHECK(emu.arm("GET", "/tenants?api-version=2022-12-01").json()["value"][0]["tenantId"] == kTenant);

  auto compute = emu.arm("GET", "/subscriptions/" + kSub + "/providers/Microsoft.Compute?api-version=2021-04-01").json();
  CHECK(compute["registrationState"] == "Registered");
  bool has_galleries = false;
  for (const auto& t : compute["resourceTypes"])
    if (t["resourceType"] == "galleries") {
      has_galleries = true;
      CHECK(!t["locations"].empty());
      CHECK(std::find(t["apiVersions"].begin(), t["apiVersions"].end(), "2022-03-03") != t["apiVersions"].end());
    }
  CHECK(has_galleries);
  auto registered = emu.arm("POST", "/subscriptions/" + kSub + "/providers/Microsoft.Compute/register?api-version=2016-02-01");
  CHECK(registered.status == 200);
  CHECK(emu.arm("GET", "/subscriptions/" + kSub + "/providers/Nope.Nothing?api-version=2021-04-01").status == 404);
}

TEST_CASE("emulator endpoints: health, CA certificate, reset", "[conventions]") {
  TestEmulator emu;
  auto health = emu.http().request("GET", "/_emulator/health").json();
  CHECK(health["status"] == "ok");
  CHECK(health.contains("version"));
  auto ca = emu.http().request("GET", "/_emulator/ca.pem");
  CHECK(ca.body.find("-----BEGIN CERTIFICATE-----") == 0);
  CHECK(ca.body == emu.app().ca_certificate_pem());

  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
  CHECK(emu.http().request("POST", "/_emulator/reset").status == 200);
  CHECK(emu.arm("GET", TestEmulator::group_path("rg") + "?api-version=2021-04-01").status == 404);
  // Identities survive a reset: the same token still works.
  CHECK(emu.arm("GET", "/subscriptions?api-version=2019-11-01").status == 200);
}
