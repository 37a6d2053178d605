// Storage accounts (Microsoft.Storage/storageAccounts), as far as image sources need them:
// sku and kind beside properties, the account name rule and its global uniqueness, and the
// endpoints a blob URI (a VHD to import) is built on. No data plane is emulated.

#include "emulator/clock.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/source_types.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

const std::vector<const char*> kSkus = {"Standard_LRS", "Standard_GRS",  "Standard_RAGRS", "Standard_ZRS",
                                        "Premium_LRS",  "Premium_ZRS",   "Standard_GZRS",  "Standard_RAGZRS"};
const std::vector<const char*> kKinds = {"Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"};
const EnumRule kAccessTier{"properties.accessTier", {"Hot", "Cool", "Cold", "Premium"}};
const EnumRule kTlsVersion{"properties.minimumTlsVersion", {"TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"}};

// Set by the service, never taken from a request.
const char* const kReadOnly[] = {"provisioningState", "creationTime",    "primaryEndpoints",
                                 "primaryLocation",   "statusOfPrimary", "secondaryLocation"};

// The spelling of value among values (any casing), or empty.
std::string canonical(const std::vector<const char*>& values, const json& value) {
  if (value.is_string())
    for (const char* v : values)
      if (iequals(v, value.get<std::string>())) return v;
  return {};
}

std::string requested_kind(const json& body) { return canonical(kKinds, body.value("kind", json())); }

Status check_sku(const json& body, bool patch) {
  if (auto st = optional_object(body, "sku", ""); !st) return st;
  auto sku = body.find("sku");
  if (sku == body.end() || sku->is_null()) {
    if (patch) return ok_status();
    return invalid_content("Required property 'sku' not found in JSON. Path ''");
  }
  if (auto st = optional_string(*sku, "name", "sku"); !st) return st;
  if (!sku->contains("name") || (*sku)["name"].is_null()) return invalid_content("Required property 'name' not found in JSON. Path 'sku'");
  if (!canonical(kSkus, (*sku)["name"]).empty()) return ok_status();
  std::string allowed;
  for (const char* v : kSkus) allowed += (allowed.empty() ? "" : ", ") + std::string(v);
  return bad_request("InvalidAccountType",
                     "The AccountType '" + (*sku)["name"].get<std::string>() + "' is invalid. Allowed values are " + allowed + ".",
                     "sku.name");
}

// primaryEndpoints by kind: every account has the services its kind offers.
json endpoints(const std::string& name, const std::string& kind) {
  auto url = [&](const char* service) { return "https://" + name + "." + service + ".core.windows.net/"; };
  json out = json::object();
  if (kind != "FileStorage") out["blob"] = url("blob");
  if (kind == "StorageV2" || kind == "BlobStorage" || kind == "BlockBlobStorage") out["dfs"] = url("dfs");
  if (kind == "StorageV2" || kind == "BlockBlobStorage") out["web"] = "https://" + name + ".z13.web.core.windows.net/";
  if (kind == "Storage" || kind == "StorageV2") {
    out["queue"] = url("queue");
    out["table"] = url("table");
  }
  if (kind == "Storage" || kind == "StorageV2" || kind == "FileStorage") out["file"] = url("file");
  return out;
}

// Account names are global: one per name across every subscription of the emulator.
Status check_name_available(const WriteRequest& request, Lookup& lookup) {
  auto accounts = lookup.in_scope("/subscriptions", "Microsoft.Storage/storageAccounts");
  if (!accounts) return std::move(accounts).error();
  for (const json& other : *accounts) {
    if (!iequals(other.value("name", ""), request.name)) continue;
    if (istarts_with(other.value("id", ""), "/subscriptions/" + request.subscription + "/"))
      return conflict("StorageAccountInAnotherResourceGroup",
                      "The account " + request.name + " is already in another resource group in this subscription.");
    return conflict("StorageAccountAlreadyTaken", "The storage account named " + request.name + " is already taken.");
  }
  return ok_status();
}

class StorageAccountType final : public ResourceType {
 public:
  std::string type() const override { return "Microsoft.Storage/storageAccounts"; }
  bool needs_gallery_region() const override { return false; }

