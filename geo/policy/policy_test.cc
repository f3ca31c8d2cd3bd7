#include "geo/policy/policy.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "geo/common/ip_address.h"
#include "geo/policy/policy_from_yaml.h"
#include "geo/policy/policy_parser.h"
#include "geo/policy/policy_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::policy {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

IpAddress Ip(absl::string_view text) {
  auto address = IpAddress::Parse(text);
  EXPECT_TRUE(address.ok()) << address.status();
  return address.ok() ? *address : IpAddress();
}

// A public address with a database record.
PolicyInput Found(absl::string_view ip, absl::string_view country,
                  uint32_t asn = 0,
                  absl::InlinedVector<absl::string_view, 2> subdivisions = {}) {
  PolicyInput input;
  input.ip = Ip(ip);
  input.found = true;
  input.country_iso_code = country;
  input.asn = asn;
  input.subdivision_codes = std::move(subdivisions);
  return input;
}

PolicyInput NotFound(absl::string_view ip) {
  PolicyInput input;
  input.ip = Ip(ip);
  return input;
}

void ExpectDecision(const Policy& policy, const PolicyInput& input,
                    bool allowed, absl::string_view reason) {
  const Decision decision = policy.Evaluate(input);
  EXPECT_EQ(decision.allowed, allowed)
      << input.ip.ToString() << ": " << decision.reason;
  EXPECT_EQ(decision.reason, reason) << input.ip.ToString();
}

// A call and the decision it must get.
struct ExpectedDecision {
  PolicyInput input;
  bool allowed;
  absl::string_view reason;
};

void ExpectDecisions(const Policy& policy,
                     absl::Span<const ExpectedDecision> cases) {
  for (const ExpectedDecision& expected : cases) {
    ExpectDecision(policy, expected.input, expected.allowed, expected.reason);
  }
}

TEST(NoPolicyDecisionTest, AllowsAndSaysSo) {
  EXPECT_TRUE(NoPolicyDecision().allowed);
  EXPECT_EQ(NoPolicyDecision().reason,
            "no policy configured: allowed by default");
}

TEST(PolicyTest, DefaultAction) {
  ExpectDecision(*PolicyFromYaml("default_action: allow"),
                 Found("8.8.8.8", "US"), true, "default action allow");
  ExpectDecision(*PolicyFromYaml("default_action: DENY"),
                 Found("8.8.8.8", "US"), false, "default action deny");
}

TEST(PolicyTest, Countries) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
deny: {countries: [de, KP]}
)");
  ExpectDecisions(
      *policy, {{Found("1.2.3.4", "DE"), false, "country DE is in deny list"},
                {Found("1.2.3.4", "FR"), true, "default action allow"}});
  const auto allow_list = PolicyFromYaml(R"(
default_action: deny
allow: {countries: [FR]}
)");
  ExpectDecisions(
      *allow_list,
      {{Found("1.2.3.4", "FR"), true, "country FR is in allow list"},
       {Found("1.2.3.4", "DE"), false, "default action deny"}});
}

TEST(PolicyTest, SubdivisionsFullOrAsMaxMindStoresThem) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
deny: {subdivisions: [US-TX]}
)");
  ExpectDecisions(
      *policy,
      {{Found("1.2.3.4", "US", 0, {"US-TX"}), false,
        "subdivision US-TX is in deny list"},
       {Found("1.2.3.4", "US", 0, {"TX"}), false,
        "subdivision US-TX is in deny list"},
       {Found("1.2.3.4", "US", 0, {"CA"}), true, "default action allow"},
       {Found("1.2.3.4", "", 0, {"TX"}), true, "default action allow"}});
}

TEST(PolicyTest, MostSpecificSubdivisionFirst) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
deny: {subdivisions: [GB-ENG]}
allow: {subdivisions: [GB-KEN]}
)");
  ExpectDecisions(*policy, {{Found("1.2.3.4", "GB", 0, {"ENG", "KEN"}), true,
                             "subdivision GB-KEN is in allow list"},
                            {Found("1.2.3.4", "GB", 0, {"ENG", "LND"}), false,
                             "subdivision GB-ENG is in deny list"}});
}

