// GeoServer: the whole service, wired from ServerOptions — databases and their
// watchers, the policy and its watcher, the gRPC and HTTP front ends, metrics,
// health — with the start-up and graceful shutdown sequences.
#ifndef GEO_SERVER_GEO_SERVER_H_
#define GEO_SERVER_GEO_SERVER_H_

#include <atomic>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "geo/common/clock.h"
#include "geo/common/polling_watcher.h"
#include "geo/data/geo_store.h"
#include "geo/http/http_server.h"
#include "geo/http/router.h"
#include "geo/policy/policy_store.h"
#include "geo/server/accept_stall_check.h"
#include "geo/server/caller_address.h"
#include "geo/server/grpc_service.h"
#include "geo/server/lookup_service.h"
#include "geo/server/server_metrics.h"
#include "geo/server/server_options.h"
#include "geo/server/server_ports.h"
#include "geo/server/server_tls.h"
#include "grpcpp/server.h"
#include "prometheus/collectable.h"

namespace geo {

class GeoServer {
 public:
  // Loads the databases (a missing or bad one is logged, and the server starts
  // anyway, not ready, until its watcher loads a good file), loads the policy
  // (a bad policy is an error: failing open would allow everything), starts
  // the watchers and the listeners, and logs "Serving" with the bound ports.
  // `clock` is not owned and must outlive the server.
  static absl::StatusOr<std::unique_ptr<GeoServer>> Start(
      const ServerOptions& options, Clock* clock);

  // Shuts down (without the drain delay) if Shutdown was not called.
  ~GeoServer();

  GeoServer(const GeoServer&) = delete;
  GeoServer& operator=(const GeoServer&) = delete;

  // Ready: every database loaded and not shutting down.
  bool ready() const;

  // The graceful shutdown, each step logged: readiness false and gRPC health
  // NOT_SERVING; wait the drain delay (load balancers notice); stop accepting
  // and drain in-flight calls until the shutdown timeout; stop the watchers;
  // close the databases. Idempotent.
  void Shutdown();

 private:
  class Observer;

  GeoServer(const ServerOptions& options, Clock* clock);
  // The start-up sequence: the steps below, in the order they are declared.
  absl::Status Init();

  // The registry, ServerMetrics and the observer the data watchers report to.
  void CreateMetrics();
  // The trusted proxies and client-IP headers; a bad setting is an error.
  absl::Status CreateCallerResolver();
  // The GeoStore and one watcher per database file. A missing or bad file is
  // not an error: the server starts not ready until its watcher loads it.
  void LoadDatabases();
  // The policy file, if set; unreadable or invalid at start is an error.
  absl::Status LoadPolicies();
  // The local overrides file, if set; unreadable or invalid at start is an
  // error.
  absl::Status LoadOverrides();
  void CreateLookupService();
  // The certificate set shared by every listener, if TLS is configured.
  absl::Status LoadTls();
  // gRPC with health (NOT_SERVING until ready) and reflection.
  absl::Status StartGrpcListener();
  // The HTTP/JSON routes (http_routes.h) on the API port.
  absl::Status StartHttpListener();
  // /metrics in the Prometheus text format on its own port.
  absl::Status StartMetricsListener();
  // /healthz and /readyz on their own listener (ServerOptions::health_port).
  absl::Status StartHealthListener();
  // Starts the polling threads of the watchers and of the TLS files, after
  // the first loads the steps above made themselves.
  void StartWatching();
  // The poll interval, clock and observer every watcher shares.
  PollingWatcherOptions WatcherOptions() const;

  void UpdateHealth();
  void StopListeners(absl::Time deadline);

  // The health listener's caps: probes need a connection or two; one peer
  // may hold at most a few, so a flood from one pod cannot take them all.
  static constexpr int kHealthMaxConnections = 256;
  static constexpr int kHealthMaxConnectionsPerPeer = 8;

  const ServerOptions options_;
  Clock* const clock_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> shut_down_{false};

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ServerMetrics> metrics_;
  // Before the listeners: they serve its certificates until they stop.
  std::unique_ptr<ServerTls> tls_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<GeoStore> store_;
  std::unique_ptr<policy::PolicyStore> policies_;
  std::unique_ptr<CallerResolver> callers_;
  std::unique_ptr<LookupService> lookup_service_;
  std::unique_ptr<GrpcGeoService> grpc_service_;
  std::unique_ptr<http::Router> router_;
  std::vector<std::unique_ptr<PollingWatcher>> watchers_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<http::HttpServer> http_server_;
  std::shared_ptr<prometheus::Collectable> scrape_target_;
  std::unique_ptr<http::Router> metrics_router_;
  std::unique_ptr<http::HttpServer> metrics_server_;
  // Whether the gRPC listener still accepts; the health routes ask it.
  std::unique_ptr<AcceptStallCheck> grpc_accept_check_;
  std::unique_ptr<http::Router> health_router_;
  std::unique_ptr<http::HttpServer> health_server_;
  // What the listeners bound, for the "Serving" log line.
  ServerPorts ports_;
};

}  // namespace geo

#endif  // GEO_SERVER_GEO_SERVER_H_
