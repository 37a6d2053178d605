#include "api/public_hosts.h"

#include <array>

#include "emulator/text.h"

namespace acg::api {

namespace {

struct CloudHosts {
  std::string_view cloud;
  std::string_view arm;
  std::string_view login;
};

// `az cloud show -n <cloud>`: endpoints.resourceManager and endpoints.activeDirectory.
constexpr std::array<CloudHosts, 3> kClouds{{
    {"AzureCloud", "management.azure.com", "login.microsoftonline.com"},
    {"AzureUSGovernment", "management.usgovcloudapi.net", "login.microsoftonline.us"},
    {"AzureChinaCloud", "management.chinacloudapi.cn", "login.chinacloudapi.cn"},
}};

std::string_view without_port(std::string_view host) {
  const size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']') == std::string_view::npos) host = host.substr(0, colon);
  return host;
}

}  // namespace

PublicHosts public_hosts_of(std::string_view cloud) {
  for (const CloudHosts& c : kClouds)
    if (iequals(c.cloud, cloud)) return {std::string(c.arm), std::string(c.login)};
  return {std::string(kClouds[0].arm), std::string(kClouds[0].login)};
}

std::optional<std::string> login_host_for_arm_host(std::string_view host) {
  host = without_port(host);
  for (const CloudHosts& c : kClouds)
    if (iequals(c.arm, host)) return std::string(c.login);
  return std::nullopt;
}

}  // namespace acg::api
