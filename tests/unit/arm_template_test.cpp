// The template expression language and deployment planning, without HTTP.

#include <catch2/catch.hpp>

#include "emulator/arm_template.h"
#include "emulator/template_expression.h"

using namespace acg::arm_template;
using nlohmann::json;

namespace {

// A context with fixed parameters and variables, for expressions alone.
class FixedContext final : public ExpressionContext {
 public:
  acg::Result<json> parameter(const std::string& name) override {
    if (name == "name") return json("Gallery01");
    if (name == "count") return json(3);
    if (name == "regions") return json::array({"westus", "eastus"});
    return template_error("no parameter " + name);
  }
  acg::Result<json> variable(const std::string& name) override {
    if (name == "settings") return json{{"Tier", "gold"}, {"list", {1, 2, 3}}};
    return template_error("no variable " + name);
  }
  acg::Result<json> copy_index(const std::string&, std::int64_t offset) override { return json(2 + offset); }
  acg::Result<json> reference(const std::string& id, const std::string&, bool full) override {
    if (full) return json{{"id", id}, {"properties", {{"state", "ok"}}}};
    return json{{"state", "ok"}};
  }
  json resource_group() override {
    return {{"id", "/subscriptions/s/resourceGroups/rg"}, {"name", "rg"}, {"location", "westus"}};
  }
  json subscription() override { return {{"subscriptionId", "s"}, {"tenantId", "t"}}; }
  json deployment() override { return {{"name", "d"}}; }
  std::string utc_now() override { return "20261127T000000Z"; }
};

json eval(const std::string& text) {
  FixedContext ctx;
  auto v = evaluate_string(text, ctx);
  INFO(text);
  REQUIRE(v.ok());
  return *v;
}

std::string eval_error(const std::string& text) {
  FixedContext ctx;
  auto v = evaluate_string(text, ctx);
  INFO(text);
  REQUIRE(!v.ok());
  CHECK(v.error().code == "InvalidTemplate");
  return v.error().message;
}

}  // namespace

TEST_CASE("expressions: literals, escapes and accessors", "[template]") {
  CHECK(eval("plain text") == "plain text");
  CHECK(eval("[[not evaluated]") == "[not evaluated]");
  CHECK(eval("['it''s']") == "it's");
  CHECK(eval("[-42]") == -42);
  CHECK(eval("[variables('settings').tier]") == "gold");  // property names match case-insensitively
  CHECK(eval("[variables('settings')['list'][1]]") == 2);
  CHECK(eval("[parameters('regions')[0]]") == "westus");
  CHECK(eval("[ concat( 'a' , 'b' ) ]") == "ab");
  CHECK(eval("[sys.concat('a', 'b')]") == "ab");
}

