// `acg-emulator cost` and `acg-emulator retention` (cli_tools.h): the command line, the
// walk over the ARM API that gathers versions and VMs, the printed tables, and the deletions.

#include "api/cli_tools.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <variant>

#include "api/arm_client.h"
#include "api/http_message.h"
#include "emulator/clock.h"
#include "emulator/retention_plan.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

constexpr const char* kGalleryApi = "api-version=2023-07-03";
constexpr const char* kComputeApi = "api-version=2022-08-01";

// --- The command line ------------------------------------------------------------------------

struct ToolOptions {
  ArmClientOptions arm;
  std::string scope;
  std::string prices_file;
  std::optional<RetentionPolicy> retention;  // set by --keep
  bool dry_run = false;
  bool json_output = false;
  std::string now;  // --now: ISO 8601, else the emulator's clock or the wall clock
};

// The emulator's CA when it is where `acg-emulator` keeps it by default and nothing else is said.
std::string default_ca_file() {
  if (std::getenv("SSL_CERT_FILE")) return {};
  const std::string path = "acg-data/tls/ca.pem";
  return std::filesystem::exists(path) ? path : std::string();
}

bool parse_count(const std::string& text, int& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out >= 0 && out <= 1000000;
}

// The options, or a one-line usage error.
std::variant<ToolOptions, std::string> parse_tool_options(const std::string& tool, const std::vector<std::string>& args) {
  ToolOptions o;
  o.arm.ca_file = default_ca_file();
  int older_than = -1;
  bool delete_eol = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--dry-run") { o.dry_run = true; continue; }
    if (flag == "--delete-end-of-life") { delete_eol = true; continue; }
    if (flag == "--json") { o.json_output = true; continue; }
    if (i + 1 >= args.size()) return "option " + flag + " needs a value (see " + tool + " --help)";
    const std::string& v = args[++i];
    if (flag == "--scope") o.scope = v;
    else if (flag == "--endpoint") o.arm.endpoint = v;
    else if (flag == "--ca") o.arm.ca_file = v;
    else if (flag == "--token") o.arm.token = v;
    else if (flag == "--authority") o.arm.authority = v;
    else if (flag == "--tenant") o.arm.tenant = v;
    else if (flag == "--client-id") o.arm.client_id = v;
    else if (flag == "--client-secret") o.arm.client_secret = v;
    else if (flag == "--prices") o.prices_file = v;
    else if (flag == "--now") o.now = v;
    else if (flag == "--keep") {
      int keep = 0;
      if (!parse_count(v, keep)) return "invalid value '" + v + "' for --keep (a count >= 0)";
      o.retention = RetentionPolicy{keep, std::nullopt, false};
    } else if (flag == "--older-than") {
      if (!parse_count(v, older_than)) return "invalid value '" + v + "' for --older-than (days >= 0)";
    } else if (flag == "--poll-interval-ms") {
      if (!parse_count(v, o.arm.poll_interval_ms)) return "invalid value '" + v + "' for --poll-interval-ms";
    } else {
      return "unknown option '" + flag + "' (see " + tool + " --help)";
    }
  }
  if (o.scope.empty()) return "--scope is required (see " + tool + " --help)";
  if (tool == "retention" && !o.retention) return "--keep N is required (see retention --help)";
  if (!o.retention && (older_than >= 0 || delete_eol)) return "--older-than and --delete-end-of-life go with --keep N";
  if (o.retention) {
    if (older_than >= 0) o.retention->older_than_days = older_than;
    o.retention->delete_end_of_life = delete_eol;
  }
  return o;
}

Result<PriceTable> load_prices(const std::string& file) {
  if (file.empty()) return PriceTable::builtin();
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return bad_request("InvalidConfiguration", "cannot read the price file '" + file + "'.");
  std::string text;
  char chunk[4096];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) text.append(chunk, n);
  std::fclose(f);
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return bad_request("InvalidConfiguration", "the price file '" + file + "' is not valid JSON.");
  return PriceTable::from_json(doc);
}

// --- What a scope holds, through the ARM API ------------------------------------------------

enum class ScopeKind { subscription, resource_group, gallery, definition, version, other };

struct Scope {
  ScopeKind kind = ScopeKind::other;
  std::string id;            // without a trailing slash
  std::string subscription;
};

