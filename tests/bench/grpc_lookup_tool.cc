// gRPC helper for tools/bench.sh.
//
//   grpc_lookup_tool frame IP FILE
//     Writes a LookupRequest for IP as one gRPC length-prefixed message (the
//     request body h2load sends with -d).
//   grpc_lookup_tool check HOST:PORT IP...
//     Real gRPC Lookup calls; prints one line per call and exits non-zero
//     unless every call returns OK with a record. h2load counts HTTP/2
//     responses and never reads grpc-status, so this is the correctness
//     check of the gRPC load runs.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "api/geo/v1/geo.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

int Frame(const std::string& ip, const std::string& path) {
  geo::v1::LookupRequest request;
  request.set_ip(ip);
  const std::string message = request.SerializeAsString();
  const uint32_t size = static_cast<uint32_t>(message.size());
  // Compressed flag, then the big-endian length (gRPC over HTTP/2 framing).
  const char prefix[5] = {
      0, static_cast<char>(size >> 24), static_cast<char>(size >> 16),
      static_cast<char>(size >> 8), static_cast<char>(size)};
  std::ofstream out(path, std::ios::binary);
  out.write(prefix, sizeof prefix);
  out.write(message.data(), static_cast<std::streamsize>(message.size()));
  return out ? 0 : 1;
}

int Check(const std::string& target, int count, char** ips) {
  auto stub = geo::v1::GeoService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  int failures = 0;
  for (int i = 0; i < count; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    geo::v1::LookupRequest request;
    request.set_ip(ips[i]);
    geo::v1::LookupResponse response;
    const grpc::Status status = stub->Lookup(&context, request, &response);
    const bool ok = status.ok() && response.found();
    failures += ok ? 0 : 1;
    std::printf(
        "%s %s grpc-status=%d country=%s network=%s\n", ok ? "ok" : "FAIL",
        ips[i], static_cast<int>(status.error_code()),
        response.country().iso_code().c_str(), response.network().c_str());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "frame" && argc == 4) return Frame(argv[2], argv[3]);
  if (mode == "check" && argc >= 4) return Check(argv[2], argc - 3, argv + 3);
  std::fprintf(
      stderr,
      "usage: grpc_lookup_tool frame IP FILE | check HOST:PORT IP...\n");
  return 2;
}
