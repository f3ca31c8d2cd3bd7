#include "geo/data/test_mmdb_writer.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace geo {
namespace testing {
namespace {

void AppendBigEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) {
    out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

}  // namespace

MmdbDataWriter& MmdbDataWriter::Control(Type type, uint32_t size) {
  uint8_t size_bits = 0;
  std::string extra;
  if (size < 29) {
    size_bits = static_cast<uint8_t>(size);
  } else if (size < 29 + 256) {
    size_bits = 29;
    AppendBigEndian(size - 29, 1, &extra);
  } else if (size < 285 + 65536) {
    size_bits = 30;
    AppendBigEndian(size - 285, 2, &extra);
  } else {
    size_bits = 31;
    AppendBigEndian(size - 65821, 3, &extra);
  }
  if (type <= 7) {
    bytes_.push_back(static_cast<char>((type << 5) | size_bits));
  } else {
    bytes_.push_back(static_cast<char>(size_bits));
    bytes_.push_back(static_cast<char>(type - 7));
  }
  bytes_ += extra;
  return *this;
}

MmdbDataWriter& MmdbDataWriter::Unsigned(Type type, uint64_t value) {
  int bytes = 0;
  for (uint64_t rest = value; rest != 0; rest >>= 8) ++bytes;
  Control(type, static_cast<uint32_t>(bytes));
  AppendBigEndian(value, bytes, &bytes_);
  return *this;
}

MmdbDataWriter& MmdbDataWriter::String(absl::string_view text) {
  Control(kString, static_cast<uint32_t>(text.size()));
  bytes_.append(text.data(), text.size());
  return *this;
}

MmdbDataWriter& MmdbDataWriter::Double(double value) {
  Control(kDouble, 8);
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  AppendBigEndian(bits, 8, &bytes_);
  return *this;
}

MmdbDataWriter& MmdbDataWriter::Pointer(uint32_t target) {
  bytes_.push_back(static_cast<char>((kPointer << 5) | (3 << 3)));
  AppendBigEndian(target, 4, &bytes_);
  return *this;
}

std::string BuildMmdb(const std::vector<MmdbNetwork>& networks,
                      const MmdbDataWriter& data,
                      const MmdbFileOptions& options) {
  // The search tree as a binary trie: children[n] = {left, right}, where a
  // value below 0 is "no record" (-1) or a record (-2 - index in networks).
  std::vector<std::pair<int64_t, int64_t>> children(1, {-1, -1});
  for (size_t i = 0; i < networks.size(); ++i) {
    const std::vector<std::string> parts =
        absl::StrSplit(networks[i].cidr, '/');
    in_addr address{};
    int prefix = 0;
    if (parts.size() != 2 ||
        inet_pton(AF_INET, parts[0].c_str(), &address) != 1 ||
        !absl::SimpleAtoi(parts[1], &prefix) || prefix < 1 || prefix > 32) {
      std::abort();  // A test bug.
    }
    const uint32_t bits = ntohl(address.s_addr);
    int64_t node = 0;
    for (int depth = 0; depth < prefix; ++depth) {
      const bool right = (bits >> (31 - depth)) & 1;
      int64_t next = right ? children[node].second : children[node].first;
      if (depth == prefix - 1) {
        next = -2 - static_cast<int64_t>(i);
      } else if (next < 0) {
        next = static_cast<int64_t>(children.size());
        children.push_back({-1, -1});  // Invalidates references into it.
      }
      (right ? children[node].second : children[node].first) = next;
      node = next;
    }
  }
  const uint64_t node_count = children.size();
  auto record_value = [&](int64_t child) -> uint64_t {
    if (child >= 0) return static_cast<uint64_t>(child);
    if (child == -1) return node_count;
    // Data pointers count from the start of the 16-byte separator.
    return node_count + 16 + networks[static_cast<size_t>(-2 - child)].record;
  };
  std::string file;
  for (const auto& [left, right] : children) {
    AppendBigEndian(record_value(left), 3, &file);
    AppendBigEndian(record_value(right), 3, &file);
  }
  file.append(16, '\0');
  file += data.bytes();
  file += "\xAB\xCD\xEFMaxMind.com";
  // The metadata map starts the metadata section; a fanned-out description
  // follows it, so the map is written twice: first to learn its size (a
  // pointer's size does not depend on its target), then pointing there.
  auto write_metadata = [&](uint32_t description) {
    MmdbDataWriter metadata;
    metadata.Map(9)
        .String("binary_format_major_version")
        .Uint16(2)
        .String("binary_format_minor_version")
        .Uint16(0)
        .String("build_epoch")
        .Uint64(options.build_epoch)
        .String("database_type")
        .String(options.database_type)
        .String("description");
    if (options.description_fan_out > 0) {
      metadata.Pointer(description);
    } else {
      metadata.Map(1).String("en").String("built by geo's tests");
    }
    metadata.String("ip_version")
        .Uint16(4)
        .String("languages")
        .Array(static_cast<uint32_t>(options.languages.size()));
    for (const std::string& language : options.languages) {
      metadata.String(language);
    }
    metadata.String("node_count")
        .Uint32(static_cast<uint32_t>(node_count))
        .String("record_size")
        .Uint16(24);
    return metadata;
  };
  MmdbDataWriter metadata = write_metadata(0);
  if (options.description_fan_out > 0) {
    const uint32_t base = metadata.offset();
    MmdbDataWriter levels;
    uint32_t below = base + levels.offset();
    levels.String("leaf");
    for (int level = 0; level < options.description_fan_out; ++level) {
      const uint32_t here = base + levels.offset();
      levels.Map(2).String("a").Pointer(below).String("b").Pointer(below);
      below = here;
    }
    metadata = write_metadata(below);
    file += metadata.bytes();
    file += levels.bytes();
    return file;
  }
  file += metadata.bytes();
  return file;
}

uint32_t WritePointerFanOut(MmdbDataWriter* data, int levels) {
  uint32_t below = data->offset();
  data->String("leaf");
  for (int level = 0; level < levels; ++level) {
    const uint32_t here = data->offset();
    data->Map(2).String("a").Pointer(below).String("b").Pointer(below);
    below = here;
  }
  const uint32_t record = data->offset();
  data->Map(1).String("city").Pointer(below);
  return record;
}

uint32_t WriteRepeatedLongStrings(MmdbDataWriter* data) {
  const uint32_t text = data->offset();
  data->String(std::string(64 * 1024, 'x'));
  const uint32_t record = data->offset();
  data->Map(1).String("subdivisions").Array(64);
  for (int i = 0; i < 64; ++i) data->Pointer(text);
  return record;
}

}  // namespace testing
}  // namespace geo
