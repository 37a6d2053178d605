#include "emulator/network_rules.h"

#include <charconv>

#include "emulator/access_control.h"
#include "emulator/text.h"

namespace acg {

namespace {

std::optional<std::uint32_t> parse_v4(std::string_view text) {
  std::uint32_t out = 0;
  for (int part = 0; part < 4; ++part) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || value > 255 || ptr == text.data()) return std::nullopt;
    out = (out << 8) | value;
    text.remove_prefix(static_cast<size_t>(ptr - text.data()));
    if (part < 3) {
      if (text.empty() || text.front() != '.') return std::nullopt;
      text.remove_prefix(1);
    }
  }
  if (!text.empty()) return std::nullopt;
  return out;
}

}  // namespace

Result<AddressRange> parse_address_range(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  AddressRange range{std::string(text), false, 0, 0};
  if (auto v4 = parse_v4(address)) {
    unsigned bits = 32;
    if (slash != std::string_view::npos) {
      auto prefix = text.substr(slash + 1);
      auto [ptr, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
      if (ec != std::errc() || ptr != prefix.data() + prefix.size() || bits > 32)
        return bad_request("InvalidRequestContent", "'" + std::string(text) + "' is not an address range.", "allowedAddressRanges");
    }
    range.v4 = true;
    range.mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    range.network = *v4 & range.mask;
    return range;
  }
  if (address.find(':') != std::string_view::npos && (slash == std::string_view::npos || text.substr(slash) == "/128")) {
    range.text = std::string(address);
    return range;
  }
  return bad_request("InvalidRequestContent",
                     "'" + std::string(text) + "' is not an address range (IPv4 CIDR such as 127.0.0.2/32, or an IPv6 address).",
                     "allowedAddressRanges");
}

bool range_contains(const AddressRange& range, std::string_view address) {
  if (!range.v4) return iequals(range.text, address);
  // IPv4 clients of a dual-stack socket arrive as "::ffff:a.b.c.d".
  if (istarts_with(address, "::ffff:")) address.remove_prefix(7);
  auto v4 = parse_v4(address);
  return v4 && (*v4 & range.mask) == range.network;
}

std::optional<ArmError> network_refusal(const std::vector<NetworkRule>& rules, std::string_view scope,
                                        std::string_view address) {
  for (const NetworkRule& rule : rules) {
    if (!scope_covers(rule.gallery_id, scope)) continue;
    bool allowed = false;
    std::string ranges;
    for (const AddressRange& r : rule.allowed) {
      allowed |= range_contains(r, address);
      ranges += (ranges.empty() ? "" : ", ") + r.text;
    }
    if (!allowed)
      return ArmError{403, "ForbiddenByNetworkRule",
                      "The gallery '" + rule.gallery_id + "' accepts requests only from its private endpoint networks (" +
                          ranges + "); this request came from " + std::string(address) +
                          ". Call it from an allowed address, or change the rule (acg-emulator /_emulator/network-rules).",
                      {}, {}};
  }
  return std::nullopt;
}

}  // namespace acg
