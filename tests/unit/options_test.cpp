// The command line (api/app.h: parse_command_line).

#include <catch2/catch.hpp>

#include "api/app.h"

using acg::api::AppOptions;
using acg::api::parse_command_line;

TEST_CASE("--allow-cross-tenant-sharing is a switch, off by default", "[options]") {
  auto plain = parse_command_line({"--in-memory"});
  REQUIRE(std::holds_alternative<AppOptions>(plain));
  CHECK_FALSE(std::get<AppOptions>(plain).allow_cross_tenant_sharing);

  auto allowed = parse_command_line({"--allow-cross-tenant-sharing", "--port", "0"});
  REQUIRE(std::holds_alternative<AppOptions>(allowed));
  CHECK(std::get<AppOptions>(allowed).allow_cross_tenant_sharing);
  CHECK(std::get<AppOptions>(allowed).port == 0);

  CHECK(acg::api::usage().find("--allow-cross-tenant-sharing") != std::string::npos);
  CHECK(std::holds_alternative<std::string>(parse_command_line({"--allow-cross-tenant"})));
}

TEST_CASE("--seed names a seed file; --id-seed makes ids reproducible", "[options]") {
  auto parsed = parse_command_line({"--seed", "lab.json", "--id-seed", "7"});
  REQUIRE(std::holds_alternative<AppOptions>(parsed));
  CHECK(std::get<AppOptions>(parsed).seed_file == "lab.json");
  CHECK(std::get<AppOptions>(parsed).id_seed == 7u);
  CHECK(std::holds_alternative<std::string>(parse_command_line({"--id-seed", "x"})));
  CHECK(std::holds_alternative<std::string>(parse_command_line({"--seed"})));
  CHECK(acg::api::usage().find("--seed FILE") != std::string::npos);
  CHECK(acg::api::usage().find("--id-seed N") != std::string::npos);
}

TEST_CASE("--proxy-port and --ssh-port are off unless given; 0 picks a free port", "[options][proxy][ssh]") {
  auto plain = parse_command_line({"--in-memory"});
  REQUIRE(std::holds_alternative<AppOptions>(plain));
  CHECK_FALSE(std::get<AppOptions>(plain).proxy_port);
  CHECK_FALSE(std::get<AppOptions>(plain).ssh_port);

  auto both = parse_command_line({"--proxy-port", "0", "--ssh-port", "2222"});
  REQUIRE(std::holds_alternative<AppOptions>(both));
  CHECK(std::get<AppOptions>(both).proxy_port == std::optional<std::uint16_t>(0));
  CHECK(std::get<AppOptions>(both).ssh_port == std::optional<std::uint16_t>(2222));
  CHECK(std::holds_alternative<std::string>(parse_command_line({"--proxy-port", "70000"})));
  CHECK(std::holds_alternative<std::string>(parse_command_line({"--ssh-port"})));
  CHECK(acg::api::usage().find("--proxy-port") != std::string::npos);
}
