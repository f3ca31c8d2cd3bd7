// One open MaxMind DB (.mmdb) file: validated at open, shared read-only by all
// threads, closed when the last holder lets go.
#ifndef GEO_DATA_DATABASE_H_
#define GEO_DATA_DATABASE_H_

#include <maxminddb.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/data/ip_address.h"
#include "geo/data/lookup_answer.h"
#include "geo/data/maxmind_decoder.h"
#include "geo/data/record_cache.h"

namespace geo {

struct DatabaseOptions {
  // Slots of the decoded-record cache (rounded up to a power of two); 0
  // disables it. A GeoLite2-City record takes ~0.4 KB as wire format, ~1 KB
  // once its JSON has been rendered, so 64 Ki slots stay near 50 MB, inside
  // issue 8's RSS budget, and hit ~89% of uniformly random IPv4 lookups (real
  // traffic is far more skewed). See docs/adr/0008-decode-cache.md and 0010.
  size_t record_cache_slots = 64 * 1024;
  // The decode budget of one record. libmaxminddb follows a pointer every
  // time it is used, so a few kilobytes of a crafted data section (maps whose
  // values point twice at the next level) expand exponentially; decoding
  // stops with DataLoss when a record reaches this many entries (map keys,
  // map values, array elements, each pointer use counted again) or this many
  // bytes of strings and byte arrays. A GeoLite2-City record has ~150 entries
  // and ~3 KB of strings; a GeoIP2-Enterprise one a few hundred entries.
  size_t max_record_entries = 4096;
  size_t max_record_bytes = size_t{1} << 20;
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

// RAII over an MMDB_s opened with MMDB_MODE_MMAP. Immutable after Open, so
// thread-safe: libmaxminddb lookups on one MMDB_s need no locking. Always held
// through std::shared_ptr<const Database> so a reload can drop its reference
// while lookups in flight keep the mapping alive.
class Database {
 public:
  // Opens and validates `path`: libmaxminddb's own checks (metadata marker,
  // search tree size), then the metadata (database_type, ip_version 4 or 6,
  // record size, format version 2, a plausible build_epoch, node count, all
  // metadata decodable) and probe lookups whose records must decode. Errors
  // name the path and the reason: NotFound / PermissionDenied for the OS,
  // DataLoss for a damaged or foreign file.
  static absl::StatusOr<std::shared_ptr<const Database>> Open(
      const std::string& path, const DatabaseOptions& options = {});

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  const std::string& path() const { return path_; }
  // MaxMind database_type, e.g. "GeoIP2-City", "GeoLite2-ASN".
  const std::string& type() const { return type_; }
  absl::Time build_time() const { return absl::FromUnixSeconds(build_epoch_); }
  int64_t build_epoch() const { return build_epoch_; }
  uint32_t node_count() const { return node_count_; }
  // 4 or 6. An IPv6 database answers IPv4 addresses too.
  int ip_version() const { return ip_version_; }
  const std::vector<std::string>& languages() const { return languages_; }
  // The English description, else any one.
  const std::string& description() const { return description_; }
  absl::Time loaded_at() const { return loaded_at_; }

  // Takes the records `previous` (the database this one replaces) has
  // cached, so that a miss here reuses the rendered answer of an identical
  // record there. Held until this database has missed twice as many times
  // as it took records (its cache has turned over by then), then released.
  // Called by GeoStore before the swap; a no-op without caches.
  void InheritRenderedAnswers(const Database& previous) const
      ABSL_LOCKS_EXCLUDED(previous_mu_);

  // Lets go of what InheritRenderedAnswers took. GeoStore calls it when it
  // starts replacing this database, so that a reload never holds two
  // generations of inherited records: the reload-time memory peak stays two
  // files and two caches.
  void ReleaseInheritedRecords() const ABSL_LOCKS_EXCLUDED(previous_mu_);

