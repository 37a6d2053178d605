#pragma once
// The HTTPS server (Boost.Beast over Asio with OpenSSL). This header shows no Beast or Asio:
// server.cpp is the one translation unit that compiles them, so the rest of the project
// builds fast and the request path can be driven without sockets.
//
// Shape (Beast's awaitable example): accept -> one coroutine per connection -> TLS handshake
// with a timeout -> read with a body limit and a timeout -> the handler runs on a worker
// pool (never on the I/O threads: it touches SQLite) -> write -> keep-alive.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/http_message.h"
#include "emulator/arm_error.h"

namespace acg::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;  // 0 picks a free port
  int io_threads = 1;
  int worker_threads = 2;
  std::size_t body_limit = 4 * 1024 * 1024;  // ARM's request size limit
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds tick_interval{20};  // how often `tick` runs (settles operations)
  bool tls = true;
  std::string cert_pem;  // leaf certificate (chain) and key, when tls
  std::string key_pem;

  // Transparent proxy mode (api/public_hosts.h): a second, plain-HTTP listener on `host` that
  // answers `CONNECT <one of proxy_hosts>:443` with 200, then terminates TLS itself with
  // proxy_cert_pem (a leaf naming every proxied host) and serves the tunnelled requests
  // through the same handler, each with Host set to the CONNECT host. Anything else (another
  // host or port, a proxied plain-HTTP request) gets 403: nothing is ever forwarded.
  std::optional<std::uint16_t> proxy_port;  // unset: no proxy listener; 0 picks a free port
  std::vector<std::string> proxy_hosts;
  std::string proxy_cert_pem;
  std::string proxy_key_pem;
};

using RequestHandler = std::function<HttpResponse(HttpRequest&&)>;
// Answers a request the server refused before it reached the handler (too large, malformed).
using RejectionHandler = std::function<HttpResponse(int status, const std::string& reason)>;

class Server {
 public:
  // Binds and starts serving on background threads. Errors (port in use, bad certificate)
  // come back as values with a one-line message.
  static Result<std::unique_ptr<Server>> start(ServerOptions options, RequestHandler handler,
                                               RejectionHandler reject, std::function<void()> tick);
  ~Server();  // stops if still running

  std::uint16_t port() const;
  std::uint16_t proxy_port() const;  // 0 when there is no proxy listener
  // Stops accepting, closes connections and joins the threads. Idempotent.
  void stop();
  // Blocks until SIGINT or SIGTERM, then stops.
  void run_until_signal();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace acg::api
