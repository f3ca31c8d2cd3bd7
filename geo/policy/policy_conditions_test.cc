// Anonymizer and connection-type conditions: validation, each condition on
// its own, their place in the order of precedence, and their reasons.
#include <string>

#include "absl/status/status.h"
#include "geo/common/ip_address.h"
#include "geo/policy/policy.h"
#include "geo/policy/policy_from_yaml.h"
#include "geo/policy/policy_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::policy {
namespace {

using ::testing::HasSubstr;

PolicyInput Input(uint32_t anonymizers, absl::string_view connection_type = "",
                  absl::string_view country = "US", uint32_t asn = 0) {
  PolicyInput input;
  input.ip = *IpAddress::Parse("198.51.100.7");
  input.found = true;
  input.country_iso_code = country;
  input.asn = asn;
  input.anonymizers = anonymizers;
  input.connection_type = connection_type;
  return input;
}

constexpr AnonymizerKind kSpecificKinds[] = {kTorExitNode, kPublicProxy,
                                             kResidentialProxy, kAnonymousVpn,
                                             kHostingProvider};

TEST(PolicyConditionsTest, EachAnonymizerKindDeniesOnlyItself) {
  for (const AnonymizerKind denied : kSpecificKinds) {
    const std::string name(AnonymizerKindName(denied));
    std::shared_ptr<const Policy> policy = PolicyFromYaml(
        "default_action: allow\ndeny:\n  anonymizers: [" + name + "]\n");
    ASSERT_NE(policy, nullptr);
    for (const AnonymizerKind kind : kSpecificKinds) {
      const Decision decision = policy->Evaluate(Input(kind | kAnonymous));
      if (kind == denied) {
        EXPECT_FALSE(decision.allowed) << name;
        EXPECT_EQ(decision.reason, "anonymizer " + name + " is in deny list");
        EXPECT_EQ(decision.rule, RuleKind::kAnonymizer);
      } else {
        EXPECT_TRUE(decision.allowed)
            << name << " vs " << AnonymizerKindName(kind);
        EXPECT_EQ(decision.rule, RuleKind::kDefault);
      }
    }
    // No anonymizer data: the condition never matches.
    EXPECT_TRUE(policy->Evaluate(Input(0)).allowed);
  }
}

TEST(PolicyConditionsTest, AnonymousMatchesAnyKindButSpecificKindsComeFirst) {
  std::shared_ptr<const Policy> policy = PolicyFromYaml(R"(
default_action: allow
deny: {anonymizers: [anonymous]}
allow: {anonymizers: [anonymous_vpn]}
)");
  ASSERT_NE(policy, nullptr);
  EXPECT_FALSE(policy->Evaluate(Input(kTorExitNode | kAnonymous)).allowed);
  EXPECT_EQ(policy->Evaluate(Input(kAnonymous)).reason,
            "anonymizer anonymous is in deny list");
  const Decision vpn = policy->Evaluate(Input(kAnonymousVpn | kAnonymous));
  EXPECT_TRUE(vpn.allowed);
  EXPECT_EQ(vpn.reason, "anonymizer anonymous_vpn is in allow list");
}

TEST(PolicyConditionsTest, DenyOfOneKindWinsOverAllowOfAnother) {
  std::shared_ptr<const Policy> policy = PolicyFromYaml(R"(
default_action: deny
allow: {anonymizers: [anonymous_vpn, hosting_provider]}
deny: {anonymizers: [tor_exit_node, residential_proxy]}
)");
  ASSERT_NE(policy, nullptr);
  const Decision both =
      policy->Evaluate(Input(kAnonymousVpn | kTorExitNode | kAnonymous));
  EXPECT_FALSE(both.allowed);
  EXPECT_EQ(both.reason, "anonymizer tor_exit_node is in deny list");
  const Decision allowed =
      policy->Evaluate(Input(kAnonymousVpn | kHostingProvider | kAnonymous));
  EXPECT_TRUE(allowed.allowed);
  // Among allowances, kind order: anonymous_vpn before hosting_provider.
  EXPECT_EQ(allowed.reason, "anonymizer anonymous_vpn is in allow list");
}

TEST(PolicyConditionsTest, ConnectionTypesMatchCaseInsensitively) {
  std::shared_ptr<const Policy> policy = PolicyFromYaml(R"(
default_action: deny
allow: {connection_types: [cable/dsl, Corporate]}
deny: {connection_types: [Satellite]}
)");
  ASSERT_NE(policy, nullptr);
  const Decision cable = policy->Evaluate(Input(0, "Cable/DSL"));
  EXPECT_TRUE(cable.allowed);
  EXPECT_EQ(cable.reason, "connection type Cable/DSL is in allow list");
  EXPECT_EQ(cable.rule, RuleKind::kConnectionType);
  EXPECT_TRUE(policy->Evaluate(Input(0, "Corporate")).allowed);
  const Decision satellite = policy->Evaluate(Input(0, "Satellite"));
  EXPECT_FALSE(satellite.allowed);
  EXPECT_EQ(satellite.reason, "connection type Satellite is in deny list");
  const Decision unknown = policy->Evaluate(Input(0, ""));
  EXPECT_EQ(unknown.rule, RuleKind::kDefault);
  EXPECT_EQ(policy->Evaluate(Input(0, "Cellular")).rule, RuleKind::kDefault);
}

TEST(PolicyConditionsTest, PlaceInThePrecedenceOrder) {
  std::shared_ptr<const Policy> policy = PolicyFromYaml(R"(
default_action: allow
allow:
  networks: [198.51.100.0/24]
  countries: [US]
deny:
  anonymizers: [tor_exit_node]
  asns: [64500]
  connection_types: [Cellular]
)");
  ASSERT_NE(policy, nullptr);
  // A CIDR rule comes before anonymizers (an operator's carve-out).
  EXPECT_EQ(policy->Evaluate(Input(kTorExitNode | kAnonymous)).rule,
            RuleKind::kNetwork);
  std::shared_ptr<const Policy> no_cidr = PolicyFromYaml(R"(
default_action: deny
allow:
  asns: [64500]
  connection_types: [Cellular]
  countries: [US]
deny:
  anonymizers: [tor_exit_node]
  connection_types: [Satellite]
  asns: [64501]
)");
  ASSERT_NE(no_cidr, nullptr);
  // Anonymizers before ASN.
  EXPECT_EQ(
      no_cidr->Evaluate(Input(kTorExitNode | kAnonymous, "", "US", 64500)).rule,
      RuleKind::kAnonymizer);
  // ASN before connection type.
  EXPECT_EQ(no_cidr->Evaluate(Input(0, "Satellite", "US", 64500)).rule,
            RuleKind::kAsn);
  // Connection type before country.
  const Decision satellite = no_cidr->Evaluate(Input(0, "Satellite", "US"));
  EXPECT_EQ(satellite.rule, RuleKind::kConnectionType);
  EXPECT_FALSE(satellite.allowed);
  EXPECT_EQ(no_cidr->Evaluate(Input(0, "", "US")).rule, RuleKind::kCountry);
}

TEST(PolicyConditionsTest, InvalidItemsAreRejectedNamingTheField) {
  const absl::Status kind =
      ErrorFromYaml("default_action: allow\ndeny:\n  anonymizers: [tor]\n");
  EXPECT_EQ(kind.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(kind.message(), HasSubstr("deny.anonymizers[0] (line 3)"));
  EXPECT_THAT(kind.message(), HasSubstr("\"tor\" is not an anonymizer kind"));
  const absl::Status type = ErrorFromYaml(
      "default_action: allow\ndeny:\n  connection_types: [Fibre]\n");
  EXPECT_THAT(type.message(), HasSubstr("deny.connection_types[0]"));
  EXPECT_THAT(type.message(), HasSubstr("\"Fibre\" is not a connection type"));
  const absl::Status both = ErrorFromYaml(R"(
default_action: allow
deny: {anonymizers: [tor_exit_node]}
allow: {anonymizers: [TOR_EXIT_NODE]}
)");
  EXPECT_THAT(both.message(), HasSubstr("is in both allow and deny"));
}

TEST(PolicyConditionsTest, SaysWhichDataItNeeds) {
  std::shared_ptr<const Policy> plain =
      PolicyFromYaml("default_action: allow\ndeny: {countries: [KP]}\n");
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->uses_anonymizers());
  EXPECT_FALSE(plain->uses_connection_types());
  std::shared_ptr<const Policy> both = PolicyFromYaml(
      "default_action: allow\ndeny: {anonymizers: [anonymous], "
      "connection_types: [Dialup]}\n");
  ASSERT_NE(both, nullptr);
  EXPECT_TRUE(both->uses_anonymizers());
  EXPECT_TRUE(both->uses_connection_types());
}

TEST(PolicyConditionsTest, RuleKindNames) {
  EXPECT_EQ(RuleKindName(RuleKind::kAnonymizer), "anonymizer");
  EXPECT_EQ(RuleKindName(RuleKind::kConnectionType), "connection_type");
}

}  // namespace
}  // namespace geo::policy
