// Planning an ARM template deployment: parameters, variables, copy loops, child resources,
// dependsOn and outputs. Expressions are evaluated by emulator/template_expression.cpp.

#include "emulator/arm_template.h"

#include <algorithm>
#include <set>

#include "emulator/template_expression.h"
#include "emulator/text.h"

namespace acg::arm_template {

using nlohmann::json;

namespace {

constexpr std::int64_t kMaxCopyCount = 800;  // ARM's limit on a copy loop
constexpr size_t kMaxResources = 800;        // ARM's limit on resources in one template

ArmError validation_failed(const std::string& inner) {
  return template_error("Deployment template validation failed: '" + inner + "'.");
}

ArmError unsupported(const std::string& feature) {
  return validation_failed("The template uses " + feature +
                           ", which acg-emulator's template engine does not support (README \"ARM template "
                           "deployments\" lists what it does).");
}

ArmError invalid_deployment(const std::string& message) { return bad_request("InvalidDeployment", message); }

// The value of a template member looked up case-insensitively (ARM's keys are).
const json* member(const json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  for (auto it = object.begin(); it != object.end(); ++it)
    if (iequals(it.key(), name)) return &it.value();
  return nullptr;
}

std::string canonical_type(const std::string& type) {
  static const std::map<std::string, std::string> names = {
      {"string", "String"}, {"securestring", "SecureString"}, {"int", "Int"},   {"bool", "Bool"},
      {"object", "Object"}, {"secureobject", "SecureObject"}, {"array", "Array"}};
  auto it = names.find(to_lower(type));
  return it == names.end() ? "" : it->second;
}

bool matches_type(const std::string& canonical, const json& value) {
  if (canonical == "String" || canonical == "SecureString") return value.is_string();
  if (canonical == "Int") return value.is_number_integer();
  if (canonical == "Bool") return value.is_boolean();
  if (canonical == "Object" || canonical == "SecureObject") return value.is_object();
  if (canonical == "Array") return value.is_array();
  return false;
}

std::string display(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::vector<std::string> split_on_slash(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// State shared by every evaluation of one plan: parameters, variables (evaluated once, on
// first use) and the names of the planned resources (for reference('name')).

struct DeploymentPlan::State {
  DeploymentScope scope;
  json template_json;
  std::map<std::string, json> parameter_values;  // lower-case name -> value
  std::map<std::string, json> variables;         // lower-case name -> raw template value
  std::map<std::string, json> variable_values;   // evaluated, on first use
  std::set<std::string> variables_in_progress;   // cycle detection
  std::map<std::string, const json*> parameter_definitions;  // lower-case name -> definition
  std::set<std::string> parameters_in_progress;
  std::map<std::string, PlannedResource> by_name;  // lower-case name and "type/name" -> resource
};

namespace {

using State = DeploymentPlan::State;

Result<json> resolve_parameter(State& state, const std::string& name);
Result<json> resolve_variable(State& state, const std::string& name);

// What expressions see: the deployment's values, the copy loop being expanded, and
// reference() only where ARM allows it (resource bodies and outputs).
class Context final : public ExpressionContext {
 public:
  Context(State& state, const ReferenceResolver* reference, std::string loop = {}, std::int64_t index = -1)
      : state_(state), reference_(reference), loop_(std::move(loop)), index_(index) {}

  Result<json> parameter(const std::string& name) override { return resolve_parameter(state_, name); }
  Result<json> variable(const std::string& name) override { return resolve_variable(state_, name); }

  Result<json> copy_index(const std::string& loop, std::int64_t offset) override {
    if (index_ < 0 || (!loop.empty() && !iequals(loop, loop_)))
      return template_error("The template function 'copyIndex' is not expected at this location." +
                            (loop.empty() ? std::string() : " The copy loop '" + loop + "' is not the one being expanded."));
    return json(index_ + offset);
  }

  Result<json> reference(const std::string& id_or_name, const std::string& api_version, bool full) override {
    if (!reference_)
      return template_error("The template function 'reference' is not expected at this location. It can only be used "
                            "in the properties of a resource and in outputs.");
    std::string id = id_or_name;
    std::string version = api_version;
    const PlannedResource* planned = find(id_or_name);
    if (planned) {
      id = planned->id;
      if (version.empty()) version = planned->api_version;
    }
    if (id.empty() || id[0] != '/')
      return template_error("The resource '" + id_or_name + "' referenced by reference() is not defined in the template.");
    return (*reference_)(id, version, full);
  }

  json resource_group() override { return state_.scope.resource_group; }
  json subscription() override {
    return {{"id", "/subscriptions/" + state_.scope.subscription_id},
            {"subscriptionId", state_.scope.subscription_id},
            {"tenantId", state_.scope.tenant_id},
            {"displayName", state_.scope.subscription_name}};
  }
  json deployment() override {
    return {{"name", state_.scope.deployment_name},
            {"properties", {{"template", {{"contentVersion", state_.template_json.value("contentVersion", "1.0.0.0")}}}}}};
  }
  std::string utc_now() override { return state_.scope.now_utc; }

 private:
  const PlannedResource* find(const std::string& key) const {
    auto it = state_.by_name.find(to_lower(key));
    return it == state_.by_name.end() ? nullptr : &it->second;
  }

  State& state_;
  const ReferenceResolver* reference_;
  std::string loop_;
  std::int64_t index_;
};

Result<json> check_parameter_value(const std::string& name, const json& definition, const json& value) {
  const std::string type = canonical_type(definition.value("type", ""));
  if (!matches_type(type, value))
    return validation_failed("Template parameter JToken type is not valid. Expected '" + type + "'. Actual '" +
                             value_type_name(value) + "'. Please see https://aka.ms/arm-create-parameter-file for usage "
                             "details. (parameter '" + name + "')");
  if (const json* allowed = member(definition, "allowedValues"); allowed && allowed->is_array()) {
    bool ok = std::find(allowed->begin(), allowed->end(), value) != allowed->end();
    if (!ok && value.is_array())  // an array parameter: every item must be allowed
      ok = std::all_of(value.begin(), value.end(),
                       [&](const json& v) { return std::find(allowed->begin(), allowed->end(), v) != allowed->end(); });
    if (!ok) {
      std::string list;
      for (const json& a : *allowed) list += (list.empty() ? "" : ",") + display(a);
      return validation_failed("The provided value '" + display(value) + "' for the template parameter '" + name +
                               "' is not valid. The parameter value is not part of the allowed value(s): '" + list + "'.");
    }
  }
  auto bound = [&](const char* key, bool minimum, std::int64_t actual, const char* what) -> std::optional<ArmError> {
    const json* limit = member(definition, key);
    if (!limit || !limit->is_number_integer()) return std::nullopt;
    std::int64_t l = limit->get<std::int64_t>();
    if (minimum ? actual >= l : actual <= l) return std::nullopt;
    return validation_failed("The provided value for the template parameter '" + name + "' is not valid. " + what +
                             (minimum ? " must be greater than or equal to '" : " must be less than or equal to '") +
                             std::to_string(l) + "'.");
  };
  std::optional<ArmError> refused;
  if (value.is_number_integer()) {
    if (!(refused = bound("minValue", true, value.get<std::int64_t>(), "The value")))
      refused = bound("maxValue", false, value.get<std::int64_t>(), "The value");
  } else if (value.is_string() || value.is_array()) {
    std::int64_t length = static_cast<std::int64_t>(value.is_string() ? value.get<std::string>().size() : value.size());
    if (!(refused = bound("minLength", true, length, "The length of the value")))
      refused = bound("maxLength", false, length, "The length of the value");
  }
  if (refused) return *refused;
  return value;
}

Result<json> resolve_parameter(State& state, const std::string& name) {
  const std::string key = to_lower(name);
  if (auto it = state.parameter_values.find(key); it != state.parameter_values.end()) return it->second;
  auto def = state.parameter_definitions.find(key);
  if (def == state.parameter_definitions.end())
    return template_error("The template parameter '" + name + "' is not found. Please see https://aka.ms/arm-syntax-parameters "
                          "for usage details.");
  const json* default_value = member(*def->second, "defaultValue");
  if (!default_value)
    return validation_failed("The value for the template parameter '" + name +
                             "' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.");
  if (!state.parameters_in_progress.insert(key).second)
    return validation_failed("The template parameter '" + name + "' refers to itself through its default value.");
  Context ctx(state, nullptr);
  auto value = evaluate_value(*default_value, ctx);
  state.parameters_in_progress.erase(key);
  if (!value) return value;
  auto checked = check_parameter_value(name, *def->second, *value);
  if (!checked) return checked;
  state.parameter_values[key] = *checked;
  return checked;
}

Result<json> resolve_variable(State& state, const std::string& name) {
  const std::string key = to_lower(name);
  if (auto it = state.variable_values.find(key); it != state.variable_values.end()) return it->second;
  auto raw = state.variables.find(key);
  if (raw == state.variables.end())
    return template_error("The template variable '" + name + "' is not found. Please see https://aka.ms/arm-syntax-variables "
                          "for usage details.");
  if (!state.variables_in_progress.insert(key).second)
    return validation_failed("The template variable '" + name + "' refers to itself (a circular reference).");
  Context ctx(state, nullptr);
  auto value = evaluate_value(raw->second, ctx);
  state.variables_in_progress.erase(key);
  if (!value) return value;
  state.variable_values[key] = *value;
  return value;
}

// ---------------------------------------------------------------------------------------------
// Building the plan

Status refuse_unsupported_template(const json& tmpl) {
  if (member(tmpl, "languageVersion")) return unsupported("'languageVersion' (symbolic resource names)");
  if (const json* f = member(tmpl, "functions"); f && !(f->is_array() && f->empty())) return unsupported("user-defined 'functions'");
  if (const json* v = member(tmpl, "variables"); v && member(*v, "copy")) return unsupported("variable copy loops");
  if (const json* r = member(tmpl, "resources"); r && !r->is_array())
    return unsupported("'resources' as an object (symbolic resource names)");
  return ok_status();
}

Status refuse_unsupported_resource(const json& r) {
  for (const char* scope_member : {"scope", "subscriptionId", "resourceGroup"})
    if (member(r, scope_member)) return unsupported("'" + std::string(scope_member) + "' on a resource (deployments to other scopes)");
  if (const json* t = member(r, "type"); t && t->is_string() && iequals(t->get<std::string>(), "Microsoft.Resources/deployments"))
    return unsupported("nested deployments (Microsoft.Resources/deployments resources)");
  if (const json* p = member(r, "properties"); p && member(*p, "copy")) return unsupported("property copy loops ('copy' in properties)");
  return ok_status();
}

// The resource being expanded, for its children: full type and name.
struct ParentInfo {
  std::string type;
  std::string name;
  std::string id;
};

struct Expansion {
  State& state;
  std::vector<PlannedResource> resources;
  std::vector<std::vector<std::string>> depends_raw;  // per resource, dependsOn as evaluated strings
  std::set<std::string> skipped;                      // lower-case ids, names and loops not deployed
  std::map<std::string, std::vector<size_t>> loops;   // lower-case copy name -> instances
};

Result<std::string> evaluate_text(const json* value, Context& ctx, const std::string& what) {
  if (!value) return validation_failed("The template resource is missing its '" + what + "'.");
  auto v = evaluate_value(*value, ctx);
  if (!v) return validation_failed(v.error().message);
  if (!v->is_string() || v->get<std::string>().empty())
    return validation_failed("The template resource's '" + what + "' must be a non-empty string.");
  return v->get<std::string>();
}

Result<std::string> resource_id_of(const std::string& type, const std::string& name, const State& state) {
  auto types = split_on_slash(type);
  auto names = split_on_slash(name);
  if (types.size() < 2 || names.size() != types.size() - 1 ||
      std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.empty(); }))
    return validation_failed("The template resource '" + name + "' for type '" + type +
                             "' has incorrect segment lengths. A nested resource type must have identical number of "
                             "segments as its resource name. A root resource type must have segment length one greater "
                             "than its resource name. Please see https://aka.ms/arm-syntax-resources for usage details.");
  std::string id = state.scope.resource_group.value("id", "") + "/providers/" + types[0];
  for (size_t i = 1; i < types.size(); ++i) id += "/" + types[i] + "/" + names[i - 1];
  return id;
}

Status expand(Expansion& x, const json& definition, const ParentInfo* parent);

// One instance of a template resource (copy index `index` of loop `loop`, or -1).
Status expand_instance(Expansion& x, const json& definition, const ParentInfo* parent, const std::string& loop,
                       std::int64_t index) {
  Context ctx(x.state, nullptr, loop, index);
  auto type = evaluate_text(member(definition, "type"), ctx, "type");
  if (!type) return type.error();
  auto name = evaluate_text(member(definition, "name"), ctx, "name");
  if (!name) return name.error();
  PlannedResource r;
  r.type = *type;
  r.name = *name;
  if (parent && type->find('/') == std::string::npos) {  // a child with relative type and name
    r.type = parent->type + "/" + *type;
    r.name = parent->name + "/" + *name;
  }
  auto id = resource_id_of(r.type, r.name, x.state);
  if (!id) return id.error();
  r.id = *id;
  if (const json* condition = member(definition, "condition")) {
    auto c = evaluate_value(*condition, ctx);
    if (!c) return validation_failed(c.error().message);
    if (!c->is_boolean()) return validation_failed("The condition of the template resource '" + r.name + "' must be a boolean.");
    if (!c->get<bool>()) {
      x.skipped.insert(to_lower(r.id));
      x.skipped.insert(to_lower(r.name));
      return ok_status();
    }
  }
  auto api_version = evaluate_text(member(definition, "apiVersion"), ctx, "apiVersion");
  if (!api_version) return api_version.error();
  r.api_version = *api_version;
  r.copy_name = loop;
  r.copy_index = index;
  r.definition = definition;
  std::vector<std::string> depends;
  if (parent) depends.push_back(parent->id);  // children wait for their parent
  if (const json* d = member(definition, "dependsOn")) {
    if (!d->is_array()) return validation_failed("The 'dependsOn' of the template resource '" + r.name + "' must be an array.");
    for (const json& item : *d) {
      auto v = evaluate_value(item, ctx);
      if (!v) return validation_failed(v.error().message);
      if (!v->is_string()) return validation_failed("The 'dependsOn' of the template resource '" + r.name + "' must hold strings.");
      depends.push_back(*v);
    }
  }
  ParentInfo self{r.type, r.name, r.id};
  if (!loop.empty()) x.loops[to_lower(loop)].push_back(x.resources.size());
  x.resources.push_back(std::move(r));
  x.depends_raw.push_back(std::move(depends));
  if (x.resources.size() > kMaxResources)
    return validation_failed("The template has more than " + std::to_string(kMaxResources) + " resources.");
  if (const json* children = member(definition, "resources")) {
    if (!children->is_array()) return validation_failed("The child 'resources' of '" + self.name + "' must be an array.");
    for (const json& child : *children)
      if (auto st = expand(x, child, &self); !st) return st;
  }
  return ok_status();
}

Status expand(Expansion& x, const json& definition, const ParentInfo* parent) {
  if (!definition.is_object()) return validation_failed("A template resource must be an object.");
  if (auto st = refuse_unsupported_resource(definition); !st) return st;
  const json* copy = member(definition, "copy");
  if (!copy) return expand_instance(x, definition, parent, "", -1);
  if (!copy->is_object()) return validation_failed("The 'copy' of a template resource must be an object.");
  const json* name = member(*copy, "name");
  if (!name || !name->is_string() || name->get<std::string>().empty())
    return validation_failed("The 'copy' of a template resource must have a name.");
  Context ctx(x.state, nullptr);
  const json* count_expr = member(*copy, "count");
  if (!count_expr) return validation_failed("The copy loop '" + name->get<std::string>() + "' must have a count.");
  auto count = evaluate_value(*count_expr, ctx);
  if (!count) return validation_failed(count.error().message);
  if (!count->is_number_integer() || count->get<std::int64_t>() < 0 || count->get<std::int64_t>() > kMaxCopyCount)
    return validation_failed("The copy count of '" + name->get<std::string>() + "' must be an integer from 0 to " +
                             std::to_string(kMaxCopyCount) + ".");
  x.loops[to_lower(name->get<std::string>())];  // a loop of zero still satisfies dependsOn
  for (std::int64_t i = 0; i < count->get<std::int64_t>(); ++i)
    if (auto st = expand_instance(x, definition, parent, name->get<std::string>(), i); !st) return st;
  return ok_status();
}

// The resources a dependsOn entry names: a copy loop, an id, a name, or "type/name".
Result<std::vector<size_t>> resolve_dependency(const Expansion& x, const std::string& entry) {
  const std::string key = to_lower(entry);
  if (auto loop = x.loops.find(key); loop != x.loops.end()) return loop->second;
  std::vector<size_t> found;
  for (size_t i = 0; i < x.resources.size(); ++i) {
    const PlannedResource& r = x.resources[i];
    if (iequals(r.id, entry) || iequals(r.name, entry) || iequals(r.type + "/" + r.name, entry)) found.push_back(i);
  }
  if (!found.empty() || x.skipped.count(key)) return found;
  return validation_failed("The resource '" + entry + "' is not defined in the template. Please see "
                           "https://aka.ms/arm-syntax for usage details.");
}

// Dependency order, template order among equals; a cycle is refused.
Result<std::vector<size_t>> order(const std::vector<std::vector<size_t>>& deps, const std::vector<PlannedResource>& rs) {
  std::vector<int> mark(rs.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<size_t> out;
  std::function<Status(size_t)> visit = [&](size_t i) -> Status {
    if (mark[i] == 2) return ok_status();
    if (mark[i] == 1) return validation_failed("Circular dependency detected on resource: '" + rs[i].id + "'. Please see https://aka.ms/arm-syntax-resources for usage details.");
    mark[i] = 1;
    for (size_t d : deps[i])
      if (auto st = visit(d); !st) return st;
    mark[i] = 2;
    out.push_back(i);
    return ok_status();
  };
  for (size_t i = 0; i < rs.size(); ++i)
    if (auto st = visit(i); !st) return st.error();
  return out;
}

Status check_request(const json& properties) {
  if (!properties.is_object()) return invalid_deployment("The request content has no 'properties' object.");
  if (member(properties, "templateLink"))
    return unsupported("'templateLink' (the emulator is offline: send the template inline with 'template')");
  if (member(properties, "parametersLink"))
    return unsupported("'parametersLink' (the emulator is offline: send the parameters inline)");
  const json* mode = member(properties, "mode");
  if (!mode || !mode->is_string())
    return invalid_deployment("The deployment 'mode' is missing. Allowed values are 'Incremental' and 'Complete'.");
  if (iequals(mode->get<std::string>(), "Complete")) return unsupported("the 'Complete' deployment mode (use 'Incremental')");
  if (!iequals(mode->get<std::string>(), "Incremental"))
    return invalid_deployment("The deployment mode '" + mode->get<std::string>() +
                              "' is not valid. Allowed values are 'Incremental' and 'Complete'.");
  const json* tmpl = member(properties, "template");
  if (!tmpl || !tmpl->is_object()) return invalid_deployment("The deployment has no 'template' object.");
  if (member(properties, "onErrorDeployment")) return unsupported("'onErrorDeployment'");
  return ok_status();
}

// Supplied parameters against the template's: unknown names, Key Vault references, values.
Status load_parameters(State& state, const json& supplied) {
  if (const json* defs = member(state.template_json, "parameters")) {
    if (!defs->is_object()) return validation_failed("The template 'parameters' must be an object.");
    for (auto it = defs->begin(); it != defs->end(); ++it) {
      if (!it.value().is_object() || canonical_type(it.value().value("type", "")).empty())
        return validation_failed("The template parameter '" + it.key() + "' has no valid type. Allowed types are "
                                 "String, SecureString, Int, Bool, Object, SecureObject and Array.");
      state.parameter_definitions[to_lower(it.key())] = &it.value();
    }
  }
  if (supplied.is_null()) return ok_status();
  if (!supplied.is_object()) return invalid_deployment("The deployment 'parameters' must be an object.");
  std::string unknown;
  for (auto it = supplied.begin(); it != supplied.end(); ++it)
    if (!state.parameter_definitions.count(to_lower(it.key()))) unknown += (unknown.empty() ? "" : ", ") + it.key();
  if (!unknown.empty())
    return validation_failed("The template parameters '" + unknown + "' in the parameters file are not valid; they are not "
                             "present in the original template and can therefore not be provided at deployment time. The "
                             "only supported parameters for this template are '" + [&] {
                               std::string names;
                               for (auto& [k, d] : state.parameter_definitions) names += (names.empty() ? "" : ", ") + k;
                               return names;
                             }() + "'. Please see https://aka.ms/arm-pass-parameter-values for usage details.");
  for (auto it = supplied.begin(); it != supplied.end(); ++it) {
    if (!it.value().is_object()) return invalid_deployment("The parameter '" + it.key() + "' must be an object with a 'value'.");
    if (member(it.value(), "reference")) return unsupported("Key Vault references in parameters");
    const json* value = member(it.value(), "value");
    if (!value) return invalid_deployment("The parameter '" + it.key() + "' must be an object with a 'value'.");
    auto checked = check_parameter_value(it.key(), *state.parameter_definitions[to_lower(it.key())], *value);
    if (!checked) return checked.error();
    state.parameter_values[to_lower(it.key())] = *checked;
  }
  return ok_status();
}

}  // namespace

Result<DeploymentPlan> DeploymentPlan::build(const json& properties, DeploymentScope scope) {
  if (auto st = check_request(properties); !st) return st.error();
  auto state = std::make_shared<State>();
  state->scope = std::move(scope);
  state->template_json = *member(properties, "template");
  if (auto st = refuse_unsupported_template(state->template_json); !st) return st.error();
  const json* params = member(properties, "parameters");
  if (auto st = load_parameters(*state, params ? *params : json()); !st) return st.error();
  if (const json* vars = member(state->template_json, "variables"); vars && vars->is_object())
    for (auto it = vars->begin(); it != vars->end(); ++it) state->variables[to_lower(it.key())] = it.value();

  DeploymentPlan plan;
  plan.state_ = state;
  // Every parameter resolved now, so a missing or invalid one fails validation, not the run.
  for (auto& [key, definition] : state->parameter_definitions) {
    auto value = resolve_parameter(*state, key);
    if (!value) return value.error();
    std::string type = canonical_type(definition->value("type", ""));
    std::string shown_name = key;
    if (const json* defs = member(state->template_json, "parameters"))
      for (auto it = defs->begin(); it != defs->end(); ++it)
        if (iequals(it.key(), key)) shown_name = it.key();
    plan.parameters_view_[shown_name] = {{"type", type}};
    if (type != "SecureString" && type != "SecureObject") plan.parameters_view_[shown_name]["value"] = *value;
  }
  if (plan.parameters_view_.is_null()) plan.parameters_view_ = json::object();

  Expansion x{*state, {}, {}, {}, {}};
  if (const json* resources = member(state->template_json, "resources"))
    for (const json& r : *resources)
      if (auto st = expand(x, r, nullptr); !st) return st.error();

  std::set<std::string> seen;
  for (const PlannedResource& r : x.resources)
    if (!seen.insert(to_lower(r.id)).second)
      return validation_failed("The resource '" + r.id + "' is defined multiple times in a template. Please see "
                               "https://aka.ms/arm-syntax-resources for usage details.");

  std::vector<std::vector<size_t>> deps(x.resources.size());
  for (size_t i = 0; i < x.resources.size(); ++i)
    for (const std::string& entry : x.depends_raw[i]) {
      auto found = resolve_dependency(x, entry);
      if (!found) return found.error();
      for (size_t d : *found)
        if (d != i) deps[i].push_back(d);
    }
  auto sorted = order(deps, x.resources);
  if (!sorted) return sorted.error();
  std::vector<size_t> position(x.resources.size());
  for (size_t p = 0; p < sorted->size(); ++p) position[(*sorted)[p]] = p;
  for (size_t original : *sorted) {
    PlannedResource r = x.resources[original];
    for (size_t d : deps[original]) r.depends_on.push_back(position[d]);
    std::sort(r.depends_on.begin(), r.depends_on.end());
    r.depends_on.erase(std::unique(r.depends_on.begin(), r.depends_on.end()), r.depends_on.end());
    plan.resources_.push_back(std::move(r));
  }
  for (const PlannedResource& r : plan.resources_) {
    state->by_name.emplace(to_lower(r.id), r);
    state->by_name.emplace(to_lower(r.name), r);
    state->by_name.emplace(to_lower(r.type + "/" + r.name), r);
  }
  // Outputs are checked for syntax and known functions now; they are evaluated at the end.
  if (const json* outputs = member(state->template_json, "outputs")) {
    if (!outputs->is_object()) return validation_failed("The template 'outputs' must be an object.");
    for (auto it = outputs->begin(); it != outputs->end(); ++it) {
      if (member(it.value(), "copy")) return unsupported("output copy loops");
      if (canonical_type(it.value().value("type", "")).empty())
        return validation_failed("The template output '" + it.key() + "' has no valid type.");
    }
  }
  return plan;
}

Result<json> DeploymentPlan::resource_body(size_t i, const ReferenceResolver& reference) const {
  const PlannedResource& r = resources_.at(i);
  Context ctx(*state_, &reference, r.copy_name, r.copy_index);
  json body = json::object();
  for (const char* key : {"location", "tags", "sku", "kind", "identity", "plan", "zones", "extendedLocation", "properties"}) {
    const json* value = member(r.definition, key);
    if (!value) continue;
    auto evaluated = evaluate_value(*value, ctx);
    if (!evaluated)
      return template_error("Unable to process template language expressions for resource '" + r.id + "'. '" +
                            evaluated.error().message + "'");
    body[key] = std::move(*evaluated);
  }
  return body;
}

Result<json> DeploymentPlan::outputs(const ReferenceResolver& reference) const {
  json out = json::object();
  const json* outputs = member(state_->template_json, "outputs");
  if (!outputs) return out;
  Context ctx(*state_, &reference);
  for (auto it = outputs->begin(); it != outputs->end(); ++it) {
    if (const json* condition = member(it.value(), "condition")) {
      auto c = evaluate_value(*condition, ctx);
      if (!c) return c;
      if (c->is_boolean() && !c->get<bool>()) continue;
    }
    const json* value = member(it.value(), "value");
    if (!value) return template_error("The template output '" + it.key() + "' has no value.");
    auto evaluated = evaluate_value(*value, ctx);
    if (!evaluated)
      return template_error("Unable to evaluate template outputs: '" + it.key() + "'. '" + evaluated.error().message + "'");
    std::string type = canonical_type(it.value().value("type", ""));
    if (!matches_type(type, *evaluated))
      return template_error("The template output '" + it.key() + "' is not valid: the value is of type '" +
                            value_type_name(*evaluated) + "', not '" + type + "'.");
    out[it.key()] = {{"type", type}, {"value", std::move(*evaluated)}};
  }
  return out;
}

json DeploymentPlan::providers() const {
  std::map<std::string, std::set<std::string>> types;  // namespace -> resource types
  for (const PlannedResource& r : resources_) {
    size_t slash = r.type.find('/');
    types[r.type.substr(0, slash)].insert(r.type.substr(slash + 1));
  }
  json out = json::array();
  for (auto& [ns, set] : types) {
    json rts = json::array();
    for (const std::string& t : set) rts.push_back({{"resourceType", t}});
    out.push_back({{"namespace", ns}, {"resourceTypes", rts}});
  }
  return out;
}

json DeploymentPlan::dependencies() const {
  json out = json::array();
  for (const PlannedResource& r : resources_) {
    if (r.depends_on.empty()) continue;
    json on = json::array();
    for (size_t d : r.depends_on)
      on.push_back({{"id", resources_[d].id}, {"resourceType", resources_[d].type}, {"resourceName", resources_[d].name}});
    out.push_back({{"dependsOn", on}, {"id", r.id}, {"resourceType", r.type}, {"resourceName", r.name}});
  }
  return out;
}

}  // namespace acg::arm_template
