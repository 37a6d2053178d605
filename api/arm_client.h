#pragma once
// A minimal ARM client for the command-line tools: a bearer token (the client-credentials
// grant against a token service, or one given), GETs that follow nextLink, and DELETEs that
// wait for their long-running operation (Azure-AsyncOperation, else Location). It speaks
// only the public ARM API, so it works against the emulator or any endpoint like it.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "emulator/arm_error.h"

namespace acg::api {

class HttpsConnection;

struct ArmClientOptions {
  std::string endpoint = "https://127.0.0.1:8443";  // ARM: https://management.azure.com
  std::string ca_file;                               // empty: the system's trust store
  std::string token;                                 // given: used as is
  // Otherwise a client-credentials token from `authority` (default: the endpoint, which is
  // the emulator's own token service) at {authority}/{tenant}/oauth2/v2.0/token.
  std::string authority;
  std::string tenant = "11111111-1111-1111-1111-111111111111";
  std::string client_id = "33333333-3333-3333-3333-333333333333";
  std::string client_secret = "acg-emulator-secret";
  std::string scope = "https://management.azure.com/.default";
  int poll_interval_ms = 500;  // between polls of a long-running operation (at most; Retry-After may be shorter)
};

class ArmClient {
 public:
  // Connects and obtains the token; a refused token is the token service's error.
  static Result<std::unique_ptr<ArmClient>> connect(const ArmClientOptions& options);
  ~ArmClient();

  // GET path?api-version=...: the JSON body of a 2xx answer, else the ARM error it carried.
  Result<nlohmann::json> get(const std::string& path_and_query);
  // Every item of a list, following nextLink.
  Result<std::vector<nlohmann::json>> list(const std::string& path_and_query);
  // DELETE, then wait until its operation ends: ok when Succeeded (or nothing was left to do).
  Status remove(const std::string& path_and_query);

 private:
  ArmClient(ArmClientOptions options, std::unique_ptr<HttpsConnection> arm);
  Result<nlohmann::json> json_of_reply(int status, const std::string& body, const std::string& what);
  Status wait_for_operation(const std::string& async_url, const std::string& location_url);

  ArmClientOptions options_;
  std::unique_ptr<HttpsConnection> arm_;
};

// "https://h:1/a?b" -> "/a?b".
std::string target_of_url(const std::string& url);

}  // namespace acg::api
