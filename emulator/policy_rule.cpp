#include "emulator/policy_rule.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <vector>

#include "emulator/access_control.h"  // action_matches: the same case-insensitive '*' glob as like
#include "emulator/template_expression.h"
#include "emulator/text.h"

namespace acg::policy {

using nlohmann::json;

namespace {

constexpr std::array<const char*, 19> kOperators = {"equals",
                                                    "notEquals",
                                                    "like",
                                                    "notLike",
                                                    "match",
                                                    "matchInsensitively",
                                                    "notMatch",
                                                    "notMatchInsensitively",
                                                    "contains",
                                                    "notContains",
                                                    "in",
                                                    "notIn",
                                                    "containsKey",
                                                    "notContainsKey",
                                                    "exists",
                                                    "greater",
                                                    "greaterOrEquals",
                                                    "less",
                                                    "lessOrEquals"};

constexpr std::array<const char*, 9> kEffects = {
    "deny", "audit", "append", "modify", "disabled", "auditifnotexists", "deployifnotexists", "denyaction", "manual"};

constexpr std::array<const char*, 7> kParameterTypes = {"String",  "Array", "Object",  "Boolean",
                                                        "Integer", "Float", "DateTime"};

ArmError invalid_rule(const std::string& detail) {
  return bad_request("InvalidPolicyRule", "Failed to parse policy rule: '" + detail + "'.");
}

ArmError invalid_parameters(const std::string& policy, const std::string& inner) {
  return bad_request("InvalidPolicyParameters",
                     "A function or parameter in policy '" + policy +
                         "' could not be validated. If using template functions, try following the tips in: "
                         "https://aka.ms/policy-avoiding-template-failures. The inner exception '" +
                         inner + "'.");
}

// The member of `object` named `key` whatever its case, or nullptr.
const json* member_ci(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  if (auto it = object.find(std::string(key)); it != object.end()) return &*it;
  for (auto it = object.begin(); it != object.end(); ++it)
    if (iequals(it.key(), key)) return &*it;
  return nullptr;
}

std::string lower_text(const json& v) { return v.is_string() ? to_lower(v.get<std::string>()) : v.dump(); }

// --- Expressions: parameters(), resourceGroup(), subscription() ----------------------------

class RuleContext final : public arm_template::ExpressionContext {
 public:
  RuleContext(const json& values, const Subject* subject) : values_(values), subject_(subject) {}
  Result<json> parameter(const std::string& name) override {
    if (const json* v = member_ci(values_, name)) return *v;
    return arm_template::template_error("The policy parameter '" + name + "' is not defined in the policy definition.");
  }
  Result<json> variable(const std::string&) override { return unavailable("variables"); }
  Result<json> copy_index(const std::string&, std::int64_t) override { return unavailable("copyIndex"); }
  Result<json> reference(const std::string&, const std::string&, bool) override { return unavailable("reference"); }
  // Checking a definition has no subject: a group of the right shape stands in.
  json resource_group() override {
    if (subject_ && subject_->resource_group) return *subject_->resource_group;
    return {{"id", ""},
            {"name", ""},
            {"type", "Microsoft.Resources/resourceGroups"},
            {"location", ""},
            {"tags", json::object()},
            {"properties", json::object()}};
  }
  json subscription() override {
    const std::string sub = subject_ ? subject_->subscription_id : "";
    return {{"id", "/subscriptions/" + sub}, {"subscriptionId", sub}};
  }
  json deployment() override { return json::object(); }
  std::string utc_now() override { return ""; }

