#include "geo/data/database.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/data/test_data.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// Expectations straight from MaxMind's source JSON: an independent reading of
// the same schema, with the JSON parsed by protobuf's JSON parser.

const Value* Field(const Struct& object, const std::string& key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? nullptr : &it->second;
}

const Struct* Object(const Struct& object, const std::string& key) {
  const Value* value = Field(object, key);
  return value != nullptr && value->has_struct_value() ? &value->struct_value()
                                                       : nullptr;
}

std::string String(const Struct& object, const std::string& key) {
  const Value* value = Field(object, key);
  return value != nullptr ? value->string_value() : "";
}

// The source writes some integers as strings ("geoname_id": "2655045").
uint32_t Number(const Struct& object, const std::string& key) {
  const Value* value = Field(object, key);
  if (value == nullptr) return 0;
  if (value->has_string_value()) {
    return static_cast<uint32_t>(
        std::strtoul(value->string_value().c_str(), nullptr, 10));
  }
  return static_cast<uint32_t>(value->number_value());
}

// Flags appear as true, 1 or "1".
bool Bool(const Struct& object, const std::string& key) {
  const Value* value = Field(object, key);
  if (value == nullptr) return false;
  if (value->has_number_value()) return value->number_value() != 0;
  if (value->has_string_value()) {
    return value->string_value() == "1" || value->string_value() == "true";
  }
  return value->bool_value();
}

// The source writes coordinates as strings ("35.68536") or numbers.
double Coordinate(const Struct& object, const std::string& key) {
  const Value* value = Field(object, key);
  if (value == nullptr) return 0;
  if (value->has_string_value()) {
    return std::strtod(value->string_value().c_str(), nullptr);
  }
  return value->number_value();
}

std::string Name(const Struct& place, const std::string& language) {
  const Struct* names = Object(place, "names");
  if (names == nullptr) return "";
  if (Field(*names, language) != nullptr) return String(*names, language);
  return String(*names, "en");
}

template <typename Message>
void ExpectCountry(const Struct& source, const std::string& language,
                   Message* country) {
  country->set_iso_code(String(source, "iso_code"));
  country->set_geoname_id(Number(source, "geoname_id"));
  country->set_name(Name(source, language));
  country->set_is_in_european_union(Bool(source, "is_in_european_union"));
}

geo::v1::LookupResponse Expected(const Struct& record,
                                 const std::string& language,
                                 const std::string& network) {
  geo::v1::LookupResponse expected;
  expected.set_found(true);
  expected.set_network(network);
  if (const Struct* continent = Object(record, "continent")) {
    expected.mutable_continent()->set_code(String(*continent, "code"));
    expected.mutable_continent()->set_geoname_id(
        Number(*continent, "geoname_id"));
    expected.mutable_continent()->set_name(Name(*continent, language));
  }
  if (const Struct* country = Object(record, "country")) {
    ExpectCountry(*country, language, expected.mutable_country());
  }
  if (const Struct* country = Object(record, "registered_country")) {
    ExpectCountry(*country, language, expected.mutable_registered_country());
  }
  if (const Struct* country = Object(record, "represented_country")) {
    ExpectCountry(*country, language, expected.mutable_represented_country());
    expected.mutable_represented_country()->set_type(String(*country, "type"));
  }
  if (const Value* subdivisions = Field(record, "subdivisions")) {
    for (const Value& item : subdivisions->list_value().values()) {
      geo::v1::Subdivision* subdivision = expected.add_subdivisions();
      subdivision->set_iso_code(String(item.struct_value(), "iso_code"));
      subdivision->set_geoname_id(Number(item.struct_value(), "geoname_id"));
      subdivision->set_name(Name(item.struct_value(), language));
    }
  }
  if (const Struct* city = Object(record, "city")) {
    expected.mutable_city()->set_geoname_id(Number(*city, "geoname_id"));
    expected.mutable_city()->set_name(Name(*city, language));
  }
  if (const Struct* location = Object(record, "location")) {
    geo::v1::Location* out = expected.mutable_location();
    out->set_latitude(Coordinate(*location, "latitude"));
    out->set_longitude(Coordinate(*location, "longitude"));
    out->set_accuracy_radius(Number(*location, "accuracy_radius"));
    out->set_metro_code(Number(*location, "metro_code"));
    out->set_time_zone(String(*location, "time_zone"));
  }
  if (const Struct* postal = Object(record, "postal")) {
    expected.mutable_postal()->set_code(String(*postal, "code"));
  }
  const Struct* asn_source = &record;
  if (const Struct* traits = Object(record, "traits")) {
    expected.mutable_traits()->set_is_anonymous_proxy(
        Bool(*traits, "is_anonymous_proxy"));
    expected.mutable_traits()->set_is_satellite_provider(
        Bool(*traits, "is_satellite_provider"));
    expected.mutable_traits()->set_is_anycast(Bool(*traits, "is_anycast"));
    if (Field(*traits, "autonomous_system_number") != nullptr ||
        Field(*traits, "autonomous_system_organization") != nullptr) {
      asn_source = traits;
    }
  }
  if (Field(*asn_source, "autonomous_system_number") != nullptr ||
      Field(*asn_source, "autonomous_system_organization") != nullptr) {
    expected.mutable_autonomous_system()->set_number(
        Number(*asn_source, "autonomous_system_number"));
    expected.mutable_autonomous_system()->set_organization(
        String(*asn_source, "autonomous_system_organization"));
    expected.mutable_autonomous_system()->set_network(network);
  }
  return expected;
}

