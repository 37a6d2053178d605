#pragma once
// An emulator instance: storage, identities, the core, the token service and the HTTPS
// server wired together. `acg-emulator` is a thin main() around this; tests and users embed
// it in-process on port 0.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "api/http_message.h"
#include "emulator/arm_error.h"

namespace acg {
class Clock;
class Emulator;
}  // namespace acg

namespace acg::api {

class TokenService;

struct AppOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;
  std::string data_dir = "./acg-data";
  bool in_memory = false;
  std::string cert_file;  // with key_file: serve this certificate instead of the generated one
  std::string key_file;
  std::string config_file;       // identities (tenants, subscriptions, principals)
  std::string prices_file;       // --prices: storage prices merged over the built-in table
  bool accept_any_token = false;
  std::int64_t operation_delay_ms = 0;
  int page_size = 100;
  int max_versions_per_definition = 1000;
  // Replication's speed knob (README "Replication"): X times faster than the modelled real
  // world, 0 = instant. Unset: the config file's, else the model's default.
  std::optional<double> replication_speed;
  bool virtual_clock = false;    // time moves only through POST /_emulator/clock/advance
  bool allow_cross_tenant_sharing = false;  // POST .../share may name other tenants (AADTenants)
  std::string cloud = "AzureCloud";
  std::uint64_t id_seed = 0;     // 0: random ids; otherwise reproducible ids (--id-seed)
  std::string seed_file;         // --seed: a seed file loaded at start (README "Seeding and snapshots")
  // Access log (README "Logs and metrics"): off unless log_requests, log_level or log_file.
  bool log_requests = false;      // --log-requests: info level
  std::string log_format = "text";  // text | json
  std::string log_file;             // appended to; empty: stderr
  std::string log_level;            // error | warn | info | debug; empty: info
  int io_threads = 1;
  int worker_threads = 2;
  // Transparent proxy mode (--proxy-port; config "proxyPort"): CONNECT to the cloud's public
  // ARM and Entra ID hosts is served by the emulator itself (api/public_hosts.h). Unset: off.
  std::optional<std::uint16_t> proxy_port;
  // The SSH endpoint for image builds (--ssh-port; config "sshPort"): Packer's communicator
  // authenticates with a VM's key and its commands land in the VM's build log. Unset: off.
  std::optional<std::uint16_t> ssh_port;
  const Clock* clock = nullptr;  // in-process embedding: a shared (e.g. manual) clock
};

// The command line: options, or the help text (--help), or a one-line error.
struct HelpRequested {
  std::string text;
};
std::variant<AppOptions, HelpRequested, std::string> parse_command_line(const std::vector<std::string>& args);
std::string usage();

class App {
 public:
  static Result<std::unique_ptr<App>> start(AppOptions options);
  ~App();

  std::uint16_t port() const;
  std::uint16_t proxy_port() const;  // 0: no proxy listener
  std::uint16_t ssh_port() const;    // 0: no SSH endpoint
  std::string base_url() const;  // "https://127.0.0.1:<port>"
  const std::string& ca_certificate_pem() const;
  Emulator& emulator();
  TokenService& tokens();
  // Answers one request in the calling thread through the whole pipeline (routing, auth,
  // api-version, handler, ARM envelope, log), without a socket: for embedding and for the
  // fuzz targets (tests/fuzz), which must reach the handlers without TLS in the way.
  HttpResponse handle(const HttpRequest& request);

  void run_until_signal();
  void stop();

 private:
  struct Impl;
  explicit App(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

inline constexpr const char* kVersion = "0.1.0";

}  // namespace acg::api
