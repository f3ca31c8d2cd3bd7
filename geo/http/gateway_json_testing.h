// What the tests of MessageToGatewayJson share: the answers the HTTP surface
// returns, filled in, and the check of a rendering against protobuf's own
// JSON printer plus the rules where Go's protojson differs from it.
#ifndef GEO_HTTP_GATEWAY_JSON_TESTING_H_
#define GEO_HTTP_GATEWAY_JSON_TESTING_H_

#include <memory>
#include <string>
#include <vector>

#include "api/geo/v1/geo.pb.h"
#include "google/protobuf/message.h"

namespace geo::http {

// What protobuf's own C++ printer writes with always_print_primitive_fields
// (the mapping's names, defaults, int64 as strings, enums by name).
std::string CppPrinterJson(const google::protobuf::Message& message);

// Checks MessageToGatewayJson against the C++ printer plus the protojson
// rules, parsed (every member and value) and byte for byte once the `null`
// members are taken out (member order, number and string forms). A map's
// keys are compared byte for byte only when it has one entry: the C++
// printer keeps a map's own order, protojson sorts the keys.
void ExpectProtojson(const google::protobuf::Message& message);

// A City + ISP + Anonymous-IP answer with every field set.
geo::v1::LookupResponse FullLookupResponse();

// One or more messages of each type the HTTP surface answers with (the
// geo.v1 responses, the /v1/authorize decision, google.rpc.Status with a
// detail), empty and filled in, and a policy file (a map of messages and
// repeated fields, which no response has).
std::vector<std::unique_ptr<google::protobuf::Message>> HttpAnswerSamples();

}  // namespace geo::http

#endif  // GEO_HTTP_GATEWAY_JSON_TESTING_H_
