#pragma once
// Gallery artifact version names: "Major.Minor.Patch", each part a decimal 0..2147483647
// (each is converted to an int32 by the service). Ordered numerically, not lexically:
// 1.10.0 > 1.9.0.

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

namespace acg {

struct VersionName {
  std::int32_t major = 0;
  std::int32_t minor = 0;
  std::int32_t patch = 0;
  auto operator<=>(const VersionName&) const = default;
};

// nullopt unless the text is exactly three dot-separated decimal parts within int32.
std::optional<VersionName> parse_version_name(std::string_view text);

}  // namespace acg
