#include "emulator/request_body.h"

#include "emulator/clock.h"
#include "emulator/region_catalog.h"

namespace acg {

using nlohmann::json;

const json& json_member(const json& object, const char* key) {
  static const json null_value;
  if (!object.is_object()) return null_value;
  auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

std::string json_text(const json& object, const char* key) {
  const json& v = json_member(object, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

ArmError invalid_content(std::string_view detail) {
  return bad_request("InvalidRequestContent",
                     "The request content was invalid and could not be deserialized: '" +
                         std::string(detail) + "'.");
}

namespace {

std::string member_path(std::string_view path, const char* key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + key;
}

Status expect(const json& parent, const char* key, std::string_view path, bool (json::*is)() const,
              const char* type_name) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null() || ((*it).*is)()) return ok_status();
  return invalid_content(std::string("Expected ") + type_name + " at path '" +
                         member_path(path, key) + "', found " + it->type_name());
}

}  // namespace

Status require_object(const json& body, std::string_view path) {
  if (body.is_object()) return ok_status();
  return invalid_content("Expected a JSON object at path '" + std::string(path) + "', found " +
                         body.type_name());
}

Status optional_string(const json& parent, const char* key, std::string_view path) {
  return expect(parent, key, path, &json::is_string, "a string");
}

Status optional_bool(const json& parent, const char* key, std::string_view path) {
  return expect(parent, key, path, &json::is_boolean, "a boolean");
}

Status optional_object(const json& parent, const char* key, std::string_view path) {
  return expect(parent, key, path, &json::is_object, "an object");
}

Status check_tags(const json& body) {
  auto it = body.find("tags");
  if (it == body.end() || it->is_null()) return ok_status();
  if (!it->is_object()) return invalid_content("Expected an object at path 'tags'");
  if (it->size() > 50)
    return bad_request("InvalidTagCount",
                       "The number of tags (" + std::to_string(it->size()) +
                           ") exceeds the maximum of 50 tags per resource.");
  for (auto& [name, value] : it->items()) {
    if (!value.is_string())
      return invalid_content("Expected a string at path 'tags." + name + "', found " +
                             value.type_name());
    if (name.empty() || name.size() > 512 || name.find_first_of("<>%&\\?/") != std::string::npos)
      return bad_request("InvalidTagNameCharacters",
                         "The tag name '" + name +
                             "' is invalid: tag names must be 1 to 512 characters and may not "
                             "contain '<', '>', '%', '&', '\\', '?' or '/'.");
    if (value.get_ref<const std::string&>().size() > 256)
      return bad_request("InvalidTagValueLength",
                         "The value of tag '" + name + "' exceeds the maximum length of 256.");
  }
  return ok_status();
}

Status check_end_of_life_date(const json& object, const std::string& path, std::int64_t now_ms) {
  auto it = object.find("endOfLifeDate");
  if (it == object.end() || it->is_null()) return ok_status();
  std::int64_t when = 0;
  if (!it->is_string() || !parse_iso8601(it->get<std::string>(), when))
    return bad_request("InvalidParameter",
                       "Could not convert string to DateTimeOffset: " +
                           (it->is_string() ? it->get<std::string>() : it->dump()) + ". Path '" + path + "'",
                       path);
  if (when <= now_ms) return bad_request("InvalidParameter", "EndOfLifeDate must be set to a future date.", path);
  return ok_status();
}

Result<const Region*> require_location(const json& body, const RegionCatalog& regions,
                                       std::string_view resource_type, bool needs_gallery_support) {
  auto it = body.find("location");
  if (it == body.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty()))
    return bad_request("LocationRequired", "The location property is required for this definition.");
  if (!it->is_string()) return invalid_content("Expected a string at path 'location'");
  const std::string location = it->get<std::string>();
  const Region* region = regions.find(location);
  if (region && (region->supports_galleries || !needs_gallery_support)) return region;

  std::string available;
  for (const Region& r : regions.regions()) {
    if (needs_gallery_support && !r.supports_galleries) continue;
    if (!available.empty()) available += ",";
    available += r.name;
  }
  if (resource_type == "resourceGroups")
    return bad_request("LocationNotAvailableForResourceGroup",
                       "The provided location '" + location +
                           "' is not available for resource group. List of available regions is '" +
                           available + "'.");
  return bad_request("LocationNotAvailableForResourceType",
                     "The provided location '" + location +
                         "' is not available for resource type '" + std::string(resource_type) +
                         "'. List of available regions for the resource type is '" + available +
                         "'.");
}

}  // namespace acg
