// Azure Image Builder (Microsoft.VirtualMachineImages) and user-assigned identities
// (Microsoft.ManagedIdentity): the template routes, the run / cancel actions, run outputs, the
// operations list and the status of a run's long-running operation.
//
// A run is advanced on the emulator's clock whenever something looks at it (a GET of the
// template or its run outputs, a poll of the run's operation) and by the server's tick (every
// second, advance_image_builder_runs): advance() walks the phases that ended since the last
// look (emulator/image_builder.h has the state diagram). Its writes
// are the service's own (the staging group, the captured image) or made through the request
// pipeline as the template's identity (the distributed image version and managed image), so
// every rule of a direct PUT applies: RBAC, immutability, quotas, policy, replication.

#include <chrono>
#include <cstdio>
#include <mutex>

#include "api/arm_conventions.h"
#include "api/internal_requests.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/image_builder.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/source_types.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

constexpr const char* kTemplatesPath =
    "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.VirtualMachineImages/imageTemplates";
constexpr const char* kTemplatePath =
    "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.VirtualMachineImages/imageTemplates/{name}";
constexpr const char* kGalleryApiVersion = "2022-03-03";
constexpr const char* kComputeApiVersion = "2022-08-01";
constexpr const char* kUserAgent = "acg-emulator-imagebuilder";
constexpr const char* kLogSource = "customization";

const ResourceType& templates() { return image_template_type(); }

ResourceRef template_ref(const RequestContext& ctx) { return {ctx.param("sub"), ctx.param("rg"), {ctx.param("name")}}; }

// "/subscriptions/S/resourceGroups/G/providers/Ns/t1/n1/t2/n2" -> {S, G, {n1, n2}}.
ResourceRef ref_of_id(const std::string& id) {
  const std::vector<std::string> parts = path_segments(id);
  ResourceRef ref;
  if (parts.size() < 4) return ref;
  ref.subscription = parts[1];
  ref.resource_group = parts[3];
  for (size_t i = 7; i < parts.size(); i += 2) ref.names.push_back(parts[i]);
  return ref;
}

std::string last_segment(const std::string& id) { return id.substr(id.rfind('/') + 1); }

// Opaque operation names that still say which template they belong to:
// hex("<rg>/<template>") "." run number "." ("run" | "cancel").
std::string hex_of(const std::string& text) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// The text hex_of encoded, or "" when `hex` is not such an encoding (a made-up operation name).
std::string unhex(const std::string& hex) {
  auto digit = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  if (hex.size() % 2 != 0) return {};
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]), low = digit(hex[i + 1]);
    if (high < 0 || low < 0) return {};
    out += static_cast<char>(high * 16 + low);
  }
  return out;
}

// A stored template as it is kept, with its "acg:run" record (the view hides it).
Result<json> load_raw(Emulator& e, const ResourceRef& ref) { return e.get_stored_resource(templates(), ref); }

Status save_raw(Emulator& e, const ResourceRef& ref, const json& updated) {
  auto outcome = e.update_resource(templates(), ref, [&updated](json& resource) -> Status {
    resource = updated;
    return ok_status();
  });
  if (!outcome) return std::move(outcome).error();
  return ok_status();
}

// The principal a template's identity acts as (its role assignments are the ones checked).
Principal identity_principal(Emulator& e, const json& tmpl) {
  Principal p;
  const json& ids = tmpl.value("/identity/userAssignedIdentities"_json_pointer, json::object());
  const std::string id = ids.empty() ? std::string() : ids.begin().key();
  p.object_id = identity_principal_id(id);
  p.client_id = identity_client_id(id);
  p.display_name = last_segment(id);
  const std::string sub = ref_of_id(tmpl.value("id", "")).subscription;
  if (const Subscription* s = e.identities().find_subscription(sub)) p.tenant_id = s->tenant_id;
  return p;
}

// --- One run ----------------------------------------------------------------------------

std::string staging_account_name(const json& tmpl) {
  std::string guid = derived_guid(to_lower(tmpl.value("id", "")) + "#account");
  std::string name = "aibstage";
  for (char c : guid)
    if (std::isalnum(static_cast<unsigned char>(c)) && name.size() < 24) name += c;
  return name;
}

std::string staging_blob(const json& tmpl, const std::string& file) {
  return "https://" + staging_account_name(tmpl) + ".blob.core.windows.net/vhds/" + file;
}

// The version AIB names when it is given a definition: 0.<yy><day of year>.<seconds of the day>.
std::string generated_version_name(std::int64_t now_ms) {
  const std::string t = format_arm_time(now_ms);  // 2026-11-27T16:30:00.1234567+00:00
  int year = std::stoi(t.substr(0, 4)), month = std::stoi(t.substr(5, 2)), day = std::stoi(t.substr(8, 2));
  static const int before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  int yday = before[month - 1] + day + ((month > 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 1 : 0);
  std::int64_t seconds = (now_ms / 1000) % 86400;
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "0.%02d%03d.%lld", year % 100, yday, static_cast<long long>(seconds));
  return buffer;
}

