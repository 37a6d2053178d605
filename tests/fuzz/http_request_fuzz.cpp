// The whole request path without sockets: method, target, headers and body, read from the
// input as an HTTP/1.1-like text, go through routing, authentication, api-version checks,
// the handler and the ARM envelope (App::handle). The oracle is fuzz_support's.
//
// Input: "<METHOD> <target>\n" then "Name: value\n" lines, an empty line, then the body.

#include <string>

#include "tests/fuzz/fuzz_support.h"

namespace {

using acg::api::HttpRequest;

// Cuts the next line off `text` (without its "\n"); the rest stays in `text`.
std::string_view next_line(std::string_view& text) {
  auto end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  return line;
}

HttpRequest request_from(std::string_view input) {
  HttpRequest request;
  std::string_view start = next_line(input);
  auto space = start.find(' ');
  request.method = std::string(start.substr(0, space));
  request.target = space == std::string_view::npos ? "/" : std::string(start.substr(space + 1));
  request.headers = {{"Authorization", "Bearer fuzz"}, {"Host", "localhost"}};
  for (std::string_view line = next_line(input); !line.empty(); line = next_line(input)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  request.body = std::string(input);
  request.remote_address = "127.0.0.1";
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  acg::fuzz::fresh_state();
  HttpRequest request = request_from(acg::fuzz::as_text(data, size));
  acg::fuzz::check_arm_answer(request, acg::fuzz::app().handle(request));
  return 0;
}
