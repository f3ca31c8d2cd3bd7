#include "geo/server/grpc_service.h"

#include <memory>
#include <string>
#include <vector>

#include "geo/server/client_identity_check.h"
#include "geo/tls/peer_identity.h"
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

// A call's metadata as forwarding headers (grpc-gateway forwards the
// client's address as x-forwarded-for); keys are lower case in gRPC.
class MetadataHeaders final : public ForwardingHeaders {
 public:
  explicit MetadataHeaders(const grpc::CallbackServerContext* context)
      : context_(context) {}
  void Get(absl::string_view name,
           std::vector<absl::string_view>* values) const override {
    auto [first, last] = context_->client_metadata().equal_range(
        grpc::string_ref(name.data(), name.size()));
    for (auto it = first; it != last; ++it) {
      values->emplace_back(it->second.data(), it->second.size());
    }
  }

 private:
  const grpc::CallbackServerContext* context_;
};

// The call's origin; views `peer`, `headers` and the context's metadata.
CallOrigin OriginOf(const std::string& peer, const MetadataHeaders* headers) {
  CallOrigin origin;
  origin.protocol = Protocol::kGrpc;
  origin.peer = peer;
  origin.headers = headers;
  return origin;
}

// Runs `method` with the call's origin and finishes the call. With
// `read_client_identity`, the origin carries the verified client
// certificate's names (read from the AuthContext, so only when asked).
template <typename Request, typename Response>
grpc::ServerUnaryReactor* Serve(
    const LookupService* service,
    absl::Status (LookupService::*method)(const CallOrigin&, const Request&,
                                          Response*) const,
    grpc::CallbackServerContext* context, const Request* request,
    Response* response, bool read_client_identity = false) {
  const std::string peer = context->peer();
  const MetadataHeaders headers(context);
  CallOrigin origin = OriginOf(peer, &headers);
  tls::PeerIdentity identity;
  if (read_client_identity) {
    if (const std::shared_ptr<const grpc::AuthContext> auth =
            context->auth_context();
        auth != nullptr) {
      identity = GrpcClientIdentity(*auth);
    }
    if (!identity.empty()) origin.client_identity = &identity;
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus((service->*method)(origin, *request, response)));
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
  const MetadataHeaders headers(context);
  absl::StatusOr<LookupAnswer> answer =
      service_->Answer(OriginOf(peer, &headers), request);
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
  return Serve(service_, &LookupService::Check, context, request, response,
               read_client_identity_);
}

grpc::ServerUnaryReactor* GrpcGeoService::ListDatabases(
    grpc::CallbackServerContext* context,
    const geo::v1::ListDatabasesRequest* request,
    geo::v1::ListDatabasesResponse* response) {
  return Serve(service_, &LookupService::ListDatabases, context, request,
               response);
}

}  // namespace geo
