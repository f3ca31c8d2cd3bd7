// GET /v1/openapi.json: the OpenAPI 2.0 document of the HTTP/JSON surface,
// generated from the protos at build time (//api:openapi) and compiled into
// the binary, so the document always describes the server that serves it.
#ifndef GEO_SERVER_OPENAPI_ROUTE_H_
#define GEO_SERVER_OPENAPI_ROUTE_H_

#include "absl/status/status.h"
#include "geo/http/router.h"

namespace geo {

// The path the document is served at.
inline constexpr char kOpenApiPath[] = "/v1/openapi.json";

// Registers GET kOpenApiPath on `router`: 200, application/json, the
// document's bytes. Errors are those of Router::Add.
absl::Status AddOpenApiRoute(http::Router* router);

}  // namespace geo

#endif  // GEO_SERVER_OPENAPI_ROUTE_H_
