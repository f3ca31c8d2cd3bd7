#include "geo/server/grpc_service.h"

#include <string>

namespace geo {
namespace {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// Runs `method` with the call's origin (peer and x-forwarded-for metadata, as
// grpc-gateway forwards them) and finishes the call.
template <typename Request, typename Response>
grpc::ServerUnaryReactor* Serve(
    const LookupService* service,
    absl::Status (LookupService::*method)(const CallOrigin&, const Request&,
                                          Response*) const,
    grpc::CallbackServerContext* context, const Request* request,
    Response* response) {
  const std::string peer = context->peer();
  CallOrigin origin;
  origin.protocol = Protocol::kGrpc;
  origin.peer = peer;
  auto [first, last] =
      context->client_metadata().equal_range("x-forwarded-for");
  for (auto it = first; it != last; ++it) {
    origin.forwarded_for.emplace_back(it->second.data(), it->second.size());
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus((service->*method)(origin, *request, response)));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* GrpcGeoService::Lookup(
    grpc::CallbackServerContext* context, const geo::v1::LookupRequest* request,
    geo::v1::LookupResponse* response) {
  return Serve(service_, &LookupService::Lookup, context, request, response);
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
