// The metrics registry's exposition (api/metrics.h), the access log's lines
// (api/access_log.h) and the logging flags (api/options.cpp).

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "api/access_log.h"
#include "api/app.h"
#include "api/metrics.h"

using namespace acg::api;

TEST_CASE("label values are quoted with escapes, numbers in shortest form", "[metrics]") {
  CHECK(Metrics::quote("plain") == "\"plain\"");
  CHECK(Metrics::quote("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"");
  CHECK(Metrics::number(0.005) == "0.005");
  CHECK(Metrics::number(1) == "1");
  CHECK(Metrics::number(1.0 / 0.0) == "+Inf");
}

TEST_CASE("histograms are cumulative, le inclusive, +Inf last; requests counted by route", "[metrics]") {
  Metrics m("9.9.9");
  m.observe_request("/a/{x}", "get", 200, 0.001);  // on the first bound: in it
  m.observe_request("/a/{x}", "GET", 200, 0.2);
  m.observe_request("unmatched", "BREW", 404, 7);
  m.observe_transaction(true, 0.002);
  const std::string text = m.render(MetricsGauges{2, {{"Completed", 3}}, {{"Microsoft.Compute/galleries", 4}}});
  INFO(text);
  CHECK(text.find("acg_http_requests_total{route=\"/a/{x}\",method=\"GET\",status=\"200\"} 2\n") != std::string::npos);
  CHECK(text.find("acg_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 1\n") != std::string::npos);
  CHECK(text.find("acg_http_request_duration_seconds_bucket{le=\"0.001\"} 1\n") != std::string::npos);
  CHECK(text.find("acg_http_request_duration_seconds_bucket{le=\"0.5\"} 2\n") != std::string::npos);
  CHECK(text.find("acg_http_request_duration_seconds_bucket{le=\"5\"} 2\n") != std::string::npos);
  CHECK(text.find("acg_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("acg_http_request_duration_seconds_count 3\n") != std::string::npos);
  CHECK(text.find("acg_sqlite_transaction_seconds_count{kind=\"write\"} 1\n") != std::string::npos);
  CHECK(text.find("acg_sqlite_transaction_seconds_count{kind=\"read\"} 0\n") != std::string::npos);
  CHECK(text.find("acg_long_running_operations_in_flight 2\n") != std::string::npos);
  CHECK(text.find("acg_replication_jobs{state=\"Completed\"} 3\n") != std::string::npos);
  CHECK(text.find("acg_replication_jobs{state=\"Failed\"} 0\n") != std::string::npos);
  CHECK(text.find("acg_resources{type=\"Microsoft.Compute/galleries\"} 4\n") != std::string::npos);
  CHECK(text.find("acg_build_info{version=\"9.9.9\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE acg_uptime_seconds gauge\nacg_uptime_seconds ") != std::string::npos);
}

TEST_CASE("access log lines: path only, error code from the ARM body, header names at debug", "[metrics][log]") {
  HttpRequest request{"PUT", "/a?sig=SECRET", {{"Authorization", "Bearer TOKEN"}}, "client_secret=S", "127.0.0.2"};
  HttpResponse response{404, {{"Content-Type", "application/json"}}, R"({"error":{"code":"ResourceNotFound","message":"m"}})"};
  const std::string id = "rid", path = "/a", route = "/a", version = "2022-03-03";
  acg::Principal principal{"client", "object", "secret", "tenant", "", "ServicePrincipal"};
  AccessLogEntry e{request, response, id, path, 1.25, route, version, &principal};

  auto j = nlohmann::json::parse(AccessLogWriter::json_line(e, "2024-01-02T03:04:05.678Z", false));
  CHECK(j["time"] == "2024-01-02T03:04:05.678Z");
  CHECK(j["requestId"] == "rid");
  CHECK(j["principal"] == nlohmann::json{{"clientId", "client"}, {"objectId", "object"}});
  CHECK(j["path"] == "/a");
  CHECK(j["apiVersion"] == "2022-03-03");
  CHECK(j["status"] == 404);
  CHECK(j["errorCode"] == "ResourceNotFound");
  CHECK(j["durationMs"] == 1.25);
  CHECK(j["remoteAddress"] == "127.0.0.2");
  CHECK(!j.contains("requestHeaders"));
  const std::string debug = AccessLogWriter::json_line(e, "t", true);
  CHECK(nlohmann::json::parse(debug)["requestHeaders"] == nlohmann::json{"Authorization"});
  for (const std::string& line : {debug, AccessLogWriter::text_line(e, true)})
    for (const char* secret : {"SECRET", "TOKEN", "client_secret", "secret\""}) {
      INFO(line);
      CHECK(line.find(secret) == std::string::npos);
    }
  CHECK(AccessLogWriter::text_line(e, false) == "PUT /a 404 1.2ms rid");

  HttpResponse oauth{401, {}, R"({"error":"invalid_client","error_description":"d"})"};
  CHECK(AccessLogWriter::error_code(oauth) == "invalid_client");
  HttpResponse ok{200, {}, R"({"error":{"code":"NotAnError"}})"};
  CHECK(AccessLogWriter::error_code(ok).empty());
}

TEST_CASE("--log-level, --log-format and --log-file", "[options][log]") {
  auto parsed = parse_command_line({"--log-level", "warn", "--log-format", "json", "--log-file", "/tmp/x.log"});
  REQUIRE(std::holds_alternative<AppOptions>(parsed));
  const auto& o = std::get<AppOptions>(parsed);
  CHECK(o.log_level == "warn");
  CHECK(o.log_format == "json");
  CHECK(o.log_file == "/tmp/x.log");
  CHECK(std::holds_alternative<std::string>(parse_command_line({"--log-level", "verbose"})));
  CHECK(std::holds_alternative<std::string>(parse_command_line({"--log-format", "xml"})));
  CHECK(std::holds_alternative<std::string>(parse_command_line({"--log-file"})));
  auto plain = std::get<AppOptions>(parse_command_line({}));
  CHECK(plain.log_format == "text");
  CHECK(plain.log_level.empty());
  CHECK_FALSE(plain.log_requests);
  for (const char* flag : {"--log-level", "--log-format", "--log-file", "--log-requests", "/_emulator/metrics"})
    CHECK(usage().find(flag) != std::string::npos);
}
