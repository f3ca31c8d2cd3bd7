// MaxMind's source JSON for the test databases, as the oracle of end-to-end
// tests: expectations come from what the databases were built from, never
// from constants in the test.
#ifndef TESTS_E2E_SOURCE_DATA_H_
#define TESTS_E2E_SOURCE_DATA_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "geo/common/ip_address.h"
#include "google/protobuf/struct.pb.h"

namespace geo::testing {

struct SourceRecord {
  // IPv4 form for IPv4 networks, which the source writes as ::a.b.c.d/N.
  IpNetwork network;
  // The first address of `network`, as a client would send it.
  std::string address;
  google::protobuf::Struct record;
};

// Parses a source-data/*.json file (a list of {"network": {record}} objects)
// with LoadSourceNetworks: in file order, a later entry for a network
// replacing an earlier one.
absl::StatusOr<std::vector<SourceRecord>> LoadSourceRecords(
    const std::string& path);

// The string at a dotted path ("country.iso_code", "subdivisions.0.iso_code",
// "city.names.en"); empty when absent.
std::string StringAt(const google::protobuf::Struct& record,
                     const std::string& path);
// The number at a dotted path; 0 when absent.
double NumberAt(const google::protobuf::Struct& record,
                const std::string& path);

// The first record (in file order) of an IPv4 network that satisfies `want`.
const SourceRecord* FindIpv4(
    const std::vector<SourceRecord>& records,
    const std::function<bool(const SourceRecord&)>& want);

// True when no network in `records` contains `address`.
bool Uncovered(const std::vector<SourceRecord>& records,
               const IpAddress& address);

}  // namespace geo::testing

#endif  // TESTS_E2E_SOURCE_DATA_H_