TEST(PolicyTest, Asns) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
deny: {asns: [64512]}
)");
  ExpectDecisions(
      *policy,
      {{Found("1.2.3.4", "US", 64512), false, "ASN 64512 is in deny list"},
       {Found("1.2.3.4", "US", 15169), true, "default action allow"}});
}

// A policy file and the decisions it must make.
struct PolicyCase {
  const char* what;
  std::string yaml;
  std::vector<ExpectedDecision> decisions;
};

TEST(PolicyTest, NetworkRules) {
  const PolicyCase cases[] = {
      {"the most specific network wins",
       R"(
default_action: allow
deny:
  networks: [10.0.0.0/8, 10.1.2.0/24, "2001:db8::/32"]
allow:
  networks: [10.1.0.0/16, 10.1.2.3, "2001:db8:1::/48"]
)",
       {{NotFound("10.9.9.9"), false, "network 10.0.0.0/8 is in deny list"},
        {NotFound("10.1.9.9"), true, "network 10.1.0.0/16 is in allow list"},
        {NotFound("10.1.2.9"), false, "network 10.1.2.0/24 is in deny list"},
        {NotFound("10.1.2.3"), true, "network 10.1.2.3/32 is in allow list"},
        {NotFound("2001:db8:2::1"), false,
         "network 2001:db8::/32 is in deny list"},
        {NotFound("2001:db8:1::1"), true,
         "network 2001:db8:1::/48 is in allow list"},
        {NotFound("11.0.0.1"), true, "default action allow"}}},
      {"IPv4-mapped IPv6 addresses match IPv4 networks",
       R"(
default_action: allow
deny: {networks: [192.0.2.0/24]}
)",
       {{NotFound("::ffff:192.0.2.7"), false,
         "network 192.0.2.0/24 is in deny list"},
        {NotFound("::ffff:192.0.3.7"), true, "default action allow"}}},
      {"an IPv6 rule for the mapped range covers IPv4 addresses",
       R"(
default_action: allow
deny: {networks: ["::ffff:0:0/96"]}
)",
       {{NotFound("198.51.100.1"), false,
         "network ::ffff:0.0.0.0/96 is in deny list"},
        {NotFound("2001:db8::1"), true, "default action allow"}}},
      {"a zero-length network matches everything",
       R"(
default_action: allow
deny: {networks: [0.0.0.0/0]}
allow: {networks: [8.8.8.0/24]}
)",
       {{Found("1.2.3.4", "US"), false, "network 0.0.0.0/0 is in deny list"},
        {Found("8.8.8.8", "US"), true, "network 8.8.8.0/24 is in allow list"},
        {Found("2001:db8::1", "US"), true, "default action allow"}}},
  };
  for (const PolicyCase& c : cases) {
    SCOPED_TRACE(c.what);
    const std::shared_ptr<const Policy> policy = PolicyFromYaml(c.yaml);
    ASSERT_NE(policy, nullptr);
    ExpectDecisions(*policy, c.decisions);
  }
}

TEST(PolicyTest, PrivateAndUnknownAddresses) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
private_addresses: deny
unknown_addresses: deny
)");
  ExpectDecisions(
      *policy, {{NotFound("10.0.0.1"), false, "private address (policy: deny)"},
                {NotFound("::1"), false, "private address (policy: deny)"},
                {NotFound("::ffff:192.168.1.1"), false,
                 "private address (policy: deny)"},
                {NotFound("8.8.8.8"), false, "unknown address (policy: deny)"},
                {Found("8.8.8.8", "US"), true, "default action allow"}});

  // Unset: private addresses fall through to the unknown action, then the
  // default.
  const auto unknown_only = PolicyFromYaml(R"(
default_action: deny
unknown_addresses: allow
)");
  ExpectDecision(*unknown_only, NotFound("10.0.0.1"), true,
                 "unknown address (policy: allow)");
  ExpectDecision(*PolicyFromYaml("default_action: deny"), NotFound("10.0.0.1"),
                 false, "default action deny");
}

