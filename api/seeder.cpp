// Seed files in, snapshots out: every resource through the request pipeline as the default
// principal, so a seed meets exactly the rules a client's PUTs meet.

#include "api/seeder.h"

#include "api/internal_requests.h"

#include <chrono>
#include <thread>

#include "api/router.h"
#include "emulator/access_control.h"
#include "emulator/emulator.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

constexpr int kPollMs = 10;  // how often a load looks at a long-running write it waits for
constexpr const char* kAssignmentType = "Microsoft.Authorization/roleAssignments";

ArmError invalid_seed(const std::string& message, const std::string& target = {}) {
  return ArmError{400, "InvalidSeed", message, target, {}};
}

// "resources[3] (/subscriptions/.../versions/1.0): <the resource's own message>", with the
// resource's error in details.
ArmError entry_failed(const std::string& where, const std::string& id, const ArmError& cause) {
  ArmError e = invalid_seed(where + (id.empty() ? "" : " (" + id + ")") + ": " + cause.message, where);
  e.details.push_back(cause);
  return e;
}

// The ARM type an id names: "/subscriptions/s/resourceGroups/rg" is a resource group;
// otherwise the namespace after the last "providers" and every other segment after it.
std::string type_of(const std::string& id) {
  const auto parts = split_path(id);
  size_t providers = parts.size();
  for (size_t i = 0; i < parts.size(); ++i)
    if (iequals(parts[i], "providers")) providers = i;
  if (providers == parts.size())
    return parts.size() == 4 && iequals(parts[0], "subscriptions") && iequals(parts[2], "resourceGroups")
               ? "Microsoft.Resources/resourceGroups"
               : "";
  if (providers + 2 >= parts.size()) return "";
  std::string type = parts[providers + 1];
  for (size_t i = providers + 2; i < parts.size(); i += 2) type += "/" + parts[i];
  return type;
}

// Removes a member at a JSON pointer, if present.
void erase_at(json& doc, const std::string& pointer) {
  const json::json_pointer p(pointer);
  if (!doc.contains(p)) return;
  json& parent = doc.at(p.parent_pointer());
  if (parent.is_object()) parent.erase(p.back());
}

// The read-only members of a GET a PUT refuses or ignores, by type (lower case); the core's
// own (id, name, type, provisioningState...) go for every type.
const std::vector<std::pair<std::string, std::vector<std::string>>>& read_only_members() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> members = {
      {"microsoft.compute/galleries",
       {"/properties/identifier", "/properties/sharingStatus", "/properties/sharingProfile/groups",
        "/properties/sharingProfile/communityGalleryInfo/publicNames",
        "/properties/sharingProfile/communityGalleryInfo/communityGalleryEnabled"}},
      {"microsoft.compute/galleries/images/versions",
       {"/properties/publishingProfile/publishedDate", "/properties/replicationStatus",
        "/properties/storageProfile/osDiskImage/sizeInGB", "/properties/validationsProfile"}},
      {"microsoft.compute/galleries/applications/versions",
       {"/properties/publishingProfile/publishedDate", "/properties/replicationStatus"}},
      {"microsoft.compute/snapshots",
       {"/properties/timeCreated", "/properties/uniqueId", "/properties/diskSizeBytes", "/properties/diskState"}},
      {"microsoft.compute/disks",
       {"/properties/timeCreated", "/properties/uniqueId", "/properties/diskSizeBytes", "/properties/diskState"}},
      {"microsoft.compute/virtualmachines",
       {"/properties/vmId", "/properties/timeCreated", "/properties/instanceView",
        "/properties/storageProfile/imageReference/exactVersion"}},
      {"microsoft.storage/storageaccounts",
       {"/properties/creationTime", "/properties/primaryEndpoints", "/properties/primaryLocation",
        "/properties/statusOfPrimary"}},
      {"microsoft.authorization/roledefinitions",
       {"/properties/type", "/properties/createdOn", "/properties/updatedOn", "/properties/createdBy",
        "/properties/updatedBy"}},
  };
  return members;
}

