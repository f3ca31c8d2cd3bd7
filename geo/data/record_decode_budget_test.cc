// Decoding stays within its budget on databases crafted to make it explode,
// failures are remembered, and the language of a request never becomes a
// cache key unless the database has names in it.
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/data/database.h"
#include "geo/data/database_generation.h"
#include "geo/data/geo_store.h"
#include "geo/data/language.h"
#include "geo/data/test_mmdb_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process_stats.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::geo::testing::BuildMmdb;
using ::geo::testing::MmdbDataWriter;
using ::geo::testing::MmdbNetwork;
using ::geo::testing::WritePointerFanOut;
using ::testing::HasSubstr;

// Resident memory of this process.
int64_t ResidentBytes() {
  return testing::ProcStatusKiB(getpid(), "VmRSS") * 1024;
}

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

// The probe addresses Database::Open looks up (1.1.1.1, 8.8.8.8,
// 81.2.69.160) have no record in these files, so a crafted record passes
// open-time validation, as a real attack would.
std::string WriteDatabase(const std::string& name,
                          const std::vector<MmdbNetwork>& networks,
                          const MmdbDataWriter& data,
                          std::vector<std::string> languages = {"de", "en"}) {
  testing::MmdbFileOptions options;
  options.languages = std::move(languages);
  const std::string path =
      absl::StrCat(testing::NewTempDir(), "/", name, ".mmdb");
  EXPECT_TRUE(testing::WriteFile(path, BuildMmdb(networks, data, options)));
  return path;
}

// A country record with names in English and German.
uint32_t WriteCountry(MmdbDataWriter* data) {
  const uint32_t offset = data->offset();
  data->Map(1)
      .String("country")
      .Map(3)
      .String("iso_code")
      .String("DE")
      .String("geoname_id")
      .Uint32(2921044)
      .String("names")
      .Map(2)
      .String("de")
      .String("Deutschland")
      .String("en")
      .String("Germany");
  return offset;
}

// A database whose only record, WriteCountry's, covers 10.0.0.0/8.
std::string WriteCountryDatabase(const std::string& name) {
  MmdbDataWriter data;
  const uint32_t country = WriteCountry(&data);
  return WriteDatabase(name, {{"10.0.0.0/8", country}}, data);
}

TEST(CraftedDatabaseTest, WriterProducesADatabaseThatDecodes) {
  absl::StatusOr<std::shared_ptr<DatabaseGeneration>> database =
      DatabaseGeneration::Open(WriteCountryDatabase("country"));
  ASSERT_TRUE(database.ok()) << database.status();
  geo::v1::LookupResponse german;
  ASSERT_TRUE((*database)->Lookup(Ip("10.1.2.3"), "de", &german).ok());
  EXPECT_TRUE(german.found());
  EXPECT_EQ(german.network(), "10.0.0.0/8");
  EXPECT_EQ(german.country().iso_code(), "DE");
  EXPECT_EQ(german.country().geoname_id(), 2921044u);
  EXPECT_EQ(german.country().name(), "Deutschland");
  geo::v1::LookupResponse none;
  ASSERT_TRUE((*database)->Lookup(Ip("11.0.0.1"), "de", &none).ok());
  EXPECT_FALSE(none.found());
}

TEST(CraftedDatabaseTest, PointerFanOutFailsWithinTheBudgetAndIsRemembered) {
  MmdbDataWriter data;
  const uint32_t country = WriteCountry(&data);
  const uint32_t bomb = WritePointerFanOut(&data, 30);
  ASSERT_LT(data.bytes().size(), 1024u);
  absl::StatusOr<std::shared_ptr<DatabaseGeneration>> database =
      DatabaseGeneration::Open(WriteDatabase(
          "fan_out", {{"10.0.0.0/8", bomb}, {"20.0.0.0/8", country}}, data));
  ASSERT_TRUE(database.ok()) << database.status();

  const int64_t rss_before = ResidentBytes();
  const absl::Time start = absl::Now();
  geo::v1::LookupResponse response;
  const absl::Status status =
      (*database)->Lookup(Ip("10.9.9.9"), "en", &response);
  const absl::Duration took = absl::Now() - start;
  const int64_t rss_growth = ResidentBytes() - rss_before;

  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr("decode budget of 4096 entries"));
  EXPECT_EQ(RecordDecodeFailureOf(status), RecordDecodeFailure::kEntryBudget);
  // 4096 entries: well under a millisecond plain; generous for sanitizers
  // on a loaded machine. Without the budget: 2^31 entries, minutes and
  // ~128 GiB.
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_LT(rss_growth, int64_t{8} << 20);
  EXPECT_EQ((*database)->record_decode_stats().decodes, 1u);

  // Asking again (any language) answers from the memo: no second decode.
  for (const char* language : {"en", "de", "", "pt-BR"}) {
    const absl::Status again =
        (*database)->Lookup(Ip("10.1.1.1"), language, &response);
    EXPECT_EQ(again.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(RecordDecodeFailureOf(again), RecordDecodeFailure::kEntryBudget);
  }
  const RecordDecodeStats stats = (*database)->record_decode_stats();
  EXPECT_EQ(stats.decodes, 1u);
  EXPECT_EQ(stats.failures, 1u);
  EXPECT_EQ(stats.remembered_failures, 4u);

  // The rest of the file still answers.
  geo::v1::LookupResponse good;
  ASSERT_TRUE((*database)->Lookup(Ip("20.0.0.1"), "de", &good).ok());
  EXPECT_EQ(good.country().name(), "Deutschland");
}

