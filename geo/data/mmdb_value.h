// One value of a MaxMind DB data section, read the way libmaxminddb reads it,
// inline. The record decoder reads every value of a record (~150 for a City
// record) on each cache miss; MMDB_aget_value would spend a call through its
// path lookup and a copy of its result on each (docs/adr/0028). libmaxminddb
// stays the reference: mmdb_value_test compares the two at every offset of
// MaxMind's test databases, and maxmind_decoder_fuzzer on arbitrary bytes.
#ifndef GEO_DATA_MMDB_VALUE_H_
#define GEO_DATA_MMDB_VALUE_H_

#include <maxminddb.h>

#include <cstdint>
#include <cstring>

namespace geo {
namespace mmdb_value_internal {

// Big-endian unsigned integer of `length` bytes (0 to 8).
inline uint64_t ReadUnsigned(const uint8_t* bytes, uint32_t length) {
  uint64_t value = 0;
  for (uint32_t i = 0; i < length; ++i) value = (value << 8) | bytes[i];
  return value;
}

// An integer of `size` bytes at `bytes` into `*value`: big-endian, at most
// the integer type's own size (a shorter one reads as if zero-padded in
// front), as libmaxminddb reads it.
template <typename Integer>
int ReadInteger(const uint8_t* bytes, uint64_t size, Integer* value) {
  if (size > sizeof(Integer)) return MMDB_INVALID_DATA_ERROR;
  *value =
      static_cast<Integer>(ReadUnsigned(bytes, static_cast<uint32_t>(size)));
  return MMDB_SUCCESS;
}

// The value at `offset` without following a pointer: libmaxminddb's
// decode_one, with bounds checks written so that they cannot wrap (it
// subtracts from the section's size, which wraps for sections of under three
// bytes).
inline int ReadOne(const MMDB_s& mmdb, uint32_t offset,
                   MMDB_entry_data_s* data) {
  const uint8_t* const section = mmdb.data_section;
  const uint64_t section_size = mmdb.data_section_size;
  uint64_t at = offset;
  if (at >= section_size) return MMDB_INVALID_DATA_ERROR;
  data->offset = offset;
  data->has_data = true;
  const uint8_t control = section[at++];
  uint32_t type = control >> 5;
  if (type == MMDB_DATA_TYPE_EXTENDED) {
    if (at >= section_size) return MMDB_INVALID_DATA_ERROR;
    type = 7 + section[at++];
  }
  data->type = type;
  if (type == MMDB_DATA_TYPE_POINTER) {
    const uint32_t pointer_size = ((control >> 3) & 3) + 1;
    if (at + pointer_size > section_size) return MMDB_INVALID_DATA_ERROR;
    const uint32_t high = control & 7;
    const uint64_t low = ReadUnsigned(section + at, pointer_size);
    switch (pointer_size) {
      case 1:
        data->pointer = static_cast<uint32_t>((high << 8) + low);
        break;
      case 2:
        data->pointer = static_cast<uint32_t>(2048 + (high << 16) + low);
        break;
      case 3:
        data->pointer =
            static_cast<uint32_t>(2048 + 524288 + (high << 24) + low);
        break;
      default:
        data->pointer = static_cast<uint32_t>(low);
        break;
    }
    data->data_size = pointer_size;
    data->offset_to_next = static_cast<uint32_t>(at + pointer_size);
    return MMDB_SUCCESS;
  }
  uint64_t size = control & 31;
  if (size >= 29) {
    const uint32_t extra = static_cast<uint32_t>(size) - 28;  // 1, 2 or 3
    if (at + extra > section_size) return MMDB_INVALID_DATA_ERROR;
    constexpr uint64_t kBase[] = {0, 29, 285, 65821};
    size = kBase[extra] + ReadUnsigned(section + at, extra);
    at += extra;
  }
  if (type == MMDB_DATA_TYPE_MAP || type == MMDB_DATA_TYPE_ARRAY) {
    data->data_size = static_cast<uint32_t>(size);
    data->offset_to_next = static_cast<uint32_t>(at);
    return MMDB_SUCCESS;
  }
  if (type == MMDB_DATA_TYPE_BOOLEAN) {
    data->boolean = size != 0;
    data->data_size = 0;
    data->offset_to_next = static_cast<uint32_t>(at);
    return MMDB_SUCCESS;
  }
  if (at + size > section_size) return MMDB_INVALID_DATA_ERROR;
  const uint8_t* const bytes = section + at;
  const uint32_t length = static_cast<uint32_t>(size);
  int status = MMDB_SUCCESS;
  switch (type) {
    case MMDB_DATA_TYPE_UINT16:
      status = ReadInteger(bytes, size, &data->uint16);
      break;
    case MMDB_DATA_TYPE_UINT32:
      status = ReadInteger(bytes, size, &data->uint32);
      break;
    case MMDB_DATA_TYPE_INT32:
      status = ReadInteger(bytes, size, &data->int32);
      break;
    case MMDB_DATA_TYPE_UINT64:
      status = ReadInteger(bytes, size, &data->uint64);
      break;
    case MMDB_DATA_TYPE_UINT128: {
      if (size > 16) return MMDB_INVALID_DATA_ERROR;
#if MMDB_UINT128_IS_BYTE_ARRAY
      std::memset(data->uint128, 0, 16);
      if (length > 0) std::memcpy(data->uint128 + 16 - length, bytes, length);
#else
      mmdb_uint128_t value = 0;
      for (uint32_t i = 0; i < length; ++i) value = (value << 8) | bytes[i];
      data->uint128 = value;
#endif
      break;
    }
    case MMDB_DATA_TYPE_FLOAT: {
      if (size != 4) return MMDB_INVALID_DATA_ERROR;
      const uint32_t bits = static_cast<uint32_t>(ReadUnsigned(bytes, 4));
      std::memcpy(&data->float_value, &bits, sizeof bits);
      break;
    }
    case MMDB_DATA_TYPE_DOUBLE: {
      if (size != 8) return MMDB_INVALID_DATA_ERROR;
      const uint64_t bits = ReadUnsigned(bytes, 8);
      std::memcpy(&data->double_value, &bits, sizeof bits);
      break;
    }
    case MMDB_DATA_TYPE_UTF8_STRING:
      data->utf8_string =
          length == 0 ? "" : reinterpret_cast<const char*>(bytes);
      data->data_size = length;
      break;
    case MMDB_DATA_TYPE_BYTES:
      data->bytes = bytes;
      data->data_size = length;
      break;
    default:
      // A type libmaxminddb does not interpret (12, 13 and extended types
      // past 15): skipped by its size, as there.
      break;
  }
  if (status != MMDB_SUCCESS) return status;
  data->offset_to_next = static_cast<uint32_t>(at + size);
  return MMDB_SUCCESS;
}

}  // namespace mmdb_value_internal

// What MMDB_aget_value with an empty path reads at data-section `offset` of
// `mmdb`: the value there, a pointer followed once (a pointer to a pointer is
// invalid). Returns MMDB_SUCCESS or MMDB_INVALID_DATA_ERROR, as libmaxminddb
// does for the same bytes, and on success sets `type`, `offset_to_next` (for
// a pointer to a scalar: past the pointer; to a map or array: past the
// container's header, where its first child starts), the value of `type`, and
// `data_size` for strings, byte arrays, maps (pairs) and arrays (elements);
// every other field, `data_size` of other types included, is unspecified.
inline int ReadDataValue(const MMDB_s& mmdb, uint32_t offset,
                         MMDB_entry_data_s* data) {
  int status = mmdb_value_internal::ReadOne(mmdb, offset, data);
  if (status != MMDB_SUCCESS || data->type != MMDB_DATA_TYPE_POINTER) {
    return status;
  }
  const uint32_t after_pointer = data->offset_to_next;
  status = mmdb_value_internal::ReadOne(mmdb, data->pointer, data);
  if (status != MMDB_SUCCESS) return status;
  if (data->type == MMDB_DATA_TYPE_POINTER) return MMDB_INVALID_DATA_ERROR;
  if (data->type != MMDB_DATA_TYPE_MAP && data->type != MMDB_DATA_TYPE_ARRAY) {
    data->offset_to_next = after_pointer;
  }
  return MMDB_SUCCESS;
}

}  // namespace geo

#endif  // GEO_DATA_MMDB_VALUE_H_
