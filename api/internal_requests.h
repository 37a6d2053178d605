#pragma once
// Requests the emulator makes to itself on a principal's behalf — the resource writes of a
// template deployment (api/deployment_runner.cpp) and of a seed (api/seeder.cpp) — so that
// they take the same path as a client's: routing, api-version, RBAC, every rule of the type.

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "api/http_message.h"
#include "emulator/arm_error.h"
#include "emulator/identity.h"

namespace acg::api {

// How a request reaches the pipeline as `principal` (Pipeline::handle_as).
using InternalDispatch = std::function<HttpResponse(const HttpRequest& request, const Principal& principal)>;

// "{METHOD} {id}?api-version={v}" with a JSON body, as `principal`, seen as coming from
// `remote_address` (network rules apply to it), tagged with the caller's User-Agent.
HttpResponse send_internal(const InternalDispatch& dispatch, const Principal& principal, const std::string& method,
                           const std::string& id, const std::string& api_version, std::string body,
                           const std::string& user_agent, const std::string& remote_address = "127.0.0.1",
                           const std::string& correlation_id = {});

// The ARM error a failed response carries (a generic one when its body has none).
ArmError error_of(const HttpResponse& response);

// "…/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/capsOperations/{id}?…"
// (an Azure-AsyncOperation URL) -> {sub, operation id}.
std::pair<std::string, std::string> operation_of(std::string_view url);

}  // namespace acg::api
