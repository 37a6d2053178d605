#pragma once
// A small blocking HTTPS client for the command-line tools (`acg-emulator cost`,
// `acg-emulator retention`): one kept-alive connection to one endpoint, verifying its
// certificate against a CA file (the emulator's tls/ca.pem) or the system's trust store
// (which honours SSL_CERT_FILE). Boost.Beast lives only in https_client.cpp.

#include <cstdint>
#include <memory>
#include <string>

#include "api/http_message.h"
#include "emulator/arm_error.h"

namespace acg::api {

// "https://host[:port][/...]" split; port 443 when absent.
struct Endpoint {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 443;
};
Result<Endpoint> parse_https_url(const std::string& url);

class HttpsConnection {
 public:
  // ca_file empty: the system's default trust store.
  static Result<std::unique_ptr<HttpsConnection>> open(const Endpoint& endpoint, const std::string& ca_file);
  ~HttpsConnection();

  // Sends one request (target: path and query) and reads the answer; reconnects once when the
  // server closed the kept-alive connection. A transport or TLS failure is a 503-like
  // ArmError with code "ConnectionFailed".
  Result<HttpResponse> request(const std::string& method, const std::string& target, const std::string& body = {},
                             const HeaderList& headers = {});

 private:
  struct Impl;
  explicit HttpsConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace acg::api
