// Image definitions (Microsoft.Compute/galleries/images): the identifier triple, OS type and
// state, Hyper-V generation, architecture, recommendations, purchase plan and features, with
// the service's refusals (../shared/reference/LIMITS.md §2, §4, §7).

#include <cctype>

#include "emulator/request_body.h"
#include "emulator/resource_type.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

// The enum properties of a definition: accepted in any casing ("specialized", "v2" as az
// sends them), stored in canonical spelling.
const EnumRule kOsType{"properties.osType", kOsTypes};
const EnumRule kOsState{"properties.osState", kOsStates};
const EnumRule kHyperV{"properties.hyperVGeneration", kHyperVGenerations};
const EnumRule kArchitecture{"properties.architecture", {"x64", "Arm64"}};
const std::pair<const char*, const EnumRule*> kEnums[] = {
    {"osType", &kOsType}, {"osState", &kOsState}, {"hyperVGeneration", &kHyperV}, {"architecture", &kArchitecture}};

// The properties that identify what a definition is: fixed once created.
const char* const kImmutable[] = {"osType", "osState", "hyperVGeneration", "architecture"};
const char* const kIdentifierParts[] = {"publisher", "offer", "sku"};

Status check_identifier_part(const json& identifier, const char* part) {
  const std::string target = std::string("properties.identifier.") + part;
  auto it = identifier.find(part);
  if (it == identifier.end() || !it->is_string() || it->get<std::string>().empty())
    return invalid_parameter(std::string("Required parameter 'identifier.") + part + "' is missing (null).", target);
  const std::string value = it->get<std::string>();
  const size_t limit = std::string_view(part) == "publisher" ? 128 : 64;
  if (value.size() > limit)
    return invalid_parameter("The length of '" + std::string(part) + "' (" + std::to_string(value.size()) +
                                 ") exceeds the maximum of " + std::to_string(limit) + " characters.",
                             target);
  bool chars_ok = value.back() != '.';
  for (char c : value)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') chars_ok = false;
  if (!chars_ok)
    return invalid_parameter("The value '" + value + "' of '" + part +
                                 "' is invalid. Allowed characters are uppercase or lowercase letters, digits, "
                                 "hyphen(-), period (.), underscore (_). Names are not allowed to end with period(.).",
                             target);
  return ok_status();
}

Status check_range(const json& recommended, const char* key) {
  auto it = recommended.find(key);
  if (it == recommended.end() || it->is_null()) return ok_status();
  const std::string path = std::string("properties.recommended.") + key;
  if (!it->is_object()) return invalid_content("Expected an object at path '" + path + "'");
  for (const char* bound : {"min", "max"})
    if (it->contains(bound) && !(*it)[bound].is_null() && !(*it)[bound].is_number_integer())
      return invalid_content("Expected an integer at path '" + path + "." + bound + "'");
  if (it->contains("min") && it->contains("max") && (*it)["min"].is_number_integer() &&
      (*it)["max"].is_number_integer() && (*it)["min"].get<long long>() > (*it)["max"].get<long long>())
    return invalid_parameter(std::string("The minimum value of ") + key +
                                 " must not be greater than the maximum value of " + key + ".",
                             path);
  return ok_status();
}

Status check_features(const json& properties) {
  auto it = properties.find("features");
  if (it == properties.end() || it->is_null()) return ok_status();
  if (!it->is_array()) return invalid_content("Expected an array at path 'properties.features'");
  for (const json& f : *it) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string())
      return invalid_content("Expected objects with a string 'name' at path 'properties.features'");
    for (const char* key : {"value", "startsAtVersion"})
      if (auto st = optional_string(f, key, "properties.features[]"); !st) return st;
  }
  return ok_status();
}

Status check_shapes(const json& p) {
  for (const char* key : {"description", "eula", "privacyStatementUri", "releaseNoteUri"})
    if (auto st = optional_string(p, key, "properties"); !st) return st;
  for (const char* key : {"identifier", "recommended", "disallowed", "purchasePlan"})
    if (auto st = optional_object(p, key, "properties"); !st) return st;
  if (auto st = optional_bool(p, "allowUpdateImage", "properties"); !st) return st;
  if (p.contains("recommended") && p["recommended"].is_object())
    for (const char* key : {"vCPUs", "memory"})
      if (auto st = check_range(p["recommended"], key); !st) return st;
  if (p.contains("disallowed") && p["disallowed"].is_object() && p["disallowed"].contains("diskTypes")) {
    const json& types = p["disallowed"]["diskTypes"];
    if (!types.is_null() && !types.is_array()) return invalid_content("Expected an array at path 'properties.disallowed.diskTypes'");
  }
  if (p.contains("purchasePlan") && p["purchasePlan"].is_object())
    for (const char* key : {"name", "publisher", "product"})
      if (auto st = optional_string(p["purchasePlan"], key, "properties.purchasePlan"); !st) return st;
  return check_features(p);
}