 private:
  static ArmError unavailable(const std::string& fn) {
    return arm_template::template_error("The template function '" + fn + "' is not available in policy rules.");
  }
  const json& values_;
  const Subject* subject_;
};

// --- Fields ------------------------------------------------------------------------------------

// One step of a property path: a member name, "[*]" (every member) or an index.
struct Step {
  std::string name;
  bool every = false;
  std::optional<size_t> index;
};

// "publishingProfile.targetRegions[*].name" -> publishingProfile, targetRegions, [*], name.
// "tags['a.b']" / "tags[a]" keep the bracketed text as one name.
std::vector<Step> parse_path(std::string_view path) {
  std::vector<Step> steps;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) steps.push_back({current, false, std::nullopt});
    current.clear();
  };
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.') {
      flush();
    } else if (c == '[') {
      flush();
      const size_t close = path.find(']', i);
      std::string inside(path.substr(i + 1, close == std::string_view::npos ? std::string_view::npos : close - i - 1));
      i = close == std::string_view::npos ? path.size() : close;
      if (inside == "*") {
        steps.push_back({"", true, std::nullopt});
      } else if (!inside.empty() && std::all_of(inside.begin(), inside.end(),
                                                [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
        steps.push_back({"", false, static_cast<size_t>(std::stoul(inside))});
      } else {
        if (inside.size() >= 2 && inside.front() == '\'' && inside.back() == '\'')
          inside = inside.substr(1, inside.size() - 2);
        steps.push_back({inside, false, std::nullopt});
      }
    } else {
      current += c;
    }
  }
  flush();
  return steps;
}

// The values a path reaches from `node`: one value (null when absent) without [*], every
// member's with it.
void walk(const json* node, const std::vector<Step>& steps, size_t at, std::vector<json>& out) {
  if (at == steps.size()) {
    out.push_back(node ? *node : json());
    return;
  }
  const Step& step = steps[at];
  if (step.every) {
    if (node && node->is_array())
      for (const json& item : *node) walk(&item, steps, at + 1, out);
    return;  // an absent array is an empty collection
  }
  const json* next = nullptr;
  if (node && step.index && node->is_array() && *step.index < node->size()) next = &(*node)[*step.index];
  if (node && !step.index) next = member_ci(*node, step.name);
  walk(next, steps, at + 1, out);
}

struct FieldValue {
  bool collection = false;  // the path has [*]: every value must satisfy the condition
  std::vector<json> values;
};

// The [*] member a count's `where` is looking at: the alias up to its [*], and the member.
struct Binding {
  std::string prefix;  // lower case, ends with "[*]"
  const json* member;
};

// "Microsoft.Compute/galleries/images/osType" -> {"Microsoft.Compute/galleries/images", "osType"}.
// The property path starts after the type's last '/', before the first '.' or '[' that follows
// the namespace (whose own '.' is part of the type).
std::pair<std::string, std::string> split_alias(const std::string& alias) {
  const size_t namespace_end = alias.find('/');
  if (namespace_end == std::string::npos) return {"", alias};
  const size_t path_mark = alias.find_first_of(".[", namespace_end);
  const size_t slash = alias.rfind('/', path_mark);
  if (slash == namespace_end) return {"", alias};  // "Namespace/property": no type
  return {alias.substr(0, slash), alias.substr(slash + 1)};
}

// fullName: the names of a nested resource and its parents, "gallery/image/1.0.0".
std::string full_name(const json& resource) {
  const std::string id = resource.value("id", "");
  const std::string lower = to_lower(id);
  const size_t providers = lower.rfind("/providers/");
  if (providers == std::string::npos) return resource.value("name", "");
  std::vector<std::string> parts;
  size_t start = providers + 11;
  while (start < id.size()) {
    size_t slash = id.find('/', start);
    if (slash == std::string::npos) slash = id.size();
    parts.push_back(id.substr(start, slash - start));
    start = slash + 1;
  }
  std::string out;
  for (size_t i = 2; i < parts.size(); i += 2) out += (out.empty() ? "" : "/") + parts[i];
  return out;
}

FieldValue field_value(const std::string& field, const json& resource, const std::vector<Binding>& bindings) {
  const std::string lower = to_lower(field);
  for (auto it = bindings.rbegin(); it != bindings.rend(); ++it)
    if (lower.rfind(it->prefix, 0) == 0) {
      FieldValue v;
      std::vector<json> out;
      walk(it->member, parse_path(field.substr(it->prefix.size())), 0, out);
      v.collection = field.find("[*]", it->prefix.size()) != std::string::npos;
      v.values = std::move(out);
      return v;
    }
  FieldValue v;
  auto single = [&](json value) {
    v.values.push_back(std::move(value));
    return v;
  };
  if (lower == "name" || lower == "type" || lower == "kind" || lower == "location" || lower == "id")
    return single(resource.value(lower, json()));
  if (lower == "fullname") return single(full_name(resource));
  if (lower == "tags" || lower.rfind("tags[", 0) == 0 || lower.rfind("tags.", 0) == 0 ||
      lower.rfind("identity.", 0) == 0) {
    walk(&resource, parse_path(field), 0, v.values);
    v.collection = field.find("[*]") != std::string::npos;
    return v;
  }
  const auto [type, path] = split_alias(field);
  if (type.empty() || !iequals(type, resource.value("type", ""))) {
    v.collection = field.find("[*]") != std::string::npos;
    if (!v.collection) v.values.push_back(json());
    return v;
  }
  walk(member_ci(resource, "properties"), parse_path(path), 0, v.values);
  v.collection = path.find("[*]") != std::string::npos;
  return v;
}

