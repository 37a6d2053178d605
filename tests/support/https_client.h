#pragma once
// A small HTTPS client for the integration tests: one keep-alive connection that trusts
// the emulator's CA. The only test code that compiles Beast (https_client.cpp).

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace acg::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;

  std::string header(const std::string& name) const;  // case-insensitive; empty when absent
  nlohmann::json json() const;                        // discarded value when not JSON
  std::string error_code() const;                     // error.code of an ARM envelope
};

class HttpsClient {
 public:
  HttpsClient(std::string host, std::uint16_t port, std::string ca_pem);
  // Through an HTTP proxy (the emulator's --proxy-port): each connection sends
  // "CONNECT <server_name>:443" to 127.0.0.1:proxy_port, then TLS with that SNI, verifying the
  // certificate for server_name, and every request names Host: server_name. A refused CONNECT
  // throws (raw() shows the proxy's answer instead).
  static HttpsClient through_proxy(std::uint16_t proxy_port, std::string server_name, std::string ca_pem);
  ~HttpsClient();
  HttpsClient(HttpsClient&&) noexcept;

  // Sends one request on the kept-alive connection (reconnecting if the server closed it).
  ClientResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                         const Headers& headers = {});
  // Sends raw bytes on a fresh connection and returns the raw response (for malformed input).
  std::string raw(const std::string& bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace acg::test
