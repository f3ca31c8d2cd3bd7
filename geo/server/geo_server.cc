#include "geo/server/geo_server.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "geo/common/cpu_budget.h"
#include "geo/common/logging.h"
#include "geo/common/status_macros.h"
#include "geo/data/overrides.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "geo/server/http_routes.h"
#include "geo/server/policy_data.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "prometheus/text_serializer.h"

namespace geo {
namespace {

// Threads gRPC may run for its synchronous services (server reflection: each
// open ServerReflectionInfo stream holds one for its lifetime, idle or not).
// Without a cap, any client could open thousands of streams and make the
// server start a thread for each; past it, a new reflection call fails with
// RESOURCE_EXHAUSTED. The API and health services use the callback API and
// are not counted.
constexpr int kGrpcSyncServiceThreads = 16;
// Streams one gRPC connection may have open at once (HTTP/2
// SETTINGS_MAX_CONCURRENT_STREAMS; gRPC's default is unlimited). Each open
// stream keeps about 13 KB on the server even before its request arrives,
// so without a limit one connection holding tens of thousands of streams
// grows the heap by hundreds of MB; HTTP/2 clients queue streams past the
// limit. It bounds one connection only: this gRPC has no limit on the
// number of connections.
constexpr int kGrpcMaxConcurrentStreams = 100;

std::string HostPort(const std::string& host, int port) {
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

}  // namespace

// Turns data-lifecycle events into metrics and health changes.
class GeoServer::Observer final : public GeoStoreObserver,
                                  public PollingWatcherObserver {
 public:
  explicit Observer(GeoServer* server) : server_(server) {}

  void OnReload(const std::string& path, const absl::Status& status,
                const Database* database, absl::Duration duration) override {
    (void)path;
    (void)duration;
    if (status.ok() && database != nullptr) {
      server_->metrics_->RecordDatabaseReload(database->type(),
                                              database->build_time(), true);
    } else {
      server_->metrics_->RecordDatabaseReloadFailure();
    }
    server_->UpdateHealth();
  }

  void OnRecordDecodeFailure(RecordDecodeFailure failure) override {
    server_->metrics_->RecordDecodeFailure(RecordDecodeFailureName(failure));
  }

  void OnOverrideHit() override { server_->metrics_->RecordOverrideHit(); }

  void OnRejected(const std::string& path,
                  const absl::Status& status) override {
    (void)path;
    (void)status;
    server_->metrics_->RecordWatcherError("rejected");
  }

  void OnError(const std::string& path, const absl::Status& status) override {
    (void)path;
    (void)status;
    server_->metrics_->RecordWatcherError("stat");
  }

 private:
  GeoServer* server_;
};

GeoServer::GeoServer(const ServerOptions& options, Clock* clock)
    : options_(options), clock_(clock) {}

absl::StatusOr<std::unique_ptr<GeoServer>> GeoServer::Start(
    const ServerOptions& options, Clock* clock) {
  std::unique_ptr<GeoServer> server(new GeoServer(options, clock));
  absl::Status status = server->Init();
  if (!status.ok()) return status;
  return server;
}

absl::Status GeoServer::Init() {
  SetMinLogLevel(options_.log_level);
  CreateMetrics();
  GEO_RETURN_IF_ERROR(CreateCallerResolver());
  LoadDatabases();
  GEO_RETURN_IF_ERROR(LoadPolicies());
  GEO_RETURN_IF_ERROR(LoadOverrides());
  CreateLookupService();
  GEO_RETURN_IF_ERROR(LoadTls());
  GEO_RETURN_IF_ERROR(StartGrpcListener());
  GEO_RETURN_IF_ERROR(StartHttpListener());
  GEO_RETURN_IF_ERROR(StartMetricsListener());
  GEO_RETURN_IF_ERROR(StartHealthListener());
  StartWatching();
  Log(LogLevel::kInfo, "Serving",
      {{"grpc_port", ports_.grpc},
       {"http_port", ports_.http},
       {"metrics_port", ports_.metrics},
       {"health_port", ports_.health},
       {"listen_address", options_.listen_address},
       {"ready", ready()}});
  return absl::OkStatus();
}

PollingWatcherOptions GeoServer::WatcherOptions() const {
  PollingWatcherOptions watch;
  watch.interval = options_.poll_interval;
  watch.clock = clock_;
  watch.observer = observer_.get();
  return watch;
}

void GeoServer::CreateMetrics() {
  registry_ = std::make_shared<prometheus::Registry>();
  metrics_ = std::make_unique<ServerMetrics>(registry_, clock_);
  observer_ = std::make_unique<Observer>(this);
}

absl::Status GeoServer::CreateCallerResolver() {
  GEO_ASSIGN_OR_RETURN(CallerResolver callers,
                       CallerResolver::Create(options_.trusted_proxies,
                                              options_.client_ip_headers));
  callers_ = std::make_unique<CallerResolver>(std::move(callers));
  return absl::OkStatus();
}

void GeoServer::LoadDatabases() {
  // Databases: a file that is missing or bad at start is not fatal. The
  // updater's initContainer may still be writing it, or an operator is about
  // to drop it in; readiness stays false until its watcher loads it. Each
  // watcher makes the first load itself (LoadNow), so a file replaced right
  // after it, before the polling thread first runs, is still seen as new.
  GeoStoreOptions store_options;
  store_options.paths = options_.db_paths;
  store_options.allow_type_change = options_.allow_type_change;
  store_options.observer = observer_.get();
  store_ = std::make_unique<GeoStore>(store_options);
  for (const std::string& path : options_.db_paths) {
    PollingWatcherOptions watch = WatcherOptions();
    watch.reloaded_message = "";  // GeoStore logs "Database reloaded".
    // Reloads yield to lookups on a busy core (see PollingWatcherOptions).
    watch.nice = 10;
    GeoStore* store = store_.get();
    watchers_.push_back(std::make_unique<PollingWatcher>(
        path, [store](const std::string& path) { return store->Reload(path); },
        watch));
    // GeoStore logged and counted a failure; the watcher retries it.
    watchers_.back()->LoadNow().IgnoreError();
  }
}

absl::Status GeoServer::LoadPolicies() {
  // The policy: an unreadable or invalid file at start is an error, because
  // starting without it would allow everything the operator meant to deny.
  ServerMetrics* metrics = metrics_.get();
  policies_ = std::make_unique<policy::PolicyStore>(
      [metrics](absl::string_view policy_name) {
        return metrics->DecisionCounterFor(policy_name);
      });
  if (options_.policy_path.empty()) return absl::OkStatus();
  PollingWatcherOptions watch = WatcherOptions();
  watch.reloaded_message = "Policy reloaded";
  policy::PolicyStore* policies = policies_.get();
  const GeoStore* store = store_.get();
  watchers_.push_back(std::make_unique<PollingWatcher>(
      options_.policy_path,
      [policies, metrics, store](const std::string& path) {
        absl::Status status = policies->Reload(path);
        metrics->RecordPolicyReload(status.ok());
        if (!status.ok()) {
          Log(LogLevel::kError, "Policy reload failed; keeping the old one",
              {{"path", path}, {"error", status}});
        } else {
          WarnAboutMissingPolicyData(path, *policies->Current(),
                                     store->Databases());
        }
        return status;
      },
      watch));
  GEO_RETURN_IF_ERROR(watchers_.back()->LoadNow());
  const std::shared_ptr<const policy::PolicySet> loaded = policies_->Current();
  Log(LogLevel::kInfo, "Policy loaded",
      {{"path", options_.policy_path},
       {"policies", static_cast<int>(loaded->policies().size())},
       {"routes", static_cast<int>(loaded->route_count())},
       {"default_policy", loaded->default_policy().name()}});
  WarnAboutMissingPolicyData(options_.policy_path, *loaded,
                             store_->Databases());
  return absl::OkStatus();
}

absl::Status GeoServer::LoadOverrides() {
  // Local overrides: like the policy, a bad file at start is an error (the
  // operator's corrections would silently not apply); a bad file later is
  // logged and counted, and the previous overrides stay in force.
  if (options_.overrides_path.empty()) return absl::OkStatus();
  ServerMetrics* metrics = metrics_.get();
  PollingWatcherOptions watch = WatcherOptions();
  watch.reloaded_message = "";  // Logged below, with the entry count.
  GeoStore* store = store_.get();
  watchers_.push_back(std::make_unique<PollingWatcher>(
      options_.overrides_path,
      [store, metrics](const std::string& path) -> absl::Status {
        absl::StatusOr<std::shared_ptr<const Overrides>> overrides =
            Overrides::FromFile(path);
        if (!overrides.ok()) {
          metrics->RecordOverridesReload(false, 0);
          Log(LogLevel::kError, "Overrides reload failed; keeping the old ones",
              {{"path", path}, {"error", overrides.status()}});
          return overrides.status();
        }
        const size_t entries = (*overrides)->size();
        store->SetOverrides(*std::move(overrides));
        metrics->RecordOverridesReload(true, entries);
        Log(LogLevel::kInfo, "Overrides loaded",
            {{"path", path}, {"entries", static_cast<int>(entries)}});
        return absl::OkStatus();
      },
      watch));
  return watchers_.back()->LoadNow();
}

void GeoServer::CreateLookupService() {
  LookupService::Options service_options;
  service_options.max_batch_size = options_.max_batch_size;
  lookup_service_ = std::make_unique<LookupService>(
      store_.get(), policies_.get(), callers_.get(), metrics_.get(), clock_,
      service_options);
}

absl::Status GeoServer::LoadTls() {
  // TLS: one certificate set for gRPC, HTTP and (optionally) metrics; a bad
  // set at start is an error, a bad set later keeps the one in force.
  ServerTlsSettings tls_settings;
  tls_settings.tls = options_.tls;
  tls_settings.grpc_client_identities = options_.grpc_client_identities;
  tls_settings.http_client_identities = options_.http_client_identities;
  tls_settings.metrics_tls = options_.metrics_tls;
  GEO_ASSIGN_OR_RETURN(tls_,
                       ServerTls::Create(tls_settings, *registry_, clock_));
  return absl::OkStatus();
}

absl::Status GeoServer::StartGrpcListener() {
  // gRPC: health (NOT_SERVING until ready) and reflection.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc_service_ = std::make_unique<GrpcGeoService>(
      lookup_service_.get(),
      tls_ != nullptr && tls_->asks_for_client_certificates());
  grpc::ServerBuilder builder;
  grpc::ResourceQuota quota("geo-grpc");
  quota.SetMaxThreads(kGrpcSyncServiceThreads);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             kGrpcMaxConcurrentStreams);
  // Whole milliseconds, at least one (the setting is any positive duration).
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(options_.grpc_handshake_timeout), 1,
          std::numeric_limits<int>::max())));
  builder.AddListeningPort(
      HostPort(options_.listen_address, options_.grpc_port),
      tls_ != nullptr ? tls_->GrpcCredentials()
                      : grpc::InsecureServerCredentials(),
      &ports_.grpc);
  builder.RegisterService(grpc_service_.get());
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || ports_.grpc == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ",
                     HostPort(options_.listen_address, options_.grpc_port)));
  }
  UpdateHealth();
  return absl::OkStatus();
}

