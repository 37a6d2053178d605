#include "api/token_service.h"

#include "api/arm_conventions.h"
#include "emulator/text.h"

namespace acg::api {

using nlohmann::json;

namespace {

HttpResponse oauth_error(int status, const std::string& error, const std::string& description,
                         int aadsts_code) {
  return json_response(status, json{{"error", error},
                                    {"error_description", "AADSTS" + std::to_string(aadsts_code) + ": " + description},
                                    {"error_codes", json::array({aadsts_code})}});
}

std::string form_value(const std::vector<std::pair<std::string, std::string>>& form, std::string_view key) {
  for (const auto& [k, v] : form)
    if (k == key) return v;
  return {};
}

// "https://management.core.windows.net//.default" -> "https://management.core.windows.net/"
std::string audience_of_scope(std::string scope) {
  size_t space = scope.find(' ');
  if (space != std::string::npos) scope.resize(space);
  const std::string suffix = "/.default";
  if (scope.size() >= suffix.size() && scope.compare(scope.size() - suffix.size(), suffix.size(), suffix) == 0)
    scope.resize(scope.size() - suffix.size());
  return scope;
}

std::string issuer_of(const std::string& tenant) { return "https://sts.windows.net/" + tenant + "/"; }

ArmError invalid_token(const std::string& message) {
  return ArmError{401, "InvalidAuthenticationToken", message, {}, {}};
}

}  // namespace

bool is_arm_audience(std::string_view audience) {
  std::string a = to_lower(audience);
  while (!a.empty() && a.back() == '/') a.pop_back();
  return a == "https://management.core.windows.net" || a == "https://management.azure.com" ||
         a == "https://management.core.usgovcloudapi.net" || a == "https://management.usgovcloudapi.net" ||
         a == "https://management.core.chinacloudapi.cn" || a == "https://management.chinacloudapi.cn" ||
         istarts_with(a, "https://localhost") || istarts_with(a, "https://127.0.0.1") ||
         istarts_with(a, "https://[::1]");
}

namespace {
// The public client az signs users in with (tokens of users carry it as appid).
constexpr std::string_view kAzureCliClientId = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
}  // namespace

TokenService::TokenService(TokenSigner signer, const IdentityDirectory& identities, const Clock& clock,
                           TokenOptions options)
    : signer_(std::move(signer)), identities_(identities), clock_(clock), options_(options) {}

std::int64_t TokenService::now_s() const { return clock_.now_ms() / 1000; }

std::string TokenService::mint(const Principal& p, const std::string& audience, std::int64_t issued_at_s,
                               std::int64_t lifetime_s) const {
  return signer_.sign(json{{"aud", audience},
                           {"iss", issuer_of(p.tenant_id)},
                           {"iat", issued_at_s},
                           {"nbf", issued_at_s - 300},
                           {"exp", issued_at_s + lifetime_s},
                           {"tid", p.tenant_id},
                           {"oid", p.object_id},
                           {"sub", p.object_id},
                           {"appid", p.kind == "User" ? std::string(kAzureCliClientId) : p.client_id},
                           {"appidacr", p.kind == "User" ? "0" : "1"},
                           {"idtyp", p.kind == "User" ? "user" : "app"},
                           {"upn", p.kind == "User" ? p.client_id : std::string()},
                           {"ver", "1.0"}});
}

HttpResponse TokenService::issue_token(const HttpRequest& request, std::string_view tenant_in_path,
                                       bool v1_numbers_as_strings) {
  const auto form = parse_form(request.body);
  const std::string grant = form_value(form, "grant_type");
  if (grant != "client_credentials" && grant != "password")
    return oauth_error(400, "unsupported_grant_type",
                       "The grant type '" + grant + "' is not supported by the emulator's token "
                       "service; use client_credentials (a service principal with a secret) or password (a user).",
                       70003);
  // A user signs in with its name and password through any public client (az's own id).
  const bool user = grant == "password";
  const std::string client_id = form_value(form, user ? "username" : "client_id");
  const Principal* principal = identities_.find_principal_by_client_id(client_id);
  if (principal && (principal->kind == "User") != user) principal = nullptr;
  std::string tenant(tenant_in_path);
  bool tenant_is_alias = tenant.empty() || iequals(tenant, "common") || iequals(tenant, "organizations") ||
                         iequals(tenant, "adfs");
  if (!tenant_is_alias && !identities_.find_tenant(tenant))
    return oauth_error(400, "invalid_request", "Tenant '" + tenant + "' not found.", 90002);
  if (user && (!principal || (!tenant_is_alias && !iequals(principal->tenant_id, tenant))))
    return oauth_error(400, "invalid_grant",
                       "The user account " + client_id + " does not exist in the directory. To sign into this "
                       "application, the account must be added to the directory.",
                       50034);
  // Entra ID answers an unknown application with 400 unauthorized_client; the emulator
  // answers 401 invalid_client for a wrong id as for a wrong secret (the product's rule).
  if (!principal || (!tenant_is_alias && !iequals(principal->tenant_id, tenant)))
    return oauth_error(401, "invalid_client",
                       "Application with identifier '" + client_id + "' was not found in the directory '" +
                           (tenant_is_alias ? std::string("emulator") : tenant) + "'.",
                       700016);
  if (user && form_value(form, "password") != principal->secret)
    return oauth_error(400, "invalid_grant", "Error validating credentials due to invalid username or password.", 50126);
  if (!user && form_value(form, "client_secret") != principal->secret)
    return oauth_error(401, "invalid_client",
                       "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                       "secret value, not the client secret ID, for a secret added to app '" + client_id + "'.",
                       7000215);

  std::string audience = form_value(form, "resource");
  if (audience.empty()) audience = audience_of_scope(form_value(form, "scope"));
  if (audience.empty()) audience = "https://management.core.windows.net/";
  const std::int64_t now = now_s();
  json body = {{"token_type", "Bearer"},
               {"expires_in", options_.lifetime_seconds},
               {"ext_expires_in", options_.lifetime_seconds},
               {"expires_on", std::to_string(now + options_.lifetime_seconds)},
               {"not_before", std::to_string(now)},
               {"resource", audience},
               {"access_token", mint(*principal, audience, now, options_.lifetime_seconds)}};
  if (v1_numbers_as_strings) {
    body["expires_in"] = std::to_string(options_.lifetime_seconds);
    body["ext_expires_in"] = std::to_string(options_.lifetime_seconds);
  }
  HttpResponse r = json_response(200, body);
  r.set_header("Cache-Control", "no-store, no-cache");
  return r;
}

json TokenService::openid_configuration(const std::string& base_url, std::string_view authority_path) const {
  const std::string authority = base_url + "/" + std::string(authority_path);
  const bool v2 = authority_path.find("v2.0") != std::string_view::npos;
  const std::string oauth = v2 ? authority.substr(0, authority.size() - 5) + "/oauth2/v2.0" : authority + "/oauth2";
  return json{{"issuer", authority},
              {"authorization_endpoint", oauth + "/authorize"},
              {"token_endpoint", oauth + "/token"},
              {"device_authorization_endpoint", oauth + "/devicecode"},
              {"jwks_uri", authority + "/discovery/keys"},
              {"response_types_supported", json::array({"code", "id_token", "token"})},
              {"subject_types_supported", json::array({"pairwise"})},
              {"id_token_signing_alg_values_supported", json::array({"ES256"})},
              {"token_endpoint_auth_methods_supported", json::array({"client_secret_post"})},
              {"grant_types_supported", json::array({"client_credentials", "password"})}};
}

Result<TokenService::CachedToken> TokenService::verify(std::string_view token) const {
  auto verified = signer_.verify(token);
  if (std::holds_alternative<TokenProblem>(verified)) {
    switch (std::get<TokenProblem>(verified)) {
      case TokenProblem::unsupported_algorithm:
        return invalid_token("The access token is invalid: its signing algorithm is not accepted.");
      case TokenProblem::bad_signature:
        return invalid_token("The access token has an invalid signature: it was not issued by this emulator.");
      default:
        return invalid_token("The access token is invalid.");
    }
  }
  const json& claims = std::get<json>(verified);
  const std::string audience = claims.value("aud", "");
  if (!is_arm_audience(audience))
    return invalid_token("The access token has an invalid audience '" + audience +
                         "': it was issued for another resource.");
  const Principal* principal = identities_.find_principal_by_object_id(claims.value("oid", ""));
  if (!principal || claims.value("iss", "") != issuer_of(principal->tenant_id))
    return invalid_token("The access token is from an unknown issuer or principal.");
  if (!claims.contains("exp") || !claims["exp"].is_number_integer() || !claims.contains("nbf") ||
      !claims["nbf"].is_number_integer())
    return invalid_token("The access token is invalid: it carries no validity period.");
  return CachedToken{principal, claims["exp"].get<std::int64_t>(), claims["nbf"].get<std::int64_t>()};
}

Result<const Principal*> TokenService::authenticate(std::string_view header) {
  if (header.empty())
    return ArmError{401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", {}, {}};
  if (!istarts_with(header, "Bearer "))
    return ArmError{401, "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is provided in an invalid format.", {}, {}};
  std::string token(header.substr(7));
  if (options_.accept_any_token) return &identities_.default_principal();

  CachedToken entry{};
  {
    std::lock_guard lock(cache_mutex_);
    auto it = cache_.find(token);
    if (it != cache_.end()) entry = it->second;
  }
  if (!entry.principal) {
    auto verified = verify(token);
    if (!verified) return std::move(verified).error();
    entry = *verified;
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= 4096) cache_.clear();  // bounded: tokens live an hour at most
    cache_.emplace(token, entry);
  }
  const std::int64_t now = now_s();
  if (entry.expires_at_s <= now)
    return ArmError{401, "ExpiredAuthenticationToken",
                    "The access token expiry UTC time '" + format_arm_time(entry.expires_at_s * 1000) +
                        "' is earlier than current UTC time '" + format_arm_time(now * 1000) + "'.",
                    {}, {}};
  if (entry.not_before_s > now)
    return invalid_token("The access token is not yet valid: its 'nbf' is in the future.");
  return entry.principal;
}

}  // namespace acg::api
