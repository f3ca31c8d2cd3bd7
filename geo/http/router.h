// grpc-gateway-style routing of HTTP requests to handlers by method and path
// template, with grpc-gateway's answers for a path nobody serves (404,
// {"code":5,"message":"Not Found","details":[]}) and for a path served only
// under other methods (501, {"code":12,"message":"Method Not Allowed",...}).
//
//   Router router;
//   router.Add("GET", "/v1/lookup/{ip}", [](const HttpRequest& request,
//                                           const PathVariables& variables,
//                                           HttpResponse* response) {
//     absl::string_view ip = variables.Get("ip");
//     ...
//   });
//   router.Add("POST", "/v1/lookup:batch", ...);
//   auto server = HttpServer::Start(options, router.AsHandler());
#ifndef GEO_HTTP_ROUTER_H_
#define GEO_HTTP_ROUTER_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "geo/http/http_message.h"
#include "geo/http/http_server.h"

namespace geo::http {

// The values a path template's {variables} matched, percent-decoded.
class PathVariables {
 public:
  // The value of `name`, or "" when the template has no such variable.
  absl::string_view Get(absl::string_view name) const;
  void Add(absl::string_view name, std::string value) {
    variables_.emplace_back(name, std::move(value));
  }
  size_t size() const { return variables_.size(); }
  void Clear() { variables_.clear(); }

 private:
  // Names point into the router's templates, which outlive every request.
  absl::InlinedVector<std::pair<absl::string_view, std::string>, 2> variables_;
};

using RouteHandler = std::function<void(const HttpRequest&,
                                        const PathVariables&, HttpResponse*)>;

// Add before serving; Handle is then thread-safe (the routes are read-only).
class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers `handler` for `method` on `path_template`. A template is
  // "/"-separated segments, each a literal or a "{name}" variable matching one
  // non-empty segment; the last may end in a ":verb" custom method
  // ("/v1/lookup:batch", "/v1/items/{id}:cancel"). A variable's value may
  // contain ':' (so "/v1/lookup/{ip}" takes "2001:db8::1"). Routes are tried
  // in the order they were added; the first match wins. INVALID_ARGUMENT for
  // a malformed template.
  absl::Status Add(absl::string_view method, absl::string_view path_template,
                   RouteHandler handler);

  // Registers `handler` for every method on `path_prefix` ("/v1/authorize")
  // and every path below it ("/v1/authorize/any/thing"). The variable "path"
  // holds the part below it as sent ("/any/thing", or "" for the prefix
  // itself), still percent-encoded. Prefix routes are tried before template
  // routes. INVALID_ARGUMENT unless the prefix starts with '/' and does not
  // end with one.
  absl::Status AddPrefix(absl::string_view path_prefix, RouteHandler handler);

  // Dispatches, or answers 404 / 501 with a grpc-gateway error body.
  void Handle(const HttpRequest& request, HttpResponse* response) const;

  // A handler for HttpServer that calls Handle. The router must outlive it.
  HttpHandler AsHandler() const;

 private:
  struct Segment {
    std::string literal;
    // Non-empty for a {variable} segment.
    std::string variable;
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    // Without the ':'; empty when the template has none.
    std::string verb;
    RouteHandler handler;
  };

  // True when `path` matches `route`; fills `variables` then.
  static bool Match(const Route& route,
                    const absl::InlinedVector<absl::string_view, 8>& segments,
                    PathVariables* variables);

  struct PrefixRoute {
    std::string prefix;
    RouteHandler handler;
  };

  std::vector<PrefixRoute> prefix_routes_;
  std::vector<Route> routes_;
};

}  // namespace geo::http

#endif  // GEO_HTTP_ROUTER_H_
