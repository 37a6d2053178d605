// The token service and the authentication stage, driven over HTTPS.

#include <catch2/catch.hpp>
#include <fstream>

#include "api/token_service.h"
#include "emulator/emulator.h"
#include "emulator/identity.h"
#include "tests/support/test_server.h"

using namespace acg::test;

namespace {

const std::string kSubsUrl = "/subscriptions?api-version=2019-11-01";

ClientResponse get_with_token(TestEmulator& emu, const std::string& target, const std::string& token) {
  return emu.http().request("GET", target, "", {{"Authorization", "Bearer " + token}});
}

std::string token_request(const std::string& client_id, const std::string& secret) {
  return "grant_type=client_credentials&client_id=" + client_id + "&client_secret=" + secret +
         "&scope=https%3A%2F%2Fmanagement.core.windows.net%2F%2F.default";
}

const acg::api::HeaderList kForm = {{"Content-Type", "application/x-www-form-urlencoded"}};

}  // namespace

TEST_CASE("token endpoints issue tokens to known principals and refuse the rest", "[auth]") {
  TestEmulator emu;
  for (const std::string& path : std::vector<std::string>{"/adfs/oauth2/token", "/" + kTenant + "/oauth2/v2.0/token", "/" + kTenant + "/oauth2/token"}) {
    auto ok = emu.http().request("POST", path, token_request(kClientId, kSecret), kForm);
    REQUIRE(ok.status == 200);
    auto j = ok.json();
    CHECK(j["token_type"] == "Bearer");
    // v1 (/oauth2/token) writes its numbers as strings, as Entra's v1 endpoint does.
    const bool v1 = path.find("/oauth2/token") != std::string::npos && path.find("adfs") == std::string::npos;
    CHECK((v1 ? std::stoi(j["expires_in"].get<std::string>()) : j["expires_in"].get<int>()) > 3000);
    CHECK(get_with_token(emu, kSubsUrl, j["access_token"]).status == 200);
  }
  auto wrong_secret = emu.http().request("POST", "/adfs/oauth2/token", token_request(kClientId, "nope"), kForm);
  CHECK(wrong_secret.status == 401);
  CHECK(wrong_secret.json()["error"] == "invalid_client");
  CHECK(wrong_secret.json()["error_description"].get<std::string>().find("AADSTS7000215") == 0);

  auto unknown = emu.http().request("POST", "/adfs/oauth2/token", token_request("99999999-0000-0000-0000-000000000000", kSecret), kForm);
  CHECK(unknown.status == 401);
  CHECK(unknown.json()["error"] == "invalid_client");
  CHECK(unknown.json()["error_description"].get<std::string>().find("AADSTS700016") == 0);

  auto wrong_grant = emu.http().request("POST", "/adfs/oauth2/token", "grant_type=authorization_code&client_id=x", kForm);
  CHECK(wrong_grant.status == 400);
  CHECK(wrong_grant.json()["error"] == "unsupported_grant_type");
}

