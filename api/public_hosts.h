#pragma once
// The public host names a cloud's tools are hard-wired to (ARM and Entra ID), which the
// transparent proxy mode (--proxy-port) answers as: a client with HTTPS_PROXY pointing at the
// emulator reaches "https://management.azure.com" and "https://login.microsoftonline.com", and
// the emulator serves both itself. Nothing is ever forwarded.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acg::api {

struct PublicHosts {
  std::string arm;    // e.g. "management.azure.com"
  std::string login;  // e.g. "login.microsoftonline.com"
};

// The hosts of --cloud NAME (AzureCloud, AzureUSGovernment, AzureChinaCloud); AzureCloud's for
// any other name.
PublicHosts public_hosts_of(std::string_view cloud);

// The Entra ID authority host that goes with an ARM host a request named ("management.azure.com"
// -> "login.microsoftonline.com", any cloud, ":443" tolerated); nullopt for any other host
// (localhost, 127.0.0.1: the emulator's own authority applies).
std::optional<std::string> login_host_for_arm_host(std::string_view host);

}  // namespace acg::api
