#include "tests/e2e/city_release.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/http/test_http_client.h"
#include "google/protobuf/util/json_util.h"
#include "tests/e2e/source_data.h"
#include "tests/support/test_files.h"
#include "tests/updater/test_archives.h"

namespace geo::testing {

void CityReleaseTest::SetUp() {
  original_ = ReadFile(
      absl::StrCat(MaxmindTestDataDir(), "/test-data/GeoIP2-City-Test.mmdb"));
  ASSERT_FALSE(original_.empty());
  auto records = LoadSourceRecords(
      absl::StrCat(MaxmindTestDataDir(), "/source-data/GeoIP2-City-Test.json"));
  ASSERT_TRUE(records.ok()) << records.status();
  const SourceRecord* record = FindIpv4(*records, [](const SourceRecord& r) {
    return !StringAt(r.record, "country.iso_code").empty() &&
           StringAt(r.record, "city.names.en").size() >= 4;
  });
  ASSERT_NE(record, nullptr);
  expect_ = {record->address, StringAt(record->record, "country.iso_code")};
  city_name_ = StringAt(record->record, "city.names.en");
  renamed_city_ = city_name_;
  renamed_city_.back() = renamed_city_.back() == 'x' ? 'y' : 'x';
  release_ = absl::StrReplaceAll(original_, {{city_name_, renamed_city_}});
  ASSERT_NE(release_, original_);
}

void CityReleaseTest::Publish(updater::testing::FakeMaxMindServer& maxmind,
                              const std::string& mmdb) {
  maxmind.SetDatabase(kEdition,
                      updater::testing::MakeMaxMindArchive(kEdition, mmdb),
                      updater::testing::Md5Hex(mmdb));
}

std::string CityReleaseTest::CityName(const ServerProcess& server) const {
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

std::string CityReleaseTest::LookUpWhile(const ServerProcess& server,
                                         const std::function<void()>& release,
                                         absl::Duration patience,
                                         Outcomes* outcomes) const {
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients =
      StartLookupClients(server, expect_, 2, stop, outcomes);
  while (outcomes->ok() < 50) absl::SleepFor(absl::Milliseconds(5));
  release();
  std::string served;
  const absl::Time deadline = absl::Now() + patience;
  while ((served = CityName(server)) != renamed_city_ &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Keep the clients going a little after the swap.
  const int ok_at_swap = outcomes->ok();
  while (outcomes->ok() < ok_at_swap + 50) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  stop = true;
  for (auto& client : clients) client.join();
  return served;
}

}  // namespace geo::testing
