// One template deployment run: plan, write each resource through the pipeline, wait for its
// long-running write, record an operation per resource, evaluate the outputs.

#include "api/deployment_runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "api/internal_requests.h"
#include "api/router.h"
#include "emulator/arm_template.h"
#include "emulator/template_expression.h"
#include "emulator/clock.h"
#include "emulator/emulator.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;
using arm_template::DeploymentPlan;
using arm_template::PlannedResource;

namespace {

constexpr int kPollMs = 10;  // how often a run looks at a long-running write it waits for

// "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Resources/deployments/{name}"
struct DeploymentKey {
  std::string subscription, resource_group, name;
};

DeploymentKey key_of(const std::string& id) {
  const std::vector<std::string> parts = path_segments(id);
  if (parts.size() < 8) return {};
  return {parts[1], parts[3], parts[7]};
}

std::string status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "NoContent";
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 409: return "Conflict";
    case 413: return "RequestEntityTooLarge";
    default: return status >= 500 ? "InternalServerError" : std::to_string(status);
  }
}

std::string iso_duration(std::int64_t ms) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "PT%lld.%03lldS", static_cast<long long>(ms / 1000), static_cast<long long>(ms % 1000));
  return buffer;
}

ArmError deployment_failed(const std::string& deployment_id, const ArmError& cause) {
  ArmError e = bad_request("DeploymentFailed",
                           "At least one resource deployment operation failed. Please list deployment operations for "
                           "details. Please see https://aka.ms/arm-deployment-operations for usage details.",
                           deployment_id);
  e.details.push_back(cause);
  return e;
}

}  // namespace

// One run of one deployment; lives on its thread.
class DeploymentRun {
 public:
  DeploymentRun(DeploymentRunner& runner, std::string id) : runner_(runner), e_(runner.emulator_), id_(std::move(id)), key_(key_of(id_)) {}

  void execute() {
    auto record = e_.get_deployment(key_.subscription, key_.resource_group, key_.name);
    if (!record) return;
    const std::string state = record->value("/properties/provisioningState"_json_pointer, "");
    if (state != "Accepted" && state != "Running") return;
    principal_ = principal_of(*record);
    address_ = record->value("acg:address", "127.0.0.1");
    started_ms_ = e_.clock().now_ms();
    auto scope = scope_of();
    if (!scope) return finish("Failed", scope.error(), json());
    auto plan = DeploymentPlan::build(record->value("acg:request", json::object()), std::move(*scope));
    if (!plan) return finish("Failed", plan.error(), json());
    if (!update([](json& r) { r["properties"]["provisioningState"] = "Running"; })) return;
    for (size_t i = 0; i < plan->resources().size(); ++i) {
      if (runner_.stopping()) return;
      if (runner_.canceled(id_)) return finish("Canceled", std::nullopt, json());
      if (auto failed = deploy(*plan, i)) {
        if (runner_.stopping()) return;  // stays Running: the next start resumes it
        if (runner_.canceled(id_)) return finish("Canceled", std::nullopt, json());
        return finish("Failed", deployment_failed(id_, *failed), json());
      }
    }
    auto outputs = plan->outputs([this](const std::string& rid, const std::string& v, bool full) { return reference(rid, v, full); });
    if (!outputs) return finish("Failed", outputs.error(), json());
    json output_resources = json::array();
    for (const PlannedResource& r : plan->resources()) output_resources.push_back({{"id", r.id}});
    finish("Succeeded", std::nullopt, {{"outputs", *outputs}, {"outputResources", output_resources}});
  }

 private:
  const Principal& principal_of(const json& record) {
    const Principal* p = e_.identities().find_principal_by_object_id(record.value("acg:principal", ""));
    return p ? *p : e_.identities().default_principal();
  }

  Result<arm_template::DeploymentScope> scope_of() {
    auto group = e_.get_resource_group(key_.subscription, key_.resource_group);
    if (!group) return std::move(group).error();
    const Subscription* sub = e_.identities().find_subscription(key_.subscription);
    if (!sub) return not_found("SubscriptionNotFound", "The subscription '" + key_.subscription + "' could not be found.");
    return arm_template::DeploymentScope{sub->id, sub->display_name, sub->tenant_id, *group, key_.name,
                                         format_arm_time(e_.clock().now_ms())};
  }

