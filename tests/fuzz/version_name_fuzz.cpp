// Version names: the parser alone (a name it accepts prints back to the same numbers), and the
// API's agreement with it: a version PUT under a name the parser refuses is never created.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/http_message.h"
#include "emulator/version_name.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace acg::fuzz;

std::string printed(const acg::VersionName& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

// A name that reaches the version route as one path segment, unchanged.
bool fits_one_segment(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  return true;
}

[[noreturn]] void disagree(std::string_view name, const char* why) {
  std::fprintf(stderr, "version name '%.*s': %s\n", static_cast<int>(name.size()), name.data(), why);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view name = as_text(data, size);
  auto parsed = acg::parse_version_name(name);
  if (parsed && acg::parse_version_name(printed(*parsed)) != parsed) disagree(name, "does not survive printing");
  if (!fits_one_segment(name)) return 0;
  fresh_state();
  auto answer = call("PUT", kImage + "/versions/" + acg::api::percent_encode(name) + "?api-version=2022-03-03",
                     R"({"location":"westus2","properties":{"storageProfile":{"source":{"id":")" + kGroup +
                         R"(/providers/Microsoft.Compute/snapshots/none"}}}})");
  if (!parsed && answer.status < 300) disagree(name, "created although the parser refuses it");
  return 0;
}
