// Actions on the source resources beyond create, read, update and delete (those are served
// for every type by resource_handlers.cpp): POST .../virtualMachines/{vm}/generalize and
// .../deallocate.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "emulator/emulator.h"
#include "emulator/source_types.h"

namespace acg::api {

void add_source_routes(Router& router, Services& s) {
  // Marks the VM generalized so it can be captured into a managed image. Compute answers 200
  // with no body; generalizing twice is harmless.
  router.add("POST", "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/generalize",
             ApiFamily::compute, true, [&s](RequestContext& ctx) {
               ResourceRef ref{ctx.param("sub"), ctx.param("rg"), {ctx.param("vm")}};
               auto vm = s.emulator.update_resource(virtual_machine_type(), ref, generalize_vm);
               if (!vm) return error_response(vm.error());
               return empty_response(200);
             });
  // Compute answers a power action 202 with both status URLs (Packer 1.6 polls them) and
  // an integer Retry-After; the instance view shows PowerState/deallocated.
  router.add("POST", "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/deallocate",
             ApiFamily::compute, true, [&s](RequestContext& ctx) {
               auto operation = s.emulator.deallocate_vm({ctx.param("sub"), ctx.param("rg"), {ctx.param("vm")}});
               if (!operation) return error_response(operation.error());
               HttpResponse r = empty_response(202);
               r.set_header("Azure-AsyncOperation", operation_status_url(ctx, *operation, false));
               r.set_header("Location", operation_status_url(ctx, *operation, true));
               r.set_header("Retry-After", "1");
               return r;
             });
}

}  // namespace acg::api
