#pragma once
// The access log: one line per answered request, as text (the historical
// "METHOD path status 1.2ms request-id") or as one JSON object per line, on stderr or
// appended to a file. README "Logs and metrics".
//
// What is never written: header values (Authorization, cookies), bodies (the token endpoints
// receive client secrets and passwords in them) and query strings (SAS signatures,
// $skiptoken). Only the path, header *names* (debug) and the ARM error code.

#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "api/pipeline.h"
#include "emulator/arm_error.h"

namespace acg::api {

enum class LogLevel { error, warn, info, debug };

// "error" | "warn" | "info" | "debug"; nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view text);

class AccessLogWriter {
 public:
  // json: one JSON object per line, else text. file: appended to; empty: stderr.
  static Result<std::unique_ptr<AccessLogWriter>> open(bool json, LogLevel level, const std::string& file);
  ~AccessLogWriter();
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;

  // Writes the entry's line when the level admits its status (warn: 4xx and 5xx; error: 5xx).
  void write(const AccessLogEntry& e);

  // The line (without newline) for an entry; `time` is ISO 8601 UTC. Headers names at debug.
  static std::string json_line(const AccessLogEntry& e, const std::string& time, bool debug);
  static std::string text_line(const AccessLogEntry& e, bool debug);
  // The ARM error code of an error response's body ("error": {"code"} or OAuth's "error"),
  // or empty.
  static std::string error_code(const HttpResponse& response);

 private:
  AccessLogWriter(bool json, LogLevel level, std::FILE* out, bool owned);

  const bool json_;
  const LogLevel level_;
  std::mutex mutex_;
  std::FILE* out_;  // GUARDED_BY(mutex_)
  const bool owned_;
};

}  // namespace acg::api
