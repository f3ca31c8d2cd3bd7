// Test support for ReadDataValue: its reading of one offset held against
// libmaxminddb's (the unit test over MaxMind's test databases and the
// decoder's fuzz target both use it).
#ifndef GEO_DATA_MMDB_VALUE_TESTING_H_
#define GEO_DATA_MMDB_VALUE_TESTING_H_

#include <maxminddb.h>

#include <cstdint>
#include <optional>
#include <string>

namespace geo::testing {

// What ReadDataValue and MMDB_aget_value (empty path) read at `offset`.
struct ValueComparison {
  // Empty when both read the same in every field ReadDataValue promises
  // (both failing with the same status counts as the same), else what
  // differs.
  std::string difference;
  // The type read, when both read a value.
  std::optional<uint32_t> type;
};

ValueComparison CompareWithLibmaxminddb(const MMDB_s& mmdb, uint32_t offset);

}  // namespace geo::testing

#endif  // GEO_DATA_MMDB_VALUE_TESTING_H_
