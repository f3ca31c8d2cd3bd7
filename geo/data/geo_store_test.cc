#include "geo/data/geo_store.h"

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "geo/common/background_work.h"
#include "geo/common/fake_clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::testing::HasSubstr;

IpAddress Ip(const std::string& text) { return *IpAddress::Parse(text); }

std::string Basename(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

GeoStoreOptions Options(std::vector<std::string> paths) {
  GeoStoreOptions options;
  options.paths = std::move(paths);
  return options;
}

class RecordingObserver : public GeoStoreObserver {
 public:
  void OnReload(const std::string& path, const absl::Status& status,
                const Database* database, absl::Duration duration) override {
    durations.push_back(duration);
    paths.push_back(path);
    statuses.push_back(status);
    types.push_back(database != nullptr ? database->type() : "");
  }
  std::vector<std::string> paths;
  std::vector<absl::Status> statuses;
  std::vector<std::string> types;
  std::vector<absl::Duration> durations;
};

// A slot path in a temp dir, filled by copying a test database into it.
class GeoStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::NewTempDir();
    city_path_ = dir_ + "/City.mmdb";
    asn_path_ = dir_ + "/ASN.mmdb";
  }
  void Install(const std::string& path, const std::string& test_data_name) {
    const std::string content =
        testing::ReadFile(testing::MaxmindTestDataFile(test_data_name));
    ASSERT_FALSE(content.empty()) << test_data_name;
    ASSERT_TRUE(testing::ReplaceFile(path, content));
  }
  std::string dir_;
  std::string city_path_;
  std::string asn_path_;
};

TEST_F(GeoStoreTest, UnavailableUntilLoaded) {
  GeoStore store(Options({city_path_}));
  EXPECT_FALSE(store.ready());
  EXPECT_TRUE(store.Databases().empty());
  EXPECT_EQ(store.Lookup(Ip("81.2.69.160"), "en").status().code(),
            absl::StatusCode::kUnavailable);
  // Missing file: the reload fails and says which file.
  absl::Status missing = store.Reload(city_path_);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr(city_path_));

  Install(city_path_, "GeoIP2-City-Test.mmdb");
  ASSERT_TRUE(store.Reload(city_path_).ok());
  EXPECT_TRUE(store.ready());
  absl::StatusOr<geo::v1::LookupResponse> response =
      store.Lookup(Ip("81.2.69.160"), "en");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(response->found());
  EXPECT_EQ(response->country().iso_code(), "GB");
  EXPECT_EQ(response->ip(), "81.2.69.160");
}

TEST_F(GeoStoreTest, AnswersFromAllSlots) {
  RecordingObserver observer;
  GeoStoreOptions options;
  options.paths = {city_path_, asn_path_};
  options.observer = &observer;
  GeoStore store(options);
  Install(city_path_, "GeoIP2-City-Test.mmdb");
  Install(asn_path_, "GeoLite2-ASN-Test.mmdb");
  ASSERT_TRUE(store.Reload(city_path_).ok());
  EXPECT_FALSE(store.ready());
  ASSERT_TRUE(store.Reload(asn_path_).ok());
  EXPECT_TRUE(store.ready());
  ASSERT_EQ(store.Databases().size(), 2u);
  EXPECT_EQ(store.Databases()[0]->type(), "GeoIP2-City");
  EXPECT_EQ(store.Databases()[1]->type(), "GeoLite2-ASN");
  EXPECT_EQ(observer.types,
            (std::vector<std::string>{"GeoIP2-City", "GeoLite2-ASN"}));

  // 1.128.0.0/11 is in the ASN source only; 2001:218::/32 in the City one.
  absl::StatusOr<geo::v1::LookupResponse> asn =
      store.Lookup(Ip("1.128.0.1"), "en");
  ASSERT_TRUE(asn.ok()) << asn.status();
  EXPECT_TRUE(asn->found());
  EXPECT_EQ(asn->autonomous_system().number(), 1221u);
  EXPECT_EQ(asn->country().iso_code(), "");
  absl::StatusOr<geo::v1::LookupResponse> city =
      store.Lookup(Ip("2001:218::1"), "de");
  ASSERT_TRUE(city.ok()) << city.status();
  EXPECT_EQ(city->country().iso_code(), "JP");
  EXPECT_EQ(city->network(), "2001:218::/32");
  EXPECT_EQ(city->autonomous_system().number(), 0u);

  EXPECT_EQ(store.Reload(dir_ + "/other.mmdb").code(),
            absl::StatusCode::kNotFound);
}

