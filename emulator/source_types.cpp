// Writes of the source types that keep members beside "properties" (see source_types.h).

#include "emulator/source_types.h"

namespace acg {

using nlohmann::json;

Result<WriteOutcome> write_resource_with_members(Emulator& emulator, const ResourceType& type, const ResourceRef& ref,
                                                 const json& body, bool patch) {
  auto outcome = patch ? emulator.patch_resource(type, ref, body) : emulator.put_resource(type, ref, body);
  const auto* with_members = dynamic_cast<const ResourceTypeWithMembers*>(&type);
  if (!outcome || !with_members) return outcome;
  auto stored = emulator.update_resource(type, ref, [&](json& resource) {
    with_members->apply_members(resource, body);
    return ok_status();
  });
  if (!stored) return std::move(stored).error();
  outcome->resource = std::move(*stored);
  return outcome;
}

}  // namespace acg
