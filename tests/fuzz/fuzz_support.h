#pragma once
// What every libFuzzer target shares: an in-process emulator answering requests through
// App::handle (no socket, no TLS), fixtures the targets write below, and the oracle that
// turns a wrong answer into a crash the fuzzer reports.
//
// The oracle (check_arm_answer): the emulator may refuse any input, but only the way ARM
// does. A 5xx, a status outside 100..599, or an ARM-path error without the
// {"error":{"code","message"}} envelope aborts the run.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/app.h"

namespace acg::fuzz {

inline const std::string kSub = "22222222-2222-2222-2222-222222222222";
inline const std::string kGroup = "/subscriptions/" + kSub + "/resourceGroups/fuzz";
inline const std::string kGallery = kGroup + "/providers/Microsoft.Compute/galleries/fixed";
inline const std::string kImage = kGallery + "/images/fixedimg";
inline const std::string kApplication = kGallery + "/applications/fixedapp";

// The process's emulator: in memory, tokens not checked (any bearer is the default principal,
// so inputs reach the handlers), zero operation delay. Every `reset_every` calls of
// fresh_state() it wipes the state and writes the fixtures again, so memory stays flat and a
// crash needs at most that many earlier inputs to reproduce.
api::App& app();
void fresh_state(int reset_every = 256);

// One request through the pipeline, with a bearer token and the JSON content type.
api::HttpResponse call(const std::string& method, const std::string& target, const std::string& body = {});

// Aborts (a finding) unless `response` is an answer ARM could give to `request`.
void check_arm_answer(const api::HttpRequest& request, const api::HttpResponse& response);

// The fuzzer's bytes as text (they may hold anything, NUL included).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace acg::fuzz
