// A fast writer for the protobuf JSON mapping with grpc-gateway's options
// (lowerCamelCase names, unpopulated primitive and repeated fields emitted),
// byte for byte what google::protobuf::util::MessageToJsonString prints for
// the plain messages the API uses. The library printer serialises the message
// to binary and re-parses it through a type resolver, building a node tree on
// the way; for a LookupResponse that was most of an HTTP request's CPU time.
#ifndef GEO_HTTP_GATEWAY_JSON_H_
#define GEO_HTTP_GATEWAY_JSON_H_

#include <string>

#include "google/protobuf/message.h"

namespace geo::http {

// Appends `message` as JSON to `out` and returns true, or returns false
// (leaving `out` as it was) when the message holds something this writer does
// not reproduce exactly: maps, oneofs, well-known types (Any, Struct,
// Timestamp, wrappers, ...) with content, bytes, floats, non-finite doubles,
// or strings with characters the library escapes in ways not handled here.
// Callers then use the library printer.
bool AppendGatewayJson(const google::protobuf::Message& message,
                       std::string* out);

}  // namespace geo::http

#endif  // GEO_HTTP_GATEWAY_JSON_H_
