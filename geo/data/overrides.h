// Local overrides: an operator's corrections to the databases, in RFC 8805
// geofeed form, applied on top of every lookup.
//
// One entry per line: `prefix,country,region,city,postal[,asn[,organization]]`
//   prefix   a CIDR network without host bits ("192.0.2.0/24"), or an
//            address; IPv4 networks also cover their IPv4-mapped form
//   country  ISO 3166-1 alpha-2 ("DE"), case-insensitive; may be empty
//   region   ISO 3166-2 of that country ("DE-BE"); may be empty
//   city     free text; may be empty
//   postal   free text; may be empty
//   asn      autonomous system number, "64500" or "AS64500" (an extension
//            of RFC 8805, as are the columns after it); may be empty
//   organization  the autonomous system's organisation; may be empty
// '#' starts a comment line; blank lines are ignored; fields are trimmed.
// There is no quoting: a field cannot contain a comma.
//
// How an entry changes an answer (the longest matching prefix wins, no
// merging between entries):
//   - location: when any of country, region, city, postal is given, the
//     answer's place is the entry's, whole: country, subdivisions, city and
//     postal are replaced (an empty column leaves that field empty), and
//     continent, location and represented_country are dropped, because they
//     described the database's place, not the entry's.
//     registered_country (where the network is registered) stays.
//   - autonomous system: when asn or organization is given, the answer's
//     autonomous_system is replaced, with the entry's prefix as its network.
//   - everything else (traits, anonymizer) stays as the databases say.
// The answer's `local_override` names the entry's prefix and the fields it
// replaced.
#ifndef GEO_DATA_OVERRIDES_H_
#define GEO_DATA_OVERRIDES_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/ip_address.h"

namespace geo {

// One line of the file. Immutable.
struct OverrideEntry {
  explicit OverrideEntry(const IpNetwork& prefix) : network(prefix) {}

  IpNetwork network;
  // 1-based line in the file.
  int line = 0;
  // Upper case; empty when not given.
  std::string country;
  // The part after "CC-" ("BE" of "DE-BE"), as MaxMind stores subdivisions.
  std::string subdivision;
  std::string city;
  std::string postal;
  uint32_t asn = 0;
  std::string organization;

  bool overrides_location() const {
    return !country.empty() || !subdivision.empty() || !city.empty() ||
           !postal.empty();
  }
  bool overrides_autonomous_system() const {
    return asn != 0 || !organization.empty();
  }

  // Replaces the fields of `response` this entry overrides and records them
  // in response->local_override (see the file comment). Sets found, and
  // network when no database matched.
  void ApplyTo(geo::v1::LookupResponse* response) const;
};

// Immutable once built; thread-safe.
class Overrides {
 public:
  // Parses a whole file. Any bad line rejects the file: InvalidArgument
  // naming `name` (the path, for messages), the line number and the reason
  // (wrong column count, a prefix that does not parse or has host bits, a
  // country that is not ISO 3166-1, a region not of that country, a bad ASN,
  // a prefix listed twice). An empty file (or only comments) is valid and
  // overrides nothing.
  static absl::StatusOr<std::shared_ptr<const Overrides>> Parse(
      absl::string_view content, absl::string_view name = "overrides");
  // Reads and parses `path`; files over 64 MiB are refused.
  static absl::StatusOr<std::shared_ptr<const Overrides>> FromFile(
      const std::string& path);

  // The entry with the longest prefix containing `ip` (IPv4-mapped
  // addresses match IPv4 entries), or null.
  const OverrideEntry* Find(const IpAddress& ip) const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  // An address in IPv6 form (IPv4 as ::ffff:a.b.c.d), two halves.
  using Key = std::pair<uint64_t, uint64_t>;
  struct Level {
    int prefix_length = 0;  // In the IPv6 form: IPv4 /24 is 120.
    absl::flat_hash_map<Key, const OverrideEntry*> entries;
  };

  Overrides() = default;

  std::vector<std::unique_ptr<const OverrideEntry>> entries_;
  // Longest prefix first.
  std::vector<Level> levels_;
};

}  // namespace geo

#endif  // GEO_DATA_OVERRIDES_H_
