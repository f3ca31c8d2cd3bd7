#include "tests/e2e/load_clients.h"

#include "absl/time/clock.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/http/test_http_client.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace geo::testing {

void HttpLookupLoop(const ServerProcess& server,
                    const LookupExpectation& expect,
                    const std::atomic<bool>& stop, Outcomes* outcomes) {
  http::CurlClient http;
  const std::string url = server.http_url("/v1/lookup/" + expect.address);
  while (!stop.load()) {
    auto response = http.Get(url);
    if (!response.ok()) {
      outcomes->Failure(std::string(response.status().message()));
      absl::SleepFor(absl::Milliseconds(5));
      continue;
    }
    geo::v1::LookupResponse looked_up;
    bool parsed =
        google::protobuf::util::JsonStringToMessage(response->body, &looked_up)
            .ok();
    if (response->status == 200 && parsed &&
        looked_up.country().iso_code() == expect.country) {
      outcomes->Ok();
    } else {
      outcomes->Failed(
          absl::StrCat("HTTP ", response->status, " ", response->body));
    }
  }
}

std::unique_ptr<geo::v1::GeoService::Stub> GeoStub(
    const ServerProcess& server) {
  return geo::v1::GeoService::NewStub(grpc::CreateChannel(
      server.grpc_target(), grpc::InsecureChannelCredentials()));
}

grpc::Status GrpcLookup(geo::v1::GeoService::Stub& stub, const std::string& ip,
                        geo::v1::LookupResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  geo::v1::LookupRequest request;
  request.set_ip(ip);
  return stub.Lookup(&context, request, response);
}

void GrpcLookupLoop(const ServerProcess& server,
                    const LookupExpectation& expect,
                    const std::atomic<bool>& stop, Outcomes* outcomes) {
  std::unique_ptr<geo::v1::GeoService::Stub> stub = GeoStub(server);
  while (!stop.load()) {
    geo::v1::LookupResponse response;
    grpc::Status status = GrpcLookup(*stub, expect.address, &response);
    if (status.ok() && response.country().iso_code() == expect.country) {
      outcomes->Ok();
    } else {
      outcomes->Failure(absl::StrCat("gRPC ", status.error_code(), " ",
                                     status.error_message()));
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
}

std::vector<std::thread> StartLookupClients(const ServerProcess& server,
                                            const LookupExpectation& expect,
                                            int per_protocol,
                                            const std::atomic<bool>& stop,
                                            Outcomes* outcomes) {
  std::vector<std::thread> clients;
  for (int i = 0; i < per_protocol; ++i) {
    clients.emplace_back([&server, expect, &stop, outcomes] {
      HttpLookupLoop(server, expect, stop, outcomes);
    });
    clients.emplace_back([&server, expect, &stop, outcomes] {
      GrpcLookupLoop(server, expect, stop, outcomes);
    });
  }
  return clients;
}

}  // namespace geo::testing
