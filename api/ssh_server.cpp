// The SSH endpoint (api/ssh_server.h) on libssh's blocking server API: the message loop of
// ssh_message_get() per connection thread, which is all a build's sequential sessions need.

#include "api/ssh_server.h"

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <list>
#include <mutex>
#include <thread>

#include "api/scp_sink.h"
#include "api/tls_material.h"
#include "emulator/emulator.h"

// libssh 0.10 marks the ssh_message_* server API deprecated in favour of callbacks, but ships
// and supports it; its blocking loop keeps one connection readable top to bottom.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace acg::api {

namespace {

constexpr int kAcceptPollMs = 100;     // how soon the acceptor notices stop()
constexpr int kReadTimeoutMs = 200;    // likewise for a connection reading a channel
constexpr std::size_t kMaxShellLine = 4096;

void init_libssh_once() {
  static std::once_flag once;
  std::call_once(once, [] { ssh_init(); });  // never finalized: emulators come and go in one process
}

// The host key: loaded from file, else generated (and written there when a file is named).
Result<ssh_key> load_or_create_host_key(const std::string& file) {
  ssh_key key = nullptr;
  if (!file.empty() && std::filesystem::exists(file)) {
    auto text = read_text_file(file);
    if (!text) return std::move(text).error();
    if (ssh_pki_import_privkey_base64(text->c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK)
      return internal_error("the SSH host key '" + file + "' cannot be read (not an unencrypted OpenSSH private key)");
    return key;
  }
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) return internal_error("cannot generate an SSH host key");
  if (file.empty()) return key;
  char* pem = nullptr;
  if (ssh_pki_export_privkey_base64(key, nullptr, nullptr, nullptr, &pem) != SSH_OK) {
    ssh_key_free(key);
    return internal_error("cannot encode the SSH host key");
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
  Status written = write_file_atomically(file, pem, /*secret=*/true);
  ssh_string_free_char(pem);
  if (!written) {
    ssh_key_free(key);
    return std::move(written).error();
  }
  return key;
}

std::string public_key_line(ssh_key key) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) return {};
  std::string line = std::string(ssh_key_type_to_char(ssh_key_type(key))) + " " + b64;
  ssh_string_free_char(b64);
  return line;
}

std::string key_blob(ssh_key key) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) return {};
  std::string blob = b64;
  ssh_string_free_char(b64);
  return blob;
}

// One connection, from key exchange to disconnect, on its own thread.
class Connection {
 public:
  Connection(ssh_session session, Emulator& emulator, const std::atomic<bool>& stopping)
      : session_(session), emulator_(emulator), stopping_(stopping) {}

  void run() {
    if (ssh_handle_key_exchange(session_) != SSH_OK) return;
    if (!authenticate()) return;
    serve_channels();
  }

 private:
  void log(const std::string& text) { (void)emulator_.append_build_log(vm_id_, "ssh", text); }

  // publickey only, and only a key a stored VM carries. A key offered without a signature
  // (the client's probe) gets PK_OK; with a signature libssh has verified, success.
  bool authenticate() {
    ssh_set_auth_methods(session_, SSH_AUTH_METHOD_PUBLICKEY);
    for (int attempts = 0; attempts < 32; ++attempts) {
      ssh_message message = ssh_message_get(session_);
      if (!message) return false;
      if (ssh_message_type(message) == SSH_REQUEST_AUTH && ssh_message_subtype(message) == SSH_AUTH_METHOD_PUBLICKEY) {
        auto vm = emulator_.find_vm_by_ssh_key(key_blob(ssh_message_auth_pubkey(message)));
        const auto state = ssh_message_auth_publickey_state(message);
        if (vm && *vm && state == SSH_PUBLICKEY_STATE_NONE) {
          ssh_message_auth_reply_pk_ok_simple(message);
          ssh_message_free(message);
          continue;
        }
        if (vm && *vm && state == SSH_PUBLICKEY_STATE_VALID) {
          vm_id_ = **vm;
          const char* name = ssh_message_auth_user(message);
          const std::string user = name ? name : "";  // copied: the reply below frees it
          ssh_message_auth_reply_success(message, 0);
          ssh_message_free(message);
          log("connected: user " + user + ", publickey");
          return true;
        }
      }
      if (ssh_message_type(message) == SSH_REQUEST_AUTH) ssh_message_auth_set_methods(message, SSH_AUTH_METHOD_PUBLICKEY);
      ssh_message_reply_default(message);
      ssh_message_free(message);
    }
    return false;
  }

