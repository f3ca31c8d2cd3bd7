#include "geo/server/server_metrics.h"

#include <iterator>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "geo/common/process_metrics.h"
#include "prometheus/metric_family.h"

namespace geo {
namespace {

constexpr int kGrpcCodeCount = 17;
constexpr int kUnknownCountry = 26 * 26;

// 10 µs to 1 s: lookups take microseconds, so the low end needs resolution.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
      0.005,   0.01,     0.025,   0.05,   0.1,     0.25,   0.5,   1.0};
  return *buckets;
}

// Canonical gRPC code names, as `status` label values.
absl::string_view CodeName(int code) {
  static constexpr absl::string_view kNames[kGrpcCodeCount] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED"};
  return kNames[code];
}

int CountryIndex(absl::string_view iso_code) {
  if (iso_code.size() != 2) return kUnknownCountry;
  const char first =
      absl::ascii_toupper(static_cast<unsigned char>(iso_code[0]));
  const char second =
      absl::ascii_toupper(static_cast<unsigned char>(iso_code[1]));
  if (first < 'A' || first > 'Z' || second < 'A' || second > 'Z') {
    return kUnknownCountry;
  }
  return (first - 'A') * 26 + (second - 'A');
}

// The `method` and `result` labels, in the order of the enums. A name left
// out fails the static_assert; the labels are what dashboards and alerts
// select on, so server_metrics_test checks each one.
constexpr absl::string_view kMethodNames[] = {"Lookup", "BatchLookup", "Check",
                                              "ListDatabases", "Authorize"};
static_assert(std::size(kMethodNames) == kMethodCount);
constexpr absl::string_view kResultNames[] = {"found",  "not_found", "allowed",
                                              "denied", "none",      "error"};
static_assert(std::size(kResultNames) == kResultCount);

class ScrapeCollectable final : public prometheus::Collectable {
 public:
  explicit ScrapeCollectable(ServerMetrics* metrics) : metrics_(metrics) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    metrics_->UpdateDatabaseAges();
    std::vector<prometheus::MetricFamily> families =
        metrics_->registry()->Collect();
    process_.AppendTo(&families);
    return families;
  }

 private:
  ServerMetrics* metrics_;
  const ProcessCollector process_;
};

}  // namespace

absl::string_view ProtocolName(Protocol protocol) {
  return protocol == Protocol::kGrpc ? "grpc" : "http";
}

absl::string_view MethodName(Method method) {
  return kMethodNames[static_cast<int>(method)];
}

absl::string_view ResultName(Result result) {
  return kResultNames[static_cast<int>(result)];
}

