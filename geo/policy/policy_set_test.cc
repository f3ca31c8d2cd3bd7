#include "geo/policy/policy_set.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "geo/common/ip_address.h"
#include "geo/policy/policy_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::policy {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

absl::StatusOr<std::shared_ptr<const PolicySet>> FromYaml(
    const std::string& yaml, const DecisionCounterFactory& counters = nullptr) {
  auto parsed = ParsePolicyFile(yaml, PolicyFormat::kYaml);
  if (!parsed.ok()) return parsed.status();
  return PolicySet::Create(parsed->file, parsed->lines, parsed->single_policy,
                           counters);
}

// Every policy is named after itself in its default reason, so the tests can
// see which one was selected.
constexpr char kRoutes[] = R"(
policies:
  default: {default_action: allow}
  any-admin: {default_action: deny}
  any-admin-post: {default_action: deny}
  wildcard: {default_action: deny}
  wildcard-deeper: {default_action: deny}
  exact: {default_action: deny}
  exact-api: {default_action: deny}
routes:
  - {path_prefix: /admin, policy: any-admin}
  - {path_prefix: /admin, methods: [post, PUT], policy: any-admin-post}
  - {host: "*.example.com", policy: wildcard}
  - {host: "*.eu.example.com", policy: wildcard-deeper}
  - {host: shop.example.com, policy: exact}
  - {host: Shop.Example.com, path_prefix: /api/, policy: exact-api}
)";

std::string Selected(const PolicySet& set, absl::string_view host,
                     absl::string_view path, absl::string_view method = "GET") {
  return set.Select({host, path, method}).name();
}

TEST(PolicySetTest, TheMostSpecificRouteWinsWhateverTheFileOrder) {
  auto set = FromYaml(kRoutes);
  ASSERT_TRUE(set.ok()) << set.status();
  const PolicySet& policies = **set;
  EXPECT_EQ(policies.route_count(), 6u);
  // Exact host beats wildcard; a longer path prefix beats the bare host.
  EXPECT_EQ(Selected(policies, "shop.example.com", "/"), "exact");
  EXPECT_EQ(Selected(policies, "shop.example.com", "/api/v1?x=1"), "exact-api");
  EXPECT_EQ(Selected(policies, "SHOP.example.com:8443", "/api"), "exact-api");
  EXPECT_EQ(Selected(policies, "shop.example.com.", "/apiary"), "exact");
  // A longer wildcard suffix beats a shorter one; neither matches the apex.
  EXPECT_EQ(Selected(policies, "a.eu.example.com", "/"), "wildcard-deeper");
  EXPECT_EQ(Selected(policies, "a.example.com", "/admin"), "wildcard");
  EXPECT_EQ(Selected(policies, "example.com", "/"), "default");
  // Any host: the path decides, on segment boundaries, then the method.
  EXPECT_EQ(Selected(policies, "other.org", "/admin"), "any-admin");
  EXPECT_EQ(Selected(policies, "other.org", "/admin/users", "POST"),
            "any-admin-post");
  EXPECT_EQ(Selected(policies, "other.org", "/admin", "put"), "any-admin-post");
  EXPECT_EQ(Selected(policies, "other.org", "/administrator", "POST"),
            "default");
  EXPECT_EQ(Selected(policies, "", "", "GET"), "default");
  EXPECT_EQ(Selected(policies, "[2001:db8::1]:443", "/admin"), "any-admin");
}

TEST(PolicySetTest, ASinglePolicyFileIsThePolicyNamedDefault) {
  auto set = FromYaml("default_action: allow\ndeny: {countries: [KP]}\n");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)->default_policy().name(), "default");
  EXPECT_EQ((*set)->Find("default"), &(*set)->default_policy());
  EXPECT_EQ((*set)->Find("other"), nullptr);
  EXPECT_EQ(Selected(**set, "any.host", "/x"), "default");
  EXPECT_FALSE((*set)->default_policy().dry_run());
  EXPECT_EQ((*set)->default_policy().on_error(), FailureAction::kDeny);
}

TEST(PolicySetTest, DryRunAndFailureActionsArePerPolicy) {
  auto set = FromYaml(R"(
policies:
  a: {default_action: deny, dry_run: true, on_error: allow}
  b: {default_action: deny, on_error: error}
  c: {default_action: deny}
default_policy: c
)");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE((*set)->Find("a")->dry_run());
  EXPECT_EQ((*set)->Find("a")->on_error(), FailureAction::kAllow);
  EXPECT_EQ((*set)->Find("b")->on_error(), FailureAction::kError);
  EXPECT_EQ((*set)->Find("c")->on_error(), FailureAction::kDeny);
  EXPECT_EQ((*set)->default_policy().name(), "c");
}

