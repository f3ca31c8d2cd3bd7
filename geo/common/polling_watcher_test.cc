#include "geo/common/polling_watcher.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "geo/common/fake_clock.h"
#include "geo/common/logging.h"
#include "geo/data/geo_store.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

// Records each call and the file content the callback saw.
class Recorder {
 public:
  PollingWatcher::Callback callback() {
    return [this](const std::string& path) {
      absl::MutexLock lock(&mu_);
      seen_.push_back(testing::ReadFile(path));
      return result_;
    };
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(seen_.size());
  }
  std::string last() const {
    absl::MutexLock lock(&mu_);
    return seen_.empty() ? "" : seen_.back();
  }
  void set_result(absl::Status status) {
    absl::MutexLock lock(&mu_);
    result_ = std::move(status);
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> seen_ ABSL_GUARDED_BY(mu_);
  absl::Status result_ ABSL_GUARDED_BY(mu_);
};

class CountingObserver : public PollingWatcherObserver {
 public:
  void OnReloaded(const std::string&, absl::Duration) override { ++reloaded; }
  void OnRejected(const std::string&, const absl::Status&) override {
    ++rejected;
  }
  void OnError(const std::string&, const absl::Status& status) override {
    ++errors;
    last_error = status.code();
  }
  std::atomic<int> reloaded{0};
  std::atomic<int> rejected{0};
  std::atomic<int> errors{0};
  std::atomic<absl::StatusCode> last_error{absl::StatusCode::kOk};
};

// Tests drive polls by hand (PollOnce) unless they test the thread.
class PollingWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::NewTempDir();
    path_ = dir_ + "/watched.mmdb";
    options_.clock = &clock_;
    options_.observer = &observer_;
  }
  std::unique_ptr<PollingWatcher> MakeWatcher() {
    return std::make_unique<PollingWatcher>(path_, recorder_.callback(),
                                            options_);
  }

  static void Poll(PollingWatcher& watcher, int times) {
    for (int i = 0; i < times; ++i) watcher.PollOnce();
  }
  // `loads` loads so far, the last one of `content`.
  void ExpectLoads(int loads, absl::string_view content) {
    EXPECT_EQ(recorder_.calls(), loads);
    EXPECT_EQ(recorder_.last(), content);
  }

  FakeClock clock_;
  CountingObserver observer_;
  Recorder recorder_;
  PollingWatcherOptions options_;
  std::string dir_;
  std::string path_;
};

TEST_F(PollingWatcherTest, LoadsOnlyAfterTheFileSettles) {
  ASSERT_TRUE(testing::WriteFile(path_, "version 1"));
  auto watcher = MakeWatcher();
  watcher->PollOnce();  // first sight: a candidate
  EXPECT_EQ(recorder_.calls(), 0);
  watcher->PollOnce();  // unchanged for an interval: load
  ExpectLoads(1, "version 1");
  Poll(*watcher, 5);
  EXPECT_EQ(recorder_.calls(), 1);
  EXPECT_EQ(watcher->stats().reloads, 1);
  EXPECT_EQ(observer_.reloaded, 1);
}

TEST_F(PollingWatcherTest, LoadNowMakesTheFirstLoadAndPollsSkipThatVersion) {
  ASSERT_TRUE(testing::WriteFile(path_, "version 1"));
  auto watcher = MakeWatcher();
  EXPECT_TRUE(watcher->LoadNow().ok());
  EXPECT_EQ(recorder_.calls(), 1);
  Poll(*watcher, 3);
  EXPECT_EQ(recorder_.calls(), 1);
  ASSERT_TRUE(testing::ReplaceFile(path_, "version 2"));
  Poll(*watcher, 2);
  ExpectLoads(2, "version 2");
}

// The race the start-up load used to lose: the file is replaced after the
// owner loaded it and before the polling thread's first poll.
TEST_F(PollingWatcherTest, FileReplacedBeforeTheFirstPollIsLoaded) {
  ASSERT_TRUE(testing::WriteFile(path_, "version 1"));
  auto watcher = MakeWatcher();
  ASSERT_TRUE(watcher->LoadNow().ok());
  ASSERT_TRUE(testing::ReplaceFile(path_, "version 2"));
  Poll(*watcher, 2);
  ExpectLoads(2, "version 2");
}

