// End-to-end tests of //updater:updater: the real binary, run as a child
// process against FakeMaxMindServer on loopback, installing into a scratch
// directory.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/sanitizers.h"
#include "tests/support/test_files.h"
#include "tests/updater/fake_maxmind_server.h"
#include "tests/updater/forward_proxy.h"
#include "tests/updater/test_archives.h"

namespace geo::updater::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::CurlResponse;
using ::geo::testing::ChildOptions;
using ::geo::testing::ChildProcess;
using ::geo::testing::UpdaterBinary;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAccountId[] = "123456";
// A recognisable fake key: no output of the updater may contain it.
constexpr char kLicenseKey[] = "fAkE-LiCeNsE-kEy-7q3x9";
constexpr char kEdition[] = "GeoIP2-City";
constexpr absl::Duration kRunTimeout = absl::Seconds(40);

class UpdaterCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.SetCredentials(kAccountId, kLicenseKey);
    city_ = ReadTestDatabase("GeoIP2-City-Test.mmdb");
    server_.SetDatabase(kEdition, MakeMaxMindArchive(kEdition, city_),
                        Md5Hex(city_));
    data_dir_ = MakeTempDirectory();
    final_path_ = data_dir_ + "/GeoIP2-City.mmdb";
  }

  std::map<std::string, std::string> Environment() const {
    return MaxMindUpdaterEnvironment(server_.url(), kAccountId, kLicenseKey,
                                     kEdition, data_dir_);
  }

  absl::StatusOr<ChildProcess> Start(
      std::vector<std::string> flags,
      const std::map<std::string, std::string>& extra_env = {},
      std::vector<std::string> prefix = {}) {
    std::vector<std::string> argv = std::move(prefix);
    argv.push_back(UpdaterBinary());
    argv.insert(argv.end(), flags.begin(), flags.end());
    std::map<std::string, std::string> env = Environment();
    for (const auto& [name, value] : extra_env) env[name] = value;
    ChildOptions options;
    options.argv = std::move(argv);
    options.environment = std::move(env);
    return ChildProcess::Start(std::move(options));
  }

  // Runs to completion; returns the exit code and keeps the output.
  int Run(std::vector<std::string> flags,
          const std::map<std::string, std::string>& extra_env = {},
          std::vector<std::string> prefix = {}) {
    absl::StatusOr<ChildProcess> child =
        Start(std::move(flags), extra_env, std::move(prefix));
    if (!child.ok()) {
      ADD_FAILURE() << child.status();
      return -1;
    }
    std::optional<int> code = child->Wait(kRunTimeout);
    EXPECT_TRUE(code.has_value()) << "updater did not exit";
    Collect(*child);
    return code.value_or(-1);
  }

  void Collect(const ChildProcess& child) {
    stdout_ = child.Stdout();
    stderr_ = child.Stderr();
    ExpectNoSecret(stdout_);
    ExpectNoSecret(stderr_);
  }

  static void ExpectNoSecret(const std::string& text) {
    EXPECT_THAT(text, Not(HasSubstr(kLicenseKey)));
  }

  // Only the final database and the lock file: no temp file survives.
  void ExpectOnlyInstalled() {
    EXPECT_THAT(ListDirectory(data_dir_),
                ElementsAre(".geo-updater.lock", "GeoIP2-City.mmdb"));
  }

  FakeMaxMindServer server_;
  std::string city_;
  std::string data_dir_;
  std::string final_path_;
  std::string stdout_;
  std::string stderr_;
};

