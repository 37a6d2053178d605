// The SSH endpoint for image builds (--ssh-port), driven by libssh's client API the way
// Packer's communicator uses it: publickey auth with the key the build VM was deployed with,
// commands, and an scp upload of the provisioner's script.

// libssh marks its scp client API deprecated (in favour of sftp), but the scp protocol is what
// Packer speaks and what the endpoint serves: the test uses it on purpose.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <libssh/libssh.h>

#include <catch2/catch.hpp>
#include <string>

#include "emulator/emulator.h"
#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kVmApi = "?api-version=2018-04-01";  // Packer 1.6.6's compute api-version

struct KeyPair {
  ssh_key key = nullptr;
  KeyPair() { REQUIRE(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) == SSH_OK); }
  ~KeyPair() { ssh_key_free(key); }
  std::string authorized_line() const {
    char* b64 = nullptr;
    REQUIRE(ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK);
    std::string line = std::string("ssh-ed25519 ") + b64 + " packer Azure Deployment";
    ssh_string_free_char(b64);
    return line;
  }
};

std::string vm_path(const std::string& name) {
  return TestEmulator::group_path("pkr-rg") + "/providers/Microsoft.Compute/virtualMachines/" + name;
}

// A Linux VM whose osProfile carries `key_line`, as Packer's deployment creates pkrvm...
std::string create_build_vm(TestEmulator& emu, const std::string& name, const std::string& key_line) {
  REQUIRE(emu.arm("PUT", TestEmulator::group_path("pkr-rg") + "?api-version=2018-02-01", R"({"location":"westeurope"})").status / 100 == 2);
  json vm = {{"location", "westeurope"},
             {"properties",
              {{"hardwareProfile", {{"vmSize", "Standard_D2s_v3"}}},
               {"storageProfile",
                {{"imageReference", {{"publisher", "Canonical"}, {"offer", "ubuntu-24_04-lts"}, {"sku", "server"}, {"version", "latest"}}},
                 {"osDisk", {{"osType", "Linux"}, {"createOption", "FromImage"}}}}},
               {"osProfile",
                {{"computerName", name},
                 {"adminUsername", "packer"},
                 {"linuxConfiguration",
                  {{"disablePasswordAuthentication", true},
                   {"ssh", {{"publicKeys", json::array({{{"path", "/home/packer/.ssh/authorized_keys"}, {"keyData", key_line}}})}}}}}}}}}};
  auto created = emu.arm("PUT", vm_path(name) + "?api-version=2022-08-01", vm.dump());
  INFO(created.body);
  REQUIRE(created.status / 100 == 2);
  return created.json()["id"];
}

struct Client {
  ssh_session session = ssh_new();
  explicit Client(std::uint16_t port) {
    int p = port;
    bool no_config = false;
    ssh_options_set(session, SSH_OPTIONS_HOST, "127.0.0.1");
    ssh_options_set(session, SSH_OPTIONS_PORT, &p);
    ssh_options_set(session, SSH_OPTIONS_USER, "packer");
    ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no_config);
    long timeout = 10;
    ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout);
    REQUIRE(ssh_connect(session) == SSH_OK);
  }
  ~Client() {
    ssh_disconnect(session);
    ssh_free(session);
  }
  int login(ssh_key key) { return ssh_userauth_publickey(session, nullptr, key); }

  // Runs a command with `input` on its stdin: {exit status, stdout}.
  std::pair<int, std::string> exec(const std::string& command, const std::string& input = {}) {
    ssh_channel channel = ssh_channel_new(session);
    REQUIRE(ssh_channel_open_session(channel) == SSH_OK);
    REQUIRE(ssh_channel_request_exec(channel, command.c_str()) == SSH_OK);
    std::string out;
    char buffer[4096];
    if (!input.empty()) REQUIRE(ssh_channel_write(channel, input.data(), input.size()) == static_cast<int>(input.size()));
    ssh_channel_send_eof(channel);
    for (int n; (n = ssh_channel_read(channel, buffer, sizeof buffer, 0)) > 0;) out.append(buffer, n);
    const int status = ssh_channel_get_exit_status(channel);
    ssh_channel_close(channel);
    ssh_channel_free(channel);
    return {status, out};
  }
};

std::vector<std::string> log_texts(TestEmulator& emu, const std::string& vm_id) {
  auto log = emu.app().emulator().build_log(vm_id);
  REQUIRE(log);
  std::vector<std::string> out;
  for (const json& line : (*log)["lines"]) {
    CHECK(line["source"] == "ssh");
    out.push_back(line["text"]);
  }
  return out;
}

bool contains(const std::vector<std::string>& lines, const std::string& wanted) {
  return std::find(lines.begin(), lines.end(), wanted) != lines.end();
}

acg::api::AppOptions ssh_options() {
  return test_options([](acg::api::AppOptions& o) { o.ssh_port = 0; });
}

}  // namespace