TEST_F(PollingWatcherTest, FailedLoadNowIsRetriedByThePolls) {
  ASSERT_TRUE(testing::WriteFile(path_, "version 1"));
  recorder_.set_result(absl::InvalidArgumentError("corrupt"));
  auto watcher = MakeWatcher();
  EXPECT_FALSE(watcher->LoadNow().ok());
  recorder_.set_result(absl::OkStatus());
  Poll(*watcher, 2);
  EXPECT_EQ(recorder_.calls(), 2);
  EXPECT_EQ(watcher->stats().reloads, 1);
}

TEST_F(PollingWatcherTest, AtomicRenameWithSameSizeIsANewVersion) {
  ASSERT_TRUE(testing::WriteFile(path_, "version 1"));
  auto watcher = MakeWatcher();
  Poll(*watcher, 2);
  ASSERT_EQ(recorder_.calls(), 1);
  // Same size; rename gives a new inode (and the temp file a new mtime).
  ASSERT_TRUE(testing::ReplaceFile(path_, "version 2"));
  watcher->PollOnce();
  EXPECT_EQ(recorder_.calls(), 1);
  watcher->PollOnce();
  ExpectLoads(2, "version 2");
}

// Kubernetes ConfigMap/Secret volumes: name -> ..data/name, ..data -> a
// timestamped directory, swapped by renaming a new ..data symlink over it.
TEST_F(PollingWatcherTest, KubernetesSymlinkSwap) {
  ASSERT_EQ(mkdir((dir_ + "/..2026_11_22_a").c_str(), 0755), 0);
  ASSERT_TRUE(testing::WriteFile(dir_ + "/..2026_11_22_a/watched.mmdb", "A"));
  ASSERT_EQ(symlink("..2026_11_22_a", (dir_ + "/..data").c_str()), 0);
  ASSERT_EQ(symlink("..data/watched.mmdb", path_.c_str()), 0);
  auto watcher = MakeWatcher();
  Poll(*watcher, 2);
  ASSERT_EQ(recorder_.calls(), 1);
  EXPECT_EQ(recorder_.last(), "A");

  ASSERT_EQ(mkdir((dir_ + "/..2026_11_22_b").c_str(), 0755), 0);
  ASSERT_TRUE(testing::WriteFile(dir_ + "/..2026_11_22_b/watched.mmdb", "B"));
  ASSERT_EQ(symlink("..2026_11_22_b", (dir_ + "/..data_tmp").c_str()), 0);
  ASSERT_EQ(rename((dir_ + "/..data_tmp").c_str(), (dir_ + "/..data").c_str()),
            0);
  Poll(*watcher, 2);
  ExpectLoads(2, "B");
}

