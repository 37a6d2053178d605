#include "api/router.h"

#include "emulator/text.h"

namespace acg::api {

const std::string& RequestContext::param(const std::string& name) const {
  static const std::string empty;
  auto it = params.find(name);
  return it == params.end() ? empty : it->second;
}

std::string RequestContext::query(std::string_view name) const {
  const std::string* v = target.query_value(name);
  return v ? *v : std::string();
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty()) out.emplace_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

void Router::add(std::string method, std::string_view path_template, ApiFamily family,
                 bool authenticated, Handler handler) {
  routes_.push_back(Route{std::move(method), split_path(path_template), family, authenticated,
                          std::move(handler)});
}

namespace {

bool is_capture(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool match_segments(const Route& route, const std::vector<std::string>& parts,
                    std::map<std::string, std::string>& params) {
  if (route.segments.size() != parts.size()) return false;
  std::map<std::string, std::string> captured;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (is_capture(seg)) {
      captured[seg.substr(1, seg.size() - 2)] = parts[i];
    } else if (!iequals(seg, parts[i])) {
      return false;
    }
  }
  params = std::move(captured);
  return true;
}

}  // namespace

Router::Match Router::match(std::string_view method, std::string_view path) const {
  const std::vector<std::string> parts = split_path(path);
  Match result;
  // Literal segments beat captures: the first route whose literals all match wins, and
  // routes are registered most specific first.
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!match_segments(route, parts, params)) continue;
    if (!iequals(route.method, method)) {
      result.other_method = true;
      continue;
    }
    result.route = &route;
    result.params = std::move(params);
    return result;
  }
  return result;
}

}  // namespace acg::api
