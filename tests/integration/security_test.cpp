// Hostile input at the edges (issue "Hardening", security checks), beyond what auth_test
// already covers (expired, not-yet-valid, wrong-audience, foreign-instance and alg:none
// tokens): tampered signatures and foreign issuers, oversized requests, path traversal on
// the admin routes, and the warning when the emulator listens beyond loopback.

#include <catch2/catch.hpp>
#include <ctime>

#include "api/token_service.h"
#include "emulator/emulator.h"
#include "tests/support/test_server.h"

using namespace acg::test;

namespace {

const std::string kSubscription = "/subscriptions/" + kSub + "?api-version=2022-12-01";

ClientResponse with_bearer(TestEmulator& emu, const std::string& token) {
  return emu.http().request("GET", kSubscription, "", {{"Authorization", "Bearer " + token}});
}

// The token with one character of its signature changed (still valid base64url).
std::string tampered(std::string token) {
  char& c = token[token.rfind('.') + 5];
  c = c == 'A' ? 'B' : 'A';
  return token;
}

}  // namespace

TEST_CASE("a tampered signature or a foreign issuer is refused", "[security]") {
  TestEmulator emu;
  const std::string good = emu.token();
  REQUIRE(with_bearer(emu, good).status == 200);

  auto forged = with_bearer(emu, tampered(good));
  CHECK(forged.status == 401);
  CHECK(forged.error_code() == "InvalidAuthenticationToken");

  // Signed by this emulator's key, but issued for another tenant than the principal's own.
  acg::Principal elsewhere = emu.app().emulator().identities().default_principal();
  elsewhere.tenant_id = "99999999-9999-9999-9999-999999999999";
  auto foreign = with_bearer(emu, emu.app().tokens().mint(elsewhere, "https://management.azure.com/",
                                                          std::time(nullptr), 3600));
  CHECK(foreign.status == 401);
  CHECK(foreign.error_code() == "InvalidAuthenticationToken");
}

TEST_CASE("oversized headers and bodies are refused and the server keeps serving", "[security]") {
  TestEmulator emu;
  const std::string huge_header = "GET /_emulator/health HTTP/1.1\r\nHost: localhost\r\nX-Big: " +
                                  std::string(128 * 1024, 'a') + "\r\n\r\n";
  CHECK(emu.http().raw(huge_header).rfind("HTTP/1.1 413", 0) == 0);

  const std::string huge_body = std::string(5 * 1024 * 1024, ' ');
  auto refused = emu.new_client().request("PUT", TestEmulator::group_path("big") + "?api-version=2021-04-01", huge_body,
                                          {{"Authorization", "Bearer " + emu.token()}, {"Content-Type", "application/json"}});
  CHECK(refused.status == 413);

  CHECK(emu.new_client().request("GET", "/_emulator/health").status == 200);
}

TEST_CASE("admin routes refuse path traversal", "[security]") {
  TestEmulator emu;
  for (const char* path : {"/_emulator/../../etc/passwd", "/_emulator/ca.pem/../../../etc/passwd",
                           "/_emulator/%2e%2e/%2e%2e/etc/passwd", "/_emulator/..%2f..%2fetc%2fpasswd",
                           "/_emulator/ca.pem%00.txt", "/_emulator/ui/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                           "/..%2f..%2f..%2fetc%2fpasswd"}) {
    INFO(path);
    auto r = emu.http().request("GET", path);
    CHECK((r.status == 404 || r.status == 400));
    CHECK(r.body.find("root:") == std::string::npos);
    CHECK(r.body.find("BEGIN CERTIFICATE") == std::string::npos);
  }
}

TEST_CASE("listening beyond loopback prints a warning; loopback does not", "[security]") {
  // A certificate that cannot be read makes the start fail right after the warning, so no
  // emulator is left running and nothing is exposed.
  const std::string failing_start = " --port 0 --in-memory --cert /nonexistent/cert.pem --key /nonexistent/key.pem";
  auto [wide_code, wide_out] = run_emulator_binary("--host 0.0.0.0" + failing_start);
  CHECK(wide_code != 0);
  CHECK(wide_out.find("warning: listening on 0.0.0.0") != std::string::npos);

  auto [loop_code, loop_out] = run_emulator_binary(failing_start);
  CHECK(loop_code != 0);
  CHECK(loop_out.find("warning") == std::string::npos);
}

TEST_CASE("fuzz regressions: what the fuzz targets found stays fixed", "[security][fuzz]") {
  TestEmulator emu;
  auto answer = [&](const std::string& method, const std::string& target, const std::string& body = {}) {
    acg::api::HttpRequest request{method, target, {{"Authorization", "Bearer " + emu.token()}, {"Host", "localhost"},
                                                   {"Content-Type", "application/json"}}, body, "127.0.0.1"};
    return emu.app().handle(request);
  };
  // resource_id: a path with bytes that are not UTF-8 was quoted in the 404's message, and
  // writing that message as JSON threw: a 500 instead of the 404.
  auto invalid_utf8 = answer("GET", "/subscriptions/" + kSub +
                                        "/resourceGroups/rg/providers/Microsoft.Compute/gallerie\x9d/g?api-version=2022-03-03");
  CHECK(invalid_utf8.status == 404);
  CHECK(nlohmann::json::parse(invalid_utf8.body)["error"]["code"].is_string());
}