TEST_CASE("expressions: the function library", "[template]") {
  CHECK(eval("[concat(parameters('name'), '-', string(parameters('count')))]") == "Gallery01-3");
  CHECK(eval("[concat(createArray(1), createArray(2, 3))]") == json::array({1, 2, 3}));
  CHECK(eval("[format('{0}/{1:D3}/{{x}}', 'a', 7)]") == "a/007/{x}");
  CHECK(eval("[toLower(parameters('name'))]") == "gallery01");
  CHECK(eval("[toUpper('abc')]") == "ABC");
  CHECK(eval("[length(parameters('regions'))]") == 2);
  CHECK(eval("[length('four')]") == 4);
  CHECK(eval("[if(equals(parameters('count'), 3), 'three', reference('never-called').x)]") == "three");
  CHECK(eval("[and(true(), not(false()))]") == true);
  CHECK(eval("[or(false(), greater(2, 1))]") == true);
  CHECK(eval("[copyIndex(10)]") == 12);
  CHECK(eval("[resourceId('Microsoft.Compute/galleries/images', 'g', 'i')]") ==
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i");
  CHECK(eval("[resourceId('other', 'Microsoft.Compute/galleries', 'g')]") ==
        "/subscriptions/s/resourceGroups/other/providers/Microsoft.Compute/galleries/g");
  CHECK(eval("[resourceId('s2', 'other', 'Microsoft.Compute/galleries', 'g')]") ==
        "/subscriptions/s2/resourceGroups/other/providers/Microsoft.Compute/galleries/g");
  CHECK(eval("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r')]") ==
        "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/r");
  CHECK(eval("[resourceGroup().location]") == "westus");
  CHECK(eval("[subscription().tenantId]") == "t");
  CHECK(eval("[reference('x').state]") == "ok");
  CHECK(eval("[reference('x', '2022-03-03', 'Full').properties.state]") == "ok");
  CHECK(eval("[split('a,b;c', createArray(',', ';'))]") == json::array({"a", "b", "c"}));
  CHECK(eval("[replace('a-b-c', '-', '')]") == "abc");
  CHECK(eval("[substring('gallery', 1, 3)]") == "all");
  CHECK(eval("[trim('  x ')]") == "x");
  CHECK(eval("[startsWith('Gallery', 'gal')]") == true);
  CHECK(eval("[endsWith('Gallery', 'RY')]") == true);
  CHECK(eval("[contains(createObject('Key', 1), 'key')]") == true);
  CHECK(eval("[contains('abc', 'd')]") == false);
  CHECK(eval("[empty('')]") == true);
  CHECK(eval("[union(createObject('a', 1), createObject('b', 2))]") == json{{"a", 1}, {"b", 2}});
  CHECK(eval("[take(range(1, 5), 2)]") == json::array({1, 2}));
  CHECK(eval("[skip('abcdef', 4)]") == "ef");
  CHECK(eval("[first(parameters('regions'))]") == "westus");
  CHECK(eval("[last('xyz')]") == "z");
  CHECK(eval("[int('42')]") == 42);
  CHECK(eval("[bool('true')]") == true);
  CHECK(eval("[json('{\"a\":[1]}').a[0]]") == 1);
  CHECK(eval("[coalesce(null(), 'fallback')]") == "fallback");
  CHECK(eval("[max(createArray(1, 7), 3)]") == 7);
  CHECK(eval("[sub(div(9, 2), mod(5, 3))]") == 2);
  CHECK(eval("[indexOf('Gallery', 'LL')]") == 2);
  CHECK(eval("[utcNow()]") == "20261127T000000Z");

  // Deterministic hashes: the same input, the same value; 13 characters for uniqueString.
  const std::string unique = eval("[uniqueString(resourceGroup().id)]");
  CHECK(unique.size() == 13);
  CHECK(eval("[uniqueString(resourceGroup().id)]") == unique);
  CHECK(eval("[uniqueString('other')]") != unique);
  CHECK(eval("[guid('a', 'b')]").get<std::string>().size() == 36);
}

TEST_CASE("expressions: errors are values naming what is wrong", "[template]") {
  CHECK(eval_error("[nosuch(1)]").find("'nosuch'") != std::string::npos);
  CHECK(eval_error("[concat('a']").find("not valid") != std::string::npos);
  CHECK(eval("[concat('a'") == "[concat('a'");  // no closing bracket: a plain string
  CHECK(eval_error("[variables('settings').missing]").find("'missing' doesn't exist") != std::string::npos);
  CHECK(eval_error("[parameters('regions')[5]]").find("out of bounds") != std::string::npos);
  CHECK(eval_error("[div(1, 0)]").find("divide by zero") != std::string::npos);
  CHECK(eval_error("[length(1)]").find("'length'") != std::string::npos);
  CHECK(eval_error("[if(true(), 'a')]").find("'if'") != std::string::npos);
  CHECK(eval_error("[concat('a', createArray(1))]").find("all strings or all arrays") != std::string::npos);
  auto calls = functions_called("[concat(parameters('a'), reference('b').c)]");
  REQUIRE(calls.ok());
  CHECK(std::find(calls->begin(), calls->end(), "reference") != calls->end());
  CHECK(!functions_called("[bogus()]").ok());
}

namespace {

DeploymentScope scope() {
  return {"s", "Sub", "t", {{"id", "/subscriptions/s/resourceGroups/rg"}, {"name", "rg"}, {"location", "westus"}}, "dep",
          "20261127T000000Z"};
}

json gallery(const std::string& name) {
  return {{"type", "Microsoft.Compute/galleries"}, {"apiVersion", "2022-03-03"}, {"name", name}, {"location", "westus"}};
}

json properties_of(json resources, json parameters = json::object(), json template_parameters = json::object()) {
  return {{"mode", "Incremental"},
          {"template", {{"parameters", template_parameters}, {"resources", resources}}},
          {"parameters", parameters}};
}

}  // namespace

TEST_CASE("planning: dependency order, copy loops, child resources, conditions", "[template]") {
  json a = gallery("a");
  a["dependsOn"] = {"loop"};
  json looped = gallery("[concat('g', string(copyIndex()))]");
  looped["copy"] = {{"name", "loop"}, {"count", 2}};
  json parent = gallery("p");
  parent["resources"] = json::array({{{"type", "images"}, {"apiVersion", "2022-03-03"}, {"name", "img"}, {"location", "westus"}}});
  json off = gallery("off");
  off["condition"] = false;
  json after_off = gallery("z");
  after_off["dependsOn"] = {"off"};

  auto plan = DeploymentPlan::build(properties_of(json::array({a, looped, parent, off, after_off})), scope());
  REQUIRE(plan.ok());
  std::vector<std::string> names;
  for (const auto& r : plan->resources()) names.push_back(r.name);
  CHECK(names == std::vector<std::string>{"g0", "g1", "a", "p", "p/img", "z"});
  CHECK(plan->resources()[4].type == "Microsoft.Compute/galleries/images");
  CHECK(plan->resources()[4].id == "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/p/images/img");
  CHECK(plan->resources()[4].depends_on == std::vector<size_t>{3});  // a child waits for its parent
  CHECK(plan->resources()[2].depends_on == std::vector<size_t>{0, 1});
  CHECK(plan->resources()[1].copy_index == 1);
  CHECK(plan->dependencies().size() == 2);
}

TEST_CASE("planning: parameters are checked and shown without secrets", "[template]") {
  json defs = {{"name", {{"type", "string"}, {"minLength", 3}}},
               {"secret", {{"type", "securestring"}, {"defaultValue", "hidden"}}},
               {"size", {{"type", "int"}, {"defaultValue", "[add(1, 2)]"}, {"maxValue", 5}}},
               {"derived", {{"type", "string"}, {"defaultValue", "[concat(parameters('name'), '-x')]"}}}};
  auto plan = DeploymentPlan::build(properties_of(json::array(), {{"name", {{"value", "abc"}}}}, defs), scope());
  REQUIRE(plan.ok());
  CHECK(plan->parameters_view()["derived"]["value"] == "abc-x");
  CHECK(plan->parameters_view()["size"] == json{{"type", "Int"}, {"value", 3}});
  CHECK(plan->parameters_view()["secret"] == json{{"type", "SecureString"}});

  auto short_name = DeploymentPlan::build(properties_of(json::array(), {{"name", {{"value", "ab"}}}}, defs), scope());
  REQUIRE(!short_name.ok());
  CHECK(short_name.error().message.find("greater than or equal to '3'") != std::string::npos);
  auto keyvault = DeploymentPlan::build(
      properties_of(json::array(), {{"name", {{"reference", {{"keyVault", {{"id", "x"}}}}}}}}, defs), scope());
  REQUIRE(!keyvault.ok());
  CHECK(keyvault.error().message.find("Key Vault references") != std::string::npos);
  json self_ref = {{"p", {{"type", "string"}, {"defaultValue", "[parameters('p')]"}}}};
  CHECK(!DeploymentPlan::build(properties_of(json::array(), json::object(), self_ref), scope()).ok());
}

TEST_CASE("planning: reference() only where ARM allows it", "[template]") {
  json named = gallery("[reference('x').name]");
  auto plan = DeploymentPlan::build(properties_of(json::array({named})), scope());
  REQUIRE(!plan.ok());
  CHECK(plan.error().message.find("'reference' is not expected") != std::string::npos);

  json body_ref = gallery("g");
  body_ref["properties"] = {{"description", "[reference('h').description]"}};
  json h = gallery("h");
  auto ok = DeploymentPlan::build(properties_of(json::array({body_ref, h})), scope());
  REQUIRE(ok.ok());
  std::string asked_id, asked_version;
  auto body = ok->resource_body(0, [&](const std::string& id, const std::string& version, bool) -> acg::Result<json> {
    asked_id = id;
    asked_version = version;
    return json{{"description", "from h"}};
  });
  REQUIRE(body.ok());
  CHECK((*body)["properties"]["description"] == "from h");
  CHECK(asked_id == "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/h");
  CHECK(asked_version == "2022-03-03");  // the template's api-version for a resource it deploys
}
