// The gRPC surface of geo.v1 (callback API): translates transport to
// LookupService and back. Handlers never block.
#ifndef GEO_SERVER_GRPC_SERVICE_H_
#define GEO_SERVER_GRPC_SERVICE_H_

#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/server/lookup_service.h"

namespace geo {

class GrpcGeoService final : public geo::v1::GeoService::CallbackService {
 public:
  // `service` must outlive this object.
  explicit GrpcGeoService(const LookupService* service) : service_(service) {}

  grpc::ServerUnaryReactor* Lookup(grpc::CallbackServerContext* context,
                                   const geo::v1::LookupRequest* request,
                                   geo::v1::LookupResponse* response) override;
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
};

}  // namespace geo

#endif  // GEO_SERVER_GRPC_SERVICE_H_
