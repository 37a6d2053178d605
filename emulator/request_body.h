#pragma once
// Checks on ARM request bodies shared by every resource type: JSON shape, the fields ARM
// itself owns (location, tags) and the InvalidRequestContent errors ARM gives for them.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "emulator/arm_error.h"

namespace acg {

class RegionCatalog;
struct Region;

// object[key] when object is an object holding key, else a null value (never throws).
const nlohmann::json& json_member(const nlohmann::json& object, const char* key);
// object[key] when it is a string, else empty.
std::string json_text(const nlohmann::json& object, const char* key);

// "The request content was invalid and could not be deserialized: ..." (400).
ArmError invalid_content(std::string_view detail);

// The body must be a JSON object.
Status require_object(const nlohmann::json& body, std::string_view path);
// An optional member, when present, must be a string / bool / object / array.
Status optional_string(const nlohmann::json& parent, const char* key, std::string_view path);
Status optional_bool(const nlohmann::json& parent, const char* key, std::string_view path);
Status optional_object(const nlohmann::json& parent, const char* key, std::string_view path);

// ARM tag rules: an object of at most 50 string values; names 1-512, values 0-256 characters;
// names may not contain < > % & \ ? /.
Status check_tags(const nlohmann::json& body);

// object.endOfLifeDate, when present, must be an ISO 8601 date in the future of now_ms
// ("Could not convert string to DateTimeOffset", "EndOfLifeDate must be set to a future date.").
Status check_end_of_life_date(const nlohmann::json& object, const std::string& path, std::int64_t now_ms);

// "location" is required and must name a region of the catalog that offers resource_type.
// On success returns the region.
Result<const Region*> require_location(const nlohmann::json& body, const RegionCatalog& regions,
                                       std::string_view resource_type,
                                       bool needs_gallery_support);

}  // namespace acg