absl::Status GeoServer::StartHttpListener() {
  ForwardAuthOptions forward_auth;
  forward_auth.header_prefix = options_.edge_header_prefix;
  GEO_ASSIGN_OR_RETURN(router_, BuildHttpRoutes(
                                    lookup_service_.get(),
                                    [this] { return ready(); }, forward_auth));
  http::HttpServerOptions http_options;
  http_options.address = options_.listen_address;
  http_options.port = static_cast<uint16_t>(options_.http_port);
  if (options_.http_threads > 0) {
    http_options.io_threads = options_.http_threads;
  } else {
    // One io thread per CPU this process may use: its affinity mask and
    // cgroup quota, not the node's core count.
    const CpuBudget cpus = ComputeCpuBudget(ProcessCpuBudgetSources());
    http_options.io_threads = cpus.cpus;
    Log(LogLevel::kInfo, "HTTP threads from the CPU budget",
        {{"threads", cpus.cpus}, {"source", cpus.source}});
  }
  http_options.max_header_bytes =
      static_cast<uint32_t>(options_.http_max_header_bytes);
  http_options.max_body_bytes =
      static_cast<uint64_t>(options_.http_max_body_bytes);
  http_options.max_connections = options_.http_max_connections;
  http_options.idle_timeout = options_.http_idle_timeout;
  http_options.request_timeout = options_.http_request_timeout;
  http_options.error_formatter = http::GatewayHttpErrorBody;
  if (tls_ != nullptr) {
    http_options.tls.certificates = tls_->reloader();
    http_options.tls.allowed_clients = tls_->http_allowed();
    http_options.tls.metrics = tls_->metrics();
    http_options.tls.listener = tls::Listener::kHttp;
  }
  GEO_ASSIGN_OR_RETURN(http_server_, http::HttpServer::Start(
                                         http_options, router_->AsHandler()));
  ports_.http = http_server_->port();
  return absl::OkStatus();
}