struct SourceNetwork {
  IpNetwork network;  // IPv4 form for IPv4 networks written as ::a.b.c.d/N
  Struct record;
};

// Networks inside ::/96 with a prefix of at least 96 are IPv4 networks
// written in IPv6 notation (the writer aliases them); users look them up as
// IPv4.
IpNetwork ToNetwork(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  absl::StatusOr<IpAddress> address = IpAddress::Parse(cidr.substr(0, slash));
  EXPECT_TRUE(address.ok()) << cidr;
  int prefix = std::atoi(cidr.substr(slash + 1).c_str());
  IpAddress lookup = *address;
  if (address->is_v6() && prefix >= 96) {
    bool embedded_v4 = true;
    for (int i = 0; i < 12; ++i) embedded_v4 &= address->bytes()[i] == 0;
    if (embedded_v4) {
      const uint8_t* b = address->bytes();
      lookup = IpAddress::FromV4Bytes({b[12], b[13], b[14], b[15]});
      prefix -= 96;
    }
  }
  absl::StatusOr<IpNetwork> network = IpNetwork::FromAddress(lookup, prefix);
  EXPECT_TRUE(network.ok()) << cidr;
  return *network;
}

// Later entries for the same network replace earlier ones, as in the writer.
std::vector<SourceNetwork> LoadSource(const std::string& json_path) {
  const std::string json = testing::ReadFile(json_path);
  EXPECT_FALSE(json.empty()) << json_path;
  ListValue list;
  auto status = google::protobuf::util::JsonStringToMessage(json, &list);
  EXPECT_TRUE(status.ok()) << json_path << ": " << status.ToString();
  std::map<std::string, size_t> index;
  std::vector<SourceNetwork> networks;
  for (const Value& item : list.values()) {
    for (const auto& [cidr, record] : item.struct_value().fields()) {
      SourceNetwork source{ToNetwork(cidr), record.struct_value()};
      auto [it, inserted] =
          index.emplace(source.network.ToString(), networks.size());
      if (inserted) {
        networks.push_back(std::move(source));
      } else {
        networks[it->second] = std::move(source);
      }
    }
  }
  return networks;
}

// The address of `network` with host bits set to `pattern`: 0 first, 1 last,
// 2 the middle, 3 just below the middle.
IpAddress HostAddress(const IpNetwork& network, int pattern) {
  std::array<uint8_t, 16> bytes{};
  const IpAddress& base = network.address();
  std::memcpy(bytes.data(), base.bytes(), base.byte_length());
  for (int bit = network.prefix_length(); bit < base.bit_length(); ++bit) {
    const bool first_host_bit = bit == network.prefix_length();
    bool set = false;
    if (pattern == 1) set = true;
    if (pattern == 2) set = first_host_bit;
    if (pattern == 3) set = !first_host_bit;
    if (set) bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  }
  if (base.is_v4()) {
    return IpAddress::FromV4Bytes({bytes[0], bytes[1], bytes[2], bytes[3]});
  }
  return IpAddress::FromV6Bytes(bytes);
}