TEST_CASE("a build VM's key logs in; commands and scp uploads land in its build log", "[ssh]") {
  TestEmulator emu(ssh_options());
  REQUIRE(emu.app().ssh_port() != 0);
  KeyPair key;
  const std::string vm_id = create_build_vm(emu, "pkrvmabc123", key.authorized_line());

  Client client(emu.app().ssh_port());
  REQUIRE(client.login(key.key) == SSH_AUTH_SUCCESS);

  // Packer's shell provisioner: upload with `scp -vt /tmp`, chmod, run, remove.
  const std::string script = "#!/bin/sh\necho hello\n";
  const std::string upload = "C0644 " + std::to_string(script.size()) + " script_4242.sh\n" + script + std::string(1, '\0');
  auto [scp_status, acks] = client.exec("scp -vt /tmp", upload);
  CHECK(scp_status == 0);
  CHECK(acks == std::string(3, '\0'));  // ready, C line accepted, content accepted
  CHECK(client.exec("chmod 0755 /tmp/script_4242.sh").first == 0);
  auto [run_status, output] = client.exec("PACKER_BUILD_NAME='azure-arm' /tmp/script_4242.sh");
  CHECK(run_status == 0);
  CHECK(output.empty());
  CHECK(client.exec("rm -f /tmp/script_4242.sh").first == 0);

  // libssh's own scp client: "scp -t" with a directory, T times and E.
  ssh_scp scp = ssh_scp_new(client.session, SSH_SCP_WRITE | SSH_SCP_RECURSIVE, "/etc");
  REQUIRE(scp);
  REQUIRE(ssh_scp_init(scp) == SSH_OK);
  REQUIRE(ssh_scp_push_directory(scp, "app", 0755) == SSH_OK);
  REQUIRE(ssh_scp_push_file(scp, "config.json", 2, 0600) == SSH_OK);
  REQUIRE(ssh_scp_write(scp, "{}", 2) == SSH_OK);
  REQUIRE(ssh_scp_leave_directory(scp) == SSH_OK);
  ssh_scp_close(scp);
  ssh_scp_free(scp);

  auto lines = log_texts(emu, vm_id);
  INFO(json(lines).dump(1));
  CHECK(lines.front() == "connected: user packer, publickey");
  CHECK(contains(lines, "exec: scp -vt /tmp"));
  CHECK(contains(lines, "upload: /tmp/script_4242.sh (" + std::to_string(script.size()) + " bytes, mode 0644)"));
  CHECK(contains(lines, "exec: chmod 0755 /tmp/script_4242.sh"));
  CHECK(contains(lines, "exec: PACKER_BUILD_NAME='azure-arm' /tmp/script_4242.sh"));
  CHECK(contains(lines, "exec: rm -f /tmp/script_4242.sh"));
  CHECK(contains(lines, "upload: /etc/app/config.json (2 bytes, mode 0600)"));

  // The admin route shows the same log.
  auto route = emu.http().request("GET", "/_emulator/buildlogs?resourceId=" + acg::api::percent_encode(vm_id));
  CHECK(route.status == 200);
  CHECK(route.body.find("script_4242.sh") != std::string::npos);
  CHECK(emu.http().request("GET", "/_emulator/health").json()["ports"]["ssh"] == emu.app().ssh_port());
}

TEST_CASE("the SSH endpoint refuses keys no VM carries, passwords and none", "[ssh]") {
  TestEmulator emu(ssh_options());
  KeyPair known, stranger;
  create_build_vm(emu, "pkrvmknown", known.authorized_line());

  Client client(emu.app().ssh_port());
  CHECK(ssh_userauth_none(client.session, nullptr) == SSH_AUTH_DENIED);
  CHECK((ssh_userauth_list(client.session, nullptr) & SSH_AUTH_METHOD_PUBLICKEY) != 0);
  CHECK((ssh_userauth_list(client.session, nullptr) & SSH_AUTH_METHOD_PASSWORD) == 0);
  CHECK(ssh_userauth_password(client.session, nullptr, "P@ssw0rd") == SSH_AUTH_DENIED);
  CHECK(client.login(stranger.key) == SSH_AUTH_DENIED);
  // The same connection may still present the right key.
  CHECK(client.login(known.key) == SSH_AUTH_SUCCESS);
  CHECK(client.exec("true").first == 0);
}

TEST_CASE("a shell session's lines are logged; the endpoint stops with open sessions", "[ssh]") {
  TestEmulator emu(ssh_options());
  KeyPair key;
  const std::string vm_id = create_build_vm(emu, "pkrvmshell", key.authorized_line());
  Client client(emu.app().ssh_port());
  REQUIRE(client.login(key.key) == SSH_AUTH_SUCCESS);
  ssh_channel channel = ssh_channel_new(client.session);
  REQUIRE(ssh_channel_open_session(channel) == SSH_OK);
  REQUIRE(ssh_channel_request_shell(channel) == SSH_OK);
  const std::string input = "uname -a\nsudo apt-get update\nexit\n";
  ssh_channel_write(channel, input.data(), input.size());
  char buffer[256];
  while (ssh_channel_read(channel, buffer, sizeof buffer, 0) > 0) {
  }
  CHECK(ssh_channel_get_exit_status(channel) == 0);
  ssh_channel_free(channel);
  auto lines = log_texts(emu, vm_id);
  CHECK(contains(lines, "shell: uname -a"));
  CHECK(contains(lines, "shell: sudo apt-get update"));

  // A second client stays connected while the emulator stops: stop() must end it and return.
  Client idle(emu.app().ssh_port());
  REQUIRE(idle.login(key.key) == SSH_AUTH_SUCCESS);
  emu.app().stop();
}
