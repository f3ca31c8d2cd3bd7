#include "geo/data/lookup_answer.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/data/geo_store.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

std::string Render(const geo::v1::LookupResponse& response) {
  return http::MessageToGatewayJson(response);
}

// One address per network of a MaxMind source-data file (the networks the
// test database was built from), as given: first address of the network.
std::vector<IpAddress> SourceAddresses(const std::string& name) {
  google::protobuf::ListValue list;
  const std::string json = testing::ReadFile(
      absl::StrCat(testing::MaxmindTestDataDir(), "/source-data/", name));
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &list).ok())
      << name;
  std::vector<IpAddress> addresses;
  for (const google::protobuf::Value& entry : list.values()) {
    for (const auto& [cidr, record] : entry.struct_value().fields()) {
      absl::StatusOr<IpNetwork> network = IpNetwork::Parse(cidr);
      if (network.ok()) addresses.push_back(network->address());
    }
  }
  return addresses;
}

std::unique_ptr<GeoStore> LoadedStore(std::vector<std::string> paths,
                                      bool allow_type_change = false) {
  GeoStoreOptions options;
  options.paths = std::move(paths);
  options.allow_type_change = allow_type_change;
  options.log_reloads = false;
  auto store = std::make_unique<GeoStore>(std::move(options));
  EXPECT_TRUE(store->ReloadAll().ok());
  return store;
}

// Looks every address up in every language and checks the three views of
// an answer agree; returns how many answers were merged from two or more
// databases.
size_t CheckAnswers(const GeoStore& store,
                    const std::vector<IpAddress>& addresses) {
  size_t merged = 0;
  for (const std::string& language : {"", "en", "de", "zh-CN"}) {
    for (const IpAddress& address : addresses) {
      absl::StatusOr<LookupAnswer> answer = store.Find(address, language);
      if (!answer.ok()) {
        ADD_FAILURE() << address.ToString() << ": " << answer.status();
        continue;
      }
      geo::v1::LookupResponse response;
      answer->ToResponse(&response);
      // The rendered answer is the renderer's output for the message.
      std::string rendered;
      answer->AppendRendered(Render, &rendered);
      EXPECT_EQ(rendered, Render(response)) << address.ToString();
      // GeoStore::Lookup builds the same message.
      absl::StatusOr<geo::v1::LookupResponse> looked_up =
          store.Lookup(address, language);
      if (!looked_up.ok()) {
        ADD_FAILURE() << looked_up.status();
        continue;
      }
      EXPECT_EQ(looked_up->SerializeAsString(), response.SerializeAsString());
      EXPECT_EQ(answer->country_iso_code(), response.country().iso_code());
      // The wire form parses to the same message.
      std::string wire;
      answer->AppendWire(&wire);
      geo::v1::LookupResponse parsed;
      EXPECT_TRUE(parsed.ParseFromString(wire));
      EXPECT_EQ(parsed.SerializeAsString(), response.SerializeAsString())
          << address.ToString();
      EXPECT_EQ(answer->found(), response.found());
      EXPECT_EQ(response.ip(), address.ToString());
      if (answer->found()) {
        // The first database with a record names the network.
        EXPECT_EQ(response.network(), answer->parts.front().network);
      }
      if (answer->parts.size() > 1) ++merged;
    }
  }
  return merged;
}

TEST(LookupAnswerTest, MergedAnswersRenderAsTheirMessage) {
  // City and Country test databases cover the same networks, so answers
  // merge two records (countries overlap, subdivisions come from one).
  std::unique_ptr<GeoStore> store =
      LoadedStore({testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"),
                   testing::MaxmindTestDataFile("GeoIP2-Country-Test.mmdb"),
                   testing::MaxmindTestDataFile("GeoLite2-ASN-Test.mmdb")});
  std::vector<IpAddress> addresses = SourceAddresses("GeoIP2-City-Test.json");
  for (const IpAddress& address : SourceAddresses("GeoLite2-ASN-Test.json")) {
    addresses.push_back(address);
  }
  addresses.push_back(*IpAddress::Parse("10.1.2.3"));  // No record.
  EXPECT_GT(CheckAnswers(*store, addresses), 0u);
}