// An address that only `source` (no more specific source network) covers;
// false when the candidates are all shadowed.
bool ProbeAddress(const SourceNetwork& source,
                  const std::vector<SourceNetwork>& all, IpAddress* probe) {
  for (int pattern = 0; pattern < 4; ++pattern) {
    const IpAddress candidate = HostAddress(source.network, pattern);
    bool shadowed = false;
    for (const SourceNetwork& other : all) {
      if (other.network.prefix_length() > source.network.prefix_length() &&
          other.network.address().is_v4() == candidate.is_v4() &&
          other.network.Contains(candidate)) {
        shadowed = true;
        break;
      }
    }
    if (!shadowed) {
      *probe = candidate;
      return true;
    }
  }
  return false;
}

struct ConformanceCase {
  std::string label;  // "debian" or "shared"
  std::string name;   // e.g. "GeoIP2-City-Test"
};

class ConformanceTest : public ::testing::TestWithParam<ConformanceCase> {};

TEST_P(ConformanceTest, EveryNetworkMatchesSourceJson) {
  const ConformanceCase& param = GetParam();
  const std::string dir = param.label == "debian"
                              ? testing::MaxmindTestDataDir()
                              : testing::SharedMaxmindTestDataDir();
  if (param.label == "debian") {
    ASSERT_FALSE(dir.empty()) << "@maxmind_testdata missing from runfiles";
  } else if (dir.empty()) {
    GTEST_SKIP() << "../shared/testdata/maxmind is absent: shared-copy cases "
                    "not run";
  }
  const std::string json =
      absl::StrCat(dir, "/source-data/", param.name, ".json");
  const std::string mmdb =
      absl::StrCat(dir, "/test-data/", param.name, ".mmdb");
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(mmdb);
  ASSERT_TRUE(database.ok()) << database.status();
  const std::vector<SourceNetwork> networks = LoadSource(json);
  ASSERT_FALSE(networks.empty());

  int checked = 0;
  int shadowed = 0;
  int merged = 0;
  for (const SourceNetwork& source : networks) {
    IpAddress probe;
    if (!ProbeAddress(source, networks, &probe)) {
      ++shadowed;
      continue;
    }
    for (const std::string language : {"en", "de", "zh-CN", "xx"}) {
      geo::v1::LookupResponse actual;
      absl::Status status = (*database)->Lookup(probe, language, &actual);
      ASSERT_TRUE(status.ok()) << source.network.ToString() << ": " << status;
      // The writer merges neighbours with identical records into one tree
      // node (the matched network is then larger than the source one), and
      // may split a network around reserved ranges: either way the matched
      // network must overlap the source network, and the record must match.
      std::string expected_network = source.network.ToString();
      absl::StatusOr<IpNetwork> matched = IpNetwork::Parse(actual.network());
      ASSERT_TRUE(matched.ok()) << actual.network();
      if (!(*matched == source.network)) {
        EXPECT_TRUE(matched->Contains(source.network.address()) ||
                    source.network.Contains(matched->address()))
            << matched->ToString() << " vs " << source.network.ToString();
        EXPECT_TRUE(matched->Contains(probe));
        expected_network = matched->ToString();
        if (language == "en") ++merged;
      }
      geo::v1::LookupResponse expected =
          Expected(source.record, language, expected_network);
      expected.set_ip(probe.ToString());
      std::string diff;
      google::protobuf::util::MessageDifferencer differencer;
      differencer.set_message_field_comparison(
          google::protobuf::util::MessageDifferencer::EQUIVALENT);
      differencer.ReportDifferencesToString(&diff);
      EXPECT_TRUE(differencer.Compare(expected, actual))
          << param.name << " " << source.network.ToString() << " [" << language
          << "]\n"
          << diff;
      ++checked;
    }
    // The IPv4-mapped form finds the same record.
    if (probe.is_v4()) {
      geo::v1::LookupResponse by_v4;
      geo::v1::LookupResponse by_mapped;
      ASSERT_TRUE((*database)->Lookup(probe, "en", &by_v4).ok());
      ASSERT_TRUE(
          (*database)->Lookup(probe.MappedToV6(), "en", &by_mapped).ok());
      by_mapped.set_ip(by_v4.ip());
      EXPECT_TRUE(
          google::protobuf::util::MessageDifferencer::Equals(by_v4, by_mapped))
          << source.network.ToString();
    }
  }
  // Shadowing is rare; if most networks were skipped the test proves little.
  EXPECT_LT(shadowed * 10, static_cast<int>(networks.size()));
  std::cout << param.label << "/" << param.name << ": " << networks.size()
            << " networks, " << checked << " lookups checked, " << shadowed
            << " fully shadowed by more specific networks, " << merged
            << " matched a merged or split network\n";
}

