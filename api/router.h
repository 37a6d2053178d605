#pragma once
// Routes: ARM path templates matched segment by segment, case-insensitively (clients send
// both "resourcegroups" and "resourceGroups"), with named captures.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_message.h"
#include "emulator/identity.h"

namespace acg::api {

// Which api-versions a route accepts (ARM validates them per resource provider).
enum class ApiFamily {
  none,           // identity, metadata and emulator endpoints: no api-version needed
  any,            // api-version required, any value (operation status URLs we issued)
  subscriptions,  // Microsoft.Resources subscriptions, tenants, providers
  resources,      // Microsoft.Resources resource groups
  gallery,        // Microsoft.Compute GalleryRP
  compute,        // Microsoft.Compute CRP: images, virtualMachines
  disks,          // Microsoft.Compute DiskRP: disks, snapshots
  storage,        // Microsoft.Storage: storageAccounts
  authorization,  // Microsoft.Authorization: roleAssignments, roleDefinitions
  marketplace,    // Microsoft.MarketplaceOrdering: agreements (marketplace terms)
  policy,         // Microsoft.Authorization: policyDefinitions, policyAssignments
  image_builder,  // Microsoft.VirtualMachineImages: imageTemplates
  managed_identity,  // Microsoft.ManagedIdentity: userAssignedIdentities
  network,        // Microsoft.Network: publicIPAddresses, virtualNetworks, networkInterfaces, NSGs
};

struct RequestContext {
  const HttpRequest& request;
  ParsedTarget target;
  std::map<std::string, std::string> params;  // captures by template name
  std::string api_version;
  const Principal* principal = nullptr;
  std::string base_url;    // "https://host:port", from the Host header
  std::string request_id;
  // Set when the caller may read only some items of a list (RBAC below the list's scope):
  // list_response shows those for which it returns true.
  std::function<bool(const nlohmann::json& item)> visible;

  const std::string& param(const std::string& name) const;
  // A query parameter, or empty.
  std::string query(std::string_view name) const;
};

using Handler = std::function<HttpResponse(RequestContext&)>;

struct Route {
  std::string method;
  std::vector<std::string> segments;  // "{name}" captures one segment
  ApiFamily family = ApiFamily::none;
  bool authenticated = true;
  Handler handler;
};

class Router {
 public:
  void add(std::string method, std::string_view path_template, ApiFamily family, bool authenticated,
           Handler handler);

  struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    bool other_method = false;  // the path exists, with other methods
  };
  Match match(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

// Splits a path into its non-empty segments ("//a/b/" -> {"a","b"}).
std::vector<std::string> split_path(std::string_view path);

}  // namespace acg::api
