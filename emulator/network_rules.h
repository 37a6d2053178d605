#pragma once
// Private endpoint emulation: a gallery may be limited to callers from listed source address
// ranges, standing in for the virtual networks of its private endpoints (on one machine,
// loopback aliases such as 127.0.0.2 play the VNet). Requests on the gallery or anything in it
// from elsewhere are refused (403 ForbiddenByNetworkRule). Configured through the admin API.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/arm_error.h"

namespace acg {

// "10.0.0.0/8", "127.0.0.2" (= /32), "::1" (IPv6: exact addresses only).
struct AddressRange {
  std::string text;
  bool v4 = false;
  std::uint32_t network = 0, mask = 0;
};

Result<AddressRange> parse_address_range(std::string_view text);
bool range_contains(const AddressRange& range, std::string_view address);

struct NetworkRule {
  std::string gallery_id;
  std::vector<AddressRange> allowed;
};

// The rule covering `scope` (the gallery or something in it) that refuses `address`, if any.
std::optional<ArmError> network_refusal(const std::vector<NetworkRule>& rules, std::string_view scope,
                                        std::string_view address);

}  // namespace acg
