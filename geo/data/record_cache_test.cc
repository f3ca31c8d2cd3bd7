#include "geo/data/record_cache.h"

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "geo/common/ip_address.h"
#include "geo/data/database.h"
#include "geo/data/database_generation.h"
#include "geo/data/decoded_record.h"
#include "geo/data/previous_records.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::google::protobuf::util::MessageDifferencer;

DecodedRecord Record(uint32_t offset, const std::string& language,
                     const std::string& country) {
  DecodedRecord record;
  record.offset = offset;
  record.language = language;
  geo::v1::LookupResponse fields;
  fields.mutable_country()->set_iso_code(country);
  record.SetFields(fields);
  return record;
}

TEST(RecordCacheTest, CapacityIsAPowerOfTwoOfAtLeastOneSetPerShard) {
  EXPECT_EQ(RecordCache(0).capacity(), 2 * RecordCache::kShards);
  EXPECT_EQ(RecordCache(1000).capacity(), 1024u);
  EXPECT_EQ(RecordCache(4096).capacity(), 4096u);
}

TEST(RecordCacheTest, MissThenHitPerOffsetAndLanguage) {
  RecordCache cache(1024);
  EXPECT_EQ(cache.Find(42, "en"), nullptr);
  std::shared_ptr<const DecodedRecord> inserted =
      cache.Insert(Record(42, "en", "DE"));
  std::shared_ptr<const DecodedRecord> found = cache.Find(42, "en");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found, inserted);
  EXPECT_EQ(found->Fields().country().iso_code(), "DE");
  // Same offset, other language: names differ, so it is another record.
  EXPECT_EQ(cache.Find(42, "de"), nullptr);
  EXPECT_EQ(cache.Find(43, "en"), nullptr);
  const RecordCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 3u);
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.capacity, 1024u);
}

// Not-recently-used eviction: a record in use is not pushed out by records
// that pass through once (a direct-mapped cache loses it to the first
// collision).
TEST(RecordCacheTest, ARecordInUseSurvivesAStreamOfRecordsSeenOnce) {
  RecordCache cache(256);
  cache.Insert(Record(1, "en", "DE"));
  for (uint32_t offset = 2; offset < 20000; ++offset) {
    ASSERT_NE(cache.Find(1, "en"), nullptr) << "evicted by offset " << offset;
    cache.Insert(Record(offset, "en", "FR"));
  }
  EXPECT_EQ(cache.Stats().entries, cache.capacity());
}

TEST(RecordCacheTest, StaysBoundedAndEvictedRecordsOutliveTheirSlot) {
  RecordCache cache(256);
  std::shared_ptr<const DecodedRecord> first =
      cache.Insert(Record(0, "en", "AA"));
  for (uint32_t offset = 1; offset < 100000; ++offset) {
    cache.Insert(Record(offset, "en", "ZZ"));
  }
  const RecordCacheStats stats = cache.Stats();
  EXPECT_LE(stats.entries, cache.capacity());
  // Direct-mapped with a decent hash: nearly every slot is used.
  EXPECT_GT(stats.entries, cache.capacity() * 9 / 10);
  // A reader's reference stays valid after eviction.
  EXPECT_EQ(first->Fields().country().iso_code(), "AA");
  // The most recent inserts are still there.
  EXPECT_NE(cache.Find(99999, "en"), nullptr);
}

// Random addresses over the whole space (public or not: an uncached decode
// is the reference either way).
std::vector<IpAddress> RandomAddresses(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<IpAddress> addresses;
  addresses.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (i % 4 == 3) {
      std::array<uint8_t, 16> bytes{};
      // Mostly 2000::/3, where the IPv6 records are.
      for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(random());
      bytes[0] = static_cast<uint8_t>(0x20 | (bytes[0] & 0x1f));
      addresses.push_back(IpAddress::FromV6Bytes(bytes));
    } else {
      const uint32_t value = random();
      addresses.push_back(IpAddress::FromV4Bytes(
          {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
           static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)}));
    }
  }
  return addresses;
}

std::shared_ptr<const DatabaseGeneration> OpenOrDie(const std::string& path,
                                                    size_t slots) {
  GenerationOptions options;
  options.record_cache_slots = slots;
  absl::StatusOr<std::shared_ptr<DatabaseGeneration>> database =
      DatabaseGeneration::Open(path, DatabaseOptions(), options);
  EXPECT_TRUE(database.ok()) << database.status();
  return database.ok() ? *database : nullptr;
}

constexpr const char* kLanguages[] = {"", "en", "de", "zh-CN", "xx"};

// Lookups with a cache against lookups without one on GeoLite2-City (the
// test is skipped without it).
class GeoLite2CityCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::GeoLite2CityPath();
    if (path_.empty()) GTEST_SKIP() << "@geolite2 absent";
    uncached_ = OpenOrDie(path_, 0);
    ASSERT_NE(uncached_, nullptr);
  }
  std::string path_;
  std::shared_ptr<const DatabaseGeneration> uncached_;
};

