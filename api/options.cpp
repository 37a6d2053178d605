// The command line of acg-emulator.

#include <charconv>

#include "api/app.h"

namespace acg::api {

std::string usage() {
  return R"(acg-emulator: a local, offline emulator of the Azure Compute Gallery ARM API.

Usage: acg-emulator [options]
       acg-emulator cost|retention --scope ID ... (planning tools; acg-emulator cost --help)

Listening
  --host ADDR               address to listen on (default 127.0.0.1; anything else is reachable
                            from other machines: a warning is printed)
  --port N                  port (default 8443; 0 picks a free one). The base URL is printed on start.
  --cert FILE --key FILE    serve this PEM certificate and key instead of the generated ones
  --proxy-port N            also listen as an HTTP proxy (0 picks a free port; config "proxyPort"):
                            CONNECT to the cloud's public ARM and Entra ID hosts (management.azure.com,
                            login.microsoftonline.com; their US Gov / China twins with --cloud) is
                            answered by the emulator itself with a certificate from its CA; any other
                            host gets 403 and nothing is ever forwarded. For tools hard-wired to the
                            public cloud: HTTPS_PROXY=http://127.0.0.1:N SSL_CERT_FILE=<ca.pem>
  --ssh-port N              an SSH endpoint for image builds (0 picks a free port; config "sshPort";
                            off by default): a key some VM was deployed with logs in, and its commands
                            and scp uploads land in that VM's build log (GET /_emulator/buildlogs)

State
  --data-dir DIR            SQLite database, TLS material and token signing key (default ./acg-data)
  --in-memory               keep nothing on disk (a fresh emulator every start)
  --config FILE             identities: tenants, subscriptions, principals (JSON; see README)
  --prices FILE             storage prices per GiB-month merged over the built-in table (JSON; README
                            "Storage cost"; the config file's "prices" object does the same)
  --seed FILE               load a seed file (identities, resources, role assignments) at start;
                            an invalid one stops the start (README "Seeding and snapshots")

Behaviour
  --operation-delay-ms N    simulated duration of gallery and resource-group writes (default 0:
                            they finish synchronously; >0 exercises long-running operations)
  --replication-speed X     how much faster than the modelled real world replication runs
                            (default 1000: a 30 GiB image reaches a region in ~1.5 s);
                            'instant' (or 0) finishes it inside the request (README "Replication")
  --virtual-clock           time stands still until POST /_emulator/clock/advance moves it
  --page-size N             items per list page before nextLink (default 100)
  --max-versions-per-definition N
                            image versions one image definition may hold (default 1000)
  --cloud NAME              region catalog: AzureCloud (default), AzureUSGovernment, AzureChinaCloud
  --accept-any-token        take any bearer token as the default principal (static-token clients)
  --allow-cross-tenant-sharing
                            let POST .../share name tenants other than the gallery's own
                            (AADTenants groups); refused by default
  --id-seed N               reproducible ids (default: random)

Operation
  --io-threads N            threads doing network I/O and TLS (default 1)
  --worker-threads N        threads running requests (default 2)
  --log-requests            one line per request on stderr (the same as --log-level info)
  --log-level L             error (5xx only), warn (4xx and 5xx), info (every request) or debug
                            (adds request and response header names); logging is off unless
                            --log-requests, --log-level or --log-file is given
  --log-format F            text (default: "METHOD path status duration request-id") or json
                            (one object per line: time, requestId, principal, method, path,
                            apiVersion, status, errorCode, durationMs, remoteAddress)
  --log-file PATH           append the log to PATH instead of stderr (implies --log-level info)
                            Never logged: query strings (SAS, $skiptoken), bodies, header values.
                            Prometheus metrics: GET /_emulator/metrics
  --help                    this text
)";
}

namespace {

template <class Int>
bool parse_int(const std::string& text, Int& out, Int min, Int max) {
  Int value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < min || value > max) return false;
  out = value;
  return true;
}

}  // namespace

