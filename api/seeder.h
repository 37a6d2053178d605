#pragma once
// Seed files and snapshots (README "Seeding and snapshots"): a JSON document of identities,
// resources and role assignments, loaded through the request pipeline as the default
// principal (every resource is a PUT that meets the same rules, RBAC and errors as a
// client's), and the emulator's whole state exported in the same shape.
//
//   load():  identities (those already known are kept) -> resources[i], in order: PUT,
//            then, unless "replication": "asWritten", its long-running work finished by
//            moving the clock to when it falls due -> roleAssignments[i]: PUT
//            The first refusal stops the load: 400 InvalidSeed "resources[i] (id): ..."
//            with the resource's own error in details; what was written before stays.
//   snapshot(): the identities added at run time, every resource GET through the pipeline
//            with the read-only members a PUT refuses or ignores taken out, the role
//            assignments made through the API.

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "api/http_message.h"
#include "api/internal_requests.h"
#include "emulator/arm_error.h"
#include "emulator/identity.h"

namespace acg {
class Emulator;
}

namespace acg::api {

class Seeder {
 public:
  // How a request reaches the pipeline as `principal` (Pipeline::handle_as).
  using Dispatch = InternalDispatch;

  Seeder(Emulator& emulator, Dispatch dispatch);

  // Loads a seed document. A summary: {"identities": {"tenants", "subscriptions",
  // "principals"}, "resources": N, "roleAssignments": N, "replication": mode}.
  Result<nlohmann::json> load(const nlohmann::json& seed);
  // The state as a seed document; resources the default principal may not read are listed
  // in "notExported" ({"id", "error"}), which load() ignores.
  Result<nlohmann::json> snapshot();

  // The api-version a seed entry of this resource type uses when it names none.
  static std::string default_api_version(const std::string& type);

 private:
  Result<nlohmann::json> load_locked(const nlohmann::json& seed);
  Result<nlohmann::json> load_identities(const nlohmann::json& identities);
  Status put_resource(const std::string& where, const nlohmann::json& entry, bool complete);
  Status put_role_assignment(const std::string& where, const nlohmann::json& entry);
  // Waits for a long-running write's operation; with `complete`, moves the clock to each
  // next due time until it ends.
  Status wait_for(const std::string& async_url, bool complete);
  HttpResponse send(const std::string& method, const std::string& id, const std::string& api_version,
                    std::string body);

  Emulator& emulator_;
  Dispatch dispatch_;
  std::mutex mutex_;  // one load or snapshot at a time
};

}  // namespace acg::api
