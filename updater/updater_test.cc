#include "updater/updater.h"

#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/updater/instant_clock.h"
#include "tests/updater/test_archives.h"
#include "updater/directory_lock.h"

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

// Free space as scripted: each call takes the next value, the last repeats.
class FakeFreeSpace final : public FreeSpace {
 public:
  absl::StatusOr<int64_t> AvailableBytes(
      const std::string& directory) const override {
    absl::MutexLock lock(&mu_);
    directories_.push_back(directory);
    if (values_.size() > 1) {
      const int64_t value = values_.front();
      values_.pop_front();
      return value;
    }
    return values_.front();
  }
  void Set(std::deque<int64_t> values) {
    absl::MutexLock lock(&mu_);
    values_ = std::move(values);
  }
  std::vector<std::string> directories() const {
    absl::MutexLock lock(&mu_);
    return directories_;
  }

 private:
  mutable absl::Mutex mu_;
  mutable std::deque<int64_t> values_ ABSL_GUARDED_BY(mu_) = {int64_t{1} << 40};
  mutable std::vector<std::string> directories_ ABSL_GUARDED_BY(mu_);
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
    options_.free_space_margin_bytes = kMargin;
    final_path_ = options_.data_dir + "/GeoIP2-City.mmdb";
  }
  static constexpr int64_t kMargin = 1 << 20;

  std::unique_ptr<Updater> MakeUpdater() {
    UpdaterDependencies deps;
    deps.source = &source_;
    deps.clock = &clock_;
    deps.uniform01 = [] { return 0.5; };
    deps.metrics = &metrics_;
    deps.validator = &ValidateDatabase;
    deps.cancel = &cancel_;
    deps.free_space = &free_space_;
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
  FakeFreeSpace free_space_;
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

TEST_F(UpdaterTest, ADownloadNeedsRoomForTwiceTheInstalledDatabase) {
  const std::string old(2 << 20, 'o');  // 2 MiB installed
  WriteFileOrDie(final_path_, old);
  // 4 MiB + the margin needed; one byte less is there.
  free_space_.Set({(4 << 20) + kMargin - 1});
  source_.steps.push_back(Archive(city_, Md5Hex(city_)));
  PassResult result = MakeUpdater()->RunPass();
  EXPECT_TRUE(absl::IsResourceExhausted(result.status)) << result.status;
  EXPECT_EQ(FailureReasonOf(result.status), "disk");
  EXPECT_THAT(result.status.message(),
              HasSubstr(absl::StrCat("not enough free space in ",
                                     options_.data_dir, ": ")));
  EXPECT_THAT(result.status.message(), HasSubstr("needed"));
  EXPECT_THAT(result.status.message(), HasSubstr("free"));
  EXPECT_EQ(ReadFileOrDie(final_path_), old);
  EXPECT_THAT(Files(), ElementsAre(".geo-updater.lock", "GeoIP2-City.mmdb"));
  EXPECT_THAT(free_space_.directories(), ElementsAre(options_.data_dir));

  // With nothing to download, the same free space is no failure.
  source_.steps.push_back(UpToDate());
  EXPECT_TRUE(MakeUpdater()->RunPass().status.ok());
  // And with one byte more, the update installs.
  free_space_.Set({(4 << 20) + kMargin});
  source_.steps.push_back(Archive(city_, Md5Hex(city_)));
  PassResult installed = MakeUpdater()->RunPass();
  ASSERT_TRUE(installed.status.ok()) << installed.status;
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
}

TEST_F(UpdaterTest, TheDownloadIsCappedByTheFreeSpace) {
  const std::string archive = MakeMaxMindArchive(kEdition, city_);
  free_space_.Set({kMargin + static_cast<int64_t>(archive.size()) - 1});
  source_.steps.push_back(Archive(city_, Md5Hex(city_)));
  PassResult result = MakeUpdater()->RunPass();
  EXPECT_TRUE(absl::IsResourceExhausted(result.status)) << result.status;
  EXPECT_EQ(FailureReasonOf(result.status), "disk");
  EXPECT_THAT(result.status.message(),
              HasSubstr("the download needs more than"));
  EXPECT_THAT(Files(), ElementsAre(".geo-updater.lock"));
}

// With room to spare, each configured size limit still refuses a release
// over it, names its flag and installs nothing.
TEST_F(UpdaterTest, TheConfiguredSizeLimitsStillApply) {
  struct Limit {
    int64_t UpdaterOptions::*option;
    int64_t bytes;
    const char* flag;
  };
  for (const Limit& limit :
       {Limit{&UpdaterOptions::max_download_bytes, 100, "--max_download_bytes"},
        Limit{&UpdaterOptions::max_database_bytes, 1000,
              "--max_database_bytes"}}) {
    SCOPED_TRACE(limit.flag);
    const UpdaterOptions defaults = options_;
    options_.*limit.option = limit.bytes;
    source_.steps.push_back(Archive(city_, Md5Hex(city_)));
    PassResult result = MakeUpdater()->RunPass();
    options_ = defaults;
    EXPECT_TRUE(absl::IsOutOfRange(result.status)) << result.status;
    EXPECT_EQ(FailureReasonOf(result.status), "too_large");
    EXPECT_THAT(result.status.message(), HasSubstr(limit.flag));
    EXPECT_THAT(Files(), ElementsAre(".geo-updater.lock"));
  }
}

TEST_F(UpdaterTest, TheExtractedDatabaseIsCappedByTheFreeSpaceLeft) {
  // Plenty when the download starts; after it, room for less than the
  // database.
  free_space_.Set(
      {int64_t{1} << 40, kMargin + static_cast<int64_t>(city_.size()) - 1});
  source_.steps.push_back(Archive(city_, Md5Hex(city_)));
  PassResult result = MakeUpdater()->RunPass();
  EXPECT_TRUE(absl::IsResourceExhausted(result.status)) << result.status;
  EXPECT_EQ(FailureReasonOf(result.status), "disk");
  EXPECT_THAT(
      result.status.message(),
      HasSubstr(absl::StrCat("not enough free space in ", options_.data_dir,
                             ": the extracted database needs more")));
  EXPECT_THAT(Files(), ElementsAre(".geo-updater.lock"));

  free_space_.Set(
      {int64_t{1} << 40, kMargin + static_cast<int64_t>(city_.size())});
  source_.steps.push_back(Archive(city_, Md5Hex(city_)));
  PassResult installed = MakeUpdater()->RunPass();
  ASSERT_TRUE(installed.status.ok()) << installed.status;
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

namespace geo::updater {
namespace {

// Answers "up to date" for every edition, after waiting (real time, bounded)
// for a second call to be in flight, and records how many ran at once.
class ConcurrencyProbeSource final : public DatabaseSource {
 public:
  // How long a call waits for company: long enough for a second thread to
  // arrive on a loaded machine when one is expected.
  explicit ConcurrencyProbeSource(absl::Duration wait = absl::Seconds(5))
      : wait_(wait) {}
  absl::StatusOr<FetchResult> Fetch(const FetchRequest& request,
                                    TempFile*) override {
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
      editions_.push_back(request.edition);
      auto two = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return max_in_flight_ >= 2;
      };
      mu_.AwaitWithTimeout(absl::Condition(&two), wait_);
      --in_flight_;
    }
    FetchResult result;
    result.up_to_date = true;
    return result;
  }
  int max_in_flight() const {
    absl::MutexLock lock(&mu_);
    return max_in_flight_;
  }

 private:
  const absl::Duration wait_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int max_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> editions_ ABSL_GUARDED_BY(mu_);
};

class UpdaterParityTest : public ::testing::Test {
 protected:
  UpdaterParityTest() {
    options_.editions = {"GeoIP2-City", "GeoIP2-ASN", "GeoIP2-ISP"};
    options_.data_dir = MakeTempDirectory();
    options_.interval = absl::Hours(1);
    options_.free_space_margin_bytes = 0;
  }
  std::unique_ptr<Updater> MakeUpdater(DatabaseSource* source) {
    UpdaterDependencies deps;
    deps.source = source;
    deps.clock = &clock_;
    deps.uniform01 = [] { return 0.5; };
    deps.validator = &ValidateDatabase;
    deps.cancel = &cancel_;
    deps.free_space = &free_space_;
    return std::make_unique<Updater>(options_, deps);
  }

  UpdaterOptions options_;
  InstantClock clock_;
  absl::Notification cancel_;
  FakeFreeSpace free_space_;
};

TEST_F(UpdaterParityTest, ParallelismRunsEditionsAtOnceInEditionOrder) {
  options_.parallelism = 2;
  ConcurrencyProbeSource source;
  PassResult result = MakeUpdater(&source)->RunPass();
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(source.max_in_flight(), 2);
  ASSERT_EQ(result.editions.size(), 3u);
  EXPECT_EQ(result.editions[0].edition, "GeoIP2-City");
  EXPECT_EQ(result.editions[1].edition, "GeoIP2-ASN");
  EXPECT_EQ(result.editions[2].edition, "GeoIP2-ISP");
}

TEST_F(UpdaterParityTest, ParallelismOneIsOneAtATime) {
  options_.parallelism = 1;
  options_.editions = {"GeoIP2-City", "GeoIP2-ASN"};
  ConcurrencyProbeSource source(absl::Milliseconds(200));
  PassResult result = MakeUpdater(&source)->RunPass();
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(source.max_in_flight(), 1);
  EXPECT_EQ(result.editions.size(), 2u);
}

TEST_F(UpdaterParityTest, PreserveFileTimesOffUsesTheInstallTime) {
  const std::string city = ReadTestDatabase("GeoIP2-City-Test.mmdb");
  const absl::Time release = absl::FromUnixSeconds(1715083200);
  options_.editions = {"GeoIP2-City"};
  for (bool preserve : {true, false}) {
    options_.preserve_file_times = preserve;
    options_.data_dir = MakeTempDirectory();
    ScriptedSource source;
    FetchResult fetched;
    fetched.format = PayloadFormat::kTarGz;
    fetched.expected_mmdb_md5 = Md5Hex(city);
    fetched.modified_at = release;
    source.steps.push_back({fetched, MakeMaxMindArchive("GeoIP2-City", city)});
    const absl::Time before = absl::Now();
    PassResult result = MakeUpdater(&source)->RunPass();
    ASSERT_TRUE(result.status.ok()) << result.status;
    struct stat info;
    ASSERT_EQ(::stat((options_.data_dir + "/GeoIP2-City.mmdb").c_str(), &info),
              0);
    const absl::Time mtime = absl::TimeFromTimespec(info.st_mtim);
    if (preserve) {
      EXPECT_EQ(mtime, release);
    } else {
      EXPECT_GE(mtime, before - absl::Seconds(2));
    }
  }
}

TEST_F(UpdaterParityTest, LockFileIsTheLockTaken) {
  options_.lock_file = MakeTempDirectory() + "/updater.lock";
  options_.lock_timeout = absl::ZeroDuration();
  absl::StatusOr<DirectoryLock> held = DirectoryLock::AcquireFile(
      options_.lock_file, absl::ZeroDuration(), &clock_, nullptr);
  ASSERT_TRUE(held.ok()) << held.status();
  ConcurrencyProbeSource source(absl::ZeroDuration());
  PassResult result = MakeUpdater(&source)->RunPass();
  EXPECT_TRUE(absl::IsAborted(result.status)) << result.status;
  EXPECT_THAT(std::string(result.status.message()),
              HasSubstr(options_.lock_file));
  // The data directory's own lock file is not used.
  EXPECT_FALSE(FileExists(options_.data_dir + "/.geo-updater.lock"));
}

}  // namespace
}  // namespace geo::updater