class RunDriver {
 public:
  RunDriver(Services& s, ResourceRef ref) : s_(s), e_(s.emulator), ref_(std::move(ref)) {}

  // Brings the template's run up to the emulator's now; returns the template as stored.
  Result<json> advance() {
    static std::mutex one_at_a_time;  // two polls must not distribute the same run twice
    std::lock_guard lock(one_at_a_time);
    for (int step = 0; step < 16; ++step) {
      auto raw = load_raw(e_, ref_);
      if (!raw) return raw;
      tmpl_ = std::move(*raw);
      if (!tmpl_.contains("acg:run")) return tmpl_;
      json& run = tmpl_["acg:run"];
      const std::string state = run.value("state", "");
      if (state != "Running" && state != "Canceling") return tmpl_;
      bool moved = state == "Canceling" ? cancel_step(run) : run_step(run);
      if (auto st = save_raw(e_, ref_, tmpl_); !st) return std::move(st).error();
      if (!moved) return tmpl_;
    }
    return tmpl_;
  }

 private:
  const std::string& id() const { return tmpl_["id"].get_ref<const std::string&>(); }
  std::int64_t now() const { return e_.clock().now_ms(); }

  void log(const std::string& text) { (void)e_.append_build_log(id(), kLogSource, text); }

  void set_status(json& run, const std::string& state, const std::string& sub_state, const std::string& message) {
    run["state"] = state;
    json& status = tmpl_["properties"]["lastRunStatus"];
    status["runState"] = state;
    status["runSubState"] = sub_state;
    status["message"] = message;
  }

  void finish(json& run, const std::string& state, const std::string& message, std::int64_t at_ms) {
    set_status(run, state, tmpl_["properties"]["lastRunStatus"].value("runSubState", ""), message);
    tmpl_["properties"]["lastRunStatus"]["endTime"] = format_arm_time(at_ms);
    log(state == "Succeeded" ? "==> azure-arm: Build 'azure-arm' finished successfully."
                             : "==> azure-arm: Build 'azure-arm' ended: " + state + (message.empty() ? "" : ": " + message));
  }

  void fail(json& run, const std::string& phase, const std::string& cause, std::int64_t at_ms) {
    log("==> azure-arm: Error in phase " + phase + ": " + cause);
    finish(run, "Failed",
           "Failed in phase '" + phase + "': " + cause +
               " During the image build, a failure has occurred, please review the build log to identify which "
               "build/customization step failed. For more troubleshooting steps go to https://aka.ms/azvmimagebuilderts. "
               "Build log: GET /_emulator/buildlogs?resourceId=" + id(),
           at_ms);
  }

  bool cancel_step(json& run) {
    const std::int64_t done = run.value("cancelEndMs", std::int64_t{0});
    if (now() < done) return false;
    log("==> azure-arm: Build was cancelled; the build VM and its resources were deleted.");
    finish(run, "Canceled", "Build was canceled by the user.", done);
    return false;
  }

  // One step of a running build; true when the run moved on (another step may follow).
  bool run_step(json& run) {
    json& phases = run["phases"];
    const size_t index = run.value("index", std::size_t{0});
    const json& phase = phases[index];
    const std::string name = phase["name"];
    const std::int64_t deadline = run.value("deadlineMs", std::int64_t{0});
    // The timeout covers every phase, distribution (and its replication wait) included.
    const bool times_out = phase["modelledEndMs"].get<std::int64_t>() > run.value("timeoutModelledMs", std::int64_t{0}) ||
                           (name == "Distributing" && !run.value("instant", false));
    if (times_out && now() >= deadline) {
      fail(run, name,
           "Failed while waiting for packerizer: Timeout waiting for microservice to complete: 'context deadline "
           "exceeded' (the build ran longer than buildTimeoutInMinutes = " +
               std::to_string(run.value("timeoutMinutes", 0)) + ").",
           deadline);
      return false;
    }
    tmpl_["properties"]["lastRunStatus"]["runSubState"] = name;
    if (now() < phase["endMs"].get<std::int64_t>()) return false;
    if (auto fault = e_.faults().take_operation_fault(name, kImageTemplateType)) {
      fail(run, name, fault->code + ": " + fault->message, phase["endMs"]);
      return false;
    }
    if (name == "Distributing") return finish_distribution(run, phase["endMs"]);
    log_phase_end(name);
    run["index"] = index + 1;
    const std::string next = phases[index + 1]["name"];
    tmpl_["properties"]["lastRunStatus"]["runSubState"] = next;
    if (next == "Distributing") {
      if (auto refused = distribute(run)) {
        fail(run, "Distributing", *refused, phase["endMs"]);
        return false;
      }
    }
    return true;
  }