TEST(LookupAnswerTest, CityAndAutonomousSystemMergeOnTheRealDatabase) {
  const std::string city = testing::GeoLite2CityPath();
  if (city.empty()) GTEST_SKIP() << "GeoLite2-City is not installed";
  std::unique_ptr<GeoStore> store = LoadedStore(
      {city, testing::MaxmindTestDataFile("GeoLite2-ASN-Test.mmdb")});
  std::vector<IpAddress> addresses = SourceAddresses("GeoLite2-ASN-Test.json");
  std::mt19937 random(8);
  for (int i = 0; i < 500; ++i) {
    const uint32_t bits = static_cast<uint32_t>(random());
    addresses.push_back(IpAddress::FromV4Bytes(
        {static_cast<uint8_t>(bits >> 24), static_cast<uint8_t>(bits >> 16),
         static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits)}));
  }
  const size_t merged = CheckAnswers(*store, addresses);
  EXPECT_GT(merged, 0u);
  // Every ASN test network lies in GeoLite2-City's space, so each of those
  // lookups (in four languages) has a City and an ASN record.
  absl::StatusOr<LookupAnswer> answer = store->Find(addresses.front(), "en");
  ASSERT_TRUE(answer.ok());
  geo::v1::LookupResponse response;
  answer->ToResponse(&response);
  if (answer->parts.size() == 2) {
    // The autonomous system names the ASN database's network, the answer
    // the City database's.
    EXPECT_EQ(response.autonomous_system().network(), answer->parts[1].network);
    EXPECT_EQ(response.network(), answer->parts[0].network);
  }
}

TEST(LookupAnswerTest, ARecordIsRenderedOnceAndSharedByLookups) {
  std::unique_ptr<GeoStore> store =
      LoadedStore({testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb")});
  const IpAddress address = SourceAddresses("GeoIP2-City-Test.json").front();
  absl::StatusOr<LookupAnswer> first = store->Find(address, "en");
  absl::StatusOr<LookupAnswer> second = store->Find(address, "en");
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_EQ(first->parts.size(), 1u);
  // The cache hands both lookups the same record, and its template is built
  // once: the renderer runs on the first call only.
  EXPECT_EQ(first->parts[0].record, second->parts[0].record);
  int renders = 0;
  const AnswerRenderer counting = [&](const geo::v1::LookupResponse& r) {
    ++renders;
    return Render(r);
  };
  std::string one;
  std::string two;
  first->AppendRendered(counting, &one);
  second->AppendRendered(counting, &two);
  EXPECT_EQ(renders, 1);
  EXPECT_EQ(one, two);
}

// Each address's JSON body through `renderer`.
std::vector<std::string> RenderAll(const GeoStore& store,
                                   const std::vector<IpAddress>& addresses,
                                   const AnswerRenderer& renderer) {
  std::vector<std::string> bodies;
  for (const IpAddress& address : addresses) {
    absl::StatusOr<LookupAnswer> answer = store.Find(address, "en");
    EXPECT_TRUE(answer.ok());
    std::string body;
    if (answer.ok()) answer->AppendRendered(renderer, &body);
    bodies.push_back(body);
  }
  return bodies;
}

// A reload hands the new generation the records the old one cached
// (DatabaseGeneration::InheritRenderedAnswers): an unchanged record keeps
// its rendered answer, a changed one is rendered afresh.
TEST(LookupAnswerTest, AReloadReusesTheRenderedAnswersOfUnchangedRecords) {
  const testing::TestDatabaseCopy city =
      testing::CopyMaxmindTestDatabaseToTempDir("GeoIP2-City-Test.mmdb");
  ASSERT_FALSE(city.content.empty());
  // GeoIP2-City is replaced by GeoIP2-Country below.
  std::unique_ptr<GeoStore> store =
      LoadedStore({city.path}, /*allow_type_change=*/true);
  const std::vector<IpAddress> addresses =
      SourceAddresses("GeoIP2-City-Test.json");
  int renders = 0;
  const AnswerRenderer counting = [&](const geo::v1::LookupResponse& r) {
    ++renders;
    return Render(r);
  };
  auto answer_all = [&] { return RenderAll(*store, addresses, counting); };
  const std::vector<std::string> first = answer_all();
  ASSERT_GT(renders, 10);

  // The same file again (a new inode, as the updater installs it).
  ASSERT_TRUE(testing::ReplaceFile(city.path, city.content));
  ASSERT_TRUE(store->Reload(city.path).ok());
  renders = 0;
  EXPECT_EQ(answer_all(), first);
  EXPECT_EQ(renders, 0);

  // Another database in its place (the Country edition of the same
  // networks): its records differ, so they are rendered, and every answer is
  // still what the renderer makes of it.
  const std::string country = testing::ReadFile(
      testing::MaxmindTestDataFile("GeoIP2-Country-Test.mmdb"));
  ASSERT_FALSE(country.empty());
  ASSERT_TRUE(testing::ReplaceFile(city.path, country));
  const absl::Status reloaded = store->Reload(city.path);
  ASSERT_TRUE(reloaded.ok()) << reloaded;
  renders = 0;
  const std::vector<std::string> other = answer_all();
  EXPECT_GT(renders, 10);
  EXPECT_NE(other, first);
  for (size_t i = 0; i < addresses.size(); ++i) {
    absl::StatusOr<geo::v1::LookupResponse> response =
        store->Lookup(addresses[i], "en");
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(other[i], Render(*response)) << addresses[i].ToString();
  }
}

}  // namespace
}  // namespace geo
