// Changes to a stored resource outside the generic write: actions (POST .../generalize) and
// members the generic write does not store. One transaction each, like every write.

#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

// The id of the resource ref names, under its resolved parent (as resources.cpp builds it).
std::string resource_id(const json& parent, const ResourceType& type, const std::string& name) {
  const std::string parent_id = parent["id"];
  if (!type.parent()) return parent_id + "/providers/" + type.type() + "/" + name;
  return parent_id + "/" + type.segment() + "/" + name;
}

// The 404 the generic read gives, with the names as the client sent them.
ArmError not_found_error(const ResourceType& type, const ResourceRef& ref) {
  std::vector<const ResourceType*> chain;
  for (const ResourceType* t = &type; t; t = t->parent()) chain.insert(chain.begin(), t);
  std::string full = type.type();
  std::string qualified = full.substr(0, full.find('/'));
  for (size_t i = 0; i < chain.size() && i < ref.names.size(); ++i)
    qualified += "/" + chain[i]->segment() + "/" + ref.names[i];
  return not_found("ResourceNotFound", "The Resource '" + qualified + "' under resource group '" + ref.resource_group +
                                           "' was not found. For more details please go to "
                                           "https://aka.ms/ARMResourceNotFoundFix");
}

}  // namespace

Result<json> Emulator::update_resource(const ResourceType& type, const ResourceRef& ref,
                                       const std::function<Status(json& resource)>& change) {
  return write<json>([&]() -> Result<json> {
    auto parent = resolve_parent(type, ref, false);
    if (!parent) {
      if (parent.error().code == "ParentResourceNotFound") return not_found_error(type, ref);
      return std::move(parent).error();
    }
    auto stored = load(resource_id(*parent, type, ref.names.back()));
    if (!stored) return std::move(stored).error();
    if (!*stored) return not_found_error(type, ref);
    json resource = std::move(**stored);
    if (resource.value("/properties/provisioningState"_json_pointer, "") == "Deleting")
      return conflict("OperationNotAllowed",
                      "Operation 'Update' is not allowed on '" + resource.value("name", "") +
                          "' since it is marked for deletion. You can only retry the Delete operation (or wait "
                          "for an ongoing one to complete).");
    const json before = resource;
    if (auto st = change(resource); !st) return std::move(st).error();
    for (const char* key : {"id", "name", "type", "location"})
      if (resource.value(key, json()) != before.value(key, json()))
        return internal_error(std::string("A change to '") + before.value("id", "") + "' altered its '" + key + "'.");
    if (auto st = save(resource["id"], type.type(), (*parent)["id"], resource["name"], resource); !st)
      return std::move(st).error();
    return resource;
  });
}

}  // namespace acg