// --- Conditions ----------------------------------------------------------------------------

// match: '#' a digit, '?' a letter, '.' any character, anything else itself.
bool pattern_match(std::string_view text, std::string_view pattern, bool ignore_case) {
  if (text.size() != pattern.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const char p = pattern[i];
    if (p == '#'      ? !std::isdigit(c)
        : p == '?'    ? !std::isalpha(c)
        : p == '.'    ? false
        : ignore_case ? std::tolower(c) != std::tolower(static_cast<unsigned char>(p))
                      : text[i] != p)
      return false;
  }
  return true;
}

bool same(const json& a, const json& b) {
  if (a.is_string() && b.is_string()) return iequals(a.get<std::string>(), b.get<std::string>());
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  if (a.is_boolean() && b.is_string()) return lower_text(b) == (a.get<bool>() ? "true" : "false");
  if (a.is_string() && b.is_boolean()) return same(b, a);
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!same(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

bool truthy(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  return v.is_string() && iequals(v.get<std::string>(), "true");
}

// <0, 0, >0 for comparable values (numbers, or strings ignoring case); nullopt otherwise.
std::optional<int> compare(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    const int c = to_lower(a.get<std::string>()).compare(to_lower(b.get<std::string>()));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return std::nullopt;
}

bool test(const std::string& op, const json& v, const json& target) {
  const std::string o = to_lower(op);
  if (o == "equals") return same(v, target);
  if (o == "notequals") return !same(v, target);
  if (o == "in" || o == "notin") {
    bool found = false;
    if (target.is_array())
      for (const json& t : target) found = found || same(v, t);
    return o == "in" ? found : !found;
  }
  if (o == "like")
    return v.is_string() && target.is_string() && action_matches(target.get<std::string>(), v.get<std::string>());
  if (o == "notlike") return !test("like", v, target);
  if (o == "match" || o == "matchinsensitively")
    return v.is_string() && target.is_string() &&
           pattern_match(v.get<std::string>(), target.get<std::string>(), o != "match");
  if (o == "notmatch") return !test("match", v, target);
  if (o == "notmatchinsensitively") return !test("matchInsensitively", v, target);
  if (o == "contains") {
    if (v.is_string() && target.is_string())
      return to_lower(v.get<std::string>()).find(lower_text(target)) != std::string::npos;
    if (v.is_array())
      for (const json& item : v)
        if (same(item, target)) return true;
    return false;
  }
  if (o == "notcontains") return !test("contains", v, target);
  if (o == "containskey") return target.is_string() && member_ci(v, target.get<std::string>()) != nullptr;
  if (o == "notcontainskey") return !test("containsKey", v, target);
  if (o == "exists") return (!v.is_null()) == truthy(target);
  const auto c = compare(v, target);
  if (!c) return false;
  if (o == "greater") return *c > 0;
  if (o == "greaterorequals") return *c >= 0;
  if (o == "less") return *c < 0;
  return *c <= 0;  // lessOrEquals
}

// The operator key of a leaf, or empty.
std::string operator_of(const json& condition) {
  for (const char* op : kOperators)
    if (member_ci(condition, op)) return op;
  return "";
}

// --- Checking a rule's shape -----------------------------------------------------------------

Status check_condition(const json& c, const std::string& path) {
  if (!c.is_object()) return invalid_rule("Expected an object at path '" + path + "'");
  for (const char* logical : {"allOf", "anyOf"})
    if (const json* list = member_ci(c, logical)) {
      if (!list->is_array() || list->empty())
        return invalid_rule(std::string("The '") + logical + "' at path '" + path + "' must be a non-empty array");
      for (size_t i = 0; i < list->size(); ++i)
        if (auto st = check_condition((*list)[i], path + "." + logical + "[" + std::to_string(i) + "]"); !st) return st;
      return ok_status();
    }
  if (const json* inner = member_ci(c, "not")) return check_condition(*inner, path + ".not");
  int operands = 0;
  for (const char* operand : {"field", "value", "count"}) operands += member_ci(c, operand) ? 1 : 0;
  if (operands != 1)
    return invalid_rule("The condition at path '" + path + "' must have exactly one of 'field', 'value' or 'count'");
  if (const json* count = member_ci(c, "count")) {
    if (!count->is_object() || !member_ci(*count, "field"))
      return invalid_rule("The 'count' at path '" + path + "' needs a 'field' naming an array alias ending in [*]");
    if (const json* where = member_ci(*count, "where"))
      if (auto st = check_condition(*where, path + ".count.where"); !st) return st;
  }
  for (auto it = c.begin(); it != c.end(); ++it) {
    const std::string key = it.key();
    bool known = iequals(key, "field") || iequals(key, "value") || iequals(key, "count");
    for (const char* op : kOperators) known = known || iequals(key, op);
    if (!known)
      return invalid_rule("Could not find member '" + key + "' on object of type 'LeafExpressionDefinition'. Path '" +
                          path + "." + key + "'");
  }
  if (operator_of(c).empty()) return invalid_rule("The condition at path '" + path + "' has no operator");
  int operators = 0;
  for (const char* op : kOperators) operators += member_ci(c, op) ? 1 : 0;
  if (operators > 1) return invalid_rule("The condition at path '" + path + "' has more than one operator");
  return ok_status();
}

// Every "[...]" string in `value` evaluates with the declared parameters (their defaults or a
// value of their type): a rule naming an undeclared parameter is refused when it is defined.
Status check_expressions(const json& value, RuleContext& ctx, const std::string& policy) {
  if (value.is_string()) {
    auto v = arm_template::evaluate_string(value.get<std::string>(), ctx);
    if (!v) return invalid_parameters(policy, v.error().message);
    return ok_status();
  }
  if (value.is_array() || value.is_object())
    for (const json& item : value)
      if (auto st = check_expressions(item, ctx, policy); !st) return st;
  return ok_status();
}

json placeholder_of(const std::string& type) {
  if (iequals(type, "Array")) return json::array();
  if (iequals(type, "Object")) return json::object();
  if (iequals(type, "Boolean")) return false;
  if (iequals(type, "Integer") || iequals(type, "Float")) return 0;
  return "";
}

bool has_type(const json& v, const std::string& type) {
  if (iequals(type, "String") || iequals(type, "DateTime")) return v.is_string();
  if (iequals(type, "Array")) return v.is_array();
  if (iequals(type, "Object")) return v.is_object();
  if (iequals(type, "Boolean")) return v.is_boolean();
  if (iequals(type, "Integer")) return v.is_number_integer();
  if (iequals(type, "Float")) return v.is_number();
  return true;
}

std::string canonical_type(const std::string& type) {
  for (const char* t : kParameterTypes)
    if (iequals(t, type)) return t;
  return "";
}

Status check_declarations(const std::string& policy, const json& declared) {
  if (declared.is_null()) return ok_status();
  if (!declared.is_object()) return invalid_parameters(policy, "The policy parameters must be an object");
  for (auto it = declared.begin(); it != declared.end(); ++it) {
    const json& d = it.value();
    const std::string type = d.is_object() ? canonical_type(d.value("type", "")) : "";
    if (type.empty())
      return invalid_parameters(policy, "The policy parameter '" + it.key() +
                                            "' has an invalid type. Supported types are String, Array, Object, "
                                            "Boolean, Integer, Float and DateTime");
    if (const json* def = member_ci(d, "defaultValue"); def && !has_type(*def, type))
      return invalid_parameters(policy, "The policy parameter '" + it.key() +
                                            "' default value does not match the expected parameter type defined in "
                                            "the policy definition. Details 'The expected policy parameter type: '" +
                                            type + "'. The actual policy parameter type '" +
                                            arm_template::value_type_name(*def) + "'.'");
  }
  return ok_status();
}

// --- Evaluating ------------------------------------------------------------------------------

class Evaluator {
 public:
  Evaluator(const json& values, const Subject& subject) : ctx_(values, &subject), subject_(subject) {}

  Result<json> expression(const json& v) { return arm_template::evaluate_value(v, ctx_); }

  Result<bool> holds(const json& c) {
    if (const json* list = member_ci(c, "allOf")) {
      for (const json& item : *list) {
        auto r = holds(item);
        if (!r || !*r) return r;
      }
      return true;
    }
    if (const json* list = member_ci(c, "anyOf")) {
      for (const json& item : *list) {
        auto r = holds(item);
        if (!r || *r) return r;
      }
      return false;
    }
    if (const json* inner = member_ci(c, "not")) {
      auto r = holds(*inner);
      if (!r) return r;
      return !*r;
    }
    return leaf(c);
  }

 private:
  Result<bool> leaf(const json& c) {
    const std::string op = operator_of(c);
    auto target = expression(*member_ci(c, op));
    if (!target) return std::move(target).error();
    FieldValue operand;
    if (const json* field = member_ci(c, "field")) {
      auto name = expression(*field);
      if (!name) return std::move(name).error();
      if (!name->is_string()) return invalid_rule("A 'field' must evaluate to a string");
      operand = field_value(name->get<std::string>(), subject_.resource, bindings_);
    } else if (const json* count = member_ci(c, "count")) {
      auto n = count_of(*count);
      if (!n) return std::move(n).error();
      operand.values.push_back(*n);
    } else {
      auto v = expression(*member_ci(c, "value"));
      if (!v) return std::move(v).error();
      operand.values.push_back(std::move(*v));
    }
    if (!operand.collection) return test(op, operand.values.empty() ? json() : operand.values[0], *target);
    for (const json& v : operand.values)
      if (!test(op, v, *target)) return false;
    return true;
  }

  Result<json> count_of(const json& count) {
    auto field = expression(*member_ci(count, "field"));
    if (!field) return std::move(field).error();
    if (!field->is_string()) return invalid_rule("A count's 'field' must evaluate to a string");
    const std::string alias = *field;
    if (alias.size() < 3 || alias.compare(alias.size() - 3, 3, "[*]") != 0)
      return invalid_rule("The count field '" + alias + "' must end with [*]");
    std::vector<json> members;
    FieldValue array = field_value(alias.substr(0, alias.size() - 3), subject_.resource, bindings_);
    for (const json& a : array.values)
      if (a.is_array())
        for (const json& m : a) members.push_back(m);
    const json* where = member_ci(count, "where");
    std::int64_t n = 0;
    for (const json& m : members) {
      if (!where) {
        ++n;
        continue;
      }
      bindings_.push_back({to_lower(alias), &m});
      auto r = holds(*where);
      bindings_.pop_back();
      if (!r) return std::move(r).error();
      n += *r ? 1 : 0;
    }
    return json(n);
  }

  RuleContext ctx_;
  const Subject& subject_;
  std::vector<Binding> bindings_;
};

// Sets a tag or an alias' property of `resource`.
Status set_field(json& resource, const std::string& field, const json& value, bool replace) {
  std::vector<Step> steps;
  json* node = &resource;
  const std::string lower = to_lower(field);
  if (lower == "tags" || lower.rfind("tags[", 0) == 0 || lower.rfind("tags.", 0) == 0) {
    steps = parse_path(field);
  } else {
    const auto [type, path] = split_alias(field);
    if (type.empty() || !iequals(type, resource.value("type", "")))
      return ok_status();  // an alias of another type: nothing of this resource to change
    if (!resource.contains("properties") || !resource["properties"].is_object())
      resource["properties"] = json::object();
    node = &resource["properties"];
    steps = parse_path(path);
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].every || steps[i].index)
      return invalid_rule("The field '" + field + "' cannot be set by append or modify in acg-emulator");
    if (!node->is_object()) *node = json::object();
    std::string key = steps[i].name;
    for (auto it = node->begin(); it != node->end(); ++it)
      if (iequals(it.key(), key)) key = it.key();
    if (i + 1 == steps.size()) {
      if (!replace && node->contains(key)) {
        json& existing = (*node)[key];
        if (existing.is_array() && value.is_array()) {
          for (const json& v : value) existing.push_back(v);
          return ok_status();
        }
        return ok_status();  // add never overwrites
      }
      (*node)[key] = value;
      return ok_status();
    }
    node = &(*node)[key];
  }
  return ok_status();
}

