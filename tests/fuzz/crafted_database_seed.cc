// Writes the database fuzzer's crafted seed to argv[1]: a database whose
// records fan out through pointers (2^30 entries from < 1 KB) or repeat a
// 64 KiB string, so the fuzzer starts next to the decode budgets. Generated at
// build time rather than committed, from the same writer the tests use.
#include <cstdio>
#include <string>

#include "geo/data/test_mmdb_writer.h"
#include "tests/support/test_files.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT.mmdb\n", argv[0]);
    return 2;
  }
  geo::testing::MmdbDataWriter data;
  const uint32_t fan_out = geo::testing::WritePointerFanOut(&data, 30);
  const uint32_t long_strings = geo::testing::WriteRepeatedLongStrings(&data);
  const std::string file = geo::testing::BuildMmdb(
      {{"10.0.0.0/8", fan_out}, {"20.0.0.0/8", long_strings}}, data);
  return geo::testing::WriteFile(argv[1], file) ? 0 : 1;
}
