#pragma once
// The Azure Policy rule language: a definition's policyRule evaluated against a resource being
// written, as ARM does on every create and update.
//
//   {"if":   {"allOf": [{"field": "location", "notIn": "[parameters('listOfAllowedLocations')]"},
//                       {"field": "tags['env']", "exists": false}]},
//    "then": {"effect": "deny"}}
//
// A condition is a leaf (an operand and one operator) or a logical operator (allOf, anyOf,
// not) over conditions. Operands:
//   "field": type, name, fullName, kind, location, id, tags, tags['x'], tags[x], tags.x, or an
//            alias: the resource type, '/', then a property path under "properties"
//            ("Microsoft.Compute/galleries/images/versions/publishingProfile.targetRegions[*].name").
//            An alias of another type than the resource's evaluates as absent.
//   "value": any JSON, expressions allowed ("[parameters('x')]").
//   "count": {"field": "<alias ending [*]>", "where": {condition}}: how many members satisfy
//            `where`, inside which the alias' [*] names the member being counted.
// Operators: equals, notEquals, like, notLike, match, matchInsensitively, notMatch,
// notMatchInsensitively, contains, notContains, in, notIn, containsKey, notContainsKey, exists,
// greater, greaterOrEquals, less, lessOrEquals. String comparisons ignore case (match excepted).
// A field with [*] is a collection: the condition holds when every member satisfies it (true
// for an empty collection), as the Azure Policy docs define.
//
// "[...]" strings anywhere in the rule are ARM template expressions (emulator/template_expression.h)
// with parameters(), resourceGroup() and subscription(); field() is not available.
// Everything here is pure: the core finds the assignments and applies the outcome (policies.cpp).

#include <nlohmann/json.hpp>
#include <string>

#include "emulator/arm_error.h"

namespace acg::policy {

// What a rule is evaluated against.
struct Subject {
  const nlohmann::json& resource;        // id, name, type, location, kind, tags, properties
  const nlohmann::json* resource_group;  // resourceGroup(); null when the subject is not in one
  std::string subscription_id;
};

// 400 InvalidPolicyRule / InvalidPolicyParameters when a definition's properties (mode,
// parameters, policyRule) are not a rule this evaluator can run.
Status check_definition(const std::string& definition_name, const nlohmann::json& properties);

// The values an assignment gives its definition's parameters ({"p": {"value": v}}), defaults
// filled in: {"p": v}. 400 MissingPolicyParameter, UndefinedPolicyParameter or
// InvalidPolicyParameters as ARM refuses them.
Result<nlohmann::json> parameter_values(const std::string& assignment_name, const std::string& definition_name,
                                        const nlohmann::json& declared, const nlohmann::json& assigned);

struct Outcome {
  bool matched = false;    // the "if" held
  std::string effect;      // lower case: deny | audit | append | modify | disabled | ...
  nlohmann::json details;  // "then.details" with its expressions evaluated
};

// Evaluates the rule with the given parameter values (from parameter_values).
Result<Outcome> evaluate(const nlohmann::json& policy_rule, const nlohmann::json& values, const Subject& subject);

// Whether a definition of `mode` looks at resources of `type`: "Indexed" leaves out resource
// groups and subscriptions (types without tags and location), "All" sees everything.
bool mode_applies(const std::string& mode, const std::string& type);

// The append effect: details [{"field", "value"}] added to the resource (tags, or an alias'
// property); modify: details.operations [{"operation": addOrReplace|add|remove, "field",
// "value"}]. A field these cannot set is a 400 InvalidPolicyRule naming it.
Status apply_append(const nlohmann::json& details, nlohmann::json& resource);
Status apply_modify(const nlohmann::json& details, nlohmann::json& resource);

}  // namespace acg::policy
