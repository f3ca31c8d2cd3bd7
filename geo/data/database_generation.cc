#include "geo/data/database_generation.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "geo/data/language.h"
#include "geo/data/maxmind_decoder.h"

namespace geo {
namespace {

// Page-table work on the mapping goes in chunks of this size (~0.2 ms each),
// with a budget step in between: in one call the GeoLite2-City tree is
// ~10 ms that a request thread sharing the core would wait.
constexpr size_t kChunkBytes = size_t{1} << 20;

}  // namespace

// The records whose decode failed, so that asking again (a client retrying,
// every replica's load balancer retrying) answers with the error at once
// instead of paying the decode budget again. Bounded: one slot per offset
// hash, a new failure replacing the slot's occupant, so a file full of bad
// records costs one budget per lookup at worst, never unbounded memory.
// A failure of the walk (budget, malformed data) holds for every language;
// one found while reading fields (a name of the wrong type) only for the
// language asked, identified by a 31-bit hash. Thread-safe; a lookup that
// misses the cache reads one atomic here, and takes the lock only when the
// slot holds its offset.
class FailedDecodes {
 public:
  // `language_tag`: 0 for a failure in any language, else LanguageTag().
  static uint32_t LanguageTag(absl::string_view language) {
    return static_cast<uint32_t>(absl::HashOf(language) & 0x7fffffff) | 1;
  }

  std::optional<absl::Status> Find(uint32_t offset,
                                   absl::string_view language) const {
    const size_t slot = SlotOf(offset);
    const uint64_t key = keys_[slot].load(std::memory_order_acquire);
    if (!Matches(key, offset, language)) return std::nullopt;
    absl::MutexLock lock(&mu_);
    if (keys_[slot].load(std::memory_order_relaxed) != key) {
      return std::nullopt;
    }
    return statuses_[slot];
  }

  void Remember(uint32_t offset, uint32_t language_tag,
                const absl::Status& error) {
    const size_t slot = SlotOf(offset);
    absl::MutexLock lock(&mu_);
    statuses_[slot] = error;
    keys_[slot].store((uint64_t{offset} << 32) | (language_tag << 1) | 1,
                      std::memory_order_release);
  }

 private:
  static constexpr size_t kSlots = 1024;
  static size_t SlotOf(uint32_t offset) {
    return absl::HashOf(offset) & (kSlots - 1);
  }
  // Key: offset << 32 | tag << 1 | 1; 0 marks an empty slot.
  static bool Matches(uint64_t key, uint32_t offset,
                      absl::string_view language) {
    if ((key & 1) == 0 || (key >> 32) != offset) return false;
    const uint32_t tag = static_cast<uint32_t>(key >> 1) & 0x7fffffff;
    return tag == 0 || tag == LanguageTag(language);
  }

