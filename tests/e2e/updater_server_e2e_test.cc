// The two binaries together, the way a pod runs them: the real updater
// downloads from a fake MaxMind service (standing in for the internet) into the
// directory a running geo_server watches; the server hot-swaps the new database
// while HTTP and gRPC clients keep calling, and none of their calls fails.
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
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

constexpr char kAccountId[] = "424242";
constexpr char kLicenseKey[] = "e2e-fake-license-key-0000";
constexpr char kEdition[] = "GeoIP2-City";  // database_type of the test file

class UpdaterServerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = NewTempDir();
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
    server_.SetCredentials(kAccountId, kLicenseKey);
  }

  // Publishes `mmdb` as the edition's current release.
  void Publish(const std::string& mmdb) {
    server_.SetDatabase(kEdition, MakeMaxMindArchive(kEdition, mmdb),
                        Md5Hex(mmdb));
  }

  // `updater --once`, as an initContainer or a CronJob runs it.
  int RunUpdaterOnce() {
    std::map<std::string, std::string> env = {
        {"MAXMIND_ACCOUNT_ID", kAccountId},
        {"MAXMIND_LICENSE_KEY", kLicenseKey},
        {"MAXMIND_EDITION_IDS", kEdition},
        {"MAXMIND_HOST", server_.url()},
        {"GEO_DATA_DIR", data_dir_},
    };
    AddSanitizerOptions(&env);
    absl::StatusOr<ChildProcess> updater =
        ChildProcess::Start({{UpdaterBinary(), "--once"}, std::move(env)});
    if (!updater.ok()) {
      ADD_FAILURE() << updater.status();
      return -1;
    }
    std::optional<int> code = updater->Wait(absl::Seconds(60));
    updater_log_ = updater->Stderr();
    EXPECT_THAT(updater_log_,
                ::testing::Not(::testing::HasSubstr(kLicenseKey)));
    return code.value_or(-1);
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

  FakeMaxMindServer server_;
  std::string data_dir_;
  std::string original_;
  LookupExpectation expect_;
  std::string city_name_;
  std::string updater_log_;
};

TEST_F(UpdaterServerE2eTest, UpdaterInstallsAndServerHotSwapsWithoutFailures) {
  Publish(original_);
  ASSERT_EQ(RunUpdaterOnce(), 0) << updater_log_;
  const std::string installed = absl::StrCat(data_dir_, "/", kEdition, ".mmdb");
  ASSERT_EQ(ReadFile(installed), original_);

  auto server = ServerProcess::Start(
      GeoServerBinary(), {"--db=" + installed, "--poll_interval=50ms"});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_EQ(CityName(*server), city_name_);

  // A new release: the same database with this city renamed (same length,
  // so the file stays valid), which tells the two releases apart.
  std::string renamed_city = city_name_;
  renamed_city.back() = renamed_city.back() == 'x' ? 'y' : 'x';
  const std::string release =
      absl::StrReplaceAll(original_, {{city_name_, renamed_city}});
  ASSERT_NE(release, original_);
  Publish(release);

  std::atomic<bool> stop{false};
  Outcomes outcomes;
  std::vector<std::thread> clients =
      StartLookupClients(*server, expect_, 2, stop, &outcomes);
  while (outcomes.ok() < 50) absl::SleepFor(absl::Milliseconds(5));
  const int updater_status = RunUpdaterOnce();
  std::string served;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while ((served = CityName(*server)) != renamed_city &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Keep the clients going a little after the swap.
  const int ok_at_swap = outcomes.ok();
  while (outcomes.ok() < ok_at_swap + 50) absl::SleepFor(absl::Milliseconds(5));
  stop = true;
  for (auto& client : clients) client.join();

  EXPECT_EQ(updater_status, 0) << updater_log_;
  EXPECT_EQ(ReadFile(installed), release);
  EXPECT_EQ(served, renamed_city) << server->Log();
  EXPECT_TRUE(server->WaitForLog("Database reloaded", absl::Seconds(1)));
  EXPECT_EQ(outcomes.failed(), 0) << outcomes.examples();
  EXPECT_EQ(outcomes.not_accepted(), 0);
}

}  // namespace
}  // namespace geo::testing
