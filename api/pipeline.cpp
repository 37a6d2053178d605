#include "api/pipeline.h"

#include <chrono>
#include <exception>

#include "api/arm_conventions.h"
#include "api/public_hosts.h"
#include "api/token_service.h"
#include "emulator/access_control.h"
#include "emulator/emulator.h"
#include "emulator/text.h"

namespace acg::api {

Pipeline::Pipeline(Services& services, IdGenerator& ids, AccessLog log)
    : services_(services), ids_(ids), router_(build_router(services)), log_(std::move(log)) {}

namespace {

std::string base_url_of(const HttpRequest& request) {
  std::string_view host = request.header("Host");
  if (host.empty()) host = "localhost";
  return "https://" + std::string(host);
}

// Where a client gets tokens for this ARM: the public cloud's login host when the request named
// the public ARM host (it came through the transparent proxy, and the client can only reach that
// authority), else the emulator's own root (its /{tenant}/oauth2/... endpoints).
std::string authority_of(const RequestContext& ctx) {
  if (auto login = login_host_for_arm_host(ctx.request.header("Host"))) return "https://" + *login;
  return ctx.base_url;
}

// ARM's error_description in WWW-Authenticate: its own wording for a missing header (which
// tenant-discovering clients such as Packer and go-autorest see first), else the error's message.
std::string challenge_description(const RequestContext& ctx, const ArmError& error) {
  if (ctx.request.header("Authorization").empty())
    return "The authentication failed because of missing 'Authorization' header.";
  return error.message;
}

// "/subscriptions/s/resourceGroups/g/providers/Ns/type/..." -> {Ns, type}, if present.
std::pair<std::string, std::string> provider_and_type(const std::vector<std::string>& parts) {
  for (size_t i = 0; i + 2 < parts.size(); ++i)
    if (iequals(parts[i], "providers")) return {parts[i + 1], parts[i + 2]};
  return {};
}

}  // namespace

HttpResponse Pipeline::rejected(int status, const std::string& reason) const {
  if (status == 413)
    return error_response(ArmError{413, "RequestContentTooLarge",
                                   "The request content size exceeds the maximum of 4194304 bytes (" + reason + ").",
                                   {}, {}});
  return error_response(bad_request("InvalidRequestFormat", "The HTTP request could not be parsed: " + reason + "."));
}

HttpResponse Pipeline::unmatched(const RequestContext& ctx, bool other_method) const {
  if (other_method)
    return error_response(ArmError{405, "MethodNotAllowed",
                                   "The requested resource does not support http method '" + ctx.request.method + "'.",
                                   {}, {}});
  auto [ns, type] = provider_and_type(split_path(ctx.target.path));
  if (!ns.empty() && !iequals(ns, "Microsoft.Compute") && !iequals(ns, "Microsoft.Resources"))
    return error_response(bad_request("InvalidResourceNamespace", "The resource namespace '" + ns + "' is invalid."));
  if (!type.empty())
    return error_response(not_found("InvalidResourceType",
                                    "The resource type '" + type + "' could not be found in the namespace '" + ns +
                                        "' for api version '" + ctx.query("api-version") + "'."));
  return error_response(not_found("NotFound", "No route of the ARM API served by acg-emulator matches '" +
                                                  ctx.request.method + " " + ctx.target.path + "'."));
}

std::optional<HttpResponse> Pipeline::authenticate(RequestContext& ctx, const Route& route) {
  if (!route.authenticated || ctx.principal) return std::nullopt;  // handle_as: already known
  auto principal = services_.tokens.authenticate(ctx.request.header("Authorization"));
  if (principal) {
    ctx.principal = *principal;
    return std::nullopt;
  }
  const ArmError& error = principal.error();
  const Subscription* sub = services_.emulator.identities().find_subscription(ctx.param("sub"));
  const std::string tenant = sub ? sub->tenant_id : services_.emulator.identities().default_principal().tenant_id;
  HttpResponse r = error_response(error);
  r.set_header("WWW-Authenticate", "Bearer authorization_uri=\"" + authority_of(ctx) + "/" + tenant +
                                       "\", error=\"invalid_token\", error_description=\"" +
                                       challenge_description(ctx, error) + "\"");
  return r;
}

// A subscription in the path must exist and belong to the caller's tenant.
std::optional<HttpResponse> Pipeline::check_subscription(const RequestContext& ctx) const {
  auto it = ctx.params.find("sub");
  if (it == ctx.params.end() || !ctx.principal) return std::nullopt;
  const Subscription* sub = services_.emulator.identities().find_subscription(it->second);
  if (!sub)
    return error_response(not_found("SubscriptionNotFound", "The subscription '" + it->second + "' could not be found."));
  if (!iequals(sub->tenant_id, ctx.principal->tenant_id)) {
    HttpResponse r = error_response(ArmError{
        401, "InvalidAuthenticationTokenTenant",
        "The access token is from the wrong issuer 'https://sts.windows.net/" + ctx.principal->tenant_id +
            "/'. It must match the tenant 'https://sts.windows.net/" + sub->tenant_id +
            "/' associated with this subscription. Please use the authority (URL) '" + authority_of(ctx) + "/" +
            sub->tenant_id + "' to get the token.",
        {}, {}});
    r.set_header("WWW-Authenticate",
                 "Bearer authorization_uri=\"" + authority_of(ctx) + "/" + sub->tenant_id + "\", error=\"invalid_token\"");
    return r;
  }
  return std::nullopt;
}

// RBAC: the request's action at its scope, before anything runs. A list the caller may not
// read as a whole still shows the items it may read (assignments below the list's scope).
std::optional<HttpResponse> Pipeline::authorize(RequestContext& ctx) {
  if (!ctx.principal) return std::nullopt;
  auto target = rbac_target(ctx.request.method, ctx.target.path);
  if (!target) return std::nullopt;
  Emulator& emulator = services_.emulator;
  if (auto st = emulator.check_network(target->scope, ctx.request.remote_address); !st) return error_response(st.error());
  if (emulator.permits(*ctx.principal, target->action, target->scope)) return std::nullopt;
  if (target->any_role && emulator.has_role_within(*ctx.principal, target->scope)) return std::nullopt;
  if (target->list && emulator.has_role_within(*ctx.principal, target->scope)) {
    const Principal* principal = ctx.principal;
    const std::string action = target->action;
    ctx.visible = [&emulator, principal, action](const nlohmann::json& item) {
      return emulator.permits(*principal, action, item.value("id", ""));
    };
    return std::nullopt;
  }
  return error_response(authorization_failed(ctx.principal->client_id, ctx.principal->object_id, target->action,
                                             target->scope));
}

HttpResponse Pipeline::dispatch(RequestContext& ctx, const Route*& matched) {
  auto match = router_.match(ctx.request.method, ctx.target.path);
  if (!match.route) return unmatched(ctx, match.other_method);
  matched = match.route;
  ctx.params = std::move(match.params);
  if (auto refused = authenticate(ctx, *match.route)) return *refused;
  if (auto refused = check_subscription(ctx)) return *refused;
  std::string type = provider_and_type(split_path(ctx.target.path)).second;
  if (auto st = check_api_version(match.route->family, ctx, type); !st) return error_response(st.error());
  ctx.api_version = ctx.query("api-version");
  if (auto refused = authorize(ctx)) return *refused;
  return match.route->handler(ctx);
}

HttpResponse Pipeline::handle(const HttpRequest& request) {
  RequestContext ctx{request, parse_target(request.target), {}, {}, nullptr, base_url_of(request), ids_.uuid(), {}};
  return run(ctx);
}

HttpResponse Pipeline::handle_as(const HttpRequest& request, const Principal& principal) {
  RequestContext ctx{request, parse_target(request.target), {}, {}, &principal, base_url_of(request), ids_.uuid(), {}};
  return run(ctx);
}

HttpResponse Pipeline::run(RequestContext& ctx) {
  const HttpRequest& request = ctx.request;
  const auto started = std::chrono::steady_clock::now();
  HttpResponse response;
  const Route* matched = nullptr;
  try {
    response = dispatch(ctx, matched);
  } catch (const std::exception& e) {
    response = error_response(internal_error(std::string("The emulator failed unexpectedly: ") + e.what()));
  } catch (...) {
    response = error_response(internal_error("The emulator failed unexpectedly."));
  }
  response.set_header("x-ms-request-id", ctx.request_id);
  std::string_view correlation = request.header("x-ms-correlation-request-id");
  response.set_header("x-ms-correlation-request-id", correlation.empty() ? ctx.request_id : std::string(correlation));
  if (std::string_view client_id = request.header("x-ms-client-request-id"); !client_id.empty())
    response.set_header("x-ms-client-request-id", std::string(client_id));
  if (log_) {
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    // The template as registered bounds the metrics' label values; an unmatched path never
    // becomes a label.
    std::string route = "unmatched";
    if (matched) {
      route.clear();
      for (const std::string& segment : matched->segments) route += "/" + segment;
    }
    const std::string* api_version = ctx.target.query_value("api-version");
    log_(AccessLogEntry{request, response, ctx.request_id, ctx.target.path, ms, route,
                        api_version ? *api_version : std::string(), ctx.principal});
  }
  return response;
}

}  // namespace acg::api
