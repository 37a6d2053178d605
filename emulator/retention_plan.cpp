#include "emulator/retention_plan.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "emulator/clock.h"
#include "emulator/gallery_deployment.h"
#include "emulator/region_catalog.h"
#include "emulator/request_body.h"
#include "emulator/text.h"
#include "emulator/version_name.h"

namespace acg {

using nlohmann::json;

namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

// One definition's versions, newest (highest Major.Minor.Patch) first.
struct Definition {
  std::string id;
  std::vector<json> versions;
};

std::vector<Definition> by_definition(const std::vector<json>& versions) {
  std::vector<Definition> out;
  for (const json& v : versions) {
    const std::string id = definition_id_of(json_text(v, "id"));
    auto at = std::find_if(out.begin(), out.end(), [&](const Definition& d) { return iequals(d.id, id); });
    if (at == out.end()) at = out.insert(out.end(), Definition{id, {}});
    at->versions.push_back(v);
  }
  auto number = [](const json& v) { return parse_version_name(json_text(v, "name")).value_or(VersionName{-1, -1, -1}); };
  for (Definition& d : out)
    std::stable_sort(d.versions.begin(), d.versions.end(), [&](const json& a, const json& b) { return number(a) > number(b); });
  return out;
}

// Lower-cased ids of the versions "latest" names in some region, plus the highest overall.
std::set<std::string> latest_versions(const Definition& d) {
  std::set<std::string> out;
  if (d.versions.empty()) return out;
  out.insert(to_lower(json_text(d.versions.front(), "id")));
  std::set<std::string> regions{""};
  for (const json& v : d.versions)
    for (const json& r : json_member(json_member(json_member(v, "properties"), "publishingProfile"), "targetRegions"))
      regions.insert(normalize_location(json_text(r, "name")));
  for (const std::string& region : regions)
    if (auto latest = pick_latest_version(d.versions, region)) out.insert(to_lower(json_text(*latest, "id")));
  return out;
}

// Lower-cased version id -> the name of a VM that uses it.
std::map<std::string, std::string> vm_references(const std::vector<json>& vms) {
  std::map<std::string, std::string> out;
  for (const json& vm : vms) {
    const json& image = json_member(json_member(json_member(vm, "properties"), "storageProfile"), "imageReference");
    const std::string id = json_text(image, "id");
    if (id.empty()) continue;
    // A definition id deploys its latest: the VM records the version it got as exactVersion.
    const std::string version_id = definition_id_of(id).empty() && !json_text(image, "exactVersion").empty()
                                       ? id + "/versions/" + json_text(image, "exactVersion")
                                       : id;
    out.emplace(to_lower(version_id), json_text(vm, "name"));
  }
  return out;
}

std::optional<std::int64_t> time_of(const json& profile, const char* key) {
  std::int64_t ms = 0;
  const std::string text = json_text(profile, key);
  if (text.empty() || !parse_iso8601(text, ms)) return std::nullopt;
  return ms;
}

// The first reason to keep or delete one version (the order of the header's table).
struct Verdict {
  bool remove;
  std::string reason;
};

Verdict judge(const json& version, std::size_t position, const std::set<std::string>& latest,
              const std::map<std::string, std::string>& referenced, const RetentionPolicy& policy, std::int64_t now_ms) {
  const std::string id = to_lower(json_text(version, "id"));
  const json& properties = json_member(version, "properties");
  const json& profile = json_member(properties, "publishingProfile");
  const auto end_of_life = time_of(profile, "endOfLifeDate");
  const bool blocked = json_member(json_member(properties, "safetyProfile"), "blockDeletionBeforeEndOfLife") == json(true);
  if (latest.count(id)) return {false, "latest"};
  if (auto vm = referenced.find(id); vm != referenced.end()) return {false, "referenced by VM " + vm->second};
  if (blocked && (!end_of_life || *end_of_life > now_ms))
    return {false, "blocked before end of life (" + (end_of_life ? json_text(profile, "endOfLifeDate") : "none set") + ")"};
  if (policy.delete_end_of_life && end_of_life && *end_of_life <= now_ms)
    return {true, "end of life passed (" + json_text(profile, "endOfLifeDate") + ")"};
  if (position < static_cast<std::size_t>(policy.keep)) return {false, "among the " + std::to_string(policy.keep) + " newest"};
  if (policy.older_than_days) {
    const auto published = time_of(profile, "publishedDate");
    if (!published) return {false, "no publishedDate"};
    if (*published > now_ms - *policy.older_than_days * kDayMs)
      return {false, "published less than " + std::to_string(*policy.older_than_days) + " days ago"};
  }
  return {true, "older than the " + std::to_string(policy.keep) + " newest"};
}

}  // namespace

std::size_t RetentionPlan::deletions() const {
  return static_cast<std::size_t>(std::count_if(decisions.begin(), decisions.end(), [](const auto& d) { return d.remove; }));
}

RetentionPlan plan_retention(const std::vector<json>& versions, const std::vector<json>& vms, const RetentionPolicy& policy,
                             std::int64_t now_ms, const PriceTable& prices) {
  RetentionPlan plan;
  plan.currency = prices.currency();
  const auto referenced = vm_references(vms);
  for (const Definition& d : by_definition(versions)) {
    const auto latest = latest_versions(d);
    for (std::size_t i = 0; i < d.versions.size(); ++i) {
      const json& v = d.versions[i];
      const Verdict verdict = judge(v, i, latest, referenced, policy, now_ms);
      RetentionDecision decision{json_text(v, "id"), json_text(v, "name"), d.id, verdict.remove, verdict.reason,
                                 version_cost(v, prices).monthly};
      if (decision.remove) plan.monthly_saving += decision.monthly_cost;
      plan.decisions.push_back(std::move(decision));
    }
  }
  return plan;
}

json retention_plan_json(const RetentionPlan& plan, const RetentionPolicy& policy) {
  json versions = json::array();
  for (const RetentionDecision& d : plan.decisions)
    versions.push_back({{"id", d.id}, {"name", d.name}, {"action", d.remove ? "delete" : "keep"}, {"reason", d.reason},
                        {"monthlyCost", std::round(d.monthly_cost * 1e6) / 1e6}});
  json p = {{"keep", policy.keep}, {"deleteEndOfLife", policy.delete_end_of_life}};
  if (policy.older_than_days) p["olderThanDays"] = *policy.older_than_days;
  return {{"policy", p}, {"currency", plan.currency}, {"monthlySaving", std::round(plan.monthly_saving * 1e6) / 1e6},
          {"deleteCount", plan.deletions()}, {"versions", versions}};
}

}  // namespace acg