TEST(PolicySetTest, TheDefaultPolicyIsTheOnlyOneOrTheOneNamedDefault) {
  auto only = FromYaml("policies: {solo: {default_action: deny}}\n");
  ASSERT_TRUE(only.ok()) << only.status();
  EXPECT_EQ((*only)->default_policy().name(), "solo");
  auto named = FromYaml(
      "policies: {default: {default_action: deny}, b: {default_action: "
      "allow}}\n");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ((*named)->default_policy().name(), "default");
  auto ambiguous = FromYaml(
      "policies: {a: {default_action: deny}, b: {default_action: allow}}\n");
  EXPECT_THAT(ambiguous.status().message(),
              HasSubstr("default_policy: is required"));
}

TEST(PolicySetTest, ReportsEveryBadRouteAndPolicyWithItsLine) {
  const auto status = FromYaml(R"(policies:
  ok: {default_action: allow}
  bad: {default_action: maybe, on_error: shrug}
  "bad name!": {default_action: allow}
routes:
  - {host: "exa mple.com", policy: ok}
  - {path_prefix: admin, policy: ok}
  - {methods: ["GE T"], policy: ok}
  - {policy: missing}
  - {path_prefix: /x}
  - {host: a.com, path_prefix: /p, methods: [GET, POST], policy: ok}
  - {host: A.com, path_prefix: /p/, methods: [post], policy: ok}
default_policy: nowhere
)")
                          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::string message(status.message());
  EXPECT_THAT(
      message,
      AllOf(HasSubstr("policies.bad.default_action (line 3)"),
            HasSubstr("policies.bad.on_error (line 3)"),
            HasSubstr("policies.bad name!"), HasSubstr("routes[0].host"),
            HasSubstr("routes[1].path_prefix"), HasSubstr("routes[2].methods"),
            HasSubstr(
                "routes[3].policy (line 9): no policy is named \"missing\""),
            HasSubstr("routes[4].policy: is required"),
            HasSubstr("routes[6] (line 12): matches the same requests"),
            HasSubstr("default_policy (line 13): no policy is named")));
}

class RecordingCounter final : public DecisionCounter {
 public:
  void Count(DecisionResult, RuleKind) const override {}
  void CountError(DecisionError) const override {}
};

TEST(PolicySetTest, EveryPolicyGetsItsCounterWhenTheFileLoads) {
  std::vector<std::string> names;
  auto set = FromYaml(kRoutes, [&](absl::string_view name) {
    names.emplace_back(name);
    return std::make_shared<RecordingCounter>();
  });
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(names, UnorderedElementsAre(
                         "default", "any-admin", "any-admin-post", "wildcard",
                         "wildcard-deeper", "exact", "exact-api"));
}

TEST(PolicySetTest, RoutedPoliciesDecideWithTheirOwnRules) {
  auto set = FromYaml(R"(
policies:
  default: {default_action: allow, deny: {countries: [KP]}}
  eu: {default_action: deny, allow: {countries: [DE, FR]}}
routes:
  - {host: eu.example.com, policy: eu}
)");
  ASSERT_TRUE(set.ok()) << set.status();
  PolicyInput input;
  input.ip = *IpAddress::Parse("198.51.100.1");
  input.found = true;
  input.country_iso_code = "US";
  const Decision eu =
      (*set)->Select({"eu.example.com", "/", "GET"}).Evaluate(input);
  EXPECT_FALSE(eu.allowed);
  EXPECT_EQ(eu.rule, RuleKind::kDefault);
  const Decision other =
      (*set)->Select({"www.example.com", "/", "GET"}).Evaluate(input);
  EXPECT_TRUE(other.allowed);
  input.country_iso_code = "KP";
  const Decision denied =
      (*set)->Select({"www.example.com", "/", "GET"}).Evaluate(input);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.rule, RuleKind::kCountry);
  EXPECT_EQ(denied.reason, "country KP is in deny list");
}

TEST(PolicySetTest, AllowAllAllowsWithTheNoPolicyReason) {
  const auto set = PolicySet::AllowAll();
  PolicyInput input;
  input.ip = *IpAddress::Parse("10.0.0.1");
  const Decision decision = set->default_policy().Evaluate(input);
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.rule, RuleKind::kNone);
  EXPECT_EQ(decision.reason, NoPolicyDecision().reason);
}

}  // namespace
}  // namespace geo::policy