std::variant<AppOptions, HelpRequested, std::string> parse_command_line(const std::vector<std::string>& args) {
  AppOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    auto missing = [&] { return "option " + flag + " needs a value (see --help)"; };
    auto bad = [&] { return "invalid value '" + v + "' for " + flag + " (see --help)"; };
    if (flag == "--help" || flag == "-h") return HelpRequested{usage()};
    if (flag == "--in-memory") { o.in_memory = true; continue; }
    if (flag == "--accept-any-token") { o.accept_any_token = true; continue; }
    if (flag == "--log-requests") { o.log_requests = true; continue; }
    if (flag == "--virtual-clock") { o.virtual_clock = true; continue; }
    if (flag == "--allow-cross-tenant-sharing") { o.allow_cross_tenant_sharing = true; continue; }
    if (flag != "--host" && flag != "--port" && flag != "--data-dir" && flag != "--cert" && flag != "--key" &&
        flag != "--config" && flag != "--operation-delay-ms" && flag != "--page-size" && flag != "--cloud" &&
        flag != "--seed" && flag != "--id-seed" && flag != "--max-versions-per-definition" && flag != "--io-threads" && flag != "--worker-threads" &&
        flag != "--replication-speed" && flag != "--log-level" && flag != "--log-format" && flag != "--log-file" && flag != "--prices" &&
        flag != "--proxy-port" && flag != "--ssh-port")
      return "unknown option '" + flag + "' (see --help)";
    if (!value(v)) return missing();
    if (flag == "--host") o.host = v;
    else if (flag == "--port") { if (!parse_int<std::uint16_t>(v, o.port, 0, 65535)) return bad(); }
    else if (flag == "--proxy-port") { std::uint16_t p = 0; if (!parse_int<std::uint16_t>(v, p, 0, 65535)) return bad(); o.proxy_port = p; }
    else if (flag == "--ssh-port") { std::uint16_t p = 0; if (!parse_int<std::uint16_t>(v, p, 0, 65535)) return bad(); o.ssh_port = p; }
    else if (flag == "--data-dir") o.data_dir = v;
    else if (flag == "--cert") o.cert_file = v;
    else if (flag == "--key") o.key_file = v;
    else if (flag == "--config") o.config_file = v;
    else if (flag == "--prices") o.prices_file = v;
    else if (flag == "--operation-delay-ms") { if (!parse_int<std::int64_t>(v, o.operation_delay_ms, 0, 86400000)) return bad(); }
    else if (flag == "--page-size") { if (!parse_int<int>(v, o.page_size, 1, 1000)) return bad(); }
    else if (flag == "--cloud") o.cloud = v;
    else if (flag == "--max-versions-per-definition") { if (!parse_int<int>(v, o.max_versions_per_definition, 1, 1000000)) return bad(); }
    else if (flag == "--id-seed") { if (!parse_int<std::uint64_t>(v, o.id_seed, 0, UINT64_MAX)) return bad(); }
    else if (flag == "--seed") o.seed_file = v;
    else if (flag == "--io-threads") { if (!parse_int<int>(v, o.io_threads, 1, 64)) return bad(); }
    else if (flag == "--replication-speed") {
      if (v == "instant") o.replication_speed = 0;
      else {
        double speed = 0;
        auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), speed);
        if (ec != std::errc() || ptr != v.data() + v.size() || speed < 0 || speed > 1e9) return bad();
        o.replication_speed = speed;
      }
    }
    else if (flag == "--log-level") {
      if (v != "error" && v != "warn" && v != "info" && v != "debug") return bad();
      o.log_level = v;
    }
    else if (flag == "--log-format") {
      if (v != "text" && v != "json") return bad();
      o.log_format = v;
    }
    else if (flag == "--log-file") o.log_file = v;
    else if (flag == "--worker-threads") { if (!parse_int<int>(v, o.worker_threads, 1, 64)) return bad(); }
  }
  if (o.cert_file.empty() != o.key_file.empty()) return std::string("--cert and --key go together");
  return o;
}

}  // namespace acg::api
