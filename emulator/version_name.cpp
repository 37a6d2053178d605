#include "emulator/version_name.h"

namespace acg {

namespace {

// One part: 1+ ASCII digits, value <= INT32_MAX. Leading zeros are accepted ("01" is 1), as
// the service converts each part with an integer parse.
bool parse_part(std::string_view text, std::int32_t& out) {
  if (text.empty() || text.size() > 10) return false;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > INT32_MAX) return false;
  out = static_cast<std::int32_t>(value);
  return true;
}

}  // namespace

std::optional<VersionName> parse_version_name(std::string_view text) {
  VersionName v;
  std::int32_t* parts[] = {&v.major, &v.minor, &v.patch};
  for (int i = 0; i < 3; ++i) {
    size_t dot = text.find('.');
    if ((i < 2) != (dot != std::string_view::npos)) return std::nullopt;
    if (!parse_part(text.substr(0, dot), *parts[i])) return std::nullopt;
    text = i < 2 ? text.substr(dot + 1) : std::string_view();
  }
  return v;
}

}  // namespace acg
