#include "geo/data/overrides.h"

#include <memory>
#include <string>

#include "geo/data/geo_store.h"
#include "geo/data/lookup_answer.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

IpAddress Ip(const std::string& text) { return *IpAddress::Parse(text); }

std::shared_ptr<const Overrides> Parse(const std::string& content) {
  auto overrides = Overrides::Parse(content, "feed.csv");
  EXPECT_TRUE(overrides.ok()) << overrides.status();
  return overrides.ok() ? *overrides : nullptr;
}

std::string ErrorOf(const std::string& content) {
  auto overrides = Overrides::Parse(content, "feed.csv");
  EXPECT_FALSE(overrides.ok()) << content;
  return overrides.ok() ? "" : std::string(overrides.status().message());
}

TEST(OverridesParseTest, GoodLines) {
  auto overrides = Parse(
      "# RFC 8805 geofeed\n"
      "\n"
      "192.0.2.0/24,US,US-CA,San Jose,95141\n"
      "  198.51.100.0/24 , de , de-be , Berlin ,  \n"
      "2001:db8::/32,JP,,,\n"
      "203.0.113.7,,,,,AS64500,Example Net\n"
      "203.0.113.0/24,FR,,Paris,,64501\n");
  ASSERT_NE(overrides, nullptr);
  EXPECT_EQ(overrides->size(), 5u);
  const OverrideEntry* berlin = overrides->Find(Ip("198.51.100.9"));
  ASSERT_NE(berlin, nullptr);
  EXPECT_EQ(berlin->line, 4);
  EXPECT_EQ(berlin->country, "DE");
  EXPECT_EQ(berlin->subdivision, "BE");
  EXPECT_EQ(berlin->city, "Berlin");
  EXPECT_EQ(berlin->postal, "");
  // IPv4-mapped addresses match IPv4 entries.
  EXPECT_EQ(overrides->Find(Ip("::ffff:198.51.100.9")), berlin);
  // Longest prefix wins: the /32 over the /24.
  const OverrideEntry* host = overrides->Find(Ip("203.0.113.7"));
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->asn, 64500u);
  EXPECT_EQ(host->organization, "Example Net");
  EXPECT_FALSE(host->overrides_location());
  EXPECT_EQ(overrides->Find(Ip("203.0.113.8"))->city, "Paris");
  EXPECT_EQ(overrides->Find(Ip("2001:db8::1"))->country, "JP");
  EXPECT_EQ(overrides->Find(Ip("192.0.3.1")), nullptr);
  EXPECT_TRUE(Parse("# nothing\n\n")->empty());
}

TEST(OverridesParseTest, BadLinesRejectTheFileWithTheirLineNumber) {
  struct BadLine {
    std::string line;
    std::string error_part;
  };
  const BadLine cases[] = {
      {"198.51.100.0/24,DE", "feed.csv line 2: has 2 columns"},
      {"198.51.100.1/24,DE,,,", "line 2"},
      {"198.51.100.1/24,DE,,,", "host bits"},
      {"not-a-prefix,DE,,,", "line 2"},
      {"198.51.100.0/24,ZZ,,,", "line 2: \"ZZ\" is not an ISO 3166-1"},
      {"198.51.100.0/24,UK,,,", "\"UK\" is not an ISO 3166-1"},
      {"198.51.100.0/24,DE,FR-75,,",
       "line 2: region \"FR-75\" is not in country"},
      {"198.51.100.0/24,DE,Berlin,,", "is not an ISO 3166-2 code"},
      {"198.51.100.0/24,DE,,,,AS0", "is not an autonomous system number"},
      {"198.51.100.0/24,DE,,,,12x", "is not an autonomous system number"},
      {"198.51.100.0/24,,,,", "line 2: overrides nothing"},
      {"192.0.2.0/24,DE,,,", "line 2: prefix 192.0.2.0/24 is also on line 1"},
      {"198.51.100.0/24,DE,,a\x01b,", "control character"},
      {"198.51.100.0/24,DE,,,,1,2,3", "has 8 columns"},
  };
  const std::string good = "192.0.2.0/24,US,,,\n";
  for (const BadLine& bad : cases) {
    EXPECT_THAT(ErrorOf(good + bad.line + "\n"), HasSubstr(bad.error_part))
        << bad.line;
  }
}

