#include "api/internal_requests.h"

#include <nlohmann/json.hpp>

#include "api/router.h"

namespace acg::api {

using nlohmann::json;

HttpResponse send_internal(const InternalDispatch& dispatch, const Principal& principal, const std::string& method,
                           const std::string& id, const std::string& api_version, std::string body,
                           const std::string& user_agent, const std::string& remote_address,
                           const std::string& correlation_id) {
  HttpRequest request;
  request.method = method;
  std::string path;
  for (char c : id) path += c == ' ' ? std::string("%20") : std::string(1, c);  // names may hold spaces
  request.target = path + "?api-version=" + api_version;
  request.headers = {{"Host", "localhost"}, {"Content-Type", "application/json"}, {"User-Agent", user_agent}};
  if (!correlation_id.empty()) request.headers.emplace_back("x-ms-correlation-request-id", correlation_id);
  request.body = std::move(body);
  request.remote_address = remote_address;
  return dispatch(request, principal);
}

ArmError error_of(const HttpResponse& response) {
  json body = json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("error")) return error_from_json(body["error"], response.status);
  return ArmError{response.status, "RequestFailed", "The request failed with status " + std::to_string(response.status) + ".",
                  {}, {}};
}

std::pair<std::string, std::string> operation_of(std::string_view url) {
  const size_t start = url.find("/subscriptions/");
  ParsedTarget target = parse_target(url.substr(start == std::string_view::npos ? 0 : start));
  auto parts = split_path(target.path);
  if (parts.size() < 2) return {};
  return {parts[1], parts.back()};
}

}  // namespace acg::api