  // Writes plan resource i; the error that failed it, if any. Records the operation either way.
  std::optional<ArmError> deploy(const DeploymentPlan& plan, size_t i) {
    const PlannedResource& r = plan.resources()[i];
    const std::int64_t began = e_.clock().now_ms();
    auto body = plan.resource_body(i, [this](const std::string& rid, const std::string& v, bool full) { return reference(rid, v, full); });
    if (!body) {
      record_operation(r, began, 400, body.error());
      return body.error();
    }
    HttpResponse response = send("PUT", r.id, r.api_version, body->dump());
    if (response.status >= 300) {
      ArmError error = error_of(response);
      record_operation(r, began, response.status, error);
      return error;
    }
    std::optional<ArmError> failed;
    if (std::string_view async = response.header("Azure-AsyncOperation"); !async.empty())
      failed = wait_for(std::string(async));
    else if (!terminal(json::parse(response.body, nullptr, false).value("/properties/provisioningState"_json_pointer, "")))
      failed = wait_for_state(r);  // still provisioning from an earlier write: wait as the SDKs do, on GET
    if (failed && (runner_.stopping() || runner_.canceled(id_))) return failed;  // interrupted, not the resource's failure
    record_operation(r, began, response.status, failed);
    return failed;
  }

  static bool terminal(const std::string& state) {
    return state.empty() || state == "Succeeded" || state == "Failed" || state == "Canceled";
  }

  // Waits for a resource's provisioningState to end; an error when it ends other than Succeeded.
  std::optional<ArmError> wait_for_state(const PlannedResource& r) {
    for (;;) {
      HttpResponse response = send("GET", r.id, r.api_version, "");
      if (response.status != 200) return error_of(response);
      const std::string state =
          json::parse(response.body, nullptr, false).value("/properties/provisioningState"_json_pointer, "");
      if (state == "Succeeded" || state.empty()) return std::nullopt;
      if (terminal(state))
        return bad_request("ResourceDeploymentFailure",
                           "The resource write operation failed to complete successfully, because it reached terminal "
                           "provisioning state '" + state + "'.");
      if (runner_.stopping()) return internal_error("The emulator is stopping.");
      if (runner_.canceled(id_)) return conflict("DeploymentCanceled", "The deployment was canceled.");
      std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
    }
  }

  // Waits for a long-running write to end; its error when it did not succeed.
  std::optional<ArmError> wait_for(const std::string& url) {
    auto [sub, op_id] = operation_of(url);
    for (;;) {
      auto op = e_.get_operation(sub, op_id);
      if (!op) return op.error();
      if (op->status == "Succeeded") return std::nullopt;
      if (op->status == "Failed") return op->error.value_or(internal_error("The resource's operation failed."));
      if (op->status == "Canceled") return conflict("OperationCanceled", "The resource's operation was canceled.");
      if (runner_.stopping()) return internal_error("The emulator is stopping.");
      if (runner_.canceled(id_)) return conflict("DeploymentCanceled", "The deployment was canceled.");
      std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
    }
  }

  // reference(): a GET through the pipeline, as the deploying principal.
  Result<json> reference(const std::string& id, const std::string& api_version, bool full) {
    if (api_version.empty())
      return arm_template::template_error("The reference to '" + id +
                                          "' needs an api-version: the resource is not deployed by this template.");
    HttpResponse response = send("GET", id, api_version, "");
    if (response.status != 200) return error_of(response);
    json resource = json::parse(response.body, nullptr, false);
    if (full) return resource;
    return resource.value("properties", json::object());
  }

  HttpResponse send(const std::string& method, const std::string& id, const std::string& api_version, std::string body) {
    return send_internal(runner_.dispatch_, principal_, method, id, api_version, std::move(body),
                         "acg-emulator-deployments", address_, correlation_);
  }

