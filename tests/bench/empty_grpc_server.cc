// The gRPC ceiling for tools/bench.sh: geo.v1.GeoService with handlers that
// answer at once with an empty message, on gRPC's default callback-server
// settings (the same ServerBuilder defaults geo_server uses). Whatever
// geo_server's Lookup reaches as a fraction of this is the cost of the lookup
// itself, not of gRPC.
//
//   empty_grpc_server --listen=127.0.0.1:0 --seconds=60
//
// Prints "port N" once listening; exits after --seconds (so a benchmark run
// can never leave it behind) or on SIGTERM/SIGINT.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "api/geo/v1/geo.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

class EmptyGeoService final : public geo::v1::GeoService::CallbackService {
  grpc::ServerUnaryReactor* Lookup(grpc::CallbackServerContext* context,
                                   const geo::v1::LookupRequest*,
                                   geo::v1::LookupResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  int seconds = 60;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--listen=", 9) == 0) listen = argv[i] + 9;
    if (std::strncmp(argv[i], "--seconds=", 10) == 0) {
      seconds = std::atoi(argv[i] + 10);
    }
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EmptyGeoService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::printf("port %d\n", port);
  std::fflush(stdout);
  alarm(static_cast<unsigned>(seconds));
  int received = 0;
  sigwait(&signals, &received);
  server->Shutdown();
  return 0;
}
