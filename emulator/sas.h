#pragma once
// Shared access signatures on blob URIs (VHD sources): what the emulator checks and what it
// never repeats. A SAS grants access for a time (se) with permissions (sp) and is signed
// (sig); the signature is a secret, so a stored or returned URI keeps no query at all.

#include <cstdint>
#include <string>
#include <string_view>

#include "emulator/arm_error.h"

namespace acg {

// The URI without its query ("https://a.blob.core.windows.net/c/os.vhd").
std::string without_sas(std::string_view uri);

// A URI carrying a SAS (it has `sig`) must not have expired (se, ISO 8601, on the emulator's
// clock) and must grant read (r in sp). 400 InvalidParameter naming `target` otherwise; the
// message never repeats the signature.
Status check_sas(std::string_view uri, std::int64_t now_ms, const std::string& target);

}  // namespace acg
