#include "emulator/source_rules.h"

#include <cctype>
#include <cstdio>

#include "emulator/request_body.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;


namespace {

std::string member_path(std::string_view path, const char* key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + key;
}

// "properties.storageProfile.osDisk.osType" -> "storageProfile.osDisk.osType", as Compute
// names parameters in its messages.
std::string parameter_name(const std::string& path) {
  constexpr std::string_view prefix = "properties.";
  return path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
}

}  // namespace

ArmError invalid_parameter(const std::string& message, const std::string& target) {
  return bad_request("InvalidParameter", message, target);
}

ArmError missing_parameter(const std::string& path) {
  return invalid_parameter("Required parameter '" + parameter_name(path) + "' is missing (null).", path);
}

Status check_compute_name(std::string_view name, size_t max_length, const char* parameter) {
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  bool ok = !name.empty() && name.size() <= max_length && alnum(name.front()) &&
            (alnum(name.back()) || name.back() == '_');
  for (char c : name)
    if (!alnum(c) && c != '_' && c != '-' && c != '.') ok = false;
  if (ok) return ok_status();
  return invalid_parameter("The entity name '" + std::string(name) +
                               "' is invalid according to its validation rule: ^[^_\\W][\\w-._]{0," +
                               std::to_string(max_length - 1) + "}(?<![-.])$.",
                           parameter);
}

Result<std::string> canonical_enum(const EnumRule& rule, const json& value) {
  if (value.is_string())
    for (const char* v : rule.values)
      if (iequals(v, value.get<std::string>())) return std::string(v);
  std::string allowed;
  for (const char* v : rule.values) allowed += (allowed.empty() ? "'" : ", '") + std::string(v) + "'";
  return invalid_parameter("The value '" + (value.is_string() ? value.get<std::string>() : value.dump()) +
                               "' of parameter '" + parameter_name(rule.path) + "' is not valid. Allowed values are " +
                               allowed + ".",
                           rule.path);
}

Status check_enum(const json& parent, const char* key, const EnumRule& rule) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return ok_status();
  if (auto v = canonical_enum(rule, *it); !v) return std::move(v).error();
  return ok_status();
}

void canonicalise_enum(json& parent, const char* key, const EnumRule& rule) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return;
  if (auto v = canonical_enum(rule, *it)) *it = *v;
}

Status optional_integer(const json& parent, const char* key, std::string_view path, std::int64_t minimum) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return ok_status();
  if (!it->is_number_integer())
    return invalid_content("Expected an integer at path '" + member_path(path, key) + "', found " + it->type_name());
  if (it->get<std::int64_t>() < minimum)
    return invalid_parameter("The value " + it->dump() + " of parameter '" + parameter_name(member_path(path, key)) +
                                 "' is not valid. It must be at least " + std::to_string(minimum) + ".",
                             member_path(path, key));
  return ok_status();
}

Status optional_array(const json& parent, const char* key, std::string_view path) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null() || it->is_array()) return ok_status();
  return invalid_content("Expected an array at path '" + member_path(path, key) + "', found " + it->type_name());
}

Status optional_reference(const json& parent, const char* key, std::string_view path) {
  if (auto st = optional_object(parent, key, path); !st) return st;
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return ok_status();
  return optional_string(*it, "id", member_path(path, key));
}

json object_at(const json& parent, const char* key) {
  if (!parent.is_object()) return json::object();
  auto it = parent.find(key);
  return it != parent.end() && it->is_object() ? *it : json::object();
}

std::string reference_id(const json& parent, const char* key) {
  json ref = object_at(parent, key);
  auto id = ref.find("id");
  return id != ref.end() && id->is_string() ? id->get<std::string>() : std::string();
}

Result<json> load_reference(Lookup& lookup, const std::string& id, const std::vector<std::string>& types,
                            const std::string& path) {
  auto refused = [&] {
    return bad_request("NotFound",
                       "The resource '" + id + "' given in '" + parameter_name(path) + "' was not found" +
                           (types.size() == 1 ? " (expected a resource of type '" + types[0] + "')." : "."),
                       path);
  };
  // Ids are absolute ("/subscriptions/..."); some examples omit the leading slash.
  std::string absolute = !id.empty() && id.front() != '/' ? "/" + id : id;
  if (!istarts_with(absolute, "/subscriptions/")) return refused();
  auto found = lookup.load(absolute);
  if (!found) return std::move(found).error();
  if (!*found) return refused();
  for (const std::string& type : types)
    if (iequals((**found).value("type", ""), type)) return std::move(**found);
  return refused();
}

std::string derived_guid(std::string_view seed) {
  // Two FNV-1a 64-bit hashes with different offsets give the 128 bits.
  auto fnv = [&](std::uint64_t hash) {
    for (unsigned char c : seed) hash = (hash ^ c) * 0x100000001b3ULL;
    return hash;
  };
  std::uint64_t hi = fnv(0xcbf29ce484222325ULL);
  std::uint64_t lo = fnv(0x84222325cbf29ce4ULL);
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return out;
}

}  // namespace acg
