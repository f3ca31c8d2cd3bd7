// MaxMind's source JSON (source-data/*.json) as the oracle of conformance
// tests: what each test database was built from, mapped onto the API fields
// by a table of MaxMind's key names, never by constants in a test.
#ifndef GEO_DATA_SOURCE_RECORDS_H_
#define GEO_DATA_SOURCE_RECORDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/ip_address.h"
#include "google/protobuf/struct.pb.h"

namespace geo {
namespace testing {

struct SourceNetwork {
  // IPv4 form for IPv4 networks, which the source writes as ::a.b.c.d/N.
  IpNetwork network;
  google::protobuf::Struct record;
};

// Parses a source-data file (a list of {"network": {record}} objects). A
// later entry for the same network replaces an earlier one, as in MaxMind's
// writer.
absl::StatusOr<std::vector<SourceNetwork>> LoadSourceNetworks(
    const std::string& json_path);

// An address of `source` that no more specific network of `all` covers
// (first, last, middle or just below the middle host); false when each is
// shadowed.
bool ProbeAddress(const SourceNetwork& source,
                  const std::vector<SourceNetwork>& all, IpAddress* probe);

// The network of `all` a lookup of `address` reaches: the longest prefix that
// contains it (IPv4 addresses in IPv4 form); null when none does.
const SourceNetwork* MostSpecific(const std::vector<SourceNetwork>& all,
                                  const IpAddress& address);

// The API fields `record` decodes to in `language` (names in `language`,
// else English): only the record's own fields, none of the per-lookup ones
// (ip, network, found, autonomous_system.network). Every value in the record
// must have an API field: InvalidArgument naming the source path otherwise,
// so a MaxMind field the API does not carry fails the test instead of being
// skipped. `has_subdivisions` says whether the record has the key (a merge
// then replaces earlier subdivisions).
absl::Status SourceToFields(const google::protobuf::Struct& record,
                            const std::string& language,
                            geo::v1::LookupResponse* fields,
                            bool* has_subdivisions);

}  // namespace testing
}  // namespace geo

#endif  // GEO_DATA_SOURCE_RECORDS_H_
