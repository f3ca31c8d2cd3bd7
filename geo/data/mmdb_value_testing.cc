#include "geo/data/mmdb_value_testing.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "geo/data/mmdb_value.h"

namespace geo::testing {
namespace {

// libmaxminddb's own reading of the value at `offset`.
int ReadWithLibmaxminddb(const MMDB_s& mmdb, uint32_t offset,
                         MMDB_entry_data_s* data) {
  static const char* const kNoPath[] = {nullptr};
  MMDB_entry_s entry = {&mmdb, offset};
  return MMDB_aget_value(&entry, data, kNoPath);
}

// Empty when `ours` reads as `theirs` in every field ReadDataValue promises,
// else what differs.
std::string Difference(const MMDB_entry_data_s& ours,
                       const MMDB_entry_data_s& theirs) {
  if (ours.type != theirs.type) {
    return absl::StrCat("type ", ours.type, " vs ", theirs.type);
  }
  if (ours.offset_to_next != theirs.offset_to_next) {
    return absl::StrCat("offset_to_next ", ours.offset_to_next, " vs ",
                        theirs.offset_to_next);
  }
  const auto differs = [](auto a, auto b, absl::string_view what) {
    return a == b ? std::string() : absl::StrCat(what, " ", a, " vs ", b);
  };
  switch (ours.type) {
    case MMDB_DATA_TYPE_UTF8_STRING:
      if (ours.utf8_string != theirs.utf8_string &&
          !(ours.data_size == 0 && *theirs.utf8_string == '\0')) {
        return "string address";
      }
      return differs(ours.data_size, theirs.data_size, "string size");
    case MMDB_DATA_TYPE_BYTES:
      if (ours.bytes != theirs.bytes) return "bytes address";
      return differs(ours.data_size, theirs.data_size, "bytes size");
    case MMDB_DATA_TYPE_MAP:
    case MMDB_DATA_TYPE_ARRAY:
      return differs(ours.data_size, theirs.data_size, "container size");
    case MMDB_DATA_TYPE_UINT16:
      return differs(ours.uint16, theirs.uint16, "uint16");
    case MMDB_DATA_TYPE_UINT32:
      return differs(ours.uint32, theirs.uint32, "uint32");
    case MMDB_DATA_TYPE_INT32:
      return differs(ours.int32, theirs.int32, "int32");
    case MMDB_DATA_TYPE_UINT64:
      return differs(ours.uint64, theirs.uint64, "uint64");
    case MMDB_DATA_TYPE_UINT128:
      return std::memcmp(&ours.uint128, &theirs.uint128, sizeof ours.uint128) ==
                     0
                 ? std::string()
                 : "uint128";
    case MMDB_DATA_TYPE_BOOLEAN:
      return differs(ours.boolean, theirs.boolean, "boolean");
    case MMDB_DATA_TYPE_FLOAT:
      return std::memcmp(&ours.float_value, &theirs.float_value,
                         sizeof(float)) == 0
                 ? std::string()
                 : "float bits";
    case MMDB_DATA_TYPE_DOUBLE:
      return std::memcmp(&ours.double_value, &theirs.double_value,
                         sizeof(double)) == 0
                 ? std::string()
                 : "double bits";
    default:
      return std::string();
  }
}

}  // namespace

ValueComparison CompareWithLibmaxminddb(const MMDB_s& mmdb, uint32_t offset) {
  MMDB_entry_data_s theirs;
  MMDB_entry_data_s ours;
  std::memset(&ours, 0xa5, sizeof ours);  // nothing left over is relied on
  const int their_status = ReadWithLibmaxminddb(mmdb, offset, &theirs);
  const int our_status = ReadDataValue(mmdb, offset, &ours);
  ValueComparison comparison;
  if (our_status != their_status) {
    comparison.difference =
        absl::StrCat("status ", our_status, " vs ", their_status);
  } else if (our_status == MMDB_SUCCESS) {
    comparison.difference = Difference(ours, theirs);
    comparison.type = ours.type;
  }
  return comparison;
}

}  // namespace geo::testing
