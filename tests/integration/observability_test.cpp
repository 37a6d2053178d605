// Operator experience over HTTPS: the structured access log (what it says, and that no token,
// client secret or SAS signature ever reaches it) and the Prometheus metrics endpoint (valid
// exposition, counters that follow the requests made).

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kV = "?api-version=2022-03-03";

std::string rg_resource(const std::string& type, const std::string& name) {
  return TestEmulator::group_path("rg") + "/providers/" + type + "/" + name;
}

// A fresh file name in the temp directory, removed when the test ends.
struct TempFile {
  std::string path;
  TempFile() {
    static int n = 0;
    path = (std::filesystem::temp_directory_path() /
            ("acg-observability-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".log"))
               .string();
    std::filesystem::remove(path);
  }
  ~TempFile() { std::filesystem::remove(path); }
  std::string read() const {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(read());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
};

// --- A strict parser of the Prometheus text exposition format 0.0.4 -----------------------

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> counter | gauge | histogram | ...
  std::vector<Sample> samples;

  // Samples of `name` whose labels include `match`.
  std::vector<Sample> find(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    std::vector<Sample> out;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) ok = ok && s.labels.count(k) && s.labels.at(k) == v;
      if (ok) out.push_back(s);
    }
    return out;
  }
};

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool is_name_char(char c) { return is_name_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

double parse_value(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  size_t used = 0;
  double v = std::stod(text, &used);
  if (used != text.size()) throw std::runtime_error("bad value '" + text + "'");
  return v;
}

// The family a sample belongs to: histogram samples carry _bucket/_sum/_count.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  if (types.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      if (types.count(base) && types.at(base) == "histogram") return base;
    }
  }
  return {};
}

// Throws std::runtime_error naming the line on any violation.
Exposition parse_exposition(const std::string& text) {
  Exposition e;
  std::set<std::string> helped, finished;
  std::string current;  // family whose samples are being read
  std::istringstream in(text);
  int number = 0;
  if (text.empty() || text.back() != '\n') throw std::runtime_error("the exposition must end with a newline");
  for (std::string line; std::getline(in, line);) {
    ++number;
    auto fail = [&](const std::string& why) {
      throw std::runtime_error("line " + std::to_string(number) + " '" + line + "': " + why);
    };
    if (line.empty()) fail("empty line");
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      if (kind != "HELP" && kind != "TYPE") continue;  // other comments are allowed
      if (name.empty() || !is_name_start(name[0])) fail("bad metric name");
      if (finished.count(name)) fail("family appears twice");
      if (kind == "HELP") {
        if (helped.count(name)) fail("second HELP");
        helped.insert(name);
      } else {
        std::string type, extra;
        words >> type;
        if (words >> extra) fail("text after the type");
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" && type != "untyped")
          fail("unknown type");
        if (e.types.count(name)) fail("second TYPE");
        e.types[name] = type;
      }
      if (!current.empty() && current != name) finished.insert(current);
      current = name;
      continue;
    }
    Sample s;
    size_t i = 0;
    if (!is_name_start(line[0])) fail("bad sample name");
    while (i < line.size() && is_name_char(line[i])) ++i;
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t start = i;
        if (!is_name_start(line[i])) fail("bad label name");
        while (i < line.size() && is_name_char(line[i])) ++i;
        std::string label = line.substr(start, i - start);
        if (i >= line.size() || line[i] != '=') fail("expected '='");
        if (++i >= line.size() || line[i] != '"') fail("label value not quoted");
        std::string value;
        for (++i;; ++i) {
          if (i >= line.size()) fail("unterminated label value");
          if (line[i] == '"') break;
          if (line[i] == '\\') {
            if (++i >= line.size()) fail("dangling escape");
            if (line[i] == 'n') value += '\n';
            else if (line[i] == '\\' || line[i] == '"') value += line[i];
            else fail("bad escape");
          } else {
            value += line[i];
          }
        }
        ++i;  // closing quote
        if (s.labels.count(label)) fail("label repeated");
        s.labels[label] = value;
        if (i < line.size() && line[i] == ',') ++i;
        else if (i >= line.size() || line[i] != '}') fail("expected ',' or '}'");
      }
      if (i >= line.size()) fail("unterminated label set");
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') fail("expected one space before the value");
    std::string rest = line.substr(i + 1);
    if (rest.find(' ') != std::string::npos) fail("timestamps are not expected");
    try {
      s.value = parse_value(rest);
    } catch (const std::exception&) {
      fail("bad value");
    }
    const std::string family = family_of(s.name, e.types);
    if (family.empty()) fail("no # TYPE precedes this sample");
    if (!helped.count(family)) fail("no # HELP precedes this sample");
    if (family != current) fail("sample outside its family's block");
    e.samples.push_back(std::move(s));
  }
  // Histograms: buckets cumulative and monotone in le, +Inf last, _count == +Inf bucket.
  for (const auto& [family, type] : e.types) {
    if (type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> series;
    for (const auto& s : e.find(family + "_bucket")) {
      auto labels = s.labels;
      if (!labels.count("le")) throw std::runtime_error(family + ": bucket without le");
      double le = parse_value(labels["le"]);
      labels.erase("le");
      series[labels].emplace_back(le, s.value);
    }
    if (series.empty()) throw std::runtime_error(family + ": no buckets");
    for (const auto& [labels, buckets] : series) {
      for (size_t k = 1; k < buckets.size(); ++k) {
        if (!(buckets[k].first > buckets[k - 1].first)) throw std::runtime_error(family + ": le not increasing");
        if (buckets[k].second < buckets[k - 1].second) throw std::runtime_error(family + ": buckets not cumulative");
      }
      if (!std::isinf(buckets.back().first)) throw std::runtime_error(family + ": last bucket is not +Inf");
      std::vector<Sample> count, sum;
      for (const auto& s : e.find(family + "_count"))
        if (s.labels == labels) count.push_back(s);
      for (const auto& s : e.find(family + "_sum"))
        if (s.labels == labels) sum.push_back(s);
      if (count.size() != 1 || sum.size() != 1) throw std::runtime_error(family + ": _count/_sum missing");
      if (count[0].value != buckets.back().second) throw std::runtime_error(family + ": _count != +Inf bucket");
    }
  }
  return e;
}

}  // namespace

