#pragma once
// ArmError and Result<T>: how every layer above storage/ reports an expected failure.
//
// An ArmError is exactly what ARM puts on the wire: an HTTP status and the body
// {"error":{"code","message","target"?,"details"?}}. It is serialised in one place
// (api/arm_conventions.cpp). Expected failures travel as values; exceptions are
// reserved for the unexpected and are caught once, at the session boundary.

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace acg {

struct ArmError {
  int status = 500;
  std::string code;
  std::string message;
  std::string target;              // empty: omitted from the envelope
  std::vector<ArmError> details;   // nested errors; their status is ignored
  // ARM's "additionalInfo" array ([{"type", "info"}], e.g. a PolicyViolation) as JSON text;
  // empty: omitted. Text keeps nlohmann/json out of this header.
  std::string additional_info = {};
};

// Constructors for the errors every resource type shares.
ArmError bad_request(std::string code, std::string message, std::string target = {});
ArmError not_found(std::string code, std::string message);
ArmError conflict(std::string code, std::string message);
ArmError internal_error(std::string message);

// The one serialisation of an error: {"code","message","target"?,"details"?} (the inside of
// ARM's {"error": ...} envelope), and its inverse for errors kept in the store.
nlohmann::json error_to_json(const ArmError& error);
ArmError error_from_json(const nlohmann::json& j, int status);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(ArmError error) : v_(std::move(error)) {}     // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const ArmError& error() const& { assert(!ok()); return std::get<1>(v_); }
  ArmError&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, ArmError> v_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace acg
