#include "tests/fuzz/fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "emulator/emulator.h"

namespace acg::fuzz {

namespace {

[[noreturn]] void finding(const api::HttpRequest& request, const api::HttpResponse& response, const char* why) {
  std::fprintf(stderr, "fuzz finding: %s\n  %s %s\n  -> %d %s\n", why, request.method.c_str(), request.target.c_str(),
               response.status, response.body.substr(0, 2000).c_str());
  std::abort();
}

// ARM answers errors on its own paths with the envelope; identity endpoints (OAuth errors),
// the dashboard and HEAD (no body) answer differently, and that is right.
bool expects_arm_envelope(const api::HttpRequest& request, const api::HttpResponse& response) {
  if (response.status < 400 || request.method == "HEAD") return false;
  std::string_view target = request.target;
  return target.starts_with("/subscriptions/") || target.starts_with("/providers/");
}

bool has_arm_envelope(const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_object()) return false;
  const auto& error = doc["error"];
  return error.contains("code") && error["code"].is_string() && error.contains("message") &&
         error["message"].is_string();
}

void write_fixtures() {
  const std::string gallery_api = "?api-version=2022-03-03";
  call("PUT", kGroup + "?api-version=2021-04-01", R"({"location":"westus2"})");
  call("PUT", kGallery + gallery_api, R"({"location":"westus2"})");
  call("PUT", kImage + gallery_api,
       R"({"location":"westus2","properties":{"osType":"Linux","osState":"Generalized",)"
       R"("identifier":{"publisher":"p","offer":"o","sku":"s"}}})");
  call("PUT", kApplication + gallery_api, R"({"location":"westus2","properties":{"supportedOSType":"Linux"}})");
}

}  // namespace

api::App& app() {
  static api::App* instance = [] {
    api::AppOptions options;
    options.in_memory = true;
    options.port = 0;
    options.accept_any_token = true;
    options.page_size = 5;  // lists page early, so continuation tokens are reachable
    auto started = api::App::start(options);
    if (!started) {
      std::fprintf(stderr, "cannot start the emulator: %s\n", started.error().message.c_str());
      std::abort();
    }
    return started->release();  // lives for the process, as libFuzzer never returns
  }();
  return *instance;
}

void fresh_state(int reset_every) {
  static int calls = 0;
  if (calls++ % reset_every != 0) return;
  if (auto st = app().emulator().reset(); !st.ok()) std::abort();
  write_fixtures();
}

api::HttpResponse call(const std::string& method, const std::string& target, const std::string& body) {
  api::HttpRequest request{method, target, {{"Authorization", "Bearer fuzz"}, {"Content-Type", "application/json"},
                                            {"Host", "localhost"}}, body, "127.0.0.1"};
  api::HttpResponse response = app().handle(request);
  check_arm_answer(request, response);
  return response;
}

void check_arm_answer(const api::HttpRequest& request, const api::HttpResponse& response) {
  if (response.status < 100 || response.status > 599) finding(request, response, "status out of range");
  if (response.status >= 500) finding(request, response, "server error");
  if (expects_arm_envelope(request, response) && !has_arm_envelope(response.body))
    finding(request, response, "error without the ARM envelope");
}

}  // namespace acg::fuzz
