// Bearer tokens: whatever the input, an emulator that checks tokens answers an ARM call with
// 401 (no input is a token it signed), and the base64url decoder keeps one encoding per value.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/jwt.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

acg::api::App& checking_app() {
  static acg::api::App* instance = [] {
    acg::api::AppOptions options;
    options.in_memory = true;
    options.port = 0;
    auto started = acg::api::App::start(options);
    if (!started) std::abort();
    return started->release();
  }();
  return *instance;
}

[[noreturn]] void accepted(const std::string& header, int status) {
  std::fprintf(stderr, "authorization '%s' answered %d, not 401\n", header.c_str(), status);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = acg::fuzz::as_text(data, size);
  if (auto decoded = acg::api::base64url_decode(input); decoded && acg::api::base64url_encode(*decoded) != input)
    std::abort();
  for (const std::string& header : {"Bearer " + std::string(input), std::string(input)}) {
    acg::api::HttpRequest request{"GET", "/subscriptions/" + acg::fuzz::kSub + "?api-version=2022-12-01",
                                  {{"Authorization", header}, {"Host", "localhost"}}, {}, "127.0.0.1"};
    auto answer = checking_app().handle(request);
    acg::fuzz::check_arm_answer(request, answer);
    if (answer.status != 401) accepted(header, answer.status);
  }
  return 0;
}
