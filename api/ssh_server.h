#pragma once
// The SSH endpoint for image builds (--ssh-port), on libssh's server API. Packer's azure-arm
// builder always opens SSH to the build VM's public IP for Linux builds; the emulator has no
// VM, so this endpoint stands in for every one of them:
//
//   accept -> key exchange (an Ed25519 host key, kept in the data directory) -> publickey auth:
//   only a key some stored VM was deployed with (Emulator::find_vm_by_ssh_key); password,
//   keyboard-interactive and none are refused -> session channels, one after another:
//     exec "scp [-v] -t DIR"  the scp sink (api/scp_sink.h); each file logged as an upload
//     exec <anything else>    logged "exec: <command>", answered with exit status 0, no output
//     shell                   each line received logged "shell: <line>"; ends at EOF or "exit"
//     sftp and other subsystems, port forwarding: refused
// Every line goes to that VM's build log (Emulator::append_build_log, source "ssh").
//
// Threads: one acceptor, and one thread per connection, at most max_sessions at once (more are
// disconnected at once). stop() shuts every connection's socket down, which ends its blocking
// libssh calls, and joins them all. No libssh type appears in this header.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "emulator/arm_error.h"

namespace acg {
class Emulator;
}

namespace acg::api {

struct SshServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;      // 0 picks a free port
  std::string host_key_file;   // created (0600) when missing; empty: a fresh key in memory
  int max_sessions = 16;
  std::chrono::seconds idle_timeout{600};  // a connection silent this long is closed
};

class SshServer {
 public:
  static Result<std::unique_ptr<SshServer>> start(SshServerOptions options, Emulator& emulator);
  ~SshServer();  // stops if still running

  std::uint16_t port() const;
  // The host key's public half, "ssh-ed25519 AAAA..." (for known_hosts).
  const std::string& host_public_key() const;
  // Stops accepting, ends every connection and joins the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit SshServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace acg::api
