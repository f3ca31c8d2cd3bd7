// The loaded databases, swapped atomically while lookups run.
#ifndef GEO_DATA_GEO_STORE_H_
#define GEO_DATA_GEO_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/background_work.h"
#include "geo/common/clock.h"
#include "geo/common/ip_address.h"
#include "geo/data/database.h"
#include "geo/data/database_generation.h"
#include "geo/data/lookup_answer.h"
#include "geo/data/overrides.h"

namespace geo {

// Told about every reload attempt, so the server can count reloads and
// failures and export build epochs without geo/data depending on Prometheus.
// Called on the reloading thread with no GeoStore lock held; must not call
// back into Reload.
class GeoStoreObserver {
 public:
  virtual ~GeoStoreObserver() = default;
  // `database` is the newly installed one on success, null on failure.
  virtual void OnReload(const std::string& path, const absl::Status& status,
                        const Database* database, absl::Duration duration) = 0;
  // A lookup failed because a record did not decode (see
  // RecordDecodeFailureOf), freshly or as a remembered failure. Called on the
  // lookup's thread, concurrently from many: must be thread-safe and cheap.
  virtual void OnRecordDecodeFailure(RecordDecodeFailure failure) {
    (void)failure;
  }
  // A lookup's answer was changed by a local override. Same contract as
  // OnRecordDecodeFailure.
  virtual void OnOverrideHit() {}
};

struct GeoStoreOptions {
  // One slot per path, e.g. {City, ASN}. Lookups answer from the slots in
  // this order; the first database with a record sets `network`.
  std::vector<std::string> paths;
  // A reload that changes a slot's database_type (an ASN file where the City
  // file lives) is refused unless this is set.
  bool allow_type_change = false;
  // Opens and validates a file; Database::Open (with `clock`) when empty.
  // Tests inject failures here.
  std::function<absl::StatusOr<std::shared_ptr<const Database>>(
      const std::string&)>
      opener;
  // The decoded-record cache of each generation.
  GenerationOptions generation;
  // Where reload durations and databases' loaded_at come from; the real
  // clock when null. Not owned; must outlive the store.
  Clock* clock = nullptr;
  // Not owned; may be null. Must outlive the store.
  GeoStoreObserver* observer = nullptr;
  // Log "Database reloaded" / "Database reload failed" lines.
  bool log_reloads = true;
};

// Thread-safe. Each slot holds a DatabaseGeneration: readers copy shared_ptr
// snapshots under a reader lock and look up with no lock held; Reload opens
// and validates with no lock held, builds the next generation, and swaps
// under the writer lock. A replaced generation closes its file (munmap) when
// the last lookup still using it lets go, so no lookup sees a closed
// database.
class GeoStore {
 public:
  explicit GeoStore(GeoStoreOptions options);

  GeoStore(const GeoStore&) = delete;
  GeoStore& operator=(const GeoStore&) = delete;

  // Opens `path` (one of the configured paths) and installs it in its slot
  // as a new generation; the work around the swap (inheriting rendered
  // answers, mapping the tree in, retiring the replaced generation) takes
  // its turns on the CPU from `work`. On any failure the slot keeps its
  // current generation and the status says why (NotFound for an
  // unconfigured path, FailedPrecondition for a refused type change, the
  // opener's error otherwise).
  absl::Status Reload(const std::string& path, BackgroundWork& work)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The same with a budget of its own (BackgroundWork's default slice).
  absl::Status Reload(const std::string& path) ABSL_LOCKS_EXCLUDED(mu_);

  // Reloads every slot; returns the first error, having tried them all.
  absl::Status ReloadAll() ABSL_LOCKS_EXCLUDED(mu_);

  // Looks `ip` up in every loaded database, merging their answers.
  // InvalidArgument when `language` fails ValidateLanguage (checked first,
  // so an oversized language is refused before it reaches any cache).
  // Unavailable when no database is loaded yet. Databases of IPv4-only slots
  // are skipped for IPv6 addresses. A damaged record fails the lookup
  // (DataLoss naming the database).
  absl::StatusOr<geo::v1::LookupResponse> Lookup(
      const IpAddress& ip, absl::string_view language) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // The same lookup as the cached records it is made of (no message built):
  // what the front ends call on their hot path.
  absl::StatusOr<LookupAnswer> Find(const IpAddress& ip,
                                    absl::string_view language) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Installs the local overrides every later lookup applies (null: none).
  // Lookups in flight finish with the overrides they started with.
  void SetOverrides(std::shared_ptr<const Overrides> overrides)
      ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<const Overrides> overrides() const ABSL_LOCKS_EXCLUDED(mu_);

  // The loaded databases in slot order (unloaded slots left out).
  std::vector<std::shared_ptr<const Database>> Databases() const
      ABSL_LOCKS_EXCLUDED(mu_);

  // The database in `path`'s slot, or null.
  std::shared_ptr<const Database> Get(const std::string& path) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The generation in `path`'s slot (its cache and decode statistics), or
  // null.
  std::shared_ptr<const DatabaseGeneration> Generation(
      const std::string& path) const ABSL_LOCKS_EXCLUDED(mu_);

  // True when every slot holds a database.
  bool ready() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::vector<std::string>& paths() const { return options_.paths; }

 private:
  // The loaded generations in slot order, without a heap allocation for the
  // usual one or two slots. `overrides`, when not null, receives the
  // overrides under the same lock.
  absl::InlinedVector<std::shared_ptr<const DatabaseGeneration>, 2> Snapshot(
      std::shared_ptr<const Overrides>* overrides = nullptr) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The index of `path` in options_.paths, or nullopt.
  std::optional<size_t> SlotOf(const std::string& path) const;
  std::shared_ptr<DatabaseGeneration> SlotGeneration(size_t slot) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Puts `next` in `slot`; `replaced` receives what was there.
  absl::Status Install(size_t slot, std::shared_ptr<DatabaseGeneration> next,
                       std::shared_ptr<DatabaseGeneration>* replaced)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Logs and tells the observer how a reload that started at `start` ended;
  // returns `status`.
  absl::Status Finish(const std::string& path, const absl::Status& status,
                      const Database* database, absl::Time start) const;

  const GeoStoreOptions options_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  // One per options_.paths entry; null until the first successful load.
  // Non-const: the reload sequence drives each generation's lifecycle;
  // lookups see them as const.
  std::vector<std::shared_ptr<DatabaseGeneration>> slots_ ABSL_GUARDED_BY(mu_);
  // Null, or non-empty overrides.
  std::shared_ptr<const Overrides> overrides_ ABSL_GUARDED_BY(mu_);
};

}  // namespace geo

#endif  // GEO_DATA_GEO_STORE_H_
