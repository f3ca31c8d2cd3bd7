// One generation of a database slot: an immutable Database plus what a
// reload creates, hands over and retires around it — the decoded-record
// cache, the memo of records that failed to decode, the rendered answers
// inherited from the generation it replaces, and the page-table work before
// and after the swap. GeoStore owns the generations and drives their
// lifecycle from one reload sequence (docs/adr/0016-reload-generations.md).
#ifndef GEO_DATA_DATABASE_GENERATION_H_
#define GEO_DATA_DATABASE_GENERATION_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/background_work.h"
#include "geo/common/ip_address.h"
#include "geo/data/database.h"
#include "geo/data/lookup_answer.h"
#include "geo/data/previous_records.h"
#include "geo/data/record_cache.h"

namespace geo {

struct GenerationOptions {
  // Slots of the decoded-record cache (rounded up to a power of two); 0
  // disables it. A GeoLite2-City record takes ~0.4 KB as wire format, ~1 KB
  // once its JSON has been rendered, so 64 Ki slots stay near 50 MB and hit
  // ~89% of uniformly random IPv4 lookups (real traffic is far more skewed).
  // See docs/adr/0008-decode-cache.md and 0010.
  size_t record_cache_slots = 64 * 1024;
};

struct RecordDecodeStats {
  // Records decoded from the file (cache misses that were not remembered
  // failures), and how many of those failed.
  uint64_t decodes = 0;
  uint64_t failures = 0;
  // Lookups answered with a remembered failure instead of a decode.
  uint64_t remembered_failures = 0;
};

class FailedDecodes;

// Lookups (the const methods) are thread-safe and take no lock beyond a
// cache shard's reader lock on a hit. The lifecycle methods (non-const) are
// called by the reloading thread, concurrently with lookups; each takes the
// background-work budget of the reload it belongs to.
class DatabaseGeneration {
 public:
  // A generation of `database` (not null) with an empty cache.
  DatabaseGeneration(std::shared_ptr<const Database> database,
                     const GenerationOptions& options = {});
  ~DatabaseGeneration();

  DatabaseGeneration(const DatabaseGeneration&) = delete;
  DatabaseGeneration& operator=(const DatabaseGeneration&) = delete;

  // Database::Open, then a generation of it: for tools and tests that want
  // cached lookups without a GeoStore.
  static absl::StatusOr<std::shared_ptr<DatabaseGeneration>> Open(
      const std::string& path, const DatabaseOptions& database_options = {},
      const GenerationOptions& options = {});

  const Database& database() const { return *database_; }
  const std::shared_ptr<const Database>& shared_database() const {
    return database_;
  }

  // Database::Find, answered from the cache by the record's offset, decoding
  // (and caching) on a miss. A record is cached under a language only when
  // it has names in it, else under "en", so the copies of a record are
  // bounded by the languages of the file, never by those clients ask for. A
  // lookup in a language the record has no names in is answered by the
  // English record when the record's NameLanguageBits show it; when one of
  // the record's languages shares the bit of the language asked, it decodes
  // to find out, every time (that answer is not cached again: it is the
  // English one). The default (empty) language has a bit of its own, so this
  // never happens to it. A record that failed to decode is remembered (a
  // bounded memo): asking again returns the same error without decoding
  // again.
  absl::Status Find(const IpAddress& ip, absl::string_view language,
                    LookupAnswer* answer) const;
  // Find, merged into `response` (as Database::Lookup).
  absl::Status Lookup(const IpAddress& ip, absl::string_view language,
                      geo::v1::LookupResponse* response) const;

  // Hits and misses of the decoded-record cache; all zero when disabled.
  RecordCacheStats record_cache_stats() const;
  // Approximate while lookups run (relaxed counters).
  RecordDecodeStats record_decode_stats() const;

  // --- Lifecycle, in the order a reload calls it (GeoStore::Reload). ---

  // Lets go of what InheritRenderedAnswers took. Called on the current
  // generation before its successor's file is opened, so that a reload
  // never holds two generations of inherited records: the reload's memory
  // peak stays two files and two caches.
  void ReleaseInheritedAnswers() ABSL_LOCKS_EXCLUDED(inherited_mu_);

  // Takes the records `previous` (the generation this one replaces) has
  // cached — not what it inherited in turn — so that a miss here reuses the
  // rendered answer of a record with the same language and fields there.
  // Held until this generation has missed twice as many times as it took
  // records (its cache has turned over by then), then released. Call before
  // this generation serves; a no-op without caches.
  void InheritRenderedAnswers(const DatabaseGeneration& previous,
                              BackgroundWork& work)
      ABSL_LOCKS_EXCLUDED(inherited_mu_);

  // Maps the search tree's pages into this process before the swap, so
  // that the first lookups after it do not take a page fault per tree page
  // on the serving threads. The data section is left to fault in: cache
  // misses alone read it, and they decode anyway.
  void MapSearchTree(BackgroundWork& work) const;

  // Maps the data section's pages in (records, strings), after the swap and
  // after the replaced generation has retired, so that cache misses on the
  // serving threads do not each take a page fault, while the reload's memory
  // peak (two mappings at once, before the retirement) stays at two search
  // trees and one data section.
  void MapDataSection(BackgroundWork& work) const;

  // Called once this generation has been replaced: empties its cache, lets
  // go of what it inherited and drops the file's page mappings, in steps
  // within `work`, so that whichever thread lets go of it last (possibly a
  // request thread) has little left to free. Lookups still running on it
  // keep working: a miss decodes, a page faults back in.
  void Retire(BackgroundWork& work) ABSL_LOCKS_EXCLUDED(inherited_mu_);

 private:
  absl::StatusOr<std::shared_ptr<const DecodedRecord>> CachedRecord(
      uint32_t offset, absl::string_view language) const
      ABSL_LOCKS_EXCLUDED(inherited_mu_);
  // Populates the page-table entries of `pages` (inside the mapping), a
  // budget step per kChunkBytes.
  static void MapPages(absl::Span<const uint8_t> pages, BackgroundWork& work);
  // What InheritRenderedAnswers took, counting this miss against it.
  std::shared_ptr<const PreviousRecords> InheritedOnMiss() const
      ABSL_LOCKS_EXCLUDED(inherited_mu_);

  const std::shared_ptr<const Database> database_;
  // Null when disabled.
  const std::unique_ptr<RecordCache> record_cache_;
  // Records that failed to decode, by offset and language; never null.
  const std::unique_ptr<FailedDecodes> failed_decodes_;
  // Written by lookups (relaxed), hence mutable.
  mutable std::atomic<uint64_t> decodes_{0};
  mutable std::atomic<uint64_t> decode_failures_{0};
  mutable std::atomic<uint64_t> remembered_failures_{0};
  // What InheritRenderedAnswers took, and the misses left before it is let
  // go. Consulted on misses only; a miss counts down, hence mutable.
  mutable absl::Mutex inherited_mu_;
  mutable std::shared_ptr<const PreviousRecords> inherited_
      ABSL_GUARDED_BY(inherited_mu_);
  mutable size_t misses_until_release_ ABSL_GUARDED_BY(inherited_mu_) = 0;
};

}  // namespace geo

#endif  // GEO_DATA_DATABASE_GENERATION_H_
