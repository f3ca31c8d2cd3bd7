// The updater's Prometheus metrics (served on /metrics in loop mode). Every
// labelled child is created up front for the configured editions, so
// recording never takes prometheus-cpp's family lock.
#ifndef UPDATER_UPDATER_METRICS_H_
#define UPDATER_UPDATER_METRICS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/common/process_metrics.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace geo::updater {

// Results of one edition's check: `unchanged`, `updated` or `failed`.
enum class CheckResult { kUnchanged, kUpdated, kFailed };

// Thread-safe (prometheus-cpp metrics are; the maps are read-only after
// construction).
class UpdaterMetrics {
 public:
  UpdaterMetrics(std::shared_ptr<prometheus::Registry> registry,
                 const std::vector<std::string>& editions);

  void RecordCheck(const std::string& edition, CheckResult result);
  void RecordDownload(const std::string& edition, bool ok, int64_t bytes);
  // `reason` is one of FailureReasonOf()'s values (others count as "other").
  void RecordFailure(const std::string& edition, absl::string_view reason);
  void RecordSuccess(absl::Time when);
  void SetDatabaseBuildTime(const std::string& edition, absl::Time modified_at);

  // Prometheus text exposition format.
  std::string Serialize() const;
  const std::shared_ptr<prometheus::Registry>& registry() const {
    return registry_;
  }

  static const std::vector<std::string>& FailureReasons();

 private:
  struct PerEdition {
    std::map<CheckResult, prometheus::Counter*> checks;
    prometheus::Counter* downloads_ok = nullptr;
    prometheus::Counter* downloads_failed = nullptr;
    prometheus::Counter* bytes = nullptr;
    std::map<std::string, prometheus::Counter*> failures;
    prometheus::Gauge* modified_at = nullptr;
  };

  std::shared_ptr<prometheus::Registry> registry_;
  std::map<std::string, PerEdition> editions_;
  prometheus::Gauge* last_success_ = nullptr;
  // The standard process_* families, appended by Serialize.
  const ProcessCollector process_;
};

}  // namespace geo::updater

#endif  // UPDATER_UPDATER_METRICS_H_