ServerMetrics::ServerMetrics(std::shared_ptr<prometheus::Registry> registry,
                             Clock* clock)
    : registry_(std::move(registry)),
      clock_(clock),
      country_family_(CounterFamily(
          *registry_, "geofence_lookups_by_country_total",
          "Successful lookups and checks by country ISO code of the address "
          "(unknown: no country)")),
      database_reloads_(CounterFamily(*registry_,
                                      "geofence_database_reloads_total",
                                      "Database loads and reloads by result")),
      build_time_family_(GaugeFamily(
          *registry_, "geofence_database_build_timestamp_seconds",
          "Build time (MaxMind build_epoch) of the loaded database")),
      age_family_(GaugeFamily(*registry_, "geofence_database_age_seconds",
                              "Seconds since the loaded database was built")),
      watcher_errors_family_(CounterFamily(
          *registry_, "geofence_watcher_errors_total",
          "Watched files that could not be read (stat) or were rejected on "
          "load (rejected)")),
      watcher_stat_errors_(watcher_errors_family_.Add({{"reason", "stat"}})),
      watcher_rejected_(watcher_errors_family_.Add({{"reason", "rejected"}})),
      policy_reloads_(CounterFamily(*registry_, "geofence_policy_reloads_total",
                                    "Policy loads and reloads by result")),
      decisions_family_(CounterFamily(
          *registry_, "geofence_decisions_total",
          "Geofence decisions (Check and forward-auth) by policy, result "
          "(allowed, denied, dry_run_denied) and the kind of rule that "
          "decided")),
      decision_errors_family_(CounterFamily(
          *registry_, "geofence_decision_errors_total",
          "Forward-auth decisions the policy's on_error made, by policy and "
          "reason (no_database, lookup_error, bad_client_address)")) {
  auto& calls = CounterFamily(
      *registry_, "geofence_lookups_total",
      "Finished Lookup/BatchLookup/Check/ListDatabases/Authorize calls by "
      "protocol, gRPC status and result");
  auto& latency =
      HistogramFamily(*registry_, "geofence_lookup_duration_seconds",
                      "Call latency by protocol and method");
  auto& in_flight = GaugeFamily(*registry_, "geofence_requests_in_flight",
                                "Calls being served right now");
  for (int p = 0; p < kProtocolCount; ++p) {
    const std::string protocol(ProtocolName(static_cast<Protocol>(p)));
    for (int code = 0; code < kGrpcCodeCount; ++code) {
      for (int r = 0; r < kResultCount; ++r) {
        const Result result = static_cast<Result>(r);
        // Successful calls have a result; failed ones have "error".
        if ((code == 0) == (result == Result::kError)) continue;
        calls_[p][code][r] =
            &calls.Add({{"protocol", protocol},
                        {"status", std::string(CodeName(code))},
                        {"result", std::string(ResultName(result))}});
      }
    }
    for (int m = 0; m < kMethodCount; ++m) {
      latency_[p][m] = &latency.Add(
          {{"protocol", protocol},
           {"method", std::string(MethodName(static_cast<Method>(m)))}},
          LatencyBuckets());
    }
    in_flight_[p] = &in_flight.Add({{"protocol", protocol}});
  }
}

namespace {

constexpr policy::DecisionResult kDecisionResults[] = {
    policy::DecisionResult::kAllowed, policy::DecisionResult::kDenied,
    policy::DecisionResult::kDryRunDenied};
constexpr policy::RuleKind kRuleKinds[] = {policy::RuleKind::kNone,
                                           policy::RuleKind::kClientIdentity,
                                           policy::RuleKind::kNetwork,
                                           policy::RuleKind::kPrivate,
                                           policy::RuleKind::kAsn,
                                           policy::RuleKind::kAnonymizer,
                                           policy::RuleKind::kConnectionType,
                                           policy::RuleKind::kSubdivision,
                                           policy::RuleKind::kCountry,
                                           policy::RuleKind::kUnknown,
                                           policy::RuleKind::kDefault,
                                           policy::RuleKind::kError};
constexpr policy::DecisionError kDecisionErrors[] = {
    policy::DecisionError::kNoDatabase, policy::DecisionError::kLookupError,
    policy::DecisionError::kBadClientAddress};

// One policy's children, created together; the request path indexes them.
class PolicyDecisionCounter final : public policy::DecisionCounter {
 public:
  PolicyDecisionCounter(prometheus::Family<prometheus::Counter>& decisions,
                        prometheus::Family<prometheus::Counter>& errors,
                        absl::string_view policy_name) {
    const std::string name(policy_name);
    for (const policy::DecisionResult result : kDecisionResults) {
      for (const policy::RuleKind rule : kRuleKinds) {
        decisions_[static_cast<int>(result)][static_cast<int>(rule)] =
            &decisions.Add(
                {{"policy", name},
                 {"result", std::string(policy::DecisionResultName(result))},
                 {"rule", std::string(policy::RuleKindName(rule))}});
      }
    }
    for (const policy::DecisionError error : kDecisionErrors) {
      errors_[static_cast<int>(error)] = &errors.Add(
          {{"policy", name},
           {"reason", std::string(policy::DecisionErrorName(error))}});
    }
  }

  void Count(policy::DecisionResult result,
             policy::RuleKind rule) const override {
    decisions_[static_cast<int>(result)][static_cast<int>(rule)]->Increment();
  }
  void CountError(policy::DecisionError error) const override {
    errors_[static_cast<int>(error)]->Increment();
  }

 private:
  std::array<std::array<prometheus::Counter*, std::size(kRuleKinds)>,
             std::size(kDecisionResults)>
      decisions_{};
  std::array<prometheus::Counter*, std::size(kDecisionErrors)> errors_{};
};

}  // namespace