TEST_F(UpdaterCliTest, FirstRunInstallsAndSecondRunDownloadsNothing) {
  ASSERT_EQ(Run({"--once", "--output=json"}), 0) << stderr_;
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
  ExpectOnlyInstalled();
  EXPECT_EQ(server_.CountRequests("/geoip/databases/"), 1);
  EXPECT_THAT(stdout_, HasSubstr(absl::StrCat(
                           R"("edition_id":"GeoIP2-City","old_hash":")",
                           "00000000000000000000000000000000",
                           R"(","new_hash":")", Md5Hex(city_), "\"")));
  EXPECT_THAT(stdout_, HasSubstr(R"("modified_at":1715083200)"));
  EXPECT_THAT(stderr_, HasSubstr("Database installed"));

  ASSERT_EQ(Run({"--once", "--output=json"}), 0) << stderr_;
  EXPECT_EQ(server_.CountRequests("/geoip/databases/"), 1);
  EXPECT_EQ(server_.CountRequests("/geoip/updates/metadata"), 2);
  EXPECT_THAT(stdout_,
              HasSubstr(absl::StrCat(R"("old_hash":")", Md5Hex(city_),
                                     R"(","new_hash":")", Md5Hex(city_))));
  EXPECT_THAT(stderr_, HasSubstr("Database is up to date"));
  ExpectOnlyInstalled();

  // The key went to the server, and only as basic auth.
  for (const RecordedRequest& request : server_.requests()) {
    EXPECT_THAT(request.target, Not(HasSubstr(kLicenseKey)));
    EXPECT_EQ(request.headers.count("authorization"), 1u);
  }
}

TEST_F(UpdaterCliTest, LicenseKeyFromFileAndGeoIpConf) {
  std::string secrets = MakeTempDirectory();
  WriteFileOrDie(secrets + "/key", absl::StrCat(kLicenseKey, "\n"));
  WriteFileOrDie(secrets + "/GeoIP.conf",
                 absl::StrCat("# geoipupdate config\nAccountID ", kAccountId,
                              "\nLicenseKey ", kLicenseKey, "\nEditionIDs ",
                              kEdition, "\nDatabaseDirectory ", data_dir_,
                              "\nHost ", server_.url(), "\n"));
  std::map<std::string, std::string> no_maxmind_env = {
      {"MAXMIND_LICENSE_KEY", ""},
      {"MAXMIND_ACCOUNT_ID", ""},
      {"MAXMIND_HOST", ""},
      {"GEO_DATA_DIR", ""},
      {"MAXMIND_EDITION_IDS", ""}};
  ASSERT_EQ(
      Run({"--once", "--config=" + secrets + "/GeoIP.conf"}, no_maxmind_env), 0)
      << stderr_;
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);

  ::unlink(final_path_.c_str());
  ASSERT_EQ(Run({"--once"}, {{"MAXMIND_LICENSE_KEY", ""},
                             {"MAXMIND_LICENSE_KEY_FILE", secrets + "/key"}}),
            0)
      << stderr_;
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
}

TEST_F(UpdaterCliTest, Md5MismatchInstallsNothing) {
  server_.SetDatabase(kEdition, MakeMaxMindArchive(kEdition, city_),
                      Md5Hex("something else"));
  EXPECT_EQ(Run({"--once"}), 1);
  EXPECT_THAT(stderr_, HasSubstr("MD5 mismatch"));
  EXPECT_THAT(ListDirectory(data_dir_), ElementsAre(".geo-updater.lock"));
}

TEST_F(UpdaterCliTest, CorruptDatabaseInArchiveInstallsNothing) {
  WriteFileOrDie(final_path_, "the old database");
  std::string corrupt = city_.substr(0, city_.size() / 2);
  server_.SetDatabase(kEdition, MakeMaxMindArchive(kEdition, corrupt),
                      Md5Hex(corrupt));
  EXPECT_EQ(Run({"--once"}), 1);
  EXPECT_THAT(stderr_, HasSubstr("not a usable database"));
  EXPECT_EQ(ReadFileOrDie(final_path_), "the old database");
  ExpectOnlyInstalled();

  // A valid database of another edition is refused too.
  std::string asn = ReadTestDatabase("GeoLite2-ASN-Test.mmdb");
  server_.SetDatabase(kEdition, MakeMaxMindArchive(kEdition, asn), Md5Hex(asn));
  EXPECT_EQ(Run({"--once"}), 1);
  EXPECT_THAT(stderr_, HasSubstr("database_type"));
  EXPECT_EQ(ReadFileOrDie(final_path_), "the old database");
}