  Status check_name(std::string_view name) const override {
    bool ok = name.size() >= 3 && name.size() <= 24;
    for (char c : name)
      if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9')) ok = false;
    if (ok) return ok_status();
    return bad_request("AccountNameInvalid",
                       std::string(name) +
                           " is not a valid storage account name. Storage account name must be between 3 and 24 "
                           "characters in length and use numbers and lower-case letters only.");
  }

  Status check_body(const json& body, bool patch) const override {
    if (auto st = check_sku(body, patch); !st) return st;
    if (auto st = optional_string(body, "kind", ""); !st) return st;
    if (body.contains("kind") && body["kind"].is_string() && requested_kind(body).empty())
      return invalid_content("Error converting value \"" + body["kind"].get<std::string>() + "\" to type 'Kind'. Path 'kind'");
    const json p = object_at(body, "properties");
    for (const char* key : {"supportsHttpsTrafficOnly", "allowBlobPublicAccess", "isHnsEnabled", "allowSharedKeyAccess"})
      if (auto st = optional_bool(p, key, "properties"); !st) return st;
    if (auto st = check_enum(p, "accessTier", kAccessTier); !st) return st;
    return check_enum(p, "minimumTlsVersion", kTlsVersion);
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    json in = object_at(request.body, "properties");
    for (const char* key : kReadOnly) in.erase(key);
    canonicalise_enum(in, "accessTier", kAccessTier);
    canonicalise_enum(in, "minimumTlsVersion", kTlsVersion);
    std::string kind = requested_kind(request.body);

    json out;
    if (request.stored) {
      const std::string current = request.stored->value("kind", "StorageV2");
      // The one kind conversion Storage allows: an upgrade to general-purpose v2.
      if (!kind.empty() && kind != current && !(kind == "StorageV2" && (current == "Storage" || current == "BlobStorage")))
        return bad_request("AccountPropertyCannotBeUpdated",
                           "The property 'kind' was specified in the input, but it cannot be updated.", "kind");
      if (kind.empty()) kind = current;
      out = (*request.stored)["properties"];
      for (auto& [key, value] : in.items()) {
        if (value.is_null()) out.erase(key);
        else out[key] = value;
      }
    } else {
      if (auto st = check_name_available(request, lookup); !st) return std::move(st).error();
      if (kind.empty()) kind = "StorageV2";
      const std::string sku = canonical(kSkus, request.body["sku"]["name"]);
      out = std::move(in);
      out["creationTime"] = format_arm_time(lookup.now_ms());
      if (!out.contains("supportsHttpsTrafficOnly")) out["supportsHttpsTrafficOnly"] = true;
      if (!out.contains("minimumTlsVersion")) out["minimumTlsVersion"] = "TLS1_2";
      if (!out.contains("allowBlobPublicAccess")) out["allowBlobPublicAccess"] = false;
      if (!out.contains("accessTier") && (kind == "StorageV2" || kind == "BlobStorage") && istarts_with(sku, "Standard"))
        out["accessTier"] = "Hot";
      if (!out.contains("encryption"))
        out["encryption"] = {{"keySource", "Microsoft.Storage"},
                             {"services",
                              {{"blob", {{"enabled", true}, {"keyType", "Account"}}},
                               {"file", {{"enabled", true}, {"keyType", "Account"}}}}}};
    }
    out["primaryEndpoints"] = endpoints(request.name, kind);
    out["statusOfPrimary"] = "available";
    return out;
  }

  void apply_members(json& resource, const json& body, const WriteRequest&) const override {
    if (auto sku = body.find("sku"); sku != body.end() && sku->is_object() && sku->contains("name")) {
      std::string name = canonical(kSkus, (*sku)["name"]);
      resource["sku"] = {{"name", name}, {"tier", istarts_with(name, "Premium") ? "Premium" : "Standard"}};
    }
    if (std::string kind = requested_kind(body); !kind.empty()) resource["kind"] = kind;
    if (!resource.contains("kind")) resource["kind"] = "StorageV2";
    // The region the account lives in, as the core stored it.
    resource["properties"]["primaryLocation"] = resource.value("location", "");
  }
};

}  // namespace

const ResourceType& storage_account_type() {
  static const StorageAccountType type;
  return type;
}

}  // namespace acg
