#include "updater/cli.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "geo/common/clock.h"
#include "geo/common/logging.h"
#include "geo/common/open_file_limit.h"
#include "geo/common/polling_watcher.h"
#include "geo/common/settings.h"
#include "geo/common/status_macros.h"
#include "geo/tls/certificate_reloader.h"
#include "geo/tls/tls_metrics.h"
#include "prometheus/registry.h"
#include "updater/config.h"
#include "updater/database_validator.h"
#include "updater/http_client.h"
#include "updater/installed_databases.h"
#include "updater/maxmind_source.h"
#include "updater/mirror_server.h"
#include "updater/mirror_source.h"
#include "updater/retry.h"
#include "updater/status_server.h"
#include "updater/updater.h"
#include "updater/updater_metrics.h"

namespace geo::updater {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitConfig = 2;
constexpr int kExitInterrupted = 143;

// Turns SIGTERM and SIGINT into a notification. The signals are blocked in
// every thread (the mask is inherited) and taken synchronously by one thread
// with sigwait, so no work happens in a signal handler.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGUSR2);  // Our own wake-up to stop the thread.
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      while (true) {
        int signal = 0;
        if (sigwait(&set_, &signal) != 0) continue;
        if (signal == SIGUSR2 && stopping_.load()) return;
        if (signal == SIGTERM || signal == SIGINT) {
          Log(LogLevel::kInfo, "Shutting down",
              {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
          if (!cancel_.HasBeenNotified()) cancel_.Notify();
        }
      }
    });
  }
  ~SignalWatcher() {
    stopping_.store(true);
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
  }

  absl::Notification* cancel() { return &cancel_; }

 private:
  sigset_t set_;
  absl::Notification cancel_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