std::shared_ptr<const policy::DecisionCounter>
ServerMetrics::DecisionCounterFor(absl::string_view policy_name) {
  return std::make_shared<PolicyDecisionCounter>(
      decisions_family_, decision_errors_family_, policy_name);
}

void ServerMetrics::RecordCall(Protocol protocol, Method method,
                               absl::StatusCode status, Result result,
                               absl::Duration latency) {
  const int p = static_cast<int>(protocol);
  int code = static_cast<int>(status);
  if (code < 0 || code >= kGrpcCodeCount) code = 2;  // UNKNOWN
  if (code != 0) result = Result::kError;
  if (code == 0 && result == Result::kError) result = Result::kNone;
  calls_[p][code][static_cast<int>(result)]->Increment();
  latency_[p][static_cast<int>(method)]->Observe(
      absl::ToDoubleSeconds(latency));
}

void ServerMetrics::RecordCountry(absl::string_view iso_code) {
  const int index = CountryIndex(iso_code);
  prometheus::Counter* counter =
      countries_[index].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // First sight of this code: create its child once.
    absl::MutexLock lock(&country_mu_);
    counter = countries_[index].load(std::memory_order_relaxed);
    if (counter == nullptr) {
      std::string label = "unknown";
      if (index != kUnknownCountry) {
        label = {static_cast<char>('A' + index / 26),
                 static_cast<char>('A' + index % 26)};
      }
      counter = &country_family_.Add({{"country", label}});
      countries_[index].store(counter, std::memory_order_release);
    }
  }
  counter->Increment();
}

ServerMetrics::InFlight::InFlight(ServerMetrics* metrics, Protocol protocol)
    : gauge_(*metrics->in_flight_[static_cast<int>(protocol)]) {
  gauge_.Increment();
}

ServerMetrics::InFlight::~InFlight() { gauge_.Decrement(); }

void ServerMetrics::RecordDatabaseReload(absl::string_view type,
                                         absl::Time build_time, bool success) {
  if (!success) {
    RecordDatabaseReloadFailure();
    return;
  }
  database_reloads_.success.Increment();
  absl::MutexLock lock(&database_mu_);
  auto it = databases_.find(type);
  if (it == databases_.end()) {
    // Once per database type (a handful), never per request.
    const prometheus::Labels labels{{"type", std::string(type)}};
    it = databases_
             .emplace(std::string(type),
                      DatabaseGauges{&build_time_family_.Add(labels),
                                     &age_family_.Add(labels), build_time})
             .first;
  }
  it->second.built = build_time;
  it->second.build_time->Set(
      absl::ToDoubleSeconds(build_time - absl::UnixEpoch()));
  it->second.age->Set(absl::ToDoubleSeconds(clock_->Now() - build_time));
}

void ServerMetrics::RecordDatabaseReloadFailure() {
  database_reloads_.failure.Increment();
}

void ServerMetrics::RecordWatcherError(absl::string_view reason) {
  (reason == "stat" ? watcher_stat_errors_ : watcher_rejected_).Increment();
}

void ServerMetrics::RecordPolicyReload(bool success) {
  (success ? policy_reloads_.success : policy_reloads_.failure).Increment();
}

void ServerMetrics::RecordOverridesReload(bool success, size_t entries) {
  if (!success) {
    override_reloads_.failure.Increment();
    return;
  }
  override_reloads_.success.Increment();
  override_entries_.Set(static_cast<double>(entries));
}

void ServerMetrics::RecordDecodeFailure(absl::string_view reason) {
  if (reason == "entry_budget") {
    decode_entry_budget_.Increment();
  } else if (reason == "byte_budget") {
    decode_byte_budget_.Increment();
  } else {
    decode_invalid_data_.Increment();
  }
}

void ServerMetrics::UpdateDatabaseAges() {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&database_mu_);
  for (auto& [type, gauges] : databases_) {
    gauges.age->Set(absl::ToDoubleSeconds(now - gauges.built));
  }
}

std::shared_ptr<prometheus::Collectable> ServerMetrics::ScrapeTarget() {
  return std::make_shared<ScrapeCollectable>(this);
}

}  // namespace geo