  // Called by GeoStore on the reloading thread once this database has been
  // replaced: empties its record cache and drops its page mappings in
  // chunks, yielding the CPU in between, so that whichever thread lets go of
  // it last (possibly a request thread) has little left to free. Lookups
  // still running on it keep working: a miss decodes, a page faults back in.
  void Retire() const;

  // Hits and misses of the decoded-record cache; all zero when disabled.
  RecordCacheStats record_cache_stats() const;
  // Approximate while lookups run (relaxed counters).
  RecordDecodeStats record_decode_stats() const;

  // The metadata as the API reports it.
  geo::v1::DatabaseInfo Info() const;

  // Looks up `ip` and merges what this database knows into `response`:
  // continent, countries, subdivisions (largest first), city, location,
  // postal, traits and the autonomous system, names in `language` falling
  // back to "en". `language` must pass ValidateLanguage (else
  // INVALID_ARGUMENT). Sets `found` and, when still empty,
  // `ip` and `network` (the matched network in CIDR form; IPv4 form for IPv4
  // and IPv4-mapped addresses, which are looked up as IPv4 so IPv4-only
  // databases and the IPv4 subtree of IPv6 databases answer them alike). No
  // record is not an error. InvalidArgument for an IPv6 address in an IPv4-only
  // database; DataLoss when the tree or the record is damaged or the record
  // exceeds the decode budget (RecordDecodeFailureOf says which). A record that
  // failed to decode is remembered (a bounded memo), so asking again
  // returns the same error without decoding again.
  absl::Status Lookup(const IpAddress& ip, absl::string_view language,
                      geo::v1::LookupResponse* response) const;

  // The same lookup without building a message: sets `answer->ip` when
  // empty and, when this database has a record for `ip`, appends the cached
  // record and its network to `answer->parts`. Same errors as Lookup.
  absl::Status Find(const IpAddress& ip, absl::string_view language,
                    LookupAnswer* answer) const;

 private:
  Database() = default;

  // The one place a data-section record becomes API fields: answers from
  // the record cache by the entry's offset, decoding (and caching) on a miss.
  absl::StatusOr<std::shared_ptr<const DecodedRecord>> DecodeRecord(
      const MMDB_entry_s& entry, absl::string_view language) const;
  // Decodes the record at `entry` into `record` from scratch, within the
  // decode budget. `language_found`: the record has names in `language`.
  // `fields_failed`: the record's structure decoded but a field did not (a
  // failure that may depend on the language).
  absl::Status DecodeUncached(const MMDB_entry_s& entry,
                              absl::string_view language, DecodedRecord* record,
                              bool* language_found, bool* fields_failed) const;

  absl::Status ValidateAfterOpen();
  // Maps the whole file's pages into this process (see database.cc).
  void Prefault() const;

  MMDB_s mmdb_;
  bool open_ = false;
  std::string path_;
  std::string type_;
  int64_t build_epoch_ = 0;
  uint32_t node_count_ = 0;
  int ip_version_ = 0;
  std::vector<std::string> languages_;
  MaxmindDecoder decoder_;
  std::string description_;
  absl::Time loaded_at_;
  // Null when disabled. Created before the probe lookups, so they warm it.
  std::unique_ptr<RecordCache> record_cache_;
  // Records that failed to decode, by offset and language; never null.
  std::unique_ptr<FailedDecodes> failed_decodes_;
  mutable std::atomic<uint64_t> decodes_{0};
  mutable std::atomic<uint64_t> decode_failures_{0};
  mutable std::atomic<uint64_t> remembered_failures_{0};
  // What InheritRenderedAnswers took, and the misses left before it is let
  // go. Consulted on misses only.
  mutable absl::Mutex previous_mu_;
  mutable std::shared_ptr<const PreviousRecords> previous_records_
      ABSL_GUARDED_BY(previous_mu_);
  mutable size_t misses_until_release_ ABSL_GUARDED_BY(previous_mu_) = 0;
};

}  // namespace geo

#endif  // GEO_DATA_DATABASE_H_
