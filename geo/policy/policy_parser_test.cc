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

TEST(ReadPolicyFileTest, ReadsByExtensionAndNamesMissingFiles) {
  const std::string directory = std::getenv("TEST_TMPDIR");
  const std::string path = directory + "/policy.yaml";
  std::ofstream(path) << kYaml;
  auto parsed = ReadPolicyFile(path);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->single_policy);
  EXPECT_EQ(parsed->file.default_policy(), "default");
  EXPECT_EQ(parsed->file.policies().at("default").default_action(), "deny");

  auto missing = ReadPolicyFile(directory + "/missing.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("missing.json"));

  const std::string bad = directory + "/bad.json";
  std::ofstream(bad) << "{\"colour\": 1}";
  auto invalid = ReadPolicyFile(bad);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(),
              AllOf(HasSubstr("policy file "), HasSubstr("bad.json")));
}

TEST(ReadPolicyFileTest, RefusesAFileLargerThanTheLimit) {
  const std::string path =
      std::string(std::getenv("TEST_TMPDIR")) + "/huge.yaml";
  {
    std::ofstream file(path);
    file << "default_action: allow\ndeny:\n  countries:\n";
    while (file.tellp() <= static_cast<std::streamoff>(kMaxPolicyBytes)) {
      file << "    - DE\n";
    }
  }
  auto parsed = ReadPolicyFile(path);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("larger than"));
}

TEST(ParsePolicyFileTest, TellsTheTwoFormsApartByTheirTopLevelKeys) {
  constexpr char kSeveral[] = R"(
policies:
  default: {default_action: allow}
  eu-only:
    default_action: deny
    allow: {countries: [DE]}
    dry_run: true
    on_error: allow
routes:
  - {host: "*.example.com", path_prefix: /admin, methods: [POST], policy: eu-only}
default_policy: default
)";
  for (const PolicyFormat format : {PolicyFormat::kYaml, PolicyFormat::kJson}) {
    const std::string content =
        format == PolicyFormat::kYaml
            ? std::string(kSeveral)
            : std::string(
                  R"({"policies": {"default": {"defaultAction": "allow"},)"
                  R"( "eu-only": {"default_action": "deny", "dryRun": true,)"
                  R"( "onError": "allow", "allow": {"countries": ["DE"]}}},)"
                  R"( "routes": [{"host": "*.example.com", "pathPrefix":)"
                  R"( "/admin", "methods": ["POST"], "policy": "eu-only"}],)"
                  R"( "defaultPolicy": "default"})");
    auto parsed = ParsePolicyFile(content, format);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_FALSE(parsed->single_policy);
    EXPECT_EQ(parsed->file.policies_size(), 2);
    const PolicyConfig& eu = parsed->file.policies().at("eu-only");
    EXPECT_TRUE(eu.dry_run());
    EXPECT_EQ(eu.on_error(), "allow");
    ASSERT_EQ(parsed->file.routes_size(), 1);
    EXPECT_EQ(parsed->file.routes(0).host(), "*.example.com");
    EXPECT_EQ(parsed->file.routes(0).methods(0), "POST");
    EXPECT_EQ(parsed->file.default_policy(), "default");
  }
  // A policy's own keys at the top level are still the single-policy form,
  // and a mix is an unknown-key error rather than a silent choice.
  auto single = ParsePolicyFile("default_action: deny\n", PolicyFormat::kYaml);
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(single->single_policy);
  auto mixed = ParsePolicyFile(
      "default_action: deny\npolicies: {a: {default_action: allow}}\n",
      PolicyFormat::kYaml);
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mixed.status().message(), HasSubstr("default_action"));
}

TEST(ParsePolicyFileTest, AnAliasCannotExpandBeyondTheByteBudget) {
  // Few nodes, many bytes: a 64 KiB scalar referenced 200 times is 12.5 MiB
  // once expanded, under the node budget but over the byte budget.
  std::string yaml = "default_action: allow\nbig: &big \"";
  yaml.append(64 * 1024, 'x');
  yaml.append("\"\ndeny:\n  countries: [");
  for (int i = 0; i < 200; ++i) yaml.append(i == 0 ? "*big" : ", *big");
  yaml.append("]\n");
  auto parsed = ParsePolicyFile(yaml, PolicyFormat::kYaml);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("bytes once aliases"));
}

}  // namespace
}  // namespace geo::policy
