// Conformance of the record model against MaxMind's source JSON: every field
// of every network of every test database, each database alone and all of
// them loaded at once. Expectations come from the source files through one
// table of MaxMind's key names (source_records.h), never from constants.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "geo/data/database.h"
#include "geo/data/geo_store.h"
#include "geo/data/lookup_answer.h"
#include "geo/data/source_records.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using testing::SourceNetwork;

// Every test database (and its source) that Debian's libmaxminddb source
// ships with a source file, and the newer copies of ../shared/testdata.
const char* const kDatabases[] = {
    "GeoIP2-Anonymous-IP-Test",
    "GeoIP2-City-Test",
    "GeoIP2-Connection-Type-Test",
    "GeoIP2-Country-Test",
    "GeoIP2-DensityIncome-Test",
    "GeoIP2-Domain-Test",
    "GeoIP2-Enterprise-Test",
    "GeoIP2-ISP-Test",
    "GeoIP2-Precision-Enterprise-Test",
    "GeoLite2-ASN-Test",
    "GeoLite2-City-Test",
    "GeoLite2-Country-Test",
};

const char* const kLanguages[] = {"en", "de", "zh-CN", "xx"};

std::string Render(const geo::v1::LookupResponse& response) {
  return http::MessageToGatewayJson(response);
}

// Equal field by field, an unset field and a default one being equal.
bool SameFields(const geo::v1::LookupResponse& expected,
                const geo::v1::LookupResponse& actual, std::string* diff) {
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_message_field_comparison(
      google::protobuf::util::MessageDifferencer::EQUIVALENT);
  differencer.ReportDifferencesToString(diff);
  return differencer.Compare(expected, actual);
}

// The per-lookup fields cleared, leaving what the records gave.
geo::v1::LookupResponse RecordFields(geo::v1::LookupResponse response) {
  response.clear_ip();
  response.clear_network();
  response.clear_found();
  if (response.has_autonomous_system()) {
    response.mutable_autonomous_system()->clear_network();
  }
  return response;
}

struct Case {
  std::string label;  // "debian" or "shared"
  std::string name;   // e.g. "GeoIP2-City-Test"
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name = absl::StrCat(info.param.label, "_", info.param.name);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const char* label : {"debian", "shared"}) {
    for (const char* name : kDatabases) cases.push_back({label, name});
  }
  return cases;
}

std::string DataDir(const std::string& label) {
  return label == "debian" ? testing::MaxmindTestDataDir()
                           : testing::SharedMaxmindTestDataDir();
}

class RecordConformanceTest : public ::testing::TestWithParam<Case> {};

// Each database alone: every network's record, in several languages, through
// Database::Lookup (a decode, then the cache), the LookupAnswer's rendered
// answer (the record's cached template) and its wire form.
TEST_P(RecordConformanceTest, EveryFieldOfEveryNetworkMatchesSource) {
  const Case& param = GetParam();
  const std::string dir = DataDir(param.label);
  if (param.label == "debian") {
    ASSERT_FALSE(dir.empty()) << "@maxmind_testdata missing from runfiles";
  } else if (dir.empty()) {
    GTEST_SKIP() << "../shared/testdata/maxmind is absent: not run";
  }
  const std::string json =
      absl::StrCat(dir, "/source-data/", param.name, ".json");
  const std::string mmdb =
      absl::StrCat(dir, "/test-data/", param.name, ".mmdb");
  if (testing::ReadFile(json).empty() && testing::ReadFile(mmdb).empty()) {
    GTEST_SKIP() << param.label << " has no " << param.name;
  }
  absl::StatusOr<std::shared_ptr<const Database>> database =
      Database::Open(mmdb);
  ASSERT_TRUE(database.ok()) << database.status();
  absl::StatusOr<std::vector<SourceNetwork>> networks =
      testing::LoadSourceNetworks(json);
  ASSERT_TRUE(networks.ok()) << networks.status();
  ASSERT_FALSE(networks->empty());

  int checked = 0;
  int shadowed = 0;
  for (const SourceNetwork& source : *networks) {
    IpAddress probe;
    if (!testing::ProbeAddress(source, *networks, &probe)) {
      ++shadowed;
      continue;
    }
    for (const std::string language : kLanguages) {
      geo::v1::LookupResponse expected;
      bool has_subdivisions = false;
      absl::Status mapped = testing::SourceToFields(
          source.record, language, &expected, &has_subdivisions);
      ASSERT_TRUE(mapped.ok())
          << param.name << " " << source.network.ToString() << ": " << mapped;
      // Twice: the first decodes, the second answers from the cache.
      for (int pass = 0; pass < 2; ++pass) {
        geo::v1::LookupResponse actual;
        absl::Status status = (*database)->Lookup(probe, language, &actual);
        ASSERT_TRUE(status.ok()) << source.network.ToString() << ": " << status;
        ASSERT_TRUE(actual.found()) << source.network.ToString();
        // The writer may merge neighbours with identical records or split a
        // network around reserved ranges: the matched network contains the
        // probe and overlaps the source network.
        absl::StatusOr<IpNetwork> matched = IpNetwork::Parse(actual.network());
        ASSERT_TRUE(matched.ok()) << actual.network();
        EXPECT_TRUE(matched->Contains(probe)) << actual.network();
        EXPECT_TRUE(matched->Contains(source.network.address()) ||
                    source.network.Contains(matched->address()))
            << matched->ToString() << " vs " << source.network.ToString();
        if (actual.has_autonomous_system()) {
          EXPECT_EQ(actual.autonomous_system().network(), actual.network());
        }
        std::string diff;
        EXPECT_TRUE(SameFields(expected, RecordFields(actual), &diff))
            << param.label << "/" << param.name << " "
            << source.network.ToString() << " [" << language << "] pass "
            << pass << "\n"
            << diff;
        ++checked;
      }
      // The front ends' views of the same answer.
      LookupAnswer answer;
      ASSERT_TRUE((*database)->Find(probe, language, &answer).ok());
      geo::v1::LookupResponse response;
      answer.ToResponse(&response);
      std::string rendered;
      answer.AppendRendered(Render, &rendered);
      EXPECT_EQ(rendered, Render(response)) << source.network.ToString();
      std::string wire;
      answer.AppendWire(&wire);
      geo::v1::LookupResponse parsed;
      ASSERT_TRUE(parsed.ParseFromString(wire));
      EXPECT_EQ(parsed.SerializeAsString(), response.SerializeAsString())
          << source.network.ToString();
    }
  }
  EXPECT_LT(shadowed * 10, static_cast<int>(networks->size()));
  std::cout << param.label << "/" << param.name << ": " << networks->size()
            << " networks, " << checked << " lookups checked, " << shadowed
            << " fully shadowed\n";
}

