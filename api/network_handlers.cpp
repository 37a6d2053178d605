// Microsoft.Network beyond the generic create, read, update and delete of its types
// (resource_handlers.cpp): the subnets of a virtual network, which are stored inline in it
// (emulator/network_types.h), read as child resources.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/network_types.h"

namespace acg::api {

using nlohmann::json;

namespace {

constexpr const char* kSubnets =
    "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets";

Result<json> vnet_of(RequestContext& ctx, Services& s) {
  return s.emulator.get_resource(virtual_network_type(), {ctx.param("sub"), ctx.param("rg"), {ctx.param("vnet")}});
}

}  // namespace

void add_network_routes(Router& router, Services& s) {
  router.add("GET", kSubnets, ApiFamily::network, true, [&s](RequestContext& ctx) {
    auto vnet = vnet_of(ctx, s);
    if (!vnet) return error_response(vnet.error());
    return json_response(200, {{"value", vnet->value("/properties/subnets"_json_pointer, json::array())}});
  });
  router.add("GET", std::string(kSubnets) + "/{subnet}", ApiFamily::network, true, [&s](RequestContext& ctx) {
    auto vnet = vnet_of(ctx, s);
    if (!vnet) return error_response(vnet.error());
    json subnet = find_subnet(*vnet, ctx.param("subnet"));
    if (subnet.is_null())
      return error_response(not_found("NotFound", "Resource " + (*vnet)["id"].get<std::string>() + "/subnets/" +
                                                      ctx.param("subnet") + " not found."));
    return json_response(200, subnet);
  });
}

}  // namespace acg::api
