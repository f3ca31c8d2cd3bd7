#include "geo/server/grpc_service.h"

#include <string>

#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"

namespace geo {
namespace {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// The call's origin (peer and x-forwarded-for metadata, as grpc-gateway
// forwards them); views `peer` and the context's metadata.
CallOrigin OriginOf(grpc::CallbackServerContext* context,
                    const std::string& peer) {
  CallOrigin origin;
  origin.protocol = Protocol::kGrpc;
  origin.peer = peer;
  auto [first, last] =
      context->client_metadata().equal_range("x-forwarded-for");
  for (auto it = first; it != last; ++it) {
    origin.forwarded_for.emplace_back(it->second.data(), it->second.size());
  }
  return origin;
}

// Runs `method` with the call's origin and finishes the call.
template <typename Request, typename Response>
grpc::ServerUnaryReactor* Serve(
    const LookupService* service,
    absl::Status (LookupService::*method)(const CallOrigin&, const Request&,
                                          Response*) const,
    grpc::CallbackServerContext* context, const Request* request,
    Response* response) {
  const std::string peer = context->peer();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(
      (service->*method)(OriginOf(context, peer), *request, response)));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* GrpcGeoService::Lookup(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  geo::v1::LookupRequest request;
  // Deserializing consumes the buffer; the copy shares its slices.
  grpc::ByteBuffer request_copy(*request_bytes);
  if (!grpc::SerializationTraits<geo::v1::LookupRequest>::Deserialize(
           &request_copy, &request)
           .ok()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "request is not a geo.v1.LookupRequest"));
    return reactor;
  }
  const std::string peer = context->peer();
  absl::StatusOr<LookupAnswer> answer =
      service_->Answer(OriginOf(context, peer), request);
  if (!answer.ok()) {
    reactor->Finish(ToGrpcStatus(answer.status()));
    return reactor;
  }
  std::string wire;
  answer->AppendWire(&wire);
  grpc::Slice slice(wire);
  *response_bytes = grpc::ByteBuffer(&slice, 1);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* GrpcGeoService::BatchLookup(
    grpc::CallbackServerContext* context,
    const geo::v1::BatchLookupRequest* request,
    geo::v1::BatchLookupResponse* response) {
  return Serve(service_, &LookupService::BatchLookup, context, request,
               response);
}

grpc::ServerUnaryReactor* GrpcGeoService::Check(
    grpc::CallbackServerContext* context, const geo::v1::CheckRequest* request,
    geo::v1::CheckResponse* response) {
  return Serve(service_, &LookupService::Check, context, request, response);
}

grpc::ServerUnaryReactor* GrpcGeoService::ListDatabases(
    grpc::CallbackServerContext* context,
    const geo::v1::ListDatabasesRequest* request,
    geo::v1::ListDatabasesResponse* response) {
  return Serve(service_, &LookupService::ListDatabases, context, request,
               response);
}

}  // namespace geo
