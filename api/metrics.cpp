#include "api/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace acg::api {

namespace {

const std::vector<double> kRequestBuckets = {.001, .005, .01, .05, .1, .5, 1, 5};
const std::vector<double> kTransactionBuckets = {.0001, .0005, .001, .005, .01, .05, .1, .5, 1};

// Methods outside HTTP's usual set are counted as "other": a client cannot grow the label set.
std::string method_label(std::string_view method) {
  static const char* const known[] = {"GET", "PUT", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS"};
  std::string upper(method);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const char* k : known)
    if (upper == k) return upper;
  return "other";
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  ++counts_[i];  // le is inclusive: value == bound falls in that bucket
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  std::uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    // Bounds in plain decimals ("0.0001", not "1e-04"), as client libraries print them.
    char bound[32];
    if (i < bounds_.size()) std::snprintf(bound, sizeof bound, "%.10g", bounds_[i]);
    const std::string le = i < bounds_.size() ? bound : "+Inf";
    out += name + "_bucket{" + prefix + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + Metrics::number(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics(std::string version)
    : version_(std::move(version)),
      started_(std::chrono::steady_clock::now()),
      request_seconds_(kRequestBuckets),
      write_seconds_(kTransactionBuckets),
      read_seconds_(kTransactionBuckets) {}

void Metrics::observe_request(std::string_view route, std::string_view method, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), method_label(method), status}];
  request_seconds_.observe(seconds);
}

void Metrics::observe_transaction(bool write, double seconds) {
  std::lock_guard lock(mutex_);
  (write ? write_seconds_ : read_seconds_).observe(seconds);
}

std::string Metrics::quote(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

std::string Metrics::number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

std::string Metrics::render(const MetricsGauges& gauges) const {
  std::string out;
  out.reserve(8192);
  std::lock_guard lock(mutex_);

  header(out, "acg_http_requests_total", "counter", "ARM and emulator requests answered, by route template, method and status.");
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out += "acg_http_requests_total{route=" + quote(route) + ",method=" + quote(method) +
           ",status=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
  }

  header(out, "acg_http_request_duration_seconds", "histogram", "Time to answer a request, in seconds.");
  request_seconds_.render(out, "acg_http_request_duration_seconds", "");

  header(out, "acg_sqlite_transaction_seconds", "histogram",
         "Time of each emulator store transaction (write) or read, in seconds.");
  write_seconds_.render(out, "acg_sqlite_transaction_seconds", "kind=\"write\"");
  read_seconds_.render(out, "acg_sqlite_transaction_seconds", "kind=\"read\"");

  header(out, "acg_long_running_operations_in_flight", "gauge", "Long-running operations InProgress.");
  out += "acg_long_running_operations_in_flight " + std::to_string(gauges.operations_in_flight) + "\n";

  header(out, "acg_replication_jobs", "gauge", "Replication jobs (one per version and target region), by state.");
  std::map<std::string, std::int64_t> jobs = {{"Completed", 0}, {"Failed", 0}, {"Replicating", 0}};
  for (const auto& [state, count] : gauges.replication_jobs) jobs[state] += count;
  for (const auto& [state, count] : jobs)
    out += "acg_replication_jobs{state=" + quote(state) + "} " + std::to_string(count) + "\n";

  header(out, "acg_resources", "gauge", "Stored resources, by ARM type.");
  for (const auto& [type, count] : gauges.resources)
    out += "acg_resources{type=" + quote(type) + "} " + std::to_string(count) + "\n";

  header(out, "acg_build_info", "gauge", "The emulator's version; always 1.");
  out += "acg_build_info{version=" + quote(version_) + "} 1\n";

  header(out, "acg_uptime_seconds", "gauge", "Seconds since the emulator started.");
  out += "acg_uptime_seconds " +
         number(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()) + "\n";
  return out;
}

}  // namespace acg::api
