#include "geo/data/mmdb_value.h"

#include <maxminddb.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "geo/data/mmdb_value_testing.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

struct Comparison {
  size_t offsets = 0;
  size_t valid = 0;
  std::set<uint32_t> types;
};

// Reads every offset of `mmdb`'s data section below `limit` both ways.
void CompareEveryOffset(const MMDB_s& mmdb, uint32_t limit,
                        const std::string& file, Comparison* seen) {
  size_t mismatches = 0;
  const uint32_t end = std::min(limit, mmdb.data_section_size);
  for (uint32_t offset = 0; offset < end; ++offset) {
    const testing::ValueComparison read =
        testing::CompareWithLibmaxminddb(mmdb, offset);
    ++seen->offsets;
    if (!read.difference.empty()) {
      if (++mismatches <= 5) {
        ADD_FAILURE() << file << " offset " << offset << ": "
                      << read.difference;
      }
      continue;
    }
    if (read.type.has_value()) {
      ++seen->valid;
      seen->types.insert(*read.type);
    }
  }
  EXPECT_EQ(mismatches, 0u) << file;
}

TEST(ReadDataValueTest, ReadsEveryOffsetOfMaxmindTestDatabasesAsLibmaxminddb) {
  std::vector<std::string> files =
      testing::FilesUnder(testing::MaxmindTestDataDir(), ".mmdb");
  const std::string shared = testing::SharedMaxmindTestDataDir();
  if (!shared.empty()) {
    for (std::string& file : testing::FilesUnder(shared, ".mmdb")) {
      files.push_back(std::move(file));
    }
  }
  ASSERT_GT(files.size(), 10u) << "MaxMind's test databases are missing";
  Comparison seen;
  size_t opened = 0;
  for (const std::string& file : files) {
    MMDB_s mmdb;
    // Some of bad-data/ does not open; what opens is compared.
    if (MMDB_open(file.c_str(), MMDB_MODE_MMAP, &mmdb) != MMDB_SUCCESS) {
      continue;
    }
    ++opened;
    CompareEveryOffset(mmdb, UINT32_MAX, file, &seen);
    MMDB_close(&mmdb);
  }
  // Most offsets of a data section are inside a value, so most fail: both
  // ways, which is compared too. What must not happen is comparing nothing.
  EXPECT_GT(opened, 10u);
  EXPECT_GT(seen.valid, 10000u) << "of " << seen.offsets << " offsets";
  for (uint32_t type :
       {MMDB_DATA_TYPE_UTF8_STRING, MMDB_DATA_TYPE_DOUBLE, MMDB_DATA_TYPE_BYTES,
        MMDB_DATA_TYPE_UINT16, MMDB_DATA_TYPE_UINT32, MMDB_DATA_TYPE_MAP,
        MMDB_DATA_TYPE_INT32, MMDB_DATA_TYPE_UINT64, MMDB_DATA_TYPE_UINT128,
        MMDB_DATA_TYPE_ARRAY, MMDB_DATA_TYPE_BOOLEAN, MMDB_DATA_TYPE_FLOAT}) {
    EXPECT_TRUE(seen.types.count(type)) << "no value of type " << type;
  }
}

TEST(ReadDataValueTest, ReadsTheStartOfGeoLite2CityAsLibmaxminddb) {
  const std::string path = testing::GeoLite2CityPath();
  if (path.empty()) GTEST_SKIP() << "GeoLite2-City.mmdb is absent";
  MMDB_s mmdb;
  ASSERT_EQ(MMDB_open(path.c_str(), MMDB_MODE_MMAP, &mmdb), MMDB_SUCCESS);
  Comparison seen;
  CompareEveryOffset(mmdb, 1 << 20, path, &seen);
  MMDB_close(&mmdb);
  EXPECT_GT(seen.valid, 10000u);
}

// Sections of one or two bytes whose size bytes would lie past the end:
// libmaxminddb's checks subtract from the section's size and wrap there, so
// these are checked against the format, not against it.
TEST(ReadDataValueTest, RefusesSizeBytesPastTheEndOfATinySection) {
  constexpr uint8_t kStringType = 2 << 5;
  for (const std::vector<uint8_t>& section : std::vector<std::vector<uint8_t>>{
           {kStringType | 29},
           {kStringType | 30},
           {kStringType | 30, 0},
           {kStringType | 31, 0},
           {1 << 5 | 3 << 3},  // a 4-byte pointer with none of its bytes
           {0},                // an extended type with no type byte
       }) {
    MMDB_s mmdb{};
    mmdb.data_section = section.data();
    mmdb.data_section_size = static_cast<uint32_t>(section.size());
    MMDB_entry_data_s data;
    EXPECT_EQ(ReadDataValue(mmdb, 0, &data), MMDB_INVALID_DATA_ERROR)
        << "control byte " << int{section[0]} << ", " << section.size()
        << " bytes";
  }
}

TEST(ReadDataValueTest, FollowsOnePointerButNotTwo) {
  // 0: pointer to 4; 2: pointer to 0; 4: the string "ab".
  const std::vector<uint8_t> section = {1 << 5,     4,   1 << 5, 0,
                                        2 << 5 | 2, 'a', 'b'};
  MMDB_s mmdb{};
  mmdb.data_section = section.data();
  mmdb.data_section_size = static_cast<uint32_t>(section.size());
  MMDB_entry_data_s data;
  ASSERT_EQ(ReadDataValue(mmdb, 0, &data), MMDB_SUCCESS);
  EXPECT_EQ(data.type, MMDB_DATA_TYPE_UTF8_STRING);
  EXPECT_EQ(std::string(data.utf8_string, data.data_size), "ab");
  EXPECT_EQ(data.offset_to_next, 2u) << "a scalar continues past the pointer";
  EXPECT_EQ(ReadDataValue(mmdb, 2, &data), MMDB_INVALID_DATA_ERROR)
      << "a pointer to a pointer";
}

}  // namespace
}  // namespace geo
