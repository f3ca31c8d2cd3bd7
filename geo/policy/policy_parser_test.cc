#include "geo/policy/policy_parser.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace geo::policy {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kJson[] = R"({
  "default_action": "deny",
  "privateAddresses": "allow",
  "unknown_addresses": "deny",
  "allow": {
    "countries": ["DE", "NO"],
    "subdivisions": ["US-CA"],
    "asns": [15169],
    "networks": ["203.0.113.0/24"]
  },
  "deny": {"networks": ["10.0.0.0/8"]}
})";

constexpr char kYaml[] = R"(# The same policy as kJson.
default_action: deny
private_addresses: allow
unknownAddresses: deny
allow:
  countries: [DE, NO]
  subdivisions:
    - US-CA
  asns: [15169]
  networks: ["203.0.113.0/24"]
deny:
  networks:
    - 10.0.0.0/8
)";

TEST(DetectPolicyFormatTest, ByExtensionThenContent) {
  EXPECT_EQ(DetectPolicyFormat("/etc/geo/policy.json", "a: b"),
            PolicyFormat::kJson);
  EXPECT_EQ(DetectPolicyFormat("/etc/geo/policy.YAML", "{}"),
            PolicyFormat::kYaml);
  EXPECT_EQ(DetectPolicyFormat("policy.yml", "{}"), PolicyFormat::kYaml);
  EXPECT_EQ(DetectPolicyFormat("/etc/geo/policy", "\n  {\"a\": 1}"),
            PolicyFormat::kJson);
  EXPECT_EQ(DetectPolicyFormat("/etc/geo/policy", "default_action: allow"),
            PolicyFormat::kYaml);
}

TEST(ParsePolicyConfigTest, JsonAndYamlGiveTheSameConfig) {
  auto json = ParsePolicyConfig(kJson, PolicyFormat::kJson);
  auto yaml = ParsePolicyConfig(kYaml, PolicyFormat::kYaml);
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(json->config,
                                                                 yaml->config))
      << json->config.DebugString() << "\nvs\n"
      << yaml->config.DebugString();
  EXPECT_EQ(yaml->config.default_action(), "deny");
  EXPECT_EQ(yaml->config.private_addresses(), "allow");
  // YAML 1.1 would read NO as false; it stays Norway.
  EXPECT_THAT(yaml->config.allow().countries(), ElementsAre("DE", "NO"));
  EXPECT_THAT(yaml->config.allow().asns(), ElementsAre(15169));
}

TEST(ParsePolicyConfigTest, RecordsLinesByFieldPath) {
  auto yaml = ParsePolicyConfig(kYaml, PolicyFormat::kYaml);
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ(yaml->lines.at("default_action"), 2);
  EXPECT_EQ(yaml->lines.at("unknown_addresses"), 4);
  EXPECT_EQ(yaml->lines.at("allow.countries[1]"), 6);
  EXPECT_EQ(yaml->lines.at("allow.subdivisions[0]"), 8);
  EXPECT_EQ(yaml->lines.at("deny.networks[0]"), 13);
  auto json = ParsePolicyConfig(kJson, PolicyFormat::kJson);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->lines.at("private_addresses"), 3);
  EXPECT_EQ(json->lines.at("deny.networks[0]"), 11);
}

TEST(ParsePolicyConfigTest, EmptyDocumentIsAnEmptyConfig) {
  for (const PolicyFormat format : {PolicyFormat::kJson, PolicyFormat::kYaml}) {
    auto parsed = ParsePolicyConfig("  \n", format);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->config.ByteSizeLong(), 0u);
  }
}

TEST(ParsePolicyConfigTest, UnknownKeysAreRejectedInBothFormats) {
  auto json = ParsePolicyConfig(R"({"default_action": "allow", "colour": 1})",
                                PolicyFormat::kJson);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(json.status().message(), HasSubstr("colour"));
  auto yaml = ParsePolicyConfig("default_action: allow\ndeny:\n  colour: red\n",
                                PolicyFormat::kYaml);
  EXPECT_EQ(yaml.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(yaml.status().message(),
              AllOf(HasSubstr("colour"), HasSubstr("(line 3)")));
}

TEST(ParsePolicyConfigTest, WrongTypesAreRejectedInBothFormats) {
  EXPECT_EQ(ParsePolicyConfig(R"({"allow": "DE"})", PolicyFormat::kJson)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParsePolicyConfig("allow: DE\n", PolicyFormat::kYaml).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParsePolicyConfig("allow:\n  asns: [AS15169]\n", PolicyFormat::kYaml)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParsePolicyConfig(R"({"allow": {"asns": [-1]}})", PolicyFormat::kJson)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ParsePolicyConfigTest, MalformedDocumentsNameWhere) {
  auto json =
      ParsePolicyConfig("{\"default_action\": \"allow\",", PolicyFormat::kJson);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  auto yaml = ParsePolicyConfig("default_action: allow\ndeny: [DE\n",
                                PolicyFormat::kYaml);
  EXPECT_EQ(yaml.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(yaml.status().message(), HasSubstr("malformed YAML at line"));
  auto list = ParsePolicyConfig("- DE\n- FR\n", PolicyFormat::kYaml);
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(list.status().message(), HasSubstr("must be a mapping"));
}

TEST(ReadPolicyConfigFileTest, ReadsByExtensionAndNamesMissingFiles) {
  const std::string directory = std::getenv("TEST_TMPDIR");
  const std::string path = directory + "/policy.yaml";
  std::ofstream(path) << kYaml;
  auto parsed = ReadPolicyConfigFile(path);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.default_action(), "deny");

  auto missing = ReadPolicyConfigFile(directory + "/missing.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("missing.json"));

  const std::string bad = directory + "/bad.json";
  std::ofstream(bad) << "{\"colour\": 1}";
  auto invalid = ReadPolicyConfigFile(bad);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(),
              AllOf(HasSubstr("policy file "), HasSubstr("bad.json")));
}

}  // namespace
}  // namespace geo::policy
