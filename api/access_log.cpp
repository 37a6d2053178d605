#include "api/access_log.h"

#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

namespace acg::api {

using nlohmann::json;

namespace {

// Wall-clock time with milliseconds: "2024-05-01T12:34:56.789Z".
std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

nlohmann::ordered_json header_names(const HeaderList& headers) {
  nlohmann::ordered_json names = nlohmann::ordered_json::array();
  for (const auto& [name, value] : headers) names.push_back(name);
  return names;
}

std::string joined_names(const HeaderList& headers) {
  std::string out;
  for (const auto& [name, value] : headers) out += (out.empty() ? "" : ",") + name;
  return out;
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "error") return LogLevel::error;
  if (text == "warn") return LogLevel::warn;
  if (text == "info") return LogLevel::info;
  if (text == "debug") return LogLevel::debug;
  return std::nullopt;
}

Result<std::unique_ptr<AccessLogWriter>> AccessLogWriter::open(bool json, LogLevel level, const std::string& file) {
  if (file.empty()) return std::unique_ptr<AccessLogWriter>(new AccessLogWriter(json, level, stderr, false));
  std::FILE* out = std::fopen(file.c_str(), "a");
  if (!out) return internal_error("cannot open the log file '" + file + "': " + std::strerror(errno));
  return std::unique_ptr<AccessLogWriter>(new AccessLogWriter(json, level, out, true));
}

AccessLogWriter::AccessLogWriter(bool json, LogLevel level, std::FILE* out, bool owned)
    : json_(json), level_(level), out_(out), owned_(owned) {}

AccessLogWriter::~AccessLogWriter() {
  if (owned_) std::fclose(out_);
}

std::string AccessLogWriter::error_code(const HttpResponse& response) {
  if (response.status < 400 || response.body.empty()) return {};
  json body = json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body.contains("error")) return {};
  const json& error = body["error"];
  if (error.is_string()) return error.get<std::string>();  // OAuth: {"error": "invalid_client"}
  if (error.is_object() && error.contains("code") && error["code"].is_string()) return error["code"].get<std::string>();
  return {};
}

std::string AccessLogWriter::json_line(const AccessLogEntry& e, const std::string& time, bool debug) {
  nlohmann::ordered_json line = {{"time", time},
               {"requestId", e.request_id},
               {"principal", nullptr},
               {"method", e.request.method},
               {"path", e.path},
               {"apiVersion", e.api_version},
               {"status", e.response.status},
               {"errorCode", error_code(e.response)},
               {"durationMs", std::round(e.duration_ms * 1000) / 1000},
               {"remoteAddress", e.request.remote_address}};
  if (e.principal)
    line["principal"] = {{"clientId", e.principal->client_id}, {"objectId", e.principal->object_id}};
  if (debug) {
    line["route"] = e.route;
    line["requestHeaders"] = header_names(e.request.headers);
    line["responseHeaders"] = header_names(e.response.headers);
  }
  // Paths and names may carry anything a client sent: replace, never throw, on invalid UTF-8.
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string AccessLogWriter::text_line(const AccessLogEntry& e, bool debug) {
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.1fms", e.duration_ms);
  std::string line = e.request.method + " " + e.path + " " + std::to_string(e.response.status) + " " + duration +
                     " " + e.request_id;
  if (debug)
    line += " request-headers=" + joined_names(e.request.headers) +
            " response-headers=" + joined_names(e.response.headers);
  return line;
}

void AccessLogWriter::write(const AccessLogEntry& e) {
  const int status = e.response.status;
  if (level_ == LogLevel::error && status < 500) return;
  if (level_ == LogLevel::warn && status < 400) return;
  const bool debug = level_ == LogLevel::debug;
  std::string line = json_ ? json_line(e, utc_now(), debug) : text_line(e, debug);
  line += '\n';
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace acg::api
