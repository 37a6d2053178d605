// Transparent proxy mode (--proxy-port), the Entra ID v1 token endpoint and tenant discovery,
// driven the way Packer 1.6.6 drives them: through CONNECT to the public host names, TLS
// verified against the emulator's CA for those names.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const Headers kForm = {{"Content-Type", "application/x-www-form-urlencoded"}};
const std::string kGalleryApi = "?api-version=2019-03-01";  // what Packer 1.6.6's SDK sends

acg::api::AppOptions proxy_options(std::int64_t delay_ms = 0, const std::string& cloud = "AzureCloud") {
  return test_options([=](acg::api::AppOptions& o) {
    o.proxy_port = 0;
    o.operation_delay_ms = delay_ms;
    o.cloud = cloud;
  });
}

std::string v1_token_form(const std::string& resource, const std::string& secret = kSecret) {
  return "grant_type=client_credentials&client_id=" + kClientId + "&client_secret=" + secret +
         "&resource=" + acg::api::percent_encode(resource);
}

// The claims of a JWT, unverified (what Packer's getObjectIdFromToken reads).
json jwt_claims(const std::string& token) {
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  std::string part = token.substr(first + 1, second - first - 1);
  for (char& c : part) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (part.size() % 4) part += '=';
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int value = 0, bits = -8;
  for (char c : part) {
    if (c == '=') break;
    value = (value << 6) + static_cast<int>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((value >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return json::parse(out, nullptr, false);
}

// Plain TCP to the proxy: sends `bytes`, returns everything it answers until it closes.
std::string raw_proxy_exchange(std::uint16_t port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(send(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
  std::string out;
  char chunk[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    out.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// A local listener that would notice if the proxy forwarded anything to it.
struct Bystander {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  std::uint16_t port = 0;
  Bystander() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(fd, 4) == 0);
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~Bystander() { close(fd); }
  bool was_contacted() {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 300) > 0;
  }
};

}  // namespace

TEST_CASE("the proxy answers as login.microsoftonline.com: v1 tokens for ARM and Key Vault", "[proxy]") {
  TestEmulator emu(proxy_options());
  REQUIRE(emu.app().proxy_port() != 0);
  auto login = HttpsClient::through_proxy(emu.app().proxy_port(), "login.microsoftonline.com", emu.app().ca_certificate_pem());

  auto arm = login.request("POST", "/" + kTenant + "/oauth2/token?api-version=1.0",
                           v1_token_form("https://management.azure.com/"), kForm);
  REQUIRE(arm.status == 200);
  const json body = arm.json();
  CHECK(body["token_type"] == "Bearer");
  CHECK(body["resource"] == "https://management.azure.com/");
  // Entra's v1 endpoint writes its numbers as strings (go-autorest reads json.Number).
  for (const char* member : {"expires_in", "ext_expires_in", "expires_on", "not_before"}) {
    INFO(member);
    REQUIRE(body[member].is_string());
    CHECK(std::stoll(body[member].get<std::string>()) > 0);
  }
  const json claims = jwt_claims(body["access_token"]);
  CHECK(claims["aud"] == "https://management.azure.com/");
  CHECK(claims["tid"] == kTenant);
  CHECK(claims["appid"] == kClientId);
  CHECK(!claims.value("oid", "").empty());

  auto vault = login.request("POST", "/" + kTenant + "/oauth2/token?api-version=1.0",
                             v1_token_form("https://vault.azure.net"), kForm);
  REQUIRE(vault.status == 200);
  CHECK(jwt_claims(vault.json()["access_token"])["aud"] == "https://vault.azure.net");

  auto management = HttpsClient::through_proxy(emu.app().proxy_port(), "management.azure.com", emu.app().ca_certificate_pem());
  const std::string subscription = "/subscriptions/" + kSub + "?api-version=2016-06-01";
  auto with_arm_token = management.request("GET", subscription, "", {{"Authorization", "Bearer " + body["access_token"].get<std::string>()}});
  CHECK(with_arm_token.status == 200);
  CHECK(with_arm_token.json()["subscriptionId"] == kSub);
  // A Key Vault token is not an ARM token.
  auto with_vault_token = management.request("GET", subscription, "", {{"Authorization", "Bearer " + vault.json()["access_token"].get<std::string>()}});
  CHECK(with_vault_token.status == 401);
  CHECK(with_vault_token.error_code() == "InvalidAuthenticationToken");
}

TEST_CASE("a wrong client secret gets Entra's v1 error", "[proxy]") {
  TestEmulator emu(proxy_options());
  auto login = HttpsClient::through_proxy(emu.app().proxy_port(), "login.microsoftonline.com", emu.app().ca_certificate_pem());
  auto refused = login.request("POST", "/" + kTenant + "/oauth2/token", v1_token_form("https://management.azure.com/", "wrong"), kForm);
  CHECK(refused.status == 401);
  CHECK(refused.json()["error"] == "invalid_client");
  CHECK(refused.json()["error_description"].get<std::string>().rfind("AADSTS7000215: Invalid client secret provided.", 0) == 0);
  CHECK(refused.json()["error_codes"][0] == 7000215);
}

TEST_CASE("through the proxy, ARM's long-running operations name the public host", "[proxy]") {
  TestEmulator emu(proxy_options(/*delay_ms=*/100));
  auto login = HttpsClient::through_proxy(emu.app().proxy_port(), "login.microsoftonline.com", emu.app().ca_certificate_pem());
  const std::string token =
      login.request("POST", "/" + kTenant + "/oauth2/token", v1_token_form("https://management.azure.com/"), kForm).json()["access_token"];
  auto management = HttpsClient::through_proxy(emu.app().proxy_port(), "management.azure.com", emu.app().ca_certificate_pem());
  const Headers auth = {{"Authorization", "Bearer " + token}};

  auto group = management.request("PUT", "/subscriptions/" + kSub + "/resourcegroups/images-rg?api-version=2018-02-01",
                                  R"({"location":"westeurope"})", auth);
  REQUIRE(group.status / 100 == 2);
  auto created = management.request("PUT", TestEmulator::gallery_path("images-rg", "emugallery") + kGalleryApi,
                                    R"({"location":"westeurope"})", auth);
  REQUIRE(created.status == 201);
  const std::string status_url = created.header("Azure-AsyncOperation");
  INFO(status_url);
  CHECK(status_url.rfind("https://management.azure.com/subscriptions/" + kSub + "/providers/Microsoft.Compute/locations/", 0) == 0);
  CHECK(created.header("Retry-After") == "1");
  auto done = poll_until_done(management, status_url, token);
  CHECK(done.json()["status"] == "Succeeded");
  auto gallery = management.request("GET", TestEmulator::gallery_path("images-rg", "emugallery") + kGalleryApi, "", auth);
  CHECK(gallery.json()["properties"]["provisioningState"] == "Succeeded");
  // The same emulator, reached directly, still answers with its own address.
  auto direct = emu.arm("PUT", TestEmulator::gallery_path("images-rg", "second") + kGalleryApi, R"({"location":"westeurope"})");
  CHECK(direct.header("Azure-AsyncOperation").rfind("https://localhost:", 0) == 0);
}

TEST_CASE("tenant discovery: an unauthenticated subscription GET names the authority", "[proxy]") {
  TestEmulator emu(proxy_options());
  const std::string subscription = "/subscriptions/" + kSub + "?api-version=2016-06-01";
  auto management = HttpsClient::through_proxy(emu.app().proxy_port(), "management.azure.com", emu.app().ca_certificate_pem());
  auto via_proxy = management.request("GET", subscription);
  CHECK(via_proxy.status == 401);
  CHECK(via_proxy.error_code() == "AuthenticationFailed");
  CHECK(via_proxy.header("WWW-Authenticate") ==
        "Bearer authorization_uri=\"https://login.microsoftonline.com/" + kTenant +
            "\", error=\"invalid_token\", error_description=\"The authentication failed because of missing "
            "'Authorization' header.\"");

  auto direct = emu.http().request("GET", subscription);
  CHECK(direct.status == 401);
  CHECK(direct.header("WWW-Authenticate")
            .rfind("Bearer authorization_uri=\"https://localhost:" + std::to_string(emu.app().port()) + "/" + kTenant + "\"", 0) == 0);
  // 2016-06-01 is a subscriptions api-version ARM still serves.
  CHECK(emu.arm("GET", subscription).status == 200);
}

TEST_CASE("the proxy forwards nothing: other hosts, ports and plain HTTP get 403", "[proxy]") {
  TestEmulator emu(proxy_options());
  const std::uint16_t proxy = emu.app().proxy_port();
  Bystander bystander;

  const std::string elsewhere = "127.0.0.1:" + std::to_string(bystander.port);
  auto refused = raw_proxy_exchange(proxy, "CONNECT " + elsewhere + " HTTP/1.1\r\nHost: " + elsewhere + "\r\n\r\n");
  CHECK(refused.rfind("HTTP/1.1 403", 0) == 0);
  CHECK(refused.find("host 127.0.0.1") != std::string::npos);
  CHECK(refused.find("management.azure.com:443") != std::string::npos);
  CHECK(refused.find("forwards nothing") != std::string::npos);
  CHECK_FALSE(bystander.was_contacted());

  auto other_host = raw_proxy_exchange(proxy, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  CHECK(other_host.rfind("HTTP/1.1 403", 0) == 0);
  CHECK(other_host.find("example.com") != std::string::npos);
  auto other_port = raw_proxy_exchange(proxy, "CONNECT management.azure.com:80 HTTP/1.1\r\nHost: management.azure.com:80\r\n\r\n");
  CHECK(other_port.rfind("HTTP/1.1 403", 0) == 0);

  auto plain = raw_proxy_exchange(proxy, "GET http://" + elsewhere + "/ HTTP/1.1\r\nHost: " + elsewhere + "\r\n\r\n");
  CHECK(plain.rfind("HTTP/1.1 403", 0) == 0);
  CHECK(plain.find("host " + elsewhere) != std::string::npos);
  CHECK_FALSE(bystander.was_contacted());

  auto health = emu.http().request("GET", "/_emulator/health").json();
  CHECK(health["ports"]["proxy"] == proxy);
  CHECK(health["ports"]["https"] == emu.app().port());
  CHECK(health["ports"]["ssh"] == 0);
}

TEST_CASE("with --cloud AzureUSGovernment the proxy serves that cloud's hosts", "[proxy]") {
  TestEmulator emu(proxy_options(0, "AzureUSGovernment"));
  auto login = HttpsClient::through_proxy(emu.app().proxy_port(), "login.microsoftonline.us", emu.app().ca_certificate_pem());
  auto token = login.request("POST", "/" + kTenant + "/oauth2/token",
                             v1_token_form("https://management.usgovcloudapi.net/"), kForm);
  REQUIRE(token.status == 200);
  auto management = HttpsClient::through_proxy(emu.app().proxy_port(), "management.usgovcloudapi.net", emu.app().ca_certificate_pem());
  auto subscription = management.request("GET", "/subscriptions/" + kSub + "?api-version=2016-06-01", "",
                                          {{"Authorization", "Bearer " + token.json()["access_token"].get<std::string>()}});
  CHECK(subscription.status == 200);
  auto discovery = management.request("GET", "/subscriptions/" + kSub + "?api-version=2016-06-01");
  CHECK(discovery.header("WWW-Authenticate").find("https://login.microsoftonline.us/" + kTenant) != std::string::npos);
  auto public_arm = raw_proxy_exchange(emu.app().proxy_port(), "CONNECT management.azure.com:443 HTTP/1.1\r\n\r\n");
  CHECK(public_arm.rfind("HTTP/1.1 403", 0) == 0);
}

TEST_CASE("curl reaches management.azure.com through the proxy", "[proxy]") {
  if (std::system("command -v curl >/dev/null 2>&1") != 0) {
    WARN("curl is not installed: skipped");
    return;
  }
  TestEmulator emu(proxy_options());
  const std::string ca_file = "/tmp/acg-proxy-test-ca-" + std::to_string(emu.app().proxy_port()) + ".pem";
  std::ofstream(ca_file) << emu.app().ca_certificate_pem();
  const std::string command = "curl -sS --max-time 20 --proxy http://127.0.0.1:" + std::to_string(emu.app().proxy_port()) +
                              " --cacert " + ca_file + " -H 'Authorization: Bearer " + emu.token() +
                              "' 'https://management.azure.com/subscriptions/" + kSub + "?api-version=2016-06-01'";
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  char chunk[4096];
  while (size_t n = fread(chunk, 1, sizeof chunk, pipe)) out.append(chunk, n);
  const int rc = pclose(pipe);
  std::remove(ca_file.c_str());
  INFO(out);
  CHECK(rc == 0);
  CHECK(json::parse(out, nullptr, false).value("subscriptionId", "") == kSub);
}
