// The IPv4 half of a MaxMind search-tree walk, starting from a table of
// where the first 16 bits of every address lead instead of from the root.
//
// An IPv4 lookup walks one node per bit of the address until it reaches a
// record (up to 32 nodes). Under random traffic every node past the first
// dozen levels is a cache miss; the table turns the first 16 of them into
// one read. Results are exactly libmaxminddb's (MMDB_lookup_sockaddr for an
// IPv4 address): the same record, the same prefix length, and an error
// where it reports MMDB_CORRUPT_SEARCH_TREE_ERROR. See
// docs/adr/0033-ipv4-prefix-index.md.
#ifndef GEO_DATA_IPV4_PREFIX_INDEX_H_
#define GEO_DATA_IPV4_PREFIX_INDEX_H_

#include <maxminddb.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace geo {

// What an IPv4 walk needs of an opened database.
struct SearchTreeView {
  // The search tree: node_count nodes of two records each.
  absl::Span<const uint8_t> nodes;
  uint32_t node_count = 0;
  // Bits per record: 24, 28 or 32.
  int record_bits = 0;
  uint32_t data_section_size = 0;
  // Where IPv4 addresses start: the root of an IPv4 database; in an IPv6
  // database the record reached after the 96 zero bits of ::/96, or the
  // record the tree ends in before that.
  uint32_t ipv4_start_record = 0;

  // The view of a database libmaxminddb has opened (MMDB_open validated the
  // tree's size against the file).
  static SearchTreeView Of(const MMDB_s& mmdb);
};

// Where the tree leads for one IPv4 address.
struct Ipv4TreeResult {
  // False: the address is in the tree but has no record.
  bool found = false;
  // The record's data-section offset (MMDB_entry_s::offset), when found.
  uint32_t offset = 0;
  // The prefix length of the network the walk ended in, in IPv4 bits (0 to
  // 32), found or not.
  int prefix_length = 0;
};

// Immutable after Build; thread-safe. Holds 320 KiB and no pointer into the
// tree's bytes beyond the view it was built from, which must outlive it.
class Ipv4PrefixIndex {
 public:
  // Bits of the address the table resolves in one read.
  static constexpr int kTableBits = 16;

  // InvalidArgument for a record size other than 24/28/32 or a node span
  // shorter than node_count nodes. A damaged tree is not an error here: a
  // lookup that reaches the damage reports it, as libmaxminddb would.
  static absl::StatusOr<Ipv4PrefixIndex> Build(const SearchTreeView& tree);

  // `address` in host byte order (1.2.3.4 is 0x01020304). DataLoss where
  // libmaxminddb reports a corrupt search tree: a record past the data
  // section, or into the 16-byte separator before it, or a tree deeper than
  // 32 bits below the IPv4 start.
  absl::StatusOr<Ipv4TreeResult> Find(uint32_t address) const;

 private:
  explicit Ipv4PrefixIndex(const SearchTreeView& tree) : tree_(tree) {}

  // Fills the table for the `depth`-bit prefix `prefix`, whose walk reached
  // `record`.
  void Fill(uint32_t record, int depth, uint32_t prefix);
  // The left (bit 0) or right (bit 1) record of node `node`.
  uint32_t Record(uint32_t node, uint32_t bit) const;

  SearchTreeView tree_;
  size_t node_bytes_ = 0;
  // For each value of the first kTableBits bits: the record the walk reached
  // and after how many bits (kTableBits unless it ended sooner).
  std::vector<uint32_t> records_;
  std::vector<uint8_t> depths_;
};

}  // namespace geo

#endif  // GEO_DATA_IPV4_PREFIX_INDEX_H_
