// The Azure Policy rule evaluator: a JSON input is {"rule": ..., "parameters": ...,
// "resource": ...} (any member may be missing or malformed); the definition check, the
// parameter binding, the evaluation and the append/modify effects must each answer with a
// value or an ARM error, never a crash, a hang or an exception.

#include <nlohmann/json.hpp>
#include <string>

#include "emulator/policy_rule.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using nlohmann::json;

json member_or(const json& doc, const char* key, json fallback) {
  return doc.is_object() && doc.contains(key) ? doc[key] : fallback;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const json doc = json::parse(acg::fuzz::as_text(data, size), nullptr, false);
  if (doc.is_discarded()) return 0;
  const json rule = member_or(doc, "rule", json::object());
  const json declared = member_or(doc, "parameters", json::object());
  const json assigned = member_or(doc, "values", json::object());
  json resource = member_or(doc, "resource", json{{"type", "Microsoft.Compute/galleries"}, {"name", "g"},
                                                  {"location", "westus2"}});
  const json group = {{"id", acg::fuzz::kGroup}, {"name", "fuzz"}, {"location", "westus2"}};

  const json properties = {{"mode", member_or(doc, "mode", "All")}, {"parameters", declared}, {"policyRule", rule}};
  if (!acg::policy::check_definition("fuzz", properties)) return 0;
  auto values = acg::policy::parameter_values("fuzz-assignment", "fuzz", declared, assigned);
  if (!values) return 0;
  auto outcome = acg::policy::evaluate(rule, *values, {resource, &group, acg::fuzz::kSub});
  if (!outcome || !outcome->matched) return 0;
  if (outcome->effect == "append") (void)acg::policy::apply_append(outcome->details, resource);
  if (outcome->effect == "modify") (void)acg::policy::apply_modify(outcome->details, resource);
  return 0;
}
