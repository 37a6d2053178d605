// Resolving an image definition to its "latest" version (what a VM deployment from a
// definition id uses): highest Major, then Minor, then Patch, compared as numbers.

#include "emulator/emulator.h"
#include "emulator/gallery_deployment.h"
#include "emulator/region_catalog.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

Result<json> Emulator::latest_version(const ResourceRef& definition, const std::string& region) {
  return read<json>([&]() -> Result<json> {
    ResourceRef versions_ref = definition;
    versions_ref.names.push_back("");
    auto parent = resolve_parent(gallery_image_version_type(), versions_ref, true);
    if (!parent) return std::move(parent).error();
    auto rows = store_->list_children((*parent)["id"], gallery_image_version_type().type(), 0, 1 << 30);
    if (!rows.ok()) return internal_error(rows.error().message);

    std::vector<json> versions;
    for (const auto& row : rows.value().rows) {
      json version = json::parse(row.body, nullptr, false);
      if (!version.is_discarded() && !version.contains("acg:softDeletedTime")) versions.push_back(std::move(version));
    }
    auto best = pick_latest_version(versions, region);
    if (!best)
      return not_found("NotFound", "There is no latest image version exists for " + (*parent)["id"].get<std::string>());
    return gallery_image_version_type().view(*best, "");
  });
}

}  // namespace acg
