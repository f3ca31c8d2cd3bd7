#include "updater/updater.h"

#include <deque>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/updater/instant_clock.h"
#include "tests/updater/test_archives.h"

namespace geo::updater {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace ::geo::updater::testing;  // NOLINT: test helpers

constexpr char kEdition[] = "GeoIP2-City";

// Serves scripted results; records what the updater knew.
class ScriptedSource final : public DatabaseSource {
 public:
  struct Step {
    absl::StatusOr<FetchResult> result;
    std::string payload;
  };
  std::deque<Step> steps;
  std::vector<FetchRequest> requests;

  absl::StatusOr<FetchResult> Fetch(const FetchRequest& request,
                                    TempFile* payload) override {
    requests.push_back(request);
    if (steps.empty()) return absl::InternalError("no more steps");
    Step step = std::move(steps.front());
    steps.pop_front();
    if (step.result.ok() && !step.result->up_to_date) {
      absl::Status written = payload->Write(step.payload);
      if (!written.ok()) return written;
    }
    return step.result;
  }
};

class UpdaterTest : public ::testing::Test {
 protected:
  UpdaterTest()
      : registry_(std::make_shared<prometheus::Registry>()),
        metrics_(registry_, {kEdition}) {
    city_ = ReadTestDatabase("GeoIP2-City-Test.mmdb");
    options_.editions = {kEdition};
    options_.data_dir = MakeTempDirectory();
    options_.interval = absl::Hours(1);
    options_.health_grace = absl::Minutes(10);
    final_path_ = options_.data_dir + "/GeoIP2-City.mmdb";
  }

  std::unique_ptr<Updater> MakeUpdater() {
    UpdaterDependencies deps;
    deps.source = &source_;
    deps.clock = &clock_;
    deps.uniform01 = [] { return 0.5; };
    deps.metrics = &metrics_;
    deps.validator = &ValidateDatabase;
    deps.cancel = &cancel_;
    return std::make_unique<Updater>(options_, deps);
  }

  ScriptedSource::Step Archive(const std::string& mmdb,
                               const std::string& md5) {
    FetchResult result;
    result.format = PayloadFormat::kTarGz;
    result.expected_mmdb_md5 = md5;
    result.modified_at = absl::FromUnixSeconds(1715083200);
    return {result, MakeMaxMindArchive(kEdition, mmdb)};
  }
  static ScriptedSource::Step UpToDate() {
    FetchResult result;
    result.up_to_date = true;
    return {result, ""};
  }

  std::vector<std::string> Files() { return ListDirectory(options_.data_dir); }