TEST_CASE("discovery documents carry what MSAL and az need", "[auth]") {
  TestEmulator emu;
  auto adfs = emu.http().request("GET", "/adfs/.well-known/openid-configuration").json();
  for (const char* field : {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"})
    CHECK(adfs.contains(field));
  CHECK(adfs["token_endpoint"].get<std::string>().find("/adfs/oauth2/token") != std::string::npos);

  auto v2 = emu.http().request("GET", "/" + kTenant + "/v2.0/.well-known/openid-configuration").json();
  CHECK(v2["token_endpoint"].get<std::string>().find("/" + kTenant + "/oauth2/v2.0/token") != std::string::npos);
  auto keys = emu.http().request("GET", path_of(v2["jwks_uri"])).json();
  REQUIRE(keys["keys"].size() == 1);
  CHECK(keys["keys"][0]["kty"] == "EC");

  auto legacy = emu.http().request("GET", "/metadata/endpoints?api-version=2015-01-01").json();
  CHECK(legacy["authentication"]["loginEndpoint"].get<std::string>().ends_with("/adfs"));
  // az's ARM_CLOUD_METADATA_URL (default api-version 2019-05-01) reads an array of clouds.
  auto clouds = emu.http().request("GET", "/metadata/endpoints?api-version=2019-05-01").json();
  REQUIRE(clouds.is_array());
  CHECK(clouds[0]["authentication"]["loginEndpoint"].get<std::string>().ends_with("/adfs"));
  CHECK(clouds[0].contains("suffixes"));
  // az with a trailing slash in --endpoint-resource-manager asks for //metadata/endpoints.
  CHECK(emu.http().request("GET", "//metadata/endpoints?api-version=2015-01-01").status == 200);
}

// What go-azure-sdk's environments.FromEndpoint (Terraform's azurerm metadata_host) does with
// the 2022-09-01 document: one object; name, resourceManager and microsoftGraphResourceId
// required; tenant "common" and identity provider "AAD" or it is taken for Azure Stack (which
// azurerm refuses); a token from "{loginEndpoint}/{tenant}/oauth2/v2.0/token" for the scope
// "{resourceManager}/.default", then ARM at resourceManager.
TEST_CASE("the 2022-09-01 metadata document is one cloud that points back at the emulator", "[auth][terraform]") {
  TestEmulator emu;
  // The document names the host the client asked for (the test client says "localhost:<port>").
  const std::string bound = emu.app().base_url();
  const std::string base = "https://localhost:" + bound.substr(bound.rfind(':') + 1);
  auto response = emu.http().request("GET", "/metadata/endpoints?api-version=2022-09-01");
  REQUIRE(response.status == 200);
  const nlohmann::json cloud = response.json();
  INFO(cloud.dump());
  REQUIRE(cloud.is_object());
  CHECK(cloud["name"] == "AzEmu");
  CHECK(cloud["resourceManager"] == base + "/");
  CHECK(cloud["microsoftGraphResourceId"] == base + "/");
  for (const char* key :
       {"portal", "graph", "graphAudience", "gallery", "media", "batch", "sqlManagement", "activeDirectoryDataLake",
        "appInsightsResourceId", "appInsightsTelemetryChannelResourceId", "attestationResourceId",
        "synapseAnalyticsResourceId", "logAnalyticsResourceId", "ossrDbmsResourceId", "vmImageAliasDoc"}) {
    INFO(key);
    REQUIRE(cloud[key].is_string());
    CHECK(cloud[key].get<std::string>().starts_with(base + "/"));
  }
  const nlohmann::json& authentication = cloud["authentication"];
  CHECK(authentication["loginEndpoint"] == base);
  CHECK(authentication["tenant"] == "common");
  CHECK(authentication["identityProvider"] == "AAD");
  REQUIRE(authentication["audiences"].is_array());
  CHECK_FALSE(authentication["audiences"].empty());
  for (const char* key :
       {"storage", "keyVaultDns", "mhsmDns", "acrLoginServer", "sqlServerHostname", "mysqlServerEndpoint",
        "postgresqlServerEndpoint", "mariadbServerEndpoint", "synapseAnalytics", "attestationEndpoint",
        "azureFrontDoorEndpointSuffix", "storageSyncEndpointSuffix", "azureDataLakeStoreFileSystem",
        "azureDataLakeAnalyticsCatalogAndJob"}) {
    INFO(key);
    CHECK(cloud["suffixes"][key].is_string());
  }

  // The client-secret flow go-azure-sdk builds from it.
  const std::string token_url =
      authentication["loginEndpoint"].get<std::string>() + "/" + kTenant + "/oauth2/v2.0/token";
  const std::string scope = cloud["resourceManager"].get<std::string>() + "/.default";
  std::string form = "grant_type=client_credentials&client_id=" + kClientId + "&client_secret=" + kSecret + "&scope=";
  for (char c : scope) form += c == ':' ? std::string("%3A") : c == '/' ? std::string("%2F") : std::string(1, c);
  auto issued = emu.http().request("POST", path_of(token_url), form, kForm);
  REQUIRE(issued.status == 200);
  const std::string token = issued.json()["access_token"];
  auto subscriptions = get_with_token(emu, kSubsUrl, token);
  CHECK(subscriptions.status == 200);
  CHECK(subscriptions.json()["value"][0]["subscriptionId"] == kSub);
}

TEST_CASE("ARM refuses requests without a valid token of this emulator", "[auth]") {
  TestEmulator emu;
  auto none = emu.http().request("GET", kSubsUrl);
  CHECK(none.status == 401);
  CHECK(none.error_code() == "AuthenticationFailed");
  CHECK(none.header("WWW-Authenticate").find("authorization_uri=") != std::string::npos);

  CHECK(get_with_token(emu, kSubsUrl, "not-a-jwt").error_code() == "InvalidAuthenticationToken");
  CHECK(emu.http().request("GET", kSubsUrl, "", {{"Authorization", "Basic abc"}}).status == 401);

  const acg::Principal& me = emu.app().emulator().identities().default_principal();
  const std::int64_t now = std::time(nullptr);
  auto expired = get_with_token(emu, kSubsUrl, emu.app().tokens().mint(me, "https://management.azure.com/", now - 7200, 3600));
  CHECK(expired.status == 401);
  CHECK(expired.error_code() == "ExpiredAuthenticationToken");

  auto not_yet = get_with_token(emu, kSubsUrl, emu.app().tokens().mint(me, "https://management.azure.com/", now + 7200, 3600));
  CHECK(not_yet.error_code() == "InvalidAuthenticationToken");

  auto vault = get_with_token(emu, kSubsUrl, emu.app().tokens().mint(me, "https://vault.azure.net", now, 3600));
  CHECK(vault.error_code() == "InvalidAuthenticationToken");
  CHECK(vault.json()["error"]["message"].get<std::string>().find("audience") != std::string::npos);

  // A token another emulator instance signed has a key this one does not know.
  TestEmulator other;
  CHECK(get_with_token(emu, kSubsUrl, other.token()).error_code() == "InvalidAuthenticationToken");

  // alg "none": header {"alg":"none"}, payload with valid claims, empty signature.
  std::string unsigned_token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyJ9.";
  CHECK(get_with_token(emu, kSubsUrl, unsigned_token).error_code() == "InvalidAuthenticationToken");
}

TEST_CASE("--accept-any-token takes any bearer as the default principal", "[auth]") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.accept_any_token = true; }));
  auto r = get_with_token(emu, kSubsUrl, "static-token-from-a-test");
  REQUIRE(r.status == 200);
  CHECK(r.json()["value"][0]["subscriptionId"] == kSub);
  CHECK(emu.http().request("GET", kSubsUrl).status == 401);  // a token is still required
}