absl::Status GeoServer::StartMetricsListener() {
  // Prometheus text exposition, on the same HTTP stack as the API (one io
  // thread is plenty for scrapes).
  scrape_target_ = metrics_->ScrapeTarget();
  metrics_router_ = std::make_unique<http::Router>();
  GEO_RETURN_IF_ERROR(metrics_router_->Add(
      "GET", "/metrics",
      [this](const http::HttpRequest&, const http::PathVariables&,
             http::HttpResponse* response) {
        response->set_status(200);
        response->set_content_type("text/plain; version=0.0.4; charset=utf-8");
        response->set_body(
            prometheus::TextSerializer().Serialize(scrape_target_->Collect()));
      }));
  http::HttpServerOptions metrics_options;
  metrics_options.address = options_.listen_address;
  metrics_options.port = static_cast<uint16_t>(options_.metrics_port);
  metrics_options.io_threads = 1;
  metrics_options.error_formatter = http::GatewayHttpErrorBody;
  if (tls_ != nullptr && options_.metrics_tls) {
    metrics_options.tls.certificates = tls_->reloader();
    metrics_options.tls.metrics = tls_->metrics();
    metrics_options.tls.listener = tls::Listener::kMetrics;
  }
  GEO_ASSIGN_OR_RETURN(
      metrics_server_,
      http::HttpServer::Start(metrics_options, metrics_router_->AsHandler()));
  ports_.metrics = metrics_server_->port();
  return absl::OkStatus();
}

