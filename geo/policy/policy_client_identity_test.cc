// Client identity rules: who the verified client certificate names decides
// before any fact about the address.
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "geo/common/ip_address.h"
#include "geo/policy/policy.h"
#include "geo/policy/policy_from_yaml.h"
#include "geo/tls/peer_identity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::policy {
namespace {

using ::testing::HasSubstr;

// A public address in `country`, called with `identity` (may be null).
PolicyInput CallFrom(absl::string_view country,
                     const tls::PeerIdentity* identity) {
  PolicyInput input;
  auto address = IpAddress::Parse("81.2.69.160");
  EXPECT_TRUE(address.ok());
  input.ip = *address;
  input.found = true;
  input.country_iso_code = country;
  input.client_identity = identity;
  return input;
}

tls::PeerIdentity Uri(std::string uri) {
  tls::PeerIdentity identity;
  identity.uris.push_back(std::move(uri));
  return identity;
}

void ExpectDecision(const Policy& policy, const PolicyInput& input,
                    bool allowed, absl::string_view reason, RuleKind rule) {
  const Decision decision = policy.Evaluate(input);
  EXPECT_EQ(decision.allowed, allowed) << decision.reason;
  EXPECT_EQ(decision.reason, reason);
  EXPECT_EQ(decision.rule, rule) << decision.reason;
}

// A call from `uri` and the decision it must get.
struct UriCall {
  std::string uri;
  bool allowed;
  absl::string_view reason;
  RuleKind rule;
};

// Each call from an address in `country` with its URI as the only name.
void ExpectUriDecisions(const Policy& policy, absl::string_view country,
                        std::initializer_list<UriCall> calls) {
  for (const UriCall& call : calls) {
    SCOPED_TRACE(call.uri);
    const tls::PeerIdentity identity = Uri(call.uri);
    ExpectDecision(policy, CallFrom(country, &identity), call.allowed,
                   call.reason, call.rule);
  }
}

TEST(ClientIdentityPolicyTest, DecidesBeforeCidrAndCountry) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
deny:
  countries: [GB]
  networks: [81.2.69.0/24]
allow:
  client_identities: ["spiffe://cluster.local/ns/payments/sa/api"]
)");
  ASSERT_NE(policy, nullptr);
  ExpectUriDecisions(
      *policy, "GB",
      {{"spiffe://cluster.local/ns/payments/sa/api", true,
        "client identity spiffe://cluster.local/ns/payments/sa/api is in "
        "allow list",
        RuleKind::kClientIdentity},
       {"spiffe://cluster.local/ns/web/sa/api", false,
        "network 81.2.69.0/24 is in deny list", RuleKind::kNetwork}});
}

TEST(ClientIdentityPolicyTest, NoCertificateNeverMatches) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
deny:
  client_identities: ["spiffe://cluster.local/ns/web/*", "web.internal"]
)");
  ASSERT_NE(policy, nullptr);
  ExpectDecision(*policy, CallFrom("DE", nullptr), true, "default action allow",
                 RuleKind::kDefault);
  const tls::PeerIdentity empty;
  ExpectDecision(*policy, CallFrom("DE", &empty), true, "default action allow",
                 RuleKind::kDefault);
}

TEST(ClientIdentityPolicyTest, PrefixCoversTheNamespaceOnly) {
  const auto policy = PolicyFromYaml(R"(
default_action: deny
allow:
  client_identities: ["spiffe://cluster.local/ns/payments/*"]
)");
  ASSERT_NE(policy, nullptr);
  ExpectUriDecisions(
      *policy, "DE",
      {{"spiffe://cluster.local/ns/payments/sa/worker", true,
        "client identity spiffe://cluster.local/ns/payments/* is in allow "
        "list",
        RuleKind::kClientIdentity},
       // A namespace whose name only starts like it is another namespace.
       {"spiffe://cluster.local/ns/payments-test/sa/worker", false,
        "default action deny", RuleKind::kDefault},
       {"spiffe://cluster.local/ns/payments", false, "default action deny",
        RuleKind::kDefault}});
}

TEST(ClientIdentityPolicyTest, MostSpecificEntryWins) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
deny:
  client_identities:
    - "spiffe://cluster.local/ns/payments/*"
    - "spiffe://cluster.local/ns/payments/sa/batch/*"
