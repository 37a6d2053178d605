// Resolving an image definition to its "latest" version (what a VM deployment from a
// definition id uses): highest Major, then Minor, then Patch, compared as numbers.

#include "emulator/emulator.h"
#include "emulator/region_catalog.h"
#include "emulator/text.h"
#include "emulator/version_name.h"

namespace acg {

using nlohmann::json;

namespace {

// The region's flag wins over the version's own (documented: "the regional flag takes precedence").
bool excluded_from_latest(const json& version, const std::string& region) {
  const json& profile = version["properties"]["publishingProfile"];
  bool excluded = profile.value("excludeFromLatest", false);
  if (region.empty() || !profile.contains("targetRegions")) return excluded;
  for (const json& r : profile["targetRegions"])
    if (iequals(normalize_location(r.value("name", "")), normalize_location(region)) && r.contains("excludeFromLatest") &&
        r["excludeFromLatest"].is_boolean())
      return r["excludeFromLatest"].get<bool>();
  return excluded;
}

}  // namespace

Result<json> Emulator::latest_version(const ResourceRef& definition, const std::string& region) {
  return read<json>([&]() -> Result<json> {
    ResourceRef versions_ref = definition;
    versions_ref.names.push_back("");
    auto parent = resolve_parent(gallery_image_version_type(), versions_ref, true);
    if (!parent) return std::move(parent).error();
    auto rows = store_->list_children((*parent)["id"], gallery_image_version_type().type(), 0, 1 << 30);
    if (!rows.ok()) return internal_error(rows.error().message);

    std::optional<VersionName> best_name;
    json best;
    for (const auto& row : rows.value().rows) {
      json version = json::parse(row.body, nullptr, false);
      auto name = parse_version_name(row.name);
      if (version.is_discarded() || !name || excluded_from_latest(version, region)) continue;
      if (!best_name || *name > *best_name) {
        best_name = name;
        best = std::move(version);
      }
    }
    if (!best_name)
      return not_found("NotFound", "There is no latest image version exists for " + (*parent)["id"].get<std::string>());
    return gallery_image_version_type().view(best, "");
  });
}

}  // namespace acg