  void log_phase_end(const std::string& name) {
    const json& p = tmpl_["properties"];
    const bool windows = template_os_type(p) == "Windows";
    if (name == "Queued") {
      log("==> azure-arm: Running builder ...");
      log("==> azure-arm: Creating resource group ...");
      log("==> azure-arm:  -> ResourceGroupName : '" + last_segment(p.value("exactStagingResourceGroup", "")) + "'");
    } else if (name == "Building") {
      log("==> azure-arm: Deploying deployment template ...");
      log("==> azure-arm:  -> VM Size : '" + p.value("/vmProfile/vmSize"_json_pointer, std::string("Standard_D1_v2")) + "'");
      log(windows ? "==> azure-arm: Waiting for WinRM to become available..." : "==> azure-arm: Waiting for SSH to become available...");
      log(windows ? "==> azure-arm: Connected to WinRM!" : "==> azure-arm: Connected to SSH!");
    } else if (name == "Customizing") {
      log_customizers(json_member(p, "customize"));
      log("==> azure-arm: Customization phase finished.");
    } else if (name == "Validating") {
      log_customizers(json_member(p["validate"], "inVMValidations"));
      log("==> azure-arm: Validation phase finished.");
    }
  }

  void log_customizers(const json& list) {
    if (!list.is_array()) return;
    int n = 0;
    for (const json& c : list) {
      const std::string type = json_text(c, "type");
      const std::string label = json_text(c, "name").empty() ? type + " " + std::to_string(++n) : json_text(c, "name");
      log("==> azure-arm: (telemetry) Starting provisioner " + to_lower(type) + " (" + label + ")");
      if (type == "Shell" || type == "PowerShell") {
        const std::string what = c.contains("scriptUri") ? json_text(c, "scriptUri") : "inline script (" +
                                                                                           std::to_string(c["inline"].size()) + " lines)";
        log(std::string("==> azure-arm: Provisioning with ") + (type == "Shell" ? "shell" : "powershell") + " script: " + what);
        if (c.contains("inline") && c["inline"].is_array())
          for (const json& line : c["inline"]) log("    azure-arm: + " + line.get<std::string>());
      } else if (type == "File") {
        log("==> azure-arm: Uploading " + json_text(c, "sourceUri") + " => " + json_text(c, "destination"));
      } else if (type == "WindowsRestart") {
        log("==> azure-arm: Restarting Machine");
        log("==> azure-arm: Machine successfully restarted, moving on");
      } else if (type == "WindowsUpdate") {
        log("==> azure-arm: Searching for Windows updates...");
        log("==> azure-arm: No Windows updates found");
      }
      log("==> azure-arm: (telemetry) ending " + to_lower(type));
    }
  }

  // --- Distribution ---

  struct Write {
    std::string id;
    json body;
    std::string api_version;
  };

  // The write a distributor makes and the action it needs; VHD makes none.
  std::optional<Write> planned_write(const json& d, const std::string& captured_id) {
    const std::string type = d["type"];
    const json tags = d.value("artifactTags", json::object());
    if (type == "ManagedImage") {
      json body = {{"location", d["location"]}, {"tags", tags}};
      body["properties"] = {{"hyperVGeneration", hyper_v_generation_}, {"storageProfile", captured_storage()}};
      return Write{d["imageId"], body, kComputeApiVersion};
    }
    if (type != "SharedImage") return std::nullopt;
    std::string version_id = d["galleryImageId"];
    if (to_lower(version_id).find("/versions/") == std::string::npos) version_id += "/versions/" + generated_version_name(now());
    json regions = json::array();
    if (d.contains("targetRegions") && d["targetRegions"].is_array() && !d["targetRegions"].empty()) {
      for (const json& r : d["targetRegions"]) {
        json region = {{"name", r["name"]}, {"regionalReplicaCount", r.value("replicaCount", 1)}};
        if (r.contains("storageAccountType")) region["storageAccountType"] = r["storageAccountType"];
        regions.push_back(region);
      }
    } else {
      for (const json& r : d.value("replicationRegions", json::array())) regions.push_back({{"name", r}, {"regionalReplicaCount", 1}});
    }
    json profile = {{"targetRegions", regions}, {"excludeFromLatest", d.value("excludeFromLatest", false)}};
    if (d.contains("storageAccountType")) profile["storageAccountType"] = d["storageAccountType"];
    json body = {{"location", gallery_location(version_id)},
                 {"tags", tags},
                 {"properties",
                  {{"publishingProfile", profile}, {"storageProfile", {{"source", {{"id", captured_id}}}}}}}};
    return Write{version_id, body, kGalleryApiVersion};
  }

  // The build VM's generalized OS disk, as a managed image's storage profile.
  json captured_storage() const {
    json os = {{"osType", os_}, {"osState", "Generalized"}, {"blobUri", captured_blob_}};
    return {{"osDisk", os}};
  }

