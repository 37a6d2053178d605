#include "tests/support/test_server.h"

#include <cstdio>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>

#include "api/http_message.h"

namespace acg::test {

api::AppOptions test_options(const std::function<void(api::AppOptions&)>& customise) {
  api::AppOptions o;
  o.port = 0;
  o.in_memory = true;
  o.id_seed = 0;
  o.replication_speed = 0;  // instant unless a test is about replication timing
  if (customise) customise(o);
  return o;
}

namespace {

std::unique_ptr<api::App> start_or_throw(api::AppOptions options) {
  auto app = api::App::start(std::move(options));
  if (!app) throw std::runtime_error("cannot start the emulator: " + app.error().message);
  return std::move(*app);
}

}  // namespace

TestEmulator::TestEmulator(api::AppOptions options)
    : app_(start_or_throw(std::move(options))), client_("127.0.0.1", app_->port(), app_->ca_certificate_pem()) {}

HttpsClient TestEmulator::new_client() const { return HttpsClient("127.0.0.1", app_->port(), app_->ca_certificate_pem()); }

std::string TestEmulator::token(const std::string& client_id, const std::string& secret, const std::string& tenant) {
  auto r = client_.request("POST", "/" + tenant + "/oauth2/v2.0/token",
                           "grant_type=client_credentials&client_id=" + client_id + "&client_secret=" +
                               api::percent_encode(secret) + "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  auto j = r.json();
  if (r.status != 200 || !j.contains("access_token")) throw std::runtime_error("token request failed: " + r.body);
  return j["access_token"];
}

ClientResponse TestEmulator::arm(const std::string& method, const std::string& target, const std::string& body,
                                 Headers headers) {
  if (token_.empty()) token_ = token();
  headers.emplace_back("Authorization", "Bearer " + token_);
  return client_.request(method, target, body, headers);
}

std::string TestEmulator::group_path(const std::string& rg) { return "/subscriptions/" + kSub + "/resourceGroups/" + rg; }

std::string TestEmulator::gallery_path(const std::string& rg, const std::string& gallery) {
  return group_path(rg) + "/providers/Microsoft.Compute/galleries/" + gallery;
}

std::string path_of(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

ClientResponse poll_until_done(HttpsClient& client, const std::string& url, const std::string& token, int max_polls) {
  ClientResponse r;
  for (int i = 0; i < max_polls; ++i) {
    r = client.request("GET", path_of(url), "", {{"Authorization", "Bearer " + token}});
    auto j = r.json();
    bool running = r.status == 202 || (j.is_object() && j.value("status", "") == "InProgress");
    if (!running) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return r;
}

std::pair<int, std::string> run_emulator_binary(const std::string& args) {
  const std::string command = std::string(ACG_EMULATOR_BINARY) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string out;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace acg::test