INSTANTIATE_TEST_SUITE_P(
    MaxMind, ConformanceTest,
    ::testing::Values(ConformanceCase{"debian", "GeoIP2-City-Test"},
                      ConformanceCase{"debian", "GeoIP2-Country-Test"},
                      ConformanceCase{"debian", "GeoIP2-Enterprise-Test"},
                      ConformanceCase{"debian", "GeoLite2-ASN-Test"},
                      ConformanceCase{"shared", "GeoIP2-City-Test"},
                      ConformanceCase{"shared", "GeoIP2-Country-Test"},
                      ConformanceCase{"shared", "GeoIP2-ISP-Test"},
                      ConformanceCase{"shared", "GeoLite2-ASN-Test"},
                      ConformanceCase{"shared", "GeoLite2-City-Test"},
                      ConformanceCase{"shared", "GeoLite2-Country-Test"}),
    [](const ::testing::TestParamInfo<ConformanceCase>& info) {
      std::string name = absl::StrCat(info.param.label, "_", info.param.name);
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

// ---------------------------------------------------------------------------

std::string TestDataFile(const std::string& name) {
  return absl::StrCat(testing::MaxmindTestDataDir(), "/test-data/", name);
}

IpAddress Ip(const std::string& text) { return *IpAddress::Parse(text); }

TEST(DatabaseTest, OpenReadsMetadata) {
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(TestDataFile("GeoIP2-City-Test.mmdb"));
  ASSERT_TRUE(database.ok()) << database.status();
  EXPECT_EQ((*database)->type(), "GeoIP2-City");
  EXPECT_EQ((*database)->ip_version(), 6);
  EXPECT_GT((*database)->node_count(), 0u);
  EXPECT_GT((*database)->build_epoch(), 0);
  EXPECT_THAT((*database)->languages(), ::testing::Contains("en"));
  EXPECT_THAT((*database)->description(), HasSubstr("City"));
  EXPECT_EQ((*database)->path(), TestDataFile("GeoIP2-City-Test.mmdb"));
  const geo::v1::DatabaseInfo info = (*database)->Info();
  EXPECT_EQ(info.type(), "GeoIP2-City");
  EXPECT_EQ(info.node_count(), (*database)->node_count());
}

TEST(DatabaseTest, MissingFileIsNotFoundNamingPath) {
  const std::string path = TestDataFile("does-not-exist.mmdb");
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
      Database::Open(TestDataFile("GeoIP2-City-Test.mmdb"));
  ASSERT_TRUE(database.ok());
  geo::v1::LookupResponse response;
  ASSERT_TRUE((*database)->Lookup(Ip("10.0.0.1"), "en", &response).ok());
  EXPECT_FALSE(response.found());
  EXPECT_EQ(response.ip(), "10.0.0.1");
  EXPECT_EQ(response.network(), "");
}

TEST(DatabaseTest, IPv4OnlyDatabase) {
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(TestDataFile("MaxMind-DB-test-ipv4-24.mmdb"));
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
      Database::Open(TestDataFile("GeoIP2-City-Test.mmdb"));
  absl::StatusOr<std::shared_ptr<const Database>> asn =
      Database::Open(TestDataFile("GeoLite2-ASN-Test.mmdb"));
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
