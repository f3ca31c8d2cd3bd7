#include "geo/data/ipv4_prefix_index.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

// libmaxminddb's answer for one IPv4 address, in Ipv4TreeResult's terms;
// `corrupt` where it reports a corrupt tree or hands out an offset that is
// not in the data section (a record in the separator, or a node where the
// address has no bits left: its offset arithmetic wraps).
struct Expected {
  bool corrupt = false;
  Ipv4TreeResult result;
};

Expected Libmaxminddb(const MMDB_s& mmdb, uint32_t address) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_addr.s_addr = htonl(address);
  int error = MMDB_SUCCESS;
  const MMDB_lookup_result_s found = MMDB_lookup_sockaddr(
      &mmdb, reinterpret_cast<const sockaddr*>(&v4), &error);
  Expected expected;
  if (error == MMDB_CORRUPT_SEARCH_TREE_ERROR) {
    expected.corrupt = true;
    return expected;
  }
  EXPECT_EQ(error, MMDB_SUCCESS) << MMDB_strerror(error);
  expected.result.found = found.found_entry;
  expected.result.offset = found.found_entry ? found.entry.offset : 0;
  int prefix = found.netmask;
  if (mmdb.metadata.ip_version == 6) prefix = prefix >= 96 ? prefix - 96 : 0;
  expected.result.prefix_length = prefix;
  if (found.found_entry && found.entry.offset >= mmdb.data_section_size) {
    expected.corrupt = true;
  }
  return expected;
}

// Every /16's first and last address, every address of the /24s where
// MaxMind's test databases have their IPv4 networks, and `random` more.
std::vector<uint32_t> Addresses(int random) {
  std::vector<uint32_t> addresses;
  for (uint32_t prefix = 0; prefix < (1u << 16); ++prefix) {
    addresses.push_back(prefix << 16);
    addresses.push_back((prefix << 16) | 0xFFFF);
  }
  for (const uint32_t network :
       {0x01000000u /* 1.0.0.0 */, 0x01010100u /* 1.1.1.0 */,
        0x027DA000u /* 2.125.160.0 */, 0x43209C00u /* 67.43.156.0 */,
        0x51024500u /* 81.2.69.0 */, 0x59A01400u /* 89.160.20.0 */,
        0xAF10C700u /* 175.16.199.0 */, 0xD8A05300u /* 216.160.83.0 */}) {
    for (uint32_t host = 0; host < 256; ++host) {
      addresses.push_back(network | host);
    }
  }
  std::mt19937 generator(20261203);
  for (int i = 0; i < random; ++i) addresses.push_back(generator());
  return addresses;
}

// The index against libmaxminddb on every address; returns how many
// addresses had a record, so that callers can tell a sweep that saw data.
int ExpectSameAsLibmaxminddb(const std::string& path, int random) {
  MMDB_s mmdb;
  const int opened = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &mmdb);
  if (opened != MMDB_SUCCESS) {
    ADD_FAILURE() << path << ": " << MMDB_strerror(opened);
    return 0;
  }
  absl::StatusOr<Ipv4PrefixIndex> index =
      Ipv4PrefixIndex::Build(SearchTreeView::Of(mmdb));
  int found = 0;
  if (!index.ok()) {
    ADD_FAILURE() << path << ": " << index.status();
  } else {
    int mismatches = 0;
    for (const uint32_t address : Addresses(random)) {
      const Expected expected = Libmaxminddb(mmdb, address);
      const absl::StatusOr<Ipv4TreeResult> got = index->Find(address);
      const std::string where = absl::StrCat(path, " address ", address);
      if (expected.corrupt) {
        if (got.ok() || got.status().code() != absl::StatusCode::kDataLoss) {
          ADD_FAILURE() << where << ": want DataLoss, got " << got.status();
          ++mismatches;
        }
      } else if (!got.ok()) {
        ADD_FAILURE() << where << ": " << got.status();
        ++mismatches;
      } else if (got->found != expected.result.found ||
                 got->offset != expected.result.offset ||
                 got->prefix_length != expected.result.prefix_length) {
        ADD_FAILURE() << where << ": found/offset/prefix " << got->found << "/"
                      << got->offset << "/" << got->prefix_length
                      << ", libmaxminddb " << expected.result.found << "/"
                      << expected.result.offset << "/"
                      << expected.result.prefix_length;
        ++mismatches;
      } else if (got->found) {
        ++found;
      }
      if (mismatches >= 5) break;
    }
  }
  MMDB_close(&mmdb);
  return found;
}

TEST(Ipv4PrefixIndexTest, AgreesWithLibmaxminddbOnEveryRecordSizeAndLayout) {
  // IPv4-only and IPv6 trees (with the IPv4 subtree under ::/96), 24-, 28-
  // and 32-bit records: each has IPv4 records to find.
  for (const char* name :
       {"MaxMind-DB-test-ipv4-24.mmdb", "MaxMind-DB-test-ipv4-28.mmdb",
        "MaxMind-DB-test-ipv4-32.mmdb", "MaxMind-DB-test-mixed-24.mmdb",
        "MaxMind-DB-test-mixed-28.mmdb", "MaxMind-DB-test-mixed-32.mmdb",
        "GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb"}) {
    SCOPED_TRACE(name);
    EXPECT_GT(
        ExpectSameAsLibmaxminddb(testing::MaxmindTestDataFile(name), 20000), 0);
  }
  // No IPv4 records at all; a tree without the ::/96 subtree; a damaged one.
  for (const char* name :
       {"MaxMind-DB-test-ipv6-24.mmdb", "MaxMind-DB-no-ipv4-search-tree.mmdb",
        "MaxMind-DB-test-broken-search-tree-24.mmdb"}) {
    SCOPED_TRACE(name);
    ExpectSameAsLibmaxminddb(testing::MaxmindTestDataFile(name), 20000);
  }
}

