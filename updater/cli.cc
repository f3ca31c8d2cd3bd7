#include "updater/cli.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "geo/common/clock.h"
#include "geo/common/logging.h"
#include "prometheus/registry.h"
#include "updater/config.h"
#include "updater/database_validator.h"
#include "updater/http_client.h"
#include "updater/maxmind_source.h"
#include "updater/mirror_source.h"
#include "updater/retry.h"
#include "updater/status_server.h"
#include "updater/updater.h"
#include "updater/updater_metrics.h"

// Every setting is a string flag whose empty default means "not given", so
// that the environment and GeoIP.conf can fill it in (see config.h).
ABSL_FLAG(std::string, config, "",
          "geoipupdate GeoIP.conf to read (env GEOIPUPDATE_CONF_FILE)");
ABSL_FLAG(std::string, account_id, "",
          "MaxMind account ID (env MAXMIND_ACCOUNT_ID[_FILE], "
          "GEOIPUPDATE_ACCOUNT_ID[_FILE])");
ABSL_FLAG(std::string, license_key_file, "",
          "file holding the MaxMind license key (env MAXMIND_LICENSE_KEY, "
          "MAXMIND_LICENSE_KEY_FILE, GEOIPUPDATE_LICENSE_KEY[_FILE]); there is "
          "no flag taking the key itself");
ABSL_FLAG(std::string, edition_ids, "",
          "editions, comma or space separated (default GeoLite2-City; env "
          "MAXMIND_EDITION_IDS, GEOIPUPDATE_EDITION_IDS)");
ABSL_FLAG(std::string, host, "",
          "update service base URL (default https://updates.maxmind.com; env "
          "MAXMIND_HOST, GEOIPUPDATE_HOST)");
ABSL_FLAG(std::string, data_dir, "",
          "directory the databases are installed in (default /data; env "
          "GEO_DATA_DIR, GEOIPUPDATE_DB_DIR)");
ABSL_FLAG(std::string, mirror_url, "",
          "download from this URL instead of MaxMind; {edition} is replaced "
          "(env GEO_MIRROR_URL)");
ABSL_FLAG(std::string, mirror_sha256, "",
          "expected SHA-256 of the mirror payload (env GEO_MIRROR_SHA256)");
ABSL_FLAG(std::string, mirror_sha256_url, "",
          "URL of a sha256sum-style file for the mirror payload; {edition} is "
          "replaced (env GEO_MIRROR_SHA256_URL)");
ABSL_FLAG(bool, once, false,
          "run one update pass and exit (initContainer, CronJob); default is "
          "to loop (sidecar) (env GEO_UPDATER_ONCE=true)");
ABSL_FLAG(std::string, interval, "",
          "loop mode: time between passes (default 24h; env "
          "GEO_UPDATER_INTERVAL, GEOIPUPDATE_FREQUENCY in hours)");
ABSL_FLAG(std::string, interval_jitter, "",
          "loop mode: +/- fraction of the interval (default 0.1)");
ABSL_FLAG(std::string, connect_timeout, "",
          "connect timeout (default 10s; env GEO_UPDATER_CONNECT_TIMEOUT)");
ABSL_FLAG(std::string, timeout, "",
          "total timeout per HTTP request (default 10m; env "
          "GEO_UPDATER_TIMEOUT)");
ABSL_FLAG(std::string, low_speed_time, "",
          "abort a transfer slower than 1 KiB/s for this long (default 60s)");
ABSL_FLAG(std::string, max_download_bytes, "",
          "largest accepted download (default 2147483648; env "
          "GEO_UPDATER_MAX_DOWNLOAD_BYTES)");
ABSL_FLAG(std::string, max_database_bytes, "",
          "largest accepted database once extracted (default 2147483648; env "
          "GEO_UPDATER_MAX_DATABASE_BYTES); both limits are also capped at "
          "the data directory's free space");
ABSL_FLAG(std::string, ca_bundle, "",
          "PEM file of trusted CAs (default: system; env GEO_CA_BUNDLE). TLS "
          "verification cannot be turned off");
ABSL_FLAG(std::string, retries, "",
          "attempts per request, the first included (default 5; env "
          "GEO_UPDATER_RETRIES)");
ABSL_FLAG(std::string, backoff_initial, "",
          "first retry delay (default 1s), doubled per retry with +/-20% "
          "jitter");
ABSL_FLAG(std::string, backoff_max, "", "largest retry delay (default 2m)");
ABSL_FLAG(std::string, max_retry_after, "",
          "longest HTTP 429 Retry-After honoured by waiting; longer means the "
          "download limit is reached and the pass fails (default 10m)");
ABSL_FLAG(std::string, lock_timeout, "",
          "how long to wait for another updater's lock on the data directory "
          "(default 1m; 0s: fail at once; env GEO_UPDATER_LOCK_TIMEOUT)");
ABSL_FLAG(std::string, output, "",
          "\"json\": print a per-edition summary on stdout, like geoipupdate "
          "-o");
ABSL_FLAG(std::string, status_address, "",
          "loop mode: /healthz and /metrics address (default 0.0.0.0; env "
          "GEO_UPDATER_STATUS_ADDRESS)");
ABSL_FLAG(std::string, status_port, "",
          "loop mode: /healthz and /metrics port, -1 disables, 0 ephemeral "
          "(default 9102; "
          "env GEO_UPDATER_STATUS_PORT)");
ABSL_FLAG(std::string, health_grace, "",
          "loop mode: /healthz fails when the last success is older than two "
          "intervals plus this (default 30m)");
ABSL_FLAG(std::string, log_level, "",
          "debug, info, warn or error (default info; env GEO_LOG_LEVEL)");