  std::string gallery_location(const std::string& version_id) {
    ResourceRef definition = ref_of_id(version_id);
    if (definition.names.size() == 3) definition.names.pop_back();
    auto found = e_.get_resource(gallery_image_type(), definition);
    if (!found) return tmpl_.value("location", "");
    if (hyper_v_generation_.empty()) hyper_v_generation_ = found->value("/properties/hyperVGeneration"_json_pointer, std::string("V1"));
    return found->value("location", tmpl_.value("location", ""));
  }

  std::string required_action(const json& d) {
    return d["type"] == "ManagedImage" ? "Microsoft.Compute/images/write" : "Microsoft.Compute/galleries/images/versions/write";
  }

  // Captures the build VM's disk into a managed image in the staging group, then writes
  // every output. An error message when the identity may not write an output.
  std::optional<std::string> distribute(json& run) {
    const json& p = tmpl_["properties"];
    os_ = template_os_type(p);
    const json& distributors = p["distribute"];
    for (const json& d : distributors)  // the definition decides the captured image's generation
      if (d["type"] == "SharedImage") (void)gallery_location(d["galleryImageId"]);
    if (hyper_v_generation_.empty()) hyper_v_generation_ = "V1";
    const Principal identity = identity_principal(e_, tmpl_);
    for (const json& d : distributors) {
      if (d["type"] == "VHD") continue;
      const std::string target = d["type"] == "ManagedImage" ? d["imageId"].get<std::string>() : d["galleryImageId"].get<std::string>();
      if (!e_.permits(identity, required_action(d), target))
        return "Not authorized to access the resource " + target +
               ". Please check the user assigned identity has the correct permissions. For more details go to "
               "https://aka.ms/azvmimagebuilderts (the identity " + identity.object_id + " lacks '" + required_action(d) + "').";
    }
    log("==> azure-arm: Querying the machine's properties ...");
    log("==> azure-arm: Powering off machine ...");
    log("==> azure-arm: Capturing image ...");
    const int run_number = run.value("number", 1);
    captured_blob_ = staging_blob(tmpl_, ref_.names[0] + "-run" + std::to_string(run_number) + ".vhd");
    auto captured = capture(run_number);
    if (!captured) return "Capturing the build VM's OS disk failed: " + captured.error().message;
    json outputs = json::array();
    for (const json& d : distributors) outputs.push_back(write_output(d, *captured, identity));
    run["outputs"] = outputs;
    return std::nullopt;
  }

  Result<std::string> capture(int run_number) {
    const std::string staging = tmpl_["properties"].value("exactStagingResourceGroup", "");
    ResourceRef image{ref_.subscription, last_segment(staging), {"aib-" + ref_.names[0] + "-" + std::to_string(run_number)}};
    if (auto group = e_.get_resource_group(ref_.subscription, image.resource_group); !group)
      (void)e_.put_resource_group(ref_.subscription, image.resource_group,
                                  {{"location", tmpl_["location"]}, {"tags", {{"createdBy", "AzureVMImageBuilder"}}}});
    json body = {{"location", tmpl_["location"]}};
    body["properties"] = {{"hyperVGeneration", hyper_v_generation_}, {"storageProfile", captured_storage()}};
    auto written = e_.put_resource(managed_image_type(), image, body);
    if (!written) return std::move(written).error();
    return written->resource.value("id", "");
  }

  json write_output(const json& d, const std::string& captured_id, const Principal& identity) {
    const std::string name = d["runOutputName"];
    json output = {{"id", id() + "/runOutputs/" + name},
                   {"name", name},
                   {"type", "Microsoft.VirtualMachineImages/imageTemplates/runOutputs"},
                   {"properties", {{"provisioningState", "Succeeded"}}}};
    auto write = planned_write(d, captured_id);
    if (!write) {
      output["properties"]["artifactUri"] = d.contains("uri") ? json_text(d, "uri") : captured_blob_;
      log("==> azure-arm: Distributing VHD " + name + ": " + output["properties"]["artifactUri"].get<std::string>());
      return output;
    }
    log("==> azure-arm: Distributing " + d["type"].get<std::string>() + " " + name + " to " + write->id);
    HttpResponse response = send_internal(s_.dispatch, identity, "PUT", write->id, write->api_version, write->body.dump(), kUserAgent);
    output["properties"]["artifactId"] = write->id;
    if (response.status >= 300) {
      ArmError error = error_of(response);
      output["properties"]["provisioningState"] = "Failed";
      output["acg:error"] = error.code + ": " + error.message;
      log("==> azure-arm: Error distributing " + name + ": " + error.code + ": " + error.message);
      return output;
    }
    json written = json::parse(response.body, nullptr, false);
    if (written.is_object() && written.contains("id")) output["properties"]["artifactId"] = written["id"];
    if (d["type"] == "SharedImage") output["acg:pending"] = true;  // until its replication ends
    return output;
  }

