#include "api/arm_conventions.h"

#include <algorithm>

#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

const std::vector<std::string>& supported_api_versions(ApiFamily family) {
  // Microsoft.Compute GalleryRP: every stable version real clients send (az 2.45: 2021-10-01,
  // 2022-01-03, 2022-03-03; Python SDK 29: 2022-03-03; JS SDK 24: 2025-03-03) and the ones between.
  static const std::vector<std::string> gallery = {
      "2018-06-01", "2019-03-01", "2019-07-01", "2019-12-01", "2020-09-30", "2021-07-01",
      "2021-10-01", "2022-01-03", "2022-03-03", "2022-08-03", "2023-07-03", "2024-03-03",
      "2025-03-03", "2025-12-03"};
  // Microsoft.Resources resource groups and deployments: az 2.45 2021-04-01, Python 2022-09-01,
  // JS 2025-04-01 (@azure/arm-resources 7) and 2026-06-01 (@azure/arm-resourcesdeployments 2).
  static const std::vector<std::string> resources = {
      "2016-02-01", "2016-09-01", "2017-05-10", "2018-02-01", "2018-05-01", "2019-05-01", "2019-05-10", "2019-07-01", "2019-08-01", "2019-10-01", "2020-06-01",
      "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01", "2022-09-01", "2023-07-01",
      "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01", "2026-06-01"};
  static const std::vector<std::string> subscriptions = {
      "2014-04-01", "2015-01-01", "2016-06-01", "2018-06-01", "2019-06-01", "2019-11-01",
      "2020-01-01", "2021-01-01", "2022-01-01", "2022-09-01", "2022-12-01", "2023-07-01",
      "2024-03-01", "2024-11-01", "2025-03-01", "2025-04-01"};
  // Microsoft.Compute CRP (images, virtualMachines): az 2.45 2022-08-01/2022-11-01, Python SDK 29
  // 2022-08-01, JS SDK 24 2026-03-01.
  // Packer 1.6: 2017-03-30 (VMs inside its template), 2018-04-01 (images, VM actions).
  static const std::vector<std::string> compute = {
      "2017-03-30", "2017-12-01", "2018-04-01", "2018-06-01", "2018-10-01", "2019-03-01", "2019-07-01",
      "2019-12-01", "2020-06-01", "2020-12-01", "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01", "2022-03-01", "2022-08-01", "2022-11-01",
      "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01",
      "2026-03-01"};
  // Microsoft.Compute DiskRP (disks, snapshots): az 2.45 2022-03-02 / 2022-07-02.
  // Packer 1.6 deletes disks at 2018-04-01 (build_resource_group_name cleanup).
  static const std::vector<std::string> disks = {"2017-03-30", "2018-04-01", "2018-06-01", "2018-09-30",
                                                 "2019-03-01", "2019-07-01", "2019-11-01", "2020-05-01",
                                                 "2020-09-30", "2020-12-01", "2021-04-01", "2021-08-01", "2021-12-01", "2022-03-02",
                                                 "2022-07-02", "2023-01-02", "2023-04-02", "2023-10-02",
                                                 "2024-03-02", "2025-01-02"};
  static const std::vector<std::string> storage = {"2021-04-01", "2021-06-01", "2021-08-01", "2021-09-01",
                                                   "2022-05-01", "2022-09-01", "2023-01-01", "2023-04-01",
                                                   "2023-05-01", "2024-01-01", "2025-01-01"};
  static const std::vector<std::string> authorization = {
      "2015-06-01",         "2015-07-01",         "2017-10-01-preview", "2018-01-01-preview", "2018-07-01",
      "2018-09-01-preview", "2020-03-01-preview", "2020-04-01-preview", "2020-08-01-preview", "2020-10-01",
      "2020-10-01-preview", "2021-04-01-preview", "2022-01-01-preview", "2022-04-01",         "2022-05-01-preview"};
  // Microsoft.MarketplaceOrdering: az 2.45 and the Python SDK send 2021-01-01.
  static const std::vector<std::string> marketplace = {"2015-06-01", "2021-01-01"};
  // Microsoft.Authorization policy: az 2.45 sends 2021-06-01.
  static const std::vector<std::string> policy = {
      "2015-10-01-preview", "2016-04-01", "2016-12-01", "2017-06-01-preview", "2018-03-01", "2018-05-01",
      "2019-01-01",         "2019-06-01", "2019-09-01", "2020-03-01",         "2020-09-01", "2021-06-01",
      "2022-06-01",         "2023-04-01", "2024-04-01", "2024-05-01",         "2025-01-01", "2025-03-01"};
  // Microsoft.VirtualMachineImages: az 2.45 sends 2022-02-14.
  static const std::vector<std::string> image_builder = {"2020-02-14", "2021-10-01", "2022-02-14",
                                                         "2022-07-01", "2023-07-01", "2024-02-01"};
  // Microsoft.ManagedIdentity: az 2.45 sends 2022-01-31-preview (latest profile).
  static const std::vector<std::string> managed_identity = {"2015-08-31-preview", "2018-11-30", "2021-09-30-preview",
                                                            "2022-01-31-preview", "2023-01-31", "2023-07-31-preview",
                                                            "2024-11-30"};
  // Microsoft.Network: 2017-04-01 (inside Packer 1.6's deployment template), 2018-01-01
  // (Packer's GETs and deletes), 2019-04-01 (its NSG), az 2.45 2022-01-01, and the stable
  // versions between and since.
  static const std::vector<std::string> network = {
      "2015-06-15", "2016-03-30", "2016-06-01", "2016-09-01", "2016-12-01", "2017-03-01", "2017-04-01",
      "2017-06-01", "2017-08-01", "2017-09-01", "2017-10-01", "2017-11-01", "2018-01-01", "2018-02-01",
      "2018-04-01", "2018-06-01", "2018-07-01", "2018-08-01", "2018-10-01", "2018-11-01", "2018-12-01",
      "2019-02-01", "2019-04-01", "2019-06-01", "2019-07-01", "2019-08-01", "2019-09-01", "2019-11-01",
      "2019-12-01", "2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01",
      "2020-11-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01", "2022-01-01", "2022-05-01",
      "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01",
      "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01"};
  static const std::vector<std::string> none;
  switch (family) {
    case ApiFamily::gallery: return gallery;
    case ApiFamily::resources: return resources;
    case ApiFamily::subscriptions: return subscriptions;
    case ApiFamily::compute: return compute;
    case ApiFamily::disks: return disks;
    case ApiFamily::storage: return storage;
    case ApiFamily::authorization: return authorization;
    case ApiFamily::marketplace: return marketplace;
    case ApiFamily::policy: return policy;
    case ApiFamily::image_builder: return image_builder;
    case ApiFamily::managed_identity: return managed_identity;
    case ApiFamily::network: return network;
    default: return none;
  }
}

