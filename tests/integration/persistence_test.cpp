// State survives a clean restart and a kill -9 of the real binary; TLS material is reused.

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/support/test_server.h"

using namespace acg::test;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("acg-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

acg::api::AppOptions on_disk(const fs::path& dir) {
  return test_options([&](acg::api::AppOptions& o) {
    o.in_memory = false;
    o.data_dir = dir.string();
  });
}

// Runs the acg-emulator binary on a data dir and returns its pid and port.
std::pair<pid_t, int> spawn_emulator(const fs::path& dir) {
  // A fresh file per start: reading a previous start's banner would name a dead port.
  static int starts = 0;
  fs::path out = dir / ("stdout-" + std::to_string(++starts) + ".txt");
  fs::remove(out);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Nothing of the test's own stdout/stderr stays open in the child: a pipe reading the
    // test's output would otherwise wait for the emulator too.
    std::freopen(out.c_str(), "w", stdout);
    std::freopen((out.string() + ".err").c_str(), "w", stderr);
    ::execl(ACG_EMULATOR_BINARY, ACG_EMULATOR_BINARY, "--port", "0", "--data-dir", dir.c_str(), (char*)nullptr);
    std::_Exit(127);
  }
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(out);
    std::string line;
    std::getline(in, line);
    auto colon = line.rfind(':');
    if (line.find("listening on https://") != std::string::npos && colon != std::string::npos)
      return {pid, std::stoi(line.substr(colon + 1))};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("the emulator binary did not start");
  return {pid, 0};
}

// Kills a spawned emulator that a failed assertion left running.
struct KillOnExit {
  pid_t& pid;
  ~KillOnExit() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("state and TLS material survive a clean restart", "[persistence]") {
  fs::path dir = fresh_dir("restart");
  std::string ca_before;
  {
    TestEmulator emu(on_disk(dir));
    ca_before = emu.app().ca_certificate_pem();
    REQUIRE(emu.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus","tags":{"k":"v"}})").status == 201);
    REQUIRE(emu.arm("PUT", TestEmulator::gallery_path("rg", "kept") + "?api-version=2022-03-03",
                    R"({"location":"westus","properties":{"description":"persisted"}})").status == 201);
  }
  CHECK(fs::exists(dir / "acg.db"));
  CHECK((fs::status(dir / "tls" / "server.key").permissions() & fs::perms::others_read) == fs::perms::none);
  TestEmulator emu(on_disk(dir));
  CHECK(emu.app().ca_certificate_pem() == ca_before);
  auto gallery = emu.arm("GET", TestEmulator::gallery_path("rg", "kept") + "?api-version=2022-03-03");
  REQUIRE(gallery.status == 200);
  CHECK(gallery.json()["properties"]["description"] == "persisted");
  CHECK(emu.arm("GET", TestEmulator::group_path("rg") + "?api-version=2021-04-01").json()["tags"]["k"] == "v");
  fs::remove_all(dir);
}

TEST_CASE("every acknowledged write survives kill -9 of the binary", "[persistence]") {
  fs::path dir = fresh_dir("kill9");
  auto [pid, port] = spawn_emulator(dir);
  KillOnExit first_guard{pid};
  const std::string ca = read_text(dir / "tls" / "ca.pem");
  int acknowledged = 0;
  {
    HttpsClient client("127.0.0.1", static_cast<std::uint16_t>(port), ca);
    auto token = client.request("POST", "/adfs/oauth2/token",
                                "grant_type=client_credentials&client_id=" + kClientId + "&client_secret=" + kSecret,
                                {{"Content-Type", "application/x-www-form-urlencoded"}}).json()["access_token"].get<std::string>();
    const Headers auth = {{"Authorization", "Bearer " + token}};
    REQUIRE(client.request("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})", auth).status == 201);
    for (int i = 0; i < 40; ++i)
      if (client.request("PUT", TestEmulator::gallery_path("rg", "g" + std::to_string(i)) + "?api-version=2022-03-03",
                         R"({"location":"westus"})", auth).status == 201)
        ++acknowledged;
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  pid = 0;
  REQUIRE(acknowledged == 40);

  auto [pid2, port2] = spawn_emulator(dir);
  KillOnExit second_guard{pid2};
  {
    HttpsClient client("127.0.0.1", static_cast<std::uint16_t>(port2), read_text(dir / "tls" / "ca.pem"));
    auto token = client.request("POST", "/adfs/oauth2/token",
                                "grant_type=client_credentials&client_id=" + kClientId + "&client_secret=" + kSecret,
                                {{"Content-Type", "application/x-www-form-urlencoded"}}).json()["access_token"].get<std::string>();
    auto list = client.request("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/galleries?api-version=2022-03-03",
                               "", {{"Authorization", "Bearer " + token}});
    REQUIRE(list.status == 200);
    CHECK(list.json()["value"].size() == 40u);
  }
  ::kill(pid2, SIGTERM);
  int status = 0;
  ::waitpid(pid2, &status, 0);
  pid2 = 0;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  fs::remove_all(dir);
}

TEST_CASE("bad flags and unusable ports fail with one line and a non-zero exit", "[persistence]") {
  auto run = [](const std::string& args) {
    std::string cmd = std::string(ACG_EMULATOR_BINARY) + " " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    int status = ::pclose(p);
    return std::make_pair(WEXITSTATUS(status), out);
  };
  auto [bad_code, bad_out] = run("--no-such-flag");
  CHECK(bad_code != 0);
  CHECK(bad_out.find("unknown option '--no-such-flag'") != std::string::npos);
  CHECK(std::count(bad_out.begin(), bad_out.end(), '\n') == 1);

  TestEmulator holder;  // occupies a port
  auto [port_code, port_out] = run("--in-memory --port " + std::to_string(holder.app().port()));
  CHECK(port_code != 0);
  CHECK(port_out.find("cannot listen on") != std::string::npos);

  auto [help_code, help_out] = run("--help");
  CHECK(help_code == 0);
  for (const char* flag : {"--host", "--port", "--data-dir", "--in-memory", "--cert", "--key"})
    CHECK(help_out.find(flag) != std::string::npos);
}
