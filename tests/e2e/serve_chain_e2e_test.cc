// One MaxMind download for a whole cluster, end to end on loopback: a fake
// MaxMind service -> an updater that installs and serves (`--serve`) -> a
// second updater speaking MaxMind's protocol to it and a third in mirror mode
// (plain files and SHA256SUMS) -> a geo_server that hot-swaps what the third
// installs while clients keep looking up. Each release costs one download
// from MaxMind, counted in the fake's request log, and none of the lookups
// fails while a new release travels down the chain.
#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/load_clients.h"
#include "tests/e2e/source_data.h"
#include "tests/support/child_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"
#include "tests/updater/fake_maxmind_server.h"
#include "tests/updater/test_archives.h"

namespace geo::testing {
namespace {

using ::geo::updater::testing::FakeMaxMindServer;
using ::geo::updater::testing::MakeMaxMindArchive;
using ::geo::updater::testing::Md5Hex;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEdition[] = "GeoIP2-City";
constexpr char kUpstreamAccount[] = "111111";
constexpr char kUpstreamKey[] = "upstream-KEY-never-logged-1";
// What the serving updater asks of its clients: a different pair, so a
// client holding only this pair cannot have reached MaxMind.
constexpr char kMirrorAccount[] = "222222";
constexpr char kMirrorKey[] = "mirror-KEY-never-logged-2";
constexpr absl::Duration kPatience = absl::Seconds(90);

std::string ReadIfExists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::map<std::string, std::string> BaseEnvironment() {
  std::map<std::string, std::string> env;
  AddSanitizerOptions(&env);
  env["MAXMIND_EDITION_IDS"] = kEdition;
  env["GEO_UPDATER_STATUS_PORT"] = "-1";
  return env;
}

// The port the serving updater logged ("Serving databases" ... "port":N).
int ServePort(const ChildProcess& updater, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    const std::string log = updater.Stderr();
    const size_t line = log.find("\"msg\":\"Serving databases\"");
    if (line != std::string::npos) {
      const size_t key = log.find("\"port\":", line);
      int port = 0;
      if (key != std::string::npos &&
          absl::SimpleAtoi(
              log.substr(key + 7, log.find_first_of(",}", key) - key - 7),
              &port)) {
        return port;
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return 0;
}

// Waits until `path` holds exactly `contents`.
bool AwaitFile(const std::string& path, const std::string& contents,
               absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (ReadIfExists(path) == contents) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class ServeChainE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    original_ = ReadFile(
        absl::StrCat(MaxmindTestDataDir(), "/test-data/GeoIP2-City-Test.mmdb"));
    ASSERT_FALSE(original_.empty());
    auto records = LoadSourceRecords(absl::StrCat(
        MaxmindTestDataDir(), "/source-data/GeoIP2-City-Test.json"));
    ASSERT_TRUE(records.ok()) << records.status();
    const SourceRecord* record = FindIpv4(*records, [](const SourceRecord& r) {
      return !StringAt(r.record, "country.iso_code").empty() &&
             StringAt(r.record, "city.names.en").size() >= 4;
    });
    ASSERT_NE(record, nullptr);
    expect_ = {record->address, StringAt(record->record, "country.iso_code")};
    city_name_ = StringAt(record->record, "city.names.en");
    upstream_.SetCredentials(kUpstreamAccount, kUpstreamKey);
  }

  void Publish(const std::string& mmdb) {
    upstream_.SetDatabase(kEdition, MakeMaxMindArchive(kEdition, mmdb),
                          Md5Hex(mmdb));
  }

  std::string CityName(const ServerProcess& server) {
    http::CurlClient http;
    auto response = http.Get(server.http_url("/v1/lookup/" + expect_.address));
    if (!response.ok()) return "";
    geo::v1::LookupResponse looked_up;
    if (!google::protobuf::util::JsonStringToMessage(response->body, &looked_up)
             .ok()) {
      return "";
    }
    return looked_up.city().name();
  }

  FakeMaxMindServer upstream_;
  std::string original_;
  LookupExpectation expect_;
  std::string city_name_;
};

TEST_F(ServeChainE2eTest, OneUpstreamDownloadPerReleaseFeedsTheChain) {
  Publish(original_);
  const std::string serving_dir = NewTempDir();
  const std::string maxmind_client_dir = NewTempDir();
  const std::string mirror_client_dir = NewTempDir();
  const std::string file = absl::StrCat("/", kEdition, ".mmdb");

  std::map<std::string, std::string> serving_env = BaseEnvironment();
  serving_env["MAXMIND_ACCOUNT_ID"] = kUpstreamAccount;
  serving_env["MAXMIND_LICENSE_KEY"] = kUpstreamKey;
  serving_env["MAXMIND_HOST"] = upstream_.url();
  serving_env["GEO_DATA_DIR"] = serving_dir;
  serving_env["GEO_UPDATER_SERVE_ADDRESS"] = "127.0.0.1";
  serving_env["GEO_UPDATER_SERVE_PORT"] = "0";
  serving_env["GEO_UPDATER_SERVE_ACCOUNT_ID"] = kMirrorAccount;
  serving_env["GEO_UPDATER_SERVE_LICENSE_KEY"] = kMirrorKey;
  absl::StatusOr<ChildProcess> serving = ChildProcess::Start(
      {{UpdaterBinary(), "--serve", "--interval=1s"}, serving_env});
  ASSERT_TRUE(serving.ok()) << serving.status();
  const int port = ServePort(*serving, kPatience);
  ASSERT_GT(port, 0) << serving->Stderr();
  const std::string mirror = absl::StrCat("127.0.0.1:", port);

  // geo's own updater in MaxMind mode, Host pointed at the serving updater.
  std::map<std::string, std::string> maxmind_env = BaseEnvironment();
  maxmind_env["MAXMIND_ACCOUNT_ID"] = kMirrorAccount;
  maxmind_env["MAXMIND_LICENSE_KEY"] = kMirrorKey;
  maxmind_env["MAXMIND_HOST"] = absl::StrCat("http://", mirror);
  maxmind_env["GEO_DATA_DIR"] = maxmind_client_dir;
  absl::StatusOr<ChildProcess> maxmind_client =
      ChildProcess::Start({{UpdaterBinary(), "--interval=1s"}, maxmind_env});
  ASSERT_TRUE(maxmind_client.ok()) << maxmind_client.status();

  // Mirror mode: plain files, each checked against SHA256SUMS.
  std::map<std::string, std::string> mirror_env = BaseEnvironment();
  const std::string base =
      absl::StrCat("http://", kMirrorAccount, ":", kMirrorKey, "@", mirror);
  mirror_env["GEO_MIRROR_URL"] = base + "/{edition}.mmdb";
  mirror_env["GEO_MIRROR_SHA256_URL"] = base + "/SHA256SUMS";
  mirror_env["GEO_DATA_DIR"] = mirror_client_dir;
  absl::StatusOr<ChildProcess> mirror_client =
      ChildProcess::Start({{UpdaterBinary(), "--interval=1s"}, mirror_env});
  ASSERT_TRUE(mirror_client.ok()) << mirror_client.status();

  ASSERT_TRUE(AwaitFile(maxmind_client_dir + file, original_, kPatience))
      << maxmind_client->Stderr() << serving->Stderr();
  ASSERT_TRUE(AwaitFile(mirror_client_dir + file, original_, kPatience))
      << mirror_client->Stderr() << serving->Stderr();

  auto server = ServerProcess::Start(
      GeoServerBinary(),
      {"--db=" + mirror_client_dir + file, "--poll_interval=50ms"});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_EQ(CityName(*server), city_name_);

  // A new release upstream: the same database with this city renamed.
  std::string renamed_city = city_name_;
  renamed_city.back() = renamed_city.back() == 'x' ? 'y' : 'x';
  const std::string release =
      absl::StrReplaceAll(original_, {{city_name_, renamed_city}});
  ASSERT_NE(release, original_);

  std::atomic<bool> stop{false};
  Outcomes outcomes;
  std::vector<std::thread> clients =
      StartLookupClients(*server, expect_, 2, stop, &outcomes);
  while (outcomes.ok() < 50) absl::SleepFor(absl::Milliseconds(5));
  Publish(release);
  const bool maxmind_client_updated =
      AwaitFile(maxmind_client_dir + file, release, kPatience);
  const bool mirror_client_updated =
      AwaitFile(mirror_client_dir + file, release, kPatience);
  std::string served;
  const absl::Time deadline = absl::Now() + kPatience;
  while ((served = CityName(*server)) != renamed_city &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const int ok_at_swap = outcomes.ok();
  while (outcomes.ok() < ok_at_swap + 50) absl::SleepFor(absl::Milliseconds(5));
  stop = true;
  for (auto& client : clients) client.join();

  EXPECT_TRUE(maxmind_client_updated) << maxmind_client->Stderr();
  EXPECT_TRUE(mirror_client_updated) << mirror_client->Stderr();
  EXPECT_EQ(served, renamed_city) << server->Log();
  EXPECT_EQ(outcomes.failed(), 0) << outcomes.examples();
  EXPECT_EQ(outcomes.not_accepted(), 0);

  // Two releases, two downloads from MaxMind, whatever the clients did; the
  // clients only ever talked to the serving updater.
  EXPECT_EQ(upstream_.CountRequests("/geoip/databases/"), 2);
  EXPECT_GE(upstream_.CountRequests("/geoip/updates/metadata"), 2);
  for (const auto& request : upstream_.requests()) {
    EXPECT_EQ(request.headers.count("authorization"), 1u) << request.target;
  }
  for (ChildProcess* updater : {&*serving, &*maxmind_client, &*mirror_client}) {
    updater->Signal(SIGTERM);
    EXPECT_EQ(updater->Wait(absl::Seconds(30)), 0) << updater->Stderr();
    for (const char* secret : {kUpstreamKey, kMirrorKey}) {
      EXPECT_THAT(updater->Stderr(), Not(HasSubstr(secret)));
    }
  }
  EXPECT_THAT(serving->Stderr(), HasSubstr("\"msg\":\"Served\""));
}

}  // namespace
}  // namespace geo::testing
