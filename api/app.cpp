#include "api/app.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/access_log.h"
#include "api/deployment_runner.h"
#include "api/metrics.h"
#include "api/pipeline.h"
#include "api/public_hosts.h"
#include "api/seeder.h"
#include "api/server.h"
#include "api/ssh_server.h"
#include "api/tls_material.h"
#include "api/token_service.h"
#include "emulator/clock.h"
#include "emulator/emulator.h"

namespace acg::api {

namespace fs = std::filesystem;

struct App::Impl {
  AppOptions options;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  std::unique_ptr<IdGenerator> ids;
  TlsMaterial tls;
  std::unique_ptr<Emulator> emulator;
  std::unique_ptr<TokenService> tokens;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<AccessLogWriter> access_log;
  std::unique_ptr<Services> services;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<DeploymentRunner> deployments;  // writes through the pipeline: stopped first
  std::unique_ptr<Seeder> seeder;                 // likewise
  std::unique_ptr<Server> server;
  std::unique_ptr<SshServer> ssh;  // writes build logs into the emulator: stopped first
  ListenerPorts ports;
};

namespace {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return internal_error("cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The --config file, read once: its text (identities parse it themselves) and its JSON (the
// other sections). No file: empty text and null JSON.
struct ConfigFile {
  std::string text;
  nlohmann::json doc;
};

Result<ConfigFile> read_config(const AppOptions& options) {
  if (options.config_file.empty()) return ConfigFile{};
  auto text = read_file(options.config_file);
  if (!text) return std::move(text).error();
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  return ConfigFile{std::move(*text), doc.is_discarded() ? nlohmann::json() : std::move(doc)};
}

Result<IdentityDirectory> load_identities(const ConfigFile& config) {
  if (config.text.empty()) return IdentityDirectory::defaults();
  return IdentityDirectory::from_json(config.text);
}

// The replication model: defaults, then the config file's "replication" object, then
// --replication-speed (the flag wins).
Result<ReplicationModel> load_replication_model(const AppOptions& options, const ConfigFile& config) {
  ReplicationModel model;
  if (config.doc.is_object() && config.doc.contains("replication")) {
    auto configured = ReplicationModel::from_json(config.doc["replication"], model);
    if (!configured) return std::move(configured).error();
    model = *configured;
  }
  if (options.replication_speed) model.speed = *options.replication_speed;
  return model;
}

// Storage prices (emulator/storage_cost.h): the built-in table, then the config file's
// "prices" object, then --prices FILE, each merged over what came before.
Result<PriceTable> load_prices(const AppOptions& options, const ConfigFile& config) {
  PriceTable prices = PriceTable::builtin();
  if (config.doc.is_object() && config.doc.contains("prices")) {
    auto configured = PriceTable::from_json(config.doc["prices"], prices);
    if (!configured) return std::move(configured).error();
    prices = std::move(*configured);
  }
  if (options.prices_file.empty()) return prices;
  auto text = read_file(options.prices_file);
  if (!text) return std::move(text).error();
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return bad_request("InvalidConfiguration", "--prices '" + options.prices_file + "' is not valid JSON");
  return PriceTable::from_json(doc, prices);
}

// The cloud's region catalog: the built-in one, or the config file's "regionCatalog" (the schema
// of emulator/data/regions.json: {"clouds": {"AzureCloud": [...], ...}}) to add a region, take
// one away, or mark one without gallery support.
Result<RegionCatalog> load_region_catalog(const AppOptions& options, const ConfigFile& config) {
  if (!config.doc.is_object() || !config.doc.contains("regionCatalog")) return RegionCatalog::builtin(options.cloud);
  return RegionCatalog::from_json(config.doc["regionCatalog"].dump(), options.cloud);
}

// The config file's "roleAssignments": [{"principalId" | "clientId", "role": name or GUID,
// "scope"}], made at start (README "Access control").
Result<std::vector<EmulatorSettings::InitialAssignment>> load_role_assignments(const nlohmann::json& config,
                                                                                 const IdentityDirectory& identities) {
  std::vector<EmulatorSettings::InitialAssignment> out;
  if (!config.is_object() || !config.contains("roleAssignments")) return out;
  if (!config["roleAssignments"].is_array())
    return bad_request("InvalidConfiguration", "roleAssignments must be an array.", "roleAssignments");
  int i = 0;
  for (const auto& a : config["roleAssignments"]) {
    const std::string where = "roleAssignments[" + std::to_string(i++) + "]";
    if (!a.is_object()) return bad_request("InvalidConfiguration", where + " must be an object.", where);
    std::string principal = a.value("principalId", "");
    if (principal.empty()) {
      const Principal* p = identities.find_principal_by_client_id(a.value("clientId", ""));
      if (!p) return bad_request("InvalidConfiguration", where + ": no principal with that clientId.", where + ".clientId");
      principal = p->object_id;
    } else if (!identities.find_principal_by_object_id(principal)) {
      return bad_request("InvalidConfiguration", where + ": no principal with that principalId.", where + ".principalId");
    }
    const RoleDefinition* role = find_builtin_role(a.value("role", ""));
    if (!role) return bad_request("InvalidConfiguration", where + ": unknown built-in role '" + a.value("role", "") + "'.",
                                  where + ".role");
    const std::string scope = a.value("scope", "");
    if (scope.rfind("/subscriptions/", 0) != 0)
      return bad_request("InvalidConfiguration", where + ": scope must start with /subscriptions/.", where + ".scope");
    out.push_back({principal, role->name, scope});
  }
  return out;
}

Result<TlsMaterial> load_tls(const AppOptions& options) {
  if (!options.cert_file.empty()) return load_tls_material_from_files(options.cert_file, options.key_file);
  if (options.in_memory) return generate_tls_material();
  return load_or_create_tls_material(fs::path(options.data_dir) / "tls");
}

Result<TokenSigner> load_signer(const AppOptions& options) {
  if (options.in_memory) return TokenSigner::generate();
  return TokenSigner::load_or_create(fs::path(options.data_dir) / "token-signing-key.pem");
}

// The database, its WAL and the TLS material are written here: say so plainly up front rather
// than let SQLite report "unable to open database file" (a read-only mount, a full disk).
Status check_writable(const std::string& dir) {
  const fs::path probe = fs::path(dir) / ".acg-write-probe";
  std::FILE* file = std::fopen(probe.c_str(), "w");
  const int error = errno;
  if (!file)
    return internal_error("the data directory '" + dir + "' is not writable: " + std::strerror(error) +
                          " (the emulator keeps its database there; use another --data-dir or --in-memory)");
  std::fclose(file);
  std::remove(probe.c_str());
  return ok_status();
}

Status prepare_data_dir(const AppOptions& options) {
  if (options.in_memory) return ok_status();
  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) return internal_error("cannot create the data directory '" + options.data_dir + "': " + ec.message());
  return check_writable(options.data_dir);
}

// The access log as the options ask (nullptr: off), with its level and format checked.
Result<std::unique_ptr<AccessLogWriter>> open_access_log(const AppOptions& options) {
  if (options.log_format != "text" && options.log_format != "json")
    return bad_request("InvalidConfiguration", "--log-format must be text or json, not '" + options.log_format + "'.");
  auto level = parse_log_level(options.log_level.empty() ? "info" : options.log_level);
  if (!level)
    return bad_request("InvalidConfiguration",
                       "--log-level must be error, warn, info or debug, not '" + options.log_level + "'.");
  if (!options.log_requests && options.log_level.empty() && options.log_file.empty())
    return std::unique_ptr<AccessLogWriter>();
  return AccessLogWriter::open(options.log_format == "json", *level, options.log_file);
}

// A listener port from the config file's member (proxyPort, sshPort) when the flag left it unset.
Status port_from_config(const nlohmann::json& config, const char* member, std::optional<std::uint16_t>& port) {
  if (port || !config.is_object() || !config.contains(member)) return ok_status();
  const nlohmann::json& value = config[member];
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0 || value.get<std::int64_t>() > 65535)
    return bad_request("InvalidConfiguration", std::string(member) + " must be a port number (0-65535).", member);
  port = value.get<std::uint16_t>();
  return ok_status();
}

// The transparent proxy's certificate: one leaf from the emulator's CA naming the cloud's ARM
// and Entra ID hosts, issued at each start (clients trust the CA, not the leaf).
Status add_proxy_listener(const AppOptions& options, const TlsMaterial& tls, ServerOptions& server) {
  if (!options.proxy_port) return ok_status();
  if (tls.ca_key_pem.empty())
    return bad_request("InvalidConfiguration",
                       "--proxy-port needs the emulator's own CA to issue certificates for the public host names; "
                       "it cannot be combined with --cert/--key.");
  const PublicHosts hosts = public_hosts_of(options.cloud);
  auto leaf = issue_server_certificate(tls, {hosts.arm, hosts.login});
  if (!leaf) return std::move(leaf).error();
  server.proxy_port = options.proxy_port;
  server.proxy_hosts = {hosts.arm, hosts.login};
  server.proxy_cert_pem = leaf->first;
  server.proxy_key_pem = leaf->second;
  return ok_status();
}

Result<std::unique_ptr<SshServer>> start_ssh(const AppOptions& options, Emulator& emulator) {
  if (!options.ssh_port) return std::unique_ptr<SshServer>();
  SshServerOptions ssh;
  ssh.host = options.host;
  ssh.port = *options.ssh_port;
  if (!options.in_memory) ssh.host_key_file = (fs::path(options.data_dir) / "ssh" / "ssh_host_ed25519_key").string();
  return SshServer::start(ssh, emulator);
}

// --seed FILE: loaded once the server listens, through the same pipeline as the API; an
// invalid seed stops the start with the entry's error.
Status load_seed_file(const AppOptions& options, Seeder& seeder) {
  if (options.seed_file.empty()) return ok_status();
  auto text = read_file(options.seed_file);
  if (!text) return std::move(text).error();
  nlohmann::json seed = nlohmann::json::parse(*text, nullptr, false);
  if (seed.is_discarded()) return bad_request("InvalidSeed", "seed file '" + options.seed_file + "' is not valid JSON");
  auto loaded = seeder.load(seed);
  if (!loaded) {
    ArmError e = std::move(loaded).error();
    e.message = "seed file '" + options.seed_file + "': " + e.code + ": " + e.message;
    return e;
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<App>> App::start(AppOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = options.clock ? options.clock : &impl->system_clock;
  impl->ids = std::make_unique<IdGenerator>(options.id_seed);

  if (auto st = prepare_data_dir(options); !st) return std::move(st).error();
  auto config = read_config(options);
  if (!config) return std::move(config).error();
  auto identities = load_identities(*config);
  if (!identities) return std::move(identities).error();
  auto replication = load_replication_model(options, *config);
  if (!replication) return std::move(replication).error();
  auto prices = load_prices(options, *config);
  if (!prices) return std::move(prices).error();
  auto regions = load_region_catalog(options, *config);
  if (!regions) return std::move(regions).error();
  auto tls = load_tls(options);
  if (!tls) return std::move(tls).error();
  impl->tls = std::move(*tls);
  auto signer = load_signer(options);
  if (!signer) return std::move(signer).error();

  const std::string db_path = options.in_memory ? ":memory:" : (fs::path(options.data_dir) / "acg.db").string();
  auto store = storage::open_sqlite_store(db_path);
  if (!store.ok()) return internal_error(store.error().message);

  if (auto st = port_from_config(config->doc, "proxyPort", options.proxy_port); !st) return std::move(st).error();
  if (auto st = port_from_config(config->doc, "sshPort", options.ssh_port); !st) return std::move(st).error();
  impl->options = options;
  auto assignments = load_role_assignments(config->doc, *identities);
  if (!assignments) return std::move(assignments).error();
  auto quotas = quota_settings_from_config(config->doc);
  if (!quotas) return std::move(quotas).error();
  EmulatorSettings settings;
  settings.operation_delay_ms = options.operation_delay_ms;
  settings.page_size = options.page_size;
  settings.max_versions_per_definition = options.max_versions_per_definition;
  settings.replication = *replication;
  settings.virtual_clock = options.virtual_clock;
  settings.initial_assignments = std::move(*assignments);
  settings.allow_cross_tenant_sharing = options.allow_cross_tenant_sharing;
  settings.quotas = std::move(*quotas);
  settings.prices = std::move(*prices);
  impl->emulator = std::make_unique<Emulator>(std::move(store.value()), *impl->clock, *impl->ids,
                                              std::move(*regions), std::move(*identities), settings);
  // Tokens follow the wall clock even when the emulator's clock is virtual: clients cache
  // them by real time.
  impl->tokens = std::make_unique<TokenService>(std::move(*signer), impl->emulator->identities(),
                                                impl->system_clock,
                                                TokenOptions{3599, options.accept_any_token});
  impl->services = std::make_unique<Services>(
      Services{*impl->emulator, *impl->tokens, impl->tls.ca_cert_pem, kVersion, "AzEmu"});
  auto access_log = open_access_log(options);
  if (!access_log) return std::move(access_log).error();
  impl->access_log = std::move(*access_log);
  impl->metrics = std::make_unique<Metrics>(kVersion);
  impl->services->metrics = impl->metrics.get();
  impl->emulator->observe_transactions(
      [m = impl->metrics.get()](bool write, double seconds) { m->observe_transaction(write, seconds); });
  impl->pipeline = std::make_unique<Pipeline>(
      *impl->services, *impl->ids,
      [m = impl->metrics.get(), log = impl->access_log.get()](const AccessLogEntry& e) {
        m->observe_request(e.route, e.request.method, e.response.status, e.duration_ms / 1000);
        if (log) log->write(e);
      });
  impl->deployments = std::make_unique<DeploymentRunner>(
      *impl->emulator, [p = impl->pipeline.get()](const HttpRequest& r, const Principal& who) { return p->handle_as(r, who); });
  impl->services->deployments = impl->deployments.get();
  impl->seeder = std::make_unique<Seeder>(
      *impl->emulator, [p = impl->pipeline.get()](const HttpRequest& r, const Principal& who) { return p->handle_as(r, who); });
  impl->services->seeder = impl->seeder.get();
  impl->services->dispatch = [p = impl->pipeline.get()](const HttpRequest& r, const Principal& who) {
    return p->handle_as(r, who);
  };

  ServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.io_threads = options.io_threads;
  server_options.worker_threads = options.worker_threads;
  server_options.cert_pem = impl->tls.server_cert_pem;
  server_options.key_pem = impl->tls.server_key_pem;
  if (auto st = add_proxy_listener(options, impl->tls, server_options); !st) return std::move(st).error();
  impl->services->ports = &impl->ports;
  Pipeline* pipeline = impl->pipeline.get();
  Emulator* emulator = impl->emulator.get();
  auto server = Server::start(
      server_options, [pipeline](HttpRequest&& r) { return pipeline->handle(r); },
      [pipeline](int status, const std::string& reason) { return pipeline->rejected(status, reason); },
      [emulator, services = impl->services.get()] {
        emulator->settle();
        advance_image_builder_runs(*services);
      });
  if (!server) return std::move(server).error();
  impl->server = std::move(*server);
  impl->ports.https = impl->server->port();
  impl->ports.proxy = impl->server->proxy_port();
  auto ssh = start_ssh(options, *impl->emulator);
  if (!ssh) return std::move(ssh).error();
  impl->ssh = std::move(*ssh);
  if (impl->ssh) impl->ports.ssh = impl->ssh->port();
  impl->deployments->resume();  // deployments a previous run left unfinished
  if (auto st = load_seed_file(options, *impl->seeder); !st) return std::move(st).error();
  return std::unique_ptr<App>(new App(std::move(impl)));
}

App::App(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

App::~App() { stop(); }

std::uint16_t App::port() const { return impl_->server->port(); }
std::uint16_t App::proxy_port() const { return impl_->server->proxy_port(); }
std::uint16_t App::ssh_port() const { return impl_->ssh ? impl_->ssh->port() : 0; }

std::string App::base_url() const {
  const std::string& host = impl_->options.host;
  std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "https://" + shown + ":" + std::to_string(port());
}

const std::string& App::ca_certificate_pem() const { return impl_->tls.ca_cert_pem; }
Emulator& App::emulator() { return *impl_->emulator; }
TokenService& App::tokens() { return *impl_->tokens; }
HttpResponse App::handle(const HttpRequest& request) { return impl_->pipeline->handle(request); }

void App::run_until_signal() { impl_->server->run_until_signal(); }

void App::stop() {
  if (impl_->ssh) impl_->ssh->stop();
  if (impl_->deployments) impl_->deployments->stop();
  if (impl_->server) impl_->server->stop();
}

}  // namespace acg::api