INSTANTIATE_TEST_SUITE_P(MaxMind, RecordConformanceTest,
                         ::testing::ValuesIn(AllCases()), CaseName);

// Every database loaded at once: each answer is the databases' records
// merged in slot order (a later database's value wins where it has one, a
// flag is set when any database sets it, a record with subdivisions replaces
// the earlier ones), checked for a probe of every network of every source.
void CheckMergedAnswers(const std::string& label) {
  const std::string dir = DataDir(label);
  std::vector<std::string> paths;
  std::vector<std::vector<SourceNetwork>> sources;
  for (const char* name : kDatabases) {
    const std::string mmdb = absl::StrCat(dir, "/test-data/", name, ".mmdb");
    const std::string json = absl::StrCat(dir, "/source-data/", name, ".json");
    if (testing::ReadFile(mmdb).empty() || testing::ReadFile(json).empty()) {
      continue;
    }
    absl::StatusOr<std::vector<SourceNetwork>> networks =
        testing::LoadSourceNetworks(json);
    ASSERT_TRUE(networks.ok()) << networks.status();
    paths.push_back(mmdb);
    sources.push_back(*std::move(networks));
  }
  ASSERT_GE(paths.size(), 5u) << label;
  GeoStoreOptions options;
  options.paths = paths;
  options.log_reloads = false;
  GeoStore store(std::move(options));
  ASSERT_TRUE(store.ReloadAll().ok());

  int checked = 0;
  int merged = 0;
  for (const std::vector<SourceNetwork>& networks : sources) {
    for (const SourceNetwork& source : networks) {
      IpAddress probe;
      if (!testing::ProbeAddress(source, networks, &probe)) continue;
      for (const std::string language : {"en", "de"}) {
        geo::v1::LookupResponse expected;
        int parts = 0;
        for (const std::vector<SourceNetwork>& slot : sources) {
          const SourceNetwork* record = testing::MostSpecific(slot, probe);
          if (record == nullptr) continue;
          geo::v1::LookupResponse fields;
          bool has_subdivisions = false;
          ASSERT_TRUE(testing::SourceToFields(record->record, language, &fields,
                                              &has_subdivisions)
                          .ok());
          if (has_subdivisions) expected.clear_subdivisions();
          expected.MergeFrom(fields);
          ++parts;
        }
        absl::StatusOr<LookupAnswer> answer = store.Find(probe, language);
        ASSERT_TRUE(answer.ok()) << answer.status();
        // At least those: a test database may also hold empty records
        // (GeoIP2-Anonymous-IP-Test has {} where its source has nothing),
        // which add a part and no field.
        EXPECT_GE(static_cast<int>(answer->parts.size()), parts)
            << probe.ToString();
        geo::v1::LookupResponse actual;
        answer->ToResponse(&actual);
        std::string diff;
        EXPECT_TRUE(SameFields(expected, RecordFields(actual), &diff))
            << label << " " << probe.ToString() << " [" << language << "]\n"
            << diff;
        std::string rendered;
        answer->AppendRendered(Render, &rendered);
        EXPECT_EQ(rendered, Render(actual)) << probe.ToString();
        std::string wire;
        answer->AppendWire(&wire);
        geo::v1::LookupResponse parsed;
        ASSERT_TRUE(parsed.ParseFromString(wire));
        EXPECT_EQ(parsed.SerializeAsString(), actual.SerializeAsString());
        ++checked;
        if (parts > 1) ++merged;
      }
    }
  }
  EXPECT_GT(merged, 0);
  std::cout << label << ": " << paths.size() << " databases at once, "
            << checked << " answers checked, " << merged
            << " merged from two or more\n";
}

TEST(RecordMergeTest, DebianDatabasesAllAtOnce) {
  ASSERT_FALSE(DataDir("debian").empty());
  CheckMergedAnswers("debian");
}

TEST(RecordMergeTest, SharedDatabasesAllAtOnce) {
  if (DataDir("shared").empty()) {
    GTEST_SKIP() << "../shared/testdata/maxmind is absent: not run";
  }
  CheckMergedAnswers("shared");
}

}  // namespace
}  // namespace geo