  // Session channels one after another (Packer opens one per command, sequentially).
  void serve_channels() {
    ssh_channel channel = nullptr;
    while (ssh_message message = ssh_message_get(session_)) {
      const int type = ssh_message_type(message);
      const int subtype = ssh_message_subtype(message);
      if (type == SSH_REQUEST_CHANNEL_OPEN && subtype == SSH_CHANNEL_SESSION) {
        if (channel) ssh_channel_free(channel);
        channel = ssh_message_channel_request_open_reply_accept(message);
      } else if (type == SSH_REQUEST_CHANNEL && channel && ssh_message_channel_request_channel(message) == channel) {
        if (subtype == SSH_CHANNEL_REQUEST_PTY || subtype == SSH_CHANNEL_REQUEST_ENV ||
            subtype == SSH_CHANNEL_REQUEST_WINDOW_CHANGE) {
          ssh_message_channel_request_reply_success(message);
        } else if (subtype == SSH_CHANNEL_REQUEST_EXEC) {
          const std::string command = ssh_message_channel_request_command(message);
          ssh_message_channel_request_reply_success(message);
          finish(channel, exec(channel, command));
          channel = nullptr;
        } else if (subtype == SSH_CHANNEL_REQUEST_SHELL) {
          ssh_message_channel_request_reply_success(message);
          finish(channel, shell(channel));
          channel = nullptr;
        } else {
          ssh_message_reply_default(message);  // sftp and other subsystems, x11, agent forwarding
        }
      } else {
        ssh_message_reply_default(message);  // port forwarding, global requests
      }
      ssh_message_free(message);
    }
    if (channel) ssh_channel_free(channel);
  }

  // Reads what the client sends on the channel until EOF (or the connection ends): each chunk
  // to `consume`, which returns false to stop early.
  template <class Consume>
  bool read_until_eof(ssh_channel channel, Consume consume) {
    char buffer[16 * 1024];
    while (!stopping_.load()) {
      const int n = ssh_channel_read_timeout(channel, buffer, sizeof buffer, 0, kReadTimeoutMs);
      if (n == SSH_ERROR) return false;
      if (n > 0 && !consume(std::string_view(buffer, static_cast<std::size_t>(n)))) return true;
      if (n == 0 && (ssh_channel_is_eof(channel) || !ssh_channel_is_open(channel))) return true;
    }
    return false;
  }

  int exec(ssh_channel channel, const std::string& command) {
    log("exec: " + command);
    auto target = ScpSink::target_of_command(command);
    if (!target) return 0;
    ScpSink sink(std::move(*target));
    const std::string ready = ScpSink::ready();
    if (ssh_channel_write(channel, ready.data(), ready.size()) == SSH_ERROR) return 1;
    read_until_eof(channel, [&](std::string_view bytes) {
      const std::string answer = sink.feed(bytes);
      for (const ScpSink::Upload& u : sink.take_finished())
        log("upload: " + u.path + " (" + std::to_string(u.size) + " bytes, mode " + u.mode + ")");
      if (!answer.empty() && ssh_channel_write(channel, answer.data(), answer.size()) == SSH_ERROR) return false;
      return !sink.failed();
    });
    if (sink.failed()) log("scp failed: " + sink.error());
    return sink.failed() ? 1 : 0;
  }

  int shell(ssh_channel channel) {
    log("shell started");
    std::string line;
    bool exited = false;
    read_until_eof(channel, [&](std::string_view bytes) {
      for (char c : bytes) {
        if (c == '\r') continue;
        if (c != '\n' && line.size() < kMaxShellLine) {
          line += c;
          continue;
        }
        if (c != '\n') continue;
        log("shell: " + line);
        exited = line == "exit" || line.rfind("exit ", 0) == 0;
        line.clear();
        if (exited) return false;
      }
      return true;
    });
    if (!line.empty() && !exited) log("shell: " + line);
    return 0;
  }

  static void finish(ssh_channel channel, int exit_status) {
    ssh_channel_request_send_exit_status(channel, exit_status);
    ssh_channel_send_eof(channel);
    ssh_channel_close(channel);
    ssh_channel_free(channel);
  }

  ssh_session session_;
  Emulator& emulator_;
  const std::atomic<bool>& stopping_;
  std::string vm_id_;
};

}  // namespace

struct SshServer::Impl {
  SshServerOptions options;
  Emulator& emulator;
  ssh_bind bind = nullptr;
  std::string host_public_key;
  std::uint16_t bound_port = 0;
  std::atomic<bool> stopping{false};
  std::thread acceptor;
  std::once_flag stopped;