// A GET's body as a seed entry's body: what a PUT of it accepts.
json seed_body(const std::string& type, json resource) {
  for (const char* key : {"id", "name", "type", "etag", "systemData"}) resource.erase(key);
  erase_at(resource, "/properties/provisioningState");
  for (const auto& [t, pointers] : read_only_members())
    if (t == to_lower(type))
      for (const std::string& p : pointers) erase_at(resource, p);
  // Data disk sizes are read-only too.
  if (resource.contains(json::json_pointer("/properties/storageProfile/dataDiskImages")))
    for (json& disk : resource["properties"]["storageProfile"]["dataDiskImages"])
      if (disk.is_object()) disk.erase("sizeInGB");
  if (resource.contains("properties") && resource["properties"].is_object() && resource["properties"].empty())
    resource.erase("properties");
  return resource;
}

bool terminal_failure(const std::string& status) { return status == "Failed" || status == "Canceled"; }

}  // namespace

Seeder::Seeder(Emulator& emulator, Dispatch dispatch) : emulator_(emulator), dispatch_(std::move(dispatch)) {}

std::string Seeder::default_api_version(const std::string& type) {
  const std::string t = to_lower(type);
  if (t == "microsoft.resources/resourcegroups") return "2021-04-01";
  if (t.rfind("microsoft.compute/galleries", 0) == 0) return "2022-03-03";
  if (t == "microsoft.compute/snapshots" || t == "microsoft.compute/disks" || t == "microsoft.compute/diskencryptionsets")
    return "2022-03-02";
  if (t == "microsoft.compute/images" || t == "microsoft.compute/virtualmachines") return "2022-08-01";
  if (t == "microsoft.storage/storageaccounts") return "2023-01-01";
  if (t == "microsoft.authorization/policydefinitions" || t == "microsoft.authorization/policyassignments")
    return "2021-06-01";
  if (t.rfind("microsoft.authorization/", 0) == 0) return "2022-04-01";
  return "";
}

HttpResponse Seeder::send(const std::string& method, const std::string& id, const std::string& api_version,
                          std::string body) {
  return send_internal(dispatch_, emulator_.identities().default_principal(), method, id, api_version, std::move(body),
                       "acg-emulator-seed");
}

// --- Loading ----------------------------------------------------------------------------------

Result<json> Seeder::load(const json& seed) {
  std::lock_guard lock(mutex_);
  return load_locked(seed);
}

Result<json> Seeder::load_locked(const json& seed) {
  if (!seed.is_object()) return invalid_seed("A seed is a JSON object (README \"Seeding and snapshots\").");
  static const char* const kKnown[] = {"identities", "roleAssignments", "resources", "replication", "replace",
                                       "notExported", "description"};
  for (const auto& [key, value] : seed.items()) {
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) return invalid_seed("Unknown member '" + key + "' in the seed.", key);
  }
  const std::string mode = seed.value("replication", std::string("complete"));
  if (seed.contains("replication") && (!seed["replication"].is_string() || (mode != "complete" && mode != "asWritten")))
    return invalid_seed("'replication' is \"complete\" (default) or \"asWritten\".", "replication");
  for (const char* key : {"resources", "roleAssignments"})
    if (seed.contains(key) && !seed[key].is_array()) return invalid_seed(std::string("'") + key + "' must be an array.", key);
  if (seed.contains("replace") && !seed["replace"].is_boolean()) return invalid_seed("'replace' must be true or false.", "replace");

  if (seed.value("replace", false))
    if (auto st = emulator_.reset(); !st) return entry_failed("replace", "", st.error());
  json summary = {{"identities", {{"tenants", 0}, {"subscriptions", 0}, {"principals", 0}}},
                  {"resources", 0},
                  {"roleAssignments", 0},
                  {"replication", mode}};
  if (seed.contains("identities")) {
    auto added = load_identities(seed["identities"]);
    if (!added) return std::move(added).error();
    summary["identities"] = *added;
  }
  int i = 0;
  for (const json& entry : seed.value("resources", json::array())) {
    if (auto st = put_resource("resources[" + std::to_string(i) + "]", entry, mode == "complete"); !st)
      return std::move(st).error();
    summary["resources"] = ++i;
  }
  i = 0;
  for (const json& entry : seed.value("roleAssignments", json::array())) {
    if (auto st = put_role_assignment("roleAssignments[" + std::to_string(i) + "]", entry); !st)
      return std::move(st).error();
    summary["roleAssignments"] = ++i;
  }
  return summary;
}

