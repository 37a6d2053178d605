// Identities added at run time through the admin API (/_emulator/identities,
// /_emulator/principals): validated by the directory, persisted in the store's meta table and
// replayed at start, with their role assignments made through the ordinary assignment code.

#include "emulator/emulator.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kAddedKey = "identities.added";

json principal_json(const Principal& p, bool with_secret) {
  json out = {{"kind", p.kind}, {"objectId", p.object_id}, {"tenantId", p.tenant_id}, {"displayName", p.display_name}};
  out[p.kind == "User" ? "userName" : "clientId"] = p.client_id;
  if (with_secret) out[p.kind == "User" ? "password" : "secret"] = p.secret;
  return out;
}

Result<json> array_member(const json& request, const char* key) {
  const json& v = json_member(request, key);
  if (v.is_null()) return json::array();
  if (!v.is_array()) return bad_request("InvalidRequestContent", std::string("'") + key + "' must be an array.", key);
  return v;
}

}  // namespace

Result<json> Emulator::add_identity_entries(const json& request, bool replaying) {
  if (!request.is_object()) return bad_request("InvalidRequestContent", "The body must be a JSON object.");
  const std::string home = identities_.default_principal().tenant_id;
  json added = {{"tenants", json::array()}, {"subscriptions", json::array()}, {"principals", json::array()}};
  json persisted = added;
  auto tenants = array_member(request, "tenants");
  if (!tenants) return std::move(tenants).error();
  for (const json& t : *tenants) {
    Tenant tenant{t.value("id", ids_.uuid()), t.value("displayName", "Tenant"), t.value("defaultDomain", "")};
    if (tenant.default_domain.empty()) tenant.default_domain = tenant.id + ".onmicrosoft.com";
    if (auto st = identities_.add_tenant(tenant); !st) return std::move(st).error();
    json entry = {{"id", tenant.id}, {"displayName", tenant.display_name}, {"defaultDomain", tenant.default_domain}};
    added["tenants"].push_back(entry);
    persisted["tenants"].push_back(entry);
  }
  auto subscriptions = array_member(request, "subscriptions");
  if (!subscriptions) return std::move(subscriptions).error();
  for (const json& s : *subscriptions) {
    Subscription sub{s.value("id", ids_.uuid()), s.value("displayName", "Subscription"), s.value("tenantId", home)};
    if (auto st = identities_.add_subscription(sub); !st) return std::move(st).error();
    json entry = {{"id", sub.id}, {"displayName", sub.display_name}, {"tenantId", sub.tenant_id}};
    added["subscriptions"].push_back(entry);
    persisted["subscriptions"].push_back(entry);
  }
  auto principals = array_member(request, "principals");
  if (!principals) return std::move(principals).error();
  for (const json& p : *principals) {
    const std::string kind = p.value("kind", "ServicePrincipal");
    const bool user = kind == "User";
    Principal principal{p.value(user ? "userName" : "clientId", user ? "" : ids_.uuid()), p.value("objectId", ids_.uuid()),
                        p.value(user ? "password" : "secret", ids_.uuid()), p.value("tenantId", home), "", kind};
    principal.display_name = p.value("displayName", principal.client_id);
    if (auto st = identities_.add_principal(principal); !st) return std::move(st).error();
    json entry = principal_json(principal, true);
    persisted["principals"].push_back(entry);
    // Roles: {"role": name or GUID, "scope"}, assigned as the bootstrap Owner would.
    json roles = json::array();
    for (const json& r : p.value("roles", json::array())) {
      const RoleDefinition* role = find_builtin_role(r.value("role", ""));
      if (!role) return bad_request("InvalidRequestContent", "Unknown built-in role '" + r.value("role", "") + "'.", "roles.role");
      const std::string scope = r.value("scope", "");
      json body = {{"properties",
                    {{"roleDefinitionId", "/providers/Microsoft.Authorization/roleDefinitions/" + role->name},
                     {"principalId", principal.object_id},
                     {"principalType", user ? "User" : "ServicePrincipal"}}}};
      auto assigned = put_role_assignment(scope, derived_guid(to_lower(scope + "|" + principal.object_id + "|" + role->name)),
                                          body, identities_.default_principal());
      if (!assigned) return std::move(assigned).error();
      roles.push_back(assigned->resource["id"]);
    }
    entry["roleAssignments"] = roles;
    added["principals"].push_back(entry);
  }
  if (replaying) return added;
  std::lock_guard lock(mutex_);
  auto stored = store_->get_meta(kAddedKey);
  json all = json::parse(stored.ok() && !stored.value().empty() ? stored.value() : "{}", nullptr, false);
  if (!all.is_object()) all = json::object();
  for (const char* key : {"tenants", "subscriptions", "principals"})
    for (const json& e : persisted[key]) all[key].push_back(e);
  if (auto st = store_->put_meta(kAddedKey, all.dump()); !st.ok()) return internal_error(st.error().message);
  return added;
}

