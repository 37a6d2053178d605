#pragma once
// Operator metrics: counters and histograms fed by the request pipeline (through the access
// log hook) and by the emulator's store transactions, rendered in the Prometheus text
// exposition format 0.0.4 at GET /_emulator/metrics (api/metrics_handlers.cpp).
//
// Thread-safe: one mutex guards everything; a request adds to it once, a scrape reads it
// once. Labels stay bounded: requests are counted by route template, never by raw path.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace acg::api {

// Fixed-bucket histogram (not thread-safe on its own: Metrics guards it).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // Appends the _bucket (cumulative, le="+Inf" last), _sum and _count samples of `name`;
  // `labels` (already formatted, e.g. kind="write") go before le.
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; one more for +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// What the store holds at scrape time (Emulator::counts()).
struct MetricsGauges {
  std::int64_t operations_in_flight = 0;
  std::vector<std::pair<std::string, std::int64_t>> replication_jobs;  // by state
  std::vector<std::pair<std::string, std::int64_t>> resources;         // by type
};

class Metrics {
 public:
  explicit Metrics(std::string version);

  // One request answered: route template ("unmatched" when no route matched), method as sent.
  void observe_request(std::string_view route, std::string_view method, int status, double seconds);
  // One emulator store transaction (write) or read, in seconds.
  void observe_transaction(bool write, double seconds);

  // The whole exposition, counters and histograms with the gauges given.
  std::string render(const MetricsGauges& gauges) const;

  // A label value quoted for the exposition format: \ " and newline escaped.
  static std::string quote(std::string_view value);
  // A sample value: shortest round-trip decimal, or +Inf / -Inf / NaN.
  static std::string number(double value);

 private:
  const std::string version_;
  const std::chrono::steady_clock::time_point started_;

  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;  // GUARDED_BY(mutex_)
  Histogram request_seconds_;                                                    // GUARDED_BY(mutex_)
  Histogram write_seconds_;                                                      // GUARDED_BY(mutex_)
  Histogram read_seconds_;                                                       // GUARDED_BY(mutex_)
};

}  // namespace acg::api