TEST_F(PollingWatcherTest, SlowInPlaceWriteIsNeverLoadedHalfWritten) {
  ASSERT_TRUE(testing::WriteFile(path_, "old complete file"));
  auto watcher = MakeWatcher();
  Poll(*watcher, 2);
  ASSERT_EQ(recorder_.calls(), 1);

  const int fd = open(path_.c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  std::string full;
  for (int chunk = 0; chunk < 10; ++chunk) {
    const std::string data = absl::StrCat("chunk ", chunk, "; ");
    ASSERT_EQ(write(fd, data.data(), data.size()),
              static_cast<ssize_t>(data.size()));
    full += data;
    watcher->PollOnce();  // changed since the last poll: keep waiting
    EXPECT_EQ(recorder_.calls(), 1) << "loaded during write, chunk " << chunk;
  }
  close(fd);
  watcher->PollOnce();
  ExpectLoads(2, full);
}

TEST_F(PollingWatcherTest, StablePollsLengthensTheDebounce) {
  options_.stable_polls = 3;
  ASSERT_TRUE(testing::WriteFile(path_, "x"));
  auto watcher = MakeWatcher();
  for (int i = 0; i < 3; ++i) {
    watcher->PollOnce();
    EXPECT_EQ(recorder_.calls(), 0);
  }
  watcher->PollOnce();
  EXPECT_EQ(recorder_.calls(), 1);
}

TEST_F(PollingWatcherTest, DeleteThenRecreateLoadsAgain) {
  ASSERT_TRUE(testing::WriteFile(path_, "same content"));
  auto watcher = MakeWatcher();
  Poll(*watcher, 2);
  ASSERT_EQ(recorder_.calls(), 1);

  ASSERT_EQ(unlink(path_.c_str()), 0);
  watcher->PollOnce();
  EXPECT_EQ(observer_.errors, 1);
  EXPECT_EQ(observer_.last_error, absl::StatusCode::kNotFound);
  EXPECT_EQ(recorder_.calls(), 1);
  // Same name and content, possibly the same inode: still a new file.
  ASSERT_TRUE(testing::WriteFile(path_, "same content"));
  Poll(*watcher, 2);
  EXPECT_EQ(recorder_.calls(), 2);
}

TEST_F(PollingWatcherTest, MissingFileIsCountedEveryPollAndLoggedOnce) {
  std::vector<std::string> lines;
  SetLogSinkForTesting(
      [&lines](absl::string_view line) { lines.emplace_back(line); });
  auto watcher = MakeWatcher();
  Poll(*watcher, 5);
  SetLogSinkForTesting(nullptr);
  EXPECT_EQ(watcher->stats().errors, 5);
  EXPECT_EQ(observer_.errors, 5);
  EXPECT_EQ(observer_.last_error, absl::StatusCode::kNotFound);
  EXPECT_EQ(recorder_.calls(), 0);
  int unavailable = 0;
  for (const std::string& line : lines) {
    if (absl::StrContains(line, "Watched file unavailable")) {
      ++unavailable;
      EXPECT_TRUE(absl::StrContains(line, path_)) << line;
    }
  }
  EXPECT_EQ(unavailable, 1);

  ASSERT_TRUE(testing::WriteFile(path_, "arrived"));
  Poll(*watcher, 2);
  EXPECT_EQ(recorder_.calls(), 1);
}

TEST_F(PollingWatcherTest, RejectedFileIsNotRetriedUntilItChanges) {
  recorder_.set_result(absl::DataLossError("not a database"));
  ASSERT_TRUE(testing::WriteFile(path_, "garbage"));
  auto watcher = MakeWatcher();
  Poll(*watcher, 5);
  EXPECT_EQ(recorder_.calls(), 1);
  EXPECT_EQ(watcher->stats().rejections, 1);
  EXPECT_EQ(observer_.rejected, 1);
  recorder_.set_result(absl::OkStatus());
  ASSERT_TRUE(testing::ReplaceFile(path_, "good"));
  Poll(*watcher, 2);
  EXPECT_EQ(recorder_.calls(), 2);
  EXPECT_EQ(watcher->stats().reloads, 1);
}

// Root ignores file permissions through CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH. Capabilities are per thread on Linux, and PollOnce
// runs on this thread, so the test drops them from its own effective set
// (keeping them permitted) and restores them afterwards.
class DropDacCapabilities {
 public:
  DropDacCapabilities() {
    header_.version = _LINUX_CAPABILITY_VERSION_3;
    header_.pid = 0;
    if (syscall(SYS_capget, &header_, saved_) != 0) return;
    __user_cap_data_struct reduced[2] = {saved_[0], saved_[1]};
    for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}) {
      reduced[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
    }
    dropped_ = syscall(SYS_capset, &header_, reduced) == 0;
  }
  ~DropDacCapabilities() {
    if (dropped_) syscall(SYS_capset, &header_, saved_);
  }

 private:
  __user_cap_header_struct header_;
  __user_cap_data_struct saved_[2] = {};
  bool dropped_ = false;
};

// True when this thread really is refused a mode-0000 file.
bool PermissionsEnforced(const std::string& dir) {
  const std::string probe = dir + "/permission_probe";
  testing::WriteFile(probe, "x");
  chmod(probe.c_str(), 0);
  const int fd = open(probe.c_str(), O_RDONLY);
  const bool enforced = fd < 0 && errno == EACCES;
  if (fd >= 0) close(fd);
  unlink(probe.c_str());
  return enforced;
}

TEST_F(PollingWatcherTest, PermissionDeniedIsAnErrorUntilFixed) {
  DropDacCapabilities drop;
  if (!PermissionsEnforced(dir_)) {
    GTEST_SKIP() << "file permissions are not enforced for this process "
                    "(root with capabilities that could not be dropped)";
  }
  // An unreadable file: stat works, open does not.
  ASSERT_TRUE(testing::WriteFile(path_, "secret"));
  ASSERT_EQ(chmod(path_.c_str(), 0), 0);
  auto watcher = MakeWatcher();
  Poll(*watcher, 4);
  EXPECT_EQ(recorder_.calls(), 0);
  EXPECT_GE(observer_.errors, 1);
  EXPECT_EQ(observer_.last_error, absl::StatusCode::kPermissionDenied);
  ASSERT_EQ(chmod(path_.c_str(), 0644), 0);
  Poll(*watcher, 2);
  EXPECT_EQ(recorder_.calls(), 1);

  // A directory without search permission: stat itself fails.
  const std::string locked = dir_ + "/locked";
  ASSERT_EQ(mkdir(locked.c_str(), 0755), 0);
  ASSERT_TRUE(testing::WriteFile(locked + "/db.mmdb", "inside"));
  ASSERT_EQ(chmod(locked.c_str(), 0), 0);
  CountingObserver locked_observer;
  PollingWatcherOptions options = options_;
  options.observer = &locked_observer;
  PollingWatcher locked_watcher(locked + "/db.mmdb", recorder_.callback(),
                                options);
  locked_watcher.PollOnce();
  EXPECT_EQ(locked_observer.errors, 1);
  EXPECT_EQ(locked_observer.last_error, absl::StatusCode::kPermissionDenied);
  chmod(locked.c_str(), 0755);
}

