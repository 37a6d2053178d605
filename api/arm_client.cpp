#include "api/arm_client.h"

#include <chrono>
#include <thread>

#include "api/http_message.h"
#include "api/https_client.h"

namespace acg::api {

using nlohmann::json;

namespace {

Result<std::unique_ptr<HttpsConnection>> open_connection(const std::string& url, const std::string& ca_file) {
  auto endpoint = parse_https_url(url);
  if (!endpoint) return std::move(endpoint).error();
  return HttpsConnection::open(*endpoint, ca_file);
}

// The ARM error an answer carries, or one that says what came back instead.
ArmError error_of_reply(int status, const std::string& body, const std::string& what) {
  json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) return error_from_json(j["error"], status);
  // The token service answers OAuth errors: {"error": "invalid_client", "error_description"}.
  if (j.is_object() && j.contains("error") && j["error"].is_string())
    return ArmError{status, j["error"], j.value("error_description", ""), {}, {}};
  return ArmError{status, "UnexpectedResponse", what + " answered HTTP " + std::to_string(status) + ": " + body.substr(0, 300),
                  {}, {}};
}

Result<std::string> fetch_token(const ArmClientOptions& o) {
  const std::string authority = o.authority.empty() ? o.endpoint : o.authority;
  auto connection = open_connection(authority, o.ca_file);
  if (!connection) return std::move(connection).error();
  const std::string form = "grant_type=client_credentials&client_id=" + percent_encode(o.client_id) +
                           "&client_secret=" + percent_encode(o.client_secret) + "&scope=" + percent_encode(o.scope);
  auto reply = (*connection)->request("POST", target_of_url(authority) + "/" + o.tenant + "/oauth2/v2.0/token", form,
                                      {{"Content-Type", "application/x-www-form-urlencoded"}});
  if (!reply) return std::move(reply).error();
  json j = json::parse(reply->body, nullptr, false);
  if (reply->status != 200 || !j.is_object() || !j["access_token"].is_string())
    return error_of_reply(reply->status, reply->body, "the token service");
  return j["access_token"].get<std::string>();
}

bool terminal(const std::string& status) {
  return status == "Succeeded" || status == "Failed" || status == "Canceled";
}

}  // namespace

std::string target_of_url(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return "";
  std::string target = url.substr(slash);
  while (!target.empty() && target.back() == '/') target.pop_back();
  return target;
}

ArmClient::ArmClient(ArmClientOptions options, std::unique_ptr<HttpsConnection> arm)
    : options_(std::move(options)), arm_(std::move(arm)) {}
ArmClient::~ArmClient() = default;

Result<std::unique_ptr<ArmClient>> ArmClient::connect(const ArmClientOptions& options) {
  auto arm = open_connection(options.endpoint, options.ca_file);
  if (!arm) return std::move(arm).error();
  ArmClientOptions o = options;
  if (o.token.empty()) {
    auto token = fetch_token(o);
    if (!token) return std::move(token).error();
    o.token = std::move(*token);
  }
  return std::unique_ptr<ArmClient>(new ArmClient(std::move(o), std::move(*arm)));
}

Result<json> ArmClient::json_of_reply(int status, const std::string& body, const std::string& what) {
  if (status < 200 || status > 299) return error_of_reply(status, body, what);
  json j = json::parse(body.empty() ? "{}" : body, nullptr, false);
  if (j.is_discarded()) return ArmError{502, "UnexpectedResponse", what + " answered a body that is not JSON.", {}, {}};
  return j;
}

Result<json> ArmClient::get(const std::string& target) {
  auto reply = arm_->request("GET", target, "", {{"Authorization", "Bearer " + options_.token}});
  if (!reply) return std::move(reply).error();
  return json_of_reply(reply->status, reply->body, "GET " + target);
}

Result<std::vector<json>> ArmClient::list(const std::string& target) {
  std::vector<json> items;
  std::string next = target;
  while (!next.empty()) {
    auto page = get(next);
    if (!page) return std::move(page).error();
    if (!(*page)["value"].is_array())
      return ArmError{502, "UnexpectedResponse", "GET " + next + " answered no 'value' array.", {}, {}};
    for (json& item : (*page)["value"]) items.push_back(std::move(item));
    next = (*page)["nextLink"].is_string() ? target_of_url((*page)["nextLink"].get<std::string>()) : "";
  }
  return items;
}

Status ArmClient::remove(const std::string& target) {
  auto reply = arm_->request("DELETE", target, "", {{"Authorization", "Bearer " + options_.token}});
  if (!reply) return std::move(reply).error();
  if (reply->status == 200 || reply->status == 204) return ok_status();
  if (reply->status != 202) return error_of_reply(reply->status, reply->body, "DELETE " + target);
  return wait_for_operation(std::string(reply->header("Azure-AsyncOperation")), std::string(reply->header("Location")));
}

// Azure-AsyncOperation answers {"status", "error"?}; a Location monitor answers 202 until done.
Status ArmClient::wait_for_operation(const std::string& async_url, const std::string& location_url) {
  const std::string url = async_url.empty() ? location_url : async_url;
  if (url.empty()) return ok_status();  // 202 without a monitor: accepted, nothing to follow
  // An hour at the default interval: a deletion that never ends is reported, not waited for forever.
  for (int poll = 0; poll < 7200; ++poll) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.poll_interval_ms));
    auto reply = arm_->request("GET", target_of_url(url), "", {{"Authorization", "Bearer " + options_.token}});
    if (!reply) return std::move(reply).error();
    if (async_url.empty()) {
      if (reply->status == 202) continue;
      if (reply->status >= 200 && reply->status < 300) return ok_status();
      return error_of_reply(reply->status, reply->body, "the operation");
    }
    auto status = json_of_reply(reply->status, reply->body, "the operation status");
    if (!status) return std::move(status).error();
    const std::string state = status->value("status", "");
    if (!terminal(state)) continue;
    if (state == "Succeeded") return ok_status();
    if ((*status)["error"].is_object()) return error_from_json((*status)["error"], 409);
    return ArmError{409, "Operation" + state, "The operation ended " + state + ".", {}, {}};
  }
  return ArmError{504, "OperationTimedOut", "The operation at " + url + " did not end.", {}, {}};
}

}  // namespace acg::api
