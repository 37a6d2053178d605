#include "emulator/identity.h"

#include <mutex>
#include <nlohmann/json.hpp>

#include "emulator/text.h"

namespace acg {
namespace {

using nlohmann::json;

// Object id of the default principal: stable, so role assignments in docs can name it.
constexpr std::string_view kDefaultObjectId = "44444444-4444-4444-4444-444444444444";

ArmError config_error(const std::string& where, const std::string& what) {
  return bad_request("InvalidIdentityConfig", where + ": " + what);
}

Result<std::string> required_string(const json& entry, const char* field, const std::string& where) {
  auto it = entry.find(field);
  if (it == entry.end() || !it->is_string() || it->get<std::string>().empty())
    return config_error(where, std::string("\"") + field + "\" must be a non-empty string");
  return it->get<std::string>();
}

std::string optional_string(const json& entry, const char* field, std::string fallback) {
  auto it = entry.find(field);
  return it != entry.end() && it->is_string() ? it->get<std::string>() : std::move(fallback);
}

Result<Ok> require_guid(const std::string& value, const char* field, const std::string& where) {
  if (is_guid(value)) return Ok{};
  return config_error(where, std::string("\"") + field + "\" must be a GUID, got '" + value + "'");
}

}  // namespace

IdentityDirectory IdentityDirectory::defaults() {
  IdentityDirectory d;
  d.tenants_.push_back({std::string(kDefaultTenantId), "Emulator Tenant", "emulator.onmicrosoft.com"});
  d.subscriptions_.push_back(
      {std::string(kDefaultSubscriptionId), "Emulator Subscription", std::string(kDefaultTenantId)});
  d.principals_.push_back({std::string(kDefaultClientId), std::string(kDefaultObjectId),
                           std::string(kDefaultClientSecret), std::string(kDefaultTenantId),
                           "acg-emulator bootstrap principal"});
  return d;
}

Result<IdentityDirectory> IdentityDirectory::from_json(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return config_error("identity config", "not a JSON object");
  IdentityDirectory d = doc.value("replaceDefaults", false) ? IdentityDirectory{} : defaults();

  for (const char* section : {"tenants", "subscriptions", "principals"}) {
    if (doc.contains(section) && !doc[section].is_array())
      return config_error(section, "must be an array");
  }
  const json empty = json::array();
  int i = 0;
  for (const json& t : doc.value("tenants", empty)) {
    std::string where = "tenants[" + std::to_string(i++) + "]";
    auto id = required_string(t, "id", where);
    if (!id) return std::move(id).error();
    if (auto g = require_guid(*id, "id", where); !g) return std::move(g).error();
    d.tenants_.push_back({*id, optional_string(t, "displayName", "Tenant " + *id),
                          optional_string(t, "defaultDomain", *id + ".onmicrosoft.com")});
  }
  i = 0;
  for (const json& s : doc.value("subscriptions", empty)) {
    std::string where = "subscriptions[" + std::to_string(i++) + "]";
    auto id = required_string(s, "id", where);
    if (!id) return std::move(id).error();
    if (auto g = require_guid(*id, "id", where); !g) return std::move(g).error();
    auto tenant = required_string(s, "tenantId", where);
    if (!tenant) return std::move(tenant).error();
    if (!d.find_tenant(*tenant)) return config_error(where, "unknown tenantId '" + *tenant + "'");
    d.subscriptions_.push_back({*id, optional_string(s, "displayName", "Subscription " + *id), *tenant});
  }
  i = 0;
  for (const json& p : doc.value("principals", empty)) {
    std::string where = "principals[" + std::to_string(i++) + "]";
    const bool user = p.value("kind", "ServicePrincipal") == "User";
    auto client = required_string(p, user ? "userName" : "clientId", where);
    if (!client) return std::move(client).error();
    auto secret = required_string(p, user ? "password" : "secret", where);
    if (!secret) return std::move(secret).error();
    auto tenant = required_string(p, "tenantId", where);
    if (!tenant) return std::move(tenant).error();
    if (!d.find_tenant(*tenant)) return config_error(where, "unknown tenantId '" + *tenant + "'");
    auto object = required_string(p, "objectId", where);
    if (!object) return std::move(object).error();
    d.principals_.push_back({*client, *object, *secret, *tenant, optional_string(p, "displayName", *client),
                             user ? "User" : "ServicePrincipal"});
  }
  if (d.principals_.empty() || d.subscriptions_.empty())
    return config_error("identity config", "needs at least one subscription and one principal");
  return d;
}

const Tenant* IdentityDirectory::find_tenant(std::string_view id) const {
  std::shared_lock lock(*lock_);
  for (const auto& t : tenants_)
    if (iequals(t.id, id)) return &t;
  return nullptr;
}

const Subscription* IdentityDirectory::find_subscription(std::string_view id) const {
  std::shared_lock lock(*lock_);
  for (const auto& s : subscriptions_)
    if (iequals(s.id, id)) return &s;
  return nullptr;
}

const Principal* IdentityDirectory::find_principal_by_client_id(std::string_view client_id) const {
  std::shared_lock lock(*lock_);
  for (const auto& p : principals_)
    if (iequals(p.client_id, client_id)) return &p;
  return nullptr;
}

const Principal* IdentityDirectory::find_principal_by_object_id(std::string_view object_id) const {
  std::shared_lock lock(*lock_);
  for (const auto& p : principals_)
    if (iequals(p.object_id, object_id)) return &p;
  return nullptr;
}

std::vector<const Subscription*> IdentityDirectory::subscriptions_of_tenant(
    std::string_view tenant_id) const {
  std::shared_lock lock(*lock_);
  std::vector<const Subscription*> out;
  for (const auto& s : subscriptions_)
    if (iequals(s.tenant_id, tenant_id)) out.push_back(&s);
  return out;
}

namespace {

ArmError identity_error(const std::string& message, const std::string& target) {
  return ArmError{400, "InvalidIdentity", message, target, {}};
}

}  // namespace

Status IdentityDirectory::add_tenant(const Tenant& tenant) {
  if (!is_guid(tenant.id)) return identity_error("A tenant id must be a GUID.", "id");
  if (find_tenant(tenant.id)) return ArmError{409, "Conflict", "The tenant '" + tenant.id + "' already exists.", "id", {}};
  std::unique_lock lock(*lock_);
  tenants_.push_back(tenant);
  return ok_status();
}

Status IdentityDirectory::add_subscription(const Subscription& subscription) {
  if (!is_guid(subscription.id)) return identity_error("A subscription id must be a GUID.", "id");
  if (!find_tenant(subscription.tenant_id)) return identity_error("Unknown tenantId '" + subscription.tenant_id + "'.", "tenantId");
  if (find_subscription(subscription.id))
    return ArmError{409, "Conflict", "The subscription '" + subscription.id + "' already exists.", "id", {}};
  std::unique_lock lock(*lock_);
  subscriptions_.push_back(subscription);
  return ok_status();
}

Status IdentityDirectory::add_principal(const Principal& principal) {
  if (principal.kind != "ServicePrincipal" && principal.kind != "User")
    return identity_error("kind must be 'ServicePrincipal' or 'User'.", "kind");
  if (principal.kind == "ServicePrincipal" && !is_guid(principal.client_id))
    return identity_error("A service principal's clientId must be a GUID.", "clientId");
  if (principal.kind == "User" && principal.client_id.find('@') == std::string::npos)
    return identity_error("A user's userName must look like 'name@domain'.", "userName");
  if (!is_guid(principal.object_id)) return identity_error("objectId must be a GUID.", "objectId");
  if (principal.secret.size() < 8) return identity_error("The secret (or password) needs at least 8 characters.", "secret");
  if (!find_tenant(principal.tenant_id)) return identity_error("Unknown tenantId '" + principal.tenant_id + "'.", "tenantId");
  if (find_principal_by_client_id(principal.client_id) || find_principal_by_object_id(principal.object_id))
    return ArmError{409, "Conflict", "A principal with that clientId or objectId already exists.", "clientId", {}};
  std::unique_lock lock(*lock_);
  principals_.push_back(principal);
  return ok_status();
}

std::vector<Tenant> IdentityDirectory::tenants() const {
  std::shared_lock lock(*lock_);
  return {tenants_.begin(), tenants_.end()};
}

std::vector<Subscription> IdentityDirectory::subscriptions() const {
  std::shared_lock lock(*lock_);
  return {subscriptions_.begin(), subscriptions_.end()};
}

std::vector<Principal> IdentityDirectory::principals() const {
  std::shared_lock lock(*lock_);
  return {principals_.begin(), principals_.end()};
}

}  // namespace acg
