// RED metrics and data-lifecycle metrics of the geo server, on one
// prometheus-cpp registry shared by the gRPC and HTTP front ends.
//
// Every labelled child is created once (in the constructor, or once per newly
// seen country code) and kept by reference; the request path only increments.
// prometheus::Family::Add takes a mutex and hashes labels, so it must never run
// per request.
#ifndef GEO_SERVER_SERVER_METRICS_H_
#define GEO_SERVER_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"
#include "geo/common/metric_families.h"
#include "geo/policy/policy.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace geo {

enum class Protocol { kGrpc, kHttp };
inline constexpr int kProtocolCount = 2;

// kAuthorize: forward-auth decisions (HTTP only).
enum class Method { kLookup, kBatchLookup, kCheck, kListDatabases, kAuthorize };
inline constexpr int kMethodCount = 5;

// The `result` label: what a successful call found or decided; kError for
// calls that failed (their `status` label says how).
enum class Result { kFound, kNotFound, kAllowed, kDenied, kNone, kError };
inline constexpr int kResultCount = 6;

absl::string_view ProtocolName(Protocol protocol);
absl::string_view MethodName(Method method);
absl::string_view ResultName(Result result);

// The result="success" and result="failure" children of a reloads counter.
struct ReloadCounters {
  explicit ReloadCounters(prometheus::Family<prometheus::Counter>& family)
      : success(family.Add({{"result", "success"}})),
        failure(family.Add({{"result", "failure"}})) {}
  prometheus::Counter& success;
  prometheus::Counter& failure;
};

// Thread-safe.
class ServerMetrics {
 public:
  ServerMetrics(std::shared_ptr<prometheus::Registry> registry, Clock* clock);
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // One finished call: geofence_lookups_total{protocol,status,result} and
  // geofence_lookup_duration_seconds{protocol,method}.
  void RecordCall(Protocol protocol, Method method, absl::StatusCode status,
                  Result result, absl::Duration latency);

  // geofence_lookups_by_country_total{country}: a two-letter ISO code, or
  // "unknown" for anything else (bounded to 26*26 + 1 series).
  void RecordCountry(absl::string_view iso_code)
      ABSL_LOCKS_EXCLUDED(country_mu_);

  // geofence_requests_in_flight{protocol}, held for a call's lifetime.
  class InFlight {
   public:
    InFlight(ServerMetrics* metrics, Protocol protocol);
    ~InFlight();
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    prometheus::Gauge& gauge_;
  };

  // A database reload attempt: geofence_database_reloads_total{result}; on
  // success also geofence_database_build_timestamp_seconds{type} (and so the
  // age gauge geofence_database_age_seconds{type}, computed at scrape time).
  void RecordDatabaseReload(absl::string_view type, absl::Time build_time,
                            bool success) ABSL_LOCKS_EXCLUDED(database_mu_);
  void RecordDatabaseReloadFailure();

  // A watcher could not stat or load a watched file:
  // geofence_watcher_errors_total{reason}, reason in {"stat", "rejected"}.
  void RecordWatcherError(absl::string_view reason);

  // geofence_policy_reloads_total{result}.
  void RecordPolicyReload(bool success);

  // geofence_override_reloads_total{result} and, on success,
  // geofence_override_entries (the entries now in force).
  void RecordOverridesReload(bool success, size_t entries);
  // geofence_override_hits_total: answers a local override changed. On the
  // lookup path: one counter increment.
  void RecordOverrideHit() { override_hits_.Increment(); }

  // geofence_record_decode_failures_total{reason}: lookups that failed
  // because a database record did not decode. `reason` is one of
  // "entry_budget", "byte_budget", "invalid_data" (RecordDecodeFailureName);
  // anything else counts as "invalid_data", so the label stays bounded.
  void RecordDecodeFailure(absl::string_view reason);

  // The counters of one policy's decisions:
  // geofence_decisions_total{policy,result,rule} and
  // geofence_decision_errors_total{policy,reason}. Creates every child of
  // `policy_name` at once (call it when a policy file loads, not per
  // request). A policy removed from the file keeps its last values.
  std::shared_ptr<const policy::DecisionCounter> DecisionCounterFor(
      absl::string_view policy_name);

  const std::shared_ptr<prometheus::Registry>& registry() const {
    return registry_;
  }

  // What a scrape should collect: the registry, with the database age gauges
  // brought up to date first (age is "now - build time" at scrape time).
  // Valid while this object lives.
  std::shared_ptr<prometheus::Collectable> ScrapeTarget();

  // Sets geofence_database_age_seconds from the clock.
  void UpdateDatabaseAges() ABSL_LOCKS_EXCLUDED(database_mu_);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  Clock* clock_;

  // [protocol][status code 0..16][result]; only the combinations that can
  // happen are created (OK with a result, errors with kError).
  std::array<std::array<std::array<prometheus::Counter*, kResultCount>, 17>,
             kProtocolCount>
      calls_{};
  std::array<std::array<prometheus::Histogram*, kMethodCount>, kProtocolCount>
      latency_{};
  std::array<prometheus::Gauge*, kProtocolCount> in_flight_{};

  prometheus::Family<prometheus::Counter>& country_family_;
  // Index: (first letter - 'A') * 26 + (second letter - 'A'); last: unknown.
  // Pointers are published once with release order and then only read.
  std::array<std::atomic<prometheus::Counter*>, 26 * 26 + 1> countries_{};
  absl::Mutex country_mu_;  // Serialises child creation only.

  ReloadCounters database_reloads_;
  prometheus::Family<prometheus::Gauge>& build_time_family_;
  prometheus::Family<prometheus::Gauge>& age_family_;
  absl::Mutex database_mu_;
  struct DatabaseGauges {
    prometheus::Gauge* build_time;
    prometheus::Gauge* age;
    absl::Time built;
  };
  absl::flat_hash_map<std::string, DatabaseGauges> databases_
      ABSL_GUARDED_BY(database_mu_);

  prometheus::Family<prometheus::Counter>& watcher_errors_family_;
  prometheus::Counter& watcher_stat_errors_;
  prometheus::Counter& watcher_rejected_;
  ReloadCounters policy_reloads_;
  prometheus::Family<prometheus::Counter>& decisions_family_;
  prometheus::Family<prometheus::Counter>& decision_errors_family_;

  // Last, so that registry_ is set when these initialise.
  prometheus::Family<prometheus::Counter>& decode_failures_family_ =
      CounterFamily(*registry_, "geofence_record_decode_failures_total",
                    "Lookups failed because a database record did not decode: "
                    "over the decode budget (entry_budget, byte_budget) or "
                    "malformed (invalid_data)");
  prometheus::Counter& decode_entry_budget_ =
      decode_failures_family_.Add({{"reason", "entry_budget"}});
  prometheus::Counter& decode_byte_budget_ =
      decode_failures_family_.Add({{"reason", "byte_budget"}});
  prometheus::Counter& decode_invalid_data_ =
      decode_failures_family_.Add({{"reason", "invalid_data"}});
  ReloadCounters override_reloads_{
      CounterFamily(*registry_, "geofence_override_reloads_total",
                    "Local overrides file loads and reloads by result")};
  prometheus::Gauge& override_entries_ =
      GaugeFamily(*registry_, "geofence_override_entries",
                  "Entries of the local overrides file in force")
          .Add({});
  prometheus::Counter& override_hits_ =
      CounterFamily(*registry_, "geofence_override_hits_total",
                    "Lookup and decision answers changed by a local override")
          .Add({});
};

}  // namespace geo

#endif  // GEO_SERVER_SERVER_METRICS_H_
