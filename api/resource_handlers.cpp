// Resources below resource groups (galleries, image definitions, ...): one set of handlers
// for every ResourceType, with routes derived from the type's lineage. Also the status of
// Compute's long-running operations.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/image_builder.h"
#include "emulator/network_types.h"
#include "emulator/source_types.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

std::vector<const ResourceType*> lineage(const ResourceType& type) { return type.lineage(); }

// "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{n0}/images/{n1}"
std::string item_template(const ResourceType& type) {
  auto chain = lineage(type);
  std::string full = type.type();
  std::string path = "/subscriptions/{sub}/resourcegroups/{rg}/providers/" + full.substr(0, full.find('/'));
  for (size_t i = 0; i < chain.size(); ++i) path += "/" + chain[i]->segment() + "/{n" + std::to_string(i) + "}";
  return path;
}

std::string collection_template(const ResourceType& type) {
  std::string item = item_template(type);
  return item.substr(0, item.rfind('/'));
}

// How the API serves one resource type: its api-versions and the status a create answers.
struct Served {
  const ResourceType* type;
  ApiFamily family;
  int created_status;  // 201 for most; DiskRP answers 200 (az 2.45 rejects 201 on snapshots)
};

// Every resource type below resource groups, outermost first.
std::vector<Served> served_types() {
  return {
      {&gallery_type(), ApiFamily::gallery, 201},
      {&gallery_image_type(), ApiFamily::gallery, 201},
      {&gallery_image_version_type(), ApiFamily::gallery, 201},
      {&gallery_application_type(), ApiFamily::gallery, 201},
      {&gallery_application_version_type(), ApiFamily::gallery, 201},
      {&managed_image_type(), ApiFamily::compute, 201},
      {&snapshot_type(), ApiFamily::disks, 200},
      {&disk_type(), ApiFamily::disks, 200},
      {&virtual_machine_type(), ApiFamily::compute, 201},
      {&storage_account_type(), ApiFamily::storage, 200},
      {&disk_encryption_set_type(), ApiFamily::disks, 200},
      {&user_assigned_identity_type(), ApiFamily::managed_identity, 201},
      {&public_ip_address_type(), ApiFamily::network, 201},
      {&virtual_network_type(), ApiFamily::network, 201},
      {&network_security_group_type(), ApiFamily::network, 201},
      {&network_interface_type(), ApiFamily::network, 201},
  };
}

ResourceRef ref_of(const RequestContext& ctx, size_t count) {
  ResourceRef ref{ctx.param("sub"), ctx.param("rg"), {}};
  for (size_t i = 0; i < count; ++i) ref.names.push_back(ctx.param("n" + std::to_string(i)));
  return ref;
}

// What a GET asks to see beyond the stored resource, for ResourceType::view: $expand's value,
// and "$select=<value>" when there is a $select (a gallery's $select=Permissions).
std::string view_options(const RequestContext& ctx) {
  std::string options = ctx.query("$expand");
  if (const std::string select = ctx.query("$select"); !select.empty())
    options += (options.empty() ? "$select=" : ",$select=") + select;
  return options;
}

HttpResponse write(RequestContext& ctx, Services& s, const Served& served, bool patch) {
  const ResourceType& type = *served.type;
  auto body = parse_json_body(ctx.request, false);
  if (!body) return error_response(body.error());
  ResourceRef ref = ref_of(ctx, lineage(type).size());
  auto outcome = patch ? s.emulator.patch_resource(type, ref, *body) : s.emulator.put_resource(type, ref, *body);
  if (!outcome) return error_response(outcome.error());
  if (patch) outcome->created = false;  // PATCH answers 200 only (the Python SDK refuses others)
  HttpResponse response = write_response(ctx, *outcome);
  if (response.status == 201) response.status = served.created_status;
  return response;
}

void add_resource_routes(Router& router, Services& s, const Served& served) {
  const ResourceType& type = *served.type;
  const size_t depth = lineage(type).size();
  const std::string item = item_template(type);
  const ResourceType* t = &type;
  const ApiFamily family = served.family;
  router.add("GET", collection_template(type), family, true, [&s, t, depth](RequestContext& ctx) {
    auto page = s.emulator.list_resources(*t, ref_of(ctx, depth - 1), ctx.query("$skiptoken"));
    if (!page) return error_response(page.error());
    return list_response(ctx, *page);
  });
  router.add("PUT", item, family, true, [&s, served](RequestContext& ctx) { return write(ctx, s, served, false); });
  router.add("PATCH", item, family, true, [&s, served](RequestContext& ctx) { return write(ctx, s, served, true); });
  router.add("GET", item, family, true, [&s, t, depth](RequestContext& ctx) {
    auto resource = s.emulator.get_resource(*t, ref_of(ctx, depth), view_options(ctx));
    if (!resource) return error_response(resource.error());
    return json_response(200, *resource);
  });
  router.add("DELETE", item, family, true, [&s, t, depth](RequestContext& ctx) {
    auto outcome = s.emulator.delete_resource(*t, ref_of(ctx, depth));
    if (!outcome) return error_response(outcome.error());
    return delete_response(ctx, *outcome);
  });
}

json operation_json(const OperationStatus& op) {
  json body = {{"name", op.id}, {"status", op.status}, {"startTime", op.start_time}};
  if (!op.end_time.empty()) body["endTime"] = op.end_time;
  if (op.error) body["error"] = error_to_json(*op.error);
  return body;
}

// Azure-AsyncOperation: always 200 with the status body. Location (monitor=true): 202 while
// running, then 200 (Compute's DELETE and POST monitors).
HttpResponse operation_status(RequestContext& ctx, Services& s) {
  auto op = s.emulator.get_operation(ctx.param("sub"), ctx.param("operation"));
  if (!op) return error_response(op.error());
  if (ctx.query("monitor") != "true") {
    HttpResponse r = json_response(200, operation_json(*op));
    if (op->status == "InProgress") r.set_header("Retry-After", "1");
    return r;
  }
  return monitor_response(ctx, *op, ctx.base_url + ctx.target.path + "?monitor=true&api-version=" + ctx.api_version);
}

}  // namespace

void add_gallery_routes(Router& router, Services& s) {
  router.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/galleries", ApiFamily::gallery, true,
             [&s](RequestContext& ctx) {
               auto page = s.emulator.list_resources_in_subscription(gallery_type(), ctx.param("sub"),
                                                                     ctx.query("$skiptoken"));
               if (!page) return error_response(page.error());
               return list_response(ctx, *page);
             });
  for (const Served& served : served_types()) add_resource_routes(router, s, served);
  router.add("GET",
             "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/galleries/{g}/softdeletedartifacttypes/"
             "{t}/artifacts/{a}/versions",
             ApiFamily::gallery, true, [&s](RequestContext& ctx) {
               if (!iequals(ctx.param("t"), "Images"))
                 return error_response(bad_request("InvalidParameter",
                                                   "The value '" + ctx.param("t") +
                                                       "' of parameter 'artifactType' is not valid. Allowed values are 'Images'.",
                                                   "artifactType"));
               auto page = s.emulator.list_soft_deleted({ctx.param("sub"), ctx.param("rg"), {ctx.param("g"), ctx.param("a")}});
               if (!page) return error_response(page.error());
               return list_response(ctx, *page);
             });
  router.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/capsOperations/{operation}",
             ApiFamily::any, true, [&s](RequestContext& ctx) { return operation_status(ctx, s); });
}

}  // namespace acg::api