TEST_F(GeoStoreTest, RefusesTypeChangeUnlessAllowed) {
  GeoStore store(Options({city_path_}));
  Install(city_path_, "GeoIP2-City-Test.mmdb");
  ASSERT_TRUE(store.Reload(city_path_).ok());
  const std::shared_ptr<const Database> before = store.Get(city_path_);

  Install(city_path_, "GeoLite2-ASN-Test.mmdb");
  absl::Status refused = store.Reload(city_path_);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("GeoIP2-City"));
  EXPECT_THAT(refused.message(), HasSubstr("GeoLite2-ASN"));
  EXPECT_EQ(store.Get(city_path_), before);
  EXPECT_EQ(store.Lookup(Ip("81.2.69.160"), "en")->country().iso_code(), "GB");

  GeoStoreOptions allowing;
  allowing.paths = {city_path_};
  allowing.allow_type_change = true;
  GeoStore permissive(allowing);
  Install(city_path_, "GeoIP2-City-Test.mmdb");
  ASSERT_TRUE(permissive.Reload(city_path_).ok());
  Install(city_path_, "GeoIP2-Country-Test.mmdb");
  ASSERT_TRUE(permissive.Reload(city_path_).ok());
  EXPECT_EQ(permissive.Databases()[0]->type(), "GeoIP2-Country");
}

TEST_F(GeoStoreTest, OldDatabaseLivesWhileReadersHoldIt) {
  GeoStore store(Options({city_path_}));
  Install(city_path_, "GeoIP2-City-Test.mmdb");
  ASSERT_TRUE(store.Reload(city_path_).ok());
  std::shared_ptr<const Database> held = store.Databases()[0];
  std::weak_ptr<const Database> watch = held;
  Install(city_path_, "GeoIP2-City-Test.mmdb");
  ASSERT_TRUE(store.Reload(city_path_).ok());
  EXPECT_NE(store.Databases()[0], held);
  geo::v1::LookupResponse response;
  EXPECT_TRUE(held->Lookup(Ip("81.2.69.160"), "en", &response).ok());
  EXPECT_EQ(response.country().iso_code(), "GB");
  held.reset();
  EXPECT_TRUE(watch.expired());
}

// Deterministic spread of IPv4 and IPv6 addresses, plus every source network,
// so lookups walk most of a small tree.
std::vector<IpAddress> SweepAddresses() {
  std::vector<IpAddress> addresses;
  uint64_t state = 0x9e3779b97f4a7c15u;
  auto next = [&state]() {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return static_cast<uint8_t>(state >> 56);
  };
  for (int i = 0; i < 2000; ++i) {
    addresses.push_back(
        IpAddress::FromV4Bytes({next(), next(), next(), next()}));
    std::array<uint8_t, 16> v6{};
    v6[0] = 0x20;
    for (int j = 1; j < 16; ++j) v6[j] = next();
    addresses.push_back(IpAddress::FromV6Bytes(v6));
  }
  for (const char* text : {"1.1.1.1", "81.2.69.160", "2.125.160.216",
                           "67.43.156.1", "216.160.83.56", "89.160.20.112",
                           "2001:218::1", "2a02:cf40::1", "::1.1.1.1"}) {
    addresses.push_back(Ip(text));
  }
  return addresses;
}

