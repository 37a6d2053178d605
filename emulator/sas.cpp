#include "emulator/sas.h"

#include <map>

#include "emulator/clock.h"
#include "emulator/text.h"

namespace acg {

namespace {

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

// The query's parameters, names lower-cased.
std::map<std::string, std::string> query_of(std::string_view uri) {
  std::map<std::string, std::string> out;
  const size_t q = uri.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = uri.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    out[to_lower(percent_decoded(pair.substr(0, eq)))] =
        eq == std::string_view::npos ? "" : percent_decoded(pair.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return out;
}

}  // namespace

std::string without_sas(std::string_view uri) { return std::string(uri.substr(0, uri.find('?'))); }

Status check_sas(std::string_view uri, std::int64_t now_ms, const std::string& target) {
  const auto query = query_of(uri);
  if (!query.count("sig")) return ok_status();
  const std::string blob = without_sas(uri);
  auto expiry = query.find("se");
  std::int64_t expires_ms = 0;
  if (expiry == query.end() || !parse_iso8601(expiry->second, expires_ms))
    return ArmError{400, "InvalidParameter",
                    "The SAS token of the source blob '" + blob + "' has no valid expiry time (se).", target, {}};
  if (expires_ms <= now_ms)
    return ArmError{400, "InvalidParameter",
                    "The SAS token of the source blob '" + blob + "' expired at " + expiry->second +
                        ". Provide a URI whose SAS is valid for the duration of the operation.",
                    target, {}};
  auto permissions = query.find("sp");
  if (permissions == query.end() || permissions->second.find('r') == std::string::npos)
    return ArmError{400, "InvalidParameter",
                    "The SAS token of the source blob '" + blob + "' does not grant read permission (sp=" +
                        (permissions == query.end() ? std::string() : permissions->second) + "): it needs 'r'.",
                    target, {}};
  return ok_status();
}

}  // namespace acg
