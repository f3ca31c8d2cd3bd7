// Fault injection against the real geo_server: the watched database file is
// replaced by every kind of bad thing an operator, a disk or a broken
// updater can leave there. After each fault the server must (1) count it in
// geofence_watcher_errors_total or geofence_database_reloads_total{result=
// "failure"}, (2) keep answering lookups from the last good database with
// exactly the answer it gave before, and (3) load a good file again once
// one appears.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "geo/http/test_http_client.h"
#include "gtest/gtest.h"
#include "tests/support/metrics_text.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;

// An address with a record in both GeoIP2-City-Test and GeoLite2-City.
constexpr char kProbe[] = "81.2.69.160";

class WatcherFaultsTest : public ::testing::Test {
 protected:
  // Starts the server watching `dir_/City.mmdb` holding `good`.
  void StartWith(const std::string& good) {
    good_ = good;
    dir_ = NewTempDir() + "/data";
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
    path_ = dir_ + "/City.mmdb";
    ASSERT_TRUE(ReplaceFile(path_, good_));
    auto server = ServerProcess::Start(
        GeoServerBinary(), {"--db=" + path_, "--poll_interval=50ms"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
    const auto [status, body] = Lookup();
    ASSERT_EQ(status, 200) << body;
    baseline_ = body;
  }

  std::pair<long, std::string> Lookup() {
    auto response =
        http_.Get(server_->http_url(absl::StrCat("/v1/lookup/", kProbe)));
    if (!response.ok()) return {0, std::string(response.status().message())};
    return {response->status, response->body};
  }

  std::string Metrics() {
    auto response = http_.Get(server_->metrics_url());
    return response.ok() ? response->body : "";
  }
  double Failures() {
    const std::string text = Metrics();
    return MetricSum(text, "geofence_watcher_errors_total") +
           MetricSample(text,
                        "geofence_database_reloads_total{result=\"failure\"}");
  }
  double Successes() {
    return MetricSample(Metrics(),
                        "geofence_database_reloads_total{result=\"success\"}");
  }

  static bool WaitFor(const std::function<bool()>& condition,
                      absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (condition()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return condition();
  }

  void ExpectServingBaseline(const std::string& fault) {
    const auto [status, body] = Lookup();
    EXPECT_EQ(status, 200) << fault << ": " << body;
    EXPECT_EQ(body, baseline_) << fault << ": answer changed";
    auto ready = http_.Get(server_->http_url("/readyz"));
    ASSERT_TRUE(ready.ok()) << ready.status();
    EXPECT_EQ(ready->status, 200) << fault;
  }

  // Removes whatever is at the watched path (file, symlink, directory).
  void Clear() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }

  // Injects one fault, checks it is counted and survived, then restores a
  // good file (a new inode) and checks that it loads.
  void InjectAndRecover(const std::string& fault,
                        const std::function<void()>& inject) {
    SCOPED_TRACE(fault);
    const double failures = Failures();
    const double successes = Successes();
    inject();
    EXPECT_TRUE(WaitFor([&] { return Failures() > failures; }))
        << fault << " was not counted; log:\n"
        << server_->Log();
    ExpectServingBaseline(fault);
    Clear();
    std::error_code error;
    std::filesystem::create_directories(dir_, error);
    ASSERT_TRUE(ReplaceFile(path_, good_));
    EXPECT_TRUE(WaitFor([&] { return Successes() > successes; }))
        << fault << ": the good file was not loaded again; log:\n"
        << server_->Log();
    ExpectServingBaseline(fault + " (recovered)");
  }

  std::string MaxmindFile(const std::string& relative) {
    return ReadFile(absl::StrCat(MaxmindTestDataDir(), "/", relative));
  }

  CurlClient http_;
  std::optional<ServerProcess> server_;
  std::string dir_;
  std::string path_;
  std::string good_;
  std::string baseline_;
};

TEST_F(WatcherFaultsTest, EveryMaxmindBadDataFile) {
  ASSERT_FALSE(MaxmindTestDataDir().empty());
  StartWith(MaxmindFile("test-data/GeoIP2-City-Test.mmdb"));
  std::vector<std::string> files =
      FilesUnder(MaxmindTestDataDir() + "/bad-data", ".mmdb");
  // Broken databases that MaxMind keeps among the good ones.
  for (const std::string& file :
       FilesUnder(MaxmindTestDataDir() + "/test-data", ".mmdb")) {
    if (file.find("roken") != std::string::npos) files.push_back(file);
  }
  const std::string shared = SharedMaxmindTestDataDir();
  if (shared.empty()) {
    std::printf("shared MaxMind test data absent; Debian's copy only\n");
  } else {
    for (const std::string& file : FilesUnder(shared + "/bad-data", ".mmdb")) {
      files.push_back(file);
    }
  }
  ASSERT_GE(files.size(), 8u);
  for (const std::string& file : files) {
    InjectAndRecover(file,
                     [&] { ASSERT_TRUE(ReplaceFile(path_, ReadFile(file))); });
  }
  std::printf("%zu bad-data files injected, each counted and survived\n",
              files.size());
}

TEST_F(WatcherFaultsTest, TruncatedCopiesOfARealDatabase) {
  // The real GeoLite2-City when present (its 66 MB have a metadata section
  // far from the tree), else MaxMind's City test database.
  std::string real =
      GeoLite2CityPath().empty() ? "" : ReadFile(GeoLite2CityPath());
  if (real.empty()) {
    std::printf("GeoLite2-City absent; truncating GeoIP2-City-Test\n");
    real = MaxmindFile("test-data/GeoIP2-City-Test.mmdb");
  }
  ASSERT_GT(real.size(), 4096u);
  StartWith(real);
  const size_t size = real.size();
  std::vector<size_t> lengths = {
      1,           15,         16,        100,      1024,
      4096,        size / 8,   size / 3,  size / 2, size * 9 / 10,
      size - 4096, size - 200, size - 14, size - 1};
  for (size_t length : lengths) {
    InjectAndRecover(absl::StrCat("truncated to ", length, " of ", size), [&] {
      ASSERT_TRUE(ReplaceFile(path_, real.substr(0, length)));
    });
  }
}

TEST_F(WatcherFaultsTest, EmptyDirectorySymlinkFifoAndUnreadable) {
  StartWith(MaxmindFile("test-data/GeoIP2-City-Test.mmdb"));
  InjectAndRecover("empty file", [&] { ASSERT_TRUE(ReplaceFile(path_, "")); });
  InjectAndRecover("a directory", [&] {
    Clear();
    ASSERT_EQ(mkdir(path_.c_str(), 0755), 0);
  });
  InjectAndRecover("a dangling symlink", [&] {
    Clear();
    ASSERT_EQ(symlink((dir_ + "/nowhere.mmdb").c_str(), path_.c_str()), 0);
  });
  InjectAndRecover("a symlink loop", [&] {
    Clear();
    ASSERT_EQ(symlink(path_.c_str(), path_.c_str()), 0);
  });
  // A reader that opened a FIFO would block forever: the watcher must not.
  InjectAndRecover("a FIFO", [&] {
    Clear();
    ASSERT_EQ(mkfifo(path_.c_str(), 0644), 0);
  });
  InjectAndRecover("a missing file", [&] { Clear(); });
  if (geteuid() == 0) {
    // Root reads mode-000 files, so the fault cannot be made here.
    std::printf("running as root: the unreadable-file case is not possible\n");
  } else {
    InjectAndRecover("an unreadable file", [&] {
      const std::string good = good_ + std::string("x");  // New size, new id.
      ASSERT_TRUE(ReplaceFile(path_, good));
      ASSERT_EQ(chmod(path_.c_str(), 0), 0);
    });
  }
}

TEST_F(WatcherFaultsTest, WatchedDirectoryRemovedAndRecreated) {
  StartWith(MaxmindFile("test-data/GeoIP2-City-Test.mmdb"));
  for (int round = 0; round < 3; ++round) {
    InjectAndRecover(absl::StrCat("directory removed, round ", round), [&] {
      std::error_code error;
      std::filesystem::remove_all(dir_, error);
      ASSERT_FALSE(error) << error.message();
    });
  }
}

}  // namespace
}  // namespace geo::testing
