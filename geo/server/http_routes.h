// The HTTP/JSON surface of geo.v1, shaped the way grpc-gateway maps the protos'
// google.api.http annotations, plus /healthz and /readyz.
#ifndef GEO_SERVER_HTTP_ROUTES_H_
#define GEO_SERVER_HTTP_ROUTES_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "geo/http/router.h"
#include "geo/server/forward_auth.h"
#include "geo/server/lookup_service.h"

namespace geo {

// Routes (and the contract the HTTP tests check):
//   GET  /v1/lookup/{ip}[?language=xx]  LookupService::Answer
//   POST /v1/lookup:batch               LookupService::BatchLookup, body
//                                       {"ips": [...], "language": "xx"}
//   GET  /v1/check/{ip}[?policy=name]   LookupService::Check
//   ANY  /v1/authorize[/...]            forward-auth (forward_auth.h)
//   GET  /v1/databases                  LookupService::ListDatabases
//   GET  /healthz                       200 while the process is alive
//   GET  /readyz                        200 when `ready()`, else 503
// Errors: grpc-gateway's status mapping and {"code","message","details"} body.
// `service` must outlive the router; `ready` is called per /readyz request.
absl::StatusOr<std::unique_ptr<http::Router>> BuildHttpRoutes(
    const LookupService* service, std::function<bool()> ready,
    ForwardAuthOptions forward_auth = {});

}  // namespace geo

#endif  // GEO_SERVER_HTTP_ROUTES_H_