  // The Distributing phase is over once its modelled time passed and every version written
  // has finished replicating.
  bool finish_distribution(json& run, std::int64_t phase_end) {
    json& outputs = run["outputs"];
    std::int64_t end = phase_end;
    for (json& o : outputs) {
      if (!o.value("acg:pending", false)) continue;
      auto version = e_.get_resource(gallery_image_version_type(), ref_of_id(o["properties"]["artifactId"]));
      const std::string state = version ? version->value("/properties/provisioningState"_json_pointer, std::string()) : "Failed";
      if (state == "Creating" || state == "Updating") return false;
      o.erase("acg:pending");
      end = std::max(end, now());
      if (state != "Succeeded") {
        o["properties"]["provisioningState"] = "Failed";
        o["acg:error"] = "The image version's replication ended " + state + ".";
      }
    }
    int failed = 0;
    std::string reasons;
    for (const json& o : outputs)
      if (o["properties"]["provisioningState"] == "Failed") {
        ++failed;
        reasons += "[" + o["name"].get<std::string>() + "] " + o.value("acg:error", std::string()) + " ";
      }
    log("==> azure-arm: Distribution finished: " + std::to_string(outputs.size() - failed) + " of " +
        std::to_string(outputs.size()) + " outputs succeeded.");
    if (failed == 0) finish(run, "Succeeded", "", end);
    else
      finish(run, failed == static_cast<int>(outputs.size()) ? "Failed" : "PartiallySucceeded",
             "Failed in distributing " + std::to_string(failed) + " images out of total " + std::to_string(outputs.size()) +
                 ": " + reasons,
             end);
    return false;
  }

  Services& s_;
  Emulator& e_;
  ResourceRef ref_;
  json tmpl_;
  std::string os_, hyper_v_generation_, captured_blob_;
};

// --- Handlers ---------------------------------------------------------------------------

std::string operation_url(const RequestContext& ctx, const json& tmpl, const std::string& operation) {
  return ctx.base_url + "/subscriptions/" + ctx.param("sub") + "/providers/Microsoft.VirtualMachineImages/locations/" +
         tmpl.value("location", "") + "/operations/" + operation + "?api-version=" + ctx.api_version;
}

std::string operation_name(const ResourceRef& ref, int run_number, const char* kind) {
  return hex_of(ref.resource_group + "/" + ref.names[0]) + "." + std::to_string(run_number) + "." + kind;
}

HttpResponse accepted(const RequestContext& ctx, const json& tmpl, const std::string& operation) {
  HttpResponse r = empty_response(202);
  r.set_header("Azure-AsyncOperation", operation_url(ctx, tmpl, operation));
  r.set_header("Location", operation_url(ctx, tmpl, operation));
  r.set_header("Retry-After", "1");
  return r;
}

// The service's own staging group and storage account, created with the template.
void create_staging(Emulator& e, const json& tmpl) {
  const std::string group_id = tmpl.value("/properties/exactStagingResourceGroup"_json_pointer, std::string());
  ResourceRef ref = ref_of_id(tmpl.value("id", ""));
  const std::string group = last_segment(group_id);
  (void)e.put_resource_group(ref.subscription, group,
                             {{"location", tmpl["location"]},
                              {"tags", {{"createdBy", "AzureVMImageBuilder"}, {"imageTemplateName", ref.names[0]},
                                        {"imageTemplateResourceGroupName", ref.resource_group}}}});
  (void)e.put_resource(storage_account_type(), {ref.subscription, group, {staging_account_name(tmpl)}},
                       {{"location", tmpl["location"]}, {"sku", {{"name", "Standard_LRS"}}}, {"kind", "StorageV2"}});
}

Result<std::pair<json, std::string>> start_run(Services& s, const ResourceRef& ref);

HttpResponse put_template(RequestContext& ctx, Services& s, bool patch) {
  auto body = parse_json_body(ctx.request, false);
  if (!body) return error_response(body.error());
  ResourceRef ref = template_ref(ctx);
  if (!patch) {
    // A template is not updated in place: its run state survives only a same-body re-PUT.
    if (auto running = RunDriver(s, ref).advance(); running && running->value("/acg:run/state"_json_pointer, std::string()) == "Running")
      return error_response(conflict("Conflict", "The image template '" + ref.names[0] + "' is running; it cannot be updated."));
  }
  auto outcome = patch ? s.emulator.patch_resource(templates(), ref, *body) : s.emulator.put_resource(templates(), ref, *body);
  if (!outcome) return error_response(outcome.error());
  if (outcome->created) {
    create_staging(s.emulator, outcome->resource);
    // autoRun (2023-07-01+): the service starts a build as soon as the template exists.
    if (iequals(outcome->resource.value("/properties/autoRun/state"_json_pointer, std::string()), "Enabled"))
      if (auto started = start_run(s, ref); started) outcome->resource = templates().view(started->first, "");
  }
  if (patch) outcome->created = false;
  return write_response(ctx, *outcome);
}

HttpResponse get_template(RequestContext& ctx, Services& s) {
  auto tmpl = RunDriver(s, template_ref(ctx)).advance();
  if (!tmpl) return error_response(tmpl.error());
  return json_response(200, templates().view(*tmpl, ""));
}