Status remove_field(json& resource, const std::string& field) {
  const std::string lower = to_lower(field);
  if (lower.rfind("tags[", 0) == 0 || lower.rfind("tags.", 0) == 0) {
    const auto steps = parse_path(field);
    if (steps.size() == 2 && resource.contains("tags") && resource["tags"].is_object()) {
      json& tags = resource["tags"];
      for (auto it = tags.begin(); it != tags.end(); ++it)
        if (iequals(it.key(), steps[1].name)) {
          tags.erase(it);
          break;
        }
    }
    return ok_status();
  }
  return invalid_rule("The field '" + field + "' cannot be removed by modify in acg-emulator (tags only)");
}

}  // namespace

Status check_definition(const std::string& definition_name, const json& properties) {
  const json* mode = member_ci(properties, "mode");
  if (mode && !mode->is_null() &&
      !(mode->is_string() &&
        (iequals(mode->get<std::string>(), "All") || iequals(mode->get<std::string>(), "Indexed"))))
    return bad_request("InvalidPolicyMode",
                       "The policy mode '" + lower_text(*mode) +
                           "' is not supported by acg-emulator. Supported modes are 'All' and 'Indexed'.");
  const json* declared = member_ci(properties, "parameters");
  if (auto st = check_declarations(definition_name, declared ? *declared : json()); !st) return st;
  const json* rule = member_ci(properties, "policyRule");
  if (!rule || !rule->is_object())
    return invalid_rule("The policy definition '" + definition_name + "' has no 'policyRule' object");
  const json* if_part = member_ci(*rule, "if");
  const json* then_part = member_ci(*rule, "then");
  if (!if_part) return invalid_rule("Required property 'if' not found in JSON. Path ''");
  if (!then_part || !then_part->is_object()) return invalid_rule("Required property 'then' not found in JSON. Path ''");
  for (auto it = rule->begin(); it != rule->end(); ++it)
    if (!iequals(it.key(), "if") && !iequals(it.key(), "then"))
      return invalid_rule("Could not find member '" + it.key() + "' on object of type 'PolicyRuleDefinition'. Path '" +
                          it.key() + "'");
  if (auto st = check_condition(*if_part, "if"); !st) return st;
  const json* effect = member_ci(*then_part, "effect");
  if (!effect || !effect->is_string()) return invalid_rule("Required property 'effect' not found in JSON. Path 'then'");
  // Validate every expression with each parameter's default, or a value of its type.
  json values = json::object();
  if (declared && declared->is_object())
    for (auto it = declared->begin(); it != declared->end(); ++it) {
      const json* def = member_ci(it.value(), "defaultValue");
      values[it.key()] = def ? *def : placeholder_of(it.value().value("type", ""));
    }
  RuleContext ctx(values, nullptr);
  if (auto st = check_expressions(*rule, ctx, definition_name); !st) return st;
  if (!arm_template::is_expression(effect->get<std::string>())) {
    const std::string e = to_lower(effect->get<std::string>());
    if (std::find(kEffects.begin(), kEffects.end(), e) == kEffects.end())
      return bad_request("InvalidPolicyRuleEffect", "The policy definition '" + definition_name +
                                                        "' rule is invalid. The effect '" + effect->get<std::string>() +
                                                        "' is not supported.");
  }
  return ok_status();
}

