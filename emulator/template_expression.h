#pragma once
// The ARM template expression language, the subset IaC authors use with galleries:
//
//   "[concat(parameters('prefix'), '-', toLower(variables('suffix')))]"
//   "[resourceId('Microsoft.Compute/galleries/images', parameters('g'), 'def')]"
//   "[reference(resourceId(...), '2022-03-03').identifier.uniqueName]"
//
// A JSON string is an expression when it starts with '[' and ends with ']'; "[[" escapes a
// literal '['. An expression is a literal ('text' with '' for a quote, an integer) or a
// function call, followed by any number of property ('.name') and index ('[expr]')
// accessors. Evaluation is lazy where ARM's is (if, and, or), so a branch not taken may
// call reference() on a resource that does not exist.
//
// What a function needs from its deployment (parameters, variables, the copy loop's index,
// reference(), the scope) comes through ExpressionContext; this file knows nothing of
// templates or resources. Errors are values: ArmError 400 InvalidTemplate with the inner
// message; callers add where it happened.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "emulator/arm_error.h"

namespace acg::arm_template {

class ExpressionContext {
 public:
  virtual ~ExpressionContext() = default;
  virtual Result<nlohmann::json> parameter(const std::string& name) = 0;
  virtual Result<nlohmann::json> variable(const std::string& name) = 0;
  // copyIndex(loop, offset); loop empty: the loop of the resource being evaluated.
  virtual Result<nlohmann::json> copy_index(const std::string& loop, std::int64_t offset) = 0;
  // reference(resourceIdOrName, apiVersion, 'Full'): the resource's properties, or the whole
  // resource when full.
  virtual Result<nlohmann::json> reference(const std::string& id_or_name, const std::string& api_version,
                                           bool full) = 0;
  virtual nlohmann::json resource_group() = 0;
  virtual nlohmann::json subscription() = 0;
  virtual nlohmann::json deployment() = 0;
  virtual std::string utc_now() = 0;  // "20261127T211500Z"
};

// The error every expression failure is reported with: 400 InvalidTemplate.
ArmError template_error(const std::string& message);

// A JSON value's type as ARM's messages name it: String, Integer, Float, Boolean, Array,
// Object or Null.
std::string value_type_name(const nlohmann::json& value);

// True for "[...]" but not for "[[...": a string the engine evaluates.
bool is_expression(const std::string& text);

// The value of one string: an expression's result, or the text itself ("[[" unescaped).
Result<nlohmann::json> evaluate_string(const std::string& text, ExpressionContext& ctx);

// Evaluates every string inside `value` (object members, array items) recursively. Object
// keys are not evaluated (ARM does not either).
Result<nlohmann::json> evaluate_value(const nlohmann::json& value, ExpressionContext& ctx);

// Checks an expression parses and calls only functions the engine has; returns the names of
// the functions it calls (lower case), so callers can refuse e.g. reference() where ARM does.
Result<std::vector<std::string>> functions_called(const std::string& text);

}  // namespace acg::arm_template