TEST_CASE("principals see only their own tenant's subscriptions", "[auth]") {
  const std::string config = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/acg-identities-test.json";
  std::ofstream(config) << R"({
    "tenants": [{"id": "aaaaaaaa-0000-0000-0000-000000000001", "displayName": "Other"}],
    "subscriptions": [{"id": "bbbbbbbb-0000-0000-0000-000000000001", "tenantId": "aaaaaaaa-0000-0000-0000-000000000001"}],
    "principals": [{"clientId": "cccccccc-0000-0000-0000-000000000001", "objectId": "dddddddd-0000-0000-0000-000000000001",
                    "secret": "other-secret", "tenantId": "aaaaaaaa-0000-0000-0000-000000000001"}],
    "roleAssignments": [{"clientId": "cccccccc-0000-0000-0000-000000000001", "role": "Reader",
                         "scope": "/subscriptions/bbbbbbbb-0000-0000-0000-000000000001"}]})";
  TestEmulator emu(test_options([&](acg::api::AppOptions& o) { o.config_file = config; }));
  std::string other = emu.token("cccccccc-0000-0000-0000-000000000001", "other-secret", "aaaaaaaa-0000-0000-0000-000000000001");

  auto subs = get_with_token(emu, kSubsUrl, other).json()["value"];
  REQUIRE(subs.size() == 1);
  CHECK(subs[0]["subscriptionId"] == "bbbbbbbb-0000-0000-0000-000000000001");

  // The other tenant's principal is refused on the default subscription, as ARM refuses a
  // token from the wrong tenant.
  auto refused = get_with_token(emu, "/subscriptions/" + kSub + "/resourcegroups?api-version=2021-04-01", other);
  CHECK(refused.status == 401);
  CHECK(refused.error_code() == "InvalidAuthenticationTokenTenant");

  // Its tenant must match the token endpoint's tenant.
  auto wrong_tenant = emu.http().request("POST", "/" + kTenant + "/oauth2/v2.0/token",
                                         token_request("cccccccc-0000-0000-0000-000000000001", "other-secret"), kForm);
  CHECK(wrong_tenant.status == 401);
  std::remove(config.c_str());
}