ArmError change_not_allowed(const std::string& property) {
  return conflict("PropertyChangeNotAllowed", "Changing property 'galleryImage.properties." + property + "' is not allowed.");
}

// The stored definition's fixed facts against what an update asks for.
Status check_fixed_properties(const json& stored, const json& wanted) {
  for (const char* key : kImmutable)
    if (wanted.contains(key) && !wanted[key].is_null() && !iequals(stored.value(key, ""), wanted[key].get<std::string>()))
      return change_not_allowed(key);
  if (wanted.contains("identifier") && wanted["identifier"].is_object())
    for (const char* part : kIdentifierParts) {
      const json& v = wanted["identifier"].value(part, json());
      if (v.is_string() && !iequals(stored["identifier"].value(part, ""), v.get<std::string>()))
        return change_not_allowed(std::string("identifier.") + part);
    }
  if (wanted.contains("features") && !wanted["features"].is_null() &&
      wanted["features"] != stored.value("features", json::array()) && !wanted.value("allowUpdateImage", false))
    return change_not_allowed("features");
  return ok_status();
}

Status check_identifier_unique(const WriteRequest& request, const json& identifier, Lookup& lookup) {
  auto siblings = lookup.children(request.parent["id"], "Microsoft.Compute/galleries/images");
  if (!siblings) return std::move(siblings).error();
  for (const json& other : *siblings) {
    if (iequals(other.value("name", ""), request.name)) continue;
    const json& id = other["properties"]["identifier"];
    bool same = true;
    for (const char* part : kIdentifierParts)
      if (!iequals(id.value(part, ""), identifier.value(part, ""))) same = false;
    if (same)
      return conflict("Conflict", "Gallery image: " + other["name"].get<std::string>() + " identified by (publisher:" +
                                      identifier.value("publisher", "") + ", offer:" + identifier.value("offer", "") +
                                      ", sku:" + identifier.value("sku", "") +
                                      ") already exists. Choose a different publisher, offer, sku combination.");
  }
  return ok_status();
}

class GalleryImageType final : public ResourceType {
 public:
  std::string type() const override { return "Microsoft.Compute/galleries/images"; }
  const ResourceType* parent() const override { return &gallery_type(); }

  Status check_name(std::string_view name) const override {
    return check_compute_name(name, 80, "galleryImageName");
  }

  Status check_body(const json& body, bool patch) const override {
    const json p = body.value("properties", json::object());
    if (p.is_null() || !p.is_object()) {
      if (patch) return ok_status();
      return invalid_parameter("Required parameter 'properties' is missing (null).", "properties");
    }
    if (auto st = check_shapes(p); !st) return st;
    for (const auto& [key, rule] : kEnums)
      if (auto st = check_enum(p, key, *rule); !st) return st;
    if (patch) return ok_status();
    for (const char* required : {"osType", "osState"})
      if (!p.contains(required) || p[required].is_null())
        return invalid_parameter(std::string("Required parameter '") + required + "' is missing (null).",
                                 std::string("properties.") + required);
    if (!p.contains("identifier") || !p["identifier"].is_object())
      return invalid_parameter("Required parameter 'identifier' is missing (null).", "properties.identifier");
    for (const char* part : kIdentifierParts)
      if (auto st = check_identifier_part(p["identifier"], part); !st) return st;
    return ok_status();
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    json in = request.body.value("properties", json::object());
    if (!in.is_object()) in = json::object();
    if (auto st = check_end_of_life_date(in, "properties.endOfLifeDate", lookup.now_ms()); !st) return std::move(st).error();
    for (const auto& [key, rule] : kEnums) canonicalise_enum(in, key, *rule);

    json out;
    if (request.stored) {
      const json& stored = (*request.stored)["properties"];
      if (auto st = check_fixed_properties(stored, in); !st) return std::move(st).error();
      // PUT replaces the updatable properties; PATCH changes only those it names.
      out = request.patch ? stored : json{{"osType", stored["osType"]}, {"osState", stored["osState"]},
                                          {"identifier", stored["identifier"]}};
      for (const char* key : kImmutable)
        if (stored.contains(key)) out[key] = stored[key];
    } else {
      if (auto st = check_identifier_unique(request, in["identifier"], lookup); !st) return std::move(st).error();
      out = {{"hyperVGeneration", "V1"}, {"architecture", "x64"}};
    }
    for (auto& [key, value] : in.items()) {
      if (key == "provisioningState" || (request.stored && key == "identifier")) continue;
      if (value.is_null()) out.erase(key);
      else out[key] = value;
    }
    return out;
  }
};

}  // namespace

const ResourceType& gallery_image_type() {
  static const GalleryImageType type;
  return type;
}

}  // namespace acg
