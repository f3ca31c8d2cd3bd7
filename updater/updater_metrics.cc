#include "updater/updater_metrics.h"

#include <utility>
#include <vector>

#include "geo/common/metric_families.h"
#include "prometheus/text_serializer.h"

namespace geo::updater {
namespace {

// The `result` label of geo_updater_checks_total.
constexpr std::pair<CheckResult, const char*> kCheckResultNames[] = {
    {CheckResult::kUnchanged, "unchanged"},
    {CheckResult::kUpdated, "updated"},
    {CheckResult::kFailed, "failed"}};

}  // namespace

const std::vector<std::string>& UpdaterMetrics::FailureReasons() {
  static const auto* reasons = new std::vector<std::string>{
      "auth",      "rate_limited", "not_found",
      "http",      "network",      "timeout",
      "too_large", "checksum",     "invalid_database",
      "disk",      "lock",         "cancelled",
      "config",    "other"};
  return *reasons;
}

UpdaterMetrics::UpdaterMetrics(std::shared_ptr<prometheus::Registry> registry,
                               const std::vector<std::string>& editions)
    : registry_(std::move(registry)) {
  auto& checks = CounterFamily(
      *registry_, "geo_updater_checks_total",
      "Update checks by edition and result (unchanged, updated, failed).");
  auto& downloads = CounterFamily(*registry_, "geo_updater_downloads_total",
                                  "Database downloads by edition and result.");
  auto& bytes = CounterFamily(*registry_, "geo_updater_downloaded_bytes_total",
                              "Bytes downloaded by edition.");
  auto& failures = CounterFamily(*registry_, "geo_updater_failures_total",
                                 "Failed updates by edition and reason.");
  auto& modified = GaugeFamily(
      *registry_, "geo_updater_database_modified_timestamp_seconds",
      "Modification time of the installed database, as the source reported "
      "it.");
  auto& last_success =
      GaugeFamily(*registry_, "geo_updater_last_success_timestamp_seconds",
                  "When every edition was last installed or found current.");
  last_success_ = &last_success.Add({});
  for (const std::string& edition : editions) {
    PerEdition& per = editions_[edition];
    for (const auto& [result, name] : kCheckResultNames) {
      per.checks[result] =
          &checks.Add({{"edition", edition}, {"result", name}});
    }
    per.downloads_ok = &downloads.Add({{"edition", edition}, {"result", "ok"}});
    per.downloads_failed =
        &downloads.Add({{"edition", edition}, {"result", "failed"}});
    per.bytes = &bytes.Add({{"edition", edition}});
    for (const std::string& reason : FailureReasons()) {
      per.failures[reason] =
          &failures.Add({{"edition", edition}, {"reason", reason}});
    }
    per.modified_at = &modified.Add({{"edition", edition}});
  }
}

void UpdaterMetrics::RecordCheck(const std::string& edition,
                                 CheckResult result) {
  auto it = editions_.find(edition);
  if (it != editions_.end()) it->second.checks.at(result)->Increment();
}

void UpdaterMetrics::RecordDownload(const std::string& edition, bool ok,
                                    int64_t bytes) {
  auto it = editions_.find(edition);
  if (it == editions_.end()) return;
  (ok ? it->second.downloads_ok : it->second.downloads_failed)->Increment();
  if (bytes > 0) it->second.bytes->Increment(static_cast<double>(bytes));
}

void UpdaterMetrics::RecordFailure(const std::string& edition,
                                   absl::string_view reason) {
  auto it = editions_.find(edition);
  if (it == editions_.end()) return;
  auto failure = it->second.failures.find(std::string(reason));
  if (failure == it->second.failures.end()) {
    failure = it->second.failures.find("other");
  }
  failure->second->Increment();
}

void UpdaterMetrics::RecordSuccess(absl::Time when) {
  last_success_->Set(absl::ToDoubleSeconds(when - absl::UnixEpoch()));
}

void UpdaterMetrics::SetDatabaseBuildTime(const std::string& edition,
                                          absl::Time modified_at) {
  auto it = editions_.find(edition);
  if (it != editions_.end()) {
    it->second.modified_at->Set(
        absl::ToDoubleSeconds(modified_at - absl::UnixEpoch()));
  }
}

std::string UpdaterMetrics::Serialize() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  process_.AppendTo(&families);
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace geo::updater
