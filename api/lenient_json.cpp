// Lenient JSON: rewrites the relaxations into strict JSON text, then parses it strictly.

#include "api/lenient_json.h"

#include <cctype>
#include <string>

namespace acg::api {

namespace {

bool identifier_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

// Index of the first character at or after i that is neither white space nor a comment.
size_t skip_blank(std::string_view t, size_t i) {
  while (i < t.size()) {
    if (std::isspace(static_cast<unsigned char>(t[i]))) {
      ++i;
    } else if (t.compare(i, 2, "//") == 0) {
      size_t end = t.find('\n', i);
      i = end == std::string_view::npos ? t.size() : end;
    } else if (t.compare(i, 2, "/*") == 0) {
      size_t end = t.find("*/", i + 2);
      i = end == std::string_view::npos ? t.size() : end + 2;
    } else {
      break;
    }
  }
  return i;
}

// Copies a string literal starting at t[i] == '"'; returns the index after it.
size_t copy_string(std::string_view t, size_t i, std::string& out) {
  out += t[i++];
  while (i < t.size()) {
    char c = t[i++];
    out += c;
    if (c == '\\' && i < t.size()) out += t[i++];
    else if (c == '"') break;
  }
  return i;
}

std::string to_strict(std::string_view t) {
  std::string out;
  out.reserve(t.size() + 16);
  for (size_t i = 0; i < t.size();) {
    char c = t[i];
    if (c == '"') {
      i = copy_string(t, i, out);
    } else if (t.compare(i, 2, "//") == 0 || t.compare(i, 2, "/*") == 0) {
      i = skip_blank(t, i);
      out += ' ';
    } else if (c == ',' && [&] {
                 size_t next = skip_blank(t, i + 1);
                 return next < t.size() && (t[next] == '}' || t[next] == ']');
               }()) {
      ++i;  // trailing comma
    } else if (identifier_start(c) && (out.empty() || !identifier_char(out.back()))) {
      size_t end = i;
      while (end < t.size() && identifier_char(t[end])) ++end;
      std::string_view word = t.substr(i, end - i);
      size_t next = skip_blank(t, end);
      bool key = next < t.size() && t[next] == ':' && word != "true" && word != "false" && word != "null";
      if (key) out += '"';
      out += word;
      if (key) out += '"';
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace

nlohmann::json parse_lenient_json(std::string_view text) {
  return nlohmann::json::parse(to_strict(text), nullptr, false);
}

}  // namespace acg::api