TEST_F(GeoLite2CityCacheTest, CachedLookupsEqualUncachedOnRealGeoLite2City) {
  // A small cache, so the run mixes hits, misses and evictions.
  std::shared_ptr<const DatabaseGeneration> cached = OpenOrDie(path_, 1024);
  ASSERT_NE(cached, nullptr);
  // Each address twice: the second lookup of a found record is a hit unless
  // another record evicted it in between.
  const std::vector<IpAddress> addresses = RandomAddresses(20000, 1);
  size_t found = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < addresses.size(); ++i) {
      const char* language = kLanguages[i % 5];
      geo::v1::LookupResponse want;
      geo::v1::LookupResponse got;
      ASSERT_TRUE(uncached_->Lookup(addresses[i], language, &want).ok());
      ASSERT_TRUE(cached->Lookup(addresses[i], language, &got).ok());
      ASSERT_TRUE(MessageDifferencer::Equals(got, want))
          << addresses[i].ToString() << " [" << language
          << "]\ncached: " << got.ShortDebugString()
          << "\nuncached: " << want.ShortDebugString();
      if (want.found()) ++found;
    }
  }
  EXPECT_GT(found, addresses.size());
  const RecordCacheStats stats = cached->record_cache_stats();
  EXPECT_GT(stats.hits, 0u);
  EXPECT_GT(stats.misses, 0u);
  EXPECT_LE(stats.entries, 1024u);
  EXPECT_EQ(uncached_->record_cache_stats().capacity, 0u);
}

// Merging into an earlier database's answer behaves as without the cache:
// a record with subdivisions replaces the earlier ones, and a cached record
// is not changed by being merged from.
TEST(RecordCacheTest, MergeSemanticsMatchUncached) {
  const std::string dir = testing::MaxmindTestDataDir();
  ASSERT_FALSE(dir.empty());
  const std::string city = dir + "/test-data/GeoIP2-City-Test.mmdb";
  std::shared_ptr<const DatabaseGeneration> cached = OpenOrDie(city, 64);
  std::shared_ptr<const DatabaseGeneration> uncached = OpenOrDie(city, 0);
  ASSERT_NE(cached, nullptr);
  ASSERT_NE(uncached, nullptr);
  absl::StatusOr<IpAddress> ip = IpAddress::Parse("81.2.69.160");
  ASSERT_TRUE(ip.ok());
  for (int round = 0; round < 3; ++round) {
    geo::v1::LookupResponse want;
    geo::v1::LookupResponse got;
    want.add_subdivisions()->set_iso_code("STALE");
    got.add_subdivisions()->set_iso_code("STALE");
    ASSERT_TRUE(uncached->Lookup(*ip, "en", &want).ok());
    ASSERT_TRUE(uncached->Lookup(*ip, "en", &want).ok());
    ASSERT_TRUE(cached->Lookup(*ip, "en", &got).ok());
    ASSERT_TRUE(cached->Lookup(*ip, "en", &got).ok());
    EXPECT_TRUE(MessageDifferencer::Equals(got, want))
        << got.ShortDebugString() << "\n"
        << want.ShortDebugString();
  }
  EXPECT_GT(cached->record_cache_stats().hits, 0u);
}

// Readers on several threads share one small cache (constant eviction);
// under --config=tsan this is the race check of the cache.
TEST_F(GeoLite2CityCacheTest, ConcurrentLookupsMatchUncached) {
  std::shared_ptr<const DatabaseGeneration> cached = OpenOrDie(path_, 128);
  ASSERT_NE(cached, nullptr);
  // A few hundred addresses, so threads keep hitting (and evicting) the same
  // records.
  const std::vector<IpAddress> addresses = RandomAddresses(400, 2);
  std::vector<geo::v1::LookupResponse> want(addresses.size());
  for (size_t i = 0; i < addresses.size(); ++i) {
    ASSERT_TRUE(
        uncached_->Lookup(addresses[i], kLanguages[i % 5], &want[i]).ok());
  }
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(t);
      for (int n = 0; n < 5000; ++n) {
        const size_t i = random() % addresses.size();
        geo::v1::LookupResponse got;
        if (!cached->Lookup(addresses[i], kLanguages[i % 5], &got).ok() ||
            !MessageDifferencer::Equals(got, want[i])) {
          ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << t;
  const RecordCacheStats stats = cached->record_cache_stats();
  EXPECT_GT(stats.hits, 0u);
  EXPECT_LE(stats.entries, 128u);
}

TEST(PreviousRecordsTest, FindsByContentKeepsTheFirstOfEachAndCaps) {
  std::vector<std::shared_ptr<const DecodedRecord>> records = {
      std::make_shared<const DecodedRecord>(Record(10, "en", "DE")),
      // Same content at another offset (another file): not kept twice.
      std::make_shared<const DecodedRecord>(Record(99, "en", "DE")),
      std::make_shared<const DecodedRecord>(Record(20, "de", "DE")),
      std::make_shared<const DecodedRecord>(Record(30, "en", "FR")),
  };
  BackgroundWork work = BackgroundWork::Unyielding();
  const PreviousRecords capped(records, 2, work);
  EXPECT_EQ(capped.size(), 2u);
  const DecodedRecord* german = capped.Find(Record(500, "en", "DE"));
  ASSERT_NE(german, nullptr);
  EXPECT_EQ(german->offset, 10u);
  EXPECT_NE(capped.Find(Record(500, "de", "DE")), nullptr);
  // Beyond the cap.
  EXPECT_EQ(capped.Find(Record(500, "en", "FR")), nullptr);

  const PreviousRecords all(records, records.size(), work);
  EXPECT_EQ(all.size(), 3u);
}

}  // namespace
}  // namespace geo
