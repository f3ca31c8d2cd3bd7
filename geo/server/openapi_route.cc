#include "geo/server/openapi_route.h"

#include "api/openapi/openapi_document.h"

namespace geo {

absl::Status AddOpenApiRoute(http::Router* router) {
  return router->Add("GET", kOpenApiPath,
                     [](const http::HttpRequest&, const http::PathVariables&,
                        http::HttpResponse* response) {
                       response->SetJson(200, api::OpenApiDocument());
                     });
}

}  // namespace geo