// Every malformed database and both broken test databases: Reload refuses it
// and the store keeps answering from the previous database; or, when opening
// cannot see the damage, each lookup returns a response or an error for that
// request. Never a crash, hang or sanitizer report.
TEST_F(GeoStoreTest, MalformedDatabasesAreRejectedOrFailCleanly) {
  std::vector<std::string> files =
      testing::FilesUnder(testing::MaxmindTestDataDir() + "/bad-data", ".mmdb");
  files.push_back(testing::MaxmindTestDataFile(
      "GeoIP2-City-Test-Broken-Double-Format.mmdb"));
  files.push_back(
      testing::MaxmindTestDataFile("GeoIP2-City-Test-Invalid-Node-Count.mmdb"));
  files.push_back(
      testing::MaxmindTestDataFile("MaxMind-DB-test-broken-pointers-24.mmdb"));
  files.push_back(testing::MaxmindTestDataFile(
      "MaxMind-DB-test-broken-search-tree-24.mmdb"));
  const std::string shared = testing::SharedMaxmindTestDataDir();
  if (shared.empty()) {
    std::cout << "../shared/testdata/maxmind absent: shared bad-data not run\n";
  } else {
    for (const std::string& file :
         testing::FilesUnder(shared + "/bad-data", ".mmdb")) {
      files.push_back(file);
    }
  }
  ASSERT_GE(files.size(), 10u);

  GeoStoreOptions options;
  options.paths = {city_path_};
  options.allow_type_change = true;  // judge each file on its own damage
  GeoStore store(options);
  const std::vector<IpAddress> sweep = SweepAddresses();
  int rejected = 0;
  int opened = 0;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    Install(city_path_, "GeoIP2-City-Test.mmdb");
    ASSERT_TRUE(store.Reload(city_path_).ok());
    const std::shared_ptr<const Database> good = store.Get(city_path_);

    const std::string content = testing::ReadFile(file);
    ASSERT_FALSE(content.empty());
    ASSERT_TRUE(testing::ReplaceFile(city_path_, content));
    absl::Status status = store.Reload(city_path_);
    if (!status.ok()) {
      ++rejected;
      std::cout << "rejected " << Basename(file) << ": " << status.code()
                << "\n";
      EXPECT_THAT(status.message(), HasSubstr(city_path_));
      EXPECT_EQ(store.Get(city_path_), good);
      absl::StatusOr<geo::v1::LookupResponse> still =
          store.Lookup(Ip("81.2.69.160"), "en");
      ASSERT_TRUE(still.ok()) << still.status();
      EXPECT_EQ(still->country().iso_code(), "GB");
      continue;
    }
    ++opened;
    int ok = 0;
    int failed = 0;
    for (const IpAddress& address : sweep) {
      absl::StatusOr<geo::v1::LookupResponse> response =
          store.Lookup(address, "en");
      if (response.ok()) {
        ++ok;
      } else {
        ++failed;
        EXPECT_NE(response.status().code(), absl::StatusCode::kUnavailable);
        EXPECT_FALSE(response.status().message().empty());
      }
    }
    std::cout << "opened " << Basename(file) << ": " << ok
              << " lookups answered, " << failed << " failed cleanly\n";
  }
  std::cout << rejected << " rejected at reload, " << opened
            << " opened (damage beyond the probes)\n";
  EXPECT_GT(rejected, 0);
}

// Time comes from the injected clock (loaded_at, reload durations), and the
// work around the swap takes its turns from the budget the reload is given.
TEST_F(GeoStoreTest, ReloadTakesTimeFromTheClockAndTurnsFromTheBudget) {
  Install(city_path_, "GeoIP2-City-Test.mmdb");
  const absl::Time start = absl::FromUnixSeconds(1800000000);
  FakeClock clock(start);
  RecordingObserver observer;
  GeoStoreOptions options = Options({city_path_});
  options.clock = &clock;
  options.observer = &observer;
  options.log_reloads = false;
  GeoStore store(options);
  BackgroundWork first(absl::ZeroDuration());
  ASSERT_TRUE(store.Reload(city_path_, first).ok());
  EXPECT_EQ(store.Get(city_path_)->loaded_at(), start);
  // No generation to retire: a step per MiB of the tree, then per MiB of the
  // data section (from the page it starts in).
  const Database& database = *store.Get(city_path_);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t chunk = size_t{1} << 20;
  const size_t tree = database.search_tree().size();
  const size_t data = database.mapped_file().size() - tree / page * page;
  EXPECT_EQ(first.steps(),
            (tree + chunk - 1) / chunk + (data + chunk - 1) / chunk);
  ASSERT_TRUE(store.Lookup(Ip("81.2.69.160"), "en").ok());

  clock.Advance(absl::Hours(1));
  Install(city_path_, "GeoIP2-City-Test.mmdb");
  BackgroundWork second(absl::ZeroDuration());
  ASSERT_TRUE(store.Reload(city_path_, second).ok());
  EXPECT_EQ(store.Get(city_path_)->loaded_at(), start + absl::Hours(1));
  EXPECT_EQ(store.Generation(city_path_)->record_cache_stats().entries, 0u);
  // Both mapped a tree; the second also retired the replaced generation, a
  // step per cache shard.
  EXPECT_GT(second.steps(), first.steps() + RecordCache::kShards);
  EXPECT_EQ(second.yields(), second.steps());
  // The fake clock stood still during each reload.
  EXPECT_EQ(observer.durations,
            std::vector<absl::Duration>(2, absl::ZeroDuration()));
}

}  // namespace
}  // namespace geo