HttpResponse delete_template(RequestContext& ctx, Services& s) {
  ResourceRef ref = template_ref(ctx);
  auto existing = s.emulator.get_resource(templates(), ref);
  auto outcome = s.emulator.delete_resource(templates(), ref);
  if (!outcome) return error_response(outcome.error());
  // Its run outputs go with it (they live in the template); so does the staging group. The
  // distributed images and versions stay.
  if (existing && outcome->existed) {
    const std::string group = last_segment(existing->value("/properties/exactStagingResourceGroup"_json_pointer, std::string()));
    if (!group.empty()) (void)s.emulator.delete_resource_group(ref.subscription, group);
  }
  return delete_response(ctx, *outcome);
}

// Starts a run of the template at ref: its phases planned from now. Returns the template as
// stored then (for the operation URL's location) and the run's operation name.
Result<std::pair<json, std::string>> start_run(Services& s, const ResourceRef& ref) {
  auto current = RunDriver(s, ref).advance();
  if (!current) return std::move(current).error();
  const std::string state = current->value("/acg:run/state"_json_pointer, std::string());
  if (state == "Running" || state == "Canceling")
    return conflict("Conflict", "The image template '" + ref.names[0] +
                                    "' already has a run in progress. Wait for it to finish or cancel it "
                                    "before starting another run.");
  const std::int64_t start = s.emulator.clock().now_ms();
  const int number = current->value("/acg:run/number"_json_pointer, 0) + 1;
  const std::string operation = operation_name(ref, number, "run");
  json tmpl = *current;
  const json& p = tmpl["properties"];
  const double speed = s.emulator.settings().replication.speed;
  std::int64_t timeout_minutes = p.value("buildTimeoutInMinutes", std::int64_t{0});
  if (timeout_minutes <= 0) timeout_minutes = kDefaultBuildTimeoutMinutes;
  const std::int64_t timeout_modelled = timeout_minutes * 60'000;
  json phases = json::array();
  for (const BuildPhase& phase : plan_build(p, start, speed))
    phases.push_back({{"name", phase.name}, {"endMs", phase.end_ms}, {"modelledEndMs", phase.modelled_end_ms}});
  tmpl["acg:run"] = {{"state", "Running"},
                     {"number", number},
                     {"index", 0},
                     {"startMs", start},
                     {"phases", phases},
                     {"timeoutMinutes", timeout_minutes},
                     {"timeoutModelledMs", timeout_modelled},
                     {"deadlineMs", start + (speed <= 0 ? 0 : static_cast<std::int64_t>(static_cast<double>(timeout_modelled) / speed))},
                     {"operation", operation},
                     {"instant", speed <= 0},
                     {"outputs", json::array()}};
  tmpl["properties"]["lastRunStatus"] = {
      {"startTime", format_arm_time(start)}, {"runState", "Running"}, {"runSubState", "Queued"}, {"message", ""}};
  if (auto st = save_raw(s.emulator, ref, tmpl); !st) return std::move(st).error();
  (void)s.emulator.append_build_log(tmpl["id"], kLogSource,
                                    "==> azure-arm: Run " + std::to_string(number) + " of image template '" + ref.names[0] +
                                        "' queued (" + template_os_type(p) + " source, " +
                                        std::to_string(p.value("customize", json::array()).size()) + " customizers, " +
                                        std::to_string(p["distribute"].size()) + " distributors).");
  auto advanced = RunDriver(s, ref).advance();
  if (!advanced) return std::move(advanced).error();
  return std::pair<json, std::string>{*advanced, operation};
}

HttpResponse run_template(RequestContext& ctx, Services& s) {
  auto started = start_run(s, template_ref(ctx));
  if (!started) return error_response(started.error());
  return accepted(ctx, started->first, started->second);
}

HttpResponse cancel_template(RequestContext& ctx, Services& s) {
  ResourceRef ref = template_ref(ctx);
  auto current = RunDriver(s, ref).advance();
  if (!current) return error_response(current.error());
  json tmpl = *current;
  if (tmpl.value("/acg:run/state"_json_pointer, std::string()) != "Running")
    return error_response(conflict("Conflict", "The image template '" + ref.names[0] +
                                                   "' has no run in progress: there is nothing to cancel."));
  const std::int64_t now = s.emulator.clock().now_ms();
  const double speed = s.emulator.settings().replication.speed;
  json& run = tmpl["acg:run"];
  run["state"] = "Canceling";
  run["cancelEndMs"] = now + (speed <= 0 ? 0 : static_cast<std::int64_t>(static_cast<double>(kCancelModelledMs) / speed));
  tmpl["properties"]["lastRunStatus"]["runState"] = "Canceling";
  const std::string operation = operation_name(ref, run.value("number", 1), "cancel");
  if (auto st = save_raw(s.emulator, ref, tmpl); !st) return error_response(st.error());
  (void)s.emulator.append_build_log(tmpl["id"], kLogSource, "==> azure-arm: Cancel requested; stopping the build.");
  if (auto advanced = RunDriver(s, ref).advance(); !advanced) return error_response(advanced.error());
  return accepted(ctx, tmpl, operation);
}

