// geo_server: parse options, start the server, wait for SIGTERM/SIGINT, shut
// down gracefully. Everything else lives in //geo/server.
#include <signal.h>

#include <cstdio>

#include "absl/synchronization/mutex.h"
#include "geo/common/clock.h"
#include "geo/common/logging.h"
#include "geo/common/open_file_limit.h"
#include "geo/common/settings.h"
#include "geo/server/geo_server.h"
#include "geo/server/server_options.h"

int main(int argc, char** argv) {
  absl::StatusOr<geo::settings::Resolved<geo::ServerOptions>> resolved =
      geo::ParseServerOptions(argc, argv, geo::settings::ProcessEnvironment());
  if (!resolved.ok()) {
    geo::Log(geo::LogLevel::kError, "Bad configuration",
             {{"error", resolved.status()}});
    return 2;
  }
  if (resolved->help_requested) {
    std::fputs(geo::ServerUsage().c_str(), stdout);
    return 0;
  }
  const geo::ServerOptions& options = resolved->options;

  // abseil's lock-order graph costs every Mutex acquisition a hash lookup
  // (GraphCycles in the gRPC profile, docs/benchmarks.md); our locks are
  // leaves, checked by -Wthread-safety and by the TSan suite instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Connections are descriptors: with the soft limit a launcher left (often
  // 1024), idle connections on one port could fill the table and refuse the
  // kubelet's probes on another.
  absl::StatusOr<geo::OpenFileLimit> files = geo::RaiseAndLogOpenFileLimit();
  if (files.ok() &&
      static_cast<uint64_t>(options.http_max_connections) >= files->soft) {
    geo::Log(geo::LogLevel::kWarn,
             "The open-file limit is below --http_max_connections: HTTP "
             "connections can use every descriptor before the cap refuses "
             "them",
             {{"limit", files->soft},
              {"http_max_connections", options.http_max_connections}});
  }

  // Signals are taken synchronously by this thread: blocked before any other
  // thread exists, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<geo::GeoServer>> server =
      geo::GeoServer::Start(options, geo::Clock::Real());
  if (!server.ok()) {
    geo::Log(geo::LogLevel::kError, "Cannot start",
             {{"error", server.status()}});
    return 1;
  }

  int received = 0;
  sigwait(&signals, &received);
  geo::Log(geo::LogLevel::kInfo, "Signal received",
           {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Shutdown();
  return 0;
}