// The identities not known yet (same tenant or subscription id, same principal client id or
// user name) are added as POST /_emulator/identities adds them; known ones stay as they are.
Result<json> Seeder::load_identities(const json& identities) {
  if (!identities.is_object()) return invalid_seed("'identities' must be an object.", "identities");
  const IdentityDirectory& directory = emulator_.identities();
  json fresh = {{"tenants", json::array()}, {"subscriptions", json::array()}, {"principals", json::array()}};
  for (const char* key : {"tenants", "subscriptions", "principals"}) {
    if (!identities.contains(key)) continue;
    if (!identities[key].is_array()) return invalid_seed(std::string("'identities.") + key + "' must be an array.",
                                                         std::string("identities.") + key);
    for (const json& e : identities[key]) {
      if (!e.is_object()) return invalid_seed(std::string("'identities.") + key + "' holds objects.", std::string("identities.") + key);
      bool known = false;
      if (std::string(key) == "tenants") known = directory.find_tenant(e.value("id", "")) != nullptr;
      if (std::string(key) == "subscriptions") known = directory.find_subscription(e.value("id", "")) != nullptr;
      if (std::string(key) == "principals") {
        const std::string login = e.value(e.value("kind", "") == "User" ? "userName" : "clientId", "");
        known = (!login.empty() && directory.find_principal_by_client_id(login)) ||
                (e.contains("objectId") && directory.find_principal_by_object_id(e.value("objectId", "")));
      }
      if (!known) fresh[key].push_back(e);
    }
  }
  json counts = {{"tenants", fresh["tenants"].size()},
                 {"subscriptions", fresh["subscriptions"].size()},
                 {"principals", fresh["principals"].size()}};
  if (fresh["tenants"].empty() && fresh["subscriptions"].empty() && fresh["principals"].empty()) return counts;
  auto added = emulator_.add_identities(fresh);
  if (!added) return entry_failed("identities", "", added.error());
  return counts;
}

Status Seeder::put_resource(const std::string& where, const json& entry, bool complete) {
  if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string())
    return invalid_seed(where + ": an entry is {\"id\", \"apiVersion\"?, \"body\"}.", where);
  const std::string id = entry["id"];
  const std::string type = type_of(id);
  if (type.empty()) return invalid_seed(where + " (" + id + "): not the id of a resource group or a resource.", where + ".id");
  std::string api_version = entry.value("apiVersion", default_api_version(type));
  if (api_version.empty())
    return invalid_seed(where + " (" + id + "): no default api-version for type '" + type + "': give \"apiVersion\".",
                        where + ".apiVersion");
  const json body = entry.value("body", json::object());
  if (!body.is_object()) return invalid_seed(where + " (" + id + "): 'body' must be an object.", where + ".body");
  HttpResponse response = send("PUT", id, api_version, body.dump());
  if (response.status >= 300) return entry_failed(where, id, error_of(response));
  if (std::string_view async = response.header("Azure-AsyncOperation"); !async.empty()) {
    if (!complete) return ok_status();  // "asWritten": its work stays running on the clock
    if (auto st = wait_for(std::string(async), true); !st) return entry_failed(where, id, st.error());
  }
  return ok_status();
}

Status Seeder::wait_for(const std::string& async_url, bool complete) {
  auto [sub, op_id] = operation_of(async_url);
  for (int round = 0; round < 1000000; ++round) {
    auto op = emulator_.get_operation(sub, op_id);
    if (!op) return std::move(op).error();
    if (op->status == "Succeeded") return ok_status();
    if (terminal_failure(op->status))
      return op->error.value_or(internal_error("The resource's long-running write ended " + op->status + "."));
    const std::int64_t now = emulator_.clock().now_ms();
    const auto due = emulator_.next_due_ms();
    if (complete && due && *due > now) {
      if (auto st = emulator_.advance_clock(*due - now); !st) return st;
    } else {
      emulator_.settle();
      std::this_thread::sleep_for(std::chrono::milliseconds(due && *due <= now ? 0 : kPollMs));
    }
  }
  return internal_error("The resource's long-running write did not end.");
}

