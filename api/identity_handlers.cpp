// Cloud metadata, OpenID discovery, signing keys and the token endpoints: what az, the SDKs
// and Terraform call before they talk to ARM. None of these need a token or an api-version.

#include "api/arm_conventions.h"
#include "api/routes.h"
#include "api/token_service.h"
#include "emulator/emulator.h"

namespace acg::api {

using nlohmann::json;

namespace {

// How a client signs in, as the newer metadata schema says it.
struct Login {
  std::string endpoint;
  std::string tenant;
  std::string identity_provider;
};

// The DNS suffixes of the cloud --cloud emulates, as `az cloud show` lists them for it: what a
// tool derives storage, Key Vault or registry host names from. Nothing here serves them.
json dns_suffixes(const std::string& cloud) {
  if (cloud == "AzureUSGovernment")
    return {{"storage", "core.usgovcloudapi.net"},
            {"keyVaultDns", "vault.usgovcloudapi.net"},
            {"mhsmDns", "managedhsm.usgovcloudapi.net"},
            {"acrLoginServer", "azurecr.us"},
            {"sqlServerHostname", "database.usgovcloudapi.net"},
            {"mysqlServerEndpoint", "mysql.database.usgovcloudapi.net"},
            {"postgresqlServerEndpoint", "postgres.database.usgovcloudapi.net"},
            {"mariadbServerEndpoint", "mariadb.database.usgovcloudapi.net"},
            {"synapseAnalytics", "dev.azuresynapse.usgovcloudapi.net"},
            {"azureFrontDoorEndpointSuffix", "azurefd.us"},
            {"storageSyncEndpointSuffix", "afs.azure.us"}};
  if (cloud == "AzureChinaCloud")
    return {{"storage", "core.chinacloudapi.cn"},
            {"keyVaultDns", "vault.azure.cn"},
            {"mhsmDns", "managedhsm.azure.cn"},
            {"acrLoginServer", "azurecr.cn"},
            {"sqlServerHostname", "database.chinacloudapi.cn"},
            {"mysqlServerEndpoint", "mysql.database.chinacloudapi.cn"},
            {"postgresqlServerEndpoint", "postgres.database.chinacloudapi.cn"},
            {"mariadbServerEndpoint", "mariadb.database.chinacloudapi.cn"},
            {"synapseAnalytics", "dev.azuresynapse.azure.cn"},
            {"storageSyncEndpointSuffix", "afs.azure.cn"}};
  return {{"storage", "core.windows.net"},
          {"keyVaultDns", "vault.azure.net"},
          {"mhsmDns", "managedhsm.azure.net"},
          {"acrLoginServer", "azurecr.io"},
          {"sqlServerHostname", "database.windows.net"},
          {"mysqlServerEndpoint", "mysql.database.azure.com"},
          {"postgresqlServerEndpoint", "postgres.database.azure.com"},
          {"mariadbServerEndpoint", "mariadb.database.azure.com"},
          {"synapseAnalytics", "dev.azuresynapse.net"},
          {"attestationEndpoint", "attest.azure.net"},
          {"azureFrontDoorEndpointSuffix", "azurefd.net"},
          {"storageSyncEndpointSuffix", "afs.azure.net"},
          {"azureDataLakeStoreFileSystem", "azuredatalakestore.net"},
          {"azureDataLakeAnalyticsCatalogAndJob", "azuredatalakeanalytics.net"}};
}

// One cloud of the newer metadata schema (api-version 2019-05-01 and later): every endpoint
// and resource id is the emulator itself; DNS suffixes stay Azure's (nothing here serves them).
json cloud_entry(const std::string& base, const std::string& name, const std::string& cloud, const Login& login) {
  return json{{"name", name},
              {"resourceManager", base + "/"},
              {"portal", base + "/_emulator/ui"},
              {"gallery", base + "/"},
              {"graph", base + "/"},
              {"graphAudience", base + "/"},
              {"microsoftGraphResourceId", base + "/"},
              {"media", base + "/"},
              {"batch", base + "/"},
              {"sqlManagement", base + "/"},
              {"activeDirectoryDataLake", base + "/"},
              {"appInsightsResourceId", base + "/"},
              {"appInsightsTelemetryChannelResourceId", base + "/"},
              {"attestationResourceId", base + "/"},
              {"synapseAnalyticsResourceId", base + "/"},
              {"logAnalyticsResourceId", base + "/"},
              {"ossrDbmsResourceId", base + "/"},
              {"vmImageAliasDoc", base + "/_emulator/vm-image-aliases.json"},
              {"authentication",
               {{"loginEndpoint", login.endpoint},
                {"audiences", json::array({"https://management.core.windows.net/", "https://management.azure.com/"})},
                {"tenant", login.tenant},
                {"identityProvider", login.identity_provider}}},
              {"suffixes", dns_suffixes(cloud)}};
}

// The 2015-01-01 shape az's `cloud register --endpoint-resource-manager` discovery reads.
json legacy_metadata(const std::string& base) {
  return json{{"galleryEndpoint", base + "/"},
              {"graphEndpoint", base + "/"},
              {"portalEndpoint", base + "/_emulator/ui"},
              {"authentication",
               {{"loginEndpoint", base + "/adfs"},
                {"audiences", json::array({"https://management.core.windows.net/", "https://management.azure.com/"})}}}};
}

// Three shapes, by api-version, as ARM answers them:
//   < 2019-05-01                object, 2015-01-01 fields   az cloud register (discovery)
//   2019-05-01 .. 2022-08-xx    array of clouds             az's ARM_CLOUD_METADATA_URL (its default is 2019-05-01)
//   >= 2022-09-01               one cloud object            Terraform (go-azure-sdk's environments.FromEndpoint)
// az and MSAL need the ADFS-style authority (no instance discovery offline). go-azure-sdk posts
// to "{loginEndpoint}/{tenant}/oauth2/v2.0/token" and takes any tenant other than "common" or
// identity provider other than "AAD" for Azure Stack, which the azurerm provider refuses: it
// gets the emulator's root as loginEndpoint (whose /{tenant}/oauth2/v2.0/token is served).
HttpResponse metadata_endpoints(RequestContext& ctx, const Services& services) {
  const std::string version = ctx.query("api-version");
  const std::string& base = ctx.base_url;
  if (!version.empty() && version < "2019-05-01") return json_response(200, legacy_metadata(base));
  if (!version.empty() && version >= "2022-09-01")
    return json_response(200, cloud_entry(base, services.cloud_name, services.emulator.regions().cloud(), Login{base, "common", "AAD"}));
  return json_response(200,
                       json::array({cloud_entry(base, services.cloud_name, services.emulator.regions().cloud(),
                                                Login{base + "/adfs", "adfs", "ADFS"})}));
}

}  // namespace

void add_identity_routes(Router& router, Services& s) {
  router.add("GET", "/metadata/endpoints", ApiFamily::none, false,
             [&s](RequestContext& ctx) { return metadata_endpoints(ctx, s); });

  router.add("GET", "/adfs/.well-known/openid-configuration", ApiFamily::none, false, [&s](RequestContext& ctx) {
    return json_response(200, s.tokens.openid_configuration(ctx.base_url, "adfs"));
  });
  router.add("GET", "/{tenant}/v2.0/.well-known/openid-configuration", ApiFamily::none, false,
             [&s](RequestContext& ctx) {
               return json_response(200, s.tokens.openid_configuration(ctx.base_url, ctx.param("tenant") + "/v2.0"));
             });
  router.add("GET", "/{tenant}/.well-known/openid-configuration", ApiFamily::none, false, [&s](RequestContext& ctx) {
    return json_response(200, s.tokens.openid_configuration(ctx.base_url, ctx.param("tenant")));
  });
  for (const char* keys : {"/adfs/discovery/keys", "/{tenant}/discovery/keys", "/{tenant}/v2.0/discovery/keys",
                           "/{tenant}/discovery/v2.0/keys"})
    router.add("GET", keys, ApiFamily::none, false,
               [&s](RequestContext&) { return json_response(200, s.tokens.jwks()); });

  router.add("POST", "/adfs/oauth2/token", ApiFamily::none, false,
             [&s](RequestContext& ctx) { return s.tokens.issue_token(ctx.request, ""); });
  router.add("POST", "/{tenant}/oauth2/v2.0/token", ApiFamily::none, false,
             [&s](RequestContext& ctx) { return s.tokens.issue_token(ctx.request, ctx.param("tenant")); });
  router.add("POST", "/{tenant}/oauth2/token", ApiFamily::none, false, [&s](RequestContext& ctx) {
    return s.tokens.issue_token(ctx.request, ctx.param("tenant"), /*v1_numbers_as_strings=*/true);
  });
}

}  // namespace acg::api