TEST_F(PollingWatcherTest, NotARegularFileIsAnError) {
  ASSERT_EQ(mkdir(path_.c_str(), 0755), 0);
  auto watcher = MakeWatcher();
  Poll(*watcher, 2);
  EXPECT_EQ(recorder_.calls(), 0);
  EXPECT_EQ(observer_.last_error, absl::StatusCode::kFailedPrecondition);
}

// Real time bound for waiting on the background thread.
bool WaitFor(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST_F(PollingWatcherTest, BackgroundThreadPollsEveryIntervalOfTheClock) {
  ASSERT_TRUE(testing::WriteFile(path_, "version 1"));
  options_.interval = absl::Seconds(1);
  auto watcher = MakeWatcher();
  watcher->Start();
  // Each Advance releases the one waiting poll loop for one more poll.
  auto advance_until = [&](int calls) {
    return WaitFor([&] {
      if (recorder_.calls() >= calls) return true;
      if (clock_.waiters() > 0) clock_.Advance(absl::Seconds(1));
      return false;
    });
  };
  ASSERT_TRUE(advance_until(1));
  ASSERT_TRUE(testing::ReplaceFile(path_, "version 2"));
  ASSERT_TRUE(advance_until(2));
  EXPECT_EQ(recorder_.last(), "version 2");
  const absl::Time start = absl::Now();
  watcher->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  const int64_t polls = watcher->stats().polls;
  clock_.Advance(absl::Seconds(10));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(watcher->stats().polls, polls) << "polled after Stop";
}

TEST_F(PollingWatcherTest, StopReturnsWellWithinOneIntervalOnTheRealClock) {
  options_.clock = nullptr;  // real clock
  options_.interval = absl::Seconds(30);
  auto watcher = MakeWatcher();
  watcher->Start();
  ASSERT_TRUE(WaitFor([&] { return watcher->stats().polls >= 1; }));
  const absl::Time start = absl::Now();
  watcher->Stop();
  const absl::Duration latency = absl::Now() - start;
  EXPECT_LT(latency, absl::Seconds(1)) << latency;
  watcher->Stop();  // idempotent
}

TEST_F(PollingWatcherTest, DrivesGeoStoreReload) {
  const std::string data = testing::MaxmindTestDataDir() + "/test-data/";
  ASSERT_TRUE(testing::ReplaceFile(
      path_, testing::ReadFile(data + "GeoIP2-City-Test.mmdb")));
  GeoStoreOptions store_options;
  store_options.paths = {path_};
  GeoStore store(store_options);
  PollingWatcherOptions options = options_;
  options.reloaded_message.clear();  // GeoStore logs "Database reloaded"
  PollingWatcher watcher(
      path_, [&store](const std::string& path) { return store.Reload(path); },
      options);
  watcher.PollOnce();
  watcher.PollOnce();
  ASSERT_TRUE(store.ready());
  const std::shared_ptr<const Database> first = store.Get(path_);

  // A broken file is rejected and the store keeps answering.
  ASSERT_TRUE(testing::ReplaceFile(path_, "not a database"));
  watcher.PollOnce();
  watcher.PollOnce();
  EXPECT_EQ(watcher.stats().rejections, 1);
  EXPECT_EQ(store.Get(path_), first);
  EXPECT_TRUE(store.Lookup(*IpAddress::Parse("81.2.69.160"), "en")->found());

  ASSERT_TRUE(testing::ReplaceFile(
      path_, testing::ReadFile(data + "GeoIP2-City-Test.mmdb")));
  watcher.PollOnce();
  watcher.PollOnce();
  EXPECT_EQ(watcher.stats().reloads, 2);
  EXPECT_NE(store.Get(path_), first);
}

}  // namespace
}  // namespace geo
