// The OpenAPI 2.0 document of geo's HTTP/JSON surface, generated at build
// time (api/BUILD.bazel, //api:openapi) from api/geo/v1/geo.proto by
// protoc-gen-swagger and merged with api/openapi/supplement.json.
#ifndef API_OPENAPI_OPENAPI_DOCUMENT_H_
#define API_OPENAPI_OPENAPI_DOCUMENT_H_

#include "absl/strings/string_view.h"

namespace geo::api {

// The document's JSON text; static storage, valid for the program's life.
absl::string_view OpenApiDocument();

}  // namespace geo::api

#endif  // API_OPENAPI_OPENAPI_DOCUMENT_H_