TEST_F(UpdaterCliTest, PathTraversalInArchiveIsRefused) {
  server_.SetDatabase(kEdition,
                      MakeTarGz({{"../evil.mmdb", city_},
                                 {"GeoIP2-City_1/GeoIP2-City.mmdb", city_}}),
                      Md5Hex(city_));
  EXPECT_EQ(Run({"--once"}), 1);
  EXPECT_THAT(stderr_, HasSubstr("archive refused"));
  EXPECT_THAT(ListDirectory(data_dir_), ElementsAre(".geo-updater.lock"));
}

TEST_F(UpdaterCliTest, TwoServerErrorsThenSuccessInstalls) {
  FakeResponse error;
  error.status = 500;
  error.body = "try again";
  server_.Enqueue("/geoip/databases/", error);
  server_.Enqueue("/geoip/databases/", error);
  ASSERT_EQ(Run({"--once", "--backoff_initial=10ms"}), 0) << stderr_;
  EXPECT_EQ(server_.CountRequests("/geoip/databases/"), 3);
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
  EXPECT_THAT(stderr_, HasSubstr("Retrying after a transient failure"));
  ExpectOnlyInstalled();
}

TEST_F(UpdaterCliTest, RateLimitedHonoursRetryAfter) {
  FakeResponse limited;
  limited.status = 429;
  limited.headers = {{"Retry-After", "1"}};
  server_.Enqueue("/geoip/databases/", limited);
  absl::Time start = absl::Now();
  ASSERT_EQ(Run({"--once", "--backoff_initial=10ms"}), 0) << stderr_;
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(server_.CountRequests("/geoip/databases/"), 2);
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
}

TEST_F(UpdaterCliTest, DailyDownloadLimitIsNotRetried) {
  FakeResponse limited;
  limited.status = 429;
  limited.headers = {{"Retry-After", "86400"}};
  limited.body = R"({"code":"DOWNLOAD_LIMIT_EXCEEDED"})";
  server_.Enqueue("/geoip/databases/", limited);
  EXPECT_EQ(Run({"--once", "--backoff_initial=10ms"}), 1);
  EXPECT_THAT(stderr_, HasSubstr("download limit reached"));
  EXPECT_EQ(server_.CountRequests("/geoip/databases/"), 1);
  EXPECT_THAT(ListDirectory(data_dir_), ElementsAre(".geo-updater.lock"));
}

