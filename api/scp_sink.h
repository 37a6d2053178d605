#pragma once
// The sink side of the scp protocol, as the remote `scp -t DIR` runs it: what Packer's SSH
// communicator (and OpenSSH's scp in legacy mode, libssh's ssh_scp) speak to upload files.
// Pure bytes in, acknowledgements out, no I/O, so it is tested without a socket:
//
//   sink -> source   "\0"                         ready
//   source -> sink   "C0644 <size> <name>\n"      a file follows; sink acks "\0"
//                    <size bytes> "\0"            its content, then the source's ack; sink acks "\0"
//                    "D0755 0 <name>\n" / "E\n"   enter / leave a directory (scp -r); acked
//                    "T<mtime> 0 <atime> 0\n"     times of the next C/D line; acked
//                    "\1..." / "\2..."            source-side warning / error line; not acked
//   anything else: sink answers "\2<reason>\n" and fails.
//
// The content is counted, not kept: the emulator has no disk to write it to.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acg::api {

class ScpSink {
 public:
  struct Upload {
    std::string path;  // where it would land: the target directory (and D levels) plus its name
    std::uint64_t size = 0;
    std::string mode;  // four octal digits as sent, e.g. "0644"
  };

  // Where the files go: the path after -t, and whether it names a directory. The sink cannot
  // look at a disk, so a single-file target is guessed from its name (see target_of_command).
  struct Target {
    std::string path;
    bool directory = true;
  };
  explicit ScpSink(Target target);

  // "scp -vt /tmp", "scp -t -- /tmp", "scp -r -d -t /x" -> the target; nullopt when the command
  // is not an scp sink (no -t, or not scp). A directory with -d or -r; otherwise a directory
  // unless the last component looks like a file name ("a.sh", not ".ssh"), or a C line names
  // the target's last component itself ("scp -t /tmp/a.sh" receiving "C0644 3 a.sh").
  static std::optional<Target> target_of_command(std::string_view command);

  // The first byte the sink sends, before the source writes anything.
  static std::string ready() { return std::string(1, '\0'); }

  // Consumes bytes from the source; returns what the sink answers (acks, or an error line).
  std::string feed(std::string_view bytes);
  // Uploads finished since the last call.
  std::vector<Upload> take_finished();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  enum class State { line, data, data_ack };

  std::string handle_line(const std::string& line);
  std::string fail(const std::string& reason);
  std::string current_dir() const;

  std::string target_;
  bool target_is_directory_;
  std::vector<std::string> dirs_;  // D levels below the target
  State state_ = State::line;
  std::string line_;
  std::uint64_t remaining_ = 0;
  Upload pending_;
  std::vector<Upload> finished_;
  std::string error_;
};

}  // namespace acg::api