json visible_output(json output) {
  for (auto it = output.begin(); it != output.end();) it = it.key().rfind("acg:", 0) == 0 ? output.erase(it) : std::next(it);
  return output;
}

HttpResponse run_outputs(RequestContext& ctx, Services& s, bool one) {
  auto tmpl = RunDriver(s, template_ref(ctx)).advance();
  if (!tmpl) return error_response(tmpl.error());
  json outputs = tmpl->value("/acg:run/outputs"_json_pointer, json::array());
  if (!one) {
    json body = {{"value", json::array()}};
    for (const json& o : outputs) body["value"].push_back(visible_output(o));
    return json_response(200, body);
  }
  for (const json& o : outputs)
    if (iequals(o.value("name", ""), ctx.param("output"))) return json_response(200, visible_output(o));
  return error_response(not_found("ResourceNotFound", "The run output '" + ctx.param("output") +
                                                          "' was not found for image template '" + ctx.param("name") + "'."));
}

// GET .../locations/{loc}/operations/{operation}: the run's (or cancel's) status.
HttpResponse operation_status(RequestContext& ctx, Services& s) {
  const std::string op = ctx.param("operation");
  const size_t dot = op.find('.');
  const size_t last = op.rfind('.');
  std::string path = dot == std::string::npos ? "" : unhex(op.substr(0, dot));
  const size_t slash = path.find('/');
  if (dot == last || slash == std::string::npos)
    return error_response(not_found("OperationNotFound", "The operation '" + op + "' was not found."));
  ResourceRef ref{ctx.param("sub"), path.substr(0, slash), {path.substr(slash + 1)}};
  auto tmpl = RunDriver(s, ref).advance();
  if (!tmpl) return error_response(not_found("OperationNotFound", "The operation '" + op + "' was not found."));
  const json run = tmpl->value("acg:run", json::object());
  const std::string kind = op.substr(last + 1);
  const std::string state = run.value("state", "");
  const json& status = (*tmpl)["properties"].value("lastRunStatus", json::object());
  json body = {{"name", op}, {"startTime", status.value("startTime", "")}};
  if (state == "Running" || (state == "Canceling")) body["status"] = "InProgress";
  else if (kind == "cancel" || state == "Succeeded") body["status"] = "Succeeded";
  else if (state == "Canceled") body["status"] = "Canceled";
  else {
    body["status"] = "Failed";
    body["error"] = {{"code", state == "PartiallySucceeded" ? "PartiallySucceeded" : "BuildFailed"},
                     {"message", status.value("message", "")}};
  }
  if (body["status"] != "InProgress") body["endTime"] = status.value("endTime", "");
  HttpResponse r = json_response(200, body);
  if (body["status"] == "InProgress") r.set_header("Retry-After", "1");
  return r;
}

HttpResponse list_templates(RequestContext& ctx, Services& s, bool in_group) {
  auto page = in_group ? s.emulator.list_resources(templates(), {ctx.param("sub"), ctx.param("rg"), {}}, ctx.query("$skiptoken"))
                       : s.emulator.list_resources_in_subscription(templates(), ctx.param("sub"), ctx.query("$skiptoken"));
  if (!page) return error_response(page.error());
  for (json& item : page->items) {
    auto advanced = RunDriver(s, ref_of_id(item.value("id", ""))).advance();
    if (advanced) item = templates().view(*advanced, "");
  }
  return list_response(ctx, *page);
}

json operations_list() {
  auto op = [](const std::string& name, const std::string& operation, const std::string& resource) {
    json display = {{"provider", "Virtual Machine Image Builder"}, {"operation", operation}, {"description", operation}};
    if (!resource.empty()) display["resource"] = resource;
    return json{{"name", name}, {"display", display}, {"isDataAction", false}};
  };
  const std::string t = "VM Image template";
  return {{"value",
           {op("Microsoft.VirtualMachineImages/register/action", "Register Virtual Machine Image Builder RP", ""),
            op("Microsoft.VirtualMachineImages/unregister/action", "Unregister Virtual Machine Image Builder RP", ""),
            op("Microsoft.VirtualMachineImages/imageTemplates/read", "Get a VM image template instance resource", t),
            op("Microsoft.VirtualMachineImages/imageTemplates/write", "Create or update a VM image template instance resource", t),
            op("Microsoft.VirtualMachineImages/imageTemplates/delete", "Delete a VM image template instance resource", t),
            op("Microsoft.VirtualMachineImages/imageTemplates/run/action", "Run a VM image template to produce images", t),
            op("Microsoft.VirtualMachineImages/imageTemplates/cancel/action", "Cancel a running image build", t),
            op("Microsoft.VirtualMachineImages/imageTemplates/runOutputs/read", "Get the run outputs", "VM Image template run output"),
            op("Microsoft.VirtualMachineImages/locations/operations/read", "Get the status of an asynchronous operation", "")}}};
}