std::string Render(const geo::v1::LookupResponse& response) {
  return http::MessageToGatewayJson(response);
}

// Precedence against the databases: the override replaces the place whole
// and names what it replaced; other fields stay; every view agrees.
TEST(OverridesStoreTest, OverrideWinsOverDatabaseData) {
  GeoStoreOptions options;
  options.paths = {testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"),
                   testing::MaxmindTestDataFile("GeoLite2-ASN-Test.mmdb")};
  options.log_reloads = false;
  GeoStore store(std::move(options));
  ASSERT_TRUE(store.ReloadAll().ok());
  // 81.2.69.160 is London (GB, ENG) in the City test database, 1.128.0.0 is
  // AS1221 in the ASN one.
  auto before = store.Lookup(Ip("81.2.69.160"), "en");
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->country().iso_code(), "GB");
  ASSERT_TRUE(before->has_location());

  store.SetOverrides(
      Parse("81.2.69.160/28,DE,DE-BE,Berlin,10115\n"
            "1.128.0.0/16,,,,,64500,Override Net\n"));
  auto after = store.Lookup(Ip("81.2.69.160"), "de");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->country().iso_code(), "DE");
  EXPECT_EQ(after->country().name(), "");
  ASSERT_EQ(after->subdivisions_size(), 1);
  EXPECT_EQ(after->subdivisions(0).iso_code(), "BE");
  EXPECT_EQ(after->city().name(), "Berlin");
  EXPECT_EQ(after->postal().code(), "10115");
  EXPECT_FALSE(after->has_location());
  EXPECT_FALSE(after->has_continent());
  EXPECT_EQ(after->registered_country().iso_code(),
            before->registered_country().iso_code());
  // The database's network stays the answer's network.
  EXPECT_EQ(after->network(), before->network());
  EXPECT_EQ(after->local_override().network(), "81.2.69.160/28");
  EXPECT_THAT(after->local_override().fields(),
              ElementsAre("country", "subdivisions", "city", "postal"));

  auto asn = store.Lookup(Ip("1.128.0.1"), "en");
  ASSERT_TRUE(asn.ok());
  EXPECT_EQ(asn->autonomous_system().number(), 64500u);
  EXPECT_EQ(asn->autonomous_system().organization(), "Override Net");
  EXPECT_EQ(asn->autonomous_system().network(), "1.128.0.0/16");
  EXPECT_THAT(asn->local_override().fields(), ElementsAre("autonomous_system"));

  // Rendered, wire and message views agree.
  for (const char* address : {"81.2.69.160", "1.128.0.1", "10.0.0.1"}) {
    auto answer = store.Find(Ip(address), "en");
    ASSERT_TRUE(answer.ok());
    geo::v1::LookupResponse response;
    answer->ToResponse(&response);
    std::string rendered;
    answer->AppendRendered(Render, &rendered);
    EXPECT_EQ(rendered, Render(response)) << address;
    std::string wire;
    answer->AppendWire(&wire);
    geo::v1::LookupResponse parsed;
    ASSERT_TRUE(parsed.ParseFromString(wire));
    EXPECT_EQ(parsed.SerializeAsString(), response.SerializeAsString());
    EXPECT_EQ(answer->country_iso_code(), response.country().iso_code());
  }

  // An address no database has: the override makes it found, with the
  // entry's prefix as its network.
  store.SetOverrides(Parse("10.0.0.0/8,US,,,\n"));
  auto private_answer = store.Lookup(Ip("10.1.2.3"), "en");
  ASSERT_TRUE(private_answer.ok());
  EXPECT_TRUE(private_answer->found());
  EXPECT_EQ(private_answer->network(), "10.0.0.0/8");
  EXPECT_EQ(private_answer->country().iso_code(), "US");

  // Removing the overrides restores the database's answer exactly.
  store.SetOverrides(nullptr);
  auto restored = store.Lookup(Ip("81.2.69.160"), "en");
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->SerializeAsString(), before->SerializeAsString());
}

}  // namespace
}  // namespace geo