void GeoServer::StartWatching() {
  for (auto& watcher : watchers_) watcher->Start();
  if (tls_ != nullptr) tls_->StartWatching(options_.poll_interval, clock_);
}

absl::Status GeoServer::StartHealthListener() {
  // A gRPC listener that stopped accepting (accept_stall_check.h) comes back
  // only with a new process: liveness fails so that the kubelet restarts
  // the pod, and readiness so that traffic leaves it meanwhile.
  AcceptStallCheck::Options stall_options;
  stall_options.name = "gRPC";
  stall_options.port = ports_.grpc;
  stall_options.clock = clock_;
  grpc_accept_check_ = std::make_unique<AcceptStallCheck>(stall_options);
  health_router_ = std::make_unique<http::Router>();
  absl::Status routed = health_router_->Add(
      "GET", "/healthz",
      [this](const http::HttpRequest&, const http::PathVariables&,
             http::HttpResponse* response) {
        if (grpc_accept_check_->Stalled()) {
          response->SetJson(503,
                            "{\"status\":\"gRPC listener stopped accepting\"}");
        } else {
          response->SetJson(200, "{\"status\":\"ok\"}");
        }
      });
  if (!routed.ok()) return routed;
  routed = health_router_->Add(
      "GET", "/readyz",
      [this](const http::HttpRequest&, const http::PathVariables&,
             http::HttpResponse* response) {
        if (ready() && !grpc_accept_check_->Stalled()) {
          response->SetJson(200, "{\"status\":\"ready\"}");
        } else {
          response->SetJson(503, "{\"status\":\"not ready\"}");
        }
      });
  if (!routed.ok()) return routed;
  // Probes open a connection or two per period; the caps keep one peer (a
  // pod flooding the port) from holding the slots the kubelet needs.
  http::HttpServerOptions health_options;
  health_options.address = options_.listen_address;
  health_options.port = static_cast<uint16_t>(options_.health_port);
  health_options.io_threads = 1;
  health_options.max_connections = kHealthMaxConnections;
  health_options.max_connections_per_peer = kHealthMaxConnectionsPerPeer;
  health_options.idle_timeout = absl::Seconds(5);
  health_options.request_timeout = absl::Seconds(2);
  health_options.max_body_bytes = 0;
  health_options.error_formatter = http::GatewayHttpErrorBody;
  absl::StatusOr<std::unique_ptr<http::HttpServer>> health_server =
      http::HttpServer::Start(health_options, health_router_->AsHandler());
  if (!health_server.ok()) return health_server.status();
  health_server_ = *std::move(health_server);
  ports_.health = health_server_->port();
  return absl::OkStatus();
}