  struct Slot {
    std::thread thread;
    int fd = -1;              // GUARDED_BY(mutex): -1 once the session is freed
    bool finished = false;    // GUARDED_BY(mutex)
  };
  std::mutex mutex;
  std::list<Slot> slots;  // GUARDED_BY(mutex)

  Impl(SshServerOptions o, Emulator& e) : options(std::move(o)), emulator(e) {}
  ~Impl() {
    if (bind) ssh_bind_free(bind);
  }

  Status listen();
  void accept_loop();
  void start_session(ssh_session session);
  void reap_finished();  // joins threads whose connection ended
  void stop();
};

Status SshServer::Impl::listen() {
  init_libssh_once();
  auto key = load_or_create_host_key(options.host_key_file);
  if (!key) return std::move(key).error();
  host_public_key = public_key_line(*key);
  bind = ssh_bind_new();
  if (!bind) {
    ssh_key_free(*key);
    return internal_error("cannot create the SSH listener");
  }
  bool process_config = false;  // /etc/ssh/libssh_server_config is not ours to follow
  int port = options.port;
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &process_config);
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BINDADDR, options.host.c_str());
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BINDPORT, &port);
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, *key);  // the bind owns the key now
  if (ssh_bind_listen(bind) != SSH_OK)
    return internal_error("cannot listen for SSH on " + options.host + ":" + std::to_string(options.port) + ": " +
                          ssh_get_error(bind));
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(ssh_bind_get_fd(bind), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return internal_error("cannot read the SSH listener's port");
  bound_port = address.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port)
                                             : ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  return ok_status();
}

void SshServer::Impl::accept_loop() {
  pollfd listener{ssh_bind_get_fd(bind), POLLIN, 0};
  while (!stopping.load()) {
    listener.revents = 0;
    if (poll(&listener, 1, kAcceptPollMs) <= 0 || !(listener.revents & POLLIN)) continue;
    ssh_session session = ssh_new();
    if (!session) continue;
    if (ssh_bind_accept(bind, session) != SSH_OK) {
      ssh_free(session);
      continue;
    }
    start_session(session);
  }
}

void SshServer::Impl::start_session(ssh_session session) {
  reap_finished();
  std::lock_guard lock(mutex);
  if (static_cast<int>(slots.size()) >= options.max_sessions || stopping.load()) {
    ssh_disconnect(session);
    ssh_free(session);
    return;
  }
  long timeout_s = static_cast<long>(options.idle_timeout.count());
  ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout_s);
  Slot& slot = slots.emplace_back();
  slot.fd = ssh_get_fd(session);
  slot.thread = std::thread([this, session, &slot] {
    Connection(session, emulator, stopping).run();
    {
      std::lock_guard done(mutex);
      slot.fd = -1;  // from here on the descriptor may be reused: stop() must not touch it
      slot.finished = true;
    }
    ssh_disconnect(session);
    ssh_free(session);
  });
}

void SshServer::Impl::reap_finished() {
  std::list<Slot> ended;
  {
    std::lock_guard lock(mutex);
    for (auto it = slots.begin(); it != slots.end();) {
      auto next = std::next(it);
      if (it->finished) ended.splice(ended.end(), slots, it);
      it = next;
    }
  }
  for (Slot& s : ended) s.thread.join();
}

void SshServer::Impl::stop() {
  std::call_once(stopped, [this] {
    stopping.store(true);
    if (acceptor.joinable()) acceptor.join();
    std::list<Slot> all;
    {
      std::lock_guard lock(mutex);
      for (Slot& s : slots)
        if (s.fd >= 0) shutdown(s.fd, SHUT_RDWR);  // ends the blocking reads of that thread
      all.splice(all.end(), slots);
    }
    for (Slot& s : all) s.thread.join();
  });
}

Result<std::unique_ptr<SshServer>> SshServer::start(SshServerOptions options, Emulator& emulator) {
  auto impl = std::make_unique<Impl>(std::move(options), emulator);
  if (auto st = impl->listen(); !st) return std::move(st).error();
  Impl* raw = impl.get();
  impl->acceptor = std::thread([raw] { raw->accept_loop(); });
  return std::unique_ptr<SshServer>(new SshServer(std::move(impl)));
}

SshServer::SshServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SshServer::~SshServer() { stop(); }
std::uint16_t SshServer::port() const { return impl_->bound_port; }
const std::string& SshServer::host_public_key() const { return impl_->host_public_key; }
void SshServer::stop() { impl_->stop(); }

}  // namespace acg::api