TEST(PolicyTest, Precedence) {
  const auto policy = PolicyFromYaml(R"(
default_action: deny
private_addresses: deny
unknown_addresses: deny
allow:
  networks: [10.20.0.0/16]
  asns: [15169]
  subdivisions: [US-CA]
  countries: [FR]
deny:
  networks: [203.0.113.0/24]
  asns: [64512]
  countries: [US]
)");
  // 1. CIDR beats everything: an allowed private range, a denied network in
  //    an allowed country with an allowed ASN.
  ExpectDecisions(*policy, {{NotFound("10.20.1.1"), true,
                             "network 10.20.0.0/16 is in allow list"},
                            {Found("203.0.113.5", "FR", 15169, {"CA"}), false,
                             "network 203.0.113.0/24 is in deny list"}});
  // 2. Private before everything but CIDR.
  ExpectDecision(*policy, NotFound("10.30.1.1"), false,
                 "private address (policy: deny)");
  // 3. ASN beats subdivision and country.
  ExpectDecisions(
      *policy,
      {{Found("8.8.8.8", "US", 15169), true, "ASN 15169 is in allow list"},
       {Found("1.2.3.4", "FR", 64512), false, "ASN 64512 is in deny list"}});
  // 4. Subdivision beats country.
  ExpectDecision(*policy, Found("1.2.3.4", "US", 1, {"CA"}), true,
                 "subdivision US-CA is in allow list");
  // 5. Country.
  ExpectDecision(*policy, Found("1.2.3.4", "US", 1, {"NY"}), false,
                 "country US is in deny list");
  // 6. An ASN known without a location still decides before "unknown".
  PolicyInput asn_only = NotFound("8.8.4.4");
  asn_only.asn = 15169;
  ExpectDecisions(*policy, {{asn_only, true, "ASN 15169 is in allow list"},
                            {NotFound("8.8.4.4"), false,
                             "unknown address (policy: deny)"}});
  // 7. Default.
  ExpectDecision(*policy, Found("1.2.3.4", "JP"), false, "default action deny");
}

TEST(PolicyValidationTest, EveryErrorNamesItsFieldAndLine) {
  const std::pair<const char*, std::vector<const char*>> cases[] = {
      {"deny: {countries: [DE]}\n",
       {"default_action: is required: \"allow\" or \"deny\""}},
      {"default_action: permit\n",
       {"default_action (line 1): must be \"allow\" or \"deny\", not "
        "\"permit\""}},
      {"default_action: allow\nprivate_addresses: maybe\n",
       {"private_addresses (line 2): must be"}},
      {"default_action: allow\nunknown_addresses: yes\n",
       {"unknown_addresses (line 2): must be"}},
      {"default_action: allow\ndeny:\n  countries: [DE, XX]\n",
       {"deny.countries[1] (line 3): \"XX\" is not an ISO 3166-1 alpha-2 "
        "country code"}},
      {"default_action: allow\ndeny:\n  countries: [GER]\n",
       {"deny.countries[0] (line 3): \"GER\" is not an ISO 3166-1"}},
      {"default_action: allow\nallow:\n  subdivisions:\n    - CA\n",
       {"allow.subdivisions[0] (line 4): \"CA\" is not an ISO 3166-2 "
        "subdivision code like \"US-CA\""}},
      {"default_action: allow\nallow:\n  subdivisions: [XX-CA, US-CALIF]\n",
       {"allow.subdivisions[0] (line 3)", "allow.subdivisions[1] (line 3)"}},
      {"default_action: allow\ndeny:\n  asns: [0]\n",
       {"deny.asns[0] (line 3): ASN 0 is reserved"}},
      {"default_action: allow\ndeny:\n  networks: [10.0.0.0/33]\n",
       {"deny.networks[0] (line 3): "}},
      {"default_action: allow\ndeny:\n  networks: [example.com]\n",
       {"deny.networks[0] (line 3): "}},
      {"default_action: allow\ndeny:\n  networks: [10.1.2.3/8]\n",
       {"deny.networks[0] (line 3): "}},
      {"default_action: allow\ndeny:\n  countries: [DE, de]\n",
       {"deny.countries[1] (line 3): country DE is listed twice (also at "
        "deny.countries[0])"}},
      {"default_action: allow\nallow:\n  countries: [DE]\ndeny:\n"
       "  countries: [DE]\n",
       {"deny.countries[0] (line 5): country DE is in both allow and deny "
        "(also at allow.countries[0])"}},
      {"default_action: allow\nallow: {subdivisions: [US-CA]}\n"
       "deny: {subdivisions: [us-ca]}\n",
       {"deny.subdivisions[0] (line 3): subdivision US-CA is in both"}},
      {"default_action: allow\nallow: {asns: [15169]}\ndeny: {asns: [15169]}\n",
       {"deny.asns[0] (line 3): ASN 15169 is in both allow and deny"}},
      {"default_action: allow\nallow: {networks: [10.0.0.0/8]}\n"
       "deny: {networks: [\"::ffff:10.0.0.0/104\"]}\n",
       {"deny.networks[0] (line 3): network ::ffff:10.0.0.0/104 is in both "
        "allow and deny (also at allow.networks[0])"}},
  };
  for (const auto& [yaml, messages] : cases) {
    const absl::Status status = ErrorFromYaml(yaml);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << yaml;
    EXPECT_THAT(status.message(), HasSubstr("invalid policy: ")) << yaml;
    for (const char* message : messages) {
      EXPECT_THAT(status.message(), HasSubstr(message)) << yaml;
    }
  }
}

