#pragma once
// Time is injected (Envoy): the replication engine, long-running operations and the tests
// share one Clock, so tests run without sleeping and the admin API can move time forward.

#include <atomic>
#include <cstdint>
#include <string>

namespace acg {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, on this clock.
  virtual std::int64_t now_ms() const = 0;
};

// Wall-clock time.
class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
};

// Time that moves only when told to: deterministic tests and the admin "advance" endpoint.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms) : now_ms_(start_ms) {}
  std::int64_t now_ms() const override { return now_ms_.load(); }
  void advance_ms(std::int64_t delta) { now_ms_ += delta; }

 private:
  std::atomic<std::int64_t> now_ms_;
};

// The emulator's own time. System mode: the base clock plus an offset that the admin API
// moves forward ("skip an hour"). Virtual mode: an instant that moves only when advanced,
// starting where it was last left (tests and labs that step time by hand). The emulator
// persists offset_ms() / virtual_now_ms() so a restart keeps the timeline.
class EmulatorClock final : public Clock {
 public:
  EmulatorClock(const Clock& base, bool virtual_mode)
      : base_(base), virtual_(virtual_mode), virtual_now_ms_(base.now_ms()) {}
  std::int64_t now_ms() const override {
    return virtual_ ? virtual_now_ms_.load() : base_.now_ms() + offset_ms_.load();
  }
  // Moves time forward (never back: delta < 0 is ignored).
  void advance_ms(std::int64_t delta) {
    if (delta <= 0) return;
    if (virtual_) virtual_now_ms_ += delta;
    else offset_ms_ += delta;
  }
  void restore(std::int64_t offset_ms, std::int64_t virtual_now_ms) {
    offset_ms_ = offset_ms;
    if (virtual_now_ms > 0) virtual_now_ms_ = virtual_now_ms;
  }
  bool is_virtual() const { return virtual_; }
  std::int64_t offset_ms() const { return offset_ms_.load(); }
  std::int64_t virtual_now_ms() const { return virtual_now_ms_.load(); }

 private:
  const Clock& base_;
  const bool virtual_;
  std::atomic<std::int64_t> offset_ms_{0};
  std::atomic<std::int64_t> virtual_now_ms_;
};

// ARM's timestamp format as Compute writes it: "2026-11-27T16:30:00.1234567+00:00".
std::string format_arm_time(std::int64_t ms_since_epoch);
// Parses ISO 8601 date-times ("2030-01-01", "2030-01-01T12:59:59.000Z", "...+02:00").
// Returns false when the text is not a date.
bool parse_iso8601(const std::string& text, std::int64_t& ms_since_epoch);

}  // namespace acg