Scope classify(std::string id) {
  while (id.size() > 1 && id.back() == '/') id.pop_back();
  Scope s{ScopeKind::other, id, ""};
  std::vector<std::string> seg;
  for (size_t at = 0; at < id.size();) {
    size_t next = id.find('/', at);
    if (next == std::string::npos) next = id.size();
    if (next > at) seg.push_back(id.substr(at, next - at));
    at = next + 1;
  }
  if (seg.size() < 2 || !iequals(seg[0], "subscriptions")) return s;
  s.subscription = seg[1];
  auto gallery_path = [&] {
    return seg.size() >= 8 && iequals(seg[2], "resourceGroups") && iequals(seg[4], "providers") &&
           iequals(seg[5], "Microsoft.Compute") && iequals(seg[6], "galleries");
  };
  if (seg.size() == 2) s.kind = ScopeKind::subscription;
  else if (seg.size() == 4 && iequals(seg[2], "resourceGroups")) s.kind = ScopeKind::resource_group;
  else if (seg.size() == 8 && gallery_path()) s.kind = ScopeKind::gallery;
  else if (seg.size() == 10 && gallery_path() && iequals(seg[8], "images")) s.kind = ScopeKind::definition;
  else if (seg.size() == 12 && gallery_path() && iequals(seg[8], "images") && iequals(seg[10], "versions"))
    s.kind = ScopeKind::version;
  return s;
}

std::string with_api(const std::string& path, const char* api) { return path + "?" + api; }

Status append_versions_of_definition(ArmClient& arm, const std::string& definition_id, std::vector<json>& out) {
  auto versions = arm.list(with_api(definition_id + "/versions", kGalleryApi));
  if (!versions) return std::move(versions).error();
  for (json& v : *versions) out.push_back(std::move(v));
  return ok_status();
}

Status append_versions_of_gallery(ArmClient& arm, const std::string& gallery_id, std::vector<json>& out) {
  auto images = arm.list(with_api(gallery_id + "/images", kGalleryApi));
  if (!images) return std::move(images).error();
  for (const json& image : *images)
    if (auto st = append_versions_of_definition(arm, image.value("id", ""), out); !st) return st;
  return ok_status();
}

// Every image version the scope holds, as ARM shows it.
Result<std::vector<json>> versions_in(ArmClient& arm, const Scope& scope) {
  std::vector<json> out;
  if (scope.kind == ScopeKind::version) {
    auto version = arm.get(with_api(scope.id, kGalleryApi));
    if (!version) return std::move(version).error();
    out.push_back(std::move(*version));
    return out;
  }
  if (scope.kind == ScopeKind::definition) {
    if (auto st = append_versions_of_definition(arm, scope.id, out); !st) return std::move(st).error();
    return out;
  }
  if (scope.kind == ScopeKind::gallery) {
    // A GET first, so that a missing gallery is its 404 rather than an empty answer.
    if (auto gallery = arm.get(with_api(scope.id, kGalleryApi)); !gallery) return std::move(gallery).error();
    if (auto st = append_versions_of_gallery(arm, scope.id, out); !st) return std::move(st).error();
    return out;
  }
  auto galleries = arm.list(with_api(scope.id + "/providers/Microsoft.Compute/galleries", kGalleryApi));
  if (!galleries) return std::move(galleries).error();
  for (const json& g : *galleries)
    if (auto st = append_versions_of_gallery(arm, g.value("id", ""), out); !st) return std::move(st).error();
  return out;
}

// "Now" for end of life and --older-than: --now, else the emulator's clock when the endpoint
// is an emulator (its clock may be virtual or moved), else this machine's.
Result<std::int64_t> now_for(const ToolOptions& o, ArmClient& arm) {
  std::int64_t ms = 0;
  if (!o.now.empty()) {
    if (!parse_iso8601(o.now, ms)) return bad_request("InvalidArgument", "--now '" + o.now + "' is not an ISO 8601 time.");
    return ms;
  }
  if (auto clock = arm.get("/_emulator/clock"); clock && (*clock)["nowMs"].is_number_integer())
    return (*clock)["nowMs"].get<std::int64_t>();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// --- Printing ---------------------------------------------------------------------------------

std::string money(double amount, int decimals = 2) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, amount);
  return text;
}

