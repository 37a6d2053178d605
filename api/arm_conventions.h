#pragma once
// ARM's conventions, applied the same way to every route: the error envelope, api-version
// validation, JSON responses, list paging and long-running-operation headers.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/http_message.h"
#include "api/router.h"
#include "emulator/arm_error.h"
#include "emulator/emulator.h"

namespace acg::api {

// The api-versions a family accepts, oldest first.
const std::vector<std::string>& supported_api_versions(ApiFamily family);
// Missing -> 400 MissingApiVersionParameter; unknown -> 400 with the supported list.
Status check_api_version(ApiFamily family, const RequestContext& ctx, const std::string& resource_type);

// {"error":{...}} with the error's status. The only place an ArmError becomes HTTP.
HttpResponse error_response(const ArmError& error);
HttpResponse json_response(int status, const nlohmann::json& body);
HttpResponse empty_response(int status);

// {"value":[...],"nextLink"?}: nextLink is absolute, keeps the request's other query
// parameters (api-version among them) and adds $skiptoken.
HttpResponse list_response(const RequestContext& ctx, const ListPage& page);

// The status URL of an operation: <base>/subscriptions/{sub}/providers/Microsoft.Compute/
// locations/{loc}/capsOperations/{id}?api-version=<the request's>
std::string operation_status_url(const RequestContext& ctx, const OperationRef& op, bool monitor);

// PUT/PATCH: 201 (created) or 200 with the resource; when work is still running, the body
// says Creating/Updating and Azure-AsyncOperation + Retry-After point at the operation.
HttpResponse write_response(const RequestContext& ctx, const WriteOutcome& outcome);
// DELETE: 200 done, 204 nothing to delete, 202 + Azure-AsyncOperation + Location while running.
HttpResponse delete_response(const RequestContext& ctx, const DeleteOutcome& outcome);

// POST action with a result body (the share action): 200 with it when done; 202 with it plus
// Azure-AsyncOperation, Location (monitor) and Retry-After while the operation runs (az then
// prints what the Location URL answers at the end: the same result).
HttpResponse action_response(const RequestContext& ctx, const nlohmann::json& result,
                             const std::optional<OperationRef>& operation);

// GET of an operation's Location (monitor) URL: 202 with Location (this same URL) and
// Retry-After while the operation runs; then its error, its result (a POST action's), or 200.
HttpResponse monitor_response(const RequestContext& ctx, const OperationStatus& op, const std::string& self_url);

// {"value": [...]} with every item, unpaged (role and policy assignments and definitions).
HttpResponse items_response(const Result<std::vector<nlohmann::json>>& items);
// A DELETE that answers 200 with what was removed, 204 when nothing was there.
HttpResponse removal_response(const Result<std::optional<nlohmann::json>>& outcome);

// Parses the body as a JSON object; malformed JSON -> 400 InvalidRequestContent.
// An empty body parses as {} when allow_empty.
Result<nlohmann::json> parse_json_body(const HttpRequest& request, bool allow_empty);

}  // namespace acg::api