TEST_CASE("the JSON access log has one object per request and never a token, secret or SAS", "[observability]") {
  TempFile log;
  TestEmulator emu(test_options([&](acg::api::AppOptions& o) {
    o.log_format = "json";
    o.log_file = log.path;
  }));
  const std::string token = emu.token();  // POSTs kSecret in a form body
  REQUIRE(emu.http().request("POST", "/" + kTenant + "/oauth2/v2.0/token",
                             "grant_type=client_credentials&client_id=" + kClientId +
                                 "&client_secret=WRONG-SECRET-XYZ&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
                             {{"Content-Type", "application/x-www-form-urlencoded"}})
              .status == 401);
  const acg::test::Headers bearer = {{"Authorization", "Bearer " + token}, {"Cookie", "session=COOKIE-VALUE-789"}};
  auto call = [&](const std::string& method, const std::string& target, const std::string& body = {}) {
    return emu.http().request(method, target, body, bearer);
  };
  REQUIRE(call("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
  REQUIRE(call("PUT", TestEmulator::gallery_path("rg", "gal") + kV, R"({"location":"westus"})").status == 201);
  // A SAS-like query and a $skiptoken on a list: neither may reach the log.
  call("GET", TestEmulator::gallery_path("rg", "gal") + "/images" + kV + "&sig=SECRETSIG123&$skiptoken=SKIPTOKEN456");
  CHECK(call("GET", "/subscriptions/" + kSub + "/resourcegroups?api-version=2021-04-01&$skiptoken=SKIPTOKEN456")
            .status == 400);
  // A VHD source with a SAS in its URI, inside a body.
  json definition = {{"location", "westus"},
                     {"properties",
                      {{"osType", "Linux"}, {"osState", "Generalized"}, {"hyperVGeneration", "V1"},
                       {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", "s"}}}}}};
  REQUIRE(call("PUT", TestEmulator::gallery_path("rg", "gal") + "/images/linux" + kV, definition.dump()).status == 201);
  auto account = call("PUT", rg_resource("Microsoft.Storage/storageAccounts", "vhds") + "?api-version=2023-01-01",
                      R"({"location":"westus","kind":"StorageV2","sku":{"name":"Standard_LRS"}})");
  REQUIRE((account.status == 200 || account.status == 201));
  json version = {{"location", "westus"},
                  {"properties",
                   {{"storageProfile",
                     {{"osDiskImage",
                       {{"source",
                         {{"uri", "https://vhds.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&sp=r&se=2099-01-01T00%3A00%3A00Z"
                                  "&sig=VHDSIGNATURE999%3D"},
                          {"storageAccountId", account.json()["id"]}}}}}}}}}};
  auto created = call("PUT", TestEmulator::gallery_path("rg", "gal") + "/images/linux/versions/1.0.0" + kV, version.dump());
  INFO(created.body);
  REQUIRE(created.status == 201);
  // Unauthenticated and unmatched requests are logged too.
  CHECK(emu.http().request("GET", "/subscriptions/" + kSub + "/resourcegroups?api-version=2021-04-01").status == 401);
  CHECK(call("GET", "/no/such/path").status == 404);

  const std::string text = log.read();
  for (const std::string& secret : {token, kSecret, std::string("WRONG-SECRET-XYZ"), std::string("SECRETSIG123"),
                                    std::string("SKIPTOKEN456"), std::string("VHDSIGNATURE999"),
                                    std::string("COOKIE-VALUE-789"), std::string("sig="), std::string("Bearer")}) {
    INFO(secret);
    CHECK(text.find(secret) == std::string::npos);
  }
  const auto lines = log.lines();
  REQUIRE(lines.size() >= 11);
  bool saw_gallery_put = false, saw_error_code = false, saw_anonymous = false;
  for (const std::string& line : lines) {
    INFO(line);
    json j = json::parse(line, nullptr, false);
    REQUIRE(j.is_object());
    for (const char* field : {"time", "requestId", "principal", "method", "path", "apiVersion", "status", "errorCode",
                              "durationMs", "remoteAddress"})
      CHECK(j.contains(field));
    CHECK(j["time"].get<std::string>().size() == 24);  // 2024-05-01T12:34:56.789Z
    CHECK(j["time"].get<std::string>().back() == 'Z');
    CHECK(j["path"].get<std::string>().find('?') == std::string::npos);
    CHECK(j["remoteAddress"] == "127.0.0.1");
    CHECK(j["durationMs"].is_number());
    CHECK(!j.contains("requestHeaders"));  // info level
    if (j["method"] == "PUT" && j["path"] == TestEmulator::gallery_path("rg", "gal")) {
      saw_gallery_put = true;
      CHECK(j["status"] == 201);
      CHECK(j["apiVersion"] == "2022-03-03");
      CHECK(j["errorCode"] == "");
      CHECK(j["principal"]["clientId"] == kClientId);
      CHECK(!j["principal"]["objectId"].get<std::string>().empty());
    }
    if (j["status"] == 400 && j["errorCode"] == "InvalidSkipToken") saw_error_code = true;
    if (j["status"] == 401 && j["errorCode"] == "AuthenticationFailed") saw_anonymous = j["principal"].is_null();
  }
  CHECK(saw_gallery_put);
  CHECK(saw_error_code);
  CHECK(saw_anonymous);
}

TEST_CASE("log levels: warn keeps 4xx and 5xx, debug adds header names but never their values", "[observability]") {
  TempFile warn_log, debug_log;
  {
    TestEmulator emu(test_options([&](acg::api::AppOptions& o) {
      o.log_file = warn_log.path;
      o.log_level = "warn";
    }));
    CHECK(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
    CHECK(emu.arm("GET", TestEmulator::group_path("missing") + "?api-version=2021-04-01").status == 404);
  }
  const auto warn_lines = warn_log.lines();
  REQUIRE(warn_lines.size() == 1);  // text format: "GET /subscriptions/.../missing 404 0.1ms <id>"
  CHECK(warn_lines[0].rfind("GET " + TestEmulator::group_path("missing") + " 404 ", 0) == 0);

  TestEmulator emu(test_options([&](acg::api::AppOptions& o) {
    o.log_file = debug_log.path;
    o.log_format = "json";
    o.log_level = "debug";
  }));
  const std::string token = emu.token();
  CHECK(emu.arm("GET", "/subscriptions?api-version=2020-01-01").status == 200);
  const std::string text = debug_log.read();
  CHECK(text.find(token) == std::string::npos);
  CHECK(text.find(kSecret) == std::string::npos);
  bool saw = false;
  for (const std::string& line : debug_log.lines()) {
    json j = json::parse(line, nullptr, false);
    REQUIRE(j.is_object());
    if (j["path"] != "/subscriptions") continue;
    saw = true;
    CHECK(j["route"] == "/subscriptions");
    auto names = j["requestHeaders"].get<std::vector<std::string>>();
    CHECK(std::find(names.begin(), names.end(), "Authorization") != names.end());
    CHECK(!j["responseHeaders"].empty());
  }
  CHECK(saw);
}

TEST_CASE("GET /_emulator/metrics is a valid Prometheus exposition that follows the requests", "[observability]") {
  TestEmulator emu;
  REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
  REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kV, R"({"location":"westus"})").status == 201);
  REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "gal2") + kV, R"({"location":"westus"})").status == 201);
  REQUIRE(emu.arm("GET", TestEmulator::gallery_path("rg", "gal") + kV).status == 200);
  REQUIRE(emu.arm("GET", TestEmulator::gallery_path("rg", "nope") + kV).status == 404);
  REQUIRE(emu.arm("GET", "/no/such/path/x%22y").status == 404);

  auto r = emu.http().request("GET", "/_emulator/metrics");  // no token
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  INFO(r.body);
  Exposition e;
  try {
    e = parse_exposition(r.body);
  } catch (const std::exception& ex) {
    FAIL(ex.what());
  }
  const std::string gallery_route =
      "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{n0}";
  CHECK(e.types["acg_http_requests_total"] == "counter");
  auto puts = e.find("acg_http_requests_total", {{"method", "PUT"}, {"status", "201"}});
  double gallery_puts = 0;
  for (const auto& s : puts)
    if (s.labels.at("route") == gallery_route) gallery_puts += s.value;
  CHECK(gallery_puts == 2);
  auto gets = e.find("acg_http_requests_total", {{"method", "GET"}, {"status", "404"}});
  double unmatched = 0, routed_404 = 0;
  for (const auto& s : gets) (s.labels.at("route") == "unmatched" ? unmatched : routed_404) += s.value;
  CHECK(unmatched == 1);
  CHECK(routed_404 == 1);
  for (const auto& s : e.find("acg_http_requests_total")) {
    CHECK(s.labels.at("route").find("gal2") == std::string::npos);  // templates, never raw paths
    CHECK(s.labels.at("route").find("x\"y") == std::string::npos);
  }

  CHECK(e.types["acg_http_request_duration_seconds"] == "histogram");
  auto count = e.find("acg_http_request_duration_seconds_count");
  REQUIRE(count.size() == 1);
  CHECK(count[0].value >= 7);  // the token request, six ARM calls (the scrape itself is not yet counted)
  CHECK(e.types["acg_sqlite_transaction_seconds"] == "histogram");
  auto writes = e.find("acg_sqlite_transaction_seconds_count", {{"kind", "write"}});
  REQUIRE(writes.size() == 1);
  CHECK(writes[0].value >= 3);

  auto galleries = e.find("acg_resources", {{"type", "Microsoft.Compute/galleries"}});
  REQUIRE(galleries.size() == 1);
  CHECK(galleries[0].value == 2);
  auto groups = e.find("acg_resources", {{"type", "Microsoft.Resources/resourceGroups"}});
  CHECK(groups.size() == 1);
  REQUIRE(e.find("acg_long_running_operations_in_flight").size() == 1);
  CHECK(e.find("acg_long_running_operations_in_flight")[0].value == 0);
  for (const char* state : {"Replicating", "Completed", "Failed"})
    CHECK(e.find("acg_replication_jobs", {{"state", state}}).size() == 1);
  auto build = e.find("acg_build_info");
  REQUIRE(build.size() == 1);
  CHECK(build[0].value == 1);
  CHECK(!build[0].labels["version"].empty());
  REQUIRE(e.find("acg_uptime_seconds").size() == 1);
  CHECK(e.find("acg_uptime_seconds")[0].value >= 0);

  // A second scrape counts the first.
  auto again = parse_exposition(emu.http().request("GET", "/_emulator/metrics").body);
  auto scrapes = again.find("acg_http_requests_total", {{"route", "/_emulator/metrics"}, {"status", "200"}});
  REQUIRE(scrapes.size() == 1);
  CHECK(scrapes[0].value == 1);
}

TEST_CASE("metrics count long-running operations in flight and replication jobs by state", "[observability]") {
  TestEmulator emu(test_options([](acg::api::AppOptions& o) { o.operation_delay_ms = 60000; }));
  auto r = emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})");
  REQUIRE((r.status == 200 || r.status == 201));
  auto gallery = emu.arm("PUT", TestEmulator::gallery_path("rg", "gal") + kV, R"({"location":"westus"})");
  REQUIRE(gallery.status == 201);
  auto e = parse_exposition(emu.http().request("GET", "/_emulator/metrics").body);
  REQUIRE(e.find("acg_long_running_operations_in_flight").size() == 1);
  CHECK(e.find("acg_long_running_operations_in_flight")[0].value >= 1);
}