TEST(PolicyValidationTest, ReportsAllErrorsAtOnce) {
  const absl::Status status = ErrorFromYaml(
      "default_action: allow\ndeny:\n  countries: [XX]\n  asns: [0]\n");
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("deny.countries[0]"), HasSubstr("; "),
                    HasSubstr("deny.asns[0]")));
}

TEST(PolicyFromFileTest, JsonAndYamlFilesDecideAlike) {
  const std::string directory = std::getenv("TEST_TMPDIR");
  std::ofstream(directory + "/policy.json") << R"({
    "defaultAction": "allow",
    "unknownAddresses": "deny",
    "deny": {"countries": ["KP"], "asns": [64512], "networks": ["10.0.0.0/8"]},
    "allow": {"subdivisions": ["US-CA"], "networks": ["10.1.0.0/16"]}
  })";
  std::ofstream(directory + "/policy.yaml") << R"(
default_action: allow
unknown_addresses: deny
deny:
  countries: [KP]
  asns: [64512]
  networks: [10.0.0.0/8]
allow:
  subdivisions: [US-CA]
  networks: [10.1.0.0/16]
)";
  auto json = PolicySet::FromFile(directory + "/policy.json");
  auto yaml = PolicySet::FromFile(directory + "/policy.yaml");
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ((*json)->default_policy().rule_count(), 5u);
  EXPECT_EQ((*yaml)->default_policy().rule_count(), 5u);
  for (const PolicyInput& input :
       {Found("1.2.3.4", "KP"), Found("1.2.3.4", "US", 0, {"CA"}),
        Found("1.2.3.4", "US", 64512), NotFound("10.2.0.1"),
        NotFound("10.1.0.1"), NotFound("8.8.8.8"), Found("8.8.8.8", "US")}) {
    const Decision from_json = (*json)->default_policy().Evaluate(input);
    const Decision from_yaml = (*yaml)->default_policy().Evaluate(input);
    EXPECT_EQ(from_json.allowed, from_yaml.allowed) << from_json.reason;
    EXPECT_EQ(from_json.reason, from_yaml.reason);
  }
}

TEST(PolicyFromFileTest, ErrorsNameTheFile) {
  const std::string path =
      std::string(std::getenv("TEST_TMPDIR")) + "/bad.yaml";
  std::ofstream(path) << "default_action: allow\ndeny:\n  countries: [ZZ]\n";
  const auto policy = PolicySet::FromFile(path);
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(policy.status().message(),
              AllOf(HasSubstr("policy file "), HasSubstr("bad.yaml"),
                    HasSubstr("deny.countries[0] (line 3)")));
}

}  // namespace
}  // namespace geo::policy