std::string pad(const std::string& text, size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

std::string lpad(const std::string& text, size_t width) {
  return text.size() >= width ? " " + text : std::string(width - text.size(), ' ') + text;
}

// "gallery/definition/1.0.0" from a version id (or what is left of it).
std::string short_name(const std::string& id) {
  const std::string lower = to_lower(id);
  const size_t at = lower.find("/galleries/");
  if (at == std::string::npos) return id;
  std::string rest = id.substr(at + 11);
  for (const char* seg : {"/images/", "/versions/"})
    if (size_t p = to_lower(rest).find(seg); p != std::string::npos) rest.replace(p, std::string(seg).size(), "/");
  return rest;
}

void print_cost(std::ostream& out, const json& report) {
  const std::string currency = report["currency"];
  out << "Storage cost of " << report["scope"].get<std::string>() << " (" << currency
      << " per month; approximate list prices)\n\n";
  out << pad("VERSION", 34) << pad("REGION", 22) << pad("TYPE", 14) << lpad("REPLICAS", 8) << lpad("GiB", 8)
      << lpad("PRICE/GiB", 11) << lpad("MONTHLY", 11) << "\n";
  for (const json& g : report["galleries"]) {
    for (const json& d : g["definitions"]) {
      for (const json& v : d["versions"])
        for (const json& r : v["regions"])
          out << pad(short_name(v["id"]) + (v["softDeleted"].get<bool>() ? " (soft-deleted)" : ""), 34)
              << pad(r["region"], 22) << pad(r["storageAccountType"], 14)
              << lpad(std::to_string(r["replicas"].get<int>()), 8) << lpad(money(v["sizeGiB"].get<double>(), 0), 8)
              << lpad(money(r["pricePerGiBMonth"].get<double>(), 4), 11) << lpad(money(r["monthlyCost"].get<double>()), 11)
              << "\n";
      out << pad("  definition " + short_name(d["id"]), 97) << lpad(money(d["monthlyCost"].get<double>()), 11) << "\n";
    }
    out << pad("  gallery " + short_name(g["id"]), 97) << lpad(money(g["monthlyCost"].get<double>()), 11) << "\n";
  }
  out << pad("TOTAL (" + std::to_string(report["versionCount"].get<int>()) + " versions)", 97)
      << lpad(money(report["monthlyCost"].get<double>()), 11) << " " << currency << "\n";
}

std::string policy_text(const RetentionPolicy& p) {
  std::string text = "keep the " + std::to_string(p.keep) + " newest per definition";
  if (p.older_than_days) text += ", delete only versions published more than " + std::to_string(*p.older_than_days) + " days ago";
  if (p.delete_end_of_life) text += ", delete versions past end of life";
  return text + "; never the latest, one a VM uses, or one blocked before end of life";
}

void print_plan(std::ostream& out, const RetentionPlan& plan) {
  out << pad("VERSION", 34) << pad("ACTION", 8) << pad("REASON", 52) << lpad("MONTHLY", 11) << "\n";
  for (const RetentionDecision& d : plan.decisions)
    out << pad(short_name(d.id), 34) << pad(d.remove ? "delete" : "keep", 8) << pad(d.reason, 52)
        << lpad(money(d.monthly_cost), 11) << "\n";
}

std::string saving_text(const RetentionPlan& plan) {
  return std::to_string(plan.deletions()) + " of " + std::to_string(plan.decisions.size()) +
         " versions, saving " + money(plan.monthly_saving) + " " + plan.currency + " per month";
}

int fail(std::ostream& err, const ArmError& e) {
  err << "error: " << e.code << ": " << e.message << "\n";
  return 1;
}

// --- The tools --------------------------------------------------------------------------------

struct Session {
  ToolOptions options;
  PriceTable prices;
  std::unique_ptr<ArmClient> arm;
  Scope scope;
};

Result<Session> open_session(ToolOptions options) {
  auto prices = load_prices(options.prices_file);
  if (!prices) return std::move(prices).error();
  auto arm = ArmClient::connect(options.arm);
  if (!arm) return std::move(arm).error();
  Scope scope = classify(options.scope);
  return Session{std::move(options), std::move(*prices), std::move(*arm), scope};
}

Result<RetentionPlan> plan_for(Session& s, const std::vector<json>& versions) {
  auto vms = s.arm->list(with_api("/subscriptions/" + s.scope.subscription + "/providers/Microsoft.Compute/virtualMachines",
                                  kComputeApi));
  if (!vms) return std::move(vms).error();
  auto now = now_for(s.options, *s.arm);
  if (!now) return std::move(now).error();
  return plan_retention(versions, *vms, *s.options.retention, *now, s.prices);
}

int run_cost(Session& s, std::ostream& out, std::ostream& err) {
  if (s.scope.kind == ScopeKind::other)
    return fail(err, bad_request("InvalidScope", "--scope must be a subscription, resource group, gallery, image "
                                                 "definition or image version id, not '" + s.options.scope + "'."));
  auto versions = versions_in(*s.arm, s.scope);
  if (!versions) return fail(err, versions.error());
  std::vector<VersionCost> costs;
  for (const json& v : *versions) costs.push_back(version_cost(v, s.prices));
  json report = cost_report(s.scope.id, costs, s.prices);
  std::optional<RetentionPlan> plan;
  if (s.options.retention) {
    auto planned = plan_for(s, *versions);
    if (!planned) return fail(err, planned.error());
    plan = std::move(*planned);
    report["retention"] = retention_plan_json(*plan, *s.options.retention);
  }
  if (s.options.json_output) {
    out << report.dump(2) << "\n";
    return 0;
  }
  print_cost(out, report);
  if (plan)
    out << "\nRetention (" << policy_text(*s.options.retention) << ") would delete " << saving_text(*plan) << ".\n";
  return 0;
}

int run_retention(Session& s, std::ostream& out, std::ostream& err) {
  if (s.scope.kind != ScopeKind::gallery && s.scope.kind != ScopeKind::definition)
    return fail(err, bad_request("InvalidScope", "--scope must be a gallery or an image definition id, not '" +
                                                     s.options.scope + "'."));
  auto versions = versions_in(*s.arm, s.scope);
  if (!versions) return fail(err, versions.error());
  auto plan = plan_for(s, *versions);
  if (!plan) return fail(err, plan.error());
  if (s.options.json_output && s.options.dry_run) {
    out << retention_plan_json(*plan, *s.options.retention).dump(2) << "\n";
    return 0;
  }
  out << "Retention plan for " << s.scope.id << "\n(" << policy_text(*s.options.retention) << ")\n\n";
  print_plan(out, *plan);
  if (s.options.dry_run) {
    out << "\nDry run: would delete " << saving_text(*plan) << ". Nothing was deleted.\n";
    return 0;
  }
  out << "\n";
  int failures = 0;
  double saved = 0;
  for (const RetentionDecision& d : plan->decisions) {
    if (!d.remove) continue;
    if (auto st = s.arm->remove(with_api(d.id, kGalleryApi)); !st) {
      ++failures;
      err << "error: deleting " << d.id << ": " << st.error().code << ": " << st.error().message << "\n";
      continue;
    }
    saved += d.monthly_cost;
    out << "deleted " << short_name(d.id) << "\n";
  }
  out << "Deleted " << (plan->deletions() - failures) << " of " << plan->decisions.size() << " versions, saving "
      << money(saved) << " " << plan->currency << " per month"
      << (failures ? "; " + std::to_string(failures) + " deletion(s) failed" : std::string()) << ".\n";
  return failures ? 1 : 0;
}

}  // namespace