Result<json> parameter_values(const std::string& assignment_name, const std::string& definition_name,
                              const json& declared, const json& assigned) {
  json values = json::object();
  std::string missing, undefined;
  if (!assigned.is_null() && !assigned.is_object())
    return bad_request("InvalidPolicyParameters",
                       "The policy assignment '" + assignment_name + "' parameters must be an object.");
  if (assigned.is_object())
    for (auto it = assigned.begin(); it != assigned.end(); ++it)
      if (!member_ci(declared, it.key())) undefined += (undefined.empty() ? "" : ",") + it.key();
  if (!undefined.empty())
    return bad_request("UndefinedPolicyParameter",
                       "The policy assignment '" + assignment_name + "' has the parameter(s) '" + undefined +
                           "' which are not defined in the policy definition '" + definition_name + "'.");
  if (declared.is_object())
    for (auto it = declared.begin(); it != declared.end(); ++it) {
      const json* given = member_ci(assigned, it.key());
      const json* value = given ? member_ci(*given, "value") : nullptr;
      if (given && !value)
        return bad_request("InvalidPolicyParameters", "The policy assignment '" + assignment_name + "' parameter '" +
                                                          it.key() + "' must be an object with a 'value'.");
      if (!value) value = member_ci(it.value(), "defaultValue");
      if (!value) {
        missing += (missing.empty() ? "" : ",") + it.key();
        continue;
      }
      const std::string type = canonical_type(it.value().value("type", ""));
      if (!has_type(*value, type))
        return bad_request("InvalidPolicyParameters",
                           "The policy assignment '" + assignment_name + "' parameter '" + it.key() + "' is of type '" +
                               arm_template::value_type_name(*value) + "', expected type is '" + type +
                               "' as defined in the policy definition '" + definition_name + "'.");
      if (const json* allowed = member_ci(it.value(), "allowedValues"); allowed && allowed->is_array()) {
        bool ok = false;
        for (const json& a : *allowed) ok = ok || same(a, *value);
        if (!ok)
          return bad_request("InvalidPolicyParameters", "The policy assignment '" + assignment_name + "' parameter '" +
                                                            it.key() + "' value " + value->dump() +
                                                            " is not one of the allowed values " + allowed->dump() +
                                                            " of the policy definition '" + definition_name + "'.");
      }
      values[it.key()] = *value;
    }
  if (!missing.empty())
    return bad_request("MissingPolicyParameter",
                       "The policy assignment '" + assignment_name + "' is missing the parameter(s) '" + missing +
                           "' as defined in the policy definition '" + definition_name + "'.");
  return values;
}

