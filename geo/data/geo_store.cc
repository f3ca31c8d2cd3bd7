#include "geo/data/geo_store.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "geo/common/logging.h"
#include "geo/data/language.h"

namespace geo {

GeoStore::GeoStore(GeoStoreOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      slots_(options_.paths.size()) {}

absl::Status GeoStore::Reload(const std::string& path) {
  BackgroundWork work;
  return Reload(path, work);
}

absl::Status GeoStore::Reload(const std::string& path, BackgroundWork& work) {
  const absl::Time start = clock_->Now();
  const std::optional<size_t> slot = SlotOf(path);
  if (!slot.has_value()) {
    return Finish(path,
                  absl::NotFoundError(absl::StrCat(
                      "cannot reload ", path, ": not a configured database")),
                  nullptr, start);
  }
  const std::shared_ptr<DatabaseGeneration> current = SlotGeneration(*slot);

  // 1. The current generation lets go of what it inherited, before the open:
  //    a reload holds one generation of inherited records at most, so its
  //    memory peak is two files and two caches.
  if (current != nullptr) current->ReleaseInheritedAnswers();

  // 2. Open and validate the file (mmap, metadata, probe lookups), no lock
  //    held.
  DatabaseOptions database_options;
  database_options.clock = clock_;
  absl::StatusOr<std::shared_ptr<const Database>> database =
      options_.opener ? options_.opener(path)
                      : Database::Open(path, database_options);
  if (!database.ok()) return Finish(path, database.status(), nullptr, start);

  // 3. The next generation, still outside the lock: an empty cache, the
  //    current generation's records to reuse their rendered answers, and
  //    the search tree mapped in so that the first lookups do not fault.
  auto next =
      std::make_shared<DatabaseGeneration>(*database, options_.generation);
  if (current != nullptr) next->InheritRenderedAnswers(*current, work);
  next->MapSearchTree(work);

  // 4. The swap, under the writer lock.
  std::shared_ptr<DatabaseGeneration> replaced;
  const absl::Status installed = Install(*slot, next, &replaced);
  if (!installed.ok()) return Finish(path, installed, nullptr, start);

  // 5. The replaced generation is retired here, in small steps, not freed by
  //    whichever lookup lets go of it last.
  if (replaced != nullptr) replaced->Retire(work);

  // 6. With the replaced mapping dropped, the new file's data section is
  //    mapped in too, here rather than by cache misses on the serving
  //    threads, one page fault at a time.
  next->MapDataSection(work);
  return Finish(path, absl::OkStatus(), database->get(), start);
}

std::optional<size_t> GeoStore::SlotOf(const std::string& path) const {
  for (size_t i = 0; i < options_.paths.size(); ++i) {
    if (options_.paths[i] == path) return i;
  }
  return std::nullopt;
}

std::shared_ptr<DatabaseGeneration> GeoStore::SlotGeneration(
    size_t slot) const {
  absl::ReaderMutexLock lock(&mu_);
  return slots_[slot];
}

absl::Status GeoStore::Install(size_t slot,
                               std::shared_ptr<DatabaseGeneration> next,
                               std::shared_ptr<DatabaseGeneration>* replaced) {
  absl::MutexLock lock(&mu_);
  const std::shared_ptr<DatabaseGeneration>& current = slots_[slot];
  const Database& database = next->database();
  if (current != nullptr && !options_.allow_type_change &&
      current->database().type() != database.type()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to replace ", current->database().type(), " database with ",
        database.type(), " from ", database.path(),
        " (database_type changed; set allow_type_change to permit)"));
  }
  // The caller releases what was there, outside the lock.
  *replaced = std::exchange(slots_[slot], std::move(next));
  return absl::OkStatus();
}

absl::Status GeoStore::Finish(const std::string& path,
                              const absl::Status& status,
                              const Database* database,
                              absl::Time start) const {
  const absl::Duration duration = clock_->Now() - start;
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
  return status;
}

absl::Status GeoStore::ReloadAll() {
  BackgroundWork work;
  absl::Status first;
  for (const std::string& path : options_.paths) {
    absl::Status status = Reload(path, work);
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
  const absl::InlinedVector<std::shared_ptr<const DatabaseGeneration>, 2>
      generations = Snapshot(&overrides);
  if (generations.empty()) {
    return absl::UnavailableError("no geo-IP database loaded yet");
  }
  LookupAnswer answer;
  answer.ip = ip.ToString();
  const bool v6_only = !ip.Unmapped().is_v4();
  for (const std::shared_ptr<const DatabaseGeneration>& generation :
       generations) {
    if (v6_only && generation->database().ip_version() == 4) continue;
    absl::Status status = generation->Find(ip, language, &answer);
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

absl::InlinedVector<std::shared_ptr<const DatabaseGeneration>, 2>
GeoStore::Snapshot(std::shared_ptr<const Overrides>* overrides) const {
  absl::InlinedVector<std::shared_ptr<const DatabaseGeneration>, 2> generations;
  absl::ReaderMutexLock lock(&mu_);
  if (overrides != nullptr) *overrides = overrides_;
  for (const std::shared_ptr<DatabaseGeneration>& generation : slots_) {
    if (generation != nullptr) generations.push_back(generation);
  }
  return generations;
}

std::vector<std::shared_ptr<const Database>> GeoStore::Databases() const {
  std::vector<std::shared_ptr<const Database>> databases;
  databases.reserve(options_.paths.size());
  absl::ReaderMutexLock lock(&mu_);
  for (const std::shared_ptr<DatabaseGeneration>& generation : slots_) {
    if (generation != nullptr) {
      databases.push_back(generation->shared_database());
    }
  }
  return databases;
}

std::shared_ptr<const Database> GeoStore::Get(const std::string& path) const {
  const std::shared_ptr<const DatabaseGeneration> generation = Generation(path);
  return generation != nullptr ? generation->shared_database() : nullptr;
}

std::shared_ptr<const DatabaseGeneration> GeoStore::Generation(
    const std::string& path) const {
  const std::optional<size_t> slot = SlotOf(path);
  if (!slot.has_value()) return nullptr;
  return SlotGeneration(*slot);
}

bool GeoStore::ready() const {
  absl::ReaderMutexLock lock(&mu_);
  for (const std::shared_ptr<DatabaseGeneration>& generation : slots_) {
    if (generation == nullptr) return false;
  }
  return !slots_.empty();
}

}  // namespace geo
