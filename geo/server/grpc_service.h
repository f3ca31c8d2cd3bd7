// The gRPC surface of geo.v1 (callback API): translates transport to
// LookupService and back. Handlers never block.
#ifndef GEO_SERVER_GRPC_SERVICE_H_
#define GEO_SERVER_GRPC_SERVICE_H_

#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/server/lookup_service.h"

namespace geo {

// Lookup, the hot path, is a raw method: its response is written as bytes,
// the cached record's wire format followed by the per-lookup fields
// (LookupAnswer::AppendWire), so no message is built or serialized per call.
// Clients see an ordinary geo.v1.LookupResponse.
using GrpcGeoServiceBase = geo::v1::GeoService::WithRawCallbackMethod_Lookup<
    geo::v1::GeoService::WithCallbackMethod_BatchLookup<
        geo::v1::GeoService::WithCallbackMethod_Check<
            geo::v1::GeoService::WithCallbackMethod_ListDatabases<
                geo::v1::GeoService::Service>>>>;

class GrpcGeoService final : public GrpcGeoServiceBase {
 public:
  // The synchronous signatures stay the generated ones (they abort: every
  // method here is a callback method).
  using GrpcGeoServiceBase::BatchLookup;
  using GrpcGeoServiceBase::Check;
  using GrpcGeoServiceBase::ListDatabases;
  using GrpcGeoServiceBase::Lookup;

  // `service` must outlive this object. With `read_client_identity` (the
  // listener asks for client certificates), Check hands the verified client
  // certificate's names to the policy; without it no call reads the
  // AuthContext.
  GrpcGeoService(const LookupService* service, bool read_client_identity)
      : service_(service), read_client_identity_(read_client_identity) {}

  grpc::ServerUnaryReactor* Lookup(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* BatchLookup(
      grpc::CallbackServerContext* context,
      const geo::v1::BatchLookupRequest* request,
      geo::v1::BatchLookupResponse* response) override;
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const geo::v1::CheckRequest* request,
                                  geo::v1::CheckResponse* response) override;
  grpc::ServerUnaryReactor* ListDatabases(
      grpc::CallbackServerContext* context,
      const geo::v1::ListDatabasesRequest* request,
      geo::v1::ListDatabasesResponse* response) override;

 private:
  const LookupService* service_;
  const bool read_client_identity_;
};

}  // namespace geo

#endif  // GEO_SERVER_GRPC_SERVICE_H_