namespace {

std::string joined(const std::vector<std::string>& versions, const char* separator) {
  std::string out;
  for (const auto& v : versions) out += (out.empty() ? "" : separator) + v;
  return out;
}

}  // namespace

Status check_api_version(ApiFamily family, const RequestContext& ctx, const std::string& resource_type) {
  if (family == ApiFamily::none) return ok_status();
  const std::string* version = ctx.target.query_value("api-version");
  if (!version || version->empty())
    return bad_request("MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all requests.");
  if (family == ApiFamily::any) return ok_status();
  const auto& versions = supported_api_versions(family);
  if (std::find(versions.begin(), versions.end(), *version) != versions.end()) return ok_status();
  // A next page asked for with another Compute api-version: the Python SDK's multi-API client
  // rewrites nextLink's api-version to whichever operation group it touched last.
  if (family == ApiFamily::gallery && ctx.target.query_value("$skiptoken"))
    for (ApiFamily other : {ApiFamily::compute, ApiFamily::disks}) {
      const auto& more = supported_api_versions(other);
      if (std::find(more.begin(), more.end(), *version) != more.end()) return ok_status();
    }
  if (family == ApiFamily::gallery || family == ApiFamily::compute || family == ApiFamily::disks ||
      family == ApiFamily::storage || family == ApiFamily::network)
    return bad_request("NoRegisteredProviderFound",
                       "No registered resource provider found for location 'global' and API version '" +
                           *version + "' for type '" + resource_type +
                           "'. The supported api-versions are '" + joined(versions, ", ") + "'.");
  return bad_request("InvalidApiVersionParameter",
                     "The api-version '" + *version + "' is invalid. The supported versions are '" +
                         joined(versions, ",") + "'.");
}