TEST(Ipv4PrefixIndexTest, AgreesWithLibmaxminddbOnGeoLite2City) {
  const std::string path = testing::GeoLite2CityPath();
  if (path.empty()) GTEST_SKIP() << "GeoLite2-City.mmdb absent";
  // Nearly every public address has a record there.
  EXPECT_GT(ExpectSameAsLibmaxminddb(path, 1 << 20), 1 << 19);
}

// A hand-made tree of 24-bit records, to reach each kind of damage.
class HandMadeTree {
 public:
  explicit HandMadeTree(uint32_t node_count) : node_count_(node_count) {
    bytes_.resize(6 * node_count);
  }
  uint32_t Empty() const { return node_count_; }
  uint32_t Data(uint32_t offset) const { return node_count_ + 16 + offset; }
  void Set(uint32_t node, uint32_t left, uint32_t right) {
    for (int i = 0; i < 3; ++i) {
      bytes_[6 * node + i] = static_cast<uint8_t>(left >> (16 - 8 * i));
      bytes_[6 * node + 3 + i] = static_cast<uint8_t>(right >> (16 - 8 * i));
    }
  }
  SearchTreeView View(uint32_t data_section_size) const {
    SearchTreeView view;
    view.nodes = bytes_;
    view.node_count = node_count_;
    view.record_bits = 24;
    view.data_section_size = data_section_size;
    return view;
  }

 private:
  uint32_t node_count_;
  std::vector<uint8_t> bytes_;
};

TEST(Ipv4PrefixIndexTest, ResolvesShortAndLongNetworks) {
  // 0/1 -> node 1; 128/1 has no record. Under node 1: 0/2 -> data at 7,
  // 64/2 -> node 2, a chain of right records down to 64.255.255.255/32.
  constexpr uint32_t kNodes = 32;  // node d is reached after d bits
  HandMadeTree tree(kNodes);
  tree.Set(0, 1, tree.Empty());
  tree.Set(1, tree.Data(7), 2);
  for (uint32_t node = 2; node < kNodes - 1; ++node) {
    tree.Set(node, tree.Empty(), node + 1);
  }
  tree.Set(kNodes - 1, tree.Empty(), tree.Data(9));
  absl::StatusOr<Ipv4PrefixIndex> index =
      Ipv4PrefixIndex::Build(tree.View(100));
  ASSERT_TRUE(index.ok()) << index.status();

  absl::StatusOr<Ipv4TreeResult> short_network = index->Find(0x12345678);
  ASSERT_TRUE(short_network.ok()) << short_network.status();
  EXPECT_TRUE(short_network->found);
  EXPECT_EQ(short_network->offset, 7u);
  EXPECT_EQ(short_network->prefix_length, 2);

  absl::StatusOr<Ipv4TreeResult> host = index->Find(0x7FFFFFFF);
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_TRUE(host->found);
  EXPECT_EQ(host->offset, 9u);
  EXPECT_EQ(host->prefix_length, 32);

  absl::StatusOr<Ipv4TreeResult> next_to_host = index->Find(0x7FFFFFFE);
  ASSERT_TRUE(next_to_host.ok()) << next_to_host.status();
  EXPECT_FALSE(next_to_host->found);
  EXPECT_EQ(next_to_host->prefix_length, 32);

  absl::StatusOr<Ipv4TreeResult> empty_half = index->Find(0xC0000201);
  ASSERT_TRUE(empty_half.ok()) << empty_half.status();
  EXPECT_FALSE(empty_half->found);
  EXPECT_EQ(empty_half->prefix_length, 1);
}

TEST(Ipv4PrefixIndexTest, DamageIsDataLossOnlyWhereALookupReachesIt) {
  HandMadeTree tree(3);
  // 0/2 -> past the data section; 64/2 -> into the separator; 128/1 -> a
  // loop back to node 2, deeper than any address.
  tree.Set(0, 1, 2);
  tree.Set(1, tree.Data(100), tree.Data(0) - 5);
  tree.Set(2, 2, tree.Data(1));
  absl::StatusOr<Ipv4PrefixIndex> index =
      Ipv4PrefixIndex::Build(tree.View(100));
  ASSERT_TRUE(index.ok()) << index.status();

  for (const uint32_t address : {0x01000000u, 0x41000000u, 0x80000000u}) {
    SCOPED_TRACE(address);
    const absl::StatusOr<Ipv4TreeResult> got = index->Find(address);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  }
  // The loop's right records still lead to data.
  absl::StatusOr<Ipv4TreeResult> beside_loop = index->Find(0xC0000000);
  ASSERT_TRUE(beside_loop.ok()) << beside_loop.status();
  EXPECT_TRUE(beside_loop->found);
  EXPECT_EQ(beside_loop->offset, 1u);
  EXPECT_EQ(beside_loop->prefix_length, 2);
}

TEST(Ipv4PrefixIndexTest, RefusesATreeItCannotRead) {
  HandMadeTree tree(4);
  SearchTreeView odd_records = tree.View(100);
  odd_records.record_bits = 20;
  EXPECT_EQ(Ipv4PrefixIndex::Build(odd_records).status().code(),
            absl::StatusCode::kInvalidArgument);
  SearchTreeView short_span = tree.View(100);
  short_span.node_count = 5;
  EXPECT_EQ(Ipv4PrefixIndex::Build(short_span).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace geo