  std::string city_;
  UpdaterOptions options_;
  std::string final_path_;
  ScriptedSource source_;
  InstantClock clock_;
  absl::Notification cancel_;
  std::shared_ptr<prometheus::Registry> registry_;
  UpdaterMetrics metrics_;
};

TEST_F(UpdaterTest, InstallsThenReportsCurrent) {
  source_.steps.push_back(Archive(city_, Md5Hex(city_)));
  source_.steps.push_back(UpToDate());
  auto updater = MakeUpdater();
  PassResult first = updater->RunPass();
  ASSERT_TRUE(first.status.ok()) << first.status;
  ASSERT_EQ(first.editions.size(), 1u);
  EXPECT_TRUE(first.editions[0].updated);
  EXPECT_EQ(first.editions[0].old_hash, "00000000000000000000000000000000");
  EXPECT_EQ(first.editions[0].new_hash, Md5Hex(city_));
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
  EXPECT_THAT(Files(), ElementsAre(".geo-updater.lock", "GeoIP2-City.mmdb"));

  PassResult second = updater->RunPass();
  ASSERT_TRUE(second.status.ok());
  EXPECT_FALSE(second.editions[0].updated);
  EXPECT_EQ(source_.requests.back().local_md5, Md5Hex(city_));
  EXPECT_EQ(source_.requests.back().local_modified_at,
            absl::FromUnixSeconds(1715083200));
  EXPECT_THAT(
      metrics_.Serialize(),
      HasSubstr(
          R"(geo_updater_checks_total{edition="GeoIP2-City",result="unchanged"} 1)"));
  EXPECT_THAT(SummaryJson(second.editions),
              HasSubstr(R"("old_hash":")" + Md5Hex(city_)));
}

TEST_F(UpdaterTest, Md5MismatchInstallsNothing) {
  source_.steps.push_back(Archive(city_, Md5Hex("other")));
  PassResult result = MakeUpdater()->RunPass();
  EXPECT_TRUE(absl::IsDataLoss(result.status));
  EXPECT_EQ(FailureReasonOf(result.status), "checksum");
  EXPECT_THAT(Files(), ElementsAre(".geo-updater.lock"));
  EXPECT_THAT(
      metrics_.Serialize(),
      HasSubstr(
          R"(geo_updater_failures_total{edition="GeoIP2-City",reason="checksum"} 1)"));
  EXPECT_THAT(SummaryJson(result.editions), HasSubstr(R"("error":)"));
}

TEST_F(UpdaterTest, InvalidDatabaseKeepsTheOldFile) {
  WriteFileOrDie(final_path_, "old");
  source_.steps.push_back(Archive("garbage", Md5Hex("garbage")));
  PassResult result = MakeUpdater()->RunPass();
  EXPECT_EQ(FailureReasonOf(result.status), "invalid_database");
  EXPECT_EQ(ReadFileOrDie(final_path_), "old");
  EXPECT_THAT(Files(), ElementsAre(".geo-updater.lock", "GeoIP2-City.mmdb"));
}

TEST_F(UpdaterTest, SourceFailureIsReported) {
  source_.steps.push_back({absl::UnauthenticatedError("HTTP 401"), ""});
  PassResult result = MakeUpdater()->RunPass();
  EXPECT_TRUE(absl::IsUnauthenticated(result.status));
  EXPECT_THAT(Files(), ElementsAre(".geo-updater.lock"));
}

TEST_F(UpdaterTest, MirrorServingTheSameBareFileIsNotReinstalled) {
  WriteFileOrDie(final_path_, city_);
  FetchResult same;
  same.format = PayloadFormat::kMmdb;
  source_.steps.push_back({same, city_});
  PassResult result = MakeUpdater()->RunPass();
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_FALSE(result.editions[0].updated);
}

TEST_F(UpdaterTest, CleansStaleTempFiles) {
  WriteFileOrDie(options_.data_dir + "/.geo-updater-GeoIP2-City.mmdb.tmpXYZ",
                 "stale");
  source_.steps.push_back(UpToDate());
  ASSERT_TRUE(MakeUpdater()->RunPass().status.ok());
  EXPECT_THAT(Files(), ElementsAre(".geo-updater.lock"));
}

TEST_F(UpdaterTest, LoopRepeatsUntilCancelledAndRetriesFailuresSooner) {
  source_.steps.push_back({absl::UnavailableError("down"), ""});
  source_.steps.push_back(Archive(city_, Md5Hex(city_)));
  source_.steps.push_back(UpToDate());
  auto updater = MakeUpdater();
  int passes = 0;
  updater->RunLoop([&](const PassResult&) {
    if (++passes == 3) cancel_.Notify();
  });
  EXPECT_EQ(passes, 3);
  // A failed pass waits 15 minutes, a good one the interval (no jitter at
  // u = 0.5).
  EXPECT_THAT(clock_.waits(), ElementsAre(absl::Minutes(15), absl::Hours(1)));
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
}

TEST_F(UpdaterTest, HealthFollowsTheLastSuccess) {
  source_.steps.push_back(UpToDate());
  auto updater = MakeUpdater();
  EXPECT_TRUE(updater->Healthy());  // Grace from the start.
  ASSERT_TRUE(updater->RunPass().status.ok());
  clock_.WaitFor(absl::Hours(2), nullptr);
  EXPECT_TRUE(updater->Healthy());
  clock_.WaitFor(absl::Minutes(11), nullptr);
  EXPECT_FALSE(updater->Healthy());
}

}  // namespace
}  // namespace geo::updater
