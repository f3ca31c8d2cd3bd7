// The body of POST /v1/lookup:batch through the gateway's JSON parser.
// Oracle: a rejected body is INVALID_ARGUMENT (a 400, never a 500); an
// accepted one prints back to JSON that parses to the same message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  geo::v1::BatchLookupRequest request;
  absl::Status status = geo::http::GatewayJsonToMessage(body, &request);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
               status.ToString());
    return 0;
  }
  const std::string json = geo::http::MessageToGatewayJson(request);
  geo::v1::BatchLookupRequest again;
  status = geo::http::GatewayJsonToMessage(json, &again);
  FUZZ_CHECK(status.ok(), status.ToString() + " for " + json);
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(request, again),
             json);
  return 0;
}
