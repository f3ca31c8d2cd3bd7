// One open MaxMind DB (.mmdb) file: validated at open, immutable after, shared
// read-only by all threads, closed when the last holder lets go. What changes
// from reload to reload (the decode cache, inherited answers, retirement)
// lives in DatabaseGeneration (geo/data/database_generation.h).
#ifndef GEO_DATA_DATABASE_H_
#define GEO_DATA_DATABASE_H_

#include <maxminddb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/clock.h"
#include "geo/common/ip_address.h"
#include "geo/data/decoded_record.h"
#include "geo/data/ipv4_prefix_index.h"
#include "geo/data/lookup_answer.h"
#include "geo/data/maxmind_decoder.h"

namespace geo {

struct DatabaseOptions {
  // The decode budget of one record (see DecodeBudget); the metadata section
  // is walked within the same budget before MMDB_open.
  size_t max_record_entries = DecodeBudget().max_entries;
  size_t max_record_bytes = DecodeBudget().max_bytes;
  // Where loaded_at() comes from; the real clock when null. Not owned.
  Clock* clock = nullptr;
};

// Where the search tree leads for an address: the record's data-section
// offset and the network it was found for, in CIDR form (the text a lookup
// answers with; small, where an IpNetwork holds a sockaddr_storage).
struct RecordLocation {
  uint32_t offset = 0;
  std::string network;
};

// The message form of a Find, shared by Database::Lookup and
// DatabaseGeneration::Lookup: runs `find` on an answer for `response->ip()`
// (`ip` when that is empty) and, when it succeeds, merges the answer into
// `response`. Returns `find`'s status.
absl::Status FindIntoResponse(
    const IpAddress& ip, geo::v1::LookupResponse* response,
    absl::FunctionRef<absl::Status(LookupAnswer*)> find);

// RAII over an MMDB_s opened with MMDB_MODE_MMAP. Immutable after Open (no
// mutable state), so thread-safe: libmaxminddb lookups on one MMDB_s need no
// locking. Always held through std::shared_ptr<const Database> so a reload can
// drop its reference while lookups in flight keep the mapping alive.
class Database {
 public:
  // Opens and validates `path`: libmaxminddb's own checks (metadata marker,
  // search tree size), then the metadata (database_type, ip_version 4 or 6,
  // record size, format version 2, a plausible build_epoch, node count, all
  // metadata decodable) and probe lookups whose records must decode. Errors
  // name the path and the reason: the errno's status (absl::ErrnoToStatus:
  // NotFound, PermissionDenied, ...) when the OS refuses the file, DataLoss
  // for an empty, damaged or foreign one.
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

  // The metadata as the API reports it.
  geo::v1::DatabaseInfo Info() const;

  // The search-tree half of a lookup: where `ip`'s record is, or nullopt when
  // the database has none. The network is in IPv4 form for IPv4 and
  // IPv4-mapped addresses, which are looked up as IPv4 so IPv4-only databases
  // and the IPv4 subtree of IPv6 databases answer them alike.
  // InvalidArgument for an IPv6 address in an IPv4-only database; DataLoss
  // when the tree is damaged.
  absl::StatusOr<std::optional<RecordLocation>> Locate(
      const IpAddress& ip) const;

  // The decoding half: the record at data-section `offset` in `language`
  // (which must pass ValidateLanguage), from scratch, within the decode
  // budget. `*language_found`: the record has names in `language`.
  // `*failed_in_fields`: the record's structure decoded but a field did not
  // (a failure that may depend on the language). DataLoss as
  // MaxmindDecoder::Decode; `*record` is then unspecified.
  absl::Status Decode(uint32_t offset, absl::string_view language,
                      DecodedRecord* record, bool* language_found,
                      bool* failed_in_fields) const;

  // Locate and Decode together, uncached: every call decodes. Lookups that
  // serve traffic go through a DatabaseGeneration, which caches decoded
  // records and remembers failures. Merges what this database knows into
  // `response`: continent, countries, subdivisions (largest first), city,
  // location, postal, traits and the autonomous system, names in `language`
  // falling back to "en". `language` must pass ValidateLanguage (else
  // INVALID_ARGUMENT). Sets `found` and, when still empty, `ip` and `network`.
  // No record is not an error. Errors as Locate and Decode, naming the
  // address and the file (RecordDecodeFailureOf says why a record failed).
  absl::Status Lookup(const IpAddress& ip, absl::string_view language,
                      geo::v1::LookupResponse* response) const;

  // The same lookup without building a message: sets `answer->ip` when
  // empty and, when this database has a record for `ip`, appends the record
  // and its network to `answer->parts`. Same errors as Lookup.
  absl::Status Find(const IpAddress& ip, absl::string_view language,
                    LookupAnswer* answer) const;

  // The mapped file, and the part of it that is the search tree (what every
  // lookup reads): for the page-table work a reload does around the swap
  // (DatabaseGeneration::MapSearchTree, Retire).
  absl::Span<const uint8_t> mapped_file() const;
  absl::Span<const uint8_t> search_tree() const;

 private:
  Database() = default;

  absl::Status ValidateAfterOpen();

  MMDB_s mmdb_;
  bool open_ = false;
  std::string path_;
  std::string type_;
  int64_t build_epoch_ = 0;
  uint32_t node_count_ = 0;
  int ip_version_ = 0;
  std::vector<std::string> languages_;
  MaxmindDecoder decoder_;
  // IPv4 lookups start from it; IPv6 ones walk from the root in libmaxminddb.
  std::optional<Ipv4PrefixIndex> ipv4_index_;
  std::string description_;
  absl::Time loaded_at_;
};

// `status` with `prefix` before its message, payloads kept (so
// RecordDecodeFailureOf still answers).
absl::Status WithContext(const absl::Status& status, absl::string_view prefix);

}  // namespace geo

#endif  // GEO_DATA_DATABASE_H_
