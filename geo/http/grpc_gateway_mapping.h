// The grpc-gateway mapping geo's HTTP/JSON surface follows, so that a client
// written against a grpc-gateway deployment of geo.v1 works unchanged: the
// HTTP status of a gRPC code, the `{"code","message","details"}` error body,
// and the protobuf JSON of request and response messages. docs/api.md lists
// what a client sees, and where geo differs from grpc-gateway.
#ifndef GEO_HTTP_GRPC_GATEWAY_MAPPING_H_
#define GEO_HTTP_GRPC_GATEWAY_MAPPING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "geo/http/http_message.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status_code_enum.h"

namespace geo::http {

// The HTTP status grpc-gateway answers with for a gRPC code (OK 200,
// CANCELLED 499, INVALID_ARGUMENT 400, NOT_FOUND 404, UNIMPLEMENTED 501, ...).
// Codes outside the gRPC range map to 500.
int HttpStatusFromGrpcCode(absl::StatusCode code);
int HttpStatusFromGrpcCode(grpc::StatusCode code);

// `{"code":3,"message":"...","details":[]}`: a google.rpc.Status in protobuf
// JSON, `details` always present, as grpc-gateway writes errors.
std::string GatewayErrorBody(absl::StatusCode code, absl::string_view message);
std::string GatewayErrorBody(const absl::Status& status);

// GatewayErrorBody as application/json: the HttpErrorFormatter
// (HttpServerOptions::error_formatter) of a server whose errors follow
// grpc-gateway, so that the server's own refusals (413, 408, 503, ...) read
// like a handler's.
HttpErrorBody GatewayHttpErrorBody(absl::StatusCode code,
                                   absl::string_view message);

// The bytes grpc-gateway v2's default marshaler writes for `message`: Go's
// protojson with EmitUnpopulated. Fields in declaration order under their
// lowerCamelCase JSON names; an unset singular message field is `null`; an
// unset scalar prints its default; an unset field of a oneof (proto3
// `optional` included) is left out; repeated fields are lists (`[]` when
// empty), maps objects in key order; 64-bit integers are strings, enums
// their names, floats the shortest text that reads back the same. Strings
// escape only '"', '\\' and control characters. Compact, with no spaces
// (protojson adds a space after some commas at random, per build, so that
// no client relies on its bytes; without them is one of its outputs).
// Thread-safe. What is fixed per message type (the members' names, kinds and
// nesting) is worked out on the first call for the type and kept; what a
// message holds is read from it on every call.
std::string MessageToGatewayJson(const google::protobuf::Message& message);

// Parses a request body in protobuf JSON into `message`. Malformed JSON,
// unknown fields and wrong types are INVALID_ARGUMENT (grpc-gateway v1's
// default, which rejected unknown fields). An empty body leaves `message`
// cleared and is OK.
absl::Status GatewayJsonToMessage(absl::string_view body,
                                  google::protobuf::Message* message);

}  // namespace geo::http

#endif  // GEO_HTTP_GRPC_GATEWAY_MAPPING_H_
