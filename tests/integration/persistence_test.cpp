// State survives a clean restart and a kill -9 of the real binary; TLS material is reused.

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
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

// Runs the acg-emulator binary on a data dir (plus `extra` flags) and returns its pid and port.
std::pair<pid_t, int> spawn_emulator(const fs::path& dir, const std::vector<std::string>& extra = {}) {
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
    std::vector<std::string> args = {ACG_EMULATOR_BINARY, "--port", "0", "--data-dir", dir.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(ACG_EMULATOR_BINARY, argv.data());
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

void kill_hard(pid_t& pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  pid = 0;
}

// ARM calls on a spawned emulator, with a token of the default principal.
struct Spawned {
  HttpsClient client;
  Headers auth;

  Spawned(int port, const fs::path& dir)
      : client("127.0.0.1", static_cast<std::uint16_t>(port), read_text(dir / "tls" / "ca.pem")) {
    auto token = client.request("POST", "/adfs/oauth2/token",
                                "grant_type=client_credentials&client_id=" + kClientId + "&client_secret=" + kSecret,
                                {{"Content-Type", "application/x-www-form-urlencoded"}});
    auth = {{"Authorization", "Bearer " + token.json()["access_token"].get<std::string>()}};
  }
  ClientResponse arm(const std::string& method, const std::string& target, const std::string& body = {}) {
    return client.request(method, target, body, auth);
  }
};

const std::string kGalleryApi = "?api-version=2022-03-03";
const std::string kVersionPath = TestEmulator::gallery_path("rg", "g") + "/images/d/versions/1.0.0";

// A resource group, gallery, definition and snapshot; then version 1.0.0 of the definition
// replicating to West US and East US. Returns the operation's status URL path.
std::string start_publishing(Spawned& s) {
  REQUIRE(s.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
  REQUIRE(s.arm("PUT", TestEmulator::gallery_path("rg", "g") + kGalleryApi, R"({"location":"westus"})").status == 201);
  REQUIRE(s.arm("PUT", TestEmulator::gallery_path("rg", "g") + "/images/d" + kGalleryApi,
                R"({"location":"westus","properties":{"osType":"Linux","osState":"Generalized","identifier":{"publisher":"p","offer":"o","sku":"s"}}})")
              .status == 201);
  const std::string snapshot = TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/snapshots/os";
  REQUIRE(s.arm("PUT", snapshot + "?api-version=2022-03-02",
                R"({"location":"westus","properties":{"osType":"Linux","creationData":{"createOption":"Empty"},"diskSizeGB":30}})")
              .status == 200);
  nlohmann::json body = {{"location", "westus"},
                         {"properties",
                          {{"storageProfile", {{"osDiskImage", {{"source", {{"id", snapshot}}}}}}},
                           {"publishingProfile", {{"targetRegions", {{{"name", "westus"}}, {{"name", "eastus"}}}}}}}}};
  auto created = s.arm("PUT", kVersionPath + kGalleryApi, body.dump());
  REQUIRE(created.status == 201);
  REQUIRE(!created.header("Azure-AsyncOperation").empty());
  return path_of(created.header("Azure-AsyncOperation"));
}

// Region display name -> progress, from GET ...?$expand=ReplicationStatus.
std::map<std::string, int> progress_of(Spawned& s) {
  auto r = s.arm("GET", kVersionPath + kGalleryApi + "&$expand=ReplicationStatus");
  REQUIRE(r.status == 200);
  std::map<std::string, int> out;
  const nlohmann::json body = r.json();
  for (const auto& region : body["properties"]["replicationStatus"]["summary"]) out[region["region"]] = region["progress"];
  return out;
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
  int acknowledged = 0;
  {
    Spawned s(port, dir);
    REQUIRE(s.arm("PUT", TestEmulator::group_path("rg") + "?api-version=2021-04-01", R"({"location":"westus"})").status == 201);
    for (int i = 0; i < 40; ++i)
      if (s.arm("PUT", TestEmulator::gallery_path("rg", "g" + std::to_string(i)) + "?api-version=2022-03-03",
                R"({"location":"westus"})").status == 201)
        ++acknowledged;
  }
  kill_hard(pid);
  REQUIRE(acknowledged == 40);

  auto [pid2, port2] = spawn_emulator(dir);
  KillOnExit second_guard{pid2};
  {
    Spawned s(port2, dir);
    auto list = s.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/galleries?api-version=2022-03-03");
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
  auto [bad_code, bad_out] = run_emulator_binary("--no-such-flag");
  CHECK(bad_code != 0);
  CHECK(bad_out.find("unknown option '--no-such-flag'") != std::string::npos);
  CHECK(std::count(bad_out.begin(), bad_out.end(), '\n') == 1);

  TestEmulator holder;  // occupies a port
  auto [port_code, port_out] = run_emulator_binary("--in-memory --port " + std::to_string(holder.app().port()));
  CHECK(port_code != 0);
  CHECK(port_out.find("cannot listen on") != std::string::npos);

  auto [help_code, help_out] = run_emulator_binary("--help");
  CHECK(help_code == 0);
  for (const char* flag : {"--host", "--port", "--data-dir", "--in-memory", "--cert", "--key"})
    CHECK(help_out.find(flag) != std::string::npos);
}

TEST_CASE("replication survives kill -9 on a virtual clock: same progress, same operation", "[persistence][replication]") {
  fs::path dir = fresh_dir("kill9-replication");
  const std::vector<std::string> flags = {"--virtual-clock", "--replication-speed", "1"};
  auto [pid, port] = spawn_emulator(dir, flags);
  KillOnExit first_guard{pid};
  std::string operation;
  std::map<std::string, int> before;
  {
    Spawned s(port, dir);
    operation = start_publishing(s);
    REQUIRE(s.client.request("POST", "/_emulator/clock/advance", R"({"seconds":600})").status == 200);
    before = progress_of(s);
    REQUIRE(before["West US"] > 0);
    REQUIRE(before["East US"] > 0);
  }
  kill_hard(pid);

  auto [pid2, port2] = spawn_emulator(dir, flags);
  KillOnExit second_guard{pid2};
  Spawned s(port2, dir);
  // The virtual clock resumes where it stood: every job exactly where it was.
  CHECK(progress_of(s) == before);
  CHECK(s.arm("GET", operation).json()["status"] == "InProgress");
  CHECK(s.client.request("GET", "/_emulator/replications").json()["value"].size() == 2);
  REQUIRE(s.client.request("POST", "/_emulator/clock/advance", R"({"seconds":3600})").status == 200);
  CHECK(progress_of(s) == std::map<std::string, int>{{"East US", 100}, {"West US", 100}});
  CHECK(s.arm("GET", operation).json()["status"] == "Succeeded");
  CHECK(s.arm("GET", kVersionPath + kGalleryApi).json()["properties"]["provisioningState"] == "Succeeded");
  kill_hard(pid2);
  fs::remove_all(dir);
}

TEST_CASE("replication survives kill -9 in real time: it resumes, never from zero, and completes",
          "[persistence][replication]") {
  fs::path dir = fresh_dir("kill9-realtime");
  // 900 modelled seconds to West US at speed 300: 3 s; East US ~4 s.
  const std::vector<std::string> flags = {"--replication-speed", "300"};
  auto [pid, port] = spawn_emulator(dir, flags);
  KillOnExit first_guard{pid};
  std::string operation;
  std::map<std::string, int> before;
  {
    Spawned s(port, dir);
    operation = start_publishing(s);
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    before = progress_of(s);
    REQUIRE(before["West US"] > 0);
    REQUIRE(before["West US"] < 100);
  }
  kill_hard(pid);

  auto [pid2, port2] = spawn_emulator(dir, flags);
  KillOnExit second_guard{pid2};
  Spawned s(port2, dir);
  auto after = progress_of(s);
  CHECK(after["West US"] >= before["West US"]);
  CHECK(after["East US"] >= before["East US"]);
  std::string status;
  for (int i = 0; i < 100 && status != "Succeeded"; ++i) {
    status = s.arm("GET", operation).json()["status"];
    if (status != "Succeeded") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(status == "Succeeded");
  CHECK(progress_of(s) == std::map<std::string, int>{{"East US", 100}, {"West US", 100}});
  kill_hard(pid2);
  fs::remove_all(dir);
}
