#include "geo/data/database.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::testing::HasSubstr;

// The record model against MaxMind's source JSON, for every test database:
// record_conformance_test.cc.

IpAddress Ip(const std::string& text) { return *IpAddress::Parse(text); }

TEST(DatabaseTest, OpenReadsMetadata) {
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
  ASSERT_TRUE(database.ok()) << database.status();
  EXPECT_EQ((*database)->type(), "GeoIP2-City");
  EXPECT_EQ((*database)->ip_version(), 6);
  EXPECT_GT((*database)->node_count(), 0u);
  EXPECT_GT((*database)->build_epoch(), 0);
  EXPECT_THAT((*database)->languages(), ::testing::Contains("en"));
  EXPECT_THAT((*database)->description(), HasSubstr("City"));
  EXPECT_EQ((*database)->path(),
            testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
  const geo::v1::DatabaseInfo info = (*database)->Info();
  EXPECT_EQ(info.type(), "GeoIP2-City");
  EXPECT_EQ(info.node_count(), (*database)->node_count());
}

TEST(DatabaseTest, MissingFileIsNotFoundNamingPath) {
  const std::string path = testing::MaxmindTestDataFile("does-not-exist.mmdb");
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(path);
  EXPECT_EQ(database.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(database.status().message(), HasSubstr(path));
}

TEST(DatabaseTest, ForeignFileIsDataLossNamingPath) {
  const std::string path = absl::StrCat(testing::MaxmindTestDataDir(),
                                        "/source-data/GeoIP2-City-Test.json");
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(path);
  EXPECT_EQ(database.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(database.status().message(), HasSubstr(path));
}

TEST(DatabaseTest, NotFoundIsNotAnError) {
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
  ASSERT_TRUE(database.ok());
  geo::v1::LookupResponse response;
  ASSERT_TRUE((*database)->Lookup(Ip("10.0.0.1"), "en", &response).ok());
  EXPECT_FALSE(response.found());
  EXPECT_EQ(response.ip(), "10.0.0.1");
  EXPECT_EQ(response.network(), "");
}

TEST(DatabaseTest, IPv4OnlyDatabase) {
  absl::StatusOr<std::shared_ptr<const Database>> database = Database::Open(
      testing::MaxmindTestDataFile("MaxMind-DB-test-ipv4-24.mmdb"));
  ASSERT_TRUE(database.ok()) << database.status();
  EXPECT_EQ((*database)->ip_version(), 4);
  geo::v1::LookupResponse response;
  EXPECT_TRUE((*database)->Lookup(Ip("1.1.1.1"), "en", &response).ok());
  EXPECT_TRUE(response.found());
  EXPECT_EQ(response.network(), "1.1.1.1/32");
  geo::v1::LookupResponse mapped;
  EXPECT_TRUE((*database)->Lookup(Ip("::ffff:1.1.1.1"), "en", &mapped).ok());
  EXPECT_EQ(mapped.network(), "1.1.1.1/32");
  EXPECT_EQ(mapped.ip(), "::ffff:1.1.1.1");
  geo::v1::LookupResponse v6;
  EXPECT_EQ((*database)->Lookup(Ip("2001:db8::1"), "en", &v6).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DatabaseTest, MergesCityAndAsnDatabases) {
  absl::StatusOr<std::shared_ptr<const Database>> city =
      Database::Open(testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
  absl::StatusOr<std::shared_ptr<const Database>> asn =
      Database::Open(testing::MaxmindTestDataFile("GeoLite2-ASN-Test.mmdb"));
  ASSERT_TRUE(city.ok() && asn.ok());
  // 2001:218::/32 is in the City source and 2600:6000::/20 in the ASN one;
  // pick an address of the ASN file and check the City answer stays.
  geo::v1::LookupResponse response;
  ASSERT_TRUE((*city)->Lookup(Ip("81.2.69.160"), "en", &response).ok());
  ASSERT_TRUE((*asn)->Lookup(Ip("81.2.69.160"), "en", &response).ok());
  EXPECT_TRUE(response.found());
  EXPECT_EQ(response.country().iso_code(), "GB");
  EXPECT_EQ(response.network(), "81.2.69.160/27");
  EXPECT_EQ(response.autonomous_system().number(), 0u);
  geo::v1::LookupResponse asn_only;
  ASSERT_TRUE((*asn)->Lookup(Ip("1.128.0.1"), "en", &asn_only).ok());
  EXPECT_EQ(asn_only.autonomous_system().number(), 1221u);
  EXPECT_EQ(asn_only.autonomous_system().network(), asn_only.network());
}

TEST(DatabaseTest, LookupKeepsTheAddressTheResponseAlreadyNames) {
  absl::StatusOr<std::shared_ptr<const Database>> city =
      Database::Open(testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"));
  ASSERT_TRUE(city.ok()) << city.status();
  geo::v1::LookupResponse fresh;
  ASSERT_TRUE((*city)->Lookup(Ip("::ffff:81.2.69.160"), "en", &fresh).ok());
  EXPECT_EQ(fresh.ip(), Ip("::ffff:81.2.69.160").ToString());
  geo::v1::LookupResponse named;
  named.set_ip("81.2.69.160");
  ASSERT_TRUE((*city)->Lookup(Ip("::ffff:81.2.69.160"), "en", &named).ok());
  EXPECT_EQ(named.ip(), "81.2.69.160");
  EXPECT_FALSE(named.country().iso_code().empty());
  EXPECT_EQ(named.country().iso_code(), fresh.country().iso_code());
}

TEST(DatabaseTest, RealGeoLite2City) {
  const std::string path = testing::GeoLite2CityPath();
  if (path.empty()) GTEST_SKIP() << "@geolite2 absent";
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(path);
  ASSERT_TRUE(database.ok()) << database.status();
  EXPECT_EQ((*database)->type(), "GeoLite2-City");
  geo::v1::LookupResponse response;
  ASSERT_TRUE((*database)->Lookup(Ip("8.8.8.8"), "de", &response).ok());
  EXPECT_TRUE(response.found());
  EXPECT_EQ(response.country().iso_code(), "US");
  absl::StatusOr<IpNetwork> network = IpNetwork::Parse(response.network());
  ASSERT_TRUE(network.ok()) << response.network();
  EXPECT_TRUE(network->Contains(Ip("8.8.8.8")));
}

}  // namespace
}  // namespace geo
