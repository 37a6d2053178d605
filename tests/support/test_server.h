#pragma once
// An emulator started in-process on port 0 for one test, plus helpers to call ARM on it
// with a token obtained from its own token service.

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "api/app.h"
#include "tests/support/https_client.h"

namespace acg::test {

inline const std::string kSub = "22222222-2222-2222-2222-222222222222";
inline const std::string kTenant = "11111111-1111-1111-1111-111111111111";
inline const std::string kClientId = "33333333-3333-3333-3333-333333333333";
inline const std::string kSecret = "acg-emulator-secret";

// Options for a test emulator: in memory, port 0, unless changed by `customise`.
api::AppOptions test_options(const std::function<void(api::AppOptions&)>& customise = {});

class TestEmulator {
 public:
  explicit TestEmulator(api::AppOptions options = test_options());

  api::App& app() { return *app_; }
  HttpsClient& http() { return client_; }
  HttpsClient new_client() const;

  // A token from the emulator's token endpoint for a principal (default: the bootstrap one).
  std::string token(const std::string& client_id = kClientId, const std::string& secret = kSecret,
                    const std::string& tenant = kTenant);
  // An ARM call with "Authorization: Bearer <token()>".
  ClientResponse arm(const std::string& method, const std::string& target, const std::string& body = {},
                     Headers headers = {});

  // "/subscriptions/<kSub>/resourceGroups/<rg>" and a gallery path under it.
  static std::string group_path(const std::string& rg);
  static std::string gallery_path(const std::string& rg, const std::string& gallery);

 private:
  std::unique_ptr<api::App> app_;
  HttpsClient client_;
  std::string token_;
};

// Runs the acg-emulator binary with `args` to its end (for flags that make it exit): its exit
// code and what it printed on stdout and stderr. The integration tests define the binary's
// path (ACG_EMULATOR_BINARY).
std::pair<int, std::string> run_emulator_binary(const std::string& args);

// Polls an Azure-AsyncOperation / Location URL (absolute) until the status is terminal.
ClientResponse poll_until_done(HttpsClient& client, const std::string& url, const std::string& token,
                               int max_polls = 200);
// The path and query of an absolute URL: "https://h:1/a?b" -> "/a?b".
std::string path_of(const std::string& url);

}  // namespace acg::test
