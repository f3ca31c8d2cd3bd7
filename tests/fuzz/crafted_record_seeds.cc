// Writes the decoder fuzzer's seeds into the files named on the command line
// (each: a 4-byte big-endian record offset, then a data section): a record
// with a key of every kind the decoder reads, names in two languages and
// pointers to shared values; one whose pointers fan out (2^30 entries from
// < 1 KB); one that repeats a 64 KiB string. Generated at build time rather
// than committed, from the same writer the tests use.
#include <cstdio>
#include <string>

#include "geo/data/test_mmdb_writer.h"
#include "tests/support/test_files.h"

namespace {

using ::geo::testing::MmdbDataWriter;

std::string Seed(uint32_t offset, const MmdbDataWriter& data) {
  std::string seed;
  for (int shift = 24; shift >= 0; shift -= 8) {
    seed.push_back(static_cast<char>((offset >> shift) & 0xff));
  }
  return seed + data.bytes();
}

std::string EveryField() {
  MmdbDataWriter data;
  const uint32_t names = data.offset();
  data.Map(2).String("de").String("Berlin").String("en").String("Berlin");
  const uint32_t record = data.offset();
  data.Map(11).String("continent").Map(2).String("code").String("EU");
  data.String("names").Pointer(names);
  data.String("country").Map(3).String("iso_code").String("DE");
  data.String("is_in_european_union").Bool(true);
  data.String("geoname_id").Uint32(2921044);
  data.String("registered_country").Map(1).String("confidence").Uint16(90);
  data.String("subdivisions").Array(1).Map(2).String("iso_code").String("BE");
  data.String("names").Pointer(names);
  data.String("city").Map(1).String("names").Pointer(names);
  data.String("location").Map(3).String("latitude").Double(52.5);
  data.String("accuracy_radius").Uint16(10);
  data.String("metro_code").Uint64(7);
  data.String("postal").Map(1).String("code").String("10115");
  data.String("traits").Map(2).String("is_anycast").Bool(true);
  data.String("user_type").String("business");
  data.String("autonomous_system_number").Uint32(3320);
  data.String("is_anonymous_vpn").Bool(true);
  data.String("population_density").Uint32(4000);
  return Seed(record, data);
}

std::string FanOut() {
  MmdbDataWriter data;
  const uint32_t record = geo::testing::WritePointerFanOut(&data, 30);
  return Seed(record, data);
}

std::string LongStrings() {
  MmdbDataWriter data;
  const uint32_t record = geo::testing::WriteRepeatedLongStrings(&data);
  return Seed(record, data);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s EVERY_FIELD FAN_OUT LONG_STRINGS\n",
                 argv[0]);
    return 2;
  }
  const bool written = geo::testing::WriteFile(argv[1], EveryField()) &&
                       geo::testing::WriteFile(argv[2], FanOut()) &&
                       geo::testing::WriteFile(argv[3], LongStrings());
  return written ? 0 : 1;
}
