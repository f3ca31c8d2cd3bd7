#include "geo/http/gateway.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"

namespace geo::http {

int HttpStatusFromGrpcCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnknown:
      return 500;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kInternal:
      return 500;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDataLoss:
      return 500;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    default:
      return 500;
  }
}

int HttpStatusFromGrpcCode(grpc::StatusCode code) {
  // gRPC and absl share the numbering of the canonical codes.
  return HttpStatusFromGrpcCode(static_cast<absl::StatusCode>(code));
}

std::string GatewayErrorBody(absl::StatusCode code, absl::string_view message) {
  google::rpc::Status status;
  status.set_code(static_cast<int32_t>(code));
  status.set_message(std::string(message));
  return MessageToGatewayJson(status);
}

std::string GatewayErrorBody(const absl::Status& status) {
  return GatewayErrorBody(status.code(), status.message());
}

std::string MessageToGatewayJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = false;
  std::string json;
  // Printing a valid in-memory message only fails for Any with an unknown
  // type; the API has none, so a failure here is a programming error.
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return GatewayErrorBody(absl::StatusCode::kInternal,
                            "failed to encode response as JSON");
  }
  return json;
}

absl::Status GatewayJsonToMessage(absl::string_view body,
                                  google::protobuf::Message* message) {
  message->Clear();
  if (body.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return absl::OkStatus();
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), message,
      options);
  if (!status.ok()) {
    message->Clear();
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid JSON request body: ", status.message().ToString()));
  }
  return absl::OkStatus();
}

}  // namespace geo::http