HttpResponse items_response(const Result<std::vector<json>>& items) {
  if (!items) return error_response(items.error());
  json body = {{"value", json::array()}};
  for (const json& item : *items) body["value"].push_back(item);
  return json_response(200, body);
}

HttpResponse removal_response(const Result<std::optional<json>>& outcome) {
  if (!outcome) return error_response(outcome.error());
  if (!*outcome) return empty_response(204);
  return json_response(200, **outcome);
}

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  // A message may quote the request's path, which can hold any bytes: answer them as U+FFFD
  // rather than throw (which was a 500; found by tests/fuzz resource_id).
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.set_header("Content-Type", "application/json; charset=utf-8");
  return r;
}

HttpResponse empty_response(int status) {
  HttpResponse r;
  r.status = status;
  return r;
}

HttpResponse error_response(const ArmError& error) {
  return json_response(error.status, json{{"error", error_to_json(error)}});
}

HttpResponse list_response(const RequestContext& ctx, const ListPage& page) {
  json body = {{"value", json::array()}};
  for (const auto& item : page.items)
    if (!ctx.visible || ctx.visible(item)) body["value"].push_back(item);
  if (page.continuation) {
    std::string link = ctx.base_url + ctx.target.path + "?";
    for (const auto& [k, v] : ctx.target.query)
      if (!iequals(k, "$skiptoken")) link += percent_encode(k) + "=" + percent_encode(v) + "&";
    link += "%24skiptoken=" + percent_encode(*page.continuation);
    body["nextLink"] = link;
  }
  return json_response(200, body);
}

std::string operation_status_url(const RequestContext& ctx, const OperationRef& op, bool monitor) {
  return ctx.base_url + "/subscriptions/" + op.subscription + "/providers/Microsoft.Compute/locations/" +
         op.location + "/capsOperations/" + op.id + "?" + (monitor ? "monitor=true&" : "") +
         "api-version=" + ctx.api_version;
}

HttpResponse write_response(const RequestContext& ctx, const WriteOutcome& outcome) {
  HttpResponse r = json_response(outcome.created ? 201 : 200, outcome.resource);
  if (outcome.operation) {
    r.set_header("Azure-AsyncOperation", operation_status_url(ctx, *outcome.operation, false));
    r.set_header("Retry-After", "1");
  }
  return r;
}

HttpResponse delete_response(const RequestContext& ctx, const DeleteOutcome& outcome) {
  if (!outcome.existed) return empty_response(204);
  if (!outcome.operation) return empty_response(200);
  HttpResponse r = empty_response(202);
  r.set_header("Azure-AsyncOperation", operation_status_url(ctx, *outcome.operation, false));
  r.set_header("Location", operation_status_url(ctx, *outcome.operation, true));
  r.set_header("Retry-After", "1");
  return r;
}

HttpResponse action_response(const RequestContext& ctx, const json& result, const std::optional<OperationRef>& operation) {
  if (!operation) return json_response(200, result);
  HttpResponse r = json_response(202, result);
  r.set_header("Azure-AsyncOperation", operation_status_url(ctx, *operation, false));
  r.set_header("Location", operation_status_url(ctx, *operation, true));
  r.set_header("Retry-After", "1");
  return r;
}

HttpResponse monitor_response(const RequestContext&, const OperationStatus& op, const std::string& self_url) {
  if (op.status == "InProgress") {
    HttpResponse r = empty_response(202);
    r.set_header("Location", self_url);
    r.set_header("Retry-After", "1");
    return r;
  }
  if (op.error) return error_response(*op.error);
  if (op.result) return json_response(200, *op.result);
  return empty_response(200);
}

Result<json> parse_json_body(const HttpRequest& request, bool allow_empty) {
  if (request.body.empty()) {
    if (allow_empty) return json::object();
    return bad_request("InvalidRequestContent", "The request content was invalid and could not be "
                                                "deserialized: 'The request body is empty.'.");
  }
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded())
    return bad_request("InvalidRequestContent",
                       "The request content was invalid and could not be deserialized: 'The body "
                       "is not valid JSON.'.");
  return body;
}

}  // namespace acg::api
