#include "geo/data/ipv4_prefix_index.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace geo {
namespace {

// The data section starts 16 bytes after the tree; a data record's value is
// node_count + 16 + its offset in the data section.
constexpr uint32_t kDataSectionSeparator = 16;

uint32_t Read24(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 16) |
         (static_cast<uint32_t>(p[1]) << 8) | p[2];
}

uint32_t Read32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) |
         (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

// Record `bit` (0 left, 1 right) of the node at `node`.
template <int kRecordBits>
inline uint32_t ReadRecord(const uint8_t* node, uint32_t bit) {
  if constexpr (kRecordBits == 24) {
    return Read24(node + 3 * bit);
  } else if constexpr (kRecordBits == 28) {
    // Two 28-bit records in 7 bytes: the middle byte's high nibble belongs
    // to the left record, its low nibble to the right one.
    return bit == 0
               ? Read24(node) | (static_cast<uint32_t>(node[3] & 0xF0) << 20)
               : Read24(node + 4) |
                     (static_cast<uint32_t>(node[3] & 0x0F) << 24);
  } else {
    return Read32(node + 4 * bit);
  }
}

// The walk below the table: from `record` after `depth` bits of `address`
// to a record that is not a node, or to the address's last bit.
template <int kRecordBits>
uint32_t WalkFrom(const uint8_t* nodes, uint32_t node_count, uint32_t address,
                  uint32_t record, int* depth) {
  constexpr size_t kNodeBytes = kRecordBits * 2 / 8;
  int bits = *depth;
  while (bits < 32 && record < node_count) {
    record = ReadRecord<kRecordBits>(nodes + size_t{record} * kNodeBytes,
                                     (address >> (31 - bits)) & 1);
    ++bits;
  }
  *depth = bits;
  return record;
}

}  // namespace

SearchTreeView SearchTreeView::Of(const MMDB_s& mmdb) {
  SearchTreeView view;
  view.node_count = mmdb.metadata.node_count;
  view.record_bits = mmdb.metadata.record_size;
  view.nodes = absl::MakeConstSpan(
      mmdb.file_content, static_cast<size_t>(mmdb.full_record_byte_size) *
                             mmdb.metadata.node_count);
  view.data_section_size = mmdb.data_section_size;
  view.ipv4_start_record =
      mmdb.metadata.ip_version == 6 ? mmdb.ipv4_start_node.node_value : 0;
  return view;
}

absl::StatusOr<Ipv4PrefixIndex> Ipv4PrefixIndex::Build(
    const SearchTreeView& tree) {
  if (tree.record_bits != 24 && tree.record_bits != 28 &&
      tree.record_bits != 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("record size ", tree.record_bits, ", want 24/28/32"));
  }
  Ipv4PrefixIndex index(tree);
  index.node_bytes_ = static_cast<size_t>(tree.record_bits) * 2 / 8;
  if (tree.nodes.size() / index.node_bytes_ < tree.node_count) {
    return absl::InvalidArgumentError(
        absl::StrCat("search tree of ", tree.nodes.size(),
                     " bytes holds fewer than ", tree.node_count, " nodes"));
  }
  index.records_.resize(size_t{1} << kTableBits);
  index.depths_.resize(size_t{1} << kTableBits);
  index.Fill(tree.ipv4_start_record, 0, 0);
  return index;
}

void Ipv4PrefixIndex::Fill(uint32_t record, int depth, uint32_t prefix) {
  if (depth == kTableBits || record >= tree_.node_count) {
    // Every table slot that starts with `prefix`.
    const uint32_t first = prefix << (kTableBits - depth);
    const uint32_t count = uint32_t{1} << (kTableBits - depth);
    for (uint32_t slot = first; slot < first + count; ++slot) {
      records_[slot] = record;
      depths_[slot] = static_cast<uint8_t>(depth);
    }
    return;
  }
  Fill(Record(record, 0), depth + 1, prefix << 1);
  Fill(Record(record, 1), depth + 1, (prefix << 1) | 1);
}

uint32_t Ipv4PrefixIndex::Record(uint32_t node, uint32_t bit) const {
  const uint8_t* p =
      tree_.nodes.data() + static_cast<size_t>(node) * node_bytes_;
  switch (tree_.record_bits) {
    case 24:
      return ReadRecord<24>(p, bit);
    case 28:
      return ReadRecord<28>(p, bit);
    default:
      return ReadRecord<32>(p, bit);
  }
}

absl::StatusOr<Ipv4TreeResult> Ipv4PrefixIndex::Find(uint32_t address) const {
  const uint32_t slot = address >> (32 - kTableBits);
  uint32_t record = records_[slot];
  int depth = depths_[slot];
  const uint8_t* nodes = tree_.nodes.data();
  switch (tree_.record_bits) {
    case 24:
      record = WalkFrom<24>(nodes, tree_.node_count, address, record, &depth);
      break;
    case 28:
      record = WalkFrom<28>(nodes, tree_.node_count, address, record, &depth);
      break;
    default:
      record = WalkFrom<32>(nodes, tree_.node_count, address, record, &depth);
      break;
  }
  Ipv4TreeResult result;
  result.prefix_length = depth;
  const uint64_t past_data =
      uint64_t{tree_.node_count} + tree_.data_section_size;
  if (record >= past_data) {
    return absl::DataLossError(absl::StrCat("corrupt search tree: record ",
                                            record,
                                            " points past the data section"));
  }
  if (record == tree_.node_count) return result;
  if (record < tree_.node_count) {
    return absl::DataLossError(
        "corrupt search tree: deeper than 32 bits below the IPv4 start");
  }
  if (record - tree_.node_count < kDataSectionSeparator) {
    return absl::DataLossError(absl::StrCat(
        "corrupt search tree: record ", record, " points into the separator"));
  }
  result.found = true;
  result.offset = record - tree_.node_count - kDataSectionSeparator;
  return result;
}

}  // namespace geo
