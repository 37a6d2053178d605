// Build logs: one meta value holding, per resource, the lines a build wrote (an Image Builder
// run's customization log, an SSH build session's commands and uploads). One value keeps a
// reset and a snapshot simple; logs are small and bounded (Emulator::kMaxBuildLogs resources,
// kMaxBuildLogLines lines each), so rewriting it on each append costs little.

#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr const char* kBuildLogsKey = "build.logs";

// [{"resourceId", "lines": [...]}, ...], oldest log first; malformed or absent: empty.
json parse_logs(const std::string& text) {
  json logs = json::parse(text.empty() ? "[]" : text, nullptr, false);
  return logs.is_array() ? logs : json::array();
}

json* find_log(json& logs, const std::string& resource_id) {
  for (json& log : logs)
    if (iequals(log.value("resourceId", ""), resource_id)) return &log;
  return nullptr;
}

}  // namespace

Status Emulator::append_build_log(const std::string& resource_id, const std::string& source, const std::string& text) {
  auto appended = write<bool>([&]() -> Result<bool> {
           auto stored = store_->get_meta(kBuildLogsKey);
           if (!stored.ok()) return internal_error(stored.error().message);
           json logs = parse_logs(stored.value());
           json* log = find_log(logs, resource_id);
           if (!log) {
             logs.push_back({{"resourceId", resource_id}, {"lines", json::array()}});
             if (logs.size() > kMaxBuildLogs) logs.erase(logs.begin());
             log = &logs.back();
           }
           json& lines = (*log)["lines"];
           lines.push_back({{"time", format_arm_time(clock_.now_ms())}, {"source", source}, {"text", text}});
           if (lines.size() > kMaxBuildLogLines) lines.erase(lines.begin());
           if (auto st = store_->put_meta(kBuildLogsKey, logs.dump(-1, ' ', false, json::error_handler_t::replace));
               !st.ok())
             return internal_error(st.error().message);
           return true;
         });
  if (!appended) return std::move(appended).error();
  return ok_status();
}

Result<json> Emulator::build_log(const std::string& resource_id) {
  return read<json>([&]() -> Result<json> {
    auto stored = store_->get_meta(kBuildLogsKey);
    if (!stored.ok()) return internal_error(stored.error().message);
    json logs = parse_logs(stored.value());
    if (json* log = find_log(logs, resource_id)) return *log;
    return not_found("NotFound", "No build log is recorded for '" + resource_id + "'.");
  });
}

Result<json> Emulator::build_logs() {
  return read<json>([&]() -> Result<json> {
    auto stored = store_->get_meta(kBuildLogsKey);
    if (!stored.ok()) return internal_error(stored.error().message);
    json summary = json::array();
    for (const json& log : parse_logs(stored.value()))
      summary.push_back({{"resourceId", log.value("resourceId", "")}, {"lines", log["lines"].size()}});
    return json{{"value", summary}};
  });
}

}  // namespace acg
