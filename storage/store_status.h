#pragma once
// Errors of the storage layer as values. The emulator maps them to ARM errors; storage/
// knows nothing of ARM.

#include <string>
#include <utility>
#include <variant>

namespace acg::storage {

enum class StoreCode { ok, io_error, disk_full, read_only, corrupt, busy, misuse };

struct StoreError {
  StoreCode code = StoreCode::io_error;
  std::string message;
};

class [[nodiscard]] StoreStatus {
 public:
  StoreStatus() = default;
  StoreStatus(StoreError e) : error_(std::move(e)), failed_(true) {}  // NOLINT: implicit
  bool ok() const { return !failed_; }
  const StoreError& error() const { return error_; }

 private:
  StoreError error_;
  bool failed_ = false;
};

template <class T>
class [[nodiscard]] StoreResult {
 public:
  StoreResult(T v) : v_(std::move(v)) {}           // NOLINT: implicit
  StoreResult(StoreError e) : v_(std::move(e)) {}  // NOLINT: implicit
  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const StoreError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, StoreError> v_;
};

}  // namespace acg::storage