std::string tool_usage() {
  return R"(Planning tools: talk to an ARM endpoint (the emulator by default) over HTTPS with a token.

Usage: acg-emulator cost --scope ID [--keep N [--older-than DAYS] [--delete-end-of-life]] [options]
       acg-emulator retention --scope ID --keep N [--older-than DAYS] [--delete-end-of-life] [--dry-run] [options]

cost        what the image versions in ID (a subscription, resource group, gallery, image definition or
            version) cost to keep per month: size x replicas x price per GiB-month in each target region,
            by version, definition and gallery; with --keep, also what that retention plan would save
retention   deletes the old image versions of ID (a gallery or image definition) through the ARM API:
            keeps the N newest per definition, the latest, every version a VM uses and every version
            blocked before its end of life; prints each version's action and reason and the saving
  --keep N               newest versions kept per definition
  --older-than DAYS      delete only versions published more than DAYS ago
  --delete-end-of-life   also delete versions past their end of life, even among the N newest
  --dry-run              print the plan only

Options
  --endpoint URL         ARM endpoint (default https://127.0.0.1:8443)
  --ca FILE              CA certificate to trust (default ./acg-data/tls/ca.pem when present and
                         SSL_CERT_FILE is unset; otherwise the system's trust store)
  --tenant ID --client-id ID --client-secret S
                         client-credentials token (default: the emulator's well-known principal)
  --authority URL        token service (default: the endpoint; e.g. https://login.microsoftonline.com)
  --token T              a bearer token to use as is
  --prices FILE          price overrides merged over the built-in table (README "Storage cost")
  --now TIME             ISO 8601 "now" for end of life and --older-than (default: the emulator's
                         clock when the endpoint is an emulator, else this machine's)
  --json                 print JSON instead of a table (retention: with --dry-run)
  --poll-interval-ms N   between polls of a deletion's long-running operation (default 500)

Exit status: 0 done, 1 an ARM or connection error (printed as code: message), 2 bad usage.
)";
}

bool is_tool_command(const std::vector<std::string>& args) {
  return !args.empty() && (args[0] == "cost" || args[0] == "retention");
}

int run_tool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const std::string tool = args.at(0);
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const std::string& a : rest)
    if (a == "--help" || a == "-h") {
      out << tool_usage();
      return 0;
    }
  auto parsed = parse_tool_options(tool, rest);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    err << "acg-emulator " << tool << ": " << *error << "\n";
    return 2;
  }
  auto session = open_session(std::get<ToolOptions>(std::move(parsed)));
  if (!session) return fail(err, session.error());
  return tool == "cost" ? run_cost(*session, out, err) : run_retention(*session, out, err);
}

}  // namespace acg::api