TEST(CraftedDatabaseTest, ByteBudgetStopsRepeatedLongStrings) {
  MmdbDataWriter data;
  const uint32_t record = testing::WriteRepeatedLongStrings(&data);
  absl::StatusOr<std::shared_ptr<DatabaseGeneration>> database =
      DatabaseGeneration::Open(
          WriteDatabase("long_strings", {{"10.0.0.0/8", record}}, data));
  ASSERT_TRUE(database.ok()) << database.status();
  geo::v1::LookupResponse response;
  const absl::Status status =
      (*database)->Lookup(Ip("10.0.0.1"), "en", &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(RecordDecodeFailureOf(status), RecordDecodeFailure::kByteBudget);
  EXPECT_THAT(status.message(), HasSubstr("1048576 bytes"));
}

TEST(CraftedDatabaseTest, BudgetIsAnOption) {
  MmdbDataWriter data;
  const uint32_t bomb = WritePointerFanOut(&data, 6);  // 2^7 - 1 + 2 entries
  const std::string path =
      WriteDatabase("small_fan_out", {{"10.0.0.0/8", bomb}}, data);
  geo::v1::LookupResponse response;
  DatabaseOptions roomy;
  auto fits = DatabaseGeneration::Open(path, roomy);
  ASSERT_TRUE(fits.ok());
  // Fields of the wrong shape ("city" is a map of maps), but decoded.
  EXPECT_NE(
      RecordDecodeFailureOf((*fits)->Lookup(Ip("10.0.0.1"), "en", &response)),
      RecordDecodeFailure::kEntryBudget);
  DatabaseOptions tight;
  tight.max_record_entries = 64;
  auto refused = DatabaseGeneration::Open(path, tight);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(RecordDecodeFailureOf(
                (*refused)->Lookup(Ip("10.0.0.1"), "en", &response)),
            RecordDecodeFailure::kEntryBudget);
}

TEST(CraftedDatabaseTest, AFieldFailureInOneLanguageDoesNotFailOthers) {
  MmdbDataWriter data;
  const uint32_t record = data.offset();
  data.Map(1)
      .String("country")
      .Map(1)
      .String("names")
      .Map(2)
      .String("de")
      .Uint32(7)  // Not a string.
      .String("en")
      .String("Germany");
  absl::StatusOr<std::shared_ptr<DatabaseGeneration>> database =
      DatabaseGeneration::Open(
          WriteDatabase("bad_name", {{"10.0.0.0/8", record}}, data));
  ASSERT_TRUE(database.ok());
  geo::v1::LookupResponse response;
  const absl::Status german =
      (*database)->Lookup(Ip("10.0.0.1"), "de", &response);
  EXPECT_EQ(RecordDecodeFailureOf(german), RecordDecodeFailure::kInvalidData);
  EXPECT_EQ(RecordDecodeFailureOf(
                (*database)->Lookup(Ip("10.0.0.1"), "de", &response)),
            RecordDecodeFailure::kInvalidData);
  geo::v1::LookupResponse english;
  ASSERT_TRUE((*database)->Lookup(Ip("10.0.0.1"), "en", &english).ok());
  EXPECT_EQ(english.country().name(), "Germany");
}

TEST(CraftedDatabaseTest, MetadataThatFansOutIsRefusedBeforeMmdbOpen) {
  MmdbDataWriter data;
  const uint32_t country = WriteCountry(&data);
  testing::MmdbFileOptions options;
  options.description_fan_out = 30;
  const std::string path =
      absl::StrCat(testing::NewTempDir(), "/metadata_fan_out.mmdb");
  ASSERT_TRUE(testing::WriteFile(
      path, BuildMmdb({{"10.0.0.0/8", country}}, data, options)));
  const int64_t rss_before = ResidentBytes();
  const absl::Time start = absl::Now();
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(path);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_LT(ResidentBytes() - rss_before, int64_t{8} << 20);
  EXPECT_EQ(database.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(database.status().message(),
              HasSubstr("metadata: record exceeds the decode budget"));
  EXPECT_EQ(RecordDecodeFailureOf(database.status()),
            RecordDecodeFailure::kEntryBudget);

  // The same file with a small fan-out opens: the writer is right.
  options.description_fan_out = 2;
  ASSERT_TRUE(testing::WriteFile(
      path, BuildMmdb({{"10.0.0.0/8", country}}, data, options)));
  EXPECT_EQ(Database::Open(path).status().code(),
            absl::StatusCode::kDataLoss);  // description values are maps
}

class CountingObserver : public GeoStoreObserver {
 public:
  void OnReload(const std::string&, const absl::Status&, const Database*,
                absl::Duration) override {}
  void OnRecordDecodeFailure(RecordDecodeFailure failure) override {
    if (failure == RecordDecodeFailure::kEntryBudget) ++entry_budget;
  }
  std::atomic<int> entry_budget{0};
};

TEST(CraftedDatabaseTest, GeoStoreReportsDecodeFailuresToItsObserver) {
  MmdbDataWriter data;
  const uint32_t bomb = WritePointerFanOut(&data, 30);
  const std::string path =
      WriteDatabase("store_fan_out", {{"10.0.0.0/8", bomb}}, data);
  CountingObserver observer;
  GeoStoreOptions options;
  options.paths = {path};
  options.observer = &observer;
  options.log_reloads = false;
  GeoStore store(options);
  ASSERT_TRUE(store.ReloadAll().ok());
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<LookupAnswer> answer = store.Find(Ip("10.0.0.1"), "en");
    EXPECT_EQ(answer.status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(observer.entry_budget.load(), 3);
  EXPECT_EQ(store.Generation(path)->record_decode_stats().decodes, 1u);
}

// ---------------------------------------------------------------------------
// The language of a request.

TEST(LanguageTest, InvalidLanguagesAreRefusedAtEveryEntryPoint) {
  const std::string path = WriteCountryDatabase("languages");
  absl::StatusOr<std::shared_ptr<DatabaseGeneration>> database =
      DatabaseGeneration::Open(path);
  ASSERT_TRUE(database.ok());
  GeoStoreOptions options;
  options.paths = {path};
  options.log_reloads = false;
  GeoStore store(options);
  ASSERT_TRUE(store.ReloadAll().ok());
  GeoStore empty_store(GeoStoreOptions{});

  for (const std::string& language :
       {std::string(1 << 20, 'a'), std::string(16 * 1024, 'q'),
        std::string("de_DE"), std::string("x")}) {
    geo::v1::LookupResponse response;
    LookupAnswer answer;
    for (const absl::Status& status :
         {(*database)->Lookup(Ip("10.0.0.1"), language, &response),
          (*database)->Find(Ip("10.0.0.1"), language, &answer),
          store.Find(Ip("10.0.0.1"), language).status(),
          store.Lookup(Ip("10.0.0.1"), language).status(),
          // Before anything is loaded, too.
          empty_store.Find(Ip("10.0.0.1"), language).status()}) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(status.message(), kInvalidLanguageMessage);
    }
  }
  EXPECT_EQ((*database)->record_cache_stats().entries, 0u);
}

TEST(LanguageTest, CacheHoldsOneCopyPerLanguageOfTheFile) {
  absl::StatusOr<std::shared_ptr<DatabaseGeneration>> database =
      DatabaseGeneration::Open(WriteCountryDatabase("cache_keys"));
  ASSERT_TRUE(database.ok());
  std::mt19937 random(42);
  const std::string alphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  auto pick = [&] { return alphabet[random() % 52]; };
  auto any = [&] { return alphabet[random() % alphabet.size()]; };
  for (int i = 0; i < 2000; ++i) {
    // A valid tag of up to 35 bytes: "xy-zzzzzzzz-...".
    std::string language = {pick(), pick(), pick()};
    while (language.size() + 9 <= kMaxLanguageBytes) {
      language += '-';
      for (int j = 0; j < 8; ++j) language += any();
    }
    ASSERT_TRUE(ValidateLanguage(language).ok()) << language;
    geo::v1::LookupResponse response;
    ASSERT_TRUE((*database)->Lookup(Ip("10.0.0.1"), language, &response).ok());
    EXPECT_EQ(response.country().name(), "Germany");
  }
  geo::v1::LookupResponse response;
  for (const char* language : {"", "en", "de", "xx", "pt-BR"}) {
    ASSERT_TRUE((*database)->Lookup(Ip("10.0.0.1"), language, &response).ok());
  }
  EXPECT_EQ(response.country().name(), "Germany");
  ASSERT_TRUE((*database)->Lookup(Ip("10.0.0.1"), "de", &response).ok());
  EXPECT_EQ(response.country().name(), "Deutschland");
  // English (for every language the record has no names in) and German.
  EXPECT_EQ((*database)->record_cache_stats().entries, 2u);
}

}  // namespace
}  // namespace geo
