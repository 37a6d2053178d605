// acg-emulator: a thin main around api::App.

#include <cstdio>
#include <string>
#include <vector>

#include "api/app.h"
#include "api/cli_tools.h"
#include <iostream>

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (acg::api::is_tool_command(args)) return acg::api::run_tool(args, std::cout, std::cerr);  // cost, retention
  auto parsed = acg::api::parse_command_line(args);
  if (auto* help = std::get_if<acg::api::HelpRequested>(&parsed)) {
    std::fputs(help->text.c_str(), stdout);
    return 0;
  }
  if (auto* error = std::get_if<std::string>(&parsed)) {
    std::fprintf(stderr, "acg-emulator: %s\n", error->c_str());
    return 2;
  }
  const auto& options = std::get<acg::api::AppOptions>(parsed);
  if (options.host != "127.0.0.1" && options.host != "::1")
    std::fprintf(stderr, "acg-emulator: warning: listening on %s, not loopback: other machines can reach it\n",
                 options.host.c_str());
  auto app = acg::api::App::start(options);
  if (!app) {
    std::fprintf(stderr, "acg-emulator: %s\n", app.error().message.c_str());
    return 1;
  }
  std::printf("acg-emulator %s listening on %s\n", acg::api::kVersion, (*app)->base_url().c_str());
  if ((*app)->proxy_port())
    std::printf("proxy listening on http://%s:%u (HTTPS_PROXY; serves the cloud's ARM and Entra ID hosts only)\n",
                options.host.c_str(), unsigned((*app)->proxy_port()));
  if ((*app)->ssh_port())
    std::printf("ssh listening on %s:%u (build sessions; logs at /_emulator/buildlogs)\n", options.host.c_str(),
                unsigned((*app)->ssh_port()));
  if (!options.in_memory)
    std::printf("data directory: %s (trust %s/tls/ca.pem)\n", options.data_dir.c_str(), options.data_dir.c_str());
  std::fflush(stdout);
  (*app)->run_until_signal();
  return 0;
}