TEST_F(UpdaterCliTest, BadCredentialsFailAtOnceWithAClearMessage) {
  server_.SetCredentials(kAccountId, "another-key");
  absl::Time start = absl::Now();
  EXPECT_EQ(Run({"--once", "--backoff_initial=5s"}), 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(server_.CountRequests("/geoip/updates/metadata"), 1);
  EXPECT_THAT(stderr_, HasSubstr("HTTP 401"));
  EXPECT_THAT(stderr_, HasSubstr("rejected the credentials"));
  EXPECT_THAT(stderr_, HasSubstr(R"("reason":"auth")"));
}

TEST_F(UpdaterCliTest, SlowBodyTimesOutWithoutPartialFile) {
  server_.SetDelays("/geoip/databases/", absl::ZeroDuration(),
                    absl::Milliseconds(300));
  EXPECT_EQ(Run({"--once", "--timeout=1s", "--retries=1"}), 1);
  EXPECT_THAT(stderr_, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_THAT(ListDirectory(data_dir_), ElementsAre(".geo-updater.lock"));
}

TEST_F(UpdaterCliTest, TruncatedBodyFailsWithoutPartialFile) {
  std::string archive = MakeMaxMindArchive(kEdition, city_);
  FakeResponse truncated;
  truncated.body = archive.substr(0, archive.size() / 2);
  truncated.content_length = static_cast<int64_t>(archive.size());
  server_.Enqueue("/geoip/databases/", truncated);
  EXPECT_EQ(Run({"--once", "--retries=1"}), 1);
  EXPECT_THAT(ListDirectory(data_dir_), ElementsAre(".geo-updater.lock"));

  // With retries the second, complete, attempt installs.
  server_.Enqueue("/geoip/databases/", truncated);
  EXPECT_EQ(Run({"--once", "--backoff_initial=10ms"}), 0) << stderr_;
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
}

// A real full disk: a 64 KiB tmpfs mounted over the data directory in a
// private mount namespace (needs root, as in CI's container), holding the old
// database, so the download's temp file hits ENOSPC. What the directory holds
// afterwards is copied out before the namespace goes away.
TEST_F(UpdaterCliTest, FullDiskKeepsTheOldFile) {
  if (std::system("unshare -m true >/dev/null 2>&1") != 0) {
    if (::geo::testing::kThreadSanitizer) {
      GTEST_SKIP() << "no mount namespaces, and TSan cannot run under "
                      "RLIMIT_FSIZE";
    }
    // Fallback: the file size limit stands in for a full disk.
    const std::string old = std::string(64 * 1024, 'o');
    WriteFileOrDie(final_path_, old);
    EXPECT_EQ(Run({"--once", "--retries=1"}, {},
                  {"/usr/bin/prlimit", "--fsize=8192", "--"}),
              1);
    EXPECT_THAT(stderr_, HasSubstr("RESOURCE_EXHAUSTED"));
    EXPECT_EQ(ReadFileOrDie(final_path_), old);
    ExpectOnlyInstalled();
    return;
  }
  const std::string old(60 * 1024, 'o');
  std::string outside = MakeTempDirectory();
  WriteFileOrDie(outside + "/old", old);
  const std::string script = absl::StrCat(
      "mount -t tmpfs -o size=64k tmpfs ", data_dir_, " || exit 99\n", "cp ",
      outside, "/old ", data_dir_, "/GeoIP2-City.mmdb\n", "\"$@\"; code=$?\n",
      "ls -A ", data_dir_, " > ", outside, "/listing\n", "cp ", data_dir_,
      "/GeoIP2-City.mmdb ", outside, "/after\n", "exit $code\n");
  EXPECT_EQ(Run({"--once", "--retries=1"}, {},
                {"/usr/bin/unshare", "-m", "/bin/sh", "-c", script, "sh"}),
            1);
  EXPECT_THAT(stderr_, HasSubstr("RESOURCE_EXHAUSTED"));
  EXPECT_THAT(stderr_, HasSubstr(R"("reason":"disk")"));
  EXPECT_EQ(ReadFileOrDie(outside + "/after"), old);
  EXPECT_EQ(ReadFileOrDie(outside + "/listing"),
            ".geo-updater.lock\nGeoIP2-City.mmdb\n");
}

TEST_F(UpdaterCliTest, ConcurrentUpdatersShareTheLock) {
  server_.SetDelays("/geoip/databases/", absl::Seconds(2),
                    absl::ZeroDuration());
  absl::StatusOr<ChildProcess> first = Start({"--once"});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(server_.AwaitRequests("/geoip/databases/", 1, kRunTimeout));

  // One that will not wait fails on the lock.
  EXPECT_EQ(Run({"--once", "--lock_timeout=0s"}), 1);
  EXPECT_THAT(stderr_, HasSubstr("another updater holds the lock"));

  // One that waits finds the database current once the first is done.
  absl::StatusOr<ChildProcess> second = Start({"--once", "--lock_timeout=30s"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->Wait(kRunTimeout), 0);
  Collect(*first);
  EXPECT_EQ(second->Wait(kRunTimeout), 0);
  Collect(*second);
  EXPECT_THAT(stderr_, HasSubstr("Database is up to date"));
  EXPECT_EQ(server_.CountRequests("/geoip/databases/"), 1);
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
  ExpectOnlyInstalled();
}

TEST_F(UpdaterCliTest, SigtermMidDownloadRemovesTheTempFile) {
  WriteFileOrDie(final_path_, "the old database");
  server_.SetDelays("/geoip/databases/", absl::ZeroDuration(),
                    absl::Milliseconds(200));
  absl::StatusOr<ChildProcess> child = Start({"--once"});
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(server_.AwaitRequests("/geoip/databases/", 1, kRunTimeout));
  // Wait until a partial temp file exists, then stop the updater.
  bool saw_temp = false;
  for (int i = 0; i < 200 && !saw_temp; ++i) {
    for (const std::string& name : ListDirectory(data_dir_)) {
      if (absl::StrContains(name, ".tmp")) saw_temp = true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(saw_temp);
  child->Signal(SIGTERM);
  std::optional<int> code = child->Wait(absl::Seconds(10));
  ASSERT_TRUE(code.has_value()) << "no exit after SIGTERM";
  EXPECT_EQ(*code, 143);
  Collect(*child);
  EXPECT_THAT(stderr_, HasSubstr("Shutting down"));
  EXPECT_EQ(ReadFileOrDie(final_path_), "the old database");
  ExpectOnlyInstalled();
}

TEST_F(UpdaterCliTest, LoopModeServesHealthAndMetricsAndStopsOnSigterm) {
  absl::StatusOr<ChildProcess> child =
      Start({"--interval=1h", "--status_address=127.0.0.1", "--status_port=0"});
  ASSERT_TRUE(child.ok()) << child.status();
  // The port is in the log line "Serving /healthz and /metrics".
  int port = 0;
  for (int i = 0; i < 2000 && port == 0; ++i) {
    std::string log = child->Stderr();
    size_t at = log.find("\"Serving /healthz and /metrics\"");
    if (at != std::string::npos) {
      size_t key = log.find("\"port\":", at);
      size_t end = log.find_first_of(",}", key);
      if (key != std::string::npos) {
        ASSERT_TRUE(
            absl::SimpleAtoi(log.substr(key + 7, end - key - 7), &port));
      }
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_NE(port, 0) << child->Stderr();
  // Wait for the first pass to install.
  for (int i = 0; i < 2000 && !FileExists(final_path_); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(FileExists(final_path_));

  CurlClient status_client;
  const auto status_get = [&](const std::string& path) {
    absl::StatusOr<CurlResponse> response =
        status_client.Get(absl::StrCat("http://127.0.0.1:", port, path));
    EXPECT_TRUE(response.ok()) << path << ": " << response.status();
    return response.ok() ? *std::move(response) : CurlResponse();
  };
  EXPECT_EQ(status_get("/healthz").status, 200);
  std::string metrics;
  for (int i = 0; i < 500; ++i) {
    metrics = status_get("/metrics").body;
    if (absl::StrContains(metrics,
                          "geo_updater_last_success_timestamp_seconds "
                          "1")) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  for (const char* sample :
       {R"(geo_updater_downloads_total{edition="GeoIP2-City",result="ok"} 1)",
        R"(geo_updater_checks_total{edition="GeoIP2-City",result="updated"} 1)",
        "geo_updater_downloaded_bytes_total", "geo_updater_failures_total"}) {
    EXPECT_THAT(metrics, HasSubstr(sample));
  }
  ExpectNoSecret(metrics);
  EXPECT_EQ(status_get("/nope").status, 404);

  // Process arguments carry no secret.
  std::string cmdline =
      ReadFileOrDie(absl::StrCat("/proc/", child->pid(), "/cmdline"));
  ExpectNoSecret(cmdline);

  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(absl::Seconds(10)), 0);
  Collect(*child);
  EXPECT_THAT(stderr_, HasSubstr("Updater stopped"));
}

TEST_F(UpdaterCliTest, MirrorWithConditionalGetAndSha256) {
  std::string archive = MakeMaxMindArchive(kEdition, city_);
  server_.SetFile("GeoIP2-City.tar.gz", archive,
                  absl::FromUnixSeconds(1715000000));
  server_.SetFile("GeoIP2-City.tar.gz.sha256",
                  absl::StrCat(Sha256Hex(archive), "  GeoIP2-City.tar.gz\n"),
                  absl::FromUnixSeconds(1715000000));
  std::map<std::string, std::string> env = {{"MAXMIND_LICENSE_KEY", ""},
                                            {"MAXMIND_ACCOUNT_ID", ""}};
  std::vector<std::string> flags = {
      "--once", "--output=json",
      "--mirror_url=" + server_.url() + "/files/{edition}.tar.gz",
      "--mirror_sha256_url=" + server_.url() +
          "/files/{edition}.tar.gz.sha256"};
  ASSERT_EQ(Run(flags, env), 0) << stderr_;
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
  EXPECT_THAT(stdout_, HasSubstr(R"("modified_at":1715000000)"));

  ASSERT_EQ(Run(flags, env), 0) << stderr_;
  EXPECT_THAT(stderr_, HasSubstr("Database is up to date"));
  std::vector<RecordedRequest> requests = server_.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().target, "/files/GeoIP2-City.tar.gz");
  EXPECT_EQ(requests.back().headers.count("if-none-match"), 1u);
  EXPECT_EQ(requests.back().headers.count("if-modified-since"), 1u);

  // A wrong checksum installs nothing.
  ::unlink(final_path_.c_str());
  server_.SetFile("GeoIP2-City.tar.gz.sha256", std::string(64, '0'),
                  absl::FromUnixSeconds(1715000000));
  EXPECT_EQ(Run(flags, env), 1);
  EXPECT_THAT(stderr_, HasSubstr("SHA-256 mismatch"));
  EXPECT_FALSE(FileExists(final_path_));
}

TEST_F(UpdaterCliTest, MissingCredentialsIsAConfigurationError) {
  EXPECT_EQ(Run({"--once"}, {{"MAXMIND_LICENSE_KEY", ""}}), 2);
  EXPECT_THAT(stderr_, HasSubstr("MAXMIND_LICENSE_KEY"));
}

}  // namespace
}  // namespace geo::updater::testing

namespace geo::updater::testing {
namespace {

TEST_F(UpdaterCliTest, ProxyFromGeoIpConfAndNoProxy) {
  ForwardProxy proxy;
  proxy.RequireAuthorization("Basic dXNlcjpwcm94eS1wYXNz");  // user:proxy-pass
  const std::string conf_dir = MakeTempDirectory();
  WriteFileOrDie(conf_dir + "/GeoIP.conf",
                 absl::StrCat("Proxy ", proxy.address(),
                              "\nProxyUserPassword user:proxy-pass\n"));
  ASSERT_EQ(Run({"--once", "--config=" + conf_dir + "/GeoIP.conf"}), 0)
      << stderr_;
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
  // Every request went through the proxy, none around it.
  const int through_proxy = static_cast<int>(proxy.requests().size());
  EXPECT_EQ(through_proxy, 2);  // metadata and download
  EXPECT_EQ(server_.requests().size(), 2u);
  EXPECT_THAT(stderr_, Not(HasSubstr("proxy-pass")));

  // NO_PROXY names the update host: straight there, the proxy sees nothing.
  ::unlink(final_path_.c_str());
  ASSERT_EQ(Run({"--once", "--config=" + conf_dir + "/GeoIP.conf"},
                {{"NO_PROXY", "127.0.0.1"}}),
            0)
      << stderr_;
  EXPECT_EQ(ReadFileOrDie(final_path_), city_);
  EXPECT_EQ(static_cast<int>(proxy.requests().size()), through_proxy);
  EXPECT_EQ(server_.requests().size(), 4u);
}

TEST_F(UpdaterCliTest, UnknownGeoIpConfKeyFailsNamingIt) {
  const std::string conf_dir = MakeTempDirectory();
  WriteFileOrDie(conf_dir + "/GeoIP.conf", "PreserveFileTime 1\n");
  EXPECT_EQ(Run({"--once", "--config=" + conf_dir + "/GeoIP.conf"}), 2);
  EXPECT_THAT(stderr_, HasSubstr("unknown GeoIP.conf key"));
  EXPECT_THAT(stderr_, HasSubstr("PreserveFileTime"));
}

}  // namespace
}  // namespace geo::updater::testing