void PrintJson(const std::vector<EditionSummary>& editions) {
  std::string line = SummaryJson(editions) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

HttpClientOptions HttpOptionsFrom(const UpdaterOptions& options) {
  HttpClientOptions http;
  http.connect_timeout = options.connect_timeout;
  http.total_timeout = options.timeout;
  http.low_speed_time = options.low_speed_time;
  http.max_body_bytes = options.max_download_bytes;
  http.ca_bundle = options.ca_bundle;
  http.proxy = options.proxy;
  http.proxy_user_password = options.proxy_user_password;
  return http;
}

BackoffPolicy BackoffPolicyFrom(const UpdaterOptions& options) {
  BackoffPolicy policy;
  policy.max_attempts = options.retries;
  policy.initial_delay = options.backoff_initial;
  policy.max_delay = options.backoff_max;
  if (options.retry_for > absl::ZeroDuration()) {
    policy.retry_for = options.retry_for;
  }
  return policy;
}

// MaxMind, or the mirror when --mirror_url is set.
std::unique_ptr<DatabaseSource> MakeSource(const UpdaterOptions& options,
                                           const SourceContext& context) {
  if (options.mirror_url.empty()) {
    return std::make_unique<MaxMindSource>(
        context, options.host, options.account_id, options.license_key);
  }
  MirrorOptions mirror;
  mirror.url_template = options.mirror_url;
  mirror.sha256 = options.mirror_sha256;
  mirror.sha256_url_template = options.mirror_sha256_url;
  return std::make_unique<MirrorSource>(context, mirror);
}

// The objects of one run, wired from the options; members are built in
// declaration order, each from those above it.
class UpdaterProcess {
 public:
  UpdaterProcess(const UpdaterOptions& options, absl::Notification* cancel)
      : options_(options),
        cancel_(cancel),
        random_(std::random_device{}()),
        http_(HttpOptionsFrom(options), cancel),
        backoff_(BackoffPolicyFrom(options), [this] { return Uniform01(); }),
        source_(MakeSource(options, SourceContextFor())),
        registry_(std::make_shared<prometheus::Registry>()),
        metrics_(registry_, options.editions),
        updater_(options, Dependencies()) {}

  // One pass: the exit code of --once.
  int RunOnce() {
    PassResult result = updater_.RunPass();
    if (options_.output == OutputFormat::kJson) PrintJson(result.editions);
    if (cancel_->HasBeenNotified()) return kExitInterrupted;
    return result.status.ok() ? kExitOk : kExitFailed;
  }

  // Passes until cancelled, serving /healthz and /metrics unless the status
  // port is -1, and with --serve what the passes installed.
  int RunLoop() {
    // A long-lived server: its connections (up to --serve_max_connections
    // with --serve) must not run into a soft open-file limit a launcher left
    // low; raised to the hard limit as geo_server does.
    (void)RaiseAndLogOpenFileLimit();
    std::unique_ptr<http::HttpServer> status_server;
    if (options_.status_port >= 0) {
      absl::StatusOr<std::unique_ptr<http::HttpServer>> started =
          StartStatusPort();
      if (!started.ok()) return kExitConfig;  // Logged.
      status_server = *std::move(started);
    }
    std::unique_ptr<InstalledDatabases> served;
    std::unique_ptr<http::HttpServer> serve_server;
    if (options_.serve) {
      served = std::make_unique<InstalledDatabases>(
          options_.data_dir, options_.editions, &ValidateDatabase);
      // What an earlier run left in the volume is served (once verified)
      // while the first pass runs.
      (void)served->Refresh();
      absl::StatusOr<std::unique_ptr<http::HttpServer>> started =
          StartServeServer(served.get());
      if (!started.ok()) {
        Log(LogLevel::kError, "Cannot start serving",
            {{"error", started.status()}});
        return kExitConfig;
      }
      serve_server = *std::move(started);
    }
    updater_.RunLoop([this, &served](const PassResult& result) {
      if (options_.output == OutputFormat::kJson) PrintJson(result.editions);
      if (served != nullptr) (void)served->Refresh();
    });
    if (serve_server != nullptr) {
      serve_server->Shutdown(absl::Now() + absl::Seconds(5));
    }
    if (status_server != nullptr) {
      status_server->Shutdown(absl::Now() + absl::Seconds(5));
    }
    Log(LogLevel::kInfo, "Updater stopped");
    return kExitOk;
  }

 private:
  // Called from every edition's thread with --parallelism.
  double Uniform01() ABSL_LOCKS_EXCLUDED(random_mu_) {
    absl::MutexLock lock(&random_mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  }

  // /healthz and /metrics on the status port, with TLS when a certificate is
  // configured. A failure is logged here.
  absl::StatusOr<std::unique_ptr<http::HttpServer>> StartStatusPort() {
    http::HttpTlsOptions tls;
    if (options_.status_tls.enabled()) {
      absl::Status loaded = LoadStatusCertificates();
      if (!loaded.ok()) {
        Log(LogLevel::kError, "Cannot load the status port's certificate",
            {{"error", loaded}});
        return loaded;
      }
      tls.certificates = status_certificates_.get();
      tls.metrics = status_tls_metrics_.get();
    }
    absl::StatusOr<std::unique_ptr<http::HttpServer>> started =
        StartStatusServer(
            options_.status_address,
            static_cast<uint16_t>(options_.status_port),
            [this] { return updater_.Healthy(); },
            [this] { return metrics_.Serialize(); }, tls);
    if (!started.ok()) {
      Log(LogLevel::kError, "Cannot start the status server",
          {{"error", started.status()}});
      return started.status();
    }
    Log(LogLevel::kInfo, "Serving /healthz and /metrics",
        {{"address", options_.status_address},
         {"port", static_cast<int>((*started)->port())}});
    return started;
  }

  absl::StatusOr<std::unique_ptr<http::HttpServer>> StartServeServer(
      const InstalledDatabases* served) {
    MirrorServerOptions serve;
    serve.address = options_.serve_address;
    serve.port = static_cast<uint16_t>(options_.serve_port);
    serve.account_id = options_.serve_account_id;
    serve.license_key = options_.serve_license_key;
    serve.max_connections = options_.serve_max_connections;
    serve_metrics_ = std::make_unique<MirrorServerMetrics>(*registry_);
    auto handler = std::make_shared<const MirrorHandler>(
        serve, served, serve_metrics_.get(),
        [this] { return updater_.Healthy(); },
        [this] { return metrics_.Serialize(); });
    absl::StatusOr<std::unique_ptr<http::HttpServer>> server =
        StartMirrorServer(serve, std::move(handler));
    if (!server.ok()) return server.status();
    Log(LogLevel::kInfo, "Serving databases",
        {{"address", options_.serve_address},
         {"port", static_cast<int>((*server)->port())},
         {"credentials_checked", !options_.serve_account_id.empty()}});
    return server;
  }

  // The status port's certificates, watched and rotated like the server's.
  absl::Status LoadStatusCertificates() {
    status_tls_metrics_ = std::make_unique<tls::TlsMetrics>(
        *registry_, tls::kUpdaterTlsMetricNames);
    tls::CertificateReloader::Options reloader;
    reloader.tls = options_.status_tls;
    reloader.metrics = status_tls_metrics_.get();
    absl::StatusOr<std::unique_ptr<tls::CertificateReloader>> created =
        tls::CertificateReloader::Create(std::move(reloader));
    if (!created.ok()) return created.status();
    status_certificates_ = *std::move(created);
    PollingWatcherOptions watch;
    watch.interval = absl::Seconds(1);
    status_certificates_->StartWatching(watch);
    return absl::OkStatus();
  }

  SourceContext SourceContextFor() {
    SourceContext context;
    context.http = &http_;
    context.backoff = &backoff_;
    context.clock = Clock::Real();
    context.cancel = cancel_;
    context.max_retry_after = options_.max_retry_after;
    return context;
  }

  UpdaterDependencies Dependencies() {
    UpdaterDependencies deps;
    deps.source = source_.get();
    deps.clock = Clock::Real();
    deps.uniform01 = [this] { return Uniform01(); };
    deps.metrics = &metrics_;
    deps.validator = &ValidateDatabase;
    deps.cancel = cancel_;
    return deps;
  }

  const UpdaterOptions& options_;
  absl::Notification* const cancel_;
  absl::Mutex random_mu_;
  std::mt19937_64 random_ ABSL_GUARDED_BY(random_mu_);
  HttpClient http_;
  Backoff backoff_;
  std::unique_ptr<DatabaseSource> source_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<tls::TlsMetrics> status_tls_metrics_;
  // Outlives the status server (declared before it goes, in RunLoop).
  std::unique_ptr<tls::CertificateReloader> status_certificates_;
  UpdaterMetrics metrics_;
  Updater updater_;
  std::unique_ptr<MirrorServerMetrics> serve_metrics_;
};

// The options from the command line, the environment and GeoIP.conf; none
// when --help was asked for (the usage is then on stdout).
absl::StatusOr<std::optional<UpdaterOptions>> OptionsFromCommandLine(
    int argc, char** argv) {
  GEO_ASSIGN_OR_RETURN(
      settings::CommandLine command_line,
      settings::ParseCommandLine(UpdaterSettings().specs(), argc, argv));
  if (command_line.help_requested) {
    const std::string usage = UpdaterSettings().Usage();
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    std::fflush(stdout);
    return std::optional<UpdaterOptions>();
  }
  ConfigSources sources;
  sources.flags = std::move(command_line.flags);
  sources.env = settings::ProcessEnvironment();
  GEO_ASSIGN_OR_RETURN(UpdaterOptions options, ResolveOptions(sources));
  return std::optional<UpdaterOptions>(std::move(options));
}

void LogStart(const UpdaterOptions& options) {
  Log(LogLevel::kInfo, "Updater starting",
      {{"mode", options.once    ? "once"
                : options.serve ? "loop+serve"
                                : "loop"},
       {"source", options.mirror_url.empty() ? options.host
                                             : RedactUrl(options.mirror_url)},
       {"editions", absl::StrJoin(options.editions, ",")},
       {"data_dir", options.data_dir},
       {"account_id", options.account_id}});
}

}  // namespace

int RunUpdaterCli(int argc, char** argv) {
  absl::StatusOr<std::optional<UpdaterOptions>> options =
      OptionsFromCommandLine(argc, argv);
  if (!options.ok()) {
    Log(LogLevel::kError, "Invalid configuration",
        {{"error", options.status()}});
    return kExitConfig;
  }
  if (!options->has_value()) return kExitOk;  // --help
  SetMinLogLevel((*options)->log_level);
  // A file size limit must surface as EFBIG on write, not kill the process
  // before it can clean up; a closed status connection must not either.
  signal(SIGXFSZ, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  SignalWatcher signals;
  UpdaterProcess process(**options, signals.cancel());
  LogStart(**options);
  return (*options)->once ? process.RunOnce() : process.RunLoop();
}

}  // namespace geo::updater
