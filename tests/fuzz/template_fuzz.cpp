// The ARM template engine: a JSON input is a whole template (parameters, variables, copy
// loops, conditions, dependsOn, outputs) planned and evaluated as a deployment would; any
// other input is one template expression, evaluated as an output's value. Every failure must
// be an error value (InvalidTemplate and friends), never a crash, a hang or an exception.

#include <nlohmann/json.hpp>
#include <string>

#include "emulator/arm_template.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using nlohmann::json;
namespace tpl = acg::arm_template;

tpl::DeploymentScope scope() {
  tpl::DeploymentScope s;
  s.subscription_id = acg::fuzz::kSub;
  s.subscription_name = "fuzz";
  s.tenant_id = "11111111-1111-1111-1111-111111111111";
  s.resource_group = {{"id", acg::fuzz::kGroup}, {"name", "fuzz"}, {"location", "westus2"}, {"tags", json::object()}};
  s.deployment_name = "fuzz";
  s.now_utc = "20261128T000000Z";
  return s;
}

// reference() of anything the template did not write: what the deployment sees of a missing one.
acg::Result<json> no_resource(const std::string& id, const std::string&, bool) {
  return acg::ArmError{404, "ResourceNotFound", "The Resource '" + id + "' was not found."};
}

// Request bodies are JSON, so a template's strings are always valid UTF-8: make the input so.
std::string valid_utf8(std::string_view input) {
  return json::parse(json(std::string(input)).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

json template_of(const std::string& input) {
  json doc = json::parse(input, nullptr, false);
  if (doc.is_object()) return doc;
  return {{"$schema", "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"},
          {"contentVersion", "1.0.0.0"},
          {"resources", json::array()},
          {"outputs", {{"o", {{"type", "string"}, {"value", input}}}}}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = acg::fuzz::as_text(data, size);
  json properties = {{"template", template_of(valid_utf8(input))}, {"parameters", json::object()}, {"mode", "Incremental"}};
  auto plan = tpl::DeploymentPlan::build(properties, scope());
  if (!plan) return 0;
  for (size_t i = 0; i < plan->resources().size(); ++i) (void)plan->resource_body(i, no_resource);
  (void)plan->outputs(no_resource);
  (void)plan->providers();
  (void)plan->dependencies();
  return 0;
}