namespace geo::updater {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitConfig = 2;
constexpr int kExitInterrupted = 143;

constexpr const char* kStringFlags[] = {"config",
                                        "account_id",
                                        "license_key_file",
                                        "edition_ids",
                                        "host",
                                        "data_dir",
                                        "mirror_url",
                                        "mirror_sha256",
                                        "mirror_sha256_url",
                                        "interval",
                                        "interval_jitter",
                                        "connect_timeout",
                                        "timeout",
                                        "low_speed_time",
                                        "max_download_bytes",
                                        "max_database_bytes",
                                        "ca_bundle",
                                        "retries",
                                        "backoff_initial",
                                        "backoff_max",
                                        "max_retry_after",
                                        "lock_timeout",
                                        "output",
                                        "status_address",
                                        "status_port",
                                        "health_grace",
                                        "log_level"};

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

}  // namespace

int RunUpdaterCli(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Downloads MaxMind (or mirrored) databases into a directory, verified "
      "and atomically. Settings also come from the environment and "
      "GeoIP.conf; see the flag help.");
  absl::ParseCommandLine(argc, argv);
  // A file size limit must surface as EFBIG on write, not kill the process
  // before it can clean up; a closed status connection must not either.
  signal(SIGXFSZ, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  ConfigSources sources;
  sources.env = CurrentEnvironment();
  for (const char* name : kStringFlags) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag != nullptr && !flag->CurrentValue().empty()) {
      sources.flags[name] = flag->CurrentValue();
    }
  }
  if (absl::GetFlag(FLAGS_once)) sources.flags["once"] = "true";
  absl::StatusOr<UpdaterOptions> resolved = ResolveOptions(sources);
  if (!resolved.ok()) {
    Log(LogLevel::kError, "Invalid configuration",
        {{"error", resolved.status()}});
    return kExitConfig;
  }
  const UpdaterOptions& options = *resolved;
  absl::StatusOr<LogLevel> level = ParseLogLevel(options.log_level);
  if (!level.ok()) {
    Log(LogLevel::kError, "Invalid configuration", {{"error", level.status()}});
    return kExitConfig;
  }
  SetMinLogLevel(*level);

  SignalWatcher signals;
  absl::Notification* cancel = signals.cancel();
  Clock* clock = Clock::Real();
  std::mt19937_64 random(std::random_device{}());
  auto uniform01 = [&random] {
    return std::uniform_real_distribution<double>(0.0, 1.0)(random);
  };

  HttpClientOptions http_options;
  http_options.connect_timeout = options.connect_timeout;
  http_options.total_timeout = options.timeout;
  http_options.low_speed_time = options.low_speed_time;
  http_options.max_body_bytes = options.max_download_bytes;
  http_options.ca_bundle = options.ca_bundle;
  HttpClient http(http_options, cancel);

  BackoffPolicy policy;
  policy.max_attempts = options.retries;
  policy.initial_delay = options.backoff_initial;
  policy.max_delay = options.backoff_max;
  Backoff backoff(policy, uniform01);

  SourceContext context;
  context.http = &http;
  context.backoff = &backoff;
  context.clock = clock;
  context.cancel = cancel;
  context.max_retry_after = options.max_retry_after;
  std::unique_ptr<DatabaseSource> source;
  if (options.mirror_url.empty()) {
    source = std::make_unique<MaxMindSource>(
        context, options.host, options.account_id, options.license_key);
  } else {
    MirrorOptions mirror;
    mirror.url_template = options.mirror_url;
    mirror.sha256 = options.mirror_sha256;
    mirror.sha256_url_template = options.mirror_sha256_url;
    source = std::make_unique<MirrorSource>(context, mirror);
  }

  auto registry = std::make_shared<prometheus::Registry>();
  UpdaterMetrics metrics(registry, options.editions);
  UpdaterDependencies deps;
  deps.source = source.get();
  deps.clock = clock;
  deps.uniform01 = uniform01;
  deps.metrics = &metrics;
  deps.validator = &ValidateDatabase;
  deps.cancel = cancel;
  Updater updater(options, deps);

  Log(LogLevel::kInfo, "Updater starting",
      {{"mode", options.once ? "once" : "loop"},
       {"source", options.mirror_url.empty() ? options.host
                                             : RedactUrl(options.mirror_url)},
       {"editions", absl::StrJoin(options.editions, ",")},
       {"data_dir", options.data_dir},
       {"account_id", options.account_id}});

  if (options.once) {
    PassResult result = updater.RunPass();
    if (options.output == OutputFormat::kJson) PrintJson(result.editions);
    if (cancel->HasBeenNotified()) return kExitInterrupted;
    return result.status.ok() ? kExitOk : kExitFailed;
  }

  std::unique_ptr<http::HttpServer> status_server;
  if (options.status_port >= 0) {
    absl::StatusOr<std::unique_ptr<http::HttpServer>> started =
        StartStatusServer(
            options.status_address, static_cast<uint16_t>(options.status_port),
            [&updater] { return updater.Healthy(); },
            [&metrics] { return metrics.Serialize(); });
    if (!started.ok()) {
      Log(LogLevel::kError, "Cannot start the status server",
          {{"error", started.status()}});
      return kExitConfig;
    }
    status_server = *std::move(started);
    Log(LogLevel::kInfo, "Serving /healthz and /metrics",
        {{"address", options.status_address},
         {"port", static_cast<int>(status_server->port())}});
  }
  updater.RunLoop([&options](const PassResult& result) {
    if (options.output == OutputFormat::kJson) PrintJson(result.editions);
  });
  if (status_server != nullptr) {
    status_server->Shutdown(absl::Now() + absl::Seconds(5));
  }
  Log(LogLevel::kInfo, "Updater stopped");
  return kExitOk;
}

}  // namespace geo::updater
