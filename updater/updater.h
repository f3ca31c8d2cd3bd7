// Orchestration: for each edition, ask the source for a newer copy, unpack
// and verify it (checksum, then a full open as a MaxMind DB of that edition)
// and install it atomically, all under the data directory's lock. Once mode
// does one pass; loop mode repeats it every interval (with jitter) until
// cancelled and reports health.
#ifndef UPDATER_UPDATER_H_
#define UPDATER_UPDATER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"
#include "updater/config.h"
#include "updater/database_validator.h"
#include "updater/free_space.h"
#include "updater/installer.h"
#include "updater/source.h"
#include "updater/updater_metrics.h"

namespace geo::updater {

// What happened to one edition in one pass (geoipupdate's `-o` fields).
struct EditionSummary {
  std::string edition;
  std::string old_hash;  // MD5 of the file before; all zeros when none.
  std::string new_hash;  // MD5 of the file after.
  std::optional<absl::Time> modified_at;
  absl::Time checked_at;
  bool updated = false;
  absl::Status status;
};

struct PassResult {
  std::vector<EditionSummary> editions;
  // OK when every edition is installed or current; else the first failure.
  absl::Status status;
};

// JSON array of the summaries, as geoipupdate -o prints it (plus "error" for
// failed editions).
std::string SummaryJson(const std::vector<EditionSummary>& editions);

struct UpdaterDependencies {
  DatabaseSource* source = nullptr;
  Clock* clock = nullptr;
  // Uniform in [0, 1), for the loop's jitter.
  std::function<double()> uniform01;
  UpdaterMetrics* metrics = nullptr;  // Optional.
  DatabaseValidator validator;
  // Notified on shutdown (SIGTERM); stops waits and transfers.
  absl::Notification* cancel = nullptr;
  // The data directory's free space; statvfs(2) when null.
  const FreeSpace* free_space = nullptr;
};

// Thread-safe: RunPass/RunLoop on one thread, Healthy from any. With
// options.parallelism above 1 a pass updates editions on that many threads,
// so the source, the metrics and the validator must be thread-safe (and
// `uniform01`, which the source's backoff may call).
class Updater {
 public:
  Updater(UpdaterOptions options, UpdaterDependencies dependencies);

  // One pass over all editions.
  PassResult RunPass() ABSL_LOCKS_EXCLUDED(mu_);

  // Passes every interval (shorter after a failed pass) until `cancel` is
  // notified. `on_pass` (optional) sees each result.
  void RunLoop(const std::function<void(const PassResult&)>& on_pass)
      ABSL_LOCKS_EXCLUDED(mu_);

  // False when the last successful pass (or the start, before the first) is
  // older than two intervals plus the grace period.
  bool Healthy() const ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<absl::Time> last_success() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Every edition, `parallelism` at a time; summaries in edition order.
  std::vector<EditionSummary> UpdateEditions();
  // Thread-safe: called concurrently for different editions.
  EditionSummary UpdateEdition(const std::string& edition);
  absl::Status InstallPayload(const std::string& edition,
                              const FetchResult& fetched, TempFile payload,
                              EditionSummary* summary);
  // Bounds a download into the data directory: when its first byte
  // arrives, the free space must hold twice `installed_bytes` (the database
  // it replaces) plus the margin, and the whole download at most
  // min(max_download_bytes, free space - margin).
  TempFile::WriteCheck DownloadCheck(int64_t installed_bytes) const;
  // min(max_database_bytes, free space - margin), and the error for a
  // database larger than that.
  absl::Status ExtractionLimit(int64_t* max_bytes,
                               absl::Status* exceeded) const;

  const UpdaterOptions options_;
  const UpdaterDependencies deps_;
  Installer installer_;
  StatvfsFreeSpace statvfs_;
  const FreeSpace* const free_space_;
  const absl::Time started_;
  mutable absl::Mutex mu_;
  std::optional<absl::Time> last_success_ ABSL_GUARDED_BY(mu_);
};

}  // namespace geo::updater

#endif  // UPDATER_UPDATER_H_