  void record_operation(const PlannedResource& r, std::int64_t began, int status, const std::optional<ArmError>& error) {
    const std::int64_t now = e_.clock().now_ms();
    std::string op_id = to_upper(derived_guid(id_ + "#" + r.id + "#" + std::to_string(began)));
    op_id.erase(std::remove(op_id.begin(), op_id.end(), '-'), op_id.end());
    op_id = op_id.substr(0, 16);
    json properties = {{"provisioningOperation", "Create"},
                       {"provisioningState", error ? "Failed" : "Succeeded"},
                       {"timestamp", format_arm_time(now)},
                       {"duration", iso_duration(now - began)},
                       {"trackingId", derived_guid(op_id)},
                       {"statusCode", status_text(status)},
                       {"targetResource", {{"id", r.id}, {"resourceType", r.type}, {"resourceName", r.name}, {"apiVersion", r.api_version}}}};
    if (error) properties["statusMessage"] = {{"status", "Failed"}, {"error", error_to_json(*error)}};
    json op = {{"id", id_ + "/operations/" + op_id}, {"operationId", op_id}, {"properties", properties}};
    (void)e_.add_deployment_operation(id_, op_id, op);  // gone with its deployment: nothing to record
  }

  void finish(const std::string& state, const std::optional<ArmError>& error, const json& extra) {
    const std::int64_t now = e_.clock().now_ms();
    update([&](json& record) {
      json& p = record["properties"];
      p["provisioningState"] = state;
      p["timestamp"] = format_arm_time(now);
      p["duration"] = iso_duration(now - started_ms_);
      if (error) p["error"] = error_to_json(*error);
      for (auto& [k, v] : extra.items()) p[k] = v;
    });
  }

  // False once the deployment is gone (deleted with its resource group, or a reset).
  bool update(const std::function<void(json&)>& change) {
    auto done = e_.update_deployment(key_.subscription, key_.resource_group, key_.name, [&](json& record) -> Status {
      change(record);
      return ok_status();
    });
    return done.ok();
  }

  DeploymentRunner& runner_;
  Emulator& e_;
  std::string id_;
  DeploymentKey key_;
  Principal principal_;
  std::string address_;
  std::string correlation_ = derived_guid(id_ + "#correlation");
  std::int64_t started_ms_ = 0;
};

DeploymentRunner::DeploymentRunner(Emulator& emulator, Dispatch dispatch)
    : emulator_(emulator), dispatch_(std::move(dispatch)) {}

DeploymentRunner::~DeploymentRunner() { stop(); }

void DeploymentRunner::submit(const std::string& deployment_id) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  if (!running_.insert(deployment_id).second) {
    resubmitted_.insert(deployment_id);
    return;
  }
  start_locked(deployment_id);
}

void DeploymentRunner::start_locked(const std::string& deployment_id) {
  reap_finished_locked();
  auto done = std::make_shared<std::atomic<bool>>(false);
  threads_.push_back({std::thread([this, deployment_id, done] {
                        run(deployment_id);
                        *done = true;
                      }),
                      done});
}

void DeploymentRunner::reap_finished_locked() {
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (*it->done) {
      it->thread.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
}

void DeploymentRunner::resume() {
  auto ids = emulator_.active_deployments();
  if (!ids) return;
  for (const std::string& id : *ids) submit(id);
}

bool DeploymentRunner::cancel(const std::string& deployment_id) {
  std::lock_guard lock(mutex_);
  if (!running_.count(deployment_id)) return false;
  canceling_.insert(deployment_id);
  return true;
}

void DeploymentRunner::wait_until_idle(const std::string& deployment_id, int timeout_ms) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return !running_.count(deployment_id) || stopping_; });
}

void DeploymentRunner::stop() {
  std::list<Worker> workers;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    workers.swap(threads_);
  }
  changed_.notify_all();
  for (Worker& w : workers)
    if (w.thread.joinable()) w.thread.join();
}

void DeploymentRunner::run(const std::string& deployment_id) {
  try {
    DeploymentRun(*this, deployment_id).execute();
  } catch (...) {
    // The run's writes are transactions of their own; an unexpected failure leaves the
    // record Running, and the next start resumes it.
  }
  finished(deployment_id);
}

bool DeploymentRunner::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool DeploymentRunner::canceled(const std::string& deployment_id) {
  std::lock_guard lock(mutex_);
  return canceling_.count(deployment_id) > 0;
}

void DeploymentRunner::finished(const std::string& deployment_id) {
  {
    std::lock_guard lock(mutex_);
    canceling_.erase(deployment_id);
    if (resubmitted_.erase(deployment_id) && !stopping_) {
      start_locked(deployment_id);  // stays in running_: the record written since runs now
      return;
    }
    running_.erase(deployment_id);
  }
  changed_.notify_all();
}

}  // namespace acg::api
