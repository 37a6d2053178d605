#pragma once
// Requests and responses as plain values: the request pipeline, the handlers and the fuzz
// targets work on these, never on Beast types, so only server.cpp compiles Beast.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acg::api {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // raw request target: path and query, percent-encoded
  HeaderList headers;
  std::string body;
  std::string remote_address;

  // Case-insensitive header lookup; empty when absent.
  std::string_view header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;
  std::string body;

  void set_header(std::string name, std::string value);
  std::string_view header(std::string_view name) const;
};

// A request target split and percent-decoded: "/a/b%20c?x=1&y" -> path "/a/b c", query pairs.
struct ParsedTarget {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;

  // Case-insensitive query lookup (ARM treats "$skipToken" and "$skiptoken" alike).
  const std::string* query_value(std::string_view name) const;
};
ParsedTarget parse_target(std::string_view target);
std::string percent_decode(std::string_view text, bool plus_is_space);
std::string percent_encode(std::string_view text);

// Parses an application/x-www-form-urlencoded body.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);

}  // namespace acg::api
