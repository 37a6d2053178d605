#pragma once
// ASCII helpers for ARM's case-insensitive names, paths and enum values.

#include <string>
#include <string_view>
#include <vector>

namespace acg {

std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
// True when s is a GUID in the 8-4-4-4-12 hex form.
bool is_guid(std::string_view s);
// The segments of an ARM id or path: "/subscriptions/S/resourceGroups/G" -> {subscriptions, S,
// resourceGroups, G} (the leading slash gives no empty segment).
std::vector<std::string> path_segments(std::string_view path);

}  // namespace acg
