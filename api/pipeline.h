#pragma once
// The request path as a visible pipeline (STYLE.md §4), each stage either passing the
// request on or finishing it with a response:
//
//   request id -> route -> auth -> subscription -> api-version -> handler -> ARM envelope -> log
//
// handle() never throws: the one catch for the unexpected turns it into a 500 ARM error.

#include <functional>
#include <optional>
#include <string>

#include "api/http_message.h"
#include "api/router.h"
#include "api/routes.h"
#include "emulator/id_generator.h"

namespace acg::api {

// What the log and metrics hook sees of each answered request. Never the query string (SAS
// signatures, $skiptoken) nor a body (client secrets): the request is there for its method,
// header names and remote address.
struct AccessLogEntry {
  const HttpRequest& request;
  const HttpResponse& response;
  const std::string& request_id;
  const std::string& path;  // without query: no secrets or SAS
  double duration_ms;
  const std::string& route;        // the matched route's template, or "unmatched"
  const std::string& api_version;  // the request's api-version query parameter, or empty
  const Principal* principal;      // the authenticated caller (or handle_as's), if any
};
using AccessLog = std::function<void(const AccessLogEntry&)>;

class Pipeline {
 public:
  Pipeline(Services& services, IdGenerator& ids, AccessLog log = {});

  HttpResponse handle(const HttpRequest& request);
  // A request made on a principal's behalf by the emulator itself (a template deployment's
  // resource writes): every stage but authentication, which the principal stands for.
  HttpResponse handle_as(const HttpRequest& request, const Principal& principal);
  // A request the server refused before parsing finished (413 body too large, 400 malformed).
  HttpResponse rejected(int status, const std::string& reason) const;

 private:
  HttpResponse run(RequestContext& ctx);
  HttpResponse dispatch(RequestContext& ctx, const Route*& matched);
  HttpResponse unmatched(const RequestContext& ctx, bool other_method) const;
  std::optional<HttpResponse> authenticate(RequestContext& ctx, const Route& route);
  std::optional<HttpResponse> check_subscription(const RequestContext& ctx) const;
  std::optional<HttpResponse> authorize(RequestContext& ctx);

  Services& services_;
  IdGenerator& ids_;
  Router router_;
  AccessLog log_;
};

}  // namespace acg::api