  std::array<std::atomic<uint64_t>, kSlots> keys_{};
  mutable absl::Mutex mu_;
  // The error for keys_[i]; written under mu_ before the key is published.
  std::array<absl::Status, kSlots> statuses_ ABSL_GUARDED_BY(mu_);
};

DatabaseGeneration::DatabaseGeneration(std::shared_ptr<const Database> database,
                                       const GenerationOptions& options)
    : database_(std::move(database)),
      record_cache_(
          options.record_cache_slots > 0
              ? std::make_unique<RecordCache>(options.record_cache_slots)
              : nullptr),
      failed_decodes_(std::make_unique<FailedDecodes>()) {}

DatabaseGeneration::~DatabaseGeneration() = default;

absl::StatusOr<std::shared_ptr<DatabaseGeneration>> DatabaseGeneration::Open(
    const std::string& path, const DatabaseOptions& database_options,
    const GenerationOptions& options) {
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(path, database_options);
  if (!database.ok()) return database.status();
  return std::make_shared<DatabaseGeneration>(*std::move(database), options);
}

absl::Status DatabaseGeneration::Lookup(
    const IpAddress& ip, absl::string_view language,
    geo::v1::LookupResponse* response) const {
  return FindIntoResponse(ip, response, [&](LookupAnswer* answer) {
    return Find(ip, language, answer);
  });
}

absl::Status DatabaseGeneration::Find(const IpAddress& ip,
                                      absl::string_view language,
                                      LookupAnswer* answer) const {
  absl::Status valid_language = ValidateLanguage(language);
  if (!valid_language.ok()) return valid_language;
  absl::StatusOr<std::optional<RecordLocation>> location =
      database_->Locate(ip);
  if (!location.ok()) return location.status();
  if (answer->ip.empty()) answer->ip = ip.ToString();
  if (!location->has_value()) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const DecodedRecord>> record =
      CachedRecord((*location)->offset, language);
  if (!record.ok()) {
    return WithContext(record.status(),
                       absl::StrCat("record for ", ip.ToString(), " in ",
                                    database_->path(), ": "));
  }
  answer->parts.push_back(
      AnswerPart{*std::move(record), std::move((*location)->network)});
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const DecodedRecord>>
DatabaseGeneration::CachedRecord(uint32_t offset,
                                 absl::string_view language) const {
  // The offset identifies the record within this generation's file only;
  // the cache dies with the generation, so a reload can never serve the old
  // file's records. A record is cached under a language only when it has
  // names in it, and otherwise under "en" (its answer in such a language is
  // its English answer, and name_languages says which languages those are).
  std::shared_ptr<const DecodedRecord> english;
  if (record_cache_ != nullptr) {
    // The default (empty) language almost never has names of its own: try
    // English first for it, the language itself first for the others.
    const bool english_first = language.empty();
    std::shared_ptr<const DecodedRecord> cached;
    if (!english_first) {
      cached = record_cache_->Find(offset, language);
      if (cached != nullptr) return cached;
    }
    if (language != "en") {
      english = record_cache_->Find(offset, "en");
      if (english != nullptr &&
          (english->name_languages & NameLanguageBit(language)) == 0) {
        return english;
      }
    }
    if (english_first) {
      cached = record_cache_->Find(offset, language);
      if (cached != nullptr) return cached;
    }
  }
  if (std::optional<absl::Status> failed =
          failed_decodes_->Find(offset, language)) {
    remembered_failures_.fetch_add(1, std::memory_order_relaxed);
    return *std::move(failed);
  }
  decodes_.fetch_add(1, std::memory_order_relaxed);
  DecodedRecord decoded;
  bool language_found = false;
  bool failed_in_fields = false;
  absl::Status status = database_->Decode(offset, language, &decoded,
                                          &language_found, &failed_in_fields);
  // Damaged records are not cached, but remembered: every lookup reports
  // them, and none decodes them again.
  if (!status.ok()) {
    decode_failures_.fetch_add(1, std::memory_order_relaxed);
    failed_decodes_->Remember(
        offset, failed_in_fields ? FailedDecodes::LanguageTag(language) : 0,
        status);
    return status;
  }
  if (!language_found && language != "en") {
    // Exactly the English answer: keep one copy, under "en".
    if (english != nullptr) return english;
    decoded.language = "en";
  }
  if (record_cache_ == nullptr) {
    return std::make_shared<const DecodedRecord>(std::move(decoded));
  }
  if (const std::shared_ptr<const PreviousRecords> inherited =
          InheritedOnMiss()) {
    if (const DecodedRecord* same = inherited->Find(decoded)) {
      decoded.ShareRenderedAnswer(*same);
    }
  }
  return record_cache_->Insert(std::move(decoded));
}

std::shared_ptr<const PreviousRecords> DatabaseGeneration::InheritedOnMiss()
    const {
  std::shared_ptr<const PreviousRecords> inherited;
  absl::MutexLock lock(&inherited_mu_);
  if (inherited_ != nullptr && --misses_until_release_ == 0) {
    // Freed outside the lock, when the caller lets go of it.
    inherited = std::move(inherited_);
  } else {
    inherited = inherited_;
  }
  return inherited;
}

RecordCacheStats DatabaseGeneration::record_cache_stats() const {
  if (record_cache_ == nullptr) return RecordCacheStats();
  return record_cache_->Stats();
}

RecordDecodeStats DatabaseGeneration::record_decode_stats() const {
  RecordDecodeStats stats;
  stats.decodes = decodes_.load(std::memory_order_relaxed);
  stats.failures = decode_failures_.load(std::memory_order_relaxed);
  stats.remembered_failures =
      remembered_failures_.load(std::memory_order_relaxed);
  return stats;
}

void DatabaseGeneration::ReleaseInheritedAnswers() {
  std::shared_ptr<const PreviousRecords> released;
  absl::MutexLock lock(&inherited_mu_);
  // Freed after the lock is released (destruction order: lock first).
  released = std::move(inherited_);
}

void DatabaseGeneration::InheritRenderedAnswers(
    const DatabaseGeneration& previous, BackgroundWork& work) {
  if (record_cache_ == nullptr || previous.record_cache_ == nullptr) return;
  // Only what `previous` cached, not what it inherited in turn: passing
  // inheritances on kept renders across a run of quick reloads, but held two
  // generations of records during the next open and pushed the reload's
  // memory peak past its budget (ADR 0010).
  auto inherited = std::make_shared<const PreviousRecords>(
      previous.record_cache_->Records(), record_cache_->capacity(), work);
  if (inherited->size() == 0) return;
  absl::MutexLock lock(&inherited_mu_);
  misses_until_release_ = 2 * inherited->size();
  inherited_ = std::move(inherited);
}

void DatabaseGeneration::MapSearchTree(BackgroundWork& work) const {
  // A fresh mapping has no page-table entries: without this, the first
  // lookups after a reload take a page fault per tree page they touch (the
  // 43 MB tree of GeoLite2-City is ~10,000 pages), on the serving threads,
  // and in a paravirtualised guest each fault is expensive; `make bench`
  // measured p99 during reloads at many times the steady p99. The pages are
  // in the page cache already (the file was just written or read), so this
  // costs page-table work, not I/O. Only the search tree before the swap:
  // populating the data section too while the replaced mapping is still
  // populated put the reload's memory peak past its budget (ADR 0010);
  // MapDataSection does it once that mapping is gone.
  MapPages(database_->search_tree(), work);
}

void DatabaseGeneration::MapDataSection(BackgroundWork& work) const {
  const absl::Span<const uint8_t> file = database_->mapped_file();
  const size_t tree = database_->search_tree().size();
  if (tree >= file.size()) return;
  // madvise wants a page-aligned start: from the page the data section
  // starts in (the tree's last page, already mapped).
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t start = tree / page * page;
  MapPages(file.subspan(start), work);
}

void DatabaseGeneration::MapPages(absl::Span<const uint8_t> pages,
                                  BackgroundWork& work) {
  if (pages.empty()) return;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  // The caller passes a page-aligned start, and every chunk's is. madvise
  // takes a non-const pointer but does not write the pages.
  uint8_t* start = const_cast<uint8_t*>(pages.data());
  volatile uint8_t sink = 0;
  for (size_t chunk = 0; chunk < pages.size(); chunk += kChunkBytes) {
    const size_t chunk_length = std::min(kChunkBytes, pages.size() - chunk);
    bool populated = false;
#ifdef MADV_POPULATE_READ
    populated = madvise(start + chunk, chunk_length, MADV_POPULATE_READ) == 0;
#endif
    if (!populated) {  // Older kernels (< 5.14): touch one byte per page.
      for (size_t offset = chunk; offset < chunk + chunk_length;
           offset += page) {
        sink = sink + pages[offset];
      }
    }
    work.Step();
  }
  (void)sink;
}

void DatabaseGeneration::Retire(BackgroundWork& work) {
  if (record_cache_ != nullptr) record_cache_->Clear(work);
  ReleaseInheritedAnswers();
  const absl::Span<const uint8_t> file = database_->mapped_file();
  uint8_t* start = const_cast<uint8_t*>(file.data());
  for (size_t chunk = 0; chunk < file.size(); chunk += kChunkBytes) {
    // Drops page-table entries only: the file's pages stay in the page cache
    // and a lookup still reading them faults them back in.
    madvise(start + chunk, std::min(kChunkBytes, file.size() - chunk),
            MADV_DONTNEED);
    work.Step();
  }
}

}  // namespace geo
