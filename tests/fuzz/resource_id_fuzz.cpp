// Resource ids wherever the API reads one: as a request path (routing and its captures), as
// an image version's source, a VM's image reference and a role assignment's scope. Ids are
// parsed in each of those places; none may answer anything but ARM's refusals.

#include <nlohmann/json.hpp>
#include <string>

#include "api/http_message.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace acg::fuzz;
using nlohmann::json;

// As JSON text; invalid UTF-8 becomes U+FFFD, as a client's JSON encoder would refuse it.
std::string quoted(std::string_view id) {
  return json(std::string(id)).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fresh_state();
  std::string_view id = as_text(data, size);
  const std::string gallery_api = "?api-version=2022-03-03";
  call("GET", std::string(id) + gallery_api);
  call("GET", acg::api::percent_encode(id) + gallery_api);
  call("PUT", kImage + "/versions/2.0.0" + gallery_api,
       R"({"location":"westus2","properties":{"storageProfile":{"source":{"id":)" + quoted(id) + "}}}}");
  call("PUT", kGroup + "/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2022-08-01",
       R"({"location":"westus2","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},)"
       R"("storageProfile":{"imageReference":{"id":)" + quoted(id) + "}}}}");
  call("PUT", kGroup + "/providers/Microsoft.Authorization/roleAssignments/0a8b1e58-6c6b-4f09-9d3a-222222222222"
              "?api-version=2022-04-01",
       R"({"properties":{"roleDefinitionId":)" + quoted(id) + R"(,"principalId":"33333333-3333-3333-3333-333333333333"}})");
  return 0;
}
