#pragma once
// ARM template deployments at resource-group scope: from a template and its parameters to
// an ordered plan of resource writes, the body of each write, and the outputs.
//
//   DeploymentPlan::build()        parameters checked (types, allowedValues, min/max), defaults
//                                  applied, copy loops expanded, child resources flattened,
//                                  names and types evaluated, dependsOn resolved, cycles refused
//   DeploymentPlan::resource_body() the body of one write, every expression evaluated (may call
//                                  reference() on resources written before it)
//   DeploymentPlan::outputs()      after the last write
//
// Nothing here writes: api/deployment_runner.cpp puts each body through the same request
// path as a direct call, so every rule and error of the resource applies. What the engine
// does not support (languageVersion 2.0, user functions, property and variable copy loops,
// nested deployments, other scopes, Complete mode, links) is refused up front with an error
// naming the feature.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "emulator/arm_error.h"

namespace acg::arm_template {

// Where a deployment runs: what resourceGroup(), subscription() and deployment() return.
struct DeploymentScope {
  std::string subscription_id;
  std::string subscription_name;
  std::string tenant_id;
  nlohmann::json resource_group;  // the stored resource group (id, name, location, tags, ...)
  std::string deployment_name;
  std::string now_utc;            // "20261127T211500Z" for utcNow() in parameter defaults
};

// One resource write of the plan, after copy expansion.
struct PlannedResource {
  std::string id;           // "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"
  std::string type;         // "Microsoft.Compute/galleries"
  std::string name;         // "g" (child resources: "g/def")
  std::string api_version;
  std::string copy_name;    // the copy loop it comes from, if any
  std::int64_t copy_index = -1;
  std::vector<size_t> depends_on;  // indices into the plan, all before this one
  nlohmann::json definition;       // the template's resource, expressions unevaluated
};

// reference(): the resource (full) or its properties, by id, at the api-version given (or
// the template's for it).
using ReferenceResolver =
    std::function<Result<nlohmann::json>(const std::string& id, const std::string& api_version, bool full)>;

class DeploymentPlan {
 public:
  // Validates the deployment's properties ({template, parameters, mode, ...}) and plans it.
  // Errors are 400 InvalidTemplate (or InvalidDeployment for the request's shape), with
  // ARM's "Deployment template validation failed: '...'" message.
  static Result<DeploymentPlan> build(const nlohmann::json& properties, DeploymentScope scope);

  // In dependency order: every resource comes after the ones it depends on. Resources whose
  // condition is false are left out.
  const std::vector<PlannedResource>& resources() const { return resources_; }

  // The body to PUT for resources()[i]: location, tags, sku, kind, identity, plan, zones and
  // properties, evaluated.
  Result<nlohmann::json> resource_body(size_t i, const ReferenceResolver& reference) const;

  // {"name": {"type": "String", "value": ...}} once every resource is written.
  Result<nlohmann::json> outputs(const ReferenceResolver& reference) const;

  // The deployment's parameters as GET shows them: {"p": {"type": "String", "value": ...}};
  // secure values are left out.
  const nlohmann::json& parameters_view() const { return parameters_view_; }

  // "providers" of the deployment: [{"namespace", "resourceTypes": [{"resourceType", "locations"}]}].
  nlohmann::json providers() const;
  // "dependencies": [{"id", "resourceType", "resourceName", "dependsOn": [...]}].
  nlohmann::json dependencies() const;

  // Shared state the evaluation contexts read (parameters, variables); defined in the source.
  struct State;

 private:
  std::vector<PlannedResource> resources_;
  nlohmann::json parameters_view_;
  std::shared_ptr<State> state_;
};

}  // namespace acg::arm_template
