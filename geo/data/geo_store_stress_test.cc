// Hot-swap under load (meant to run under --config=tsan too) and resource
// leaks across many reloads.
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "geo/data/database.h"
#include "geo/data/geo_store.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/process_stats.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::google::protobuf::util::MessageDifferencer;

// Addresses with records in the City or the Country test database (and one
// in neither), IPv4, IPv6 and IPv4-mapped.
const char* const kAddresses[] = {
    "81.2.69.160",        "2.125.160.216", "89.160.20.112", "216.160.83.56",
    "67.43.156.1",        "2001:218::1",   "2001:220::1",   "2a02:d300::1",
    "::ffff:81.2.69.142", "175.16.199.1",  "10.0.0.1",      "202.196.224.1"};

geo::v1::LookupResponse Answer(const std::string& file, const IpAddress& ip) {
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(file);
  EXPECT_TRUE(database.ok()) << database.status();
  geo::v1::LookupResponse response;
  response.set_ip(ip.ToString());
  EXPECT_TRUE((*database)->Lookup(ip, "en", &response).ok());
  return response;
}

TEST(GeoStoreStressTest, ReadersSeeOneWholeDatabaseWhileAWriterSwaps) {
  const std::string city =
      testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb");
  const std::string country =
      testing::MaxmindTestDataFile("GeoIP2-Country-Test.mmdb");
  std::vector<IpAddress> addresses;
  std::vector<geo::v1::LookupResponse> from_city;
  std::vector<geo::v1::LookupResponse> from_country;
  int distinguishing = 0;
  for (const char* text : kAddresses) {
    addresses.push_back(*IpAddress::Parse(text));
    from_city.push_back(Answer(city, addresses.back()));
    from_country.push_back(Answer(country, addresses.back()));
    if (!MessageDifferencer::Equals(from_city.back(), from_country.back())) {
      ++distinguishing;
    }
  }
  // Without answers that differ the test could not tell the two apart.
  ASSERT_GE(distinguishing, 5);

  std::atomic<int> opens{0};
  GeoStoreOptions options;
  options.paths = {"slot"};
  options.allow_type_change = true;
  options.log_reloads = false;
  options.opener = [&](const std::string&) {
    return Database::Open(opens.fetch_add(1) % 2 == 0 ? city : country);
  };
  GeoStore store(options);
  ASSERT_TRUE(store.Reload("slot").ok());

  constexpr int kReaders = 8;
  constexpr int kReloads = 400;
  std::atomic<bool> done{false};
  std::atomic<int64_t> lookups{0};
  std::atomic<int64_t> failures{0};
  std::atomic<int64_t> inconsistent{0};
  std::atomic<int64_t> saw_city{0};
  std::atomic<int64_t> saw_country{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      size_t i = static_cast<size_t>(r);
      // At least a few rounds even if the writer finishes first.
      for (int round = 0; !done.load() || round < 100; ++round) {
        i = (i + 1) % addresses.size();
        absl::StatusOr<geo::v1::LookupResponse> response =
            store.Lookup(addresses[i], "en");
        lookups.fetch_add(1);
        if (!response.ok()) {
          failures.fetch_add(1);
          continue;
        }
        const bool is_city =
            MessageDifferencer::Equals(*response, from_city[i]);
        const bool is_country =
            MessageDifferencer::Equals(*response, from_country[i]);
        if (!is_city && !is_country) inconsistent.fetch_add(1);
        if (is_city && !is_country) saw_city.fetch_add(1);
        if (is_country && !is_city) saw_country.fetch_add(1);
      }
    });
  }
  int reload_failures = 0;
  for (int i = 0; i < kReloads; ++i) {
    if (!store.Reload("slot").ok()) ++reload_failures;
  }
  done.store(true);
  for (std::thread& reader : readers) reader.join();

  EXPECT_EQ(reload_failures, 0);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(inconsistent.load(), 0);
  EXPECT_GT(saw_city.load(), 0);
  EXPECT_GT(saw_country.load(), 0);
  EXPECT_EQ(opens.load(), kReloads + 1);
  std::cout << kReloads << " reloads, " << lookups.load() << " lookups by "
            << kReaders << " readers (" << saw_city.load() << " City-only, "
            << saw_country.load() << " Country-only answers)\n";
}

// Mappings of `path` (including "(deleted)" ones of replaced files) and
// their total size.
struct Mappings {
  int count = 0;
  uint64_t bytes = 0;
};

Mappings MappingsOf(const std::string& path) {
  Mappings mappings;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (!absl::StrContains(line, path)) continue;
    ++mappings.count;
    const std::vector<std::string> range =
        absl::StrSplit(line.substr(0, line.find(' ')), '-');
    uint64_t start = 0;
    uint64_t end = 0;
    if (range.size() == 2 && absl::SimpleHexAtoi(range[0], &start) &&
        absl::SimpleHexAtoi(range[1], &end)) {
      mappings.bytes += end - start;
    }
  }
  return mappings;
}

TEST(GeoStoreStressTest, ThousandReloadsLeakNoDescriptorsOrMappings) {
  const testing::TestDatabaseCopy city =
      testing::CopyMaxmindTestDatabaseToTempDir("GeoIP2-City-Test.mmdb");
  ASSERT_FALSE(city.content.empty());
  GeoStoreOptions options;
  options.paths = {city.path};
  options.log_reloads = false;
  GeoStore store(options);
  ASSERT_TRUE(store.Reload(city.path).ok());

  const int baseline_fds = testing::OpenDescriptorCount(getpid());
  const Mappings baseline = MappingsOf(city.path);
  ASSERT_GT(baseline_fds, 0);
  // The database is mapped once: otherwise this test would measure nothing.
  ASSERT_EQ(baseline.count, 1);

  for (int i = 0; i < 1000; ++i) {
    // Every tenth reload sees a new file (the old inode stays mapped until
    // its Database goes), and every 50th a rejected one.
    if (i % 10 == 0) ASSERT_TRUE(testing::ReplaceFile(city.path, city.content));
    if (i % 50 == 25) {
      ASSERT_TRUE(testing::ReplaceFile(city.path, "not a database"));
      EXPECT_FALSE(store.Reload(city.path).ok());
      ASSERT_TRUE(testing::ReplaceFile(city.path, city.content));
    }
    ASSERT_TRUE(store.Reload(city.path).ok()) << i;
    ASSERT_TRUE(store.Lookup(*IpAddress::Parse("81.2.69.160"), "en")->found());
  }

  EXPECT_EQ(testing::OpenDescriptorCount(getpid()), baseline_fds);
  const Mappings after = MappingsOf(city.path);
  EXPECT_EQ(after.count, baseline.count);
  EXPECT_EQ(after.bytes, baseline.bytes);
}

}  // namespace
}  // namespace geo