Result<json> Emulator::add_identities(const json& request) { return add_identity_entries(request, false); }

// Called at construction: what the admin API added before a restart comes back (role
// assignments are resources and survived on their own).
void Emulator::replay_added_identities() {
  auto stored = store_->get_meta(kAddedKey);
  if (!stored.ok() || stored.value().empty()) return;
  json all = json::parse(stored.value(), nullptr, false);
  if (!all.is_object()) return;
  for (const json& t : all.value("tenants", json::array()))
    (void)identities_.add_tenant({t.value("id", ""), t.value("displayName", ""), t.value("defaultDomain", "")});
  for (const json& s : all.value("subscriptions", json::array()))
    (void)identities_.add_subscription({s.value("id", ""), s.value("displayName", ""), s.value("tenantId", "")});
  for (const json& p : all.value("principals", json::array())) {
    const bool user = p.value("kind", "") == "User";
    (void)identities_.add_principal({p.value(user ? "userName" : "clientId", ""), p.value("objectId", ""),
                                     p.value(user ? "password" : "secret", ""), p.value("tenantId", ""),
                                     p.value("displayName", ""), user ? "User" : "ServicePrincipal"});
  }
}

json Emulator::added_identities() {
  std::lock_guard lock(mutex_);
  auto stored = store_->get_meta(kAddedKey);
  json all = json::parse(stored.ok() && !stored.value().empty() ? stored.value() : "{}", nullptr, false);
  json out = {{"tenants", json::array()}, {"subscriptions", json::array()}, {"principals", json::array()}};
  if (!all.is_object()) return out;
  for (const char* key : {"tenants", "subscriptions", "principals"})
    if (all.contains(key) && all[key].is_array()) out[key] = all[key];
  return out;
}

json Emulator::identities_json() {
  json out = {{"tenants", json::array()}, {"subscriptions", json::array()}, {"principals", json::array()}};
  for (const Tenant& t : identities_.tenants())
    out["tenants"].push_back({{"id", t.id}, {"displayName", t.display_name}, {"defaultDomain", t.default_domain}});
  for (const Subscription& s : identities_.subscriptions())
    out["subscriptions"].push_back({{"id", s.id}, {"displayName", s.display_name}, {"tenantId", s.tenant_id}});
  for (const Principal& p : identities_.principals()) out["principals"].push_back(principal_json(p, false));
  return out;
}

// --- Network rules ----------------------------------------------------------------------------

namespace {
constexpr const char* kNetworkKey = "network.rules";
}  // namespace

void Emulator::load_network_rules() {
  auto stored = store_->get_meta(kNetworkKey);
  if (!stored.ok() || stored.value().empty()) return;
  json all = json::parse(stored.value(), nullptr, false);
  if (!all.is_object()) return;
  for (auto& [gallery, ranges] : all.items()) {
    NetworkRule rule{gallery, {}};
    for (const json& r : ranges)
      if (auto range = parse_address_range(r.get<std::string>())) rule.allowed.push_back(*range);
    network_rules_.push_back(std::move(rule));
  }
}

Status Emulator::set_network_rule(const std::string& gallery_id, const std::vector<std::string>& ranges) {
  NetworkRule rule{gallery_id, {}};
  for (const std::string& r : ranges) {
    auto range = parse_address_range(r);
    if (!range) return std::move(range).error();
    rule.allowed.push_back(*range);
  }
  std::lock_guard lock(mutex_);
  auto gallery = load(gallery_id);
  if (!gallery) return std::move(gallery).error();
  if (!*gallery || !iequals((**gallery).value("type", ""), "Microsoft.Compute/galleries"))
    return not_found("ResourceNotFound", "The gallery '" + gallery_id + "' was not found.");
  rule.gallery_id = (**gallery)["id"];
  std::erase_if(network_rules_, [&](const NetworkRule& r) { return iequals(r.gallery_id, rule.gallery_id); });
  if (!rule.allowed.empty()) network_rules_.push_back(rule);
  json all = json::object();
  for (const NetworkRule& r : network_rules_)
    for (const AddressRange& a : r.allowed) all[r.gallery_id].push_back(a.text);
  if (auto st = store_->put_meta(kNetworkKey, all.dump()); !st.ok()) return internal_error(st.error().message);
  return ok_status();
}

json Emulator::network_rules_json() {
  std::lock_guard lock(mutex_);
  json value = json::array();
  for (const NetworkRule& r : network_rules_) {
    json ranges = json::array();
    for (const AddressRange& a : r.allowed) ranges.push_back(a.text);
    value.push_back({{"galleryId", r.gallery_id}, {"allowedAddressRanges", ranges}});
  }
  return {{"value", value}};
}

Status Emulator::check_network(const std::string& scope, const std::string& address) {
  std::lock_guard lock(mutex_);
  if (network_rules_.empty()) return ok_status();
  if (auto refusal = network_refusal(network_rules_, scope, address)) return std::move(*refusal);
  return ok_status();
}

}  // namespace acg
