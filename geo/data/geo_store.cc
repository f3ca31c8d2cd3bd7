#include "geo/data/geo_store.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "geo/common/logging.h"
#include "geo/data/language.h"

namespace geo {

GeoStore::GeoStore(GeoStoreOptions options)
    : options_(std::move(options)), slots_(options_.paths.size()) {}

absl::Status GeoStore::Reload(const std::string& path) {
  const absl::Time start = absl::Now();
  size_t slot = options_.paths.size();
  for (size_t i = 0; i < options_.paths.size(); ++i) {
    if (options_.paths[i] == path) {
      slot = i;
      break;
    }
  }
  if (slot == options_.paths.size()) {
    absl::Status status = absl::NotFoundError(
        absl::StrCat("cannot reload ", path, ": not a configured database"));
    Report(path, status, nullptr, absl::Now() - start);
    return status;
  }
  const std::shared_ptr<const Database> current = Get(path);
  // Before the open, so that a reload holds one generation of inherited
  // records at most: the reload's memory peak is two files and two caches.
  if (current != nullptr) current->ReleaseInheritedRecords();
  // The expensive part (mmap, validation, probe lookups) runs with no lock.
  absl::StatusOr<std::shared_ptr<const Database>> database =
      options_.opener ? options_.opener(path) : Database::Open(path);
  absl::Status status = database.status();
  if (status.ok()) {
    // Still outside the lock: the new database takes the records the one it
    // replaces has cached, to reuse their rendered answers.
    if (current != nullptr) (*database)->InheritRenderedAnswers(*current);
    std::shared_ptr<const Database> replaced;
    status = Install(slot, *database, &replaced);
    // Freeing the replaced database (its cache, its mappings) is work too:
    // done here in small steps, not by whichever lookup lets go of it last.
    if (replaced != nullptr) replaced->Retire();
  }
  Report(path, status, status.ok() ? database->get() : nullptr,
         absl::Now() - start);
  return status;
}

absl::Status GeoStore::Install(size_t slot,
                               std::shared_ptr<const Database> database,
                               std::shared_ptr<const Database>* replaced) {
  std::shared_ptr<const Database>& previous = *replaced;
  {
    absl::MutexLock lock(&mu_);
    const std::shared_ptr<const Database>& current = slots_[slot];
    if (current != nullptr && !options_.allow_type_change &&
        current->type() != database->type()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing to replace ", current->type(), " database with ",
          database->type(), " from ", database->path(),
          " (database_type changed; set allow_type_change to permit)"));
    }
    previous = std::move(slots_[slot]);
    slots_[slot] = std::move(database);
  }
  // The caller releases `previous`, outside the lock.
  return absl::OkStatus();
}

void GeoStore::Report(const std::string& path, const absl::Status& status,
                      const Database* database, absl::Duration duration) const {
  if (options_.log_reloads) {
    if (status.ok()) {
      Log(LogLevel::kInfo, "Database reloaded",
          {{"path", path},
           {"type", database->type()},
           {"build_epoch", database->build_epoch()},
           {"node_count", database->node_count()},
           {"duration", duration}});
    } else {
      Log(LogLevel::kWarn, "Database reload failed; keeping current database",
          {{"path", path}, {"error", status}, {"duration", duration}});
    }
  }
  if (options_.observer != nullptr) {
    options_.observer->OnReload(path, status, database, duration);
  }
}

absl::Status GeoStore::ReloadAll() {
  absl::Status first;
  for (const std::string& path : options_.paths) {
    absl::Status status = Reload(path);
    if (first.ok()) first = status;
  }
  return first;
}

absl::StatusOr<geo::v1::LookupResponse> GeoStore::Lookup(
    const IpAddress& ip, absl::string_view language) const {
  absl::StatusOr<LookupAnswer> answer = Find(ip, language);
  if (!answer.ok()) return answer.status();
  geo::v1::LookupResponse response;
  answer->ToResponse(&response);
  return response;
}

absl::StatusOr<LookupAnswer> GeoStore::Find(const IpAddress& ip,
                                            absl::string_view language) const {
  absl::Status valid_language = ValidateLanguage(language);
  if (!valid_language.ok()) return valid_language;
  std::shared_ptr<const Overrides> overrides;
  const absl::InlinedVector<std::shared_ptr<const Database>, 2> databases =
      Snapshot(&overrides);
  if (databases.empty()) {
    return absl::UnavailableError("no geo-IP database loaded yet");
  }
  LookupAnswer answer;
  answer.ip = ip.ToString();
  const bool v6_only = !ip.Unmapped().is_v4();
  for (const std::shared_ptr<const Database>& database : databases) {
    if (v6_only && database->ip_version() == 4) continue;
    absl::Status status = database->Find(ip, language, &answer);
    if (!status.ok()) {
      if (options_.observer != nullptr) {
        if (std::optional<RecordDecodeFailure> failure =
                RecordDecodeFailureOf(status)) {
          options_.observer->OnRecordDecodeFailure(*failure);
        }
      }
      return status;
    }
  }
  if (overrides != nullptr) {
    answer.local_override = overrides->Find(ip);
    if (answer.local_override != nullptr) {
      answer.overrides = std::move(overrides);
      if (options_.observer != nullptr) options_.observer->OnOverrideHit();
    }
  }
  return answer;
}

void GeoStore::SetOverrides(std::shared_ptr<const Overrides> overrides) {
  if (overrides != nullptr && overrides->empty()) overrides = nullptr;
  absl::MutexLock lock(&mu_);
  // The replaced overrides are freed after the lock is released (if no
  // lookup holds them): `overrides` is destroyed after `lock`.
  std::swap(overrides_, overrides);
}

std::shared_ptr<const Overrides> GeoStore::overrides() const {
  absl::ReaderMutexLock lock(&mu_);
  return overrides_;
}

absl::InlinedVector<std::shared_ptr<const Database>, 2> GeoStore::Snapshot(
    std::shared_ptr<const Overrides>* overrides) const {
  absl::InlinedVector<std::shared_ptr<const Database>, 2> databases;
  absl::ReaderMutexLock lock(&mu_);
  if (overrides != nullptr) *overrides = overrides_;
  for (const std::shared_ptr<const Database>& database : slots_) {
    if (database != nullptr) databases.push_back(database);
  }
  return databases;
}

std::vector<std::shared_ptr<const Database>> GeoStore::Databases() const {
  std::vector<std::shared_ptr<const Database>> databases;
  databases.reserve(options_.paths.size());
  absl::ReaderMutexLock lock(&mu_);
  for (const std::shared_ptr<const Database>& database : slots_) {
    if (database != nullptr) databases.push_back(database);
  }
  return databases;
}

std::shared_ptr<const Database> GeoStore::Get(const std::string& path) const {
  absl::ReaderMutexLock lock(&mu_);
  for (size_t i = 0; i < options_.paths.size(); ++i) {
    if (options_.paths[i] == path) return slots_[i];
  }
  return nullptr;
}

bool GeoStore::ready() const {
  absl::ReaderMutexLock lock(&mu_);
  for (const std::shared_ptr<const Database>& database : slots_) {
    if (database == nullptr) return false;
  }
  return !slots_.empty();
}

}  // namespace geo
