#pragma once
// Who exists: tenants, subscriptions (each in one tenant) and the principals that may sign in.
//
// The defaults are well known and documented in README, like Azurite's devstoreaccount1:
//   tenant        11111111-1111-1111-1111-111111111111
//   subscription  22222222-2222-2222-2222-222222222222  ("Emulator Subscription")
//   client id     33333333-3333-3333-3333-333333333333  secret "acg-emulator-secret"
// A JSON config file may replace or extend them (see README, "Identities").

#include <deque>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/arm_error.h"

namespace acg {

struct Tenant {
  std::string id;
  std::string display_name;
  std::string default_domain;
};

struct Subscription {
  std::string id;
  std::string display_name;
  std::string tenant_id;
};

struct Principal {
  std::string client_id;   // appid claim; the user name az shows
  std::string object_id;   // oid claim
  std::string secret;
  std::string tenant_id;   // home tenant
  std::string display_name;
  std::string kind = "ServicePrincipal";  // or "User": client_id is the user name, secret the password
};

inline constexpr std::string_view kDefaultTenantId = "11111111-1111-1111-1111-111111111111";
inline constexpr std::string_view kDefaultSubscriptionId = "22222222-2222-2222-2222-222222222222";
inline constexpr std::string_view kDefaultClientId = "33333333-3333-3333-3333-333333333333";
inline constexpr std::string_view kDefaultClientSecret = "acg-emulator-secret";

class IdentityDirectory {
 public:
  // The documented defaults.
  static IdentityDirectory defaults();
  // Parses a config file's JSON: {"tenants":[...],"subscriptions":[...],"principals":[...]}.
  // Entries are added to the defaults unless "replaceDefaults": true. Errors name the entry.
  static Result<IdentityDirectory> from_json(std::string_view json_text);

  const Tenant* find_tenant(std::string_view id) const;
  const Subscription* find_subscription(std::string_view id) const;
  const Principal* find_principal_by_client_id(std::string_view client_id) const;
  const Principal* find_principal_by_object_id(std::string_view object_id) const;
  const Principal& default_principal() const { return principals_.front(); }

  std::vector<const Subscription*> subscriptions_of_tenant(std::string_view tenant_id) const;

  // Additions at run time (the admin API). Ids must be new GUIDs; a subscription or a
  // principal names a known tenant. Pointers handed out stay valid: entries never move.
  Status add_tenant(const Tenant& tenant);
  Status add_subscription(const Subscription& subscription);
  Status add_principal(const Principal& principal);
  // Copies, for listing.
  std::vector<Tenant> tenants() const;
  std::vector<Subscription> subscriptions() const;
  std::vector<Principal> principals() const;

 private:
  // Readers (every request) share, additions are exclusive. Behind a pointer so that a
  // directory can still be moved while it is being built.
  std::unique_ptr<std::shared_mutex> lock_ = std::make_unique<std::shared_mutex>();
  std::deque<Tenant> tenants_;
  std::deque<Subscription> subscriptions_;
  std::deque<Principal> principals_;
};

}  // namespace acg