allow:
  client_identities:
    - "spiffe://cluster.local/*"
    - "spiffe://cluster.local/ns/payments/sa/api"
)");
  ASSERT_NE(policy, nullptr);
  const tls::PeerIdentity exact =
      Uri("spiffe://cluster.local/ns/payments/sa/api");
  EXPECT_TRUE(policy->Evaluate(CallFrom("DE", &exact)).allowed);
  const tls::PeerIdentity in_namespace =
      Uri("spiffe://cluster.local/ns/payments/sa/web");
  EXPECT_EQ(policy->Evaluate(CallFrom("DE", &in_namespace)).reason,
            "client identity spiffe://cluster.local/ns/payments/* is in deny "
            "list");
  const tls::PeerIdentity elsewhere =
      Uri("spiffe://cluster.local/ns/web/sa/web");
  EXPECT_EQ(policy->Evaluate(CallFrom("DE", &elsewhere)).reason,
            "client identity spiffe://cluster.local/* is in allow list");
}

TEST(ClientIdentityPolicyTest, MatchesDnsNameAndCommonNameExactly) {
  const auto policy = PolicyFromYaml(R"(
default_action: deny
allow:
  client_identities: [reporting.internal, batch-client]
)");
  ASSERT_NE(policy, nullptr);
  tls::PeerIdentity dns;
  dns.dns_names = {"other.internal", "reporting.internal"};
  EXPECT_EQ(policy->Evaluate(CallFrom("DE", &dns)).reason,
            "client identity reporting.internal is in allow list");
  tls::PeerIdentity common_name;
  common_name.common_name = "batch-client";
  EXPECT_TRUE(policy->Evaluate(CallFrom("DE", &common_name)).allowed);
  tls::PeerIdentity longer;
  longer.common_name = "batch-client-2";
  EXPECT_FALSE(policy->Evaluate(CallFrom("DE", &longer)).allowed);
  tls::PeerIdentity other_case;
  other_case.dns_names = {"Reporting.Internal"};
  EXPECT_FALSE(policy->Evaluate(CallFrom("DE", &other_case)).allowed);
}

TEST(ClientIdentityPolicyTest, DenyWinsBetweenNamesOfOneCertificate) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
allow: {client_identities: [api.internal]}
deny: {client_identities: [legacy-client]}
)");
  ASSERT_NE(policy, nullptr);
  tls::PeerIdentity both;
  both.dns_names = {"api.internal"};
  both.common_name = "legacy-client";
  EXPECT_EQ(policy->Evaluate(CallFrom("DE", &both)).reason,
            "client identity legacy-client is in deny list");
}

TEST(ClientIdentityPolicyTest, CountsAsRules) {
  const auto policy = PolicyFromYaml(R"(
default_action: allow
allow: {client_identities: [a.internal, "spiffe://td/ns/a/*"]}
)");
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->rule_count(), 2u);
  EXPECT_EQ(RuleKindName(RuleKind::kClientIdentity), "client_identity");
}

TEST(ClientIdentityPolicyValidationTest, ErrorsNameTheFieldAndLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"default_action: allow\nallow:\n  client_identities: [\"\"]\n",
       "allow.client_identities[0] (line 3): is empty"},
      {"default_action: allow\ndeny:\n  client_identities: [\"a b\"]\n",
       "deny.client_identities[0] (line 3): \"a b\" contains a space or "
       "control character"},
      {"default_action: allow\ndeny:\n  client_identities: [\"a\\tb\"]\n",
       "deny.client_identities[0] (line 3): \"a\\tb\" contains a space"},
      {"default_action: allow\ndeny:\n  client_identities: "
       "[\"spiffe://td/*/sa\"]\n",
       "deny.client_identities[0] (line 3): \"spiffe://td/*/sa\": '*' is only "
       "allowed as a final \"/*\""},
      {"default_action: allow\ndeny:\n  client_identities: [\"*.internal\"]\n",
       "deny.client_identities[0] (line 3): \"*.internal\": '*' is only"},
      {"default_action: allow\ndeny:\n  client_identities: "
       "[\"spiffe://td*\"]\n",
       "deny.client_identities[0] (line 3): \"spiffe://td*\": '*' is only"},
      {"default_action: allow\nallow:\n  client_identities: [a.internal]\n"
       "deny:\n  client_identities: [a.internal]\n",
       "deny.client_identities[0] (line 5): client identity a.internal is in "
       "both allow and deny (also at allow.client_identities[0])"},
      {"default_action: allow\nallow:\n  client_identities: [x, x]\n",
       "allow.client_identities[1] (line 3): client identity x is listed "
       "twice"},
  };
  for (const auto& [yaml, message] : cases) {
    const absl::Status status = ErrorFromYaml(yaml);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << yaml;
    EXPECT_THAT(status.message(), HasSubstr(message)) << yaml;
  }
}

}  // namespace
}  // namespace geo::policy
