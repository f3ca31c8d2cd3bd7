// The MaxMind DB data section, read into the API's fields: one record (a map
// in the data section) becomes the fields of a geo.v1.LookupResponse, within a
// budget that a crafted file cannot escape. Knows nothing of files, caches or
// reloads: Database walks the search tree and hands it the record's offset.
#ifndef GEO_DATA_MAXMIND_DECODER_H_
#define GEO_DATA_MAXMIND_DECODER_H_

#include <maxminddb.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/geo/v1/geo.pb.h"

namespace geo {

// Why a record could not be decoded: the `reason` label of the server's
// geo_record_decode_failures_total, so a short, fixed set.
enum class RecordDecodeFailure : uint8_t {
  kEntryBudget = 0,  // over DecodeBudget::max_entries
  kByteBudget = 1,   // over DecodeBudget::max_bytes
  kInvalidData = 2,  // malformed data, or a field of the wrong type
};
// "entry_budget", "byte_budget", "invalid_data".
absl::string_view RecordDecodeFailureName(RecordDecodeFailure failure);
// The failure a lookup's error carries when it failed because a record did
// not decode (as a status payload, so it survives added context); nullopt for
// any other status.
std::optional<RecordDecodeFailure> RecordDecodeFailureOf(
    const absl::Status& status);

// One bit of 64 standing for `language`, for DecodedFields::name_languages:
// a set bit means "may have names in it", a clear one "has none". The empty
// language (the default, most lookups) has bit 0 to itself, so no record's
// languages can make it look present; the others share the other 63 bits by
// a hash that is the same in every process, so that which languages share a
// bit (and what that costs, see DatabaseGeneration) does not change from one
// start of the server to the next.
inline uint64_t NameLanguageBit(absl::string_view language) {
  if (language.empty()) return 1;
  const size_t hash = std::hash<std::string_view>{}(
      std::string_view(language.data(), language.size()));
  return uint64_t{2} << (hash % 63);
}

// The decode budget of one record. libmaxminddb follows a pointer every time
// it is used, so a few kilobytes of a crafted data section (maps whose values
// point twice at the next level) expand exponentially; decoding stops with
// DataLoss when a record reaches this many entries (map keys, map values,
// array elements, each pointer use counted again) or this many bytes of
// strings and byte arrays. A GeoLite2-City record has ~150 entries and ~3 KB
// of strings; a GeoIP2-Enterprise one a few hundred entries.
struct DecodeBudget {
  size_t max_entries = 4096;
  size_t max_bytes = size_t{1} << 20;
};

// What decoding one record in one language yields.
struct DecodedFields {
  // The record decoded into an empty message.
  geo::v1::LookupResponse fields;
  // The record has a `subdivisions` key: merging it replaces the
  // subdivisions of an earlier database's answer (even with none).
  bool has_subdivisions = false;
  // The languages the record has names in, as NameLanguageBit()s: a record
  // whose bit for a language is clear decodes in it exactly as in "en".
  uint64_t name_languages = 0;
  // The record has names in the language asked for.
  bool language_found = false;
};

// Thread-safe (immutable). Each value is read by libmaxminddb's rules
// (ReadDataValue, checked against libmaxminddb itself); the walk over them,
// its budget and the mapping onto fields are ours.
class MaxmindDecoder {
 public:
  explicit MaxmindDecoder(DecodeBudget budget = {}) : budget_(budget) {}

  // Decodes the record at data-section `offset` of `mmdb` with names in
  // `language`, falling back to "en". DataLoss (RecordDecodeFailureOf says
  // why) for damaged data, a field of the wrong type or a record over the
  // budget; `*out` is then unspecified. `*failed_in_fields` (may be null) is
  // set when the record's structure decoded but a field did not: a failure
  // that may hold for `language` only.
  absl::Status Decode(const MMDB_s& mmdb, uint32_t offset,
                      absl::string_view language, DecodedFields* out,
                      bool* failed_in_fields = nullptr) const;

  // Walks the value at `offset` of a data section of `size` bytes (a file's
  // metadata section, say) within the budget, reading no fields. Same errors
  // as Decode's walk.
  absl::Status CheckWithinBudget(const uint8_t* section, size_t size,
                                 uint32_t offset) const;

  const DecodeBudget& budget() const { return budget_; }

 private:
  DecodeBudget budget_;
};

}  // namespace geo

#endif  // GEO_DATA_MAXMIND_DECODER_H_