Result<Outcome> evaluate(const json& policy_rule, const json& values, const Subject& subject) {
  Evaluator evaluator(values, subject);
  auto matched = evaluator.holds(*member_ci(policy_rule, "if"));
  if (!matched) return std::move(matched).error();
  Outcome out;
  if (!*matched) return out;
  const json& then = *member_ci(policy_rule, "then");
  auto effect = evaluator.expression(*member_ci(then, "effect"));
  if (!effect) return std::move(effect).error();
  out.matched = true;
  out.effect = lower_text(*effect);
  if (const json* details = member_ci(then, "details")) {
    auto evaluated = evaluator.expression(*details);
    if (!evaluated) return std::move(evaluated).error();
    out.details = std::move(*evaluated);
  }
  return out;
}

bool mode_applies(const std::string& mode, const std::string& type) {
  if (iequals(mode, "All")) return true;
  return !iequals(type, "Microsoft.Resources/resourceGroups") &&
         !iequals(type, "Microsoft.Resources/subscriptions/resourceGroups") &&
         !iequals(type, "Microsoft.Resources/subscriptions");
}

Status apply_append(const json& details, json& resource) {
  if (!details.is_array()) return invalid_rule("The append effect's 'details' must be an array of {field, value}");
  for (const json& d : details) {
    if (!d.is_object() || !d.contains("field") || !d["field"].is_string() || !d.contains("value"))
      return invalid_rule("The append effect's 'details' must be an array of {field, value}");
    // Append adds what is missing; a tag already there keeps its value (ARM refuses to change it).
    if (auto st = set_field(resource, d["field"], d["value"], false); !st) return st;
  }
  return ok_status();
}

Status apply_modify(const json& details, json& resource) {
  const json* operations = member_ci(details, "operations");
  if (!operations || !operations->is_array())
    return invalid_rule("The modify effect's 'details' must have an 'operations' array");
  for (const json& op : *operations) {
    const json* kind = member_ci(op, "operation");
    const json* field = member_ci(op, "field");
    if (!kind || !kind->is_string() || !field || !field->is_string())
      return invalid_rule("A modify operation needs 'operation' and 'field'");
    const std::string k = to_lower(kind->get<std::string>());
    const json* value = member_ci(op, "value");
    Status st = ok_status();
    if (k == "remove")
      st = remove_field(resource, *field);
    else if ((k == "add" || k == "addorreplace") && value)
      st = set_field(resource, *field, *value, k == "addorreplace");
    else
      return invalid_rule("The modify operation '" + kind->get<std::string>() +
                          "' is not addOrReplace, add or remove (with a value)");
    if (!st) return st;
  }
  return ok_status();
}

}  // namespace acg::policy
