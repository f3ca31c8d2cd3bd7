// Builds small MaxMind DB files byte by byte, for tests that need a database
// MaxMind's writer would never produce (e.g. a data section whose pointers
// fan out exponentially). Format: MaxMind DB spec 2.0.
#ifndef GEO_DATA_TEST_MMDB_WRITER_H_
#define GEO_DATA_TEST_MMDB_WRITER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace geo {
namespace testing {

// Appends values in the data-section encoding. A map or array is written as
// its header followed by its entries (keys and values alternating), in
// order. offset() is where the next value starts: the number to point at.
class MmdbDataWriter {
 public:
  uint32_t offset() const { return static_cast<uint32_t>(bytes_.size()); }
  const std::string& bytes() const { return bytes_; }

  MmdbDataWriter& Map(uint32_t entries) { return Control(kMap, entries); }
  MmdbDataWriter& Array(uint32_t elements) { return Control(kArray, elements); }
  MmdbDataWriter& String(absl::string_view text);
  MmdbDataWriter& Uint16(uint16_t value) { return Unsigned(kUint16, value); }
  MmdbDataWriter& Uint32(uint32_t value) { return Unsigned(kUint32, value); }
  MmdbDataWriter& Uint64(uint64_t value) { return Unsigned(kUint64, value); }
  MmdbDataWriter& Double(double value);
  MmdbDataWriter& Bool(bool value) { return Control(kBoolean, value ? 1 : 0); }
  // A pointer to the value at data-section offset `target` (4-byte form).
  MmdbDataWriter& Pointer(uint32_t target);

 private:
  // Data types of the MaxMind DB format.
  enum Type : int {
    kPointer = 1,
    kString = 2,
    kDouble = 3,
    kUint16 = 5,
    kUint32 = 6,
    kMap = 7,
    kUint64 = 9,
    kArray = 11,
    kBoolean = 14,
  };

  // A value's control byte(s): its type and size.
  MmdbDataWriter& Control(Type type, uint32_t size);
  // An unsigned integer of `type` in as few bytes as hold `value`.
  MmdbDataWriter& Unsigned(Type type, uint64_t value);

  std::string bytes_;
};

struct MmdbNetwork {
  // An IPv4 network, e.g. "10.0.0.0/8".
  std::string cidr;
  // Data-section offset of its record.
  uint32_t record;
};

struct MmdbFileOptions {
  std::string database_type = "GeoIP2-City";
  std::vector<std::string> languages = {"en"};
  uint64_t build_epoch = 1700000000;
  // When > 0, the metadata's description is a map reached through this many
  // levels of maps with two pointers each to the next: a metadata section
  // that expands to 2^levels entries.
  int description_fan_out = 0;
};

// Writes levels of maps, each with two pointers to the next, and a record
// {"city": <top>} that expands to 2^levels leaves from a few hundred bytes of
// file. Returns the record's offset.
uint32_t WritePointerFanOut(MmdbDataWriter* data, int levels);

// Writes one 64 KiB string and a record {"subdivisions": [64 pointers to
// it]} that expands to 4 MiB of text from a 64 KiB file: the input the
// decoder's byte budget stops. Returns the record's offset.
uint32_t WriteRepeatedLongStrings(MmdbDataWriter* data);

// An IPv4 database (ip_version 4, 24-bit records) mapping `networks` to
// their records in `data`; every other address has no record.
std::string BuildMmdb(const std::vector<MmdbNetwork>& networks,
                      const MmdbDataWriter& data,
                      const MmdbFileOptions& options = {});

}  // namespace testing
}  // namespace geo

#endif  // GEO_DATA_TEST_MMDB_WRITER_H_