// {"principalId" | "clientId" | "userName", "role": name or GUID, "scope", "name"?: GUID}
Status Seeder::put_role_assignment(const std::string& where, const json& entry) {
  if (!entry.is_object()) return invalid_seed(where + ": an entry is {\"clientId\", \"role\", \"scope\"}.", where);
  const IdentityDirectory& directory = emulator_.identities();
  const Principal* principal = nullptr;
  if (entry.contains("principalId")) principal = directory.find_principal_by_object_id(entry.value("principalId", ""));
  else if (entry.contains("clientId")) principal = directory.find_principal_by_client_id(entry.value("clientId", ""));
  else if (entry.contains("userName")) principal = directory.find_principal_by_client_id(entry.value("userName", ""));
  const std::string scope = entry.value("scope", "");
  if (!principal)
    return invalid_seed(where + ": no principal with that principalId, clientId or userName.", where);
  const std::string role_text = entry.value("role", "");
  const RoleDefinition* builtin = find_builtin_role(role_text);
  const std::string role = builtin ? builtin->name : role_text;  // a custom role: its GUID
  if (role.empty()) return invalid_seed(where + ": 'role' names a built-in role or a custom role's GUID.", where + ".role");
  const std::string name =
      entry.value("name", derived_guid(to_lower(scope + "|" + principal->object_id + "|" + role)));
  const std::string id = scope + "/providers/" + kAssignmentType + "/" + name;
  json body = {{"properties",
                {{"roleDefinitionId", "/providers/Microsoft.Authorization/roleDefinitions/" + role},
                 {"principalId", principal->object_id},
                 {"principalType", principal->kind == "User" ? "User" : "ServicePrincipal"}}}};
  HttpResponse response = send("PUT", id, default_api_version(kAssignmentType), body.dump());
  if (response.status >= 300) return entry_failed(where, id, error_of(response));
  return ok_status();
}

// --- Snapshots --------------------------------------------------------------------------------

Result<json> Seeder::snapshot() {
  std::lock_guard lock(mutex_);
  auto all = emulator_.all_resources();
  if (!all) return std::move(all).error();
  json resources = json::array();
  json assignments = json::array();
  json not_exported = json::array();
  for (const json& stored : *all) {
    const std::string id = stored.value("id", "");
    const std::string type = stored.value("type", "");
    // Records of template runs and their operations, not state to write.
    if (istarts_with(type, "Microsoft.Resources/deployments")) continue;
    if (iequals(type, kAssignmentType)) {
      const json& p = stored.value("properties", json::object());
      if (!p.contains("createdBy")) continue;  // made at start (the defaults, --config): a start makes them again
      const std::string role_id = p.value("roleDefinitionId", "");
      assignments.push_back({{"name", stored.value("name", "")},
                             {"principalId", p.value("principalId", "")},
                             {"role", role_id.substr(role_id.rfind('/') + 1)},
                             {"scope", p.value("scope", "")}});
      continue;
    }
    const std::string api_version = default_api_version(type);
    if (api_version.empty()) {
      not_exported.push_back({{"id", id}, {"error", "no api-version known for type '" + type + "'"}});
      continue;
    }
    HttpResponse response = send("GET", id, api_version, "");
    if (response.status != 200) {
      not_exported.push_back({{"id", id}, {"error", error_to_json(error_of(response))}});
      continue;
    }
    json view = json::parse(response.body, nullptr, false);
    resources.push_back({{"id", id}, {"apiVersion", api_version}, {"body", seed_body(type, std::move(view))}});
  }
  json out = {{"identities", emulator_.added_identities()},
              {"resources", std::move(resources)},
              {"roleAssignments", std::move(assignments)},
              {"replication", "complete"}};
  if (!not_exported.empty()) out["notExported"] = std::move(not_exported);
  return out;
}

}  // namespace acg::api