// GET /subscriptions/{sub}/locations (Microsoft.Resources): every region of the catalog, as
// `az image builder create` reads them to check its --location and output regions.
json subscription_locations(const Emulator& e, const std::string& sub) {
  json value = json::array();
  for (const Region& r : e.regions().regions()) {
    json metadata = {{"regionType", "Physical"},
                     {"regionCategory", r.supports_galleries ? "Recommended" : "Other"},
                     {"geography", r.geography},
                     {"geographyGroup", r.geography_group},
                     {"latitude", std::to_string(r.latitude)},
                     {"longitude", std::to_string(r.longitude)}};
    if (!r.paired_region.empty()) metadata["pairedRegion"] = json::array({{{"name", r.paired_region}}});
    value.push_back({{"id", "/subscriptions/" + sub + "/locations/" + r.name},
                     {"name", r.name},
                     {"type", "Region"},
                     {"displayName", r.display_name},
                     {"regionalDisplayName", r.regional_display_name},
                     {"metadata", metadata}});
  }
  return {{"value", value}};
}

}  // namespace

void advance_image_builder_runs(Services& s) {
  constexpr std::int64_t kSweepEveryMs = 1000;
  const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
  if (wall_ms < s.next_run_sweep_ms) return;
  s.next_run_sweep_ms = wall_ms + kSweepEveryMs;
  for (const Subscription& sub : s.emulator.identities().subscriptions()) {
    std::string continuation;
    do {
      auto page = s.emulator.list_resources_in_subscription(templates(), sub.id, continuation);
      if (!page) break;
      for (const json& item : page->items) {
        const std::string state = item.value("/properties/lastRunStatus/runState"_json_pointer, std::string());
        if (state == "Running" || state == "Canceling") (void)RunDriver(s, ref_of_id(item.value("id", ""))).advance();
      }
      continuation = page->continuation.value_or("");
    } while (!continuation.empty());
  }
}

void add_image_builder_routes(Router& router, Services& s) {
  const ApiFamily aib = ApiFamily::image_builder;
  router.add("GET", "/subscriptions/{sub}/locations", ApiFamily::subscriptions, true, [&s](RequestContext& ctx) {
    return json_response(200, subscription_locations(s.emulator, ctx.param("sub")));
  });
  router.add("GET", "/providers/Microsoft.VirtualMachineImages/operations", aib, false,
             [](RequestContext&) { return json_response(200, operations_list()); });
  router.add("GET", "/subscriptions/{sub}/providers/Microsoft.VirtualMachineImages/imageTemplates", aib, true,
             [&s](RequestContext& ctx) { return list_templates(ctx, s, false); });
  router.add("GET", kTemplatesPath, aib, true, [&s](RequestContext& ctx) { return list_templates(ctx, s, true); });
  router.add("PUT", kTemplatePath, aib, true, [&s](RequestContext& ctx) { return put_template(ctx, s, false); });
  router.add("PATCH", kTemplatePath, aib, true, [&s](RequestContext& ctx) { return put_template(ctx, s, true); });
  router.add("GET", kTemplatePath, aib, true, [&s](RequestContext& ctx) { return get_template(ctx, s); });
  router.add("DELETE", kTemplatePath, aib, true, [&s](RequestContext& ctx) { return delete_template(ctx, s); });
  router.add("POST", std::string(kTemplatePath) + "/run", aib, true, [&s](RequestContext& ctx) { return run_template(ctx, s); });
  router.add("POST", std::string(kTemplatePath) + "/cancel", aib, true,
             [&s](RequestContext& ctx) { return cancel_template(ctx, s); });
  router.add("GET", std::string(kTemplatePath) + "/runOutputs", aib, true,
             [&s](RequestContext& ctx) { return run_outputs(ctx, s, false); });
  router.add("GET", std::string(kTemplatePath) + "/runOutputs/{output}", aib, true,
             [&s](RequestContext& ctx) { return run_outputs(ctx, s, true); });
  router.add("GET", "/subscriptions/{sub}/providers/Microsoft.VirtualMachineImages/locations/{location}/operations/{operation}",
             ApiFamily::any, true, [&s](RequestContext& ctx) { return operation_status(ctx, s); });
  // Identities: item routes come from resource_handlers.cpp's served types; the subscription list here.
  router.add("GET", "/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
             ApiFamily::managed_identity, true, [&s](RequestContext& ctx) {
               auto page = s.emulator.list_resources_in_subscription(user_assigned_identity_type(), ctx.param("sub"),
                                                                     ctx.query("$skiptoken"));
               if (!page) return error_response(page.error());
               return list_response(ctx, *page);
             });
}

}  // namespace acg::api
