#pragma once
// The relaxed JSON ARM's deployments endpoint reads (Newtonsoft's lenient mode), which az
// 2.45 relies on: `az deployment group create` splices the template file's text, comments
// and all, into the body under an unquoted key:
//   {"properties": {"parameters": {...}, "mode": "Incremental", template:{ // a comment
//      "$schema": "...", ... }}}
// Accepted beyond strict JSON: // and /* */ comments, unquoted property names, trailing
// commas. Everything else must be JSON.

#include <nlohmann/json.hpp>
#include <string_view>

namespace acg::api {

// The parsed value, or a discarded json (is_discarded()) when the text is not even lenient JSON.
nlohmann::json parse_lenient_json(std::string_view text);

}  // namespace acg::api