bool GeoServer::ready() const {
  return !draining_.load(std::memory_order_acquire) && store_->ready();
}

void GeoServer::UpdateHealth() {
  if (grpc_server_ == nullptr) return;
  grpc_server_->GetHealthCheckService()->SetServingStatus(ready());
}

void GeoServer::StopListeners(absl::Time deadline) {
  // Both front ends drain at once; each stops accepting first.
  std::thread http_stopper([this, deadline] {
    if (http_server_ != nullptr) http_server_->Shutdown(deadline);
  });
  if (grpc_server_ != nullptr) {
    grpc_server_->Shutdown(absl::ToChronoTime(deadline));
  }
  http_stopper.join();
}

void GeoServer::Shutdown() {
  if (shut_down_.exchange(true)) return;
  Log(LogLevel::kInfo, "Shutdown: not ready, health NOT_SERVING",
      {{"drain_delay", options_.drain_delay}});
  draining_.store(true, std::memory_order_release);
  UpdateHealth();

  clock_->WaitFor(options_.drain_delay, nullptr);
  Log(LogLevel::kInfo, "Shutdown: closing listeners, draining in-flight calls",
      {{"timeout", options_.shutdown_timeout}});
  StopListeners(clock_->Now() + options_.shutdown_timeout);

  Log(LogLevel::kInfo, "Shutdown: stopping watchers");
  for (auto& watcher : watchers_) watcher->Stop();
  if (tls_ != nullptr) tls_->StopWatching();

  if (metrics_server_ != nullptr) metrics_server_->Shutdown(clock_->Now());
  if (health_server_ != nullptr) health_server_->Shutdown(clock_->Now());
  Log(LogLevel::kInfo, "Shutdown: closing databases");
  lookup_service_.reset();
  store_.reset();
  Log(LogLevel::kInfo, "Shutdown complete");
}

GeoServer::~GeoServer() {
  if (!shut_down_.load()) {
    draining_.store(true);
    StopListeners(absl::Now());
    for (auto& watcher : watchers_) watcher->Stop();
    if (tls_ != nullptr) tls_->StopWatching();
    if (metrics_server_ != nullptr) metrics_server_->Shutdown(absl::Now());
    if (health_server_ != nullptr) health_server_->Shutdown(absl::Now());
  }
}

}  // namespace geo
