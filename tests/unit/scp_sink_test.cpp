// The scp sink protocol without a socket: commands, C/D/E/T lines, acks and protocol errors.

#include <catch2/catch.hpp>

#include "api/scp_sink.h"
#include "api/public_hosts.h"

using acg::api::ScpSink;

namespace {
const std::string kAck(1, '\0');
}

TEST_CASE("scp sink: the target of the commands Packer, OpenSSH and libssh send", "[ssh]") {
  auto path = [](std::string_view command) { return ScpSink::target_of_command(command).value().path; };
  auto directory = [](std::string_view command) { return ScpSink::target_of_command(command).value().directory; };
  CHECK(path("scp -vt /tmp") == "/tmp");
  CHECK(directory("scp -vt /tmp"));
  CHECK(path("scp -t /tmp") == "/tmp");
  CHECK(path("scp  -r -t /etc") == "/etc");  // libssh's ssh_scp
  CHECK(path("scp -v -d -t -- /opt/app.d") == "/opt/app.d");
  CHECK(directory("scp -v -d -t -- /opt/app.d"));
  CHECK(path("/usr/bin/scp -t /x") == "/x");
  CHECK(path("scp -t -r '/etc'") == "/etc");  // libssh 0.10 quotes the path
  CHECK_FALSE(directory("scp -t /tmp/script_77.sh"));  // OpenSSH's scp -O copying to a new name
  CHECK(directory("scp -t /home/packer/.ssh"));
  CHECK_FALSE(ScpSink::target_of_command("scp -f /etc/passwd"));  // source mode: a download
  CHECK_FALSE(ScpSink::target_of_command("chmod 0755 /tmp/script.sh"));
  CHECK_FALSE(ScpSink::target_of_command("scp -t"));
}

TEST_CASE("scp sink: one file, fed a byte at a time, is acked and recorded", "[ssh]") {
  ScpSink sink({"/tmp", true});
  const std::string stream = "T1700000000 0 1700000000 0\nC0644 5 script_1.sh\nhello" + kAck;
  std::string answers;
  for (char c : stream) answers += sink.feed(std::string_view(&c, 1));
  CHECK(answers == kAck + kAck + kAck);
  auto uploads = sink.take_finished();
  REQUIRE(uploads.size() == 1);
  CHECK(uploads[0].path == "/tmp/script_1.sh");
  CHECK(uploads[0].size == 5);
  CHECK(uploads[0].mode == "0644");
  CHECK(sink.take_finished().empty());
  CHECK_FALSE(sink.failed());
}

TEST_CASE("scp sink: directories with -r, and a file target", "[ssh]") {
  ScpSink tree({"/srv/", true});
  CHECK(tree.feed("D0755 0 app\nC0600 2 a.json\n{}" + kAck + "D0700 0 keys\nC0400 0 id\n" + kAck + "E\nE\n") ==
        std::string(8, '\0'));
  auto uploads = tree.take_finished();
  REQUIRE(uploads.size() == 2);
  CHECK(uploads[0].path == "/srv/app/a.json");
  CHECK(uploads[1].path == "/srv/app/keys/id");
  CHECK(uploads[1].size == 0);

  ScpSink file({"/tmp/script.sh", true});
  file.feed("C0755 1 script.sh\nx" + kAck);
  CHECK(file.take_finished().at(0).path == "/tmp/script.sh");
  ScpSink renamed({"/tmp/script_77.sh", false});
  renamed.feed("C0644 1 local-name.sh\nx" + kAck);
  CHECK(renamed.take_finished().at(0).path == "/tmp/script_77.sh");
}

TEST_CASE("scp sink: protocol errors answer \\2 and stop", "[ssh]") {
  ScpSink bad_mode({"/tmp", true});
  CHECK(bad_mode.feed("C9999 1 x\n").rfind("\2scp: protocol error", 0) == 0);
  CHECK(bad_mode.failed());
  ScpSink traversal({"/tmp", true});
  CHECK(traversal.feed("C0644 1 ../etc/passwd\n")[0] == '\2');
  ScpSink stray_end({"/tmp", true});
  CHECK(stray_end.feed("E\n")[0] == '\2');
  ScpSink no_ack({"/tmp", true});
  CHECK(no_ack.feed("C0644 1 x\nyZ")[1] == '\2');
  ScpSink warning({"/tmp", true});
  CHECK(warning.feed("\1scp: something odd\n").empty());  // the source's own warning: no ack
  CHECK_FALSE(warning.failed());
}

TEST_CASE("public hosts: each cloud's ARM host maps to its login host", "[proxy]") {
  CHECK(acg::api::public_hosts_of("AzureCloud").arm == "management.azure.com");
  CHECK(acg::api::public_hosts_of("AzureChinaCloud").login == "login.chinacloudapi.cn");
  CHECK(acg::api::login_host_for_arm_host("Management.Azure.com:443") == "login.microsoftonline.com");
  CHECK(acg::api::login_host_for_arm_host("management.usgovcloudapi.net") == "login.microsoftonline.us");
  CHECK_FALSE(acg::api::login_host_for_arm_host("localhost:8443"));
  CHECK_FALSE(acg::api::login_host_for_arm_host("login.microsoftonline.com"));
}
