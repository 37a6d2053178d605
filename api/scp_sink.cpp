#include "api/scp_sink.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace acg::api {

namespace {

constexpr std::size_t kMaxLine = 4096;
const std::string kAck(1, '\0');

bool is_octal_mode(std::string_view mode) {
  if (mode.size() != 4) return false;
  for (char c : mode)
    if (c < '0' || c > '7') return false;
  return true;
}

std::string last_component(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

ScpSink::ScpSink(Target target) : target_(std::move(target.path)), target_is_directory_(target.directory) {
  while (target_.size() > 1 && target_.back() == '/') target_.pop_back();
}

std::optional<ScpSink::Target> ScpSink::target_of_command(std::string_view command) {
  std::istringstream words{std::string(command)};
  std::string word;
  if (!(words >> word) || last_component(word) != "scp") return std::nullopt;
  bool sink = false;
  bool directory = false;
  std::string target;
  bool options_end = false;
  while (words >> word) {
    if (!options_end && word == "--") {
      options_end = true;
    } else if (!options_end && word.size() > 1 && word[0] == '-') {
      if (word.find('t') != std::string::npos) sink = true;
      if (word.find('d') != std::string::npos || word.find('r') != std::string::npos) directory = true;
    } else {
      target = word;
    }
  }
  // A quoted path (libssh's ssh_scp quotes it): one plain pair of quotes is taken off.
  if (target.size() >= 2 && (target.front() == '\'' || target.front() == '"') && target.back() == target.front())
    target = target.substr(1, target.size() - 2);
  if (!sink || target.empty()) return std::nullopt;
  const std::string last = last_component(target);
  const bool looks_like_file = last.find('.', 1) != std::string::npos && target.back() != '/';
  return Target{target, directory || !looks_like_file};
}

std::string ScpSink::current_dir() const {
  std::string dir = target_;
  for (const std::string& d : dirs_) dir += (dir == "/" ? "" : "/") + d;
  return dir;
}

std::string ScpSink::fail(const std::string& reason) {
  error_ = reason;
  return "\2scp: " + reason + "\n";
}

std::string ScpSink::handle_line(const std::string& line) {
  if (line.empty()) return fail("protocol error: empty line");
  const char kind = line[0];
  if (kind == '\1' || kind == '\2') return {};  // the source reports a problem of its own
  if (kind == 'E') {
    if (dirs_.empty()) return fail("protocol error: 'E' outside a directory");
    dirs_.pop_back();
    return kAck;
  }
  if (kind == 'T') return kAck;  // times: nothing to set them on
  if (kind != 'C' && kind != 'D') return fail("protocol error: unexpected '" + line.substr(0, 1) + "'");
  // "C0644 123 name" / "D0755 0 name"
  std::istringstream fields(line.substr(1));
  std::string mode, size_text, name;
  fields >> mode >> size_text;
  std::getline(fields >> std::ws, name);
  std::uint64_t size = 0;
  auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
  if (!is_octal_mode(mode) || ec != std::errc() || end != size_text.data() + size_text.size() || name.empty() ||
      name == "." || name == ".." || name.find('/') != std::string::npos)
    return fail("protocol error: bad '" + line.substr(0, 1) + "' line");
  if (kind == 'D') {
    dirs_.push_back(name);
    return kAck;
  }
  const bool target_is_file =
      dirs_.empty() && target_ != "/" && (!target_is_directory_ || last_component(target_) == name);
  pending_ = Upload{target_is_file ? target_ : current_dir() + (current_dir() == "/" ? "" : "/") + name, size, mode};
  remaining_ = size;
  state_ = State::data;
  return kAck;
}

std::string ScpSink::feed(std::string_view bytes) {
  std::string out;
  while (!bytes.empty() && !failed()) {
    if (state_ == State::data) {
      const std::uint64_t take = std::min<std::uint64_t>(remaining_, bytes.size());
      remaining_ -= take;
      bytes.remove_prefix(take);
      if (remaining_ == 0) state_ = State::data_ack;
      continue;
    }
    if (state_ == State::data_ack) {  // the source's "\0" after the content
      const char c = bytes.front();
      bytes.remove_prefix(1);
      if (c != '\0') return out + fail("protocol error: the file content was not followed by an ack");
      finished_.push_back(std::move(pending_));
      state_ = State::line;
      out += kAck;
      continue;
    }
    const char c = bytes.front();
    bytes.remove_prefix(1);
    if (c != '\n') {
      if (line_.size() >= kMaxLine) return out + fail("protocol error: line too long");
      line_ += c;
      continue;
    }
    const std::string line = std::move(line_);
    line_.clear();
    out += handle_line(line);
  }
  return out;
}

std::vector<ScpSink::Upload> ScpSink::take_finished() {
  std::vector<Upload> out = std::move(finished_);
  finished_.clear();
  return out;
}

}  // namespace acg::api
